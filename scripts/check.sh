#!/bin/bash
# `make check`: every test of the project, ending in one verdict line
# "N passed, N failed, N skipped".
#  1. series hygiene: the series applies to the pristine base with
#     git am; exporting the applied tree reproduces patches/qemu/;
#     scripts/checkpatch.pl reports 0 errors and 0 warnings per patch;
#     every patch carries the project identity and a Signed-off-by;
#  2. bisectability: qemu-system-x86_64 builds at every prefix;
#  3. QEMU's qtest-x86_64 suite on the unpatched base and on the whole
#     series in the same environment: a test that fails on both is a
#     known environment failure (counted as skipped, listed by name);
#     a test that fails only with the series fails the run.
# Results of steps 2 and 3 are cached by the exact inputs (source tree
# ids, scripts, lock file) and reported as "(cached)"; FORCE=1 reruns.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
pq=$ROOT/patches/qemu
tag=$(lock base_tag)
src=$CACHE/check/src
build=$CACHE/check/build
results=$CACHE/results
mkdir -p "$results"
pass=0; fail=0; skip=0
failed=(); skipped=()
ok()   { pass=$((pass + 1)); printf '  PASS  %s\n' "$*"; }
bad()  { fail=$((fail + 1)); failed+=("$*"); printf '  FAIL  %s\n' "$*"; }
skp()  { skip=$((skip + 1)); skipped+=("$*"); printf '  SKIP  %s\n' "$*"; }

"$S/deps.sh"
"$S/fetch-base.sh"

say "series: applying patches/qemu/series to the pristine base"
if "$S/apply.sh" "$src" --force; then
    ok "series applies to $tag with git am (no fuzz, no 3-way)"
else
    bad "series applies to $tag"
    echo "$pass passed, $fail failed, $skip skipped"; exit 1
fi
mapfile -t patches < <(grep -v '^\s*\(#\|$\)' "$pq/series" || true)
n=${#patches[@]}
[ "$n" -gt 0 ] || say "series: patches/qemu/series is empty: checking the pristine base only"

say "series: export of the applied tree must reproduce patches/qemu/"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ "$n" -gt 0 ]; then
    "$S/export.sh" "$src" "$tmp/export" 2>/dev/null
    if diff -r -x cover-letter.txt "$pq" "$tmp/export" >"$LOGS/export-diff.log" 2>&1; then
        ok "export is deterministic (no diff against patches/qemu/)"
    else
        head -20 "$LOGS/export-diff.log"
        bad "export reproduces patches/qemu/ (diff: $LOGS/export-diff.log)"
    fi
fi

ident="memmap-type series <series@memmap-type.invalid>"
for p in "${patches[@]}"; do
    if "$src/scripts/checkpatch.pl" --no-color --patch "$pq/$p" >"$LOGS/checkpatch-$p.log" 2>&1 &&
       grep -q '^total: 0 errors, 0 warnings' "$LOGS/checkpatch-$p.log"; then
        ok "checkpatch: $p"
    else
        grep -E '^(ERROR|WARNING)' "$LOGS/checkpatch-$p.log" | head -5
        bad "checkpatch: $p ($(grep '^total:' "$LOGS/checkpatch-$p.log"))"
    fi
    if grep -qx "From: $ident" "$pq/$p" && grep -qx "Signed-off-by: $ident" "$pq/$p"; then
        ok "identity and Signed-off-by: $p"
    else
        bad "identity and Signed-off-by: $p"
    fi
done

# key INPUT...: a short hash of the inputs that decide a cached result
key() {
    { printf '%s\n' "$@"; cat "$ROOT/qemu.lock" "$S/build.sh" "$S/qtest.sh" \
        "$ROOT/tests/qtest-exclude.txt"; } | sha256sum | cut -c1-16
}
tree_of() { git -C "$src" rev-parse "$1^{tree}"; }

# Bisectability: build every prefix of the series, oldest first, in one
# build directory so that each step is an incremental build.
commits=()
[ "$n" -gt 0 ] && mapfile -t commits < <(git -C "$src" rev-list --reverse "$tag..series")
for i in "${!commits[@]}"; do
    c=${commits[$i]}
    stamp=$results/build-$(key "$(tree_of "$c")")
    label="builds with patches 1-$((i + 1)) of $n: $(git -C "$src" log -1 --format=%s "$c")"
    if [ -e "$stamp" ] && [ -z "${FORCE:-}" ]; then ok "$label (cached)"; continue; fi
    git -C "$src" checkout -q "$c"
    if "$S/build.sh" "$src" "$build" qemu-system-x86_64; then
        touch "$stamp"; ok "$label"
    else
        bad "$label"
    fi
done

# qtest-x86_64 on base and on the series
run_suite() { # REV LABEL; sets $res (results file) and $cached
    local rev=$1 k f
    k=$(key "$(tree_of "$rev")" qtest)
    f=$results/qtest-$k.json
    if [ -s "$f" ] && [ -z "${FORCE:-}" ]; then
        say "qtest[$2]: results cached for identical inputs (key $k; FORCE=1 reruns)"
        cached=" (cached)"
    else
        git -C "$src" checkout -q "$rev"
        "$S/build.sh" "$src" "$build" qemu-system-x86_64 >&2
        "$S/qtest.sh" "$build" "$f.new" >&2
        mv "$f.new" "$f"
        cached=""
    fi
    res=$f
}
res=; cached=
run_suite "$tag" base; base_res=$res
if [ "$n" -gt 0 ]; then
    run_suite series series; ser_res=$res; ser_cached=$cached
else
    ser_res=$base_res; ser_cached=$cached
fi
git -C "$src" checkout -q series

while IFS=$'\t' read -r kind text; do
    case $kind in
    ok) ok "qtest: $text$ser_cached" ;;
    skip) skp "qtest: $text" ;;
    bad) bad "qtest: $text" ;;
    esac
done < <(python3 - "$base_res" "$ser_res" <<'PY'
import json, sys
def load(p):
    return {d["name"]: d["result"] for d in map(json.loads, open(p))}
base, ser = load(sys.argv[1]), load(sys.argv[2])
good = {"OK", "EXPECTEDFAIL"}
for name in sorted(ser):
    r = ser[name]
    if r in good:
        print(f"ok\t{name}")
    elif r == "SKIP":
        print(f"skip\t{name} (the test skipped itself)")
    elif name in base and base[name] not in good | {"SKIP"}:
        print(f"skip\t{name}: {r}, known environment failure "
              f"(fails on the unpatched base too: {base[name]})")
    else:
        print(f"bad\t{name}: {r}" + (f" (base: {base[name]})" if name in base
                                      else " (not in base)"))
PY
)

echo
echo "Not run, by the explicit list tests/qtest-exclude.txt:"
grep -v '^\s*\(#\|$\)' "$ROOT/tests/qtest-exclude.txt" | sed 's/^/  /'
if [ ${#skipped[@]} -gt 0 ]; then
    echo "Skipped:"; printf '  %s\n' "${skipped[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED:"; printf '  %s\n' "${failed[@]}"
fi
echo "logs: ${LOGS#$ROOT/}/"
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
