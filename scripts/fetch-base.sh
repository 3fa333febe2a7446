#!/bin/bash
# Fetch and import the pinned pristine base of $SERIES as a git commit.
# Called by: make fetch, check.sh, seabios.sh, the pipeline.
#
# Fetch the pinned orig tarball of $SERIES (QEMU, or SeaBIOS or libvirt
# with SERIES=seabios|libvirt) with apt (private configuration; from
# base_url with apt-helper when the lock file has one),
# verify its sha256 and import it as one git commit with a fixed
# identity and date, so the base commit id is the same on every
# machine.  Result: bare repository $CACHE/base.git, tag $base_tag.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkg=$(lock base_package); ver=$(lock base_version)
[ -n "$(lock base_author)" ] || die "$(basename "$LOCKFILE") has no base_author"
file=$(lock base_file); sum=$(lock base_sha256); tag=$(lock base_tag)
repo=$BASE_GIT
dl=$CACHE/downloads

if git -C "$repo" rev-parse -q --verify "refs/tags/$tag" >/dev/null 2>&1; then
    exit 0
fi

mkdir -p "$dl"
url=$(lock base_url)
if [ -n "$url" ] && ! echo "$sum  $dl/$file" | sha256sum -c --status 2>/dev/null; then
    # a pool address (libvirt.lock): apt's own downloader, no apt lists
    say "fetch: downloading $pkg $ver source (orig tarball, $url)"
    rm -f "$dl/$file.part"
    run_logged "$LOGS/fetch.log" /usr/lib/apt/apt-helper download-file "$url" "$dl/$file.part" "SHA256:$sum" ||
        die "could not download $url: is it still served? (log: $LOGS/fetch.log)"
    mv "$dl/$file.part" "$dl/$file"
fi
if ! echo "$sum  $dl/$file" | sha256sum -c --status 2>/dev/null; then
    "$ROOT/scripts/apt-private.sh" update
    say "fetch: downloading $pkg $ver source (orig tarball)"
    (cd "$dl" && run_logged "$LOGS/fetch.log" \
        "$ROOT/scripts/apt-private.sh" get source --download-only "$pkg=$ver") ||
        die "could not download $pkg=$ver: is it still served? (log: $LOGS/fetch.log)"
fi
echo "$sum  $dl/$file" | sha256sum -c --status ||
    die "sha256 mismatch for $dl/$file (expected $sum)"
say "fetch: $file sha256 OK"

say "import: unpacking and committing the pristine base"
tmp=$(mktemp -d "$CACHE/import.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xf "$dl/$file" -C "$tmp" --strip-components=1
export GIT_AUTHOR_NAME="$(lock base_author)" GIT_AUTHOR_EMAIL="series@memmap-type.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
g="git -c core.autocrlf=false -c core.filemode=true -c core.symlinks=true -c init.defaultBranch=base"
rm -rf "$repo.new"
$g init -q --bare "$repo.new"
$g --git-dir="$repo.new" --work-tree="$tmp" add -A -f .
tree=$($g --git-dir="$repo.new" write-tree)
commit=$(printf 'Import %s (Debian %s %s)\n\nsha256 %s\n' "$file" "$pkg" "$ver" "$sum" |
    $g --git-dir="$repo.new" commit-tree "$tree")
$g --git-dir="$repo.new" update-ref refs/heads/base "$commit"
$g --git-dir="$repo.new" tag "$tag" "$commit"
rm -rf "$repo"; mv "$repo.new" "$repo"
say "import: base commit $commit tagged $tag"
