#!/usr/bin/env python3
"""Does the firmware's 64-bit PCI window stay above RAM and typed memory?

Two families of cases, each run under TCG on q35 with an ivshmem-plain
device whose BAR2 (1 GiB, 64-bit, prefetchable) goes in the 64-bit PCI
window.  Node ranges come from the documented layout (RAM offset o is
at o below max-ram-below-4g, at 4 GiB + (o - below) above), never from
QEMU.  Every memory BAR in HMP 'info pci' must miss the memory of every
node, and BAR2 must start where the case's rule says.

seabios: SeaBIOS (no OS).  2 GiB of normal memory on node 0 below
  4 GiB and 1 GiB on node 1 at 4 GiB, the last node, of the case's type.
  SeaBIOS puts its 64-bit window after the RAM it counts in etc/e820
  (type 1 entries only) unless fw_cfg etc/reserved-memory-end is higher;
  a typed node is not RAM to it, so without that file the BAR lands on
  the node.  BAR2 must start at or above the end of RAM and the end of
  every typed node (here 0x140000000).

ovmf: OVMF boots Linux (-kernel, the harness initramfs, whose /init
  prints its report and powers off; -no-shutdown keeps QEMU for the
  final 'info pci').  A typed node followed by normal memory: OVMF reads
  etc/reserved-memory-end as the end of a memory hotplug area starting
  at the end of its RAM above 4 GiB, so a value below the end of RAM
  makes it place its window on RAM (series v7 published the end of the
  highest typed node only).  The derivation is in the comment above
  OVMF_NODES.  The guest must
  reach its init and print its whole report, and BAR2 must be inside
  the classic window computed from the layout (which is above all RAM
  and typed memory).

    pci_window.py --qemu BIN [--cases seabios,ovmf] [--types spm,reserved,normal]
        [--seabios NAME=PATH[,cpu=MODEL] ...]
        [--ovmf NAME=CODE,vars=VARS --kernel K --initrd I] [--logdir DIR]

Prints PASS/FAIL/SKIP per case (with its wall time) and ends with
"pciwin: N passed, N failed, N skipped".
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from qemulib import Qemu, QemuError  # noqa: E402
from results import Results  # noqa: E402
import parse_report  # noqa: E402

M = 1 << 20
G = 1 << 30
BAR_RE = re.compile(r"BAR(\d+): (32|64) bit (?:prefetchable )?memory at "
                    r"(0x[0-9a-f]+) \[(0x[0-9a-f]+)\]")
DEV_RE = re.compile(r"Bus\s+(\d+), device\s+(\d+), function (\d+):")
UNASSIGNED = 0xffffffffffffffff
ANSI_RE = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")
IVSHMEM_BAR = 1 * G

# seabios cases: (node, size, type); node 1's type is the case's
SEABIOS_BELOW = 2 * G
SEABIOS_NODES = [(0, 2 * G, "normal"), (1, 1 * G, None)]

# ovmf cases.  How OVMF places its 64-bit PCI window (OvmfPkg/Library/
# PlatformInitLib/MemDetect.c as read in edk2 at c5aa7e7d94c0,
# 2026-08-06; measured with Debian's ovmf-generic 2026.08+ds-2), and
# what that gives for these cases.
#
# PlatformGetFirstNonAddress():
#   1. FirstNonAddress = max(4 GiB, end of every etc/e820 entry of type 1).
#      spm (0xEFFFFFFF) and reserved (2) entries do not count.
#   2. fw_cfg opt/ovmf/X-PciMmio64Mb (a decimal string, <= 16 TiB) sets
#      the window size W and marks it an override (default: 32 GiB).
#   3. etc/reserved-memory-end, when present, is the exclusive end of the
#      hotplug area that starts at FirstNonAddress: DEBUG builds ASSERT it
#      is >= FirstNonAddress, RELEASE builds just take it as
#      FirstNonAddress, even when it is lower.
#   4. Base = ALIGN(ALIGN(FirstNonAddress, 1 GiB), 2^floor(log2(W))),
#      W = ALIGN(W, 1 GiB): the "classic" window [Base, Base + W).
# PlatformAddressWidthInitialization() then keeps that window unless the
# CPU's phys-bits are trusted (>= 41, 40 on AMD, 36 or 39 on Intel, or
# guest-phys-bits set) and no size override was given, in which case the
# "dynamic" window at the top of the address space replaces it.  Either
# keeps the classic window here: an Intel-vendor qemu64 under TCG has 40
# phys-bits and no guest-phys-bits (not trusted), and the size comes from
# X-PciMmio64Mb (an override).  PciHostBridgeDxe allocates BARs bottom-up
# from the window's base (AllocateResource()), and BAR2 is the only
# 64-bit BAR: it lands at Base.
#
# Scaled configuration (the 43 GiB and 32 GiB window shrunk so a
# TCG boot takes seconds; backends reserve=off):
#   q35,max-ram-below-4g=2G, -m 5G, -cpu qemu64,vendor=GenuineIntel,
#   node0 2 GiB normal    [0x000000000, 0x080000000)
#   node1 1 GiB TYPE      [0x100000000, 0x140000000)
#   node2 2 GiB normal    [0x140000000, 0x1c0000000)
#   X-PciMmio64Mb=2048 (W = 2 GiB), ivshmem-plain with a 1 GiB BAR2.
#   End of RAM above 4 GiB: 0x1c0000000 (7 GiB), whatever node 1's type.
# Expected (any QEMU that keeps etc/reserved-memory-end >= end of RAM, or
# publishes none): FirstNonAddress = 7 GiB, Base = ALIGN(7 GiB, 2 GiB) =
#   0x200000000, window [0x200000000, 0x280000000), BAR2 = 0x200000000.
#   Series v8 publishes ROUND_UP(MAX(0x140000000, 0x1c0000000), 1 GiB) =
#   0x1c0000000 for spm and reserved, nothing for normal: all three give
#   BAR2 = 0x200000000.
# Series v7 with TYPE spm or reserved publishes ROUND_UP(0x140000000,
#   1 GiB) = 0x140000000 < 7 GiB: a RELEASE OVMF takes FirstNonAddress =
#   5 GiB, Base = ALIGN(5 GiB, 2 GiB) = 0x180000000, a window
#   [0x180000000, 0x200000000) on node 2's RAM [0x180000000, 0x1c0000000).
#   Measured with v7: OVMF could not use that window and put BAR2 in its
#   32-bit window, at 0x80000000; Linux boots, no BAR overlaps a node, but
#   BAR2 is not in the classic window above RAM, so the case fails.  (The
#   issue's 43 GiB configuration, with a 4 GiB BAR, hangs instead.)  With
#   TYPE normal v7 publishes nothing and passes.
OVMF_BELOW = 2 * G
OVMF_NODES = [(0, 2 * G, "normal"), (1, 1 * G, None), (2, 2 * G, "normal")]
OVMF_MMIO64_MB = 2048          # fw_cfg opt/ovmf/X-PciMmio64Mb
OVMF_CPU = "qemu64,vendor=GenuineIntel"


def ceil_to(x, a):
    return (x + a - 1) // a * a


def pow2_floor(x):
    return 1 << (x.bit_length() - 1)


def node_ranges(nodes, below):
    """[(node, type, start, end)] from the layout rules, end exclusive."""
    out, off = [], 0
    for node, size, mtype in nodes:
        while size:
            if off < below:
                n = min(size, below - off)
                out.append((node, mtype, off, off + n))
            else:
                n = size
                start = 4 * G + off - below
                out.append((node, mtype, start, start + n))
            off += n
            size -= n
    return out


def tops(ranges):
    """(end of RAM, end of typed memory), 0 when there is none"""
    ram = max((e for _, t, _, e in ranges if t == "normal"), default=0)
    typed = max((e for _, t, _, e in ranges if t != "normal"), default=0)
    return ram, typed


def ovmf_classic_window(ranges, mmio64_mb):
    """[base, end) of OVMF's classic 64-bit window when it is not misled:
    the rule derived above OVMF_NODES, applied to the layout."""
    first_non = max([4 * G] + [e for _, t, _, e in ranges if t == "normal"])
    size = ceil_to(mmio64_mb * M, G)
    base = ceil_to(ceil_to(first_non, G), pow2_floor(size))
    return base, base + size


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


def ivshmem(info_pci):
    """(BDF as Linux writes it, BAR2 start or None or UNASSIGNED)"""
    for b in info_pci.split("Bus ")[1:]:
        if "1af4:1110" in b or "Inter-VM shared memory" in b:
            d = DEV_RE.match("Bus " + b)
            bdf = (f"0000:{int(d.group(1)):02x}:{int(d.group(2)):02x}."
                   f"{int(d.group(3))}") if d else None
            m = re.search(r"BAR2: 64 bit (?:prefetchable )?memory at "
                          r"(0x[0-9a-f]+)", b)
            return bdf, int(m.group(1), 16) if m else None
    return None, None


def clashes(info, ranges):
    out = []
    for dev, bar, start, end in bars(info):
        for node, _, ns, ne in ranges:
            if start < ne and ns < end:
                out.append(f"BAR{bar} [{start:#x}-{end - 1:#x}] of "
                           f"'{dev[:40]}' overlaps node {node} "
                           f"[{ns:#x}-{ne - 1:#x}]")
    return out


def placement(bar2, ranges):
    """complaints about where BAR2 is, from the layout alone"""
    ram_end, typed_end = tops(ranges)
    out = []
    if bar2 < ram_end:
        out.append(f"BAR2 at {bar2:#x} is below the end of RAM {ram_end:#x}")
    if bar2 < typed_end:
        out.append(f"BAR2 at {bar2:#x} is below the end of typed memory "
                   f"{typed_end:#x}")
    return out


def above(ranges):
    ram_end, typed_end = tops(ranges)
    s = f">= end of RAM {ram_end:#x}"
    return s + (f" and of typed memory {typed_end:#x}" if typed_end else "")


def numa_args(nodes, mtype):
    args = []
    for node, size, t in nodes:
        args += ["-object", f"memory-backend-ram,id=m{node},size={size // M}M,"
                 "reserve=off"]
    for node, size, t in nodes:
        opt = f"node,nodeid={node},memdev=m{node}"
        if node == 0:
            opt += ",cpus=0"
        if t is None:               # the case's node: its type, always
            opt += f",memmap-type={mtype}"
        args += ["-numa", opt]
    return args


def typed(nodes, mtype):
    return [(n, s, t or mtype) for n, s, t in nodes]


def run_seabios(qemu, fw_name, fw_path, cpu, mtype, timeout, logdir):
    name = f"{fw_name}/{cpu or 'default-cpu'}/{mtype}"
    nodes = typed(SEABIOS_NODES, mtype)
    ranges = node_ranges(nodes, SEABIOS_BELOW)
    total = sum(s for _, s, _ in nodes)
    args = ["-M", f"q35,max-ram-below-4g={SEABIOS_BELOW // M}M",
            "-m", f"{total // M}M", "-smp", "1", "-bios", fw_path]
    args += numa_args(SEABIOS_NODES, mtype)
    args += ["-object", f"memory-backend-ram,id=shm,size={IVSHMEM_BAR // M}M,"
             "reserve=off", "-device", "ivshmem-plain,memdev=shm"]
    if cpu:
        args += ["-cpu", cpu]
    try:
        with Qemu(qemu, args, accel="tcg", timeout=timeout) as vm:
            deadline = time.monotonic() + timeout
            info = vm.hmp("info pci")
            while ivshmem(info)[1] in (None, UNASSIGNED):
                if time.monotonic() > deadline:
                    return name, "FAIL", f"BAR2 not assigned after {timeout} s"
                time.sleep(0.5)
                info = vm.hmp("info pci")
    except (QemuError, OSError) as e:
        return name, "FAIL", f"QEMU: {e}"
    bar2 = ivshmem(info)[1]
    bad = clashes(info, ranges) + placement(bar2, ranges)
    if bad:
        return name, "FAIL", "; ".join(bad)
    return name, "PASS", f"ivshmem BAR2 at {bar2:#x}, {above(ranges)}"


def tail(path, n=1):
    try:
        with open(path, "rb") as f:
            text = ANSI_RE.sub("", f.read().decode("utf-8", "replace"))
    except OSError:
        return ""
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    return " | ".join(lines[-n:])


def run_ovmf(qemu, fw_name, code, vars_, kernel, initrd, mtype, timeout,
             logdir):
    name = f"{fw_name}/{OVMF_CPU}/{mtype}-then-normal"
    nodes = typed(OVMF_NODES, mtype)
    ranges = node_ranges(nodes, OVMF_BELOW)
    total = sum(s for _, s, _ in nodes)
    wbase, wend = ovmf_classic_window(ranges, OVMF_MMIO64_MB)
    tmp = tempfile.mkdtemp(prefix="pciwin-ovmf-")
    log = os.path.join(logdir, f"pciwin-ovmf-{mtype}.log")
    fwlog = os.path.join(logdir, f"pciwin-ovmf-{mtype}.fw.log")
    for p in (log, fwlog):
        if os.path.exists(p):
            os.unlink(p)
    myvars = os.path.join(tmp, "OVMF_VARS.fd")
    shutil.copyfile(vars_, myvars)
    args = ["-M", f"q35,max-ram-below-4g={OVMF_BELOW // M}M",
            "-m", f"{total // M}M", "-smp", "1", "-cpu", OVMF_CPU]
    args += numa_args(OVMF_NODES, mtype)
    args += ["-object", f"memory-backend-ram,id=shm,size={IVSHMEM_BAR // M}M,"
             "reserve=off", "-device", "ivshmem-plain,memdev=shm",
             "-fw_cfg", f"name=opt/ovmf/X-PciMmio64Mb,string={OVMF_MMIO64_MB}",
             "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
             "-drive", f"if=pflash,format=raw,unit=1,file={myvars}",
             "-kernel", kernel, "-initrd", initrd,
             "-append", "console=ttyS0 panic=-1 oops=panic efi=debug",
             "-chardev", f"file,id=con,path={log}", "-serial", "chardev:con",
             "-chardev", f"file,id=fwdbg,path={fwlog}",
             "-device", "isa-debugcon,iobase=0x402,chardev=fwdbg",
             "-no-reboot", "-no-shutdown"]
    first = None                 # BAR2 as the firmware assigned it
    status = "?"
    try:
        with Qemu(qemu, args, accel="tcg", timeout=timeout) as vm:
            deadline = time.monotonic() + timeout
            while True:
                info = vm.hmp("info pci")
                b = ivshmem(info)[1]
                if first is None and b not in (None, UNASSIGNED):
                    first = b
                status = vm.qmp("query-status")["status"]
                if status in ("shutdown", "guest-panicked", "internal-error"):
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(1)
    except (QemuError, OSError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        return name, "FAIL", f"QEMU: {e} (serial: {log})"
    shutil.rmtree(tmp, ignore_errors=True)
    bdf, bar2 = ivshmem(info)
    rep = parse_report.parse(log)
    bad = []
    if status != "shutdown":
        what = ("BAR2 never assigned: the firmware did not reach PCI "
                "enumeration" if first is None else
                f"BAR2 assigned at {first:#x}")
        last = tail(log) or tail(fwlog) or "none readable"
        bad.append(f"guest did not power off within {timeout:g} s "
                   f"(status {status}; {what}; last output: '{last[:100]}')")
    elif not rep.done or "boot" not in rep.phases:
        bad.append("guest powered off without its report (Linux did not "
                   "reach the harness's init)")
    if rep.panic:
        bad.append(f"guest: {rep.panic[0][:100]}")
    if first is not None:
        if not wbase <= first < wend:
            bad.append(f"BAR2 at {first:#x} outside OVMF's classic window "
                       f"[{wbase:#x}-{wend - 1:#x}] computed from the layout")
        bad += placement(first, ranges)
        if bar2 != first:
            bad.append(f"BAR2 moved from {first:#x} to {bar2:#x} after the "
                       "firmware")
        bad += clashes(info, ranges)
    elif status == "shutdown":
        bad.append("BAR2 never assigned")
    boot = rep.phases.get("boot")
    if first is not None and boot and bdf:
        seen = [s for s, e, n, _ in boot.iomem_sub if n.strip() == bdf
                and e - s == IVSHMEM_BAR]
        if seen and seen[0] != first:
            bad.append(f"the guest sees BAR2 at {seen[0]:#x}, not {first:#x}")
        elif not seen:
            bad.append(f"BAR2 of {bdf} missing from the guest's /proc/iomem")
    if bad:
        return name, "FAIL", "; ".join(bad) + f" (serial: {log})"
    return name, "PASS", (f"Linux reached init; ivshmem BAR2 at {first:#x} "
                          f"in the classic window [{wbase:#x}-{wend - 1:#x}], "
                          f"{above(ranges)}")


def timed(fn, *args):
    t0 = time.monotonic()
    name, verdict, detail = fn(*args)
    return name, verdict, detail, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu", required=True)
    ap.add_argument("--cases", default="seabios,ovmf",
                    help="comma-separated: seabios, ovmf")
    ap.add_argument("--seabios", action="append", default=[],
                    help="NAME=PATH[,cpu=MODEL]")
    ap.add_argument("--ovmf", help="NAME=CODE,vars=VARS")
    ap.add_argument("--kernel")
    ap.add_argument("--initrd")
    ap.add_argument("--skip-ovmf", metavar="REASON",
                    help="skip the ovmf cases, saying why")
    ap.add_argument("--types", default="spm,reserved,normal")
    ap.add_argument("--timeout", type=float, default=90,
                    help="seconds for a seabios case to assign BAR2")
    ap.add_argument("--ovmf-timeout", type=float, default=120,
                    help="seconds for an ovmf case's guest to power off")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--logdir", default=tempfile.gettempdir())
    a = ap.parse_args()
    which = set(a.cases.split(","))
    unknown = which - {"seabios", "ovmf"}
    if unknown:
        ap.error(f"unknown --cases {','.join(sorted(unknown))}")
    types = a.types.split(",")
    os.makedirs(a.logdir, exist_ok=True)
    jobs, skips = [], []
    if "seabios" in which:
        for spec in a.seabios:
            name, _, rest = spec.partition("=")
            path, _, opt = rest.partition(",cpu=")
            for t in types:
                jobs.append((run_seabios, a.qemu, name, path, opt or None, t,
                             a.timeout, a.logdir))
    if "ovmf" in which:
        if a.skip_ovmf or not (a.ovmf and a.kernel and a.initrd):
            why = a.skip_ovmf or "no --ovmf/--kernel/--initrd given"
            skips += [(f"ovmf/{OVMF_CPU}/{t}-then-normal", why) for t in types]
        else:
            name, _, rest = a.ovmf.partition("=")
            code, _, vars_ = rest.partition(",vars=")
            for t in types:
                jobs.append((run_ovmf, a.qemu, name, code, vars_, a.kernel,
                             a.initrd, t, a.ovmf_timeout, a.logdir))
    res = Results("pciwin", indent="  ", sep="  ")
    for name, why in skips:
        res.skipped(f"{name}: {why}")
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        futs = [ex.submit(timed, *j) for j in jobs]
        for f in futs:
            name, verdict, detail, secs = f.result()
            res.record("PASS" if verdict == "PASS" else "FAIL",
                       f"{name} ({secs:.1f} s): {detail}")
    return res.verdict()


if __name__ == "__main__":
    sys.exit(main())
