#!/bin/bash
# Build QEMU with the series and show memmap-type=spm in a Linux guest.
# Called by: make demo.
#
# `make demo`: build qemu-system-x86_64 with the series (and SeaBIOS with
# patches/seabios/, through guest-run.sh) and boot a Linux guest with an
# spm NUMA node twice, through OVMF and through patched SeaBIOS; show what
# the guest sees.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
src=$CACHE/demo/src; build=$CACHE/demo/build
"$ROOT/scripts/deps.sh"
say "demo: applying the series to the pristine QEMU 10.2.2"
"$ROOT/scripts/apply.sh" "$src"
say "demo: building qemu-system-x86_64 (a few minutes the first time; ccache makes it quick later)"
"$ROOT/scripts/build.sh" "$src" "$build" qemu-system-x86_64
QEMU=$build/qemu-system-x86_64 exec "$ROOT/scripts/guest-run.sh" --demo
