#!/bin/bash
# `make check`: every test of the project, ending in one verdict line
# "N passed, N failed, N skipped".
#  0. the GitLab pipeline file validates (scripts/ci-validate.sh);
#  1. series hygiene (scripts/check-series.sh qemu): git am, export,
#     checkpatch, identity;
#  2. bisectability: qemu-system-x86_64 and qemu-system-i386 build at
#     every prefix;
#  3. QEMU's qtest-x86_64 and qtest-i386 suites on the whole series; a
#     test that fails is run again on the unpatched base in the same
#     environment: a test that fails on both is a known environment
#     failure (counted as skipped, listed by name); a test that fails
#     only with the series fails the run;
#  4. bios-tables-test's SRAT cases under TCG, QEMU's documentation;
#  5. the SeaBIOS series: hygiene (check-series.sh seabios), build
#     (scripts/seabios.sh);
#  6. Linux guests under TCG (scripts/guest-run.sh --all), and one boot
#     with stock SeaBIOS in place of the patched one, which must fail;
#  7. robustness, migration, benchmark smoke test, PCI window, and the
#     libvirt road (scripts/libvirt.sh: a private libvirtd runs the
#     domain XML examples of contrib/libvirt/).
# Results of steps 2 and 3 are cached by the exact inputs (source tree
# ids, scripts, lock file) and reported as "(cached)"; FORCE=1 reruns.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
pq=$ROOT/patches/qemu
tag=$(lock base_tag)
am=$CACHE/check/am          # fresh `git am` of the series, every run
src=$CACHE/check/src        # build tree: commits fetched from $am, checked
build=$CACHE/check/build    # out one by one, so that only changed files
                            # get new mtimes and builds stay incremental
base_src=$CACHE/check/base/src      # the unpatched base, built once and
base_build=$CACHE/check/base/build  # kept for comparisons (same relative
                                    # layout as src/build: ccache hits)
results=$CACHE/results
mkdir -p "$results"
pass=0; fail=0; skip=0
failed=(); skipped=()
ok()   { pass=$((pass + 1)); printf '  PASS  %s\n' "$*"; }
bad()  { fail=$((fail + 1)); failed+=("$*"); printf '  FAIL  %s\n' "$*"; }
skp()  { skip=$((skip + 1)); skipped+=("$*"); printf '  SKIP  %s\n' "$*"; }

"$S/deps.sh"
"$S/fetch-base.sh"

# suite NAME CMD...: run a sub-suite that ends with the line
# "NAME: N passed, N failed, N skipped" and add its counts to ours
suite() {
    local name=$1 log=$LOGS/$1.log line p f k; shift
    say "$name: $* (log: $log)"
    "$@" >"$log" 2>&1 || true
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
    if [ -z "$line" ]; then
        tail -15 "$log"
        bad "$name: no result line (log: $log)"
        return
    fi
    read -r p f k < <(sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")
    k=${k:-0}
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + k))
    [ "$f" = 0 ] || failed+=("$name: $f failed (log: $log)")
    [ "$k" = 0 ] || skipped+=("$name: $k skipped (log: $log)")
    { grep -E '^ *(FAIL|SKIP)' "$log" || true; } | head -10 | sed 's/^/    /'
    printf '  %s  %s\n' "$([ "$f" = 0 ] && echo DONE || echo FAIL)" "$line"
}

suite ci-validate "$S/ci-validate.sh"
suite series-qemu "$S/check-series.sh" qemu "$am"
if [ "$(git -C "$am" config memmap.applied-hash 2>/dev/null || true)" != "$(series_hash)" ]; then
    echo "check: patches/qemu/ does not apply; nothing else can run"
    echo "check: $pass passed, $fail failed, $skip skipped"; exit 1
