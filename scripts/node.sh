#!/bin/bash
# Fetch Debian trixie's Node.js 20.19 and npm into .cache/node/; print node's path.
# Called by: ci-local.sh, ci-validate.sh.
#
# gitlab-ci-local, pinned in package.json, needs Node.js >= 20.19;
# bookworm's nodejs is 18 and a pristine bookworm has none.  Debian
# trixie's nodejs and npm and their whole run-time dependency closure
# are pinned in node.lock, downloaded with the private apt
# configuration, checked against the sha256 there and unpacked into
# .cache/node/root by scripts/closure.sh (as spmem-qemu.sh does with
# sid's QEMU).  Nothing goes into the system but patchelf (bookworm's,
# scripts/deps.sh's group node).
#
# .cache/node/bin/node is trixie's node with its ELF interpreter and
# rpath (DT_RPATH, which also serves libnode's own libraries) set to
# trixie's loader and libraries in the root (patchelf): it runs as an
# ordinary binary, so process.execPath is node itself and whatever
# re-spawns node gets this one (through its loader, process.execPath
# would be the loader).  Its paths are absolute: moving .cache/ makes
# it again.
#
# npm: trixie's npm 9.2 from the same closure, run by that node
# (.cache/node/bin/npm, a wrapper that sets NODE_PATH to the root's
# /usr/share/nodejs, where Debian's npm finds its modules).  Not
# bookworm's npm: it cannot be installed beside a Node.js from another
# repository (nodesource's nodejs conflicts with it), and it would put
# bookworm's node 18 and some 300 packages into the system.  Not npm
# from the npm registry: that would be a second kind of download to pin
# and verify, where this one is pinned by sha256 like every other.
#
#   scripts/node.sh           fetch, verify, unpack; print .cache/node/bin/node
#   scripts/node.sh --repin   resolve the closure again and rewrite node.lock
# .cache/node/bin/ (node and npm) is meant to go first on PATH.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

LOCK=$ROOT/node.lock
S=$CACHE/node
bin=$S/bin

case ${1:-} in
--repin) [ $# = 1 ] || die "usage: $0 [--repin]" ;;
'') ;;
*) die "usage: $0 [--repin]" ;;
esac
r=$("$ROOT/scripts/closure.sh" "$LOCK" "$S" "$@")
stamp="$(cat "$r/.lock") $r $(find /usr/local/share/ca-certificates -name '*.crt' -type f -exec cat {} + 2>/dev/null |
    sha256sum | cut -c1-16)"
# where node's externalized builtins are copied (see below): a short path,
# one per closure, root and user
builtins=/tmp/node-$(printf '%s %s\n' "$stamp" "$(id -u)" | sha256sum | cut -c1-12)

# ok NODE: NODE runs, is >= 20.19 and is its own process.execPath (node
# aborts when its builtins are missing: the group keeps bash's "Aborted"
# quiet)
ok() {
    { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number);
             process.exit((a > 20 || (a === 20 && b >= 19)) && process.execPath === process.argv[1] ? 0 : 1)' \
        "$(realpath -m "$1")"; } 2>/dev/null
}

