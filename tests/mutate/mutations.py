"""Mutations for scripts/mutate.sh: each breaks one rule of the series
with small edits of the QEMU tree; numa-memmap-test must then fail.

    python3 mutations.py count
    python3 mutations.py apply N SRC     # prints the rule, edits SRC
    python3 mutations.py smoke           # "N<TAB>guard regex" of SMOKE
    python3 mutations.py all             # "N<TAB>guard regex" of each
    python3 mutations.py pciwin N        # "OPTIONS<TAB>FAIL regex" of
                                         # PCIWIN, or nothing
    python3 mutations.py guest N         # "SCENARIOS<TAB>FAIL regex" of
                                         # GUEST, or nothing
    python3 mutations.py sanitizer SRC   # applies SANITIZER's edits,
                                         # prints its rule and regex
    python3 mutations.py sanitizer       # prints the regex only
"""
import sys

from edits import apply_edits

# (rule, [(file, old, new), ...])
MUTATIONS = [
    ("contiguous normal memory is merged",
     [("hw/i386/pc.c",
       "    if (type == E820_RAM && s->size && s->base + s->size == base) {",
       "    if (false) {")]),
    # a second pending slot that merges contiguous typed ranges of the
    # same type, as the normal ones are merged
    ("typed nodes are never merged with a neighbour",
     [("hw/i386/pc.c", "    MachineState *ms;\n    hwaddr base;\n",
       "    MachineState *ms;\n    hwaddr tbase;\n    uint64_t tsize;\n"
       "    uint32_t ttype;\n    hwaddr base;\n"),
      ("hw/i386/pc.c",
       "static void pc_e820_flush_ram(PCE820RamState *s)\n{\n",
       "static void pc_e820_flush_ram(PCE820RamState *s)\n{\n"
       "    if (s->tsize) {\n"
       "        e820_add_entry(s->tbase, s->tsize, s->ttype);\n"
       "        s->tsize = 0;\n    }\n"),
      ("hw/i386/pc.c",
       "    if (type == E820_RAM && s->size && s->base + s->size == base) {",
       "    if (type != E820_RAM && s->tsize && s->ttype == type &&\n"
       "        s->tbase + s->tsize == base) {\n"
       "        s->tsize += size;\n        return;\n    }\n"
       "    if (type == E820_RAM && s->size && s->base + s->size == base) {"),
      ("hw/i386/pc.c",
       "    if (type != E820_RAM) {\n        e820_add_entry(base, size, type);",
       "    if (type != E820_RAM) {\n        s->tbase = base;\n"
       "        s->tsize = size;\n        s->ttype = type;")]),
    # the failure a user would not notice: the guest boots, and the spm
    # node is ordinary RAM in the page allocator
    ("spm is published as soft reserved",
     [("hw/i386/pc.c", "        return E820_SOFT_RESERVED;",
       "        return E820_RAM;")]),
    ("reserved is published as reserved",
     [("hw/i386/pc.c", "        return E820_RESERVED;\n    default:",
       "        return E820_RAM;\n    default:")]),
    ("high memory follows above_4g_mem_start (1 TiB on AMD)",
     [("hw/i386/x86.c",
       "            fn(node, x86ms->above_4g_mem_start + (offset - below), size,",
       "            fn(node, 4 * GiB + (offset - below), size,")]),
    ("typed memory below or across 4 GiB is refused",
     [("hw/i386/pc.c",
       "    } else if (base < s->x86ms->below_4g_mem_size) {",
       "    } else if (false) {")]),
    # a value above the node's offset leaves the node below 4 GiB
    ("the hint gives the max-ram-below-4g value that works",
     [("hw/i386/pc.c",
       "    r->split = MAX(ROUND_DOWN(MIN(x86ms->below_4g_mem_size, first), 2 * MiB),",
       "    r->split = MiB + MAX(ROUND_DOWN(MIN(x86ms->below_4g_mem_size, first), 2 * MiB),")]),
    # growing RAM could cross the machine's default split or phys-bits
    ("the hint shrinks the node before a typed node where it can",
     [("hw/i386/pc.c",
       "            } else if (pad && off - pad >= 2 * MiB && r->size[prev] > pad &&",
       "            } else if (false && off - pad >= 2 * MiB && r->size[prev] > pad &&")]),
    # the range below 4 GiB is refused as such, before any alignment check
    ("alignment is checked only above 4 GiB, after the below-4 GiB errors",
     [("hw/i386/pc.c",
       "    } else if (base < s->x86ms->below_4g_mem_size) {\n",
       "    } else if (base < s->x86ms->below_4g_mem_size &&\n"
       "               !((base | size) & (align - 1))) {\n")]),
    ("spm memory must be 2 MiB aligned",
     [("hw/i386/pc.c",
       "    return type == NUMA_MEMMAP_TYPE_SPM ? 2 * MiB : 4 * KiB;",
       "    return type == NUMA_MEMMAP_TYPE_SPM ? 4 * KiB : 4 * KiB;")]),
    ("reserved memory needs only 4 KiB alignment",
     [("hw/i386/pc.c",
       "    return type == NUMA_MEMMAP_TYPE_SPM ? 2 * MiB : 4 * KiB;",
       "    return type == NUMA_MEMMAP_TYPE_SPM ? 2 * MiB : 2 * MiB;")]),
    ("the hint rounds a typed node's size to its alignment",
     [("hw/i386/pc.c",
       "            r->size[i] = MAX(ROUND_DOWN(size, align), align);",
       "            r->size[i] = MAX(size, align);")]),
    ("the hint grows the node before a typed node where it cannot shrink it",
     [("hw/i386/pc.c",
       "                r->size[prev] += pad;",
       "                r->size[prev] += 0;")]),
    ("the typed nodes' e820 entries must fit the firmware's table",
     [("hw/i386/pc.c",
       "#define PC_E820_MAX_NODE_ENTRIES (42 - 5)",
       "#define PC_E820_MAX_NODE_ENTRIES (42 - 5 + 1)")]),
    ("the firmware's 64-bit PCI window stays above typed memory",
     [("hw/i386/pc.c",
       "        res_mem_end = MAX(res_mem_end, pc_above_4g_end(pcms));",
       "        res_mem_end = MAX(res_mem_end, 0);")]),
    # the rule of r7 of the series: the end of the highest typed range
    # only, which leaves normal memory after the last typed node inside
    # the firmware's 64-bit PCI window
    ("etc/reserved-memory-end covers the normal memory after typed nodes",
     [("hw/i386/pc.c", "    MachineState *ms;\n    hwaddr base;\n",
       "    MachineState *ms;\n    hwaddr last_typed_end;\n    hwaddr base;\n"),
      ("hw/i386/pc.c",
       "    if (type != E820_RAM) {\n        e820_add_entry(base, size, type);",
       "    if (type != E820_RAM) {\n        s->last_typed_end = base + size;\n"
       "        e820_add_entry(base, size, type);"),
      ("hw/i386/pc.c",
       "        res_mem_end = MAX(res_mem_end, pc_above_4g_end(pcms));",
       "        res_mem_end = MAX(res_mem_end, e820_ram.last_typed_end);")]),
    ("confidential guests are refused",
     [("hw/i386/pc.c", "    if (ms->cgs) {", "    if (false) {")]),
    ("machines without support refuse the option",
     [("hw/core/numa.c", "        if (!mc->numa_memmap_type_supported) {",
       "        if (false) {")]),
    ("nodes without memdev refuse the option",
     [("hw/core/numa.c", "        if (!node->memdev) {", "        if (false) {")]),
    ("the type is stored per node",
     [("hw/core/numa.c",
       "    numa_info[nodenr].memmap_type = node->memmap_type;",
       "    numa_info[nodenr].memmap_type = NUMA_MEMMAP_TYPE_NORMAL;")]),
    ("info numa shows the type",
     [("hw/core/machine-qmp-cmds.c", '"node %d memmap-type: %s\\n"',
       '"node %d type: %s\\n"')]),
]

