#!/bin/bash
# Live migration across builds, with the spm node's guest view checked.
# Called by: make migrate, check.sh (step migrate), the pipeline.
#
# Live migration of a running guest across builds (tests/migration/migrate.py):
#   unpatched -> patched -> unpatched   NUMA without memmap-type
#   patched -> patched                  node 1 memmap-type=spm above 4 GiB;
#                                       the guest's e820 and dax device
#                                       after the migration and after a
#                                       reboot on the destination
#   neg-spm-size                        destination's spm node of another
#                                       size: the migration must fail
#   spm-to-untyped                      destination without memmap-type:
#                                       QEMU takes it; the guest keeps its
#                                       view until it reboots (asserted)
# TCG, SeaBIOS (stock; patched, scripts/seabios.sh, for the spm cases),
# -kernel/-initrd with the counter or migrate mode of tests/guest/init;
# TCP on 127.0.0.1 only.  One log per case in .cache/logs/migrate-*.log,
# the VMs' serial consoles in .cache/logs/migrate/.  Last line
# "migrate: N passed, N failed, N skipped".
#
# Environment: MIGRATE_PATCHED, MIGRATE_BASE (default: the binaries
# `make check` builds in .cache/check/{build,base/build}; each is copied
# with its qemu-bundle/ into .cache/migrate-scratch/ first),
# MIGRATE_TIMEOUT (hard limit for the whole run, default 300 s).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PATCHED_SRC=${MIGRATE_PATCHED:-$CACHE/check/build/qemu-system-x86_64}
BASE_SRC=${MIGRATE_BASE:-$CACHE/check/base/build/qemu-system-x86_64}
SCRATCH=$CACHE/migrate-scratch

patched=$(snapshot_qemu "$SCRATCH" patched "$PATCHED_SRC")
if [ -z "$patched" ]; then
    skip "all cases: no working patched QEMU at $PATCHED_SRC (make check builds it; or set MIGRATE_PATCHED=)"
    verdict migrate; exit 0
fi
base=$(snapshot_qemu "$SCRATCH" base "$BASE_SRC")
base_args=()
[ -n "$base" ] && base_args=(--base "$base")
if ! "$ROOT/scripts/guest-assets.sh" 2>"$LOGS/migrate-assets.log"; then
    skip "all cases: guest assets unavailable: $(grep '^error:' "$LOGS/migrate-assets.log" | tail -1)"
    verdict migrate; exit 0
fi
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
# the spm cases boot with the patched SeaBIOS, which passes the soft
# reserved entry to the guest (stock SeaBIOS drops it)
if [ -z "${GUEST_SEABIOS_PATCHED:-}" ]; then
    sbdir=$("$ROOT/scripts/seabios.sh" 2>"$LOGS/migrate-seabios.log") ||
        die "SeaBIOS with patches/seabios/ does not build (log: $LOGS/migrate-seabios.log)"
    GUEST_SEABIOS_PATCHED=$sbdir/bios-256k.bin
fi
export GUEST_SEABIOS GUEST_SEABIOS_PATCHED GUEST_KERNEL GUEST_INITRD
say "migrate: patched ${patched#"$ROOT"/}${base:+, unpatched ${base#"$ROOT"/}} (TCG, SeaBIOS, tcp:127.0.0.1)"
rc=0
timeout --kill-after=5 "${MIGRATE_TIMEOUT:-300}" \
    python3 "$ROOT/tests/migration/migrate.py" --patched "$patched" "${base_args[@]}" \
    --logdir "$LOGS" || rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
    fail "the migration run hit its hard timeout (${MIGRATE_TIMEOUT:-300} s); logs: $LOGS/migrate-*.log"
    verdict migrate
fi
exit $rc
