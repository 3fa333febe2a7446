#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Measurements for scripts/bench.sh; each subcommand writes one JSON file.

  startup  --patched Q --base Q --iterations N --nodes 1,16,64,128 --out F
        QEMU start-up cost: launch -> QMP ready -> "quit" -> process gone,
        under the qtest accelerator with -S.  Our own interleaved loop:
        every iteration runs every configuration on both binaries, the
        order of the two binaries alternating from one iteration to the
        next (ABAB, BABA, ...), after one untimed warm-up run of each.
  e820     --patched Q --base Q --nodes ... --out F [--seabios BIOS]
        etc/e820 as published through fw_cfg (read with qemulib), for the
        same configurations and for the largest tables the option can
        produce; optionally SeaBIOS's own map for the largest tables.
  guest    --patched Q --reps N --out F   (needs assets.env variables)
        host RSS of a TCG + OVMF guest with a 4 GiB second node that is
        spm, normal, or absent, and spm onlined through kmem.

Every QEMU command line is recorded in the JSON, for the report.
"""

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import qemulib  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
TYPES = {1: "RAM", 2: "reserved", 3: "ACPI", 4: "NVS", 0xEFFFFFFF: "soft-reserved"}


# -- configurations ----------------------------------------------------------

def numa_args(nodes, types=None, low_mib=2048, node_mib=1024, reserve_off=True,
              machine="q35"):
    """-machine/-m/-object/-numa arguments for @nodes NUMA nodes: node 0
    holds all RAM below 4 GiB (max-ram-below-4g=low_mib), nodes 1.. are
    node_mib each above 4 GiB.  @types: list of memmap-type per node
    (None or '-' = option absent)."""
    total = low_mib + (nodes - 1) * node_mib
    args = ["-machine", f"{machine},max-ram-below-4g={low_mib}M",
            "-m", f"{total}M"]
    ro = ",reserve=off" if reserve_off else ""
    for i in range(nodes):
        size = low_mib if i == 0 else node_mib
        args += ["-object", f"memory-backend-ram,id=m{i},size={size}M{ro}"]
    for i in range(nodes):
        opt = f"node,nodeid={i},memdev=m{i}"
        if i == 0:
            opt += ",cpus=0"
        t = types[i] if types else None
        if t and t != "-":
            opt += f",memmap-type={t}"
        args += ["-numa", opt]
    return args


def mixed_types(nodes):
    """node 0 default; then spm, reserved, normal, spm, ..."""
    cyc = ["spm", "reserved", "normal"]
    return ["-"] + [cyc[(i - 1) % 3] for i in range(1, nodes)]


def alternating(nodes, a, b="normal"):
    return ["-"] + [a if i % 2 else b for i in range(1, nodes)]


def startup_configs(node_counts):
    """(name, nodes, variant, types, binaries) in a fixed order"""
    out = []
    for n in node_counts:
        out.append((f"{n}-plain", n, "plain", None, ("base", "patched")))
        if n > 1:
            out.append((f"{n}-mixed", n, "mixed", mixed_types(n), ("patched",)))
    return out


def shell_join(cmd):
    import shlex
    return " ".join(shlex.quote(c) for c in cmd)


# -- start-up ------------------------------------------------------------------

def one_start(binary, args, timeout):
    """seconds to QMP ready, seconds to exit, CPU seconds of QEMU"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    vm = qemulib.Qemu(binary, ["-S"] + args, accel="qtest", timeout=timeout)
    vm.start()
    t1 = time.perf_counter()
    vm.stop()
    t2 = time.perf_counter()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if vm.returncode != 0:
        raise RuntimeError(f"QEMU exited with {vm.returncode}: {vm.stderr.strip()}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return t1 - t0, t2 - t0, cpu, vm.cmd


def median_ratio_ci(a, b, seed=1, rounds=2000):
    """95% bootstrap interval of median(a)/median(b)"""
    rnd = random.Random(seed)
    rs = []
    for _ in range(rounds):
        ra = statistics.median(rnd.choices(a, k=len(a)))
        rb = statistics.median(rnd.choices(b, k=len(b)))
        rs.append(ra / rb)
    rs.sort()
    return rs[int(0.025 * rounds)], rs[int(0.975 * rounds) - 1]


def cmd_startup(o):
    bins = {"patched": o.patched}
    if o.base:
        bins["base"] = o.base
    configs = startup_configs(o.nodes)
    samples = {}        # (config, binary) -> {"ready": [], "total": [], "cpu": []}
    cmds = {}
    todo = []
    for name, n, variant, types, which in configs:
        args = numa_args(n, types)
        for b in which:
            if b in bins:
                todo.append((name, b, args))
    # warm-up (page cache, first-run effects), not timed
    for name, b, args in todo:
        _, _, _, cmd = one_start(bins[b], args, o.timeout)
        cmds[f"{name}/{b}"] = shell_join(cmd)
    for it in range(o.iterations):
        for name, n, variant, types, which in configs:
            order = [b for b in which if b in bins]
            if it % 2:
                order.reverse()
            args = numa_args(n, types)
            for b in order:
                ready, total, cpu, _ = one_start(bins[b], args, o.timeout)
                s = samples.setdefault(f"{name}/{b}",
                                       {"ready": [], "total": [], "cpu": []})
                s["ready"].append(ready)
                s["total"].append(total)
                s["cpu"].append(cpu)
        print(f"startup: iteration {it + 1}/{o.iterations} done", file=sys.stderr)
    rows = []
    for name, n, variant, types, which in configs:
        row = {"config": name, "nodes": n, "variant": variant}
        for b in which:
            s = samples.get(f"{name}/{b}")
            if not s:
                continue
            row[b] = {k: {"median": statistics.median(v),
                          "p25": statistics.quantiles(v, n=4)[0] if len(v) > 1 else v[0],
                          "p75": statistics.quantiles(v, n=4)[2] if len(v) > 1 else v[0],
                          "n": len(v), "samples": v}
                      for k, v in s.items()}
        if "base" in row and "patched" in row:
            for k in ("total", "cpu"):
                a, b = row["patched"][k]["samples"], row["base"][k]["samples"]
                ratio = statistics.median(a) / statistics.median(b)
                lo, hi = median_ratio_ci(a, b) if len(a) > 2 else (ratio, ratio)
                row[f"ratio_{k}"] = {"ratio": ratio, "ci95": [lo, hi]}
        if variant == "mixed":
            plain = next((r for r in rows if r["nodes"] == n and r["variant"] == "plain"), None)
            if plain and "patched" in row:
                for ref in ("patched", "base"):
                    if ref in plain:
                        for k in ("total", "cpu"):
                            a = row["patched"][k]["samples"]
                            b = plain[ref][k]["samples"]
                            ratio = statistics.median(a) / statistics.median(b)
                            lo, hi = median_ratio_ci(a, b) if len(a) > 2 else (ratio, ratio)
                            row[f"ratio_{k}_vs_{ref}_plain"] = {"ratio": ratio, "ci95": [lo, hi]}
        rows.append(row)
    json.dump({"iterations": o.iterations, "binaries": bins, "rows": rows,
               "commands": cmds}, open(o.out, "w"), indent=1)


# -- e820 --------------------------------------------------------------------

def read_e820(binary, args, timeout):
    with qemulib.Qemu(binary, ["-S"] + args, accel="qtest", timeout=timeout) as vm:
        table = vm.e820()
        cmd = vm.cmd
    return table, cmd


def describe(table):
    counts = {}
    for _, _, t in table:
        k = TYPES.get(t, hex(t))
        counts[k] = counts.get(k, 0) + 1
    return counts


def seabios_map(binary, args, bios, timeout):
    """SeaBIOS's own e820 map (firmware only, no OS): number of items and
    any warning it printed"""
    with tempfile.TemporaryDirectory(prefix="bench-seabios-") as d:
        log = os.path.join(d, "fw.log")
        cmd = [binary, "-accel", "tcg", "-display", "none", "-nodefaults",
               "-no-reboot", "-boot", "strict=on,reboot-timeout=0",
               "-bios", bios, "-chardev", f"file,id=fw,path={log}",
               "-device", "isa-debugcon,iobase=0x402,chardev=fw"] + args
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
    m = re.findall(r"e820 map has (\d+) items", text)
    version = re.search(r"SeaBIOS \(version ([^)]*)\)", text)
    warn = [l.strip() for l in text.splitlines()
            if re.search(r"WARNING|overflow|Unable", l, re.I)]
    items = []
    if m:
        tail = text[text.rfind("e820 map has"):].splitlines()[1:]
        for l in tail:
            mm = re.match(r"\s*\d+: ([0-9a-f]+) - ([0-9a-f]+) = (\d+)", l)
            if not mm:
                break
            items.append([int(mm.group(1), 16), int(mm.group(2), 16), int(mm.group(3))])
    low_ram = any(t == 1 and a <= 0x100000 and b >= 0x200000 for a, b, t in items)
    return {"items": int(m[-1]) if m else None, "low_ram_kept": low_ram, "version": version.group(1) if version else None,
            "warnings": warn[:5], "n_warnings": len(warn), "map": items,
            "returncode": p.returncode, "cmd": shell_join(cmd)}


def cmd_e820(o):
    bins = {"patched": o.patched}
    if o.base:
        bins["base"] = o.base
    cases = []
    for name, n, variant, types, which in startup_configs(o.nodes):
        cases.append((name, n, types, which, f"{n} node(s), " +
                      ("no memmap-type" if types is None else "mixed types (spm, reserved, normal, ...)")))
    big = max(o.nodes)
    cases.append((f"{big}-alt-spm", big, alternating(big, "spm"), ("patched",),
                  f"{big} nodes, alternating spm/normal (largest table)"))
    cases.append((f"{big}-alt-reserved", big, alternating(big, "reserved"), ("patched",),
                  f"{big} nodes, alternating reserved/normal (largest table SeaBIOS keeps)"))
    rows = []
    for name, n, types, which, desc in cases:
        args = numa_args(n, types)
        row = {"config": name, "nodes": n, "desc": desc}
        for b in which:
            if b not in bins:
                continue
            table, cmd = read_e820(bins[b], args, o.timeout)
            row[b] = {"entries": len(table), "by_type": describe(table),
                      "table": table, "cmd": shell_join(cmd)}
        if "base" in row and "patched" in row:
            row["identical"] = row["base"]["table"] == row["patched"]["table"]
        rows.append(row)
        print(f"e820: {name}: " + ", ".join(f"{b} {row[b]['entries']}" for b in which if b in row),
              file=sys.stderr)
    sea = []
    if o.seabios:
        # Small nodes (64 MiB): SeaBIOS touches little, and the count is
        # what matters.
        sea_cases = [(f"{n}-mixed", mixed_types(n)) for n in o.nodes if n > 1]
        sea_cases += [(f"{big}-alt-spm", alternating(big, "spm")),
                      (f"{big}-alt-reserved", alternating(big, "reserved"))]
        for name, types in sea_cases:
            args = numa_args(len(types), types, node_mib=64)
            r = seabios_map(o.patched, args, o.seabios, o.timeout)
            r["config"] = name
            sea.append(r)
            print(f"e820: SeaBIOS {name}: {r['items']} items, {r['n_warnings']} warnings",
                  file=sys.stderr)
        # Smallest node count whose table SeaBIOS no longer holds intact
        # (a warning, or the RAM at 1 MiB lost), by bisection.
        limits = {}
        if o.seabios_limit:
            for kind in ("spm", "reserved"):
                def broken(n):
                    r = seabios_map(o.patched, numa_args(n, alternating(n, kind), node_mib=64),
                                    o.seabios, o.timeout)
                    return r["n_warnings"] > 0 or not r["low_ram_kept"], r["items"]
                lo, hi = 2, big           # broken(hi) assumed; checked below
                bh, _ = broken(hi)
                if not bh:
                    limits[kind] = {"first_broken_nodes": None}
                    continue
                last_ok_items = None
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    b, items = broken(mid)
                    if b:
                        hi = mid
                    else:
                        lo, last_ok_items = mid, items
                n_ok = lo
                qemu_entries = len(read_e820(o.patched, numa_args(n_ok, alternating(n_ok, kind),
                                                                  node_mib=64), o.timeout)[0])
                limits[kind] = {"first_broken_nodes": hi, "last_ok_nodes": n_ok,
                                "last_ok_seabios_items": last_ok_items,
                                "last_ok_qemu_entries": qemu_entries}
                print(f"e820: SeaBIOS alternating {kind}/normal: intact up to {n_ok} nodes, "
                      f"broken from {hi}", file=sys.stderr)
        sea_limits = limits
    else:
        sea_limits = {}
    json.dump({"rows": rows, "seabios": sea, "seabios_limits": sea_limits},
              open(o.out, "w"), indent=1)


# -- guest RSS -----------------------------------------------------------------

def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            k, _, v = l.partition(":")
            if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])          # kB
    return out


