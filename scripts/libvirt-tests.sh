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
#   scripts/libvirt-tests.sh
# Last line "libvirt-series: N passed, N failed, N skipped".
# The suite "script" (scripts/check-*.py) is not run: with only the QEMU
# driver configured, check-driverimpls and check-aclrules are handed
# file names of the LXC driver's generated sources, which are never
# generated, and fail on the pristine base too.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

src=$CACHE/libvirt-series/src
if ! build=$("$ROOT/scripts/libvirt-build.sh"); then
    fail "libvirt 11.3.0 with patches/libvirt/ builds (log: $LOGS/libvirt-build.log)"
    finish libvirt-series
fi
pass "libvirt 11.3.0 with patches/libvirt/ builds (QEMU driver, libvirtd, virsh, test programs)"

say "libvirt-series: libvirt's test programs (meson suite bin)"
# suite BUILD LOG: libvirt's suite bin in BUILD, each case's result line
# in the log (VIR_TEST_VERBOSE); prints testlog.json's path
suite_bin() {
    rm -f "$1/meson-logs/testlog.json"
    VIR_TEST_VERBOSE=1 "$CACHE/venv/bin/python3" -m mesonbuild.mesonmain test -C "$1" \
        --no-rebuild --suite bin --num-processes "$(nproc)" >"$2" 2>&1
    printf '%s\n' "$1/meson-logs/testlog.json"
}
json=$(suite_bin "$build" "$LOGS/libvirt-tests.log")
python3 "$ROOT/tests/libvirt/lv_results.py" "$json" "$ROOT/tests/libvirt/lv_programs.txt" \
    >"$LOGS/libvirt-tests.lines" || true
while read -r r text; do
    case $r in PASS) pass "$text" ;; SKIP) skip "$text" ;; *) fail "$text (log: $LOGS/libvirt-tests.log)" ;; esac
done <"$LOGS/libvirt-tests.lines"
[ -s "$LOGS/libvirt-tests.lines" ] || fail "libvirt's test programs: no results (log: $LOGS/libvirt-tests.log)"

# The new cases must fail without the code: the series' tree with its
# changes under src/ taken out (tests, test data and docs kept), built
# apart, the same suite run there.  The capability flags stay
# (src/qemu/qemu_capabilities.[ch]): without them the new capabilities
# data cannot even be loaded, and every case using it would fail for
# that reason alone, proving nothing about the code under test.
say "libvirt-series: the new test cases without the series' code"
tag=$(lock base_tag libvirt)
nc=$CACHE/libvirt-series/nocode-src ncb=$CACHE/libvirt-series/nocode-build
mapfile -t added < <(git -C "$src" diff --name-only --diff-filter=A "$tag" HEAD -- src/ |
    grep -v '^src/qemu/qemu_capabilities\.[ch]$')
if [ ! -d "$nc/.git" ]; then
    rm -rf "$nc"; git clone -q --shared "$src" "$nc"
fi
git -C "$nc" fetch -q "$src" HEAD "refs/tags/$tag:refs/tags/$tag" &&
    git -C "$nc" checkout -q -f --detach FETCH_HEAD &&
    git -C "$nc" checkout -q "$tag" -- src/ &&
    git -C "$nc" checkout -q FETCH_HEAD -- src/qemu/qemu_capabilities.c src/qemu/qemu_capabilities.h &&
    { [ ${#added[@]} = 0 ] || git -C "$nc" rm -q -f -- "${added[@]}"; }
# the new inputs of the XML test programs (their outputs have an arch
# or a variant in the name), the programs whose data the series adds
cases=()
while read -r f; do
    d=${f%/*} f=${f##*/}
    [[ $f =~ ^[^.]+\.xml$ ]] || continue
    case $d in
    tests/qemuxmlconfdata) cases+=("qemuxmlconftest=${f%.xml}") ;;
    tests/genericxml2xmlindata) cases+=("genericxml2xmltest=${f%.xml}") ;;
    esac
done < <(git -C "$src" diff --name-only --diff-filter=A "$tag" HEAD -- tests/)
git -C "$src" diff --quiet "$tag" HEAD -- src/conf/schemas/ || cases+=(virschematest:)
if [ ${#cases[@]} = 0 ]; then
    fail "the series adds no qemuxmlconftest case and no capabilities data"
elif ! "$ROOT/scripts/libvirt-build.sh" "$nc" "$ncb" >/dev/null 2>"$LOGS/libvirt-nocode-build.log"; then
    # the tests themselves may name what only the code defines
    fail "the series' tests without its code do not build (log: $LOGS/libvirt-build-nocode-build.log), so no case can be shown to fail"
else
    njson=$(suite_bin "$ncb" "$LOGS/libvirt-tests-nocode.log")
    while read -r r text; do
        case $r in PASS) pass "$text" ;; *) fail "$text" ;; esac
    done < <(python3 "$ROOT/tests/libvirt/lv_newcases.py" "$json" "$njson" "${cases[@]}")
fi

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
