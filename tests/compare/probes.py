#!/usr/bin/env python3
# The COMPARISON.md cells that need no guest (command line, QMP view, host cost), memmap vs sp-mem.
# Called by scripts/compare-probes.sh, which scripts/compare.sh (make compare) calls.
"""Each probe starts QEMU with -S and no boot device, talks QMP (and the
qtest protocol where it reads fw_cfg files: etc/e820, etc/acpi/tables,
etc/reserved-memory-end), records one or more cells with compare_row
and prints one PASS or FAIL line: PASS when the measurement was made
(whatever QEMU answered), FAIL when it could not be (QEMU did not start
where it must, a timeout, an unparsable reply).  Last line:
"compare-probes: N passed, N failed, N skipped".

  probes.py --memmap QEMU|--skip-memmap WHY --spmem QEMU|--skip-spmem WHY
            [--reps 5] [--timeout 20] [--only q1,q2]
"""

import argparse
import json
import os
import re
import resource
import select
import shlex
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from compare_rows import compare_row  # noqa: E402
from results import Results  # noqa: E402

GiB, MiB = 1 << 30, 1 << 20
SOFT_RESERVED, RESERVED, RAM = 0xEFFFFFFF, 2, 1
HT_HOLE = 0xFD00000000          # AMD HyperTransport reserved range (qemu64 CPU)
E820_NAMES = {RAM: "RAM", RESERVED: "reserved", SOFT_RESERVED: "soft-reserved"}
HOW = "scripts/compare-probes.sh"

RAM_M0 = "memory-backend-ram,id=m0,size=2G"
# the two interfaces' standard command lines (the brief's), option by option
STD = {
    "memmap": [("-machine", "q35,max-ram-below-4g=2G"), ("-m", "3G"),
               ("-object", RAM_M0),
               ("-object", "memory-backend-ram,id=m1,size=1G"),
               ("-numa", "node,nodeid=0,memdev=m0,cpus=0"),
               ("-numa", "node,nodeid=1,memdev=m1,memmap-type=spm")],
    "spmem": [("-machine", "q35"), ("-m", "2G,maxmem=3G"),
              ("-object", RAM_M0),
              ("-object", "memory-backend-ram,id=sp0,size=1G"),
              ("-numa", "node,nodeid=0,memdev=m0,cpus=0"),
              ("-numa", "node,nodeid=1"),
              ("-device", "sp-mem,id=spm0,memdev=sp0,node=1")],
}
# the same machine without the spm range, identical for both binaries
NO_RANGE = [("-machine", "q35"), ("-m", "2G"), ("-object", RAM_M0),
            ("-numa", "node,nodeid=0,memdev=m0,cpus=0")]


def record(q, iface, cell, ev, cmd):
    """compare_row with this script as the reproduce command; @cmd, the
    QEMU command line the cell rests on, is part of the evidence"""
    compare_row(q, iface, cell, f"{ev} | command: {cmd}", f"{HOW} --only {q}")


def flat(opts):
    return [x for o in opts for x in o]


def short(opts):
    return " ".join(f"{o} {shlex.quote(v)}" for o, v in opts)


def replace(opts, old, new):
    """opts with the option whose value is @old replaced by @new (None:
    removed); fails loudly when @old is not there"""
    out, hit = [], False
    for o, v in opts:
        if v == old:
            hit = True
            if new is not None:
                out.append((o, new))
        else:
            out.append((o, v))
    assert hit, old
    return out


# -- one QEMU process ---------------------------------------------------------

class Probe(Exception):
    """the measurement could not be made"""


class Died(Exception):
    """QEMU went away while we talked to it"""


