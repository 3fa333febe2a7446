#!/bin/bash
# Make DIR a git tree of the pristine base plus the series (git am).
# Called by: make tree, make seabios-tree, check-series.sh, mutate.sh, seabios.sh, the pipeline.
#
# Make DIR a git tree of the pristine base with the series applied as
# commits: `git am` of patches/$SERIES/series in order, no fuzz and no
# 3-way fallback.  A patch that does not apply stops and is named.
#   scripts/apply.sh DIR [--force | --own]
# Without an option an existing DIR with local changes or commits that
# are not in the series is left alone (it is somebody's work).  --force
# applies again whatever DIR holds; --own (a tree of a script's own,
# never edited by hand) applies again only when DIR is not exactly the
# series as applied: a re-apply gives every patched file a new mtime,
# and headers such as boards.h and numa.h are included nearly
# everywhere, so an unneeded one costs a long rebuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dir=$1; force=${2:-}
pq=$PATCHDIR
tag=$(lock base_tag)
"$ROOT/scripts/fetch-base.sh"

hash=$(series_hash)
g() { git -C "$dir" -c user.name="memmap-type series" -c user.email=series@memmap-type.invalid "$@"; }
if [ ! -d "$dir/.git" ]; then
    git clone -q --no-checkout "$BASE_GIT" "$dir"
elif [ "$force" = --own ]; then
    if [ -z "$(git -C "$dir" status --porcelain --untracked-files=no)" ] &&
       [ "$(git -C "$dir" rev-parse -q --verify HEAD || true)" = "$(git -C "$dir" config memmap.applied-head || true)" ] &&
       [ "$(git -C "$dir" config memmap.applied-hash || true)" = "$hash" ]; then
        say "apply: $dir is up to date with patches/$SERIES/"
        exit 0
    fi
elif [ "$force" != --force ]; then
    if [ -n "$(git -C "$dir" status --porcelain --untracked-files=no)" ]; then
        die "$dir has uncommitted changes; commit or stash them, or remove $dir"
    fi
    head=$(git -C "$dir" rev-parse -q --verify HEAD || true)
    if [ -n "$head" ] && [ "$head" != "$(git -C "$dir" config memmap.applied-head || true)" ]; then
        die "$dir has commits that are not in patches/$SERIES/; run 'make export' first, or remove $dir"
    fi
    if [ "$(git -C "$dir" config memmap.applied-hash || true)" = "$hash" ]; then
        say "apply: $dir is up to date with patches/$SERIES/"
        exit 0
    fi
fi
g fetch -q "$BASE_GIT" "refs/tags/$tag:refs/tags/$tag"
g am --abort >/dev/null 2>&1 || true
g checkout -q -f -B series "$tag"
n=0
if [ -s "$pq/series" ]; then
    while read -r p; do
        case $p in ''|'#'*) continue ;; esac
        n=$((n + 1))
        if ! g am -q --no-3way --keep-cr --committer-date-is-author-date "$pq/$p" >"$LOGS/apply.log" 2>&1; then
            cat "$LOGS/apply.log" >&2
            g am --abort >/dev/null 2>&1 || true
            die "patch $p does not apply to $tag"
        fi
    done <"$pq/series"
fi
git -C "$dir" config memmap.applied-hash "$hash"
git -C "$dir" config memmap.applied-head "$(git -C "$dir" rev-parse HEAD)"
say "apply: $dir = $tag + $n patch(es) from patches/$SERIES/series"
