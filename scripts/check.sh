#!/bin/bash
# `make check`: every test of the project, ending in one verdict line
# "check: N passed, N failed, N skipped".  Each step is a script of its
# own that ends with "NAME: N passed, N failed, N skipped" (its whole
# output in .cache/logs/NAME.log; its FAIL and SKIP lines are shown):
#  0. ci-validate      the GitLab pipeline file (scripts/ci-validate.sh);
#  1. series-qemu      series hygiene (scripts/check-series.sh qemu): git
#                      am, deterministic export, checkpatch, identity;
#  2. bisect           qemu-system-x86_64 and -i386 build at every prefix
#                      (scripts/bisect.sh);
#  3. qtest            QEMU's qtest-x86_64 and qtest-i386 suites, a failing
#                      test judged against the unpatched base
#                      (scripts/qtest-compare.sh);
#  4. btt-tcg-ARCH     bios-tables-test's SRAT cases under TCG
#                      (scripts/btt-tcg.sh), QEMU's documentation
#                      (scripts/docs.sh);
#  5. series-seabios   the SeaBIOS series' hygiene, then its build
#                      (scripts/seabios.sh);
#  6. guest            Linux guests under TCG (scripts/guest-run.sh --all),
#                      and seabios-negative: q35-sbp-spm and the
#                      sbp-table-* scenarios with stock SeaBIOS must
#                      fail (scripts/seabios-negative.sh);
#  7. robust, migrate, bench-smoke, pciwin, spmem (upstream's sp-mem from
#                      Debian sid, scripts/spmem-smoke.sh), libvirt
#                      (scripts/libvirt.sh: a private libvirtd runs
#                      contrib/libvirt/'s XML).
# Builds and qtest results are cached by their exact inputs (source tree
# ids, scripts, lock file) and reported as "(cached)"; FORCE=1 reruns.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
tag=$(lock base_tag)
am=$CACHE/check/am          # fresh `git am` of the series, every run
src=$CACHE/check/src        # build tree: the commits of $am, checked out
build=$CACHE/check/build    # one by one (scripts/bisect.sh)
base_src=$CACHE/check/base/src      # the unpatched base, built once and
base_build=$CACHE/check/base/build  # kept for comparisons (same relative
                                    # layout as src/build: ccache hits)
results=$CACHE/results
mkdir -p "$results"
pass=0; fail=0; skip=0
failed=()
ok()   { pass=$((pass + 1)); printf '  PASS  %s\n' "$*"; }
bad()  { fail=$((fail + 1)); failed+=("$*"); printf '  FAIL  %s\n' "$*"; }

"$S/deps.sh"
"$S/fetch-base.sh"

# Expected skips are data: tests/expected-skips.txt lists, per step, a
# pattern of the SKIP lines the project accepts and why.  A step that
# skips anything else, or skips without a SKIP line saying why, fails.
expected=()
# judge_skips NAME K LOG: check the K skips of step NAME against the list
judge_skips() {
    local name=$1 k=$2 log=$3 l why lines=()
    mapfile -t lines < <(grep -E '^ *SKIP' "$log" | sed -E 's/^ *//' || true)
    if [ ${#lines[@]} = 0 ]; then
        fail=$((fail + 1)); failed+=("$name: $k skipped without a SKIP line saying why (log: $log)")
        return
    fi
    for l in "${lines[@]}"; do
        if why=$(expected_skip "$name" "$l"); then
            expected+=("$l  [$why]")
        else
            fail=$((fail + 1)); failed+=("$name: unexpected skip, not in tests/expected-skips.txt: $l (log: $log)")
        fi
    done
}
# expected_skip STEP LINE: print why LINE is an expected skip of STEP
expected_skip() {
    local step re why
    while IFS=$'\t' read -r step re why; do
        case $step in '' | '#'*) continue ;; esac
        if [ "$step" = "$1" ] && [[ $2 =~ $re ]]; then printf '%s' "$why"; return 0; fi
    done <"$ROOT/tests/expected-skips.txt"
    return 1
}

# suite NAME CMD...: run a step that ends with the line
# "NAME: N passed, N failed, N skipped" and add its counts to ours
suite() {
    local name=$1 log=$LOGS/$1.log line p f k; shift
    say "$name: ${*#"$ROOT"/} (log: $log)"
    "$@" >"$log" 2>&1 || true
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
    if [ -z "$line" ]; then
        tail -15 "$log"
        bad "$name: no result line (log: $log)"
        return
    fi
    read -r p f k < <(sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$line")
    k=${k:-0}
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + k))
    [ "$f" = 0 ] || failed+=("$name: $f failed (log: $log)")
    [ "$k" = 0 ] || judge_skips "$name" "$k" "$log"
    { grep -E '^ *(FAIL|SKIP)' "$log" || true; } | head -10 | sed 's/^/    /'
    printf '  %s  %s\n' "$([ "$f" = 0 ] && echo DONE || echo FAIL)" "$line"
}

