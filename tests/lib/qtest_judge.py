#!/usr/bin/env python3
"""How a qtest failed, and whether the base failed it the same way.

scripts/qtest.sh keeps, for every test that did not pass, its failure
signature (signature()): the subtests that failed ("not ok N PATH"), the
subtest that was running when the test stopped, and its error lines
("Bail out! ...", "ERROR:...", "**...") with what differs between two
builds of the same source removed (source line numbers, addresses,
temporary names, process ids).  scripts/qtest-compare.sh then excuses a
test that fails with the series only if the unpatched base failed the
same subtests the same way (judge()); anything else is a FAIL that
shows both.

    qtest_judge.py --self-test     the rule on made-up results, both ways
    qtest_judge.py --compare BASE SERIES 0|1 CACHED
                                   the qtest step's verdicts from two
                                   results files (scripts/qtest-compare.sh;
                                   0: the series is empty, one run)
"""
import json
import re
import sys

from results import Results

# what two runs of the same failure print differently
NORMALIZE = [
    (re.compile(r"(\.[ch]):\d+:"), r"\1:LINE:"),
    (re.compile(r"0x[0-9a-fA-F]+"), "0xADDR"),
    (re.compile(r"/tmp/[^\s:'\"]+"), "/tmp/TMP"),
    (re.compile(r"\b(pid|PID|process) \d+"), r"\1 PID"),
    (re.compile(r"\[\d+\]"), "[PID]"),
    (re.compile(r"\d+(\.\d+)? ?(s|ms|seconds)\b"), "TIME"),
]
ERROR_RE = re.compile(r"^(Bail out!.*|.*\bERROR:.*|\*\*.*|.*[Aa]ssertion.*"
                      r"|.*internal-error.*|.*qemu-system-\S+: .*)$", re.M)
NOT_OK_RE = re.compile(r"^not ok \d+ (\S+)", re.M)
START_RE = re.compile(r"^(?:# )?(?:Start of|ok \d+) (\S+)", re.M)


def normalize(line):
    for rx, rep in NORMALIZE:
        line = rx.sub(rep, line)
    return line.strip()


def signature(result, output):
    """The failure signature of one test from its result (meson's OK,
    FAIL, ERROR, TIMEOUT, ...) and its combined output."""
    failed = NOT_OK_RE.findall(output)
    starts = START_RE.findall(output)
    errors = []
    for m in ERROR_RE.finditer(output):
        e = normalize(m.group(0))
        if e not in errors:
            errors.append(e)
    return {"result": result, "failed": failed,
            "last": starts[-1] if starts else "",
            "errors": errors[:5]}


def same_way(ser, base):
    """Did the base fail the way the series did?  Returns (bool, why)."""
    if base is None:
        return False, "the base did not run it"
    for key, what in (("result", "result"), ("failed", "failed subtests"),
                      ("last", "subtest where it stopped"),
                      ("errors", "error lines")):
        if ser.get(key) != base.get(key):
            return False, f"{what} differ"
    return True, "same result, same failed subtests, same error lines"


def show(sig):
    """The lines that print a signature, for a FAIL next to the other"""
    out = [f"result: {sig.get('result')}",
           "failed subtests: " + (" ".join(sig.get("failed") or []) or "(none)"),
           f"stopped in: {sig.get('last') or '(unknown)'}"]
    out += [f"error: {e[:200]}" for e in sig.get("errors") or []]
    return out


def self_test():
    """The rule, on outputs shaped like glib's TAP: it must excuse only
    the same failure"""
    ser_out = ("ok 1 /x86_64/a\n# Start of b tests\n"
               "Bail out! ERROR:../tests/qtest/x-test.c:412:test_b: "
               "assertion failed (0x1234 == 0x5678)\n")
    cases = [
        ("same failure, other line number and address",
         ser_out.replace("412", "398").replace("0x1234", "0xbeef"), True),
        ("another subtest fails on the base",
         "ok 1 /x86_64/a\nnot ok 2 /x86_64/c\n", False),
        ("same subtest, another assertion on the base",
         ser_out.replace("0x1234 == 0x5678", "ret == 0"), False),
        ("the base stopped earlier",
         "# Start of a tests\nBail out! ERROR:../tests/qtest/x-test.c:412:"
         "test_b: assertion failed (0x1234 == 0x5678)\n", False),
    ]
    ser = signature("ERROR", ser_out)
    r = Results("qtest-judge")
    for what, base_out, want in cases:
        got, why = same_way(ser, signature("ERROR", base_out))
        (r.passed if got == want else r.failed)(
            f"qtest-judge: {what}: {'excused' if got else 'FAIL'} ({why})")
    got, why = same_way(ser, signature("TIMEOUT", ser_out))
    (r.failed if got else r.passed)(
        f"qtest-judge: same output, TIMEOUT on the base: "
        f"{'excused' if got else 'FAIL'} ({why})")
    return r.verdict()


def load(path):
    """{test name: its JSON line} of a results file of scripts/qtest.sh"""
    return {d["name"]: d for d in map(json.loads, open(path))}


OWN = ("qtest-x86_64/numa-memmap-test", "qtest-i386/numa-memmap-test")
GOOD = {"OK", "EXPECTEDFAIL"}


def compare(base_path, ser_path, series, cached):
    """The qtest step's verdicts (scripts/qtest-compare.sh): one line per
    test of the series' run, judged against the base's run"""
    base, ser = load(base_path), load(ser_path)
    res = Results("qtest", indent="  ", sep="  ")

    def out(verdict, text):
        res.record(verdict, f"qtest: {text}")
    # the series' own qtest must have run, for both targets: a suite
    # without it proves nothing; its subtests that skipped are skips
    for own in OWN if series else ():
        if own not in ser:
            out("FAIL", f"{own}: not in the suite run of the series")
        elif ser[own].get("skips") is None:
            out("FAIL", f"{own}: its subtests' skips were not recorded")
        else:
            for sk in ser[own]["skips"]:
                out("SKIP", f"{own}: subtest {sk}")
    for name in sorted(ser):
        r = ser[name]["result"]
        b = base[name]["result"] if name in base else None
        if r in GOOD:
            out("PASS", f"{name}{cached}")
        elif r == "SKIP":
            out("SKIP", f"{name} (the test skipped itself)")
        elif b is None:
            out("FAIL", f"{name}: {r} (not in the base's run)")
        elif b in GOOD | {"SKIP"}:
            out("FAIL", f"{name}: {r} (passes on the unpatched base: {b})")
        else:
            same, why = same_way(ser[name].get("failure") or {}, base[name].get("failure"))
            if same:
                out("SKIP", f"{name}: {r}, known environment failure "
                            f"(fails on the unpatched base too, the same way: {why})")
            else:
                out("FAIL", f"{name}: {r}, and {b} on the unpatched base, "
                            f"but not the same way ({why})")
                for side, d in (("series", ser[name]), ("base", base[name])):
                    for line in show(d.get("failure") or {}):
                        print(f"        {side:6}  {line}")
    if not ser:
        out("FAIL", "no test result at all")
    for s in ("qtest-x86_64", "qtest-i386"):
        print(f"{s}: {sum(n.startswith(s + '/') for n in ser)} tests run "
              f"with the series{cached}")
    return res.verdict()


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    if len(sys.argv) == 6 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]))
    sys.exit(__doc__)
