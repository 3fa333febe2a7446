#!/bin/bash
# Every test of the project, one verdict line.
# Called by: make check, .ci/run, the pipeline's check job.
#
# `make check`: every test of the project, ending in one verdict line
# "check: N passed, N failed, N skipped".  Each step is a script of its
# own that ends with "NAME: N passed, N failed, N skipped" (its whole
# output in .cache/logs/NAME.log; its FAIL and SKIP lines are shown):
#  0. repo             the repository's shape (scripts/check-repo.sh);
#     ci-validate      the GitLab pipeline file (scripts/ci-validate.sh),
#     fresh-quick      README's prerequisite line and scripts/deps.sh in
#                      a pristine bookworm root (scripts/fresh.sh --quick),
#                      and docs (step 4) run in the background during
#                      steps 6-8;
#  1. series-qemu      series hygiene (scripts/check-series.sh qemu): git
#                      am, deterministic export, checkpatch, identity;
#  2. bisect           every prefix builds what its patch can break
#                      (scripts/bisect.sh);
#  3. qtest            QEMU's qtest-x86_64 and qtest-i386 suites, a failing
#                      test judged against the unpatched base
#                      (scripts/qtest-compare.sh);
#  4. btt-tcg-ARCH     bios-tables-test's SRAT cases under TCG
#                      (scripts/btt-tcg.sh), tcg-only (tcg_only shown to
#                      hide /dev/kvm, scripts/tcg-only-test.sh), QEMU's
#                      documentation (scripts/docs.sh);
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
#                      Debian sid, scripts/spmem-smoke.sh), compare-smoke,
#                      libvirt (scripts/libvirt.sh: a private libvirtd
#                      runs contrib/libvirt/'s XML);
#  8. mutate-smoke     negative controls in this run's own tree and build:
#                      broken rules must fail numa-memmap-test, pciwin and
#                      Linux guests (scripts/mutate.sh --smoke).
# Every step but the guests is cached by its row of
# tests/cache-inputs.txt (step_key in lib.sh) and reported as
# "(replayed: ...)" or "(cached)"; FORCE=1 reruns.
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
# the state of the caches this run starts from: stored results, ccache
cache_state="$(find "$results" -type f | wc -l) stored results"
[ -n "$(ls -A "$results" 2>/dev/null)" ] || cache_state="cold .cache (no stored result)"
ccache_stats() { CCACHE_DIR=$CACHE/ccache ccache --print-stats 2>/dev/null |
    awk -F'\t' '$1 ~ /^(direct_cache_hit|preprocessed_cache_hit)$/ {h += $2} $1 == "cache_miss" {m += $2}
                END {print h + 0, m + 0}'; }
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
# ccache's state before the run's builds (deps.sh installs ccache)
read -r cc_hits0 cc_miss0 < <(ccache_stats)
cc_files0=$({ find "$CACHE/ccache" -type f -name '*R' 2>/dev/null || true; } | wc -l)

# expected skips of every step, with why (judge_step in lib.sh)
expected=()

# suite NAME CMD...: run a step that ends with the line
# "NAME: N passed, N failed, N skipped" and add its counts to ours
suite() {
    local name=$1 log=$LOGS/$1.log t0; shift
    say "$name: ${*#"$ROOT"/} (log: $log)"
    t0=$(date +%s)
    "$@" >"$log" 2>&1 || true
    report_step "$name" "$t0" "$([ "${1:-}" = replay_log ] && echo replayed || echo ran)"
}
# report_step NAME T0 HOW: judge step NAME's log, add its counts to ours,
# record its wall time since T0 and HOW it ran (ran, replayed, or ran in
# the background), and show its FAIL and SKIP lines and verdict
report_step() {
    local name=$1 log=$LOGS/$1.log t0=$2 how=$3
    judge_step "$name" "$log" || true
    npass=$((npass + STEP_P)) nskip=$((nskip + STEP_K))
    # every failed check counts, and every other reason to fail once
    nfail=$((nfail + STEP_F))
    local b; for b in "${STEP_BAD[@]}"; do
        failed+=("$b")
        [[ $b == "$name: $STEP_F failed "* ]] || nfail=$((nfail + 1))
    done
    expected+=("${STEP_EXPECTED[@]}")
    printf 'step\t%s\t%s\t%s\t%s\n' "$name" $(($(date +%s) - t0)) "$how" "${STEP_LINE:-no result line}" >>"$record.new"
    [ "$how" != replayed ] || replayed+=("$name")
    if [ -z "$STEP_LINE" ]; then
        tail -15 "$log"
        printf '  FAIL  %s: no result line (log: %s)\n' "$name" "$log"
        return
    fi
    { grep -E '^ *(FAIL|SKIP)' "$log" || true; } | head -10 | sed 's/^/    /'
    printf '  %s  %s%s\n' "$([ ${#STEP_BAD[@]} = 0 ] && echo DONE || echo FAIL)" "$STEP_LINE" \
        "$([ "$how" != replayed ] || echo " (replayed: the stored log of a passing run with the same inputs, judged again)")"
}
replayed=()

# cached_step NAME KEY CMD...: suite NAME CMD, its result stored under
# .cache/results/ by KEY (step_key: its row of tests/cache-inputs.txt)
# when judge_step accepts it; the same key again replays the stored log
# if judge_step accepts it now (lib.sh's result store), instead of
# running CMD.  FORCE=1 runs CMD.
cached_step() {
    local name=$1 keep; shift
    ! replayed "$name" "$1" || return 0; shift
    suite "$name" "$@"
    result_store "$name" "$LOGS/$name.log" "$keep" || true
}
# replayed NAME KEY: stand for step NAME by its stored result under KEY
# if there is one that judge_step accepts now (FORCE=1: never), or fail
# it when KEY is empty (step_key failed); else return 1 with keep set to
# where a passing log is to be stored
replayed() {
    keep=$results/$1-$2.log
    if [ -z "$2" ]; then
        bad "$1: no cache key (step_key failed; tests/cache-inputs.txt)"
    elif [ -n "${FORCE:-}" ] || ! result_replayable "$1" "$keep"; then
        return 1
    else
        suite "$1" replay_log "$keep"
    fi
}
# bg_step NAME KEY CMD...: cached_step NAME KEY CMD, but a CMD that must
# run runs in the background (steps that keep at most one core busy);
# bg_wait NAME reports it
declare -A bg_pid bg_t0 bg_keep
bg_step() {
    local name=$1 keep; shift
    ! replayed "$name" "$1" || return 0; shift
    say "$name: ${*#"$ROOT"/} in the background (log: $LOGS/$name.log)"
    bg_t0[$name]=$(date +%s) bg_keep[$name]=$keep
    "$@" >"$LOGS/$name.log" 2>&1 &
    bg_pid[$name]=$!
}
bg_wait() {
    local name=$1
    [ -n "${bg_pid[$name]:-}" ] || return 0
    wait "${bg_pid[$name]}" || true
    unset "bg_pid[$name]"
    say "$name: finished in the background"
    report_step "$name" "${bg_t0[$name]}" "ran in the background"
    result_store "$name" "$LOGS/$name.log" "${bg_keep[$name]}" || true
}
replay_log() { echo "(cached: the log of a passing run with the same inputs)"; cat "$1"; }

suite repo "$S/check-repo.sh"
# Steps that keep at most one core busy and depend on no build of the
# series' QEMU but the tree, run in the background (start_background)
# while the guest steps after `guest`, which leave a core idle for much
# of their time, run; the builds before have both cores to themselves.
# wait_background reports them.
#  - ci-validate: the pipeline file (it waits on downloads);
#  - fresh-quick: README's prerequisite line and scripts/deps.sh in a
#    pristine bookworm root, every tool of deps.sh's table there,
#    ci-validate without a skip (scripts/fresh.sh --quick; the whole two
#    commands: make fresh);
#  - docs: QEMU's documentation with the series (Sphinx, warnings are
#    errors; one core), keyed by the tree's documentation inputs only
#    (scripts/docs.sh --inputs).
docs_step() {
    if "$S/docs.sh" "$src" >"$LOGS/docs-build.log" 2>&1; then
        one_result docs PASS "QEMU documentation (HTML, man pages) builds with the series, Sphinx warnings fatal"
    else
        tail -20 "$LOGS/docs-build.log"
        one_result docs FAIL "QEMU documentation builds with the series (log: $LOGS/docs-build.log)"
    fi
}
background_started=
start_background() {
    [ -z "$background_started" ] || return 0
    background_started=1
    bg_step ci-validate "$(step_key ci-validate)" "$S/ci-validate.sh"
    bg_step fresh-quick "$(step_key fresh-quick)" "$S/fresh.sh" --quick
    bg_step docs "$(step_key docs "$("$S/docs.sh" --inputs "$src")")" docs_step
}
wait_background() { start_background; bg_wait ci-validate; bg_wait fresh-quick; bg_wait docs; }
suite series-qemu "$S/check-series.sh" qemu "$am"
if [ "$(git -C "$am" config memmap.applied-hash 2>/dev/null || true)" != "$(series_hash)" ]; then
    echo "check: patches/qemu/ does not apply; nothing else can run"
    verdict check; exit 1
fi
n=$(grep -cv '^\s*\(#\|$\)' "$ROOT/patches/qemu/series" || true)

suite bisect "$S/bisect.sh" "$am" "$src" "$build"
# each prefix's wall time and targets, for the record
sed 's/^/prefix\t/' "$LOGS/bisect-times.tsv" >>"$record.new" 2>/dev/null || true
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
    k=$(step_key btt "$(git -C "$src" rev-parse 'HEAD^{tree}')" "$arch" "$cases")
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

# The companion libvirt series: hygiene, then libvirt's own test
# programs and syntax-check on libvirt 11.3.0 built with it (the build
# is kept for the libvirt step's patched libvirtd)
suite series-libvirt "$S/check-series.sh" libvirt "$CACHE/check/libvirt-am"
cached_step libvirt-series "$(step_key libvirt-series)" "$S/libvirt-tests.sh"

if [ "$n" -gt 0 ]; then
    export QEMU_PATCHED=$build/qemu-system-x86_64 QEMU_BASE=$base_build/qemu-system-x86_64
    "$S/build.sh" "$src" "$build" qemu-system-x86_64
    bin=$(sha256sum <"$QEMU_PATCHED" | cut -c1-16) base_bin=$(sha256sum <"$QEMU_BASE" | cut -c1-16)
    # Linux guests under TCG: what the guest really sees (never cached)
    QEMU=$QEMU_PATCHED GUEST_SEABIOS_PATCHED=$sbp suite guest "$S/guest-run.sh" --all
    start_background
    # the other steps are cached by their rows of tests/cache-inputs.txt
    # and the binaries under test
    cached_step seabios-negative "$(step_key seabios-negative "$bin")" "$S/seabios-negative.sh" "$QEMU_PATCHED"
    cached_step robust "$(step_key robust "$bin" "$base_bin" "${ROBUST_SEED:-}")" "$S/robust.sh"
    cached_step migrate "$(step_key migrate "$bin" "$base_bin")" \
        env MIGRATE_PATCHED="$QEMU_PATCHED" MIGRATE_BASE="$QEMU_BASE" "$S/migrate.sh"
    cached_step bench-smoke "$(step_key bench-smoke "$bin" "$base_bin")" \
        env BENCH_PATCHED="$QEMU_PATCHED" BENCH_BASE="$QEMU_BASE" "$S/bench.sh" --smoke
    cached_step pciwin "$(step_key pciwin "$bin")" env PCIWIN_QEMU="$QEMU_PATCHED" "$S/pciwin.sh"
    # an spm node on a real /dev/dax0.0 and on hugepages, in nested guests
    cached_step nested "$(step_key nested "$bin")" env NESTED_QEMU="$QEMU_PATCHED" "$S/nested.sh"
    # upstream's -device sp-mem (Debian sid's QEMU 11.1.3) on the same
    # guest: the anchor of the comparison with the series
    cached_step spmem "$(step_key spmem)" "$S/spmem-smoke.sh"
    # the comparison's smoke share: two guest pairs (one spm range, two
    # ranges 2 MiB apart), the probes, a mismatched migration destination,
    # the code reach; both interfaces each
    cached_step compare-smoke "$(step_key compare-smoke "$bin")" env MEMMAP_QEMU="$QEMU_PATCHED" "$S/compare.sh" --smoke
    cached_step libvirt "$(step_key libvirt "$bin")" env QEMU="$QEMU_PATCHED" "$S/libvirt.sh"
    # the native road: patches/libvirt/'s libvirtd boots both models
    # (memmapType with this QEMU, sp-mem with QEMU 11.1.3), each with OVMF
    # and the patched SeaBIOS
    cached_step libvirt-native "$(step_key libvirt-native "$bin")" \
        env QEMU="$QEMU_PATCHED" GUEST_SEABIOS_PATCHED="$sbp" "$S/libvirt-native.sh"
    # Negative controls, last, in the tree and build every step above
    # tested: one mutation per kind of rule must make the series' qtest
    # fail in the subtest that guards the rule, after a baseline run that
    # passes, and a guest of the Linux scenarios must see the spm rule
    # broken (scripts/mutate.sh --smoke; all mutations: make mutate).  The
    # tree is restored and rebuilt after it.
    cached_step mutate-smoke "$(step_key mutate-smoke "$(git -C "$src" rev-parse 'HEAD^{tree}')")" \
        env MUTATE_SRC="$src" MUTATE_BUILD="$build" GUEST_SEABIOS_PATCHED="$sbp" "$S/mutate.sh" --smoke
    if [ "$(sha256sum <"$QEMU_PATCHED" | cut -c1-16)" != "$bin" ]; then
        bad "mutate-smoke left $QEMU_PATCHED other than it found it (its rebuild is not the same binary)"
    fi
fi
wait_background

echo
grep 'waived' "$LOGS/series-qemu.log" | sed -E 's/^ *PASS +/checkpatch warnings waived: /' || true
echo "Not run, by the explicit list tests/qtest-exclude.txt:"
grep -v '^\s*\(#\|$\)' "$ROOT/tests/qtest-exclude.txt" | sed 's/^/  /'
if [ ${#expected[@]} -gt 0 ]; then
    echo "Skipped, all on the list of expected skips (tests/expected-skips.txt):"
    printf '  %s\n' "${expected[@]}"
fi
if [ ${#replayed[@]} -gt 0 ]; then
    echo "Replayed, not run: the stored log of a passing run with the same inputs, judged again:"
    echo "  ${replayed[*]}"
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
read -r cc_hits1 cc_miss1 < <(ccache_stats)
record_run "$t_start" "$check_line" "$cache_state, ccache: $cc_files0 objects before, this run $((cc_hits1 - cc_hits0)) hits, $((cc_miss1 - cc_miss0)) misses" >>"$record.new"
mv "$record.new" "$record"
echo "check: took $(( ($(date +%s) - t_start) / 60 )) min $(( ($(date +%s) - t_start) % 60 )) s (record: ${record#"$ROOT"/}; scripts/timings.sh --record LABEL keeps it)"
verdict check
