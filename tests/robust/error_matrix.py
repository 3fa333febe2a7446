#!/usr/bin/env python3
"""Error matrix for -numa node,memmap-type: every way to get it wrong.

Each invalid configuration is run on the command line and, where the
option can be given that way, through --preconfig and QMP set-numa-node.
Asserted for every case:

  command line  exit status 1 (no signal), exactly one error line on
                stderr (plus, for a few cases, a named generic QEMU
                warning), matching the expected message, which names
                memmap-type or the offending option; for the series' own
                errors, hint lines after it (error_append_hint()) that say
                how to fix the command line, matching the expected hint,
                suggested values included; no assertion text, no
                sanitizer report.
  QMP, parse    set-numa-node fails with the same message; QEMU keeps
                running; the node is left unconfigured, so the same node
                id can then be set up correctly and the machine starts
                with the expected e820 table.
  QMP, machine  errors found while the machine is built (memory below
                4 GiB, confidential guests, ...) end x-exit-preconfig with
                exit status 1 and the same one-line message.

Messages that come from QEMU's generic code rather than from the series
(an enum value the QAPI visitor rejects, a duplicate node id, ...) are
marked "generic": they must name the offending option, but QEMU does not
always add a hint on how to fix it.  For every error whose hint
names values (max-ram-below-4g, the size of a node's memory backend, -m,
the typed nodes to keep within the 37 e820 entries firmware can take),
every hint line is applied, literally and once, and the configuration
must then start with its typed memory above 4 GiB: the hints converge
in one round.  Valid neighbours of the error
cases (HMAT with spm above 4 GiB, a DIMM hotplugged into an spm node,
AMD relocation, 2 MiB aligned spm, ...) must start with the e820 table
written out by hand below and, where given, the etc/reserved-memory-end
value worked out by hand from the rule (with a typed node: at least the
end of all boot memory above 4 GiB, rounded up to 1 GiB).

    error_matrix.py [--qemu PATH] [--only SUBSTRING] [--timeout S]

Prints one line per case (PASS / FAIL / SKIP and its name) and ends with
"error-matrix: N passed, N failed, N skipped".
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from qemulib import Qemu  # noqa: E402
from results import Results  # noqa: E402
from memmap_hints import parse_hints  # noqa: E402

DEFAULT_QEMU = os.path.join(ROOT, ".cache/check/build/qemu-system-x86_64")
G, M, K, T = 1 << 30, 1 << 20, 1 << 10, 1 << 40
HT = (0xfd00000000, 0x300000000, 2)
RAM, RES, SPM = 1, 2, 0xEFFFFFFF
BAD_TEXT = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|"
                      r"UndefinedBehaviorSanitizer|[Aa]ssertion|"
                      r"code should not be reached|Segmentation fault")


def objs(*sizes, extra=""):
    """-object memory-backend-ram,id=mI,size=S for each size"""
    a = []
    for i, s in enumerate(sizes):
        a += ["-object", f"memory-backend-ram,id=m{i},size={s}{extra}"]
    return a


def numa(*opts):
    a = []
    for o in opts:
        a += ["-numa", "node," + o]
    return a


class Case:
    """@args: command line.  @error: regex the one error line must match.
    @qmp: None, or (preconfig args, [set-numa-node argument dicts]) for
    the QMP path; the last dict is the one that must fail if
    @qmp_stage == "parse".  @retry: set-numa-node arguments that must
    then succeed, and @e820 the table the machine must have afterwards.
    @fix: the hint names values (max-ram-below-4g, a backend size, -m,
    the typed nodes to keep): with every hint line applied, once, the
    configuration must start with its typed memory above 4 GiB (the
    hints converge in one round).  @resmem: for a valid
    case, the value etc/reserved-memory-end must have (None: not checked,
    0: the file must be absent)."""

    def __init__(self, name, args, error=None, generic=False, qmp=None,
                 qmp_stage="parse", retry=None, e820=None, fix=None,
                 allow=None, needs=None, skip=None, valid=False, check=None,
                 qmp_error=None, hint=None, resmem=None):
        if isinstance(error, tuple):        # (error regex, hint regex)
            error, hint = error
        self.name, self.args, self.error = name, args, error
        self.hint = hint            # regex over the hint lines, or None
        self.generic, self.qmp, self.qmp_stage = generic, qmp, qmp_stage
        self.retry, self.e820, self.fix = retry, e820, fix
        self.allow = allow          # regex of extra stderr lines allowed
        self.needs, self.skip = needs, skip
        self.valid, self.check = valid, check
        self.resmem = resmem
        # over QMP there is no "-numa node,...: " location prefix
        self.qmp_error = qmp_error or (error and re.sub(r"^-numa node,\S*: ", "", error))


# common building blocks
Q35_3G = ["-M", "q35", "-m", "3G"] + objs(2 * G, G)
Q35_3G_B2 = ["-M", "q35,max-ram-below-4g=2G", "-m", "3G"] + objs(2 * G, G)
E820_Q35_3G_B2 = [HT, (0, 2 * G, RAM), (4 * G, G, SPM)]
# The series' messages: (error line regex, hint regex).  The error is
# one phrase; the remedy, with the value to use, is in the hint.


def requires_msg(node, t):
    return (r"NUMA node %d has memmap-type=%s but no memdev$" % (node, t),
            r"^Give the node its memory with -object "
            r"memory-backend-ram,id=ID,size=SIZE and memdev=ID\.$")


def machine_msg(machine, t):
    return (r"Machine type '%s' does not support -numa node,memmap-type=%s$"
            % (machine, t),
            r"^Remove memmap-type, or use a machine type that supports it\.$")


def size_opt(n):
    """a size the way QEMU prints it in a hint: G, M, K or plain bytes,
    the largest unit that divides it"""
    for unit, suffix in ((G, "G"), (M, "M"), (K, "K")):
        if n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def rdown(n, a):
    return n // a * a


def repair_hint(keep=None, insert=None, sizes=None, split=None, ram=None, physbits=None):
    """The hint lines of a refusal, one change each, in QEMU's order: the
    typed nodes to keep, a 2 MiB normal node to put before a node, the
    new backend sizes (@sizes: {node id on the original command line:
    bytes}, node id order), max-ram-below-4g and -m (bytes).  The values
    are worked out in each case below from the case's own sizes, by the
    rule: each kept typed node starts 2 MiB aligned (the node with memory
    before it shrinks by the excess if it can stay a multiple of 8 KiB,
    else grows to the next 2 MiB boundary, at least 2 MiB; a typed node
    with no memory before it gets a new 2 MiB normal node), its size is
    rounded down to 2 MiB (spm) or 8 KiB (reserved), max-ram-below-4g is
    the first typed node's offset rounded down to 2 MiB, -m the sum, and
    the CPU's phys-bits if the repaired memory needs more than it has.
    Lines for values that do not change are absent."""
    lines = []
    if keep is not None:
        lines.append(r"Each typed node takes an entry, and so does the normal "
                     r"memory between two of them: keep memmap-type on the "
                     r"first %d typed nodes only, or put the typed nodes next "
                     r"to each other\." % keep)
    if insert is not None:
        lines.append(r"Put a node with 2M of normal memory before node %d\." % insert)
    for n, size in sorted((sizes or {}).items()):
        lines.append(r"Make the memory backend of node %d size=%s\."
                     % (n, re.escape(size_opt(size))))
    if split is not None:
        lines.append(r"Use -machine max-ram-below-4g=%s\." % re.escape(size_opt(split)))
    if ram is not None:
        lines.append(r"Use -m %s\." % re.escape(size_opt(ram)))
    if physbits is not None:
        lines.append(r"Use a CPU with phys-bits=%d\." % physbits)
    assert lines, "a refusal of a layout rule always has a hint"
    return "\n".join("^" + ln + "$" for ln in lines)


def below_msg(node, t, where, **repair):
    """typed memory below 4 GiB (or crossing it); @repair: repair_hint()"""
    return (r"NUMA node %d has memmap-type=%s but its memory %s 4 GiB$"
            % (node, t, where), repair_hint(**repair))


def zero_msg(node, t, **repair):
    return (r"NUMA node %d has memmap-type=%s but its memory starts at address "
            r"0$" % (node, t), repair_hint(**repair))


def below_1m_msg(node, t, base, **repair):
    return (r"NUMA node %d has memmap-type=%s but its memory starts at %#x, "
            r"below 1 MiB$" % (node, t, base), repair_hint(**repair))


def capacity_msg(need, keep):
    return (r"NUMA nodes with a memmap-type need %d memory map entries, more "
            r"than the 37 that firmware can take$" % need,
            repair_hint(keep=keep))


def align_msg(node, t, base, size, **repair):
    """typed memory above 4 GiB must be aligned: spm to 2 MiB (Linux makes
    a dax device of it in 2 MiB units), reserved to 4 KiB"""
    align, what = (2 * M, "2 MiB") if t == "spm" else (4 * K, "4 KiB")
    assert (base | size) & (align - 1), "an aligned range is no error case"
    return (r"NUMA node %d has memmap-type=%s but its memory at %#x of size "
            r"%#x is not %s aligned$" % (node, t, base, size, what),
            repair_hint(**repair))


def cgs_msg(node, t, what="confidential guests"):
    return (r"NUMA node %d has memmap-type=%s, which is not supported with "
            r"%s$" % (node, t, what),
            r"^Remove memmap-type from the node\.$")


SEV = ["-object", "sev-guest,id=cgs0,reduced-phys-bits=1,cbitpos=47"]
HMAT_LB = ["-numa", "hmat-lb,initiator=0,target=0,hierarchy=memory,"
           "data-type=access-latency,latency=10",
           "-numa", "hmat-lb,initiator=0,target=1,hierarchy=memory,"
           "data-type=access-latency,latency=20"]


def node_dict(nodeid, memdev=None, mtype=None, **kw):
    d = {"type": "node", "nodeid": nodeid}
    if memdev:
        d["memdev"] = memdev
    if mtype is not None:
        d["memmap-type"] = mtype
    d.update(kw)
    return d


def capacity_case(k, error=None, tail=False):
    """q35, max-ram-below-4g=2G, node 0 of 2 GiB normal memory, then @k
    reserved 32 MiB nodes alternating with @k - 1 normal ones above
    4 GiB (and, with @tail, one more normal node after the last): 2k
    e820 entries of boot RAM (2k + 1 with @tail); refused above 37"""
    sizes = [2 * G] + [32 * M] * (2 * k - 1 + bool(tail))
    opts = ["memdev=m0"] + [f"memdev=m{i}" + (",memmap-type=reserved" if i % 2 else "")
                            for i in range(1, len(sizes))]
    args = (["-M", "q35,max-ram-below-4g=2G", "-m", f"{sum(sizes) // M}M"]
            + objs(*sizes) + numa(*opts))
    name = f"capacity/{k}-reserved-nodes-between-normal" + ("-and-one-after" if tail else "")
    if error is None:
        e820 = [HT, (0, 2 * G, RAM)] + [(4 * G + (i - 1) * 32 * M, 32 * M, RES if i % 2 else RAM)
                                       for i in range(1, len(sizes))]
        return Case(name + f"-{2 * k + bool(tail)}-entries-accepted", args, valid=True,
                    e820=e820, resmem=-(-(4 * G + sum(sizes[1:])) // G) * G)
    return Case(name + "-refused", args, error, fix=True)


CASES = [
    # -- the option's value ------------------------------------------------
    Case("value/unknown", Q35_3G_B2 + numa("memdev=m0", "memdev=m1,memmap-type=spm-ish"),
         r"-numa node,memdev=m1,memmap-type=spm-ish: Parameter 'memmap-type' "
         r"does not accept value 'spm-ish'$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "m1", "spm-ish")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("value/wrong-case-SPM", Q35_3G_B2 + numa("memdev=m0", "memdev=m1,memmap-type=SPM"),
         r"Parameter 'memmap-type' does not accept value 'SPM'$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "m1", "SPM")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("value/empty", Q35_3G_B2 + numa("memdev=m0", "memdev=m1,memmap-type="),
         r"Parameter 'memmap-type' does not accept value ''$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "m1", "")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("value/number", Q35_3G_B2 + numa("memdev=m0", "memdev=m1,memmap-type=1"),
         r"Parameter 'memmap-type' does not accept value '1'$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "m1", 1)]),
         qmp_error=r"^Invalid parameter type for 'memmap-type', expected: string$",
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("value/missing-short-form", Q35_3G_B2 + numa("memdev=m0", "memdev=m1,memmap-type"),
         r"Parameter 'memmap-type' does not accept value 'on'$", generic=True,
         allow=r"warning: short-form boolean option 'memmap-type' deprecated|"
               r"^Please use memmap-type=on instead$"),
    # -- nodes without memdev ----------------------------------------------
    Case("memdev/legacy-mem-pc-i440fx-5.0",
         ["-M", "pc-i440fx-5.0", "-m", "4G"] + numa("mem=2G", "mem=2G,memmap-type=spm"),
         requires_msg(1, "spm"), needs="pc-i440fx-5.0",
         qmp=(["-M", "pc-i440fx-5.0", "-m", "4G"],
              [node_dict(0, mem=2 * G), node_dict(1, None, "spm", mem=2 * G)])),
    # an explicit memmap-type=normal changes nothing and is accepted anywhere
    Case("memdev/legacy-mem-normal-accepted",
         ["-M", "pc-i440fx-5.0", "-m", "1G"] + numa("mem=1G,memmap-type=normal"),
         valid=True, e820=[(0, G, RAM)], needs="pc-i440fx-5.0"),
    Case("memdev/memoryless-spm", ["-M", "q35", "-m", "2G"] + objs(2 * G)
         + numa("nodeid=0,memdev=m0", "nodeid=1,memmap-type=spm"),
         requires_msg(1, "spm"),
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, None, "spm")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("memdev/memoryless-normal-explicit-accepted", ["-M", "q35", "-m", "2G"] + objs(2 * G)
         + numa("nodeid=0,memdev=m0", "nodeid=1,memmap-type=normal"),
         valid=True, e820=[HT, (0, 2 * G, RAM)], resmem=0),
    Case("memdev/memoryless-reserved", ["-M", "q35", "-m", "2G"] + objs(2 * G)
         + numa("nodeid=0,memdev=m0", "nodeid=1,memmap-type=reserved"),
         requires_msg(1, "reserved"),
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, None, "reserved")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("memdev/unknown-backend", Q35_3G_B2 + numa("memdev=m0", "memdev=nosuch,memmap-type=spm"),
         r"memdev=nosuch is ambiguous$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "nosuch", "spm")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    # -- machines that do not lay out memory by node ------------------------
    Case("machine/isapc", ["-M", "isapc", "-m", "32M"] + objs(32 * M) + numa("memdev=m0,memmap-type=spm"),
         machine_msg("isapc", "spm"), needs="isapc",
         qmp=(["-M", "isapc", "-m", "32M"] + objs(32 * M), [node_dict(0, "m0", "spm")])),
    Case("machine/isapc-normal-accepted", ["-M", "isapc", "-m", "32M"] + objs(32 * M)
         + numa("memdev=m0,memmap-type=normal"),
         valid=True, e820=[(0, 32 * M, RAM)], needs="isapc"),
    Case("machine/none", ["-M", "none"] + objs(32 * M) + numa("memdev=m0,memmap-type=spm"),
         r"NUMA is not supported by this machine-type$", generic=True,
         qmp=(["-M", "none"] + objs(32 * M), [node_dict(0, "m0", "spm")])),
    Case("machine/microvm", ["-M", "microvm", "-m", "1G"] + objs(G) + numa("memdev=m0,memmap-type=spm"),
         machine_msg("microvm", "spm"), needs="microvm",
         qmp=(["-M", "microvm", "-m", "1G"] + objs(G), [node_dict(0, "m0", "spm")])),
    Case("machine/xenfv", ["-M", "xenfv", "-m", "1G"] + objs(G) + numa("memdev=m0,memmap-type=spm"),
         machine_msg("xenfv", "spm"), needs="xenfv"),
    Case("accel/xen", ["-accel", "xen", "-M", "pc", "-m", "1G"] + objs(G)
         + numa("memdev=m0,memmap-type=spm"),
         cgs_msg(0, "spm", "the Xen accelerator, which builds the guest memory map itself"),
         needs="accel:xen"),
    # -- typed memory below 4 GiB -----------------------------------------
    Case("below4g/node-0-spm", ["-M", "q35,max-ram-below-4g=1G", "-m", "2G"] + objs(G, G)
         + numa("memdev=m0,memmap-type=spm", "memdev=m1"),
         # a 2 MiB normal node before node 0 takes the first MiB; the
         # spm node then starts at 2 MiB, moved above 4 GiB
         zero_msg(0, "spm", insert=0, split=2 * M, ram=2 * G + 2 * M), fix=True,
         qmp=(["-M", "q35,max-ram-below-4g=1G", "-m", "2G"] + objs(G, G),
              [node_dict(0, "m0", "spm"), node_dict(1, "m1")]), qmp_stage="machine"),
    Case("below4g/node-0-reserved-pc", ["-M", "pc", "-m", "8G"] + objs(4 * G, 4 * G)
         + numa("memdev=m0,memmap-type=reserved", "memdev=m1"),
         zero_msg(0, "reserved", insert=0, split=2 * M, ram=8 * G + 2 * M), fix=True),
    Case("below4g/memoryless-node-0-then-spm", ["-M", "q35", "-m", "2G"] + objs(G, G)
         + numa("nodeid=0", "nodeid=1,memdev=m0,memmap-type=spm", "nodeid=2,memdev=m1"),
         # node 0 has no memory: the 2 MiB node goes before node 1 (and
         # the explicit nodeid= of nodes 1 and 2 move up by one)
         zero_msg(1, "spm", insert=1, split=2 * M, ram=2 * G + 2 * M), fix=True),
    Case("below4g/spm-lies-below-pc", ["-M", "pc", "-m", "2G"] + objs(1536 * M, 512 * M)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         below_msg(1, "spm", "lies below", split=1536 * M), fix=True,
         qmp=(["-M", "pc", "-m", "2G"] + objs(1536 * M, 512 * M),
              [node_dict(0, "m0"), node_dict(1, "m1", "spm")]), qmp_stage="machine"),
    Case("below4g/reserved-lies-below-q35", ["-M", "q35", "-m", "2G"] + objs(G, 512 * M, 512 * M)
         + numa("memdev=m0", "memdev=m1", "memdev=m2,memmap-type=reserved"),
         below_msg(2, "reserved", "lies below", split=G + 512 * M), fix=True),
    Case("below4g/spm-crosses-q35", ["-M", "q35", "-m", "4G"] + objs(G, 3 * G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         below_msg(1, "spm", "crosses", split=G), fix=True,
         qmp=(["-M", "q35", "-m", "4G"] + objs(G, 3 * G),
              [node_dict(0, "m0"), node_dict(1, "m1", "spm")]), qmp_stage="machine"),
    Case("below4g/spm-crosses-pc-default-split", ["-M", "pc", "-m", "8G"] + objs(2 * G, 2 * G, 4 * G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2"),
         below_msg(1, "spm", "crosses", split=2 * G), fix=True),
    Case("below4g/max-ram-below-4g-too-high", ["-M", "pc,max-ram-below-4g=3G", "-m", "4G"] + objs(2 * G, 2 * G)
         + numa("memdev=m0", "memdev=m1,memmap-type=reserved"),
         below_msg(1, "reserved", "crosses", split=2 * G), fix=True),
    # the typed node starts at 1G + 4K: node 0 shrinks by the 4K over the
    # 2 MiB boundary (1G stays a multiple of 8 KiB), the spm node's size
    # is rounded down to 2 MiB, max-ram-below-4g is its new offset
    Case("below4g/odd-offset-spm-suggests-the-offset", ["-M", "q35", "-m", "4194312K"]
         + objs(G + 4096, 4194312 * K - G - 4096)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         below_msg(1, "spm", "crosses",
                   sizes={0: G + 4 * K - (G + 4 * K) % (2 * M),
                          1: rdown(4194312 * K - G - 4 * K, 2 * M)},
                   split=G, ram=G + rdown(4194312 * K - G - 4 * K, 2 * M)),
         fix=True, allow=r"warning: There is possibly poor performance"),
    # ... reserved memory also starts 2 MiB aligned, its size rounded
    # down to 8 KiB
    Case("below4g/odd-offset-rounded-down-to-1G-reserved", ["-M", "q35", "-m", "4194312K"]
         + objs(G + 4096, 4194312 * K - G - 4096)
         + numa("memdev=m0", "memdev=m1,memmap-type=reserved"),
         below_msg(1, "reserved", "crosses",
                   sizes={0: G + 4 * K - (G + 4 * K) % (2 * M),
                          1: rdown(4194312 * K - G - 4 * K, 8 * K)},
                   split=G, ram=G + rdown(4194312 * K - G - 4 * K, 8 * K)), fix=True,
         allow=r"warning: There is possibly poor performance"),
    # a typed node starting below 1 MiB, after a node of less than 1 MiB:
    # firmware needs the first MiB as normal memory
    Case("below1m/spm-at-512K", ["-M", "q35", "-m", "2049M"]
         + objs(512 * K, 2 * G, 512 * K)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2"),
         # node 0 cannot shrink to a 2 MiB boundary: it grows to 2 MiB
         below_1m_msg(1, "spm", 512 * K, sizes={0: 2 * M}, split=2 * M,
                      ram=2049 * M - 512 * K + 2 * M), fix=True,
         allow=r"warning: There is possibly poor performance"),
    Case("below1m/spm-at-1000-bytes", ["-M", "q35", "-m", "2097160K"]
         + objs(1000, 2 * G, 8 * K - 1000)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2"),
         # ... and the last node, 8K - 1000 bytes, grows to 8 KiB so
         # that -m, a multiple of 8 KiB, is the sum of the nodes
         below_1m_msg(1, "spm", 1000, sizes={0: 2 * M, 2: 8 * K}, split=2 * M,
                      ram=2 * M + 2 * G + 8 * K), fix=True,
         allow=r"warning: There is possibly poor performance"),
    Case("below4g/odd-offset-suggests-M", ["-M", "pc", "-m", "4G"]
         + objs(1000 * M, 4 * G - 1000 * M)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         below_msg(1, "spm", "crosses", split=1000 * M), fix=True,
         allow=r"warning: Large machine and max_ram_below_4g"),
    Case("below4g/second-typed-node-below", ["-M", "pc,max-ram-below-4g=2G", "-m", "8G"]
         + objs(G, G, 2 * G, 4 * G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2,memmap-type=spm", "memdev=m3"),
         below_msg(1, "spm", "lies below", split=G), fix=True),
    Case("below4g/all-memory-below-4g", ["-M", "pc", "-m", "3G"] + objs(2 * G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         below_msg(1, "spm", "lies below", split=2 * G), fix=True),
    # -- node ids ----------------------------------------------------------
    Case("nodeid/duplicate", Q35_3G_B2 + numa("nodeid=0,memdev=m0", "nodeid=0,memdev=m1,memmap-type=spm"),
         r"Duplicate NUMA nodeid: 0$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(0, "m1", "spm")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("nodeid/out-of-range", Q35_3G_B2 + numa("nodeid=0,memdev=m0", "nodeid=128,memdev=m1,memmap-type=spm"),
         r"Max number of NUMA nodes reached: 128$", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(128, "m1", "spm")]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    Case("nodeid/sparse", Q35_3G_B2 + numa("nodeid=0,memdev=m0", "nodeid=2,memdev=m1,memmap-type=spm"),
         r"numa: Node ID missing: 1$", generic=True),
    # -- other memory options ----------------------------------------------
    Case("memory-backend/with-memmap-type", ["-M", "q35,memory-backend=m0", "-m", "3G"] + objs(3 * G)
         + numa("memdev=m0,memmap-type=spm"),
         r"'-machine memory-backend' and '-numa memdev' properties are "
         r"mutually exclusive$", generic=True),
    Case("memory-backend/with-other-node-typed", ["-M", "q35,memory-backend=r", "-m", "3G",
                                                  "-object", "memory-backend-ram,id=r,size=3G"]
         + objs(2 * G, G) + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         r"'-machine memory-backend' and '-numa memdev' properties are "
         r"mutually exclusive$", generic=True),
    Case("memory/node-total-differs", ["-M", "q35,max-ram-below-4g=2G", "-m", "4G"] + objs(2 * G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         r"total memory for NUMA nodes \(0xc0000000\) should equal RAM size "
         r"\(0x100000000\)$", generic=True),
    Case("memory/max-ram-below-4g-above-4G", ["-M", "q35,max-ram-below-4g=5G", "-m", "3G"] + objs(2 * G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         r"Machine option 'max-ram-below-4g=5368709120' expects size less than "
         r"or equal to 4G$", generic=True),
    Case("memory/phys-bits-too-low-after-relocation",
         ["-M", "q35", "-m", "1100G"] + objs(2 * G, 8 * G, 1090 * G, extra=",reserve=off")
         + numa("memdev=m0", "memdev=m1", "memdev=m2,memmap-type=spm"),
         # 1 TiB + 1098 GiB of high RAM, rounded, + the 32 GiB PCI hole - 1
         r"Address space limit 0xffffffffff < 0x21a7fffffff phys-bits too low \(40\)$",
         generic=True),
    # the repair moves 1 GiB more above 4 GiB (max-ram-below-4g 3G -> 2G):
    # high RAM ends near 4G + 1006G, plus the 32 GiB 64-bit PCI hole past
    # the HyperTransport hole at 1012G, so QEMU puts it at 1 TiB, and its
    # top (about 2062G) needs 41 address bits, one more than qemu64 has
    Case("below4g/crosses-4g-needs-phys-bits",
         ["-M", "pc", "-m", "1056964624K"]
         + objs(2 * G, 726174310400, 354009980928, extra=",reserve=off")
         + numa("memdev=m0", "memdev=m1,memmap-type=reserved", "memdev=m2"),
         below_msg(1, "reserved", "crosses", split=2 * G, physbits=41), fix=True),
    # -- confidential guests and IGVM --------------------------------------
    Case("cgs/sev-guest-spm", ["-M", "q35,max-ram-below-4g=2G,confidential-guest-support=cgs0",
                               "-m", "3G"] + SEV + objs(2 * G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         cgs_msg(1, "spm"), needs="sev-guest",
         qmp=(["-M", "q35,max-ram-below-4g=2G,confidential-guest-support=cgs0",
               "-m", "3G"] + SEV + objs(2 * G, G),
              [node_dict(0, "m0"), node_dict(1, "m1", "spm")]), qmp_stage="machine"),
    Case("cgs/sev-guest-reserved-pc", ["-M", "pc,max-ram-below-4g=2G,confidential-guest-support=cgs0",
                                       "-m", "4G"] + SEV + objs(2 * G, G, G)
         + numa("memdev=m0", "memdev=m1", "memdev=m2,memmap-type=reserved"),
         cgs_msg(2, "reserved"), needs="sev-guest"),
    Case("cgs/sev-guest-spm-below-4g", ["-M", "q35,confidential-guest-support=cgs0",
                                        "-m", "2G"] + SEV + objs(G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         cgs_msg(1, "spm"), needs="sev-guest"),
    Case("cgs/sev-snp-guest", ["-M", "q35,max-ram-below-4g=2G,confidential-guest-support=cgs0",
                               "-m", "3G", "-object",
                               "sev-snp-guest,id=cgs0,reduced-phys-bits=1,cbitpos=47"]
         + objs(2 * G, G) + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         cgs_msg(1, "spm"), needs="sev-snp-guest", skip=r"KVM required"),
    Case("cgs/tdx-guest", ["-M", "q35,max-ram-below-4g=2G,confidential-guest-support=cgs0",
                           "-m", "3G", "-object", "tdx-guest,id=cgs0"]
         + objs(2 * G, G) + numa("memdev=m0", "memdev=m1,memmap-type=reserved"),
         cgs_msg(1, "reserved"), needs="tdx-guest", skip=r"KVM required"),
    Case("igvm/spm", ["-M", "q35,max-ram-below-4g=2G,igvm-cfg=igvm0", "-m", "3G",
                      "-object", "igvm-cfg,id=igvm0,file=/nonexistent.igvm"]
         + objs(2 * G, G) + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         (r"NUMA node 1 has memmap-type=spm, which is not supported with "
          r"-machine igvm-cfg$", r"^Remove memmap-type=spm from the node, or igvm-cfg\.$"),
         needs="igvm-cfg"),
    # -- HMAT --------------------------------------------------------------
    Case("hmat/initiator-without-hmat", Q35_3G_B2 + numa("memdev=m0", "memdev=m1,initiator=0,memmap-type=spm"),
         r"ACPI Heterogeneous Memory Attribute Table \(HMAT\) is disabled, "
         r"enable it with -machine hmat=on", generic=True,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "m1", "spm", initiator=0)]),
         retry=node_dict(1, "m1", "spm"), e820=E820_Q35_3G_B2),
    # patch 1: an out-of-range initiator is an error through errp (it used
    # to be reported with error_report() and the node silently dropped)
    Case("hmat/initiator-out-of-range", ["-M", "q35,hmat=on", "-m", "3G"] + objs(2 * G, G)
         + numa("memdev=m0,cpus=0", "memdev=m1,initiator=200,memmap-type=spm"),
         r"-numa node,memdev=m1,initiator=200,memmap-type=spm: The initiator "
         r"id 200 expects an integer between 0 and 127$", generic=True,
         qmp=(["-M", "q35,hmat=on", "-m", "3G"] + objs(2 * G, G),
              [node_dict(0, "m0", cpus=[0]), node_dict(1, "m1", "spm", initiator=200)]),
         retry=node_dict(1, "m1", "spm", initiator=0), e820=E820_Q35_3G_B2),
    Case("hmat/spm-below-4g", ["-M", "q35,hmat=on", "-m", "2G"] + objs(G, G)
         + numa("memdev=m0,cpus=0", "memdev=m1,initiator=0,memmap-type=spm") + HMAT_LB,
         below_msg(1, "spm", "lies below", split=G), fix=True),
    Case("hmat/valid-spm-above-4g", ["-M", "q35,hmat=on,max-ram-below-4g=2G", "-m", "3G"] + objs(2 * G, G)
         + numa("memdev=m0,cpus=0", "memdev=m1,initiator=0,memmap-type=spm") + HMAT_LB,
         valid=True, e820=E820_Q35_3G_B2, check="hmat", resmem=5 * G),
    # -- memory hotplug ----------------------------------------------------
    Case("hotplug/spm-below-4g-with-slots", ["-M", "pc", "-m", "3G,slots=2,maxmem=8G"] + objs(2 * G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         below_msg(1, "spm", "lies below", split=2 * G), fix=True),
    Case("hotplug/too-many-slots", ["-M", "q35,max-ram-below-4g=2G", "-m", "3G,slots=300,maxmem=8G"]
         + objs(2 * G, G) + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         r"unsupported amount of memory slots: 300$", generic=True),
    Case("hotplug/valid-dimm-in-spm-node", ["-M", "pc,max-ram-below-4g=2G", "-m", "3G,slots=2,maxmem=8G"]
         + objs(2 * G, G) + ["-object", "memory-backend-ram,id=d0,size=1G"]
         + numa("memdev=m0", "memdev=m1,memmap-type=spm")
         + ["-device", "pc-dimm,id=dimm0,memdev=d0,node=1"],
         # etc/reserved-memory-end: the end of device memory, which starts
         # at the 1 GiB-rounded end of high RAM (5G) and spans maxmem - -m
         # plus 1 GiB per slot (5G + 2G)
         valid=True, e820=E820_Q35_3G_B2, check="dimm", resmem=12 * G),
    # -- valid neighbours --------------------------------------------------
    Case("valid/repeated-key-last-wins", Q35_3G + numa("memdev=m0", "memdev=m1,memmap-type=spm,memmap-type=reserved"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (4 * G, G, RES)], resmem=5 * G),
    Case("valid/amd-relocation-1TiB", ["-M", "q35", "-cpu", "EPYC,phys-bits=48", "-m", "1100G"]
         + objs(2 * G, 8 * G, 1090 * G, extra=",reserve=off")
         + numa("memdev=m0", "memdev=m1", "memdev=m2,memmap-type=spm"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (T, 8 * G, RAM), (T + 8 * G, 1090 * G, SPM)],
         resmem=T + 1098 * G),
    Case("valid/adjacent-typed-nodes-not-merged", ["-M", "pc,max-ram-below-4g=2G", "-m", "6G",
                                                   "-cpu", "Skylake-Client"] + objs(2 * G, G, G, G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2,memmap-type=spm",
                "memdev=m3,memmap-type=reserved", "memdev=m4"),
         valid=True, e820=[(0, 2 * G, RAM), (4 * G, G, SPM), (5 * G, G, SPM),
                           (6 * G, G, RES), (7 * G, G, RAM)],
         # the end of all boot memory above 4 GiB, the normal node 4 included
         resmem=8 * G),
    Case("valid/explicit-normal-and-memoryless", ["-M", "q35,max-ram-below-4g=1G", "-m", "2G"] + objs(G, G)
         + numa("nodeid=0,memdev=m0,memmap-type=normal", "nodeid=1", "nodeid=2,memdev=m1,memmap-type=reserved"),
         valid=True, e820=[HT, (0, G, RAM), (4 * G, G, RES)], resmem=5 * G),
    # -- etc/reserved-memory-end with typed nodes ---------------------------
    # With a typed node it is at least the end of all boot memory above
    # 4 GiB, rounded up to 1 GiB, whichever node comes last: here 1.5 GiB
    # of normal memory follow the spm node and end at 6.5 GiB -> 7 GiB (the
    # end of the typed node alone would give 5 GiB).
    Case("resmem/normal-memory-after-typed-node",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "4608M"] + objs(2 * G, G, 1536 * M)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (4 * G, G, SPM), (5 * G, 1536 * M, RAM)],
         resmem=7 * G),
    # ... and the typed node last: the end of RAM and of typed memory agree
    Case("resmem/typed-node-last-unround-end",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3074M"] + objs(2 * G, 1026 * M)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (4 * G, 1026 * M, SPM)], resmem=6 * G),
    # -- alignment of typed memory above 4 GiB ------------------------------
    # spm must be 2 MiB aligned (start and size; Linux makes dax devices of
    # it in 2 MiB units), reserved 4 KiB.  The hint names the backend size
    # to use (rounded down to 2 MiB / 8 KiB) when the size is off, the
    # size of the node before it when the start is, and -m.
    Case("align/spm-1025M-refused",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3073M"] + objs(2 * G, 1025 * M)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         # written out here rather than with align_msg(): 1025M rounded
         # down to 2 MiB is 1G, -m 1M less
         (r"NUMA node 1 has memmap-type=spm but its memory at 0x100000000 of "
          r"size 0x40100000 is not 2 MiB aligned$",
          r"^Make the memory backend of node 1 size=1G\.$" "\n"
          r"^Use -m 3G\.$"), fix=True,
         qmp=(["-M", "q35,max-ram-below-4g=2G", "-m", "3073M"] + objs(2 * G, 1025 * M),
              [node_dict(0, "m0"), node_dict(1, "m1", "spm")]), qmp_stage="machine"),
    Case("align/spm-1026M-valid",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3074M"] + objs(2 * G, 1026 * M)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (4 * G, 1026 * M, SPM)], resmem=6 * G),
    # 1 GiB + 4 KiB: fine for reserved, not for spm (size=1026M)
    Case("align/reserved-1G-plus-4K-valid",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3145736K"] + objs(2 * G, G + 4 * K, 4 * K)
         + numa("memdev=m0", "memdev=m1,memmap-type=reserved", "memdev=m2"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (4 * G, G + 4 * K, RES),
                           (5 * G + 4 * K, 4 * K, RAM)], resmem=6 * G),
    Case("align/spm-1G-plus-4K-refused",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3145736K"] + objs(2 * G, G + 4 * K, 4 * K)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2"),
         # node 1 rounded down to 1G; the 4K node 2 then grows to 8K so
         # that the total stays a multiple of 8 KiB: -m is unchanged
         align_msg(1, "spm", 4 * G, G + 4 * K,
                   sizes={1: rdown(G + 4 * K, 2 * M), 2: 8 * K}), fix=True),
    # a round spm size at an address that is only 1 MiB aligned: the hint
    # is about the nodes before it; the same layout is fine for reserved
    Case("align/spm-start-1MiB-aligned-refused",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3073M"] + objs(2 * G, M, G)
         + numa("memdev=m0", "memdev=m1", "memdev=m2,memmap-type=spm"),
         # node 1 (1M) cannot shrink by the 1M excess: it grows to 2M
         align_msg(2, "spm", 4 * G + M, G, sizes={1: 2 * M}, ram=3073 * M + M), fix=True),
    Case("align/reserved-start-1MiB-aligned-valid",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3073M"] + objs(2 * G, M, G)
         + numa("memdev=m0", "memdev=m1", "memdev=m2,memmap-type=reserved"),
         valid=True, e820=[HT, (0, 2 * G, RAM), (4 * G, M, RAM), (4 * G + M, G, RES)],
         resmem=6 * G),
    # a one-byte normal node between typed nodes leaves the next typed node
    # unaligned (and used to give a one-byte e820 RAM entry, which trips
    # an assertion in SMBIOS type 19)
    Case("align/one-byte-normal-node-between-typed",
         ["-M", "q35,max-ram-below-4g=2G", "-m", "3G"] + objs(2 * G, 512 * M, 1, 512 * M - 1)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2", "memdev=m3,memmap-type=spm"),
         # the one-byte node 2 grows to 2M, node 3 is rounded down to
         # 510M: the total, -m, stays 3G
         align_msg(3, "spm", 4 * G + 512 * M + 1, 512 * M - 1,
                   sizes={2: 2 * M, 3: rdown(512 * M - 1, 2 * M)}), fix=True,
         qmp=(["-M", "q35,max-ram-below-4g=2G", "-m", "3G"] + objs(2 * G, 512 * M, 1, 512 * M - 1),
              [node_dict(0, "m0"), node_dict(1, "m1", "spm"), node_dict(2, "m2"),
               node_dict(3, "m3", "spm")]), qmp_stage="machine"),
    # an unaligned max-ram-below-4g shifts all of high memory: the typed
    # node's sizes are round, its guest-physical address is not
    Case("align/unaligned-max-ram-below-4g-moves-high-typed-node",
         ["-M", "q35,max-ram-below-4g=1073741825", "-m", "3G"] + objs(2 * G, G)
         + numa("memdev=m0", "memdev=m1,memmap-type=reserved"),
         # the typed node's offset, 2G, capped by the memory below 4 GiB
         # (1G + 1) and rounded down to 2 MiB
         align_msg(1, "reserved", 5 * G - 1, G, split=rdown(min(G + 1, 2 * G), 2 * M)),
         fix=True,
         allow=r"warning: There is possibly poor performance"),
    # below 4 GiB the "lies below" error comes first, alignment is checked
    # only above 4 GiB: the hints move the node to a 2 MiB boundary, make
    # its size aligned and move it above 4 GiB, in one round
    Case("order/unaligned-below-4g-reports-lies-below-first",
         ["-M", "pc", "-m", "2G"] + objs(G + 1, G - 8193, 8192)
         + numa("memdev=m0", "memdev=m1,memmap-type=spm", "memdev=m2"),
         # node 0 (1G + 1) shrinks by the one byte, node 1 is rounded
         # down to 2 MiB, max-ram-below-4g its new offset, -m the sum
         below_msg(1, "spm", "lies below",
                   sizes={0: G, 1: rdown(G - 8193, 2 * M)}, split=G,
                   ram=G + rdown(G - 8193, 2 * M) + 8192), fix=True),
    # -- what firmware can take: at most 37 e820 entries of boot RAM -------
    # 2 GiB normal below 4 GiB, then K reserved 32 MiB nodes alternating
    # with K - 1 normal 32 MiB ones above: 1 + 2K - 1 = 2K entries, one
    # more with a normal node after the last reserved one.  Keeping the
    # first J typed nodes: 1 + 2J - 1 + 1 <= 37, J = 18.
    capacity_case(18),
    capacity_case(18, tail=True),
    capacity_case(19, capacity_msg(38, 18)),
    capacity_case(19, capacity_msg(39, 18), tail=True),
    Case("valid/preconfig-qmp", ["--preconfig"] + Q35_3G_B2, valid=True, e820=E820_Q35_3G_B2,
         qmp=(Q35_3G_B2, [node_dict(0, "m0"), node_dict(1, "m1", "spm")]), qmp_stage="valid"),
]


class Result(Exception):
    pass


def start(qemu, args, timeout):
    vm = Qemu(qemu, args, timeout=timeout)
    try:
        vm.start()
    except Exception as e:
        vm.stop()
        raise Result(f"did not start (status {vm.returncode}): "
                     f"{vm.stderr.strip()[-500:] or e}")
    return vm


def check_stderr(err, rc, case, prefix=True):
    """the one-line error contract; returns the error line"""
    if BAD_TEXT.search(err):
        raise Result(f"crash/sanitizer text on stderr: {err.strip()[-500:]}")
    if rc != 1:
        raise Result(f"exit status {rc} (expected 1): {err.strip()[-500:]}")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    extra = [ln for ln in lines if case.allow and re.search(case.allow, ln)]
    errs = [ln for ln in lines if ln not in extra]
    if not errs:
        raise Result(f"no error line on stderr: {err.strip()[-500:]}")
    # the error line, then the hint lines, which carry no program name
    line, hints = errs[0], errs[1:]
    if prefix and any(h.startswith("qemu-system-") for h in hints):
        raise Result(f"{len(errs)} error lines on stderr (expected 1): {err.strip()[-500:]}")
    if not re.search(case.error, line):
        raise Result(f"message /{case.error}/ not found in: {line}")
    if prefix and not line.startswith("qemu-system-x86_64: "):
        raise Result(f"message without the program name: {line}")
    if "memmap-type" not in line and not case.generic:
        raise Result(f"message does not name memmap-type: {line}")
    if case.hint is None:
        if not case.generic:
            raise Result(f"case without an expected hint: {line}")
        if hints:
            raise Result(f"unexpected lines after the error: {' | '.join(hints)}")
    elif not re.fullmatch(case.hint, "\n".join(hints), re.M):
        raise Result(f"hint /{case.hint}/ not found in: {' | '.join(hints) or 'no hint'}")
    return line + (" [hint: " + " ".join(hints) + "]" if hints else "")


def check_e820(vm, expected):
    got = [tuple(e) for e in vm.e820()]
    if got != expected:
        raise Result("e820 %s, expected %s" % (
            " ".join("[%#x+%#x %#x]" % e for e in got),
            " ".join("[%#x+%#x %#x]" % e for e in expected)))
    return got


def parse_size(text):
    m = re.fullmatch(r"(\d+)([GMK]?)", text)
    return int(m.group(1)) * {"G": G, "M": M, "K": K, "": 1}[m.group(2)]


# node ids named by options other than -numa node's nodeid=
NODE_REFS = re.compile(r"(?<=[,:])(src|dst|initiator|target|node-id|node)=(\d+)")


def apply_hints(args, hints):
    """@args with every hint line applied, literally, in one round:
    "keep memmap-type on the first K typed nodes only" (memmap-type
    dropped from the later typed nodes, in node id order), "Put a node
    with 2M of normal memory before node N" (a new node with a 2 MiB
    memory-backend-ram of its own, node N and every later node renumbered
    up by one, and every option naming node ids with them), "Make the
    memory backend of node N size=X" (N: the node id on the original
    command line), "Use -machine max-ram-below-4g=X", "Use -m X".  A line
    of any other form fails the case.  Returns (args, [what was applied])."""
    args, done = list(args), []
    numa_at = [i + 1 for i, a in enumerate(args[:-1]) if a == "-numa"
               and args[i + 1].startswith("node")]
    ids, nxt = {}, 0
    for i in numa_at:           # QEMU: no nodeid= means the next free one
        m = re.search(r"nodeid=(\d+)", args[i])
        ids[i] = int(m.group(1)) if m else nxt
        nxt = max(nxt, ids[i] + 1) if not m else nxt + (ids[i] == nxt)
    by_id = {v: k for k, v in ids.items()}

    def node_opts(n):
        """index in @args of node @n's -numa option"""
        if n not in by_id:
            raise Result(f"hint names node {n}, which the command line lacks")
        return by_id[n]

    keep = insert = split = ram = bits = None
    sizes = []
    try:
        parsed = parse_hints(hints)
    except ValueError as e:
        raise Result(str(e))
    for kind, *g in parsed:
        if kind == "keep":
            keep = g[0]
        elif kind == "insert":
            insert = g[0]
        elif kind == "size":
            sizes.append((g[0], g[1]))
        elif kind == "split":
            split = g[0]
        elif kind == "physbits":
            bits = g[0]
        else:
            ram = g[0]

    # backend sizes first, by the original node ids
    for n, size in sizes:
        dev = re.search(r"memdev=([^,]+)", args[node_opts(n)])
        if not dev:
            raise Result(f"hint sizes node {n}, which has no memdev")
        i = next(i for i, a in enumerate(args) if a.startswith("memory-backend-")
                 and f",id={dev.group(1)}," in a + ",")
        args[i] = re.sub(r"size=[^,]+", f"size={size}", args[i])
        done.append(f"node {n} size={size}")
    if keep is not None:
        typed = [i for n, i in sorted(by_id.items())
                 if re.search(r"memmap-type=(spm|reserved)", args[i])]
        for i in typed[keep:]:
            args[i] = re.sub(r",?memmap-type=\w+", "", args[i])
        done.append(f"memmap-type kept on the first {keep} typed nodes")
    if insert is not None:
        at = node_opts(insert)

        def shift(mo):
            v = int(mo.group(2))
            return f"{mo.group(1)}={v + 1 if v >= insert else v}"
        for i in numa_at:       # every node gets its (new) id explicitly
            rest = re.sub(r",nodeid=\d+", "", args[i])
            rest = NODE_REFS.sub(shift, rest)
            new = ids[i] + 1 if ids[i] >= insert else ids[i]
            args[i] = re.sub(r"^node,?", f"node,nodeid={new},", rest).rstrip(",")
        for i in range(1, len(args)):
            if args[i - 1] in ("-numa", "-device") and not args[i].startswith("node"):
                args[i] = NODE_REFS.sub(shift, args[i])
        dev = "hint2m"
        while any(f"id={dev}" in a for a in args):
            dev += "x"
        args[at:at] = [f"node,nodeid={insert},memdev={dev}", "-numa"]
        args[at - 1:at - 1] = ["-object", f"memory-backend-ram,id={dev},size=2M"]
        done.append(f"a 2M node inserted before node {insert}")
    if split is not None:
        mi = next(i for i, a in enumerate(args) if a in ("-M", "-machine")) + 1
        opts = [o for o in args[mi].split(",") if not o.startswith("max-ram-below-4g=")]
        args[mi] = ",".join(opts + [f"max-ram-below-4g={split}"])
        done.append(f"max-ram-below-4g={split}")
    if ram is not None:
        i = args.index("-m") + 1
        args[i] = ram + args[i][len(args[i].split(",")[0]):]
        done.append(f"-m {ram}")
    if bits is not None:
        if "-cpu" in args:
            i = args.index("-cpu") + 1
            args[i] = re.sub(r",phys-bits=\d+", "", args[i]) + f",phys-bits={bits}"
        else:
            args += ["-cpu", f"qemu64,phys-bits={bits}"]
        done.append(f"phys-bits={bits}")
    return args, done


