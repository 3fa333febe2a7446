#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""libvirt's memory figures of one running domain against what its guest
was given.

  memfigures.py --xml DOMAIN.xml --example EXAMPLE --dominfo FILE
                --dommemstat FILE [--serial LOG] [--known TSV]

DOMAIN.xml is the XML the domain was defined from, EXAMPLE its name in
contrib/libvirt (domain-hybrid.xml), FILE the output of "virsh dominfo"
and "virsh dommemstat" read while the domain ran, LOG the guest's serial
console with the report of tests/guest/init.

What the guest was given comes from the XML and from the guest, never
from virsh:
  - the XML: the sum of the <cell>s, plus every memory backend on
    <qemu:commandline> that a "-numa node,memdev=" or a "-device
    ...,memdev=" uses (libvirt generates no other guest memory for these
    examples), every <memory model='sp-mem'> device's size, and
    <currentMemory> against <memory> for the balloon;
  - the guest (LOG): QEMU's fw_cfg etc/e820 table as the guest read it:
    every entry (RAM, soft reserved, reserved) but QEMU's AMD HyperTransport
    hole (type 2 at 0xfd00000000, 12 GiB: QEMU's hw/i386/pc.c reserves it,
    it is no memory); must equal the XML's total.  The nodes' MemTotal
    (/sys/devices/system/node/nodeN/meminfo) is printed beside it.

Then virsh dominfo's "Max memory" and "Used memory" must be that total
(less <memory> - <currentMemory>), and virsh dommemstat must have an
"actual" of the same size when the domain has a balloon (the default)
and none when <memballoon model='none'/>.

A figure that differs is a failure, unless TSV lists it for EXAMPLE
(columns: example, figure max|used|actual, what libvirt reports instead:
"cells" = the sum of the <cell>s, the reason): then it must be exactly
that value, and it is printed as "KNOWN" with the reason.  A listed
figure that is right is a failure too (the list is out of date).

Last, Used memory must not be above Max memory (libvirt's own model;
never a known limitation).

One line per check ("ok", "KNOWN" or "FAIL"); the last line a summary;
exit status 1 when a line is FAIL.
"""

import argparse
import re
import struct
import sys
import xml.etree.ElementTree as ET

Q = "{http://libvirt.org/schemas/domain/qemu/1.0}"
KIB = 1024
# libvirt's units (docs/formatdomain: "memory" element)
LV_UNITS = {"b": 1, "bytes": 1, "KB": 1000, "k": KIB, "KiB": KIB,
            "MB": 1000**2, "M": KIB**2, "MiB": KIB**2, "GB": 1000**3,
            "G": KIB**3, "GiB": KIB**3, "TB": 1000**4, "T": KIB**4,
            "TiB": KIB**4}
# QEMU's size suffixes (qemu_strtosz: binary, no suffix = bytes)
Q_UNITS = {"": 1, "B": 1, "K": KIB, "M": KIB**2, "G": KIB**3, "T": KIB**4}
AMD_HT_START, AMD_HT_SIZE = 0xFD00000000, 0x300000000


def lv_bytes(el, default_unit="KiB"):
    return int(el.text.strip()) * LV_UNITS[el.get("unit", default_unit)]


def q_bytes(s):
    m = re.fullmatch(r"(\d+)([BKMGT]?)", s.strip(), re.I)
    if not m:
        raise ValueError("size '%s'" % s)
    return int(m.group(1)) * Q_UNITS[m.group(2).upper()]


def kv(opt):
    """QEMU's key=value option string as a dict (first bare word: '')"""
    d = {}
    for i, part in enumerate(opt.split(",")):
        if "=" in part:
            k, v = part.split("=", 1)
            d[k] = v
        elif i == 0:
            d[""] = part
    return d


