#!/bin/bash
# Every test of the project, one verdict line.
# Called by: make check, .ci/run, the pipeline's check job.
#
# `make check`: every test of the project, ending in one verdict line
# "check: N passed, N failed, N skipped".  Each step is a script of its
# own that ends with "NAME: N passed, N failed, N skipped" (its whole
# output in .cache/logs/NAME.log; its FAIL and SKIP lines are shown):
#  0. ci-validate      the GitLab pipeline file (scripts/ci-validate.sh);
#     fresh-quick      README's prerequisite line and scripts/deps.sh in
#                      a pristine bookworm root (scripts/fresh.sh --quick);
#  1. series-qemu      series hygiene (scripts/check-series.sh qemu): git
#                      am, deterministic export, checkpatch, identity;
#  2. bisect           qemu-system-x86_64 and -i386 build at every prefix
#                      (scripts/bisect.sh);
#  3. qtest            QEMU's qtest-x86_64 and qtest-i386 suites, a failing
#                      test judged against the unpatched base
#                      (scripts/qtest-compare.sh);
#  4. btt-tcg-ARCH     bios-tables-test's SRAT cases under TCG
#                      (scripts/btt-tcg.sh), tcg-only (tcg_only shown to
#                      hide /dev/kvm, scripts/tcg-only-test.sh), QEMU's documentation
#                      (scripts/docs.sh);
#  5. series-seabios   the SeaBIOS series' hygiene, then its build
#                      (scripts/seabios.sh);
#  6. guest            Linux guests under TCG (scripts/guest-run.sh --all),
#                      and seabios-negative: q35-sbp-spm and
#                      spmem-q35-sbp-spm with stock SeaBIOS, and
#                      with the series minus each patch, must fail
#                      (scripts/seabios-negative.sh);
#  7. robust, migrate, bench-smoke, pciwin, nested (an spm node on a real
#                      /dev/dax0.0 in nested guests, scripts/nested.sh),
#                      spmem (upstream's sp-mem from
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
failed=()
# the run's record for scripts/timings.sh: every step's wall time
t_start=$(date +%s)
record=$LOGS/check-record.tsv
cache_state=warm
[ -n "$(ls -A "$results" 2>/dev/null)" ] || cache_state=cold
: >"$record.new"
# a check of check.sh's own (lib.sh's pass and fail), listed at the end
# when it fails
bad() { failed+=("$*"); fail "$*"; }
# part NAME T0: record the wall time since T0 of work that is no step of
# its own (installs, downloads, builds that later steps test)
part() { printf 'part\t%s\t%s\n' "$1" $(($(date +%s) - $2)) >>"$record.new"; }

t0=$(date +%s)
"$S/deps.sh" build check node
"$S/fetch-base.sh"
part "deps and fetch-base: packages, the QEMU base" "$t0"

# expected skips of every step, with why (judge_step in lib.sh)
expected=()

# suite NAME CMD...: run a step that ends with the line
# "NAME: N passed, N failed, N skipped" and add its counts to ours
suite() {
    local name=$1 log=$LOGS/$1.log t0; shift
    say "$name: ${*#"$ROOT"/} (log: $log)"
    t0=$(date +%s)
    "$@" >"$log" 2>&1 || true
    judge_step "$name" "$log" || true
    npass=$((npass + STEP_P)) nskip=$((nskip + STEP_K))
    # every failed check counts, and every other reason to fail once
    nfail=$((nfail + STEP_F))
    local b; for b in "${STEP_BAD[@]}"; do
        failed+=("$b")
        [[ $b == "$name: $STEP_F failed "* ]] || nfail=$((nfail + 1))
    done
    expected+=("${STEP_EXPECTED[@]}")
    printf 'step\t%s\t%s\t%s\t%s\n' "$name" $(($(date +%s) - t0)) \
        "$([ "${1:-}" = replay_log ] && echo cached || echo ran)" "${STEP_LINE:-no result line}" >>"$record.new"
    if [ -z "$STEP_LINE" ]; then
        tail -15 "$log"
        printf '  FAIL  %s: no result line (log: %s)\n' "$name" "$log"
        return
    fi
    { grep -E '^ *(FAIL|SKIP)' "$log" || true; } | head -10 | sed 's/^/    /'
    printf '  %s  %s\n' "$([ ${#STEP_BAD[@]} = 0 ] && echo DONE || echo FAIL)" "$STEP_LINE"
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
suite repo "$S/check-repo.sh"
# README's prerequisite line and scripts/deps.sh in a pristine bookworm
# root: every tool of deps.sh's table there, ci-validate without a skip
# (scripts/fresh.sh --quick; the whole two commands: make fresh).
# Decided by those scripts, README, the pipeline and the pins it reads,
# and the host's apt sources and added certificate authorities
cached_step fresh-quick "$(cd "$ROOT" && cat README.md .gitlab-ci.yml package.json package-lock.json \
        scripts/fresh.sh scripts/deps.sh scripts/ci-validate.sh scripts/ci-local.sh scripts/apt-private.sh \
        ./*.lock scripts/node.sh scripts/closure.sh tests/bookworm-commands.txt tests/ci/*.js \
        /etc/apt/sources.list /etc/apt/sources.list.d/* /usr/local/share/ca-certificates/* 2>&1 |
        sha256sum)" "$S/fresh.sh" --quick
