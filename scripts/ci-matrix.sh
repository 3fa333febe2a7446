#!/bin/bash
# One configuration of the CI build matrix: the series' qtests.
# Called by: the pipeline's qtest-matrix job.
#
# One job of the CI build matrix (.gitlab-ci.yml, job qtest-matrix): QEMU
# with the series, built in one of the configurations QEMU's own CI
# builds, and the qtests the series touches, run for qemu-system-i386 and
# qemu-system-x86_64.
#
#   scripts/ci-matrix.sh CONFIG [--build-only]
#   scripts/ci-matrix.sh --configs          the CONFIG names, one a line
#
#   CONFIG      compiler   configure flags added to scripts/build.sh's
#   gcc-debug   gcc        --enable-debug
#   clang       clang      (none; clang and clang++ through ccache)
#   asan-ubsan  gcc        --enable-asan --enable-ubsan (make sanitize's)
#
#  1. scripts/apply.sh .cache/ci-matrix/CONFIG/src: the pristine base +
#     the series, in a tree of this configuration's own (left alone while
#     it holds the current series, so that a second run rebuilds nothing);
#  2. scripts/build.sh with CONFIGURE_EXTRA into .cache/ci-matrix/CONFIG/
#     build: only qemu-system-x86_64, qemu-system-i386 and the qtests
#     numa-memmap-test, numa-test and bios-tables-test;
#  3. for each target: numa-memmap-test, numa-test, and the cases of
#     bios-tables-test that build an SRAT under TCG (scripts/btt-tcg.sh,
#     as make check runs them: tests/btt-srat-cases.txt, /dev/kvm hidden);
#  4. asan-ubsan: with make sanitize's ASAN_OPTIONS/UBSAN_OPTIONS (the
#     first report aborts QEMU; reports go to files, not stderr), no
#     sanitizer report in any of those files (one more test).
# Each test program run for one target is one test.  Logs:
# .cache/logs/ci-matrix-CONFIG-*.log; the last line is
# "ci-matrix-CONFIG: N passed, N failed, N skipped" (exit status 1 on any
# failure).  Environment: NICE (build and test niceness, default 10).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
configs=(gcc-debug clang asan-ubsan)
usage() { die "usage: $0 CONFIG [--build-only] | --configs   (CONFIG: ${configs[*]})"; }

config=${1:-}; build_only=
case $config in
--configs) printf '%s\n' "${configs[@]}"; exit 0 ;;
gcc-debug | clang | asan-ubsan) ;;
*) usage ;;
esac
case ${2:-} in
--build-only) build_only=1 ;;
'') ;;
*) usage ;;
esac
nice=${NICE:-10}
# MATRIX_MUTATION=sanitizer (scripts/matrix-negative.sh): the tree also
# gets the bug of SANITIZER in tests/mutate/mutations.py; its tree, logs
# and verdict are named negative-CONFIG
run=$config
case ${MATRIX_MUTATION:-} in
'') ;;
sanitizer) run=negative-$config ;;
*) die "MATRIX_MUTATION: only 'sanitizer' is known, not '$MATRIX_MUTATION'" ;;
esac
dir=$CACHE/ci-matrix/$run
src=$dir/src
build=$dir/build
tag="ci-matrix-$run"

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock -n 9 || die "another scripts/ci-matrix.sh $config is running ($dir/.lock)"

# Configure flags on top of build.sh's own; clang through build.sh's
# BUILD_CC/BUILD_CXX (ccache in front, as for gcc)
cc=(); extra=
case $config in
gcc-debug) extra="--enable-debug" ;;
asan-ubsan) extra="--enable-asan --enable-ubsan" ;;
clang)
    "$S/deps.sh" matrix
    cc=(BUILD_CC=clang BUILD_CXX=clang++)
    ;;
esac

"$S/deps.sh"
# this tree is ours: applied again only when the series changed
"$S/apply.sh" "$src" --own
if [ -n "${MATRIX_MUTATION:-}" ]; then
    git -C "$src" checkout -q -- hw/i386/pc.c
    mutation=$(python3 "$ROOT/tests/mutate/mutations.py" sanitizer "$src")
    say "$tag: with the bug '${mutation%%$'\t'*}'"
fi

say "$tag: building (${cc[*]:+${cc[*]}, }configure flags: ${extra:-none}; log: $LOGS/build-$run-build.log)"
targets=(qemu-system-x86_64 qemu-system-i386
         tests/qtest/numa-memmap-test tests/qtest/numa-test tests/qtest/bios-tables-test)
