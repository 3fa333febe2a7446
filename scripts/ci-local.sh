#!/bin/bash
# Run .gitlab-ci.yml here with the pinned gitlab-ci-local.
# Called by: make ci-local, ci-validate.sh (--install).
#
# `make ci-local`: run .gitlab-ci.yml on this machine with gitlab-ci-local,
# the version pinned in package.json / package-lock.json, installed with
# `npm ci` into .cache/npm (never into the system).  Node.js and npm are
# Debian trixie's, pinned in node.lock (scripts/node.sh, .cache/node/bin/,
# first on PATH for gitlab-ci-local and its jobs); a node or npm on this
# machine's PATH is never used.  Every job runs with
# the shell executor (no container: jobs run here, in this checkout, as
# the current user; the pipeline's `image:` is ignored), one job at a
# time by default (jobs share this checkout's .cache/, and a build uses
# every core).
#
#   scripts/ci-local.sh                 the whole pipeline
#   scripts/ci-local.sh JOB...          only these jobs ("qtest-matrix: [clang]")
#   scripts/ci-local.sh --stage STAGE   only the jobs of one stage
#   scripts/ci-local.sh --list          list the jobs, run nothing
#   scripts/ci-local.sh --install       install gitlab-ci-local, print its path
#   options: --needs (with JOB: run the jobs it needs first),
#            --concurrency N (default 1), -- ARGS (passed to gitlab-ci-local)
#
# Prints each job's verdict and wall time (a job that did not run,
# because a job before it failed, is SKIP) and ends with "ci-local: N
# passed, N failed, N skipped"; exit status 1 when a job failed.  The
# run's record (each job's verdict and seconds, then the run) goes to
# .cache/logs/ci-local-record.tsv; scripts/timings.sh --record ci-local
# keeps it for docs/timings.md.  gitlab-ci-local keeps its
# state in .cache/gitlab-ci-local/ (each job's output in output/); the
# whole run is logged to .cache/logs/ci-local.log.
# Needs rsync to run jobs (scripts/deps.sh's group ci-local, as root)
# and, the first time, Debian's archive (node.lock) and the npm registry.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

npmdir=$CACHE/npm
state=.cache/gitlab-ci-local     # relative to $ROOT, as gitlab-ci-local wants it

# install: npm ci of the committed lock file into .cache/npm, with the
# pinned npm, when the lock file or node.lock changed or the tree is
# missing; prints the entry point
install() {
    local want have bin=$npmdir/node_modules/gitlab-ci-local/dist/index.js pinned
    mkdir -p "$npmdir"
    exec 8>"$npmdir/.lock"
    flock 8
    want=$(cat "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/node.lock" | sha256sum | cut -c1-16)
    have=$(cat "$npmdir/.installed" 2>/dev/null || true)
    if [ "$have" != "$want" ] || [ ! -e "$bin" ]; then
        say "ci-local: npm ci (package-lock.json) into ${npmdir#"$ROOT"/} (log: $LOGS/ci-npm.log)"
        rm -f "$npmdir/.installed"
        cp "$ROOT/package.json" "$ROOT/package-lock.json" "$npmdir/"
        # --ignore-scripts: nothing in the tree needs an install script
        (cd "$npmdir" && run_logged "$LOGS/ci-npm.log" \
            "$NODE_BIN/npm" ci --ignore-scripts --no-audit --no-fund --loglevel=warn)
        echo "$want" >"$npmdir/.installed"
    fi
    exec 8>&-
    pinned=$("$NODE" -p 'require(process.argv[1]).devDependencies["gitlab-ci-local"]' "$ROOT/package.json")
    have=$("$NODE" "$bin" --version 2>/dev/null || true)
    [ "$have" = "$pinned" ] ||
        die "gitlab-ci-local in ${npmdir#"$ROOT"/} says '$have', package.json pins $pinned"
    printf '%s\n' "$bin"
}

# gcl ARGS...: the pinned gitlab-ci-local on this checkout's pipeline,
# without its notes that this checkout has no git remote "origin" (it
# then makes up the CI_PROJECT_* variables, which no job uses)
noise="^(Unable to retrieve default remote branch|Using fallback git remote data|fatal: ref refs/remotes/origin/HEAD is not a symbolic ref|error: No such remote 'origin'|  Command failed with exit code [0-9]+: git (symbolic-ref|remote get-url)|git remote get-url origin didn't provide valid matches)"
gcl() {
    (cd "$ROOT" && "$NODE" "$GCL" --cwd . --file .gitlab-ci.yml --state-dir "$state" "$@") \
        2> >(grep -v -E "$noise" >&2)
}

