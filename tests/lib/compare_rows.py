"""compare_row() of scripts/lib.sh for Python probes: one measured cell
of COMPARISON.md, appended to $COMPARE_ROWS (tab-separated: question id
from tests/compare/questions.tsv, interface memmap|spmem, cell,
evidence, how to reproduce) and printed."""
import os


def _clean(s):
    return str(s).replace("\t", " ").replace("\n", " | ")


def compare_row(question, iface, cell, evidence, how=""):
    path = os.environ.get("COMPARE_ROWS") or os.path.join(
        os.environ.get("CACHE") or os.path.join(
            os.path.dirname(__file__), "..", "..", ".cache"),
        "compare", "rows.tsv")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as f:
        f.write("\t".join(_clean(x) for x in
                          (question, iface, cell, evidence, how)) + "\n")
    print("  ROW   %-20s %-6s %s" % (question, iface, cell), flush=True)
