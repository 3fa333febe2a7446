#!/bin/bash
# Link run-time firmware from Debian packages (seabios, ipxe-qemu,
# qemu-system-data) into BUILD/qemu-bundle, where a QEMU binary run from
# the build tree (qtests included) looks for its data files.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
build=$1
datadir=$(sed -n "s/^#define CONFIG_QEMU_DATADIR \"\(.*\)\"$/\1/p" "$build/config-host.h")
[ -n "$datadir" ] || die "no CONFIG_QEMU_DATADIR in $build/config-host.h"
dest=$build/qemu-bundle$datadir
mkdir -p "$dest"
for dir in /usr/share/seabios /usr/lib/ipxe/qemu /usr/share/qemu; do
    for f in "$dir"/*.bin "$dir"/*.rom; do
        [ -e "$f" ] || continue
        b=$(basename "$f")
        [ -e "$dest/$b" ] || ln -sf "$f" "$dest/$b"
    done
done
for f in bios.bin bios-256k.bin kvmvapic.bin linuxboot_dma.bin pvh.bin efi-e1000e.rom; do
    [ -e "$dest/$f" ] || die "firmware $f not found (install seabios, ipxe-qemu, qemu-system-data)"
done
