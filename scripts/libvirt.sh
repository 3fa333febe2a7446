#!/bin/bash
# The libvirt road: contrib/libvirt/'s XML through a private libvirtd.
# Called by: make libvirt, check.sh (step libvirt), the pipeline.
#
# The libvirt road: run the domain XML examples of contrib/libvirt/
# through a private libvirtd with the patched QEMU, under TCG.
#
#   scripts/libvirt.sh     every check; last line
#                          "libvirt: N passed, N failed, N skipped"
#                          (exit 0 only when nothing failed)
#
# First tests/libvirt/wrapper-test.sh (the wrapper alone).  Then, for
# each example (wrapper, hybrid, small), the domain is defined and started
# paused through virsh, "info numa" must show each node's memmap-type,
# the QEMU command line libvirt generated is printed, virsh dominfo and
# virsh dommemstat are read, and the guest (OVMF, direct kernel boot of
# tests/guest's kernel and initramfs) is let run.
# While the three boot: the same XML with the unpatched QEMU must fail
# "virsh start" with QEMU's error about memmap-type, bad
# QEMU_NUMA_MEMMAP_TYPE values must fail it with the wrapper's one-line
# error, the wrapper without the variable must change nothing, and the
# small guest without max-ram-below-4g must fail with QEMU's hint.  Then
# each guest's serial log must pass tests/guest/parse_report.py, and
# libvirt's memory figures (dominfo Max memory, Used memory, dommemstat
# actual) must be what the guest was given, by its XML and its own
# report (tests/libvirt/memfigures.py; a figure libvirt cannot get right
# passes only as listed in tests/libvirt/known-limits.tsv, and says so).
#
# libvirtd (9.0, bookworm's libvirt-daemon + libvirt-daemon-driver-qemu,
# installed with apt-get when missing) runs as root in a private mount
# namespace: /etc/passwd, /etc/group (with a libvirt-qemu user, which the
# QEMU driver insists on), /etc/libvirt, /run and /var are bind mounts of
# folders in .cache/libvirt/root, so the host's files are left alone (a
# check compares their sha256 before and after).  It is stopped by its
# PID when the script ends.  The daemon's parts are in
# scripts/libvirtd-private.sh, the domains' in scripts/libvirt-domains.sh.
#
# Environment: QEMU (patched build, default tree/build/qemu-system-x86_64),
# QEMU_BASE (unpatched build, default .cache/check/base/build/
# qemu-system-x86_64; its checks skip without it), LIBVIRT_WRAPPER (the
# wrapper under test, default contrib/libvirt/qemu-memmap-wrapper),
# LIBVIRT_GUEST_TIMEOUT (seconds per guest boot, default 120).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

QEMU=${QEMU:-$ROOT/tree/build/qemu-system-x86_64}
QEMU_BASE=${QEMU_BASE:-$CACHE/check/base/build/qemu-system-x86_64}
WRAPPER=${LIBVIRT_WRAPPER:-$ROOT/contrib/libvirt/qemu-memmap-wrapper}
TIMEOUT=${LIBVIRT_GUEST_TIMEOUT:-120}
EXAMPLES=$ROOT/contrib/libvirt
PARSER=$ROOT/tests/guest/parse_report.py
LV=$CACHE/libvirt        # everything of this script's, and the guests' files
R=$LV/root               # what libvirtd sees as /etc/..., /run, /var
GUESTS=$LV/guests        # @CACHE@ of the examples: NVRAM, serial logs, backing files

LIBVIRTD=/usr/sbin/libvirtd VIRSH=virsh   # the packaged libvirt (Debian's)
# shellcheck source=scripts/libvirtd-private.sh
. "$(dirname "$0")/libvirtd-private.sh"
# shellcheck source=scripts/libvirt-domains.sh
. "$(dirname "$0")/libvirt-domains.sh"

if ! mkdir -p "$LV" 2>/dev/null || [ ! -w "$LV" ]; then
    skip "libvirt: cannot write $LV"
    finish libvirt
fi
exec 9>"$LV/.lock"
if ! flock -w 600 9; then
    fail "libvirt: another scripts/libvirt.sh holds $LV/.lock"
    finish libvirt
fi

# the wrapper alone, with a stand-in QEMU (needs neither root nor libvirt)
if out=$(CACHE=$CACHE "$ROOT/tests/libvirt/wrapper-test.sh" "$WRAPPER" 2>&1); then
    pass "wrapper unit test (tests/libvirt/wrapper-test.sh): $(tail -1 <<<"$out")"
else
    fail "wrapper unit test (tests/libvirt/wrapper-test.sh): $(tail -1 <<<"$out")"
    grep -v '^ok ' <<<"$out" | indent
fi

# the memory-figure checker alone, on measured virsh outputs, right and wrong
if out=$(CACHE=$CACHE "$ROOT/tests/libvirt/memfigures-test.sh" 2>&1); then
    pass "memory-figure checker unit test (tests/libvirt/memfigures-test.sh): $(tail -1 <<<"$out")"
else
    fail "memory-figure checker unit test (tests/libvirt/memfigures-test.sh): $(tail -1 <<<"$out")"
    grep -v '^ok ' <<<"$out" | indent
fi

why=$(prereq_reason)
if [ -n "$why" ]; then
    skip "libvirt: $why"
    finish libvirt
fi
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
host_before=$(host_state)
echo "libvirt: $(/usr/sbin/libvirtd --version), patched QEMU: $("$QEMU" -version | head -1)"