suite series-qemu "$S/check-series.sh" qemu "$am"
if [ "$(git -C "$am" config memmap.applied-hash 2>/dev/null || true)" != "$(series_hash)" ]; then
    echo "check: patches/qemu/ does not apply; nothing else can run"
    verdict check; exit 1
fi
n=$(grep -cv '^\s*\(#\|$\)' "$ROOT/patches/qemu/series" || true)

suite bisect "$S/bisect.sh" "$am" "$src" "$build"
git -C "$src" checkout -q --detach am/series
[ -d "$base_src/.git" ] || git clone -q "$CACHE/base.git" "$base_src"
git -C "$base_src" checkout -q --detach "$tag"
# the rule that excuses a qtest failing on the base too, shown able to
# fail (tests/lib/qtest_judge.py)
suite qtest-judge python3 "$ROOT/tests/lib/qtest_judge.py" --self-test
suite qtest "$S/qtest-compare.sh" "$src" "$build" "$base_src" "$base_build"
# the unpatched binary is also needed by the robustness, migration and
# benchmark steps below
t0=$(date +%s)
"$S/build.sh" "$base_src" "$base_build" qemu-system-x86_64 qemu-system-i386 >&2
part "build of the unpatched base" "$t0"

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
    local log=$LOGS/bios-tables-tcg-$arch.log rc=0 why
    why=$("$S/btt-tcg.sh" "$build" "$arch" "$log" 2>&1) || rc=$?
    case $rc in
    0) touch "$results/btt-$k"
       one_result "$name" PASS "$what ($(grep -c '^ok ' "$log") cases ran)" ;;
    77) one_result "$name" SKIP "qemu-system-$arch: $(grep -m1 '^/dev/kvm exists' <<<"$why")" ;;
    *) grep -E 'mismatch|Bail|^not ok' "$log" | head -5
       [ -z "$why" ] || tail -5 <<<"$why"
       one_result "$name" FAIL "qemu-system-$arch (log: $log)" ;;
    esac
}
for arch in x86_64 i386; do suite "btt-tcg-$arch" btt "$arch"; done
# tcg_only hides /dev/kvm as a host without KVM would, on every machine:
# with a fake /dev/kvm, bios-tables-test registers the same cases as
# without one, and the old method (/dev/null over /dev/kvm) is shown
# wrong (scripts/tcg-only-test.sh; btt has built bios-tables-test)
suite tcg-only "$S/tcg-only-test.sh" "$build"

# Negative controls: one mutation per kind of rule must make the series'
# own qtest fail in a subtest that guards the rule, after a baseline run
# that passes (scripts/mutate.sh --smoke; all mutations: make mutate)
cached_step mutate-smoke "$(series_hash) $(cat "$S/mutate.sh" "$S/pciwin.sh" "$ROOT/tests/mutate/mutations.py" \
    "$ROOT/tests/pciwin/pci_window.py" "$ROOT/tests/lib/qemulib.py" | sha256sum) $(series_hash seabios)" \
    "$S/mutate.sh" --smoke

# QEMU's documentation with the series (Sphinx, warnings are errors)
docs_key=$(result_key "$(git -C "$src" rev-parse 'HEAD^{tree}')" docs "$(cat "$S/docs.sh")")
t0=$(date +%s)
if [ -e "$results/docs-$docs_key" ] && [ -z "${FORCE:-}" ]; then
    pass "QEMU documentation builds with the series (cached)"
elif "$S/docs.sh"; then
    touch "$results/docs-$docs_key"; pass "QEMU documentation builds with the series"
else
    bad "QEMU documentation builds with the series (log: $LOGS/build-docs-build.log)"
fi
part "QEMU documentation build" "$t0"

# The companion SeaBIOS series: hygiene, then the images the guest
# scenarios boot with
suite series-seabios "$S/check-series.sh" seabios "$CACHE/check/seabios-am"
sbp="" t0=$(date +%s)
say "seabios: building SeaBIOS with patches/seabios/ (log: $LOGS/seabios-patched.log)"
if sbdir=$("$S/seabios.sh"); then
    sbp=$sbdir/bios-256k.bin
    pass "SeaBIOS with patches/seabios/ builds: bios-256k.bin, bios.bin (QEMU's configs)"
else
    bad "SeaBIOS with patches/seabios/ builds (log: $LOGS/seabios-patched.log)"
fi
part "SeaBIOS with patches/seabios/ build" "$t0"

