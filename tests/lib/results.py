"""The result library of the Python tests, the twin of the shell one in
scripts/lib.sh (pass, fail, skip, verdict): every check prints one line
"PASS TEXT", "FAIL TEXT" or "SKIP WHY", and the test's last line is its
verdict "NAME: N passed, N failed, N skipped", which scripts/check.sh
and scripts/ci-step.sh judge (judge_step in scripts/lib.sh).

    from results import Results
    r = Results("fuzz")
    r.passed("configuration 3: e820 as predicted")
    r.failed("configuration 4: ...")
    sys.exit(r.verdict())
"""
import threading


class Results:
    def __init__(self, name, indent="", sep=" "):
        self.name, self.indent, self.sep = name, indent, sep
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        self.lock = threading.Lock()

    def record(self, verdict, text, show=True):
        with self.lock:
            self.counts[verdict] += 1
            if show:
                print(f"{self.indent}{verdict}{self.sep}{text}", flush=True)

    def passed(self, text, show=True):
        self.record("PASS", text, show)

    def failed(self, text):
        self.record("FAIL", text)

    def skipped(self, why):
        self.record("SKIP", why)

    @property
    def n_failed(self):
        return self.counts["FAIL"]

    def line(self):
        c = self.counts
        return f"{self.name}: {c['PASS']} passed, {c['FAIL']} failed, {c['SKIP']} skipped"

    def verdict(self):
        """print the verdict line; the exit status: 1 if a check failed"""
        print(self.line(), flush=True)
        return 1 if self.counts["FAIL"] else 0