# --- the private libvirtd ---------------------------------------------------

trap stop_daemon EXIT
trap 'exit 130' INT TERM

install_wrapper "$LV/bin/patched" "$QEMU"
have_base=0
if [ -x "$QEMU_BASE" ]; then
    install_wrapper "$LV/bin/base" "$QEMU_BASE"
    have_base=1
fi

start_daemon
if [ -n "$why" ]; then
    fail "libvirtd: $why"
    stop_daemon
    finish libvirt
fi
pass "libvirtd: private daemon (pid $daemon_pid) answers on $R/run/libvirt/libvirt-sock"

# --- the examples: started, checked, left booting ---------------------------------

W=$LV/bin/patched/qemu-memmap-wrapper
route wrapper domain-wrapper.xml "$W" 2 "1:spm" \
    'done' published:1:0x100000000:0x40000000:0xefffffff spm:1:0x100000000:0x40000000
route hybrid domain-hybrid.xml "$QEMU" 2 "1:spm" \
    'done' published:1:0x100000000:0x40000000:0xefffffff spm:1:0x100000000:0x40000000
route small domain-small.xml "$W" 3 "1:spm 2:reserved" \
    'done' published:1:0x100000000:0x20000000:0xefffffff spm:1:0x100000000:0x20000000 \
    published:2:0x120000000:0x20000000:2 reserved:2:0x120000000:0x20000000

# --- what must be refused (while the guests boot) -----------------------------------

if [ "$have_base" = 1 ]; then
    for r in wrapper hybrid small; do
        emu=$LV/bin/base/qemu-memmap-wrapper
        [ "$r" = hybrid ] && emu=$QEMU_BASE
        refused "memmap-$r-base" "$r with the unpatched QEMU" \
            "qemu-system-x86_64: .*Invalid parameter 'memmap-type'" "domain-$r.xml" "$emu" &&
            pass "$r with the unpatched QEMU: virsh start fails: $line"
    done
else
    for r in wrapper hybrid small; do
        skip "$r with the unpatched QEMU: no unpatched QEMU at $QEMU_BASE (set QEMU_BASE=)"
    done
fi

wrapper_refuses memmap-bad-type "wrapper, QEMU_NUMA_MEMMAP_TYPE=1:spmm" domain-wrapper.xml \
    "s|name='QEMU_NUMA_MEMMAP_TYPE' value='[^']*'|name='QEMU_NUMA_MEMMAP_TYPE' value='1:spmm'|"
wrapper_refuses memmap-bad-node "wrapper, QEMU_NUMA_MEMMAP_TYPE=3:spm (no node 3)" domain-wrapper.xml \
    "s|name='QEMU_NUMA_MEMMAP_TYPE' value='[^']*'|name='QEMU_NUMA_MEMMAP_TYPE' value='3:spm'|"
wrapper_refuses memmap-bad-twice "wrapper, QEMU_NUMA_MEMMAP_TYPE=1:spm on a node that has memmap-type" \
    domain-hybrid.xml \
    "s|<qemu:commandline>|<qemu:commandline>\n    <qemu:env name='QEMU_NUMA_MEMMAP_TYPE' value='1:spm'/>|"

# the wrapper without QEMU_NUMA_MEMMAP_TYPE changes nothing
name=memmap-hybrid-wrapped
if file=$(render domain-hybrid.xml "$name" "$W") && out=$(redefine "$name" "$file") &&
    out=$(vsh start --paused "$name" 2>&1); then
    got=$(numa_view "$name")
    vsh destroy "$name" >/dev/null 2>&1
    if [ "$got" = "2|1:spm" ] && ! grep -q '^qemu-memmap-wrapper' "$(domlog "$name")"; then
        pass "hybrid through the wrapper, no QEMU_NUMA_MEMMAP_TYPE: arguments passed through, info numa: 2 nodes, memmap-type 1:spm"
    else
        fail "hybrid through the wrapper, no QEMU_NUMA_MEMMAP_TYPE: info numa '$got', or the wrapper changed something (log: $(domlog "$name"))"
    fi
else
    fail "hybrid through the wrapper, no QEMU_NUMA_MEMMAP_TYPE: $out"
fi

refused memmap-small-low "small without max-ram-below-4g" \
    "qemu-system-x86_64: .*memmap-type=spm but its memory lies below 4 GiB" domain-small.xml "$W" \
    "/<qemu:arg value='-machine'\/>/d" "/<qemu:arg value='max-ram-below-4g=/d" &&
    pass "small without max-ram-below-4g: virsh start fails: $line / $hint"

# --- the guests' reports ------------------------------------------------------------

for r in wrapper hybrid small; do
    booted "$r"
done

# --- done: stop the daemon, the host must be as it was -----------------------------

stop_daemon
rm -f "$GUESTS"/*.img   # stand-ins for /dev/dax, sparse; QEMU makes them again
host_after=$(host_state)
if [ "$host_after" = "$host_before" ]; then
    pass "host untouched: sha256 of /etc/passwd $(sha256sum </etc/passwd | cut -c1-16)..., /etc/group $(sha256sum </etc/group | cut -c1-16)..., /etc/libvirt/* $(grep ' /etc/libvirt/' <<<"$host_after" | sha256sum | cut -c1-16)... the same before and after; libvirt folders in /run and /var: $(grep -c '^exists ' <<<"$host_after") before and after"
else
    fail "host changed by the run:"
    diff <(printf '%s\n' "$host_before") <(printf '%s\n' "$host_after") | indent
fi
finish libvirt
