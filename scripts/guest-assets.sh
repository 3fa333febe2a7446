#!/bin/bash
# Download the pinned guest packages and build the guest initramfs.
# Called by: guest-run.sh, migrate.sh, pciwin.sh, compare.sh, libvirt.sh, the pipeline.
#
# Guest assets for scripts/guest-run.sh: download the Debian packages
# pinned in guest.lock (the guest kernels, busybox, OVMF, SeaBIOS)
# through the private apt configuration, check their sha256, unpack
# them into $CACHE/guest/root/NAME and build one guest initramfs per
# kernel (busybox, that kernel's dax/kmem modules, tests/guest/init)
# without root.  Writes $CACHE/guest/assets.env with the paths
# guest-run.sh needs.
#
#   scripts/guest-assets.sh           fetch, unpack, build (quick when done)
#   scripts/guest-assets.sh --repin   re-resolve every pin to what the
#                                     archive serves today; rewrite guest.lock
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

lockfile=${GUEST_LOCK:-$ROOT/guest.lock}
G=$CACHE/guest
debs=$G/debs
# Kernels: kernel is bookworm's 6.1, kernel612 trixie's 6.12, kernel72
# sid's 7.2 (whose image package is split: kernel72 holds its modules,
# kernel72bin the kernel).  seabios is bookworm's (1.16.2), seabios_new
# sid's (1.17.0).
assets=(kernel kernel612 kernel72 kernel72bin busybox ovmf seabios seabios_new)
# guest kernel version -> "asset holding the modules:asset holding the
# kernel image"
declare -A kernel_assets=([6.1]=kernel:kernel [6.12]=kernel612:kernel612
                          [7.2]=kernel72:kernel72bin)
# Modules for the initramfs, relative to lib/modules/KVER/kernel.
# qemu_fw_cfg lets the guest dump the e820 table QEMU published.
modules=(drivers/dax/device_dax drivers/dax/hmem/dax_hmem drivers/dax/kmem
         drivers/firmware/qemu_fw_cfg)

# pin KEY: value of KEY from guest.lock (like lib.sh's lock for qemu.lock)
pin() {
    local v
    v=$(sed -n "s/^$1=//p" "$lockfile")
    [ -n "$v" ] || die "guest.lock has no $1"
    printf '%s\n' "$v"
}

# deb_path NAME VERSION: where the pinned .deb is kept
deb_path() {
    printf '%s/%s_%s.deb\n' "$debs" "$1" "${2//:/%3a}"
}

