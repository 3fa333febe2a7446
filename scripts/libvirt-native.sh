#!/bin/bash
# The native libvirt road: patches/libvirt/'s own libvirtd boots both models.
# Called by: make libvirt, check.sh (step libvirt-native), the pipeline.
#
# libvirt 11.3.0 with patches/libvirt/ (scripts/libvirt-build.sh), its
# libvirtd run uninstalled from the build in the private mount
# namespace of scripts/libvirtd-private.sh, boots under TCG:
#   - contrib/libvirt/domain-native.xml (a cell with memmapType='spm')
#     with the patched QEMU;
#   - contrib/libvirt/domain-native-spmem.xml (<memory model='sp-mem'>)
#     with Debian sid's QEMU 11.1.3 (scripts/spmem-qemu.sh);
# each with OVMF and with SeaBIOS built with patches/seabios/.  Each
# guest must show node 1's range soft reserved in QEMU's etc/e820 and
# as dax0.0 on node 1 (tests/guest/parse_report.py), the domain must
# not be tainted custom-argv (no <qemu:commandline>), and libvirt's
# memory figures must be what the guest was given
# (tests/libvirt/memfigures.py, no known limitation allowed).  Refused,
# by libvirt before QEMU runs: memmapType with a QEMU that lacks it
# (11.1.3), sp-mem with a QEMU that lacks it (the patched 10.2.2).
#
#   scripts/libvirt-native.sh    last line "libvirt-native: N passed,
#                                N failed, N skipped"
# Environment: QEMU (patched build, default tree/build/
# qemu-system-x86_64), GUEST_SEABIOS_PATCHED (bios-256k.bin of the
# SeaBIOS series; default: scripts/seabios.sh builds it),
# LIBVIRT_GUEST_TIMEOUT (seconds per boot, default 150).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

QEMU=${QEMU:-$ROOT/tree/build/qemu-system-x86_64}
TIMEOUT=${LIBVIRT_GUEST_TIMEOUT:-150}
EXAMPLES=$ROOT/contrib/libvirt
PARSER=$ROOT/tests/guest/parse_report.py
LV=$CACHE/libvirt-native  # everything of this script's, and the guests' files
R=$LV/root                 # what libvirtd sees as /etc/..., /run, /var
GUESTS=$LV/guests
WRAPPER=/nonexistent       # libvirtd-private.sh's wrapper check: no wrapper here

if ! mkdir -p "$LV" 2>/dev/null || [ ! -w "$LV" ]; then
    skip "libvirt-native: cannot write $LV"
    finish libvirt-native
fi
exec 9>"$LV/.lock"
flock -w 600 9 || { fail "libvirt-native: another run holds $LV/.lock"; finish libvirt-native; }

if ! lvbuild=$("$ROOT/scripts/libvirt-build.sh" 2>"$LOGS/libvirt-native-build.log"); then
    fail "libvirt with patches/libvirt/ does not build (log: $LOGS/libvirt-build.log)"
    finish libvirt-native
fi
LIBVIRTD=$lvbuild/src/libvirtd VIRSH=$lvbuild/tools/virsh
# shellcheck source=scripts/libvirtd-private.sh
. "$(dirname "$0")/libvirtd-private.sh"
# shellcheck source=scripts/libvirt-domains.sh
. "$(dirname "$0")/libvirt-domains.sh"
WRAPPER=$QEMU              # (prereq_reason checks that it is executable)

why=$(prereq_reason)
if [ -n "$why" ]; then
    skip "libvirt-native: $why"
    finish libvirt-native
fi
if ! spqemu=$("$ROOT/scripts/spmem-qemu.sh" 2>"$LOGS/libvirt-native-spmem.log"); then
    fail "libvirt-native: Debian sid's QEMU 11.1.3 unavailable (log: $LOGS/libvirt-native-spmem.log)"
    finish libvirt-native
fi
sbp=${GUEST_SEABIOS_PATCHED:-}
if [ -z "$sbp" ]; then
    sbdir=$("$ROOT/scripts/seabios.sh" 2>"$LOGS/libvirt-native-seabios.log") && sbp=$sbdir/bios-256k.bin
fi
[ -r "$sbp" ] || { fail "libvirt-native: no patched SeaBIOS (log: $LOGS/libvirt-native-seabios.log)"; finish libvirt-native; }
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
host_before=$(host_state)

