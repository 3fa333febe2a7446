#!/usr/bin/env python3
"""render.py's checks on crafted rows: each way a cell of COMPARISON.md
can fail to lead a reader to its source must make render.py fail, with
a reason naming it; a well-formed set must pass.  Run by
scripts/check-repo.sh (step repo).  One PASS/FAIL line per case; last
line "render: N passed, N failed"; exit 1 on a FAIL."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GOOD_HOW = "scripts/compare-probes.sh --only q1"
QUESTIONS = ("q1\tparity\tA question\n"
             "q2\tdefect\tA defect\tsp-mem: docs/upstream/sp-mem-info-numa-abort.md\n")


def rows(**change):
    """the two questions' four cells, with @change[(q, iface)] = (ev, how)"""
    out = []
    for q in ("q1", "q2"):
        for iface in ("memmap", "spmem"):
            ev, how = change.get(f"{q}_{iface}", ("@@ dax dax0.0 target_node=1", GOOD_HOW))
            if ev is not None:
                out.append("\t".join((q, iface, "a cell", ev, how)))
    return "\n".join(out) + "\n"


# (case, questions, rows, a text the reasons must contain; None: must pass)
CASES = [
    ("well-formed cells", QUESTIONS, rows(), None),
    ("a question without a cell", QUESTIONS, rows(q1_spmem=(None, "")), "has no spmem cell"),
    ("a cell without evidence", QUESTIONS, rows(q1_memmap=("  ", GOOD_HOW)), "no evidence"),
    ("a QEMU command line as reproduce command", QUESTIONS,
     rows(q1_memmap=("x", "QEMU 11.1.3 (Debian sid): qemu-system-x86_64 -S")),
     "does not start with a file of this repository"),
    ("a script that does not exist", QUESTIONS,
     rows(q2_spmem=("x", "scripts/no-such-script.sh")), "does not start with a file"),
    ("a make target that does not exist", QUESTIONS,
     rows(q2_memmap=("x", "make no-such-target")), "names no make target"),
    ("a reproduce command in .cache/", QUESTIONS,
     rows(q1_spmem=("x", ".cache/spmem/qemu-system-x86_64 -S")), "points into .cache/"),
    ("evidence in another checkout's .cache/", QUESTIONS,
     rows(q1_spmem=("log /elsewhere/.cache/logs/x.log", GOOD_HOW)), "points into .cache/"),
    ("a defect row without a bug report", "q1\tparity\tA\nq2\tdefect\tB\tsp-mem: broken\n",
     rows(), "names no existing bug report"),
    ("a row for an unknown question", QUESTIONS, rows() + "q9\tmemmap\tc\te\t" + GOOD_HOW + "\n",
     "unknown question"),
]


def main():
    npass = nfail = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, questions, cells, want in CASES:
            q, r = os.path.join(tmp, "q.tsv"), os.path.join(tmp, "r.tsv")
            open(q, "w").write(questions)
            open(r, "w").write(cells)
            p = subprocess.run([sys.executable, os.path.join(HERE, "render.py"), q, r,
                                "/bin/false", "/bin/false", os.path.join(tmp, "c.md"),
                                os.path.join(tmp, "e.md")],
                               capture_output=True, text=True, cwd=ROOT)
            err = p.stderr.strip().replace("\n", "; ")
            if want is None:
                ok = p.returncode == 0
                why = "passes" if ok else f"fails: {err}"
            else:
                ok = p.returncode == 1 and want in err
                why = f"fails: {err}" if p.returncode == 1 else "passes"
            print(("PASS" if ok else "FAIL") + f" {name}: render.py {why}")
            npass, nfail = npass + ok, nfail + (not ok)
    print(f"render: {npass} passed, {nfail} failed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
