#!/bin/bash
# Write the series of a tree back to patches/$SERIES/, deterministically.
# Called by: make export, make seabios-export, check-series.sh.
#
# Export the series from a tree made by `make tree` (or by `make
# seabios-tree`, with SERIES=seabios) back into patches/$SERIES/,
# deterministically: zero commit ids, no signature, fixed abbrev,
# pinned dates.  The subject prefix comes from the lock file (lib.sh's
# series_prefix: series_prefix, then "vN" unless series_reroll=none).
# git's base-commit line names the local import of the tarball, which
# exists nowhere upstream: it is replaced by upstream_base_commit from
# the lock file, or dropped when that is empty (the cover letter then
# states the base).  The cover letter text comes from
# patches/$SERIES/cover-letter.txt (first line: subject, then the body);
# git adds the shortlog and the diffstat.
#   scripts/export.sh TREE [OUTDIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"
tree=$1; out=${2:-$PATCHDIR}
tag=$(lock base_tag); v=$(lock series_version); date=$(lock series_date)
prefix=$(series_prefix)            # e.g. "RFC PATCH" or "PATCH v2"
upstream=$(lock upstream_base_commit)
cover=$PATCHDIR/cover-letter.txt
[ -d "$tree/.git" ] || die "$tree is not a git tree; run 'make tree' first"
[ -f "$cover" ] || die "missing $cover"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
n=$(git -C "$tree" rev-list --count "$tag..HEAD")
if [ "$n" -gt 0 ]; then
    branch=$(git -C "$tree" symbolic-ref -q --short HEAD || echo series)
    git -C "$tree" -c branch."$branch".description="$(cat "$cover")" \
        -c user.name="memmap-type series" -c user.email=series@memmap-type.invalid \
        -c core.abbrev=12 -c diff.noprefix=false -c diff.renames=true \
        format-patch -q -o "$tmp" --zero-commit --no-signature --abbrev=12 \
        --full-index --binary --base="$tag" --subject-prefix="$prefix" \
        --cover-letter --cover-from-description=subject \
        --no-thread --no-attach \
        "$tag..HEAD" >/dev/null
    for f in "$tmp"/*.patch; do
        b=$(basename "$f")
        # Pinned date; the cover letter also gets no Message-ID-like
        # run-specific headers, and the upstream base (or none).
        if [ -n "$upstream" ]; then base="s/^base-commit: .*/base-commit: $upstream/"
        else base="/^base-commit: /d"; fi
        sed -e "1,/^\$/s/^Date: .*/Date: $date/" -e "$base" "$f" >"$tmp/$b.new"
        rm -f "$f"; mv "$tmp/$b.new" "$tmp/$b"
    done
fi
mkdir -p "$out"
rm -f "$out"/[0-9][0-9][0-9][0-9]-*.patch
(cd "$tmp" && ls [0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '^0000-' || true) >"$out/series"
cp "$tmp"/[0-9][0-9][0-9][0-9]-*.patch "$out"/ 2>/dev/null || true
if [ "$out" = "$PATCHDIR" ]; then
    # the tree now is what patches/$SERIES/ describes
    git -C "$tree" config memmap.applied-hash "$(series_hash)"
    git -C "$tree" config memmap.applied-head "$(git -C "$tree" rev-parse HEAD)"
fi
say "export: $n patch(es) to ${out#$ROOT/} (series r$v, [$prefix])"
