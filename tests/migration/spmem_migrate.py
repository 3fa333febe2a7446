#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Do bytes written into a typed memory range survive a migration?
(scripts/spmem-migrate.sh, run by scripts/compare.sh)

Three configurations on q35, each with 2 GiB on node 0 and a 1 GiB range
on node 1 at 4 GiB:
  sp-mem    upstream's device (Debian sid's QEMU 11.1.3):
            -m 2G,maxmem=4G -device sp-mem,memdev=sp0,node=1
  pc-dimm   the control, same binary: -m 2G,slots=1,maxmem=4G
            -device pc-dimm,memdev=sp0,node=1
  memmap    the series (patched QEMU 10.2.2): -m 3G and
            -machine max-ram-below-4g=2G,
            -numa node,nodeid=1,memdev=m1,memmap-type=spm

Where the range is, QEMU says: a probe run (qtest accelerator) reads
query-memory-devices (sp-mem, pc-dimm), the flat view of `info mtree -f`
(the backend's region, all three), `info ramblock` (the name of the
backend's RAM block: an unnamed block was never registered for
migration) and fw_cfg etc/e820 (soft reserved for sp-mem and memmap, no
entry for the DIMM).

Mode "paused" (question migrate-paused): a source started with -S gets
4 KiB of random bytes at the range's address from
-device loader,force-raw=on; pmemsave on the source shows they are there;
the source migrates to a file (migrate file:STREAM); a destination with
the same options (no loader) and -incoming file:STREAM loads it; pmemsave
on the destination; compare.

