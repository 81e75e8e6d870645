"""Batch frontends: nbclient, papermill and ``python -m reactive_kernel run``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook


def notebook(*sources: str, ids: list[str] | None = None) -> Any:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    if ids:
        for cell, cid in zip(nb.cells, ids, strict=True):
            cell.id = cid
    return nb


def outputs_of(nb: Any) -> list[list[dict[str, Any]]]:
    """What a reader sees: output type, text / data, error name."""
    seen = []
    for cell in nb.cells:
        cell_outputs = []
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                cell_outputs.append({"stream": out["name"], "text": out["text"]})
            elif out["output_type"] == "error":
                cell_outputs.append({"error": out["ename"]})
            else:
                cell_outputs.append({out["output_type"]: dict(out["data"])})
        seen.append(cell_outputs)
    return seen


ORDINARY = (
    "import math\nradius = 2.0",
    "area = math.pi * radius ** 2\nprint(f'area {area:.2f}')",
    "def scale(x, k=3):\n    return [v * k for v in x]\nvalues = scale([1, 2, 3])\nvalues",
    "from IPython.display import display, HTML\ndisplay(HTML('<b>bold</b>'))\nlen(values)",
    "import sys\nprint('warning', file=sys.stderr)\n{'total': sum(values)}",
)


def test_nbclient_gives_the_same_outputs_as_stock_ipykernel() -> None:
    results = {}
    for kernel in ("reactive", "python3"):
        nb = notebook(*ORDINARY)
        NotebookClient(nb, kernel_name=kernel, timeout=60).execute()
        results[kernel] = outputs_of(nb)
    assert results["reactive"] == results["python3"]
    assert results["reactive"][1] == [{"stream": "stdout", "text": "area 12.57\n"}]


def test_papermill_injected_parameters_take_effect(tmp_path: Path) -> None:
    import papermill

    nb = notebook("alpha = 0.1\nlabel = 'default'",
                  "result = alpha * 10\nprint(label, result)")
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "reactive", "display_name": "Python 3 (reactive)",
                                 "language": "python"}
    source = tmp_path / "params.ipynb"
    nbformat.write(nb, source)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(source), str(out), parameters={"alpha": 0.5,
                                                                   "label": "injected"},
                               kernel_name="reactive", progress_bar=False)
    ran = nbformat.read(out, as_version=4)
    tags = [c.metadata.get("tags", []) for c in ran.cells]
    assert ["injected-parameters"] in tags
    printed = [o["text"] for c in ran.cells for o in c.get("outputs", [])
               if o["output_type"] == "stream"]
    assert printed == ["injected 5.0\n"]  # the reader ran once, with the injected values


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reactive_kernel", "run", *args],
                          capture_output=True, text=True, timeout=180)


def test_run_executes_in_dependency_order(tmp_path: Path) -> None:
    # Saved out of order: each reader comes before what it reads.
    nb = notebook("print('c', b * 10)", "print('b', b := a + 1)", "a = 1\nprint('a', a)",
                  ids=["c", "b", "a"])
    path = tmp_path / "out_of_order.ipynb"
    nbformat.write(nb, path)
    result = run_cli(str(path), "-o", str(tmp_path / "done.ipynb"))
    assert result.returncode == 0, result.stderr
    assert "3/3" in result.stderr  # the progress bar
    done = nbformat.read(tmp_path / "done.ipynb", as_version=4)
    texts = [[o["text"] for o in c.outputs] for c in done.cells]
    assert texts == [["c 20\n"], ["b 2\n"], ["a 1\n"]]  # each cell ran exactly once
    counts = {c.id: c.execution_count for c in done.cells}
    assert counts["a"] < counts["b"] < counts["c"]
    # The input file was left alone.
    assert all(not c.outputs for c in nbformat.read(path, as_version=4).cells)


def test_run_fails_with_nonzero_exit_on_error(tmp_path: Path) -> None:
    nb = notebook("x = 1", "y = x / 0", "print('never', y)", ids=["x", "y", "z"])
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    result = run_cli(str(path), "--quiet")
    assert result.returncode == 1
    assert "cell y: ZeroDivisionError" in result.stderr
    done = nbformat.read(path, as_version=4)
    assert done.cells[1].outputs[0]["ename"] == "ZeroDivisionError"
    assert done.cells[2].outputs == []


@pytest.mark.parametrize("bad", ["missing.ipynb"])
def test_run_reports_unreadable_notebooks(tmp_path: Path, bad: str) -> None:
    result = run_cli(str(tmp_path / bad))
    assert result.returncode == 2 and "Cannot read" in result.stderr
