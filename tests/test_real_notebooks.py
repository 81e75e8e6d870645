"""Real public notebooks (``tests/real_notebooks``, see its README) give stock
ipykernel's outputs on the reactive kernel: run with cell ids as JupyterLab
sends them, without ids as nbclient sends them, and after an edit of an early
cell (only that cell sent, its cascade doing the rest) against stock running
the edited notebook top to bottom.  Cells whose outputs differ between two
stock runs (random draws, timings) are left out of every comparison, plots are
compared by a digest of their image.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .notebook_runs import measure

HERE = Path(__file__).parent / "real_notebooks"
NOTEBOOKS = sorted(HERE.glob("*/*.ipynb"))


def test_the_corpus_is_there() -> None:
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_real_notebook_shows_what_stock_shows(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / path.name  # (run in a directory of its own: it may write files)
    shutil.copy(path, copy)
    result = measure(copy, with_edit=True)
    # Most cells take part in the comparison.
    assert result.cells >= 10 and len(result.nondeterministic) <= result.cells // 4, result
    assert result.refused == 0
    assert result.with_ids == [], result.with_ids[:3]
    assert result.without_ids == [], result.without_ids[:3]
    if result.edit is not None:
        assert result.edit["changed_by_edit"] > 0, result.edit
        assert result.edit["differ"] == [], result.edit["differ"][:3]
