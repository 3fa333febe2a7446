#!/bin/bash
# README's prerequisite line and two commands in a pristine Debian bookworm root.
# Called by: make fresh, check.sh (step fresh-quick: --quick), the pipeline.
#
# A newcomer's machine is a pristine bookworm: what `debootstrap
# --variant=minbase bookworm` makes (apt and the Essential packages,
# like the debian:bookworm image), with this host's apt sources and apt
# settings and the certificate authorities it added.  This script makes one under .cache/fresh/, clones this
# repository into it, and runs there what README.md's "Two commands"
# section shows, as it shows it: its first code block (the prerequisite
# line), then `make demo`, then `make check`.
#
#   scripts/fresh.sh          make fresh: all three, each with its verdict;
#                             the clone is of HEAD (say so when the work
#                             tree has changes).  Record for
#                             scripts/timings.sh: .cache/logs/fresh-record.tsv
#   scripts/fresh.sh --quick  the quick form, a step of make check: the
#                             commands of tests/bookworm-commands.txt are
#                             in the pristine root, the prerequisite line, `scripts/deps.sh --all`,
#                             then every tool of deps.sh's table is on
#                             PATH and scripts/ci-validate.sh runs without
#                             a skip; the clone has the work tree's files.
#                             Last line: "fresh-quick: N passed, ..."
#
# The root runs like a privileged container: its own mount and PID
# namespaces (everything started in it ends with it), its own /proc, the
# host's /dev (with /dev/kvm where the host has one: the KVM-present path
# of tcg_only) and /sys, and / a mount point, so that mount namespaces
# can be made in it.  Needs root and `unshare`.
# Environment: FRESH_CCACHE=DIR (make fresh only) seeds the clone's
# .cache/ccache with a copy of DIR: compiles are then quick, everything
# else (packages, downloads, tests) is still cold; the record says so.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

