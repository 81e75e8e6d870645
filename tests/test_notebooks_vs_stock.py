"""Notebooks written the way real ones are (``tests/notebooks``: a frame
redefined with ``df = df.dropna()``, a figure in every cell, helpers and builtins
rewritten further down, columns assigned in place, names reused, classes that
register themselves in their base) give stock ipykernel's
outputs on the reactive kernel: sent with cell ids as JupyterLab sends them,
without ids as nbclient sends them, through nbclient and papermill, and after
an edit of an early data cell (only that cell sent, its cascade doing the
rest) against stock running the edited notebook top to bottom.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import papermill
import pytest
from nbclient import NotebookClient

from .notebook_runs import Kernel, Shown, render, render_saved, run_stock

HERE = Path(__file__).parent / "notebooks"
NOTEBOOKS = sorted(p.stem for p in HERE.glob("*.ipynb"))
#: Per notebook: an early cell's text and the edit a user makes to it.
EDITS = {
    "arrays": ("x = np.arange(10)", "x = np.arange(10, 20)"),
    "figures": ("np.linspace(0, 10, 50)", "np.linspace(0, 10, 40)"),
    "helpers": ("threshold = 5", "threshold = 3"),
    "models": ("rate = 0.1", "rate = 0.2"),
    "sales": ("n = 200", "n = 150"),
}


def code_cells(name: str) -> tuple[list[str], list[str]]:
    nb = nbformat.read(HERE / f"{name}.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    return [c.id for c in cells], [c.source for c in cells]


@pytest.fixture(scope="module")
def stock() -> Iterator[Kernel]:
    kernel = Kernel("python3", HERE)
    yield kernel
    kernel.close()


def test_every_notebook_has_one_cell_to_edit() -> None:
    assert sorted(EDITS) == NOTEBOOKS
    for name, (old, _new) in EDITS.items():
        _ids, cells = code_cells(name)
        assert sum(old in code for code in cells) == 1, name


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_with_cell_ids_and_after_an_edit(name: str, stock: Kernel) -> None:
    ids, cells = code_cells(name)
    expected = run_stock(stock, cells)
    assert not any("Error:" in out for out in expected), expected
    reactive = Kernel("reactive", HERE)
    try:
        shown = Shown(ids)
        for cell, code in zip(ids, cells, strict=True):
            shown.take(cell, reactive.execute(code, cell)[1])
        assert shown.render(ids) == expected
        old, new = EDITS[name]
        index = next(i for i, code in enumerate(cells) if old in code)
        edited = [code.replace(old, new) if i == index else code for i, code in enumerate(cells)]
        expected_after = run_stock(stock, edited)
        assert expected_after != expected  # the edit shows somewhere below
        reply, messages = reactive.execute(edited[index], ids[index])
        shown.take(ids[index], messages)
        assert reply["metadata"]["reactive"]["ran"][0] == ids[index]
        assert shown.render(ids) == expected_after
    finally:
        reactive.close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_without_cell_ids(name: str, stock: Kernel) -> None:
    _ids, cells = code_cells(name)
    expected = run_stock(stock, cells)
    reactive = Kernel("reactive", HERE)
    try:
        assert [render(reactive.execute(code)[1]) for code in cells] == expected
    finally:
        reactive.close()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbclient_and_papermill(name: str, tmp_path: Path) -> None:
    def outputs(nb: nbformat.NotebookNode) -> list[str]:
        return [render_saved(c.outputs) for c in nb.cells if c.cell_type == "code"]

    source = HERE / f"{name}.ipynb"
    runs = {}
    for kernel in ("python3", "reactive"):
        nb = nbformat.read(source, as_version=4)
        NotebookClient(nb, kernel_name=kernel, timeout=120,
                       resources={"metadata": {"path": str(HERE)}}).execute()
        runs[kernel] = outputs(nb)
    assert runs["reactive"] == runs["python3"]
    out = tmp_path / f"{name}-out.ipynb"
    papermill.execute_notebook(str(source), str(out), kernel_name="reactive", cwd=str(HERE),
                               progress_bar=False)
    assert outputs(nbformat.read(out, as_version=4)) == runs["python3"]
