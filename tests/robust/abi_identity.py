#!/usr/bin/env python3
"""Guest ABI identity: configurations without memmap-type must look the
same to the guest with and without the series.

For every configuration below (pc and q35; with and without NUMA, with
memdev= and legacy mem=; memory sizes around every split rule; the
max-ram-below-4g option; AMD and Intel CPU models, including the AMD
relocation of high RAM to 1 TiB; memory hotplug slots; HMAT), the
unpatched and the patched qemu-system-x86_64 are started under the qtest
accelerator and the fw_cfg files the firmware reads are compared byte
for byte:

    etc/e820, etc/acpi/tables, etc/acpi/rsdp, etc/table-loader and every
    etc/smbios/* file (and the list of fw_cfg file names itself).

The configurations in EXPECTED_DIFF differ by design; for them the
difference itself is asserted exactly (only the SRAT memory affinity
structures, and the patched ones as the 640 KiB - 1 MiB hole rule says)
and the case passes.  Nothing is skipped; ABI_STRICT is accepted and
ignored.

    abi_identity.py [--patched PATH] [--base PATH] [--only SUBSTRING]
                    [--extra-patched ARG]...

--extra-patched appends an argument to the patched QEMU's command line
only; it exists to show that the comparison can fail.  --self-test does
that on every run of make check (scripts/robust.sh): an SMBIOS, an e820
and an ACPI change on the patched side must each fail naming the file,
and the unpatched binary must fail a case listed in EXPECTED_DIFF.

Last line: "abi-identity: N passed, N failed, N skipped".
"""

import argparse
import concurrent.futures
import os
import re
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from qemulib import Qemu  # noqa: E402
from results import Results  # noqa: E402

DEFAULT_PATCHED = os.path.join(ROOT, ".cache/check/build/qemu-system-x86_64")
DEFAULT_BASE = os.path.join(ROOT, ".cache/check/base/build/qemu-system-x86_64")
COMPARED = ("etc/e820", "etc/acpi/tables", "etc/acpi/rsdp",
            "etc/table-loader")


def mem(i, size, extra=""):
    return ["-object", f"memory-backend-ram,id=m{i},size={size}{extra}"]


def nodes(sizes, extra="", machine_extra=None):
    """-object/-numa arguments for nodes of the given sizes (None: a
    memoryless node)"""
    a = []
    for i, s in enumerate(sizes):
        if s is not None:
            a += mem(i, s, extra)
    for i, s in enumerate(sizes):
        a += ["-numa", f"node,nodeid={i}" + (f",memdev=m{i}" if s is not None else "")]
    return a


HMAT = ["-smp", "2,sockets=2", "-m", "128M,slots=2,maxmem=1G",
        "-object", "memory-backend-ram,size=64M,id=m0",
        "-object", "memory-backend-ram,size=64M,id=m1",
        "-numa", "node,nodeid=0,memdev=m0",
        "-numa", "node,nodeid=1,memdev=m1,initiator=0",
        "-numa", "cpu,node-id=0,socket-id=0",
        "-numa", "cpu,node-id=0,socket-id=1",
        "-numa", "hmat-lb,initiator=0,target=0,hierarchy=memory,"
                 "data-type=access-latency,latency=1",
        "-numa", "hmat-lb,initiator=0,target=0,hierarchy=memory,"
                 "data-type=access-bandwidth,bandwidth=65534M",
        "-numa", "hmat-lb,initiator=0,target=1,hierarchy=memory,"
                 "data-type=access-latency,latency=65534",
        "-numa", "hmat-lb,initiator=0,target=1,hierarchy=memory,"
                 "data-type=access-bandwidth,bandwidth=32767M",
        "-numa", "hmat-cache,node-id=0,size=10K,level=1,"
                 "associativity=direct,policy=write-back,line=8",
        "-numa", "hmat-cache,node-id=1,size=10K,level=1,"
                 "associativity=direct,policy=write-back,line=8"]

