#!/usr/bin/env python3
# COMPARISON.md row code-reach: how much code each interface adds, and which generic code it touches.
# Run by hand or by a compare step: python3 tests/compare/code_reach.py
"""memmap: the series' patches/qemu/0001..*.patch (0000 is the cover
letter), counted from their diff hunks.  spmem: tests/compare/spmem-series.tsv
(commit, path, added, removed; "?" where a diff could not be measured).

Counted: files outside tests/ and docs/ (qemu-options.hx counts as docs).
Generic: a counted file outside the x86 code (hw/i386/, target/i386/, and
their headers under include/hw/i386/, include/target/i386/).  One
compare_row per interface, a PASS/FAIL line each, last line
"code-reach: N passed, N failed, 0 skipped"; exit 1 on any FAIL."""

import glob
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from compare_rows import compare_row  # noqa: E402

HOW = "python3 tests/compare/code_reach.py"
X86 = ("hw/i386/", "target/i386/", "include/hw/i386/", "include/target/i386/")


def counted(path):
    return not (path.startswith(("tests/", "docs/")) or path == "qemu-options.hx")


def generic(path):
    return counted(path) and not path.startswith(X86)


def patch_numstat(path):
    """{file: [added, removed]} from one git format-patch file's hunks."""
    stat, cur, left = {}, None, 0
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for line in lines:
        m = re.match(r"diff --git a/(\S+) b/(\S+)$", line)
        if m:
            cur = m.group(2)
            stat.setdefault(cur, [0, 0])
            left = 0
            continue
        m = re.match(r"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@", line)
        if m and cur:
            old = int(m.group(1) if m.group(1) is not None else 1)
            new = int(m.group(2) if m.group(2) is not None else 1)
            left = old + new
            continue
        if cur and left > 0:
            if line.startswith("+"):
                stat[cur][0] += 1
                left -= 1
            elif line.startswith("-"):
                stat[cur][1] += 1
                left -= 1
            elif line.startswith(" ") or line == "":
                left -= 2
            elif line.startswith("\\"):
                pass
    if not stat:
        raise ValueError(f"{os.path.relpath(path, ROOT)}: no diff found")
    return stat


def summarise(rows):
    """rows: (path, added|None, removed|None).  Counted files only."""
    files, add, rem, unmeasured = {}, 0, 0, set()
    for path, a, r in rows:
        if not counted(path):
            continue
        files.setdefault(path, [0, 0])
        if a is None:
            unmeasured.add(path)
            continue
        files[path][0] += a
        files[path][1] += r
        add, rem = add + a, rem + r
    gen = sorted(p for p in files if generic(p))
    return files, add, rem, unmeasured, gen


def figures(files, unmeasured):
    return "; ".join(f"{p} ?" if p in unmeasured else f"{p} +{a} -{r}"
                     for p, (a, r) in sorted(files.items()))


def memmap():
    patches = sorted(p for p in glob.glob(os.path.join(ROOT, "patches/qemu/0*.patch"))
                     if not os.path.basename(p).startswith("0000"))
    if not patches:
        raise ValueError("no patches/qemu/0001..*.patch")
    rows = []
    for p in patches:
        for path, (a, r) in patch_numstat(p).items():
            rows.append((path, a, r))
    files, add, rem, unm, gen = summarise(rows)
    first, last = (os.path.basename(patches[i])[:4] for i in (0, -1))
    cell = (f"+{add} -{rem} non-test lines in {len(files)} files; "
            f"generic: {', '.join(gen) or 'none'}")
    ev = f"patches/qemu {first}-{last}: {figures(files, unm)}"
    return cell, ev


def spmem():
    path = os.path.join(HERE, "spmem-series.tsv")
    rows, commits = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4 or not re.fullmatch(r"[0-9a-f]{40}", parts[0]):
                raise ValueError(f"spmem-series.tsv:{n}: not commit<TAB>path<TAB>added<TAB>removed")
            c, p, a, r = parts
            if (a == "?") != (r == "?") or (a != "?" and not (a.isdigit() and r.isdigit())):
                raise ValueError(f"spmem-series.tsv:{n}: added/removed must be numbers or both ?")
            rows.append((p, None if a == "?" else int(a), None if r == "?" else int(r)))
            if c[:12] not in commits:
                commits.append(c[:12])
    if not rows:
        raise ValueError("spmem-series.tsv has no data lines")
    files, add, rem, unm, gen = summarise(rows)
    if unm:
        cell = (f"at least +{add} -{rem} non-test lines in at least {len(files)} files "
                f"({len(unm)} file's diff not measured)")
    else:
        cell = f"+{add} -{rem} non-test lines in {len(files)} files"
    cell += f"; generic: {', '.join(gen) or 'none'}"
    ev = f"patchew-project/qemu {', '.join(commits)}: {figures(files, unm)}"
    return cell, ev


def main():
    ok = bad = 0
    for iface, fn in (("memmap", memmap), ("spmem", spmem)):
        try:
            cell, ev = fn()
        except (OSError, ValueError) as e:
            print(f"FAIL  code-reach {iface}: {str(e).replace(ROOT + os.sep, '')}")
            bad += 1
            continue
        compare_row("code-reach", iface, cell, ev, HOW)
        print(f"PASS  code-reach {iface}: {cell}")
        ok += 1
    print(f"code-reach: {ok} passed, {bad} failed, 0 skipped")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