def run_cli(qemu, case, timeout):
    rc, err = Qemu.run(qemu, case.args, timeout=timeout)
    line = check_stderr(err, rc, case)
    notes = []
    if case.fix:
        # one round: apply every hint line; the configuration must start,
        # with its typed memory above 4 GiB and aligned (the property
        # "hints converge in one round", gated)
        hints = [ln for ln in err.splitlines() if ln.strip()
                 and not (case.allow and re.search(case.allow, ln))][1:]
        args, done = apply_hints(case.args, hints)
        if not done:
            raise Result(f"no hint to apply in: {' | '.join(hints)}")
        try:
            vm = start(qemu, args, timeout)
        except Result as e:
            raise Result(f"hints do not converge in one round: after applying "
                         f"{', '.join(done)}: {e}\n"
                         f"    round 2: {' '.join(args)}")
        try:
            got = [tuple(e) for e in vm.e820()]
        finally:
            vm.stop()
        typed = [e for e in got if e[2] in (SPM, RES) and e != HT]
        if not typed or min(e[0] for e in typed) < 4 * G:
            raise Result(f"after applying {', '.join(done)}: typed memory "
                         f"missing or below 4 GiB: e820 {got}")
        bad = [e for e in typed if (e[0] | e[1]) % (2 * M if e[2] == SPM else 4 * K)]
        if bad:
            raise Result(f"after applying {', '.join(done)}: unaligned typed "
                         f"memory: e820 {got}")
        notes.append(f"with {', '.join(done)}: starts")
    return line, notes