NORES = ",reserve=off"   # sizes beyond what the host can reserve
G = 1 << 30
CASES = [
    ("pc/128M", ["-M", "pc", "-m", "128M"]),
    ("q35/128M", ["-M", "q35", "-m", "128M"]),
    ("pc/3.5G-below-split", ["-M", "pc", "-m", "3583M"]),
    ("pc/4G-split-3G", ["-M", "pc", "-m", "4G"]),
    ("q35/2815M-below-split", ["-M", "q35", "-m", "2815M"]),
    ("q35/2816M-split-2G", ["-M", "q35", "-m", "2816M"]),
    ("pc/8G-max-ram-below-4g=2G", ["-M", "pc,max-ram-below-4g=2G", "-m", "8G"]),
    ("q35/3G-max-ram-below-4g=1G", ["-M", "q35,max-ram-below-4g=1G", "-m", "3G"]),
    ("pc/3968M-max-ram-below-4g=4G", ["-M", "pc,max-ram-below-4g=4G", "-m", "3968M"]),
    ("q35/6G-max-ram-below-4g=1536M", ["-M", "q35,max-ram-below-4g=1536M", "-m", "6G"]),
    ("pc/numa-2x1G", ["-M", "pc", "-m", "2G"] + nodes([G, G])),
    ("q35/numa-3-nodes-across-4G", ["-M", "q35", "-m", "8G"] + nodes([2 * G, 2 * G, 4 * G])),
    ("pc/numa-memoryless-node", ["-M", "pc", "-m", "6G"] + nodes([3 * G, None, 3 * G])),
    ("pc-i440fx-5.0/numa-legacy-mem", ["-M", "pc-i440fx-5.0", "-m", "4G",
                                       "-numa", "node,mem=1G", "-numa", "node,mem=3G"]),
    ("q35/numa-odd-sizes", ["-M", "q35", "-m", "3080200K"]
     + nodes([5 * 1024, 1536 * 1024 * 1024 + 4096, 3080200 * 1024 - 5 * 1024 - 1536 * 1024 * 1024 - 4096])),
    ("pc/numa-64-nodes", ["-M", "pc", "-m", "16G"] + nodes([256 << 20] * 64)),
    ("q35/intel-numa-16G", ["-M", "q35", "-cpu", "Skylake-Client,phys-bits=48",
                            "-smp", "2", "-m", "16G"] + nodes([4 * G, 12 * G])),
    ("q35/amd-epyc-1100G-relocated", ["-M", "q35", "-cpu", "EPYC,phys-bits=48", "-m", "1100G"]
     + nodes([2 * G, 8 * G, 1090 * G], NORES)),
    ("q35/amd-epyc-1100G-no-numa", ["-M", "q35,memory-backend=ram0", "-cpu", "EPYC,phys-bits=48",
                                    "-m", "1100G", "-object",
                                    "memory-backend-ram,id=ram0,size=1100G" + NORES]),
    ("pc/intel-1100G-not-relocated", ["-M", "pc,memory-backend=ram0",
                                      "-cpu", "Skylake-Client,phys-bits=48", "-m", "1100G",
                                      "-object", "memory-backend-ram,id=ram0,size=1100G" + NORES]),
    ("pc-i440fx-7.0/amd-1100G-no-1T-hole", ["-M", "pc-i440fx-7.0", "-cpu", "EPYC,phys-bits=48",
                                            "-m", "1100G"] + nodes([3 * G, 1097 * G], NORES)),
    ("pc/qemu64-phys-bits-39", ["-M", "pc", "-cpu", "qemu64,phys-bits=39", "-m", "8G"]
     + nodes([4 * G, 4 * G])),
    ("pc/hotplug-slots", ["-M", "pc", "-m", "2G,slots=4,maxmem=8G"]),
    ("q35/hotplug-slots-numa", ["-M", "q35", "-m", "4G,slots=2,maxmem=16G"] + nodes([2 * G, 2 * G])),
    ("q35/hotplug-relocated", ["-M", "q35", "-cpu", "EPYC,phys-bits=48",
                               "-m", "970G,slots=8,maxmem=1000G"] + nodes([2 * G, 968 * G], NORES)),
    ("q35/hmat", ["-M", "q35,hmat=on"] + HMAT),
    ("pc/hmat", ["-M", "pc,hmat=on"] + HMAT),
    ("q35/numa-smp-cpus", ["-M", "q35", "-smp", "4", "-m", "4G",
                           "-object", "memory-backend-ram,id=m0,size=1G",
                           "-object", "memory-backend-ram,id=m1,size=3G",
                           "-numa", "node,nodeid=0,memdev=m0,cpus=0-1",
                           "-numa", "node,nodeid=1,memdev=m1,cpus=2-3",
                           "-numa", "dist,src=0,dst=1,val=21"]),
    # SRAT of a first node that ends inside the 640 KiB - 1 MiB hole: the
    # first change patch 2 announces (see EXPECTED_DIFF).
    ("q35/numa-first-node-ends-in-640K-hole", ["-M", "q35", "-m", "2G"]
     + nodes([768 * 1024, 2 * G - 768 * 1024])),
    # ... and of memory below 4 GiB that ends below 1 MiB, with more above
    # it (max-ram-below-4g=512K): the second change patch 2 announces
    ("q35/numa-max-ram-below-4g=512K", ["-M", "q35,max-ram-below-4g=512K", "-m", "1G"]
     + nodes([G])),
]
KiB, MiB = 1 << 10, 1 << 20
# case name -> (reason, node sizes, memory below 4 GiB): configurations
# whose guest ABI differs by design.  The difference is asserted exactly:
# etc/acpi/tables is the only differing file, SRAT the only differing
# table, its memory affinity structures the only differing structures,
# and the patched ones are each node's guest-physical RAM minus the
# 640 KiB - 1 MiB hole (srat_with_hole_cut()).  Unpatched QEMU described
# the node after a first node ending inside the hole as starting at
# 1 MiB with its full size (beyond its real memory).
EXPECTED_DIFF = {
    "q35/numa-first-node-ends-in-640K-hole":
        ("patch 2: a node starting inside the 640K-1M hole is described "
         "from 1 MiB to the end of its memory",
         [768 * KiB, 2 * G - 768 * KiB], 2 * G),
    "q35/numa-max-ram-below-4g=512K":
        ("patch 2: memory below 4 GiB ending below 1 MiB: the rest is "
         "described at 4 GiB, not from 1 MiB on",
         [G], 512 * KiB),
}


