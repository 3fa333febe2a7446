#!/bin/bash
# Build QEMU's documentation with the series (Sphinx, warnings fatal).
# Called by: make docs, check.sh, the pipeline.
#
# Build QEMU's documentation (HTML and man pages, with Sphinx from
# Debian) from the pristine base with the series applied.  Sphinx runs
# with warnings as errors, so broken rST in qemu-options.hx or broken
# QAPI doc comments fail the build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$CACHE/docs/src
"$ROOT/scripts/deps.sh"
"$ROOT/scripts/apply.sh" "$src" --force
CONFIGURE_EXTRA="--enable-docs" "$ROOT/scripts/build.sh" "$src" "$CACHE/docs/build" html man
b=$CACHE/docs/build
grep -q 'memmap-type' "$b/docs/manual/system/invocation.html" ||
    die "docs: memmap-type missing from docs/manual/system/invocation.html"
grep -q 'NumaMemmapType' "$b/docs/manual/interop/qemu-qmp-ref.html" ||
    die "docs: NumaMemmapType missing from the QMP reference"
say "docs: built; see ${b#$ROOT/}/docs/manual/index.html"
