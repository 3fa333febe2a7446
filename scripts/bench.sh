#!/bin/bash
# Benchmarks of memmap-type (start-up, e820 size, host RSS) -> BENCHMARKS.md.
# Called by: make bench; make check (--smoke, step bench-smoke).
#
# `make bench`: what -numa node,memmap-type= costs and what it saves.
#  1. QEMU start-up (launch -> QMP ready -> quit), patched vs unpatched,
#     1/16/64/128 NUMA nodes, interleaved A/B, medians and ratio;
#  2. the e820 table's size for those configurations, the largest table
#     the option can produce, SeaBIOS's own map of it;
#  3. host RSS of a TCG + OVMF guest with a 4 GiB node 1 that is spm,
#     normal or absent, and spm onlined through kmem;
#  4. the developer loop: timings of `make check` from
#     .cache/bench-devloop.txt when someone put them there;
#  5. a plot of (1), docs/bench-startup.svg.
# Writes BENCHMARKS.md (every figure in it comes from this run; long
# command lines shown cut short), docs/bench-commands.md (every command
# line whole), the plot, JSON results in .cache/bench/ and one log per step in
# .cache/logs/bench-*.log.  Never fails on a number; fails only when a
# step could not run at all.
#
#   scripts/bench.sh           the full run (about 5-8 minutes on 2 cores)
#   scripts/bench.sh --smoke   one iteration of everything, small configs,
#                              output in .cache/bench/smoke/ (BENCHMARKS.md
#                              and the plot are left alone); < 60 s;
#                              last line "bench-smoke: N passed, N failed, N skipped"
#
# Environment: BENCH_PATCHED, BENCH_BASE (the binaries to compare; default
# the ones `make check` builds in .cache/check/{build,base/build}); each is
# copied with its qemu-bundle/ into .cache/bench-scratch/ first, so a
# rebuild during the run changes nothing.  BENCH_ITER (start-up
# iterations, default 60), BENCH_REPS (guest boots per case, default 3).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

mode=full
case "${1:-}" in
--smoke) mode=smoke ;;
"") ;;
*) die "usage: $0 [--smoke]" ;;
esac

PATCHED_SRC=${BENCH_PATCHED:-$CACHE/check/build/qemu-system-x86_64}
BASE_SRC=${BENCH_BASE:-$CACHE/check/base/build/qemu-system-x86_64}
B=$ROOT/tests/bench
PY=(python3 "$B/bench.py")
if [ $mode = smoke ]; then
    OUTDIR=$CACHE/bench/smoke
    MD=$OUTDIR/BENCHMARKS.md
    CMDS=$OUTDIR/bench-commands.md
    PLOT=$OUTDIR/bench-startup.svg
    SCRATCH=$CACHE/bench-scratch/smoke
    ITER=1 REPS=1 NODES=1,16 GUEST_CASES=spm NODE1_MIB=1024 LOGP=bench-smoke
    T_STARTUP=60 T_GUEST=45 T_BOOT=35
else
    OUTDIR=$CACHE/bench
    MD=$ROOT/BENCHMARKS.md
    CMDS=$ROOT/docs/bench-commands.md
    PLOT=$ROOT/docs/bench-startup.svg
    SCRATCH=$CACHE/bench-scratch
    ITER=${BENCH_ITER:-60} REPS=${BENCH_REPS:-3} NODES=1,16,64,128
    GUEST_CASES=absent,normal,spm,spm-online,spm-noswiotlb NODE1_MIB=4096 LOGP=bench
    T_STARTUP=1200 T_GUEST=1800 T_BOOT=120
fi
mkdir -p "$OUTDIR"
rm -f "$OUTDIR"/{startup,e820,guest}.json "$OUTDIR/startup.dat"
step=bench
[ "$mode" != smoke ] || step=bench-smoke
steps=()

# binmeta PATH SRC: JSON object describing a binary
binmeta() {
    printf '{"path": "%s", "source": "%s", "version": "%s", "sha256": "%s"}' \
        "${1#"$ROOT"/}" "${2#"$ROOT"/}" \
        "$("$1" -version | head -1 | sed 's/"/\\"/g')" \
        "$(sha256sum "$1" | cut -d' ' -f1)"
}

# step NAME TIMEOUT CMD...: run a measurement with its log; sets step_ok
step() {
    local name=$1 t=$2; shift 2
    local log=$LOGS/$LOGP-$name.log     # LOGS: from lib.sh
    steps+=("$(printf '%q ' "$@" | sed "s|$ROOT/||g")")
    say "bench: $name (log: $log)"
    step_ok=0
    if timeout --kill-after=10 "$t" "$@" >"$log" 2>&1; then
        step_ok=1
    else
        echo "---- last 20 lines of $log ----"
        tail -20 "$log"
    fi
}

t_start=$(date +%s)
load=$(cut -d' ' -f1-3 /proc/loadavg)
patched=$(snapshot_qemu "$SCRATCH" patched "$PATCHED_SRC")
base=$(snapshot_qemu "$SCRATCH" base "$BASE_SRC")
if [ -z "$patched" ]; then
    fail "no working patched QEMU at $PATCHED_SRC (make check builds it; or set BENCH_PATCHED=)"
    verdict "$step"; exit 1
