#!/bin/bash
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
# the QEMU command line libvirt generated is printed, and the guest (OVMF,
# direct kernel boot of tests/guest's kernel and initramfs) is let run.
# While the three boot: the same XML with the unpatched QEMU must fail
# "virsh start" with QEMU's error about memmap-type, bad
# QEMU_NUMA_MEMMAP_TYPE values must fail it with the wrapper's one-line
# error, the wrapper without the variable must change nothing, and the
# small guest without max-ram-below-4g must fail with QEMU's hint.  Then
# each guest's serial log must pass tests/guest/parse_report.py.
#
# libvirtd (9.0, bookworm's libvirt-daemon + libvirt-daemon-driver-qemu,
# installed with apt-get when missing) runs as root in a private mount
# namespace: /etc/passwd, /etc/group (with a libvirt-qemu user, which the
# QEMU driver insists on), /etc/libvirt, /run and /var are bind mounts of
# folders in .cache/libvirt/root, so the host's files are left alone (a
# check compares their sha256 before and after).  It is stopped by its
# PID when the script ends.
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
PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)
t_start=$(date +%s)

npass=0 nfail=0 nskip=0
pass() { echo "PASS $*"; npass=$((npass + 1)); }
fail() { echo "FAIL $*"; nfail=$((nfail + 1)); }
skip() { echo "SKIP $*"; nskip=$((nskip + 1)); }
finish() {
    say "libvirt: took $(( $(date +%s) - t_start )) s"
    echo "libvirt: $npass passed, $nfail failed, $nskip skipped"
    [ "$nfail" = 0 ]
    exit
}
# indent: the input, indented, for details under a result line
indent() { sed 's/^/    /'; }

# --- prerequisites ---------------------------------------------------------

