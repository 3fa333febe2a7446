#!/bin/bash
# Does migration keep the bytes of a typed range: sp-mem, pc-dimm, memmap.
# Called by: compare.sh (make compare).
#
# Migration of bytes in a typed 1 GiB range at 4 GiB: sp-mem vs pc-dimm vs memmap-type=spm.
# Called by scripts/compare.sh (make compare); runs tests/migration/spmem_migrate.py.
#
# Configurations (q35, TCG, node 0 = 2 GiB): upstream's -device sp-mem and
# the -device pc-dimm control, both on Debian sid's QEMU 11.1.3
# (scripts/spmem-qemu.sh), and the series' -numa ...,memmap-type=spm on the
# patched 10.2.2 that `make check` builds (copied first with snapshot_qemu).
# Modes: migrate-paused (a -S source, migrate to a file, load it) and
# migrate-running (a booted test guest, live migration over 127.0.0.1;
# for sp-mem and the series' node also: does the guest's dax device
# survive the migration and a reboot on the destination?  That guest
# boots the patched SeaBIOS, which keeps the soft-reserved range);
# mismatch (a -S source migrates to a file, a destination started with
# another setting loads it: the series' spm node to no memmap-type and
# back; sp-mem to no sp-mem, to another addr=, to another node=; what
# QEMU answers, and etc/e820 and the memory devices on both sides).
# A FAIL means a measurement could not be made, or the control or the
# series lost the bytes; sp-mem's result is reported as measured.
# Compare rows: questions migrate-paused, migrate-running and
# migrate-mismatch.  Last line
# "spmem-migrate: N passed, N failed, N skipped".
#
# Environment: SPMEM_QEMU (sid's wrapper; default: scripts/spmem-qemu.sh),
# MEMMAP_QEMU (the patched binary, as scripts/compare.sh passes it;
# default $CACHE/check/build/qemu-system-x86_64),
# SPMEM_MIGRATE_ASSETS (an assets.env of scripts/guest-assets.sh; default
# $CACHE/guest/assets.env, made when missing), GUEST_SEABIOS_PATCHED (a
# bios-256k.bin with patches/seabios/; default: the one scripts/seabios.sh
# builds; without it the dax device is not checked), SPMEM_MIGRATE_MODE
# (paused, running, mismatch or all; default all), SPMEM_MIGRATE_TIMEOUT (hard limit
# for the whole run, default 240 s).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
export CACHE ROOT

OUT=$CACHE/spmem-migrate
LOG=$LOGS/spmem-migrate.log
MODE=${SPMEM_MIGRATE_MODE:-all}
LIMIT=${SPMEM_MIGRATE_TIMEOUT:-240}
mkdir -p "$OUT"

sid=${SPMEM_QEMU:-}
if [ -z "$sid" ]; then
    say "spmem-migrate: sid's QEMU 11.1.3 (scripts/spmem-qemu.sh; downloads it the first time)"
    sid=$("$ROOT/scripts/spmem-qemu.sh" 2>"$OUT/spmem-qemu.err") || sid=
    [ -n "$sid" ] || say "spmem-migrate: no sid QEMU: $(tail -1 "$OUT/spmem-qemu.err")"
fi
if [ -n "$sid" ] && ! "$sid" -version >/dev/null 2>&1; then
    say "spmem-migrate: $sid does not run"
    sid=
fi

patched_src=${MEMMAP_QEMU:-$CACHE/check/build/qemu-system-x86_64}
patched=$(snapshot_qemu "$OUT" patched "$patched_src")
[ -n "$patched" ] || say "spmem-migrate: no working patched QEMU at $patched_src (make check builds it; or set MEMMAP_QEMU=)"

assets=${SPMEM_MIGRATE_ASSETS:-$CACHE/guest/assets.env}
if [ "$MODE" = running ] || [ "$MODE" = all ]; then
    if [ ! -f "$assets" ] && [ -z "${SPMEM_MIGRATE_ASSETS:-}" ]; then
        say "spmem-migrate: guest assets (scripts/guest-assets.sh)"
        "$ROOT/scripts/guest-assets.sh" >"$OUT/assets.log" 2>&1 ||
            say "spmem-migrate: guest assets unavailable (see $OUT/assets.log)"
    fi
    if [ -f "$assets" ]; then
        # shellcheck source=/dev/null
        . "$assets"
        export GUEST_SEABIOS GUEST_KERNEL GUEST_INITRD
    fi
    if [ -z "${GUEST_SEABIOS_PATCHED:-}" ]; then
        if dir=$("$ROOT/scripts/seabios.sh" 2>"$OUT/seabios.log"); then
            GUEST_SEABIOS_PATCHED=$dir/bios-256k.bin
        else
            say "spmem-migrate: no patched SeaBIOS (see $OUT/seabios.log): dax not checked"
        fi
    fi
    export GUEST_SEABIOS_PATCHED=${GUEST_SEABIOS_PATCHED:-}
fi

args=(--workdir "$OUT" --mode "$MODE")
[ -z "$sid" ] || args+=(--sid "$sid")
[ -z "$patched" ] || args+=(--patched "$patched")
say "spmem-migrate: ${sid:+sid $sid; }${patched:+patched ${patched#"$ROOT"/}; }${GUEST_SEABIOS_PATCHED:+SeaBIOS ${GUEST_SEABIOS_PATCHED#"$ROOT"/}; }mode $MODE (TCG; log $LOG)"
: > "$LOG"
rc=0
timeout --kill-after=5 "$LIMIT" python3 "$ROOT/tests/migration/spmem_migrate.py" "${args[@]}" \
    2> >(tee -a "$LOG" >&2) | tee -a "$LOG" || rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
    fail "the run hit its hard timeout ($LIMIT s); log $LOG"
    verdict spmem-migrate || true
fi
exit $rc
