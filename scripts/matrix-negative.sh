#!/bin/bash
# The CI matrix's sanitizer job must catch a bug that only a sanitizer sees.
# Called by: make matrix-negative.
#
# The negative run of the qtest-matrix job [asan-ubsan]: the series with
# one added bug (SANITIZER in tests/mutate/mutations.py: a node's entry
# read one element before the array, the value unused, so every test
# passes without sanitizers) goes through scripts/ci-matrix.sh asan-ubsan
# (MATRIX_MUTATION=sanitizer: its own tree .cache/ci-matrix/
# negative-asan-ubsan/, logs .cache/logs/ci-matrix-negative-asan-ubsan-*).
# That job must then fail, and fail for that bug:
#   - its build passes (the bug compiles),
#   - it exits 1 and at least one test FAILs,
#   - its closing "no sanitizer report" check FAILs,
#   - a test log or runtime report has UBSan's out-of-bounds line for
#     hw/i386/pc.c (the regular expression next to SANITIZER).
# A first run builds QEMU with ASan and UBSan (about 20 minutes on 2
# cores; later runs are incremental).  Last line "matrix-negative: N
# passed, N failed, N skipped"; exit status 1 on any failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
tag=matrix-negative
log=$LOGS/matrix-negative.log
pattern=$(python3 "$ROOT/tests/mutate/mutations.py" sanitizer)

say "$tag: scripts/ci-matrix.sh asan-ubsan with the bug added (log: $log; a first run builds for about 20 minutes)"
rc=0
MATRIX_MUTATION=sanitizer "$ROOT/scripts/ci-matrix.sh" asan-ubsan >"$log" 2>&1 || rc=$?

if grep -qE '^PASS +build: ' "$log"; then
    pass "the bug compiles: $(grep -E '^PASS +build: ' "$log" | sed 's/^PASS *//')"
else
    fail "the build with the bug did not pass (log: $log)"
fi
failed=$(grep -cE '^FAIL ' "$log" || true)
if [ "$rc" = 1 ] && [ "$failed" -gt 0 ]; then
    pass "the job fails: exit status 1, $(tail -n 1 "$log")"
else
    fail "the job did not fail: exit status $rc, $failed FAIL lines (log: $log)"
fi
if grep -qE '^FAIL +no sanitizer report' "$log"; then
    pass "its 'no sanitizer report' check fails"
else
    fail "its 'no sanitizer report' check did not fail (log: $log)"
fi
hit=$(grep -hoE "$pattern.*" "$LOGS"/ci-matrix-negative-asan-ubsan-*.log \
    "$LOGS"/ci-matrix-negative-asan-ubsan-reports/* 2>/dev/null | head -n 1 || true)
if [ -n "$hit" ]; then
    pass "for this bug: $hit"
else
    fail "no report matching /$pattern/ in the job's logs and runtime reports"
fi
verdict "$tag"
