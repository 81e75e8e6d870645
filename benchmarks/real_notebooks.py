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
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from benchlib import ratio

from tests.notebook_runs import Kernel, Shown, render


@dataclass
class Result:
    name: str
    cells: int
    nondeterministic: list[int] = field(default_factory=list)
    with_ids: list[tuple[int, str, str]] = field(default_factory=list)
    without_ids: list[tuple[int, str, str]] = field(default_factory=list)
    refused: int = 0
    edit: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    stock_errors: int = 0


def plain_run(kernel_name: str, path: Path, cells: list[str]) -> tuple[list[str], float]:
    """The cells in order, without cell ids (stock, or the reactive kernel as
    nbclient drives it): each cell's output, and the seconds it took."""
    kernel = Kernel(kernel_name, path.parent)
    try:
        started = time.perf_counter()
        outputs = [render(kernel.execute(code)[1], digests=True) for code in cells]
        return outputs, time.perf_counter() - started
    finally:
        kernel.close()


def stock_run(path: Path, cells: list[str]) -> tuple[list[str], float]:
    return plain_run("python3", path, cells)


def stock_reference(path: Path, cells: list[str]) -> tuple[list[str], set[int], float]:
    """Stock's outputs, the cells whose outputs differ between two stock runs (random
    numbers, timings: left out of comparisons), and the first run's seconds."""
    first, seconds = stock_run(path, cells)
    second, _ = stock_run(path, cells)
    return first, {i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b}, seconds


def reactive_with_ids(path: Path, cells: list[str],
                      edit: tuple[int, str] | None = None) -> tuple[list[str], int, float,
                                                                   list[str] | None]:
    """Cells sent with ids, in order; then, if ``edit``, that one cell again
    with new code.  Returns what each cell shows, refusals, seconds, and what
    each shows after the edit."""
    kernel = Kernel("reactive", path.parent)
    ids = [f"cell-{i}" for i in range(len(cells))]
    shown = Shown(ids)
    refused = 0
    try:
        started = time.perf_counter()
        for cell, code in zip(ids, cells, strict=True):
            reply, messages = kernel.execute(code, cell)
            shown.take(cell, messages)
            refused += reply["content"].get("ename") == "CycleError"
        seconds = time.perf_counter() - started
        first = shown.render(ids, digests=True)
        after = None
        if edit is not None:
            index, code = edit
            shown.take(ids[index], kernel.execute(code, ids[index])[1])
            after = shown.render(ids, digests=True)
        return first, refused, seconds, after
    finally:
        kernel.close()


_NUMBER = re.compile(r"(?<![\w.])([2-9]|[1-9]\d{1,3})(?![\w.])")


def find_edit(cells: list[str]) -> tuple[int, str] | None:
    """An early cell assigning something from a number that later cells read:
    change the first such number, as a user editing the data would."""
    for index, code in enumerate(cells[: max(3, len(cells) // 2)]):
        if code.lstrip().startswith(("%", "!")):
            continue
        for line in code.splitlines():
            match = re.match(r"\s*([A-Za-z_]\w*)\s*=[^=]", line)
            if not match or not _NUMBER.search(line.split("=", 1)[1]):
                continue
            name = match.group(1)
            if any(re.search(rf"\b{name}\b", later) for later in cells[index + 1:]):
                start = line.index("=", match.start(1)) + 1
                number = _NUMBER.search(line, start)
                assert number is not None
                value = int(number.group(1))
                # The number itself, not the same digits in a name (`tables[2]` in
                # `table2 = tables[2]`) or a string earlier on the line.
                new_line = line[:number.start(1)] + str(value + 1) + line[number.end(1):]
                return index, code.replace(line, new_line, 1)
    return None


def compare(stock: list[str], mine: list[str], skip: set[int]) -> list[tuple[int, str, str]]:
    return [(i, a, b) for i, (a, b) in enumerate(zip(stock, mine, strict=True))
            if i not in skip and a != b]


def measure(path: Path, with_edit: bool) -> Result:
    nb = nbformat.read(path, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    result = Result(path.name, len(cells))
    first, skip, t_stock = stock_reference(path, cells)
    result.nondeterministic = sorted(skip)
    result.stock_errors = sum(1 for out in first if "Error:" in out)
    result.seconds["stock"] = t_stock
    edit = find_edit(cells) if with_edit else None
    mine, refused, t_ids, after = reactive_with_ids(path, cells, edit)
    result.with_ids = compare(first, mine, skip)
    result.refused = refused
    result.seconds["reactive_ids"] = t_ids
    batch, t_batch = plain_run("reactive", path, cells)
    result.without_ids = compare(first, batch, skip)
    result.seconds["reactive_no_ids"] = t_batch
    if edit is not None and after is not None:
        edited = list(cells)
        edited[edit[0]] = edit[1]
        expected, skip_edit, _ = stock_reference(path, edited)
        skip_edit |= skip
        result.edit = {"cell": edit[0], "code": edit[1],
                       "differ": compare(expected, after, skip_edit),
                       "changed_by_edit": sum(1 for a, b in zip(first, expected, strict=True)
                                              if a != b)}
    return result


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
