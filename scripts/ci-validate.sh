#!/bin/bash
# Validate .gitlab-ci.yml without running a job.
# Called by: check.sh (step ci-validate), make ci-validate.
#
# Cheap validation of the GitLab pipeline (a few seconds; a step of
# `make check`): the pinned gitlab-ci-local (scripts/ci-local.sh
# --install), run by the pinned Node.js (node.lock, scripts/node.sh;
# never a node on PATH), reads the pipeline file without running any
# job, and the jobs are checked against this repository.
#
#   scripts/ci-validate.sh [--file PATH]    (default .gitlab-ci.yml; or
#                                            CI_VALIDATE_FILE=PATH)
#
#  1. gitlab-ci-local --list-json: the file parses, its extends, anchors
#     and !reference tags resolve, it passes GitLab's CI JSON schema, every
#     stage and needs: it names exists; the jobs are printed;
#  2. gitlab-ci-local --validate-dependency-chain: needs/dependencies
#     point at jobs that run;
#  3. on the expanded file (gitlab-ci-local --preview): every stage has a
#     job; the `check` job runs `make check` and nothing else; every
#     scripts/ file a job runs and every cache key file exists (scripts
#     executable); every job that runs a step of make check runs it
#     through scripts/ci-step.sh (judged by make check's rule); every job
#     keeps .cache/logs/ as artifacts (when: always); the matrix's CONFIG
#     values are those scripts/ci-matrix.sh accepts;
#  4. every command a job runs is in the debian:bookworm image
#     (tests/bookworm-commands.txt) or installed by the job before
#     (README's prerequisite line, scripts/deps.sh), and the check job
#     starts with README's prerequisite line (tests/ci/job_tools.js).
# A PATH outside this checkout is read as if it were this checkout's
# .gitlab-ci.yml (its scripts are looked up here).  When the pinned
# Node.js or gitlab-ci-local cannot be fetched or installed (the first
# run needs Debian's archive and the npm registry), that is a FAIL.  The
# last line is "ci-validate: N passed, N failed, N skipped"; exit status
# 1 on a failure.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
S=$ROOT/scripts
file=${CI_VALIDATE_FILE:-$ROOT/.gitlab-ci.yml}
case ${1:-} in
--file) file=${2:?--file needs a path} ;;
'') ;;
*) die "usage: $0 [--file PATH]" ;;
esac
[ -f "$file" ] || die "no such file: $file"
rel=$(realpath --relative-to="$ROOT" "$file")
case $rel in ../*) label=$(realpath "$file") ;; *) label=$rel ;; esac
state=.cache/ci-validate          # relative to $ROOT, for gitlab-ci-local


echo "ci-validate: $label"
# the pinned Node.js (scripts/ci-local.sh --install fetches it first),
# first on PATH for gitlab-ci-local
if ! gcl=$("$S/ci-local.sh" --install 2>"$LOGS/ci-validate-install.log") ||
    ! node=$("$S/node.sh" 2>>"$LOGS/ci-validate-install.log"); then
    tail -15 "$LOGS/ci-validate-install.log"
    fail "the pinned Node.js (node.lock) and gitlab-ci-local (package-lock.json) install (log: $LOGS/ci-validate-install.log)"
    verdict ci-validate; exit 1
fi
PATH=$(dirname "$node"):$PATH
export PATH
version=$("$node" "$gcl" --version)

# gcl ARGS...: gitlab-ci-local on the file; its diagnostics, without the
# notes about this checkout having no git remote, in $LOGS/ci-validate-gcl.log
gcl() {
    local rc=0
    (cd "$ROOT" && "$node" "$gcl" --cwd . --file "$rel" --state-dir "$state" --no-color "$@") \
        2>"$LOGS/ci-validate-gcl.log" || rc=$?
    if [ "$rc" != 0 ]; then
        grep -v -E 'remote|origin|symbolic-ref|fallback|^\s*at |^\s*$|finished in|validated in' \
            "$LOGS/ci-validate-gcl.log" | head -12 | sed 's/^/        /' >&2
    fi
    return "$rc"
}

if ! listing=$(gcl --list-json); then
    fail "gitlab-ci-local $version reads $label (parse, extends, !reference, GitLab's JSON schema, stages, needs)"
    verdict ci-validate; exit 1
fi
pass "gitlab-ci-local $version reads $label (parse, extends, !reference, GitLab's JSON schema, stages, needs)"
# shellcheck disable=SC2016  # a JavaScript template, not shell
"$node" -e '
const jobs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const w = Math.max(...jobs.map(j => j.name.length));
console.log(`  ${"job".padEnd(w)}  ${"stage".padEnd(8)}  needs`);
for (const j of jobs) {
    const needs = j.needs ? "[" + j.needs.map(n => n.job).join(", ") + "]" : "(stage order)";
    console.log(`  ${j.name.padEnd(w)}  ${j.stage.padEnd(8)}  ${needs}`);
}
console.log(`  ${jobs.length} jobs`);' <<<"$listing"

if gcl --validate-dependency-chain >/dev/null; then
    pass "needs and dependencies point at jobs that run (--validate-dependency-chain)"
else
    fail "needs and dependencies point at jobs that run (--validate-dependency-chain)"
fi

preview=$ROOT/$state/preview.yml
if ! gcl --preview >"$preview"; then
    fail "gitlab-ci-local --preview expands $label"
    verdict ci-validate; exit 1
fi
configs=$("$S/ci-matrix.sh" --configs | tr '\n' ' ')
# The checks on the expanded file print "ok TEXT" or "bad TEXT" lines.
# Among them, what a job may assume: the debian:bookworm image and what
# it installs itself (README's prerequisite line, scripts/deps.sh's table).
"$S/deps.sh" --table >"$ROOT/$state/deps-table.txt"
while read -r r text; do
    case $r in ok) pass "$text" ;; *) fail "$text" ;; esac
done < <("$node" - "$ROOT" "$CACHE/npm/node_modules/js-yaml" "$preview" "$configs" \
             "$ROOT/tests/bookworm-commands.txt" "$ROOT/$state/deps-table.txt" "$(readme_blocks | head -1)" <<'JS'
const fs = require("fs"), path = require("path");
const [root, jsyaml, preview, configs, image, deps, prereq] = process.argv.slice(2);
const {load, lines, say} = require(path.join(root, "tests/ci/pipeline.js"));
const {y, jobs} = load(jsyaml, preview);

const used = new Set(jobs.map(([, j]) => j.stage || "test"));
const empty = (y.stages || []).filter(s => !s.startsWith(".") && !used.has(s));
say(empty.length === 0, `every stage has a job (${(y.stages || []).filter(s => !s.startsWith(".")).join(", ")})` +
    (empty.length ? `: none in ${empty.join(", ")}` : ""));

const check = y.check;
const cs = check ? lines({script: check.script}) : [];
say(cs.length === 1 && cs[0].trim() === "make check",
    "job check runs `make check` exactly" + (check ? (cs.length === 1 && cs[0].trim() === "make check" ? "" : `: it runs ${JSON.stringify(cs)}`) : ": no job check"));

const missing = [];
for (const [name, j] of jobs) {
    for (const l of lines(j))
        for (const m of l.matchAll(/(?:^|[\s;&|(])(scripts\/[A-Za-z0-9_.\/-]+)/g)) {
            const p = path.join(root, m[1]);
            let okf = false;
            try { fs.accessSync(p, fs.constants.X_OK); okf = fs.statSync(p).isFile(); } catch (e) {}
            if (!okf) missing.push(`${name}: ${m[1]}`);
        }
    for (const c of [j.cache || []].flat())
        for (const f of (c.key && c.key.files) || [])
            if (!fs.existsSync(path.join(root, f))) missing.push(`${name}: cache key file ${f}`);
}
say(missing.length === 0, "every scripts/ file a job runs exists and is executable, every cache key file exists" +
    (missing.length ? `; missing: ${[...new Set(missing)].join("; ")}` : ""));

// a job that runs a step of make check runs it through scripts/ci-step.sh,
// which fails the job on what would fail make check (skips included)
const steps = /scripts\/(check-series|qtest-compare|mutate|ci-matrix|robust|guest-run|migrate|pciwin|nested|bench|spmem-smoke|compare|libvirt|libvirt-tests|libvirt-native|fresh)\.sh/;
const unjudged = [];
for (const [name, j] of jobs) {
    if (name === "check") continue;
    for (const l of lines(j))
        if (steps.test(l) && !l.trim().startsWith("scripts/ci-step.sh "))
            unjudged.push(`${name}: ${l.trim().slice(0, 60)}`);
}
say(unjudged.length === 0, "every job that runs a step of make check runs it through scripts/ci-step.sh" +
    (unjudged.length ? `; not: ${unjudged.join("; ")}` : ""));

const nologs = jobs.filter(([, j]) => !(j.artifacts && j.artifacts.when === "always" &&
                                        (j.artifacts.paths || []).some(p => p.replace(/\/$/, "") === ".cache/logs")))
                   .map(([n]) => n);
say(nologs.length === 0, "every job keeps .cache/logs/ as artifacts, when: always" +
    (nologs.length ? `; not: ${nologs.join(", ")}` : ""));

const want = configs.trim().split(/\s+/).sort().join(" ");
const matrix = jobs.filter(([, j]) => lines(j).some(l => l.includes("scripts/ci-matrix.sh")));
if (matrix.length === 0) say(false, "a job runs scripts/ci-matrix.sh");
for (const [name, j] of matrix) {
    const got = ((j.parallel && j.parallel.matrix) || []).flatMap(m => [m.CONFIG || []].flat()).sort().join(" ");
    say(got === want, `job ${name}: matrix CONFIG values are those of scripts/ci-matrix.sh (${want})` +
        (got === want ? "" : `; the file has: ${got || "none"}`));
}

require(path.join(root, "tests/ci/job_tools.js"))({y, jobs}, image, deps, prereq);
JS
)
verdict ci-validate