def run_qmp(qemu, case, timeout):
    pre, cmds = case.qmp
    vm = start(qemu, ["--preconfig"] + pre, timeout)
    try:
        last = len(cmds) - 1 if case.qmp_stage == "parse" else len(cmds)
        for c in cmds[:last]:
            r = vm.qmp_raw("set-numa-node", **c)
            if "error" in r:
                raise Result(f"QMP set-numa-node {c}: {r['error']['desc']}")
        if case.qmp_stage == "parse":
            r = vm.qmp_raw("set-numa-node", **cmds[-1])
            if "error" not in r:
                raise Result(f"QMP set-numa-node {cmds[-1]} succeeded")
            desc = r["error"]["desc"]
            if not re.search(case.qmp_error, desc):
                raise Result(f"QMP error /{case.qmp_error}/ not found in: {desc}")
            if vm.proc.poll() is not None:
                raise Result("QEMU exited after a failed set-numa-node")
            if case.retry is None:
                return f"QMP error: {desc}"
            r = vm.qmp_raw("set-numa-node", **case.retry)
            if "error" in r:
                raise Result(f"retry after the error failed (node left half-configured?): "
                             f"{r['error']['desc']}")
            vm.qmp("x-exit-preconfig")
            check_e820(vm, case.e820)
            return f"QMP error, retry starts: {desc}"
        if case.qmp_stage == "valid":
            vm.qmp("x-exit-preconfig")
            check_e820(vm, case.e820)
            return "starts"
        # the error comes when the machine is built
        try:
            r = vm.qmp_raw("x-exit-preconfig")
        except Exception:
            r = None
        if r is not None and "error" in r:
            raise Result(f"x-exit-preconfig: QMP error {r['error']['desc']}, "
                         f"expected exit status 1")
        try:
            vm.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Result("QEMU still running after x-exit-preconfig")
    finally:
        vm.stop()
    line = check_stderr(vm.stderr, vm.returncode, case, prefix=False)
    return f"x-exit-preconfig: exit 1: {line}"