mode=run; jobs=(); stage=; needs=(); conc=1; extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --list) mode=list ;;
    --install) mode=install ;;
    --stage) stage=${2:?--stage needs a stage}; shift ;;
    --needs) needs=(--needs) ;;
    --concurrency) conc=${2:?--concurrency needs a number}; shift ;;
    --) shift; extra=("$@"); break ;;
    -*) die "usage: $0 [--list | --install | --stage STAGE | JOB...] [--needs] [--concurrency N] [-- ARGS]" ;;
    *) jobs+=("$1") ;;
    esac
    shift
done

# the pinned Node.js and npm (node.lock), first on PATH for gitlab-ci-local
# and the jobs it runs
NODE=$("$ROOT/scripts/node.sh") || die "no pinned Node.js: scripts/node.sh failed"
NODE_BIN=$(dirname "$NODE")
PATH=$NODE_BIN:$PATH
export PATH
GCL=$(install)
case $mode in
install) printf '%s\n' "$GCL"; exit 0 ;;
list) gcl --list; exit ;;
esac

# gitlab-ci-local copies the tracked files with rsync before any job
"$ROOT/scripts/deps.sh" ci-local

# The jobs this run should end with a verdict for: those named, those of
# the stage, or every job that runs on its own (not manual, not never)
listing=$(gcl --list-json) || die "gitlab-ci-local cannot read .gitlab-ci.yml (scripts/ci-validate.sh checks it)"
if [ ${#jobs[@]} -gt 0 ]; then
    expected=("${jobs[@]}")
else
    mapfile -t expected < <("$NODE" -e '
        const [stage] = process.argv.slice(1);
        for (const j of JSON.parse(require("fs").readFileSync(0, "utf8")))
            if (!["manual", "never"].includes(j.when) && (!stage || j.stage === stage))
                console.log(j.name);' "$stage" <<<"$listing")
fi
[ ${#expected[@]} -gt 0 ] || die "no job to run${stage:+ in stage $stage}"

args=(--force-shell-executor --concurrency "$conc" --no-color "${needs[@]}")
if [ -n "$stage" ]; then args+=(--stage "$stage"); else args+=("${jobs[@]}"); fi
log=$LOGS/ci-local.log
say "ci-local: gitlab-ci-local $("$NODE" "$GCL" --version), shell executor, ${#expected[@]} job(s), concurrency $conc (log: $log)"
rc=0 t_start=$(date +%s) cache_state=warm
[ -n "$(ls -A "$CACHE/results" 2>/dev/null)" ] || cache_state=cold   # before the jobs fill it
gcl "${args[@]}" "${extra[@]}" 2>&1 | tee "$log" || rc=$?

# gitlab-ci-local closes with one line per job that ran: " PASS  name",
# " FAIL  name" or " WARN  name" (failed, allowed to); a job that did not
# run has none.
declare -A job_verdict=()
while read -r v name; do
    job_verdict[$name]=$v
done < <(sed -n -E 's/^ (PASS|FAIL|WARN) +(.*[^ ]) *$/\1 \2/p' "$log")
# ... and "NAME finished in 3.71 s" (or ms, min, h) when a job ends
declare -A job_secs=()
while IFS=$'\t' read -r name secs; do
    job_secs[$name]=$secs
done < <(awk '/ finished in [0-9.]+ (ms|s|min|h)$/ && !/^parsing and downloads/ {
        u = $NF; v = $(NF - 1); $NF = ""; $(NF - 1) = ""; $(NF - 2) = ""; $(NF - 3) = ""
        sub(/ +$/, ""); m = (u == "ms") ? 0.001 : (u == "min") ? 60 : (u == "h") ? 3600 : 1
        printf "%s\t%.0f\n", $0, v * m }' "$log")
# jobs that ran besides those expected (--needs)
for j in "${!job_verdict[@]}"; do
    printf '%s\n' "${expected[@]}" | grep -qxF -- "$j" || expected+=("$j")
done
echo
echo "ci-local: verdicts (each job's output: $state/output/)"
record=$LOGS/ci-local-record.tsv
: >"$record.new"
for j in "${expected[@]}"; do
    t=${job_secs[$j]:+ (${job_secs[$j]} s)}
    case ${job_verdict[$j]:-} in
    PASS) pass "$j$t" ;;
    FAIL) fail "$j$t" ;;
    WARN) fail "$j (allowed to fail)$t" ;;
    *) skip "$j (did not run: a job it waits for failed, or the run stopped)" ;;
    esac
    printf 'job\t%s\t%s\t%s\n' "$j" "${job_secs[$j]:-}" "${job_verdict[$j]:-did not run}" >>"$record.new"
done
[ "$rc" = 0 ] || [ "$nfail" -gt 0 ] || fail "gitlab-ci-local exited with status $rc"
record_run "$t_start" "$(verdict_line ci-local) (${#expected[@]} jobs)" "$cache_state .cache" >>"$record.new"
mv "$record.new" "$record"
verdict ci-local
