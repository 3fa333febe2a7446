#!/bin/bash
# Unit test of tests/libvirt/memfigures.py, without libvirt: the virsh
# outputs and guest reports are the ones measured with libvirt 9.0 (the
# figures of contrib/libvirt/README.md), right and wrong, so each case
# shows the checker passes what is right, names known limitations, and
# fails what is wrong (the hybrid example before its
# <memballoon model='none'/>: Used memory 3 GiB above Max memory 2 GiB).
#
#   tests/libvirt/memfigures-test.sh
#
# Prints one "ok"/"FAIL" line per case; the last line is
# "memfigures-test: N cases, N failed"; exits 1 if any failed.
# Scratch files go to $CACHE/libvirt/memunit (CACHE as in scripts/lib.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE=${CACHE:-$root/.cache}
T=$CACHE/libvirt/memunit
rm -rf "$T"
mkdir -p "$T"
EX=$root/contrib/libvirt
KNOWN=$here/known-limits.tsv

n=0 nfail=0
ok() { n=$((n + 1)); echo "ok    $*"; }
indent6() { sed "s/^/      /"; }
bad() { n=$((n + 1)); nfail=$((nfail + 1)); echo "FAIL  $*"; }

# dominfo MAX USED: virsh dominfo's memory lines (KiB)
dominfo() { printf 'Max memory:     %s KiB\nUsed memory:    %s KiB\n' "$1" "$2"; }
# memstat [ACTUAL]: virsh dommemstat (no actual: no balloon)
memstat() { [ -z "${1:-}" ] || echo "actual $1"; echo "last_update 0"; echo "rss 51316"; }
# serial RAM-BELOW-4G SPM-AT-4G: a guest report whose etc/e820 has the
# AMD HT hole, RAM from 0, a soft reserved range at 4 GiB (bytes)
serial() {
    python3 -c '
import struct, sys
e = [(0xfd00000000, 0x300000000, 2), (0, int(sys.argv[1]), 1)]
if int(sys.argv[2]):
    e.append((1 << 32, int(sys.argv[2]), 0xefffffff))
print("@@ fwcfg-e820 " + b"".join(struct.pack("<QQI", *x) for x in e).hex())
print("@@ node 0 1894396")' "$1" "$2"
}

# case WANT(0|1) WHAT XML EXAMPLE DOMINFO MEMSTAT [SERIAL] [EXPECT-IN-OUTPUT]
case_() {
    local want=$1 what=$2 xml=$3 ex=$4 i=$T/$n out rc
    printf '%s\n' "$5" >"$i.dominfo"
    printf '%s\n' "$6" >"$i.dommemstat"
    local -a opt=()
    if [ -n "${7:-}" ]; then printf '%s\n' "$7" >"$i.serial"; opt=(--serial "$i.serial"); fi
    out=$(python3 "$here/memfigures.py" --xml "$xml" --example "$ex" --dominfo "$i.dominfo" \
        --dommemstat "$i.dommemstat" --known "$KNOWN" "${opt[@]}" 2>&1)
    rc=$?
    if [ "$rc" = "$want" ] && { [ -z "${8:-}" ] || grep -qF -- "$8" <<<"$out"; }; then
        ok "$what (exit $rc): $(grep -m1 '^FAIL' <<<"$out" || grep -m1 '^KNOWN' <<<"$out" || tail -1 <<<"$out")"
    else
        bad "$what: exit $rc, expected $want${8:+ and \"$8\"}; output:"
        printf '%s\n' "$out" | indent6
    fi
}

G2=2147483648 G1=1073741824
# the hybrid example as it was: the default balloon
sed "/<memballoon model='none'\/>/d" "$EX/domain-hybrid.xml" >"$T/hybrid-balloon.xml"
cmp -s "$T/hybrid-balloon.xml" "$EX/domain-hybrid.xml" &&
    bad "domain-hybrid.xml has no <memballoon model='none'/> to remove"

case_ 0 "wrapper, measured figures 3/3 GiB, actual 3 GiB" "$EX/domain-wrapper.xml" domain-wrapper.xml \
    "$(dominfo 3145728 3145728)" "$(memstat 3145728)" "$(serial $G2 $G1)" "memfigures: 6 checks, 0 failed, 0 known"
case_ 1 "wrapper, Used memory 2 GiB" "$EX/domain-wrapper.xml" domain-wrapper.xml \
    "$(dominfo 3145728 2097152)" "$(memstat 3145728)" "" "FAIL  virsh dominfo Used memory 2097152 KiB (2 GiB), the guest was given 3 GiB"
case_ 1 "wrapper, no balloon in virsh dommemstat" "$EX/domain-wrapper.xml" domain-wrapper.xml \
    "$(dominfo 3145728 3145728)" "$(memstat)" "" "FAIL  virsh dommemstat actual absent"
case_ 1 "wrapper, the guest's etc/e820 has 1 GiB less" "$EX/domain-wrapper.xml" domain-wrapper.xml \
    "$(dominfo 3145728 3145728)" "$(memstat 3145728)" "$(serial $G2 0)" "FAIL  guest: QEMU's etc/e820 sums to 2 GiB"
case_ 1 "small, Max memory 3 GiB" "$EX/domain-small.xml" domain-small.xml \
    "$(dominfo 3145728 2097152)" "$(memstat 2097152)" "" "FAIL  virsh dominfo Max memory 3145728 KiB"
case_ 1 "hybrid before <memballoon model='none'/>, measured: Max 2 GiB, Used 3 GiB" "$T/hybrid-balloon.xml" domain-hybrid.xml \
    "$(dominfo 2097152 3145728)" "$(memstat 3145728)" "$(serial $G2 $G1)" \
    "FAIL  Used memory 3145728 KiB (3 GiB) above Max memory 2097152 KiB (2 GiB)"
case_ 0 "hybrid, measured: Max 2 GiB, Used 2 GiB, no balloon: known limitations" "$EX/domain-hybrid.xml" domain-hybrid.xml \
    "$(dominfo 2097152 2097152)" "$(memstat)" "$(serial $G2 $G1)" "memfigures: 6 checks, 0 failed, 2 known limitations"
case_ 1 "hybrid, right figures 3/3 GiB: the known-limitation rows are out of date" "$EX/domain-hybrid.xml" domain-hybrid.xml \
    "$(dominfo 3145728 3145728)" "$(memstat)" "" "lists it as a known limitation: remove the row"
case_ 1 "hybrid, a balloon after all" "$EX/domain-hybrid.xml" domain-hybrid.xml \
    "$(dominfo 2097152 2097152)" "$(memstat 2097152)" "" "but the domain has no balloon"
case_ 0 "spmem, measured: 2/2 GiB, actual 2 GiB: known limitations" "$EX/domain-spmem.xml" domain-spmem.xml \
    "$(dominfo 2097152 2097152)" "$(memstat 2097152)" "$(serial $G2 $G1)" "memfigures: 6 checks, 0 failed, 3 known limitations"
case_ 1 "spmem, Used memory 1 GiB" "$EX/domain-spmem.xml" domain-spmem.xml \
    "$(dominfo 2097152 1048576)" "$(memstat 2097152)" "" "FAIL  virsh dominfo Used memory 1048576 KiB"

echo "memfigures-test: $n cases, $nfail failed"
[ "$nfail" = 0 ]