# install_pkgs: install PKGS when missing; empty output when they are there
install_pkgs() {
    local p missing=() made_policy=0 log=$LOGS/libvirt-apt.log
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
            missing+=("$p")
    done
    [ ${#missing[@]} = 0 ] && return 0
    command -v apt-get >/dev/null || { echo "${missing[*]} missing and no apt-get"; return; }
    say "libvirt: installing ${missing[*]} (log: $log)"
    # These packages start no service (the init script and units are in
    # libvirt-daemon-system, not installed); policy-rc.d makes sure.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        echo "apt-get could not install ${missing[*]} (log: $log)"
    fi
    [ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
}

prereq_reason() {
    local why
    [ "$(id -u)" = 0 ] || { echo "needs root (libvirtd's system driver in a private mount namespace)"; return; }
    command -v unshare >/dev/null || { echo "no unshare (util-linux)"; return; }
    unshare -m true 2>/dev/null || { echo "cannot create a mount namespace here (unshare -m failed)"; return; }
    why=$(install_pkgs)
    [ -z "$why" ] || { echo "$why"; return; }
    if [ ! -x /usr/sbin/libvirtd ] || ! command -v virsh >/dev/null; then
        echo "libvirtd or virsh missing after installing ${PKGS[*]}"
        return
    fi
    [ -d /etc/libvirt ] || { echo "no /etc/libvirt to bind-mount over (libvirt-clients ships it)"; return; }
    [ -x "$QEMU" ] || { echo "no patched QEMU at $QEMU (make build, or set QEMU=)"; return; }
    [ -x "$WRAPPER" ] || { echo "no wrapper at $WRAPPER"; return; }
    command -v python3 >/dev/null || { echo "no python3"; return; }
    if ! "$ROOT/scripts/guest-assets.sh" 2>"$LOGS/libvirt-guest-assets.log" >/dev/null; then
        echo "guest assets unavailable (log: $LOGS/libvirt-guest-assets.log)"
        return
    fi
}

# host_state: what must not change on the host: sha256 of /etc/passwd,
# /etc/group and every file in /etc/libvirt, and which libvirt folders exist
host_state() {
    local d
    sha256sum /etc/passwd /etc/group
    find /etc/libvirt -type f -print0 | sort -z | xargs -0r sha256sum
    find /etc/libvirt | sort
    for d in /run/libvirt /run/libvirtd.pid /run/mount /var/lib/libvirt \
             /var/log/libvirt /var/cache/libvirt; do
        [ ! -e "$d" ] || echo "exists $d"
    done
}

if ! mkdir -p "$LV" 2>/dev/null || [ ! -w "$LV" ]; then
    skip "libvirt: cannot write $LV"
    finish
fi
exec 9>"$LV/.lock"
if ! flock -w 600 9; then
    fail "libvirt: another scripts/libvirt.sh holds $LV/.lock"
    finish
fi

# the wrapper alone, with a stand-in QEMU (needs neither root nor libvirt)
if out=$(CACHE=$CACHE "$ROOT/tests/libvirt/wrapper-test.sh" "$WRAPPER" 2>&1); then
    pass "wrapper unit test (tests/libvirt/wrapper-test.sh): $(tail -1 <<<"$out")"
else
    fail "wrapper unit test (tests/libvirt/wrapper-test.sh): $(tail -1 <<<"$out")"
    grep -v '^ok ' <<<"$out" | indent
fi

why=$(prereq_reason)
if [ -n "$why" ]; then
    skip "libvirt: $why"
    finish
fi
# shellcheck source=/dev/null
. "$CACHE/guest/assets.env"
host_before=$(host_state)
echo "libvirt: $(/usr/sbin/libvirtd --version), patched QEMU: $("$QEMU" -version | head -1)"

# --- the private libvirtd ---------------------------------------------------

daemon_pid=""

# our_pid PID EXE: PID is alive, runs EXE, and was started by this script
# for this cache folder (libvirtd) or by our libvirtd (QEMU)
our_pid() {
    [ -n "$1" ] && [ -d "/proc/$1" ] || return 1
    case $(readlink "/proc/$1/exe" 2>/dev/null) in
    "$2"*) ;;
    *) return 1 ;;
    esac
    tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -qx "LIBVIRT_MEMMAP_STATE=$LV"
}

# stop_pid PID: SIGTERM, then SIGKILL after 10 s
stop_pid() {
    kill "$1" 2>/dev/null || return 0
    for _ in $(seq 50); do
        [ -d "/proc/$1" ] || return 0
        sleep 0.2
    done
    kill -9 "$1" 2>/dev/null
}

# stop_leftovers: a libvirtd and QEMUs an interrupted earlier run left
stop_leftovers() {
    local f pid
    pid=$(cat "$LV/libvirtd.pid" 2>/dev/null)
    if our_pid "$pid" /usr/sbin/libvirtd; then
        say "libvirt: stopping the libvirtd a previous run left (pid $pid)"
        stop_pid "$pid"
    fi
    for f in "$R"/run/libvirt/qemu/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        # QEMU's environment is libvirt's, not ours: one of our domains
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
        */qemu-system-x86_64)
            if grep -qz "^HOME=/var/lib/libvirt/qemu/domain-[0-9]*-memmap-" "/proc/$pid/environ" 2>/dev/null; then
                say "libvirt: stopping QEMU pid $pid left by our libvirtd"
                stop_pid "$pid"
            fi ;;
        esac
    done
    rm -f "$LV/libvirtd.pid"
}

stop_daemon() {
    local d
    [ -n "$daemon_pid" ] || return 0
    # libvirtd leaves running domains behind when it stops
    for d in $(vsh list --name 2>/dev/null); do
        vsh destroy "$d" >/dev/null 2>&1
    done
    stop_pid "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=""
    stop_leftovers
}
trap stop_daemon EXIT
trap 'exit 130' INT TERM

vsh() {
    XDG_CONFIG_HOME=$LV/client XDG_CACHE_HOME=$LV/client XDG_RUNTIME_DIR=$LV/client \
        timeout 90 virsh -q -c "qemu:///system?socket=$R/run/libvirt/libvirt-sock" "$@"
}

