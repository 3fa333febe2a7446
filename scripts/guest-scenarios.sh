# The guest scenarios: configuration, layout, expected checks.
# Called by: sourced by guest-run.sh and compare.sh.
#
# The guest scenarios of scripts/guest-run.sh: what each one boots, where
# its nodes lie, and which checks of tests/guest/parse_report.py that
# implies.  Sourced, not run.
# shellcheck shell=bash

# Guest kernels (guest.lock: kernel = 6.1, kernel612 = 6.12, kernel72 = 7.2)
KERNELS=(6.1 6.12 7.2)
SCENARIOS=(q35-ovmf-spm q35-ovmf-spm-4g q35-ovmf-reserved q35-ovmf-normal q35-ovmf-two-spm
           q35-ovmf-two-spm-nohmat pc-ovmf-spm q35-ovmf-spm-2m q35-spm-unaligned
           q35-sbp-spm q35-sbp-reserved q35-sbp-normal q35-sbp-two-spm-nohmat
           pc-sbp-spm base-qemu-sbp
           seabios-spm-reserved seabios-kernel
           spmem-q35-sbp-spm spmem-q35-sbp-two-spm-nohmat spmem-q35-seabios-spm
           cap-sbs-reserved cap-sbp-reserved cap-sbp-spm cap-ovmf-reserved
           cap-ovmf-spm cap-refuse)
for k in "${KERNELS[@]:1}"; do
    SCENARIOS+=("q35-ovmf-spm-k$k" "q35-sbp-spm-k$k")
done
unset k
# The scenarios of scripts/compare.sh (make compare): the same guest
# with this series' memmap-type and with upstream's -device sp-mem
# ("spmem-" names), question by question (tests/compare/questions.tsv)
# shellcheck disable=SC2034  # read by scripts/compare.sh
COMPARE_PAIRS=(one-spm-ovmf:q35-ovmf-spm one-spm-sbp:q35-sbp-spm
               one-spm-seabios:q35-seabios-spm one-spm-k6.12:q35-ovmf-spm-k6.12
               one-spm-k7.2:q35-ovmf-spm-k7.2 two-spm-hmat:q35-ovmf-two-spm
               two-spm-nohmat:q35-ovmf-two-spm-nohmat
               spm-normal-node:q35-ovmf-spm-normal
               addr-gap-guest:q35-ovmf-two-spm-gap)
GiB=$((1 << 30))
MiB=$((1 << 20))