def srat_with_hole_cut(sizes, below, above_start=4 * G):
    """[(node, base, length)]: each node's boot RAM (packed in node id
    order, continuing at @above_start beyond @below), minus 640K-1M"""
    out, off = [], 0
    for i, size in enumerate(sizes):
        rngs = []
        if size and off < below:
            low = min(size, below - off)
            rngs.append((off, off + low))
        if off + size > below:
            lo = max(off, below)
            rngs.append((above_start + lo - below, above_start + off + size - below))
        off += size
        for lo, hi in rngs:
            for a, b in ((lo, min(hi, 640 * KiB)), (max(lo, MiB), hi)):
                if a < b:
                    out.append((i, a, b - a))
    return out


def acpi_tables(blob):
    """[(signature, bytes)] of the tables in etc/acpi/tables (the blob
    starts with FACS, then the tables back to back, zero-padded)"""
    out, pos = [], 0
    while pos + 8 <= len(blob):
        sig = blob[pos:pos + 4]
        ln = struct.unpack_from("<I", blob, pos + 4)[0]
        if ln < 8 or not sig.strip(b"\0") or pos + ln > len(blob):
            out.append(("(rest)", blob[pos:]))
            break
        out.append((sig.decode(errors="replace"), blob[pos:pos + ln]))
        pos += ln
    return out


def srat_structures(srat):
    """[(type, bytes)] of the structures after the 48-byte SRAT header"""
    out, p = [], 48
    while p + 2 <= len(srat):
        ln = srat[p + 1]
        if ln == 0:
            break
        out.append((srat[p], srat[p:p + ln]))
        p += ln
    return out


def mem_affinity(st):
    node, base, length, flags = struct.unpack_from("<I2xQQ4xI", st, 2)
    return node, base, length, flags