def from_xml(path):
    d = ET.parse(path).getroot()
    cells = 0
    for c in d.findall("./cpu/numa/cell"):
        cells += int(c.get("memory")) * LV_UNITS[c.get("unit", "KiB")]
    memory = lv_bytes(d.find("memory"))
    cur = d.find("currentMemory")
    current = lv_bytes(cur) if cur is not None else memory
    mb = d.find("./devices/memballoon")
    balloon = mb is None or mb.get("model") != "none"
    # memory devices (<memory model='sp-mem'> of patches/libvirt/): guest
    # memory beside the cells, their <target><size>
    mdev = 0
    for m in d.findall("./devices/memory"):
        if m.get("model") != "sp-mem":
            raise ValueError(f"<memory model='{m.get('model')}'>: not modelled by this check")
        mdev += lv_bytes(m.find("./target/size"))
    args = [a.get("value") for a in d.iter(Q + "arg")]
    backends, numa, devs = {}, [], []
    for opt, val in zip(args, args[1:]):
        o = kv(val)
        if opt == "-object" and o.get("", "").startswith("memory-backend-"):
            backends[o["id"]] = q_bytes(o["size"])
        elif opt == "-numa" and o.get("", "node") == "node" and "memdev" in o:
            numa.append(o["memdev"])
        elif opt == "-device" and "memdev" in o:
            devs.append(o["memdev"])
    pass_numa = sum(backends[m] for m in numa)
    pass_dev = sum(backends[m] for m in devs)
    return {"cells": cells, "memory": memory, "current": current,
            "balloon": balloon, "pass_numa": pass_numa,
            "pass_dev": pass_dev, "mdev": mdev,
            "given": (cells or memory) + pass_numa + pass_dev + mdev}


def from_guest(path):
    e820, nodes = None, []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace").strip("\r\n")
            if line.startswith("@@ fwcfg-e820 ") and e820 is None:
                e820 = bytes.fromhex(line.split()[2])
            m = re.match(r"@@ node (\d+) (\d+)$", line)
            if m:
                nodes.append((int(m.group(1)), int(m.group(2))))
    if e820 is None:
        return None, nodes
    total = 0
    for i in range(0, len(e820) - 19, 20):
        addr, size, typ = struct.unpack("<QQI", e820[i:i + 20])
        if (addr, size, typ) == (AMD_HT_START, AMD_HT_SIZE, 2):
            continue
        total += size
    return total, nodes


def virsh_kib(path, pattern):
    with open(path) as f:
        for line in f:
            m = re.match(pattern, line.strip())
            if m:
                return int(m.group(1))
    return None


