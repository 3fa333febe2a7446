#!/usr/bin/env python3
# Where a 1 GiB 64-bit PCI BAR lands by a 1 GiB spm range: memmap vs sp-mem.
# Called by scripts/compare-pciwin.sh (from scripts/compare.sh, make compare).
"""Same guest for both interfaces, under TCG on q35:

  node 0: 2 GiB of normal memory [0, 2 GiB), cpu 0
  node 1: one 1 GiB spm range
    memmap: -m 3G, -numa node,nodeid=1,memdev=m1,memmap-type=spm
    spmem:  -m 2G,maxmem=3G, node 1 memoryless,
            -device sp-mem,memdev=sp1,node=1
  ivshmem-plain with a 1 GiB backend: BAR2, 64-bit prefetchable.

Where the typed range is comes from QEMU, never from the layout rules:
memmap from the 0xEFFFFFFF entry of fw_cfg etc/e820, sp-mem from
query-memory-devices (both read on a qtest-accelerated start of the same
configuration; sp-mem's is read again on the TCG run).  RAM is every
type 1 entry of etc/e820.  BAR2 is where HMP 'info pci' shows it once
the firmware has assigned it (for OVMF, the first value seen, and the
guest's /proc/iomem line for it).

Setups:
  bar-seabios-1.16.2  SeaBIOS 1.16.2, no OS, -cpu qemu64 (QEMU's default,
                      AMD vendor)
  bar-seabios-1.17.0  SeaBIOS 1.17.0, no OS, -cpu qemu64,vendor=GenuineIntel
  bar-ovmf-dynamic    OVMF boots Linux, -cpu qemu64 (AMD vendor, 40
                      phys-bits under TCG: OVMF trusts 40 on AMD and uses
                      its dynamic window at the top of the address space)
  bar-ovmf-classic    OVMF boots Linux, -cpu qemu64,vendor=GenuineIntel
                      (40 phys-bits, not trusted on Intel) and fw_cfg
                      opt/ovmf/X-PciMmio64Mb=2048: the classic window

A probe PASSes when it measured where BAR2 landed (or measured that the
configuration does not start or boot) and records one compare_row; it
FAILs only when no answer could be had, and SKIPs when its firmware or
QEMU is missing.  Last line "compare-pciwin: N passed, N failed, N
skipped".
"""

import argparse
import os
import shlex
import shutil
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for sub in ("lib", "pciwin", "guest"):
    sys.path.insert(0, os.path.join(HERE, "..", sub))
from qemulib import Qemu, QemuError  # noqa: E402
from results import Results  # noqa: E402
from compare_rows import compare_row  # noqa: E402
from pci_window import ivshmem, bars, tail, UNASSIGNED  # noqa: E402
import parse_report  # noqa: E402

M = 1 << 20
G = 1 << 30
BAR = 1 * G
SPM = 0xEFFFFFFF
MMIO64_MB = 2048
INTEL = "qemu64,vendor=GenuineIntel"

# id: (firmware kind, firmware key, -cpu or None, what to say of the CPU,
#      OVMF X-PciMmio64Mb or None)
SETUPS = {
    "bar-seabios-1.16.2": ("seabios", "seabios116", None,
                           "qemu64 (AMD)", None),
    "bar-seabios-1.17.0": ("seabios", "seabios117", INTEL,
                           "qemu64,vendor=GenuineIntel", None),
    "bar-ovmf-dynamic": ("ovmf", "ovmf", None,
                         "qemu64 (AMD, 40 phys-bits under TCG)", None),
    "bar-ovmf-classic": ("ovmf", "ovmf", INTEL,
                         "qemu64,vendor=GenuineIntel", MMIO64_MB),
}
IFACES = ("memmap", "spmem")


def hexr(start, end):
    """[start-last] of an exclusive end"""
    return f"[{start:#x}-{end - 1:#x}]"


def memory_args(iface):
    """machine, memory and device options (no firmware, no CPU)"""
    a = ["-M", "q35,max-ram-below-4g=2048M", "-smp", "1",
         "-object", "memory-backend-ram,id=m0,size=2G,reserve=off"]
    if iface == "memmap":
        a += ["-m", "3G",
              "-object", "memory-backend-ram,id=m1,size=1G,reserve=off",
              "-numa", "node,nodeid=0,memdev=m0,cpus=0",
              "-numa", "node,nodeid=1,memdev=m1,memmap-type=spm"]
    else:
        a += ["-m", "2G,maxmem=3G",
              "-object", "memory-backend-ram,id=sp1,size=1G,reserve=off",
              "-numa", "node,nodeid=0,memdev=m0,cpus=0",
              "-numa", "node,nodeid=1",
              "-device", "sp-mem,id=spm1,memdev=sp1,node=1"]
    a += ["-object", f"memory-backend-ram,id=shm,size={BAR // M}M,"
          "reserve=off", "-device", "ivshmem-plain,memdev=shm"]
    return a