# setup_root: the files libvirtd sees instead of the host's
setup_root() {
    local id=64055
    mkdir -p "$R/etc/libvirt" "$R/var/tmp" "$R/var/lib/libvirt" \
        "$R/var/log/libvirt/qemu" "$R/var/cache/libvirt" "$LV/client" "$LV/xml" "$GUESTS"
    chmod 1777 "$R/var/tmp"
    rm -rf "$R/run"
    mkdir -p "$R/run/lock"
    ln -sfn /run "$R/var/run"
    ln -sfn /run/lock "$R/var/lock"
    rm -f "$R"/var/log/libvirt/qemu/*.log "$R/var/log/libvirt/libvirtd.log"
    cp /etc/passwd "$R/etc/passwd"
    cp /etc/group "$R/etc/group"
    while cut -d: -f3 /etc/passwd /etc/group | grep -qx "$id"; do id=$((id + 1)); done
    grep -q '^libvirt-qemu:' "$R/etc/group" || echo "libvirt-qemu:x:$id:" >>"$R/etc/group"
    grep -q '^libvirt-qemu:' "$R/etc/passwd" ||
        echo "libvirt-qemu:x:$id:$id:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin" >>"$R/etc/passwd"
    cat >"$R/etc/libvirt/libvirtd.conf" <<'EOF'
# written by scripts/libvirt.sh: local socket only, no authentication
auth_unix_rw = "none"
auth_unix_ro = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$R/etc/libvirt/qemu.conf" <<'EOF'
# written by scripts/libvirt.sh: QEMU as root, no confinement, no cgroups,
# no namespaces, QEMU's output straight into the domain log (no virtlogd)
user = "root"
group = "root"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
dynamic_ownership = 0
remember_owner = 0
EOF
}

# install_wrapper DIR REAL: the wrapper under test as DIR/qemu-memmap-wrapper
# with DIR/qemu-memmap-wrapper.real -> REAL.  libvirt caches a binary's
# capabilities by its ctime: copy (or touch) only on a change, so that
# warm runs do not probe again, and always when REAL changed.
install_wrapper() {
    local dir=$1 real=$2 w=$1/qemu-memmap-wrapper stamp
    mkdir -p "$dir"
    stamp="$real $(stat -c '%Y %s %i' "$real")"
    if ! cmp -s "$WRAPPER" "$w"; then
        cp "$WRAPPER" "$w"
        chmod 755 "$w"
    elif [ "$(cat "$dir/stamp" 2>/dev/null)" != "$stamp" ]; then
        touch "$w"
    fi
    ln -sfn "$real" "$w.real"
    printf '%s\n' "$stamp" >"$dir/stamp"
}

# start_daemon: start libvirtd; sets daemon_pid, or why (the reason it
# did not start)
start_daemon() {
    why=""
    stop_leftovers
    setup_root
    # shellcheck disable=SC2016 # $1 is the inner shell's
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/libvirt LANG=C.UTF-8 \
        LIBVIRT_MEMMAP_STATE="$LV" \
        unshare -m --propagation private -- /bin/sh -ec '
            r=$1
            # -n: no /run/mount/utab on the host
            mount -n --bind "$r/run" /run
            mount -n --bind "$r/var" /var
            mount -n --bind "$r/etc/passwd" /etc/passwd
            mount -n --bind "$r/etc/group" /etc/group
            mount -n --bind "$r/etc/libvirt" /etc/libvirt
            exec /usr/sbin/libvirtd' sh "$R" </dev/null >"$LV/libvirtd.out" 2>&1 &
    daemon_pid=$!
    echo "$daemon_pid" >"$LV/libvirtd.pid"
    local end=$((SECONDS + 20))
    while [ "$SECONDS" -lt "$end" ]; do
        if [ ! -d "/proc/$daemon_pid" ]; then
            why="libvirtd exited: $(tail -3 "$LV/libvirtd.out" | tr '\n' ' ')"
            daemon_pid=""
            return
        fi
        [ -S "$R/run/libvirt/libvirt-sock" ] && vsh list --all >/dev/null 2>&1 && return
        sleep 0.2
    done
    why="libvirtd (pid $daemon_pid) did not answer in 20 s (log: $R/var/log/libvirt/libvirtd.log)"
}

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
    finish
fi
pass "libvirtd: private daemon (pid $daemon_pid) answers on $R/run/libvirt/libvirt-sock"

# --- helpers for the domains -------------------------------------------------

# render EXAMPLE NAME EMULATOR [SED-EXPRESSION...]: contrib/libvirt/EXAMPLE
# with its placeholders filled in, named NAME, each SED-EXPRESSION applied
# (each must change the file); prints the file's path, or fails with a
# reason.  The example's own files (@CACHE@/ORIGINAL-NAME...: NVRAM,
# serial log, backing file) become NAME's, so that variants running at
# the same time share none.
render() {
    local src=$EXAMPLES/$1 name=$2 emu=$3 out=$LV/xml/$2.xml e before orig
    shift 3
    orig=$(sed -n 's|.*<name>\([^<]*\)</name>.*|\1|p' "$src")
    [ -n "$orig" ] || { echo "no <name> in $src"; return 1; }
    sed -e "s|<name>$orig</name>|<name>$name</name>|" \
        -e "s|@CACHE@/$orig\([._-]\)|@CACHE@/$name\1|g" \
        -e "s|@EMULATOR@|$emu|g" -e "s|@CACHE@|$GUESTS|g" \
        -e "s|@OVMF_CODE@|$GUEST_OVMF_CODE|g" -e "s|@OVMF_VARS@|$GUEST_OVMF_VARS|g" \
        -e "s|@KERNEL@|$GUEST_KERNEL|g" -e "s|@INITRD@|$GUEST_INITRD|g" \
        "$src" >"$out" || { echo "cannot read $src"; return 1; }
    for e in "$@"; do
        before=$(cat "$out")
        sed -i "$e" "$out"
        [ "$(cat "$out")" != "$before" ] || { echo "sed '$e' changed nothing in $out"; return 1; }
    done
    if grep -q '@[A-Z_]*@' "$out"; then
        echo "unknown placeholder in $src: $(grep -o '@[A-Z_]*@' "$out" | sort -u | tr '\n' ' ')"
        return 1
    fi
    printf '%s\n' "$out"
}

# redefine NAME XML: a fresh definition (nvram from the template again)
redefine() {
    vsh destroy "$1" >/dev/null 2>&1
    vsh undefine --nvram "$1" >/dev/null 2>&1
    # QEMU creates the hybrid's backing file (a stand-in for /dev/daxX.Y)
    rm -f "$R/var/log/libvirt/qemu/$1.log" "$GUESTS/$1".*.log "$GUESTS/$1"-node*.img
    vsh define "$2" 2>&1
}

domlog() { printf '%s\n' "$R/var/log/libvirt/qemu/$1.log"; }

# argv NAME: the environment and command line libvirt logged for NAME
argv() {
    awk '/: starting up libvirt/ { on = 1; next }
         on { print; if ($0 !~ /\\$/) exit }' "$(domlog "$1")"
}

# qemu_stderr NAME: what the wrapper and QEMU printed (the domain log
# without libvirt's own lines)
qemu_stderr() {
    awk '/: starting up libvirt/ { argv = 1; next }
         argv { if ($0 !~ /\\$/) argv = 0; next }
         /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]*\+[0-9]*: / { next }
         { print }' "$(domlog "$1")"
}

# wait_off NAME SECONDS: until the domain is shut off
wait_off() {
    local end=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$end" ]; do
        [ "$(vsh domstate "$1" 2>/dev/null)" = "shut off" ] && return 0
        sleep 1
    done
    return 1
}

# numa_view NAME: from "info numa", the node count and the nodes that have
# a memmap-type line, as "COUNT|N:TYPE N:TYPE..."
numa_view() {
    local out
    out=$(vsh qemu-monitor-command --hmp "$1" 'info numa' 2>&1) || { echo "error: $out"; return; }
    printf '%s|%s\n' "$(sed -n 's/^\([0-9]*\) nodes.*/\1/p' <<<"$out" | tr -d '\r')" \
        "$(sed -n 's/^node \([0-9]*\) memmap-type: \([a-z]*\).*/\1:\2/p' <<<"$out" | tr -d '\r' | sort -n | tr '\n' ' ' | sed 's/ $//')"
}

