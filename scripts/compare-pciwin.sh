#!/bin/bash
# COMPARISON.md rows bar-*: a 64-bit BAR next to an spm range, both interfaces.
# Called by: compare.sh (make compare).
#
# COMPARISON.md rows bar-*: where a 1 GiB 64-bit PCI BAR lands by a 1 GiB
# spm range, memmap vs sp-mem.  Called by scripts/compare.sh (make compare).
#
#   scripts/compare-pciwin.sh [--setups bar-seabios-1.16.2,...] [--ifaces memmap,spmem]
#
# Four firmware setups (SeaBIOS 1.16.2 with qemu64/AMD; SeaBIOS 1.17.0
# with an Intel-vendor qemu64; OVMF's dynamic 64-bit window with qemu64,
# AMD, 40 phys-bits under TCG; OVMF's classic window through fw_cfg
# opt/ovmf/X-PciMmio64Mb=2048 with an Intel-vendor qemu64), each booted
# under TCG with the patched QEMU (memmap-type=spm) and with Debian sid's
# QEMU 11.1.3 (-device sp-mem, scripts/spmem-qemu.sh).  One compare_row
# per measured cell; last line "compare-pciwin: N passed, N failed, N
# skipped".  Logs and command lines: $CACHE/logs/compare-pciwin/.
#
# Environment: MEMMAP_QEMU (default: the patched binary `make check`
# builds, copied with its qemu-bundle/ into $CACHE/compare-pciwin/),
# SPMEM_QEMU (default: scripts/spmem-qemu.sh's wrapper), GUEST_ASSETS_ENV
# (default: $CACHE/guest/assets.env, made by scripts/guest-assets.sh
# when missing), COMPARE_ROWS (where compare_row appends).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

args=()
while [ $# -gt 0 ]; do
    case $1 in
    --setups|--ifaces) args+=("$1" "${2:?$1 needs a list}"); shift 2 ;;
    --setups=*|--ifaces=*) args+=("$1"); shift ;;
    *) die "usage: scripts/compare-pciwin.sh [--setups LIST] [--ifaces memmap,spmem]" ;;
    esac
done
export COMPARE_ROWS=${COMPARE_ROWS:-$CACHE/compare/rows.tsv}
S=$CACHE/compare-pciwin
logdir=$LOGS/compare-pciwin
mkdir -p "$S" "$logdir"

src=${MEMMAP_QEMU:-$CACHE/check/build/qemu-system-x86_64}
say "compare-pciwin: snapshot of the patched QEMU ($src)"
memmap=$(snapshot_qemu "$S" qemu "$src")
if [ -n "$memmap" ]; then
    args+=(--qemu-memmap "$memmap")
else
    args+=(--skip-memmap "no working patched QEMU at $src (make check builds it; or set MEMMAP_QEMU=)")
fi

if [ -n "${SPMEM_QEMU:-}" ]; then
    spmem=$SPMEM_QEMU
else
    say "compare-pciwin: Debian sid's QEMU (scripts/spmem-qemu.sh)"
    spmem=$("$ROOT/scripts/spmem-qemu.sh" 2>"$logdir/spmem-qemu.log") || spmem=
fi
if [ -n "$spmem" ] && "$spmem" -device sp-mem,help >/dev/null 2>&1; then
    args+=(--qemu-spmem "$spmem")
else
    args+=(--skip-spmem "no QEMU with -device sp-mem (${spmem:-scripts/spmem-qemu.sh failed, see $logdir/spmem-qemu.log})")
fi

assets=${GUEST_ASSETS_ENV:-$CACHE/guest/assets.env}
if [ ! -f "$assets" ] && [ -z "${GUEST_ASSETS_ENV:-}" ]; then
    say "compare-pciwin: guest assets (scripts/guest-assets.sh)"
    "$ROOT/scripts/guest-assets.sh" >"$logdir/assets.log" 2>&1 || true
fi
if [ -f "$assets" ]; then
    # shellcheck source=/dev/null
    . "$assets"
    args+=(--seabios116 "${GUEST_SEABIOS:-}" --seabios117 "${GUEST_SEABIOS_NEW:-}"
           --ovmf-code "${GUEST_OVMF_CODE:-}" --ovmf-vars "${GUEST_OVMF_VARS:-}"
           --kernel "${GUEST_KERNEL_6_1:-}" --initrd "${GUEST_INITRD_6_1:-}")
fi
say "compare-pciwin: ${GUEST_SEABIOS_PKG:-SeaBIOS 1.16.2}, ${GUEST_SEABIOS_NEW_PKG:-SeaBIOS 1.17.0}, ${GUEST_OVMF_PKG:-OVMF} dynamic and classic window; Linux ${GUEST_KERNEL_PKG_6_1:-6.1} under OVMF"
exec python3 "$ROOT/tests/compare/pciwin_compare.py" --logdir "$logdir" "${args[@]}"
