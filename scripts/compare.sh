#!/bin/bash
# The series side by side with -device sp-mem -> COMPARISON.md.
# Called by: make compare; check.sh (--smoke, step compare-smoke), the pipeline.
#
# The series' -numa node,memmap-type= side by side with upstream's
# -device sp-mem (Debian sid's QEMU 11.1.3): `make compare`.
#
# Asks every question of tests/compare/questions.tsv of both interfaces,
# in one run, and writes COMPARISON.md and docs/compare-evidence.md from
# that run's cells (rows in .cache/compare/rows.tsv, rendered by
# tests/compare/render.py):
#   guest    the scenario pairs of scripts/guest-scenarios.sh
#            (COMPARE_PAIRS: NAME with memmap-type, spmem-NAME with
#            sp-mem), the same kernel, initramfs and firmware files
#   probes   scripts/compare-probes.sh: command line, management view,
#            host RSS and start-up, what each interface cannot say
#   pciwin   scripts/compare-pciwin.sh: a 64-bit BAR next to the range
#   migrate  scripts/spmem-migrate.sh: does the range's content migrate
#            (the reproducer of docs/upstream/sp-mem-migration-bug.md)
#   libvirt  scripts/compare-libvirt.sh: both through a private libvirtd
#   nested   NESTED_SPMEM=1 scripts/nested.sh: the range on a device-DAX
#            backend (/dev/dax0.0 inside the nested L1 guest), both
#   code     tests/compare/code_reach.py: the lines and files each adds
# Every cell must be measured for both interfaces (or show the error that
# says it cannot be expressed); a part that fails, or a cell left empty,
# fails the run.  Last line "compare: N passed, N failed, N skipped"
# ("compare-smoke: ..." with --smoke).
#
#   scripts/compare.sh [PART...]    (default: every part; COMPARISON.md is
#                                    written only when all ran)
#   scripts/compare.sh --smoke      make check's share (cells in
#                                    .cache/compare-smoke/): the guest pairs
#                                    one-spm-ovmf and addr-gap-guest, each
#                                    boot must give its dax devices with the
#                                    harness checks passing; the probes, the
#                                    migration to a destination set up
#                                    otherwise, the code reach.  Left to
#                                    make compare: pciwin, the running and
#                                    paused migrations, libvirt, nested
#                                    (make check has the series' side of
#                                    each as steps of its own)
# Environment: MEMMAP_QEMU (default: the patched binary `make check`
# builds, .cache/check/build/qemu-system-x86_64, else tree/build's, built
# here as `make build` does), QEMU_SPMEM (default:
# scripts/spmem-qemu.sh), GUEST_JOBS (boots at a time, default 2).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/guest-scenarios.sh
. "$(dirname "$0")/guest-scenarios.sh"

S=$ROOT/scripts
C=$CACHE/compare

smoke=0 me=compare
if [ "${1:-}" = --smoke ]; then
    smoke=1 C=$CACHE/compare-smoke me=compare-smoke
    COMPARE_PAIRS=(one-spm-ovmf:q35-ovmf-spm addr-gap-guest:q35-ovmf-two-spm-gap)
    export SPMEM_MIGRATE_MODE=mismatch
    set -- guest probes migrate code
fi
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(guest probes pciwin migrate libvirt nested code)
export COMPARE_ROWS=$C/rows.tsv
rm -rf "$C"; mkdir -p "$C/logs"

src=${MEMMAP_QEMU:-$CACHE/check/build/qemu-system-x86_64}
if [ -z "${MEMMAP_QEMU:-}" ] && [ ! -x "$src" ]; then
    # no make check yet: build the series as `make build` does
    say "compare: no patched QEMU from make check; building tree/build (make build)"
    [ -d "$ROOT/tree/src/.git" ] || "$S/apply.sh" "$ROOT/tree/src" >&2
    "$S/build.sh" "$ROOT/tree/src" "$ROOT/tree/build" qemu-system-x86_64 >&2
    src=$ROOT/tree/build/qemu-system-x86_64
fi
memmap=$(snapshot_qemu "$C" memmap "$src")
[ -n "$memmap" ] || die "no working patched QEMU at $src (set MEMMAP_QEMU=)"
spmem=${QEMU_SPMEM:-$("$S/spmem-qemu.sh")} || die "scripts/spmem-qemu.sh failed"
export ROOT
say "compare: this series: $memmap ($("$memmap" -version | head -1))"
say "compare: sp-mem:      $spmem ($("$spmem" -version | head -1))"

# part NAME CMD...: run one part with its output in .cache/compare/NAME.log
part() {
    local name=$1 log=$C/$1.log rc=0; shift
    say "compare: $name: $* (log: ${log#"$ROOT"/})"
    "$@" >"$log" 2>&1 || rc=$?
    grep -E '^(PASS|FAIL|SKIP)|^ *ROW' "$log" | sed 's/^/  /'
    if [ "$rc" = 0 ]; then pass "$name: $(tail -1 "$log")"; else fail "$name (exit $rc): $(tail -1 "$log")"; fi
}

