#!/bin/bash
# The SeaBIOS guest scenarios prove the SeaBIOS series only if they fail
# without it: boot q35-sbp-spm with SeaBIOS built from the same source
# without the series (scripts/seabios.sh --stock); its checks must fail,
# and for the reason the series is about (no soft reserved entry in
# SeaBIOS's e820).
#
#   scripts/seabios-negative.sh QEMU
#
# Last line "seabios-negative: N passed, N failed, 0 skipped".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# = 1 ] || die "usage: $0 QEMU"
qemu=$1
log=$LOGS/guest-sbp-stock.log
verdict() { one_result seabios-negative "$@"; }

if ! stock=$("$ROOT/scripts/seabios.sh" --stock 2>"$log"); then
    verdict FAIL "stock SeaBIOS build (log: $log)"
elif QEMU=$qemu GUEST_SEABIOS_PATCHED=$stock/bios-256k.bin "$ROOT/scripts/guest-run.sh" q35-sbp-spm >>"$log" 2>&1; then
    verdict FAIL "guest: q35-sbp-spm passes with stock SeaBIOS too: the scenario proves nothing (log: $log)"
elif grep -q '^  FAIL  SeaBIOS e820 lacks soft reserved' "$log"; then
    verdict PASS "guest: q35-sbp-spm fails with stock SeaBIOS $(lock base_tag seabios | sed 's/^rel-//; s/-orig$//'), as it must ($(grep -c '^  FAIL' "$log") checks fail)"
else
    verdict FAIL "guest: q35-sbp-spm with stock SeaBIOS failed for another reason (log: $log)"
fi
