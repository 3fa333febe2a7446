#!/bin/bash
# libvirt's own checks of patches/libvirt/: its test programs and syntax-check.
# Called by: check.sh (step libvirt-series), make libvirt-build.
#
# Build libvirt with patches/libvirt/ (scripts/libvirt-build.sh), then:
#   - every C test program of libvirt's test suite (meson suite "bin":
#     qemuxmlconftest, qemucapabilitiestest, domaincapstest,
#     virschematest, qemuhotplugtest, ...) must pass; one line per
#     program that proves the series (tests/libvirt/lv_programs.txt), with
#     its case count, and one line for the rest;
#   - libvirt's syntax-check (its style rules, what checkpatch is to
#     QEMU) must pass on the series tree.  subprojects/keycodemapdb/ is
#     left out: in libvirt.git it is a git submodule, which syntax-check
#     never reads, but the release tarball holds its files.
#   scripts/libvirt-tests.sh [SRC BUILD]
# Last line "libvirt-series: N passed, N failed, N skipped".
# The suite "script" (scripts/check-*.py) is not run: with only the QEMU
# driver configured, check-driverimpls and check-aclrules are handed
# file names of the LXC driver's generated sources, which are never
# generated, and fail on the pristine base too.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

src=${1:-$CACHE/libvirt-series/src} build=${2:-$CACHE/libvirt-series/build}
if ! b=$("$ROOT/scripts/libvirt-build.sh" "$src" "$build"); then
    fail "libvirt 11.3.0 with patches/libvirt/ builds (log: $LOGS/libvirt-build.log)"
    finish libvirt-series
fi
pass "libvirt 11.3.0 with patches/libvirt/ builds (QEMU driver, libvirtd, virsh, test programs)"
build=$b

say "libvirt-series: libvirt's test programs (meson suite bin)"
json=$build/meson-logs/testlog.json
rm -f "$json"
"$CACHE/venv/bin/python3" -m mesonbuild.mesonmain test -C "$build" --no-rebuild \
    --suite bin --num-processes "$(nproc)" >"$LOGS/libvirt-tests.log" 2>&1
python3 "$ROOT/tests/libvirt/lv_results.py" "$json" "$ROOT/tests/libvirt/lv_programs.txt" \
    >"$LOGS/libvirt-tests.lines" || true
while read -r r text; do
    case $r in PASS) pass "$text" ;; SKIP) skip "$text" ;; *) fail "$text (log: $LOGS/libvirt-tests.log)" ;; esac
done <"$LOGS/libvirt-tests.lines"
[ -s "$LOGS/libvirt-tests.lines" ] || fail "libvirt's test programs: no results (log: $LOGS/libvirt-tests.log)"

say "libvirt-series: syntax-check"
mk=$src/build-aux/syntax-check.mk
rules=$(sed -n 's/^sc_\([a-zA-Z0-9_-]*\):.*/sc_\1/p' "$mk")
n=$(wc -w <<<"$rules")
# shellcheck disable=SC2086 # one word per rule
if make -k -j"$(nproc)" -O -C "$build/build-aux" $rules \
    'VC_LIST_ALWAYS_EXCLUDE_REGEX=\.(po|ico|png)$$|^subprojects/keycodemapdb/' \
    >"$LOGS/libvirt-syntax-check.log" 2>&1; then
    pass "libvirt's syntax-check: $n rules, no finding"
else
    grep -E '^(/|make: \*\*\*)' "$LOGS/libvirt-syntax-check.log" | head -10 | indent
    fail "libvirt's syntax-check: findings (log: $LOGS/libvirt-syntax-check.log)"
fi
finish libvirt-series