# with debug info, as QEMU's CI configures (build.sh leaves it out)
if env "${cc[@]}" CONFIGURE_EXTRA="--enable-debug-info $extra" nice -n "$nice" "$S/build.sh" "$src" "$build" "${targets[@]}"; then
    pass "build: ${targets[*]} ($config)"
else
    fail "build ($config; log: $LOGS/build-$run-build.log)"
    verdict "$tag"; exit 1
fi
[ -z "$build_only" ] || { verdict "$tag"; exit; }

tmo=1; reports=
if [ "$config" = asan-ubsan ]; then
    # make sanitize's settings (scripts/sanitize.sh explains each)
    reports=$LOGS/ci-matrix-$run-reports
    rm -rf "$reports"; mkdir -p "$reports"
    export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=0:print_summary=1:log_path=$reports/asan"
    export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
    tmo=2   # a sanitized QEMU is slower
fi
report_re='ERROR: AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer|LeakSanitizer|SUMMARY:'

# judge NAME LOG STATUS: a qtest program's run passes with exit status 0,
# at least one "ok" line of a case that ran and, under the sanitizers, no
# report text in its output
judge() {
    local name=$1 log=$2 rc=$3 l
    # a subtest that skipped itself (TAP "ok N PATH # SKIP WHY") is a
    # skip of its own, judged against tests/expected-skips.txt
    while read -r l; do
        skip "$name: subtest $(sed -E 's/^ok [0-9]+ (\S+) # SKIP ?/\1: /' <<<"$l")"
    done < <(grep -E '^ok [0-9]+ \S+ # SKIP' "$log" || true)
    if [ "$rc" = 0 ] && grep -qE '^ok [0-9]+ \S+$' "$log" && ! grep -qE "$report_re" "$log"; then
        pass "$name ($(grep -cE '^ok [0-9]+ \S+$' "$log") cases ran)"
    else
        grep -E '^(not ok|Bail out)|mismatch|ERROR|runtime error' "$log" | head -5 | sed 's/^/        /'
        fail "$name (log: $log)"
    fi
}
# runtest NAME LOG SECONDS CMD...: run a qtest program in the build
# directory and judge it
runtest() {
    local name=$1 log=$2 secs=$3 rc=0; shift 3
    (cd "$build" && timeout $((secs * tmo)) nice -n "$nice" "$@") >"$log" 2>&1 || rc=$?
    judge "$name" "$log" "$rc"
}

for arch in i386 x86_64; do
    for t in numa-memmap-test numa-test; do
        runtest "$t, qemu-system-$arch" "$LOGS/ci-matrix-$run-$t-$arch.log" 1200 \
            env QTEST_QEMU_BINARY="./qemu-system-$arch" "tests/qtest/$t"
    done
    log=$LOGS/ci-matrix-$run-bios-tables-$arch.log
    name="bios-tables-test under TCG, qemu-system-$arch: $("$S/btt-tcg.sh" --cases | paste -sd' ')"
    rc=0
    why=$(BTT_TIMEOUT=$((900 * tmo)) NICE=$nice "$S/btt-tcg.sh" "$build" "$arch" "$log" 2>&1) || rc=$?
    if [ "$rc" = 77 ]; then
        skip "$name: $why"
    else
        judge "$name" "$log" "$rc"
    fi
done

if [ -n "$reports" ]; then
    # Reports go to the files of log_path; UBSan's can also reach a
    # test's output (QEMU's stderr), so both are read.
    n=$(find "$reports" -type f | wc -l)
    mapfile -t hits < <(grep -lE "$report_re" "$reports"/* "$LOGS/ci-matrix-$run-"*.log 2>/dev/null || true)
    if [ ${#hits[@]} -gt 0 ]; then
        grep -hE -A5 "$report_re" "${hits[@]}" | head -40
        fail "no sanitizer report: reports in ${#hits[@]} files (${hits[*]#"$LOGS"/})"
    else
        # QEMU's coroutines make ASan warn about swapcontext once per
        # process: a clean run leaves that warning and nothing else
        other=$(grep -L "ASan doesn't fully support makecontext/swapcontext" "$reports"/* 2>/dev/null | wc -l)
        pass "no sanitizer report in the test logs or in the $n runtime log files ($((n - other)) with ASan's makecontext/swapcontext warning, $other without)"
    fi
fi
verdict "$tag"
