#!/bin/bash
# QEMU's x86 qtest suites on the series, failures judged against the base.
# Called by: check.sh (step qtest), the pipeline.
#
# QEMU's qtest-x86_64 and qtest-i386 suites on the series, judged against
# the unpatched base in the same environment.
#
#   scripts/qtest-compare.sh SRC BUILD BASE_SRC BASE_BUILD
#
# SRC and BASE_SRC are git trees checked out at the series and at the
# pristine base (the same tree: the series is empty, and the suites run
# once).  Both x86 targets are built (scripts/build.sh), the suites run
# on the series (scripts/qtest.sh), and only the tests that failed run
# again on the base.  A test that fails on both is excused (SKIP, a known
# environment failure) only if the base failed the same subtests the
# same way (tests/lib/qtest_judge.py: result, failed subtests, where it
# stopped, error lines); otherwise it FAILs with both failures shown.
# The series' own numa-memmap-test must have run for both targets, and
# each of its subtests that skipped itself is a SKIP of its own.  One
# line per test, then "qtest-SUITE: N tests run with the series" and
# "qtest: N passed, N failed, N skipped".  Results are cached in
# .cache/results/ by source tree, scripts, lock file and environment
# (step_key, its row of tests/cache-inputs.txt); a cached result of the base excuses nothing once it is
# older than QTEST_BASE_MAX_DAYS (default 7) days.  "(cached)" marks a
# replayed result; FORCE=1 runs again.
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
    k=$(step_key qtest "$(git -C "$tsrc" rev-parse 'HEAD^{tree}')" "$*")
    res=$results/qtest-$k.json
    # a base result that would excuse a failure expires
    if [ "$label" = base ] && [ -e "$res" ] &&
        [ -n "$(find "$res" -mtime +"${QTEST_BASE_MAX_DAYS:-7}")" ]; then
        say "qtest[base]: cached result older than ${QTEST_BASE_MAX_DAYS:-7} days, running again"
        rm -f "$res"
    fi
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

python3 "$ROOT/tests/lib/qtest_judge.py" --compare "$base_res" "$ser_res" "$series" "$ser_cached"