if [ "$n" -gt 0 ]; then
    export QEMU_PATCHED=$build/qemu-system-x86_64 QEMU_BASE=$base_build/qemu-system-x86_64
    "$S/build.sh" "$src" "$build" qemu-system-x86_64
    # Linux guests under TCG: what the guest really sees (never cached)
    QEMU=$QEMU_PATCHED GUEST_SEABIOS_PATCHED=$sbp suite guest "$S/guest-run.sh" --all
    # negative controls of the SeaBIOS series: decided by the QEMU binary,
    # the guest and its scenarios, and the SeaBIOS inputs
    cached_step seabios-negative "$(sha256sum "$QEMU_PATCHED")
        $(cat "$S"/seabios*.sh "$S"/guest-*.sh "$ROOT"/tests/guest/* "$ROOT"/tests/mutate/seabios_variants.py \
              "$ROOT"/seabios.lock "$ROOT"/guest.lock "$CACHE/guest/assets.env" 2>&1 | sha256sum)
        $(series_hash seabios)" "$S/seabios-negative.sh" "$QEMU_PATCHED"
    # robust: error matrix, fuzz, ABI identity; decided by the two
    # binaries, the tests, and the firmware packages they load
    cached_step robust "$(sha256sum "$QEMU_PATCHED" "$QEMU_BASE")
        $(cat "$S/robust.sh" "$S/lib.sh" "$ROOT"/tests/robust/*.py "$ROOT/tests/lib/qemulib.py" | sha256sum)
        $(dpkg-query -W seabios ipxe-qemu qemu-system-data 2>&1) seed=${ROBUST_SEED:-}" "$S/robust.sh"
    MIGRATE_PATCHED=$QEMU_PATCHED MIGRATE_BASE=$QEMU_BASE suite migrate "$S/migrate.sh"
    # the benchmark smoke run and the firmware PCI window: decided by the
    # binaries, the SeaBIOS series, the guest kit and their scripts
    cached_step bench-smoke "$(sha256sum "$QEMU_PATCHED" "$QEMU_BASE")
        $(cat "$S/bench.sh" "$ROOT"/tests/bench/* "$CACHE/guest/assets.env" 2>&1 | sha256sum)" \
        env BENCH_PATCHED="$QEMU_PATCHED" BENCH_BASE="$QEMU_BASE" "$S/bench.sh" --smoke
    cached_step pciwin "$(sha256sum "$QEMU_PATCHED") $(series_hash seabios)
        $(cat "$S/pciwin.sh" "$ROOT/tests/pciwin/pci_window.py" "$ROOT/tests/lib/qemulib.py" \
              "$ROOT/tests/lib/results.py" "$ROOT/tests/guest/parse_report.py" "$CACHE/guest/assets.env" 2>&1 | sha256sum)" \
        env PCIWIN_QEMU="$QEMU_PATCHED" "$S/pciwin.sh"
    # an spm node on a real /dev/dax0.0 and on hugepages, in nested
    # guests; decided by the binary, the SeaBIOS series, the guest kit
    # and the cases
    cached_step nested "$(sha256sum "$QEMU_PATCHED") $(series_hash seabios)
        $(cat "$S/nested.sh" "$ROOT"/tests/nested/* "$CACHE/guest/assets.env" 2>&1 | sha256sum)" \
        env NESTED_QEMU="$QEMU_PATCHED" "$S/nested.sh"
    # upstream's -device sp-mem (Debian sid's QEMU 11.1.3) on the same
    # guest: the anchor of the comparison with the series
    suite spmem "$S/spmem-smoke.sh"
    # the comparison's smoke share: one spm range, OVMF, both interfaces
    MEMMAP_QEMU=$QEMU_PATCHED suite compare-smoke "$S/compare.sh" --smoke
    QEMU=$QEMU_PATCHED suite libvirt "$S/libvirt.sh"
fi

echo
grep 'waived' "$LOGS/series-qemu.log" | sed -E 's/^ *PASS +/checkpatch warnings waived: /' || true
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
# the record: the guest scenarios' boot times, then the run itself
if [ -s "$LOGS/guest.log" ]; then
    "$S/guest-run.sh" --list 2>/dev/null | while read -r g desc; do
        # "(boot 9.1 s; ...)", or "(0.1 s; ...)" where QEMU refuses to start
        l=$(grep -E "^(PASS|FAIL) $g \((boot )?[0-9.]+ s" "$LOGS/guest.log" | tail -1) || continue
        printf 'guest\t%s\t%s\t%s\t%s\n' "$g" "$(sed -E 's/^[A-Z]+ [^ ]+ \((boot )?([0-9.]+) s.*/\2/' <<<"$l")" "${l%% *}" "$desc"
    done >>"$record.new"
fi
check_line=$(verdict_line check)
record_run "$t_start" "$check_line" "$cache_state .cache" >>"$record.new"
mv "$record.new" "$record"
echo "check: took $(( ($(date +%s) - t_start) / 60 )) min $(( ($(date +%s) - t_start) % 60 )) s (record: ${record#"$ROOT"/}; scripts/timings.sh --record LABEL keeps it)"
verdict check
