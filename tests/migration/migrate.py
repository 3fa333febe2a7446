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
  spm-patched-to-patched  patched -> patched, node 1 memmap-type=spm above 4 GiB
  neg-spm-size          negative: destination's spm node has another size;
                        the migration must fail, and the source keep running
  neg-spm-untyped       negative: destination without memmap-type; the
                        migration stream does not carry the type, so the
                        migration completes; the check (`info numa` of
                        source and destination must match) must fail
A positive case passes when the migration completes, the destination
runs, its counter advances past the source's last value, and `info numa`
is the same on both sides.  A negative case passes when it fails the way
it is expected to.  Last line: "migrate: N passed, N failed, N skipped".
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

MACHINE = "pc-q35-10.2"          # a versioned machine type both builds know


class Fail(Exception):
    pass


def counters(path):
    if not os.path.exists(path):
        return []
    with open(path, errors="replace") as f:
        return [int(m) for m in re.findall(r"^@@ counter (\d+)\s*$", f.read(), re.M)]


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
    def __init__(self, name, binary, nodes, env, logdir, incoming=None):
        """nodes: [(MiB, type or None)], node 0 below 4 GiB"""
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
        args += ["-bios", env["GUEST_SEABIOS"], "-kernel", env["GUEST_KERNEL"],
                 "-initrd", env["GUEST_INITRD"],
                 "-append", "console=ttyS0 panic=-1 quiet memmap_demo=counter",
                 "-no-reboot", "-chardev", f"file,id=con,path={self.serial}",
                 "-serial", "chardev:con"]
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
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            c = counters(self.serial)
            if c and c[-1] > above:
                return c
            if not self.alive():
                raise Fail(f"{self.name} exited: {self.stop()}")
            time.sleep(0.2)
        raise Fail(f"{self.name}: no counter above {above} within {timeout} s "
                   f"(seen: {counters(self.serial)[-3:]})")

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


def positive(run, src, dst, timeout):
    """migrate src -> dst (not started yet), check the guest runs on dst"""
    port = qemulib.free_port()
    dst.vm.args += ["-incoming", f"tcp:127.0.0.1:{port}"]
    dst.start(run)
    numa_src = src.info_numa()
    before = counters(src.serial)[-1]
    status, err, secs = migrate(run, src, f"tcp:127.0.0.1:{port}", timeout)
    if status != "completed":
        raise Fail(f"migration {status}: {err}")
    last_src = max(counters(src.serial))
    seen = dst.wait_counter(last_src + 1, 15)
    st = dst.status()
    numa_dst = dst.info_numa()
    run.say(f"source counter {before} before, {last_src} at the end; destination "
            f"counters {seen[:1]}..{seen[-1:]}; destination status {st}")
    run.say("info numa (source):\n" + numa_src)
    run.say("info numa (destination):\n" + numa_dst)
    if st != "running":
        raise Fail(f"destination status {st}")
    run.say(f"destination serial (last lines):\n" +
            "".join(open(dst.serial, errors="replace").readlines()[-4:]))
    if numa_src != numa_dst:
        a, b = numa_src.splitlines(), numa_dst.splitlines()
        diff = [f"source only: {l!r}" for l in a if l not in b] + \
               [f"destination only: {l!r}" for l in b if l not in a]
        raise Fail("info numa differs between source and destination (" +
                   "; ".join(diff) + ")")
    return f"migrated in {secs:.2f} s; counter {last_src} on the source -> {seen[-1]} on the destination"


def case(results, name, logdir, fn, skip=None):
    run = Run(name, logdir)
    t = time.monotonic()
    if skip:
        run.say(f"SKIP: {skip}")
        results.append(("SKIP", name, skip, 0))
        print(f"  SKIP  {name}: {skip}", flush=True)
        return False
    try:
        msg = fn(run)
        res = "PASS"
    except Exception as e:               # noqa: BLE001 - reported, never hidden
        msg = f"{type(e).__name__}: {e}"
        res = "FAIL"
    secs = time.monotonic() - t
    run.say(f"{res}: {msg}")
    results.append((res, name, msg, secs))
    print(f"  {res}  {name} ({secs:.1f} s): {msg}  [log {run.log.name}]", flush=True)
    return res == "PASS"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patched", required=True)
    ap.add_argument("--base")
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--boot-timeout", type=float, default=40)
    ap.add_argument("--migrate-timeout", type=float, default=30)
    o = ap.parse_args()
    env = {k: os.environ[k] for k in ("GUEST_SEABIOS", "GUEST_KERNEL", "GUEST_INITRD")}
    L = o.logdir
    plain = [(512, None), (256, None)]           # node 1 at 4 GiB, no memmap-type
    spm = [(512, None), (256, "spm")]
    results = []
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
        def spm_p2p(run):
            a = mk("spm-1", o.patched, spm)
            boot(run, a, o.boot_timeout)
            b = mk("spm-2", o.patched, spm)
            r = positive(run, a, b, o.migrate_timeout)
            a.stop()
            state["s"] = b
            return r

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
            last = max(counters(src.serial))
            src.wait_counter(last + 1, 10)
            st = src.status()
            if st != "running":
                raise Fail(f"source status {st} after the failed migration")
            why = dst_exit.split(": ", 1)[-1].splitlines()
            why = next((l for l in why if "mismatch" in l.lower()), why[0] if why else "")
            return (f"failed as expected in {secs:.2f} s (source: {err!r}; destination: "
                    f"{why!r}); source still running, counter past {last}")

        def neg_untyped(run):
            src = state["s"]
            dst = mk("neg-untyped", o.patched, plain)
            try:
                r = positive(run, src, dst, o.migrate_timeout)
            except Fail as e:
                run.say(f"check failed as expected: {e}")
                src.stop()
                dst.stop()
                msg = str(e)
                if "info numa differs" not in msg:
                    raise Fail(f"failed, but not on the memmap-type check: {msg}")
                return ("migration completed (the stream does not carry memmap-type); the "
                        "check failed as expected: " + msg)
            raise Fail(f"expected the check to fail, but: {r}")

        ok = case(results, "spm-patched-to-patched", L, spm_p2p)
        dep = None if ok else "spm-patched-to-patched failed"
        case(results, "neg-spm-size", L, neg_size, skip=dep)
        case(results, "neg-spm-untyped", L, neg_untyped, skip=dep)
    finally:
        for v in vms:
            try:
                v.stop()
            except Exception:            # noqa: BLE001
                pass
    p = sum(r[0] == "PASS" for r in results)
    f = sum(r[0] == "FAIL" for r in results)
    s = sum(r[0] == "SKIP" for r in results)
    print(f"migrate: total {time.monotonic() - t_all:.1f} s")
    print(f"migrate: {p} passed, {f} failed, {s} skipped")
    return 1 if f else 0


if __name__ == "__main__":
    sys.exit(main())
