# Shared helpers for the scripts in this folder; sourced, not run.
# shellcheck shell=bash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$ROOT/.cache}
LOGS=$CACHE/logs
mkdir -p "$CACHE" "$LOGS"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Which patch series the series scripts (fetch-base.sh, apply.sh,
# export.sh) work on: SERIES=qemu (default) or SERIES=seabios.  Each has
# its pins in $SERIES.lock, its mails in patches/$SERIES/ and its
# pristine base in a bare repository in the cache.
SERIES=${SERIES:-qemu}
case $SERIES in
qemu) BASE_GIT=$CACHE/base.git ;;
seabios) BASE_GIT=$CACHE/seabios-base.git ;;
*) printf 'error: unknown SERIES=%s (qemu or seabios)\n' "$SERIES" >&2; exit 1 ;;
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

# result_key INPUT...: a short hash of INPUTs and of the files that decide
# every cached build or qtest result (make check's .cache/results/)
result_key() {
    { printf '%s\n' "$@"; cat "$ROOT/qemu.lock" "$ROOT/scripts/build.sh" "$ROOT/scripts/qtest.sh" \
        "$ROOT/tests/qtest-exclude.txt"; } | sha256sum | cut -c1-16
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
verdict() { echo "$1: $npass passed, $nfail failed, $nskip skipped"; [ "$nfail" = 0 ]; }
finish() { say "$1: took $(( $(date +%s) - STEP_T0 )) s"; verdict "$1"; exit; }
# indent: the input, indented, for details under a result line
indent() { sed 's/^/    /'; }
