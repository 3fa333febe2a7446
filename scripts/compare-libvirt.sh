#!/bin/bash
# COMPARISON.md row libvirt: both interfaces through a private libvirtd.
# Called by: compare.sh (make compare).
#
# Boots contrib/libvirt's hybrid (patched QEMU) and sp-mem (QEMU 11.1) examples with virsh; row "libvirt".
# Called by scripts/compare.sh (make compare); runs alone too (as root).
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

QEMU=${QEMU:-$ROOT/tree/build/qemu-system-x86_64}   # the patched QEMU (memmap-type)
SPMEM_QEMU=${SPMEM_QEMU:-}                          # a QEMU with sp-mem; default: scripts/spmem-qemu.sh's
ASSETS=${GUEST_ASSETS:-$CACHE/guest/assets.env}     # the test guest (scripts/guest-assets.sh)
TIMEOUT=${COMPARE_GUEST_TIMEOUT:-300}               # seconds for one guest boot (TCG)
EXAMPLES=$ROOT/contrib/libvirt
WRAPPER=$EXAMPLES/qemu-memmap-wrapper                # the wrapper route's <emulator> (its figures only)
PARSER=$ROOT/tests/guest/parse_report.py
# what scripts/libvirtd-private.sh and scripts/libvirt-domains.sh use:
# the daemon's state (apart from make libvirt's), the folder it sees as
# /etc/..., /run and /var, the guests' files, the packages it needs
LV=$CACHE/compare/libvirt
R=$LV/root
GUESTS=$LV/guests
SPM_SIZE=$((1 << 30))      # the spm range of both examples

LIBVIRTD=/usr/sbin/libvirtd VIRSH=virsh   # the packaged libvirt (Debian's)
# shellcheck source=scripts/libvirtd-private.sh
. "$(dirname "$0")/libvirtd-private.sh"
# shellcheck source=scripts/libvirt-domains.sh
. "$(dirname "$0")/libvirt-domains.sh"

# --- helpers of this script -------------------------------------------------

# missing: why this script cannot run at all (empty when it can)
missing() {
    [ "$(id -u)" = 0 ] || { echo "needs root (libvirtd's system driver in a private mount namespace)"; return; }
    unshare -m true 2>/dev/null || { echo "cannot create a mount namespace (unshare -m failed)"; return; }
    command -v python3 >/dev/null || { echo "no python3"; return; }
    local why
    why=$(install_pkgs)
    [ -z "$why" ] || { echo "$why"; return; }
    if [ ! -x /usr/sbin/libvirtd ] || ! command -v virsh >/dev/null; then
        echo "libvirtd or virsh missing after scripts/deps.sh libvirt"
        return
    fi
    [ -d /etc/libvirt ] || { echo "no /etc/libvirt to bind-mount over"; return; }
    if [ ! -f "$ASSETS" ] && [ -z "${GUEST_ASSETS:-}" ]; then
        say "compare-libvirt: guest assets (log: $LOGS/compare-libvirt-assets.log)"
        "$ROOT/scripts/guest-assets.sh" >"$LOGS/compare-libvirt-assets.log" 2>&1
    fi
    [ -f "$ASSETS" ] || echo "no guest assets at $ASSETS (scripts/guest-assets.sh)"
}

# stop_sid_leftovers: stop_leftovers (libvirtd-private.sh) knows a QEMU
# by its executable's name; sid's QEMU runs as sid's ld.so (its wrapper
# execs the loader), so a guest of ours an interrupted run left is found
# here: by the pid files of our libvirtd and the guest's HOME
stop_sid_leftovers() {
    local f pid
    for f in "$R"/run/libvirt/qemu/memmap-cmp-*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        [ -n "$pid" ] || continue
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
        */ld-linux-x86-64.so.2) ;;
        *) continue ;;
        esac
        grep -qz '^HOME=/var/lib/libvirt/qemu/domain-[0-9]*-memmap-cmp-' "/proc/$pid/environ" 2>/dev/null || continue
        say "compare-libvirt: stopping QEMU pid $pid left by our libvirtd"
        stop_pid "$pid"
    done
}

cleanup() {
    stop_daemon
    stop_sid_leftovers
}

# taints NAME: the taints libvirt logged for NAME, comma-separated
taints() {
    sed -n 's/.* is tainted: //p' "$(domlog "$1")" | awk '!seen[$0]++' | paste -sd, | sed 's/,/, /g'
}

