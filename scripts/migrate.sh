#!/bin/bash
# Live migration of a running guest across builds (tests/migration/migrate.py):
#   unpatched -> patched -> unpatched   NUMA without memmap-type
#   patched -> patched                  node 1 memmap-type=spm above 4 GiB
#   two negative cases                  destination's spm node of another
#                                       size (migration fails), destination
#                                       without memmap-type (check fails)
# TCG, SeaBIOS, -kernel/-initrd with the counter mode of tests/guest/init;
# TCP on 127.0.0.1 only.  One log per case in .cache/logs/migrate-*.log,
# the VMs' serial consoles in .cache/logs/migrate/.  Last line
# "migrate: N passed, N failed, N skipped".
#
# Environment: MIGRATE_PATCHED, MIGRATE_BASE (default: the binaries
# `make check` builds in .cache/check/{build,base/build}; each is copied
# with its qemu-bundle/ into .cache/migrate-scratch/ first),
# MIGRATE_TIMEOUT (hard limit for the whole run, default 180 s).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PATCHED_SRC=${MIGRATE_PATCHED:-$CACHE/check/build/qemu-system-x86_64}
BASE_SRC=${MIGRATE_BASE:-$CACHE/check/base/build/qemu-system-x86_64}
SCRATCH=$CACHE/migrate-scratch

patched=$(snapshot_qemu "$SCRATCH" patched "$PATCHED_SRC")
if [ -z "$patched" ]; then
    echo "SKIP: no working patched QEMU at $PATCHED_SRC (make check builds it; or set MIGRATE_PATCHED=)"
    echo "migrate: 0 passed, 0 failed, 5 skipped"
    exit 0
fi
base=$(snapshot_qemu "$SCRATCH" base "$BASE_SRC")
base_args=()
[ -n "$base" ] && base_args=(--base "$base")
if ! "$ROOT/scripts/guest-assets.sh" 2>"$LOGS/migrate-assets.log"; then
    echo "SKIP: guest assets unavailable: $(grep '^error:' "$LOGS/migrate-assets.log" | tail -1)"
    echo "migrate: 0 passed, 0 failed, 5 skipped"
    exit 0
fi
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
export GUEST_SEABIOS GUEST_KERNEL GUEST_INITRD
say "migrate: patched ${patched#"$ROOT"/}${base:+, unpatched ${base#"$ROOT"/}} (TCG, SeaBIOS, tcp:127.0.0.1)"
rc=0
timeout --kill-after=5 "${MIGRATE_TIMEOUT:-180}" \
    python3 "$ROOT/tests/migration/migrate.py" --patched "$patched" "${base_args[@]}" \
    --logdir "$LOGS" || rc=$?
if [ $rc = 124 ] || [ $rc = 137 ]; then
    echo "FAIL: the migration run hit its hard timeout (${MIGRATE_TIMEOUT:-180} s); logs: $LOGS/migrate-*.log"
    echo "migrate: 0 passed, 1 failed, 0 skipped"
fi
exit $rc
