#!/usr/bin/env python3
"""Randomized configuration fuzzer for -numa node,memmap-type.

From a seed (printed first; replay with --seed), generate configurations
of the x86 pc/q35 machines: machine type, CPU model and vendor, total
memory, max-ram-below-4g, 1..128 NUMA nodes of odd and round sizes,
memmap-type per node, memoryless nodes, memory hotplug slots, HMAT,
occasionally a confidential guest.  Each configuration is run with the
patched QEMU under the qtest accelerator and judged against an oracle
that is written here, independently of QEMU's code:

  * refused:  exit status 1, exactly one error line on stderr (QEMU's
    generic "warning:" lines are allowed), followed by the hint lines
    the oracle expects and no others, and the oracle must agree that
    the configuration is invalid, for the same reason (each reason is
    a regular expression over the message, including the node number);
    a refusal by a layout rule (typed memory below 4 GiB or in the first
    MiB, unaligned, too many e820 entries) has hint lines, one change
    each, that describe a repaired configuration: they are all applied
    once and the result must start and be judged "started" by the same
    oracle (the property "hints converge in one round"; a configuration
    for which it does not hold fails);
  * started:  the fw_cfg file etc/e820 must be exactly the table the
    oracle predicts (the AMD HyperTransport entry, then one RAM entry per
    contiguous run of normal memory, and one entry per spm/reserved
    node, in address order), and the SRAT memory affinity structures
    in etc/acpi/tables must give every node exactly its ranges (minus
    the 640 KiB - 1 MiB legacy hole), plus the hotplug window; the
    SMBIOS type 19 structures must be one per e820 RAM entry; HMP
    "info numa" must name the type of every spm/reserved node and no
    other; etc/reserved-memory-end must be the end of the memory hotplug
    area, or with a typed node at least the end of all boot memory above
    4 GiB, rounded up to 1 GiB (no file for 0).

Never allowed: a signal, an exit status other than 0/1, assertion text,
or a sanitizer report ("AddressSanitizer", "runtime error:").

The AMD relocation of high RAM to 1 TiB is modelled precisely (no
exclusion zone in the generator): the oracle computes the highest used
guest-physical address the way the PC machine defines it (end of high
RAM, or of the memory hotplug window with 1 GiB per slot, rounded up to
1 GiB, plus the 64-bit PCI hole: 32 GiB on q35, 2 GiB on i440fx) and
relocates when it reaches 0xfd00000000; the same value is checked against
phys-bits.  The generator deliberately puts some totals within a few
pages of that threshold.

    fuzz.py [--count N] [--seed S] [--qemu PATH] [--jobs J] [--verbose]

Nothing is skipped: the issues once listed as known (SRAT of a node
starting inside the 640 KiB - 1 MiB hole, the one-byte e820 RAM entry
after a one-byte normal node between typed nodes) are fixed in the
series and are now part of the oracle (the SRAT hole cut; typed memory
above 4 GiB must be aligned: spm to 2 MiB, reserved to 4 KiB; memory
below 4 GiB is refused as such before any alignment check).
FUZZ_STRICT is accepted and ignored.

Self-test: FUZZ_BREAK_ORACLE=merge-typed (merge adjacent typed nodes of
the same type), =no-merge (never merge normal memory), =no-relocate
(ignore the 1 TiB relocation), =no-align (forget the alignment rule for
typed memory), =align-4k (spm needs only 4 KiB, as in r7 of the
series), =align-first (check alignment before "below 4 GiB", also below
4 GiB, as in r7), =resmem-typed-end (etc/reserved-memory-end from the
end of the highest typed range, as in r7) or =suggest (a layout refusal
below 4 GiB must suggest the wrong max-ram-below-4g value) makes the oracle wrong on purpose; the fuzzer
must then report mismatches.  --self-test does that for every mode on
one configuration that tells the broken oracle from the true one
(make check runs it, scripts/robust.sh).

Last line: "fuzz: N passed, N failed, N skipped" (one test per
configuration).
"""

import argparse
import copy
import os
import random
import re
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from qemulib import Qemu  # noqa: E402
from results import Results  # noqa: E402
from memmap_hints import parse_hints  # noqa: E402

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
HT_START, HT_SIZE = 0xfd00000000, 0x300000000
RAM, RESERVED, SOFT_RESERVED = 1, 2, 0xEFFFFFFF
TYPE_CODE = {None: RAM, "normal": RAM, "spm": SOFT_RESERVED,
             "reserved": RESERVED}
DEFAULT_QEMU = os.path.join(ROOT, ".cache/check/build/qemu-system-x86_64")
BREAK = os.environ.get("FUZZ_BREAK_ORACLE", "")
STATS, STATS_LOCK = {}, threading.Lock()
# boot RAM entries of the e820 table that firmware can take with typed
# nodes (pc.c's PC_E820_MAX_NODE_ENTRIES: 42 - 5, OVMF 2026.08 boots at most 42)
E820_LIMIT = 37
BAD_TEXT = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|"
                      r"UndefinedBehaviorSanitizer|Assertion|assertion|"
                      r"code should not be reached|Segmentation|Aborted")

# CPU models: (-cpu value or None, vendor, phys-bits).  qemu64 (the
# default) is an AMD model; without KVM every model defaults to 40
# physical address bits.
CPUS = [
    (None, "amd", 40),
    ("EPYC,phys-bits=48", "amd", 48),
    ("Skylake-Client,phys-bits=48", "intel", 48),
    ("qemu64,phys-bits=39", "amd", 39),
    ("EPYC", "amd", 40),
    ("Skylake-Client", "intel", 40),
]
CPU_WEIGHTS = [35, 20, 25, 6, 7, 7]
# machine type -> (chipset, AMD 1 TiB hole enforced)
MACHINES = {"pc": ("pc", True), "q35": ("q35", True),
            "pc-i440fx-7.0": ("pc", False), "pc-q35-7.0": ("q35", False),
            "pc-i440fx-5.0": ("pc", False), "pc-q35-5.0": ("q35", False)}
MACHINE_WEIGHTS = [42, 42, 5, 5, 3, 3]


def fmt_size(n):
    """how a size appears in a hint: G, M, K or plain bytes, the largest
    unit that divides it"""
    if n % GiB == 0:
        return f"{n // GiB}G"
    if n % MiB == 0:
        return f"{n // MiB}M"
    if n % KiB == 0:
        return f"{n // KiB}K"
    return str(n)


