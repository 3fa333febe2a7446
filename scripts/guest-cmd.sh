# A guest scenario's QEMU command line, and how it is shown.
# Called by: sourced by guest-run.sh.
#
# The QEMU command line of a guest scenario (scripts/guest-scenarios.sh
# sets the scenario's variables), and how it is shown to a reader.
# Sourced by scripts/guest-run.sh, not run; it reads QEMU, QEMU_BASE,
# QEMU_SPMEM, OVERRIDE and the GUEST_* asset paths (scripts/guest-assets.sh) from it.
# shellcheck shell=bash
# shellcheck disable=SC2154  # the scenario's variables and the assets

# qemu_cmd TMPDIR LOG: the QEMU command line, in array cmd
qemu_cmd() {
    local tmp=$1 log=$2 i mib type opt append bin=$QEMU bios
    local mopt="$machine,max-ram-below-4g=${below4g}M"
    local kvar=GUEST_KERNEL_${kernel//./_} ivar=GUEST_INITRD_${kernel//./_}
    [ "$hmat" = 1 ] && mopt+=",hmat=on"
    local mem="${total_mib}M"
    [ "$qemu" = base ] && bin=$QEMU_BASE
    # sp-mem devices live in the device-memory region, sized by maxmem
    [ "$qemu" = spmem ] && bin=$QEMU_SPMEM mem="${ram_mib}M,maxmem=$((total_mib + gap_mib))M"
    cmd=("$bin" -machine "$mopt" -accel tcg
         -cpu qemu64 -smp 1 -m "$mem")
    for i in "${!nodes[@]}"; do
        mib=${nodes[i]%%:*} type=${nodes[i]#*:}
        cmd+=(-object "memory-backend-ram,id=m$i,size=${mib}M")
    done
    for i in "${!extra[@]}"; do
        cmd+=(-object "memory-backend-ram,id=x$i,size=${extra[i]#*:}M")
    done
    for i in "${!nodes[@]}"; do
        type=${nodes[i]#*:}
        opt="node,nodeid=$i,memdev=m$i"
        if [ "$qemu" = spmem ] && [ "$type" = spm ]; then
            # a memoryless node; its memory is the sp-mem device below
            opt="node,nodeid=$i"
            type=-
        fi
        [ "$i" = 0 ] && opt+=",cpus=0"
        [ "$hmat" = 1 ] && opt+=",initiator=0"
        if [ -n "$OVERRIDE" ] && [ "$type" != - ] && [ "$type" != normal ]; then
            type=$OVERRIDE
            [ "$type" = none ] && type=-
        fi
        # the unpatched QEMU knows no memmap-type (and has only normal)
        [ "$type" = - ] || [ "$qemu" != patched ] || opt+=",memmap-type=$type"
        cmd+=(-numa "$opt")
    done
    if [ "$qemu" = spmem ]; then
        for i in "${!nodes[@]}"; do
            [ "${nodes[i]#*:}" = spm ] || continue
            opt="sp-mem,id=sp$i,memdev=m$i,node=$i"
            [ "$gap" = 0 ] || opt+=$(printf ',addr=0x%x' "${node_start[i]}")
            cmd+=(-device "$opt")
        done
        for i in "${!extra[@]}"; do
            cmd+=(-device "sp-mem,id=spx$i,memdev=x$i,node=${extra[i]%%:*}")
        done
    fi
    if [ "$firmware" = ovmf ]; then
        cp "$GUEST_OVMF_VARS" "$tmp/OVMF_VARS.fd"
        cmd+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$GUEST_OVMF_CODE"
              -drive "if=pflash,format=raw,unit=1,file=$tmp/OVMF_VARS.fd")
    else
        # SeaBIOS's debug output (its e820 dump) goes to the same log.
        bios=$GUEST_SEABIOS
        [ "$firmware" = sbp ] && bios=$GUEST_SEABIOS_PATCHED
        [ "$firmware" = sbs ] && bios=$GUEST_SEABIOS_STOCK
        cmd+=(-bios "$bios"
              -chardev "file,id=fwdbg,path=$log,append=on"
              -device "isa-debugcon,iobase=0x402,chardev=fwdbg")
    fi
    if [ "$boot" = kernel ]; then
        append="console=ttyS0 panic=-1 oops=panic"
        [ "$firmware" = ovmf ] && append+=" efi=debug"
        [ "$online" = 1 ] && append+=" memmap_demo=online"
        cmd+=(-kernel "${!kvar}" -initrd "${!ivar}" -append "$append")
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
