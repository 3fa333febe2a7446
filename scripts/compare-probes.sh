#!/bin/bash
# COMPARISON.md cells that need no guest, both interfaces.
# Called by: compare.sh (make compare).
#
# COMPARISON.md cells that need no guest (tests/compare/probes.py), memmap vs sp-mem.
# Called by scripts/compare.sh (make compare).
#
#   scripts/compare-probes.sh [--only QUESTION,...]
#
# Questions: cmdline-minimal, cmdline-omitted, reserved, spm-normal-node,
# rss-untouched, startup, mgmt-memory-devices, mgmt-numa, mgmt-memdev,
# several-spm-one-node, mem-accounting, addr-gap, ram-placement,
# phys-bits-64g, hotplug, hmat-spm
# (--only takes these ids; "mgmt" means the three mgmt-* ones).  Each
# QEMU runs with -S and no boot device, one at a time: the qtest
# accelerator where fw_cfg is read (etc/e820, etc/acpi/tables), TCG for
# start-up time and RSS.
# One compare_row per cell, one PASS/FAIL/SKIP line per probe; last line
# "compare-probes: N passed, N failed, N skipped"; exit 1 on any FAIL.
#
# Environment: MEMMAP_QEMU (default: the patched binary `make check`
# builds, $CACHE/check/build/qemu-system-x86_64, copied with its
# qemu-bundle/ into $CACHE/compare-probes/ first), SPMEM_QEMU (default:
# scripts/spmem-qemu.sh's wrapper of Debian sid's QEMU 11.1.3),
# COMPARE_ROWS (where compare_row appends), COMPARE_PROBES_REPS (runs per
# median, default 5).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

args=(--reps "${COMPARE_PROBES_REPS:-5}")
while [ $# -gt 0 ]; do
    case $1 in
    --only) args+=(--only "${2:?--only needs a list}"); shift 2 ;;
    --only=*) args+=(--only "${1#--only=}"); shift ;;
    *) die "usage: scripts/compare-probes.sh [--only QUESTION,...]" ;;
    esac
done
S=$CACHE/compare-probes
mkdir -p "$S"
export CACHE      # tests/lib/compare_rows.py: $CACHE/compare/rows.tsv

src=${MEMMAP_QEMU:-$CACHE/check/build/qemu-system-x86_64}
memmap=$(snapshot_qemu "$S" qemu "$src")
if [ -n "$memmap" ]; then
    args+=(--memmap "$memmap")
else
    args+=(--skip-memmap "no working patched QEMU at $src (make check builds it; or set MEMMAP_QEMU=)")
fi

if [ -n "${SPMEM_QEMU:-}" ]; then
    spmem=$SPMEM_QEMU
else
    spmem=$("$ROOT/scripts/spmem-qemu.sh" 2>"$LOGS/compare-probes-spmem-qemu.log") || spmem=
fi
if [ -n "$spmem" ] && "$spmem" -device sp-mem,help >/dev/null 2>&1; then
    args+=(--spmem "$spmem")
else
    args+=(--skip-spmem "no QEMU with -device sp-mem (${spmem:-scripts/spmem-qemu.sh failed, see $LOGS/compare-probes-spmem-qemu.log})")
fi

exec python3 "$ROOT/tests/compare/probes.py" "${args[@]}"