# xml_taints TAINTS: TAINTS without high-privileges, which comes from
# this test's qemu.conf (QEMU as root), not from the domain's XML
xml_taints() {
    tr ',' '\n' <<<"$1" | sed 's/^ *//' | grep -vx high-privileges | paste -sd, | sed 's/,/, /g'
}

# cmdline_excerpt NAME: the memory and NUMA part of the command line
# libvirt generated for NAME, one option a line, the guests' folder
# written @CACHE@ as in the examples
cmdline_excerpt() {
    argv "$1" | sed 's/ \\$//' |
        grep -E '^-(machine|m|numa) |^-object .*memory-backend|^-device sp-mem' |
        sed "s|$GUESTS/|@CACHE@/|g"
}

# mem_lines NAME: virsh dominfo's memory lines and virsh dommemstat's
# output (what mem_read read), compact: the evidence of a cell
mem_lines() {
    printf 'virsh dominfo: %s | virsh dommemstat: %s\n' \
        "$(grep -E '^(Max|Used) memory:' "$LV/mem/$1.dominfo" | tr -s ' ' | paste -sd';' | sed 's/;/; /g')" \
        "$(tr -s ' ' <"$LV/mem/$1.dommemstat" | sed '/^$/d' | paste -sd';' | sed 's/;/; /g')"
}

# mem_cell: from mem_out (mem_check's), the figures for a cell
mem_cell() {
    sed -n 's/^figures: //p' <<<"$mem_out"
}

# needs XML: what the example adds to an ordinary libvirt domain: its
# <maxMemory> and the options on its <qemu:commandline> (long values
# cut after their first field)
needs() {
    python3 - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
Q = "{http://libvirt.org/schemas/domain/qemu/1.0}"
d = ET.parse(sys.argv[1]).getroot()
out = []
m = d.find("maxMemory")
if m is not None:
    out.append("<maxMemory slots='%s'> %s %s" % (m.get("slots"), m.text, m.get("unit", "KiB")))
b = d.find("devices/memballoon")
if b is not None and b.get("model") == "none":
    out.append("<memballoon model='none'/>")
args = [a.get("value") for a in d.iter(Q + "arg")]
opts = []
for opt, val in zip(args[::2], args[1::2]):
    short = val if len(val) <= 20 else val.split(",")[0]
    for kv in val.split(","):
        if kv.startswith("memmap-type=") and kv not in short:
            short += ",...," + kv
    opts.append("%s %s" % (opt, short))
if opts:
    out.append("<qemu:commandline> " + ", ".join(opts))
print(" + ".join(out))
PY
}

# fails_with NAME WHAT PATTERN XML EMULATOR SED...: the example changed
# by SED must not start, and QEMU's error (from the domain log: virsh
# does not always show it) must match PATTERN; sets $err
fails_with() {
    local name=$1 what=$2 pat=$3 xml=$4 emu=$5 out
    shift 5
    err=""
    start_fails "$name" "$what" "$xml" "$emu" "$@" || return 1
    # virsh's own reason, after its "error: Failed to start domain"
    out=$(grep -m1 '^error: [^F]' <<<"$out" | sed 's/^error: //')
    err=$(qemu_stderr "$name" | grep -E -m1 "$pat" | sed 's/^[0-9T:.-]*Z //')
    if [ -z "$err" ]; then
        fail "$what: virsh start failed, but the domain log has no /$pat/:"
        qemu_stderr "$name" | indent
        return 1
    fi
    local note=""
    if [[ $out != *"${err#qemu-system-x86_64: }"* ]]; then
        note=" (not QEMU's error, which is only in the domain log)"
    fi
    pass "$what: virsh start fails: ${out:-no reason}$note; domain log: $err"
    vsh undefine --nvram "$name" >/dev/null 2>&1
}

