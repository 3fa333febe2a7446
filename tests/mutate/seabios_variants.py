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
    # patch 1: the debug dump prints the type as a signed number, so
    # SeaBIOS's own map shows soft reserved (0xefffffff) as -268435457
    ("without patch 1 (the e820 type printed as unsigned)",
     ("revert", "e820map: Print the e820 type as an unsigned number"),
     "q35-sbp-spm", r"FAIL  SeaBIOS e820 lacks soft reserved"),
    # patch 2's rule (patch 3 needs its definitions): soft reserved
    # entries are never merged with a neighbour of the same type, so that
    # each spm node stays one range, one dax device
    ("patch 2 without its no-merge rule",
     ("edit", [("src/e820map.c",
                "    return type == e->type && type != E820_SOFT_RESERVED;",
                "    return type == e->type;")]),
     "sbp-table-full", r"FAIL  SeaBIOS e820 over .*soft reserved in the map, want"),
    # patch 3: etc/e820's soft reserved entries reach the OS
    ("without patch 3 (soft reserved passed from etc/e820)",
     ("revert", "paravirt: Pass soft reserved memory from etc/e820 to the OS"),
     "q35-sbp-spm", r"FAIL  SeaBIOS e820 lacks soft reserved"),
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
