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
# With NESTED_SPMEM=1 (scripts/compare.sh, part nested) the initramfs
# also carries Debian sid's QEMU 11.1.3 (upstream's -device sp-mem;
# SPMEM_QEMU, default scripts/spmem-qemu.sh): its stripped binary, sid's
# loader and the libraries that loader lists, under /sid, run as
# sid-qemu-system-x86_64; L1 then also runs tests/nested/cases-spmem.tsv
# (sp-mem on the same /dev/dax0.0 backend), and the step records the
# COMPARISON.md cells of question devdax-backend from L1's report.
# make check leaves it unset: its initramfs and run are unchanged.
#
#   scripts/nested.sh
#   NESTED_SPMEM=1 scripts/nested.sh
#
# Environment: NESTED_QEMU (default: the patched binary make check
# builds), NESTED_TIMEOUT (L1's limit, default 600 s), NESTED_SPMEM,
# SPMEM_QEMU, COMPARE_ROWS (where the cells go; scripts/lib.sh).  Log:
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
cases=$ROOT/tests/nested/cases.tsv
sidroot=
if [ "${NESTED_SPMEM:-0}" = 1 ]; then
    sid=${SPMEM_QEMU:-$("$ROOT/scripts/spmem-qemu.sh")} || die "scripts/spmem-qemu.sh failed"
    # the root the wrapper of scripts/spmem-qemu.sh runs sid's QEMU from
    sidroot=$(sed -n "s/^r='\(.*\)'\$/\1/p" "$sid")
    [ -x "$sidroot/usr/bin/qemu-system-x86_64" ] || die "no sid root in the wrapper $sid"
    # before dax-kmem, which takes dax0.0 from device_dax for good
    { grep -v '^dax-kmem	' "$cases"; grep -v '^#' "$ROOT/tests/nested/cases-spmem.tsv"
      grep '^dax-kmem	' "$cases"; } >"$N/cases.tsv"
    cases=$N/cases.tsv
fi
mdir=$(ls -d "$G"/root/kernel/lib/modules/*/kernel)
bb=$G/root/busybox/bin/busybox

# the L1 initramfs, rebuilt when any of its inputs changes
key=$( { sha256sum "$qemu" "$sbdir/bios-256k.bin" "$bb" "$ROOT/tests/nested/init" \
           "$cases" "$0"; ldd "$qemu"; ls "$mdir"; echo "$sidroot"; } | sha256sum | cut -c1-16)
# (with sid's QEMU under another name: make check's stays where it is)
flavour=${sidroot:+sid-}
initrd=$N/initramfs-$flavour$key.cpio.gz
if [ ! -s "$initrd" ]; then
    say "nested: building L1's initramfs (busybox, dax modules, the patched QEMU and its libraries, patched SeaBIOS)"
    st=$N/initramfs.d
    rm -rf "$st"
    if [ -n "$flavour" ]; then rm -f "$N"/initramfs-sid-*.cpio.gz; else rm -f "$N"/initramfs-[0-9a-f]*.cpio.gz; fi
    mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,modules,fw}
    cp "$bb" "$st/bin/busybox"
    while read -r applet; do
        [ -e "$st/$applet" ] || ln -s /bin/busybox "$st/$applet"
    done < <("$bb" --list-full)
    install -m 0755 "$ROOT/tests/nested/init" "$st/init"
    cp "$cases" "$st/cases.tsv"
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
    if [ -n "$sidroot" ]; then
        # sid's QEMU through sid's own loader and libraries (as its wrapper runs it)
        mkdir -p "$st/sid/lib"
        strip -o "$st/sid/qemu-system-x86_64" "$sidroot/usr/bin/qemu-system-x86_64"
        cp "$sidroot/usr/lib64/ld-linux-x86-64.so.2" "$st/sid/"
        LD_LIBRARY_PATH=$sidroot/usr/lib/x86_64-linux-gnu:$sidroot/lib/x86_64-linux-gnu \
            "$sidroot/usr/lib64/ld-linux-x86-64.so.2" --list "$sidroot/usr/bin/qemu-system-x86_64" |
            awk '/=> \// && !/ld-linux/ {print $3}' | while read -r lib; do
                strip -o "$st/sid/lib/${lib##*/}" "$(readlink -f "$lib")" 2>/dev/null ||
                    cp "$(readlink -f "$lib")" "$st/sid/lib/${lib##*/}"
            done
        printf '#!/bin/sh\nexec /sid/ld-linux-x86-64.so.2 --library-path /sid/lib /sid/qemu-system-x86_64 "$@"\n' \
            >"$st/usr/bin/sid-qemu-system-x86_64"
        chmod 0755 "$st/usr/bin/sid-qemu-system-x86_64"
    fi
    # L2's firmware: the patched SeaBIOS and the one ROM QEMU loads (q35, TCG)
    cp "$sbdir/bios-256k.bin" "$st/fw/"
    cp "$(find -L "$(dirname "$qemu")/qemu-bundle" -name kvmvapic.bin | head -1)" "$st/fw/"
    (cd "$st" && find . -print0 | LC_ALL=C sort -z | cpio --null --quiet -o -H newc -R 0:0) |
        gzip -6n >"$initrd.tmp"
    mv "$initrd.tmp" "$initrd"
    rm -rf "$st"
fi
say "nested: L1 guest (TCG, patched SeaBIOS, Linux ${GUEST_KERNEL_PKG_6_1:-6.1}, initramfs $(($(stat -c %s "$initrd") / 1048576)) MiB), node 1 spm 1 GiB -> /dev/dax0.0; $(grep -vc '^#' "$cases") L2 cases${sidroot:+ (and Debian sid QEMU 11.1.3)}"
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
python3 "$ROOT/tests/nested/judge.py" "$log" "$cases" >"$LOGS/nested-judge.log" || true
cat "$LOGS/nested-judge.log"
add_step nested-judge "$LOGS/nested-judge.log" || true
if [ -n "$sidroot" ]; then
    # devdax-backend: the judge's verdict on the two /dev/dax0.0 cases, and
    # the L2 lines it rests on (SeaBIOS' e820 entry at 4 GiB, QEMU's mapping)
    for c in memmap:dax-ok spmem:spmem-dax-ok; do
        v=$(grep -E "^(PASS|FAIL|SKIP) ${c#*:} " "$LOGS/nested-judge.log" | head -1 |
            sed -E 's/^PASS [^ ]+ \(secs=[0-9.]+\): /QEMU starts: /; s/ \([0-9a-f]+-[0-9a-f]+\)$//')
        ev=$(grep -E "^@@ (l2-e820 ${c#*:} +[0-9]+: 0000000100000000 |l2-maps ${c#*:} |l2-out ${c#*:} |l2-exit ${c#*:} )" "$log" |
            grep -v warning: | tr -d '\r' | tr -s ' ' | sed 's/^@@ //' | paste -sd';' -)
        compare_row devdax-backend "${c%%:*}" "${v:-FAIL ${c#*:}: no verdict from tests/nested/judge.py}" \
            "${ev:-no @@ l2 line for ${c#*:} in the console of L1}" "NESTED_SPMEM=1 scripts/nested.sh"
    done
fi
# the judge's verdict line is not this step's: print the sum
finish nested
