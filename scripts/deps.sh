#!/bin/bash
# Install what the build and the tests need (apt-get, then .cache/).
# Called by: make deps, check.sh, demo.sh, the pipeline.
#
# Install what the build and the tests need.
#  - system packages from this machine's own release (bookworm) with
#    apt-get, only those that are missing;
#  - meson and pycotap, which bookworm lacks, downloaded through the
#    private apt configuration and unpacked into a python venv in the
#    cache (the system's python and apt setup are left alone).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(
    build-essential pkg-config ninja-build python3-venv ccache bzip2 xz-utils
    libglib2.0-dev libpixman-1-dev zlib1g-dev libslirp-dev flex bison
    device-tree-compiler python3-sphinx python3-sphinx-rtd-theme
    libfdt-dev acpica-tools
    seabios ipxe-qemu qemu-system-data cpio dpkg-dev git gnuplot-nox
)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
    say "deps: installing system packages: ${missing[*]}"
    run_logged "$LOGS/deps-apt.log" apt-get update -q
    DEBIAN_FRONTEND=noninteractive run_logged "$LOGS/deps-apt.log" \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

venv=$CACHE/venv
stamp=$venv/.deps-$(grep -E '^(meson|pycotap)_' "$ROOT/qemu.lock" | sha256sum | cut -c1-16)
[ -e "$stamp" ] && exit 0

say "deps: preparing python venv with meson and pycotap in $venv"
dl=$CACHE/downloads
mkdir -p "$dl"
debs=()
for key in meson pycotap; do
    spec=$(lock ${key}_deb); sum=$(lock ${key}_sha256)
    name=${spec%%=*}; ver=${spec#*=}
    f=$dl/${name}_${ver#*:}_all.deb
    if ! echo "$sum  $f" | sha256sum -c --status 2>/dev/null; then
        "$ROOT/scripts/apt-private.sh" update
        (cd "$dl" && run_logged "$LOGS/deps-download.log" \
            "$ROOT/scripts/apt-private.sh" get download "$spec") ||
            die "$spec is no longer served by the archive; pick a served version in qemu.lock"
    fi
    echo "$sum  $f" | sha256sum -c --status || die "sha256 mismatch for $f"
    debs+=("$f")
done
# Built beside the old one and moved into place: builds that are running
# keep a working meson.
new=$venv.new
rm -rf "$new"
/usr/bin/python3 -m venv --system-site-packages "$new"
site=$("$new/bin/python3" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# Copied into site-packages itself: QEMU's configure makes a nested
# venv that sees this directory but does not read .pth files in it.
for f in "${debs[@]}"; do
    rm -rf "$new/deb"; dpkg-deb -x "$f" "$new/deb"
    cp -a "$new/deb/usr/lib/python3/dist-packages/." "$site/"
done
rm -rf "$new/deb"
"$new/bin/python3" -c 'import mesonbuild.coredata as c, pycotap; print("meson", c.version)' ||
    die "venv check failed"
touch "$new/${stamp##*/}"
rm -rf "$venv.old"
[ ! -d "$venv" ] || mv "$venv" "$venv.old"
mv "$new" "$venv"
rm -rf "$venv.old"
