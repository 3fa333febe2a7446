# The libvirt road's domains: define, start, check, judge.
# Called by: sourced by libvirt.sh and compare-libvirt.sh.
#
# The domains of scripts/libvirt.sh: contrib/libvirt/'s examples with
# their placeholders filled in, defined, started, checked through "info
# numa" and the domain log, left to boot, and judged by their serial log;
# or refused, with the line QEMU or the wrapper printed.  Sourced by
# scripts/libvirt.sh, not run; it uses that script's pass/fail/indent, its
# paths and settings, and vsh from scripts/libvirtd-private.sh.
# shellcheck shell=bash

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

# memdev_view NAME: from QMP query-memory-devices, the count of devices
# on node 1 and their types, as "COUNT|TYPE TYPE..."
memdev_view() {
    local out
    out=$(vsh qemu-monitor-command "$1" '{"execute":"query-memory-devices"}' 2>&1) || { echo "error: $out"; return; }
    python3 -c 'import json, sys
d = [m for m in json.loads(sys.argv[1])["return"] if m["data"].get("node") == 1]
print("%d|%s" % (len(d), " ".join(m["type"] for m in d)))' "$out" 2>&1
}

# mem_read NAME: virsh dominfo and dommemstat of the running domain NAME
# into $LV/mem/NAME.dominfo, .dommemstat (read before the guest runs: a
# guest that powers off has no figures)
mem_read() {
    mkdir -p "$LV/mem"
    vsh dominfo "$1" >"$LV/mem/$1.dominfo" 2>&1
    vsh dommemstat "$1" >"$LV/mem/$1.dommemstat" 2>&1
}

# mem_figures NAME: "Max memory M KiB, Used memory U KiB; dommemstat
# actual A" (what mem_read read, compact)
mem_figures() {
    local f=$LV/mem/$1 max used ms
    max=$(sed -n 's/^Max memory: *\([0-9]* KiB\)/\1/p' "$f.dominfo")
    used=$(sed -n 's/^Used memory: *\([0-9]* KiB\)/\1/p' "$f.dominfo")
    ms=$(grep -E '^(actual|rss|last_update|swap_in|available|usable) ' "$f.dommemstat" | paste -sd, | sed 's/,/, /g')
    printf 'dominfo Max memory %s, Used memory %s; dommemstat %s\n' "${max:-?}" "${used:-?}" "${ms:-(nothing)}"
}

# mem_check WHAT NAME EXAMPLE XML [SERIAL-LOG]: tests/libvirt/memfigures.py
# on what mem_read read for NAME, against the XML it was defined from and
# the guest's report; one check, PASS (saying which figures are known
# limitations, and why) or FAIL.  Sets mem_out (the checker's output).
mem_check() {
    local what=$1 name=$2 ex=$3 xml=$4 serial=${5:-} known
    local -a opt=()
    [ -z "$serial" ] || opt=(--serial "$serial")
    if mem_out=$(python3 "$ROOT/tests/libvirt/memfigures.py" --xml "$xml" --example "$ex"             --dominfo "$LV/mem/$name.dominfo" --dommemstat "$LV/mem/$name.dommemstat"             --known "$ROOT/tests/libvirt/known-limits.tsv" "${opt[@]}" 2>&1); then
        known=$(grep -c '^KNOWN' <<<"$mem_out")
        if [ "$known" = 0 ]; then
            pass "$what: libvirt's memory figures = what the guest was given: $(mem_figures "$name")"
        else
            pass "$what: libvirt's memory figures: $(mem_figures "$name"); $known of them wrong for a known, listed reason (tests/libvirt/known-limits.tsv, KNOWN below)"
        fi
    else
        fail "$what: libvirt's memory figures disagree with what the guest was given: $(mem_figures "$name")"
    fi
    printf '%s\n' "$mem_out" | indent
}

# --- the examples: started, checked, left booting ---------------------------------

# route NAME EXAMPLE EMULATOR NODES TYPES CHECKS...: define and start
# paused, "info numa" must show NODES nodes with TYPES ("1:spm 2:reserved"),
# print the command line, let the guest boot (booted checks its CHECKS).
# route_view=memdevs: QMP query-memory-devices instead must list NODES
# devices of the type TYPES on node 1 (memdev_view).
# route_sed: sed expressions render applies to the example (default
# none); route_fw: the guest's firmware, as the results name it
declare -A boot_checks=() boot_t0=() boot_xml=() boot_fw=()
route_sed=() route_fw=OVMF route_view=numa
route() {
    local r=$1 xml=$2 emu=$3 nodes=$4 types=$5 name=memmap-$1 file out got
    shift 5
    if ! file=$(render "$xml" "$name" "$emu" "${route_sed[@]}"); then
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
    if [ "$route_view" = memdevs ]; then
        got=$(memdev_view "$name")
        if [ "$got" = "$nodes|$types" ]; then
            pass "$r: virsh start + query-memory-devices: $nodes device(s) $types, on node 1"
        else
            fail "$r: query-memory-devices shows '$got', expected '$nodes|$types'"
        fi
    else
        got=$(numa_view "$name")
        if [ "$got" = "$nodes|$types" ]; then
            pass "$r: virsh start + info numa: $nodes nodes; memmap-type $types; the others normal (no memmap-type line)"
        else
            fail "$r: info numa shows '$got', expected '$nodes|$types'"
        fi
    fi
    mem_read "$name"
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
    boot_xml[$r]="$xml $file"
    boot_fw[$r]=$route_fw
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
        pass "$r: ${boot_fw[$r]} Linux guest through libvirt (off after $((SECONDS - boot_t0[$r])) s): ${boot_checks[$r]}"
    else
        fail "$r: guest checks failed (serial log: $log): ${boot_checks[$r]}"
    fi
    printf '%s\n' "$out" | indent
    # shellcheck disable=SC2086 # example and rendered file, two words
    mem_check "$r" "$name" ${boot_xml[$r]} "$log"
}

# start_fails NAME WHAT XML EMULATOR [SED...]: the example changed by SED,
# defined as NAME, must fail "virsh start"; sets $out (virsh's output),
# else records a failed check and returns 1
start_fails() {
    local name=$1 what=$2 xml=$3 emu=$4 file
    shift 4
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
}

# refused NAME WHAT PATTERN XML EMULATOR [SED...]: "virsh start" must fail
# and the program's stderr in the domain log have a line matching PATTERN
# (grep -E); sets $line (that line) and $hint (the next one).  The log,
# not virsh's message: when the program exits at once, libvirt may report
# only that its monitor connection was refused.
refused() {
    local name=$1 what=$2 pat=$3 xml=$4 emu=$5 err
    shift 5
    line="" hint=""
    start_fails "$name" "$what" "$xml" "$emu" "$@" || return 1
    err=$(qemu_stderr "$name")
    # only what the wrapper or QEMU said, not the log's time stamp
    line=$(grep -E -m1 "$pat" <<<"$err" | grep -oE '(qemu-system-x86_64|qemu-memmap-wrapper): .*')
    if [ -z "$line" ]; then
        fail "$what: virsh start failed, but $(domlog "$name") has no line /$pat/; virsh said:"
        printf '%s\n' "$out" | indent
        return 1
    fi
    hint=$(grep -E -A1 -m1 "$pat" <<<"$err" | sed -n 2p)
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