def roundup(n, a):
    return (n + a - 1) // a * a


class Node:
    def __init__(self, size, mtype=None):
        self.size = size          # None: memoryless (no memdev)
        self.mtype = mtype        # None (option absent) / normal / spm / reserved


class Config:
    def __init__(self):
        self.machine = "q35"
        self.cpu = CPUS[0]
        self.nodes = []           # empty: no -numa at all
        self.ram = 0              # the -m value in bytes
        self.max_below = None
        self.slots = 0
        self.maxmem = None
        self.hmat = False
        self.hmat_lb = False
        self.cgs = False
        self.reserve_off = False
        self.smp = 1
        self.ram_opt = None       # the -m value as a hint gave it
        self.cpu_node = 0         # with HMAT: the node with the CPUs

    def args(self):
        a = []
        mopts = [self.machine]
        if self.max_below is not None:
            mopts.append(f"max-ram-below-4g={self.max_below}")
        if self.hmat:
            mopts.append("hmat=on")
        if self.cgs:
            mopts.append("confidential-guest-support=cgs0")
            a += ["-object", "sev-guest,id=cgs0,reduced-phys-bits=1,cbitpos=47"]
        if not self.nodes and self.ram > 16 * GiB:
            # too large for the default (reserved) allocation of pc.ram
            a += ["-object", f"memory-backend-ram,id=ram0,size={self.ram},reserve=off"]
            mopts.append("memory-backend=ram0")
        a += ["-machine", ",".join(mopts)]
        m = self.ram_opt or (f"{self.ram // KiB}K" if self.ram % KiB == 0
                             else f"{self.ram}B")
        if self.maxmem is not None:
            m += f",slots={self.slots},maxmem={self.maxmem // KiB}K"
        a += ["-m", m]
        if self.cpu[0]:
            a += ["-cpu", self.cpu[0]]
        if self.smp > 1:
            a += ["-smp", str(self.smp)]
        for i, n in enumerate(self.nodes):
            if n.size is not None:
                o = f"memory-backend-ram,id=m{i},size={n.size}"
                if self.reserve_off:
                    o += ",reserve=off"
                a += ["-object", o]
        for i, n in enumerate(self.nodes):
            o = f"node,nodeid={i}"
            if n.size is not None:
                o += f",memdev=m{i}"
            if self.hmat and i == self.cpu_node:
                # HMAT needs the initiator to have CPUs when hmat-lb is parsed
                o += f",cpus=0-{self.smp - 1}"
            if self.hmat and i != self.cpu_node:
                o += f",initiator={self.cpu_node}"
            if n.mtype is not None:
                o += f",memmap-type={n.mtype}"
            a += ["-numa", o]
        if self.hmat and self.hmat_lb:
            for i, n in enumerate(self.nodes):
                if n.size:
                    a += ["-numa", f"hmat-lb,initiator={self.cpu_node},target={i},"
                          "hierarchy=memory,data-type=access-latency,"
                          f"latency={10 + i}"]
        return a

    def describe(self):
        return " ".join(("'%s'" % x) if (" " in x or not x) else x
                        for x in self.args())


# ---------------------------------------------------------------------------
# Generator


