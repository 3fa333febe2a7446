#!/bin/bash
# Break each rule of the series; numa-memmap-test must fail each time.
# Called by: make mutate, check.sh (--smoke, step mutate-smoke), the pipeline.
#
# Show that numa-memmap-test fails when any one rule of the series is
# broken: apply the series in a scratch tree, run the test unmutated (it
# must pass: a broken environment would otherwise "kill" every
# mutation), then for each mutation (one small edit of the QEMU code,
# tests/mutate/mutations.py) rebuild and run the test, which must FAIL.
#
#   scripts/mutate.sh           every mutation (`make mutate`, the
#                               pipeline's mutate job; about a minute each)
#   scripts/mutate.sh --smoke   make check's share: one mutation per kind
#                               of rule (SMOKE in mutations.py), and the
#                               assertion that fails must be the check
#                               that guards that rule; where the rule is
#                               a firmware's (PCIWIN in mutations.py),
#                               scripts/pciwin.sh against the mutated
#                               build must fail as well
# Last line "mutate: N passed, N failed, N skipped" ("mutate-smoke: ...").
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
name=mutate
[ "${1:-}" = --smoke ] && name=mutate-smoke
src=$CACHE/mutate/src; build=$CACHE/mutate/build
m=$ROOT/tests/mutate/mutations.py
"$ROOT/scripts/apply.sh" "$src" --force >/dev/null
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 tests/qtest/numa-memmap-test

# run_test LOG: numa-memmap-test against the build; its status
run_test() {
    (cd "$build" && QTEST_QEMU_BINARY=./qemu-system-x86_64 ./tests/qtest/numa-memmap-test >"$1" 2>&1) 2>/dev/null
}

# guest_check N RULE: the guest-level check of mutation N (PCIWIN in
# mutations.py), if it has one, must fail against the mutated build, and
# each of its FAIL lines must say the rule is broken.  Its logs and
# scratch copy are its own: the passing pciwin step's stay its evidence.
guest_check() {
    local i=$1 rule=$2 spec opts want log=$LOGS/$name-$1-pciwin.log n
    spec=$(python3 "$m" pciwin "$i")
    [ -n "$spec" ] || return 0
    IFS=$'\t' read -r opts want <<<"$spec"
    # shellcheck disable=SC2086
    PCIWIN_QEMU=$build/qemu-system-x86_64 PCIWIN_SCRATCH=$CACHE/mutate/pciwin-scratch \
        PCIWIN_LOGDIR=$LOGS/$name-pciwin "$ROOT/scripts/pciwin.sh" $opts >"$log" 2>&1 || true
    n=$(grep -c '^  FAIL' "$log" || true)
    if grep -q '^  SKIP' "$log" || ! grep -qE '^pciwin: [0-9]+ passed' "$log"; then
        fail "$rule: pciwin $opts did not run against the mutated build (log: $log)"
    elif [ "$n" = 0 ]; then
        fail "$rule: pciwin $opts passes against the mutated build (log: $log)"
    elif grep '^  FAIL' "$log" | grep -qvE "^  $want"; then
        fail "$rule: pciwin $opts fails, but not only for the rule (want /$want/; log: $log)"
    else
        pass "$rule: pciwin $opts fails in $n cases: $(grep -m1 '^  FAIL' "$log" | sed 's/^  FAIL  //' | cut -c1-200)"
    fi
}

if run_test "$LOGS/$name-baseline.log"; then
    pass "baseline: numa-memmap-test passes on the unmutated series ($(grep -c '^ok ' "$LOGS/$name-baseline.log") subtests)"
else
    fail "baseline: numa-memmap-test fails without any mutation (log: $LOGS/$name-baseline.log); no mutation can be judged"
    finish "$name"
fi

if [ "$name" = mutate-smoke ]; then
    list=$(python3 "$m" smoke)
else
    list=$(seq 0 $(($(python3 "$m" count) - 1)))
fi
while IFS=$'\t' read -r i want; do
    rule=$(python3 "$m" apply "$i" "$src")
    log=$LOGS/$name-$i.log
    if ! "$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1; then
        fail "$rule: the mutated tree does not build (log: $LOGS/build-mutate-build.log)"
    elif run_test "$log"; then
        fail "$rule: numa-memmap-test passed with the rule broken"
    else
        first=$(grep -m1 '^not ok\|^Bail' "$log" | cut -c1-160)
        if [ -n "$want" ] && ! [[ $first =~ $want ]]; then
            fail "$rule: numa-memmap-test fails, but not in the check that guards the rule (want /$want/): $first (log: $log)"
        else
            pass "$rule: numa-memmap-test fails: $first"
        fi
        [ "$name" = mutate-smoke ] && guest_check "$i" "$rule"
    fi
    git -C "$src" checkout -q -- .
done <<<"$list"
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1
finish "$name"