# define NAME: the scenario's configuration.
#   machine   q35 | pc
#   firmware  ovmf (pflash from ovmf-generic) | seabios (the pinned stock
#             bios-256k.bin, 1.16.2) | sbp (SeaBIOS with patches/seabios/,
#             built by scripts/seabios.sh) | sbs (stock SeaBIOS 1.17.0,
#             the same source without the series: scripts/seabios.sh --stock)
#   qemu      patched (QEMU) | base (QEMU_BASE, the unpatched build: no
#             memmap-type option on its command line) | spmem (QEMU_SPMEM,
#             Debian sid's QEMU 11.1.3, scripts/spmem-qemu.sh: every spm
#             node is a memoryless -numa node with a -device sp-mem on it;
#             the scenario's name starts with "spmem-")
#   kernel    guest kernel, one of KERNELS (NAME-kVERSION picks it)
#   boot      kernel (-kernel/-initrd) | firmware (no OS: SeaBIOS's own map)
#   below4g   -machine max-ram-below-4g, MiB
#   nodes     "MiB:type" per NUMA node, node id = index; type "-" means
#             no memmap-type option (the default, normal)
#   online    1: the guest onlines its dax devices through kmem
#   hmat      1: -machine hmat=on (ACPI HMAT; every node initiator=0)
#   merge     1: the firmware is expected to merge adjacent spm ranges
#   refuse    1: QEMU must refuse the configuration (exit status 1 and
#             the error line that checks() derives), nothing boots
#   ramtotal  1: also check that the guest's usable RAM is all the
#             normal memory QEMU was given (parse_report.py's ram check)
#   gap       MiB left free between two sp-mem devices (qemu spmem only:
#             each device then gets its addr=, and maxmem the gaps)
#   extra     "node:MiB" per additional sp-mem device on a node that has
#             RAM of its own (qemu spmem only: memmap-type has one type
#             per node and cannot say this)
define() {
    local name=$1 k=6.1
    case $name in
    *-k[0-9]*) k=${name##*-k}; name=${name%-k*} ;;
    esac
    machine=q35 firmware=ovmf qemu=patched kernel=$k boot=kernel below4g=2048
    online=0 hmat=0 merge=0 refuse=0 ramtotal=0 gap=0 extra=()
    case $name in spmem-*) qemu=spmem; name=${name#spmem-} ;; esac
    case $name in
    q35-ovmf-spm)
        nodes=(2048:- 1024:spm); online=1
        desc="q35 + OVMF: one spm node, onlined as RAM through kmem" ;;
    q35-ovmf-spm-4g)
        # the example of the series' qemu-options documentation (patch 8)
        nodes=(2048:- 4096:spm)
        desc="q35 + OVMF: qemu-options' example, 2 GiB normal and 4 GiB spm at 4 GiB" ;;
    q35-ovmf-reserved)
        nodes=(2048:- 1024:reserved)
        desc="q35 + OVMF: one reserved node" ;;
    q35-ovmf-normal)
        nodes=(2048:- 1024:normal)
        desc="q35 + OVMF: memmap-type=normal above 4 GiB" ;;
    q35-ovmf-two-spm)
        nodes=(2048:- 512:spm 512:spm); hmat=1 merge=1
        desc="q35 + OVMF + HMAT: two adjacent spm nodes, one dax device each" ;;
    q35-ovmf-two-spm-nohmat)
        nodes=(2048:- 512:spm 512:spm); merge=1
        desc="q35 + OVMF, no HMAT: two adjacent spm nodes end up as one dax device" ;;
    q35-ovmf-two-spm-gap)
        # kept apart by a 2 MiB reserved node (memmap-type, which has no
        # address option) or by addr= (sp-mem)
        if [ "$qemu" = spmem ]; then
            nodes=(2048:- 512:spm 512:spm); gap=2
        else
            nodes=(2048:- 512:spm 2:reserved 512:spm)
        fi
        desc="q35 + OVMF, no HMAT: two spm ranges 2 MiB apart, one dax device each" ;;
    pc-ovmf-spm)
        machine=pc; nodes=(2048:- 1024:spm)
        desc="pc (i440fx) + OVMF: one spm node" ;;
    q35-ovmf-spm-2m)
        nodes=(2048:- 1026:spm)
        desc="q35 + OVMF: an spm node of 1026 MiB (2 MiB aligned, not 4 MiB): still one dax device" ;;
    q35-spm-unaligned)
        nodes=(2048:- 1025:spm); refuse=1
        desc="q35: an spm node of 1025 MiB (not 2 MiB aligned) is refused with an error" ;;
    q35-sbp-spm)
        firmware=sbp; nodes=(2048:- 1024:spm); online=1
        desc="q35 + patched SeaBIOS: one spm node, onlined as RAM through kmem" ;;
    q35-sbp-reserved)
        firmware=sbp; nodes=(2048:- 1024:reserved)
        desc="q35 + patched SeaBIOS: one reserved node" ;;
    q35-sbp-normal)
        firmware=sbp; nodes=(2048:- 1024:normal)
        desc="q35 + patched SeaBIOS: memmap-type=normal above 4 GiB" ;;
    q35-sbp-two-spm-nohmat)
        firmware=sbp; nodes=(2048:- 512:spm 512:spm)
        desc="q35 + patched SeaBIOS, no HMAT: two adjacent spm nodes, one dax device each" ;;
    pc-sbp-spm)
        machine=pc firmware=sbp; nodes=(2048:- 1024:spm)
        desc="pc (i440fx) + patched SeaBIOS: one spm node" ;;
    base-qemu-sbp)
        qemu=base firmware=sbp; nodes=(2048:- 1024:normal)
        desc="unpatched QEMU + patched SeaBIOS: boots as with stock SeaBIOS" ;;
    q35-seabios-spm)
        firmware=seabios; nodes=(2048:- 1024:spm)
        desc="q35 + stock SeaBIOS, -kernel: one spm node" ;;
    q35-ovmf-spm-normal)
        [ "$qemu" = spmem ] || die "scenario error: memmap-type gives a node one type; spm and normal memory on one node cannot be said (scripts/compare-probes.sh records QEMU's answer)"
        nodes=(2048:- 512:normal); extra=(1:512)
        desc="q35 + OVMF: node 1 has 512 MiB of RAM and a 512 MiB sp-mem device" ;;
    seabios-spm-reserved)
        firmware=seabios boot=firmware; nodes=(2048:- 512:spm 512:reserved)
        desc="q35 + stock SeaBIOS (no OS): SeaBIOS's e820 map for an spm and a reserved node" ;;
    seabios-kernel)
        firmware=seabios; nodes=(2048:- 512:spm 512:reserved)
        desc="q35 + stock SeaBIOS, -kernel: the guest's map for an spm and a reserved node" ;;
    cap-*)
        # the e820 capacity rule: cap-FIRMWARE-TYPE[-K] is node 0 (2 GiB,
        # all below 4 GiB), then K TYPE nodes alternating with K-1 normal
        # ones above 4 GiB, 32 MiB each: 2K entries by QEMU's count.  With
        # K given (scripts/capacity.sh) that is all; without, K is 18 and
        # one more normal node follows: 2K + 1 = 37 entries, the most QEMU
        # accepts.  cap-refuse is K = 19 (38 entries), refused.
        local cfw ctype ck=18 ctail=0 i
        case $name in
        cap-refuse) cfw=sbp ctype=reserved ck=19 refuse=1 ;;
        cap-*-*-*) IFS=- read -r _ cfw ctype ck <<<"$name" ;;
        *) IFS=- read -r _ cfw ctype <<<"$name"; ctail=1 ;;
        esac
        case $cfw/$ctype/$ck in
        seabios/*/* | sbs/*/* | sbp/*/* | ovmf/*/*) ;;
        *) die "unknown scenario '$1' (cap-{seabios,sbs,sbp,ovmf}-{reserved,spm}[-K])" ;;
        esac
        if ! [[ $ctype =~ ^(reserved|spm)$ && $ck =~ ^[1-9][0-9]*$ ]] || ((2 * ck > 128)); then
            die "unknown scenario '$1' (TYPE reserved or spm, 1 <= K <= 64: QEMU has at most 128 nodes)"
        fi
        firmware=$cfw ramtotal=1; nodes=(2048:-)
        local -A fwname=([seabios]="stock SeaBIOS 1.16.2" [sbs]="stock SeaBIOS 1.17.0"
                         [sbp]="patched SeaBIOS" [ovmf]=OVMF)
        for ((i = 1; i < 2 * ck + ctail; i++)); do
            if ((i % 2)); then nodes+=("32:$ctype"); else nodes+=(32:-); fi
        done
        if [ "$ctail" = 1 ]; then
            desc="q35 + ${fwname[$cfw]}: $ck $ctype nodes, each followed by a normal one, 32 MiB each ($((2 * ck + 1)) memory map entries, the most QEMU accepts)"
        else
            desc="q35 + ${fwname[$cfw]}: $ck $ctype nodes between $((ck - 1)) normal ones, 32 MiB each ($((2 * ck)) memory map entries)"
        fi
        [ "$refuse" = 1 ] && desc+=", more than QEMU accepts: refused"
        [ "$refuse" = 1 ] || desc+=": every MiB of RAM reaches the guest" ;;
    *)
        die "unknown scenario '$1' (scripts/guest-run.sh --list)" ;;
    esac
    case " ${KERNELS[*]} " in
    *" $kernel "*) ;;
    *) die "unknown guest kernel '$kernel' in scenario '$1' (kernels: ${KERNELS[*]})" ;;
    esac
    [ "$kernel" = 6.1 ] || desc+=" (Linux $kernel)"
    if [ "$qemu" = spmem ]; then
        [ "$refuse" = 0 ] || die "scenario error: spmem-$name: a refusal of the series"
        case " ${nodes[*]} " in
        *:reserved\ *) die "scenario error: -device sp-mem has no reserved type (spmem-$name)" ;;
        esac
        desc="-device sp-mem (QEMU 11.1.3): $desc"
    fi
}

