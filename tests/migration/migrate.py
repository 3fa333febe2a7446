#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Live migration of a running guest between QEMU builds (scripts/migrate.sh).

The guest: TCG, SeaBIOS, -kernel/-initrd (tests/guest/init with
memmap_demo=counter: it prints "@@ counter N" once a second).  Every VM's
serial console goes to its own file; the counter read from the
destination's file proves the guest runs there.  Migration is over TCP on
127.0.0.1 (the destination listens with -incoming tcp:127.0.0.1:PORT).

Cases (one log each, .cache/logs/migrate-CASE.log):
  base-to-patched       unpatched -> patched, NUMA without memmap-type
  patched-to-base       and back (the guest migrated above)
  spm-patched-to-patched  patched -> patched, node 1 memmap-type=spm above
                        4 GiB, booted with the patched SeaBIOS and the
                        migrate mode of tests/guest/init (its report, then
                        a counter, the report again every 5 s)
  neg-spm-size          negative: destination's spm node has another size;
                        the migration must fail, and the source keep running
  spm-to-untyped        destination without memmap-type: QEMU does not
                        check it (the type is configuration, like every
                        -numa option, and the documentation says the
                        destination must be started with the same
                        settings); the case asserts what then happens
A positive case passes when the migration completes, the destination
runs, its counter advances past the source's last value, and `info numa`
is the same on both sides.  For the spm node, the guest's view is checked
on the source (its boot report), on the destination after the migration
(its next report: the dax device, and fw_cfg etc/e820 as the guest reads
it from the destination's QEMU) and after system_reset on the destination
(firmware and kernel read the destination's e820 again): node 1 is one
soft reserved e820 entry at 4 GiB, of its size, and one dax device on
node 1 there.  spm-to-untyped passes when the migration completes, the
running guest keeps its dax device, the destination's etc/e820 has node
1 as RAM, and after system_reset the guest has no dax device and node 1
as usable RAM; anything else (a refused migration, a guest that loses
the device while running) FAILs, so that the documented behaviour is
revisited.  Last line: "migrate: N passed, N failed, N skipped".
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
from guest_console import (GuestError, counters, dax_key, fwcfg_e820,  # noqa: E402
                           wait_counter, wait_report)
from results import Results  # noqa: E402

MACHINE = "pc-q35-10.2"          # a versioned machine type both builds know


Fail = GuestError
GiB, MiB = 1 << 30, 1 << 20
SOFT_RESERVED = 0xEFFFFFFF
E820_RE = re.compile(r"\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.+)")


class Run:
    """one case: its log, and the VMs it started"""

    def __init__(self, name, logdir):
        self.name = name
        self.logdir = logdir
        self.log = open(os.path.join(logdir, f"migrate-{name}.log"), "w")
        self.t0 = time.monotonic()

    def say(self, msg):
        self.log.write(f"[{time.monotonic() - self.t0:6.2f}] {msg}\n")
        self.log.flush()


class VM:
    def __init__(self, name, binary, nodes, env, logdir, incoming=None, dax=False):
        """nodes: [(MiB, type or None)], node 0 below 4 GiB; DAX: the
        patched SeaBIOS (it passes soft reserved entries on), the migrate
        mode of tests/guest/init and reboots allowed (system_reset); else
        stock SeaBIOS, the counter mode and -no-reboot"""
        self.name, self.binary = name, binary
        self.serial = os.path.join(logdir, "migrate", f"{name}.serial")
        os.makedirs(os.path.dirname(self.serial), exist_ok=True)
        if os.path.exists(self.serial):
            os.unlink(self.serial)
        low = nodes[0][0]
        total = sum(n for n, _ in nodes)
        args = ["-machine", f"{MACHINE},max-ram-below-4g={low}M", "-cpu", "qemu64",
                "-smp", "1", "-m", f"{total}M"]
        for i, (mib, _) in enumerate(nodes):
            args += ["-object", f"memory-backend-ram,id=m{i},size={mib}M"]
        for i, (_, t) in enumerate(nodes):
            opt = f"node,nodeid={i},memdev=m{i}" + (",cpus=0" if i == 0 else "")
            if t:
                opt += f",memmap-type={t}"
            args += ["-numa", opt]
        bios = env["GUEST_SEABIOS_PATCHED"] if dax else env["GUEST_SEABIOS"]
        args += ["-bios", bios, "-kernel", env["GUEST_KERNEL"],
                 "-initrd", env["GUEST_INITRD"],
                 "-append", "console=ttyS0 panic=-1 quiet memmap_demo="
                 + ("migrate" if dax else "counter")]
        args += [] if dax else ["-no-reboot"]
        args += ["-chardev", f"file,id=con,path={self.serial}", "-serial", "chardev:con"]
        if incoming:
            args += ["-incoming", incoming]
        self.vm = qemulib.Qemu(binary, args, accel="tcg", timeout=20)
        self.started = False

    def start(self, run):
        self.vm.start()
        self.started = True
        run.say(f"{self.name}: started: {' '.join(self.vm.cmd)}")

    def alive(self):
        return self.started and self.vm.proc is not None and self.vm.proc.poll() is None

    def status(self):
        return self.vm.qmp("query-status")["status"]

    def info_numa(self):
        return self.vm.hmp("info numa")

    def wait_counter(self, above, timeout):
        """wait for a counter value > above; returns the values seen"""
        wait_counter(self.vm, self.serial, above, timeout, self.name)
        return counters(self.serial)

    def report(self, name, count, timeout):
        return wait_report(self.vm, self.serial, name, count, timeout,
                           f"{self.name}'s guest")

    def stop(self):
        if self.started:
            self.vm.stop()
            self.started = False
            return f"exit {self.vm.returncode}: {self.vm.stderr.strip()}"
        return ""


def migrate(run, src, dst_uri, timeout):
    """returns (status, error-desc, seconds)"""
    src.vm.qmp("migrate-set-parameters", **{"max-bandwidth": 1 << 30})
    t = time.monotonic()
    src.vm.qmp("migrate", uri=dst_uri)
    info = {}
    while time.monotonic() - t < timeout:
        info = src.vm.qmp("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    else:
        src.vm.qmp("migrate_cancel")
        raise Fail(f"migration not done after {timeout} s: {info}")
    secs = time.monotonic() - t
    run.say(f"migrate {src.name} -> {dst_uri}: {info.get('status')} in {secs:.2f} s; "
            f"total-time {info.get('total-time')} ms, downtime {info.get('downtime')} ms, "
            f"ram transferred {info.get('ram', {}).get('transferred')} B, "
            f"error {info.get('error-desc')!r}")
    return info.get("status"), info.get("error-desc"), secs


def boot(run, vm, timeout):
    vm.start(run)
    c = vm.wait_counter(0, timeout)          # counter 1 printed: /init's loop runs
    run.say(f"{vm.name}: guest counter running ({c[-1]}) after "
            f"{time.monotonic() - run.t0:.1f} s")


def migrate_to(run, src, dst, timeout):
    """migrate src -> dst (not started yet); the guest must run on dst.
    Returns (text, info numa of src, info numa of dst)."""
    port = qemulib.free_port()
    dst.vm.args += ["-incoming", f"tcp:127.0.0.1:{port}"]
    dst.start(run)
    numa_src = src.info_numa()
    before = counters(src.serial)[-1]
    status, err, secs = migrate(run, src, f"tcp:127.0.0.1:{port}", timeout)
    if status != "completed":
        raise Fail(f"migration {status}: {err}")
    last_src = counters(src.serial)[-1]
    seen = dst.wait_counter(last_src + 1, 15)
    st = dst.status()
    numa_dst = dst.info_numa()
    run.say(f"source counter {before} before, {last_src} at the end; destination "
            f"counters {seen[:1]}..{seen[-1:]}; destination status {st}")
    run.say("info numa (source):\n" + numa_src)
    run.say("info numa (destination):\n" + numa_dst)
    if st != "running":
        raise Fail(f"destination status {st}")
    run.say("destination serial (last lines):\n" +
            "".join(open(dst.serial, errors="replace").readlines()[-4:]))
    return (f"migrated in {secs:.2f} s; counter {last_src} on the source -> "
            f"{seen[-1]} on the destination"), numa_src, numa_dst


def numa_diff(a, b):
    a, b = a.splitlines(), b.splitlines()
    return "; ".join([f"source only: {x!r}" for x in a if x not in b] +
                     [f"destination only: {x!r}" for x in b if x not in a])


def positive(run, src, dst, timeout):
    """migrate_to, and `info numa` must be the same on both sides"""
    text, numa_src, numa_dst = migrate_to(run, src, dst, timeout)
    if numa_src != numa_dst:
        raise Fail("info numa differs between source and destination ("
                   + numa_diff(numa_src, numa_dst) + ")")
    return text


def view(rep, node, base, size):
    """what one guest report says of the node at BASE: its e820 entries
    (from the kernel's boot log), its entries in fw_cfg etc/e820 (read by
    the guest from its QEMU now), its dax devices, its MemTotal"""
    e820 = []
    for line in rep.get("e820", []):
        m = E820_RE.match(line)
        if m and int(m.group(1), 16) < base + size and int(m.group(2), 16) >= base:
            e820.append((int(m.group(1), 16), int(m.group(2), 16) + 1 - int(m.group(1), 16),
                         m.group(3).strip()))
    fw = [e for e in fwcfg_e820((rep.get("fwcfg-e820") or [""])[0])
          if e[0] < base + size and e[0] + e[1] > base]
    dax = [dax_key(x) for x in rep.get("dax", [])]
    mem = {x.split()[0]: int(x.split()[1]) for x in rep.get("node", []) if len(x.split()) == 2}
    return {"e820": e820, "fwcfg": fw, "dax": dax, "memtotal_kb": mem.get(str(node))}


def show_view(v):
    return (f"e820 {[(hex(a), hex(n), t) for a, n, t in v['e820']]}, "
            f"fw_cfg {[(hex(a), hex(n), hex(t)) for a, n, t in v['fwcfg']]}, "
            f"dax {v['dax']}, MemTotal {v['memtotal_kb']} kB")


def want_spm(v, node, base, size, when):
    """the node is soft reserved, one dax device on NODE, at BASE"""
    bad = []
    if v["e820"] != [(base, size, "soft reserved")]:
        bad.append("e820 is not one soft reserved entry of the node")
    if v["fwcfg"] and v["fwcfg"] != [(base, size, SOFT_RESERVED)]:
        bad.append("fw_cfg etc/e820 has not the node as one soft reserved entry")
    if not v["fwcfg"]:
        bad.append("no fw_cfg etc/e820 read by the guest")
    if [d[1:] for d in v["dax"]] != [(str(node), base, str(size))]:
        bad.append(f"not one dax device on node {node} at {base:#x}")
    if bad:
        raise Fail(f"{when}: " + "; ".join(bad) + ": " + show_view(v))
    return f"{v['dax'][0][0]} on node {node} at {base:#x}, e820 soft reserved"


def case(results, name, logdir, fn, skip=None):
    """run one case FN, recorded in RESULTS (a results.Results)"""
    run = Run(name, logdir)
    t = time.monotonic()
    if skip:
        run.say(f"SKIP: {skip}")
        results.skipped(f"{name}: {skip}")
        return False
    try:
        msg = fn(run)
        res = "PASS"
    except Exception as e:               # noqa: BLE001 - reported, never hidden
        msg = f"{type(e).__name__}: {e}"
        res = "FAIL"
    secs = time.monotonic() - t
    run.say(f"{res}: {msg}")
    results.record(res, f"{name} ({secs:.1f} s): {msg}  [log {run.log.name}]")
    return res == "PASS"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patched", required=True)
    ap.add_argument("--base")
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--boot-timeout", type=float, default=40)
    ap.add_argument("--migrate-timeout", type=float, default=30)
    o = ap.parse_args()
    env = {k: os.environ[k] for k in ("GUEST_SEABIOS", "GUEST_SEABIOS_PATCHED",
                                      "GUEST_KERNEL", "GUEST_INITRD")}
    L = o.logdir
    plain = [(512, None), (256, None)]           # node 1 at 4 GiB, no memmap-type
    spm = [(512, None), (256, "spm")]
    results = Results("migrate", indent="  ", sep="  ")
    vms = []

    def mk(*a, **k):
        v = VM(*a, env=env, logdir=L, **k)
        vms.append(v)
        return v

    t_all = time.monotonic()
    try:
        # --- unpatched <-> patched, no memmap-type -----------------------
        state = {}

        def base_to_patched(run):
            a = mk("base-1", o.base, plain)
            boot(run, a, o.boot_timeout)
            b = mk("patched-1", o.patched, plain)
            r = positive(run, a, b, o.migrate_timeout)
            a.stop()
            state["p"] = b
            return r

        def patched_to_base(run):
            b = state["p"]
            c = mk("base-2", o.base, plain)
            r = positive(run, b, c, o.migrate_timeout)
            b.stop()
            c.stop()
            return r

        no_base = None if o.base else "no unpatched QEMU binary"
        ok = case(results, "base-to-patched", L, base_to_patched, skip=no_base)
        case(results, "patched-to-base", L, patched_to_base,
             skip=no_base or (None if ok else "base-to-patched failed"))

        # --- patched <-> patched with memmap-type=spm ---------------------
        # node 1: 256 MiB of spm at 4 GiB (max-ram-below-4g is node 0's size)
        base1, size1 = 4 * GiB, spm[1][0] * MiB

        def spm_p2p(run):
            a = mk("spm-1", o.patched, spm, dax=True)
            a.start(run)
            v = view(a.report("boot", 1, o.boot_timeout), 1, base1, size1)
            run.say("source guest at boot: " + show_view(v))
            seen = want_spm(v, 1, base1, size1, "source guest at boot")
            b = mk("spm-2", o.patched, spm, dax=True)
            r = positive(run, a, b, o.migrate_timeout)
            a.stop()
            v = view(b.report("after", 1, 20), 1, base1, size1)
            run.say("destination guest after the migration: " + show_view(v))
            want_spm(v, 1, base1, size1, "destination guest after the migration")
            b.vm.qmp("system_reset")
            v = view(b.report("boot", 1, o.boot_timeout), 1, base1, size1)
            run.say("destination guest after system_reset: " + show_view(v))
            want_spm(v, 1, base1, size1, "destination guest after system_reset")
            state["s"] = b
            return (f"{r}; the guest's {seen} before, after the migration and "
                    f"after system_reset on the destination")

        def neg_size(run):
            src = state["s"]
            dst = mk("neg-size", o.patched, [(512, None), (128, "spm")])
            port = qemulib.free_port()
            dst.vm.args += ["-incoming", f"tcp:127.0.0.1:{port}"]
            dst.start(run)
            status, err, secs = migrate(run, src, f"tcp:127.0.0.1:{port}", o.migrate_timeout)
            time.sleep(0.5)
            dst_exit = dst.stop()
            run.say(f"destination: {dst_exit}")
            if status == "completed":
                raise Fail("migration to a destination whose spm node is 128 MiB instead of "
                           "256 MiB completed: it should have failed")
            # the source must go on running
            last = counters(src.serial)[-1]
            src.wait_counter(last + 1, 10)
            st = src.status()
            if st != "running":
                raise Fail(f"source status {st} after the failed migration")
            why = dst_exit.split(": ", 1)[-1].splitlines()
            why = next((l for l in why if "mismatch" in l.lower()), why[0] if why else "")
            return (f"failed as expected in {secs:.2f} s (source: {err!r}; destination: "
                    f"{why!r}); source still running, counter past {last}")

        def spm_to_untyped(run):
            # what a destination started without memmap-type does: QEMU
            # takes the migration (the type is not in the stream); the
            # running guest keeps the view it booted with, and sees the
            # destination's only when it reboots
            src = state["s"]
            dst = mk("untyped", o.patched, plain, dax=True)
            text, numa_src, numa_dst = migrate_to(run, src, dst, o.migrate_timeout)
            src.stop()
            differ = numa_diff(numa_src, numa_dst)
            if not differ:
                raise Fail("info numa is the same on both sides: the destination was "
                           "meant to lack memmap-type")
            v = view(dst.report("after", 1, 20), 1, base1, size1)
            run.say("destination guest after the migration: " + show_view(v))
            if [d[1:] for d in v["dax"]] != [("1", base1, str(size1))]:
                raise Fail("the running guest lost its dax device in the migration: "
                           + show_view(v))
            if v["fwcfg"] != [(base1, size1, 1)]:
                raise Fail("the destination's etc/e820 does not have node 1 as RAM: "
                           + show_view(v))
            dst.vm.qmp("system_reset")
            v = view(dst.report("boot", 1, o.boot_timeout), 1, base1, size1)
            run.say("destination guest after system_reset: " + show_view(v))
            if v["dax"] or v["e820"] != [(base1, size1, "usable")] or not v["memtotal_kb"]:
                raise Fail("after system_reset the guest does not have node 1 as usable "
                           "RAM without a dax device: " + show_view(v))
            return (f"{text}; QEMU accepts a destination without memmap-type ({differ}); "
                    f"the running guest keeps its dax device, the destination's "
                    f"etc/e820 has node 1 as RAM, and after system_reset node 1 is "
                    f"usable RAM ({v['memtotal_kb']} kB), no dax device")

        ok = case(results, "spm-patched-to-patched", L, spm_p2p)
        dep = None if ok else "spm-patched-to-patched failed"
        case(results, "neg-spm-size", L, neg_size, skip=dep)
        case(results, "spm-to-untyped", L, spm_to_untyped, skip=dep)
    finally:
        for v in vms:
            try:
                v.stop()
            except Exception:            # noqa: BLE001
                pass
    print(f"migrate: total {time.monotonic() - t_all:.1f} s")
    return results.verdict()


if __name__ == "__main__":
    sys.exit(main())
