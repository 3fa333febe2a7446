#!/bin/bash
# The firmware's 64-bit PCI window must stay clear of typed memory
# (tests/pciwin/pci_window.py): SeaBIOS boots under TCG with a 1 GiB
# 64-bit BAR and an spm, reserved or normal last node, with
#   bookworm's SeaBIOS 1.16.2 and the default CPU (qemu64, AMD), and
#   sid's SeaBIOS 1.17.0 with an Intel-vendor CPU, which it does not
#   trust for phys-bits (it then places the window like 1.16.2), and
#   SeaBIOS 1.17.0 with patches/seabios/ (scripts/seabios.sh), with the
#   same CPU.
# Last line "pciwin: N passed, N failed, N skipped".
#
# Environment: PCIWIN_QEMU (default: the patched binary `make check`
# builds, copied with its qemu-bundle/ into .cache/pciwin-scratch/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

src=${PCIWIN_QEMU:-$CACHE/check/build/qemu-system-x86_64}
qemu=$(snapshot_qemu "$CACHE/pciwin-scratch" qemu "$src")
if [ -z "$qemu" ]; then
    echo "SKIP: no working QEMU at $src (make check builds it; or set PCIWIN_QEMU=)"
    echo "pciwin: 0 passed, 0 failed, 9 skipped"
    exit 0
fi
if ! "$ROOT/scripts/guest-assets.sh" 2>"$LOGS/pciwin-assets.log"; then
    echo "SKIP: firmware packages unavailable: $(grep '^error:' "$LOGS/pciwin-assets.log" | tail -1)"
    echo "pciwin: 0 passed, 0 failed, 9 skipped"
    exit 0
fi
sbp=$("$ROOT/scripts/seabios.sh" 2>"$LOGS/pciwin-seabios.log") ||
    die "SeaBIOS with patches/seabios/ did not build (log: $LOGS/pciwin-seabios.log)"
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
say "pciwin: $GUEST_SEABIOS_PKG, $GUEST_SEABIOS_NEW_PKG and patched SeaBIOS, spm/reserved/normal last node"
exec python3 "$ROOT/tests/pciwin/pci_window.py" --qemu "$qemu" \
    --seabios "seabios-${GUEST_SEABIOS_PKG#* }=$GUEST_SEABIOS" \
    --seabios "seabios-${GUEST_SEABIOS_NEW_PKG#* }=$GUEST_SEABIOS_NEW,cpu=qemu64,vendor=GenuineIntel" \
    --seabios "seabios-1.17.0+series=$sbp/bios-256k.bin,cpu=qemu64,vendor=GenuineIntel"
