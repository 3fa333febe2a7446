#!/bin/bash
# Install the system packages and python tools every step needs.
# Called by: make deps, check.sh, demo.sh, docs.sh, sanitize.sh, ci-matrix.sh, libvirt.sh, fresh.sh, the pipeline.
#
# The one list of every system package a step uses (the table below),
# installed from this machine's own release (bookworm) with apt-get,
# only those missing, then meson and pycotap, which bookworm lacks,
# downloaded through the private apt configuration and unpacked into a
# python venv in .cache/ (the system's python and apt setup are left
# alone).
#
#   scripts/deps.sh [GROUP...]     install GROUPs (default: build)
#   scripts/deps.sh --all          every group
#   scripts/deps.sh --tools GROUP...|--all   check, installing nothing,
#                                  that every tool of GROUPs is on PATH
#                                  (PASS/FAIL lines, scripts/fresh.sh)
#   scripts/deps.sh --list GROUP...|--all    the packages, one a line
#   scripts/deps.sh --table        the table: package, groups, tool
#                                  (scripts/ci-validate.sh)
#
# Groups: build (make demo and everything that builds QEMU or SeaBIOS or
# boots a guest), check (what only make check's steps add), node
# (scripts/node.sh: the pinned Node.js), libvirt (the private libvirtd),
# libvirt-build (libvirt with patches/libvirt/, scripts/libvirt-build.sh), ci-local (make ci-local), matrix (the pipeline's
# build matrix), fresh (scripts/fresh.sh).  A pristine bookworm
# (debootstrap --variant=minbase, the debian:bookworm image) has only
# apt and the Essential packages; everything else a script runs must be
# in this table, and `make fresh` proves it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# package  groups (comma-separated)  tool (a command it must put on PATH, - for none)  who needs it
table=$(cat <<'TABLE'
build-essential          build    gcc      build.sh, seabios.sh: C compilers, make
pkg-config               build    pkg-config  QEMU's configure
ninja-build              build    ninja    build.sh
python3-venv             build    python3  deps.sh's venv for meson; every tests/*.py
ccache                   build    ccache   build.sh
bzip2                    build    bzip2    build.sh: empty edk2 blobs for the DFSG tarball
xz-utils                 build    xz       fetch-base.sh, guest-assets.sh: unpacking
libglib2.0-dev           build    -        QEMU
libpixman-1-dev          build    -        QEMU
zlib1g-dev               build    -        QEMU
libslirp-dev             build    -        QEMU: user networking (nested.sh's guests)
libfdt-dev               build    -        QEMU: --enable-fdt=system
flex                     build    flex     QEMU's build, SeaBIOS's kconfig
bison                    build    bison    QEMU's build, SeaBIOS's kconfig
device-tree-compiler     build    dtc      build.sh: pc-bios/dtb from source
acpica-tools             build    iasl     SeaBIOS's build; qtests disassemble ACPI tables
python3-sphinx           build    sphinx-build  docs.sh (QEMU's documentation)
python3-sphinx-rtd-theme build    -        docs.sh
seabios                  build    -        firmware.sh: run-time firmware of the builds
ipxe-qemu                build    -        firmware.sh: option ROMs
qemu-system-data         build    -        firmware.sh: kvmvapic.bin, linuxboot_dma.bin, pvh.bin
cpio                     build    cpio     guest-assets.sh: the guests' initramfs
dpkg-dev                 build    dpkg-source  fetch-base.sh (apt-get source)
git                      build    git      apply.sh, every series script
procps                   build    free     lib.sh (record_run), bench.sh: the machine's memory
gnuplot-nox              check    gnuplot  bench.sh: docs/bench-startup.svg
patchelf                 node     patchelf  node.sh: trixie's node made to use trixie's loader and libraries
debootstrap              check,fresh  debootstrap  fresh.sh: the pristine bookworm root (make check's fresh-quick, make fresh)
libvirt-daemon           libvirt  -        libvirt.sh: the private libvirtd
libvirt-daemon-driver-qemu libvirt -       libvirt.sh
libvirt-clients          libvirt  virsh    libvirt.sh, compare.sh
libgnutls28-dev          libvirt-build  -  libvirt-build.sh: libvirt 11.3.0 from source
libxml2-dev              libvirt-build  -  libvirt-build.sh
libtirpc-dev             libvirt-build  -  libvirt-build.sh
libjson-c-dev            libvirt-build  -  libvirt-build.sh: its QEMU driver
libnl-3-dev              libvirt-build  -  libvirt-build.sh: its QEMU driver (network helpers)
libnl-route-3-dev        libvirt-build  -  libvirt-build.sh
xsltproc                 libvirt-build  xsltproc  libvirt-build.sh: generated sources
libxml2-utils            libvirt-build  xmllint   libvirt-build.sh: libvirt's meson requires xmllint
rsync                    ci-local rsync    ci-local.sh: gitlab-ci-local copies the tree with rsync
clang                    matrix   clang    ci-matrix.sh: the clang configuration
TABLE
)
groups_all=(build check node libvirt libvirt-build ci-local matrix fresh)

# rows GROUP...: the table's rows of GROUPs, "package tool" a line
rows() {
    local want=" $* " pkg grp tool why g
    while read -r pkg grp tool _; do
        for g in ${grp//,/ }; do
            [[ " ${groups_all[*]} " == *" $g "* ]] || die "deps.sh: unknown group '$g' in the table"
            if [[ $want == *" $g "* ]]; then echo "$pkg $tool"; break; fi
        done
    done <<<"$table"
}

mode=install
if [ "${1:-}" = --table ]; then awk '{print $1, $2, $3}' <<<"$table"; exit; fi
case ${1:-} in --tools | --list) mode=${1#--}; shift ;; esac
[ "${1:-}" != --all ] || set -- "${groups_all[@]}"
[ $# -gt 0 ] || set -- build
for g in "$@"; do
    [[ " ${groups_all[*]} " == *" $g "* ]] || die "deps.sh: unknown group '$g' (${groups_all[*]})"
done

if [ "$mode" = list ]; then rows "$@" | cut -d' ' -f1 | sort -u; exit; fi
if [ "$mode" = tools ]; then
    while read -r pkg tool; do
        [ "$tool" != - ] || continue
        if command -v "$tool" >/dev/null; then pass "$tool ($pkg)"; else fail "$tool ($pkg): not on PATH"; fi
    done < <(rows "$@")
    verdict deps-tools; exit
fi

missing=()
while read -r p _; do
    dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
        missing+=("$p")
done < <(rows "$@" | sort -u)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
    say "deps: installing system packages ($*): ${missing[*]} (log: $LOGS/deps-apt.log)"
    # No package installed here may start a service (libvirt's are not in
    # these packages; a container or chroot has no init to start them)
    made_policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    rc=0
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$LOGS/deps-apt.log" 2>&1 || rc=$?
    [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
    if [ "$rc" != 0 ]; then
        tail -20 "$LOGS/deps-apt.log" >&2
        die "apt-get could not install: ${missing[*]} (log: $LOGS/deps-apt.log)"
    fi
fi

# meson and pycotap, for every group that builds QEMU
[[ " $* " == *" build "* ]] || exit 0
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
