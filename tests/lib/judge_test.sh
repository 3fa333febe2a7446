#!/bin/bash
# judge_step and the result store (scripts/lib.sh) on crafted logs.
# Each case is a log a step could leave; judge_step must accept the
# honest ones and reject the others, result_store must not keep a
# rejected log, and result_replayable must refuse (and remove) a stored
# log that no longer passes.  One PASS/FAIL line per case, then
# "judge: N passed, N failed".  Run by scripts/check-repo.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export CACHE=$tmp/cache
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
np=0 nf=0
ok() { echo "PASS $*"; np=$((np + 1)); }
no() { echo "FAIL $*"; nf=$((nf + 1)); }
# case WANT NAME TEXT: judge a log of step "robust" holding TEXT
case_() {
    local want=$1 what=$2 log=$tmp/robust.log got
    printf '%b' "$3" >"$log"
    if judge_step robust "$log" >/dev/null; then got=accepted; else got=rejected; fi
    if [ "$got" = "$want" ]; then
        ok "$what: $got${STEP_BAD:+ (${STEP_BAD[0]})}"
    else
        no "$what: $got, want $want"
    fi
}
# a SKIP line of robust's that tests/expected-skips.txt lists
xs='SKIP  error-matrix: accel/xen: accelerator xen not built into this QEMU'
case_ accepted "honest: 2 passed, 1 listed skip" "PASS a\nPASS b\n$xs\nrobust: 2 passed, 0 failed, 1 skipped\n"
case_ rejected "3 skipped, one SKIP line" "PASS a\n$xs\nrobust: 1 passed, 0 failed, 3 skipped\n"
case_ rejected "a SKIP line, 0 skipped" "PASS a\n$xs\nrobust: 1 passed, 0 failed, 0 skipped\n"
case_ rejected "1 skipped, no SKIP line" "PASS a\nrobust: 1 passed, 0 failed, 1 skipped\n"
case_ rejected "an unlisted skip" "PASS a\nSKIP  no reason anyone listed\nrobust: 1 passed, 0 failed, 1 skipped\n"
# microvm is built (libfdt is a build dependency) and its refusal
# checked: the error matrix's skip for a QEMU without it is not listed
case_ rejected "microvm not built" "PASS a\nSKIP  error-matrix: machine/microvm: machine microvm not built into this QEMU (needs libfdt)\nrobust: 1 passed, 0 failed, 1 skipped\n"
case_ rejected "no check at all" "robust: 0 passed, 0 failed, 0 skipped\n"
case_ rejected "a failed check" "FAIL a\nrobust: 0 passed, 1 failed, 0 skipped\n"
case_ rejected "no verdict line" "PASS a\n"

# the store: a rejected log is not kept; a kept one that fails the
# judge now (here: its skip taken off the list) is not replayed
log=$tmp/robust.log keep=$tmp/keep.log
printf 'PASS a\nSKIP  no reason anyone listed\nrobust: 1 passed, 0 failed, 1 skipped\n' >"$log"
if result_store robust "$log" "$keep" || [ -e "$keep" ]; then
    no "result_store kept a log with an unlisted skip"
else
    ok "result_store does not keep a log with an unlisted skip"
fi
printf 'PASS a\n%s\nrobust: 1 passed, 0 failed, 1 skipped\n' "$xs" >"$log"
if result_store robust "$log" "$keep" && [ -s "$keep" ]; then
    ok "result_store keeps an honest log"
else
    no "result_store did not keep an honest log"
fi
# the stored log, once its skip is no longer listed
sed -i 's/accel\/xen: accelerator xen/accel\/xen: accelerator XEN/' "$keep"
if result_replayable robust "$keep" 2>/dev/null; then
    no "result_replayable replays a stored log whose skip is not listed any more"
elif [ -e "$keep" ]; then
    no "result_replayable left the stale stored log in place"
else
    ok "result_replayable refuses and removes a stored log that no longer passes"
fi
echo "judge: $np passed, $nf failed"
[ "$nf" = 0 ]
