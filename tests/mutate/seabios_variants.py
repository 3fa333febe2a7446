"""SeaBIOS variants for scripts/seabios-negative.sh: the SeaBIOS series
with one of its patches taken out (or, where later patches need its
definitions to build, with the rule the patch adds taken out).  Each must
make a guest scenario fail, for the reason the patch exists.

    python3 seabios_variants.py count
    python3 seabios_variants.py describe N   # "name<TAB>scenario<TAB>FAIL regex"
    python3 seabios_variants.py apply N SRC  # edit the git tree SRC (the
                                             # whole series applied)
"""
import subprocess
import sys

from edits import apply_edits

# (name, how, scenario of scripts/guest-scenarios.sh, regular expression
# of a FAIL line the scenario must print).  how: ("revert", subject of
# the patch) or ("edit", [(file, old, new)]).
VARIANTS = [
    # patch 1's rule (patch 2 needs its definitions): etc/e820's soft
    # reserved entries reach SeaBIOS's map, and so the OS
    ("patch 1 without its passthrough (soft reserved entries of etc/e820 ignored)",
     ("edit", [("src/fw/paravirt.c",
                "        case E820_RESERVED:\n        case E820_SOFT_RESERVED:\n",
                "        case E820_RESERVED:\n")]),
     "q35-sbp-spm", r"FAIL  SeaBIOS e820 lacks soft reserved"),
    # patch 2: adjacent soft reserved entries are never merged, so that
    # two sp-mem devices on two nodes (QEMU 11.1.3) stay two entries, two
    # dax devices (no HMAT)
    ("without patch 2 (adjacent soft reserved entries kept apart)",
     ("revert", "e820map: Keep adjacent soft reserved entries apart"),
     "spmem-q35-sbp-two-spm-nohmat", r"FAIL  SeaBIOS e820 lacks soft reserved .* as an entry of its own"),
]


def main():
    if sys.argv[1] == "count":
        print(len(VARIANTS))
        return
    name, how, scenario, want = VARIANTS[int(sys.argv[2])]
    if sys.argv[1] == "describe":
        print("%s\t%s\t%s" % (name, scenario, want))
        return
    src = sys.argv[3]
    if how[0] == "revert":
        log = subprocess.run(["git", "-C", src, "log", "--format=%H %s"],
                             capture_output=True, text=True, check=True).stdout
        commits = [ln.split(" ", 1)[0] for ln in log.splitlines()
                   if ln.split(" ", 1)[1] == how[1]]
        if len(commits) != 1:
            sys.exit(f"{name}: no single commit '{how[1]}' in {src}")
        r = subprocess.run(["git", "-c", "user.name=memmap-type series",
                            "-c", "user.email=series@memmap-type.invalid",
                            "-C", src, "revert", "--no-edit", commits[0]],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"{name}: git revert fails: {r.stdout}{r.stderr}")
    else:
        apply_edits(src, how[1], name)
    print(name)


main()