# The numa-memmap-test check that guards each rule: a regular
# expression on the first failed assertion (glib's qtests stop at the
# first one, "Bail out! ERROR:FILE:LINE:FUNCTION: assertion ...").  A
# mutation must fail there, in make check's share and in `make mutate`.
GUARD = {
    "contiguous normal memory is merged": r":check_e820: assertion failed ",
    "typed nodes are never merged with a neighbour":
        r":check_e820: assertion failed \(le64_to_cpu\(t->length\) == e->length\)",
    "spm is published as soft reserved": r":check_e820: assertion failed ",
    "the firmware's 64-bit PCI window stays above typed memory": r":check_reserved_memory_end: ",
    "etc/reserved-memory-end covers the normal memory after typed nodes":
        r":check_reserved_memory_end: ",
    "typed memory below or across 4 GiB is refused": r":test_error_case: ",
    "reserved is published as reserved": r":check_e820: assertion failed ",
    # a refusal's text and hint: the refusal table
    "the hint gives the max-ram-below-4g value that works": r":test_error_case: ",
    "the hint shrinks the node before a typed node where it can": r":test_error_case: ",
    "alignment is checked only above 4 GiB, after the below-4 GiB errors": r":test_error_case: ",
    "spm memory must be 2 MiB aligned": r":test_error_case: ",
    "the hint rounds a typed node's size to its alignment": r":test_error_case: ",
    "the hint grows the node before a typed node where it cannot shrink it": r":test_error_case: ",
    "the typed nodes' e820 entries must fit the firmware's table": r":test_error_case: ",
    "confidential guests are refused": r":test_error_case: ",
    "machines without support refuse the option": r":test_error_case: ",
    # set-numa-node's refusal (--preconfig) is the first case that runs
    "nodes without memdev refuse the option": r":preconfig_check: assertion failed: \(err\)",
    # the RAM entry where AMD's relocated memory starts is missing
    "high memory follows above_4g_mem_start (1 TiB on AMD)": r":check_e820: 't' should not be NULL",
    # a valid layout's 4 KiB-aligned reserved node: QEMU refuses to start
    "reserved memory needs only 4 KiB alignment":
        r"qemu-system-x86_64: NUMA node [0-9]+ has memmap-type=reserved but .* is not 2 MiB aligned",
    # 'info numa' after -preconfig and set-numa-node
    "the type is stored per node": r":preconfig_check: assertion failed: \(strstr\(numa, ",
    "info numa shows the type": r":preconfig_check: assertion failed: \(strstr\(numa, ",
}

