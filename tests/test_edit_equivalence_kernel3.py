"""Edit equivalence of a real reactive kernel with classes, dataclasses,
decorators, closures, ``global``, conditional and deleted names and SQL cells
(``tests/notebook_model_kernel3.py``).

Each example runs in a fresh reactive kernel; after every edit and its
cascade, every cell's output and the final namespace must be what stock
ipykernel shows running the edited notebook top to bottom (``%reset -f``
and a fresh DuckDB connection first), with ``%%sql`` cells run through
DuckDB's API (:func:`stock_code`). A SQL cell is compared by its error only
(the kernel shows a table where the API binds a frame).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings

from .conftest import KernelHarness
from .notebook_model import Edit, assert_top_to_bottom
from .notebook_model_kernel3 import (
    NAMES,
    examples,
    guarded_read_below,
    is_sql,
    normalise,
    read_below,
    stock_code,
)
from .test_edit_equivalence_kernel import KernelNotebook

SHOW_NAMESPACE = ("repr(sorted((n, repr(v)) for n, v in globals().items() if n in "
                  + repr(NAMES) + "))")


def shown(messages: list[dict[str, Any]], sql: bool) -> str:
    parts: list[str] = []
    for m in messages:
        content = m["content"]
        kind = m["msg_type"]
        if kind == "clear_output":
            parts = []
        elif kind == "stream":
            if content["text"].startswith("Not run:"):
                parts.append("skipped")
            elif content["name"] == "stdout" and not sql:
                parts.append(content["text"])
        elif kind in ("execute_result", "display_data") and not sql:
            parts.append(content["data"].get("text/plain", "") + "\n")
        elif kind == "error":
            parts.append("SqlError\n" if sql else content["ename"] + "\n")
    return normalise("".join(parts))


class Notebook3(KernelNotebook):
    def _take(self, messages: list[dict[str, Any]]) -> None:
        for m in messages:
            cell = m.get("metadata", {}).get("cellId")
            if cell in self.code and m["msg_type"] in (
                    "clear_output", "stream", "execute_result", "display_data", "error"):
                self.outputs.setdefault(cell, []).append(m)

    def shown(self) -> list[str]:
        return [shown(self.outputs.get(c, []), is_sql(self.code[c])) for c in self.order]


def stock_top_to_bottom(stock: KernelHarness, cells: list[str]) -> tuple[list[str], str]:
    stock.ok("%reset -f")
    stock.ok("import duckdb as _duckdb\n_con = _duckdb.connect()", silent=True)
    outputs = [shown(stock.run(stock_code(code)).iopub, is_sql(code)) for code in cells]
    return outputs, normalise(stock.value(SHOW_NAMESPACE))


def check(nb: Notebook3, stock: KernelHarness, log: list[str]) -> None:
    cells = nb.cells()
    if read_below(cells):
        log.append("ill-formed")
        return
    expected, namespace = stock_top_to_bottom(stock, cells)
    if guarded_read_below(cells):
        log.append("limit")
        return
    log.append("checked")
    got = nb.shown()
    assert_top_to_bottom(cells, got, expected)
    if "skipped" not in got:
        assert normalise(nb.k.value(SHOW_NAMESPACE)) == namespace, cells


def run_example(stock: KernelHarness, cells: list[str], changes: list[Edit],
                log: list[str]) -> None:
    k = KernelHarness("reactive")
    try:
        nb = Notebook3(k)
        nb.build(cells)
        check(nb, stock, log)
        for edit in changes:
            nb.apply(edit)
            check(nb, stock, log)
    finally:
        k.close()


@pytest.fixture(scope="module")
def stock() -> Iterator[KernelHarness]:
    harness = KernelHarness("python3")
    yield harness
    harness.close()


@settings(max_examples=int(os.environ.get("RK_FUZZ3") or 5), deadline=None,
          derandomize=not os.environ.get("RK_FUZZ3"),
          suppress_health_check=list(HealthCheck))
@given(ex=examples())
# A plain CREATE TABLE below a cell making the table (``already exists``) did not
# run again when that cell stopped making it: its readers read the old table.
@example(ex=(["%%sql\nCREATE TABLE tb AS SELECT 5 AS a", "%%sql\nCREATE TABLE tb AS SELECT 9 AS a",
              "%%sql r3\nSELECT count(*) AS c, sum(a) AS s FROM tb",
              "print('r3', r3['c'].tolist(), [int(v) for v in r3['s']])"],
             [Edit("edit", 0, code="k = 1")]))
def test_classes_decorators_and_sql_give_what_stock_gives(
        stock: KernelHarness, ex: tuple[list[str], list[Edit]]) -> None:
    """A few derandomized examples; ``RK_FUZZ3=N`` runs N random ones."""
    run_example(stock, *ex, [])
