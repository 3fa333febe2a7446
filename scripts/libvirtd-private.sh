# A private libvirtd in its own mount namespace, and its checks.
# Called by: sourced by libvirt.sh and compare-libvirt.sh.
#
# A libvirtd of our own for scripts/libvirt.sh: its packages and other
# prerequisites, what of the host must stay unchanged, and the daemon
# itself (started in a private mount namespace over the folders in
# $LV/root, stopped by its PID), with virsh pointed at it.  Sourced by
# scripts/libvirt.sh, not run; it uses that script's LV, R, GUESTS,
# QEMU, WRAPPER and LOGS.
# The daemon and client: LIBVIRTD and VIRSH, set by the sourcing script
# before it sources this file (default: the packaged /usr/sbin/libvirtd
# and virsh; scripts/libvirt-native.sh gives the patched build's).
# shellcheck shell=bash
LIBVIRTD=${LIBVIRTD:-/usr/sbin/libvirtd}
VIRSH=${VIRSH:-virsh}

# install_pkgs: install the libvirt group of scripts/deps.sh when missing;
# empty output when they are there
install_pkgs() {
    "$ROOT/scripts/deps.sh" libvirt >"$LOGS/libvirt-apt.log" 2>&1 ||
        echo "scripts/deps.sh libvirt could not install libvirt (log: $LOGS/libvirt-apt.log)"
}

prereq_reason() {
    local why
    [ "$(id -u)" = 0 ] || { echo "needs root (libvirtd's system driver in a private mount namespace)"; return; }
    command -v unshare >/dev/null || { echo "no unshare (util-linux)"; return; }
    unshare -m true 2>/dev/null || { echo "cannot create a mount namespace here (unshare -m failed)"; return; }
    why=$(install_pkgs)
    [ -z "$why" ] || { echo "$why"; return; }
    if [ ! -x /usr/sbin/libvirtd ] || ! command -v virsh >/dev/null; then
        echo "libvirtd or virsh missing after scripts/deps.sh libvirt"
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
    if our_pid "$pid" "$LIBVIRTD"; then
        say "libvirt: stopping the libvirtd a previous run left (pid $pid)"
        stop_pid "$pid"
    fi
    for f in "$R"/run/libvirt/qemu/*.pid; do
        [ -e "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        # QEMU's environment is libvirt's, not ours: one of our domains
        case $(readlink "/proc/$pid/exe" 2>/dev/null) in
        */qemu-system-x86_64 | */ld-linux-x86-64.so.2)
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

vsh() {
    XDG_CONFIG_HOME=$LV/client XDG_CACHE_HOME=$LV/client XDG_RUNTIME_DIR=$LV/client \
        timeout 90 "$VIRSH" -q -c "qemu:///system?socket=$R/run/libvirt/libvirt-sock" "$@"
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
            exec "$2"' sh "$R" "$LIBVIRTD" </dev/null >"$LV/libvirtd.out" 2>&1 9>&- &
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
