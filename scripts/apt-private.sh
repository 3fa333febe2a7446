#!/bin/bash
# apt-get with the project's private configuration in .cache/apt/.
# Called by: deps.sh, fetch-base.sh, guest-assets.sh, closure.sh, libvirt.sh.
#
# Run apt-get against a private configuration that lives in the cache
# folder: its own sources list, state and cache directories.  The
# system's apt setup (/etc/apt, /var/lib/apt, /var/cache/apt) is never
# read for sources nor written.
#
#   scripts/apt-private.sh update
#   scripts/apt-private.sh get <apt-get arguments...>
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=$CACHE/apt
mkdir -p "$dir/etc/apt.conf.d" "$dir/etc/preferences.d" "$dir/etc/trusted.gpg.d" \
    "$dir/state/lists/partial" "$dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
want=$(cat <<SRC
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb [signed-by=$keyring] http://deb.debian.org/debian bookworm-backports main
deb [signed-by=$keyring] http://deb.debian.org/debian trixie main
deb [signed-by=$keyring] http://deb.debian.org/debian sid main
deb-src [signed-by=$keyring] http://deb.debian.org/debian sid main
SRC
)
if [ "$(cat "$dir/etc/sources.list" 2>/dev/null)" != "$want" ]; then
    printf '%s\n' "$want" > "$dir/etc/sources.list"
    rm -f "$dir/state/updated"
fi

opts=(
    -o "Dir::Etc=$dir/etc"
    -o "Dir::Etc::sourcelist=$dir/etc/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::Etc::main=-"
    -o "Dir::Etc::parts=$dir/etc/apt.conf.d"
    -o "Dir::Etc::preferences=$dir/etc/preferences"
    -o "Dir::Etc::preferencesparts=$dir/etc/preferences.d"
    -o "Dir::Etc::trustedparts=$dir/etc/trusted.gpg.d"
    -o "Dir::State=$dir/state"
    -o "Dir::State::lists=$dir/state/lists"
    -o "Dir::State::status=/var/lib/dpkg/status"
    -o "Dir::Cache=$dir/cache"
    -o "Dir::Cache::archives=$dir/cache/archives"
    -o "APT::Get::List-Cleanup=0"
    -o "Debug::NoLocking=1"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
)

case "${1:-}" in
update)
    # Refresh at most once a day: the lists are large and slow to fetch.
    if [ -n "$(find "$dir/state/updated" -mmin -1440 2>/dev/null)" ]; then
        exit 0
    fi
    say "apt (private): updating package lists (bookworm, backports, trixie, sid)"
    apt-get "${opts[@]}" -q update >"$dir/update.log" 2>&1 ||
        { tail -20 "$dir/update.log"; die "private apt update failed (log: $dir/update.log)"; }
    touch "$dir/state/updated"
    ;;
get)
    shift
    apt-get "${opts[@]}" "$@"
    ;;
*)
    die "usage: $0 update | get <apt-get args>"
    ;;
esac
