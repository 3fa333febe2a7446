#!/bin/bash
# Nested: an spm node backed by a real /dev/dax device and by hugepages.
# Called by: check.sh (step nested), make nested.
#
# This host has no device-DAX device, so the series makes one: a
# first-level (L1) Linux guest (q35, TCG, patched SeaBIOS, the harness'
# 6.1 kernel) gets 1 GiB of memmap-type=spm on node 1, which its kernel
# makes /dev/dax0.0.  Its initramfs carries the patched
# qemu-system-x86_64 (stripped, with every library ldd names and the
# loader) and the patched SeaBIOS; its /init (tests/nested/init) runs
# the second-level (L2) guests of tests/nested/cases.tsv under TCG: the
# cover letter's example (node 1 = memory-backend-file on /dev/dax0.0,
# align=2M, share=on), the device's error paths (wrong align, too big,
# share=off, bound to kmem), and hugetlbfs and memfd hugepage backends
# on an spm node.  tests/nested/judge.py judges L1's console log.
#
#   scripts/nested.sh
#
# Environment: NESTED_QEMU (default: the patched binary make check
# builds), NESTED_TIMEOUT (L1's limit, default 600 s).  Log:
# .cache/logs/nested-console.log (L1's console, the "@@ " report).
# Last line "nested: N passed, N failed, N skipped".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
N=$CACHE/nested
mkdir -p "$N"
src=${NESTED_QEMU:-$CACHE/check/build/qemu-system-x86_64}
qemu=$(snapshot_qemu "$N" qemu "$src")
if [ -z "$qemu" ]; then
    skip "all cases: no working patched QEMU at $src (make check builds it; or set NESTED_QEMU=)"
    verdict nested; exit 0
fi
"$ROOT/scripts/guest-assets.sh" 2>"$LOGS/nested-assets.log" ||
    die "guest assets unavailable (log: $LOGS/nested-assets.log)"
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
sbdir=$("$ROOT/scripts/seabios.sh" 2>"$LOGS/nested-seabios.log") ||
    die "SeaBIOS with patches/seabios/ does not build (log: $LOGS/nested-seabios.log)"
G=$CACHE/guest
mdir=$(ls -d "$G"/root/kernel/lib/modules/*/kernel)
bb=$G/root/busybox/bin/busybox

# the L1 initramfs, rebuilt when any of its inputs changes
key=$( { sha256sum "$qemu" "$sbdir/bios-256k.bin" "$bb" "$ROOT/tests/nested/init" \
           "$ROOT/tests/nested/cases.tsv" "$0"; ldd "$qemu"; ls "$mdir"; } | sha256sum | cut -c1-16)
initrd=$N/initramfs-$key.cpio.gz
if [ ! -s "$initrd" ]; then
    say "nested: building L1's initramfs (busybox, dax modules, the patched QEMU and its libraries, patched SeaBIOS)"
    st=$N/initramfs.d
    rm -rf "$st" "$N"/initramfs-*.cpio.gz
    mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,modules,fw}
    cp "$bb" "$st/bin/busybox"
    while read -r applet; do
        [ -e "$st/$applet" ] || ln -s /bin/busybox "$st/$applet"
    done < <("$bb" --list-full)
    install -m 0755 "$ROOT/tests/nested/init" "$st/init"
    cp "$ROOT/tests/nested/cases.tsv" "$st/cases.tsv"
    for m in drivers/dax/device_dax drivers/dax/hmem/dax_hmem drivers/dax/kmem; do
        f=$(ls "$mdir/$m.ko"* | head -1)
        case $f in
        *.xz) xz -dc "$f" >"$st/modules/$(basename "$m").ko" ;;
        *.zst) zstd -qdc "$f" >"$st/modules/$(basename "$m").ko" ;;
        *) cp "$f" "$st/modules/" ;;
        esac
    done
    strip -o "$st/usr/bin/qemu-system-x86_64" "$qemu"
    ldd "$qemu" | awk '/=> \// {print $3} /^[[:space:]]*\// {print $1}' | sort -u | while read -r lib; do
        mkdir -p "$st$(dirname "$lib")"
        strip -o "$st$lib" "$(readlink -f "$lib")" 2>/dev/null || cp "$(readlink -f "$lib")" "$st$lib"
    done
    # L2's firmware: the patched SeaBIOS and the one ROM QEMU loads (q35, TCG)
    cp "$sbdir/bios-256k.bin" "$st/fw/"
    cp "$(find -L "$(dirname "$qemu")/qemu-bundle" -name kvmvapic.bin | head -1)" "$st/fw/"
    (cd "$st" && find . -print0 | LC_ALL=C sort -z | cpio --null --quiet -o -H newc -R 0:0) |
        gzip -6n >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$st"
fi
say "nested: L1 guest (TCG, patched SeaBIOS, Linux ${GUEST_KERNEL_PKG_6_1:-6.1}, initramfs $(($(stat -c %s "$initrd") / 1048576)) MiB), node 1 spm 1 GiB -> /dev/dax0.0; $(grep -vc '^#' "$ROOT/tests/nested/cases.tsv") L2 cases"
log=$LOGS/nested-console.log
rm -f "$log"
t0=$(date +%s)
rc=0
timeout --kill-after=5 "${NESTED_TIMEOUT:-600}" "$qemu" -accel tcg -cpu max -smp 2 \
    -machine q35,max-ram-below-4g=1G -m 2G \
    -object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
    -numa node,nodeid=0,memdev=m0,cpus=0-1 -numa node,nodeid=1,memdev=m1,memmap-type=spm \
    -bios "$sbdir/bios-256k.bin" -kernel "$GUEST_KERNEL" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 oops=panic" -nodefaults -display none -no-reboot \
    -chardev "file,id=con,path=$log" -serial chardev:con >"$LOGS/nested-qemu.log" 2>&1 || rc=$?
say "nested: L1 ran $(($(date +%s) - t0)) s (status $rc; console: $log)"
[ "$rc" = 0 ] || fail "L1 QEMU exited with status $rc$([ "$rc" != 124 ] || echo ": the ${NESTED_TIMEOUT:-600} s limit") ($(tail -2 "$LOGS/nested-qemu.log" | paste -sd' '))"
python3 "$ROOT/tests/nested/judge.py" "$log" "$ROOT/tests/nested/cases.tsv" >"$LOGS/nested-judge.log" || true
cat "$LOGS/nested-judge.log"
add_step nested-judge "$LOGS/nested-judge.log" || true
# the judge's verdict line is not this step's: print the sum
finish nested
