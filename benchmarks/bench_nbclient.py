"""nbclient and papermill on the reactive kernel against stock ipykernel, in one run.

    .venv/bin/python benchmarks/bench_nbclient.py [NOTEBOOK.ipynb ...] [--runs 3]

Each notebook (default: ``tests/notebooks/*.ipynb``) is executed with nbclient
on stock ipykernel and on the reactive kernel, alternating, ``--runs`` times
each, kernel start included (as a papermill job pays it); then once with
papermill on each.  Prints the median seconds, the ratio, and whether the
outputs are the same as stock's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from benchlib import ROOT, median, ratio
from nbclient import NotebookClient

from tests.notebook_runs import render_saved


def outputs(nb: nbformat.NotebookNode) -> list[str]:
    return [render_saved(c.outputs) for c in nb.cells if c.cell_type == "code"]


def nbclient_run(path: Path, kernel: str) -> tuple[float, list[str]]:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, kernel_name=kernel, timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - started, outputs(nb)


def papermill_run(path: Path, kernel: str) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        started = time.perf_counter()
        papermill.execute_notebook(str(path), str(out), kernel_name=kernel,
                                   cwd=str(path.parent), progress_bar=False)
        return time.perf_counter() - started, outputs(nbformat.read(out, as_version=4))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "tests" / "notebooks").glob("*.ipynb"))
    totals = {"python3": 0.0, "reactive": 0.0}
    for path in paths:
        times: dict[str, list[float]] = {"python3": [], "reactive": []}
        seen: dict[str, list[str]] = {}
        for run in range(args.runs):
            for kernel in ("python3", "reactive") if run % 2 == 0 else ("reactive", "python3"):
                seconds, out = nbclient_run(path, kernel)
                times[kernel].append(seconds)
                seen[kernel] = out
        stock, reactive = (median(times[k]) for k in ("python3", "reactive"))
        totals["python3"] += stock
        totals["reactive"] += reactive
        pm = {k: papermill_run(path, k) for k in ("python3", "reactive")}
        same = seen["reactive"] == seen["python3"] and pm["reactive"][1] == pm["python3"][1]
        print(f"{path.name}: nbclient stock {stock:.2f} s, reactive {reactive:.2f} s, "
              f"ratio {ratio(reactive, stock):.3f}; papermill stock {pm['python3'][0]:.2f} s, "
              f"reactive {pm['reactive'][0]:.2f} s, ratio "
              f"{ratio(pm['reactive'][0], pm['python3'][0]):.3f}; outputs "
              f"{'the same as stock' if same else 'DIFFER'}", flush=True)
    print(f"all: nbclient ratio {ratio(totals['reactive'], totals['python3']):.3f} "
          f"(medians of {args.runs} runs, kernel start included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
