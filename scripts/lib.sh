# Shared helpers and the result library of every script here.
# Called by: sourced by every script in scripts/.
#
# Sourced, not run.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$ROOT/.cache}
LOGS=$CACHE/logs
mkdir -p "$CACHE" "$LOGS"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Which patch series the series scripts (fetch-base.sh, apply.sh,
# export.sh) work on: SERIES=qemu (default), seabios or libvirt.  Each has
# its pins in $SERIES.lock, its mails in patches/$SERIES/ and its
# pristine base in a bare repository in the cache.
SERIES=${SERIES:-qemu}
case $SERIES in
qemu) BASE_GIT=$CACHE/base.git ;;
seabios) BASE_GIT=$CACHE/seabios-base.git ;;
libvirt) BASE_GIT=$CACHE/libvirt-base.git ;;
*) printf 'error: unknown SERIES=%s (qemu, seabios or libvirt)\n' "$SERIES" >&2; exit 1 ;;
esac
LOCKFILE=$ROOT/$SERIES.lock
PATCHDIR=$ROOT/patches/$SERIES

# lock KEY [SERIES]: value of KEY from SERIES.lock (default $SERIES)
lock() {
    sed -n "s/^$1=//p" "$ROOT/${2:-$SERIES}.lock"
}

# run_logged LOG CMD...: run CMD with all output in LOG; on failure show
# the tail of the log and fail.
run_logged() {
    local log=$1; shift
    if ! "$@" >"$log" 2>&1; then
        echo "---- last 40 lines of $log ----" >&2
        tail -40 "$log" >&2
        die "failed: $* (full log: $log)"
    fi
}

# series_prefix [SERIES]: the subject prefix of the series' mails, from
# its lock file: series_prefix (default PATCH), then "vN" from
# series_reroll (default series_version) unless that is "none"
series_prefix() {
    local p r
    p=$(lock series_prefix "${1:-$SERIES}"); p=${p:-PATCH}
    r=$(lock series_reroll "${1:-$SERIES}"); r=${r:-$(lock series_version "${1:-$SERIES}")}
    [ "$r" = none ] || p+=" v$r"
    printf '%s\n' "$p"
}

# series_hash [SERIES]: a short hash of patches/SERIES/series (default
# $SERIES) and every patch in it
series_hash() {
    local pq=$ROOT/patches/${1:-$SERIES} p
    { cat "$pq/series"; { grep -v '^\s*\(#\|$\)' "$pq/series" || true; } |
        while read -r p; do cat "$pq/$p"; done; } | sha256sum | cut -c1-16
}

# snapshot_qemu DIR NAME SRC: copy the binary SRC and its qemu-bundle/
# (its firmware) to DIR/NAME, so that a rebuild of SRC does not disturb
# a long run; prints the copy's path, or nothing when SRC does not run
snapshot_qemu() {
    local dir=$1 name=$2 src=$3 dst=$1/$2 tmp
    [ -x "$src" ] || return 0
    mkdir -p "$dir"
    tmp=$(mktemp -d "$dir/.$name.XXXXXX")
    cp -a "$src" "$tmp/"
    [ ! -d "$(dirname "$src")/qemu-bundle" ] || cp -a "$(dirname "$src")/qemu-bundle" "$tmp/"
    if ! "$tmp/qemu-system-x86_64" -version >/dev/null 2>&1; then
        rm -rf "$tmp"
        return 0
    fi
    rm -rf "$dst"
    mv "$tmp" "$dst"
    printf '%s\n' "$dst/qemu-system-x86_64"
}

# env_fingerprint: what a cached result depends on besides its sources
# (the "env" probe of tests/lib/cache_inputs.py: compilers, configure
# options, library and firmware packages, host kernel, /dev/kvm, root).
# Computed by each process that asks, never taken from the environment.
env_fingerprint() { python3 "$ROOT/tests/lib/cache_inputs.py" probe env; }

# tcg_only CMD...: run CMD where /dev has no kvm entry at all (a private
# mount namespace with a copy of /dev without it, scripts/tcg-only.sh;
# needs root), so that every QEMU it starts uses TCG and every qtest
# registers its cases as on a host without KVM (QEMU's CI runners).
# Without /dev/kvm, CMD runs as it is.  Returns 77 (one line on stderr,
# "/dev/kvm exists and cannot be hidden: WHY") when /dev/kvm exists and
# cannot be hidden; it never runs CMD with /dev/kvm visible.
tcg_only() { "$ROOT/scripts/tcg-only.sh" "$@"; }

