"""The inputs of every cached result of make check, from one table.

tests/cache-inputs.txt names, for each cached step, the values its
caller passes (tree ids, binary hashes) and the files and probes (tool
and host versions) its result depends on.  This program is the only
reader of that table:

    python3 cache_inputs.py key STEP VALUE...   # the step's cache key
    python3 cache_inputs.py probe NAME          # one probe's text
    python3 cache_inputs.py check               # every file a step's
                                                # scripts read is in its row
    python3 cache_inputs.py self-test           # check shown able to fail

A key is the hash of the row itself, the values, every input file's
path and content (globs expanded; one that matches nothing is an error)
and every probe's output, with the "common" row's inputs added to every
step's.  `check` reads the scripts of each row (and, transitively, the
scripts and test files they name) and fails for any repository file
they read that the row does not list, and for any tool they use whose
probe the row lacks (TOOLS below).
"""
import glob
import hashlib
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLE = os.path.join(ROOT, "tests", "cache-inputs.txt")
CACHE = os.environ.get("CACHE") or os.path.join(ROOT, ".cache")


def sh(cmd):
    r = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return r.stdout


def cat(*paths):
    out = []
    for p in paths:
        for f in sorted(glob.glob(p)):
            try:
                out.append(f"== {f}\n" + open(f, errors="replace").read())
            except OSError as e:
                out.append(f"== {f}: {e}\n")
    return "".join(out)


# Probes: what a result depends on besides the repository's files.
PROBES = {
    # the compilers and configure options (scripts/build.sh), library and
    # firmware packages the builds link and load (scripts/firmware.sh),
    # the host kernel, /dev/kvm and root
    "env": lambda: "\n".join([
        "BUILD_CC=%s BUILD_CXX=%s CONFIGURE_EXTRA=%s" % (
            os.environ.get("BUILD_CC", "cc"), os.environ.get("BUILD_CXX", "c++"),
            os.environ.get("CONFIGURE_EXTRA", "")),
        sh("%s --version 2>&1 | head -1" % os.environ.get("BUILD_CC", "cc")),
        sh("%s --version 2>&1 | head -1" % os.environ.get("BUILD_CXX", "c++")),
        sh("dpkg-query -W libc6-dev libglib2.0-dev libpixman-1-dev libslirp-dev libfdt-dev "
           "seabios ipxe-qemu qemu-system-data ninja-build 2>&1"),
        os.uname().release, str(os.getuid()),
        "kvm" if os.path.exists("/dev/kvm") else "no-kvm"]),
    # decides which numa-memmap-test cases can map their memory (the
    # large ones skip under strict overcommit)
    "overcommit": lambda: cat("/proc/sys/vm/overcommit_memory"),
    # Sphinx and its theme (QEMU's documentation build)
    "sphinx": lambda: sh("dpkg-query -W python3-sphinx python3-sphinx-rtd-theme python3 2>&1"),
    # where a pristine bookworm root's packages come from
    "apt": lambda: cat("/etc/apt/sources.list", "/etc/apt/sources.list.d/*",
                       "/usr/local/share/ca-certificates/*"),
    # the guest kit as downloaded (kernels, OVMF, busybox; guest.lock
    # pins it, this is what the pins resolved to)
    "assets": lambda: cat(os.path.join(CACHE, "guest", "assets.env")),
    # the libraries and tools libvirt 11.3.0 is built with
    # (scripts/libvirt-build.sh; its compiler is in "env")
    "lvbuild": lambda: sh("dpkg-query -W libgnutls28-dev libxml2-dev libtirpc-dev libjson-c-dev "
                          "libnl-3-dev libnl-route-3-dev xsltproc libxml2-utils libglib2.0-dev 2>&1"),
    # the libvirt daemon that runs the domain XML
    "libvirt": lambda: sh("dpkg-query -W libvirt-daemon libvirt-daemon-driver-qemu "
                          "libvirt-clients 2>&1"),
}

# Tools a step's scripts use, and the probe its row must then list:
# (regular expression on the scripts' code, probe)
TOOLS = [
    (r"--enable-docs|sphinx-build", "sphinx"),
    (r"numa-memmap-test", "overcommit"),
    (r"\bdebootstrap\b", "apt"),
    (r"guest-assets\.sh|assets\.env", "assets"),
    (r"\blibvirtd\b|\bvirsh\b", "libvirt"),
    (r"libvirt-build\.sh", "lvbuild"),
]


