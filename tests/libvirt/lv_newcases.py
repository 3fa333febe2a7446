#!/usr/bin/env python3
"""The libvirt series' new test cases: pass with it, fail without its code.

    lv_newcases.py WITH.json WITHOUT.json CASE...

WITH.json and WITHOUT.json are meson's testlog.json of the suite run
with VIR_TEST_VERBOSE=1 (each test's "NN) TITLE ... OK|FAILED|SKIP"
lines), on the series and on the series with its src/ changes taken
out (tests and data kept).  A CASE is "PROGRAM=NAME", a new input of
PROGRAM (tests/qemuxmlconfdata/NAME.xml of qemuxmlconftest), or
"PROGRAM:", a whole program that must fail without the code
(virschematest, for XML of a changed schema).

For each CASE: with the series no run of it may fail and one at least
must be OK (libvirt's harness skips the runs after an expected error);
without the code at least one must FAIL (a case that passes without the
code proves nothing).  Prints PASS/FAIL lines; exit 1 if one is FAIL.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lv_results import case_results  # noqa: E402


def runs(path):
    """{program: (meson result, [(title, result)])}"""
    out = {}
    for line in open(path, encoding="utf-8"):
        d = json.loads(line)
        text = d.get("stdout", "") + d.get("stderr", "")
        out[d["name"].split(" / ", 1)[-1]] = (d["result"], case_results(text))
    return out


def main():
    with_, without = runs(sys.argv[1]), runs(sys.argv[2])
    bad = False
    for case in sys.argv[3:]:
        if case.endswith(":"):
            prog = case[:-1]
            a, b = with_.get(prog, ("not run", []))[0], without.get(prog, ("not run", []))[0]
            ok = a == "OK" and b == "FAIL"
            # the file names only: "Checking .../NAME.xml against .../domain.rng"
            fails = [re.sub(r"/\S*/", "", t) for t, r in without.get(prog, ("", []))[1] if r == "FAILED"]
            print("%s %s: %s with the series, %s without its code (%s)" % (
                "PASS" if ok else "FAIL", prog, a, b,
                "failing: " + "; ".join(fails[:3]) if fails else "no failing case"))
            bad |= not ok
            continue
        prog, name = case.split("=", 1)
        pat = re.compile(r"(^| )%s(\.| |$)" % re.escape(name))
        w = [(t, r) for t, r in with_.get(prog, ("", []))[1] if pat.search(t)]
        wo = [(t, r) for t, r in without.get(prog, ("", []))[1] if pat.search(t)]
        # SKIP: the runs libvirt's harness skips after an expected error
        w_ok = any(r == "OK" for _, r in w) and all(r in ("OK", "SKIP") for _, r in w)
        wo_failed = [t for t, r in wo if r == "FAILED"]
        if w_ok and wo_failed:
            print("PASS %s case %s: with the series %d runs OK (%d skipped after an expected error); "
                  "without its code %d of %d fail (%s)"
                  % (prog, name, sum(r == "OK" for _, r in w), sum(r == "SKIP" for _, r in w),
                     len(wo_failed), len(wo), wo_failed[0]))
        else:
            bad = True
            print("FAIL %s case %s: with the series %s; without its code %s" % (
                prog, name, ", ".join("%s %s" % x for x in w) or "not run",
                ("%d of %d runs fail" % (len(wo_failed), len(wo))) if wo else "not run"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