# --- the examples: started, checked, left booting ---------------------------------

# route NAME EXAMPLE EMULATOR NODES TYPES CHECKS...: define and start
# paused, "info numa" must show NODES nodes with TYPES ("1:spm 2:reserved"),
# print the command line, let the guest boot (booted checks its CHECKS)
declare -A boot_checks=() boot_t0=()
route() {
    local r=$1 xml=$2 emu=$3 nodes=$4 types=$5 name=memmap-$1 file out got
    shift 5
    if ! file=$(render "$xml" "$name" "$emu"); then
        fail "$r: $file"; return
    fi
    if ! out=$(redefine "$name" "$file"); then
        fail "$r: virsh define $file: $out"; return
    fi
    if ! out=$(vsh start --paused "$name" 2>&1); then
        fail "$r: virsh start $name:"
        printf '%s\n' "$out" | indent
        return
    fi
    got=$(numa_view "$name")
    if [ "$got" = "$nodes|$types" ]; then
        pass "$r: virsh start + info numa: $nodes nodes; memmap-type $types; the others normal (no memmap-type line)"
    else
        fail "$r: info numa shows '$got', expected '$nodes|$types'"
    fi
    echo "  QEMU command line of the $r route (/var/log/libvirt/qemu/$name.log, environment first):"
    argv "$name" | indent
    if grep -q '^qemu-memmap-wrapper: ' "$(domlog "$name")"; then
        echo "  which the wrapper changed to:"
        grep '^qemu-memmap-wrapper: ' "$(domlog "$name")" | indent
    fi
    if ! out=$(vsh resume "$name" 2>&1); then
        fail "$r: virsh resume: $out"; vsh destroy "$name" >/dev/null 2>&1; return
    fi
    boot_checks[$r]="$*"
    boot_t0[$r]=$SECONDS
}