exec 8>"$S/.bin.lock"
flock 8
if [ "$(cat "$bin/.stamp" 2>/dev/null)" != "$stamp" ] || ! ok "$bin/node"; then
    "$ROOT/scripts/deps.sh" node
    foreign=
    ld=$r/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
    libs=$bin:$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu
    [ -f "$ld" ] || die "no loader at $ld"
    [ -f "$r/usr/share/nodejs/npm/bin/npm-cli.js" ] || die "no npm in $r"
    say "node: $bin/node, trixie's node with its loader and libraries in $r"
    rm -rf "$bin.tmp"; mkdir -p "$bin.tmp"
    cp "$r/usr/bin/node" "$r/usr/lib/x86_64-linux-gnu/libnode.so.115" "$bin.tmp/"
    run_logged "$LOGS/node-patchelf.log" patchelf --set-interpreter "$ld" \
        --force-rpath --set-rpath "$libs" "$bin.tmp/node"
    # Debian's libnode reads six of its builtins (acorn, undici, ...) from
    # files whose absolute paths it has built in, /usr/share/nodejs/...,
    # and aborts without them.  The copy in bin/ has those strings
    # rewritten in place (same length, NUL-padded) to copies in $builtins,
    # a path short enough to fit (perl: perl-base is in every Debian)
    if [ -L "$builtins" ] || { [ -e "$builtins" ] && [ ! -O "$builtins" ]; }; then
        die "$builtins exists and is not this user's directory; remove it"
    fi
    rm -rf "$builtins"; mkdir -m 700 "$builtins"
    i=0
    while IFS= read -r f; do
        i=$((i + 1))
        cp "$r$f" "$builtins/$i"
        from=$f to=$builtins/$i LC_ALL=C perl -0777 -pi -e '
            my ($f, $t) = @ENV{"from", "to"};
            my $n = s/\0\Q$f\E\0/"\0" . $t . ("\0" x (length($f) - length($t))) . "\0"/ge;
            $n == 1 or die "$f: $n matches\n"' "$bin.tmp/libnode.so.115"
    done < <(LC_ALL=C perl -0777 -ne 'print "$1\n" while /\0(\/usr\/share\/nodejs\/[^\0"]+)(?=\0)/g' \
        "$bin.tmp/libnode.so.115")
    [ "$i" -gt 0 ] || die "no /usr/share/nodejs/ builtin path found in libnode.so.115"
    # npm's certificate authorities when the host has no bundle (a
    # pristine bookworm has no ca-certificates): the closure's, and those
    # the machine's administrator added in /usr/local/share/ca-certificates
    # (as Debian's update-ca-certificates would; e.g. a TLS proxy's)
    cat "$r"/usr/share/ca-certificates/mozilla/*.crt > "$bin.tmp/ca-certificates.crt"
    find /usr/local/share/ca-certificates -name '*.crt' -type f -exec cat {} + \
        >>"$bin.tmp/ca-certificates.crt" 2>/dev/null || true
    cat > "$bin.tmp/npm" <<EOF
#!/bin/sh
# generated by scripts/node.sh from node.lock: trixie's npm, run with
# trixie's node ($bin/node); Debian's npm finds its modules in
# /usr/share/nodejs, here the root's
NODE_PATH='$r/usr/share/nodejs:$r/usr/lib/x86_64-linux-gnu/nodejs:$r/usr/lib/nodejs'
export NODE_PATH
# the host's certificate authorities, else (no ca-certificates here) trixie's
[ -e /etc/ssl/certs/ca-certificates.crt ] || { NODE_EXTRA_CA_CERTS='$bin/ca-certificates.crt'; export NODE_EXTRA_CA_CERTS; }
exec '$bin/node' '$r/usr/share/nodejs/npm/bin/npm-cli.js' "\$@"
EOF
    chmod 755 "$bin.tmp/npm"
    rm -rf "$bin"; mv "$bin.tmp" "$bin"
    # every library node loads comes from the root (libnode from bin/),
    # none from the host
    trace=$(LD_TRACE_LOADED_OBJECTS=1 "$bin/node" 2>&1) || true
    if ! grep -q -F "libnode.so.115 => $bin/libnode.so.115 " <<<"$trace" ||
        foreign=$(grep '=>' <<<"$trace" | grep -v -F -e "=> $r/" -e "=> $bin/"); then
        rm -rf "$bin"
        die "trixie's node would load libraries from outside $r: ${foreign:-$trace}"
    fi
    ok "$bin/node" || die "$bin/node does not run as Node.js >= 20.19 with process.execPath itself"
    "$bin/npm" --version >"$LOGS/node-npm.log" 2>&1 ||
        { cat "$LOGS/node-npm.log" >&2; die "trixie's npm does not run (log: $LOGS/node-npm.log)"; }
    echo "$stamp" >"$bin/.stamp"
fi
printf '%s\n' "$bin/node"
