#!/bin/bash
# Boot a Linux guest under TCG with -numa node,...,memmap-type= and assert
# what the guest sees of its memory map (tests/guest/init prints a report,
# tests/guest/parse_report.py checks it).  Expected addresses, sizes and
# node ids are computed here from each scenario's configuration.
#
#   scripts/guest-run.sh SCENARIO   run one scenario (exit 0 pass, 1 fail, 77 skip)
#   scripts/guest-run.sh --all      run every scenario; last line
#                                   "guest: N passed, N failed, N skipped"
#   scripts/guest-run.sh --demo     scenario q35-ovmf-spm, shown for humans
#   scripts/guest-run.sh --list     list the scenarios
#
# Environment: QEMU (default tree/build/qemu-system-x86_64), GUEST_LOCK
# (default guest.lock, read by guest-assets.sh),
# GUEST_TIMEOUT (seconds per boot, default 60), GUEST_MEMMAP_TYPE_OVERRIDE
# (negative testing: give every non-normal node this memmap-type on the QEMU
# command line, or none at all with "none", while the checks still expect
# the scenario's types).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

QEMU=${QEMU:-$ROOT/tree/build/qemu-system-x86_64}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-60}
OVERRIDE=${GUEST_MEMMAP_TYPE_OVERRIDE:-}
PARSER=$ROOT/tests/guest/parse_report.py
G=$CACHE/guest
SCENARIOS=(q35-ovmf-spm q35-ovmf-reserved q35-ovmf-normal q35-ovmf-two-spm
           q35-ovmf-two-spm-nohmat pc-ovmf-spm seabios-spm-reserved seabios-kernel)
GiB=$((1 << 30))
MiB=$((1 << 20))

# define NAME: the scenario's configuration.
#   machine   q35 | pc
#   firmware  ovmf (pflash from ovmf-generic) | seabios (pinned bios-256k.bin)
#   boot      kernel (-kernel/-initrd) | firmware (no OS: SeaBIOS's own map)
#   below4g   -machine max-ram-below-4g, MiB
#   nodes     "MiB:type" per NUMA node, node id = index; type "-" means
#             no memmap-type option (the default, normal)
#   online    1: the guest onlines its dax devices through kmem
#   hmat      1: -machine hmat=on (ACPI HMAT; every node initiator=0)
#   merge     1: the firmware is expected to merge adjacent spm ranges
define() {
    machine=q35 firmware=ovmf boot=kernel below4g=2048 online=0 hmat=0 merge=0
    case $1 in
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
    seabios-spm-reserved)
        firmware=seabios boot=firmware; nodes=(2048:- 512:spm 512:reserved)
        desc="q35 + SeaBIOS (no OS): SeaBIOS's e820 map for an spm and a reserved node" ;;
    seabios-kernel)
        firmware=seabios; nodes=(2048:- 512:spm 512:reserved)
        desc="q35 + SeaBIOS, -kernel: the guest's map for an spm and a reserved node" ;;
    *)
        die "unknown scenario '$1' (scripts/guest-run.sh --list)" ;;
    esac
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
    local i s z t spm=0 first=-1 span=0
    checks=()
    [ "$boot" = kernel ] && checks+=("done")
    for i in "${!nodes[@]}"; do
        s=${node_start[i]} z=${node_size[i]} t=${node_type[i]}
        case $firmware/$boot/$t in
        */-) ;;
        ovmf/kernel/normal) checks+=("normal:$i:$s:$z") ;;
        ovmf/kernel/spm)
            spm=1
            [ "$first" -ge 0 ] || first=$i
            span=$((s + z - node_start[first]))
            checks+=("published:$i:$s:$z:0xefffffff")
            # Without HMAT the guest cannot split a merged range by node.
            if [ "$merge" = 0 ] || [ "$hmat" = 1 ]; then
                checks+=("spm:$i:$s:$z")
            fi
            [ "$online" = 1 ] && checks+=("online:$i:$z") ;;
        ovmf/kernel/reserved) checks+=("published:$i:$s:$z:2" "reserved:$i:$s:$z") ;;
        seabios/kernel/reserved)
            checks+=("published:$i:$s:$z:2" "bios-reserved:$s:$z" "reserved:$i:$s:$z") ;;
        seabios/kernel/spm)
            checks+=("published:$i:$s:$z:0xefffffff" "bios-absent:$s:$z" "absent:$i:$s:$z") ;;
        seabios/firmware/spm) checks+=("bios-absent:$s:$z") ;;
        seabios/firmware/reserved) checks+=("bios-reserved:$s:$z") ;;
        *) die "scenario error: no checks for $firmware/$boot/$t" ;;
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

