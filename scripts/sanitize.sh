#!/bin/bash
# ASan + UBSan build of the series and the memmap-type tests against it.
# Called by: make sanitize.
#
# `make sanitize`: QEMU with the series, built with AddressSanitizer and
# UndefinedBehaviorSanitizer, and the memmap-type tests run against it
# with every sanitizer report made fatal.
#
#   scripts/sanitize.sh [--build-only] [--count N]
#
#  1. scripts/apply.sh .cache/sanitize/src --own: the pristine base +
#     the series, in a tree of its own (tree/ and make check's trees are
#     left alone); skipped while that tree already holds the current
#     series, so that a second run does not rebuild;
#  2. scripts/build.sh with CONFIGURE_EXTRA="--enable-asan --enable-ubsan"
#     into .cache/sanitize/build: qemu-system-x86_64 and the qtests
#     numa-test and numa-memmap-test (a first build takes 15-25 min on
#     2 cores; later runs are incremental, ccache does not help much as
#     the flags differ from the other builds);
#  3. runs, with ASAN_OPTIONS / UBSAN_OPTIONS below (halt_on_error=1,
#     abort_on_error=1: the first report kills QEMU with SIGABRT, which
#     the tests count as a failure; detect_leaks=0 because QEMU does not
#     free everything at exit, by design; log_path: the sanitizer runtime
#     writes to files under .cache/logs/sanitize-reports/ instead of
#     stderr, because at start-up it always prints a warning about
#     swapcontext (QEMU's coroutines) that would break every test that
#     wants exactly one line on stderr; those files are searched for
#     reports at the end, which is a test of its own):
#       - the qtests numa-memmap-test and numa-test,
#       - tests/robust/error_matrix.py (which also fails on any
#         "AddressSanitizer" or "runtime error:" text on stderr),
#       - tests/robust/fuzz.py, a batch of --count configurations
#         (default 300, about 2 minutes; a sanitized QEMU is slower).
# One log per step under .cache/logs/sanitize-*.log.  The last line is
# "sanitize: N passed, N failed, N skipped"; exit status 1 on any failure.
#
# Environment: SANITIZE_SEED (fuzz seed, default 1), NICE (default 10).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
src=$CACHE/sanitize/src
build=$CACHE/sanitize/build
build_only=; count=300
while [ $# -gt 0 ]; do
    case $1 in
    --build-only) build_only=1 ;;
    --count) count=$2; shift ;;
    *) die "usage: $0 [--build-only] [--count N]" ;;
    esac
    shift
done
nice=${NICE:-10}

mkdir -p "$CACHE/sanitize"
"$S/deps.sh"
# this tree is ours: applied again only when the series changed
"$S/apply.sh" "$src" --own
say "sanitize: building with ASan + UBSan in $build (log: $LOGS/build-sanitize-build.log)"
CONFIGURE_EXTRA="--enable-asan --enable-ubsan --enable-debug-info" nice -n "$nice" \
    "$S/build.sh" "$src" "$build" qemu-system-x86_64 \
    tests/qtest/numa-test tests/qtest/numa-memmap-test
[ -z "$build_only" ] || { say "sanitize: build done"; exit 0; }

qemu=$build/qemu-system-x86_64
# halt_on_error + abort_on_error: the first report aborts QEMU (SIGABRT),
# which no test can take for a clean exit.  print_stacktrace for UBSan.
reports=$LOGS/sanitize-reports
rm -rf "$reports"; mkdir -p "$reports"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=0:print_summary=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
report_re='ERROR: AddressSanitizer|runtime error:|UndefinedBehaviorSanitizer|LeakSanitizer|SUMMARY:'

# sanitizer_clean LOG: no report text in LOG
sanitizer_clean() {
    ! grep -qE "$report_re" "$1"
}

for t in numa-memmap-test numa-test; do
    log=$LOGS/sanitize-$t.log
    if (cd "$build" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
            timeout 1200 nice -n "$nice" "tests/qtest/$t") >"$log" 2>&1 &&
       sanitizer_clean "$log"; then
        pass "qtest $t ($(grep -c '^ok ' "$log") cases) under ASan+UBSan"
    else
        tail -20 "$log"
        fail "qtest $t under ASan+UBSan (log: $log)"
    fi
done

log=$LOGS/sanitize-error-matrix.log
if timeout 1800 nice -n "$nice" python3 "$ROOT/tests/robust/error_matrix.py" \
        --qemu "$qemu" >"$log" 2>&1 && sanitizer_clean "$log"; then
    pass "error matrix under ASan+UBSan: $(tail -1 "$log")"
else
    grep -E '^(FAIL|  )' "$log" | head -20
    fail "error matrix under ASan+UBSan: $(tail -1 "$log") (log: $log)"
fi

log=$LOGS/sanitize-fuzz.log
if timeout 3600 nice -n "$nice" python3 "$ROOT/tests/robust/fuzz.py" --qemu "$qemu" \
        --count "$count" --seed "${SANITIZE_SEED:-1}" --timeout 120 >"$log" 2>&1 &&
   sanitizer_clean "$log"; then
    pass "fuzz --count $count under ASan+UBSan: $(tail -1 "$log")"
else
    grep -E '^(FAIL|MISMATCH|  )' "$log" | head -20
    fail "fuzz --count $count under ASan+UBSan: $(tail -1 "$log") (log: $log)"
fi

nfiles=$(find "$reports" -type f | wc -l)
if grep -lE "$report_re" "$reports"/* >/dev/null 2>&1; then
    grep -hE -A5 "$report_re" "$reports"/* | head -40
    fail "no sanitizer report from any QEMU process: reports in $(grep -lE "$report_re" "$reports"/* | wc -l) of $nfiles files under ${reports#$ROOT/}/"
else
    pass "no sanitizer report from any of the QEMU processes ($nfiles runtime log files, only the swapcontext warning)"
fi

verdict sanitize
