#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write BENCHMARKS.md (and the plot's data file) from the JSON files of
tests/bench/bench.py.  Called by scripts/bench.sh; every figure in the
output comes from those files.  Never fails on a number: a goal that is
not met is reported as such."""

import argparse
import json
import os
import re
import statistics

GiB = 1 << 30
ZEROPAGE = 128          # Linux E820_MAX_ENTRIES_ZEROPAGE (arch/x86/include/uapi/asm/setup_data.h)


def load(path):
    if path and os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return None


def ms(x):
    return f"{1000 * x:.1f}"


def mib(kb):
    return "–" if kb is None else f"{kb / 1024:.1f}"


def clean_cmd(cmd, root):
    """qemulib's temporary socket paths and the work tree, made readable"""
    cmd = re.sub(r"/tmp/qemulib-[^/ ]+/", "$TMP/", cmd)
    cmd = re.sub(r"/tmp/bench-[a-z]+-[^/ ]+/", "$TMP/", cmd)
    return cmd.replace(root + "/", "")


def short_cmd(cmd, root, keep=2):
    """A command line cut for reading: one option per line, and of the
    repeated -object memory-backend-* and -numa node options only the
    first KEEP each, the rest counted in a comment line"""
    words = clean_cmd(cmd, root).split(" ")
    lines, seen, cut = [words[0]], {}, {}
    i = 1
    while i < len(words):
        opt = [words[i]]
        if words[i].startswith("-") and i + 1 < len(words) and not words[i + 1].startswith("-"):
            opt.append(words[i + 1])
        i += len(opt)
        kind = None
        if opt[0] == "-object" and len(opt) > 1 and opt[1].startswith("memory-backend"):
            kind = "-object memory-backend-*"
        elif opt[0] == "-numa":
            kind = "-numa"
        if kind:
            seen[kind] = seen.get(kind, 0) + 1
            if seen[kind] > keep:
                cut[kind] = cut.get(kind, 0) + 1
                continue
        lines.append(" ".join(opt))
    text = " \\\n    ".join(lines)
    if cut:
        text += "\n# left out here: " + ", ".join(f"{n} more {k}" for k, n in cut.items())
    return text


# Long command lines go to a file of their own (docs/bench-commands.md);
# the report shows a short example and links to it.
COMMANDS = []


def long_cmd(out, title, cmd, root, link, show=True):
    """CMD whole in the commands file; in the report a link to it and,
    with SHOW, CMD cut short"""
    w = out.append
    anchor = re.sub(r"[^a-z0-9_ -]", "", title.lower()).replace(" ", "-")
    COMMANDS.append((title, clean_cmd(cmd, root)))
    w(f"{title}: {len(clean_cmd(cmd, root))} characters, whole in "
      f"[{link}]({link}#{anchor}){':' if show else '.'}\n")
    if show:
        w("```\n" + short_cmd(cmd, root) + "\n```\n")


def verdict_ratio(r, goal=1.01):
    lo, hi = r["ci95"]
    if r["ratio"] <= goal:
        return "met"
    if lo <= goal:
        return "not shown (ratio above goal, but within noise: 95% interval reaches it)"
    return "NOT met"


