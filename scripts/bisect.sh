#!/bin/bash
# Build each prefix of the series: what it changes, and nothing more.
# Called by: check.sh (step bisect).
#
# Bisectability: every prefix of the series builds.
#
#   scripts/bisect.sh AMDIR SRC BUILD
#
# AMDIR is a `git am` of the series (branch "series", as
# scripts/check-series.sh leaves it).  Its commits are fetched into the
# clone SRC of the pristine base and checked out one by one, oldest
# first, in one build directory BUILD, so that each step is an
# incremental build (only changed files get new mtimes).  Each prefix
# builds the ninja targets its own patch can break (targets() below):
#  - qemu-system-x86_64 when the patch changes anything outside tests/
#    and docs/, and qemu-system-i386 too when that is target-dependent
#    code or a header or schema such code includes (hw/i386/,
#    target/i386/, include/, qapi/, a meson.build or Kconfig); QEMU
#    builds common code once for both targets, so a patch of common code
#    alone (hw/core/numa.c) is proven by the x86_64 build;
#  - the qtest binary of each changed tests/qtest/NAME.c, and
#    bios-tables-test for its expected tables and allowed-diff list;
#  - the whole series (the last prefix) builds both targets.
# A prefix that built before with the same inputs (tree, targets,
# tests/cache-inputs.txt's row) is "(cached)" (.cache/results/; FORCE=1
# builds again).  Each prefix's wall time and targets go to
# $LOGS/bisect-times.tsv (check.sh's record).  Last line "bisect: N
# passed, N failed, 0 skipped"; SRC is left at the last commit.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
[ $# = 3 ] || die "usage: $0 AMDIR SRC BUILD"
am=$(cd "$1" && pwd) src=$2 build=$3
tag=$(lock base_tag)
results=$CACHE/results
times=$LOGS/bisect-times.tsv
mkdir -p "$results"
: >"$times"

# targets FROM TO LAST: the ninja targets that prove commit TO builds,
# given that FROM built (LAST: TO is the whole series)
targets() {
    local files t=() f x86=0 i386=0
    mapfile -t files < <(git -C "$src" diff --name-only "$1" "$2")
    for f in "${files[@]}"; do
        case $f in
        tests/qtest/*.c) t+=("${f%.c}") ;;
        tests/data/acpi/* | tests/qtest/bios-tables-test-allowed-diff.h) t+=(tests/qtest/bios-tables-test) ;;
        tests/* | docs/* | MAINTAINERS) ;;
        hw/i386/* | target/i386/* | include/* | qapi/* | meson.build | */meson.build | Kconfig* | */Kconfig*)
            x86=1 i386=1 ;;
        *) x86=1 ;;
        esac
    done
    [ "$3" = 0 ] || x86=1 i386=1
    [ "$x86" = 0 ] || t+=(qemu-system-x86_64)
    [ "$i386" = 0 ] || t+=(qemu-system-i386)
    [ ${#t[@]} = 0 ] || printf '%s\n' "${t[@]}" | sort -u
}

[ -d "$src/.git" ] || git clone -q "$CACHE/base.git" "$src"
git -C "$src" fetch -q "$am" "+series:refs/remotes/am/series"
mapfile -t commits < <(git -C "$src" rev-list --reverse "$tag..am/series")
n=${#commits[@]}
prev=$tag
for i in "${!commits[@]}"; do
    c=${commits[$i]} t0=$(date +%s)
    mapfile -t tg < <(targets "$prev" "$c" $((i + 1 == n)))
    prev=$c
    label="patches 1-$((i + 1)) of $n: $(git -C "$src" log -1 --format=%s "$c")"
    if [ ${#tg[@]} = 0 ]; then
        pass "$label: changes no build input (only $(git -C "$src" diff --name-only "$c^" "$c" | paste -sd' '))"
        printf '%s\t0\tnothing to build\tran\n' "$((i + 1))" >>"$times"
        continue
    fi
    stamp=$results/build-$(step_key bisect "$(git -C "$src" rev-parse "$c^{tree}")" "${tg[*]}")
    if [ -e "$stamp" ] && [ -z "${FORCE:-}" ]; then
        pass "$label: builds ${tg[*]} (cached)"
        printf '%s\t0\t%s\tcached\n' "$((i + 1))" "${tg[*]}" >>"$times"
        continue
    fi
    git -C "$src" checkout -q --detach "$c"
    if "$ROOT/scripts/build.sh" "$src" "$build" "${tg[@]}"; then
        touch "$stamp"; pass "$label: builds ${tg[*]} ($(($(date +%s) - t0)) s)"
    else
        fail "$label: ${tg[*]} do not build (log: $LOGS/build-$(basename "$(dirname "$build")")-$(basename "$build").log)"
    fi
    printf '%s\t%s\t%s\tran\n' "$((i + 1))" $(($(date +%s) - t0)) "${tg[*]}" >>"$times"
done
git -C "$src" checkout -q --detach am/series
verdict bisect
