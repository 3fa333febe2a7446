#!/usr/bin/env python3
"""Judge the nested scenario (scripts/nested.sh) from the first-level
guest's console log: the "@@ " lines of tests/nested/init, against the
cases of tests/nested/cases.tsv.

    judge.py CONSOLE_LOG CASES_TSV

L1: its node 1 (memmap-type=spm, 1 GiB at 4 GiB) is one dax device,
dax0.0, on node 1, bound to device_dax, and /dev/dax0.0 is a character
device.  Each L2 case, as cases.tsv says:
  e820  QEMU starts; L2's SeaBIOS lists node 1 as one entry of type
        4026531839 (soft reserved) from 4 GiB, of the size of the
        backend's size= (worked out from the case, not read from QEMU);
        a /dev/dax0.0 backend is mapped shared (rw-s) over that size, a
        hugepage backend is a hugetlbfs or memfd mapping, and
        `info ramblock` gives its page size (2 MiB for hugepages);
  fail  QEMU exits with status 1, and its first line matches the case's
        regular expression (the error text the user gets).
Last line "nested-judge: N passed, N failed, N skipped".
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from results import Results  # noqa: E402

MiB, GiB = 1 << 20, 1 << 30
SOFT_RESERVED = 4026531839
UNITS = {"K": 1 << 10, "M": MiB, "G": GiB}


def size_of(backend):
    m = re.search(r"(?:^|,)size=(\d+)([KMG])(?:,|$)", backend)
    return int(m.group(1)) * UNITS[m.group(2)]


def cases(path):
    out = []
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, expect, machine, mem, backend, mtype, want = line.rstrip("\n").split("\t")
        out.append(dict(name=name, expect=expect, backend=backend, want=want))
    return out


def report(path):
    """{kind: [text]} for the L1 lines, and per case {kind: [text]}"""
    l1, per = {}, {}
    for line in open(path, errors="replace"):
        line = line.rstrip("\r\n")
        if not line.startswith("@@ "):
            continue
        kind, _, rest = line[3:].partition(" ")
        if kind.startswith("l2-"):
            name, _, text = rest.partition(" ")
            per.setdefault(name, {}).setdefault(kind, []).append(text)
        else:
            l1.setdefault(kind, []).append(rest)
    return l1, per


def judge_e820(c, got):
    base, size = 4 * GiB, size_of(c["backend"])
    state = (got.get("l2-state") or ["?"])[0]
    if not state.startswith("running"):
        return False, f"QEMU did not start (state {state}; {' | '.join(got.get('l2-out', []))})"
    ents = []
    for line in got.get("l2-e820", []):
        m = re.match(r"\s*\d+: ([0-9a-f]{16}) - ([0-9a-f]{16}) = (\d+)", line)
        if m:
            ents.append((int(m.group(1), 16), int(m.group(2), 16), int(m.group(3))))
    want = (base, base + size, SOFT_RESERVED)
    if want not in ents:
        return False, (f"L2's SeaBIOS e820 lacks [{base:#x}-{base + size:#x}) soft reserved: "
                       f"{[(hex(a), hex(b), t) for a, b, t in ents if b > base]}")
    why = [f"L2's SeaBIOS e820 has [{base:#x}-{base + size:#x}) = {SOFT_RESERVED} SOFT RESERVED"]
    maps = got.get("l2-maps", [])
    if "/dev/dax0.0" in c["backend"]:
        shared = [m for m in maps if m.split()[1] == "rw-s" and m.endswith("/dev/dax0.0")]
        lens = [int(m.split()[0].split("-")[1], 16) - int(m.split()[0].split("-")[0], 16)
                for m in shared]
        if size not in lens:
            return False, f"QEMU does not map /dev/dax0.0 shared over {size:#x}: {maps}"
        why.append(f"QEMU maps /dev/dax0.0 rw-s over {size // MiB} MiB ({shared[0].split()[0]})")
    else:
        hp = [m for m in maps if "/dev/hugepages" in m or "memfd:" in m]
        if not hp:
            return False, f"no hugetlbfs or memfd mapping of QEMU: {maps}"
        rb = [x for x in got.get("l2-mon", []) if re.match(r"\s*m1\s", x)]
        if not rb or "2 MiB" not in rb[0]:
            return False, f"info ramblock does not give m1 2 MiB pages: {rb}"
        why.append(f"QEMU maps {' '.join(hp[0].split()[5:])}; info ramblock: "
                   f"{' '.join(rb[0].split()[:3])}")
    return True, "; ".join(why)


def judge_fail(c, got):
    rc = (got.get("l2-exit") or ["rc=?"])[0].split()[0]
    out = [x for x in got.get("l2-out", []) if "warning:" not in x]
    if rc != "rc=1":
        return False, f"QEMU {rc}, want status 1: {' | '.join(out)}"
    if not out or not re.search(c["want"], out[0]):
        return False, f"QEMU's error is not /{c['want']}/: {' | '.join(out)}"
    bad = [x for x in out if re.search(r"[Aa]ssert|Segmentation|Aborted", x)]
    if bad:
        return False, f"QEMU crashed: {bad}"
    dmesg = [x.split("] ", 1)[-1] for x in got.get("l2-dmesg", []) if "dax" in x]
    return True, f"status 1: {' | '.join(out)}" + (f" (L1 kernel: {dmesg[-1]})" if dmesg else "")


def main():
    log, tsv = sys.argv[1:3]
    res = Results("nested-judge")
    l1, per = report(log)
    dax = [x for x in l1.get("l1-dax", []) if x.startswith("dax0.0 ")]
    want = f"dax0.0 target_node=1 size={GiB} start=0x100000000 driver=device_dax"
    (res.passed if dax == [want] else res.failed)(
        f"L1: node 1 (spm, 1 GiB at 4 GiB) is {want}" if dax == [want]
        else f"L1: want {want}; L1 has {l1.get('l1-dax')}")
    node = (l1.get("l1-devnode") or [""])[0]
    (res.passed if node.startswith("c") else res.failed)(f"L1: /dev/dax0.0: {node}")
    for c in cases(tsv):
        got = per.get(c["name"])
        if got is None:
            res.failed(f"{c['name']}: the case did not run (no '@@ case' lines)")
            continue
        ok, why = (judge_e820 if c["expect"] == "e820" else judge_fail)(c, got)
        secs = (got.get("l2-exit") or ["secs=?"])[0].split()[-1]
        (res.passed if ok else res.failed)(f"{c['name']} ({secs}): {why}")
    if "DONE" not in open(log, errors="replace").read():
        res.failed("L1's init did not finish (no '@@ DONE')")
    return res.verdict()


if __name__ == "__main__":
    sys.exit(main())
