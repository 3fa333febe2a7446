#!/bin/bash
# Upstream's -device sp-mem boots the project's guest.
# Called by: make spmem, check.sh (step spmem), the pipeline.
#
# Smoke check of upstream QEMU's sp-mem device (Debian sid's QEMU 11.1.3,
# scripts/spmem-qemu.sh): boot the project's guest (bookworm's 6.1
# kernel, the test initramfs, sid's OVMF, as in the guest scenarios)
# with 2 GiB on node 0 and one 1 GiB sp-mem device on node 1, and check
# that the guest makes it a dax device on node 1.  The device's address
# comes from QEMU (query-memory-devices on the running guest), not from
# a guess.  One PASS/FAIL/SKIP line per check; the last line is
#   spmem: N passed, N failed, N skipped
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

S=$CACHE/spmem
OUT=$S/smoke
SIZE=$((1 << 30))
TIMEOUT=${SPMEM_TIMEOUT:-60}

mkdir -p "$OUT"
export ROOT
if ! QEMU=$("$ROOT/scripts/spmem-qemu.sh" 2>"$OUT/fetch.err"); then
    tail -5 "$OUT/fetch.err"
    fail "sid QEMU fetched and unpacked (scripts/spmem-qemu.sh failed)"
    skip "guest boot: no sid QEMU"
    finish spmem
fi
ver=$("$QEMU" -version 2>&1 | head -1)
if [[ $ver = *"11.1.3"* ]]; then
    pass "sid QEMU runs from the cache without touching the host: $ver"
else
    fail "sid QEMU version: $ver"
fi
props=$("$QEMU" -device sp-mem,help 2>&1)
if grep -q 'memdev=' <<<"$props" && grep -q 'node=' <<<"$props"; then
    pass "-device sp-mem exists, properties: $(sed -n 's/^ *\([a-z-]*\)=.*/\1/p' <<<"$props" | paste -sd,)"
else
    fail "-device sp-mem,help: $props"
fi

[ -f "$CACHE/guest/assets.env" ] || "$ROOT/scripts/guest-assets.sh" >"$OUT/assets.log" 2>&1
# shellcheck disable=SC1091
. "$CACHE/guest/assets.env" 2>/dev/null || true
if [ ! -f "${GUEST_KERNEL_6_1:-}" ] || [ ! -f "${GUEST_OVMF_CODE:-}" ]; then
    skip "guest boot: no guest assets (scripts/guest-assets.sh failed, see $OUT/assets.log)"
    finish spmem
fi

log=$OUT/guest.log
rm -f "$log" "$OUT/OVMF_VARS.fd" "$OUT/qmp.json"
cp "$GUEST_OVMF_VARS" "$OUT/OVMF_VARS.fd"
# shellcheck disable=SC2054  # commas inside option values
args=(-machine q35 -cpu qemu64 -smp 1 -m 2G,maxmem=4G
      -object memory-backend-ram,id=m0,size=2G
      -object "memory-backend-ram,id=sp0,size=$SIZE"
      -numa node,nodeid=0,memdev=m0,cpus=0 -numa node,nodeid=1
      -device sp-mem,id=spm0,memdev=sp0,node=1
      -drive "if=pflash,format=raw,unit=0,readonly=on,file=$GUEST_OVMF_CODE"
      -drive "if=pflash,format=raw,unit=1,file=$OUT/OVMF_VARS.fd"
      -kernel "$GUEST_KERNEL_6_1" -initrd "$GUEST_INITRD_6_1"
      -append "console=ttyS0 panic=-1 oops=panic efi=debug"
      -no-reboot -chardev "file,id=con,path=$log" -serial chardev:con)
# the same by hand (without the QMP socket qemulib adds)
printf '%q ' "$QEMU" -accel tcg -nodefaults -display none "${args[@]}" > "$OUT/cmdline"
t0=$(date +%s)
# Boot under tests/lib/qemulib.py (it adds -accel, -nodefaults, -display
# none and a QMP socket): read where sp-mem put the device while the
# guest runs, then wait for the guest to power off.
python3 - "$QEMU" "$TIMEOUT" "$OUT/qmp.json" "${args[@]}" <<'PY' >"$OUT/run.log" 2>&1
import json, os, subprocess, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "lib"))
from qemulib import Qemu
qemu, timeout, out, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
vm = Qemu(qemu, args, accel="tcg", timeout=timeout)
vm.start()
res = {"memory-devices": vm.qmp("query-memory-devices")}
try:
    res["exit"] = vm.proc.wait(timeout)
