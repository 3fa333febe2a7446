#!/bin/bash
# Show that tcg_only makes bios-tables-test register its cases as without KVM.
# Called by: check.sh (step tcg-only).
#
#   scripts/tcg-only-test.sh BUILD
#
# BUILD holds qemu-system-x86_64, qemu-system-i386 and
# tests/qtest/bios-tables-test.  The test takes the path of tcg_only
# (lib.sh, scripts/tcg-only.sh) where /dev/kvm exists on every machine,
# with or without KVM, by making one: in private mount namespaces whose
# /dev is a new tmpfs with a few nodes (null, zero, ...), made here and
# not by tcg_only, it compares for each target the cases that
# `bios-tables-test -l` lists
#   - without /dev/kvm (the reference: a host without KVM),
#   - with a fake /dev/kvm (char 10:232 made with mknod) under tcg_only:
#     must be the reference, and
#   - with the fake /dev/kvm under the old method, /dev/null bound over
#     /dev/kvm (tcg_only until the commit that added this test; the
#     negative control, kept here only as such): it
#     must list more, the KVM-only cases, else this test cannot tell,
# and runs one KVM-only case under the old method, which must fail under
# TCG as it did.  Last, tcg_only on the host's own /dev keeps every entry
# but kvm, and the host's /dev is as before.  Needs root (mount
# namespaces); without, every check skips.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || die "usage: $0 BUILD"
build=$(cd "$1" && pwd)
for f in qemu-system-x86_64 qemu-system-i386 tests/qtest/bios-tables-test; do
    [ -x "$build/$f" ] || die "$build lacks $f"
done
if ! unshare -m --propagation unchanged true 2>/dev/null; then
    skip "tcg_only: no private mount namespace here (needs root)"
    verdict tcg-only; exit
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
host_dev() { [ -e /dev/kvm ] && echo "/dev/kvm present" || echo "no /dev/kvm"; findmnt -rn -R /dev; }
host_dev >"$tmp/host.before"
# differ A B: the lines that differ between files A and B (10 at most), indented
differ() { diff "$1" "$2" | grep '^[<>]' | head -10 | indent || true; }

# with_dev none|kvm CMD...: run CMD in a private mount namespace whose /dev
# is a new tmpfs with only null, zero, full, random, urandom, tty, shm/
# and, with kvm, kvm (char 10:232, whatever the host has)
with_dev() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    unshare -m --propagation unchanged bash -euc '
        mount --make-rprivate / 2>/dev/null || mount --make-rprivate /dev
        mount -t tmpfs -o mode=755 tmpfs /dev
        for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
            mknod -m 666 "/dev/${n%%:*}" c "$(cut -d: -f2 <<<"$n")" "${n##*:}"
        done
        mkdir -m 1777 /dev/shm
        [ "$0" = none ] || mknod -m 600 /dev/kvm c 10 232
        exec "$@"' "$@"
}
# the new method: lib.sh's tcg_only, as a command
export ROOT
new=(bash -c "$(declare -f tcg_only)"'; tcg_only "$@"' tcg_only)
# NEGATIVE CONTROL ONLY, never for running tests: the OLD tcg_only, which
# bound /dev/null over /dev/kvm.  access("/dev/kvm", R_OK | W_OK) still
# succeeds, so tests register their KVM-only cases and fail under TCG.
# (--propagation unchanged: it runs inside with_dev's private /dev.)
old=(unshare -m --propagation unchanged sh -c 'mount --bind /dev/null /dev/kvm && exec "$@"' sh)

# cases ARCH DEV NAME [RUNNER...]: the sorted cases that bios-tables-test
# lists, into $tmp/NAME (its errors: $tmp/NAME.err); its count on stdout
cases() {
    local arch=$1 dev=$2 out=$tmp/$3; shift 3
    (cd "$build" && with_dev "$dev" "$@" env QTEST_QEMU_BINARY="./qemu-system-$arch" \
        tests/qtest/bios-tables-test -l) 2>"$out.err" | { grep '^/' || true; } | sort >"$out" || true
    wc -l <"$out"
}

