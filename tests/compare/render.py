#!/usr/bin/env python3
"""Write COMPARISON.md and its evidence file from one run's cells.
Called by scripts/compare.sh (make compare); nothing in the tables is
typed by hand.

  render.py QUESTIONS ROWS MEMMAP_QEMU SPMEM_QEMU OUT_MD OUT_EVIDENCE

QUESTIONS is tests/compare/questions.tsv (id, section, question,
reading), ROWS the run's cells (question, interface, cell, evidence,
how; tests/lib/compare_rows.py).  COMPARISON.md has one table per
section (design differences, defects of one implementation, parity),
one row per question, one column per interface; each cell links to its
entry in the evidence file (docs/compare-evidence.md): the output lines
it rests on and the repository command that reproduces it.  Exit status
1, with the reasons on stderr, when a question lacks a cell for either
interface, a cell has no evidence, its command is not a command of this
repository (a script, `python3 FILE` or a make target), a command
points into .cache/ or an absolute path of this checkout (evidence
shows the cache as $CACHE/), or a defect row names
no bug report that exists.
"""
import datetime
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
IFACES = [("memmap", "this series: `-numa node,memmap-type=`"),
          ("spmem", "upstream: `-device sp-mem`")]
SECTIONS = [("design", "Design differences",
             "The interfaces differ by design; the last column says which one the row favours."),
            ("defect", "Defects of one implementation",
             "One implementation gives a wrong result; the last column names it and its bug report."),
            ("parity", "Parity", "Both interfaces give the guest the same result.")]
EVIDENCE = "docs/compare-evidence.md"


def md(text):
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " "))


def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                              cwd=ROOT).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def version(binary):
    return (run(binary, "-version").splitlines() or ["?"])[0].strip()


def lock(name, key):
    for line in open(os.path.join(ROOT, name + ".lock")):
        if line.startswith(key + "="):
            return line.split("=", 1)[1].strip()
    return "?"


def make_targets():
    return set(re.findall(r"^([A-Za-z0-9_.-]+):", open(os.path.join(ROOT, "Makefile")).read(), re.M))


def command_error(how, targets):
    """why HOW is not a command of this repository (None when it is)"""
    try:
        words = shlex.split(how)
    except ValueError as e:
        return "cannot be parsed (%s)" % e
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        words.pop(0)
    if not words:
        return "is empty"
    if words[0] == "make":
        return None if len(words) > 1 and words[1] in targets else \
            "names no make target of the Makefile"
    path = words[1] if words[0] == "python3" and len(words) > 1 else words[0]
    if path.startswith("/") or not os.path.isfile(os.path.join(ROOT, path)):
        return "does not start with a file of this repository (%s)" % path
    if words[0] != "python3" and not os.access(os.path.join(ROOT, path), os.X_OK):
        return "starts with %s, which is not executable" % path
    return None


CACHE = os.path.normpath(os.environ.get("CACHE") or os.path.join(ROOT, ".cache"))


def portable(text):
    """@text with this checkout's paths as a reader can follow them: the
    cache as $CACHE/ (scripts/lib.sh's), the checkout's own files
    relative to it"""
    return text.replace(CACHE + "/", "$CACHE/").replace(ROOT + "/", "")


def leaks(text):
    """a path a reader of the repository does not have"""
    return ".cache/" in text or ROOT + "/" in text


def harness_commit():
    head = run("git", "rev-parse", "--short=12", "HEAD").strip() or "?"
    dirty = [line for line in run("git", "status", "--porcelain").splitlines()
             if line[3:] not in ("COMPARISON.md", EVIDENCE)]
    return head + (" with uncommitted changes" if dirty else "")