class Vm:
    """QEMU under -S with a QMP socket (and a qtest socket under the qtest
    accelerator), both as clients of our listening sockets.  start()
    returns False when QEMU exits before QMP is up (rc, err then hold
    its exit status and stderr)."""

    def __init__(self, binary, opts, accel="qtest", timeout=20):
        self.binary, self.opts, self.accel, self.timeout = binary, opts, accel, timeout
        self.proc = None
        self.rc, self.err = None, ""
        self.t_greeting = self.t_ready = None

    def cmdline(self):
        return [self.binary, "-accel", self.accel, "-S", "-display", "none",
                "-nodefaults"] + flat(self.opts)

    def _accept(self, lsock, deadline):
        while True:
            if self.proc.poll() is not None:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise Probe(f"QEMU did not connect within {self.timeout} s")
            r, _, _ = select.select([lsock], [], [], min(left, 0.02))
            if r:
                s, _ = lsock.accept()
                s.settimeout(self.timeout)
                return s

    def start(self):
        self.dir = tempfile.TemporaryDirectory(prefix="compare-probes-")
        socks = {}
        for name in ("qmp", "qtest") if self.accel == "qtest" else ("qmp",):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(os.path.join(self.dir.name, name))
            s.listen(1)
            socks[name] = s
        extra = ["-qmp", f"unix:{self.dir.name}/qmp"]
        if self.accel == "qtest":
            extra += ["-qtest", f"unix:{self.dir.name}/qtest", "-qtest-log", "/dev/null"]
        self.errf = tempfile.TemporaryFile()
        deadline = time.monotonic() + self.timeout
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmdline() + extra, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.errf)
        try:
            if self.accel == "qtest":
                self.qt = self._accept(socks["qtest"], deadline)
                if self.qt is None:
                    return self._gone()
                self.qtr = self.qt.makefile("rb")
            self.qm = self._accept(socks["qmp"], deadline)
            if self.qm is None:
                return self._gone()
            self.qmr = self.qm.makefile("rb")
            greeting = self._read()
            self.t_greeting = time.perf_counter() - self.t0
            if "QMP" not in greeting:
                raise Probe(f"no QMP greeting: {greeting}")
            self.qmp("qmp_capabilities")
            if "status" not in self.qmp("query-status"):
                raise Probe("query-status: no status")
            self.t_ready = time.perf_counter() - self.t0
        except Died:
            return self._gone()
        except (OSError, ValueError) as e:
            self.kill()
            raise Probe(f"QMP: {e}")
        except BaseException:
            self.kill()
            raise
        finally:
            for s in socks.values():
                s.close()
        return True

    def _gone(self):
        try:
            self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Probe("QEMU closed its socket but did not exit")
        self._collect()
        return False

    def _collect(self):
        if self.errf.closed:
            return
        self.rc = self.proc.returncode
        self.errf.seek(0)
        self.err = self.errf.read().decode(errors="replace")
        self.errf.close()
        self.dir.cleanup()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self._collect()

    def _read(self):
        while True:
            try:
                line = self.qmr.readline()
            except ConnectionResetError:
                line = b""
            except socket.timeout:
                raise Probe(f"no QMP reply within {self.timeout} s")
            if not line:
                raise Died()
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def qmp_raw(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        try:
            self.qm.sendall(json.dumps(msg).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            raise Died()
        return self._read()

    def qmp(self, cmd, **args):
        r = self.qmp_raw(cmd, **args)
        if "return" not in r:
            raise Probe(f"{cmd}: {json.dumps(r)}")
        return r["return"]

    def hmp(self, line):
        return self.qmp("human-monitor-command", **{"command-line": line})

    def quit(self):
        """quit QEMU; its exit status (0 expected)"""
        try:
            self.qmp_raw("quit")
        except (Died, Probe):
            pass
        try:
            self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Probe("QEMU did not exit after quit")
        self._collect()
        return self.rc

    def after_death(self):
        """QEMU died while we talked to it: wait for it, collect stderr"""
        try:
            self.proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Probe("QEMU closed QMP but did not exit")
        self._collect()

    # -- qtest: fw_cfg through its I/O ports ---------------------------------
    def _qt(self, line):
        self.qt.sendall(line.encode() + b"\n")
        while True:
            r = self.qtr.readline().decode().split()
            if not r:
                raise Probe(f"qtest {line!r}: connection closed")
            if r[0] == "IRQ":
                continue
            if r[0] != "OK":
                raise Probe(f"qtest {line!r}: {' '.join(r)}")
            return r[1:]

    def _fw_cfg(self, key, n):
        self._qt(f"outw 0x510 0x{key:x}")
        return self._fw_cfg_more(n)

    def _fw_cfg_more(self, n):
        """the next @n bytes of the selected fw_cfg item"""
        return bytes(int(self._qt("inb 0x511")[0], 16) for _ in range(n))

    def _fw_cfg_find(self, want):
        """(key, size) of fw_cfg file @want, None when there is none"""
        count = struct.unpack(">I", self._fw_cfg(0x19, 4))[0]
        raw = self._fw_cfg(0x19, 4 + 64 * count)[4:]
        for i in range(count):
            size, key, _, name = struct.unpack(">IHH56s", raw[64 * i:64 * i + 64])
            if name.split(b"\0")[0] == want.encode():
                return key, size
        return None

    def fw_cfg_file(self, want):
        """the contents of fw_cfg file @want, None when there is none"""
        f = self._fw_cfg_find(want)
        return self._fw_cfg(*f) if f else None

    def acpi_table(self, sig):
        """ACPI table @sig from etc/acpi/tables (tables back to back), read
        only up to its end (the blob is padded to 128 KiB); None if absent"""
        f = self._fw_cfg_find("etc/acpi/tables")
        if not f:
            raise Probe("no etc/acpi/tables in fw_cfg")
        self._qt(f"outw 0x510 0x{f[0]:x}")
        pos = 0
        while pos + 8 <= f[1]:
            head = self._fw_cfg_more(8)
            ln = struct.unpack_from("<I", head, 4)[0]
            if ln < 8 or pos + ln > f[1]:
                return None
            body = self._fw_cfg_more(ln - 8)
            if head[:4] == sig.encode():
                return head + body
            pos += ln
        return None

    def e820(self):
        """[(address, length, type)] from fw_cfg etc/e820"""
        blob = self.fw_cfg_file("etc/e820")
        if blob is None:
            raise Probe("no etc/e820 in fw_cfg")
        return [struct.unpack("<QQI", blob[j:j + 20]) for j in range(0, len(blob), 20)]

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Probe("no VmRSS")


# -- formatting ---------------------------------------------------------------

def size_str(n):
    for unit, name in ((GiB, "G"), (MiB, "M")):
        if n % unit == 0:
            return f"{n // unit}{name}"
    return hex(n)


def e820_str(table):
    return ", ".join(f"0x{a:x}+{size_str(n)} {E820_NAMES.get(t, hex(t))}"
                     for a, n, t in sorted(table))


def error_line(err):
    """QEMU's first error line, verbatim (warnings skipped)"""
    lines = [ln.strip() for ln in err.splitlines() if re.search(r"\w", ln)]
    for ln in lines:
        if "warning:" not in ln:
            return ln
    return lines[0] if lines else ""


def message(line):
    """the error text without the program and option prefixes"""
    m = re.sub(r"^(qemu-system-x86_64:\s*)?", "", line)
    m = re.sub(r"^-\w[\w-]* \S*?: ", "", m)
    return m


def clip(text, words=12):
    w = text.split()
    return " ".join(w[:words]) + (" ..." if len(w) > words else "")


def exit_str(rc):
    return f"signal {-rc} ({signal.Signals(-rc).name})" if rc < 0 else f"exit {rc}"


# -- the probes ---------------------------------------------------------------

class Runner:
    def __init__(self, o):
        self.o = o
        self.bins = {"memmap": o.memmap, "spmem": o.spmem}
        self.skip = {"memmap": o.skip_memmap, "spmem": o.skip_spmem}
        self.names = {}
        for iface, b in self.bins.items():
            if b:
                v = subprocess.run([b, "-version"], capture_output=True, text=True,
                                   timeout=o.timeout).stdout
                m = re.search(r"version (\S+)", v)
                if not m:
                    raise SystemExit(f"{b} -version: {v!r}")
                self.names[iface] = f"QEMU {m.group(1)}" + (
                    " + series" if iface == "memmap" else " (Debian sid)")
        self.results = Results("compare-probes", sep=": ")

    def verdict(self, ok, text):
        self.results.record("PASS" if ok else "FAIL", text)

    def how(self, iface, opts, accel="qtest"):
        """the QEMU command line a cell rests on (it goes into the evidence)"""
        return f"{self.names.get(iface, iface)}: qemu-system-x86_64 -accel {accel} -S " \
               f"-display none -nodefaults {short(opts)}"

    def vm(self, iface, opts, accel="qtest"):
        return Vm(self.bins[iface], opts, accel, self.o.timeout)

    def attempt(self, iface, opts, inspect=None):
        """start @opts; {"started", "rc", "err", "e820", "extra"}: @inspect(vm)
        runs while it is up; its value is "extra" """
        vm = self.vm(iface, opts)
        r = {"started": vm.start(), "opts": opts}
        if r["started"]:
            try:
                r["e820"] = vm.e820()
                r["extra"] = inspect(vm) if inspect else None
            except Died:
                vm.after_death()
                raise Probe(f"QEMU died while being inspected: {exit_str(vm.rc)}: "
                            f"{error_line(vm.err)}")
            except BaseException:
                vm.kill()
                raise
            rc = vm.quit()
            if rc != 0:
                raise Probe(f"QEMU started but quit with {exit_str(rc)}: {error_line(vm.err)}")
        r["rc"], r["err"] = vm.rc, vm.err
        return r

    # what the spm range looks like to each interface while QEMU runs
    @staticmethod
    def memdevs(vm):
        return vm.qmp("query-memory-devices")

    @staticmethod
    def numa_text(vm):
        return vm.hmp("info numa")

    @staticmethod
    def ram_blocks(vm):
        """the memory backends inside the boot RAM region pc.ram (info mtree)"""
        text = vm.hmp("info mtree").replace("\r", "")
        m = re.search(r"^memory-region: pc\.ram\n((?:\s+.*\n?)*)", text, re.M)
        if not m:
            raise Probe("info mtree has no pc.ram region")
        return re.findall(r"\(prio \d+, ram\): (\S+)", m.group(1))

    def outcome(self, iface, r):
        """short cell text and evidence for one attempt"""
        if not r["started"]:
            line = error_line(r["err"])
            if not line:
                raise Probe(f"QEMU exited ({exit_str(r['rc'])}) without a message")
            verb = "refused" if r["rc"] > 0 else "crashed"
            rest = [ln.strip() for ln in r["err"].splitlines()
                    if ln.strip() and ln.strip() != line]
            return (f"{verb}: {clip(message(line))}",
                    f"{exit_str(r['rc'])}: {line}" + "".join(f" | {x}" for x in rest))
        sr = [e for e in r["e820"] if e[2] == SOFT_RESERVED]
        rs = [e for e in r["e820"] if e[2] == RESERVED and e[0] != HT_HOLE]
        where = []
        if iface == "spmem" and r.get("extra") is not None:
            for d in r["extra"]:
                if d["type"] == "sp-mem":
                    where.append(f"sp-mem at 0x{d['data']['addr']:x}+"
                                 f"{size_str(d['data']['size'])} node {d['data']['node']}")
        if not where:
            where = [f"0x{a:x}+{size_str(n)} {E820_NAMES[t]}" for a, n, t in sr + rs]
            if iface == "memmap" and isinstance(r.get("extra"), str):
                typed = re.findall(r"node (\d+) memmap-type: (\w+)", r["extra"])
                if typed:
                    where.append("info numa: " + ", ".join(f"node {n} {t}" for n, t in typed))
        cell = "starts; " + ("; ".join(where) if where else "no typed range")
        ev = "QMP up; etc/e820: " + e820_str(r["e820"])
        if iface == "spmem" and r.get("extra") is not None:
            ev += " | query-memory-devices: " + json.dumps(r["extra"])
        elif iface == "memmap" and isinstance(r.get("extra"), str):
            ev += " | info numa: " + r["extra"].replace("\r", "").strip()
        if r["err"].strip():
            ev += " | stderr: " + r["err"].strip()
        return cell, ev

    def inspect_for(self, iface):
        return self.memdevs if iface == "spmem" else self.numa_text

    # cmdline-minimal --------------------------------------------------------
    def range_ok(self, iface, r):
        """the spm range is there: 1 GiB soft-reserved in etc/e820, on its
        own node 1 (memmap: info numa; sp-mem: query-memory-devices)"""
        if not r["started"] or r["err"].strip():
            return False
        sr = [e for e in r["e820"] if e[2] == SOFT_RESERVED]
        if len(sr) != 1 or sr[0][1] != GiB:
            return False
        if iface == "memmap":
            t = r["extra"].replace("\r", "")
            return ("node 1 memmap-type: spm" in t and "node 1 size: 1024 MB" in t
                    and "node 0 size: 2048 MB" in t)
        devs = [d["data"] for d in r["extra"] if d["type"] == "sp-mem"]
        return (len(devs) == 1 and devs[0]["node"] == 1 and devs[0]["size"] == GiB
                and devs[0]["addr"] == sr[0][0])

    KEEP = ("q35", "nodeid=")       # the machine asked about; readable node ids

    def candidates(self, opts):
        """@opts with one parameter or one whole option left out"""
        for i, (o, v) in enumerate(opts):
            params = v.split(",")
            for j, p in enumerate(params):
                if j == 0 or p.startswith(self.KEEP[1]):
                    continue
                yield opts[:i] + [(o, ",".join(params[:j] + params[j + 1:]))] + opts[i + 1:]
        for i, (o, v) in enumerate(opts):
            if not v.startswith(self.KEEP[0]):
                yield opts[:i] + opts[i + 1:]

    def cmdline_minimal(self, iface):
        insp = self.inspect_for(iface)
        cur = STD[iface]
        first = self.attempt(iface, cur, insp)
        if not self.range_ok(iface, first):
            raise Probe("the standard command line does not give the range: "
                        + self.outcome(iface, first)[1])
        tried, last = 1, first
        changed = True
        while changed:
            changed = False
            for cand in self.candidates(cur):
                tried += 1
                r = self.attempt(iface, cand, insp)
                if self.range_ok(iface, r):
                    cur, last, changed = cand, r, True
                    break
        gone = []
        for o, v in STD[iface]:
            if (o, v) in cur:
                continue
            params = v.split(",")
            kept = [c.split(",") for co, c in cur if co == o and c.split(",")[0] == params[0]
                    and set(c.split(",")) <= set(params)]
            gone += ([p for p in params if p not in kept[0]] if kept else [f"{o} {v}"])
        n = len(cur) - 1
        cell = f"{n} options besides -machine q35: " + short(cur[1:])
        _, ev = self.outcome(iface, last)
        ev = (f"derived by leaving out each option/parameter of the standard line while "
              f"the range stays (1 GiB soft-reserved, own node 1, no warning); {tried} runs; "
              f"left out of the standard line: {', '.join(gone) or 'nothing'} | " + ev)
        record("cmdline-minimal", iface, cell, ev, self.how(iface, cur))
        return f"minimal: {short(cur)} ({tried} runs)"

    # cmdline-omitted --------------------------------------------------------
    def omitted_cases(self, iface):
        s = STD[iface]
        if iface == "spmem":
            dev = "sp-mem,id=spm0,memdev=sp0,node=1"
            small = [("-machine", "q35"), ("-m", "1G,maxmem=2G"),
                     ("-object", "memory-backend-ram,id=m0,size=1G"),
                     ("-object", "memory-backend-ram,id=sp0,size=1G"),
                     ("-numa", "node,nodeid=0,memdev=m0,cpus=0"), ("-numa", "node,nodeid=1"),
                     ("-device", dev)]
            return [
                ("maxmem left out", replace(s, "2G,maxmem=3G", "2G")),
                ("slots=0", replace(s, "2G,maxmem=3G", "2G,slots=0,maxmem=3G")),
                ("slots=4", replace(s, "2G,maxmem=3G", "2G,slots=4,maxmem=3G")),
                ("addr=0x100000000 (region start)", replace(s, dev, dev + ",addr=0x100000000")),
                ("addr=0x140000000 inside (maxmem=4G)",
                 replace(replace(s, dev, dev + ",addr=0x140000000"), "2G,maxmem=3G", "2G,maxmem=4G")),
                ("addr=0x200000000 outside", replace(s, dev, dev + ",addr=0x200000000")),
                ("addr=0x40000000 in low RAM", replace(s, dev, dev + ",addr=0x40000000")),
                ("addr=0x100001000 misaligned", replace(s, dev, dev + ",addr=0x100001000")),
                ("size=1025M (not 2 MiB multiple, maxmem=4G)",
                 replace(replace(s, "memory-backend-ram,id=sp0,size=1G",
                                 "memory-backend-ram,id=sp0,size=1025M"),
                         "2G,maxmem=3G", "2G,maxmem=4G")),
                ("spm node first (node 0 = sp-mem, node 1 = RAM)",
                 [s[0], s[1], s[2], s[3], ("-numa", "node,nodeid=0"),
                  ("-numa", "node,nodeid=1,memdev=m0,cpus=0"),
                  ("-device", "sp-mem,id=spm0,memdev=sp0,node=0")]),
                ("no max-ram-below-4g, 3 GiB machine (the standard line)", s),
                ("no max-ram-below-4g, node 0 only 1 GiB", small),
                ("node=2, no -numa node 2", replace(s, dev, "sp-mem,id=spm0,memdev=sp0,node=2")),
                ("memdev=m0, already node 0's (maxmem=3G)",
                 replace(s, dev, "sp-mem,id=spm0,memdev=m0,node=1")),
                ("memdev=m0, already node 0's (maxmem=5G)",
                 replace(replace(s, dev, "sp-mem,id=spm0,memdev=m0,node=1"),
                         "2G,maxmem=3G", "2G,maxmem=5G")),
            ]
        spm = "node,nodeid=1,memdev=m1,memmap-type=spm"
        small = [("-machine", "q35"), ("-m", "2G"),
                 ("-object", "memory-backend-ram,id=m0,size=1G"),
                 ("-object", "memory-backend-ram,id=m1,size=1G"),
                 ("-numa", "node,nodeid=0,memdev=m0,cpus=0"), ("-numa", spm)]
        return [
            ("maxmem given (maxmem=4G)", replace(s, "3G", "3G,maxmem=4G")),
            ("slots=0 (no maxmem)", replace(s, "3G", "3G,slots=0")),
            ("slots=4 (maxmem=4G)", replace(s, "3G", "3G,slots=4,maxmem=4G")),
            ("addr=0x100000000 on the node", replace(s, spm, spm + ",addr=0x100000000")),
            ("size=1025M (not 2 MiB multiple)",
             replace(replace(s, "memory-backend-ram,id=m1,size=1G",
                             "memory-backend-ram,id=m1,size=1025M"), "3G", "3073M")),
            ("spm node first (node 0 = m1 spm, node 1 = m0)",
             [s[0], s[1], s[2], s[3], ("-numa", "node,nodeid=0,memdev=m1,memmap-type=spm"),
              ("-numa", "node,nodeid=1,memdev=m0,cpus=0")]),
            ("no max-ram-below-4g, 3 GiB machine", replace(s, "q35,max-ram-below-4g=2G", "q35")),
            ("no max-ram-below-4g, node 0 only 1 GiB", small),
            ("memmap-type on a node without memdev",
             replace(replace(replace(s, spm, "node,nodeid=1,memmap-type=spm"),
                             "memory-backend-ram,id=m1,size=1G", None), "3G", "2G")),
            ("memdev=m0, already node 0's (-m 3G)",
             replace(replace(s, spm, "node,nodeid=1,memdev=m0,memmap-type=spm"),
                     "memory-backend-ram,id=m1,size=1G", None)),
            ("memdev=m0, already node 0's (-m 4G)",
             replace(replace(replace(s, spm, "node,nodeid=1,memdev=m0,memmap-type=spm"),
                             "memory-backend-ram,id=m1,size=1G", None), "3G", "4G")),
        ]

    def cmdline_omitted(self, iface):
        n = 0
        for label, opts in self.omitted_cases(iface):
            r = self.attempt(iface, opts, self.inspect_for(iface))
            cell, ev = self.outcome(iface, r)
            record("cmdline-omitted", iface, f"{label}: {cell}", ev, self.how(iface, opts))
            n += 1
        return f"{n} variants run"

    # reserved -----------------------------------------------------------------
    def reserved(self, iface):
        if iface == "memmap":
            opts = replace(STD["memmap"], "node,nodeid=1,memdev=m1,memmap-type=spm",
                           "node,nodeid=1,memdev=m1,memmap-type=reserved")
            r = self.attempt(iface, opts, self.numa_text)
            if not r["started"]:
                raise Probe("memmap-type=reserved did not start: " + error_line(r["err"]))
            rs = [e for e in r["e820"] if e[2] == RESERVED and e[1] == GiB]
            if not rs:
                raise Probe("no 1 GiB reserved entry in etc/e820: " + e820_str(r["e820"]))
            _, ev = self.outcome(iface, r)
            record("reserved", iface,
                        f"expressible: memmap-type=reserved; starts, e820 type 2 at 0x{rs[0][0]:x}+1G",
                        ev, self.how(iface, opts))
            return f"type 2 range at 0x{rs[0][0]:x}"
        dev = "sp-mem,id=spm0,memdev=sp0,node=1"
        tries = []
        for extra in ("memmap-type=reserved", "type=reserved"):
            opts = replace(STD["spmem"], dev, f"{dev},{extra}")
            r = self.attempt(iface, opts, self.memdevs)
            if r["started"]:
                raise Probe(f"-device sp-mem,{extra} started: {self.outcome(iface, r)[0]}")
            tries.append((extra, exit_str(r["rc"]), error_line(r["err"])))
        p = subprocess.run([self.bins[iface], "-device", "sp-mem,help"], capture_output=True,
                           text=True, timeout=self.o.timeout)
        props = [ln.strip() for ln in (p.stdout + p.stderr).splitlines() if "=" in ln]
        if not props:
            raise Probe("-device sp-mem,help lists no property: " + p.stdout + p.stderr)
        names = [ln.split("=")[0] for ln in props]
        ev = " | ".join(f"{x}: {rc}: {line}" for x, rc, line in tries)
        ev += " | -device sp-mem,help: " + "; ".join(props)
        record("reserved", iface,
                    f"cannot be expressed: sp-mem has no type property (only {', '.join(names)}); "
                    f"{tries[0][0]} refused: {clip(message(tries[0][2]), 8)}",
                    ev, f"{self.names[iface]}: -device sp-mem,help; -device {dev},memmap-type=reserved")
        return "no type property: " + ", ".join(names)

    # spm-normal-node ------------------------------------------------------------
    def spm_normal_node(self, iface):
        if iface == "spmem":
            opts = [("-machine", "q35"), ("-m", "3G,maxmem=4G"), ("-object", RAM_M0),
                    ("-object", "memory-backend-ram,id=m1,size=1G"),
                    ("-object", "memory-backend-ram,id=sp0,size=1G"),
                    ("-numa", "node,nodeid=0,memdev=m0,cpus=0"),
                    ("-numa", "node,nodeid=1,memdev=m1"),
                    ("-device", "sp-mem,id=spm0,memdev=sp0,node=1")]
            r = self.attempt(iface, opts, self.memdevs)
            if not r["started"]:
                cell, ev = self.outcome(iface, r)
                record("spm-normal-node", iface, cell, ev, self.how(iface, opts))
                return cell
            ram = [e for e in r["e820"] if e[2] == RAM and e[0] >= 4 * GiB]
            sp = [d["data"] for d in r["extra"] if d["type"] == "sp-mem"]
            if not sp or not ram:
                raise Probe("no sp-mem device or no RAM above 4 GiB: " + self.outcome(iface, r)[1])
            cell = (f"expressible: node 1 memdev=m1 + sp-mem node=1; starts; node-1 RAM "
                    f"0x{ram[0][0]:x}+{size_str(ram[0][1])} (e820 RAM), sp-mem "
                    f"0x{sp[0]['addr']:x}+{size_str(sp[0]['size'])} node {sp[0]['node']}")
            _, ev = self.outcome(iface, r)
            record("spm-normal-node", iface, cell, ev, self.how(iface, opts))
            return cell
        # memmap: one type per node; the spellings there are
        s = STD["memmap"]
        both = [("-machine", "q35,max-ram-below-4g=2G"), ("-m", "4G"), ("-object", RAM_M0),
                ("-object", "memory-backend-ram,id=m1,size=1G"),
                ("-object", "memory-backend-ram,id=m2,size=1G"),
                ("-numa", "node,nodeid=0,memdev=m0,cpus=0")]
        twice = both + [("-numa", "node,nodeid=1,memdev=m1,memdev=m2,memmap-type=spm")]
        spellings = [
            ("two -numa node,nodeid=1", both + [("-numa", "node,nodeid=1,memdev=m1"),
                                                ("-numa", "node,nodeid=1,memdev=m2,memmap-type=spm")]),
            ("memdev=m1,memdev=m2 (-m 4G)", twice),
            ("memdev=m1,memdev=m2 (-m 3G)", replace(twice, "4G", "3G")),
        ]
        parts, evs, mixed = [], [], False
        for label, opts in spellings:
            r = self.attempt(iface, opts, lambda vm: (self.numa_text(vm), self.ram_blocks(vm)))
            if r["started"]:
                numa, blocks = r["extra"]
                r["extra"] = numa
                _, ev = self.outcome(iface, r)
                unused = [m for m in ("m1", "m2") if m not in blocks]
                mixed = mixed or not unused
                cell = ("starts, " + (f"{', '.join(unused)} silently unused" if unused
                                      else "m1 and m2 both in boot RAM"))
                ev += " | info mtree, pc.ram: " + ", ".join(blocks)
            else:
                line = error_line(r["err"])
                cell = f"refused ({clip(message(line), 6)})"
                ev = f"{exit_str(r['rc'])}: {line}"
            parts.append(f"{label}: {cell}")
            evs.append(f"{label}: {ev} [{short(opts)}]")
        # hotplugged memory is normal memory: a pc-dimm on the spm node
        dimm = replace(s, "3G", "3G,slots=1,maxmem=4G") + [
            ("-object", "memory-backend-ram,id=d1,size=1G"),
            ("-device", "pc-dimm,id=dimm1,memdev=d1,node=1")]
        r = self.attempt(iface, dimm, lambda vm: (self.numa_text(vm), self.memdevs(vm)))
        if r["started"]:
            numa, devs = r["extra"]
            d = [x["data"] for x in devs if x["type"] == "dimm"]
            sr = [e for e in r["e820"] if e[2] == SOFT_RESERVED]
            dimm_cell = ("spm boot RAM + pc-dimm node=1: starts; spm "
                         + (f"0x{sr[0][0]:x}+{size_str(sr[0][1])}" if sr else "none")
                         + (f", DIMM (normal) 0x{d[0]['addr']:x}+{size_str(d[0]['size'])}"
                            f" node {d[0]['node']}" if d else ", no DIMM"))
            evs.append("pc-dimm: QMP up; etc/e820: " + e820_str(r["e820"]) + " | query-memory-devices: "
                       + json.dumps(devs) + " | info numa: " + numa.replace("\r", "").strip()
                       + f" [{short(dimm)}]")
        else:
            dimm_cell, ev = self.outcome(iface, r)
            dimm_cell = "spm boot RAM + pc-dimm node=1: " + dimm_cell
            evs.append("pc-dimm: " + ev)
        cell = ("boot RAM: " + ("" if mixed else "cannot be expressed (one type per node): ")
                + "; ".join(parts) + " | " + dimm_cell)
        compare_row("spm-normal-node", iface, cell, " || ".join(evs), f"{HOW} --only spm-normal-node")
        return cell

    # rss-untouched and startup: the same runs ---------------------------------
    def host_cost(self):
        """5 runs (after one warm-up) of each interface with and without the
        range, interleaved, under TCG: start-up time and VmRSS"""
        configs = [(iface, kind, STD[iface] if kind == "with" else NO_RANGE)
                   for iface in ("memmap", "spmem") if self.bins[iface]
                   for kind in ("with", "without")]
        samples = {(i, k): {"ready": [], "greet": [], "rss": [], "cpu": []}
                   for i, k, _ in configs}
        for rep in range(-1, self.o.reps):
            order = configs if rep % 2 == 0 else configs[::-1]
            for iface, kind, opts in order:
                vm = self.vm(iface, opts, accel="tcg")
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                if not vm.start():
                    raise Probe(f"{iface} {kind}: QEMU did not start: {exit_str(vm.rc)}: "
                                f"{error_line(vm.err)}")
                try:
                    rss = vm.rss_kb()
                    with open(f"/proc/{vm.proc.pid}/cmdline", "rb") as f:
                        argv = f.read().split(b"\0")
                    if not any(a.endswith(b"/qemu-system-x86_64") for a in argv):
                        raise Probe(f"pid {vm.proc.pid} is not QEMU: {argv[:4]}")
                except BaseException:
                    vm.kill()
                    raise
                rc = vm.quit()
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                if rc != 0:
                    raise Probe(f"{iface} {kind}: quit with {exit_str(rc)}")
                if rep >= 0:
                    s = samples[(iface, kind)]
                    s["ready"].append(vm.t_ready)
                    s["greet"].append(vm.t_greeting)
                    s["rss"].append(rss)
                    s["cpu"].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        med = {k: {m: statistics.median(v) for m, v in s.items()} for k, s in samples.items()}
        self.load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        return configs, samples, med

    def rss_and_startup(self, ifaces):
        configs, samples, med = self.host_cost()
        n = self.o.reps
        out = []
        for iface in ifaces:
            w, wo = med[(iface, "with")], med[(iface, "without")]
            sw, swo = samples[(iface, "with")], samples[(iface, "without")]
            how = (f"{HOW} ({self.names[iface]}, -accel tcg -S, QMP as a client socket) with: "
                   f"{short(STD[iface])} / without: {short(NO_RANGE)}")
            d = w["rss"] - wo["rss"]
            record("rss-untouched", iface,
                        f"{d:+.0f} kB with the range against the same binary without it "
                        f"(VmRSS, -S, QMP up; median of {n})",
                        f"VmRSS kB with: {sw['rss']}; without: {swo['rss']}", how)
            dt = round((w["ready"] - wo["ready"]) * 1000)

            def ms(xs):
                return " ".join(f"{x * 1000:.0f}" for x in xs)

            def overlap(k):
                return max(sw[k]) >= min(swo[k]) and max(swo[k]) >= min(sw[k])
            noise = [name for k, name in (("ready", "time"), ("cpu", "CPU")) if overlap(k)]
            record("startup", iface,
                        f"{dt:+d} ms with the range against the same binary without it, CPU "
                        f"{round((w['cpu'] - wo['cpu']) * 1000):+d} ms "
                        f"(exec to first query-status, TCG -S; median of {n}"
                        + ("; samples of both overlap in " + " and ".join(noise) if noise else "")
                        + ")",
                        f"ms to query-status with: {ms(sw['ready'])}; without: {ms(swo['ready'])}"
                        f" | ms to QMP greeting with: {ms(sw['greet'])}; without: {ms(swo['greet'])}"
                        f" | CPU ms (user+sys, exec to exit after quit) with: {ms(sw['cpu'])}; "
                        f"without: {ms(swo['cpu'])} | host load average {self.load}",
                        how)
            out.append(f"{iface}: RSS {w['rss']}/{wo['rss']} kB, start {w['ready'] * 1000:.0f}/"
                       f"{wo['ready'] * 1000:.0f} ms (with/without)")
        return "; ".join(out)

    # mgmt-* ---------------------------------------------------------------------
    def mgmt(self, iface):
        """query-memory-devices, query-memdev, info numa, x-query-numa of the
        standard line; info numa and x-query-numa each in a fresh QEMU, as
        either may end it"""
        opts = STD[iface]
        how = self.how(iface, opts)
        spm_id = "m1" if iface == "memmap" else "sp0"
        vm = self.vm(iface, opts)
        if not vm.start():
            raise Probe(f"QEMU did not start: {exit_str(vm.rc)}: {error_line(vm.err)}")
        try:
            devs = vm.qmp("query-memory-devices")
            memdev = vm.qmp("query-memdev")
            cmds = {c["name"] for c in vm.qmp("query-commands")}
        except Died:
            vm.after_death()
            raise Probe(f"QEMU died: {exit_str(vm.rc)}: {error_line(vm.err)}")
        except BaseException:
            vm.kill()
            raise
        if vm.quit() != 0:
            raise Probe(f"quit: {exit_str(vm.rc)}")
        # query-memory-devices
        sp = [d for d in devs if d["type"] == "sp-mem"]
        if sp:
            d = sp[0]["data"]
            cell = (f"sp-mem {d.get('id', '')}: addr 0x{d['addr']:x}, size {size_str(d['size'])}, "
                    f"node {d['node']}, memdev {d['memdev']}")
        elif not devs:
            cell = "empty list: the spm range is boot memory, not a memory device"
        else:
            cell = "no sp-mem entry; " + ", ".join(x["type"] for x in devs)
        record("mgmt-memory-devices", iface, cell,
                    "query-memory-devices: " + json.dumps(devs), how)
        # query-memdev
        mine = [m for m in memdev if m.get("id") == spm_id]
        if not mine:
            raise Probe(f"query-memdev has no {spm_id}: {json.dumps(memdev)}")
        m = mine[0]
        hint = [k for k in m if "spm" in k or "type" in k]
        cell = (f"{spm_id}: size {size_str(m['size'])}, policy {m['policy']}, "
                f"{'fields ' + ', '.join(hint) if hint else 'nothing says spm'} "
                f"({len(memdev)} backends listed alike)")
        record("mgmt-memdev", iface, cell, "query-memdev: " + json.dumps(memdev), how)
        # info numa, x-query-numa
        parts, evs = [], []
        for what in ("info numa", "x-query-numa"):
            if what == "x-query-numa" and what not in cmds:
                parts.append("x-query-numa: no such command")
                evs.append("query-commands has no x-query-numa")
                continue
            vm = self.vm(iface, opts)
            if not vm.start():
                raise Probe(f"QEMU did not start: {exit_str(vm.rc)}: {error_line(vm.err)}")
            try:
                text = (vm.hmp("info numa") if what == "info numa"
                        else vm.qmp("x-query-numa")["human-readable-text"])
                text = text.replace("\r", "").strip()
                rc = vm.quit()
                if rc != 0:
                    raise Probe(f"{what}: quit with {exit_str(rc)}")
                node1 = [ln for ln in text.splitlines() if ln.startswith("node 1 ")]
                parts.append(f"{what}: " + "; ".join(x[len('node 1 '):] for x in node1))
                evs.append(f"{what}: {text}")
            except Died:
                vm.after_death()
                line = error_line(vm.err)
                parts.append(f"{what}: QEMU dies, {exit_str(vm.rc)}: {clip(line, 8)}")
                evs.append(f"{what}: QEMU died, {exit_str(vm.rc)}; stderr: {vm.err.strip()}")
            except BaseException:
                vm.kill()
                raise
        record("mgmt-numa", iface, " | ".join(parts), " || ".join(evs), how)
        return " | ".join(parts)

    # the design/defect/parity questions: one row per interface, each part
    # "label: result", its evidence "label: the output line(s)" ----------------
    def row(self, q, iface, parts):
        """compare_row of [(label, cell, evidence)]; reproduced by --only @q"""
        cell = "; ".join(f"{lb}: {c}" if lb else c for lb, c, _ in parts)
        compare_row(q, iface, cell, " | ".join(f"{lb}: {e}" if lb else e for lb, _, e in parts),
                    f"{HOW} --only {q}")
        return cell

    @staticmethod
    def typed(r):
        """(cell, evidence) of one attempt: its typed e820 entries (the AMD
        HT hole left out) and how the soft-reserved ones follow each other,
        or 'refused' and QEMU's error line"""
        if not r["started"]:
            line = error_line(r["err"])
            if not line:
                raise Probe(f"QEMU exited ({exit_str(r['rc'])}) without a message")
            return f"refused ({message(line)})", line
        t = [e for e in r["e820"] if e[2] != RAM and e[0] != HT_HOLE]
        sr = sorted(e for e in t if e[2] == SOFT_RESERVED)
        gaps = ["adjacent" if b[0] == a[0] + a[1] else f"{size_str(b[0] - a[0] - a[1])} gap"
                for a, b in zip(sr, sr[1:])]
        return ((e820_str(t) or "no typed range") + (f" ({', '.join(gaps)})" if gaps else ""),
                "etc/e820: " + e820_str(r["e820"]))

    def several_spm_one_node(self, iface):
        if iface == "spmem":
            cases = [("two -device sp-mem,node=1 (maxmem=4G)",
                      replace(STD[iface], "2G,maxmem=3G", "2G,maxmem=4G") + [
                          ("-object", "memory-backend-ram,id=sp1,size=1G"),
                          ("-device", "sp-mem,id=spm1,memdev=sp1,node=1")])]
        else:
            spm = "node,nodeid=1,memdev=m1,memmap-type=spm"
            base = STD[iface] + [("-object", "memory-backend-ram,id=m2,size=1G")]
            twice = replace(base, spm, "node,nodeid=1,memdev=m1,memdev=m2,memmap-type=spm")
            cases = [("two -numa node,nodeid=1 (-m 4G)", replace(base, "3G", "4G") + [
                          ("-numa", "node,nodeid=1,memdev=m2,memmap-type=spm")]),
                     ("memdev=m1,memdev=m2 on one node (-m 4G)", replace(twice, "3G", "4G")),
                     ("memdev=m1,memdev=m2 on one node (-m 3G)", twice)]
        parts = []
        for label, opts in cases:
            r = self.attempt(iface, opts, self.ram_blocks if iface == "memmap" else None)
            cell, ev = self.typed(r)
            if r["started"] and r["extra"] is not None:
                unused = [m for m in ("m1", "m2") if m not in r["extra"]]
                cell += (f"; {' and '.join(unused)} silently unused" if unused else "")
                ev += " | info mtree, pc.ram holds: " + ", ".join(r["extra"])
            parts.append((label, cell, ev))
        return self.row("several-spm-one-node", iface, parts)

    def mem_accounting(self, iface):
        def gib(n):
            return f"{n / GiB:g} GiB"
        r = self.attempt(iface, STD[iface], lambda vm: vm.qmp("query-memory-size-summary"))
        rb = self.attempt(iface, STD[iface] + [("-device", "virtio-balloon-pci")],
                          lambda vm: vm.qmp("query-balloon"))
        for x in (r, rb):
            if not x["started"]:
                raise Probe("QEMU did not start: " + error_line(x["err"]))
        m, b = r["extra"], rb["extra"]
        base, plugged = m["base-memory"], m.get("plugged-memory", 0)
        # STD: node 0 has 2 GiB of RAM, the spm range is 1 GiB
        where = [k for k, v, with_range in (("base-memory", base, 3 * GiB),
                                            ("plugged-memory", plugged, GiB)) if v == with_range]
        cell = (f"base-memory {gib(base)}, plugged-memory {gib(plugged)}; with virtio-balloon-pci "
                f"query-balloon actual {gib(b['actual'])}: the 1 GiB range counts in "
                f"{' and '.join(where) or 'neither'}, "
                f"{'and' if b['actual'] == 3 * GiB else 'not'} in the balloon's actual")
        return self.row("mem-accounting", iface, [(
            "", cell, f"query-memory-size-summary: {json.dumps(m)} | query-balloon "
                      f"(+ -device virtio-balloon-pci): {json.dumps(b)}")])

    def addr_gap(self, iface):
        if iface == "spmem":
            s = replace(STD[iface], "sp-mem,id=spm0,memdev=sp0,node=1",
                        "sp-mem,id=spm0,memdev=sp0,node=1,addr=0x100000000") + [
                ("-object", "memory-backend-ram,id=sp1,size=1G"), ("-numa", "node,nodeid=2")]

            def two(addr, maxmem):
                return replace(s, "2G,maxmem=3G", f"2G,maxmem={maxmem}") + [
                    ("-device", f"sp-mem,id=spm1,memdev=sp1,node=2,addr={addr}")]
            cases = [("addr=0x100000000 and 0x140200000 (maxmem=5G)", two("0x140200000", "5G")),
                     ("addr=0x100000000 and 0x180000000 (maxmem=5G)", two("0x180000000", "5G")),
                     ("addr=0x100000000 and 0x140200000 (maxmem=4G)", two("0x140200000", "4G"))]
        else:
            s = [("-machine", "q35,max-ram-below-4g=2G"), ("-m", "4G"), ("-object", RAM_M0),
                 ("-object", "memory-backend-ram,id=m1,size=1G"),
                 ("-object", "memory-backend-ram,id=m2,size=1G"),
                 ("-numa", "node,nodeid=0,memdev=m0,cpus=0"),
                 ("-numa", "node,nodeid=1,memdev=m1,memmap-type=spm")]
            cases = [("spm nodes 1 and 2",
                      s + [("-numa", "node,nodeid=2,memdev=m2,memmap-type=spm")]),
                     ("node 2 addr=0x140200000", s + [
                         ("-numa", "node,nodeid=2,memdev=m2,memmap-type=spm,addr=0x140200000")]),
                     ("spm node 1, 2 MiB reserved node 2, spm node 3", replace(s, "4G", "4098M") + [
                         ("-object", "memory-backend-ram,id=r2,size=2M"),
                         ("-numa", "node,nodeid=2,memdev=r2,memmap-type=reserved"),
                         ("-numa", "node,nodeid=3,memdev=m2,memmap-type=spm")])]
        return self.row("addr-gap", iface,
                        [(label, *self.typed(self.attempt(iface, opts))) for label, opts in cases])

    def ram_placement(self, iface):
        parts = []
        for n0, total in (("2G", "3G"), ("2560M", "3584M")):
            s = replace(STD[iface], RAM_M0, f"memory-backend-ram,id=m0,size={n0}")
            s = (replace(s, "3G", total) if iface == "memmap"
                 else replace(s, "2G,maxmem=3G", f"{n0},maxmem={total}"))
            for below in ("", ",max-ram-below-4g=1G", ",max-ram-below-4g=3G"):
                opts = [(o, "q35" + below if v.startswith("q35") else v) for o, v in s]
                r = self.attempt(iface, opts)
                cell, ev = self.typed(r)
                if r["started"]:
                    ram = [f"0x{a:x}+{size_str(n)}" for a, n, t in sorted(r["e820"]) if t == RAM]
                    cell += "; RAM " + ", ".join(ram)
                parts.append((f"node 0 {n0}, {below[1:] or 'max-ram-below-4g default'}", cell, ev))
        return self.row("ram-placement", iface, parts)

    def phys_bits_64g(self, iface):
        spm = "m1" if iface == "memmap" else "sp0"
        s = replace(replace(STD[iface], f"memory-backend-ram,id={spm},size=1G",
                            f"memory-backend-ram,id={spm},size=64G,reserve=off"),
                    *(("3G", "66G") if iface == "memmap" else ("2G,maxmem=3G", "2G,maxmem=66G")))

        def window(vm):
            hole = [vm.qmp("qom-get", path="/machine/q35", property=f"pci-hole64-{p}")
                    for p in ("start", "end")]
            end = vm.fw_cfg_file("etc/reserved-memory-end")
            return hole, struct.unpack("<Q", end)[0] if end else None
        parts = []
        for bits in (39, 40, 36):
            r = self.attempt(iface, s + [("-cpu", f"qemu64,phys-bits={bits}")], window)
            cell, ev = self.typed(r)
            if r["started"]:
                (h0, h1), end = r["extra"]
                end = f"0x{end:x}" if end is not None else "absent"
                cell = (f"starts, {cell}; pci-hole64 0x{h0:x}-0x{h1:x}; "
                        f"etc/reserved-memory-end {end}")
                ev += (f" | qom-get /machine/q35 pci-hole64-start {h0}, pci-hole64-end {h1}"
                       f" | fw_cfg etc/reserved-memory-end {end}")
            parts.append((f"phys-bits={bits}", cell, ev))
        return self.row("phys-bits-64g", iface, parts)

    def hotplug(self, iface):
        if iface == "memmap":
            opts = replace(STD[iface], "3G", "3G,slots=1,maxmem=4G")
            steps = [("set-numa-node", {"type": "node", "nodeid": 2, "memdev": "hp0",
                                        "memmap-type": "spm"}),
                     ("device_add", {"driver": "pc-dimm", "id": "dimm1", "memdev": "hp0",
                                     "node": 1})]
        else:
            opts = replace(STD[iface], "2G,maxmem=3G", "2G,maxmem=4G")
            steps = [("device_add", {"driver": "sp-mem", "id": "spm1", "memdev": "hp0", "node": 1})]
        steps = [("cont", {}), ("query-status", {}),
                 ("object-add", {"qom-type": "memory-backend-ram", "id": "hp0", "size": GiB})
                 ] + steps + [("query-memory-devices", {})]
        r = self.attempt(iface, opts, lambda vm: [vm.qmp_raw(c, **a) for c, a in steps])
        if not r["started"]:
            raise Probe("QEMU did not start: " + error_line(r["err"]))
        parts = []
        for (c, a), rep in zip(steps, r["extra"]):
            label = c + "".join(f" {k}={v}" for k, v in a.items()
                                if k in ("driver", "memmap-type", "qom-type"))
            if "error" in rep:
                cell = f"error ({rep['error']['desc']})"
            elif c == "query-status":
                cell = rep["return"]["status"]
            elif c == "query-memory-devices":
                cell = ", ".join(f"{d['type']} {d['data'].get('id', '')} 0x{d['data']['addr']:x}+"
                                 f"{size_str(d['data']['size'])} node {d['data']['node']}"
                                 for d in rep["return"]) or "none"
            else:
                cell = "accepted"
            parts.append((label, cell, json.dumps(rep)))
        return self.row("hotplug", iface, parts)

    LB_TYPES = {0: ("access latency", "ps"), 1: ("read latency", "ps"),
                2: ("write latency", "ps"), 3: ("access bandwidth", "MB/s"),
                4: ("read bandwidth", "MB/s"), 5: ("write bandwidth", "MB/s")}

    @staticmethod
    def hmat_structs(hmat):
        """the HMAT's structures (ACPI 6.3): ("mpda", flags, initiator,
        memory domain) of the Memory Proximity Domain Attributes ones (type 0),
        ("lb", data type, initiator, target, entry, base unit) of each entry of
        the System Locality Latency and Bandwidth ones (type 1)"""
        out, p = [], 40
        while p + 8 <= len(hmat):
            typ, ln = struct.unpack_from("<H2xI", hmat, p)
            if ln < 8:
                break
            if typ == 0:
                out.append(("mpda",) + struct.unpack_from("<H2xII", hmat, p + 8))
            elif typ == 1:
                _, dt, ni, nt, unit = struct.unpack_from("<BB2xII4xQ", hmat, p + 8)
                ini = struct.unpack_from(f"<{ni}I", hmat, p + 32)
                tgt = struct.unpack_from(f"<{nt}I", hmat, p + 32 + 4 * ni)
                ent = struct.unpack_from(f"<{ni * nt}H", hmat, p + 32 + 4 * (ni + nt))
                out += [("lb", dt, a, b, ent[i * nt + j], unit)
                        for i, a in enumerate(ini) for j, b in enumerate(tgt)]
            p += ln
        return out

    def hmat_spm(self, iface):
        node1 = "node,nodeid=1,memdev=m1,memmap-type=spm" if iface == "memmap" else "node,nodeid=1"
        opts = [(o, v + ",hmat=on" if v.startswith("q35")
                 else v + ",initiator=0" if v == node1 else v) for o, v in STD[iface]] + [
            ("-numa", "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,"
                      "latency=200"),
            ("-numa", "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,"
                      "bandwidth=10G")]
        r = self.attempt(iface, opts, lambda vm: vm.acpi_table("HMAT"))
        if not r["started"]:
            cell, ev = self.typed(r)
            return self.row("hmat-spm", iface, [("latency 200 ns, bandwidth 10G", cell, ev)])
        if r["extra"] is None:
            raise Probe("hmat=on, but no HMAT in etc/acpi/tables")
        st = self.hmat_structs(r["extra"])
        t1 = ["{0} {2} {1} (entry {3} x base unit {4})".format(
                  *self.LB_TYPES.get(dt, (dt, "?")), e * u, e, u)
              for _, dt, a, b, e, u in (x for x in st if x[0] == "lb") if a == 0 and b == 1]
        pd1 = [f"initiator {i}, flags {f}"
               for _, f, i, m in (x for x in st if x[0] == "mpda") if m == 1]
        cell = ("starts; HMAT initiator 0 -> target 1: "
                + ("; ".join(t1) or "no latency/bandwidth entry")
                + "; Memory Proximity Domain Attributes for domain 1: "
                + ("; ".join(pd1) or "none"))
        ev = (f"HMAT ({len(r['extra'])} bytes) structures, (mpda, flags, initiator, memory domain) "
              f"and (lb, data type, initiator, target, entry, base unit): {st}")
        return self.row("hmat-spm", iface, [("", cell, ev)])

    # --------------------------------------------------------------------------
    def run(self):
        per_iface = [("cmdline-minimal", self.cmdline_minimal),
                     ("cmdline-omitted", self.cmdline_omitted),
                     ("reserved", self.reserved),
                     ("spm-normal-node", self.spm_normal_node),
                     ("mgmt", self.mgmt),
                     ("several-spm-one-node", self.several_spm_one_node),
                     ("mem-accounting", self.mem_accounting),
                     ("addr-gap", self.addr_gap),
                     ("ram-placement", self.ram_placement),
                     ("phys-bits-64g", self.phys_bits_64g),
                     ("hotplug", self.hotplug),
                     ("hmat-spm", self.hmat_spm)]
        only = self.o.only
        for q, fn in per_iface:
            if only and q not in only and not (q == "mgmt" and any(
                    x.startswith("mgmt-") for x in only)):
                continue
            for iface in ("memmap", "spmem"):
                self.one(f"{q} [{iface}]", iface, lambda fn=fn, iface=iface: fn(iface))
        if not only or "rss-untouched" in only or "startup" in only:
            ifaces = [i for i in ("memmap", "spmem") if self.bins[i]]
            for i in ("memmap", "spmem"):
                if not self.bins[i]:
                    self.results.skipped(f"rss-untouched/startup [{i}]: {self.skip[i]}")
            if ifaces:
                self.one(f"rss-untouched/startup [{', '.join(ifaces)}]", ifaces[0],
                         lambda: self.rss_and_startup(ifaces))
        return self.results.verdict()

    def one(self, name, iface, fn):
        if not self.bins[iface]:
            self.results.skipped(f"{name}: {self.skip[iface] or 'no QEMU'}")
            return
        t = time.monotonic()
        try:
            text = fn()
            self.verdict(True, f"{name}: {text} ({time.monotonic() - t:.1f} s)")
        except (Probe, Died, OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            self.verdict(False, f"{name}: {type(e).__name__}: {e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memmap", help="patched QEMU (memmap-type)")
    ap.add_argument("--spmem", help="QEMU with -device sp-mem")
    ap.add_argument("--skip-memmap", default="")
    ap.add_argument("--skip-spmem", default="")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--only", type=lambda s: s.split(","), default=None,
                    help="question ids (mgmt = the three mgmt-* rows)")
    o = ap.parse_args()
    sys.exit(Runner(o).run())


if __name__ == "__main__":
    main()
