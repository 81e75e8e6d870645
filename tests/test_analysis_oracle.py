"""The analysis against CPython's bytecode (``tests/analysis_oracle.py``) over
a sample of the standard library: every top-level statement as a cell, and
every whole module.  ``make check-analysis`` runs the whole standard library,
pandas and IPython and reports timings.
"""

from __future__ import annotations

import sysconfig
import warnings
from pathlib import Path

import pytest

import reactive_kernel.analysis as analysis_module
from reactive_kernel.analysis import CellAnalysis

from .analysis_oracle import missed, oracle, statements

STDLIB = Path(sysconfig.get_paths()["stdlib"])
#: Every 12th module of the standard library (tests and site-packages left out).
SAMPLE = sorted(p for p in STDLIB.rglob("*.py")
                if "test" not in p.parts and "tests" not in p.parts
                and "site-packages" not in p.parts)[::12]


def cells_of(path: Path) -> list[str]:
    try:
        source = path.read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, str(path), "exec", dont_inherit=True)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    return [source, *statements(source)]


def test_the_oracle_reads_the_bytecode() -> None:
    truth = oracle("if flag:\n    mode = 1\nprint(mode)\nclass C:\n    v = w\n"
                   "def f():\n    global g\n    g = h")
    assert truth.binds == {"mode", "C", "f"}
    assert truth.reads == {"flag", "mode", "w"}
    assert (truth.late_binds, truth.late_reads) == ({"g"}, {"h"})


def test_the_oracle_follows_class_bodies_del_and_calls() -> None:
    """A class body's ``del x`` unbinds its own ``x``: a later load reads the
    module's; a class body run by a call reads the module where it has not bound
    the name itself."""
    assert "x" in oracle("class C:\n    x = 1\n    del x\n    y = x\n").reads
    assert "e" in oracle("class K:\n    try:\n        pass\n"
                         "    except Exception as e:\n        pass\n    y = e\n").reads
    truth = oracle("def f():\n    class C:\n        codec = codec\n        n = 1\n"
                   "        m = n\n    return C\n")
    assert truth.late_reads == {"codec"}
    truth = oracle("def g(local):\n    class C:\n        v = local\n    return C\n")
    assert truth.late_reads == set()  # the function's own name: not the module's


def test_the_oracle_knows_a_loop_over_a_literal_runs() -> None:
    """A ``for`` over ``range(3)`` or ``[1, 2]`` ends only after an iteration (the
    first FOR_ITER cannot exit); over ``range(n)`` it may not run at all."""
    assert oracle("for i in range(3):\n    pass\nprint(i)").reads == set()
    assert oracle("for i, c in enumerate('ab'):\n    pass\nprint(i, c)").reads == set()
    assert oracle("class C:\n    for j in [1]:\n        pass\n    k = j\n").reads == set()
    assert oracle("for i in range(n):\n    pass\nprint(i)").reads == {"n", "i"}
    assert oracle("for i in range(0):\n    pass\nprint(i)").reads == {"i"}
    assert oracle("for i in range(3):\n    if i:\n        continue\n    x = 1\n"
                  "print(x)").reads == {"x"}


def test_the_oracle_catches_an_analysis_that_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: an analysis that drops the reads of maybe-bound names is caught."""
    real = analysis_module.analyse

    def forgetful(code: str, *args: object, **kw: object) -> CellAnalysis:
        got = real(code)
        return CellAnalysis(got.defs, got.refs - got.weak, got.deletes, got.star_import,
                            got.inplace, frozenset(), got.calls)

    monkeypatch.setattr("tests.analysis_oracle.analyse", forgetful)
    assert missed("if flag:\n    mode = 1\nprint(mode)").reads == {"mode"}


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: str(p.relative_to(STDLIB)))
def test_no_missed_definition_or_read_in_the_standard_library(path: Path) -> None:
    problems = []
    for cell in cells_of(path):
        found = missed(cell)
        if found:
            problems.append((cell[:120], found))
    assert not problems, problems