# readme_blocks: the code blocks of README's "Two commands" section, one
# line each (the prerequisite line, make demo, make check; fresh.sh and
# ci-validate.sh read them)
readme_blocks() {
    awk '/^## /{s = ($0 == "## Two commands")} s && /^```/{inb = !inb; if (inb) n = 0; else print body; next}
         s && inb {body = (n++ ? body "\n" : "") $0}' "$ROOT/README.md"
}

# step_key STEP VALUE...: the key of STEP's cached result in
# .cache/results/, from its row of tests/cache-inputs.txt (the files and
# tool versions it depends on) and the VALUEs the row names (tree ids,
# binary hashes); fails when the row is missing or the values do not fit
step_key() {
    local k
    k=$(python3 "$ROOT/tests/lib/cache_inputs.py" key "$@") || die "step_key $*: no key"
    printf '%s\n' "$k"
}

# one_result NAME PASS|FAIL|SKIP TEXT: the output of a step that is a
# single check, "  RESULT  TEXT" and then its verdict line
# "NAME: N passed, N failed, N skipped"; returns 1 on FAIL
one_result() {
    local p=0 f=0 k=0
    case $2 in PASS) p=1 ;; FAIL) f=1 ;; SKIP) k=1 ;; *) die "one_result: bad result '$2'" ;; esac
    printf '  %s  %s\n%s: %d passed, %d failed, %d skipped\n' "$2" "$3" "$1" "$p" "$f" "$k"
    [ "$f" = 0 ]
}

# compare_row QUESTION IFACE CELL EVIDENCE [HOW]: one measured cell of
# COMPARISON.md (scripts/compare.sh).  QUESTION is an id from
# tests/compare/questions.tsv, IFACE memmap (the series) or spmem
# (-device sp-mem), CELL the short answer, EVIDENCE the output line that
# shows it (a guest line, an error text), HOW the command or log that
# reproduces it.  Appended to $COMPARE_ROWS (tab-separated) and printed.
compare_row() {
    local f=${COMPARE_ROWS:-$CACHE/compare/rows.tsv} a=() x
    for x in "$1" "$2" "$3" "$4" "${5:-}"; do x=${x//$'\t'/ }; a+=("${x//$'\n'/ | }"); done
    mkdir -p "$(dirname "$f")"
    printf '%s\t%s\t%s\t%s\t%s\n' "${a[@]}" >>"$f"
    printf '  ROW   %-20s %-6s %s\n' "$1" "$2" "$3"
}

# The checks of a step, the one way every step reports: pass TEXT,
# fail TEXT and skip WHY print "PASS TEXT" ("FAIL ...", "SKIP ...") and
# count; verdict NAME prints the step's last line "NAME: N passed,
# N failed, N skipped" and returns 1 if a check failed; finish NAME also
# says how long the step took and exits with that status.
npass=0 nfail=0 nskip=0 STEP_T0=$(date +%s)
pass() { echo "PASS $*"; npass=$((npass + 1)); }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
skip() { echo "SKIP $*"; nskip=$((nskip + 1)); }
verdict_line() { echo "$1: $npass passed, $nfail failed, $nskip skipped"; }
verdict() { verdict_line "$1"; [ "$nfail" = 0 ]; }

# record_run START VERDICT-LINE CLONE: the "run" line of a record that
# scripts/timings.sh reads (date, commit, seconds since START, the
# verdict, the machine, the state of .cache/)
record_run() {
    printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
        "$(git -C "$ROOT" rev-parse --short HEAD)$([ -z "$(git -C "$ROOT" status --porcelain)" ] || echo +changes)" \
        $(($(date +%s) - $1)) "$2" "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB" "$3"
}
# tally PASS|FAIL|SKIP: count a check whose line is already printed (by a
# part that ran apart, e.g. in a background job); anything else is FAIL
tally() {
    case $1 in
    PASS) npass=$((npass + 1)) ;;
    SKIP) nskip=$((nskip + 1)) ;;
    *) nfail=$((nfail + 1)) ;;
    esac
}
finish() { say "$1: took $(( $(date +%s) - STEP_T0 )) s"; verdict "$1"; exit; }
# add_step NAME LOG: a step made of parts adds part NAME's counts (the
# verdict line "NAME: N passed, N failed, N skipped" of its output LOG)
# to its own; a LOG without that line is a failure.  Returns 1 then.
add_step() {
    local line p f k
    line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed" "$2" | tail -1 || true)
    if [ -z "$line" ]; then
        fail "$1: no result line (log: $2)"
        return 1
    fi
    read -r p f k < <(verdict_counts "$line")
    npass=$((npass + p)) nfail=$((nfail + f)) nskip=$((nskip + k))
}
# verdict_counts LINE: "P F K" of a verdict line (K is 0 when absent)
verdict_counts() {
    sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' <<<"$1" |
        awk '{print $1, $2, ($3 == "" ? 0 : $3)}'
}
# indent: the input, indented, for details under a result line
indent() { sed 's/^/    /'; }

