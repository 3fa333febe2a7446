#!/bin/bash
# Show that numa-memmap-test fails when any one rule of the series is
# broken: apply the series in a scratch tree, then for each mutation
# (one small edit of the QEMU code) rebuild and run the test, which
# must FAIL.  Not part of `make check` (about a minute per mutation);
# run it with `make mutate`.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$CACHE/mutate/src; build=$CACHE/mutate/build
"$ROOT/scripts/apply.sh" "$src" --force >/dev/null
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 tests/qtest/numa-memmap-test

# The mutations: tests/mutate/mutations.py
m=$ROOT/tests/mutate/mutations.py
killed=0; survived=0
for i in $(seq 0 $(($(python3 "$m" count) - 1))); do
    rule=$(python3 "$m" apply "$i" "$src")
    if ! "$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1; then
        echo "  FAIL  $rule: the mutated tree does not build (log: $LOGS/build-mutate-build.log)"
        survived=$((survived + 1))
    elif (cd "$build" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
            ./tests/qtest/numa-memmap-test >"$LOGS/mutate-$i.log" 2>&1); then
        echo "  FAIL  $rule: numa-memmap-test passed with the rule broken"
        survived=$((survived + 1))
    else
        echo "  PASS  $rule: numa-memmap-test fails: $(grep -m1 '^not ok\|^Bail' "$LOGS/mutate-$i.log" | cut -c1-100)"
        killed=$((killed + 1))
    fi
    git -C "$src" checkout -q -- .
done
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1
echo "mutate: $killed passed, $survived failed, 0 skipped"
[ "$survived" -eq 0 ]