def startup_section(d, out, root, meta):
    w = out.append
    w("## 1. QEMU start-up cost\n")
    if not d:
        w("not measured in this run (the start-up step did not run or failed; see the log).\n")
        return
    w(f"Launch → QMP ready → `quit` → process gone, `-S`, qtest accelerator, "
      f"q35, `max-ram-below-4g=2G`: node 0 = 2 GiB below 4 GiB, nodes 1.. = 1 GiB "
      f"each above 4 GiB, every backend `memory-backend-ram,...,reserve=off`. "
      f"**Method: our own interleaved timing loop** (`tests/bench/bench.py startup`, "
      f"not hyperfine: hyperfine runs one command's samples back to back, we want "
      f"A/B interleaving): one untimed warm-up run of each configuration and binary, "
      f"then {d['iterations']} iterations; each iteration runs every configuration on "
      f"both binaries, the order of the two binaries alternating from one iteration "
      f"to the next. Wall time is measured in the client (QMP over a UNIX socket, "
      f"through `tests/lib/qemulib.py`); CPU time is QEMU's user+sys from "
      f"`getrusage(RUSAGE_CHILDREN)`. \"mixed\" = node 0 default, then "
      f"spm, reserved, normal, spm, ... (patched only: unpatched QEMU does not know "
      f"the option). Ratio = median(patched) / median(unpatched), with a 95% "
      f"bootstrap interval. Goal: ratio ≤ 1.01.\n")
    w("| nodes | memmap-type | unpatched median ms (p25–p75) | patched median ms (p25–p75) | ratio wall [95% CI] | goal, wall | ratio CPU [95% CI] | goal, CPU |")
    w("|---:|---|---:|---:|---:|---|---:|---|")
    verdicts = []
    fr = lambda r: f"{r['ratio']:.3f} [{r['ci95'][0]:.3f}–{r['ci95'][1]:.3f}]"
    for r in d["rows"]:
        def cell(b):
            if b not in r:
                return "–"
            t = r[b]["total"]
            return f"{ms(t['median'])} ({ms(t['p25'])}–{ms(t['p75'])})"
        if r["variant"] == "plain":
            if "ratio_total" in r:
                rt, rc = r["ratio_total"], r["ratio_cpu"]
                vw, vc = verdict_ratio(rt), verdict_ratio(rc)
                verdicts.append((r["nodes"], vw, vc))
                w(f"| {r['nodes']} | none | {cell('base')} | {cell('patched')} | "
                  f"{fr(rt)} | {vw} | {fr(rc)} | {vc} |")
            else:
                w(f"| {r['nodes']} | none | {cell('base')} | {cell('patched')} | – | not measured (no unpatched binary) | – | – |")
        else:
            rb, rbc = r.get("ratio_total_vs_base_plain"), r.get("ratio_cpu_vs_base_plain")
            rp, rpc = r.get("ratio_total_vs_patched_plain"), r.get("ratio_cpu_vs_patched_plain")
            own = (f"informative; vs patched without types: wall ×{rp['ratio']:.3f}, "
                   f"CPU ×{rpc['ratio']:.3f}") if rp else "informative"
            w(f"| {r['nodes']} | mixed | (vs no type) | {cell('patched')} | "
              f"{fr(rb) if rb else '–'} | {own} | {fr(rbc) if rbc else '–'} | informative |")
    w("")
    w("Verdicts: *met* = ratio ≤ 1.01; *not shown* = ratio above 1.01 but the 95% interval "
      "reaches 1.01 (indistinguishable from noise in this run); *NOT met* = the whole "
      "interval is above 1.01. Mixed-type rows are compared with the unpatched build "
      "without types (the option does not exist there), so they have no goal.\n")
    w("QMP-ready time alone (median ms, launch → `qmp_capabilities` answered):\n")
    w("| nodes | memmap-type | unpatched | patched |")
    w("|---:|---|---:|---:|")
    for r in d["rows"]:
        f = lambda b: ms(r[b]["ready"]["median"]) if b in r else "–"
        w(f"| {r['nodes']} | {'none' if r['variant'] == 'plain' else 'mixed'} | {f('base')} | {f('patched')} |")
    w("")
    if verdicts:
        mw = [str(n) for n, v, _ in verdicts if v == "met"]
        mc = [str(n) for n, _, v in verdicts if v == "met"]
        bad = [str(n) for n, v, c in verdicts if v.startswith("NOT") or c.startswith("NOT")]
        w(f"Goal (ratio ≤ 1.01, no memmap-type): wall time met for {len(mw)} of {len(verdicts)} "
          f"node counts ({', '.join(mw) or 'none'}), CPU time for {len(mc)} of {len(verdicts)} "
          f"({', '.join(mc) or 'none'}); clearly missed (whole interval above 1.01) for "
          f"{', '.join(bad) or 'none'}. The samples come from a shared 2-core machine (load "
          f"average {meta.get('load', '?')} at the start of this run): the wall-clock medians "
          f"carry that noise, the CPU-time ratio much less.\n")
    w("![Start-up time vs NUMA node count](docs/bench-startup.svg)\n")
    w("The configurations differ only in the number of `-object`/`-numa` options and "
      "the types, generated by `numa_args()` in `tests/bench/bench.py`; every command "
      f"line of this run is in [{LINK}]({LINK}) (`$TMP` "
      "is qemulib's temporary directory).\n")
    c = d["commands"].get("16-mixed/patched") or next(iter(d["commands"].values()))
    long_cmd(out, "Start-up, 16 nodes, mixed types", c, root, LINK)
    for k in sorted(d["commands"], key=lambda k: (int(k.split("-")[0]), k)):
        if k != "16-mixed/patched":
            COMMANDS.append((f"Start-up, {k}", clean_cmd(d["commands"][k], root)))