def check_resmem(vm, expected):
    """etc/reserved-memory-end: a little-endian u64, or no file (0)"""
    files = vm.fw_cfg_files()
    if "etc/reserved-memory-end" not in files:
        got = 0
    else:
        raw = vm.fw_cfg_file("etc/reserved-memory-end")
        if len(raw) != 8:
            raise Result(f"etc/reserved-memory-end has {len(raw)} bytes")
        got = int.from_bytes(raw, "little")
    if got != expected:
        raise Result("etc/reserved-memory-end %s, expected %s" % (
            "absent" if not got else hex(got),
            "absent" if not expected else hex(expected)))
    return "reserved-memory-end " + (hex(got) if got else "absent")


def run_valid(qemu, case, timeout):
    if case.qmp_stage == "valid" and case.qmp:
        return run_qmp(qemu, case, timeout)
    vm = start(qemu, case.args, timeout)
    notes = []
    try:
        got = check_e820(vm, case.e820)
        if case.resmem is not None:
            notes.append(check_resmem(vm, case.resmem))
        if case.check == "hmat":
            tables = vm.fw_cfg_file("etc/acpi/tables")
            if b"HMAT" not in tables or b"SRAT" not in tables:
                raise Result("no HMAT/SRAT in etc/acpi/tables")
            notes.append("HMAT and SRAT present")
        if case.check == "dimm":
            devs = vm.qmp("query-memory-devices")
            d = devs[0]["data"]
            lo, hi = d["addr"], d["addr"] + d["size"]
            if d["node"] != 1 or any(a < hi and lo < a + n for a, n, _ in got):
                raise Result(f"DIMM {d} overlaps the e820 table or is not on node 1")
            info = vm.hmp("info numa")
            if "node 1 plugged: 1024 MB" not in info:
                raise Result(f"info numa: {info}")
            notes.append(f"DIMM at {lo:#x} on node 1, outside e820")
    finally:
        vm.stop()
    if BAD_TEXT.search(vm.stderr) or vm.returncode != 0:
        raise Result(f"status {vm.returncode}: {vm.stderr.strip()[-500:]}")
    return "starts, e820 as expected" + (": " + ", ".join(notes) if notes else "")


