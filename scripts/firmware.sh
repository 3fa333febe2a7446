#!/bin/bash
# Link run-time firmware (Debian's; SeaBIOS from source) into a build's bundle.
# Called by: build.sh.
#
# Link run-time firmware from Debian packages (ipxe-qemu,
# qemu-system-data) and the default BIOS, SeaBIOS 1.17.0 built from its
# pinned source, into BUILD/qemu-bundle, where a QEMU binary run from
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
# The default BIOS is the SeaBIOS QEMU 10.2.2 bundles, 1.17.0 (see
# seabios.lock), built from its pinned source with QEMU's own configs
# (scripts/seabios.sh --stock), not bookworm's 1.16.2: bios-tables-test's
# expected tables were made with the bundled one, and 1.16.2 places the
# NVDIMM DSM buffer elsewhere (SSDT.dimmpxm: MEMA 0x07FFF000, expected
# 0x07FFE000, measured 2026-12-02, on the unpatched base too).
stock=$("$ROOT/scripts/seabios.sh" --stock 2>>"$LOGS/seabios-stock.log") ||
    die "stock SeaBIOS does not build (log: $LOGS/seabios-stock.log)"
ln -sfn "$stock/bios-256k.bin" "$dest/bios-256k.bin"
ln -sfn "$stock/bios.bin" "$dest/bios.bin"
for f in bios.bin bios-256k.bin kvmvapic.bin linuxboot_dma.bin pvh.bin efi-e1000e.rom; do
    [ -e "$dest/$f" ] || die "firmware $f not found (install seabios, ipxe-qemu, qemu-system-data)"
done
