"""What the project's test guest (tests/guest/init) prints on its serial
console, read back by the migration tests (tests/migration/migrate.py,
tests/migration/spmem_migrate.py): its "@@ counter N" lines and its
reports "@@ BEGIN NAME" ... "@@ END NAME"."""
import re
import time


class GuestError(Exception):
    """the guest or its QEMU did not do what the test waits for"""


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def counters(path):
    """every N of the "@@ counter N" lines on the console log PATH"""
    return [int(m) for m in re.findall(r"^@@ counter (\d+)\s*$", _read(path), re.M)]


def reports(path):
    """[(name, {kind: [text]})] of every complete "@@ BEGIN NAME" ...
    "@@ END NAME" report on the console log PATH, in order; a line
    "@@ KIND TEXT" inside one is kept under KIND ("dax", "e820",
    "fwcfg-e820", "node", ...).  A report whose BEGIN is not in the log
    (begun on a migration's source) is not counted."""
    out, cur = [], None
    for line in _read(path).splitlines():
        line = line.rstrip("\r")
        if line.startswith("@@ BEGIN "):
            cur = (line[9:].strip(), {})
        elif cur and line == f"@@ END {cur[0]}":
            out.append(cur)
            cur = None
        elif cur and line.startswith("@@ "):
            kind, _, text = line[3:].partition(" ")
            cur[1].setdefault(kind, []).append(text.strip())
    return out


def phases(path):
    """[(name, [dax line])]: the dax lines of every complete report"""
    return [(n, r.get("dax", [])) for n, r in reports(path)]


def dax_key(line):
    """(device, target_node, start, size) of a dax line"""
    f = line.split()
    kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
    start = kv.get("start", "-")
    try:
        start = int(start, 16)
    except ValueError:
        pass
    return (f[0], kv.get("target_node"), start, kv.get("size"))


def _exited(vm, who):
    if vm.proc.poll() is not None:
        vm.stop()
        raise GuestError(f"{who} exited {vm.returncode}: {vm.stderr.strip()}")


def wait_report(vm, serial, name, count, timeout, who):
    """the COUNT-th complete report NAME on SERIAL, as {kind: [text]};
    VM is the qemulib.Qemu whose console SERIAL is"""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = [r for n, r in reports(serial) if n == name]
        if len(got) >= count:
            return got[count - 1]
        _exited(vm, who)
        time.sleep(0.2)
    raise GuestError(f"{who}: no complete '{name}' report within {timeout:.0f} s")


def wait_phase(vm, serial, name, count, timeout, who):
    """the dax lines of the COUNT-th complete report NAME on SERIAL"""
    return wait_report(vm, serial, name, count, timeout, who).get("dax", [])


def wait_counter(vm, serial, above, timeout, who):
    """the last counter on SERIAL, once it is above ABOVE"""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        c = counters(serial)
        if c and c[-1] > above:
            return c[-1]
        _exited(vm, who)
        time.sleep(0.2)
    raise GuestError(f"{who}: no guest counter above {above} within {timeout} s "
                     f"(seen: {counters(serial)[-3:]})")


def fwcfg_e820(hexstr):
    """[(base, length, type)] of the report's "fwcfg-e820" line (the
    guest's read of fw_cfg etc/e820: 20-byte little-endian entries)"""
    b = bytes.fromhex(hexstr)
    return [(int.from_bytes(b[i:i + 8], "little"),
             int.from_bytes(b[i + 8:i + 16], "little"),
             int.from_bytes(b[i + 16:i + 20], "little"))
            for i in range(0, len(b) - 19, 20)]