def e820_section(d, out, root):
    w = out.append
    w("## 2. e820 table size\n")
    if not d:
        w("not measured in this run.\n")
        return
    w("Entries of `etc/e820` as QEMU publishes it (read through fw_cfg with "
      "`tests/lib/qemulib.py`, qtest accelerator, default CPU `qemu64`, whose AMD "
      "vendor adds the HyperTransport reserved entry at 0xfd00000000), same "
      "configurations as above.\n")
    w("| configuration | unpatched entries | patched entries | by type (patched) | unpatched = patched |")
    w("|---|---:|---:|---|---|")
    for r in d["rows"]:
        b = r.get("base", {}).get("entries", "–")
        p = r["patched"]
        bt = ", ".join(f"{k} {v}" for k, v in p["by_type"].items())
        ident = {True: "identical", False: "**differs**"}.get(r.get("identical"), "–")
        w(f"| {r['desc']} | {b} | {p['entries']} | {bt} | {ident} |")
    w("")
    bigrow = max(d["rows"], key=lambda r: r["patched"]["entries"])
    biggest, nn = bigrow["patched"]["entries"], bigrow["nodes"]
    maxplain = max(r["patched"]["entries"] for r in d["rows"] if r["config"].endswith("-plain"))
    w(f"**Largest table the option can produce here: {biggest} entries** ({nn} NUMA nodes"
      f"{' (QEMU' + chr(39) + 's MAX_NODES)' if nn == 128 else ''} with no two neighbours of one "
      f"type: node 0's RAM below 4 GiB, {nn - 1} typed ranges above, plus the HyperTransport "
      f"entry; {biggest - 1} with an Intel CPU model). Without memmap-type the table has at "
      f"most {maxplain} entries whatever the node count (adjacent RAM of different nodes "
      f"stays one entry). Limits that matter:\n")
    fits = lambda n, lim: "yes" if n <= lim else f"**no** ({n} > {lim})"
    w("| consumer | limit | largest table fits? |")
    w("|---|---:|---|")
    w(f"| SeaBIOS 1.16.2 (bookworm), `CONFIG_MAX_E820` | 32 (QEMU's types 1/2 plus ~7 of SeaBIOS's own) | "
      f"{fits(biggest + 7, 32)}: measured below |")
    w(f"| SeaBIOS 1.16.3 and later | 128 (same) | {fits(biggest + 7, 128)} |")
    w(f"| Linux zero page, `E820_MAX_ENTRIES_ZEROPAGE` (BIOS int 15h path: `-kernel` under SeaBIOS) | "
      f"{ZEROPAGE} | {fits(biggest + 7, ZEROPAGE)}; entries past 128 are never read on that path |")
    w("| Linux EFI stub (OVMF) | none: entries past 128 go to `SETUP_E820_EXT` setup_data | yes |")
    w("| QEMU's own table (`hw/i386/e820_memory_layout.c`) | none (grows with g_renew) | yes |")
    w("")
    if d.get("seabios"):
        w("SeaBIOS's own e820 map for those tables, measured (firmware only, no OS, "
          "64 MiB nodes above 4 GiB, pinned SeaBIOS from guest.lock; SeaBIOS drops "
          "type 0xEFFFFFFF and keeps types 1 and 2):\n")
        w("| configuration | SeaBIOS version | SeaBIOS map items | warnings (`insert_e820`) | RAM at 1 MiB still in the map |")
        w("|---|---|---:|---:|---|")
        for s in d["seabios"]:
            w(f"| {s['config']} | {s['version']} | {s['items']} | {s['n_warnings']} | "
              f"{'yes' if s['low_ram_kept'] else '**no: the map is broken**'} |")
        w("")
        lim = d.get("seabios_limits") or {}
        for kind, l in lim.items():
            if l.get("first_broken_nodes"):
                w(f"- alternating {kind}/normal nodes: SeaBIOS 1.16.2 keeps a correct map up to "
                  f"**{l['last_ok_nodes']} nodes** ({l['last_ok_qemu_entries']} QEMU entries, "
                  f"{l['last_ok_seabios_items']} SeaBIOS items); from {l['first_broken_nodes']} "
                  f"nodes on it drops entries (its main RAM range among them).")
            else:
                w(f"- alternating {kind}/normal nodes: SeaBIOS kept every map up to 128 nodes.")
        if lim:
            w("")
        s = next((s for s in d["seabios"] if s["config"].endswith("alt-spm")), d["seabios"][0])
        long_cmd(out, f"SeaBIOS e820, {s['config']}", s["cmd"], root, LINK, show=False)
    big = max(d["rows"], key=lambda r: r["patched"]["entries"])
    long_cmd(out, "The largest table, read through fw_cfg etc/e820", big["patched"]["cmd"], root, LINK,
             show=False)


