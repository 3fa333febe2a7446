#!/bin/bash
# Boot Linux guests per scenario under TCG and check what they see.
# Called by: make guest, make demo, check.sh (step guest), seabios-negative.sh, compare.sh, the pipeline.
#
# Boot a Linux guest under TCG with -numa node,...,memmap-type= and assert
# what the guest sees of its memory map (tests/guest/init prints a report,
# tests/guest/parse_report.py checks it).  Expected addresses, sizes and
# node ids are computed here from each scenario's configuration.
#
#   scripts/guest-run.sh SCENARIO   run one scenario (exit 0 pass, 1 fail, 77 skip)
#   scripts/guest-run.sh --all      run every scenario, GUEST_JOBS boots at
#                                   a time; last line
#                                   "guest: N passed, N failed, N skipped"
#   scripts/guest-run.sh --demo     spm through OVMF and through patched
#                                   SeaBIOS, shown for humans
#   scripts/guest-run.sh --list     list the scenarios
# The scenarios are defined in scripts/guest-scenarios.sh.
#
# Environment: QEMU (default tree/build/qemu-system-x86_64), QEMU_BASE
# (the unpatched build, for base-qemu-sbp; that scenario skips without
# it), QEMU_SPMEM (upstream's sp-mem, for the "spmem-" scenarios;
# default: Debian sid's QEMU 11.1.3 from scripts/spmem-qemu.sh),
# GUEST_SEABIOS_PATCHED (a bios-256k.bin; default: the one
# scripts/seabios.sh builds), GUEST_SEABIOS_STOCK (stock SeaBIOS 1.17.0
# for firmware sbs; default: scripts/seabios.sh --stock), GUEST_LOCK (default guest.lock, read by
# guest-assets.sh), GUEST_TIMEOUT (seconds per boot, default 60),
# GUEST_JOBS (boots at a time for --all, default 2),
# GUEST_MEMMAP_TYPE_OVERRIDE (negative testing: give every non-normal
# node this memmap-type on the QEMU command line, or none at all with
# "none", while the checks still expect the scenario's types),
# GUEST_EXPECT_SIZE_OVERRIDE (negative testing: "NODE:MiB" makes the
# checks expect node NODE to have MiB while QEMU still gets the
# scenario's size), GUEST_LOGDIR (where the scenario logs go, default .cache/logs/; a
# negative run uses its own, so the positive run's evidence is kept).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

QEMU=${QEMU:-$ROOT/tree/build/qemu-system-x86_64}
QEMU_BASE=${QEMU_BASE:-}
QEMU_SPMEM=${QEMU_SPMEM:-}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-60}
GUEST_JOBS=${GUEST_JOBS:-2}
OVERRIDE=${GUEST_MEMMAP_TYPE_OVERRIDE:-}
GLOGS=${GUEST_LOGDIR:-$LOGS}   # where each scenario's log goes
mkdir -p "$GLOGS"
PARSER=$ROOT/tests/guest/parse_report.py
G=$CACHE/guest
# shellcheck source=scripts/guest-scenarios.sh
. "$(dirname "$0")/guest-scenarios.sh"

# shellcheck source=scripts/guest-cmd.sh
. "$(dirname "$0")/guest-cmd.sh"

# prereqs: empty if the scenarios can run, else the reason
prereq_reason=""
prereqs() {
    [ -x "$QEMU" ] || { prereq_reason="no QEMU binary at $QEMU (make build, or set QEMU=)"; return; }
    command -v python3 >/dev/null || { prereq_reason="python3 not found"; return; }
    local alog=$LOGS/guest-assets.log
    if ! "$ROOT/scripts/guest-assets.sh" 2>"$alog"; then
        prereq_reason="guest assets unavailable: $(grep '^error:' "$alog" | tail -1) (log: $alog)"
        return
    fi
    cat "$alog" >&2
    # shellcheck source=/dev/null
    . "$G/assets.env"
    if [ -z "${GUEST_SEABIOS_PATCHED:-}" ]; then
        local slog=$LOGS/guest-seabios.log dir
        if dir=$("$ROOT/scripts/seabios.sh" 2>"$slog"); then
            GUEST_SEABIOS_PATCHED=$dir/bios-256k.bin
            cat "$slog" >&2
        else
            # not a reason to skip: the sbp scenarios fail with it
            sbp_reason="patched SeaBIOS did not build: $(grep '^error:' "$slog" | tail -1) (log: $slog)"
        fi
    fi
}
sbp_reason=""
spmem_reason=""
sbs_reason=""

# sbs_bios: GUEST_SEABIOS_STOCK, stock SeaBIOS 1.17.0 for firmware sbs,
# built by scripts/seabios.sh --stock on first use (a failure fails
# those scenarios)
sbs_bios() {
    [ -z "${GUEST_SEABIOS_STOCK:-}" ] && [ -z "$sbs_reason" ] || return 0
    local slog=$LOGS/guest-seabios-stock.log dir
    if dir=$("$ROOT/scripts/seabios.sh" --stock 2>"$slog"); then
        GUEST_SEABIOS_STOCK=$dir/bios-256k.bin
    else
        sbs_reason="stock SeaBIOS did not build: $(grep '^error:' "$slog" | tail -1) (log: $slog)"
    fi
}

