#!/bin/bash
# The SeaBIOS guest scenarios prove the SeaBIOS series only if they fail
# without it: boot them with SeaBIOS built from the same source without
# the series (scripts/seabios.sh --stock); their checks must fail, and
# for the reason the series is about:
#   q35-sbp-spm            no soft reserved entry in SeaBIOS's e820
#   sbp-table-full         no soft reserved entries for the 127 spm nodes
#   sbp-table-reserved     no soft reserved entry for the spm nodes
#   sbp-table-interleaved  the reserved and normal nodes overflow
#                          SeaBIOS's 128-entry map ("Unable to allocate")
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
pass=0 fail=0
result() {
    [ "$1" = PASS ] && pass=$((pass + 1)) || fail=$((fail + 1))
    printf '  %s  %s\n' "$1" "$2"
}
# scenario, then the FAIL line (a regular expression) that must be among
# the reasons
cases=("q35-sbp-spm|FAIL  SeaBIOS e820 lacks soft reserved"
       "sbp-table-full|FAIL  SeaBIOS e820 over .*, 0 soft reserved in the map"
       "sbp-table-reserved|FAIL  SeaBIOS e820 lacks soft reserved"
       "sbp-table-interleaved|FAIL  SeaBIOS: .*its e820 map overflowed")

if ! stock=$("$ROOT/scripts/seabios.sh" --stock 2>"$log"); then
    result FAIL "stock SeaBIOS build (log: $log)"
else
    version=$(lock base_tag seabios | sed 's/^rel-//; s/-orig$//')
    for c in "${cases[@]}"; do
        name=${c%%|*} want=${c#*|}
        echo "#### $name with stock SeaBIOS $version" >>"$log"
        # scenario logs in a folder of their own: guest-$name.log in
        # .cache/logs/ stays the evidence of the passing run
        if QEMU=$qemu GUEST_SEABIOS_PATCHED=$stock/bios-256k.bin GUEST_LOGDIR=$LOGS/seabios-negative \
            "$ROOT/scripts/guest-run.sh" "$name" >"$log.one" 2>&1; then
            result FAIL "guest: $name passes with stock SeaBIOS too: the scenario proves nothing (log: $log)"
        elif grep -Eq "^  $want" "$log.one"; then
            result PASS "guest: $name fails with stock SeaBIOS $version, as it must ($(grep -c '^  FAIL' "$log.one") checks fail: $(grep -m1 -E "^  $want" "$log.one" | sed 's/^  FAIL  //' | cut -c1-120))"
        else
            result FAIL "guest: $name with stock SeaBIOS failed for another reason (log: $log)"
        fi
        cat "$log.one" >>"$log"
    done
    rm -f "$log.one"
fi
echo "seabios-negative: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