def gib(b):
    return "%g GiB" % (b / KIB**3) if b is not None else "none"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xml", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--dominfo", required=True)
    ap.add_argument("--dommemstat", required=True)
    ap.add_argument("--serial")
    ap.add_argument("--known")
    a = ap.parse_args()

    x = from_xml(a.xml)
    known = {}
    if a.known:
        with open(a.known) as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                ex, fig, val, why = line.rstrip("\n").split("\t", 3)
                if ex == a.example:
                    known[fig] = (val, why)
    nfail = 0
    out = []

    def say(tag, text):
        nonlocal nfail
        nfail += tag == "FAIL"
        out.append("%-5s %s" % (tag, text))

    given = x["given"]
    src = "XML: cells %s" % gib(x["cells"])
    if x["pass_numa"]:
        src += " + <qemu:commandline> -numa memdev %s" % gib(x["pass_numa"])
    if x["pass_dev"]:
        src += " + <qemu:commandline> -device memdev %s" % gib(x["pass_dev"])
    if x["mdev"]:
        src += " + <memory model='sp-mem'> %s" % gib(x["mdev"])
    say("ok", "given (%s) = %s" % (src, gib(given)))
    if a.serial:
        seen, nodes = from_guest(a.serial)
        mt = ", ".join("node %d %d kB" % n for n in nodes) or "none"
        if seen is None:
            say("FAIL", "the guest's report has no fwcfg-e820 line (%s)" % a.serial)
        elif seen == given:
            say("ok", "guest: QEMU's etc/e820 sums to %s (%d bytes) = given; MemTotal %s"
                % (gib(seen), seen, mt))
        else:
            say("FAIL", "guest: QEMU's etc/e820 sums to %s (%d bytes), the XML gives %s; MemTotal %s"
                % (gib(seen), seen, gib(given), mt))

    want_used = given - (x["memory"] - x["current"])
    figs = {
        "max": ("virsh dominfo Max memory",
                virsh_kib(a.dominfo, r"Max memory:\s+(\d+) KiB"), given),
        "used": ("virsh dominfo Used memory",
                 virsh_kib(a.dominfo, r"Used memory:\s+(\d+) KiB"), want_used),
        "actual": ("virsh dommemstat actual",
                   virsh_kib(a.dommemstat, r"actual\s+(\d+)$"),
                   want_used if x["balloon"] else None),
    }
    formulas = {"cells": x["cells"], "none": None}
    for fig, (what, kib, want) in figs.items():
        got = kib * KIB if kib is not None else None
        shown = "%d KiB (%s)" % (kib, gib(got)) if kib is not None else "absent"
        wshown = gib(want) if want is not None else "absent (<memballoon model='none'/>)"
        if fig in known:
            val, why = known[fig]
            if val not in formulas:
                say("FAIL", "%s: known-limitation value '%s' is not one of %s"
                    % (what, val, ", ".join(formulas)))
            elif got == want:
                say("FAIL", "%s %s is right, but %s lists it as a known limitation: remove the row"
                    % (what, shown, "tests/libvirt/" + a.known.rsplit("/", 1)[-1]))
            elif got == formulas[val]:
                say("KNOWN", "%s %s, the guest was given %s: known limitation (%s = %s): %s"
                    % (what, shown, wshown, val, gib(formulas[val]), why))
            else:
                say("FAIL", "%s %s, the guest was given %s, and it is not the listed %s (%s) either"
                    % (what, shown, wshown, val, gib(formulas[val])))
        elif got == want and want is None:
            say("ok", "%s absent: the domain has no balloon (<memballoon model='none'/>)" % what)
        elif got == want:
            say("ok", "%s %s = given" % (what, shown))
        elif fig == "actual" and want is None:
            say("FAIL", "%s %s, but the domain has no balloon (<memballoon model='none'/>)" % (what, shown))
        elif fig == "actual" and got is None:
            say("FAIL", "%s absent: the domain has a balloon, expected %s" % (what, wshown))
        else:
            say("FAIL", "%s %s, the guest was given %s" % (what, shown, wshown))
    # libvirt's own model: what the guest uses is at most its maximum
    mx, us = figs["max"][1], figs["used"][1]
    if mx is None or us is None:
        say("FAIL", "virsh dominfo has no Max memory or Used memory line (%s)" % a.dominfo)
    elif us <= mx:
        say("ok", "Used memory %d KiB <= Max memory %d KiB" % (us, mx))
    else:
        say("FAIL", "Used memory %d KiB (%s) above Max memory %d KiB (%s): libvirt's figures contradict each other"
            % (us, gib(us * KIB), mx, gib(mx * KIB)))
    print("\n".join(out))
    # one line for a report: each figure, and whether right or known
    brief = []
    for fig, (what, kib, want) in figs.items():
        got = kib * KIB if kib is not None else None
        tag = "right" if got == want else ("known limitation" if fig in known else "WRONG")
        brief.append("%s %s (%s)" % (fig, gib(got) if got is not None else "absent", tag))
    print("figures: %s; the guest was given %s" % (", ".join(brief), gib(given)))
    nk = sum(1 for l in out if l.startswith("KNOWN"))
    print("memfigures: %d checks, %d failed, %d known limitations"
          % (len(out), nfail, nk))
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