fi
mapfile -t patches < <(grep -v '^\s*\(#\|$\)' "$pq/series" || true)
n=${#patches[@]}

# key INPUT...: a short hash of the inputs that decide a cached result
key() {
    { printf '%s\n' "$@"; cat "$ROOT/qemu.lock" "$S/build.sh" "$S/qtest.sh" \
        "$ROOT/tests/qtest-exclude.txt"; } | sha256sum | cut -c1-16
}
tree_of() { git -C "$src" rev-parse "$1^{tree}"; }

[ -d "$src/.git" ] || git clone -q "$CACHE/base.git" "$src"
git -C "$src" fetch -q "$am" "+series:refs/remotes/am/series"

# Bisectability: build every prefix of the series, oldest first, in one
# build directory so that each step is an incremental build.
commits=()
if [ "$n" -gt 0 ]; then
    mapfile -t commits < <(git -C "$src" rev-list --reverse "$tag..am/series")
fi
for i in "${!commits[@]}"; do
    c=${commits[$i]}
    stamp=$results/build-$(key "$(tree_of "$c")")
    label="builds with patches 1-$((i + 1)) of $n: $(git -C "$src" log -1 --format=%s "$c")"
    if [ -e "$stamp" ] && [ -z "${FORCE:-}" ]; then ok "$label (cached)"; continue; fi
    git -C "$src" checkout -q --detach "$c"
    if "$S/build.sh" "$src" "$build" qemu-system-x86_64 qemu-system-i386; then
        touch "$stamp"; ok "$label"
    else
        bad "$label"
    fi
done

# qtest-x86_64 and qtest-i386 on the series, then the tests that failed
# again on the base (same result as running everything on both, in half
# the time: only a failing test needs the comparison)
run_suite() { # REV LABEL SRC BUILD [TEST...]; sets $res (results file) and $cached
    local rev=$1 label=$2 tsrc=$3 tbuild=$4 k f
    shift 4
    k=$(key "$(tree_of "$rev")" qtest "$@")
    f=$results/qtest-$k.json
    if [ -e "$f" ] && [ -z "${FORCE:-}" ]; then
        say "qtest[$label]: results cached for identical inputs (key $k; FORCE=1 reruns)"
        cached=" (cached)"
    else
        git -C "$tsrc" checkout -q --detach "$rev"
        "$S/build.sh" "$tsrc" "$tbuild" qemu-system-x86_64 qemu-system-i386 >&2
        "$S/qtest.sh" "$tbuild" "$f.new" "$label" "$@" >&2
        mv "$f.new" "$f"
        cached=""
    fi
    res=$f
}
failed_tests() { # RESULTS: names of the tests that did not pass or skip
    python3 -c 'import json, sys
for d in map(json.loads, open(sys.argv[1])):
    if d["result"] not in ("OK", "EXPECTEDFAIL", "SKIP"):
        print(d["name"])' "$1"
}
res=; cached=
[ -d "$base_src/.git" ] || git clone -q "$CACHE/base.git" "$base_src"
git -C "$base_src" checkout -q --detach "$tag"
if [ "$n" -gt 0 ]; then
    run_suite am/series series "$src" "$build"; ser_res=$res; ser_cached=$cached
    mapfile -t refail < <(failed_tests "$ser_res")
    if [ ${#refail[@]} -gt 0 ]; then
        run_suite "$tag" base "$base_src" "$base_build" "${refail[@]}"; base_res=$res
    else
        # nothing failed: nothing to compare (qtest.sh without test
        # names would run both suites in full)
        base_res=$results/qtest-none.json; : >"$base_res"
    fi
else
    run_suite "$tag" base "$base_src" "$base_build"; base_res=$res
    ser_res=$base_res; ser_cached=$cached
fi
# the unpatched binary is also needed by the robustness, migration and
# benchmark steps below
"$S/build.sh" "$base_src" "$base_build" qemu-system-x86_64 qemu-system-i386 >&2
git -C "$src" checkout -q --detach am/series

# bios-tables-test runs under KVM when /dev/kvm exists, and this
# machine's nested KVM has no SMM, so the suite run above fails it on the
# base as well (FACP differs).  Run its cases that build SRAT again under
# TCG, with /dev/kvm hidden in a private mount namespace: the new
# memmap-type cases against their expected tables, and the existing
# NUMA cases, whose SRAT the series must not change.
btt_cases=(acpi/piix4/numamem acpi/q35/numamem acpi/piix4/memhp acpi/q35/memhp
           acpi/q35/acpihmat acpi/piix4/acpihmat
           acpi/q35/acpihmat-noinitiator acpi/q35/acpihmat-genericx)
[ "$n" -gt 0 ] && btt_cases+=(acpi/q35/memmap)
for arch in x86_64 i386; do
    btt_key=$(key "$(tree_of am/series)" btt "$arch" "${btt_cases[@]}")
    if [ -e "$results/btt-$btt_key" ] && [ -z "${FORCE:-}" ]; then
        ok "bios-tables-test under TCG, qemu-system-$arch: ${btt_cases[*]} (cached)"
    elif ! unshare -m true 2>/dev/null; then
        skp "bios-tables-test under TCG, qemu-system-$arch: needs root for a private mount namespace"
    else
        "$S/build.sh" "$src" "$build" "qemu-system-$arch" tests/qtest/bios-tables-test
        args=(); for c in "${btt_cases[@]}"; do args+=(-p "/$arch/$c"); done
        if (cd "$build" && unshare -m sh -c '[ ! -e /dev/kvm ] || mount --bind /dev/null /dev/kvm; exec "$@"' sh \
                env QTEST_QEMU_BINARY="./qemu-system-$arch" timeout 900 \
                tests/qtest/bios-tables-test "${args[@]}") >"$LOGS/bios-tables-tcg-$arch.log" 2>&1; then
            touch "$results/btt-$btt_key"
            ok "bios-tables-test under TCG, qemu-system-$arch: ${btt_cases[*]}"
        else
            grep -E 'mismatch|Bail|^not ok' "$LOGS/bios-tables-tcg-$arch.log" | head -5
            bad "bios-tables-test under TCG, qemu-system-$arch (log: $LOGS/bios-tables-tcg-$arch.log)"
        fi
    fi
done

# QEMU's documentation with the series (Sphinx, warnings are errors)
docs_key=$(key "$(tree_of am/series)" docs "$(cat "$S/docs.sh")")
if [ -e "$results/docs-$docs_key" ] && [ -z "${FORCE:-}" ]; then
    ok "QEMU documentation builds with the series (cached)"
elif "$S/docs.sh"; then
    touch "$results/docs-$docs_key"; ok "QEMU documentation builds with the series"
else
    bad "QEMU documentation builds with the series (log: $LOGS/build-docs-build.log)"
fi

while IFS=$'\t' read -r kind text; do
    case $kind in
    ok) ok "qtest: $text$ser_cached" ;;
    skip) skp "qtest: $text" ;;
    bad) bad "qtest: $text" ;;
    esac