# layout: guest-physical start of each node (node_start[], node_size[],
# node_type[]), as the PC machine packs node memory in node-id order:
# RAM offset o is at o below 4 GiB (o < below4g), else at
# 4 GiB + (o - below4g).  (AMD's move of high RAM to 1 TiB only happens
# when RAM reaches the HyperTransport hole; not with these sizes.)
# With sp-mem (qemu spmem), spm nodes are no RAM: their devices, then
# the extra ones (extra_start[], extra_size[], extra_node[]), follow
# each other in the device-memory region, which starts at the first
# GiB boundary at or above the end of RAM above 4 GiB (4 GiB when all
# RAM is below it).
layout() {
    local i mib type off=0 size below=$((below4g * MiB)) start dev placed=
    node_start=() node_size=() node_type=() extra_start=() extra_size=() extra_node=()
    total_mib=0 ram_mib=0 gap_mib=0
    if [ "$qemu" = spmem ]; then
        for i in "${!nodes[@]}"; do
            [ "${nodes[i]#*:}" = spm ] || ram_mib=$((ram_mib + ${nodes[i]%%:*}))
        done
        dev=$((4 * GiB + (ram_mib * MiB > below ? ram_mib * MiB - below : 0)))
        dev=$(( (dev + GiB - 1) / GiB * GiB ))
    fi
    for i in "${!nodes[@]}"; do
        mib=${nodes[i]%%:*} type=${nodes[i]#*:}
        size=$((mib * MiB))
        if [ "$qemu" = spmem ] && [ "$type" = spm ]; then
            if [ "$gap" != 0 ] && [ -n "$placed" ]; then
                dev=$((dev + gap * MiB)) gap_mib=$((gap_mib + gap))
            fi
            node_start[i]=$dev node_size[i]=$size node_type[i]=$type placed=1
            dev=$((dev + size)) total_mib=$((total_mib + mib))
            continue
        fi
        if [ $((off + size)) -le "$below" ]; then
            start=$off
        elif [ "$off" -ge "$below" ]; then
            start=$((4 * GiB + off - below))
        else
            die "scenario error: node $i spans the 4 GiB boundary"
        fi
        case $type in spm | reserved)
            [ "$start" -ge $((4 * GiB)) ] || die "scenario error: node $i ($type) below 4 GiB" ;;
        esac
        node_start[i]=$start node_size[i]=$size node_type[i]=$type
        off=$((off + size)) total_mib=$((total_mib + mib))
    done
    [ "$qemu" = spmem ] || ram_mib=$total_mib
    for i in "${!extra[@]}"; do
        mib=${extra[i]#*:}
        extra_node[i]=${extra[i]%%:*} extra_start[i]=$dev extra_size[i]=$((mib * MiB))
        dev=$((dev + mib * MiB)) total_mib=$((total_mib + mib))
    done
}

# checks: the parse_report.py checks implied by the configuration
checks() {
    local i s z t spm=0 first=-1 span=0 fw=$firmware more=()
    checks=()
    # more[node]: bytes of extra sp-mem devices on a node with RAM
    for i in "${!extra[@]}"; do
        more[${extra_node[i]}]=$(( ${more[${extra_node[i]}]:-0} + extra_size[i] ))
    done
    if [ "$refuse" = 1 ]; then
        # Linux's dax_hmem makes devices in 2 MiB units only, so the
        # series refuses an spm node whose start or size is not 2 MiB
        # aligned; the first such node is named
        for i in "${!nodes[@]}"; do
            s=${node_start[i]} z=${node_size[i]}
            if [ "${node_type[i]}" = spm ] && [ $(( (s | z) % (2 * MiB) )) != 0 ]; then
                checks=("$(printf 'NUMA node %d has memmap-type=spm but its memory at 0x%x of size 0x%x is not 2 MiB aligned' "$i" "$s" "$z")")
                return
            fi
        done
        # The firmware's e820 map is finite (OVMF 2026.08 boots with at
        # most 42 etc/e820 entries, and QEMU's other entries take up to
        # 5), so the series refuses more than 37 entries for the nodes'
        # boot RAM
        e820_count
        if [ "$entries" -gt 37 ]; then
            checks=("need $entries memory map entries, more than the 37")
            return
        fi
        die "scenario error: refuse=1 but no node breaks a rule"
    fi
    [ "$boot" = kernel ] && checks+=("done")
    if [ "$ramtotal" = 1 ]; then
        # RAM below 4 GiB (node 0, from 0) and the normal memory above it
        local low=0 high=0
        for i in "${!nodes[@]}"; do
            case ${node_type[i]} in spm | reserved) continue ;; esac
            if [ "${node_start[i]}" -lt $((4 * GiB)) ]; then
                low=$((low + node_size[i]))
            else
                high=$((high + node_size[i]))
            fi
        done
        checks+=("ram:$low:$high")
    fi
    for i in "${!nodes[@]}"; do
        s=${node_start[i]} z=${node_size[i]} t=${node_type[i]}
        # published: what QEMU put in etc/e820 (read by the guest)
        case $boot/$t in
        kernel/spm) checks+=("published:$i:$s:$z:0xefffffff") ;;
        kernel/reserved) checks+=("published:$i:$s:$z:2") ;;
        esac
        case $fw/$boot/$t in
        */-) ;;
        ovmf/kernel/normal | sbp/kernel/normal | sbs/kernel/normal) checks+=("normal:$i:$s:$z:${more[i]:-0}") ;;
        ovmf/kernel/spm | sbp/kernel/spm)
            spm=1
            [ "$first" -ge 0 ] || first=$i
            span=$((s + z - node_start[first]))
            [ "$fw" = sbp ] && checks+=("bios-spm:$s:$z")
            # Without HMAT the guest cannot split a merged range by node.
            if [ "$merge" = 0 ] || [ "$hmat" = 1 ]; then
                checks+=("spm:$i:$s:$z")
            fi
            [ "$online" = 1 ] && checks+=("online:$i:$z") ;;
        ovmf/kernel/reserved) checks+=("reserved:$i:$s:$z") ;;
        seabios/kernel/reserved | sbp/kernel/reserved | sbs/kernel/reserved)
            checks+=("bios-reserved:$s:$z" "reserved:$i:$s:$z") ;;
        seabios/kernel/spm | sbs/kernel/spm) checks+=("bios-absent:$s:$z" "absent:$i:$s:$z") ;;
        seabios/firmware/spm) checks+=("bios-absent:$s:$z") ;;
        seabios/firmware/reserved) checks+=("bios-reserved:$s:$z") ;;
        *) die "scenario error: no checks for $fw/$boot/$t" ;;
        esac
    done
    for i in "${!extra[@]}"; do
        s=${extra_start[i]} z=${extra_size[i]}
        checks+=("published:${extra_node[i]}:$s:$z:0xefffffff")
        case $fw in
        ovmf) spm=1; checks+=("spm:${extra_node[i]}:$s:$z:${node_size[extra_node[i]]}") ;;
        *) die "scenario error: extra sp-mem devices with $fw" ;;
        esac
    done
    if [ "$merge" = 1 ]; then
        checks+=("merged:${node_start[first]}:$span")
        [ "$hmat" = 1 ] || checks+=("one-device:$first:${node_start[first]}:$span")
    fi
    if [ "$boot" = kernel ] && [ "$spm" = 0 ]; then
        checks+=(nodax)
    fi
}

# e820_count: entries, the number of e820 entries the boot RAM of the
# nodes makes, counted as the series counts them: the RAM below 4 GiB is
# one entry, each run of adjacent normal nodes above it one more, each
# typed (spm, reserved) node one of its own
e820_count() {
    local i prev=typed
    entries=0
    for i in "${!nodes[@]}"; do
        case ${node_type[i]} in
        spm | reserved) entries=$((entries + 1)) prev=typed ;;
        *)
            if [ "${node_start[i]}" -lt $((4 * GiB)) ]; then
                [ "$prev" = low ] || entries=$((entries + 1))
                prev=low
            else
                [ "$prev" = high ] || entries=$((entries + 1))
                prev=high
            fi ;;
        esac
    done
}