# guest: each pair of COMPARE_PAIRS, GUEST_JOBS boots at a time (a
# scenario whose checks fail still gives its cells: they say what the
# guest saw; a boot that leaves no log fails the part)
# shellcheck disable=SC2317  # called through part()
guest_pairs() {
    local p q name iface scen pids=() n=0 jobs=${GUEST_JOBS:-2}
    "$S/guest-assets.sh" >&2 || return 1
    "$S/seabios.sh" >/dev/null || return 1
    for p in "${COMPARE_PAIRS[@]}"; do
        q=${p%%:*} name=${p#*:}
        for iface in memmap spmem; do
            scen=$name
            [ "$iface" = spmem ] && scen=spmem-$name
            if ! (define "$scen") 2>/dev/null; then
                echo "  (no $iface scenario for $q: $( (define "$scen") 2>&1 | sed 's/^error: //'))"
                continue
            fi
            while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
            (
                rc=0
                QEMU=$memmap QEMU_SPMEM=$spmem GUEST_LOGDIR=$C/logs \
                    "$S/guest-run.sh" "$scen" >"$C/logs/run-$scen.out" 2>&1 || rc=$?
                v=PASS; [ "$rc" = 0 ] || v="FAIL (exit $rc, see ${C#"$ROOT"/}/logs/run-$scen.out)"
                crc=0
                python3 "$ROOT/tests/compare/guest_cells.py" "$q" "$iface" \
                    "$C/logs/guest-$scen.log" "$v" "scripts/guest-run.sh $scen" >"$C/logs/cell-$scen.out" 2>&1 || crc=1
                if [ "$q" = one-spm-ovmf ]; then
                    python3 "$ROOT/tests/compare/guest_cells.py" node-view "$iface" \
                        "$C/logs/guest-$scen.log" "$v" "scripts/guest-run.sh $scen" >>"$C/logs/cell-$scen.out" 2>&1 || crc=1
                fi
                grep -E '^(PASS|FAIL|SKIP) ' "$C/logs/run-$scen.out"
                cat "$C/logs/cell-$scen.out"
                exit $crc
            ) &
            pids+=($!) n=$((n + 1))
        done
    done
    local rc=0 pid
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    echo "guest: $n boots"
    return $rc
}

for p in "${parts[@]}"; do
    case $p in
    guest) part guest guest_pairs ;;
    probes) part probes env MEMMAP_QEMU="$memmap" SPMEM_QEMU="$spmem" "$S/compare-probes.sh" ;;
    pciwin) part pciwin env MEMMAP_QEMU="$memmap" SPMEM_QEMU="$spmem" "$S/compare-pciwin.sh" ;;
    migrate) part migrate env MEMMAP_QEMU="$memmap" SPMEM_QEMU="$spmem" "$S/spmem-migrate.sh" ;;
    libvirt) part libvirt env QEMU="$memmap" SPMEM_QEMU="$spmem" "$S/compare-libvirt.sh" ;;
    nested) part nested env NESTED_SPMEM=1 NESTED_QEMU="$memmap" SPMEM_QEMU="$spmem" "$S/nested.sh" ;;
    code) part code python3 "$ROOT/tests/compare/code_reach.py" ;;
    *) die "unknown part '$p' (guest probes pciwin migrate libvirt nested code)" ;;
    esac
done

if [ $smoke = 1 ]; then
    for p in "${COMPARE_PAIRS[@]}"; do
        for iface in memmap spmem; do
            cell=$(awk -F'\t' -v q="${p%%:*}" -v i="$iface" '$1 == q && $2 == i { print $3 }' "$COMPARE_ROWS")
            if [[ $cell = "dax"*" on node 1 at "*"(harness checks: PASS)" ]]; then
                pass "${p%%:*}, $iface: $cell"
            else
                fail "${p%%:*}, $iface: want a dax device on node 1 and the harness checks passing; got '${cell:-no cell}'"
            fi
        done
    done
elif [ $# -eq 0 ]; then
    # written even when a check fails, so that the reader sees the gap
    rc=0
    python3 "$ROOT/tests/compare/render.py" "$ROOT/tests/compare/questions.tsv" "$COMPARE_ROWS" \
        "$memmap" "$spmem" "$C/COMPARISON.md" "$C/compare-evidence.md" 2>"$C/render.err" || rc=$?
    cp "$C/COMPARISON.md" "$ROOT/COMPARISON.md" 2>/dev/null || true
    cp "$C/compare-evidence.md" "$ROOT/docs/compare-evidence.md" 2>/dev/null || true
    if [ "$rc" = 0 ]; then
        pass "COMPARISON.md: every question has a measured cell for both interfaces, with its evidence and a command of this repository"
    else
        fail "COMPARISON.md: $(paste -sd';' "$C/render.err")"
    fi
fi
finish "$me"