done < <(python3 - "$base_res" "$ser_res" "$n" <<'PY'
import json, sys
def load(p):
    return {d["name"]: d["result"] for d in map(json.loads, open(p))}
base, ser = load(sys.argv[1]), load(sys.argv[2])
good = {"OK", "EXPECTEDFAIL"}
# The series' own qtest must have run, for both targets: a suite
# without it proves nothing.
for own in ("qtest-x86_64/numa-memmap-test", "qtest-i386/numa-memmap-test"):
    if int(sys.argv[3]) and own not in ser:
        print(f"bad\t{own}: not in the suite run of the series")
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

# The companion SeaBIOS series: hygiene, then the images the guest
# scenarios boot with
suite series-seabios "$S/check-series.sh" seabios "$CACHE/check/seabios-am"
sbp=""
say "seabios: building SeaBIOS with patches/seabios/ (log: $LOGS/seabios-patched.log)"
if sbdir=$("$S/seabios.sh"); then
    sbp=$sbdir/bios-256k.bin
    ok "SeaBIOS with patches/seabios/ builds: bios-256k.bin, bios.bin (QEMU's configs)"
else
    bad "SeaBIOS with patches/seabios/ builds (log: $LOGS/seabios-patched.log)"
fi

# Linux guests under TCG: what the guest really sees (never cached)
if [ "$n" -gt 0 ]; then
    say "guest: booting Linux guests under TCG, two at a time (log: $LOGS/guest-all.log)"
    "$S/build.sh" "$src" "$build" qemu-system-x86_64
    QEMU=$build/qemu-system-x86_64 QEMU_BASE=$base_build/qemu-system-x86_64 \
        GUEST_SEABIOS_PATCHED=$sbp "$S/guest-run.sh" --all >"$LOGS/guest-all.log" 2>&1 || true
    got=0
    while read -r r name secs _; do
        got=$((got + 1))
        case $r in
        PASS) ok "guest: $name (boot $secs s)" ;;
        SKIP) skp "guest: $name: $(grep -m1 "^SKIP $name:" "$LOGS/guest-all.log" | cut -d: -f2-)" ;;
        *) bad "guest: $name (log: $LOGS/guest-$name.log)" ;;
        esac
    done < <(sed -n '/^summary/,$s/^  \(PASS\|FAIL\|SKIP\) /&/p' "$LOGS/guest-all.log")
    if [ "$got" = 0 ]; then
        tail -20 "$LOGS/guest-all.log"
        bad "guest scenarios: no result (log: $LOGS/guest-all.log)"
    fi
    # The SeaBIOS rows prove the series only if they fail without it:
    # the same boot with SeaBIOS built from the same source without the
    # series must fail its checks.
    neg=$LOGS/guest-sbp-stock.log
    if stock=$("$S/seabios.sh" --stock 2>"$neg"); then
        if QEMU=$build/qemu-system-x86_64 GUEST_SEABIOS_PATCHED=$stock/bios-256k.bin \
            "$S/guest-run.sh" q35-sbp-spm >>"$neg" 2>&1; then
            bad "guest: q35-sbp-spm passes with stock SeaBIOS too: the scenario proves nothing (log: $neg)"
        elif grep -q '^  FAIL  SeaBIOS e820 lacks soft reserved' "$neg"; then
            ok "guest: q35-sbp-spm fails with stock SeaBIOS 1.17.0, as it must ($(grep -c '^  FAIL' "$neg") checks fail)"
        else
            bad "guest: q35-sbp-spm with stock SeaBIOS failed for another reason (log: $neg)"
        fi
    else
        bad "stock SeaBIOS build (log: $neg)"
    fi
