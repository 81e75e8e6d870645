"""Real notebooks on the reactive kernel against stock ipykernel, cell by cell.

    python benchmarks/real_notebooks.py NOTEBOOK.ipynb ... [--edits 5] [--json OUT]

For each notebook (run in its own directory, so relative data paths work):

- stock ipykernel runs it top to bottom twice; cells whose outputs differ
  between the two runs (random numbers, timings, memory addresses left after
  normalisation) are *nondeterministic* and left out of every comparison;
- the reactive kernel runs it cell by cell **with cell ids**, as JupyterLab
  sends them, and each cell's output is what reached it last (re-runs
  included, routed by ``metadata.cellId``);
- the reactive kernel runs it **without cell ids** and without stdin, as
  nbclient and papermill do;
- for the first ``--edits`` notebooks with a suitable cell, an early cell
  whose names later cells read gets a number changed, as a user would edit
  it: the reactive kernel runs only that cell (and its cascade), and every
  cell is compared with stock ipykernel running the edited notebook top to
  bottom.

Images are compared by a digest of their data (a plot showing something else
differs); a plot that differs between the two stock runs is left out like any
nondeterministic output.  It prints, per notebook, the cells that differ from
stock and why, and a summary.  The notebooks are inputs: nothing of them is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchlib import ratio

from tests.notebook_runs import measure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--edits", type=int, default=5,
                        help="notebooks that also get an edit of an early cell")
    parser.add_argument("--json", type=Path, help="write every result here")
    args = parser.parse_args()
    results = []
    edits_left = args.edits
    for path in args.notebooks:
        try:
            result = measure(path, edits_left > 0)
        except Exception as err:  # one broken notebook must not stop the survey
            print(f"{path.name}: could not be measured: {type(err).__name__}: {err}")
            continue
        if result.edit is not None:
            edits_left -= 1
        results.append(result)
        edit = result.edit
        print(f"{result.name}: {result.cells} cells, {len(result.nondeterministic)} "
              f"nondeterministic, stock errors {result.stock_errors}; with ids "
              f"{len(result.with_ids)} differ ({result.refused} refused); without ids "
              f"{len(result.without_ids)} differ"
              + (f"; edit of cell {edit['cell']} ({edit['changed_by_edit']} outputs change): "
                 f"{len(edit['differ'])} differ" if edit else ""), flush=True)
        for label, diffs in (("ids", result.with_ids), ("no ids", result.without_ids),
                             ("edit", edit["differ"] if edit else [])):
            for i, want, got in diffs[:3]:
                print(f"    [{label}] cell {i}: stock {want[:80]!r} / reactive {got[:80]!r}")
    same_ids = sum(1 for r in results if not r.with_ids)
    same_batch = sum(1 for r in results if not r.without_ids)
    edited = [r for r in results if r.edit is not None]
    total_cells = sum(r.cells for r in results)
    print(f"\n{len(results)} notebooks, {total_cells} code cells")
    print(f"with cell ids:    {same_ids}/{len(results)} notebooks give stock's outputs; "
          f"{sum(len(r.with_ids) for r in results)} cells differ, "
          f"{sum(r.refused for r in results)} refused")
    print(f"without cell ids: {same_batch}/{len(results)} notebooks give stock's outputs; "
          f"{sum(len(r.without_ids) for r in results)} cells differ")
    print(f"edits:            {sum(1 for r in edited if not r.edit['differ'])}/{len(edited)} "
          f"edited notebooks give stock's outputs after the cascade")
    stock_s = sum(r.seconds["stock"] for r in results)
    with_ids = sum(r.seconds["reactive_ids"] for r in results)
    without_ids = sum(r.seconds["reactive_no_ids"] for r in results)
    print(f"time: stock {stock_s:.1f} s, reactive with ids {ratio(with_ids, stock_s):.2f}x, "
          f"without ids {ratio(without_ids, stock_s):.2f}x")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
