#!/bin/bash
# Unit test of contrib/libvirt/qemu-memmap-wrapper, without libvirt: the
# real QEMU is a stand-in that records its arguments, so each case
# compares exactly what QEMU would have been given.
#
#   tests/libvirt/wrapper-test.sh [WRAPPER]
#
# Prints one "ok"/"FAIL" line per case; the last line is
# "wrapper-test: N cases, N failed"; exits 1 if any failed.
# Scratch files go to $CACHE/libvirt/unit (CACHE as in scripts/lib.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE=${CACHE:-$root/.cache}
T=$CACHE/libvirt/unit
rm -rf "$T"
mkdir -p "$T/bin"
# run under its installed name, which starts its messages
W=$T/bin/qemu-memmap-wrapper
cp "${1:-$root/contrib/libvirt/qemu-memmap-wrapper}" "$W" || exit 1
chmod 755 "$W"

# the stand-in QEMU: one argument per NUL-terminated record in $T/argv
cat >"$T/fake-qemu" <<EOF
#!/bin/bash
printf '%s\\0' "\$@" >"$T/argv"
EOF
chmod 755 "$T/fake-qemu"
export QEMU_MEMMAP_REAL_QEMU=$T/fake-qemu
unset QEMU_NUMA_MEMMAP_TYPE

n=0 nfail=0
ok() { n=$((n + 1)); echo "ok    $*"; }
bad() { n=$((n + 1)); nfail=$((nfail + 1)); echo "FAIL  $*"; }

# run ENV-VALUE|- ARGS...: the wrapper with QEMU_NUMA_MEMMAP_TYPE set
# (unless "-"); sets rc, err (its stderr), got (QEMU's argv, one per line,
# or "(not run)")
run() {
    local v=$1
    shift
    rm -f "$T/argv"
    if [ "$v" = - ]; then
        "$W" "$@" 2>"$T/err" >"$T/out"
    else
        QEMU_NUMA_MEMMAP_TYPE=$v "$W" "$@" 2>"$T/err" >"$T/out"
    fi
    rc=$?
    err=$(cat "$T/err")
    if [ -e "$T/argv" ]; then
        got=$(tr '\0' '\n' <"$T/argv")
    else
        got="(not run)"
    fi
}

# expect_args NAME ENV-VALUE|- WANTED-ARGS... -- ARGS...: QEMU runs with
# exactly WANTED-ARGS
expect_args() {
    local name=$1 v=$2 want=()
    shift 2
    while [ "$1" != -- ]; do want+=("$1"); shift; done
    shift
    run "$v" "$@"
    # compared NUL-separated: exact even for arguments with line breaks
    printf '%s\0' "${want[@]}" >"$T/want"
    if [ "$rc" = 0 ] && cmp -s "$T/want" "$T/argv"; then
        ok "$name"
    else
        bad "$name: rc=$rc stderr='$err'"
        diff <(tr '\0' '\n' <"$T/want") <(printf '%s\n' "$got") | sed 's/^/        /'
    fi
}

