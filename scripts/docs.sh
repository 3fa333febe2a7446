#!/bin/bash
# Build QEMU's documentation with the series (Sphinx, warnings fatal).
# Called by: make docs, check.sh, the pipeline.
#
# Build QEMU's documentation (HTML and man pages, with Sphinx from
# Debian) from the pristine base with the series applied.  Sphinx runs
# with warnings as errors, so broken rST in qemu-options.hx or broken
# QAPI doc comments fail the build.
#
#   scripts/docs.sh             the series as patches/qemu/ holds it
#                               (scripts/apply.sh --own)
#   scripts/docs.sh SRC         the commit SRC has checked out (check.sh's
#                               tree), fetched and checked out in the docs
#                               tree: only files that differ get new mtimes
#   scripts/docs.sh --inputs SRC   a hash of SRC's documentation inputs:
#                               docs/, the QAPI schemas, scripts/ (the
#                               QAPI and hx generators, kernel-doc), the
#                               .hx files, the build files, and every
#                               file a directive of docs/ names
#                               (kernel-doc, include, literalinclude, ...)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" = --inputs ]; then
    t=$(cd "$2" && pwd)
    mapfile -t named < <(cd "$t" && git grep -hoE '^\.\. [a-z-]+::\s*\S+' HEAD -- docs |
        sed -E 's/^\.\. [a-z-]+::\s*//' | sort -u)
    paths=(docs qapi qga/qapi-schema.json storage-daemon/qapi scripts meson.build meson_options.txt
           configure VERSION)
    for f in "${named[@]}"; do
        # relative to the root, or to a folder of docs/ (../../x)
        f=${f#../}; f=${f#../}
        [ -n "$(git -C "$t" ls-tree HEAD -- "$f")" ] && paths+=("$f")
    done
    { git -C "$t" ls-tree -r HEAD -- "${paths[@]}"; git -C "$t" ls-tree HEAD -- '*.hx'; } | sha256sum | cut -c1-16
    exit 0
fi
src=$CACHE/docs/src
"$ROOT/scripts/deps.sh"
if [ -n "${1:-}" ]; then
    from=$(cd "$1" && pwd)
    [ -d "$src/.git" ] || git clone -q "$CACHE/base.git" "$src"
    git -C "$src" fetch -q "$from" HEAD
    git -C "$src" checkout -q -f --detach FETCH_HEAD
else
    "$ROOT/scripts/apply.sh" "$src" --own
fi
CONFIGURE_EXTRA="--enable-docs" "$ROOT/scripts/build.sh" "$src" "$CACHE/docs/build" html man
b=$CACHE/docs/build
grep -q 'memmap-type' "$b/docs/manual/system/invocation.html" ||
    die "docs: memmap-type missing from docs/manual/system/invocation.html"
grep -q 'NumaMemmapType' "$b/docs/manual/interop/qemu-qmp-ref.html" ||
    die "docs: NumaMemmapType missing from the QMP reference"
say "docs: built; see ${b#$ROOT/}/docs/manual/index.html"
