#!/bin/bash
# Run QEMU's qtest-x86_64 and qtest-i386 suites in a build, as JSON lines.
# Called by: qtest-compare.sh.
#
# Run QEMU's x86 qtest suites (qtest-x86_64 and qtest-i386, the two
# targets whose suites carry the series' tests upstream) in a build
# directory, minus the tests in tests/qtest-exclude.txt, and write the
# result of every test as JSON lines {"name": ..., "result": ...} to
# OUT; names are SUITE/TEST.  The tests run under TCG only: /dev/kvm, if
# present, is hidden (tcg_only in lib.sh; root, else this fails).  For
# the series' own numa-memmap-test, the
# subtests that skipped themselves (TAP "ok N PATH # SKIP REASON") are
# kept too, as "skips": ["PATH: REASON", ...]; a test that did not pass
# keeps how it failed, as "failure" (tests/lib/qtest_judge.py), so that
# the base can be judged to fail it the same way.  With TEST names, only
# those run.  A run
# that ends without a result for every test it started (interrupted,
# crashed) is an error, never a result.
#   scripts/qtest.sh BUILD OUT [LABEL [SUITE/TEST...]]
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
build=$(cd "$1" && pwd); out=$2
name=${3:-$(basename "$(dirname "$build")")-$(basename "$build")}
shift $(($# < 3 ? $# : 3))
only=("$@")
meson=$build/pyvenv/bin/meson
log=$LOGS/qtest-$name.log

mapfile -t excl < <(grep -v '^\s*\(#\|$\)' "$ROOT/tests/qtest-exclude.txt")
suites=(qtest-x86_64 qtest-i386)
mapfile -t all < <("$meson" test -C "$build" --list "${suites[@]/#/--suite=}" 2>/dev/null |
                  sed -n 's|^.* / ||p')
for s in "${suites[@]}"; do
    printf '%s\n' "${all[@]}" | grep -q "^$s/" || die "no $s tests found in $build"
done
run=()
[ ${#only[@]} -eq 0 ] || all=("${only[@]}")
for t in "${all[@]}"; do
    skip=
    for e in "${excl[@]}"; do [ "$t" = "$e" ] && skip=1; done
    [ -n "$skip" ] || run+=("$t")
done
if [ ${#run[@]} -eq 0 ]; then
    : >"$out"; say "qtest[$name]: no test to run"; exit 0
fi
say "qtest[$name]: building and running ${#run[@]} of ${#all[@]} tests of ${suites[*]}, 2 at a time (log: $log)"
rm -f "$build/meson-logs/qtest-run.json"
# under TCG only, as on QEMU's CI runners: with /dev/kvm present the tests
# that can use KVM (bios-tables-test, pxe-test, ...) would run under the
# host's KVM, which on nested hosts lacks SMM and stops guests with
# internal-error, on the unpatched base too; and /dev/kvm must be absent,
# not only unusable, or tests register KVM-only cases that then fail
# under TCG (tcg_only in lib.sh).  Where /dev/kvm cannot be hidden (not
# root, /dev not a mount point) this fails: it never runs them with KVM.
rc=0
tcg_only "$meson" test -C "$build" --logbase qtest-run --num-processes "$(nproc)" \
    --print-errorlogs "${run[@]}" >"$log" 2>&1 || rc=$?
if [ "$rc" = 77 ] && grep -q '^/dev/kvm exists' "$log"; then
    die "qtest[$name]: $(grep -m1 '^/dev/kvm exists' "$log") (log: $log)"
fi
[ -s "$build/meson-logs/qtest-run.json" ] || { tail -30 "$log"; die "meson test produced no results"; }
PYTHONPATH=$ROOT/tests/lib python3 - "$build/meson-logs/qtest-run.json" "$out" "${run[@]}" <<'PY'
import json, re, sys
from qtest_judge import signature
res, skips, fails = {}, {}, {}
for line in open(sys.argv[1]):
    if line.strip():
        d = json.loads(line)
        name = d["name"].split(" / ")[-1]
        res[name] = d["result"]
        if d["result"] not in ("OK", "EXPECTEDFAIL", "SKIP"):
            fails[name] = signature(d["result"], (d.get("stdout") or "")
                                    + "\n" + (d.get("stderr") or ""))
        if name.endswith("/numa-memmap-test"):
            skips[name] = [f"{m.group(1)}: {m.group(2)}" for m in
                           re.finditer(r"^ok \d+ (\S+) # SKIP ?(.*)$",
                                       d.get("stdout") or "", re.M)]
missing = sorted(set(sys.argv[3:]) - set(res))
if missing:
    sys.exit(f"qtest: no result for {len(missing)} of {len(sys.argv) - 3} tests "
             f"(run interrupted?): {' '.join(missing[:5])}")
with open(sys.argv[2], "w") as f:
    for k in sorted(res):
        d = {"name": k, "result": res[k]}
        if k in skips:
            d["skips"] = skips[k]
        if k in fails:
            d["failure"] = fails[k]
        f.write(json.dumps(d) + "\n")
PY