except subprocess.TimeoutExpired:
    res["exit"] = "timeout"
vm.stop()
res["stderr"], res["cmd"] = vm.stderr, vm.cmd
json.dump(res, open(out, "w"), indent=1)
PY
t1=$(date +%s)
if [ ! -s "$OUT/qmp.json" ]; then
    fail "guest boot: QEMU did not start (see $OUT/run.log)"
    tail -5 "$OUT/run.log"
    finish spmem
fi
read -r exitcode start dsize kind dnode < <(python3 - "$OUT/qmp.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
devs = [d for d in r["memory-devices"] if d["type"] == "sp-mem"]
d = devs[0]["data"] if devs else {}
print(r["exit"], d.get("addr", "-"), d.get("size", "-"),
      devs[0]["type"] if devs else "-", d.get("node", "-"))
PY
)
if [ "$kind" = sp-mem ] && [ "$dsize" = "$SIZE" ] && [ "$dnode" = 1 ]; then
    pass "query-memory-devices: kind sp-mem, node 1, addr $(printf '0x%x' "$start"), size $(printf '0x%x' "$dsize")"
else
    fail "query-memory-devices: kind=$kind node=$dnode addr=$start size=$dsize ($OUT/qmp.json)"
    finish spmem
fi
if [ "$exitcode" = 0 ]; then
    pass "guest powered off by itself in $((t1 - t0)) s (limit ${TIMEOUT} s)"
else
    fail "guest did not power off (exit: $exitcode, limit ${TIMEOUT} s; log $log)"
fi

PARSER=$ROOT/tests/guest/parse_report.py
if python3 "$PARSER" "$log" "done" "spm:1:$start:$SIZE" >"$OUT/parse.out" 2>&1; then
    pass "guest report: $(sed 's/^ *ok *//' "$OUT/parse.out" | paste -sd';')"
else
    fail "guest report: $(grep -v '^ok' "$OUT/parse.out" | paste -sd';')"
fi
dax=$(grep -a '^@@ dax ' "$log" | tr -d '\r' | head -1)
if [[ $dax = *target_node=1* ]]; then
    pass "guest dax line: ${dax#@@ }"
else
    fail "guest dax line on node 1: '${dax:-none}'"
fi
# the e820 type of the sp-mem range, in QEMU's etc/e820 and the guest's map
python3 - "$log" "$start" "$SIZE" >"$OUT/e820.out" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "guest"))
import parse_report as p
rep, start, size = p.parse(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ph = rep.phases.get("boot") or next(iter(rep.phases.values()))
fw = [e for e in (ph.fwcfg or []) if e[0] == start]
print("fwcfg", " ".join("0x%x:0x%x:0x%x" % e for e in fw) or "none")
PY
fw=$(sed -n 's/^fwcfg //p' "$OUT/e820.out")
case $fw in
*:0xefffffff) pass "QEMU's etc/e820 entry for the device: $fw (type 0xefffffff, soft reserved)" ;;
*) fail "QEMU's etc/e820 entry for the device: ${fw:-$(cat "$OUT/e820.out")}" ;;
esac
hi=$(printf '%x' $((start + SIZE - 1)))
gl=$(grep -a -i "^@@ e820 .*$hi\]" "$log" | tr -d '\r' | head -1)
if [[ $gl = *"soft reserved"* ]]; then
    pass "guest's BIOS-e820 line: ${gl#@@ e820 }"
else
    el=$(grep -a -i "^@@ efi .*${hi}\]" "$log" | tr -d '\r' | head -1)
    if [ -n "$el" ]; then
        pass "guest's e820 has no BIOS-e820 line for it (OVMF boot); its EFI map: ${el#@@ efi }"
    else
        fail "guest's map has no soft reserved entry ending at 0x$hi"
    fi
fi
echo "(command: $OUT/cmdline; log: $log; wall time $((t1 - t0)) s)"
finish spmem
