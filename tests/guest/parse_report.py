#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Read the log of one guest boot and assert what the guest saw.

The log holds the guest's serial console (with the "@@ " report printed
by tests/guest/init) and, under SeaBIOS, SeaBIOS's debug output (its
"e820 map has N items" dump).  Checks come from scripts/guest-run.sh,
which computes every address and size from the scenario's configuration:

  done                            the guest printed its whole report
  published:NODE:START:SIZE:TYPE  QEMU's fw_cfg etc/e820 has this entry
  spm:NODE:START:SIZE             soft reserved in the guest's map, not
                                  System RAM, one dax device on NODE
  online:NODE:SIZE                after kmem + onlining, NODE's MemTotal
                                  grew by about SIZE
  reserved:NODE:START:SIZE        reserved in the guest's map, not RAM,
                                  no dax device
  normal:NODE:START:SIZE          usable RAM, System RAM, on NODE
  absent:NODE:START:SIZE          not in the guest's map at all, no dax
                                  (SeaBIOS drops type 0xEFFFFFFF)
  bios-absent:START:SIZE          not in SeaBIOS's own e820 map
  bios-reserved:START:SIZE        type 2 in SeaBIOS's own e820 map
  bios-spm:START:SIZE             exactly this entry, type 0xEFFFFFFF, in
                                  SeaBIOS's own map (patched SeaBIOS)
  bios-nowarn                     SeaBIOS printed no "Unable to allocate"
                                  warning (its map never overflowed)
  bios-ram:START:END              SeaBIOS's RAM entries cover [START, END)
                                  but for at most 1 MiB (its own
                                  reservations at the top of low RAM)
  ram:LOW:HIGH                    the guest's usable RAM is all the normal
                                  memory QEMU was given: above 4 GiB
                                  exactly HIGH bytes usable; [0, LOW) (the
                                  RAM below 4 GiB) wholly in the guest's
                                  map but for the legacy hole
                                  0xa0000-0xfffff, usable but for at most
                                  FIRMWARE_OWN bytes the firmware keeps
                                  (reserved, ACPI, NVS entries); nothing
                                  usable in [LOW, 4 GiB)
  nodax                           no dax device at all
  merged:START:SIZE               the firmware EFI map has one SP descriptor
                                  for adjacent spm ranges QEMU kept apart
  one-device:NODE:START:SIZE      a single dax device covers them, on NODE

START and SIZE are integers (0x... allowed); TYPE an e820 type number.
Prints one line per check ("ok" or "FAIL") and exits 1 if any failed.
  --demo NODE:START:SIZE   print a short human view of one node instead
  --json                   dump the parsed report
