#!/bin/bash
# Run one step of make check as a pipeline job, judged like make check.
# Called by: the jobs of .gitlab-ci.yml.
#
# One step of `make check` as a pipeline job (.gitlab-ci.yml), judged by
# make check's rule (judge_step in lib.sh); called by the jobs' scripts.
#
#   scripts/ci-step.sh NAME CMD...
#
# Runs CMD (its output shown and kept in .cache/logs/NAME.log), then
# fails the job if the step has no verdict line "NAME: N passed, N
# failed, N skipped", a failed check, no check at all, or a skip that is
# not on tests/expected-skips.txt: a job that could not run its checks
# is red, never green with skips.  A runner that cannot run a job at all
# marks it with the job variable NOT_APPLICABLE="why" (then CMD is not
# run and the job passes, saying why).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: $0 NAME CMD..."
name=$1; shift
if [ -n "${NOT_APPLICABLE:-}" ]; then
    echo "$name: not applicable on this runner (NOT_APPLICABLE): $NOT_APPLICABLE"
    exit 0
fi
log=$LOGS/$name.log
say "$name: $* (log: $log)"
"$@" 2>&1 | tee "$log" || true
if judge_step "$name" "$log"; then
    [ ${#STEP_EXPECTED[@]} = 0 ] || { echo "expected skips:"; printf '  %s\n' "${STEP_EXPECTED[@]}"; }
    echo "$name: job PASSED: $STEP_LINE"
else
    echo "$name: job FAILED:"; printf '  %s\n' "${STEP_BAD[@]}"
    exit 1
fi