def gen_sizes(rng, count, scale):
    """@count node sizes summing to a multiple of 8 KiB (what -m rounds
    to), in one of several granularities"""
    # 1 MiB units: half the spm nodes miss the 2 MiB alignment, by their
    # size or by where the nodes before them end
    gran = rng.choices(["gib", "2mib", "mib", "page", "odd"],
                       [30, 25, 12, 20, 13])[0]
    unit = {"gib": GiB, "2mib": 2 * MiB, "mib": MiB, "page": 4 * KiB,
            "odd": 1}[gran]
    sizes = []
    for _ in range(count):
        if gran == "gib":
            s = rng.randint(1, max(1, scale // GiB // count + 1)) * GiB
        elif gran == "odd":
            s = rng.choice([rng.randint(1, 8 * KiB),
                            rng.randint(1, max(2, scale // count)),
                            rng.randint(1, 4 * MiB)])
        else:
            s = rng.randint(1, max(1, scale // unit // count + 1)) * unit
        sizes.append(max(s, 1))
    total = sum(sizes)
    if total % (8 * KiB):
        sizes[-1] += 8 * KiB - total % (8 * KiB)
    return sizes


def near_threshold_total(rng, cfg, below_guess):
    """a total memory size within a few pages/GiB of the AMD relocation
    threshold, or well beyond it"""
    hole64 = 32 * GiB if MACHINES[cfg.machine][0] == "q35" else 2 * GiB
    # smallest high-memory size that makes the max used GPA reach HT_START
    # (ignoring hotplug; the oracle does the exact computation)
    above = HT_START - hole64 - 4 * GiB - GiB + 1
    delta = rng.choice([-GiB, -8 * KiB, 0, 8 * KiB, GiB,
                        rng.randint(-4 * GiB, 120 * GiB)])
    return roundup(max(below_guess + above + delta, 16 * MiB), 8 * KiB)


def generate(rng):
    cfg = Config()
    cfg.machine = rng.choices(list(MACHINES), MACHINE_WEIGHTS)[0]
    cfg.cpu = rng.choices(CPUS, CPU_WEIGHTS)[0]

    r = rng.random()
    if r < 0.05:
        count = 0
    elif r < 0.65:
        count = rng.randint(1, 4)
    elif r < 0.87:
        count = rng.randint(5, 16)
    elif r < 0.96:
        count = rng.randint(17, 64)
    else:
        count = rng.randint(65, 128)

    huge = rng.random() < 0.12
    if huge and rng.random() < 0.6:
        cfg.cpu = rng.choice([CPUS[1], CPUS[2]])     # phys-bits=48
    scale = rng.choice([512 * MiB, 4 * GiB, 8 * GiB, 32 * GiB, 96 * GiB])
    if huge:
        below_guess = rng.choice([2 * GiB, 3 * GiB, 1 * GiB])
        total = near_threshold_total(rng, cfg, below_guess)
    if count == 0:
        cfg.ram = total if huge else roundup(rng.randint(16 * MiB, scale), 8 * KiB)
    else:
        if huge:
            # a normal boot node, then big nodes
            first = rng.choice([below_guess, 2 * GiB, 3 * GiB])
            rest = gen_sizes(rng, max(count - 1, 1), total - first)
            scale_f = (total - first) / max(sum(rest), 1)
            rest = [max(int(s * scale_f) // 4096 * 4096, 4096) for s in rest]
            sizes = [first] + rest
            if count == 1:
                sizes = [total]
            sizes = sizes[:max(count, 1)]
            t = sum(sizes)
            if t % (8 * KiB):
                sizes[-1] += 8 * KiB - t % (8 * KiB)
        else:
            sizes = gen_sizes(rng, count, scale)
        mode = rng.choices(["prefix", "random", "all-normal"], [55, 35, 10])[0]
        nprefix = rng.randint(1, max(1, count // 2)) if mode == "prefix" else 0
        for i, s in enumerate(sizes):
            if mode == "all-normal" or i < nprefix:
                t = rng.choices([None, "normal"], [85, 15])[0]
            elif i == 0 and rng.random() < 0.85:
                t = None             # typed node 0 is an error: not too often
            else:
                t = rng.choices([None, "normal", "spm", "reserved"],
                                [35, 10, 35, 20])[0]
            cfg.nodes.append(Node(s, t))
        # memoryless nodes (no memdev): some typed, which is an error
        for _ in range(rng.choice([0, 0, 0, 0, 1, 2])):
            pos = rng.randint(0, len(cfg.nodes))
            if len(cfg.nodes) >= 128:
                break
            t = rng.choices([None, "spm", "reserved", "normal"], [85, 7, 4, 4])[0]
            cfg.nodes.insert(pos, Node(None, t))
        if rng.random() < 0.03 and len(cfg.nodes) > 2:
            # a one-byte node (QEMU accepts any backend size); the last
            # node keeps the total a multiple of 8 KiB
            i = rng.randrange(1, len(cfg.nodes) - 1)
            if cfg.nodes[i].size is not None and cfg.nodes[-1].size is not None:
                cfg.nodes[-1].size += cfg.nodes[i].size - 1
                cfg.nodes[i].size = 1
        cfg.ram = sum(n.size or 0 for n in cfg.nodes)
        cfg.reserve_off = huge or cfg.ram > 12 * GiB or rng.random() < 0.3
        # max-ram-below-4g: often at the end of the leading normal nodes,
        # which moves the first typed node above 4 GiB
        prefix = 0
        for n in cfg.nodes:
            if n.mtype in ("spm", "reserved"):
                break
            prefix += n.size or 0
        choice = rng.choices(["unset", "prefix", "round", "odd", "zero", "big"],
                             [30, 38, 20, 7, 2, 3])[0]
        if choice == "prefix" and 0 < prefix <= 4 * GiB:
            cfg.max_below = prefix
        elif choice == "round" or choice == "prefix":
            cfg.max_below = rng.choice([512 * MiB, GiB, 1536 * MiB, 2 * GiB,
                                        2560 * MiB, 3 * GiB, 3584 * MiB,
                                        4 * GiB])
        elif choice == "odd":
            cfg.max_below = rng.choice([rng.randint(1, 4 * GiB),
                                        rng.randint(1, 1 << 20) * 4096])
        elif choice == "zero":
            cfg.max_below = 0
        elif choice == "big":
            cfg.max_below = 4 * GiB + rng.choice([1, 4096, GiB])
        if rng.random() < 0.03:
            cfg.ram += 8 * KiB       # total of the nodes != -m: an error
    if cfg.ram > 12 * GiB:
        cfg.reserve_off = True
    if count == 0 and rng.random() < 0.3:
        cfg.max_below = rng.choice([GiB, 2 * GiB, 3 * GiB])

    if rng.random() < 0.2:
        cfg.slots = rng.choice([0, 1, 2, 4, 8])
        cfg.maxmem = cfg.ram + rng.choice([GiB, 4 * GiB, 64 * GiB, 512 * MiB])
        if cfg.slots == 0 and rng.random() < 0.5:
            cfg.slots = 1
    if cfg.nodes and rng.random() < 0.12:
        cfg.hmat = True
        cfg.hmat_lb = rng.random() < 0.5
    if rng.random() < 0.03:
        cfg.cgs = True
    if rng.random() < 0.1:
        cfg.smp = rng.choice([2, 4])
    return cfg


# ---------------------------------------------------------------------------
# Oracle (independent of QEMU's code: intervals and sets, not a walk)


class Verdict:
    def __init__(self, ok, reason=None, pattern=None, e820=None, srat=None,
                 late=False):
        self.ok, self.reason, self.pattern = ok, reason, pattern
        self.late = late
        self.fix = self.node = self.layout = None
        self.e820, self.srat = e820, srat


def repair_hint(need_split=False, below=None):
    """The hint of a refusal by a layout rule, as a regex over its lines:
    one change per line, in this order, each at most once (backend sizes
    once per node): keep memmap-type on the first K typed nodes, a 2 MiB
    normal node before node N, backend sizes, max-ram-below-4g, -m, the
    CPU's phys-bits (when the repaired memory needs more).  The
    values are not predicted here: follow_hints() applies them and the
    oracle judges the configuration that results, which must start (e820,
    SRAT, ... as predicted).  FUZZ_BREAK_ORACLE=suggest: the hint must
    name max-ram-below-4g=@below (the current split, which QEMU never
    suggests)."""
    size = r"\d+[GMK]?"
    split = (re.escape(fmt_size(below)) if BREAK == "suggest" and below is not None
             else size)
    return (r"(?=.)"
            r"(?:^Each typed node takes an entry, and so does the normal memory "
            r"between two of them: keep memmap-type on the first \d+ typed nodes "
            r"only, or put the typed nodes next to each other\.(?:\n|$))?"
            r"(?:^Put a node with 2M of normal memory before node \d+\.(?:\n|$))?"
            r"(?:^Make the memory backend of node \d+ size=%s\.(?:\n|$))*"
            r"(?:^Use -machine max-ram-below-4g=%s\.(?:\n|$))%s"
            r"(?:^Use -m %s\.(?:\n|$))?"
            r"(?:^Use a CPU with phys-bits=\d+\.)?" % (size, split,
                                    "" if BREAK == "suggest" and below is not None
                                    else "?", size))


def refuse(reason, pattern, hint=None, late=False):
    """@pattern: regex for the error line; @hint: regex for the hint
    lines that follow it (error_append_hint()), None if there are none"""
    v = Verdict(False, reason, pattern, late=late)
    v.hint = hint
    return v


def ram_split(cfg, ram):
    """(memory below 4 GiB, memory above) by the pc / q35 rules"""
    chipset = MACHINES[cfg.machine][0]
    mr = cfg.max_below or 0
    if chipset == "q35":
        limit = 2 * GiB if ram >= 0xb0000000 else 0xb0000000
        if mr:
            limit = min(limit, mr)
    else:
        limit = mr or 0xe0000000
        if ram >= limit:
            limit = min(limit, 3 * GiB)    # gigabyte_align
    below = min(ram, limit)
    return below, ram - below


def max_used_gpa(cfg, above_start, above):
    """highest guest-physical address the PC machine may use (64-bit
    CPUs): it decides the AMD relocation to 1 TiB and the phys-bits
    check.  The oracle is precise here on purpose, so the generator
    does not avoid the threshold: it aims at it."""
    hole64 = 32 * GiB if MACHINES[cfg.machine][0] == "q35" else 2 * GiB
    end = above_start + above
    if cfg.maxmem is not None and cfg.maxmem > cfg.ram:
        end = roundup(end, GiB) + (cfg.maxmem - cfg.ram) + cfg.slots * GiB
    return roundup(end, GiB) + hole64 - 1


def oracle(cfg):
    nodes = cfg.nodes
    # -machine max-ram-below-4g is checked when the option is set
    if cfg.max_below is not None and cfg.max_below > 4 * GiB:
        return refuse("max-ram-below-4g>4G",
                      r"max-ram-below-4g=%d' expects size less than or "
                      r"equal to 4G" % cfg.max_below)
    # -numa node options, in command-line (= node id) order
    for i, n in enumerate(nodes):
        # an explicit memmap-type=normal is accepted on any node
        if n.mtype in ("spm", "reserved") and n.size is None:
            return refuse("typed node without memdev",
                          r"NUMA node %d has memmap-type=%s but no memdev$"
                          % (i, n.mtype),
                          r"^Give the node its memory with -object "
                          r"memory-backend-ram,id=ID,size=SIZE and memdev=ID\.$")
    ram = cfg.ram
    if nodes and sum(n.size or 0 for n in nodes) != ram:
        return refuse("node total != -m",
                      r"total memory for NUMA nodes \(0x%x\) should equal "
                      r"RAM size \(0x%x\)" % (sum(n.size or 0 for n in nodes),
                                              ram))
    below, above = ram_split(cfg, ram)

    # each node's memory as an interval of RAM offsets
    spans, off = [], 0
    for i, n in enumerate(nodes or [Node(ram)]):
        spans.append((i, off, off + (n.size or 0), n.mtype))
        off += n.size or 0
    typed = [s for s in spans if s[3] in ("spm", "reserved") and s[2] > s[1]]
    if typed and cfg.cgs:
        i, _, _, t = typed[0]
        return refuse("confidential guest",
                      r"NUMA node %d has memmap-type=%s, which is not "
                      r"supported with confidential guests$" % (i, t),
                      r"^Remove memmap-type from the node\.$")
    # Where high memory starts: 1 TiB when an AMD vCPU's memory would
    # reach the HyperTransport hole.  QEMU decides this before it checks
    # the memory types, so the addresses it prints are the final ones.
    amd_hole = cfg.cpu[1] == "amd" and MACHINES[cfg.machine][1]
    phys = cfg.cpu[2]
    above_start = 4 * GiB
    if (amd_hole and max_used_gpa(cfg, above_start, above) >= HT_START
            and BREAK != "no-relocate"):
        above_start = TiB
    def gpa(a, b):
        """RAM offsets [a, b) -> list of guest-physical [lo, hi)"""
        out = []
        if a < below:
            out.append((a, min(b, below)))
        if b > below:
            lo = max(a, below)
            out.append((above_start + lo - below, above_start + b - below))
        return out

    def boot_entries(typed_ids):
        """the e820 entries of boot RAM, (lo, hi, type), when the nodes
        in @typed_ids are typed and every other node is normal memory:
        the union of normal memory (touching intervals are one entry),
        and one entry per range of a typed node"""
        typed_rngs, normal = [], []
        for i, lo, hi, t in spans:
            for g in (gpa(lo, hi) if hi > lo else []):
                if i in typed_ids:
                    typed_rngs.append((g[0], g[1], TYPE_CODE[t]))
                else:
                    normal.append(g)
        runs = []
        for lo, hi in sorted(normal):
            if runs and runs[-1][1] == lo and BREAK != "no-merge":
                runs[-1][1] = hi
            else:
                runs.append([lo, hi])
        return sorted([(lo, hi, RAM) for lo, hi in runs] + typed_rngs)

    # Firmware capacity: the boot RAM entries of the e820 table, with
    # every typed node typed, must be at most E820_LIMIT (OVMF boots
    # with at most 42 etc/e820 entries, QEMU adds up to 5 others).  The hint keeps the
    # types of the most typed nodes, in node id order, that fit.
    if typed:
        typed_ids = [s[0] for s in typed]
        need = len(boot_entries(set(typed_ids)))
        if need > E820_LIMIT:
            v = refuse("too many e820 entries",
                       r"NUMA nodes with a memmap-type need %d memory map "
                       r"entries, more than the %d that firmware can take$"
                       % (need, E820_LIMIT),
                       repair_hint())
            v.layout = "capacity"
            return v

    # Typed memory, range by range in address order (node id order; a
    # node that straddles the split has its range below 4 GiB first, then
    # the one above).  A range below 4 GiB is refused (address 0, below
    # 1 MiB, crosses, lies below); a range above 4 GiB must be aligned as
    # a guest-physical address and size: spm to 2 MiB, reserved to 4 KiB.
    # The first failing range wins.  Every hint names the values that
    # make the configuration start in one round (run_one applies them).
    for i, lo, hi, t in typed:
        rngs = []
        if lo < below:
            rngs.append((lo, min(hi, below) - lo))
        if hi > below:
            a = max(lo, below)
            rngs.append((above_start + a - below, hi - a))
        align = 2 * MiB if t == "spm" and BREAK != "align-4k" else 4 * KiB
        what = "2 MiB" if align == 2 * MiB else "4 KiB"
        for base, size in rngs:
            if base >= below or BREAK == "align-first":
                if (base | size) % align and BREAK != "no-align":
                    v = refuse("%s memory above 4 GiB not %s aligned (%s)"
                               % (t, what, "size" if size % align else "start"),
                               r"NUMA node %d has memmap-type=%s but its "
                               r"memory at %#x of size %#x is not %s "
                               r"aligned$" % (i, t, base, size, what),
                               repair_hint())
                    v.layout, v.node = "align", i
                    return v
                if base >= below:
                    continue
            if base == 0:
                v = refuse("typed memory at address 0",
                           r"NUMA node %d has memmap-type=%s but its memory "
                           r"starts at address 0$" % (i, t), repair_hint())
                v.layout, v.node = "first-MiB", i
                return v
            if base < MiB:
                v = refuse("typed memory below 1 MiB",
                           r"NUMA node %d has memmap-type=%s but its memory "
                           r"starts at %#x, below 1 MiB$" % (i, t, base),
                           repair_hint())
                v.layout, v.node = "first-MiB", i
                return v
            where = "crosses" if hi > below else "lies below"
            v = refuse("typed memory %s 4 GiB" % where,
                       r"NUMA node %d has memmap-type=%s but its memory %s "
                       r"4 GiB$" % (i, t, where), repair_hint(below=below))
            v.layout, v.node = "below-4g", i
            return v

    used = max_used_gpa(cfg, above_start, above)
    if used > (1 << phys) - 1:
        return refuse("phys-bits too low",
                      r"Address space limit 0x%x < 0x%x phys-bits too low "
                      r"\(%d\)" % ((1 << phys) - 1, used, phys))
    if cfg.cgs:
        # without KVM the sev-guest object is refused once the machine
        # is built, after every memory map check
        return refuse("confidential guest without KVM",
                      r"accelerator does not support confidential guest "
                      r"sev-guest", late=True)

    entries = boot_entries({s[0] for s in typed})
    if BREAK == "merge-typed":
        merged = []
        for e in entries:
            if merged and merged[-1][2] == e[2] and e[2] != RAM and \
                    merged[-1][1] == e[0]:
                merged[-1] = (merged[-1][0], e[1], e[2])
            else:
                merged.append(e)
        entries = merged
    e820 = [(lo, hi - lo, t) for lo, hi, t in entries]
    if amd_hole and phys >= 40:
        e820.insert(0, (HT_START, HT_SIZE, RESERVED))

    # SRAT: every node's ranges, whatever its type, minus the legacy hole
    srat = None
    auto_node = not nodes and cfg.maxmem is not None and cfg.maxmem > ram
    if nodes or auto_node:
        srat = []
        for i, lo, hi, t in spans:
            for glo, ghi in gpa(lo, hi) if hi > lo else []:
                for a, b in ((glo, min(ghi, 640 * KiB)),
                             (max(glo, MiB), ghi)):
                    if a < b:
                        srat.append((i, a, b - a, 1))
        if cfg.maxmem is not None and cfg.maxmem > ram:
            base = roundup(above_start + above, GiB)
            srat.append((max(len(nodes), 1) - 1, base,
                         cfg.maxmem - ram + cfg.slots * GiB, 3))
        srat.sort(key=lambda x: (x[1], x[0]))

    # etc/reserved-memory-end, what the firmware's 64-bit PCI window must
    # stay above: the end of the memory hotplug area if there is one
    # (it starts at the end of high RAM rounded up to 1 GiB and spans
    # maxmem - -m plus 1 GiB per slot); with a typed node, at least the
    # end of all boot memory above 4 GiB.  Rounded up to 1 GiB; no file
    # for 0.
    resmem = 0
    if cfg.maxmem is not None and cfg.maxmem > ram:
        resmem = (roundup(above_start + above, GiB) + cfg.maxmem - ram
                  + cfg.slots * GiB)
    if any(n.mtype in ("spm", "reserved") for n in nodes):
        if BREAK == "resmem-typed-end":
            end = max(g[1] for s in spans if s[3] in ("spm", "reserved")
                      and s[2] > s[1] for g in gpa(s[1], s[2]))
        else:
            end = above_start + above
        resmem = max(resmem, end)
    v = Verdict(True, e820=e820, srat=srat)
    v.resmem = roundup(resmem, GiB)
    return v


# ---------------------------------------------------------------------------
# Running QEMU


def srat_memory(tables):
    """[(node, base, length, flags)] of the enabled SRAT memory affinity
    structures in the etc/acpi/tables blob"""
    pos, srat = 0, None
    while pos + 8 <= len(tables):
        sig = tables[pos:pos + 4]
        length = struct.unpack_from("<I", tables, pos + 4)[0]
        if length < 8:
            break
        if sig == b"SRAT":
            srat = tables[pos:pos + length]
            break
        pos += length
    if srat is None:
        i = tables.find(b"SRAT")
        if i < 0:
            return None
        srat = tables[i:i + struct.unpack_from("<I", tables, i + 4)[0]]
    out, p = [], 48
    while p + 2 <= len(srat):
        typ, ln = srat[p], srat[p + 1]
        if ln == 0:
            break
        if typ == 1:
            node, base, length, flags = struct.unpack_from("<I2xQQ4xI",
                                                           srat, p + 2)
            if flags & 1:
                out.append((node, base, length, flags & 3))
        p += ln
    out.sort(key=lambda x: (x[1], x[0]))
    return out


def smbios_type19(blob):
    """[(start, end)] of the SMBIOS type 19 structures, in table order:
    KiB units from the 32-bit fields, or bytes from the extended ones"""
    out, p = [], 0
    while p + 4 <= len(blob):
        typ, ln = blob[p], blob[p + 1]
        if typ == 19:
            start, end = struct.unpack_from("<II", blob, p + 4)
            if start == 0xFFFFFFFF:
                start, end = struct.unpack_from("<QQ", blob, p + 15)
                out.append(("bytes", start, end))
            else:
                out.append(("KiB", start, end))
        q = blob.find(b"\0\0", p + ln)
        if q < 0 or typ == 127:
            break
        p = q + 2
    return out


def expected_type19(e820):
    """one type 19 structure per e820 RAM entry, in table order (SMBIOS
    3.x: 32-bit KiB fields, or 64-bit byte fields beyond them)"""
    out = []
    for a, n, t in e820:
        if t != RAM:
            continue
        lo, hi = a // KiB, (a + n - 1) // KiB
        if lo < 0xFFFFFFFF and hi < 0xFFFFFFFF:
            out.append(("KiB", lo, hi))
        else:
            out.append(("bytes", a, a + n - 1))
    return out


def error_lines(stderr):
    """The lines of @stderr that are errors, not warnings.  QEMU may print
    generic warnings before the error (for example "warning: Large machine
    and max_ram_below_4g (...) not a multiple of 1G; possible bad
    performance."); the one-line rule is about the error: exactly one line
    that is not a "warning:" line, and it is the one judged against the
    oracle's pattern (callers use the last element)."""
    return [ln for ln in stderr.splitlines()
            if ln.strip() and ": warning: " not in ln
            and not ln.startswith("warning:")]


def run_late(qemu, args, timeout):
    """A configuration refused only once the machine is built: after the
    point where Qemu.run's -kernel file would be looked for."""
    vm = Qemu(qemu, ["-S"] + args, timeout=timeout)
    try:
        vm.start()
    except Exception:
        pass
    vm.stop()
    return vm.returncode, vm.stderr


def parse_size(text):
    """a size as QEMU prints it in a hint: 3G, 1026M, 512K or bytes"""
    m = re.fullmatch(r"(\d+)([GMK]?)", text)
    return int(m.group(1)) * {"G": GiB, "M": MiB, "K": KiB, "": 1}[m.group(2)]


def apply_hints(cfg, error, hints):
    """The configuration after one round of the remedies that @hints
    state, applied mechanically, all together; and what was applied.
    The lines: "keep memmap-type on the first K typed nodes only" (the
    later typed nodes, in node id order, lose memmap-type), "Put a node
    with 2M of normal memory before node N" (a new normal node with a
    2 MiB backend of its own at id N; node N and the later ones move up
    by one, the CPUs, initiator= and hmat-lb with them), "Make the memory
    backend of node N size=X" (N: the id before any insertion), "Use
    -machine max-ram-below-4g=X", "Use -m X".  Any other line is a
    mismatch (raised as ValueError)."""
    cfg2 = copy.deepcopy(cfg)
    cfg2.followed, done = True, []
    keep = insert = None
    for kind, *g in parse_hints(hints):
        if kind == "keep":
            keep = g[0]
        elif kind == "insert":
            insert = g[0]
        elif kind == "size":
            cfg2.nodes[g[0]].size = parse_size(g[1])
            done.append(f"node {g[0]} size={g[1]}")
        elif kind == "split":
            cfg2.max_below = parse_size(g[0])
            done.append(f"max-ram-below-4g={g[0]}")
        elif kind == "physbits":
            model = re.sub(r",phys-bits=\d+", "", cfg2.cpu[0] or "qemu64")
            cfg2.cpu = (f"{model},phys-bits={g[0]}", cfg2.cpu[1], g[0])
            done.append(f"phys-bits={g[0]}")
        else:
            # literally: a -m value without a unit is in MiB, and -m is
            # rounded up to 8 KiB
            cfg2.ram_opt = g[0]
            cfg2.ram = roundup(parse_size(g[0]) * (
                MiB if g[0][-1].isdigit() else 1), 8 * KiB)
            done.append(f"-m {g[0]}")
    if keep is not None:
        typed = [n for n in cfg2.nodes if n.mtype in ("spm", "reserved")]
        for n in typed[keep:]:
            n.mtype = None
        done.append(f"memmap-type removed from {len(typed) - keep} typed nodes")
    if insert is not None:
        if not 0 <= insert < len(cfg2.nodes):
            raise ValueError(f"a 2M node before node {insert}, which does not exist")
        cfg2.nodes.insert(insert, Node(2 * MiB))
        if cfg2.cpu_node >= insert:
            cfg2.cpu_node += 1
        done.append(f"a 2M node inserted before node {insert}")
    return cfg2, done


NOT_CONVERGED = []


def follow_hints(qemu, cfg, v, error, hints, timeout):
    """The property "hints converge in one round": apply every hint line
    of a layout refusal once; the configuration must then start (with the
    table the oracle predicts).  Returns run_one's (kind, detail)."""
    try:
        cfg2, done = apply_hints(cfg, error, hints)
    except ValueError as e:
        return "mismatch", f"hints cannot be applied: {e}"
    k2, d2 = run_one(qemu, cfg2, timeout)
    stat = "not converged" if k2 == "refused" else k2
    if k2 == "mismatch" and getattr(cfg2, "qemu_refused", False):
        # QEMU refused: the property fails, whatever the oracle thought
        k2, stat = "refused", "not converged"
        d2 = f"(the oracle disagrees too: {d2.splitlines()[0][:200]})"
    with STATS_LOCK:
        STATS[stat] = STATS.get(stat, 0) + 1
        STATS[f"{stat}: {v.layout}"] = STATS.get(f"{stat}: {v.layout}", 0) + 1
    if k2 == "mismatch":
        return "mismatch", f"after applying the hints ({', '.join(done)}): {d2}"
    if k2 == "started":
        return "refused", v.reason
    err2 = (cfg2.round_output or [""])[0]
    m = re.search(r"NUMA node (\d+) ", err2)
    if "should equal RAM size" in err2 or "ram size" in err2.lower():
        why = "the -m of the hint is not what QEMU makes of it"
    elif m and m.group(1) == str(v.node):
        why = "the same node is refused again"
    elif m:
        why = "another node is refused next"
    else:
        why = "another rule refuses it"
    with STATS_LOCK:
        STATS[f"not converged, {why}"] = STATS.get(f"not converged, {why}", 0) + 1
    detail = (f"hints do not converge in one round ({v.layout}; {why}): applied "
              f"{', '.join(done) or 'nothing'}; refused again: {d2}\n"
              f"    round 1: qemu-system-x86_64 {cfg.describe()}\n"
              + "".join(f"      {ln}\n" for ln in cfg.round_output)
              + f"    round 2: qemu-system-x86_64 {cfg2.describe()}\n"
              + "".join(f"      {ln}\n" for ln in cfg2.round_output))
    with STATS_LOCK:
        NOT_CONVERGED.append((len(cfg.nodes), cfg.ram, f"{v.layout}; {why}", detail))
    return "not converged", detail


def run_one(qemu, cfg, timeout):
    """returns (kind, detail): kind is refused / started / mismatch"""
    v = oracle(cfg)
    args = cfg.args()
    if not v.ok:
        try:
            if v.late:
                rc, err = run_late(qemu, args, timeout)
            else:
                rc, err = Qemu.run(qemu, args, timeout=timeout)
        except Exception as e:          # timeout
            return "mismatch", f"oracle: refuse ({v.reason}); QEMU: {e!r}"
        lines = error_lines(err)
        cfg.round_output, cfg.qemu_refused = lines, rc == 1
        # the error has the program name in front; hint lines do not
        main = [ln for ln in lines if ln.startswith("qemu-system-")]
        hints = [ln for ln in lines if not ln.startswith("qemu-system-")]
        if BAD_TEXT.search(err) or rc < 0:
            return "mismatch", f"crash or sanitizer report (status {rc}): {err.strip()[-600:]}"
        if rc != 1 or len(main) != 1:
            return "mismatch", (f"oracle: refuse ({v.reason}); QEMU: status "
                                f"{rc}, {len(main)} error lines: {err.strip()[-600:]}")
        if not re.search(v.pattern, main[0]):
            return "mismatch", (f"oracle: refuse ({v.reason}) /{v.pattern}/; "
                                f"QEMU: {main[0]}")
        if v.hint is None and hints:
            return "mismatch", (f"oracle: refuse ({v.reason}) without a hint; "
                                f"QEMU: {' | '.join(hints)}")
        if v.hint is not None and not re.fullmatch(v.hint, "\n".join(hints), re.M):
            return "mismatch", (f"oracle: refuse ({v.reason}) with hint "
                                f"/{v.hint}/; QEMU: {' | '.join(hints) or 'no hint'}")
        cfg.round_output = [main[0]] + hints
        if v.layout is not None and not getattr(cfg, "followed", False):
            return follow_hints(qemu, cfg, v, main[0], hints, timeout)
        return "refused", v.reason
    vm = Qemu(qemu, args, timeout=timeout)
    try:
        vm.start()
    except Exception as e:
        vm.stop()
        err = vm.stderr.strip()
        cfg.round_output = error_lines(err)
        cfg.qemu_refused = vm.returncode == 1
        if BAD_TEXT.search(err) or (vm.returncode or 0) < 0:
            return "mismatch", f"crash or sanitizer report (status {vm.returncode}): {err[-600:]}"
        return "mismatch", (f"oracle: starts; QEMU: status {vm.returncode}: "
                            f"{err[-600:] or repr(e)}")
    try:
        got = vm.e820()
        files = vm.fw_cfg_files()
        resmem = (int.from_bytes(vm.fw_cfg_file("etc/reserved-memory-end"),
                                 "little")
                  if "etc/reserved-memory-end" in files else 0)
        t19 = smbios_type19(vm.fw_cfg_file("etc/smbios/smbios-tables")) \
            if "etc/smbios/smbios-tables" in files else None
        numa_info = vm.hmp("info numa") if cfg.nodes else None
        srat = None
        if v.srat is not None:
            below, _ = ram_split(cfg, cfg.ram)
            # fw_cfg DMA lands at 1 MiB: only with RAM there
            if below >= 2 * MiB:
                srat = srat_memory(vm.fw_cfg_file("etc/acpi/tables"))
    except Exception as e:
        vm.stop()
        return "mismatch", f"reading fw_cfg failed: {e!r}; stderr: {vm.stderr.strip()[-600:]}"
    vm.stop()
    err = vm.stderr
    if BAD_TEXT.search(err) or vm.returncode != 0:
        return "mismatch", f"status {vm.returncode} after quit: {err.strip()[-600:]}"
    if error_lines(err):
        return "mismatch", f"started, but stderr has: {err.strip()[-600:]}"
    got = [tuple(e) for e in got]
    if got != v.e820:
        return "mismatch", ("e820 differs\n      expected: %s\n      got:      %s"
                            % (fmt_e820(v.e820), fmt_e820(got)))
    if resmem != v.resmem:
        return "mismatch", ("etc/reserved-memory-end %s, expected %s"
                            % (hex(resmem) if resmem else "absent",
                               hex(v.resmem) if v.resmem else "absent"))
    if t19 is not None and t19 != expected_type19(got):
        return "mismatch", ("SMBIOS type 19 is not one structure per e820 RAM "
                            "entry\n      expected: %s\n      got:      %s"
                            % (expected_type19(got), t19))
    if numa_info is not None:
        want = [f"{len(cfg.nodes)} nodes"] + [
            f"node {i} memmap-type: {n.mtype}" for i, n in enumerate(cfg.nodes)
            if n.mtype in ("spm", "reserved")]
        lines = numa_info.splitlines()
        missing = [w for w in want if w not in lines]
        extra = [ln for ln in lines if "memmap-type" in ln and ln not in want]
        if missing or extra:
            return "mismatch", (f"info numa: missing {missing}, unexpected "
                                f"{extra}")
    if srat is not None and srat != v.srat:
        return "mismatch", ("SRAT memory affinity differs\n      expected: %s\n"
                            "      got:      %s" % (fmt_srat(v.srat),
                                                    fmt_srat(srat)))
    return "started", f"{len(got)} e820 entries" + (
        ", SRAT checked" if srat is not None else "")


def fmt_e820(t):
    return " ".join(f"[{a:#x}+{n:#x} {ty:#x}]" for a, n, ty in t)


def fmt_srat(t):
    return " ".join(f"[n{nd} {a:#x}+{n:#x}{' hp' if f & 2 else ''}]"
                    for nd, a, n, f in t)


BREAK_MODES = ["merge-typed", "no-merge", "no-relocate", "no-align",
               "align-4k", "align-first", "resmem-typed-end", "suggest"]


def verdict_key(v):
    return (v.ok, v.reason, v.pattern, v.e820, v.srat, v.late,
            getattr(v, "hint", None), v.fix, v.node, getattr(v, "resmem", None))


def self_test(qemu, seed, timeout, limit=20000):
    """For every FUZZ_BREAK_ORACLE mode: find a configuration on which
    the broken oracle and the true one disagree (oracle only, no QEMU),
    then run QEMU on it: the true oracle must agree with QEMU, the
    broken one must be reported as a mismatch.  Shows that the fuzzer
    can fail, on every run, for every kind of rule."""
    global BREAK
    rng = random.Random(seed)
    r = Results("fuzz-selftest")
    for mode in BREAK_MODES:
        found = None
        for n in range(limit):
            cfg = generate(random.Random(rng.getrandbits(64)))
            BREAK = ""
            good = verdict_key(oracle(cfg))
            BREAK = mode
            if verdict_key(oracle(cfg)) != good:
                found = (n + 1, cfg)
                break
        BREAK = ""
        if not found:
            r.failed(f"fuzz-selftest: {mode}: no configuration among {limit} "
                     f"where the broken oracle differs; the generator misses the rule")
            continue
        tried, cfg = found
        kind, detail = run_one(qemu, cfg, timeout)
        BREAK = mode
        bkind, bdetail = run_one(qemu, cfg, timeout)
        BREAK = ""
        if kind != "mismatch" and bkind == "mismatch":
            r.passed(f"fuzz-selftest: {mode}: configuration {tried} tells it "
                     f"apart: true oracle {kind}, broken oracle reported: "
                     f"{bdetail.splitlines()[0][:150]}")
        else:
            r.failed(f"fuzz-selftest: {mode}: true oracle {kind} ({detail[:150]}), "
                     f"broken oracle {bkind} ({bdetail[:150]})\n"
                     f"    qemu-system-x86_64 {cfg.describe()}")
    return r.verdict()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--self-test", action="store_true",
                    help="break the oracle in every way FUZZ_BREAK_ORACLE "
                         "knows, one configuration each: each must be caught")
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--qemu", default=os.environ.get("QEMU_PATCHED", DEFAULT_QEMU))
    ap.add_argument("--jobs", type=int, default=1, help="parallel QEMUs (max 2)")
    ap.add_argument("--timeout", type=int, default=30)
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--show", type=int, default=None,
                    help="print configuration number N of the seed and exit")
    o = ap.parse_args()
    seed = o.seed if o.seed is not None else random.SystemRandom().randrange(1 << 32)
    if o.self_test:
        return self_test(o.qemu, seed, o.timeout)
    print(f"fuzz: seed {seed} (replay: {sys.argv[0]} --seed {seed} --count {o.count})")
    if BREAK:
        print(f"fuzz: FUZZ_BREAK_ORACLE={BREAK}: the oracle is wrong on purpose")
    res = Results("fuzz")
    if not os.access(o.qemu, os.X_OK):
        res.skipped(f"fuzz: no QEMU binary at {o.qemu}")
        return res.verdict()
    rng = random.Random(seed)
    # each configuration has its own seed, so that one can be replayed
    cfgs = [(i, generate(random.Random(rng.getrandbits(64))))
            for i in range(o.count)]
    if o.show is not None:
        cfg = cfgs[o.show][1]
        v = oracle(cfg)
        print(cfg.describe())
        print("oracle:", "starts: " + fmt_e820(v.e820) if v.ok
              else f"refuses: {v.reason}: /{v.pattern}/")
        return 0
    t0 = time.time()
    results = [None] * len(cfgs)
    lock = threading.Lock()
    todo = list(cfgs)

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                i, cfg = todo.pop(0)
            results[i] = run_one(o.qemu, cfg, o.timeout)
            kind, detail = results[i]
            if kind == "mismatch":
                res.failed(f"#{i}: {detail}\n    replay: --seed {seed} --show {i}"
                           f"\n    qemu-system-x86_64 {cfg.describe()}")
            elif kind == "not converged":
                # QEMU refused it as the oracle says, but its hints, all
                # applied once, do not make it start: the property "hints
                # converge in one round" fails
                res.failed(f"#{i}: refused; {detail}    replay: --seed {seed} "
                           f"--show {i}")
            else:
                res.passed(f"#{i}: {kind}: {detail}", show=o.verbose)

    threads = [threading.Thread(target=worker) for _ in range(max(1, min(o.jobs, 2)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kinds = [r[0] for r in results]
    reasons = {}
    for (_, c), (k, d) in zip(cfgs, results):
        if k == "not converged":
            d = oracle(c).reason
        if k in ("refused", "not converged"):
            reasons[d] = reasons.get(d, 0) + 1
    nodes = [len(c.nodes) for _, c in cfgs]
    typed = sum(1 for _, c in cfgs if any(n.mtype in ("spm", "reserved") for n in c.nodes))
    relocated = sum(1 for (_, c), r in zip(cfgs, results)
                    if r[0] == "started" and oracle(c).e820 and
                    any(a >= TiB and t != RESERVED or a == TiB
                        for a, _, t in oracle(c).e820))
    print(f"fuzz: seed {seed}: {len(cfgs)} configurations tried in "
          f"{time.time() - t0:.1f} s: {kinds.count('refused') + kinds.count('not converged')} refused "
          f"(oracle agreeing, {kinds.count('not converged')} of them with "
          f"hints that do not converge), {kinds.count('started')} started (e820 as "
          f"predicted), {kinds.count('mismatch')} mismatches")
    typed_started = sum(1 for (_, c), r in zip(cfgs, results) if r[0] == "started"
                        and any(n.mtype in ("spm", "reserved") for n in c.nodes))
    print(f"fuzz: {typed} with spm/reserved nodes ({typed_started} of them "
          f"started), up to {max(nodes)} nodes, "
          f"{relocated} started with high RAM relocated to 1 TiB")
    refused = kinds.count("refused") + kinds.count("not converged")
    layout = STATS.get("started", 0) + STATS.get("not converged", 0) + \
        STATS.get("mismatch", 0)
    by = ", ".join(f"{k.split(': ')[1]} {STATS[k]}" for k in sorted(STATS)
                   if k.startswith("not converged: "))
    why = ", ".join(f"{STATS[k]} {k.split(', ')[1]}" for k in sorted(STATS)
                           if k.startswith("not converged, "))
    by = "; ".join(x for x in (by, why) if x)
    print(f"fuzz: hints: refused {refused} ({layout} by a layout rule with a "
          f"hint to apply), hint applied and accepted "
          f"{STATS.get('started', 0)}, not converged "
          f"{STATS.get('not converged', 0)}" + (f" ({by})" if by else ""))
    if NOT_CONVERGED:
        for cls in sorted({c for _, _, c, _ in NOT_CONVERGED}):
            n, ram, _, detail = min(x for x in NOT_CONVERGED if x[2] == cls)
            print(f"fuzz: smallest configuration whose hints do not converge "
                  f"({cls}, {n} nodes, -m {fmt_size(ram)}):\n    {detail}")
    for r in sorted(reasons, key=lambda r: -reasons[r]):
        print(f"fuzz:   refused {reasons[r]:4d} x {r}")
    return res.verdict()


if __name__ == "__main__":
    sys.exit(main())