def available(qemu):
    out = subprocess.run([qemu, "-machine", "help"], capture_output=True, text=True).stdout
    machines = {ln.split()[0] for ln in out.splitlines()[1:] if ln.strip()}
    accels = subprocess.run([qemu, "-accel", "help"], capture_output=True, text=True).stdout.split()
    objects = subprocess.run([qemu, "-object", "help"], capture_output=True, text=True).stdout.split()
    return machines, set(accels), set(objects)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qemu", default=os.environ.get("QEMU_PATCHED", DEFAULT_QEMU))
    ap.add_argument("--only", default=None)
    ap.add_argument("--timeout", type=int, default=60)
    o = ap.parse_args()
    res = Results("error-matrix")
    t0 = time.time()
    if not os.access(o.qemu, os.X_OK):
        res.skipped(f"error-matrix: no QEMU binary at {o.qemu}")
        return res.verdict()
    machines, accels, objects = available(o.qemu)
    print(f"error-matrix: {o.qemu}")

    # ERROR_MATRIX_STRICT is accepted and ignored: no case is skipped for
    # a known bug any more (the three reported bugs are fixed in the series)

    def report(kind, name, detail, case=None):
        detail = " | ".join(ln for ln in (detail or "").splitlines() if ln.strip())
        res.record(kind, name + (f": {detail}" if detail else ""))

    for case in CASES:
        if o.only and o.only not in case.name:
            continue
        name = case.name
        if case.needs:
            need = case.needs
            if need == "microvm" and need not in machines:
                # not built (no libfdt): the refusal cannot be reached
                report("SKIP", name, "machine microvm not built into this QEMU (needs libfdt)")
                continue
            if need.startswith("accel:"):
                if need[6:] not in accels:
                    report("SKIP", name, f"accelerator {need[6:]} not built into this QEMU")
                    continue
            elif need in ("xenfv",) and need not in machines:
                report("SKIP", name, "machine xenfv not built into this QEMU (needs Xen)")
                continue
            elif need not in machines and need not in objects and need not in ("microvm",):
                report("SKIP", name, f"object type {need} not built into this QEMU")
                continue
        if case.skip:
            rc, err = Qemu.run(o.qemu, case.args, timeout=o.timeout)
            if re.search(case.skip, err) and rc == 1 and not BAD_TEXT.search(err):
                report("SKIP", name, f"cannot reach the memmap-type check without KVM: "
                       f"{err.strip()}")
                continue
        if case.valid:
            try:
                report("PASS", name + (" [qmp]" if case.qmp else " [cli]"),
                       run_valid(o.qemu, case, o.timeout), case)
            except Result as e:
                report("FAIL", name, str(e), case)
            continue
        try:
            line, notes = run_cli(o.qemu, case, o.timeout)
            report("PASS", name + " [cli]", ("generic QEMU message: " if case.generic else "")
                   + line.split(": ", 1)[-1][:150] + ("; " + "; ".join(notes) if notes else ""),
                   case)
        except Result as e:
            report("FAIL", name + " [cli]", str(e), case)
        if case.qmp:
            try:
                report("PASS", name + " [qmp]", run_qmp(o.qemu, case, o.timeout)[:160], case)
            except Result as e:
                report("FAIL", name + " [qmp]", str(e), case)
    print(f"error-matrix: {time.time() - t0:.1f} s")
    return res.verdict()


if __name__ == "__main__":
    sys.exit(main())
