#!/bin/bash
# The repository's own shape: script headers, README size, docs links.
# Called by: check.sh (step repo).
#
#  - every script in scripts/ starts with two comment lines: what it does,
#    then "Called by: ..." (after the #! line, if it has one);
#  - README.md is at most 15 KB, and every relative link in README.md and
#    docs/*.md points at a file that exists (and, with #anchor, at a
#    heading of that file);
#  - docs/timings.md is what scripts/timings.sh makes of docs/timings/;
#  - tests/cache-inputs.txt lists every input of each cached step
#    (tests/lib/cache_inputs.py check, and its self-test);
#  - judge_step and the result store reject crafted logs
#    (tests/lib/judge_test.sh);
#  - COMPARISON.md's renderer refuses a cell a reader cannot follow
#    (tests/compare/render_test.py).
# Last line "repo: N passed, N failed, N skipped".
#  - the script index in docs/layout.md is the scripts' headers
#    (scripts/check-repo.sh --layout rewrites it).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# index: the table of docs/layout.md, from every script's two header lines
index() {
    local f first
    echo "| script | what it does | called by |"
    echo "| --- | --- | --- |"
    for f in "$ROOT"/scripts/*.sh; do
        first=1
        head -1 "$f" | grep -q '^#!' && first=2
        printf '| `scripts/%s` | %s | %s |\n' "$(basename "$f")" \
            "$(sed -n "${first}s/^# //p" "$f")" "$(sed -n "$((first + 1))s/^# Called by: //p" "$f")"
    done
}
layout=$ROOT/docs/layout.md
begin='<!-- script index: scripts/check-repo.sh --layout -->'
end='<!-- end of script index -->'
if [ "${1:-}" = --layout ]; then
    python3 - "$layout" "$begin" "$end" "$(index)" <<'PY'
import sys
path, begin, end, table = sys.argv[1:]
s = open(path).read()
a, b = s.index(begin) + len(begin), s.index(end)
open(path, "w").write(s[:a] + "\n" + table + "\n" + s[b:])
PY
    say "check-repo: script index of docs/layout.md rewritten"
    exit 0
fi

bad=()
for f in "$ROOT"/scripts/*.sh; do
    first=1
    head -1 "$f" | grep -q '^#!' && first=2
    what=$(sed -n "${first}p" "$f") who=$(sed -n "$((first + 1))p" "$f")
    if ! [[ $what =~ ^#\ [A-Za-z\`].{10,} ]] || ! [[ $who =~ ^#\ Called\ by:\ .+\.$ ]]; then
        bad+=("${f#"$ROOT"/}")
    fi
done
if [ ${#bad[@]} = 0 ]; then
    pass "every script in scripts/ starts with what it does and who calls it ($(ls "$ROOT"/scripts/*.sh | wc -l) scripts)"
else
    fail "scripts without the two-line header (what; Called by: ...): ${bad[*]}"
fi

if [ "$(awk -v b="$begin" -v e="$end" '$0 == e {f = 0} f {print} $0 == b {f = 1}' "$layout")" = "$(index)" ]; then
    pass "docs/layout.md's script index matches the scripts' headers"
else
    fail "docs/layout.md's script index is not the scripts' headers: run scripts/check-repo.sh --layout"
fi

size=$(wc -c <"$ROOT/README.md")
if [ "$size" -le 15360 ]; then
    pass "README.md is $size bytes (at most 15 KB)"
else
    fail "README.md is $size bytes, more than 15 KB: move sections to docs/"
fi

links=$(python3 - "$ROOT" <<'PY'
import os, re, sys
root = sys.argv[1]
files = ["README.md"] + ["docs/" + f for f in sorted(os.listdir(os.path.join(root, "docs")))
                         if f.endswith(".md")]
def anchors(path):
    out = set()
    for line in open(path, errors="replace"):
        m = re.match(r"^#+ (.*)", line)
        if m:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out
n, broken = 0, []
for f in files:
    text = open(os.path.join(root, f), errors="replace").read()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        n += 1
        path, _, frag = target.partition("#")
        full = os.path.normpath(os.path.join(root, os.path.dirname(f), path))
        if not os.path.exists(full):
            broken.append(f"{f}: {target}")
        elif frag and full.endswith(".md") and frag not in anchors(full):
            broken.append(f"{f}: {target} (no such heading)")
print(n)
for b in broken:
    print(b)
PY
)
n=$(head -1 <<<"$links")
if [ "$(wc -l <<<"$links")" = 1 ]; then
    pass "all $n relative links of README.md and docs/*.md resolve"
else
    fail "broken links: $(tail -n +2 <<<"$links" | paste -sd';' | sed 's/;/; /g')"
fi

tmp=$(mktemp -d)
mkdir -p "$tmp/docs/timings" "$tmp/scripts"
cp -a "$ROOT"/docs/timings/. "$tmp/docs/timings/" 2>/dev/null || true
cp "$ROOT/scripts/lib.sh" "$ROOT/scripts/timings.sh" "$tmp/scripts/"
if (cd "$tmp" && CACHE=$tmp/.cache bash scripts/timings.sh >/dev/null 2>&1) &&
    cmp -s "$tmp/docs/timings.md" "$ROOT/docs/timings.md"; then
    pass "docs/timings.md is what scripts/timings.sh makes of docs/timings/ ($(ls "$ROOT"/docs/timings/*.tsv 2>/dev/null | wc -l) recorded runs)"
else
    fail "docs/timings.md differs from what scripts/timings.sh makes of docs/timings/: run make timings"
fi
rm -rf "$tmp"
# every cached result's inputs are in its row of tests/cache-inputs.txt,
# and the check that says so fails when one is left out
if out=$(python3 "$ROOT/tests/lib/cache_inputs.py" check 2>&1); then
    pass "tests/cache-inputs.txt lists every file and tool the cached steps' scripts read ($(tail -1 <<<"$out"))"
else
    fail "tests/cache-inputs.txt misses inputs: $(head -n -1 <<<"$out" | paste -sd';' | sed 's/;/; /g')"
fi
if out=$(python3 "$ROOT/tests/lib/cache_inputs.py" self-test 2>&1); then
    pass "the inputs check fails for a row without one of its inputs ($(grep -c '^PASS' <<<"$out") rows broken, e.g. $(grep -m1 '^PASS' <<<"$out" | sed 's/^PASS //'))"
else
    fail "the inputs check misses a left-out input: $(grep '^FAIL' <<<"$out" | paste -sd';')"
fi
# judge_step (lib.sh) on crafted logs: each way a log can lie fails
if out=$("$ROOT/tests/lib/judge_test.sh" 2>&1); then
    pass "judge_step and the result store reject every crafted log ($(tail -1 <<<"$out"))"
else
    fail "judge_step or the result store let a crafted log through: $(grep '^FAIL' <<<"$out" | paste -sd';')"
fi
# render.py (make compare) on crafted cells: each gap fails
if out=$(python3 "$ROOT/tests/compare/render_test.py" 2>&1); then
    pass "make compare refuses every crafted cell without evidence or a command of this repository ($(tail -1 <<<"$out"))"
else
    fail "make compare lets a crafted cell through: $(grep '^FAIL' <<<"$out" | paste -sd';')"
fi
verdict repo
