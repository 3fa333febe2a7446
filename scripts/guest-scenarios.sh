# The guest scenarios of scripts/guest-run.sh: what each one boots, where
# its nodes lie, and which checks of tests/guest/parse_report.py that
# implies.  Sourced, not run.
# shellcheck shell=bash

# Guest kernels (guest.lock: kernel = 6.1, kernel612 = 6.12, kernel72 = 7.2)
KERNELS=(6.1 6.12 7.2)
SCENARIOS=(q35-ovmf-spm q35-ovmf-reserved q35-ovmf-normal q35-ovmf-two-spm
           q35-ovmf-two-spm-nohmat pc-ovmf-spm
           q35-sbp-spm q35-sbp-reserved q35-sbp-normal q35-sbp-two-spm-nohmat
           pc-sbp-spm base-qemu-sbp sbp-table-full
           seabios-spm-reserved seabios-kernel)
for k in "${KERNELS[@]:1}"; do
    SCENARIOS+=("q35-ovmf-spm-k$k" "q35-sbp-spm-k$k")
done
unset k
GiB=$((1 << 30))
MiB=$((1 << 20))

# define NAME: the scenario's configuration.
#   machine   q35 | pc
#   firmware  ovmf (pflash from ovmf-generic) | seabios (the pinned stock
#             bios-256k.bin) | sbp (SeaBIOS with patches/seabios/, built
#             by scripts/seabios.sh)
#   qemu      patched (QEMU) | base (QEMU_BASE, the unpatched build: no
#             memmap-type option on its command line)
#   kernel    guest kernel, one of KERNELS (NAME-kVERSION picks it)
#   boot      kernel (-kernel/-initrd) | firmware (no OS: SeaBIOS's own map)
#   below4g   -machine max-ram-below-4g, MiB
#   nodes     "MiB:type" per NUMA node, node id = index; type "-" means
#             no memmap-type option (the default, normal)
#   online    1: the guest onlines its dax devices through kmem
#   hmat      1: -machine hmat=on (ACPI HMAT; every node initiator=0)
#   merge     1: the firmware is expected to merge adjacent spm ranges
#   full      1: more spm nodes than SeaBIOS's e820 map can take
define() {
    local name=$1 k=6.1
    case $name in
    *-k[0-9]*) k=${name##*-k}; name=${name%-k*} ;;
    esac
    machine=q35 firmware=ovmf qemu=patched kernel=$k boot=kernel below4g=2048
    online=0 hmat=0 merge=0 full=0
    case $name in
    q35-ovmf-spm)
        nodes=(2048:- 1024:spm); online=1
        desc="q35 + OVMF: one spm node, onlined as RAM through kmem" ;;
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
    pc-ovmf-spm)
        machine=pc; nodes=(2048:- 1024:spm)
        desc="pc (i440fx) + OVMF: one spm node" ;;
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
    sbp-table-full)
        firmware=sbp boot=firmware full=1; nodes=(2048:-)
        local i
        for ((i = 1; i < 128; i++)); do nodes+=(128:spm); done
        desc="q35 + patched SeaBIOS (no OS): 127 spm nodes overflow its 128-entry map; RAM must survive" ;;
    seabios-spm-reserved)
        firmware=seabios boot=firmware; nodes=(2048:- 512:spm 512:reserved)
        desc="q35 + stock SeaBIOS (no OS): SeaBIOS's e820 map for an spm and a reserved node" ;;
    seabios-kernel)
        firmware=seabios; nodes=(2048:- 512:spm 512:reserved)
        desc="q35 + stock SeaBIOS, -kernel: the guest's map for an spm and a reserved node" ;;
    *)
        die "unknown scenario '$1' (scripts/guest-run.sh --list)" ;;
    esac
    case " ${KERNELS[*]} " in
    *" $kernel "*) ;;
    *) die "unknown guest kernel '$kernel' in scenario '$1' (kernels: ${KERNELS[*]})" ;;
    esac
    [ "$kernel" = 6.1 ] || desc+=" (Linux $kernel)"
}

# layout: guest-physical start of each node (node_start[], node_size[],
# node_type[]), as the PC machine packs node memory in node-id order:
# RAM offset o is at o below 4 GiB (o < below4g), else at
# 4 GiB + (o - below4g).  (AMD's move of high RAM to 1 TiB only happens
# when RAM reaches the HyperTransport hole; not with these sizes.)
layout() {
    local i mib type off=0 size below=$((below4g * MiB)) start
    node_start=() node_size=() node_type=()
    total_mib=0
    for i in "${!nodes[@]}"; do
        mib=${nodes[i]%%:*} type=${nodes[i]#*:}
        size=$((mib * MiB))
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
}

# checks: the parse_report.py checks implied by the configuration
checks() {
    local i s z t spm=0 first=-1 span=0 fw=$firmware
    checks=()
    [ "$boot" = kernel ] && checks+=("done")
    if [ "$full" = 1 ]; then
        # patches/seabios/ keeps 24 of BUILD_MAX_E820 = 128 entries for
        # itself and every entry of etc/e820 that is not soft reserved:
        # here the RAM below 4 GiB and, with the AMD qemu64 CPU, the
        # HyperTransport range; the lowest spm nodes fill the rest.
        local kept=$((128 - 24 - 2))
        checks=("bios-limit:$kept:${node_start[1]}:${node_size[1]}:$((${#nodes[@]} - 1))"
                "bios-ram:0x100000:${node_size[0]}")
        return
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
        ovmf/kernel/normal | sbp/kernel/normal) checks+=("normal:$i:$s:$z") ;;
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
        seabios/kernel/reserved | sbp/kernel/reserved)
            checks+=("bios-reserved:$s:$z" "reserved:$i:$s:$z") ;;
        seabios/kernel/spm) checks+=("bios-absent:$s:$z" "absent:$i:$s:$z") ;;
        seabios/firmware/spm) checks+=("bios-absent:$s:$z") ;;
        seabios/firmware/reserved) checks+=("bios-reserved:$s:$z") ;;
        *) die "scenario error: no checks for $fw/$boot/$t" ;;
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