def main():
    qfile, rfile, memmap, spmem, out_md, out_ev = sys.argv[1:7]
    questions, errors = [], []
    for line in open(qfile):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        if len(f) not in (3, 4) or f[1] not in dict((s, 1) for s, _, _ in SECTIONS):
            errors.append("questions.tsv: malformed line %r" % line[:60])
            continue
        qid, sec, text, reading = (f + [""])[:4]
        if sec == "defect":
            m = re.search(r"docs/upstream/\S+\.md", reading)
            if not m or not os.path.isfile(os.path.join(ROOT, m.group(0))):
                errors.append("defect row '%s' names no existing bug report" % qid)
        questions.append((qid, sec, text, reading))
    known = {q[0] for q in questions}
    cells = {}
    for line in open(rfile):
        f = line.rstrip("\n").split("\t")
        if len(f) != 5:
            errors.append("malformed row: %r" % line[:80])
            continue
        q, iface, cell, ev, how = f
        if q not in known:
            errors.append("row for unknown question '%s'" % q)
        elif iface not in dict(IFACES):
            errors.append("row for unknown interface '%s' (%s)" % (iface, q))
        else:
            cells.setdefault((q, iface), []).append((cell, ev, how))

    targets = make_targets()
    evidence, tables = [], {s: [] for s, _, _ in SECTIONS}
    for qid, sec, text, reading in questions:
        row = ["**%s** %s" % (qid, md(text))]
        for iface, _ in IFACES:
            got = cells.get((qid, iface))
            if not got:
                errors.append("question '%s' has no %s cell" % (qid, iface))
                row.append("**not measured**")
                continue
            parts = []
            for cell, ev, how in got:
                n = len(evidence) + 1
                cell, ev = portable(cell), portable(ev)
                if not ev.strip():
                    errors.append("e%d (%s, %s): no evidence" % (n, qid, iface))
                why = command_error(how, targets)
                if why:
                    errors.append("e%d (%s, %s): command %r %s" % (n, qid, iface, how, why))
                if leaks(ev) or leaks(how):
                    errors.append("e%d (%s, %s): points into .cache/ or this checkout" % (n, qid, iface))
                evidence.append((n, qid, iface, ev, how))
                parts.append("%s [[e%d]](%s#e%d)" % (md(cell), n, EVIDENCE, n))
            row.append("<br>".join(parts))
        if sec != "parity":
            row.append(md(reading) or "neither")
        tables[sec].append(row)

    commit = harness_commit()
    w = []
    w.append("# Side by side: `-numa node,memmap-type=` and `-device sp-mem`")
    w.append("")
    w.append("Generated by `make compare` (scripts/compare.sh) on %s from one run of "
             "harness commit %s; do not edit by hand.  Every cell is what that run "
             "measured; its link leads to the output lines it rests on and the "
             "command that reproduces it ([%s](%s))."
             % (datetime.date.today().isoformat(), commit, EVIDENCE, EVIDENCE))
    w.append("")
    w.append("**Two releases.** The series is carried on QEMU %s (qemu.lock); sp-mem "
             "exists only from QEMU 11.1, whose source Debian does not serve here, so "
             "the series cannot be built on 11.1 and sp-mem is measured on Debian's "
             "binary.  Each column is therefore another build: figures that depend "
             "on the build (host RSS, start-up) are given as the difference the range "
             "makes against the same binary without it, never as absolute figures "
             "across the columns." % lock("qemu", "base_version"))
    w.append("")
    w.append("Pinned versions:")
    w.append("")
    w.append("- this series: `%s` (Debian's qemu %s orig tarball + patches/qemu/)"
             % (version(memmap), lock("qemu", "base_version")))
    w.append("- sp-mem: `%s` (Debian %s's qemu-system-x86 %s, spmem.lock)"
             % (version(spmem), lock("spmem", "suite"), lock("spmem", "version")))
    w.append("- guests (the same files for both; guest.lock): Linux %s, %s and %s; "
             "OVMF %s; SeaBIOS %s (stock) and %s + patches/seabios/ (seabios.lock); "
             "TCG" % (lock("guest", "kernel_version"), lock("guest", "kernel612_version"),
                      lock("guest", "kernel72_version"), lock("guest", "ovmf_version"),
                      lock("guest", "seabios_version"), lock("seabios", "base_version")))
    lv = run("dpkg-query", "-W", "-f", "${Version}", "libvirt-daemon").strip()
    w.append("- libvirt (the libvirt row): Debian bookworm's libvirt-daemon %s "
             "(scripts/deps.sh; bookworm's, not pinned) for the routes of unmodified "
             "libvirt; libvirt %s with patches/libvirt/ (libvirt.lock) for the native one"
             % (lv or "?", lock("libvirt", "base_version")))
    w.append("")
    counts = ", ".join("%d %s" % (len(tables[s]), title.lower()) for s, title, _ in SECTIONS)
    w.append("Rows: %s." % counts)
    for sec, title, intro in SECTIONS:
        w.append("")
        w.append("## %s" % title)
        w.append("")
        w.append(intro)
        w.append("")
        head = ["Question"] + [t for _, t in IFACES]
        if sec == "design":
            head.append("Favours")
        elif sec == "defect":
            head.append("Defect")
        w.append("| " + " | ".join(head) + " |")
        w.append("|" + "---|" * len(head))
        for row in tables[sec]:
            w.append("| " + " | ".join(row) + " |")
    open(out_md, "w").write("\n".join(w) + "\n")

    e = ["# Evidence for COMPARISON.md", "",
         "Generated with COMPARISON.md by `make compare` from the same run (harness "
         "commit %s).  For each cell: the output lines it rests on (one per line; "
         "a blank line separates runs) and the repository command that reproduces it." % commit, ""]
    for n, qid, iface, ev, how in evidence:
        e.append('<a id="e%d"></a>**e%d** %s, %s: `%s`' % (n, n, qid, iface, how.replace("`", "'")))
        e.append("")
        for chunk in ev.split(" || "):
            e.append("    " + "\n    ".join(chunk.split(" | ")))
            e.append("")
    open(out_ev, "w").write("\n".join(e))
    for err in errors:
        print(err, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