# qemu_cmd TMPDIR LOG: the QEMU command line, in array cmd
qemu_cmd() {
    local tmp=$1 log=$2 i mib type opt append
    local mopt="$machine,max-ram-below-4g=${below4g}M"
    [ "$hmat" = 1 ] && mopt+=",hmat=on"
    cmd=("$QEMU" -machine "$mopt" -accel tcg
         -cpu qemu64 -smp 1 -m "${total_mib}M")
    for i in "${!nodes[@]}"; do
        mib=${nodes[i]%%:*} type=${nodes[i]#*:}
        cmd+=(-object "memory-backend-ram,id=m$i,size=${mib}M")
    done
    for i in "${!nodes[@]}"; do
        type=${nodes[i]#*:}
        opt="node,nodeid=$i,memdev=m$i"
        [ "$i" = 0 ] && opt+=",cpus=0"
        [ "$hmat" = 1 ] && opt+=",initiator=0"
        if [ -n "$OVERRIDE" ] && [ "$type" != - ] && [ "$type" != normal ]; then
            type=$OVERRIDE
            [ "$type" = none ] && type=-
        fi
        [ "$type" = - ] || opt+=",memmap-type=$type"
        cmd+=(-numa "$opt")
    done
    if [ "$firmware" = ovmf ]; then
        cp "$GUEST_OVMF_VARS" "$tmp/OVMF_VARS.fd"
        cmd+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$GUEST_OVMF_CODE"
              -drive "if=pflash,format=raw,unit=1,file=$tmp/OVMF_VARS.fd")
    else
        # SeaBIOS's debug output (its e820 dump) goes to the same log.
        cmd+=(-bios "$GUEST_SEABIOS"
              -chardev "file,id=fwdbg,path=$log,append=on"
              -device "isa-debugcon,iobase=0x402,chardev=fwdbg")
    fi
    if [ "$boot" = kernel ]; then
        append="console=ttyS0 panic=-1 oops=panic"
        [ "$firmware" = ovmf ] && append+=" efi=debug"
        [ "$online" = 1 ] && append+=" memmap_demo=online"
        cmd+=(-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$append")
    else
        # No boot device: SeaBIOS prints its map, fails to boot, resets
        # at once (reboot-timeout=0), and -no-reboot ends QEMU.
        cmd+=(-boot "strict=on,reboot-timeout=0")
    fi
    cmd+=(-nodefaults -display none -no-reboot
          -chardev "file,id=con,path=$log,append=on" -serial chardev:con)
}

# quote ARG: ARG as a shell word (single quotes only where needed)
quote() {
    if [[ $1 =~ ^[][A-Za-z0-9_./=,:+@%-]+$ ]]; then
        printf '%s' "$1"
    else
        printf "'%s'" "${1//\'/\'\\\'\'}"
    fi
}

# show_cmd: the command line, one option per line
show_cmd() {
    local a out="" first=1
    for a in "${cmd[@]}"; do
        if [ $first = 1 ]; then out=$(quote "$a"); first=0
        elif [ "${a:0:1}" = - ]; then out+=$' \\\n      '$(quote "$a")
        else out+=" $(quote "$a")"
        fi
    done
    printf '    %s\n' "$out"
}

# prereqs: empty if the scenarios can run, else the reason
prereq_reason=""
prereqs() {
    [ -x "$QEMU" ] || { prereq_reason="no QEMU binary at $QEMU (make build, or set QEMU=)"; return; }
    command -v python3 >/dev/null || { prereq_reason="python3 not found"; return; }
    local alog=$LOGS/guest-assets.log
    if ! "$ROOT/scripts/guest-assets.sh" 2>"$alog"; then
        prereq_reason="guest assets unavailable: $(grep '^error:' "$alog" | tail -1) (log: $alog)"
        return
    fi
    cat "$alog" >&2
    # shellcheck source=/dev/null
    . "$G/assets.env"
}

# run NAME [demo]: one scenario; sets result (PASS|FAIL|SKIP), boot_secs
run() {
    local name=$1 mode=${2:-} log tmp rc t0 t1 i
    define "$name"; layout; checks
    result=FAIL boot_secs=-
    if [ -n "$prereq_reason" ]; then
        echo "SKIP $name: $prereq_reason"
        result=SKIP
        return
    fi
    log=$LOGS/guest-$name.log
    mkdir -p "$G/tmp"
    tmp=$(mktemp -d "$G/tmp/$name.XXXXXX")
    qemu_cmd "$tmp" "$log"
    {
        echo "# scenario $name: $desc"
        [ -n "$OVERRIDE" ] && echo "# GUEST_MEMMAP_TYPE_OVERRIDE=$OVERRIDE"
        printf '# %s' "$(quote "${cmd[0]}")"
        for i in "${cmd[@]:1}"; do printf ' %s' "$(quote "$i")"; done
        echo
    } >"$log"
    [ "$mode" = demo ] || say "guest: $name: $desc"
    [ -n "$OVERRIDE" ] && say "guest: NEGATIVE TEST: QEMU is given memmap-type=$OVERRIDE for every non-normal node; the checks expect the scenario's types"
    if [ "$mode" = demo ]; then
        echo "QEMU command line:"
        show_cmd
    fi
    for i in "${!nodes[@]}"; do
        [ "${node_type[i]}" = - ] && continue
        printf '  node %d: %s, memmap-type=%s, guest-physical [0x%x-0x%x]\n' "$i" \
            "$(( node_size[i] / MiB )) MiB" "${node_type[i]}" "${node_start[i]}" \
            "$(( node_start[i] + node_size[i] - 1 ))"
    done
    t0=$(date +%s%N)
    rc=0
    timeout --kill-after=5 "$GUEST_TIMEOUT" "${cmd[@]}" </dev/null >>"$log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    boot_secs=$(printf '%d.%d' $(( (t1 - t0) / 1000000000 )) $(( (t1 - t0) / 100000000 % 10 )))
    rm -rf "$tmp"
    local ok=1
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "  FAIL  boot timed out after ${GUEST_TIMEOUT} s"; ok=0
    elif [ "$rc" != 0 ]; then
        echo "  FAIL  QEMU exited with status $rc"; ok=0
    fi
    if [ "$mode" = demo ] && [ "$rc" = 0 ]; then
        echo "What the guest saw (node 1):"
        python3 "$PARSER" "$log" --demo "1:${node_start[1]}:${node_size[1]}" | sed 's/^/  /' || true
        echo "Checks:"
    fi
    python3 "$PARSER" "$log" "${checks[@]}" || ok=0
    if [ $ok = 1 ]; then
        result=PASS
        echo "PASS $name (boot ${boot_secs} s; log $log)"
    else
        echo "---- last 40 lines of $log ----"
        tail -40 "$log" | cut -c1-200
        echo "FAIL $name (boot ${boot_secs} s; log $log)"
    fi
}

demo() {
    prereqs
    [ -z "$prereq_reason" ] || die "$prereq_reason"
    define q35-ovmf-spm; layout
    echo "memmap-type=spm demo: q35 + OVMF ($GUEST_OVMF_PKG), Linux ($GUEST_KERNEL_PKG), TCG"
    run q35-ovmf-spm demo
    local gib=$((node_size[1] / GiB))
    if [ "$result" = PASS ]; then
        printf 'verdict: PASS: memmap-type=spm works: node 1 (%d GiB at 0x%x) reached Linux as soft-reserved memory, became a dax device on node 1, and was onlined as node 1 RAM (boot %s s)\n' \
            "$gib" "${node_start[1]}" "$boot_secs"
    else
        printf 'verdict: FAIL: the guest did not see node 1 as soft-reserved memory as expected (log %s)\n' \
            "$LOGS/guest-q35-ovmf-spm.log"
        exit 1
    fi
}

all() {
    local name pass=0 fail=0 skip=0 summary=()
    prereqs
    for name in "${SCENARIOS[@]}"; do
        run "$name"
        case $result in
        PASS) pass=$((pass + 1)) ;;
        FAIL) fail=$((fail + 1)) ;;
        SKIP) skip=$((skip + 1)) ;;
        esac
        summary+=("$(printf '  %-4s %-24s %s s' "$result" "$name" "$boot_secs")")
    done
    echo "summary (boot wall time under TCG):"
    printf '%s\n' "${summary[@]}"
    echo "guest: $pass passed, $fail failed, $skip skipped"
    [ "$fail" = 0 ]
}

case "${1:-}" in
--all) all ;;
--demo) demo ;;
--list)
    for s in "${SCENARIOS[@]}"; do define "$s"; printf '%-22s %s\n' "$s" "$desc"; done ;;
"" | -*) die "usage: $0 SCENARIO | --all | --demo | --list" ;;
*)
    define "$1"
    prereqs
    run "$1"
    case $result in PASS) exit 0 ;; SKIP) exit 77 ;; *) exit 1 ;; esac ;;
esac
