#!/bin/bash
# Error matrix, fuzzer, guest-ABI identity and their self-tests.
# Called by: make robust, check.sh (step robust), the pipeline.
#
# Robustness tests of the memmap-type series, against built binaries:
#  1. tests/robust/error_matrix.py   every invalid configuration, on the
#                                    command line and through QMP
#  2. tests/robust/fuzz.py           random configurations vs. an
#                                    independent oracle (200, or 2000
#                                    with --long)
#  3. tests/robust/abi_identity.py   fw_cfg e820/ACPI/SMBIOS byte-identical
#                                    to the unpatched QEMU without memmap-type
#  4. their negative controls: fuzz.py --self-test (every way of breaking
#     the oracle is caught) and abi_identity.py --self-test (guest-visible
#     changes on the patched side fail the comparison)
#   scripts/robust.sh [--long]
# Binaries: QEMU_PATCHED (default .cache/check/build/qemu-system-x86_64)
# and QEMU_BASE (default .cache/check/base/build/qemu-system-x86_64).
# The fuzzer's seed is ROBUST_SEED, by default a fixed one, so that a run
# of `make check` is repeatable; --long uses a new random seed unless
# ROBUST_SEED is set (every run prints its seed; replay with
# tests/robust/fuzz.py --seed S --count N).
# One log per part: .cache/logs/robust-{error-matrix,fuzz,abi-identity,
# fuzz-selftest,abi-selftest}.log.
# Last line: "robust: N passed, N failed, N skipped" (the sum of the
# three parts); exit status 1 on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
long=
case ${1:-} in
--long) long=1 ;;
'') ;;
*) die "usage: $0 [--long]" ;;
esac
export QEMU_PATCHED=${QEMU_PATCHED:-$CACHE/check/build/qemu-system-x86_64}
export QEMU_BASE=${QEMU_BASE:-$CACHE/check/base/build/qemu-system-x86_64}
T=$ROOT/tests/robust
count=200; seed=${ROBUST_SEED:-20261121}
if [ -n "$long" ]; then
    count=2000; seed=${ROBUST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
fi

bad=()
for b in "$QEMU_PATCHED" "$QEMU_BASE"; do
    [ -x "$b" ] || { fail "missing binary $b"; bad+=("missing binary $b"); }
done

part() { # NAME LOG CMD...: run one part, add its verdict line's counts
    local name=$1 log=$2 t0=$SECONDS; shift 2
    say "robust: $name (log: ${log#"$ROOT"/})"
    "$@" >"$log" 2>&1 || true
    add_step "$name" "$log" || true
    printf '  %-13s %s (%d s)\n' "$name" "$(tail -1 "$log")" $((SECONDS - t0))
    # each skip with its reason, for make check's list of expected skips
    grep -E '^ *SKIP' "$log" | sed -E "s/^ *SKIP:? */  SKIP  $name: /" || true
    if grep -qE "^$name: [0-9]+ passed, [1-9][0-9]* failed" "$log"; then
        bad+=("$name (log: ${log#"$ROOT"/})")
        grep -E '^(FAIL|    )' "$log" | head -20 | sed 's/^/    /' || true
    fi
}

if [ ${#bad[@]} = 0 ]; then
    part error-matrix "$LOGS/robust-error-matrix.log" \
        python3 "$T/error_matrix.py" --qemu "$QEMU_PATCHED"
    part fuzz "$LOGS/robust-fuzz.log" \
        python3 "$T/fuzz.py" --qemu "$QEMU_PATCHED" --count "$count" --seed "$seed" --jobs 2
    grep -E '^fuzz: (seed .*configurations|hints: )' "$LOGS/robust-fuzz.log" | sed 's/^/    /' || true
    part abi-identity "$LOGS/robust-abi-identity.log" \
        python3 "$T/abi_identity.py" --patched "$QEMU_PATCHED" --base "$QEMU_BASE"
    # negative controls: each comparison above must be able to fail
    part fuzz-selftest "$LOGS/robust-fuzz-selftest.log" \
        python3 "$T/fuzz.py" --self-test --qemu "$QEMU_PATCHED" --seed "$seed"
    part abi-selftest "$LOGS/robust-abi-selftest.log" \
        python3 "$T/abi_identity.py" --self-test --patched "$QEMU_PATCHED" --base "$QEMU_BASE"
fi
if [ ${#bad[@]} -gt 0 ]; then
    echo "FAILED:"; printf '  %s\n' "${bad[@]}"
fi
verdict robust