# road IFACE NAME XML EMULATOR: the example as domain NAME: defined,
# started paused (the command line, taints, virsh dominfo's and virsh
# dommemstat's figures and, for sp-mem, where QEMU put the device are
# read here, before any monitor command taints the domain further),
# resumed, and let run to the guest's report, which must show the spm
# range as a dax device on node 1; then libvirt's figures are checked
# against what the guest was given (mem_check, libvirt-domains.sh).
# Sets r_start (virsh start's outcome), r_dax (the guest's "@@ dax"
# line), r_argv, r_taints, r_mem (the figures, for a cell), r_memlines
# (virsh's output lines).
road() {
    local iface=$1 name=$2 xml=$3 emu=$4 file out t0 log devs size node warn note
    # domain-hybrid.xml: node 0's 2 GiB fill q35's RAM below 4 GiB, node 1
    # follows at 4 GiB; sp-mem's address is QEMU's choice (asked below)
    local start=0x100000000
    r_start="" r_dax="" r_argv="" r_taints="" r_mem="" r_memlines=""
    log=$GUESTS/$name.serial.log
    if ! file=$(render "$xml" "$name" "$emu"); then
        fail "$iface: $file"; r_start="not run: $file"; return
    fi
    if ! out=$(redefine "$name" "$file"); then
        fail "$iface: virsh define: $out"; r_start="virsh define fails: $out"; return
    fi
    if ! out=$(vsh start --paused "$name" 2>&1); then
        r_start="virsh start fails: $(qemu_stderr "$name" | grep -m1 'qemu-system-x86_64: ' || echo "$out")"
        fail "$iface: $r_start"
        return
    fi
    r_taints=$(taints "$name")
    r_argv=$(cmdline_excerpt "$name")
    mem_read "$name"
    r_memlines=$(mem_lines "$name")
    echo "  QEMU command line libvirt generated for $name (from its domain log):"
    argv "$name" | indent
    # QEMU 11.1 warns about the '-mon' option libvirt 9.0 generates
    warn=$(qemu_stderr "$name" | grep -m1 'warning: ' | sed 's/^[0-9T:.-]*Z //')
    note=""
    [ -z "$warn" ] || note="; QEMU warns about the command line libvirt 9.0 generated: $warn"
    pass "$iface: virsh define + start ($emu): tainted: $r_taints; $r_memlines$note"
    if [ "$iface" = spmem ]; then
        # QEMU chooses the device's address: ask it (QMP; "info numa"
        # would abort this QEMU, see numa_probe)
        devs=$(vsh qemu-monitor-command "$name" '{"execute":"query-memory-devices"}' 2>&1)
        read -r start size node < <(python3 -c '
import json, sys
d = [x["data"] for x in json.loads(sys.argv[1])["return"] if x["type"] == "sp-mem"]
print(hex(d[0]["addr"]), d[0]["size"], d[0]["node"]) if d else print("- - -")' "$devs" 2>/dev/null)
        if [ "${size:-}" = "$SPM_SIZE" ] && [ "${node:-}" = 1 ]; then
            pass "$iface: query-memory-devices: sp-mem on node 1 at $start, size $size"
        else
            fail "$iface: query-memory-devices: no sp-mem device of $SPM_SIZE bytes on node 1: $devs"
            vsh destroy "$name" >/dev/null 2>&1
            r_start="virsh start works, but QEMU has no sp-mem device on node 1"
            return
        fi
    fi
    if ! out=$(vsh resume "$name" 2>&1); then
        fail "$iface: virsh resume: $out"; vsh destroy "$name" >/dev/null 2>&1
        r_start="virsh resume fails: $out"
        return
    fi
    t0=$SECONDS
    say "compare-libvirt: $name boots (TCG, up to $TIMEOUT s; serial log $log)"
    if ! wait_off "$name" "$TIMEOUT"; then
        vsh destroy "$name" >/dev/null 2>&1
        fail "$iface: the guest did not power off in $TIMEOUT s (serial log: $log)"
        r_start="virsh start works; the guest did not finish in $TIMEOUT s"
        return
    fi
    r_dax=$(grep -a -m1 '^@@ dax ' "$log" | tr -d '\r')
    if out=$(python3 "$PARSER" "$log" 'done' "spm:1:$start:$SPM_SIZE" \
            "published:1:$start:$SPM_SIZE:0xefffffff" 2>&1); then
        pass "$iface: OVMF Linux guest off after $((SECONDS - t0)) s; ${r_dax#@@ }"
        r_start="virsh start boots; $(awk '{print $3}' <<<"$r_dax") on node 1"
    else
        fail "$iface: the guest's report (serial log: $log)"
        r_start="virsh start boots; the guest's report fails: $(grep -m1 FAIL <<<"$out")"
    fi
    printf '%s\n' "$out" | indent
    mem_check "$iface" "$name" "$xml" "$file" "$log"
    r_mem=$(mem_cell)
}

# wrapper_figures: the wrapper route (domain-wrapper.xml, node 1 a
# <cell>) started paused, libvirt's figures read and checked (no boot:
# make libvirt boots it); sets w_mem, w_memlines
wrapper_figures() {
    local name=memmap-cmp-wrapper file out
    w_mem="" w_memlines=""
    install_wrapper "$LV/bin/patched" "$QEMU"
    if ! file=$(render domain-wrapper.xml "$name" "$LV/bin/patched/qemu-memmap-wrapper") ||
        ! out=$(redefine "$name" "$file") || ! out=$(vsh start --paused "$name" 2>&1); then
        fail "memmap: wrapper route: ${out:-$file}"
        return
    fi
    mem_read "$name"
    vsh destroy "$name" >/dev/null 2>&1
    w_memlines=$(mem_lines "$name")
    mem_check "memmap: wrapper route (domain-wrapper.xml, started paused)" "$name" domain-wrapper.xml "$file"
    w_mem=$(mem_cell)
}

# numa_probe IFACE NAME: HMP "info numa" through virsh on the domain
# started paused again (QEMU 11.1.3 aborts on it with an sp-mem device);
# sets r_numa
numa_probe() {
    local iface=$1 name=$2 out got
    r_numa=""
    if ! out=$(vsh start --paused "$name" 2>&1); then
        fail "$iface: info numa: virsh start: $out"; return
    fi
    if [ "$iface" = memmap ]; then
        got=$(numa_view "$name")
        if [ "$got" = "2|1:spm" ]; then
            pass "$iface: virsh qemu-monitor-command --hmp 'info numa': 2 nodes, node 1 memmap-type: spm"
            r_numa="info numa shows node 1 memmap-type spm"
        else
            fail "$iface: info numa shows '$got', expected 2 nodes, node 1 memmap-type spm"
        fi
    else
        out=$(vsh qemu-monitor-command --hmp "$name" 'info numa' 2>&1)
        # a crash: libvirt's "shutting down" line ends the domain log
        for _ in $(seq 20); do
            tail -1 "$(domlog "$name")" | grep -q 'shutting down' && break
            [ "$(vsh domstate "$name" 2>&1)" = paused ] && break
            sleep 0.5
        done
        got=$(grep -a -m1 '^ERROR:' "$(domlog "$name")")
        if [ "$(vsh domstate "$name" 2>&1)" = "shut off" ] && [ -n "$got" ]; then
            pass "$iface: virsh qemu-monitor-command --hmp 'info numa' (measured): QEMU aborts: ${got#ERROR:}; domain log: $(grep -m1 'shutting down, reason=crashed' "$(domlog "$name")" | sed 's/^[^:]*:[^:]*:[^:]*: //')"
            r_numa="HMP info numa aborts QEMU ($(grep -o 'numa_stat_memory_devices: code should not be reached' <<<"$got" || echo "${got#ERROR:}"))"
        elif [ "$(vsh domstate "$name" 2>&1)" = paused ]; then
            pass "$iface: virsh qemu-monitor-command --hmp 'info numa' (measured): $(head -1 <<<"$out")"
            r_numa="info numa works"
        else
            fail "$iface: info numa: domain $(vsh domstate "$name" 2>&1), output: $out"
        fi
    fi
    vsh destroy "$name" >/dev/null 2>&1
}

# --- prerequisites, the daemon ----------------------------------------------

if ! mkdir -p "$LV" 2>/dev/null || [ ! -w "$LV" ]; then
    skip "compare-libvirt: cannot write $LV"
    finish compare-libvirt
fi
exec 9>"$LV/.lock"
if ! flock -w 600 9; then
    fail "compare-libvirt: another run holds $LV/.lock"
    finish compare-libvirt
fi
why=$(missing)
if [ -n "$why" ]; then
    skip "compare-libvirt: $why"
    finish compare-libvirt
fi
# shellcheck source=/dev/null
. "$ASSETS"
have_memmap=1 have_spmem=1
if [ ! -x "$QEMU" ]; then
    skip "memmap: no patched QEMU at $QEMU (make build, or set QEMU=)"
    have_memmap=0
fi
if [ -z "$SPMEM_QEMU" ] &&
    ! SPMEM_QEMU=$("$ROOT/scripts/spmem-qemu.sh" 2>"$LOGS/compare-libvirt-spmem.log"); then
    SPMEM_QEMU=""
fi
if [ ! -x "$SPMEM_QEMU" ]; then
    skip "spmem: no QEMU with sp-mem (scripts/spmem-qemu.sh failed, log $LOGS/compare-libvirt-spmem.log; or set SPMEM_QEMU=)"
    have_spmem=0
fi
[ $((have_memmap + have_spmem)) -gt 0 ] || finish compare-libvirt

# --- the native road: patches/libvirt/'s libvirtd (its own daemon, run first) ---

say "compare-libvirt: the native road (scripts/libvirt-native.sh)"
nlog=$LOGS/compare-libvirt-native.log
QEMU=$QEMU "$ROOT/scripts/libvirt-native.sh" >"$nlog" 2>&1
# native_cell R: what libvirt-native.sh measured for route R (native,
# native-spmem): the guests' dax line, the taint, libvirt's figures
native_cell() {
    local fig boots taint
    fig=$(sed -n "s/^PASS $1-ovmf: libvirt's memory figures = what the guest was given: dominfo //p" "$nlog" |
        sed 's/, last_update.*//')
    boots=$(grep -cE "^PASS $1-(ovmf|sbp): (OVMF|SeaBIOS \(patches/seabios/\)) Linux guest through libvirt" "$nlog")
    taint=$(grep -c "^PASS $1-ovmf: not tainted custom-argv" "$nlog")
    if [ -n "$fig" ] && [ "$boots" = 2 ] && [ "$taint" = 1 ]; then
        echo "native (patches/libvirt/ on libvirt 11.3.0): dax0.0 on node 1 with OVMF and the patched SeaBIOS, not tainted custom-argv, figures $fig"
    else
        echo "native (patches/libvirt/): FAILED (log: scripts/libvirt-native.sh)"
    fi
}
native_evidence() { grep -E "^(PASS|FAIL) $1-(ovmf|sbp): " "$nlog" | grep -v 'info numa\|query-memory' | cut -c1-220; }
if grep -q '^libvirt-native: [0-9]* passed, 0 failed' "$nlog"; then
    pass "native road: $(tail -1 "$nlog")"
else
    fail "native road: $(tail -1 "$nlog") (log: $nlog)"
fi

host_before=$(host_state)
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -c 0     # an aborting QEMU (numa_probe) leaves no core file
stop_sid_leftovers
say "compare-libvirt: starting a private libvirtd ($LV)"
# 9>&-: libvirtd must not inherit the lock (a daemon an interrupted run
# left would hold it, and the next run could not get to stop it)
start_daemon 9>&-
if [ -n "$why" ]; then
    fail "libvirtd: $why"
    finish compare-libvirt
fi
pass "libvirtd: $(/usr/sbin/libvirtd --version | awk '{print $NF}'), private daemon (pid $daemon_pid)"

# --- the series: domain-hybrid.xml with the patched QEMU ---------------------

if [ "$have_memmap" = 1 ]; then
    say "compare-libvirt: memmap: domain-hybrid.xml, $("$QEMU" -version | head -1)"
    road memmap memmap-cmp-hybrid domain-hybrid.xml "$QEMU"
    memmap_start=$r_start memmap_dax=$r_dax memmap_argv=$r_argv memmap_taints=$r_taints
    memmap_mem=$r_mem memmap_memlines=$r_memlines
    numa_probe memmap memmap-cmp-hybrid
    memmap_numa=$r_numa
    fails_with memmap-cmp-hybrid-m "memmap: hybrid without its '-m 3G'" \
        'qemu-system-x86_64: .*total memory for NUMA nodes' domain-hybrid.xml "$QEMU" \
        "/<qemu:arg value='-m'\/>/d" "/<qemu:arg value='3G'\/>/d"
    memmap_no_m=$err
    wrapper_figures
    compare_row libvirt memmap \
        "$memmap_start; XML: $(needs "$EXAMPLES/domain-hybrid.xml"); tainted: $(xml_taints "$memmap_taints"); libvirt's memory figures: ${memmap_mem:-not read} (node 1 is on <qemu:commandline>: libvirt cannot count it); wrapper route instead (qemu-memmap-wrapper, node 1 a <cell>, domain-wrapper.xml): ${w_mem:-not read}${memmap_numa:+; $memmap_numa}; $(native_cell native)" \
        "${memmap_dax:-no @@ dax line}
$(native_evidence native)
hybrid: $memmap_memlines
wrapper: ${w_memlines:-not read}
libvirt 9.0 generated: $(paste -sd' ' <<<"$memmap_argv")
domain log: tainted: $memmap_taints (high-privileges: this test's qemu.conf runs QEMU as root)
without -m 3G: ${memmap_no_m:-?}" \
        "scripts/compare-libvirt.sh"
fi

# --- upstream: domain-spmem.xml with QEMU 11.1 ----------------------------------

if [ "$have_spmem" = 1 ]; then
    say "compare-libvirt: spmem: domain-spmem.xml, $("$SPMEM_QEMU" -version | head -1)"
    caps=$(vsh domcapabilities --emulatorbin "$SPMEM_QEMU" --virttype qemu --machine q35 2>&1)
    if grep -q '<machine>pc-q35-' <<<"$caps"; then
        pass "spmem: libvirt probes $SPMEM_QEMU (a shell script that execs sid's ld.so) as <emulator>: domcapabilities machine $(sed -n 's|.*<machine>\(.*\)</machine>.*|\1|p' <<<"$caps")"
    else
        fail "spmem: libvirt cannot probe $SPMEM_QEMU: $(head -3 <<<"$caps")"
    fi
    road spmem memmap-cmp-spmem domain-spmem.xml "$SPMEM_QEMU"
    spmem_start=$r_start spmem_dax=$r_dax spmem_argv=$r_argv spmem_taints=$r_taints
    spmem_mem=$r_mem spmem_memlines=$r_memlines
    numa_probe spmem memmap-cmp-spmem
    spmem_numa=$r_numa
    fails_with memmap-cmp-spmem-nomax "spmem: without <maxMemory>" \
        'qemu-system-x86_64: .*maxmem' domain-spmem.xml "$SPMEM_QEMU" "/<maxMemory/d"
    spmem_no_max=$err
    fails_with memmap-cmp-spmem-cell "spmem: node 1 as <cell id='1' memory='0'>" \
        "qemu-system-x86_64: .*doesn't take value '0'" domain-spmem.xml "$SPMEM_QEMU" \
        "/<qemu:arg value='-numa'\/>/d" "/<qemu:arg value='node,nodeid=1'\/>/d" \
        "s|^\( *\)</numa>|\1  <cell id='1' memory='0' unit='MiB'/>\n\1</numa>|"
    spmem_cell0=$err
    # sp-mem takes no slot; libvirt wants a slot count all the same
    spmem_slots=""
    if ! file=$(render domain-spmem.xml memmap-cmp-spmem-slots "$SPMEM_QEMU" "s| slots='[0-9]*'||"); then
        fail "spmem: <maxMemory> without slots: $file"
    elif out=$(redefine memmap-cmp-spmem-slots "$file"); then
        vsh undefine --nvram memmap-cmp-spmem-slots >/dev/null 2>&1
        pass "spmem: <maxMemory> without slots (measured): libvirt defines the domain"
    else
        spmem_slots=$(grep -m1 '^error: [^F]' <<<"$out" | sed 's/^error: //')
        pass "spmem: <maxMemory> without slots (measured): virsh define fails: $spmem_slots"
    fi
    spmem_notes="libvirt has no sp-mem element"
    [ -z "$spmem_slots" ] || spmem_notes+="; slots required"
    [ -z "$spmem_cell0" ] || spmem_notes+="; <cell id='1' memory='0'> fails"
    compare_row libvirt spmem \
        "$spmem_start; XML: $(needs "$EXAMPLES/domain-spmem.xml") ($spmem_notes); tainted: $(xml_taints "$spmem_taints"); libvirt's memory figures: ${spmem_mem:-not read} (the sp-mem device is on <qemu:commandline>: libvirt cannot count it)${spmem_numa:+; $spmem_numa}; $(native_cell native-spmem)" \
        "${spmem_dax:-no @@ dax line}
$(native_evidence native-spmem)
$spmem_memlines
libvirt 9.0 generated: $(paste -sd' ' <<<"$spmem_argv")
domain log: tainted: $spmem_taints (high-privileges: this test's qemu.conf runs QEMU as root)
without <maxMemory>: ${spmem_no_max:-?}
<cell id='1' memory='0'>: ${spmem_cell0:-?}
<maxMemory> without slots: ${spmem_slots:-defined}" \
        "scripts/compare-libvirt.sh"
fi

# --- done: stop the daemon, the host must be as it was -------------------------

cleanup
rm -f "$GUESTS"/*.img   # the stand-ins for /dev/dax, sparse; QEMU makes them again
if [ "$(host_state)" = "$host_before" ]; then
    pass "host untouched: /etc/passwd, /etc/group, /etc/libvirt/* and the libvirt folders in /run and /var as before"
else
    fail "host changed by the run:"
    diff <(printf '%s\n' "$host_before") <(host_state) | indent
fi
finish compare-libvirt