fi

if [ "$n" -gt 0 ]; then
    export QEMU_PATCHED=$build/qemu-system-x86_64 QEMU_BASE=$base_build/qemu-system-x86_64
    suite robust "$S/robust.sh"
    MIGRATE_PATCHED=$QEMU_PATCHED MIGRATE_BASE=$QEMU_BASE suite migrate "$S/migrate.sh"
    BENCH_PATCHED=$QEMU_PATCHED BENCH_BASE=$QEMU_BASE suite bench-smoke "$S/bench.sh" --smoke
    PCIWIN_QEMU=$QEMU_PATCHED suite pciwin "$S/pciwin.sh"
    QEMU=$QEMU_PATCHED suite libvirt "$S/libvirt.sh"
fi

echo
grep 'waived' "$LOGS/series-qemu.log" | sed 's/^  PASS  /checkpatch warnings waived: /' || true
echo "Not run, by the explicit list tests/qtest-exclude.txt:"
grep -v '^\s*\(#\|$\)' "$ROOT/tests/qtest-exclude.txt" | sed 's/^/  /'
if [ ${#skipped[@]} -gt 0 ]; then
    echo "Skipped:"; printf '  %s\n' "${skipped[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED:"; printf '  %s\n' "${failed[@]}"
fi
for suite in qtest-x86_64 qtest-i386; do
    echo "$suite: $(grep -c "\"$suite/" "$ser_res") tests run with the series${ser_cached}"
done
echo "logs: ${LOGS#$ROOT/}/"
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
