#!/bin/bash
# Run bios-tables-test's SRAT cases for one target under TCG.
# Called by: check.sh (steps btt-tcg-*), ci-matrix.sh.
#
# Run the SRAT cases of bios-tables-test (tests/btt-srat-cases.txt) for
# one target under TCG.
#
#   scripts/btt-tcg.sh BUILD ARCH LOG   run them; exit status of the test
#                                       (77: cannot run here, reason on
#                                       stderr)
#   scripts/btt-tcg.sh --cases          the case names, one a line
#
# bios-tables-test uses KVM when /dev/kvm exists, and a nested KVM
# without SMM changes the FACP, so the test fails on the unpatched base
# too.  It therefore runs in a private mount namespace whose /dev has no
# kvm at all (tcg_only in lib.sh; needs root, else exit 77 with its
# "/dev/kvm exists and cannot be hidden: WHY"), so that it registers its
# cases as on a host without KVM; without /dev/kvm it runs as it is.
# The cases
# marked "series" run only when patches/qemu/series is not empty, and
# they must run (a case the test does not register for ARCH is skipped
# by bios-tables-test without a word; the others may be, as upstream
# registers some only for x86_64).
# BUILD must hold qemu-system-ARCH and tests/qtest/bios-tables-test.
# Environment: BTT_TIMEOUT (seconds, default 900), NICE (niceness, 0).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

cases() {
    local with_series=
    [ -z "$(grep -v '^\s*\(#\|$\)' "$ROOT/patches/qemu/series" || true)" ] || with_series=1
    grep -v '^\s*\(#\|$\)' "$ROOT/tests/btt-srat-cases.txt" | while read -r c mark; do
        [[ $c =~ ^acpi/[a-z0-9]+/[a-z0-9_-]+$ ]] || die "tests/btt-srat-cases.txt: bad case '$c'"
        case $mark in
        '') echo "$c" ;;
        series) [ -z "$with_series" ] || echo "$c" ;;
        *) die "tests/btt-srat-cases.txt: bad mark '$mark' (only: series)" ;;
        esac
    done
}

if [ "${1:-}" = --cases ]; then cases; exit; fi
[ $# = 3 ] || die "usage: $0 BUILD ARCH LOG | --cases"
build=$1 arch=$2 log=$3
cases >/dev/null    # a bad list file stops here, not in the subshell below
[ -x "$build/qemu-system-$arch" ] && [ -x "$build/tests/qtest/bios-tables-test" ] ||
    die "$build lacks qemu-system-$arch or tests/qtest/bios-tables-test"
mapfile -t list < <(cases)
[ ${#list[@]} -gt 0 ] || die "no case in tests/btt-srat-cases.txt"
args=(); for c in "${list[@]}"; do args+=(-p "/$arch/$c"); done

rc=0
(cd "$build" && tcg_only env QTEST_QEMU_BINARY="./qemu-system-$arch" \
    timeout "${BTT_TIMEOUT:-900}" nice -n "${NICE:-0}" \
    tests/qtest/bios-tables-test "${args[@]}") >"$log" 2>&1 || rc=$?
if [ "$rc" = 77 ] && grep -q '^/dev/kvm exists' "$log"; then cat "$log" >&2; exit 77; fi
[ "$rc" = 0 ] || exit "$rc"
# -p of a case that the test does not register for this target runs
# nothing, silently: the series' own cases must have run
while read -r c mark; do
    [ "$mark" = series ] || continue
    grep -q "^ok [0-9]* /$arch/$c\$" "$log" ||
        { echo "btt-tcg: /$arch/$c did not run (log: $log)" | tee -a "$log" >&2; exit 1; }
done < <(grep -v '^\s*\(#\|$\)' "$ROOT/tests/btt-srat-cases.txt")