# files whose code names tools without using them: this program, and
# scripts/deps.sh's package table
NOT_TOOLS = ("tests/lib/cache_inputs.py", "scripts/deps.sh")


def read_table(path=TABLE):
    """{step: (values, [inputs], row text)} in file order."""
    rows, cur = {}, None
    for line in open(path):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace():
            if cur is None:
                sys.exit(f"{path}: continuation line before any row: {line.rstrip()}")
            rows[cur][1].extend(line.split())
            rows[cur][2].append(line)
            continue
        f = line.split()
        if len(f) < 2:
            sys.exit(f"{path}: row without values: {line.rstrip()}")
        cur = f[0]
        if cur in rows:
            sys.exit(f"{path}: two rows for {cur}")
        vals = [] if f[1] == "-" else f[1].split(",")
        rows[cur] = (vals, f[2:], [line])
    return {k: (v, i, "".join(t)) for k, (v, i, t) in rows.items()}


def expand(item):
    """The repository files an input names (a path or a glob)."""
    hits = sorted(p for p in glob.glob(os.path.join(ROOT, item)) if os.path.isfile(p))
    return [os.path.relpath(p, ROOT) for p in hits]


def key(step, values, rows=None):
    rows = rows or read_table()
    if step not in rows:
        sys.exit(f"cache_inputs: no row '{step}' in tests/cache-inputs.txt")
    names, items, text = rows[step]
    if len(values) != len(names):
        sys.exit(f"cache_inputs: {step} takes {len(names)} values ({','.join(names) or '-'}), "
                 f"given {len(values)}")
    h = hashlib.sha256()
    h.update(text.encode())
    for n, v in zip(names, values):
        h.update(f"{n}={v}\n".encode())
    for item in rows.get("common", ([], [], ""))[1] + items:
        if item.startswith("!"):
            continue
        if item.startswith("@"):
            if item[1:] not in PROBES:
                sys.exit(f"cache_inputs: {step}: no probe {item}")
            h.update(f"{item}\n{PROBES[item[1:]]()}\n".encode())
            continue
        files = expand(item)
        if not files:
            sys.exit(f"cache_inputs: {step}: input {item} matches no file")
        for f in files:
            h.update(f"== {f}\n".encode())
            h.update(open(os.path.join(ROOT, f), "rb").read())
    return h.hexdigest()[:16]


def code(path):
    """A script's text without its comments (and a Python docstring)."""
    text = open(os.path.join(ROOT, path), errors="replace").read()
    if path.endswith(".py"):
        text = re.sub(r'"""(.|\n)*?"""', "", text)
    if path.endswith(".js"):
        text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    return re.sub(r"^\s*#.*$", "", text, flags=re.M)


SCRIPT = re.compile(r"\.(sh|py|js)$")


def references(path):
    """The repository files a script's code names."""
    text = code(path)
    here = os.path.dirname(path)
    refs = set()
    # paths under the repository: $ROOT/X, scripts/X, tests/X, contrib/X
    for m in re.finditer(r"(?:\$ROOT/|\$\{ROOT\}/|\broot, \"|(?<![\w/.$-]))"
                         r"((?:scripts|tests|contrib|patches)/[\w./*-]+)", text):
        if "*" not in m.group(1):   # a glob in code is a pattern (case), not a read
            refs.update(expand(m.group(1).rstrip(".")))
    # $S/X where S is the scripts folder, $(dirname "$0")/X
    if re.search(r'^\s*S=("?)\$ROOT/scripts\1\s*$', text, flags=re.M):
        for m in re.finditer(r"\$S/([\w.-]+)", text):
            refs.update(expand("scripts/" + m.group(1)))
    for m in re.finditer(r'\$\(dirname "\$0"\)/([\w.-]+)', text):
        refs.update(expand(os.path.join(here, m.group(1))))
    # lock files: NAME.lock, and lock KEY NAME (lib.sh's lock)
    for m in re.finditer(r"\b([a-z]+)\.lock\b", text):
        refs.update(expand(m.group(1) + ".lock"))
    for m in re.finditer(r"\block [a-z_]+ ([a-z]+)\b", text):
        refs.update(expand(m.group(1) + ".lock"))
    # Python modules and files next to a Python or JavaScript file
    if path.endswith(".py"):
        for m in re.finditer(r"^\s*(?:from|import)\s+(\w+)", text, flags=re.M):
            for d in (here, "tests/lib"):
                refs.update(expand(os.path.join(d, m.group(1) + ".py")))
    for m in re.finditer(r"[\"']([\w-]+\.(?:py|js|json|txt|tsv))[\"']", text):
        refs.update(expand(os.path.join(here, m.group(1))))
    refs.discard(path)
    return refs


