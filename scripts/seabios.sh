#!/bin/bash
# Build SeaBIOS with (or without, or with part of) the SeaBIOS series.
# Called by: make seabios, check.sh, guest-run.sh, migrate.sh, pciwin.sh, seabios-negative.sh, the pipeline.
#
# `make seabios`: build SeaBIOS from the pinned pristine source
# (seabios.lock) with the companion series patches/seabios/ applied,
# the way QEMU builds the images it ships: bios-256k.bin (pc and q35)
# with roms/config.seabios-256k and bios.bin (isapc) with
# roms/config.seabios-128k, both taken from the pinned QEMU base.
#
#   scripts/seabios.sh           build (or reuse) the patched images
#   scripts/seabios.sh --stock   the same without the series, for
#                                comparisons ("does the series matter?")
#   scripts/seabios.sh --variant N   the series without one patch or its
#                                rule (tests/mutate/seabios_variants.py),
#                                for scripts/seabios-negative.sh
#
# Prints the directory that holds bios.bin and bios-256k.bin (a variant:
# bios-256k.bin only) on stdout.
# Results are cached by the hash of every input (pins, patches, configs,
# this script, the compiler), in $CACHE/seabios/out/; a second run with
# the same inputs builds nothing.  Logs: $CACHE/logs/seabios-*.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

mode=patched variant=
V=$ROOT/tests/mutate/seabios_variants.py
case "${1:-}" in
--stock) mode=stock ;;
--variant) variant=${2:?--variant needs a number}; mode=variant-$variant
    [[ $variant =~ ^[0-9]+$ ]] && [ "$variant" -lt "$(python3 "$V" count)" ] ||
        die "--variant: no variant $variant in tests/mutate/seabios_variants.py" ;;
"") ;;
*) die "usage: $0 [--stock | --variant N]" ;;
esac

SB=$CACHE/seabios
qtag=$(lock base_tag)   # the QEMU base: its roms/ holds the build configs
SERIES=seabios "$ROOT/scripts/fetch-base.sh"
"$ROOT/scripts/fetch-base.sh"
configs=(seabios-256k:bios-256k.bin seabios-128k:bios.bin)
# a variant is booted on q35 only: bios-256k.bin
[ -z "$variant" ] || configs=(seabios-256k:bios-256k.bin)
images=("${configs[@]#*:}")

# key: hash of everything the images depend on
key=$( {
    echo "$mode"
    cat "$ROOT/seabios.lock" "$0"
    [ $mode = stock ] || series_hash seabios
    [ -z "$variant" ] || cat "$V"
    for c in "${configs[@]}"; do
        git --git-dir="$CACHE/base.git" show "$qtag:roms/config.${c%%:*}"
    done
    gcc --version | head -1; ld --version | head -1
} | sha256sum | cut -c1-16)
out=$SB/out/$mode-$key
if [ -s "$out/SHA256SUMS" ]; then
    say "seabios: $mode images up to date (${out#"$ROOT"/})"
    printf '%s\n' "$out"
    exit 0
fi

src=$SB/src-$mode
log=$LOGS/seabios-$mode.log
: >"$log"
if [ $mode != stock ]; then
    # the same git am as `make seabios-tree`, into a tree of our own
    SERIES=seabios "$ROOT/scripts/apply.sh" "$src" --force >>"$log" 2>&1 ||
        { tail -20 "$log" >&2; die "the SeaBIOS series does not apply (log: $log)"; }
    extra=-memmap-type-v$(lock series_version seabios)
    if [ -n "$variant" ]; then
        python3 "$V" apply "$variant" "$src" >>"$log" 2>&1 ||
            { tail -5 "$log" >&2; die "variant $variant does not apply (log: $log)"; }
        extra+=-variant$variant
    fi
else
    rm -rf "$src"
    git clone -q --no-checkout "$CACHE/seabios-base.git" "$src"
    git -C "$src" checkout -q -f -B stock "$(lock base_tag seabios)"
    extra=-stock
fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
for c in "${configs[@]}"; do
    cfg=${c%%:*} img=${c#*:}
    b=$SB/build-$mode/$cfg
    rm -rf "$b"; mkdir -p "$b"
    git --git-dir="$CACHE/base.git" show "$qtag:roms/config.$cfg" >"$b/.config"
    say "seabios: building $img ($mode, roms/config.$cfg; log: ${log#"$ROOT"/})"
    for target in oldnoconfig all; do
        # PYTHON: SeaBIOS's Makefile calls "python", which a pristine
        # bookworm lacks (only python-is-python3 would add it)
        run_logged "$log.step" make -C "$src" -j"$(nproc)" PYTHON=python3 EXTRAVERSION="$extra" \
            KCONFIG_CONFIG="$b/.config" OUT="$b/" "$target"
        cat "$log.step" >>"$log"
    done
    cp "$b/bios.bin" "$out.tmp/$img"
done
rm -f "$log.step"
(cd "$out.tmp" && sha256sum "${images[@]}" >SHA256SUMS)
rm -rf "$out"; mv "$out.tmp" "$out"
say "seabios: $mode images in ${out#"$ROOT"/}: $(cut -c1-16 "$out/SHA256SUMS" | tr '\n' ' ')"
printf '%s\n' "$out"