# booted NAME: wait for the guest route NAME resumed to power off, then
# its serial log must pass its checks
booted() {
    local r=$1 name=memmap-$1 log=$GUESTS/memmap-$1.serial.log out left
    [ -n "${boot_checks[$r]:-}" ] || return 0
    left=$((TIMEOUT - (SECONDS - boot_t0[$r])))
    if ! wait_off "$name" "$((left > 1 ? left : 1))"; then
        vsh destroy "$name" >/dev/null 2>&1
        fail "$r: guest boot did not end in $TIMEOUT s (serial log: $log)"
        return
    fi
    # shellcheck disable=SC2086 # the checks are words
    if out=$(python3 "$PARSER" "$log" ${boot_checks[$r]} 2>&1); then
        pass "$r: OVMF Linux guest through libvirt (off after $((SECONDS - boot_t0[$r])) s): ${boot_checks[$r]}"
    else
        fail "$r: guest checks failed (serial log: $log): ${boot_checks[$r]}"
    fi
    printf '%s\n' "$out" | indent
}

# refused NAME WHAT PATTERN XML EMULATOR [SED...]: "virsh start" must fail
# and its output have a line matching PATTERN (grep -E); sets $line (that
# line) and $hint (the next one)
refused() {
    local name=$1 what=$2 pat=$3 xml=$4 emu=$5 file out
    shift 5
    line="" hint=""
    if ! file=$(render "$xml" "$name" "$emu" "$@"); then
        fail "$what: $file"; return 1
    fi
    if ! out=$(redefine "$name" "$file"); then
        fail "$what: virsh define: $out"; return 1
    fi
    if out=$(vsh start --paused "$name" 2>&1); then
        vsh destroy "$name" >/dev/null 2>&1
        fail "$what: virsh start succeeded"
        return 1
    fi
    # only what the wrapper or QEMU said, not virsh's prefix
    line=$(grep -E -m1 "$pat" <<<"$out" | grep -oE '(qemu-system-x86_64|qemu-memmap-wrapper): .*')
    if [ -z "$line" ]; then
        fail "$what: virsh start failed, but not with /$pat/:"
        printf '%s\n' "$out" | indent
        return 1
    fi
    hint=$(grep -E -A1 -m1 "$pat" <<<"$out" | sed -n 2p)
}

# wrapper_refuses NAME WHAT XML [SED...]: the wrapper must stop the start
# with exactly one line on stderr, naming QEMU_NUMA_MEMMAP_TYPE, and
# QEMU must not run
wrapper_refuses() {
    local name=$1 what=$2 xml=$3 err
    shift 3
    refused "$name" "$what" 'qemu-memmap-wrapper: .*QEMU_NUMA_MEMMAP_TYPE' "$xml" \
        "$LV/bin/patched/qemu-memmap-wrapper" "$@" || return
    err=$(qemu_stderr "$name")
    if [ "$(wc -l <<<"$err")" = 1 ] && [[ $err == "qemu-memmap-wrapper: "*QEMU_NUMA_MEMMAP_TYPE* ]]; then
        pass "$what: virsh start fails: $line"
    else
        fail "$what: expected one line from the wrapper in the domain log, got:"
        printf '%s\n' "$err" | indent
    fi
}

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
finish