def check(rows=None, out=print):
    """Every file and tool a step's scripts read is in its row; the
    number of problems."""
    rows = rows or read_table()
    common_items = rows.get("common", ([], [], ""))[1]
    common = {f for i in common_items if not i.startswith("@") for f in expand(i)}
    bad = 0
    for step, (_, items, _) in rows.items():
        listed = set(common) | {os.path.relpath(TABLE, ROOT)}
        ignored = {f for i in items if i.startswith("!") and i[1:2] != "@" for f in expand(i[1:])}
        probes = {i.lstrip("!")[1:] for i in common_items + items if i.lstrip("!").startswith("@")}
        for i in items:
            if i.startswith("!"):
                if i[1:2] == "@" and i[2:] not in PROBES or i[1:2] != "@" and not expand(i[1:]):
                    out(f"{step}: {i} matches no file")
                    bad += 1
                continue
            if i.startswith("@"):
                if i[1:] not in PROBES:
                    out(f"{step}: no probe {i}")
                    bad += 1
                continue
            files = expand(i)
            if not files:
                out(f"{step}: input {i} matches no file")
                bad += 1
            listed.update(files)
        seen, todo = set(), sorted(f for f in listed if SCRIPT.search(f))
        missing, tools = set(), set()
        while todo:
            f = todo.pop()
            if f in seen:
                continue
            seen.add(f)
            text = code(f)
            for rx, probe in TOOLS if f not in NOT_TOOLS else ():
                if re.search(rx, text) and probe not in probes:
                    tools.add((probe, f))
            for r in references(f) if f not in NOT_TOOLS[:1] else ():
                if r in ignored:
                    continue
                if r not in listed:
                    # named but unlisted: reported, not followed (its own
                    # references would only repeat the finding)
                    missing.add((r, f))
                elif SCRIPT.search(r):
                    todo.append(r)
        for r, by in sorted(missing):
            out(f"{step}: {r} (read by {by}) is not in its row")
        for probe, by in sorted(tools):
            out(f"{step}: {by} uses a tool whose probe @{probe} is not in its row")
        bad += len(missing) + len(tools)
    return bad


def self_test():
    """Drop one input of each kind from a copy of the table: check must
    name it."""
    rows = read_table()
    failures = 0
    cases = []
    for step, (vals, items, text) in rows.items():
        if step == "common":
            continue
        for i in items:
            if i.startswith("@") and i != "@env":
                cases.append((step, i))
                break
        for i in items:
            if not i.startswith("@") and SCRIPT.search(i) and i not in ("scripts/lib.sh",):
                # a script that another listed script names
                others = {r for j in items if not j.startswith("@") for f in expand(j)
                          if f != i for r in references(f) if SCRIPT.search(f)}
                if i in others:
                    cases.append((step, i))
                    break
    for step, drop in cases:
        vals, items, text = rows[step]
        broken = dict(rows)
        broken[step] = (vals, [i for i in items if i != drop], text)
        said = []
        n = check(broken, out=said.append)
        if n and any(drop.lstrip("@") in s for s in said):
            print(f"PASS without {drop} in the row of {step}, check says: "
                  f"{next(s for s in said if drop.lstrip('@') in s)}")
        else:
            print(f"FAIL without {drop} in the row of {step}, check says nothing about it")
            failures += 1
    if not cases:
        print("FAIL no case: the table has no row to break")
        failures += 1
    return failures


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "key" and len(sys.argv) >= 3:
        print(key(sys.argv[2], sys.argv[3:]))
    elif cmd == "probe" and len(sys.argv) == 3 and sys.argv[2] in PROBES:
        h = hashlib.sha256(PROBES[sys.argv[2]]().encode()).hexdigest()[:16]
        print(h)
    elif cmd == "check":
        n = check()
        print(f"cache inputs: {len(read_table())} rows, {n} problems")
        sys.exit(1 if n else 0)
    elif cmd == "self-test":
        sys.exit(1 if self_test() else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
