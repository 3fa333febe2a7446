#!/bin/bash
# QEMU's qtest-x86_64 and qtest-i386 suites on the series, judged against
# the unpatched base in the same environment.
#
#   scripts/qtest-compare.sh SRC BUILD BASE_SRC BASE_BUILD
#
# SRC and BASE_SRC are git trees checked out at the series and at the
# pristine base (the same tree: the series is empty, and the suites run
# once).  Both x86 targets are built (scripts/build.sh), the suites run
# on the series (scripts/qtest.sh), and only the tests that failed run
# again on the base: a test that fails on both is a known environment
# failure (SKIP, with both results); a test that fails only with the
# series FAILs.  The series' own numa-memmap-test must have run for both
# targets, and each of its subtests that skipped itself is a SKIP of its
# own.  One line per test, then "qtest-SUITE: N tests run with the
# series" and "qtest: N passed, N failed, N skipped".  Results are cached
# by source tree, scripts and lock file in .cache/results/ ("(cached)";
# FORCE=1 runs again).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# = 4 ] || die "usage: $0 SRC BUILD BASE_SRC BASE_BUILD"
src=$1 build=$2 base_src=$3 base_build=$4
results=$CACHE/results
mkdir -p "$results"

# suite SRC BUILD LABEL [TEST...]: run the suites (or only TESTs) in
# BUILD; sets res (the results file) and cached
suite() {
    local tsrc=$1 tbuild=$2 label=$3 k
    shift 3
    k=$(result_key "$(git -C "$tsrc" rev-parse 'HEAD^{tree}')" qtest "$@")
    res=$results/qtest-$k.json
    if [ -e "$res" ] && [ -z "${FORCE:-}" ]; then
        say "qtest[$label]: results cached for identical inputs (key $k; FORCE=1 reruns)"
        cached=" (cached)"
    else
        "$ROOT/scripts/build.sh" "$tsrc" "$tbuild" qemu-system-x86_64 qemu-system-i386
        "$ROOT/scripts/qtest.sh" "$tbuild" "$res.new" "$label" "$@"
        mv "$res.new" "$res"
        cached=""
    fi
}
failed_tests() { # RESULTS: names of the tests that did not pass or skip
    python3 -c 'import json, sys
for d in map(json.loads, open(sys.argv[1])):
    if d["result"] not in ("OK", "EXPECTEDFAIL", "SKIP"):
        print(d["name"])' "$1"
}

res=; cached=; series=1
[ "$(git -C "$src" rev-parse 'HEAD^{tree}')" != "$(git -C "$base_src" rev-parse 'HEAD^{tree}')" ] || series=0
if [ "$series" = 1 ]; then
    suite "$src" "$build" series; ser_res=$res; ser_cached=$cached
    mapfile -t refail < <(failed_tests "$ser_res")
    if [ ${#refail[@]} -gt 0 ]; then
        suite "$base_src" "$base_build" base "${refail[@]}"; base_res=$res
    else
        # nothing failed, nothing to compare (qtest.sh without test
        # names would run both suites in full)
        base_res=/dev/null
    fi
else
    suite "$base_src" "$base_build" base; base_res=$res
    ser_res=$base_res; ser_cached=$cached
fi

python3 - "$base_res" "$ser_res" "$series" "$ser_cached" <<'PY'
import json, sys
def load(p):
    return {d["name"]: d["result"] for d in map(json.loads, open(p))}
base, ser = load(sys.argv[1]), load(sys.argv[2])
# subtests of the series' own test that skipped themselves (qtest.sh)
subskips = {d["name"]: d.get("skips") for d in map(json.loads, open(sys.argv[2]))}
series, cached = int(sys.argv[3]), sys.argv[4]
good = {"OK", "EXPECTEDFAIL"}
counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
def out(verdict, text):
    counts[verdict] += 1
    print(f"  {verdict}  qtest: {text}")
# The series' own qtest must have run, for both targets: a suite
# without it proves nothing.
for own in ("qtest-x86_64/numa-memmap-test", "qtest-i386/numa-memmap-test"):
    if series and own not in ser:
        out("FAIL", f"{own}: not in the suite run of the series")
    elif series and subskips.get(own) is None:
        out("FAIL", f"{own}: its subtests' skips were not recorded")
    elif series:
        for sk in subskips[own]:
            out("SKIP", f"{own}: subtest {sk}")
for name in sorted(ser):
    r = ser[name]
    if r in good:
        out("PASS", f"{name}{cached}")
    elif r == "SKIP":
        out("SKIP", f"{name} (the test skipped itself)")
    elif name in base and base[name] not in good | {"SKIP"}:
        out("SKIP", f"{name}: {r}, known environment failure "
                    f"(fails on the unpatched base too: {base[name]})")
    else:
        out("FAIL", f"{name}: {r}" + (f" (base: {base[name]})" if name in base
                                      else " (not in base)"))
if not ser:
    out("FAIL", "no test result at all")
for s in ("qtest-x86_64", "qtest-i386"):
    print(f"{s}: {sum(n.startswith(s + '/') for n in ser)} tests run with the series{cached}")
print(f"qtest: {counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
sys.exit(1 if counts["FAIL"] else 0)
PY