"""

import argparse
import json
import re
import sys

E820_NAMES = {1: "RAM", 2: "reserved", 3: "ACPI", 4: "NVS",
              0xEFFFFFFF: "soft reserved"}

# Linux prints a size as kB in meminfo; a node's MemTotal never reaches
# its full size (struct pages etc.), so "about SIZE" means this much.
MIN_FRACTION = 0.90

# What firmware may keep of the RAM below 4 GiB for itself (its own
# code, ACPI tables, NVS, the EBDA); OVMF keeps about 6 MiB, SeaBIOS
# 1 KiB + 128 KiB.  More than this is RAM lost, not kept.
FIRMWARE_OWN = 16 << 20
LEGACY_HOLE = (0xA0000, 0x100000)
GIB4 = 4 << 30


def fmt_size(n):
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div and n % div == 0:
            return "%d %s" % (n // div, unit)
    return "%d bytes" % n


def fmt_range(start, end):
    """end is exclusive"""
    return "[0x%x-0x%x]" % (start, end - 1)


class Phase:
    def __init__(self):
        self.e820 = []      # (start, end_excl, type text)
        self.efi = []       # (start, end_excl, type, attrs)
        self.efi_seen = False
        self.efi_done = False
        self.softres = []
        self.iomem = []     # (start, end_excl, name) top level
        self.iomem_sub = []  # nested: (start, end_excl, name, depth)
        self.fwcfg = None   # [(start, size, type)]
        self.nodes = {}     # id -> kB
        self.dax = []       # dicts
        self.kernel = None
        self.cmdline = None


class Report:
    def __init__(self):
        self.phases = {}
        self.done = False
        self.errors = []
        self.kmem = []
        self.blocks = []
        self.bios_e820 = None   # [(start, end_excl, type)]
        self.bios_version = None
        self.panic = []
        self.bios_nomem = []     # SeaBIOS "Unable to allocate" warnings
        self.srat = []           # the kernel's SRAT memory affinity lines
                                 # (console): (node, start, end_excl)


RANGE_RE = re.compile(r"\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (.*)$")
EFI_RE = re.compile(r"mem(\d+): \[([^\]]*)\] range=\[(0x[0-9a-f]+)-(0x[0-9a-f]+)\]")
IOMEM_RE = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) : (.*)$")
SRAT_RE = re.compile(r"ACPI: SRAT: Node (\d+) PXM \d+ \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]")
BIOS_RE = re.compile(r"^\s*\d+: ([0-9a-f]{16}) - ([0-9a-f]{16}) = (\d+)")


def parse(path):
    rep = Report()
    cur = None
    in_bios_map = False
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if in_bios_map:
            m = BIOS_RE.match(line)
            if m:
                rep.bios_e820.append((int(m.group(1), 16), int(m.group(2), 16),
                                      int(m.group(3))))
                continue
            in_bios_map = False
        m = SRAT_RE.search(line)
        if m:
            rep.srat.append((int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16) + 1))
        if "WARNING - Unable to allocate resource" in line:
            rep.bios_nomem.append(line.strip())
        if line.startswith("SeaBIOS (version"):
            rep.bios_version = line.strip()
        if re.match(r"^e820 map has \d+ items:", line):
            rep.bios_e820 = []
            in_bios_map = True
            continue
        if "Kernel panic" in line or re.search(r"\bOops\b|BUG: ", line):
            rep.panic.append(line.strip())
        if not line.startswith("@@ "):
            continue
        body = line[3:]
        key, _, rest = body.partition(" ")
        if key == "BEGIN":
            cur = Phase()
            rep.phases[rest] = cur
        elif key == "END":
            cur = None
        elif key == "DONE":
            rep.done = True
        elif key == "error":
            rep.errors.append(rest)
        elif key == "kmem":
            rep.kmem.append(rest)
        elif key == "blocks":
            rep.blocks.append(dict(kv.split("=", 1) for kv in rest.split()))
        elif cur is None:
            continue
        elif key == "kernel":
            cur.kernel = rest
        elif key == "cmdline":
            cur.cmdline = rest
        elif key == "e820":
            m = RANGE_RE.search(rest)
            if m:
                cur.e820.append((int(m.group(1), 16), int(m.group(2), 16) + 1,
                                 m.group(3).strip()))
        elif key == "efi":
            m = EFI_RE.search(rest)
            # dmesg holds the firmware's map and, later, the runtime
            # map; only the first (index restarting at 0 ends it).
            if m and not cur.efi_done:
                if int(m.group(1)) == 0 and cur.efi_seen:
                    cur.efi_done = True
                    continue
                cur.efi_seen = True
                fields = [x.strip() for x in m.group(2).split("|")]
                cur.efi.append((int(m.group(3), 16), int(m.group(4), 16) + 1,
                                fields[0], set(x for x in fields[1:] if x)))
        elif key == "softres":
            cur.softres.append(rest)
        elif key == "iomem":
            m = IOMEM_RE.match(rest.strip())
            if m:
                cur.iomem.append((int(m.group(1), 16), int(m.group(2), 16) + 1, m.group(3)))
        elif key == "iomem-sub":
            depth, _, text = rest.partition(" ")
            m = IOMEM_RE.match(text.strip())
            if m:
                cur.iomem_sub.append((int(m.group(1), 16), int(m.group(2), 16) + 1,
                                      m.group(3), int(depth)))
        elif key == "fwcfg-e820":
            raw_hex = bytes.fromhex(rest.strip())
            cur.fwcfg = []
            for i in range(0, len(raw_hex) - 19, 20):
                e = raw_hex[i:i + 20]
                cur.fwcfg.append((int.from_bytes(e[0:8], "little"),
                                  int.from_bytes(e[8:16], "little"),
                                  int.from_bytes(e[16:20], "little")))
        elif key == "node":
            nid, kb = rest.split()
            cur.nodes[int(nid)] = int(kb)
        elif key == "dax":
            parts = rest.split()
            d = {"name": parts[0]}
            d.update(kv.split("=", 1) for kv in parts[1:])
            d["target_node"] = int(d["target_node"])
            d["size"] = int(d["size"])
            d["start"] = int(d["start"], 16) if d.get("start", "-") != "-" else None
            cur.dax.append(d)
    return rep


def overlaps(a0, a1, b0, b1):
    return a0 < b1 and b0 < a1


def covering(entries, start, end):
    """entries (s, e, ...) that overlap [start, end)"""
    return [x for x in entries if overlaps(x[0], x[1], start, end)]


class Checker:
    def __init__(self, rep):
        self.rep = rep
        self.failed = 0
        self.boot = rep.phases.get("boot")
        self.no_boot_told = False

    def ok(self, msg):
        print("  ok    " + msg)

    def fail(self, msg):
        print("  FAIL  " + msg)
        self.failed += 1

    def check(self, cond, good, bad):
        if cond:
            self.ok(good)
        else:
            self.fail(bad)
        return cond

    def need_boot(self):
        if self.boot is None:
            if not self.no_boot_told:
                self.fail("no report from the guest (phase 'boot' missing)")
            self.no_boot_told = True
            return False
        return True

    def map_entries(self, start, end):
        """the guest kernel's e820 entries overlapping [start, end)"""
        return covering(self.boot.e820, start, end)

    def show_map(self, start, end):
        ents = self.map_entries(start, end)
        if not ents:
            return "no entry"
        return ", ".join("%s %s" % (fmt_range(s, e), t) for s, e, t in ents)

    def efi_entries(self, start, end):
        return covering(self.boot.efi, start, end)

    def show_efi(self, start, end):
        return ", ".join("%s %s%s" % (fmt_range(s, e), t,
                                      "+" + "+".join(sorted(a - {"WB", "WT", "WC", "UC"}))
                                      if a - {"WB", "WT", "WC", "UC"} else "")
                         for s, e, t, a in self.efi_entries(start, end)) or "no entry"

    def ram_overlap(self, phase, start, end):
        return [x for x in covering(phase.iomem, start, end)
                if x[2].startswith("System RAM")]

    # -- checks ---------------------------------------------------------

    def c_done(self):
        r = self.rep
        if r.panic:
            self.fail("guest kernel reported: " + r.panic[0])
        self.check(r.done, "guest printed its complete report",
                   "guest did not finish its report (no '@@ DONE')")
        for e in r.errors:
            self.fail("guest /init: " + e)

    def c_published(self, node, start, size, typ):
        if not self.need_boot():
            return
        fw = self.boot.fwcfg
        if fw is None:
            self.fail("guest could not read fw_cfg etc/e820 (qemu_fw_cfg)")
            return
        want = (start, size, typ)
        self.check(want in fw,
                   "QEMU published node %d %s as e820 type 0x%x (%s) in etc/e820"
                   % (node, fmt_range(start, start + size), typ, E820_NAMES.get(typ, "?")),
                   "QEMU's etc/e820 lacks node %d %s type 0x%x; it has: %s"
                   % (node, fmt_range(start, start + size), typ,
                      ", ".join("%s type 0x%x" % (fmt_range(s, s + n), t) for s, n, t in fw)))

    def c_spm(self, node, start, size, node_ram=0):
        # node_ram: bytes of RAM the node has besides this range (a
        # -device sp-mem on a node with memory of its own)
        if not self.need_boot():
            return
        end = start + size
        b = self.boot
        ents = self.map_entries(start, end)
        exact = [x for x in ents if x[0] == start and x[1] == end and x[2] == "soft reserved"]
        merged = [x for x in ents if x[2] == "soft reserved" and x[0] <= start and x[1] >= end]
        if exact:
            self.ok("guest e820: %s soft reserved (node %d)" % (fmt_range(start, end), node))
        elif merged and len(ents) == 1:
            self.ok("guest e820: node %d %s lies in soft reserved %s (adjacent ranges "
                    "merged before the kernel saw them)"
                    % (node, fmt_range(start, end), fmt_range(merged[0][0], merged[0][1])))
        else:
            self.fail("guest e820 does not show node %d %s as soft reserved: %s"
                      % (node, fmt_range(start, end), self.show_map(start, end)))
        if b.efi:
            sp = [x for x in self.efi_entries(start, end) if "SP" in x[3]]
            self.check(sp, "firmware EFI map: %s" % self.show_efi(start, end),
                       "firmware EFI map has no EFI_MEMORY_SP entry for node %d: %s"
                       % (node, self.show_efi(start, end)))
        ram = self.ram_overlap(b, start, end)
        kb = b.nodes.get(node, 0)
        if self.kmem_at_boot(node):
            # Newer kernels (Debian's 6.12 and 7.x) bind hmem devices to
            # kmem and online their memory at boot: RAM then, but only
            # as "System RAM (kmem)" under the dax device.
            kmem = [x for x in covering(b.iomem_sub, start, end)
                    if x[2] == "System RAM (kmem)" and x[0] <= start and x[1] >= end]
            self.check(not ram and kmem and MIN_FRACTION * size <= kb * 1024 <= size,
                       "kernel policy: dax device bound to kmem at boot, node %d memory "
                       "is System RAM (kmem) under it (node %d MemTotal %d kB)" % (node, node, kb),
                       "node %d: dax device on kmem at boot, but /proc/iomem top level %s, "
                       "System RAM (kmem) %s, MemTotal %d kB"
                       % (node, ram or "-", kmem or "-", kb))
        else:
            self.check(not ram and kb * 1024 - node_ram < (1 - MIN_FRACTION) * size,
                       "not System RAM at boot (node %d MemTotal: %s)"
                       % (node, "%d kB" % kb if node in b.nodes else "node has no memory"),
                       "node %d range is RAM at boot: /proc/iomem %s, node MemTotal %d kB"
                       % (node, ", ".join("%s %s" % (fmt_range(s, e), n) for s, e, n in ram)
                          or "-", kb))
        dax = [d for d in b.dax if d["target_node"] == node]
        good = [d for d in dax if d["size"] == size and d["start"] in (None, start)]
        if len(dax) == 1 and good:
            d = good[0]
            self.ok("%s: target_node=%d size=%d (%s) start=0x%x"
                    % (d["name"], d["target_node"], d["size"], fmt_size(d["size"]),
                       d["start"] if d["start"] is not None else -1))
        else:
            self.fail("want one dax device with target_node=%d size=%d start=0x%x; guest has: %s"
                      % (node, size, start,
                         "; ".join("%s target_node=%d size=%d start=%s" % (
                             d["name"], d["target_node"], d["size"],
                             "0x%x" % d["start"] if d["start"] is not None else "?")
                             for d in b.dax) or "none"))

    def kmem_at_boot(self, node):
        """the kernel bound node's dax device to kmem by itself at boot"""
        return any(d["target_node"] == node and d.get("driver") == "kmem"
                   for d in self.boot.dax)

    def c_online(self, node, size):
        after = self.rep.phases.get("online")
        if not self.need_boot():
            return
        if after is None:
            self.fail("no report after onlining (phase 'online' missing)")
            return
        for k in self.rep.kmem:
            self.check(k.endswith("driver=kmem"), "kmem: " + k, "kmem did not bind: " + k)
        for bl in self.rep.blocks:
            if int(bl["node"]) == node:
                self.check(int(bl["failed"]) == 0 and int(bl["onlined"]) + int(bl["already_online"]) > 0,
                           "memory blocks of node %d: %s onlined, %s already online"
                           % (node, bl["onlined"], bl["already_online"]),
                           "onlining node %d: %s" % (node, bl))
        before_kb = self.boot.nodes.get(node, 0)
        after_kb = after.nodes.get(node, 0)
        if self.kmem_at_boot(node):
            self.check(MIN_FRACTION * size <= after_kb * 1024 <= size,
                       "node %d MemTotal %d kB (node size %s): onlined by the kernel at boot"
                       % (node, after_kb, fmt_size(size)),
                       "node %d MemTotal %d kB after onlining, want about %d kB"
                       % (node, after_kb, size // 1024))
            return
        grew = (after_kb - before_kb) * 1024
        self.check(MIN_FRACTION * size <= grew <= size,
                   "node %d MemTotal %d kB -> %d kB (+%s, node size %s)"
                   % (node, before_kb, after_kb, fmt_size(grew) if grew > 0 else grew, fmt_size(size)),
                   "node %d MemTotal %d kB -> %d kB: grew by %d bytes, want about %d"
                   % (node, before_kb, after_kb, grew, size))

    def node_dax(self, node, spm):
        """The dax devices on NODE: SPM bytes of them, or none at all."""
        dax = [d for d in self.boot.dax if d["target_node"] == node]
        if spm:
            self.check(sum(d["size"] for d in dax) == spm,
                       "node %d also has %s of dax devices: %s" % (
                           node, fmt_size(spm), ", ".join(d["name"] for d in dax)),
                       "node %d: want %d bytes of dax devices, guest has %s"
                       % (node, spm, dax or "none"))
        else:
            self.check(not dax, "no dax device on node %d" % node,
                       "unexpected dax device on node %d: %s" % (node, dax))

    def c_reserved(self, node, start, size):
        if not self.need_boot():
            return
        end = start + size
        b = self.boot
        ents = self.map_entries(start, end)
        cover = [x for x in ents if x[2] == "reserved" and x[0] <= start and x[1] >= end]
        others = [x for x in ents if x[2] != "reserved"]
        self.check(cover and not others,
                   "guest e820: %s" % self.show_map(start, end),
                   "guest e820 does not show node %d %s as reserved: %s"
                   % (node, fmt_range(start, end), self.show_map(start, end)))
        if b.efi:
            eents = self.efi_entries(start, end)
            self.check(eents and all(x[2] == "Reserved" for x in eents),
                       "firmware EFI map: %s" % self.show_efi(start, end),
                       "firmware EFI map for node %d: %s" % (node, self.show_efi(start, end)))
        io = covering(b.iomem, start, end)
        self.check(not self.ram_overlap(b, start, end) and any(x[2] == "Reserved" for x in io),
                   "/proc/iomem: %s" % ", ".join("%s %s" % (fmt_range(s, e), n) for s, e, n in io),
                   "/proc/iomem for node %d: %s" % (node, io))
        self.node_dax(node, 0)

    def c_normal(self, node, start, size, spm=0):
        # spm: bytes of soft reserved memory the node also has, as dax
        # devices (a -device sp-mem on this node)
        if not self.need_boot():
            return
        end = start + size
        b = self.boot
        ents = self.map_entries(start, end)
        self.check(ents and all(x[2] == "usable" for x in ents)
                   and min(x[0] for x in ents) <= start and max(x[1] for x in ents) >= end,
                   "guest e820: %s" % self.show_map(start, end),
                   "guest e820 does not show node %d %s as usable: %s"
                   % (node, fmt_range(start, end), self.show_map(start, end)))
        ram = self.ram_overlap(b, start, end)
        covered = sum(min(e, end) - max(s, start) for s, e, _ in ram)
        self.check(covered == size, "/proc/iomem: System RAM covers %s" % fmt_range(start, end),
                   "/proc/iomem: System RAM covers %d of %d bytes of node %d" % (covered, size, node))
        kb = b.nodes.get(node, 0)
        self.check(MIN_FRACTION * size <= kb * 1024 <= size,
                   "node %d MemTotal %d kB (node size %s)" % (node, kb, fmt_size(size)),
                   "node %d MemTotal %d kB, want about %d kB" % (node, kb, size // 1024))
        self.node_dax(node, spm)

    def c_absent(self, node, start, size):
        if not self.need_boot():
            return
        end = start + size
        b = self.boot
        label = "firmware limitation (SeaBIOS drops type 0xEFFFFFFF)"
        ents = self.map_entries(start, end)
        self.check(not ents,
                   "%s: node %d %s is ABSENT from the guest e820" % (label, node, fmt_range(start, end)),
                   "%s no longer holds? guest e820 for node %d: %s"
                   % (label, node, self.show_map(start, end)))
        io = [x for x in covering(b.iomem, start, end) if not x[2].startswith("PCI Bus")]
        self.check(not io, "%s: nothing at %s in /proc/iomem" % (label, fmt_range(start, end)),
                   "/proc/iomem for node %d: %s" % (node, io))
        self.check(not b.softres, "%s: kernel saw no soft reserved memory" % label,
                   "kernel logged soft reserved memory: %s" % b.softres)
        dax = [d for d in b.dax if d["target_node"] == node]
        self.check(not dax, "%s: no dax device for node %d" % (label, node),
                   "dax device on node %d: %s" % (node, dax))

    def c_merged(self, start, size):
        """the firmware's EFI map has ONE EFI_MEMORY_SP descriptor for the
        adjacent spm ranges [start, start + size) that QEMU published as
        separate e820 entries"""
        if not self.need_boot():
            return
        end = start + size
        label = "firmware behaviour (OVMF merges adjacent soft-reserved ranges)"
        fw = [x for x in (self.boot.fwcfg or []) if x[2] == 0xEFFFFFFF
              and start <= x[0] and x[0] + x[1] <= end]
        sp = [x for x in self.efi_entries(start, end) if "SP" in x[3]]
        if len(sp) == 1 and sp[0][0] <= start and sp[0][1] >= end and len(fw) > 1:
            self.ok("%s: QEMU published %d entries (%s), the firmware EFI map has one "
                    "descriptor %s %s+SP" % (label, len(fw), ", ".join(
                        fmt_range(s, s + n) for s, n, _ in fw),
                        fmt_range(sp[0][0], sp[0][1]), sp[0][2]))
        else:
            self.fail("%s no longer holds: QEMU published %d entries, firmware EFI map: %s"
                      % (label, len(fw), self.show_efi(start, end)))

    def c_one_device(self, node, start, size):
        """without per-node information (no HMAT) Linux makes one dax
        device of the merged range, on the node of its first address"""
        if not self.need_boot():
            return
        label = "kernel behaviour without HMAT (one soft reserved range, one device)"
        dax = self.boot.dax
        if len(dax) == 1 and dax[0]["target_node"] == node and dax[0]["size"] == size \
                and dax[0]["start"] in (None, start):
            self.ok("%s: %s target_node=%d size=%d (%s) covers %s: the memory of the "
                    "later nodes is attributed to node %d"
                    % (label, dax[0]["name"], node, size, fmt_size(size),
                       fmt_range(start, start + size), node))
        else:
            self.fail("%s no longer holds: guest has %s" % (label, "; ".join(
                "%s target_node=%d size=%d" % (d["name"], d["target_node"], d["size"])
                for d in dax) or "no dax device"))

    def bios_map(self):
        m = self.rep.bios_e820
        if m is None:
            self.fail("no SeaBIOS 'e820 map has N items' dump in the log")
        return m

    def show_bios(self, start, end):
        m = covering(self.rep.bios_e820 or [], start, end)
        return ", ".join("%s type 0x%x (%s)" % (fmt_range(s, e), t, E820_NAMES.get(t, "?"))
                         for s, e, t in m) or "no entry"

    def c_bios_absent(self, start, size):
        m = self.bios_map()
        if m is None:
            return
        end = start + size
        self.check(not covering(m, start, end),
                   "firmware limitation (SeaBIOS drops type 0xEFFFFFFF): %s ABSENT from "
                   "the e820 map %s hands to the OS"
                   % (fmt_range(start, end), self.rep.bios_version or "SeaBIOS"),
                   "SeaBIOS's e820 now has something at %s: %s: firmware behaviour changed"
                   % (fmt_range(start, end), self.show_bios(start, end)))

    def c_bios_reserved(self, start, size):
        m = self.bios_map()
        if m is None:
            return
        end = start + size
        self.check([x for x in m if x[0] <= start and x[1] >= end and x[2] == 2],
                   "SeaBIOS e820: %s" % self.show_bios(start, end),
                   "SeaBIOS e820 lacks reserved %s: %s" % (fmt_range(start, end),
                                                            self.show_bios(start, end)))

    def c_bios_spm(self, start, size):
        m = self.bios_map()
        if m is None:
            return
        end = start + size
        self.check((start, end, 0xEFFFFFFF) in m,
                   "SeaBIOS e820 (%s): %s" % (self.rep.bios_version or "SeaBIOS",
                                             self.show_bios(start, end)),
                   "SeaBIOS e820 lacks soft reserved %s as an entry of its own: %s"
                   % (fmt_range(start, end), self.show_bios(start, end)))

    def c_bios_nowarn(self):
        n = self.rep.bios_nomem
        self.check(not n, "no allocation warning from SeaBIOS (its map never overflowed)",
                   "SeaBIOS: %s (%d warnings): its e820 map overflowed"
                   % (n[0] if n else "", len(n)))

    def c_bios_ram(self, start, end):
        m = self.bios_map()
        if m is None:
            return
        ram = sum(min(e, end) - max(s, start) for s, e, t in covering(m, start, end) if t == 1)
        self.check(ram >= end - start - (1 << 20),
                   "SeaBIOS e820: RAM covers %s of %s" % (fmt_size(ram) if ram % 1024 == 0
                                                           else ram, fmt_range(start, end)),
                   "SeaBIOS e820: RAM covers only %d of the %d bytes of %s"
                   % (ram, end - start, fmt_range(start, end)))

    def c_ram(self, low, high):
        if not self.need_boot():
            return
        ents = self.boot.e820
        usable = [(s, e) for s, e, t in ents if t == "usable"]

        def clip(rs, a, b):
            return sum(max(0, min(e, b) - max(s, a)) for s, e in rs)
        hi = clip(usable, GIB4, 1 << 64)
        lo = clip(usable, 0, low)
        stray = clip(usable, low, GIB4)
        # [0, low) without the legacy hole, and what of it the map covers
        # (entries do not overlap in the kernel's sanitised e820)
        want = low - (LEGACY_HOLE[1] - LEGACY_HOLE[0])
        mapped = clip([(s, e) for s, e, _ in ents], 0, low) - \
            clip([(s, e) for s, e, _ in ents], *LEGACY_HOLE)
        kept = mapped - lo + clip(usable, *LEGACY_HOLE)
        self.check(hi == high,
                   "guest e820: %s usable above 4 GiB, the normal memory QEMU gave there"
                   % fmt_size(hi),
                   "guest e820: %d bytes usable above 4 GiB, QEMU gave %d (%s) of normal "
                   "memory there: %s%d bytes" % (hi, high, fmt_size(high),
                                                  "+" if hi > high else "-", abs(hi - high)))
        self.check(mapped == want and kept <= FIRMWARE_OWN and not stray,
                   "guest e820: RAM below 4 GiB %s: %d KiB usable, %d KiB kept by the "
                   "firmware, no hole" % (fmt_range(0, low), lo >> 10, kept >> 10),
                   "guest e820: RAM below 4 GiB %s: %d of its %d bytes (legacy hole aside) "
                   "in the map, %d usable, %d kept by the firmware (at most %d), %d usable "
                   "above it" % (fmt_range(0, low), mapped, want, lo, kept, FIRMWARE_OWN, stray))

    def c_nodax(self):
        if not self.need_boot():
            return
        self.check(not self.boot.dax, "no dax device in the guest",
                   "unexpected dax devices: %s" % self.boot.dax)


def num(s):
    return int(s, 0)


def run_checks(rep, checks):
    c = Checker(rep)
    for spec in checks:
        name, *args = spec.split(":")
        fn = getattr(c, "c_" + name.replace("-", "_"), None)
        if fn is None:
            print("  FAIL  unknown check " + spec)
            c.failed += 1
            continue
        fn(*[num(a) for a in args])
    return c.failed


def demo(rep, node, start, size):
    end = start + size
    b = rep.phases.get("boot")
    a = rep.phases.get("online")
    if b is None:
        print("guest gave no report")
        return
    print("guest kernel:       %s" % b.kernel)
    for s, e, t, attrs in covering(b.efi, start, end):
        print("firmware (EFI map): %s %s, attributes %s"
              % (fmt_range(s, e), t, "|".join(sorted(attrs))))
    for s, e, t in covering(b.e820, start, end):
        print("kernel e820:        BIOS-e820: %s %s" % (fmt_range(s, e), t))
    tree = [n for s, e, n in covering(b.iomem, start, end) if not n.startswith("PCI")]
    tree += [n for s, e, n, _ in covering(b.iomem_sub, start, end)]
    print("/proc/iomem:        %x-%x : %s" % (start, end - 1, " > ".join(tree) or "nothing"))
    for d in b.dax:
        print("dax device:         /dev/%s  target_node=%d  size=%d (%s)"
              % (d["name"], d["target_node"], d["size"], fmt_size(d["size"])))
    before = b.nodes.get(node)
    print("node %d memory before onlining: %s"
          % (node, "%d kB" % before if before is not None else "none (node has no RAM yet)"))
    if a is not None:
        for k in rep.kmem:
            print("onlining:           %s bound to %s" % tuple(k.split(" driver=")))
        for bl in rep.blocks:
            print("onlining:           node %s: %s memory blocks onlined"
                  % (bl["node"], bl["onlined"]))
        print("node %d memory after onlining:  %s kB" % (node, a.nodes.get(node, 0)))
        tree = [n for s, e, n in covering(a.iomem, start, end) if not n.startswith("PCI")]
        tree += [n for s, e, n, _ in covering(a.iomem_sub, start, end)]
        print("/proc/iomem after:  %x-%x : %s" % (start, end - 1, " > ".join(tree)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("checks", nargs="*")
    ap.add_argument("--demo", metavar="NODE:START:SIZE")
    ap.add_argument("--json", action="store_true")
    o = ap.parse_args()
    rep = parse(o.log)
    if o.json:
        out = {k: {kk: (sorted(vv) if isinstance(vv, set) else vv)
                   for kk, vv in v.__dict__.items()} for k, v in rep.phases.items()}
        json.dump({"phases": out, "done": rep.done, "bios_e820": rep.bios_e820,
                   "kmem": rep.kmem, "blocks": rep.blocks}, sys.stdout, indent=1,
                  default=lambda x: sorted(x) if isinstance(x, set) else str(x))
        print()
        return 0
    if o.demo:
        demo(rep, *[num(x) for x in o.demo.split(":")])
        return 0
    return 1 if run_checks(rep, o.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
