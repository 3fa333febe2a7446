#!/bin/bash
# Hygiene of one patch series: git am, export, checkpatch, identity.
# Called by: check.sh (steps series-qemu, series-seabios), the pipeline.
#
# Hygiene of one patch series (a step of `make check`):
#   - patches/SERIES/series applies to the pristine base with git am
#     (no fuzz, no 3-way), into AMDIR;
#   - exporting AMDIR reproduces patches/SERIES/ byte for byte;
#   - every mail carries the project identity as author and in
#     Signed-off-by, and a subject in the project's upstream style;
#   - QEMU's scripts/checkpatch.pl reports 0 errors and 0 warnings per
#     patch, for the SeaBIOS series too (SeaBIOS has no checker of its
#     own; its code also accepts /* */ comments and braces, so QEMU's
#     rules cost it nothing and keep one style guard for both series).
#     The libvirt series has its own checker instead, libvirt's
#     syntax-check, which scripts/libvirt-tests.sh runs on its build.
#
#   scripts/check-series.sh qemu|seabios|libvirt AMDIR
# Last line: "series-SERIES: N passed, N failed, N skipped".  AMDIR is
# left with the series applied (branch "series") for the steps after.
set -euo pipefail
SERIES=$1 am=$2
export SERIES
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
pq=$PATCHDIR
tag=$(lock base_tag)

say "series-$SERIES: applying patches/$SERIES/series to the pristine base"
if "$S/apply.sh" "$am" --force; then
    pass "$SERIES series applies to $tag with git am (no fuzz, no 3-way)"
else
    fail "$SERIES series applies to $tag"
    verdict "series-$SERIES"; exit 1
fi
mapfile -t patches < <(grep -v '^\s*\(#\|$\)' "$pq/series" || true)
if [ ${#patches[@]} = 0 ]; then
    say "series-$SERIES: patches/$SERIES/series is empty"
    verdict "series-$SERIES"; exit 0
fi

# QEMU's checkpatch: from the tree just applied, or for SeaBIOS from the
# QEMU tree that `check-series.sh qemu` applied
checkpatch=$am/scripts/checkpatch.pl
[ "$SERIES" = qemu ] || checkpatch=${CHECKPATCH:-$CACHE/check/am/scripts/checkpatch.pl}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$S/export.sh" "$am" "$tmp/export" 2>/dev/null
if diff -r -x cover-letter.txt "$pq" "$tmp/export" >"$LOGS/export-diff-$SERIES.log" 2>&1; then
    pass "$SERIES export is deterministic (no diff against patches/$SERIES/)"
else
    head -20 "$LOGS/export-diff-$SERIES.log"
    fail "$SERIES export reproduces patches/$SERIES/ (diff: $LOGS/export-diff-$SERIES.log)"
fi

ident="memmap-type series <series@memmap-type.invalid>"
# Subject style: QEMU "subsystem: summary" (lower case after the colon
# is usual, not required); SeaBIOS "file: Summary" (capitalised).
# The prefix is the one export.sh writes (lib.sh's series_prefix).
prefix=$(series_prefix)
case $SERIES in
qemu) subject="^Subject: \\[$prefix [0-9]+/[0-9]+\\] [A-Za-z0-9_./, -]+: .+" ;;
seabios) subject="^Subject: \\[$prefix [0-9]+/[0-9]+\\] [a-z0-9_./-]+: [A-Z].+" ;;
# libvirt: "area: Summary" or "area: part: Summary" (qemu: capabilities: Add ...)
libvirt) subject="^Subject: \\[$prefix [0-9]+/[0-9]+\\] [a-z0-9_./-]+(: [a-z0-9_./-]+)?: [A-Z].+" ;;
esac
# The one checkpatch warning that is waived: bios-tables-test's update
# procedure adds expected ACPI tables under tests/data/acpi/ as new
# binary (first empty) files, which cannot carry an SPDX line; checkpatch
# asks about SPDX for every new file that is not source code.
waiver="^WARNING: Does new file 'tests/data/acpi/[^']*' need 'SPDX-License-Identifier'[?]$"
for p in "${patches[@]}"; do
    if [ "$SERIES" = libvirt ]; then
        :   # libvirt's syntax-check (scripts/libvirt-tests.sh)
    elif [ ! -x "$checkpatch" ]; then
        fail "checkpatch: $p: no $checkpatch (check-series.sh qemu applies the QEMU tree first)"
    else
        log=$LOGS/checkpatch-$p.log
        "$checkpatch" --no-color --patch "$pq/$p" >"$log" 2>&1 || true
        errors=$(sed -n 's/^total: \([0-9]*\) errors.*/\1/p' "$log")
        mapfile -t warns < <(grep '^WARNING' "$log" || true)
        unwaived=0 waived=0
        for w in "${warns[@]}"; do
            if [[ $w =~ $waiver ]]; then waived=$((waived + 1)); else unwaived=$((unwaived + 1)); fi
        done
        if [ "$errors" = 0 ] && [ "$unwaived" = 0 ]; then
            pass "checkpatch: $p ($(grep '^total:' "$log" | cut -d, -f1-2)$(
                [ $waived = 0 ] || echo "; $waived waived: SPDX on new binary ACPI tables"))"
        else
            grep -E '^(ERROR|WARNING)' "$log" | head -5
            fail "checkpatch: $p ($(grep '^total:' "$log")) (log: $log)"
        fi
    fi
    if grep -qx "From: $ident" "$pq/$p" && grep -qx "Signed-off-by: $ident" "$pq/$p" &&
        grep -Eq "$subject" "$pq/$p"; then
        pass "identity, Signed-off-by and subject style: $p"
    else
        fail "identity, Signed-off-by and subject style: $p ($(grep -m1 '^Subject:' "$pq/$p"))"
    fi
done
verdict "series-$SERIES"