trap stop_daemon EXIT
trap 'exit 130' INT TERM
start_daemon
if [ -n "$why" ]; then
    fail "libvirtd with patches/libvirt/: $why"
    finish libvirt-native
fi
pass "libvirtd $("$LIBVIRTD" --version | awk '{print $NF}') with patches/libvirt/ (uninstalled, $lvbuild): private daemon (pid $daemon_pid)"

# SeaBIOS instead of OVMF: a ROM loader (-bios), no NVRAM
seabios_sed=("/<nvram /d" "s|<loader readonly='yes' type='pflash'>[^<]*</loader>|<loader type='rom'>$sbp</loader>|")
checks_spm=(done published:1:0x100000000:0x40000000:0xefffffff spm:1:0x100000000:0x40000000)

route_sed=() route_fw=OVMF
route native-ovmf domain-native.xml "$QEMU" 2 "1:spm" "${checks_spm[@]}"
route_sed=("${seabios_sed[@]}") route_fw="SeaBIOS (patches/seabios/)"
route native-sbp domain-native.xml "$QEMU" 2 "1:spm" "${checks_spm[@]}"
booted native-ovmf
booted native-sbp
# "info numa" aborts QEMU 11.1.3 when an sp-mem device is present
# (docs/upstream/sp-mem-info-numa-abort.md): ask query-memory-devices
route_sed=() route_fw=OVMF route_view=memdevs
route native-spmem-ovmf domain-native-spmem.xml "$spqemu" 1 "sp-mem" "${checks_spm[@]}"
route_sed=("${seabios_sed[@]}") route_fw="SeaBIOS (patches/seabios/)"
route native-spmem-sbp domain-native-spmem.xml "$spqemu" 1 "sp-mem" "${checks_spm[@]}"
route_sed=() route_view=numa

# no <qemu:commandline>, no custom-argv taint (running QEMU as root is
# this harness's qemu.conf: high-privileges is expected)
for r in native-ovmf native-sbp native-spmem-ovmf native-spmem-sbp; do
    if ! grep -qs 'starting up' "$(domlog "memmap-$r")"; then
        fail "$r: not started, so not shown untainted"; continue
    fi
    t=$(grep -o 'is tainted: [a-z-]*' "$(domlog "memmap-$r")" | sed 's/is tainted: //' | sort -u | paste -sd, -)
    if grep -q 'custom-argv' <<<"$t"; then
        fail "$r: domain tainted: $t"
    else
        pass "$r: not tainted custom-argv (taints: ${t:-none})"
    fi
done

# refused by libvirt (its validation against QEMU's capabilities), at
# define or at start, before QEMU runs; one line of libvirt's naming
# what is not supported
lv_refuses() {
    local name=$1 what=$2 pat=$3 xml=$4 emu=$5 file out err
    if ! file=$(render "$xml" "$name" "$emu"); then
        fail "$what: $file"; return
    fi
    if out=$(redefine "$name" "$file"); then
        if out=$(vsh start --paused "$name" 2>&1); then
            vsh destroy "$name" >/dev/null 2>&1
            fail "$what: virsh define and start succeed"; return
        fi
    fi
    err=$(grep -E -m1 "^error: .*$pat" <<<"$out")
    if [ -n "$err" ] && ! grep -qs 'starting up' "$(domlog "$name")"; then
        pass "$what: refused before QEMU runs: $err"
    else
        fail "$what: expected libvirt's error /$pat/ before QEMU runs, virsh said:"
        printf '%s\n' "$out" | indent
    fi
}
lv_refuses memmap-native-noopt "memmapType with QEMU 11.1.3 (no memmap-type)" \
    "memmapType.* not supported" domain-native.xml "$spqemu"
lv_refuses memmap-native-nospmem "sp-mem with the patched QEMU 10.2.2 (no sp-mem device)" \
    "sp-mem.* (not|isn't) supported" domain-native-spmem.xml "$QEMU"

booted native-spmem-ovmf
booted native-spmem-sbp

stop_daemon
host_after=$(host_state)
if [ "$host_after" = "$host_before" ]; then
    pass "host untouched: /etc/passwd, /etc/group, /etc/libvirt/* and libvirt's folders in /run and /var the same before and after"
else
    fail "host changed by the run:"
    diff <(printf '%s\n' "$host_before") <(printf '%s\n' "$host_after") | indent
fi
finish libvirt-native
