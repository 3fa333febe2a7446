#!/bin/bash
# Measure how many interleaved typed NUMA nodes each firmware's e820 map takes.
# Called by: hand (not make check); its record is docs/capacity.tsv and docs/capacity.md.
#
# The layout of the cap-* guest scenarios (scripts/guest-scenarios.sh):
# node 0 = 2 GiB below 4 GiB (max-ram-below-4g=2048M), then above 4 GiB
# K nodes of TYPE (reserved or spm) alternating with K-1 normal nodes,
# 32 MiB each.  For each FIRMWARE/TYPE it bisects K in 1..64 (QEMU has
# at most 128 NUMA nodes) for the largest K whose Linux -kernel boot
# (scripts/guest-run.sh cap-FIRMWARE-TYPE-K) ends with the guest's whole
# report and every byte of RAM (parse_report.py's ram check: the usable
# e820 RAM above 4 GiB is exactly the normal nodes' 32 MiB * (K-1), and
# [0, 2 GiB) is wholly mapped, at most 16 MiB of it kept by the
# firmware), assuming that a K that fails fails for every larger K.
# For every K it boots it also reads the number of entries QEMU put in
# fw_cfg etc/e820, under the qtest accelerator (tests/lib/qemulib.py),
# from the same -machine/-m/-object/-numa options.
#
#   scripts/capacity.sh [FIRMWARE/TYPE[:LO[:HI]] ...]
#     FIRMWARE seabios (1.16.2) | sbs (stock 1.17.0) | sbp (patched) |
#     ovmf; LO, HI: the first bracket tried (default 1 and 64): HI
#     first (if it boots, 64), then LO (halved until one boots).
#     Default: every firmware and type.
# Environment: QEMU (the build measured; default tree/build/...),
# GUEST_TIMEOUT (per boot, default 60: a boot that hangs is a failure),
# CAPACITY_DIR (logs and the new record, default $CACHE/capacity).
# Writes CAPACITY_DIR/capacity.tsv (one line per boot) and
# CAPACITY_DIR/capacity.md (the summary table); copy them to docs/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

