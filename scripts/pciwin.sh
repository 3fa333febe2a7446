#!/bin/bash
# Where SeaBIOS and OVMF put a 64-bit BAR next to typed memory.
# Called by: check.sh (step pciwin), mutate.sh --smoke, the pipeline.
#
# The firmware's 64-bit PCI window must lie above RAM and typed memory
# (tests/pciwin/pci_window.py), with a 1 GiB 64-bit BAR (ivshmem-plain),
# under TCG:
#   seabios: SeaBIOS boots (no OS) with an spm, reserved or normal last
#     node, with bookworm's SeaBIOS 1.16.2 and the default CPU (qemu64,
#     AMD); sid's SeaBIOS 1.17.0 with an Intel-vendor CPU, which it does
#     not trust for phys-bits (it then places the window like 1.16.2);
#     and SeaBIOS 1.17.0 with patches/seabios/ (scripts/seabios.sh), with
#     the same CPU.  9 cases.
#   ovmf: sid's OVMF, in its classic-window mode (Intel-vendor CPU, a
#     2 GiB window through fw_cfg opt/ovmf/X-PciMmio64Mb), boots the
#     6.1 guest kernel with an spm, reserved or normal node followed by
#     normal memory; the guest must reach its init and BAR2 must lie in
#     the window computed from the layout, above all RAM.  3 cases.
#
#   scripts/pciwin.sh [--cases seabios,ovmf] [--types spm,reserved,normal]
#                                       (default: all)
#
# Last line "pciwin: N passed, N failed, N skipped".  Serial logs of the
# ovmf cases: PCIWIN_LOGDIR (default .cache/logs/pciwin/).
#
# Environment: PCIWIN_QEMU (default: the patched binary `make check`
# builds), copied with its qemu-bundle/ into PCIWIN_SCRATCH (default
# .cache/pciwin-scratch/) so that a rebuild does not disturb the run.
# scripts/mutate.sh --smoke runs it against a mutated build, which must
# fail.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

cases=seabios,ovmf types=spm,reserved,normal
while [ $# -gt 0 ]; do
    case $1 in
    --cases) cases=${2:?--cases needs a list}; shift 2 ;;
    --cases=*) cases=${1#--cases=}; shift ;;
    --types) types=${2:?--types needs a list}; shift 2 ;;
    --types=*) types=${1#--types=}; shift ;;
    *) die "usage: scripts/pciwin.sh [--cases seabios,ovmf] [--types spm,reserved,normal]" ;;
    esac
done
for t in ${types//,/ }; do
    case $t in spm|reserved|normal) ;; *) die "unknown type '$t' (spm, reserved, normal)" ;; esac
done
ntypes=$(wc -w <<<"${types//,/ }")
want() { [[ ,$cases, == *,$1,* ]]; }
for c in ${cases//,/ }; do
    case $c in seabios|ovmf) ;; *) die "unknown case family '$c' (seabios, ovmf)" ;; esac
done
total=0
want seabios && total=$((total + 3 * ntypes))
want ovmf && total=$((total + ntypes))

src=${PCIWIN_QEMU:-$CACHE/check/build/qemu-system-x86_64}
qemu=$(snapshot_qemu "${PCIWIN_SCRATCH:-$CACHE/pciwin-scratch}" qemu "$src")
if [ -z "$qemu" ]; then
    skip "all $total cases: no working QEMU at $src (make check builds it; or set PCIWIN_QEMU=)"
    verdict pciwin; exit 0
fi
if ! "$ROOT/scripts/guest-assets.sh" 2>"$LOGS/pciwin-assets.log"; then
    skip "all $total cases: firmware and guest packages unavailable: $(grep '^error:' "$LOGS/pciwin-assets.log" | tail -1)"
    verdict pciwin; exit 0
fi
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
args=(--qemu "$qemu" --cases "$cases" --types "$types" --logdir "${PCIWIN_LOGDIR:-$LOGS/pciwin}")
if want seabios; then
    sbp=$("$ROOT/scripts/seabios.sh" 2>"$LOGS/pciwin-seabios.log") ||
        die "SeaBIOS with patches/seabios/ did not build (log: $LOGS/pciwin-seabios.log)"
    say "pciwin: $GUEST_SEABIOS_PKG, $GUEST_SEABIOS_NEW_PKG and patched SeaBIOS, spm/reserved/normal last node"
    args+=(--seabios "seabios-${GUEST_SEABIOS_PKG#* }=$GUEST_SEABIOS"
           --seabios "seabios-${GUEST_SEABIOS_NEW_PKG#* }=$GUEST_SEABIOS_NEW,cpu=qemu64,vendor=GenuineIntel"
           --seabios "seabios-1.17.0+series=$sbp/bios-256k.bin,cpu=qemu64,vendor=GenuineIntel")
fi
if want ovmf; then
    if [ -s "${GUEST_OVMF_CODE:-}" ] && [ -s "${GUEST_OVMF_VARS:-}" ] &&
        [ -s "${GUEST_KERNEL_6_1:-}" ] && [ -s "${GUEST_INITRD_6_1:-}" ]; then
        say "pciwin: ${GUEST_OVMF_PKG:-OVMF} in its classic-window mode, Linux ${GUEST_KERNEL_PKG_6_1:-6.1}, spm/reserved/normal node before normal memory"
        args+=(--ovmf "ovmf-${GUEST_OVMF_PKG#* }=$GUEST_OVMF_CODE,vars=$GUEST_OVMF_VARS"
               --kernel "$GUEST_KERNEL_6_1" --initrd "$GUEST_INITRD_6_1")
    else
        args+=(--skip-ovmf "OVMF or the 6.1 guest kernel/initramfs missing from $CACHE/guest/assets.env")
    fi
fi
exec python3 "$ROOT/tests/pciwin/pci_window.py" "${args[@]}"
