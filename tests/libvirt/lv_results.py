#!/usr/bin/env python3
"""Result lines of libvirt's test programs, from meson's testlog.json.

    lv_results.py TESTLOG.json PROGRAMS.txt

Prints "PASS|FAIL|SKIP TEXT" lines: one per program named in
PROGRAMS.txt (its case count: the "N OK" summary libvirt's test harness
prints, or "not run"), one per other program that did not
pass, and one for the rest of the suite.  Exit 1 if a line is FAIL.
"""
import json
import re
import sys


CASE = re.compile(r"^\s*\d+\) (.*?)\s+\.\.\. ", re.M)
RESULT = re.compile(r"(?:^|\.\.\. |\s)(OK|FAILED|SKIP)$", re.M)


def case_results(text):
    """[(title, OK|FAILED|SKIP|?)] of a program's VIR_TEST_VERBOSE output:
    "NN) TITLE ... RESULT", where an expected error's message may come
    between the dots and the result, on lines of its own."""
    marks = list(CASE.finditer(text))
    out = []
    for i, m in enumerate(marks):
        chunk = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        r = RESULT.findall(chunk)
        out.append((m.group(1), r[0] if r else "?"))
    return out


def main():
    runs = {}
    for line in open(sys.argv[1], encoding="utf-8"):
        d = json.loads(line)
        name = d["name"].split(" / ", 1)[-1]
        runs[name] = d
    named = []
    for line in open(sys.argv[2], encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            prog, why = line.rstrip("\n").split("\t", 1)
            named.append((prog, why))
    out, bad = [], False
    for prog, why in named:
        d = runs.pop(prog, None)
        if d is None:
            out.append(("FAIL", f"{prog}: not run ({why})"))
            continue
        # libvirt's harness ends with "<dots> N OK" or "N FAIL" (stderr)
        text = d.get("stdout", "") + d.get("stderr", "")
        ok = re.findall(r"\s(\d+)\s+OK$", text, re.M)
        failed = re.findall(r"\s(\d+)\s+FAIL(?:ED)?$", text, re.M)
        # with VIR_TEST_VERBOSE=1: one "NN) TITLE ... OK|FAILED" per case
        verbose = [r for _, r in case_results(text)]
        if verbose:
            ok = [str(verbose.count("OK"))]
            failed = [str(verbose.count("FAILED"))] if "FAILED" in verbose else []
        counts = f"{ok[-1] if ok else '?'} cases OK" + (f", failed at {failed[-1]}" if failed else "")
        if verbose:
            # SKIP: the runs after an expected error (libvirt's own rule)
            counts = f"{ok[0]} runs OK, {verbose.count('SKIP')} SKIP" + (
                f", {failed[0]} FAILED" if failed else "") + (
                f", {verbose.count('?')} without a result" if "?" in verbose else "")
            if "?" in verbose:
                failed = failed or ["?"]
        if d["result"] == "OK" and ok and not failed:
            out.append(("PASS", f"{prog}: {counts} ({why})"))
        else:
            out.append(("FAIL", f"{prog}: {d['result']}, {counts} ({why})"))
    rest = {"OK": 0}
    for name, d in sorted(runs.items()):
        if d["result"] == "OK":
            rest["OK"] += 1
        elif d["result"] == "SKIP":
            out.append(("SKIP", f"libvirt test program {name}: skipped itself (exit 77)"))
        elif d["result"] == "EXPECTEDFAIL":
            rest["OK"] += 1
        else:
            out.append(("FAIL", f"libvirt test program {name}: {d['result']}"))
    out.append(("PASS" if rest["OK"] else "FAIL",
                f"the other {rest['OK']} programs of libvirt's suite bin pass"))
    for r, t in out:
        bad |= r == "FAIL"
        print(r, t)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
