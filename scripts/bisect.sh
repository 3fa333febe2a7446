#!/bin/bash
# Build qemu-system-x86_64 and -i386 at every prefix of the series.
# Called by: check.sh (step bisect).
#
# Bisectability: qemu-system-x86_64 and qemu-system-i386 build at every
# prefix of the series.
#
#   scripts/bisect.sh AMDIR SRC BUILD
#
# AMDIR is a `git am` of the series (branch "series", as
# scripts/check-series.sh leaves it).  Its commits are fetched into the
# clone SRC of the pristine base and checked out one by one, oldest
# first, in one build directory BUILD, so that each step is an
# incremental build (only changed files get new mtimes).  A prefix that
# built before with the same inputs is "(cached)" (.cache/results/;
# FORCE=1 builds again).  Last line "bisect: N passed, N failed, 0
# skipped"; SRC is left at the last commit.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# = 3 ] || die "usage: $0 AMDIR SRC BUILD"
am=$(cd "$1" && pwd) src=$2 build=$3
tag=$(lock base_tag)
results=$CACHE/results
mkdir -p "$results"

[ -d "$src/.git" ] || git clone -q "$CACHE/base.git" "$src"
git -C "$src" fetch -q "$am" "+series:refs/remotes/am/series"
mapfile -t commits < <(git -C "$src" rev-list --reverse "$tag..am/series")
n=${#commits[@]}
for i in "${!commits[@]}"; do
    c=${commits[$i]}
    stamp=$results/build-$(result_key "$(git -C "$src" rev-parse "$c^{tree}")")
    label="builds with patches 1-$((i + 1)) of $n: $(git -C "$src" log -1 --format=%s "$c")"
    if [ -e "$stamp" ] && [ -z "${FORCE:-}" ]; then
        pass "$label (cached)"; continue
    fi
    git -C "$src" checkout -q --detach "$c"
    if "$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64 qemu-system-i386; then
        touch "$stamp"; pass "$label"
    else
        fail "$label (log: $LOGS/build-$(basename "$(dirname "$build")")-$(basename "$build").log)"
    fi
done
verdict bisect
