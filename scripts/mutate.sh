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
#                               pipeline's mutate job; about a minute
#                               each), each required to fail in the
#                               check GUARD in mutations.py names for it
#   scripts/mutate.sh --smoke   make check's share: one mutation per kind
#                               of rule (SMOKE in mutations.py), and the
#                               assertion that fails must be the check
#                               that guards that rule; where the rule is
#                               a firmware's (PCIWIN in mutations.py),
#                               scripts/pciwin.sh against the mutated
#                               build must fail as well, and where a Linux
#                               guest sees the rule (GUEST), its scenarios
#                               through OVMF and SeaBIOS must fail in their
#                               e820 or dax check
# Environment: MUTATE_SRC and MUTATE_BUILD, a clean tree at the series
# and its build (make check's, which has built everything once): the
# mutations are made there, and the tree is restored and rebuilt after;
# without them, a tree of its own in .cache/mutate/.
# Last line "mutate: N passed, N failed, N skipped" ("mutate-smoke: ...").
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
name=mutate
[ "${1:-}" = --smoke ] && name=mutate-smoke
m=$ROOT/tests/mutate/mutations.py
if [ -n "${MUTATE_SRC:-}" ]; then
    # a tree and build of the caller's (make check's), at the series: it
    # must be clean, and is left clean and rebuilt
    src=$MUTATE_SRC build=$MUTATE_BUILD
    [ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ] ||
        die "MUTATE_SRC=$src has local changes; mutations need a clean tree"
else
    src=$CACHE/mutate/src build=$CACHE/mutate/build
    "$ROOT/scripts/apply.sh" "$src" --own >/dev/null
fi
restore() { git -C "$src" checkout -q -- .; }
trap restore EXIT
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

# linux_check N RULE: the Linux guest scenarios of mutation N (GUEST in
# mutations.py), if it has any, must each fail against the mutated build,
# and one of each one's FAIL lines must be the check that guards the
# rule (the guest's e820 or dax check); their logs are their own
linux_check() {
    local i=$1 rule=$2 spec scen want g log out rc
    spec=$(python3 "$m" guest "$i")
    [ -n "$spec" ] || return 0
    IFS=$'\t' read -r scen want <<<"$spec"
    for g in $scen; do
        log=$LOGS/$name-$i-guest-$g.log rc=0
        QEMU=$build/qemu-system-x86_64 GUEST_LOGDIR=$LOGS/$name-guest \
            "$ROOT/scripts/guest-run.sh" "$g" >"$log" 2>&1 || rc=$?
        out=$(grep -E '^ *FAIL' "$log" | sed -E 's/^ *//' || true)
        if [ "$rc" = 0 ]; then
            fail "$rule: guest $g passes against the mutated build (log: $log)"
        elif [ "$rc" = 77 ] || [ -z "$out" ]; then
            fail "$rule: guest $g did not run against the mutated build (exit $rc; log: $log)"
        elif ! grep -qE "^$want" <<<"$out"; then
            fail "$rule: guest $g fails, but not in the check that guards the rule (want /$want/): $(head -1 <<<"$out") (log: $log)"
        else
            pass "$rule: guest $g fails: $(grep -m1 -E "^$want" <<<"$out" | cut -c1-200)"
        fi
    done
}

if run_test "$LOGS/$name-baseline.log"; then
    pass "baseline: numa-memmap-test passes on the unmutated series ($(grep -c '^ok ' "$LOGS/$name-baseline.log") subtests)"
else
    fail "baseline: numa-memmap-test fails without any mutation (log: $LOGS/$name-baseline.log); no mutation can be judged"
    finish "$name"
fi

list=$(python3 "$m" "$([ "$name" = mutate-smoke ] && echo smoke || echo all)")
while IFS=$'\t' read -r i want; do
    rule=$(python3 "$m" apply "$i" "$src")
    log=$LOGS/$name-$i.log
    if ! "$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1; then
        fail "$rule: the mutated tree does not build (log: $LOGS/build-$(basename "$(dirname "$build")")-$(basename "$build").log)"
    elif run_test "$log"; then
        fail "$rule: numa-memmap-test passed with the rule broken"
    else
        # the first failed assertion, or else the error of a QEMU that
        # refused to start (its warnings aside)
        first=$(grep -m1 -E '^(not ok|Bail out!)' "$log" | cut -c1-160 || true)
        [ -n "$first" ] || first=$(grep -E '^qemu-system-[a-z0-9_]+: ' "$log" | grep -v ': warning: ' | head -1 | cut -c1-160 || true)
        if [ -z "$want" ]; then
            fail "$rule: numa-memmap-test fails ($first), but mutations.py names no check that guards the rule (GUARD)"
        elif ! [[ $first =~ $want ]]; then
            fail "$rule: numa-memmap-test fails, but not in the check that guards the rule (want /$want/): $first (log: $log)"
        else
            pass "$rule: numa-memmap-test fails: $first"
        fi
        if [ "$name" = mutate-smoke ]; then
            guest_check "$i" "$rule"
            linux_check "$i" "$rule"
        fi
    fi
    restore
done <<<"$list"
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1
finish "$name"