# make check's share (scripts/mutate.sh --smoke): one mutation per kind of
# rule
SMOKE = [
    "spm is published as soft reserved",
    "typed nodes are never merged with a neighbour",
    "the firmware's 64-bit PCI window stays above typed memory",
    "etc/reserved-memory-end covers the normal memory after typed nodes",
    "typed memory below or across 4 GiB is refused",
]

# ... and, for the rules a firmware acts on, the guest-level check that
# must fail too: scripts/pciwin.sh options, and a regular expression
# that every FAIL line must match.  Without the series' hunk that makes
# etc/reserved-memory-end cover typed memory, SeaBIOS puts its 64-bit
# window on the spm node (tests/pciwin/pci_window.py).
PCIWIN = {
    "the firmware's 64-bit PCI window stays above typed memory":
        ("--cases seabios --types spm",
         r"FAIL  seabios-.*/spm .*BAR2 at 0x[0-9a-f]+ is below the end of "
         r"typed memory"),
}

# ... and for the rules a Linux guest sees, guest scenarios
# (scripts/guest-run.sh) that must fail against the mutated build, one
# through OVMF and one through the patched SeaBIOS, with a regular
# expression that one of each scenario's FAIL lines must match: the
# guest's e820 or dax check (tests/guest/parse_report.py)
GUEST = {
    "spm is published as soft reserved":
        ("q35-ovmf-spm q35-sbp-spm",
         r"FAIL  (guest e820 does not show node [0-9]+ .* as soft reserved|want one dax device)"),
}

# A bug only a sanitizer sees (scripts/matrix-negative.sh): the node's
# entry is read before the check for "no node" (-1, RAM of a machine
# without NUMA nodes), one element before the array.  The value is not
# used, so the tests pass without sanitizers; the asan-ubsan build of the
# CI matrix must report the out-of-bounds index.
SANITIZER = (
    "the node is checked before its entry is read",
    [("hw/i386/pc.c",
      "static uint32_t pc_node_e820_type(MachineState *ms, int node)\n{\n"
      "    if (node < 0) {",
      "static uint32_t pc_node_e820_type(MachineState *ms, int node)\n{\n"
      "    NumaMemmapType unchecked = ms->numa_state->nodes[node].memmap_type;\n"
      "\n    (void)unchecked;\n    if (node < 0) {")],
    r"hw/i386/pc\.c:[0-9]+:[0-9]+: runtime error: index -1 out of bounds",
)


def main():
    if sys.argv[1] == "count":
        print(len(MUTATIONS))
        return
    if sys.argv[1] in ("smoke", "all"):
        names = [r for r, _ in MUTATIONS]
        for rule in SMOKE if sys.argv[1] == "smoke" else names:
            print("%d\t%s" % (names.index(rule), GUARD.get(rule, "")))
        return
    if sys.argv[1] == "pciwin":
        rule = MUTATIONS[int(sys.argv[2])][0]
        if rule in PCIWIN:
            print("%s\t%s" % PCIWIN[rule])
        return
    if sys.argv[1] == "guest":
        rule = MUTATIONS[int(sys.argv[2])][0]
        if rule in GUEST:
            print("%s\t%s" % GUEST[rule])
        return
    if sys.argv[1] == "sanitizer":
        rule, edits, pattern = SANITIZER
        if len(sys.argv) == 2:
            print(pattern)
            return
        apply_edits(sys.argv[2], edits, f"mutation '{rule}'")
        print("%s\t%s" % (rule, pattern))
        return
    rule, edits = MUTATIONS[int(sys.argv[2])]
    apply_edits(sys.argv[3], edits, f"mutation '{rule}'")
    print(rule)


main()
