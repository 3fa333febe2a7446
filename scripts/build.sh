#!/bin/bash
# Configure (once) and build QEMU from a source tree, with ccache.
# Called by: make build, check.sh, bisect.sh, qtest-compare.sh, mutate.sh, ci-matrix.sh, sanitize.sh, demo.sh, the pipeline.
#
# Configure (once) and build qemu-system-x86_64 (and, on request,
# qemu-system-i386) from a QEMU source tree.
#   scripts/build.sh SRC BUILD [ninja targets...]
# Environment: BUILD_CC, BUILD_CXX (compilers, default cc and c++, always
# through ccache), CONFIGURE_EXTRA (more configure options; they come
# last, so CONFIGURE_EXTRA=--enable-debug-info gives debug info back).
# Builds have no debug info (-g): it makes every compile about a quarter
# slower (hw/i386/pc.c 0.85 s with it, 0.64 s without; target/i386/tcg/
# translate.c 6.1 s and 4.6 s, measured 2026-12-07), and make check only
# runs the binaries.
# Local build fixes for the DFSG tarball (not part of the series):
#  - pc-bios/meson.build unpacks edk2-*.fd.bz2 blobs that Debian strips
#    from the tarball whenever bzip2 is installed.  We create valid,
#    empty bzip2 streams with those names as untracked files in the
#    source tree; the resulting empty .fd files are never installed nor
#    used (guests get OVMF from Debian's package).
#  - the pc-bios/dtb .dtb files are stripped too: device-tree-compiler
#    is installed so they are rebuilt from their .dts sources.
# Run-time firmware comes from Debian packages, linked into the build's
# qemu-bundle so that the qtests and a plain run find it without -L.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$(cd "$1" && pwd); build=$2; shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(qemu-system-x86_64)
mkdir -p "$build"; build=$(cd "$build" && pwd)
name=$(basename "$(dirname "$build")")-$(basename "$build")
log=$LOGS/build-$name.log

export CCACHE_DIR=$CACHE/ccache CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
# Sloppiness lets ccache hit across different source/build directories.
export CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1 CCACHE_COMPILERCHECK=content

for f in $(sed -n "s/^ *'\(edk2-[a-z0-9_-]*\.fd\)',\$/\1/p" "$src/pc-bios/meson.build"); do
    [ -e "$src/pc-bios/$f.bz2" ] || bzip2 -c </dev/null >"$src/pc-bios/$f.bz2"
    excl=$(git -C "$src" rev-parse --git-path info/exclude 2>/dev/null) || continue
    case $excl in /*) ;; *) excl=$src/$excl ;; esac
    mkdir -p "$(dirname "$excl")"
    grep -qxF "/pc-bios/$f.bz2" "$excl" 2>/dev/null || echo "/pc-bios/$f.bz2" >>"$excl"
done

conf=(--python="$CACHE/venv/bin/python3" --cc="ccache ${BUILD_CC:-cc}" --cxx="ccache ${BUILD_CXX:-c++}" --target-list=x86_64-softmmu,i386-softmmu --enable-fdt=system
      --disable-download --disable-install-blobs --disable-docs
      --disable-guest-agent --disable-debug-info ${CONFIGURE_EXTRA:-})
if [ ! -e "$build/build.ninja" ] || [ "$(cat "$build/.configure-args" 2>/dev/null)" != "${conf[*]}" ]; then
    say "build[$name]: configuring (log: $log)"
    rm -rf "$build"; mkdir -p "$build"
    (cd "$build" && run_logged "$log" "$src/configure" "${conf[@]}")
    echo "${conf[*]}" >"$build/.configure-args"
fi
say "build[$name]: ninja ${targets[*]} (log: $log)"
run_logged "$log" ninja -C "$build" -j"$(nproc)" "${targets[@]}"
"$ROOT/scripts/firmware.sh" "$build"
