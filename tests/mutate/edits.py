"""Small edits of a source tree, shared by mutations.py (the QEMU
series) and seabios_variants.py (the SeaBIOS series)."""
import sys


def apply_edits(src, edits, label):
    """EDITS: [(file relative to SRC, old text, new text)]; each old text
    must occur exactly once, or the run stops naming LABEL"""
    for path, old, new in edits:
        path = f"{src}/{path}"
        text = open(path).read()
        if text.count(old) != 1:
            sys.exit(f"{label}: anchor not found once in {path}: {old!r}")
        open(path, "w").write(text.replace(old, new))