def check_expected_diff(name, a, b):
    """None if @a (base) and @b (patched) differ exactly as EXPECTED_DIFF
    says, else the reason they do not; also returns a summary"""
    _, sizes, below = EXPECTED_DIFF[name]
    other = [n for n in set(a) | set(b) if a.get(n) != b.get(n)
             and n != "etc/acpi/tables"]
    if other:
        return f"files other than etc/acpi/tables differ: {sorted(other)}", None
    ta, tb = acpi_tables(a["etc/acpi/tables"]), acpi_tables(b["etc/acpi/tables"])
    if [(s, len(t)) for s, t in ta] != [(s, len(t)) for s, t in tb]:
        return (f"ACPI table layout differs: {[(s, len(t)) for s, t in ta]} vs "
                f"{[(s, len(t)) for s, t in tb]}"), None
    diff = [s for (s, x), (_, y) in zip(ta, tb) if x != y]
    if diff != ["SRAT"]:
        return f"differing ACPI tables {diff}, expected only SRAT", None
    sa = next(t for s, t in ta if s == "SRAT")
    sb = next(t for s, t in tb if s == "SRAT")
    # the checksum byte is filled in by the firmware (table-loader), so
    # the whole header must be the same here
    if sa[:48] != sb[:48]:
        return "SRAT headers differ", None
    xa, xb = srat_structures(sa), srat_structures(sb)
    if [t for t, _ in xa] != [t for t, _ in xb]:
        return "SRAT structure types/order differ", None
    for (t, x), (_, y) in zip(xa, xb):
        if t != 1 and x != y:
            return f"SRAT structure of type {t} differs", None
    ma = [mem_affinity(x) for t, x in xa if t == 1]
    mb = [mem_affinity(x) for t, x in xb if t == 1]
    want = srat_with_hole_cut(sizes, below)
    got = [(n, base, ln) for n, base, ln, f in mb if f & 1]
    if got != want:
        return (f"patched SRAT memory affinity {fmt_mem(got)}, hole rule "
                f"says {fmt_mem(want)}"), None
    if ma == mb:
        return "SRAT memory affinity identical, yet SRAT differs", None
    return None, (f"base {fmt_mem([(n, x, ln) for n, x, ln, f in ma if f & 1])}"
                  f" -> patched {fmt_mem(got)}")


def fmt_mem(ents):
    return " ".join(f"[n{n} {base:#x}+{ln:#x}]" for n, base, ln in ents)


def read_files(binary, args, timeout):
    """{name: bytes} of the compared fw_cfg files, plus the file list"""
    vm = Qemu(binary, args, timeout=timeout)
    try:
        vm.start()
    except Exception as e:
        vm.stop()
        raise RuntimeError(f"did not start (status {vm.returncode}): "
                           f"{vm.stderr.strip()[-400:] or e}")
    try:
        names = sorted(vm.fw_cfg_files())
        out = {"(fw_cfg file list)": "\n".join(names).encode()}
        # fw_cfg DMA needs guest RAM at its scratch address (1 MiB by
        # default): with less memory below 4 GiB, use the RAM at 4 GiB
        m = re.search(r"max-ram-below-4g=(\d+)K\b", " ".join(args))
        scratch = 4 * G if m and int(m.group(1)) * KiB < 2 * MiB else None
        files = vm.fw_cfg_files()
        for n in names:
            if n in COMPARED or n.startswith("etc/smbios/"):
                if scratch is not None and files[n][1] > 4096:
                    out[n] = vm.fw_cfg_dma_read(*files[n], scratch=scratch)
                else:
                    out[n] = vm.fw_cfg_file(n)
    finally:
        vm.stop()
    if "AddressSanitizer" in vm.stderr or "runtime error:" in vm.stderr:
        raise RuntimeError(f"sanitizer report: {vm.stderr[-400:]}")
    return out


def acpi_table_at(blob, off):
    pos = 0
    while pos + 8 <= len(blob):
        ln = struct.unpack_from("<I", blob, pos + 4)[0]
        if ln < 8:
            break
        if pos <= off < pos + ln:
            return f"{blob[pos:pos + 4].decode(errors='replace')} at 0x{pos:x}"
        pos += ln
    return "?"


def describe_diff(name, a, b):
    if len(a) != len(b):
        d = f"size {len(a)} vs {len(b)}"
    else:
        d = f"same size {len(a)}"
    first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
                 min(len(a), len(b)))
    d += f", first difference at offset 0x{first:x}"
    if name == "etc/acpi/tables":
        d += f" ({acpi_table_at(a, first)})"
    if name == "etc/e820":
        def ents(x):
            return " ".join("[%#x+%#x %#x]" % struct.unpack_from("<QQI", x, i)
                            for i in range(0, len(x) - 19, 20))
        d += f"\n      base:    {ents(a)}\n      patched: {ents(b)}"
    return d


