#!/usr/bin/env python3
"""Does the firmware's 64-bit PCI window stay clear of typed memory?

SeaBIOS places its 64-bit PCI window after the RAM it counts in etc/e820
(type 1 entries only), unless fw_cfg etc/reserved-memory-end is higher.
A typed node at the top of memory is not RAM to it, so without
etc/reserved-memory-end a large 64-bit BAR lands on top of the node.

Each case boots SeaBIOS (no OS) under TCG on q35 with 2 GiB of normal
memory on node 0 below 4 GiB, 1 GiB on node 1 at 4 GiB (the last node,
of the case's type) and an ivshmem-plain device whose 1 GiB BAR2 is a
64-bit BAR.  Once SeaBIOS has assigned BAR2, every memory BAR in HMP
'info pci' is checked against the memory of every node.  The node
ranges come from the documented layout (RAM offset o is at o below
max-ram-below-4g, at 4 GiB + (o - below) above), not from QEMU.

    pci_window.py --qemu BIN --seabios NAME=PATH[,cpu=MODEL] ... [--types spm,reserved,normal]

Prints PASS/FAIL per case and ends with
"pciwin: N passed, N failed, N skipped".
"""

import argparse
import concurrent.futures
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from qemulib import Qemu, QemuError  # noqa: E402

G = 1 << 30
BELOW = 2 * G
NODES = [(0, 2 * G), (1, 1 * G)]        # (node id, size), packed in order
BAR_RE = re.compile(r"BAR(\d+): (32|64) bit (?:prefetchable )?memory at "
                    r"(0x[0-9a-f]+) \[(0x[0-9a-f]+)\]")
UNASSIGNED = 0xffffffffffffffff


def node_ranges():
    """[(node, start, end)] from the layout rules, end exclusive."""
    out, off = [], 0
    for node, size in NODES:
        while size:
            if off < BELOW:
                n = min(size, BELOW - off)
                out.append((node, off, off + n))
            else:
                n = size
                start = 4 * G + off - BELOW
                out.append((node, start, start + n))
            off += n
            size -= n
    return out


def bars(info_pci):
    """[(device line, bar, start, end)] of assigned memory BARs."""
    out, dev = [], "?"
    for line in info_pci.splitlines():
        s = line.strip()
        if s.startswith("Bus "):
            dev = s
            continue
        m = BAR_RE.search(s)
        if m:
            start, last = int(m.group(3), 16), int(m.group(4), 16)
            if start != UNASSIGNED:
                out.append((dev, int(m.group(1)), start, last + 1))
    return out


def ivshmem_bar2(info_pci):
    block = info_pci.split("Bus ")
    for b in block:
        if "1af4:1110" in b or "Inter-VM shared memory" in b:
            m = re.search(r"BAR2: 64 bit (?:prefetchable )?memory at (0x[0-9a-f]+)", b)
            if m:
                return int(m.group(1), 16)
    return None


def run_case(qemu, fw_name, fw_path, cpu, mtype, timeout):
    name = f"{fw_name}/{cpu or 'default-cpu'}/{mtype}"
    args = ["-M", "q35,max-ram-below-4g=2G", "-m", "3G", "-smp", "1",
            "-bios", fw_path,
            "-object", "memory-backend-ram,id=m0,size=2G,reserve=off",
            "-object", "memory-backend-ram,id=m1,size=1G,reserve=off",
            "-numa", "node,nodeid=0,memdev=m0,cpus=0",
            "-numa", f"node,nodeid=1,memdev=m1,memmap-type={mtype}",
            "-object", "memory-backend-ram,id=shm,size=1G,reserve=off",
            "-device", "ivshmem-plain,memdev=shm"]
    if cpu:
        args += ["-cpu", cpu]
    try:
        with Qemu(qemu, args, accel="tcg", timeout=timeout) as vm:
            deadline = time.monotonic() + timeout
            info = vm.hmp("info pci")
            while ivshmem_bar2(info) in (None, UNASSIGNED):
                if time.monotonic() > deadline:
                    return name, "FAIL", f"BAR2 not assigned after {timeout} s"
                time.sleep(0.5)
                info = vm.hmp("info pci")
    except QemuError as e:
        return name, "FAIL", f"QEMU: {e}"
    bar2 = ivshmem_bar2(info)
    clashes = []
    for dev, bar, start, end in bars(info):
        for node, ns, ne in node_ranges():
            if start < ne and ns < end:
                clashes.append(f"BAR{bar} [{start:#x}-{end - 1:#x}] of "
                               f"'{dev[:40]}' overlaps node {node} "
                               f"[{ns:#x}-{ne - 1:#x}]")
    if clashes:
        return name, "FAIL", "; ".join(clashes)
    return name, "PASS", f"ivshmem BAR2 at {bar2:#x}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--seabios", action="append", required=True,
                    help="NAME=PATH[,cpu=MODEL]")
    ap.add_argument("--types", default="spm,reserved,normal")
    ap.add_argument("--timeout", type=float, default=90)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    cases = []
    for spec in a.seabios:
        name, _, rest = spec.partition("=")
        path, _, opt = rest.partition(",cpu=")
        for t in a.types.split(","):
            cases.append((name, path, opt or None, t))
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        futs = [ex.submit(run_case, a.qemu, *c, a.timeout) for c in cases]
        for f in futs:
            name, verdict, detail = f.result()
            print(f"  {verdict}  {name}: {detail}", flush=True)
            if verdict == "PASS":
                passed += 1
            else:
                failed += 1
    print(f"pciwin: {passed} passed, {failed} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