fi
pass "patched QEMU copied to ${patched#"$ROOT"/}"
if [ -n "$base" ]; then
    pass "unpatched QEMU copied to ${base#"$ROOT"/}"
    base_args=(--base "$base")
else
    skip "unpatched QEMU (none at $BASE_SRC): patched-only figures, no ratios"
    base_args=()
fi

# 1. start-up
step startup "$T_STARTUP" \
    "${PY[@]}" startup --patched "$patched" "${base_args[@]}" \
    --iterations "$ITER" --nodes "$NODES" --timeout 30 --out "$OUTDIR/startup.json"
if [ $step_ok = 1 ]; then pass "start-up timing ($ITER iteration(s), nodes $NODES)"; else fail "start-up timing"; fi

# 2. e820
seabios_args=()
# shellcheck source=/dev/null
if "$ROOT/scripts/guest-assets.sh" >"$LOGS/$LOGP-assets.log" 2>&1 && . "$CACHE/guest/assets.env"; then
    assets=1
    seabios_args=(--seabios "$GUEST_SEABIOS")
    [ $mode = full ] && seabios_args+=(--seabios-limit)
else
    assets=0
fi
step e820 300 "${PY[@]}" e820 --patched "$patched" "${base_args[@]}" --nodes "$NODES" \
    --timeout 30 "${seabios_args[@]}" --out "$OUTDIR/e820.json"
if [ $step_ok = 1 ]; then pass "e820 sizes"; else fail "e820 sizes"; fi

# 3. guest RSS
if [ $assets = 1 ]; then
    export GUEST_OVMF_CODE GUEST_OVMF_VARS GUEST_KERNEL GUEST_INITRD GUEST_KERNEL_PKG GUEST_OVMF_PKG
    step guest "$T_GUEST" \
        "${PY[@]}" guest --patched "$patched" --reps "$REPS" --cases "$GUEST_CASES" \
        --node1-mib "$NODE1_MIB" --timeout "$T_BOOT" \
        --logdir "$LOGS" --logprefix "$LOGP-guest" --out "$OUTDIR/guest.json"
    if [ $step_ok = 1 ] && python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["failed"] > 0)' "$OUTDIR/guest.json"; then
        pass "guest RSS ($GUEST_CASES, $REPS rep(s))"
    else
        fail "guest RSS (logs: $LOGS/$LOGP-guest-*.log)"
    fi
else
    skip "guest RSS: guest assets unavailable ($(grep '^error:' "$LOGS/$LOGP-assets.log" | tail -1))"
fi

# 4 + report
devloop=$CACHE/bench-devloop.txt
if [ -s "$devloop" ]; then pass "developer loop: read $devloop"; else skip "developer loop: no $devloop (not measured in this run)"; fi
meta=$OUTDIR/meta.json
{
    printf '{"date": "%s", ' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf '"invocation": "scripts/bench.sh%s", ' "$([ $mode = smoke ] && echo ' --smoke')"
    printf '"cpu": "%s", ' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    printf '"cores": %s, "mem": "%s", "kernel": "%s", ' "$(nproc)" \
        "$(free -h | awk '/^Mem:/ {print $2}')" "$(uname -r)"
    printf '"load": "%s", "load_end": "%s", ' "$load" "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '"series": "%s", ' "series hash $(series_hash)"
    printf '"patched": %s, ' "$(binmeta "$patched" "$PATCHED_SRC")"
    if [ -n "$base" ]; then printf '"base": %s, ' "$(binmeta "$base" "$BASE_SRC")"; fi
    python3 -c 'import json,sys; print("\"steps\": " + json.dumps(sys.argv[1:]) + "}")' "${steps[@]}"
} >"$meta"
if python3 "$B/report.py" --dir "$OUTDIR" --out "$MD" --dat "$OUTDIR/startup.dat" --commands "$CMDS" \
    --meta "$meta" --devloop "$devloop" --root "$ROOT" >"$LOGS/$LOGP-report.log" 2>&1; then
    pass "report written: ${MD#"$ROOT"/}"
else
    tail -20 "$LOGS/$LOGP-report.log"
    fail "report (log: $LOGS/$LOGP-report.log)"
fi

# 5. plot
if [ ! -s "$OUTDIR/startup.dat" ]; then
    skip "plot: no start-up data"
elif ! command -v gnuplot >/dev/null; then
    skip "plot: gnuplot not installed (apt-get install gnuplot-nox)"
else
    mkdir -p "$(dirname "$PLOT")"
    if gnuplot -e "datafile='$OUTDIR/startup.dat'; outfile='$PLOT.tmp'; subtitle='$(date -u +%Y-%m-%d), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), shared machine; $ITER iterations'" \
        "$B/plot.gp" >"$LOGS/$LOGP-plot.log" 2>&1 && mv "$PLOT.tmp" "$PLOT"; then
        pass "plot: ${PLOT#"$ROOT"/}"
    else
        tail -5 "$LOGS/$LOGP-plot.log"
        fail "plot (log: $LOGS/$LOGP-plot.log)"
    fi
fi

echo "bench: $(( $(date +%s) - t_start )) s; report ${MD#"$ROOT"/}"
verdict "$step"