def sp_mem_range(devs):
    """(start, end) of the sp-mem device in query-memory-devices"""
    for d in devs:
        if d.get("type") == "sp-mem":
            return d["data"]["addr"], d["data"]["addr"] + d["data"]["size"]
    return None


class Refused(Exception):
    """QEMU exited at start-up with an error: the configuration's answer"""


def start(vm):
    """vm.start(), raising Refused with QEMU's last stderr line when the
    process exited with an error"""
    try:
        vm.start()
    except QemuError:
        vm.stop()
        err = vm.stderr.strip()
        if err and getattr(vm, "returncode", 0):
            raise Refused(err.splitlines()[-1][:200])
        raise


def layout(qemu, iface, cpu):
    """What QEMU publishes, read on a qtest start: (RAM ranges, reserved
    (type 2) ranges, typed range, text saying where the typed range came
    from, etc/reserved-memory-end or None).  Raises Refused or
    QemuError."""
    args = memory_args(iface) + (["-cpu", cpu] if cpu else [])
    vm = Qemu(qemu, args, accel="qtest", timeout=30)
    start(vm)
    try:
        e820 = vm.e820()
        files = vm.fw_cfg_files()
        rme = None
        if "etc/reserved-memory-end" in files:
            rme = struct.unpack("<Q", vm.fw_cfg_file(
                "etc/reserved-memory-end"))[0]
        devs = vm.qmp("query-memory-devices") if iface == "spmem" else []
    finally:
        vm.stop()
    ram = [(a, a + n) for a, n, t in e820 if t == 1]
    reserved = [(a, a + n) for a, n, t in e820 if t == 2]
    if iface == "memmap":
        typed = [(a, a + n) for a, n, t in e820 if t == SPM]
        if len(typed) != 1:
            raise QemuError(f"etc/e820 has {len(typed)} spm entries: {e820}")
        rng = typed[0]
        src = f"spm range {hexr(*rng)} (etc/e820 type 0xefffffff)"
    else:
        rng = sp_mem_range(devs)
        if rng is None:
            raise QemuError(f"no sp-mem in query-memory-devices: {devs}")
        src = (f"sp-mem at {rng[0]:#x} size {rng[1] - rng[0]:#x} "
               "(query-memory-devices)")
    return ram, reserved, rng, src, rme


