#!/bin/bash
# Run a command where /dev has no kvm at all, so that QEMU uses TCG only.
# Called by: lib.sh (tcg_only), tcg-only-test.sh.
#
#   scripts/tcg-only.sh CMD...
#
# With /dev/kvm present, CMD runs in a private mount namespace whose /dev
# is a tmpfs holding every entry of the host's /dev except kvm: device
# nodes and symlinks copied, the rest (pts, shm, mqueue, other
# directories, sockets) bind-mounted.  Binding /dev/null over /dev/kvm is
# not enough: libqtest's qtest_has_accel("kvm") only asks
# access("/dev/kvm", R_OK | W_OK), so tests would register their
# KVM-only cases and fail under TCG.  The host's /dev never changes:
# /dev (a mount point, or this exits 77) is made recursively private
# first; / is left as it is (--propagation unchanged), as util-linux's
# default of making / private fails in a chroot whose / is no mount point.
# Without /dev/kvm CMD runs as it is.  Exit status: CMD's, or 77 with a
# one-line reason on stderr ("/dev/kvm exists and ...") when /dev/kvm
# cannot be hidden; it never runs CMD with /dev/kvm visible.
set -euo pipefail

no() { echo "/dev/kvm exists and cannot be hidden: $*" >&2; exit 77; }

if [ "${1:-}" != --in-namespace ]; then
    [ -e /dev/kvm ] || exec "$@"
    mountpoint -q /dev || no "/dev is not a mount point"
    unshare -m --propagation unchanged true 2>/dev/null || no "no private mount namespace (needs root)"
    exec unshare -m --propagation unchanged bash "$0" --in-namespace "$@"
fi
shift
cwd=$PWD
mount --make-rprivate /dev || no "cannot make /dev private"
cd /dev   # the old /dev, reachable as . under the tmpfs
mount -t tmpfs -o mode=755,nosuid tmpfs /dev || no "cannot mount a tmpfs on /dev"
# (mount -c: a relative source would otherwise be made absolute, /dev/...)
for e in * .[!.]*; do
    if [ "$e" = kvm ] || { [ ! -e "$e" ] && [ ! -L "$e" ]; }; then continue; fi
    if [ -L "$e" ] || [ -c "$e" ] || [ -b "$e" ]; then
        cp -a "$e" /dev/ || no "cannot copy /dev/$e"
    elif [ -d "$e" ]; then
        { mkdir "/dev/$e" && mount -c --rbind "$e" "/dev/$e"; } || no "cannot bind /dev/$e"
    else
        { : >"/dev/$e" && mount -c --bind "$e" "/dev/$e"; } || no "cannot bind /dev/$e"
    fi
done
[ ! -e /dev/kvm ] || no "/dev/kvm still there"
cd "$cwd"
exec "$@"