def mapping_rss(pid, size_kb):
    """Rss (kB) of the mappings whose size is in [size_kb, size_kb + 8 MiB]:
    the RAM block of one memory backend"""
    rss, found, cur = 0, 0, None
    with open(f"/proc/{pid}/smaps") as f:
        for l in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", l):
                cur = None
            elif l.startswith("Size:"):
                kb = int(l.split()[1])
                cur = size_kb <= kb <= size_kb + 8192
                found += bool(cur)
            elif l.startswith("Rss:") and cur:
                rss += int(l.split()[1])
    return rss if found else None


GUEST_CASES = [
    # name, node-1 type (None: no node 1), extra kernel arguments
    ("absent", None, ""),
    ("normal", "normal", ""),
    ("spm", "spm", ""),
    ("spm-online", "spm", "memmap_demo=online"),
    # Control: any memory above 4 GiB (SRAT) makes Linux allocate its
    # 64 MiB swiotlb bounce buffer in node 0; this run turns that off.
    ("spm-noswiotlb", "spm", "swiotlb=noforce"),
]


def guest_cmd(case, tmp, log, env, node1_mib):
    name, t, extra = case
    nodes = 1 if t is None else 2
    types = ["-"] + ([t] if t else [])
    args = ["-cpu", "qemu64", "-smp", "1"] + numa_args(nodes, types, node_mib=node1_mib,
                                                    reserve_off=False)
    vars_copy = os.path.join(tmp, "OVMF_VARS.fd")
    shutil.copy(env["GUEST_OVMF_VARS"], vars_copy)
    append = "console=ttyS0 panic=-1 oops=panic"
    if extra:
        append += " " + extra
    args += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={env['GUEST_OVMF_CODE']}",
             "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
             "-kernel", env["GUEST_KERNEL"], "-initrd", env["GUEST_INITRD"],
             "-append", append, "-no-shutdown",
             "-chardev", f"file,id=con,path={log}", "-serial", "chardev:con"]
    return args


