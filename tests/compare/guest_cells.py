#!/usr/bin/env python3
"""The COMPARISON.md cells of one guest scenario, read from its serial log.
Called by scripts/compare.sh (make compare) after scripts/guest-run.sh.

  guest_cells.py QUESTION IFACE LOG VERDICT HOW

Records (tests/lib/compare_rows.py) what the guest or its firmware
showed of the typed memory: every dax device with its node and range,
or, without a dax device, what the guest's e820 says of soft reserved
memory; for a firmware-only boot (no OS), SeaBIOS's e820 map: how many
soft reserved entries it kept and how much they cover.  For QUESTION
node-view: the SRAT memory affinity lines the kernel printed on its
console, the guest's nodes and their MemTotal.
VERDICT is guest-run.sh's result for the scenario (its own checks).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import parse_report as pr  # noqa: E402
from compare_rows import compare_row  # noqa: E402

SOFT = 0xEFFFFFFF


def size(n):
    return pr.fmt_size(n)


def dax_cells(boot):
    cells, ev = [], []
    for d in boot.dax:
        where = "0x%x" % d["start"] if d["start"] is not None else "?"
        cells.append("%s on node %d at %s (%s)" % (d["name"], d["target_node"], where,
                                                   size(d["size"])))
        ev.append("@@ dax %s target_node=%d size=%d start=%s driver=%s" % (
            d["name"], d["target_node"], d["size"], where, d.get("driver", "?")))
    return cells, ev


def soft_e820(boot):
    return [(s, e) for s, e, t in boot.e820 if t == "soft reserved"]


def firmware_cells(rep):
    m = rep.bios_e820 or []
    soft = [(s, e) for s, e, t in m if t == SOFT]
    cover = sum(e - s for s, e in soft)
    cell = ("%s: %d soft reserved entries in its %d-entry e820 map, covering %s"
            % (rep.bios_version or "SeaBIOS", len(soft), len(m), size(cover)))
    ev = "e820 map has %d items; " % len(m)
    if soft:
        ev += "last soft reserved entry %s" % pr.fmt_range(*soft[-1])
    return cell, ev


def main():
    q, iface, log, verdict, how = sys.argv[1:6]
    if not os.path.exists(log):
        compare_row(q, iface, "no run: no log (%s)" % verdict, "missing " + log, how)
        return 1
    rep = pr.parse(log)
    boot = rep.phases.get("boot")
    tail = " (harness checks: %s)" % verdict
    if q == "node-view":
        if boot is None:
            compare_row(q, iface, "guest did not report" + tail, "no @@ BEGIN boot", how)
            return 1
        def view(phase):
            return ", ".join("node %d %d kB" % kv for kv in sorted(phase.nodes.items()))
        # /sys/devices/system/node lists a node only once it has memory
        srat = ["node %d %s" % (n, pr.fmt_range(s, e)) for n, s, e in rep.srat if n]
        cell = "SRAT: %s; nodes with memory at boot: %s" % (
            ", ".join(srat) or "no entry beyond node 0", view(boot))
        ev = ["ACPI: SRAT: " + "; ".join("Node %d [mem 0x%x-0x%x]" % (n, s, e - 1)
                                         for n, s, e in rep.srat),
              "at boot: " + view(boot)]
        online = rep.phases.get("online")
        if online is not None:
            cell += "; after onlining the dax device through kmem: " + view(online)
            ev += ["@@ kmem " + k for k in rep.kmem] + ["after onlining: " + view(online)]
        compare_row(q, iface, cell + tail, "; ".join(ev), how)
        return 0
    if boot is None:
        if rep.bios_e820 is None:
            compare_row(q, iface, "no guest report, no firmware map" + tail,
                        (rep.panic or ["(nothing)"])[0], how)
            return 1
        cell, ev = firmware_cells(rep)
        compare_row(q, iface, cell + tail, ev, how)
        return 0
    cells, ev = dax_cells(boot)
    for n in sorted({d["target_node"] for d in boot.dax}):
        kb = boot.nodes.get(n)
        cells.append("node %d RAM at boot: %s" % (n, "%d kB" % kb if kb else "none"))
    if not cells:
        soft = soft_e820(boot)
        cells = ["no dax device; guest e820 soft reserved: %s" % (
            ", ".join(pr.fmt_range(s, e) for s, e in soft) or "none")]
        # the guest's own map from 4 GiB up: where the range went
        ev = ["@@ e820 [mem 0x%016x-0x%016x] %s" % (s, e - 1, t)
              for s, e, t in boot.e820 if e > 1 << 32] or ["@@ e820: no entry above 4 GiB"]
        ev.append("no '@@ dax' line")
    compare_row(q, iface, "; ".join(cells) + tail, " | ".join(ev), how)
    return 0


if __name__ == "__main__":
    sys.exit(main())
