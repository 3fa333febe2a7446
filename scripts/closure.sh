#!/bin/bash
# Fetch the Debian packages a lock file pins and unpack them into the cache.
# Called by: spmem-qemu.sh, node.sh.
#
# The shared half of spmem-qemu.sh (spmem.lock: sid's QEMU) and node.sh
# (node.lock: trixie's Node.js and npm).  LOCKFILE names a Debian binary
# package and pins it with its whole run-time dependency closure (no
# recommends), one "deb=NAME VERSION SHA256" line a package.  The .debs
# are downloaded with the private apt configuration
# (scripts/apt-private.sh; the system's apt is never used), into
# DESTDIR/debs, checked against those sha256 and unpacked together into
# DESTDIR/root, absolute symlinks made relative inside it.  DESTDIR/root
# is unpacked again only when LOCKFILE changed (DESTDIR/root/.lock has
# the lock's hash).  Prints DESTDIR/root.
#
#   scripts/closure.sh LOCKFILE DESTDIR           fetch, verify, unpack; print the root
#   scripts/closure.sh LOCKFILE DESTDIR --repin   first resolve the closure again from
#                                                 an empty dpkg status, rewrite LOCKFILE
#
# LOCKFILE's keys: package=NAME, version=VERSION, suite=SUITE (apt -t),
# extra=PACKAGES (more names or NAME=VERSION to resolve with it: to pick
# one alternative of an or-dependency, or a second program), deb=...
# (written by --repin).  Lines starting with # are comments, kept.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# = 2 ] || [ $# = 3 ] || die "usage: $0 LOCKFILE DESTDIR [--repin]"
LOCK=$(realpath "$1")
S=$2
[ -f "$LOCK" ] || die "no $LOCK"
[ $# = 2 ] || [ "$3" = --repin ] || die "usage: $0 LOCKFILE DESTDIR [--repin]"
name=$(basename "$LOCK" .lock)
debs=$S/debs
log=$LOGS/$name-download.log
mkdir -p "$S"
S=$(realpath "$S")

# one run at a time per DESTDIR (parallel guest jobs all ask for sid's QEMU)
exec 9>"$S/.closure.lock"
flock 9

pin() { sed -n "s/^$1=//p" "$LOCK"; }

# apt_get ARGS...: the private apt, with an empty dpkg status so that
# apt resolves (and downloads) the whole closure, not only what this
# host lacks
apt_get() {
    : > "$S/empty-status"
    "$ROOT/scripts/apt-private.sh" get -o "Dir::State::status=$S/empty-status" "$@"
}

# deb_path NAME VERSION: where a pinned .deb is kept
deb_path() { printf '%s/%s_%s.deb\n' "$debs" "$1" "${2//:/%3a}"; }

# fetch_into DIR SPEC...: apt-get download every NAME=VERSION into DIR
fetch_into() {
    local dir=$1; shift
    mkdir -p "$dir"
    if ! (cd "$dir" && apt_get download "$@") >"$log" 2>&1; then
        tail -20 "$log" >&2
        die "apt-get download failed (log: $log)"
    fi
}

# move_debs FROM: rename each downloaded .deb to deb_path (from its own
# control fields, so that apt's file naming does not matter)
move_debs() {
    local f n v
    mkdir -p "$debs"
    for f in "$1"/*.deb; do
        [ -e "$f" ] || continue
        n=$(dpkg-deb -f "$f" Package); v=$(dpkg-deb -f "$f" Version)
        mv "$f" "$(deb_path "$n" "$v")"
    done
}

repin() {
    local pkg ver suite extra list n v f sum
    pkg=$(pin package); ver=$(pin version); suite=$(pin suite); extra=$(pin extra)
    "$ROOT/scripts/apt-private.sh" update
    say "$name: resolving the closure of $pkg=$ver${extra:+ $extra} (no recommends)"
    # shellcheck disable=SC2086  # extra is a list of package names
    list=$(apt_get -s -q -t "$suite" install --no-install-recommends "$pkg=$ver" $extra |
        sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p')
    [ -n "$list" ] || die "apt resolved nothing for $pkg=$ver"
    rm -rf "$S/dl.tmp"
    # shellcheck disable=SC2046
    fetch_into "$S/dl.tmp" $(awk '{print $1"="$2}' <<<"$list")
    move_debs "$S/dl.tmp"
    rm -rf "$S/dl.tmp"
    {
        sed '/^deb=/d' "$LOCK"
        while read -r n v; do
            f=$(deb_path "$n" "$v")
            [ -f "$f" ] || die "not downloaded: $n $v"
            sum=$(sha256sum "$f" | cut -d' ' -f1)
            printf 'deb=%s %s %s\n' "$n" "$v" "$sum"
        done <<<"$list"
    } > "$LOCK.tmp"
    mv "$LOCK.tmp" "$LOCK"
    say "$name: pinned $(grep -c '^deb=' "$LOCK") packages in $(basename "$LOCK")"
}

# fetch: every pinned .deb present and matching its sha256
fetch() {
    local n v sum f missing=()
    while read -r n v sum; do
        f=$(deb_path "$n" "$v")
        echo "$sum  $f" | sha256sum -c --status 2>/dev/null || missing+=("$n=$v")
    done < <(pin deb)
    if [ ${#missing[@]} -gt 0 ]; then
        "$ROOT/scripts/apt-private.sh" update
        say "$name: downloading ${#missing[@]} pinned .deb(s) from Debian"
        rm -rf "$S/dl.tmp"
        fetch_into "$S/dl.tmp" "${missing[@]}"
        move_debs "$S/dl.tmp"
        rm -rf "$S/dl.tmp"
    fi
    while read -r n v sum; do
        f=$(deb_path "$n" "$v")
        echo "$sum  $f" | sha256sum -c --status ||
            die "sha256 mismatch or missing: $f ($(basename "$LOCK") says $sum); delete it, or run $0 $LOCK $S --repin"
    done < <(pin deb)
}

# unpack: every pinned .deb into a fresh root; absolute symlinks made
# relative inside it (the loader, sid's /usr/share/qemu firmware links)
unpack() {
    local n v sum l t r=$S/root
    rm -rf "$r.tmp"; mkdir -p "$r.tmp"
    while read -r n v sum; do
        dpkg-deb -x "$(deb_path "$n" "$v")" "$r.tmp"
    done < <(pin deb)
    while IFS= read -r -d '' l; do
        t=$(readlink "$l")
        [ "${t:0:1}" = / ] || continue
        ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$r.tmp$t")" "$l"
    done < <(find "$r.tmp" -type l -print0)
    rm -rf "$r"; mv "$r.tmp" "$r"
}

[ "${3:-}" != --repin ] || repin
[ -n "$(pin deb)" ] || die "$LOCK pins no package: run $0 $1 $2 --repin"

stamp=$(sha256sum "$LOCK" | cut -c1-16)
if [ "$(cat "$S/root/.lock" 2>/dev/null)" != "$stamp" ]; then
    fetch
    say "$name: unpacking $(grep -c '^deb=' "$LOCK") packages into $S/root"
    unpack
    echo "$stamp" > "$S/root/.lock"
fi
printf '%s\n' "$S/root"