Mode "running" (question migrate-running): the same bytes, but the
source boots the project's test guest (-kernel/-initrd of
tests/guest/init), and the migration is live over TCP (127.0.0.1) while
the guest runs; the destination's guest counter must advance.  sp-mem
and memmap boot with the patched SeaBIOS (GUEST_SEABIOS_PATCHED, from
scripts/seabios.sh), which keeps the soft-reserved e820 entry, so the
guest's dax_hmem makes a dax device of the range, and with
memmap_demo=migrate: the guest prints its report (phase "boot": one dax
device, on node 1, at the range's address and size), then counts, and
every 5 s prints the report again (phase "after").  The first complete
"after" report on the destination's console is taken after the
migration; then QMP system_reset reboots the destination (firmware and
kernel read its etc/e820 again) and the next "boot" report on its
console is the one after the reboot.  Both must list the dax device the
source's guest had (name, target_node, start, size).  pc-dimm (no e820
entry, so no dax device) is the bytes control: stock SeaBIOS (from the
guest assets) and the counter mode of tests/guest/init, as are sp-mem
and memmap when there is no patched SeaBIOS (their cells then say "dax
not checked").  The guest maps the dax device nowhere and does not
online the DIMM, so it never writes the range.

Mode "mismatch" (question migrate-mismatch): the destination is started
with another setting than the source (table MISMATCH): the series' node
1 memmap-type=spm to no memmap-type and back; sp-mem to no sp-mem (no
device and no backend; node 1 empty, maxmem kept), to addr=5 GiB, to
node=0.  The source (-S, TCG) migrates to a file, the destination
(-S, -incoming file:) loads it; both also speak the qtest protocol, for
fw_cfg etc/e820.  The cell says whether the source or the destination
fails (QEMU's error) or the destination loads the stream, and then what
differs between the two sides' etc/e820 entries and memory devices
(query-memory-devices): what a guest would see after its next reboot.
A case that cannot be measured FAILs; whatever QEMU answers PASSes.

Verdicts: a configuration whose binary (or, for "running", the guest
assets) is missing is a SKIP; a run that cannot measure (QEMU error, timeout, the bytes not
on the source) FAILs; the pc-dimm control and the series' node FAIL when
the bytes do not arrive, and the series' node also when its dax device
is gone after the migration or after the reboot.  For sp-mem the measured fact is reported either
way: "bytes lost (the upstream defect reproduces)" or, if they arrive,
that upstream has fixed it and docs/upstream/sp-mem-migration-bug.md
must be revisited; both PASS.  One compare row per interface and mode.
Last line: "spmem-migrate: N passed, N failed, N skipped".
"""

import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import qemulib  # noqa: E402
from guest_console import GuestError, counters, dax_key, wait_counter, wait_phase  # noqa: E402
from results import Results  # noqa: E402
from compare_rows import compare_row  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "tests", "compare"))
from probes import e820_str, error_line  # noqa: E402

GiB = 1 << 30
PATTERN_LEN = 4096
HOW = "scripts/spmem-migrate.sh"


# the measurement could not be made
Fail = GuestError


def say(msg):
    print(f"==> {msg}", file=sys.stderr, flush=True)


# -- the three configurations ----------------------------------------------
class Config:
    def __init__(self, name, iface, binary, args, memdev, device, e820):
        self.name, self.iface, self.binary = name, iface, binary
        self.args, self.memdev, self.device = args, memdev, device
        self.e820 = e820          # the range's expected etc/e820 type, or None


NODE0 = ["-object", "memory-backend-ram,id=m0,size=2G",
         "-numa", "node,nodeid=0,memdev=m0,cpus=0"]


def memmap_args(mtype="spm"):
    """the series' configuration; MTYPE None: node 1 without memmap-type"""
    return (["-machine", "q35,max-ram-below-4g=2G", "-m", "3G"] + NODE0 +
            ["-object", "memory-backend-ram,id=m1,size=1G",
             "-numa", "node,nodeid=1,memdev=m1" + (f",memmap-type={mtype}" if mtype else "")])


def spmem_args(dev="node=1"):
    """sp-mem's configuration, -device sp-mem,id=dev1,memdev=sp0,DEV;
    DEV None: neither the device nor its backend (node 1 empty, maxmem kept)"""
    return (["-machine", "q35", "-m", "2G,maxmem=4G"] + NODE0 +
            (["-object", "memory-backend-ram,id=sp0,size=1G"] if dev else []) +
            ["-numa", "node,nodeid=1"] +
            (["-device", f"sp-mem,id=dev1,memdev=sp0,{dev}"] if dev else []))


def configs(sid, patched):
    out = []
    if sid:
        out.append(Config("sp-mem", "spmem", sid, spmem_args(), "sp0", "dev1",
                          qemulib.E820_SOFT_RESERVED))
        out.append(Config("pc-dimm", "spmem", sid,
                          ["-machine", "q35", "-m", "2G,slots=1,maxmem=4G"] + NODE0 +
                          ["-object", "memory-backend-ram,id=sp0,size=1G",
                           "-numa", "node,nodeid=1",
                           "-device", "pc-dimm,id=dev1,memdev=sp0,node=1"], "sp0", "dev1",
                          None))
    if patched:
        out.append(Config("memmap", "memmap", patched, memmap_args(), "m1", None,
                          qemulib.E820_SOFT_RESERVED))
    return out


def cmdline(binary, args):
    return " ".join([os.path.basename(binary), "-accel", "tcg", "-display", "none",
                     "-nodefaults"] + args)


# -- where is the range? ------------------------------------------------------
FLAT_RE = re.compile(r"^\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, ram\): (\S+)", re.M)


def flat_ranges(mtree, name):
    """[(start, end)] of the lines of the flat view of the system memory
    region (address spaces "memory", "cpu-memory-N") that map RAM region
    NAME"""
    views = mtree.split("FlatView #")
    for v in views:
        if "Root memory region: system" not in v:
            continue
        return [(int(a, 16), int(b, 16)) for a, b, n in FLAT_RE.findall(v) if n == name]
    return []


def ramblocks(text):
    """[(block name or "", used bytes)] of the writable blocks of
    `info ramblock` (an unnamed block has an empty first column)"""
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 7 or f[-1] != "rw":
            continue
        name = f[0] if len(f) == 8 else ""
        out.append((name, int(f[-4], 16)))
    return out


def probe(cfg):
    """(address, text saying where QEMU reports it) from a qtest run"""
    with qemulib.Qemu(cfg.binary, ["-S"] + cfg.args, accel="qtest", timeout=20) as vm:
        reported = []
        addr = None
        if cfg.device:
            devs = [d for d in vm.qmp("query-memory-devices")
                    if d["data"].get("id") == cfg.device]
            if len(devs) != 1:
                raise Fail(f"query-memory-devices has no device {cfg.device}: {devs}")
            d = devs[0]
            addr = d["data"]["addr"]
            if d["data"]["size"] != GiB or d["data"].get("node") != 1:
                raise Fail(f"query-memory-devices: unexpected {d}")
            reported.append(f"query-memory-devices: {d['type']} addr 0x{addr:x} "
                            f"size 0x{d['data']['size']:x} node {d['data']['node']}")
        fl = flat_ranges(vm.hmp("info mtree -f"), cfg.memdev)
        high = [r for r in fl if r[0] >= 4 * GiB]
        if len(high) != 1 or high[0][1] - high[0][0] + 1 != GiB:
            raise Fail(f"info mtree -f: {cfg.memdev} maps {['%x-%x' % r for r in fl]}, "
                       "not one 1 GiB range above 4 GiB")
        if addr is None:
            addr = high[0][0]
        elif addr != high[0][0]:
            raise Fail(f"query-memory-devices says 0x{addr:x}, info mtree -f 0x{high[0][0]:x}")
        reported.append(f"info mtree -f: 0x{high[0][0]:x}-0x{high[0][1]:x} is {cfg.memdev}")
        blocks = ramblocks(vm.hmp("info ramblock"))
        names = [n for n, used in blocks if used == GiB]
        if len(names) != 1:
            raise Fail(f"info ramblock: no single 1 GiB RAM block: {blocks}")
        reported.append("info ramblock: the 1 GiB block is " +
                        (f"named '{names[0]}'" if names[0] else
                         "unnamed (no idstr: never registered for migration)"))
        table = vm.e820()
        e = [x for x in table if x[0] <= addr < x[0] + x[1]]
        if cfg.e820 is None:
            # a DIMM is not in the e820 table (the guest finds it by ACPI)
            if e:
                raise Fail(f"etc/e820 covers 0x{addr:x}: {e}")
            reported.append(f"etc/e820: no entry at 0x{addr:x}")
        else:
            if [(x[0], x[1], x[2]) for x in e] != [(addr, GiB, cfg.e820)]:
                raise Fail(f"etc/e820 has no entry (0x{addr:x}, 1 GiB, type "
                           f"0x{cfg.e820:x}): {table}")
            reported.append(f"etc/e820: 0x{addr:x} len 0x{GiB:x} type 0x{cfg.e820:x}")
        return addr, "; ".join(reported)


# -- one VM ---------------------------------------------------------------------
def start(cfg, extra, timeout=20):
    vm = qemulib.Qemu(cfg.binary, cfg.args + extra, accel="tcg", timeout=timeout)
    try:
        vm.start()
    except qemulib.QemuError as e:
        raise Fail(f"{cfg.name}: {e}")
    return vm


def read_mem(vm, addr, path):
    if os.path.exists(path):
        os.unlink(path)
    vm.qmp("pmemsave", val=addr, size=PATTERN_LEN, filename=path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) != PATTERN_LEN:
        raise Fail(f"pmemsave wrote {len(data)} bytes, not {PATTERN_LEN}")
    return data


def migrate(vm, uri, timeout):
    vm.qmp("migrate-set-parameters", **{"max-bandwidth": 1 << 40})
    vm.qmp("migrate", uri=uri)
    end = time.monotonic() + timeout
    info = {}
    while time.monotonic() < end:
        info = vm.qmp("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    else:
        try:
            vm.qmp("migrate_cancel")
        except Exception:                # noqa: BLE001
            pass
        raise Fail(f"migration not done after {timeout} s: status {info.get('status')}")
    if info.get("status") != "completed":
        raise Fail(f"migration {info.get('status')}: {info.get('error-desc')}")
    return info


def wait_incoming(vm, timeout):
    """wait until the destination has loaded the stream"""
    end = time.monotonic() + timeout
    st = mig = None
    while time.monotonic() < end:
        if vm.proc.poll() is not None:
            vm.stop()
            raise Fail(f"destination exited {vm.returncode}: {vm.stderr.strip()}")
        st = vm.qmp("query-status")["status"]
        mig = vm.qmp("query-migrate").get("status")
        if st != "inmigrate" and mig in ("completed", None):
            return st
        if mig == "failed":
            raise Fail("incoming migration failed")
        time.sleep(0.1)
    raise Fail(f"destination still {st}/{mig} after {timeout} s")


def fmt_mb(n):
    return f"{n / 1e6:.1f} MB"


def fmt_gib(n):
    return f"{n / GiB:.2f} GiB"


# -- the measurement -------------------------------------------------------------
class Measure:
    def __init__(self, cfg, addr, where, src, dst, info, stream, extra=""):
        self.cfg, self.addr, self.where = cfg, addr, where
        self.src, self.dst, self.info, self.stream = src, dst, info, stream
        self.extra = extra
        self.dax = None           # a Dax, when the guest's dax device was checked
        self.arrived = dst == src
        self.zeros = dst == bytes(len(dst))
        ram = info.get("ram", {})
        self.ram_total = ram.get("total", 0)
        self.ram_transferred = ram.get("transferred", 0)

    def figures(self):
        s = f"stream {fmt_mb(self.stream)}, " if self.stream else ""
        return f"{s}RAM {fmt_gib(self.ram_total)}"

    def bytes_text(self):
        if self.arrived:
            return "bytes arrive"
        return "bytes lost: destination reads " + ("zeros" if self.zeros else "other bytes")

    def evidence(self):
        return (f"{self.cfg.name} at 0x{self.addr:x}: source {self.src[:16].hex()}, "
                f"destination {self.dst[:16].hex()} "
                f"({sum(a == b for a, b in zip(self.src, self.dst))}/{PATTERN_LEN} bytes equal); "
                f"query-migrate ram total {self.ram_total} B, transferred "
                f"{self.ram_transferred} B" +
                (f"; stream file {self.stream} B" if self.stream else "") +
                (f"; {self.extra}" if self.extra else ""))


def measure_paused(cfg, work, timeout):
    say(f"migrate-paused {cfg.name}: probing where QEMU puts the range")
    addr, where = probe(cfg)
    pattern = os.path.join(work, f"{cfg.name}.pattern")
    with open(pattern, "wb") as f:
        f.write(os.urandom(PATTERN_LEN))
    stream = os.path.join(work, f"{cfg.name}.stream")
    if os.path.exists(stream):
        os.unlink(stream)
    say(f"migrate-paused {cfg.name}: source (-S, loader at 0x{addr:x}) -> file")
    src_vm = start(cfg, ["-S", "-device",
                         f"loader,file={pattern},addr=0x{addr:x},force-raw=on"])
    try:
        src = read_mem(src_vm, addr, os.path.join(work, f"{cfg.name}.src.mem"))
        with open(pattern, "rb") as f:
            if src != f.read():
                raise Fail(f"the loader's bytes are not at 0x{addr:x} on the source "
                           f"(reads {src[:16].hex()})")
        info = migrate(src_vm, f"file:{stream}", timeout)
    finally:
        src_vm.stop()
    size = os.path.getsize(stream)
    say(f"migrate-paused {cfg.name}: destination from the {fmt_mb(size)} stream")
    dst_vm = start(cfg, ["-S", "-incoming", f"file:{stream}"])
    try:
        wait_incoming(dst_vm, timeout)
        dst = read_mem(dst_vm, addr, os.path.join(work, f"{cfg.name}.dst.mem"))
    finally:
        dst_vm.stop()
    os.unlink(stream)
    return Measure(cfg, addr, where, src, dst, info, size)


def guest_args(env, serial, dax):
    """the guest's options: with DAX, the patched SeaBIOS, the migrate
    mode of tests/guest/init and reboots allowed (system_reset); else
    stock SeaBIOS, the counter mode and -no-reboot"""
    if dax:
        bios, demo, reboot = env["GUEST_SEABIOS_PATCHED"], "migrate", []
    else:
        bios, demo, reboot = env["GUEST_SEABIOS"], "counter", ["-no-reboot"]
    return ["-cpu", "qemu64", "-smp", "1", "-bios", bios,
            "-kernel", env["GUEST_KERNEL"], "-initrd", env["GUEST_INITRD"],
            "-append", f"console=ttyS0 panic=-1 quiet memmap_demo={demo}"] + reboot + [
            "-chardev", f"file,id=con,path={serial}", "-serial", "chardev:con"]


def measure_running(cfg, work, timeout, boot_timeout, env):
    say(f"migrate-running {cfg.name}: probing where QEMU puts the range")
    addr, where = probe(cfg)
    pattern = os.path.join(work, f"{cfg.name}.pattern")
    with open(pattern, "wb") as f:
        f.write(os.urandom(PATTERN_LEN))
    s_serial = os.path.join(work, f"{cfg.name}.src.serial")
    d_serial = os.path.join(work, f"{cfg.name}.dst.serial")
    for p in (s_serial, d_serial):
        if os.path.exists(p):
            os.unlink(p)
    dax = cfg.e820 is not None and bool(env.get("GUEST_SEABIOS_PATCHED"))
    say(f"migrate-running {cfg.name}: booting the source guest (TCG, "
        f"{'patched SeaBIOS, dax checked' if dax else 'stock SeaBIOS'}, "
        f"up to {boot_timeout:.0f} s)")
    src_vm = start(cfg, guest_args(env, s_serial, dax) + [
        "-device", f"loader,file={pattern},addr=0x{addr:x},force-raw=on"])
    dst_vm = None
    daxes = None
    try:
        if dax:
            before = wait_phase(src_vm, s_serial, "boot", 1, boot_timeout, "source guest")
            want = (dax_key(before[0]) if len(before) == 1 else None)
            if want is None or want[1:] != ("1", addr, str(GiB)):
                raise Fail("before the migration the guest does not have one dax device "
                           f"on node 1 at 0x{addr:x}, size {GiB}: {before}")
        wait_counter(src_vm, s_serial, 0, boot_timeout, "source guest")
        src = read_mem(src_vm, addr, os.path.join(work, f"{cfg.name}.src.mem"))
        with open(pattern, "rb") as f:
            if src != f.read():
                raise Fail(f"the loader's bytes are not at 0x{addr:x} on the running source "
                           f"(reads {src[:16].hex()})")
        port = qemulib.free_port()
        dst_vm = start(cfg, guest_args(env, d_serial, dax) +
                       ["-incoming", f"tcp:127.0.0.1:{port}"])
        say(f"migrate-running {cfg.name}: live migration over tcp:127.0.0.1:{port}")
        if src_vm.qmp("query-status")["status"] != "running":
            raise Fail("source guest not running before the migration")
        info = migrate(src_vm, f"tcp:127.0.0.1:{port}", timeout)
        last = max(counters(s_serial))
        src_vm.stop()
        seen = wait_counter(dst_vm, d_serial, last, 15, "destination guest")
        st = dst_vm.qmp("query-status")["status"]
        if st != "running":
            raise Fail(f"destination status {st}")
        dst = read_mem(dst_vm, addr, os.path.join(work, f"{cfg.name}.dst.mem"))
        if dax:
            say(f"migrate-running {cfg.name}: the destination's next report, then "
                "system_reset and its boot report")
            after = wait_phase(dst_vm, d_serial, "after", 1, 20, "destination guest")
            t_reset = time.monotonic()
            dst_vm.qmp("system_reset")
            rebooted = wait_phase(dst_vm, d_serial, "boot", 1, boot_timeout,
                                  "destination guest after system_reset")
            daxes = Dax(before, after, rebooted, time.monotonic() - t_reset)
            with open(d_serial, errors="replace") as f:
                panics = [x.strip() for x in f if "Kernel panic" in x]
            if panics:
                raise Fail(f"the destination's guest panicked: {panics[0]}")
    finally:
        src_vm.stop()
        if dst_vm:
            dst_vm.stop()
    m = Measure(cfg, addr, where, src, dst, info, 0,
                f"guest counter {last} on the source, {seen} on the destination; "
                f"downtime {info.get('downtime')} ms")
    m.dax = daxes
    return m


class Dax:
    """the dax lines of the source's boot report (BEFORE), of the
    destination's first report after the migration (AFTER) and of its
    boot report after system_reset (REBOOTED)"""

    def __init__(self, before, after, rebooted, reboot_secs):
        self.before, self.after, self.rebooted = before, after, rebooted
        self.reboot_secs = reboot_secs
        want = [dax_key(x) for x in before]
        self.after_ok = [dax_key(x) for x in after] == want
        self.reboot_ok = [dax_key(x) for x in rebooted] == want
        self.ok = self.after_ok and self.reboot_ok

    @staticmethod
    def _seen(ok, lines):
        if ok:
            return "yes"
        return "no (" + ("; ".join(lines) if lines else "no dax device") + ")"

    def text(self):
        name, node = dax_key(self.before[0])[:2]
        return (f"{name} on node {node} after migration: "
                f"{self._seen(self.after_ok, self.after)}; after reboot on the "
                f"destination: {self._seen(self.reboot_ok, self.rebooted)}")

    def evidence(self):
        def show(lines):
            return "; ".join(f"@@ dax {x}" for x in lines) if lines else "no @@ dax line"
        return (f"destination after migration: {show(self.after)}; destination after "
                f"system_reset: {show(self.rebooted)} (source before: {show(self.before)})")


# -- mode "mismatch": a destination started with another setting ---------------
# (interface, case, source's options, destination's options); all paused (-S)
MISMATCH = [
    ("memmap", "spm->normal", memmap_args("spm"), memmap_args(None)),
    ("memmap", "normal->spm", memmap_args(None), memmap_args("spm")),
    ("spmem", "sp-mem->none", spmem_args(), spmem_args(None)),
    ("spmem", "addr 4G->5G", spmem_args(), spmem_args("node=1,addr=0x140000000")),
    ("spmem", "node 1->0", spmem_args(), spmem_args("node=0")),
]


def memory_map(vm):
    """what the guest would be told of its memory: the entries of fw_cfg
    etc/e820 and the memory devices (address, node)"""
    return ([e820_str([e]) for e in sorted(vm.e820())] +
            [f"{d['type']} 0x{d['data']['addr']:x} node {d['data'].get('node')}"
             for d in vm.qmp("query-memory-devices")])


def measure_mismatch(binary, name, src_args, dst_args, work, timeout):
    """migrate a -S source to a file and load it into a destination with
    other options: (cell, evidence)"""
    stream = os.path.join(work, "mismatch.stream")
    if os.path.exists(stream):
        os.unlink(stream)
    vm = qemulib.Qemu(binary, ["-S"] + src_args, accel="tcg", qtest=True, timeout=20)
    vm.start()
    try:
        src_map = memory_map(vm)
        vm.qmp("migrate", uri=f"file:{stream}")
        end = time.monotonic() + timeout
        while (info := vm.qmp("query-migrate")).get("status") not in ("completed", "failed"):
            if time.monotonic() > end:
                raise Fail(f"{name}: source migration still {info.get('status')}")
            time.sleep(0.1)
    finally:
        vm.stop()
    total = info.get("ram", {}).get("total", 0)
    ev = f"source: query-migrate {info['status']}, ram total {total} B"
    if info["status"] != "completed":
        return f"fails on the source: {info.get('error-desc')}", f"{ev}: {info.get('error-desc')}"
    vm = qemulib.Qemu(binary, ["-S", "-incoming", f"file:{stream}"] + dst_args,
                      accel="tcg", qtest=True, timeout=20)
    try:
        vm.start()
        wait_incoming(vm, timeout)
        dst_map = memory_map(vm)
        st = vm.qmp("query-status")["status"]
    except (Fail, qemulib.QemuError):
        vm.stop()
        err = error_line(vm.stderr)
        return f"fails on the destination: {err}", f"{ev}; destination exit {vm.returncode}: {err}"
    finally:
        vm.stop()
    ev += (f"; destination {st}, query-migrate completed; source [{', '.join(src_map)}]; "
           f"destination [{', '.join(dst_map)}]")
    gone = [x for x in src_map if x not in dst_map]
    new = [x for x in dst_map if x not in src_map]
    if not gone and not new:
        return f"loads; memory map unchanged (stream RAM {fmt_gib(total)})", ev
    return (f"loads silently, memory map changed: {', '.join(gone) or 'nothing'} -> "
            f"{', '.join(new) or 'nothing'} (stream RAM {fmt_gib(total)})"), ev


def run_mismatch(o, result):
    """the migrate-mismatch question: one cell per interface"""
    binaries = {"memmap": o.patched, "spmem": o.sid}
    for iface in ("memmap", "spmem"):
        if not binaries[iface]:
            result("SKIP", f"migrate-mismatch {iface}: no QEMU")
            continue
        cells, evs = [], []
        for i, name, src, dst in MISMATCH:
            if i != iface:
                continue
            print(f"  cmd  {name}: source {cmdline(binaries[i], src)}; destination "
                  f"{cmdline(binaries[i], dst)}", flush=True)
            try:
                cell, ev = measure_mismatch(binaries[i], name, src, dst, o.workdir,
                                            o.migrate_timeout)
            except Exception as e:           # noqa: BLE001 - reported as FAIL
                result("FAIL", f"migrate-mismatch {iface} {name}: could not measure: "
                       f"{type(e).__name__}: {e}")
                break
            print(f"  data {name}: {ev}", flush=True)
            result("PASS", f"measured: migrate-mismatch {iface} {name}: {cell}")
            cells.append(f"{name}: {cell}")
            evs.append(f"{name}: {ev}")
        else:
            compare_row("migrate-mismatch", iface, "; ".join(cells), " || ".join(evs),
                        "SPMEM_MIGRATE_MODE=mismatch scripts/spmem-migrate.sh")


# -- verdicts --------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sid", help="Debian sid's QEMU 11.1.3 (sp-mem, pc-dimm)")
    ap.add_argument("--patched", help="the patched QEMU 10.2.2 (memmap-type)")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--mode", choices=("paused", "running", "mismatch", "all"), default="all")
    ap.add_argument("--migrate-timeout", type=float, default=60)
    ap.add_argument("--boot-timeout", type=float, default=50)
    o = ap.parse_args()
    os.makedirs(o.workdir, exist_ok=True)
    env = {k: os.environ.get(k, "") for k in ("GUEST_SEABIOS", "GUEST_KERNEL", "GUEST_INITRD")}
    have_guest = all(env.values()) and all(os.path.isfile(v) for v in env.values())
    sbp = os.environ.get("GUEST_SEABIOS_PATCHED", "")
    env["GUEST_SEABIOS_PATCHED"] = sbp if os.path.isfile(sbp) else ""
    if have_guest and not env["GUEST_SEABIOS_PATCHED"]:
        say("no patched SeaBIOS (GUEST_SEABIOS_PATCHED): migrate-running does not check dax")
    cfgs = configs(o.sid, o.patched)
    results = Results("spmem-migrate", sep=": ")
    t_all = time.monotonic()

    def result(res, msg):
        results.record(res, msg)

    modes = ["paused", "running", "mismatch"] if o.mode == "all" else [o.mode]
    for mode in modes:
        if mode == "mismatch":
            run_mismatch(o, result)
            continue
        q = f"migrate-{mode}"
        if not o.sid:
            result("SKIP", f"{q}: sp-mem and pc-dimm: no sid QEMU")
        if not o.patched:
            result("SKIP", f"{q}: memmap: no patched QEMU")
        if mode == "running" and not have_guest:
            for c in cfgs:
                result("SKIP", f"{q} {c.name}: no guest assets (scripts/guest-assets.sh)")
            continue
        got = {}
        for c in cfgs:
            t = time.monotonic()
            print(f"  cmd  {c.name}: {cmdline(c.binary, c.args)}", flush=True)
            try:
                if mode == "paused":
                    m = measure_paused(c, o.workdir, o.migrate_timeout)
                else:
                    m = measure_running(c, o.workdir, o.migrate_timeout, o.boot_timeout, env)
            except Exception as e:           # noqa: BLE001 - reported as FAIL
                result("FAIL", f"{q} {c.name}: could not measure: {type(e).__name__}: {e}")
                continue
            secs = time.monotonic() - t
            print(f"  where {c.name}: {m.where}", flush=True)
            print(f"  data {m.evidence()}", flush=True)
            if m.dax:
                print(f"  dax  {c.name}: {m.dax.evidence()}; reboot to report "
                      f"{m.dax.reboot_secs:.1f} s", flush=True)
            got[c.name] = m
            if c.name == "sp-mem":
                if m.arrived:
                    result("PASS", f"measured: {q} sp-mem: bytes arrive ({m.figures()}; "
                           f"{secs:.1f} s): upstream has FIXED the defect; revisit "
                           "docs/upstream/sp-mem-migration-bug.md")
                else:
                    result("PASS", f"measured: {q} sp-mem: {m.bytes_text()} ({m.figures()}; "
                           f"{secs:.1f} s) (the upstream defect reproduces)"
                           + (f"; {m.dax.text()}" if m.dax else ""))
            elif m.arrived and (m.dax is None or m.dax.ok):
                result("PASS", f"{q} {c.name}: bytes arrive ({m.figures()}; {secs:.1f} s)"
                       + (f"; {m.dax.text()}" if m.dax else ""))
            else:
                result("FAIL", f"{q} {c.name}: {m.bytes_text()} ({m.figures()})"
                       + (f"; {m.dax.text()}" if m.dax else ""))
        sp, dimm, mm = got.get("sp-mem"), got.get("pc-dimm"), got.get("memmap")
        runs = "; guest runs on" if mode == "running" else ""

        def dax_cell(m):
            if mode != "running":
                return ""
            return f"; {m.dax.text()}" if m.dax else "; dax not checked"

        def dax_ev(m):
            return f"{m.dax.evidence()} || bytes: " if m.dax else ""
        if sp:
            cell = f"{sp.bytes_text()}; {sp.figures()}{runs}{dax_cell(sp)}"
            if dimm:
                cell += f" (pc-dimm control: {dimm.bytes_text()}; {dimm.figures()})"
            ev = dax_ev(sp) + sp.evidence() + (f" || control {dimm.evidence()}" if dimm else "")
            compare_row(q, "spmem", cell, ev, HOW)
        if mm:
            compare_row(q, "memmap", f"{mm.bytes_text()}; {mm.figures()}{runs}{dax_cell(mm)}",
                        dax_ev(mm) + mm.evidence(), HOW)
    print(f"spmem-migrate: total {time.monotonic() - t_all:.1f} s", flush=True)
    return results.verdict()


if __name__ == "__main__":
    sys.exit(main())