def one_guest(binary, case, env, node1_mib, timeout, logdir, prefix):
    name = case[0]
    with tempfile.TemporaryDirectory(prefix="bench-guest-") as tmp:
        log = os.path.join(logdir, f"{prefix}-{name}.log")
        if os.path.exists(log):
            os.unlink(log)
        args = guest_cmd(case, tmp, log, env, node1_mib)
        t0 = time.perf_counter()
        vm = qemulib.Qemu(binary, args, accel="tcg", timeout=30)
        vm.start()
        try:
            pid = vm.proc.pid
            done = None
            while time.perf_counter() - t0 < timeout:
                text = open(log, errors="replace").read() if os.path.exists(log) else ""
                if "@@ DONE" in text and done is None:
                    done = time.perf_counter() - t0
                if vm.qmp("query-status")["status"] in ("shutdown", "guest-panicked",
                                                        "internal-error"):
                    break
                time.sleep(0.1)
            status = vm.qmp("query-status")["status"]
            st = proc_status(pid)
            node1 = mapping_rss(pid, node1_mib * 1024) if case[1] else None
            node0 = mapping_rss(pid, 2048 * 1024)
            text = open(log, errors="replace").read()
            memtotal = {m.group(1): int(m.group(2)) for m in
                        re.finditer(r"@@ node (\d+) (\d+)", text)}
            online = re.findall(r"@@ blocks node=(\d+) onlined=(\d+)", text)
            cmd = vm.cmd
        finally:
            vm.stop()
    ok = done is not None and status == "shutdown"
    return {"case": name, "ok": ok, "status": status, "boot_s": done,
            "VmHWM_kB": st.get("VmHWM"), "VmRSS_kB": st.get("VmRSS"),
            "RssAnon_kB": st.get("RssAnon"), "node0_rss_kB": node0,
            "node1_rss_kB": node1, "guest_node_memtotal_kB": memtotal,
            "onlined_blocks": online, "cmd": shell_join(cmd), "log": log}