def guest_section(d, out, root):
    w = out.append
    w("## 3. The guest-side win: host RSS of a TCG + OVMF guest\n")
    if not d:
        w("not measured in this run.\n")
        return
    s = d["summary"]
    size_kb = d["node1_mib"] * 1024
    w(f"q35, TCG, OVMF (pflash, {d.get('ovmf', '?')}), `-kernel`/`-initrd` "
      f"({d.get('kernel', '?')}, busybox /init from "
      f"`tests/guest/init`), node 0 = 2 GiB, node 1 = {d['node1_mib'] // 1024} GiB at 4 GiB, "
      f"`memory-backend-ram` without prealloc. The guest boots to its report, powers "
      f"off, and QEMU (`-no-shutdown`) stays: then `/proc/PID/status` (VmHWM = peak RSS, "
      f"VmRSS) and `/proc/PID/smaps` (Rss of each node's RAM mapping) are read, and QEMU "
      f"quits. Boot = launch → the report's last line. Medians of {max((v or {}).get('n', 0) for v in s.values())} "
      f"runs per case, cases interleaved.\n")
    w("| node 1 | boot s | VmHWM MiB | VmRSS MiB | node 0 mapping Rss MiB | node 1 mapping Rss MiB | node 1 Rss / size | guest MemTotal per node (kB) |")
    w("|---|---:|---:|---:|---:|---:|---:|---|")
    labels = {"absent": "absent (no node 1)", "normal": "normal", "spm": "spm",
              "spm-online": "spm, onlined through kmem",
              "spm-noswiotlb": "spm, guest `swiotlb=noforce` (control)"}
    for k, lab in labels.items():
        v = s.get(k)
        if v is None:
            if k in s:
                w(f"| {lab} | failed | | | | | | |")
            continue
        frac = "–" if v["node1_rss_kB"] is None else f"{100 * v['node1_rss_kB'] / size_kb:.2f}%"
        mt = ", ".join(f"node {n}: {m}" for n, m in sorted(v["memtotal"].items()))
        w(f"| {lab} | {v['boot_s']:.1f} | {mib(v['VmHWM_kB'])} | {mib(v['VmRSS_kB'])} | "
          f"{mib(v['node0_rss_kB'])} | {mib(v['node1_rss_kB'])} | {frac} | {mt} |")
    w("")
    a, sp, no = s.get("absent"), s.get("spm"), s.get("normal")
    if a and sp:
        goal_kb = size_kb / 100
        d_spm = sp["VmHWM_kB"] - a["VmHWM_kB"]
        lines = []
        lines.append(f"- Goal: an spm node adds at most 1% of its size ({goal_kb / 1024:.1f} MiB) "
                     f"to host RSS until a driver claims it. **Its own RAM: "
                     f"{mib(sp['node1_rss_kB'])} MiB resident ({100 * sp['node1_rss_kB'] / size_kb:.2f}%): "
                     f"{'met' if sp['node1_rss_kB'] <= goal_kb else 'NOT met'}.** "
                     f"Whole process, peak RSS spm − absent: {d_spm / 1024:+.1f} MiB "
                     f"({100 * d_spm / size_kb:.2f}% of the node): "
                     f"{'met' if d_spm <= goal_kb else 'not met on this figure'}.")
        ctl = s.get("spm-noswiotlb")
        if ctl:
            d_ctl = ctl["VmHWM_kB"] - a["VmHWM_kB"]
            lines.append(f"- Where the rest goes: memory above 4 GiB that SRAT describes "
                         f"(spm or not) raises Linux's `max_possible_pfn` past 4 GiB, and "
                         f"x86 `pci_swiotlb_detect()` then enables swiotlb: the "
                         f"guest allocates its 64 MiB bounce buffer in node 0 (dmesg "
                         f"\"software IO TLB: mapped ... (64MB)\", absent in the no-node-1 boot). "
                         f"That is a fixed 64 MiB, not proportional to the node, and not "
                         f"specific to spm: with the guest's `swiotlb=noforce` the spm boot "
                         f"costs {d_ctl / 1024:+.1f} MiB peak RSS over absent "
                         f"({100 * d_ctl / size_kb:.2f}% of the node): "
                         f"{'met' if d_ctl <= goal_kb else 'not met'}.")
        if no:
            d_no = no["VmHWM_kB"] - a["VmHWM_kB"]
            lines.append(f"- The same node as `normal`: its own RAM {mib(no['node1_rss_kB'])} MiB "
                         f"resident ({100 * no['node1_rss_kB'] / size_kb:.2f}% of it: Linux's "
                         f"struct pages for the node, 64 B per 4 KiB page = 64 MiB, live on the "
                         f"node itself, and memblock places early allocations top-down, in the "
                         f"highest RAM), peak RSS {d_no / 1024:+.1f} MiB over absent "
                         f"({100 * d_no / size_kb:.2f}% of the node), "
                         f"{(d_no - d_spm) / 1024:+.1f} MiB more than spm.")
        on = s.get("spm-online")
        if on:
            d_on = on["VmHWM_kB"] - sp["VmHWM_kB"]
            lines.append(f"- After the spm node is onlined through kmem: node 1's own RAM "
                         f"{mib(on['node1_rss_kB'])} MiB resident, peak RSS {d_on / 1024:+.1f} MiB "
                         f"over the spm boot (the struct pages of hot-added memory are "
                         f"allocated from node 0, which already has memory; node 1 pages are "
                         f"touched only when the guest uses them).")
        out.extend(lines)
        w("")
    w("Exact command (spm case; `$TMP` is a temporary directory):\n")
    r = next((r for r in d["runs"] if r["case"] == "spm"), d["runs"][0])
    w("```\n" + clean_cmd(r["cmd"], root) + "\n```\n")
    if d.get("failed"):
        w(f"{d['failed']} guest run(s) did not reach the end of the report; they are left "
          f"out of the medians (logs: `.cache/logs/bench-guest-*.log`, or `bench-smoke-guest-*` for --smoke).\n")