export QEMU=${QEMU:-$ROOT/tree/build/qemu-system-x86_64}
export GUEST_TIMEOUT=${GUEST_TIMEOUT:-60}
dir=${CAPACITY_DIR:-$CACHE/capacity}
export GUEST_LOGDIR=$dir/logs
mkdir -p "$GUEST_LOGDIR"
tsv=$dir/capacity.tsv md=$dir/capacity.md
[ -x "$QEMU" ] || die "no QEMU at $QEMU (set QEMU=)"
combos=("$@")
[ ${#combos[@]} -gt 0 ] || combos=(seabios/reserved seabios/spm sbs/reserved sbs/spm
                                   sbp/reserved sbp/spm ovmf/reserved ovmf/spm)
# shellcheck source=scripts/guest-scenarios.sh
. "$ROOT/scripts/guest-scenarios.sh"

# entries NAME: how many entries QEMU's etc/e820 has for scenario NAME
entries() {
    local a args=()
    define "$1"; layout
    args=(-machine "q35,max-ram-below-4g=${below4g}M" -cpu qemu64 -smp 1 -m "${total_mib}M")
    for a in "${!nodes[@]}"; do
        args+=(-object "memory-backend-ram,id=m$a,size=${nodes[a]%%:*}M")
    done
    for a in "${!nodes[@]}"; do
        local o="node,nodeid=$a,memdev=m$a" t=${nodes[a]#*:}
        [ "$a" = 0 ] && o+=",cpus=0"
        [ "$t" = - ] || o+=",memmap-type=$t"
        args+=(-numa "$o")
    done
    PYTHONPATH=$ROOT/tests/lib python3 - "$QEMU" "${args[@]}" <<'PY' 2>&1 | tail -1
import sys
from qemulib import Qemu
try:
    with Qemu(sys.argv[1], sys.argv[2:]) as vm:
        print(len(vm.e820()))
except Exception as e:
    print("error: %s" % str(e).splitlines()[-1] if str(e) else e)
PY
}

# judge LOG LOW HIGH TYPE: one boot's verdict and what the guest saw,
# tab-separated: verdict, then typed (the guest e820 entries of TYPE
# over the typed nodes' span above 4 GiB), holes (typed nodes with no
# guest e820 entry at all), dax devices, hole (bytes of [0, LOW), the
# legacy 0xa0000-0xfffff aside, in no guest e820 entry: reservations of
# the firmware's own that its full map lost), SeaBIOS "Unable to
# allocate" warnings, and a detail line.  Verdicts: all-ram (the guest printed
# its report; its usable e820 RAM above 4 GiB is exactly HIGH, the
# normal nodes there, and below LOW at least LOW - 384 KiB (the legacy
# hole) - 16 MiB (what a firmware keeps for itself); no hole), all-ram+hole
# (the same, but with a hole), ram-lost, no-boot
judge() {
    python3 - "$@" "$ROOT/tests/guest" <<'PY'
import sys
sys.path.insert(0, sys.argv[5])
import parse_report as p
log, low, high, typ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rep = p.parse(log)
b = rep.phases.get("boot")
booted = rep.done and b is not None and not rep.panic
e820 = b.e820 if b else []
clip = lambda rs, a, z: sum(max(0, min(e, z) - max(s, a)) for s, e in rs)
usable = [(s, e) for s, e, t in e820 if t == "usable"]
allents = [(s, e) for s, e, t in e820]
hi, lo = clip(usable, 1 << 32, 1 << 64), clip(usable, 0, low)
want_lo = low - (p.LEGACY_HOLE[1] - p.LEGACY_HOLE[0])
hole = want_lo - (clip(allents, 0, low) - clip(allents, *p.LEGACY_HOLE))
want = "soft reserved" if typ == "spm" else "reserved"
k = (high // (32 << 20)) + 1
nodes = [(4 << 30) + 2 * i * (32 << 20) for i in range(k)]   # typed node starts
span = (nodes[0], nodes[-1] + (32 << 20))
typed = sum(1 for s, e, t in e820 if t == want and s < span[1] and e > span[0])
holes = sum(1 for n in nodes if not p.covering(e820, n, n + (32 << 20)))
lines = [l.strip() for l in open(log, errors="replace").read().splitlines()
         if not l.startswith("#")]
first = lambda pat: next((l for l in lines if pat in l), None)
warn = sum(1 for l in lines if "Unable to allocate" in l)
if not booted:
    verdict = "no-boot"
    detail = first("Kernel panic") or first("Unable to allocate")
    if detail is None:
        con = [l for l in lines if l and not l.startswith(("@@", "qemu-system"))]
        detail = ("timed out, " if first("terminating on signal") else "") + \
            "last console line: " + (con[-1] if con else "(none: no output at all)")
elif hi != high or lo < want_lo - p.FIRMWARE_OWN:
    verdict = "ram-lost"
    detail = "usable: %d bytes above 4 GiB (QEMU gave %d), %d below 2 GiB" % (hi, high, lo)
else:
    verdict = "all-ram+hole" if hole else "all-ram"
    detail = first("Unable to allocate") or "-"
    if hole:
        detail = "%d bytes of [0, 2 GiB) in no e820 entry; %s" % (hole, detail)
print("\t".join(map(str, (verdict, typed if b else "-", holes if b else "-",
                           len(b.dax) if b else "-", hole if b else "-", warn,
                           detail[:200].replace("\t", " ")))))
PY
}

# probe FW TYPE K: boot it, record it; returns 0 when all RAM arrived
probe() {
    local fw=$1 type=$2 k=$3 name n t0 t1 secs verdict rest
    name=cap-$fw-$type-$k
    n=$(entries "$name")
    define "$name"; layout
    if [ -n "${CAPACITY_REJUDGE:-}" ] && [ -s "$GUEST_LOGDIR/$name.secs" ]; then
        secs=$(cat "$GUEST_LOGDIR/$name.secs")   # judge the boot of before again
    else
        t0=$(date +%s%N)
        "$ROOT/scripts/guest-run.sh" "$name" >"$GUEST_LOGDIR/$name.out" 2>&1 || true
        t1=$(date +%s%N)
        secs=$(( (t1 - t0) / 1000000000 ))
        echo "$secs" >"$GUEST_LOGDIR/$name.secs"
    fi
    IFS=$'\t' read -r verdict rest < <(judge "$GUEST_LOGDIR/guest-$name.log" $((2048 * MiB)) \
        $(( (k - 1) * 32 * MiB )) "$type")
    printf '%s\t%s\t%d\t%s\t%s\t%d\t%s\n' "$fw" "$type" "$k" "$n" "$verdict" "$secs" "$rest" >>"$tsv"
    say "capacity: $fw $type K=$k: etc/e820 $n entries: $verdict ($secs s) ${rest//$'\t'/ | }"
    [[ $verdict = all-ram* ]]
}

printf 'firmware\ttype\tK\tetc_e820_entries\tverdict\tseconds\tguest_typed_entries\ttyped_nodes_absent\tdax_devices\tlow_map_hole_bytes\tbios_alloc_warnings\tdetail\n' >"$tsv"
summary=()
for c in "${combos[@]}"; do
    IFS=: read -r ft lo hi <<<"$c"
    fw=${ft%%/*} type=${ft#*/} lo=${lo:-1} hi=${hi:-64}
    good=0 bad='' k=$lo
    if probe "$fw" "$type" "$hi"; then
        good=$hi
        if [ "$hi" != 64 ]; then
            if probe "$fw" "$type" 64; then good=64; else bad=64; fi
        fi
        k=0   # the lower bracket is known
    else
        bad=$hi
    fi
    if [ "$good" != 64 ]; then
        while [ "$k" -ge 1 ] && [ "$good" = 0 ]; do
            if probe "$fw" "$type" "$k"; then good=$k; break; fi
            bad=$k k=$((k / 2))
        done
        while [ "$good" -gt 0 ] && [ $((bad - good)) -gt 1 ]; do
            k=$(( (good + bad) / 2 ))
            if probe "$fw" "$type" "$k"; then good=$k; else bad=$k; fi
        done
    fi
    summary+=("$fw	$type	$good	${bad:-none up to 64}")
done
{
    echo "| firmware | type | largest K with all RAM | its etc/e820 entries | first failing K | its entries | failure seen | largest K booted with a clean map |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    for s in "${summary[@]}"; do
        IFS=$'\t' read -r fw type good bad <<<"$s"
        ge=$(awk -F'\t' -v f="$fw" -v t="$type" -v k="$good" '$1==f && $2==t && $3==k {print $4}' "$tsv")
        be=$(awk -F'\t' -v f="$fw" -v t="$type" -v k="$bad" '$1==f && $2==t && $3==k {print $4}' "$tsv")
        why=$(awk -F'\t' -v f="$fw" -v t="$type" -v k="$bad" '$1==f && $2==t && $3==k {print $5 ": " $13}' "$tsv")
        # clean: all RAM, no hole, no SeaBIOS warning
        clean=$(awk -F'\t' -v f="$fw" -v t="$type" '$1==f && $2==t && $5=="all-ram" && $11==0 && $3>m {m=$3} END {print m+0}' "$tsv")
        printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$fw" "$type" "$good" "${ge:--}" "$bad" "${be:--}" "${why:--}" "$clean"
    done
} >"$md"
cat "$md"