# expect_refusal NAME ENV-VALUE ARGS...: exit 1, one stderr line naming
# QEMU_NUMA_MEMMAP_TYPE (or the QEMU variable), QEMU not run
expect_refusal() {
    local name=$1 v=$2
    shift 2
    run "$v" "$@"
    if [ "$rc" = 1 ] && [ "$got" = "(not run)" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
        [[ $err == qemu-memmap-wrapper:*QEMU_* ]]; then
        ok "$name: $err"
    else
        bad "$name: rc=$rc QEMU ran: ${got:0:40} stderr: $err"
    fi
}

# shellcheck disable=SC2054 # the commas are QEMU's
L=(-name guest=g -numa node,nodeid=0,cpus=0,memdev=ram-node0
   -numa node,nodeid=1,memdev=ram-node1 -numa dist,src=0,dst=1,val=20
   -object '{"qom-type":"memory-backend-ram","id":"ram-node1","size":1073741824}')

# passed through untouched
expect_args "no variable: every argument untouched" - \
    "${L[@]}" '' 'a b' $'x\ny' -numa -- "${L[@]}" '' 'a b' $'x\ny' -numa
expect_args "-h goes to QEMU" - -h -- -h
expect_args "--help with other arguments goes to QEMU" - --help -M none -- --help -M none
run - --help
if [ "$rc" = 0 ] && [ "$got" = "(not run)" ] && grep -q QEMU_NUMA_MEMMAP_TYPE "$T/out"; then
    ok "--help alone: the wrapper's usage, QEMU not run"
else
    bad "--help alone: rc=$rc QEMU: $got"
fi

# rewritten
expect_args "1:spm: node 1 only" 1:spm \
    -name guest=g -numa node,nodeid=0,cpus=0,memdev=ram-node0 \
    -numa node,nodeid=1,memdev=ram-node1,memmap-type=spm -numa dist,src=0,dst=1,val=20 \
    -object '{"qom-type":"memory-backend-ram","id":"ram-node1","size":1073741824}' -- "${L[@]}"
expect_args "0:normal,1:reserved" 0:normal,1:reserved \
    -name guest=g -numa node,nodeid=0,cpus=0,memdev=ram-node0,memmap-type=normal \
    -numa node,nodeid=1,memdev=ram-node1,memmap-type=reserved -numa dist,src=0,dst=1,val=20 \
    -object '{"qom-type":"memory-backend-ram","id":"ram-node1","size":1073741824}' -- "${L[@]}"
expect_args "JSON form" 1:spm \
    -numa '{"type":"node","nodeid":0}' -numa '{"type":"node","nodeid":1,"memdev":"m1","memmap-type":"spm"}' -- \
    -numa '{"type":"node","nodeid":0}' -numa '{"type":"node","nodeid":1,"memdev":"m1"}'
expect_args "escaped comma in a value" 1:spm \
    -numa 'node,memdev=a,,b,nodeid=1,memmap-type=spm' -- -numa 'node,memdev=a,,b,nodeid=1'
expect_args "--numa and type=node" 2:reserved \
    --numa type=node,nodeid=2,memmap-type=reserved -- --numa type=node,nodeid=2
expect_args "a node id like 1 inside another value is not node 1" 1:spm \
    -numa node,nodeid=11 -numa node,nodeid=1,memmap-type=spm -- -numa node,nodeid=11 -numa node,nodeid=1
run 1:spm "${L[@]}"
if [ "$err" = "qemu-memmap-wrapper: -numa node,nodeid=1,memdev=ram-node1,memmap-type=spm" ]; then
    ok "the change is reported on stderr (the domain log)"
else
    bad "stderr after a change: '$err'"
fi

# refused
expect_refusal "empty value" '' "${L[@]}"
expect_refusal "unknown type" 1:spmm "${L[@]}"
expect_refusal "no type" 1 "${L[@]}"
expect_refusal "not a number" x:spm "${L[@]}"
expect_refusal "space" ' 1:spm' "${L[@]}"
expect_refusal "trailing comma" 1:spm, "${L[@]}"
expect_refusal "leading comma" ,1:spm "${L[@]}"
expect_refusal "double comma" 0:normal,,1:spm "${L[@]}"
expect_refusal "line break" $'1:spm\n0:normal' "${L[@]}"
expect_refusal "node listed twice" 1:spm,1:reserved "${L[@]}"
expect_refusal "node not on the command line" 3:spm "${L[@]}"
expect_refusal "node already has a memmap-type" 1:spm -numa node,nodeid=1,memmap-type=reserved
expect_refusal "JSON node already has a memmap-type" 1:spm -numa '{"type":"node","nodeid":1,"memmap-type":"spm"}'
expect_refusal "two -numa node with the same id" 1:spm -numa node,nodeid=1 -numa node,nodeid=1
expect_refusal "a -numa node without nodeid" 1:spm -numa node,mem=1G -numa node,nodeid=1
QEMU_MEMMAP_REAL_QEMU=$T/missing expect_refusal "real QEMU missing" - -M none
QEMU_MEMMAP_REAL_QEMU=$W expect_refusal "real QEMU is the wrapper itself" - -M none

# the real QEMU through the .real link (what libvirt's probing uses)
ln -s "$T/fake-qemu" "$W.real"
rm -f "$T/argv"
if env -u QEMU_MEMMAP_REAL_QEMU "$W" -M none 2>"$T/err" &&
    [ "$(tr '\0' ' ' <"$T/argv")" = "-M none " ]; then
    ok "QEMU from the .real link next to the wrapper"
else
    bad "QEMU from the .real link: $(cat "$T/err")"
fi

echo "wrapper-test: $n cases, $nfail failed"
[ "$nfail" = 0 ]