def devloop_section(path, out):
    w = out.append
    w("## 4. Developer loop\n")
    if path and os.path.exists(path) and os.path.getsize(path) > 0:
        import datetime
        mt = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
        w(f"From `{os.path.relpath(path, os.path.dirname(os.path.dirname(path)))}` "
          f"(provided by the person who ran `make check`; file dated "
          f"{mt:%Y-%m-%d %H:%M} UTC), verbatim:\n")
        w("```\n" + open(path, errors="replace").read().rstrip("\n") + "\n```\n")
    else:
        w("not measured in this run (drop the timings of `make check` into "
          "`.cache/bench-devloop.txt` and rerun `make bench` to have them here).\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="directory with the JSON files")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dat", required=True, help="gnuplot data file to write")
    ap.add_argument("--meta", required=True)
    ap.add_argument("--devloop")
    ap.add_argument("--root", required=True)
    ap.add_argument("--commands", required=True,
                    help="file for the whole command lines (linked from the report)")
    o = ap.parse_args()
    global LINK
    LINK = os.path.relpath(o.commands, os.path.dirname(os.path.abspath(o.out)))
    meta = load(o.meta) or {}
    st = load(os.path.join(o.dir, "startup.json"))
    e8 = load(os.path.join(o.dir, "e820.json"))
    gu = load(os.path.join(o.dir, "guest.json"))
    out = []
    w = out.append
    w("# Benchmarks: `-numa node,memmap-type=`\n")
    w(f"Written by `{meta.get('invocation', 'scripts/bench.sh')}` (`make bench`) on "
      f"{meta.get('date', '?')}. Do not edit by hand: rerun `make bench`.\n")
    w(f"- Machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores, "
      f"{meta.get('mem', '?')} memory, Linux {meta.get('kernel', '?')}. **Shared machine:** "
      f"builds and tests may run beside the benchmarks (load average "
      f"{meta.get('load', '?')} at the start, {meta.get('load_end', '?')} at the end); wall-clock "
      f"figures carry that noise.")
    for k in ("patched", "base"):
        if meta.get(k):
            w(f"- {'Patched' if k == 'patched' else 'Unpatched'} QEMU: `{meta[k]['path']}` "
              f"({meta[k]['version']}, sha256 {meta[k]['sha256'][:16]}…), a copy of "
              f"`{meta[k]['source']}` taken at the start of the run.")
    if meta.get("series"):
        w(f"- Series: patches/qemu at {meta['series']}.")
    if meta.get("steps"):
        w("- Steps run (exact commands):\n")
        w("```\n" + "\n".join(meta["steps"]) + "\n```")
    w("")
    startup_section(st, out, o.root, meta)
    e820_section(e8, out, o.root)
    guest_section(gu, out, o.root)
    devloop_section(o.devloop, out)
    w("## 5. Plot\n")
    w("`docs/bench-startup.svg` (embedded in section 1): median start-up time "
      "(launch → QMP ready → quit; left: wall clock, right: QEMU's CPU time) against "
      "the NUMA node count, unpatched, patched without memmap-type, and patched with "
      "mixed types; bars are p25–p75. Drawn "
      "with gnuplot from `.cache/bench/startup.dat` by `tests/bench/plot.gp`.\n")
    with open(o.out, "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    with open(o.commands, "w") as f:
        f.write("# Benchmark command lines\n\nWritten by `scripts/bench.sh` with "
                f"[{os.path.basename(o.out)}]({os.path.relpath(o.out, os.path.dirname(os.path.abspath(o.commands)))}), "
                "from the same run; `$TMP` is a temporary directory. "
                "Do not edit by hand.\n")
        for title, cmd in COMMANDS:
            f.write(f"\n## {title}\n\n```\n{cmd}\n```\n")
    if st:
        with open(o.dat, "w") as f:
            f.write("# nodes; wall ms: base med p25 p75, patched med p25 p75, mixed med p25 p75;"
                    " then the same nine for CPU ms\n")
            for r in st["rows"]:
                if r["variant"] != "plain":
                    continue
                mx = next((m for m in st["rows"] if m["nodes"] == r["nodes"]
                           and m["variant"] == "mixed"), None)
                cols = [str(r["nodes"])]
                for k in ("total", "cpu"):
                    for src in (r.get("base"), r.get("patched"), (mx or {}).get("patched")):
                        if src:
                            t = src[k]
                            cols += [ms(t["median"]), ms(t["p25"]), ms(t["p75"])]
                        else:
                            cols += ["NaN"] * 3
                f.write(" ".join(cols) + "\n")


if __name__ == "__main__":
    main()