def judge(name, base, patched, args, extra, timeout):
    """Compare one configuration; returns ("PASS"|"FAIL", text, detail
    lines)"""
    try:
        a = read_files(base, args, timeout)
        b = read_files(patched, args + extra, timeout)
    except RuntimeError as e:
        return "FAIL", f"{name}: {e}", []
    diffs = []
    for n in sorted(set(a) | set(b)):
        if n not in a or n not in b:
            diffs.append(f"{n}: only in {'base' if n in a else 'patched'}")
        elif a[n] != b[n]:
            diffs.append(f"{n}: {describe_diff(n, a[n], b[n])}")
    files = len([n for n in a if not n.startswith("(")])
    if name in EXPECTED_DIFF:
        if not diffs:
            return "FAIL", (f"{name}: identical, but listed as an expected "
                            f"difference: update EXPECTED_DIFF"), []
        why, summary = check_expected_diff(name, a, b)
        if why is None:
            return "PASS", (f"{name}: expected difference "
                            f"({EXPECTED_DIFF[name][0]}): SRAT memory affinity "
                            f"only: {summary}"), []
        return "FAIL", f"{name}: not the expected difference: {why}", diffs
    if not diffs:
        return "PASS", f"{name} ({files} files identical)", []
    return "FAIL", name, diffs


# --self-test: each must make the comparison FAIL, naming the file
# that differs (a guest-visible change the identity check exists to see)
SELF_TESTS = [
    ("an SMBIOS change on the patched side", "q35/128M",
     ["-smbios", "type=1,serial=selftest"], "etc/smbios/smbios-tables"),
    ("an e820 change on the patched side", "q35/3G-max-ram-below-4g=1G",
     ["-machine", "max-ram-below-4g=1536M"], "etc/e820"),
    ("an ACPI change on the patched side (a second CPU)",
     "q35/numa-3-nodes-across-4G", ["-smp", "2"], "etc/acpi/tables"),
]


def self_test(o):
    cases = dict(CASES)
    r = Results("abi-selftest")
    for what, name, extra, file in SELF_TESTS:
        verdict, text, diffs = judge(name, o.base, o.patched, cases[name], extra,
                                     o.timeout)
        hit = [d for d in diffs if d.startswith(file + ":")]
        if verdict == "FAIL" and hit:
            r.passed(f"abi-selftest: {what} ({name} + {' '.join(extra)}): "
                     f"caught: {hit[0].splitlines()[0][:150]}")
        else:
            r.failed(f"abi-selftest: {what} ({name} + {' '.join(extra)}): "
                     f"{verdict} {text} {diffs[:2]}")
    # an expected difference that vanishes must fail too: the base
    # binary as the "patched" one
    name = next(iter(EXPECTED_DIFF))
    verdict, text, _ = judge(name, o.base, o.base, cases[name], [], o.timeout)
    ok = verdict == "FAIL" and "listed as an expected difference" in text
    (r.passed if ok else r.failed)(
        f"abi-selftest: the unpatched binary on the expected-difference case "
        f"{name}: {verdict} {text[:150]}")
    return r.verdict()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patched", default=os.environ.get("QEMU_PATCHED", DEFAULT_PATCHED))
    ap.add_argument("--base", default=os.environ.get("QEMU_BASE", DEFAULT_BASE))
    ap.add_argument("--only", default=None, help="run the cases whose name contains this")
    ap.add_argument("--extra-patched", action="append", default=[],
                    help="append this argument to the patched QEMU's command line")
    ap.add_argument("--timeout", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=2, help="configurations at a time")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--self-test", action="store_true",
                    help="show that the comparison fails on guest-visible changes")
    o = ap.parse_args()
    if o.self_test:
        return self_test(o)
    cases = [c for c in CASES if not o.only or o.only in c[0]]
    if o.list:
        for name, args in cases:
            print(name, " ".join(args))
        return 0
    print(f"abi-identity: base    {o.base}\nabi-identity: patched {o.patched}"
          + (f" + {' '.join(o.extra_patched)}" if o.extra_patched else ""))
    res = Results("abi-identity")
    t0 = time.time()
    if not (os.access(o.base, os.X_OK) and os.access(o.patched, os.X_OK)):
        for name, _ in cases:
            res.skipped(f"{name}: binary missing")
        cases = []
    # o.jobs configurations at a time, reported in the table's order
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.jobs)) as ex:
        futures = [ex.submit(judge, name, o.base, o.patched, args, o.extra_patched, o.timeout)
                   for name, args in cases]
        for f in futures:
            verdict, text, diffs = f.result()
            res.record(verdict, "\n".join([text] + [f"    {d}" for d in diffs]))
    print(f"abi-identity: {len(cases)} configurations, {time.time() - t0:.1f} s")
    return res.verdict()


if __name__ == "__main__":
    sys.exit(main())