# Judging a step's output, the one rule of `make check` (scripts/check.sh)
# and of the pipeline's jobs (scripts/ci-step.sh).  A step prints
# "PASS/FAIL/SKIP ..." lines and ends with "NAME: N passed, N failed,
# N skipped".  Expected skips are data: tests/expected-skips.txt lists,
# per step, a pattern of the SKIP lines the project accepts and why.
#
# expected_skip STEP LINE: print why LINE is an expected skip of STEP
expected_skip() {
    local step re why
    while IFS=$'\t' read -r step re why; do
        case $step in '' | '#'*) continue ;; esac
        # shellcheck disable=SC2053  # STEP is a glob pattern
        if [[ $1 == $step ]] && [[ $2 =~ $re ]]; then printf '%s' "$why"; return 0; fi
    done <"$ROOT/tests/expected-skips.txt"
    return 1
}
# judge_step NAME LOG: read step NAME's output LOG.  Sets STEP_LINE (its
# verdict line), STEP_P, STEP_F, STEP_K (its counts), STEP_BAD (why it
# fails: failed checks, no verdict line, no check at all, a skip count
# that is not the number of SKIP lines, a skip not on the list) and STEP_EXPECTED (its expected
# skips, each with why).  Returns 1 if STEP_BAD is not empty.
judge_step() {
    local name=$1 log=$2 l why lines=()
    STEP_BAD=() STEP_EXPECTED=() STEP_P=0 STEP_F=0 STEP_K=0
    STEP_LINE=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1 || true)
    if [ -z "$STEP_LINE" ]; then
        STEP_BAD+=("$name: no result line (log: $log)")
        return 1
    fi
    read -r STEP_P STEP_F STEP_K < <(verdict_counts "$STEP_LINE")
    [ "$STEP_F" = 0 ] || STEP_BAD+=("$name: $STEP_F failed (log: $log)")
    [ $((STEP_P + STEP_F + STEP_K)) != 0 ] || STEP_BAD+=("$name: ran no check at all (log: $log)")
    # every skip has its SKIP line saying why, and every SKIP line counts
    mapfile -t lines < <(grep -E '^ *SKIP' "$log" | sed -E 's/^ *//' || true)
    if [ "$STEP_K" != ${#lines[@]} ]; then
        STEP_BAD+=("$name: $STEP_K skipped, but ${#lines[@]} SKIP lines say why (log: $log)")
    fi
    if [ ${#lines[@]} != 0 ]; then
        for l in "${lines[@]}"; do
            if why=$(expected_skip "$name" "$l"); then
                STEP_EXPECTED+=("$l  [$why]")
            else
                STEP_BAD+=("$name: unexpected skip, not in tests/expected-skips.txt: $l (log: $log)")
            fi
        done
    fi
    [ ${#STEP_BAD[@]} = 0 ]
}

# The result store of make check (.cache/results/NAME-KEY.log, key from
# step_key): a log is stored only when judge_step accepts it, and a
# stored log is replayed only when judge_step accepts it now (the skip
# list may have changed); one that no longer passes is removed.
# result_replayable NAME KEEP: KEEP can stand for running step NAME
result_replayable() {
    [ -s "$2" ] || return 1
    if ! judge_step "$1" "$2" >/dev/null; then
        say "$1: the stored result ${2#"$ROOT"/} no longer passes judge_step (${STEP_BAD[0]}); running again"
        rm -f "$2"
        return 1
    fi
}
# result_store NAME LOG KEEP: keep LOG of step NAME as KEEP if it passes
result_store() {
    if judge_step "$1" "$2" >/dev/null; then cp "$2" "$3"; else rm -f "$3"; return 1; fi
}