quick=
case ${1:-} in --quick) quick=1; shift ;; esac
[ $# = 0 ] || die "usage: $0 [--quick]"
name=fresh; [ -z "$quick" ] || name=fresh-quick
F=$CACHE/fresh
[ "$(id -u)" = 0 ] || die "$name: needs root (debootstrap, chroot, mount namespaces)"
unshare -m -p -f true 2>/dev/null ||
    die "$name: cannot create mount and PID namespaces here (unshare -m -p -f failed)"
"$ROOT/scripts/deps.sh" fresh

mapfile -t blocks < <(readme_blocks)
[ ${#blocks[@]} = 3 ] && [ "${blocks[1]}" = "make demo" ] && [ "${blocks[2]}" = "make check" ] ||
    die "README.md's \"Two commands\" section must have three one-line code blocks: the prerequisite line, make demo, make check (it has: ${blocks[*]})"
prereq=${blocks[0]}

# mirror: the first bookworm "deb" source of this host's apt sources
mirror() {
    local m
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^$/ {if (d && b && u) {print u; exit} d = b = 0; u = ""}
        /^Types:/ && / deb( |$)/ {d = 1}
        /^Suites:/ && / bookworm( |$)/ {b = 1}
        /^URIs:/ {u = $2}
        END {if (d && b && u) print u}' | head -1)
    [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        sed -nE 's/^deb +(\[[^]]*\] +)?([^ ]+) +bookworm +.*/\2/p' | head -1)
    printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# minbase: a tarball of `debootstrap --variant=minbase bookworm`, made
# once per mirror and debootstrap version
mkdir -p "$F"
url=$(mirror)
key=$( { echo "$url"; dpkg-query -W debootstrap; } | sha256sum | cut -c1-16)
tarball=$F/minbase-$key.tar
if [ ! -s "$tarball" ]; then
    say "$name: debootstrap --variant=minbase bookworm from $url (log: $LOGS/fresh-debootstrap.log)"
    rm -rf --one-file-system "$F/debootstrap"
    # (in a mount namespace of its own: the /proc it mounts in the
    # target never shows on the host, even when it is killed)
    run_logged "$LOGS/fresh-debootstrap.log" unshare -m --propagation private \
        debootstrap --variant=minbase bookworm "$F/debootstrap" "$url"
    tar -C "$F/debootstrap" --numeric-owner -cpf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf --one-file-system "$F/debootstrap"
    find "$F" -maxdepth 1 -name 'minbase-*.tar' ! -name "${tarball##*/}" -delete
fi

# a fresh root from it, with the host's apt sources and settings
root=$F/$name-root
if findmnt -rn -o TARGET | grep -qF "$root"; then
    die "$name: something is still mounted under $root; unmount it first"
fi
rm -rf --one-file-system "$root"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xpf "$tarball"
# (debootstrap's own sources.list is not the image's: the host's decide)
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
         /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] && cp "$f" "$root$f"
done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# and the certificate authorities the host's administrator added (this
# network's TLS proxy, which npm's registry traffic passes): part of the
# machine's network setup, like its apt sources
[ ! -d /usr/local/share/ca-certificates ] ||
    cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"

# the clone: HEAD, and for --quick the work tree's tracked files over it
clone=/root/memmap-type
git clone -q "$ROOT" "$root$clone"
head=$(git -C "$ROOT" rev-parse --short HEAD)
what="HEAD $head"
if [ -n "$quick" ]; then
    git -C "$ROOT" ls-files -z | tar -C "$ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null |
        tar -C "$root$clone" -xf -
    [ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] || what="HEAD $head + the work tree's changes"
elif [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
    say "$name: note: the work tree has uncommitted changes; the root gets a clone of HEAD ($head) without them"
fi
if [ -z "$quick" ] && [ -n "${FRESH_CCACHE:-}" ]; then
    say "$name: seeding the clone's .cache/ccache from $FRESH_CCACHE"
    mkdir -p "$root$clone/.cache"
    cp -a "$FRESH_CCACHE" "$root$clone/.cache/ccache"
fi

# in_root LOG CMD: CMD (a shell line) in the clone in the root, as root,
# with a clean environment; its output in LOG; its exit status
in_root() {
    local log=$1 cmd=$2
    # shellcheck disable=SC2016  # $1 and $2 are the inner shell's
    unshare -m -p -f --propagation private sh -ec '
        r=$1
        mount --bind "$r" "$r"
        mount -t proc proc "$r/proc"
        mount --rbind /dev "$r/dev"
        mount --rbind /sys "$r/sys"
        exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            /bin/bash -c "cd $3 && $2"' sh "$root" "$cmd" "$clone" </dev/null >"$log" 2>&1
}

# run_step TEXT LOG CMD [FIND GOOD]: CMD in the root, its output in LOG,
# judged: PASS when it exits 0 and, with FIND, the last line of LOG that
# matches FIND (an extended regex: the command's verdict line, set as
# LINE) also matches GOOD.  Sets T (seconds) and RC.
run_step() {
    local text=$1 log=$2 cmd=$3 find=${4:-} good=${5:-} t0
    t0=$(date +%s) RC=0 LINE=
    say "$name: $text in the root (log: $log)"
    in_root "$log" "$cmd" || RC=$?
    T=$(($(date +%s) - t0))
    [ -z "$find" ] || LINE=$(grep -E "$find" "$log" | tail -1 || true)
    if [ "$RC" = 0 ] && { [ -z "$find" ] || grep -qE "$good" <<<"$LINE"; }; then
        pass "$text${LINE:+: $LINE} ($T s)"
    else
        { grep -E '^ *(FAIL|SKIP|error:)' "$log" || tail -5 "$log"; } | head -8 | indent
        fail "$text: ${find:+${LINE:-no verdict line}, }exit $RC (log: $log)"
    fi
}

t_start=$(date +%s)
echo "$name: a pristine bookworm minbase root ($url), a clone of $what"
if [ -n "$quick" ]; then
    # the list ci-validate takes as the image's commands, still true
    # shellcheck disable=SC2016  # PATH is the root's
    in_root "$LOGS/$name-commands.log" 'for d in ${PATH//:/ }; do ls "$d"; done' || true
    listed=$(grep -v '^#' "$ROOT/tests/bookworm-commands.txt" | LC_ALL=C sort -u)
    gone=$(LC_ALL=C comm -23 <(echo "$listed") <(LC_ALL=C sort -u "$LOGS/$name-commands.log") | paste -sd' ')
    if [ -z "$gone" ]; then pass "tests/bookworm-commands.txt: its $(wc -l <<<"$listed") commands are all on the pristine root's PATH"
    else fail "tests/bookworm-commands.txt lists commands the pristine root lacks: $gone"; fi
fi
run_step "README's prerequisite line: $prereq" "$LOGS/$name-prereq.log" "$prereq"

if [ -n "$quick" ]; then
    run_step "scripts/deps.sh --all" "$LOGS/$name-deps.log" "scripts/deps.sh --all"
    # every tool of the table, then the pipeline check that needs the
    # pinned Node.js: no skip allowed
    in_root "$LOGS/$name-tools.log" "scripts/deps.sh --tools --all" || true
    while read -r r text; do tally "$r"; echo "$r tool in the root: $text"; done \
        < <(grep -E '^(PASS|FAIL) ' "$LOGS/$name-tools.log")
    grep -qE '^deps-tools: [0-9]+ passed' "$LOGS/$name-tools.log" ||
        fail "scripts/deps.sh --tools --all printed no verdict (log: $LOGS/$name-tools.log)"
    run_step "scripts/ci-validate.sh, no skip allowed" "$LOGS/$name-ci-validate.log" "scripts/ci-validate.sh" \
        '^ci-validate: [0-9]+ passed' '^ci-validate: [1-9][0-9]* passed, 0 failed, 0 skipped$'
    finish "$name"
fi

# make fresh: the two commands, each judged by its own verdict line
record=$LOGS/fresh-record.tsv
: >"$record.new"
printf 'part\t%s\t%s\n' "README's prerequisite line" "$T" >>"$record.new"
run_step "make demo" "$LOGS/fresh-demo.log" "make demo" '^verdict: ' '^verdict: PASS'
printf 'part\t%s\t%s\n' "make demo" "$T" >>"$record.new"
run_step "make check" "$LOGS/fresh-check.log" "make check" '^check: [0-9]+ passed' '^check: [0-9]+ passed, 0 failed'
printf 'part\t%s\t%s\n' "make check (its steps below)" "$T" >>"$record.new"
# the record: make check's own steps inside the root, then the whole run
inner=$root$clone/.cache/logs/check-record.tsv
[ ! -s "$inner" ] || grep -vE '^run' "$inner" >>"$record.new"
seeded=""; [ -z "${FRESH_CCACHE:-}" ] || seeded=", ccache seeded"
record_run "$t_start" "$(verdict_line fresh)" "pristine bookworm root, cold .cache$seeded" >>"$record.new"
mv "$record.new" "$record"
say "$name: record: ${record#"$ROOT"/} (scripts/timings.sh --record fresh keeps it)"
finish "$name"