# cached_step NAME KEYDATA CMD...: suite NAME CMD; the log of a passing
# run is kept under .cache/results/ by the hash of KEYDATA, and the same
# inputs again replay that log (its SKIP lines are judged again) instead
# of running CMD.  FORCE=1 runs CMD.
cached_step() {
    local name=$1 keep; keep=$results/$1-$(result_key "$2" "$1").log; shift 2
    if [ -s "$keep" ] && [ -z "${FORCE:-}" ]; then
        suite "$name" replay_log "$keep"
    else
        suite "$name" "$@"
        if grep -qE "^$name: [0-9]+ passed, 0 failed" "$LOGS/$name.log"; then
            cp "$LOGS/$name.log" "$keep"
        fi
    fi
}
replay_log() { echo "(cached: the log of a passing run with the same inputs)"; cat "$1"; }

suite ci-validate "$S/ci-validate.sh"
suite series-qemu "$S/check-series.sh" qemu "$am"
if [ "$(git -C "$am" config memmap.applied-hash 2>/dev/null || true)" != "$(series_hash)" ]; then
    echo "check: patches/qemu/ does not apply; nothing else can run"
    echo "check: $pass passed, $fail failed, $skip skipped"; exit 1
fi
n=$(grep -cv '^\s*\(#\|$\)' "$ROOT/patches/qemu/series" || true)

suite bisect "$S/bisect.sh" "$am" "$src" "$build"
git -C "$src" checkout -q --detach am/series
[ -d "$base_src/.git" ] || git clone -q "$CACHE/base.git" "$base_src"
git -C "$base_src" checkout -q --detach "$tag"
suite qtest "$S/qtest-compare.sh" "$src" "$build" "$base_src" "$base_build"
# the unpatched binary is also needed by the robustness, migration and
# benchmark steps below
"$S/build.sh" "$base_src" "$base_build" qemu-system-x86_64 qemu-system-i386 >&2

# btt ARCH: the SRAT cases under TCG (cached by tree, case list, script)
btt() {
    local arch=$1 name=btt-tcg-$1 cases k what
    cases=$("$S/btt-tcg.sh" --cases)
    k=$(result_key "$(git -C "$src" rev-parse 'HEAD^{tree}')" btt "$arch" "$cases" "$(cat "$S/btt-tcg.sh")")
    what="qemu-system-$arch: $(paste -sd' ' <<<"$cases")"
    if [ -e "$results/btt-$k" ] && [ -z "${FORCE:-}" ]; then
        one_result "$name" PASS "$what (cached)"; return
    fi
    # (suite runs this with || true, so set -e is off: a failed build
    # must not leave the old binaries to be tested)
    if ! "$S/build.sh" "$src" "$build" "qemu-system-$arch" tests/qtest/bios-tables-test; then
        one_result "$name" FAIL "qemu-system-$arch and bios-tables-test do not build"
        return
    fi
    local log=$LOGS/bios-tables-tcg-$arch.log rc=0
    "$S/btt-tcg.sh" "$build" "$arch" "$log" || rc=$?
    case $rc in
    0) touch "$results/btt-$k"
       one_result "$name" PASS "$what ($(grep -c '^ok ' "$log") cases ran)" ;;
    77) one_result "$name" SKIP "qemu-system-$arch: cannot hide /dev/kvm (needs root)" ;;
    *) grep -E 'mismatch|Bail|^not ok' "$log" | head -5
       one_result "$name" FAIL "qemu-system-$arch (log: $log)" ;;
    esac
}
for arch in x86_64 i386; do suite "btt-tcg-$arch" btt "$arch"; done