for arch in x86_64 i386; do
    r=$(cases "$arch" none ref) n=$(cases "$arch" kvm new "${new[@]}") o=$(cases "$arch" kvm old "${old[@]}")
    if [ "$r" = 0 ] || [ "$n" = 0 ] || [ "$o" = 0 ]; then
        fail "$arch: bios-tables-test -l listed no case: $r without /dev/kvm, $n with fake /dev/kvm + tcg_only, $o with the old method"
        grep -h -m3 -E 'ERROR|qemu|bios-tables' "$tmp/ref.err" "$tmp/new.err" "$tmp/old.err" | indent || true
        continue
    fi
    if cmp -s "$tmp/ref" "$tmp/new"; then
        pass "$arch: $n cases with fake /dev/kvm + tcg_only = $r without /dev/kvm"
    else
        fail "$arch: $n cases with fake /dev/kvm + tcg_only != $r without /dev/kvm:"
        differ "$tmp/ref" "$tmp/new"
    fi
    mapfile -t extra < <(comm -13 "$tmp/ref" "$tmp/old")
    if [ ${#extra[@]} -gt 0 ]; then
        pass "$arch: negative control: $o cases with fake /dev/kvm + old method (/dev/null bound over /dev/kvm) != $r without /dev/kvm: ${#extra[@]} KVM-only ones more (${extra[*]:0:3}...)"
    else
        fail "$arch: negative control: $o cases with fake /dev/kvm + old method (/dev/null bound over /dev/kvm), $r without /dev/kvm, none more: this test cannot tell whether /dev/kvm is hidden"
    fi
    [ "$arch" != x86_64 ] || printf '%s\n' "${extra[@]}" >"$tmp/kvm-only-x86_64"
done

# a KVM-only case under the old method: QEMU falls back to TCG and fails
# (core-count2: "APIC ID 256 requires x2APIC feature in CPU")
c=/x86_64/acpi/q35/core-count2
if ! grep -qx "$c" "$tmp/kvm-only-x86_64" 2>/dev/null; then
    skip "old method: $c is not a KVM-only case of this bios-tables-test"
else
    rc=0
    (cd "$build" && with_dev kvm "${old[@]}" env QTEST_QEMU_BINARY=./qemu-system-x86_64 \
        timeout 120 tests/qtest/bios-tables-test -p "$c") >"$tmp/run" 2>&1 || rc=$?
    why=$(grep -m1 -E 'x2APIC|Assertion' "$tmp/run" || true)
    if [ "$rc" != 0 ] && [ -n "$why" ]; then
        pass "old method: $c fails under TCG (exit $rc): $why"
    else
        fail "old method: $c did not fail as expected (exit $rc):"
        tail -5 "$tmp/run" | indent || true
    fi
fi

# on the host's own /dev: every entry (name, type) stays but kvm
entries() { find /dev -mindepth 1 -maxdepth 1 -printf '%f %y\n' | sort; }
entries | { grep -v '^kvm ' || true; } >"$tmp/host.ls"
"${new[@]}" bash -c "$(declare -f entries); entries" >"$tmp/new.ls" 2>&1 || true
if cmp -s "$tmp/host.ls" "$tmp/new.ls"; then
    pass "tcg_only on this host: /dev has its $(wc -l <"$tmp/host.ls") entries but kvm ($(head -1 "$tmp/host.before") outside)"
else
    fail "tcg_only on this host: /dev is not the host's without kvm:"
    differ "$tmp/host.ls" "$tmp/new.ls"
fi

host_dev >"$tmp/host.after"
if cmp -s "$tmp/host.before" "$tmp/host.after"; then
    pass "host /dev unchanged ($(head -1 "$tmp/host.after"), $(($(wc -l <"$tmp/host.after") - 1)) mounts under /dev)"
else
    fail "host /dev changed:"
    differ "$tmp/host.before" "$tmp/host.after"
fi
verdict tcg-only