# download SPEC DIR: apt-private.sh get download SPEC into the empty DIR;
# prints the path of the .deb on success
download() {
    local spec=$1 dir=$2 log=$LOGS/guest-download.log
    rm -rf "$dir"; mkdir -p "$dir"
    if ! (cd "$dir" && "$ROOT/scripts/apt-private.sh" get download "$spec") >"$log" 2>&1; then
        tail -5 "$log" >&2
        return 1
    fi
    local f=("$dir"/*.deb)
    if [ ${#f[@]} != 1 ] || [ ! -e "${f[0]}" ]; then
        die "apt downloaded no single .deb for $spec (log: $log)"
    fi
    printf '%s\n' "${f[0]}"
}

repin() {
    "$ROOT/scripts/apt-private.sh" update
    mkdir -p "$debs"
    local a pkg suite spec f ver sum min part pins=()
    for a in "${assets[@]}"; do
        suite=$(pin "${a}_suite")
        if [[ $a = kernel* ]]; then
            # The versioned image package (ABI number in its name) is
            # what the suite's metapackage depends on today; where it is
            # split, the part (modules, binary) is one of its dependencies.
            spec=$(pin kernel_meta)/$suite
            say "repin: resolving $spec"
            f=$(download "$spec" "$G/dl.tmp") || die "cannot download $spec"
            pkg=$(dpkg-deb -f "$f" Depends | grep -o 'linux-image-[0-9][^ ,]*-amd64' | head -1)
            [ -n "$pkg" ] || die "$spec does not depend on a linux-image-*-amd64 package"
            part=$(sed -n "s/^${a}_part=//p" "$lockfile")
            if [ -n "$part" ]; then
                f=$(download "$pkg/$suite" "$G/dl.tmp") || die "cannot download $pkg/$suite"
                pkg=$(dpkg-deb -f "$f" Depends | grep -o "linux-$part-[0-9][^ ,]*-amd64" | head -1)
                [ -n "$pkg" ] || die "no linux-$part-* package among the dependencies of $spec"
            fi
        else
            pkg=$(pin "${a}_package")
        fi
        say "repin: downloading $pkg/$suite"
        f=$(download "$pkg/$suite" "$G/dl.tmp") || die "cannot download $pkg/$suite"
        ver=$(dpkg-deb -f "$f" Version)
        sum=$(sha256sum "$f" | cut -d' ' -f1)
        if [ "$a" = ovmf ]; then
            min=$(pin ovmf_min_version)
            dpkg --compare-versions "$ver" ge "$min" ||
                die "$pkg/$suite is $ver, older than $min: it would drop soft-reserved memory"
        fi
        mv "$f" "$(deb_path "$pkg" "$ver")"
        say "repin: $a = $pkg $ver"
        pins+=("$a" "$pkg" "$ver" "$sum" "$suite")
    done
    rm -rf "$G/dl.tmp"
    {
        cat <<'HEAD'
# Guest assets for scripts/guest-run.sh: Debian binary packages fetched
# by scripts/guest-assets.sh with scripts/apt-private.sh and checked
# against the sha256 here.  NAME_suite is the suite that
# `scripts/guest-assets.sh --repin` resolves the pin from (for the
# kernel: the versioned image package that kernel_meta depends on).
# OVMF must be ovmf_min_version or newer: older OVMF drops soft-reserved
# (EFI_MEMORY_SP) memory instead of passing it to the guest.
# NAME_part: the part of a split kernel package (modules or binary).
HEAD
        printf 'kernel_meta=%s\n' "$(pin kernel_meta)"
        printf 'ovmf_min_version=%s\n' "$(pin ovmf_min_version)"
        printf 'kernel72_part=%s\nkernel72bin_part=%s\n' "$(pin kernel72_part)" "$(pin kernel72bin_part)"
        local i
        for ((i = 0; i < ${#pins[@]}; i += 5)); do
            printf '%s_package=%s\n%s_version=%s\n%s_sha256=%s\n%s_suite=%s\n' \
                "${pins[i]}" "${pins[i+1]}" "${pins[i]}" "${pins[i+2]}" \
                "${pins[i]}" "${pins[i+3]}" "${pins[i]}" "${pins[i+4]}"
        done
    } >"$lockfile.new"
    mv "$lockfile.new" "$lockfile"
    say "repin: wrote $lockfile"
}

# fetch_unpack ASSET: pinned .deb downloaded, verified, unpacked into
# $G/root/ASSET (skipped when the stamp says it is already there)
fetch_unpack() {
    local a=$1 pkg ver sum f dest
    pkg=$(pin "${a}_package"); ver=$(pin "${a}_version"); sum=$(pin "${a}_sha256")
    dest=$G/root/$a
    [ "$(cat "$dest.stamp" 2>/dev/null)" = "$sum" ] && return 0
    f=$(deb_path "$pkg" "$ver")
    if ! echo "$sum  $f" | sha256sum -c --status 2>/dev/null; then
        "$ROOT/scripts/apt-private.sh" update
        say "guest-assets: downloading $pkg $ver"
        local got
        got=$(download "$pkg=$ver" "$G/dl.tmp") ||
            die "$pkg=$ver (pinned in guest.lock) is no longer served by the archive; run scripts/guest-assets.sh --repin"
        mv "$got" "$f"
        rm -rf "$G/dl.tmp"
    fi
    echo "$sum  $f" | sha256sum -c --status ||
        die "sha256 mismatch for $f (guest.lock says $sum); delete it, or run scripts/guest-assets.sh --repin"
    say "guest-assets: unpacking $pkg $ver"
    rm -rf "$dest" "$dest.stamp"
    mkdir -p "$dest"
    dpkg-deb -x "$f" "$dest"
    echo "$sum" >"$dest.stamp"
}

# find_one DESCRIPTION PATTERN...: the single existing file among PATTERN
find_one() {
    local what=$1; shift
    local f
    for f in "$@"; do
        [ -e "$f" ] && { printf '%s\n' "$f"; return 0; }
    done
    die "$what not found (looked for: $*)"
}

# kernel_paths KVERSION: "modules-directory kernel-image" of a guest kernel
kernel_paths() {
    local mods=${kernel_assets[$1]%%:*} img=${kernel_assets[$1]#*:} mdir
    mdir=$(find_one "kernel $1 modules" "$G/root/$mods"/lib/modules/*/kernel \
        "$G/root/$mods"/usr/lib/modules/*/kernel)
    printf '%s %s\n' "${mdir%/kernel}" "$(find_one "kernel $1 image" \
        "$G/root/$img"/boot/vmlinuz-* "$G/root/$img"/usr/lib/modules/*/vmlinuz)"
}