# Negative controls: one mutation per kind of rule must make the series'
# own qtest fail in a subtest that guards the rule, after a baseline run
# that passes (scripts/mutate.sh --smoke; all mutations: make mutate)
cached_step mutate-smoke "$(series_hash) $(cat "$S/mutate.sh" "$S/lib.sh" "$ROOT/tests/mutate/mutations.py" | sha256sum)" \
    "$S/mutate.sh" --smoke

# QEMU's documentation with the series (Sphinx, warnings are errors)
docs_key=$(result_key "$(git -C "$src" rev-parse 'HEAD^{tree}')" docs "$(cat "$S/docs.sh")")
if [ -e "$results/docs-$docs_key" ] && [ -z "${FORCE:-}" ]; then
    ok "QEMU documentation builds with the series (cached)"
elif "$S/docs.sh"; then
    touch "$results/docs-$docs_key"; ok "QEMU documentation builds with the series"
else
    bad "QEMU documentation builds with the series (log: $LOGS/build-docs-build.log)"
fi

# The companion SeaBIOS series: hygiene, then the images the guest
# scenarios boot with
suite series-seabios "$S/check-series.sh" seabios "$CACHE/check/seabios-am"
sbp=""
say "seabios: building SeaBIOS with patches/seabios/ (log: $LOGS/seabios-patched.log)"
if sbdir=$("$S/seabios.sh"); then
    sbp=$sbdir/bios-256k.bin
    ok "SeaBIOS with patches/seabios/ builds: bios-256k.bin, bios.bin (QEMU's configs)"
else
    bad "SeaBIOS with patches/seabios/ builds (log: $LOGS/seabios-patched.log)"
fi

if [ "$n" -gt 0 ]; then
    export QEMU_PATCHED=$build/qemu-system-x86_64 QEMU_BASE=$base_build/qemu-system-x86_64
    "$S/build.sh" "$src" "$build" qemu-system-x86_64
    # Linux guests under TCG: what the guest really sees (never cached)
    QEMU=$QEMU_PATCHED GUEST_SEABIOS_PATCHED=$sbp suite guest "$S/guest-run.sh" --all
    suite seabios-negative "$S/seabios-negative.sh" "$QEMU_PATCHED"
    # robust: error matrix, fuzz, ABI identity; decided by the two
    # binaries, the tests, and the firmware packages they load
    cached_step robust "$(sha256sum "$QEMU_PATCHED" "$QEMU_BASE")
        $(cat "$S/robust.sh" "$S/lib.sh" "$ROOT"/tests/robust/*.py "$ROOT/tests/lib/qemulib.py" | sha256sum)
        $(dpkg-query -W seabios ipxe-qemu qemu-system-data 2>&1) seed=${ROBUST_SEED:-}" "$S/robust.sh"
    MIGRATE_PATCHED=$QEMU_PATCHED MIGRATE_BASE=$QEMU_BASE suite migrate "$S/migrate.sh"
    BENCH_PATCHED=$QEMU_PATCHED BENCH_BASE=$QEMU_BASE suite bench-smoke "$S/bench.sh" --smoke
    PCIWIN_QEMU=$QEMU_PATCHED suite pciwin "$S/pciwin.sh"
    # upstream's -device sp-mem (Debian sid's QEMU 11.1.3) on the same
    # guest: the anchor of the comparison with the series
    suite spmem "$S/spmem-smoke.sh"
    # the comparison's smoke share: one spm range, OVMF, both interfaces
    MEMMAP_QEMU=$QEMU_PATCHED suite compare-smoke "$S/compare.sh" --smoke
    QEMU=$QEMU_PATCHED suite libvirt "$S/libvirt.sh"
fi

echo
grep 'waived' "$LOGS/series-qemu.log" | sed 's/^  PASS  /checkpatch warnings waived: /' || true
echo "Not run, by the explicit list tests/qtest-exclude.txt:"
grep -v '^\s*\(#\|$\)' "$ROOT/tests/qtest-exclude.txt" | sed 's/^/  /'
if [ ${#expected[@]} -gt 0 ]; then
    echo "Skipped, all on the list of expected skips (tests/expected-skips.txt):"
    printf '  %s\n' "${expected[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED:"; printf '  %s\n' "${failed[@]}"
fi
grep -E '^qtest-(x86_64|i386): [0-9]+ tests run' "$LOGS/qtest.log" || true
echo "logs: ${LOGS#"$ROOT"/}/"
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