def cmd_guest(o):
    env = {k: os.environ[k] for k in ("GUEST_OVMF_CODE", "GUEST_OVMF_VARS",
                                       "GUEST_KERNEL", "GUEST_INITRD")}
    cases = [c for c in GUEST_CASES if c[0] in o.cases]
    runs = []
    for rep in range(o.reps):
        order = cases if rep % 2 == 0 else list(reversed(cases))
        for c in order:
            r = one_guest(o.patched, c, env, o.node1_mib, o.timeout, o.logdir, o.logprefix)
            r["rep"] = rep
            runs.append(r)
            print(f"guest: {c[0]} rep {rep + 1}: ok={r['ok']} boot={r['boot_s']} "
                  f"HWM={r['VmHWM_kB']} kB node1={r['node1_rss_kB']} kB", file=sys.stderr)
    summary = {}
    for c in cases:
        rs = [r for r in runs if r["case"] == c[0] and r["ok"]]
        if not rs:
            summary[c[0]] = None
            continue
        med = lambda k: statistics.median([r[k] for r in rs if r[k] is not None]) \
            if any(r[k] is not None for r in rs) else None
        summary[c[0]] = {k: med(k) for k in ("boot_s", "VmHWM_kB", "VmRSS_kB",
                                             "RssAnon_kB", "node0_rss_kB", "node1_rss_kB")}
        summary[c[0]]["n"] = len(rs)
        summary[c[0]]["memtotal"] = rs[-1]["guest_node_memtotal_kB"]
    json.dump({"node1_mib": o.node1_mib, "runs": runs,
               "kernel": os.environ.get("GUEST_KERNEL_PKG"),
               "ovmf": os.environ.get("GUEST_OVMF_PKG"), "summary": summary,
               "failed": sum(not r["ok"] for r in runs)}, open(o.out, "w"), indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("startup", "e820", "guest"):
        p = sub.add_parser(name)
        p.add_argument("--patched", required=True)
        p.add_argument("--base")
        p.add_argument("--out", required=True)
        p.add_argument("--timeout", type=float, default=60)
        p.add_argument("--nodes", type=lambda s: [int(x) for x in s.split(",")],
                       default=[1, 16, 64, 128])
        p.add_argument("--iterations", type=int, default=20)
        p.add_argument("--seabios")
        p.add_argument("--seabios-limit", action="store_true")
        p.add_argument("--reps", type=int, default=3)
        p.add_argument("--node1-mib", type=int, default=4096)
        p.add_argument("--cases", type=lambda s: s.split(","),
                       default=[c[0] for c in GUEST_CASES])
        p.add_argument("--logdir", default=os.path.join(ROOT, ".cache", "logs"))
        p.add_argument("--logprefix", default="bench-guest")
    o = ap.parse_args()
    {"startup": cmd_startup, "e820": cmd_e820, "guest": cmd_guest}[o.cmd](o)


if __name__ == "__main__":
    main()