def firmware_lines(fwlog, bdf):
    """the firmware's own lines about the 64-bit window and BAR2"""
    try:
        with open(fwlog, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    dev = bdf.split(":", 1)[1] if bdf else None
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("PCI: 64:") or "Pci64 Base" in s or \
                "mmio window" in s or "PhysBits:" in s or \
                (s.startswith("physbits:")) or \
                (dev and f"bdf={dev}" in s and "bar 2," in s):
            if s not in out:
                out.append(s)
    return out


def guest_lines(log, bdf, bar2, rng):
    """the guest's /proc/iomem lines for BAR2, its PCI bus window and
    the typed range"""
    try:
        rep = parse_report.parse(log)
    except OSError:
        return None, []
    boot = rep.phases.get("boot")
    if not boot:
        return rep, []
    out = []
    for s, e, n, _ in boot.iomem_sub:
        if n.strip() == bdf and e - s == BAR:
            out.append(f"guest /proc/iomem: {s:x}-{e - 1:x} : {n.strip()}")
    for s, e, n, _ in boot.iomem_sub + [(s, e, n, 0) for s, e, n in
                                        boot.iomem]:
        if n.strip().startswith("PCI Bus") and bar2 is not None and \
                s <= bar2 < e:
            out.append(f"guest /proc/iomem: {s:x}-{e - 1:x} : {n.strip()}")
    for s, e, n in boot.iomem:
        if s < rng[1] and rng[0] < e:
            out.append(f"guest /proc/iomem: {s:x}-{e - 1:x} : {n.strip()}")
    return rep, out


def verdict(bar2, ram, rng, word):
    """the cell's placement part"""
    end = bar2 + BAR
    over_t = bar2 < rng[1] and rng[0] < end
    over_r = [r for r in ram if bar2 < r[1] and r[0] < end]
    if over_t and over_r:
        return (f"BAR2 at {bar2:#x}: overlaps the {word} range and RAM "
                f"{hexr(*over_r[0])}")
    if over_t:
        return f"BAR2 at {bar2:#x}: overlaps the {word} range"
    if over_r:
        return f"BAR2 at {bar2:#x}: overlaps RAM {hexr(*over_r[0])}"
    if bar2 >= rng[1]:
        return f"BAR2 at {bar2:#x}, above the range"
    where = " (32-bit window)" if end <= 4 * G else ""
    return f"BAR2 at {bar2:#x}{where}, below the range, no overlap"


def other_clashes(info, ram, rng, bar2):
    """memory BARs other than ivshmem's BAR2 that hit RAM or the range"""
    out = []
    for dev, bar, s, e in bars(info):
        if bar == 2 and s == bar2:
            continue
        for a, b in ram + [rng]:
            if s < b and a < e:
                out.append(f"BAR{bar} {hexr(s, e)} of '{dev[:30]}' overlaps "
                           f"{hexr(a, b)}")
    return out


class Probe:
    def __init__(self, opts, setup, iface):
        self.o, self.setup, self.iface = opts, setup, iface
        (self.fw, self.fwkey, self.cpu, self.cpu_text,
         self.mmio64) = SETUPS[setup]
        self.qemu = opts.qemu_memmap if iface == "memmap" else opts.qemu_spmem
        self.word = "spm" if iface == "memmap" else "sp-mem"
        self.name = f"{setup}/{iface}"
        base = os.path.join(opts.logdir, f"{setup}-{iface}")
        self.log, self.fwlog, self.cmdfile = (base + ".log", base + ".fw.log",
                                              base + ".cmdline")
        self.vars = base + ".OVMF_VARS.fd"     # kept: "how" names it

    def skip_reason(self):
        if not self.qemu:
            return (self.o.skip_memmap if self.iface == "memmap"
                    else self.o.skip_spmem) or "no QEMU"
        if self.fw == "seabios":
            p = getattr(self.o, self.fwkey)
            return None if p and os.path.isfile(p) else \
                f"no {self.fwkey} firmware file ({p or 'not given'})"
        for p in (self.o.ovmf_code, self.o.ovmf_vars, self.o.kernel,
                  self.o.initrd):
            if not p or not os.path.isfile(p):
                return f"OVMF or the 6.1 guest kernel/initramfs missing ({p})"
        return None

    def boot_args(self):
        a = ["-chardev", f"file,id=fwdbg,path={self.fwlog}",
             "-device", "isa-debugcon,iobase=0x402,chardev=fwdbg"]
        if self.cpu:
            a += ["-cpu", self.cpu]
        if self.fw == "seabios":
            return a + ["-bios", getattr(self.o, self.fwkey)]
        myvars = self.vars
        shutil.copyfile(self.o.ovmf_vars, myvars)
        if self.mmio64:
            a += ["-fw_cfg",
                  f"name=opt/ovmf/X-PciMmio64Mb,string={self.mmio64}"]
        return a + [
            "-drive", "if=pflash,format=raw,unit=0,readonly=on,"
            f"file={self.o.ovmf_code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={myvars}",
            "-kernel", self.o.kernel, "-initrd", self.o.initrd,
            "-append", "console=ttyS0 panic=-1 oops=panic efi=debug",
            "-chardev", f"file,id=con,path={self.log}",
            "-serial", "chardev:con", "-no-reboot", "-no-shutdown"]

    def how(self, cmd):
        """the reproduce command; writes the QEMU command line, without
        qemulib's QMP socket, to cmdfile"""
        out, skip = [], 0
        for i, x in enumerate(cmd):
            if skip:
                skip -= 1
                continue
            if x in ("-chardev", "-mon") and i + 1 < len(cmd) and \
                    ("qmp0" in cmd[i + 1]):
                skip = 1
                continue
            out.append(x)
        text = " ".join(shlex.quote(x) for x in out)
        with open(self.cmdfile, "w") as f:
            f.write(text + "\n")
        # the cell's reproduce command: this repository's, not the QEMU
        # line (its paths are this checkout's cache), which stays in
        # cmdfile
        return f"scripts/compare-pciwin.sh --setups {self.setup} --ifaces {self.iface}"

    def run(self):
        """(PASS|FAIL, detail); records the row when it measured"""
        for p in (self.log, self.fwlog):
            if os.path.exists(p):
                os.unlink(p)
        try:
            ram, reserved, rng, src, rme = layout(self.qemu, self.iface,
                                                  self.cpu)
        except Refused as e:
            if "'memmap-type'" in str(e) or "'sp-mem'" in str(e):
                return "FAIL", f"{self.qemu} lacks the interface: {e}"
            # the configuration itself is refused: that is the answer
            cmd = ([self.qemu, "-accel", "qtest"] + memory_args(self.iface)
                   + (["-cpu", self.cpu] if self.cpu else []))
            cell = f"QEMU refuses the configuration: {e}"
            compare_row(self.setup, self.iface, cell, str(e),
                        " ".join(shlex.quote(x) for x in cmd))
            return "PASS", cell
        except QemuError as e:
            return "FAIL", f"reading the layout: {e}"
        rme_text = (f"etc/reserved-memory-end {rme:#x}" if rme is not None
                    else "no etc/reserved-memory-end")
        return self._boot(ram, reserved, rng, src, rme_text)

    def _boot(self, ram, reserved, rng, src, rme_text):
        args = memory_args(self.iface) + self.boot_args()
        timeout = (self.o.seabios_timeout if self.fw == "seabios"
                   else self.o.ovmf_timeout)
        first, info, status, devs = None, "", "?", None
        vm = Qemu(self.qemu, args, accel="tcg", timeout=timeout)
        try:
            start(vm)
        except Refused as e:
            cell = f"QEMU does not start: {e}"
            compare_row(self.setup, self.iface, cell, str(e), self.how(
                [self.qemu] + args))
            return "PASS", cell
        except QemuError as e:
            return "FAIL", f"QEMU: {e}"
        how = self.how(vm.cmd)
        try:
            if self.iface == "spmem":
                devs = sp_mem_range(vm.qmp("query-memory-devices"))
            deadline = time.monotonic() + timeout
            while True:
                info = vm.hmp("info pci")
                b = ivshmem(info)[1]
                if first is None and b not in (None, UNASSIGNED):
                    first = b
                    if self.fw == "seabios":
                        break
                status = vm.qmp("query-status")["status"]
                if status in ("shutdown", "guest-panicked",
                              "internal-error"):
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5 if self.fw == "seabios" else 1)
        except (QemuError, OSError) as e:
            vm.stop()
            return "FAIL", f"QEMU: {e}"
        vm.stop()
        if devs is not None and devs != rng:
            return "FAIL", (f"sp-mem moved: {hexr(*rng)} on the qtest start, "
                            f"{hexr(*devs)} on the TCG run")
        bdf = ivshmem(info)[0]
        fwl = firmware_lines(self.fwlog, bdf)
        evidence = []
        if first is None:
            last = tail(self.log) or tail(self.fwlog) or "no output"
            cell = (f"BAR2 never assigned within {timeout:g} s "
                    f"(status {status})")
            evidence = fwl + [f"last output: {last[:150]}"]
        else:
            cell = verdict(first, ram, rng, self.word)
            hole = [r for r in reserved if first < r[1] and r[0] < first + BAR]
            if hole:
                cell += f", inside e820 reserved {hexr(*hole[0])}"
            clash = other_clashes(info, ram, rng, first)
            if clash:
                cell += "; also " + "; ".join(clash)
            evidence = fwl
        if self.fw == "ovmf":
            rep, gl = guest_lines(self.log, bdf, first, rng)
            booted = (status == "shutdown" and rep is not None and rep.done
                      and "boot" in rep.phases)
            if first is not None:
                cell += ("; Linux boots" if booted else
                         f"; Linux did not reach its init (status {status})")
            evidence = gl + evidence
        evidence.append(src)
        evidence.append(rme_text)
        if self.cpu_text:
            evidence.append(f"-cpu {self.cpu_text}")
        compare_row(self.setup, self.iface, cell, " | ".join(evidence), how)
        return "PASS", cell + " [" + "; ".join(evidence) + "]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--qemu-memmap", help="the patched QEMU")
    ap.add_argument("--qemu-spmem", help="QEMU with -device sp-mem")
    ap.add_argument("--skip-memmap", help="why there is no patched QEMU")
    ap.add_argument("--skip-spmem", help="why there is no sp-mem QEMU")
    ap.add_argument("--seabios116", help="SeaBIOS 1.16.2 bios-256k.bin")
    ap.add_argument("--seabios117", help="SeaBIOS 1.17.0 bios-256k.bin")
    ap.add_argument("--ovmf-code")
    ap.add_argument("--ovmf-vars")
    ap.add_argument("--kernel")
    ap.add_argument("--initrd")
    ap.add_argument("--setups", default=",".join(SETUPS))
    ap.add_argument("--ifaces", default=",".join(IFACES))
    ap.add_argument("--seabios-timeout", type=float, default=60)
    ap.add_argument("--ovmf-timeout", type=float, default=150)
    ap.add_argument("--logdir", default=tempfile.gettempdir())
    o = ap.parse_args()
    os.makedirs(o.logdir, exist_ok=True)
    setups, ifaces = o.setups.split(","), o.ifaces.split(",")
    for s in setups:
        if s not in SETUPS:
            ap.error(f"unknown setup {s} ({', '.join(SETUPS)})")
    for i in ifaces:
        if i not in IFACES:
            ap.error(f"unknown interface {i} (memmap, spmem)")
    res = Results("compare-pciwin", sep=": ")
    for s in setups:
        for i in ifaces:
            p = Probe(o, s, i)
            why = p.skip_reason()
            t0 = time.monotonic()
            if why:
                verdict, detail = "SKIP", why
            else:
                verdict, detail = p.run()
            res.record(verdict, f"{p.name} ({time.monotonic() - t0:.1f} s): {detail}")
    return res.verdict()


if __name__ == "__main__":
    sys.exit(main())
