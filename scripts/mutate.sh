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

# file|old text|new text|rule that the mutation breaks
mutations=(
"hw/i386/pc.c|    if (type == E820_RAM && s->size && s->base + s->size == base) {|    if (false) {|contiguous normal memory is merged"
"hw/i386/pc.c|    if (type != E820_RAM) {
        e820_add_entry(base, size, type);|    if (type != E820_RAM && s->size && s->base + s->size == base) {
        s->size += size;
        return;
    }
    if (type != E820_RAM) {
        e820_add_entry(base, size, type);|typed nodes are never merged with a neighbour"
"hw/i386/pc.c|        return E820_SOFT_RESERVED;|        return E820_RESERVED;|spm is published as soft reserved"
"hw/i386/pc.c|        return E820_RESERVED;
    default:|        return E820_RAM;
    default:|reserved is published as reserved"
"hw/i386/x86.c|            fn(node, x86ms->above_4g_mem_start + (offset - below), size,|            fn(node, 4 * GiB + (offset - below), size,|high memory follows above_4g_mem_start (1 TiB on AMD)"
"hw/i386/pc.c|    if (type == NUMA_MEMMAP_TYPE_NORMAL ||
        base >= s->x86ms->below_4g_mem_size) {|    if (true) {|typed memory below or across 4 GiB is refused"
"hw/i386/pc.c|    if (ms->cgs) {|    if (false) {|confidential guests are refused"
"hw/core/numa.c|        if (!mc->numa_memmap_type_supported) {|        if (false) {|machines without support refuse the option"
"hw/core/numa.c|        if (!node->memdev) {|        if (false) {|nodes without memdev refuse the option"
"hw/core/numa.c|    numa_info[nodenr].memmap_type = node->memmap_type;|    numa_info[nodenr].memmap_type = NUMA_MEMMAP_TYPE_NORMAL;|the type is stored per node"
"hw/core/machine-qmp-cmds.c|            g_string_append_printf(buf, \"node %d memmap-type: %s\\\\n\", i,|            g_string_append_printf(buf, \"node %d type: %s\\\\n\", i,|info numa shows the type"
)
killed=0; survived=0
for m in "${mutations[@]}"; do
    file=${m%%|*}; rest=${m#*|}; old=${rest%%|*}; rest=${rest#*|}
    new=${rest%%|*}; rule=${rest#*|}
    python3 - "$src/$file" "$old" "$new" <<'PY'
import sys
p, old, new = sys.argv[1:4]
s = open(p).read()
assert s.count(old) == 1, f"mutation anchor not found once in {p}: {old!r}"
open(p, "w").write(s.replace(old, new))
PY
    if ! "$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1; then
        echo "  BUILD FAILED  $rule"; survived=$((survived + 1))
    elif (cd "$build" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
            ./tests/qtest/numa-memmap-test >"$LOGS/mutate.log" 2>&1); then
        echo "  SURVIVED  $rule (test passed with the rule broken)"; survived=$((survived + 1))
    else
        echo "  killed    $rule: $(grep -m1 '^not ok\|^Bail' "$LOGS/mutate.log" | cut -c1-90)"
        killed=$((killed + 1))
    fi
    git -C "$src" checkout -q -- "$file"
done
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 >/dev/null 2>&1
echo "mutate: $killed passed, $survived failed"
[ "$survived" -eq 0 ]
