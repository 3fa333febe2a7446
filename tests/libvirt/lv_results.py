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
        counts = f"{ok[-1] if ok else '?'} cases OK" + (f", failed at {failed[-1]}" if failed else "")
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