# build_initramfs KVERSION: $G/initramfs-KVERSION.cpio.gz
build_initramfs() {
    local kv=$1 mdir init=$ROOT/tests/guest/init
    read -r mdir _ < <(kernel_paths "$kv")
    local bb=$G/root/busybox/bin/busybox
    [ -x "$bb" ] || die "busybox not found in $G/root/busybox"
    # Rebuilt when /init, a package or this list of modules changes.
    local key
    key=$( { cat "$init"; cat "$G"/root/*.stamp; printf '%s\n' "$mdir" "${modules[@]}"; } |
        sha256sum | cut -c1-16)
    local out=$G/initramfs-$kv.cpio.gz
    if [ "$(cat "$out.stamp" 2>/dev/null)" = "$key" ] && [ -s "$out" ]; then
        return 0
    fi
    say "guest-assets: building the initramfs for Linux $kv (busybox, ${#modules[@]} modules, tests/guest/init)"
    local st=$G/initramfs.d m src
    rm -rf "$st"
    mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,modules}
    cp "$bb" "$st/bin/busybox"
    local applet
    while read -r applet; do
        [ -e "$st/$applet" ] || ln -s /bin/busybox "$st/$applet"
    done < <("$bb" --list-full)
    install -m 0755 "$init" "$st/init"
    for m in "${modules[@]}"; do
        src=$(find_one "module $m.ko" "$mdir/kernel/$m.ko" "$mdir/kernel/$m.ko.xz" \
            "$mdir/kernel/$m.ko.zst")
        case $src in
        *.xz) xz -dc "$src" >"$st/modules/$(basename "$m").ko" ;;
        *.zst) zstd -qdc "$src" >"$st/modules/$(basename "$m").ko" ;;
        *) cp "$src" "$st/modules/" ;;
        esac
    done
    (cd "$st" && find . -print0 | LC_ALL=C sort -z |
        cpio --null --quiet -o -H newc -R 0:0) | gzip -9n >"$out.new.$$"
    mv "$out.new.$$" "$out"
    echo "$key" >"$out.stamp"
}

write_env() {
    local o=$G/root/ovmf code vars seabios seabios_new kv v img tmp
    code=$(find_one "OVMF code" "$o/usr/share/OVMF/OVMF_CODE_4M.fd" "$o/usr/share/ovmf/OVMF_CODE_4M.fd")
    vars=$(find_one "OVMF vars" "$o/usr/share/OVMF/OVMF_VARS_4M.fd" "$o/usr/share/ovmf/OVMF_VARS_4M.fd")
    seabios=$(find_one "SeaBIOS" "$G/root/seabios/usr/share/seabios/bios-256k.bin")
    seabios_new=$(find_one "SeaBIOS" "$G/root/seabios_new/usr/share/seabios/bios-256k.bin")
    # a file of its own, renamed at the end: scenarios booted in
    # parallel each run this script and read assets.env meanwhile
    tmp=$(mktemp "$G/assets.env.XXXXXX")
    cat >"$tmp" <<EOF
# generated by scripts/guest-assets.sh
GUEST_KERNEL='$(kernel_paths 6.1 | cut -d' ' -f2)'
GUEST_INITRD='$G/initramfs-6.1.cpio.gz'
GUEST_OVMF_CODE='$code'
GUEST_OVMF_VARS='$vars'
GUEST_SEABIOS='$seabios'
GUEST_SEABIOS_NEW='$seabios_new'
GUEST_KERNEL_PKG='$(pin kernel_package) $(pin kernel_version)'
GUEST_OVMF_PKG='$(pin ovmf_package) $(pin ovmf_version)'
GUEST_SEABIOS_PKG='$(pin seabios_package) $(pin seabios_version)'
GUEST_SEABIOS_NEW_PKG='$(pin seabios_new_package) $(pin seabios_new_version)'
GUEST_BUSYBOX_PKG='$(pin busybox_package) $(pin busybox_version)'
EOF
    for kv in "${!kernel_assets[@]}"; do
        v=${kv//./_} img=${kernel_assets[$kv]#*:}
        printf "GUEST_KERNEL_%s='%s'\nGUEST_INITRD_%s='%s'\nGUEST_KERNEL_PKG_%s='%s'\n" \
            "$v" "$(kernel_paths "$kv" | cut -d' ' -f2)" "$v" "$G/initramfs-$kv.cpio.gz" \
            "$v" "$(pin "${img}_package") $(pin "${img}_version")" >>"$tmp"
    done
    mv "$tmp" "$G/assets.env"
}

case "${1:-}" in
--repin)
    repin
    ;;
"")
    ;;
*)
    die "usage: $0 [--repin]"
    ;;
esac
mkdir -p "$debs"
for a in "${assets[@]}"; do
    fetch_unpack "$a"
done
for kv in "${!kernel_assets[@]}"; do
    build_initramfs "$kv"
done
write_env
