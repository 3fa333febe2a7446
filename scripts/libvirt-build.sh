#!/bin/bash
# Build libvirt 11.3.0 with patches/libvirt/ (only the QEMU driver).
# Called by: check.sh (step libvirt-series), libvirt.sh, make libvirt-build.
#
# Apply patches/libvirt/ to the pinned libvirt base (libvirt.lock) in a
# tree of this script's own, configure it once with the smallest set of
# features that builds the QEMU driver, libvirtd, virsh and the test
# programs, and build it with ccache.  Prints the build folder.
#   scripts/libvirt-build.sh [SRC BUILD]
# Default: the series applied in .cache/libvirt-series/src, built in
# .cache/libvirt-series/build.  A SRC given is built as it is (no
# apply: libvirt-tests.sh's tree without the series' code).
# The daemon runs uninstalled, from BUILD, in the private mount namespace
# of scripts/libvirtd-private.sh: configured for the standard /etc, /var
# and /run (which that namespace replaces) and a prefix that never
# exists, so that nothing it loads can come from the host's packaged
# libvirt in /usr (run from its build folder, libvirtd takes its driver
# modules and CPU map from there).  Never `meson install` it.
set -euo pipefail
SERIES=libvirt
export SERIES
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

src=${1:-$CACHE/libvirt-series/src} build=${2:-$CACHE/libvirt-series/build}
"$ROOT/scripts/deps.sh" build libvirt-build >&2
[ $# -gt 0 ] || "$ROOT/scripts/apply.sh" "$src" --own >&2
mkdir -p "$build"; build=$(cd "$build" && pwd); src=$(cd "$src" && pwd)
log=$LOGS/libvirt-build$([ $# = 0 ] || echo "-$(basename "$build")").log

export CCACHE_DIR=$CACHE/ccache CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1 CCACHE_COMPILERCHECK=content
# Everything off (auto_features), then what the QEMU driver, the
# monolithic daemon with its remote driver and the tests need; libnl and
# json-c are required by the QEMU driver on Linux.  No docs (Sphinx-free
# rst2html), no expensive tests.
conf=(-Dauto_features=disabled -Ddriver_qemu=enabled -Ddriver_libvirtd=enabled
      -Ddriver_remote=enabled -Djson_c=enabled -Dlibnl=enabled -Dtests=enabled
      -Ddocs=disabled -Dexpensive_tests=disabled
      --prefix=/nonexistent/libvirt-series -Dsysconfdir=/etc -Dlocalstatedir=/var -Drunstatedir=/run
      --buildtype=plain -Doptimization=1)
meson=("$CACHE/venv/bin/python3" -m mesonbuild.mesonmain)
if [ ! -e "$build/build.ninja" ] || [ "$(cat "$build/.configure-args" 2>/dev/null)" != "${conf[*]}" ]; then
    say "libvirt-build: configuring libvirt in $build (log: $log)"
    rm -rf "$build"; mkdir -p "$build"
    CC="ccache gcc" run_logged "$log" "${meson[@]}" setup "${conf[@]}" "$build" "$src"
    echo "${conf[*]}" >"$build/.configure-args"
fi
say "libvirt-build: building ${src#"$ROOT"/} in ${build#"$ROOT"/} (log: $log)"
run_logged "$log" ninja -C "$build" -j"$(nproc)"
printf '%s\n' "$build"
