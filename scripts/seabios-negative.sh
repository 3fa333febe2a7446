#!/bin/bash
# SeaBIOS scenarios must fail without the SeaBIOS series or one of its patches.
# Called by: check.sh (step seabios-negative).
#
# The SeaBIOS guest scenarios prove the SeaBIOS series only if they fail
# without it; run by scripts/check.sh (make check).
#
# 1. Stock SeaBIOS (scripts/seabios.sh --stock, the same source without
#    the series): these scenarios' checks must fail, and for the reason
#    the series is about:
#      q35-sbp-spm            no soft reserved entry in SeaBIOS's e820
#                             for the memmap-type=spm node
#      spmem-q35-sbp-spm      the same for QEMU 11.1's -device sp-mem
#                             (Debian sid's QEMU 11.1.3): the series is
#                             needed without the QEMU series too
# 2. Each patch the series keeps: the series without it (or without its
#    rule, where later patches need its definitions), from
#    tests/mutate/seabios_variants.py (scripts/seabios.sh --variant N);
#    the variant's scenario must fail with the variant's FAIL line.
#
#   scripts/seabios-negative.sh QEMU
#
# Scenario logs go to .cache/logs/seabios-negative/, so that the logs of
# the passing runs stay the evidence.  Last line "seabios-negative: N
# passed, N failed, 0 skipped".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# = 1 ] || die "usage: $0 QEMU"
qemu=$1
log=$LOGS/guest-sbp-stock.log
V=$ROOT/tests/mutate/seabios_variants.py
: >"$log"

# must_fail SCENARIO BIOS WANT WHAT: SCENARIO booted with BIOS (a
# bios-256k.bin) must fail, among its reasons a FAIL line matching WANT
# (a regular expression); WHAT names the firmware in the result line
must_fail() {
    local name=$1 bios=$2 want=$3 what=$4 one=$log.one
    echo "#### $name with $what" >>"$log"
    if QEMU=$qemu GUEST_SEABIOS_PATCHED=$bios GUEST_LOGDIR=$LOGS/seabios-negative \
        "$ROOT/scripts/guest-run.sh" "$name" >"$one" 2>&1; then
        fail "guest: $name passes with $what too: the scenario proves nothing (log: $log)"
    elif grep -Eq "^  $want" "$one"; then
        pass "guest: $name fails with $what, as it must ($(grep -c '^  FAIL' "$one") checks fail: $(grep -m1 -E "^  $want" "$one" | sed 's/^  FAIL  //' | cut -c1-120))"
    else
        fail "guest: $name with $what failed for another reason (want /$want/; log: $log)"
    fi
    cat "$one" >>"$log"
    rm -f "$one"
}

version=$(lock base_tag seabios | sed 's/^rel-//; s/-orig$//')
if ! stock=$("$ROOT/scripts/seabios.sh" --stock 2>>"$log"); then
    fail "stock SeaBIOS build (log: $log)"
else
    must_fail q35-sbp-spm "$stock/bios-256k.bin" "FAIL  SeaBIOS e820 lacks soft reserved" "stock SeaBIOS $version"
    must_fail spmem-q35-sbp-spm "$stock/bios-256k.bin" "FAIL  SeaBIOS e820 lacks soft reserved" "stock SeaBIOS $version"
fi
for i in $(seq 0 $(($(python3 "$V" count) - 1))); do
    IFS=$'\t' read -r what name want < <(python3 "$V" describe "$i")
    if ! dir=$("$ROOT/scripts/seabios.sh" --variant "$i" 2>>"$log"); then
        fail "SeaBIOS $what: does not build (log: $log)"
    else
        must_fail "$name" "$dir/bios-256k.bin" "$want" "SeaBIOS $what"
    fi
done
verdict seabios-negative