# spmem_qemu: QEMU_SPMEM, the sid QEMU of the "spmem-" scenarios, made
# by scripts/spmem-qemu.sh on first use (a failure fails those scenarios)
spmem_qemu() {
    [ -z "$QEMU_SPMEM" ] && [ -z "$spmem_reason" ] || return 0
    local slog=$LOGS/guest-spmem-qemu.log
    QEMU_SPMEM=$("$ROOT/scripts/spmem-qemu.sh" 2>"$slog") ||
        spmem_reason="sid QEMU 11.1.3 not available: $(grep '^error:' "$slog" | tail -1) (log: $slog)"
}

# scenario_reason: why the defined scenario cannot run here (empty: it can)
scenario_reason() {
    if [ "$qemu" = base ] && [ ! -x "$QEMU_BASE" ]; then
        echo "no unpatched QEMU (set QEMU_BASE=; make check does)"
    fi
}

# run NAME [demo]: one scenario; sets result (PASS|FAIL|SKIP), boot_secs
run() {
    local name=$1 mode=${2:-} log tmp rc t0 t1 i
    define "$name"; layout
    if [ -n "${GUEST_EXPECT_SIZE_OVERRIDE:-}" ]; then
        # the expectation only: qemu_cmd reads nodes[], the checks node_size[]
        node_size[${GUEST_EXPECT_SIZE_OVERRIDE%%:*}]=$(( ${GUEST_EXPECT_SIZE_OVERRIDE#*:} * MiB ))
    fi
    checks
    result=FAIL boot_secs=-
    local why=${prereq_reason:-$(scenario_reason)}
    if [ -n "$why" ]; then
        echo "SKIP $name: $why"
        result=SKIP
        return
    fi
    if [ "$firmware" = sbp ] && [ -n "$sbp_reason" ]; then
        echo "FAIL $name: $sbp_reason"
        return
    fi
    [ "$firmware" = sbs ] && sbs_bios
    if [ "$firmware" = sbs ] && [ -n "$sbs_reason" ]; then
        echo "FAIL $name: $sbs_reason"
        return
    fi
    [ "$qemu" = spmem ] && spmem_qemu
    if [ "$qemu" = spmem ] && [ -n "$spmem_reason" ]; then
        echo "FAIL $name: $spmem_reason"
        return
    fi
    log=$GLOGS/guest-$name.log
    mkdir -p "$G/tmp"
    tmp=$(mktemp -d "$G/tmp/$name.XXXXXX")
    qemu_cmd "$tmp" "$log"
    {
        echo "# scenario $name: $desc"
        [ -n "$OVERRIDE" ] && echo "# GUEST_MEMMAP_TYPE_OVERRIDE=$OVERRIDE"
        printf '# %s' "$(quote "${cmd[0]}")"
        for i in "${cmd[@]:1}"; do printf ' %s' "$(quote "$i")"; done
        echo
    } >"$log"
    [ "$mode" = demo ] || say "guest: $name: $desc"
    [ -n "$OVERRIDE" ] && say "guest: NEGATIVE TEST: QEMU is given memmap-type=$OVERRIDE for every non-normal node; the checks expect the scenario's types"
    [ -n "${GUEST_EXPECT_SIZE_OVERRIDE:-}" ] && say "guest: NEGATIVE TEST: the checks expect node ${GUEST_EXPECT_SIZE_OVERRIDE%%:*} to have ${GUEST_EXPECT_SIZE_OVERRIDE#*:} MiB; QEMU is given the scenario's size"
    if [ "$mode" = demo ]; then
        echo "QEMU command line:"
        show_cmd
    fi
    local what
    for i in "${!nodes[@]}"; do
        [ "${node_type[i]}" = - ] && continue
        what="memmap-type=${node_type[i]}"
        [ "$qemu" = spmem ] && what=RAM && [ "${node_type[i]}" = spm ] && what="-device sp-mem"
        printf '  node %d: %s, %s, guest-physical [0x%x-0x%x]\n' "$i" \
            "$(( node_size[i] / MiB )) MiB" "$what" "${node_start[i]}" \
            "$(( node_start[i] + node_size[i] - 1 ))"
    done
    for i in "${!extra[@]}"; do
        printf '  node %d: %s, -device sp-mem, guest-physical [0x%x-0x%x]\n' "${extra_node[i]}" \
            "$(( extra_size[i] / MiB )) MiB" "${extra_start[i]}" "$(( extra_start[i] + extra_size[i] - 1 ))"
    done
    t0=$(date +%s%N)
    rc=0
    timeout --kill-after=5 "$GUEST_TIMEOUT" "${cmd[@]}" </dev/null >>"$log" 2>&1 || rc=$?
    t1=$(date +%s%N)
    boot_secs=$(printf '%d.%d' $(( (t1 - t0) / 1000000000 )) $(( (t1 - t0) / 100000000 % 10 )))
    rm -rf "$tmp"
    local ok=1
    if [ "$refuse" = 1 ]; then
        # QEMU must stop at once with status 1 and the expected error
        if [ "$rc" = 1 ] && grep -qF -- "${checks[0]}" "$log"; then
            echo "  PASS  QEMU refused it (exit status 1): $(grep -m1 -F -- "${checks[0]}" "$log")"
            result=PASS
            echo "PASS $name (${boot_secs} s; log $log)"
        else
            echo "  FAIL  expected exit status 1 and the error '${checks[0]}'; got status $rc"
            tail -5 "$log" | cut -c1-200
            echo "FAIL $name (${boot_secs} s; log $log)"
        fi
        return
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "  FAIL  boot timed out after ${GUEST_TIMEOUT} s"; ok=0
    elif [ "$rc" != 0 ]; then
        echo "  FAIL  QEMU exited with status $rc"; ok=0
    fi
    if [ "$mode" = demo ] && [ "$rc" = 0 ]; then
        echo "What the guest saw (node 1):"
        python3 "$PARSER" "$log" --demo "1:${node_start[1]}:${node_size[1]}" | sed 's/^/  /' || true
        echo "Checks:"
    fi
    python3 "$PARSER" "$log" "${checks[@]}" || ok=0
    if [ $ok = 1 ]; then
        result=PASS
        echo "PASS $name (boot ${boot_secs} s; log $log)"
    else
        echo "---- last 40 lines of $log ----"
        tail -40 "$log" | cut -c1-200
        echo "FAIL $name (boot ${boot_secs} s; log $log)"
    fi
}

# demo_one SCENARIO FIRMWARE-LABEL: one road of the demo; sets demo_ok=0
# when it fails
demo_one() {
    local name=$1 label=$2 gib
    define "$name"; layout
    echo
    echo "=== memmap-type=spm through $label: q35, Linux ($GUEST_KERNEL_PKG), TCG ==="
    run "$name" demo
    gib=$((node_size[1] / GiB))
    if [ "$result" = PASS ]; then
        printf 'PASS (%s): node 1 (%d GiB at 0x%x) reached Linux as soft-reserved memory, became a dax device on node 1, and was onlined as node 1 RAM (boot %s s)\n' \
            "$label" "$gib" "${node_start[1]}" "$boot_secs"
    else
        printf 'FAIL (%s): the guest did not see node 1 as soft-reserved memory as expected (log %s)\n' \
            "$label" "$GLOGS/guest-$name.log"
        demo_ok=0
    fi
}

demo() {
    prereqs
    [ -z "$prereq_reason" ] || die "$prereq_reason"
    [ -z "$sbp_reason" ] || die "$sbp_reason"
    demo_ok=1
    demo_one q35-ovmf-spm "OVMF ($GUEST_OVMF_PKG)"
    demo_one q35-sbp-spm "SeaBIOS with patches/seabios/ ($GUEST_SEABIOS_PATCHED)"
    echo
    if [ $demo_ok = 1 ]; then
        echo "verdict: PASS: memmap-type=spm works with both firmware roads (OVMF and patched SeaBIOS)"
    else
        echo "verdict: FAIL: see the FAIL lines above"
        exit 1
    fi
}

# all: every scenario, GUEST_JOBS at a time (TCG runs one vCPU in one
# host thread, so two boots use the two cores of a small machine); the
# output of each is printed whole, in scenario order
all() {
    local name i summary=() out=$G/all res
    prereqs
    [[ " ${SCENARIOS[*]}" != *" spmem-"* ]] || spmem_qemu
    [[ " ${SCENARIOS[*]}" != *" cap-sbs-"* ]] || sbs_bios
    rm -rf "$out"; mkdir -p "$out"
    for i in "${!SCENARIOS[@]}"; do
        name=${SCENARIOS[i]}
        while [ "$(jobs -rp | wc -l)" -ge "$GUEST_JOBS" ]; do wait -n || true; done
        (
            run "$name"
            printf '%s %s\n' "$result" "$boot_secs" >"$out/$i.result"
        ) >"$out/$i.out" 2>&1 &
    done
    wait || true
    for i in "${!SCENARIOS[@]}"; do
        name=${SCENARIOS[i]}
        cat "$out/$i.out"
        res=$(cat "$out/$i.result" 2>/dev/null || echo "FAIL -")
        tally "${res%% *}"
        summary+=("$(printf '  %-4s %-26s %s s' "${res%% *}" "$name" "${res#* }")")
    done
    echo "summary (boot wall time under TCG, $GUEST_JOBS boots at a time):"
    printf '%s\n' "${summary[@]}"
    verdict guest
}

case "${1:-}" in
--all) all ;;
--demo) demo ;;
--list)
    for s in "${SCENARIOS[@]}"; do define "$s"; printf '%-26s %s\n' "$s" "$desc"; done ;;
"" | -*) die "usage: $0 SCENARIO | --all | --demo | --list" ;;
*)
    define "$1"
    prereqs
    run "$1"
    case $result in PASS) exit 0 ;; SKIP) exit 77 ;; *) exit 1 ;; esac ;;
esac
