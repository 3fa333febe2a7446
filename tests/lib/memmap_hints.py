"""The hint lines of the series' memmap-type refusals (hw/i386/pc.c,
pc_memmap_hint()): one change per line, all of them to be applied
together.  Shared by tests/robust/error_matrix.py and fuzz.py."""
import re

FORMS = [
    ("keep", r"Each typed node takes an entry, and so does the normal "
             r"memory between two of them: keep memmap-type on the "
             r"first (\d+) typed nodes only, or put the typed nodes "
             r"next to each other\."),
    ("insert", r"Put a node with 2M of normal memory before node (\d+)\."),
    ("size", r"Make the memory backend of node (\d+) size=(\d+[GMK]?)\."),
    ("split", r"Use -machine max-ram-below-4g=(\d+[GMK]?)\."),
    ("ram", r"Use -m (\d+[GMK]?)\."),
    ("physbits", r"Use a CPU with phys-bits=(\d+)\."),
]


def parse_hints(lines):
    """[(kind, value...)] for @lines, in order; ValueError for a line of
    no known form.  keep (K), insert (N), size (N, size), split (size),
    ram (size), physbits (bits): node ids, counts and bits as int, sizes
    as QEMU's text."""
    out = []
    for line in lines:
        for kind, pattern in FORMS:
            m = re.fullmatch(pattern, line)
            if m:
                g = list(m.groups())
                if kind in ("keep", "insert", "size", "physbits"):
                    g[0] = int(g[0])
                out.append((kind, *g))
                break
        else:
            raise ValueError(f"a hint line of no known form: {line}")
    return out
