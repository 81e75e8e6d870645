"""Edit equivalence between a real reactive kernel and stock ipykernel.

Random notebooks (``tests/notebook_model.py``) are sent to a reactive kernel
cell by cell with cell ids, as JupyterLab sends them; random edits change
code (an execute_request), insert and move cells (the notebook order in a
``reactive_graph_request``, as the web UI sends it) and delete them.  After
every edit and its cascade, each cell's output (routed by ``metadata.cellId``)
and the final namespace must equal what a stock ipykernel shows running the
edited notebook top to bottom in a fresh namespace.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from .conftest import DEFAULT_TIMEOUT, KernelHarness
from .notebook_model import (
    NAMES,
    OPAQUE,
    Edit,
    EditedNotebook,
    assert_top_to_bottom,
    edits,
    notebooks,
    well_formed,
)

SHOW_NAMESPACE = (
    f"print(sorted((n, repr(v) if n not in {OPAQUE!r} else 'defined') "
    "for n, v in globals().items() if n in " + repr(NAMES) + "))"
)


def shown(messages: list[dict[str, Any]]) -> str:
    """What a cell shows, in the model's form: text, results, error names."""
    parts = []
    for m in messages:
        content = m["content"]
        if m["msg_type"] == "clear_output":
            parts = []
        elif m["msg_type"] == "stream":
            parts.append("skipped" if content["text"].startswith("Not run:")
                         else content["text"])
        elif m["msg_type"] == "execute_result":
            parts.append(content["data"]["text/plain"] + "\n")
        elif m["msg_type"] == "error":
            parts.append(content["ename"] + "\n")
    return "".join(parts)


def graph_request(k: KernelHarness, content: dict[str, Any]) -> dict[str, Any]:
    """A reactive_graph_request; returns the reply and the iopub messages of
    the cells it re-ran (until its idle)."""
    msg = k.kc.session.msg("reactive_graph_request", content)
    k.kc.shell_channel.send(msg)
    result = k.collect(msg)
    return {"reply": result.reply["content"], "iopub": result.iopub}


class KernelNotebook(EditedNotebook):
    """A notebook on a reactive kernel, with what each cell shows."""

    _notebooks = itertools.count()

    def __init__(self, kernel: KernelHarness) -> None:
        super().__init__(f"eq{next(self._notebooks)}-")
        self.k = kernel
        self.outputs: dict[str, list[dict[str, Any]]] = {}

    def _take(self, messages: list[dict[str, Any]]) -> None:
        for m in messages:
            cell = m.get("metadata", {}).get("cellId")
            if cell in self.code and m["msg_type"] in (
                    "clear_output", "stream", "execute_result", "error"):
                self.outputs.setdefault(cell, []).append(m)

    def submit(self, cell: str) -> bool:
        result = self.k.run(self.code[cell], cell)
        if result.reply["content"].get("ename") == "CycleError":
            return False
        self.outputs[cell] = []
        self._take(result.iopub)
        return True

    def send_order(self, removed: str | None = None) -> None:
        content: dict[str, Any] = {"order": self.order}
        if removed:
            content["remove"] = [removed]
            self.outputs.pop(removed, None)
        result = graph_request(self.k, content)
        assert result["reply"]["status"] == "ok", result["reply"]
        self._take(result["iopub"])

    def shown(self) -> list[str]:
        return [shown(self.outputs.get(c, [])) for c in self.order]

    def namespace(self) -> str:
        return self.k.ok(SHOW_NAMESPACE, "eq-namespace-probe").text()

    def close(self) -> None:
        graph_request(self.k, {"remove": [*self.order, "eq-namespace-probe"]})


def stock_top_to_bottom(stock: KernelHarness, cells: list[str]) -> tuple[list[str], str]:
    stock.ok("%reset -f")
    outputs = [shown(stock.run(code).iopub) for code in cells]
    return outputs, stock.ok(SHOW_NAMESPACE).text()


@pytest.fixture(scope="module")
def reactive() -> Iterator[KernelHarness]:
    harness = KernelHarness("reactive")
    yield harness
    harness.close()


@pytest.fixture(scope="module")
def stock() -> Iterator[KernelHarness]:
    harness = KernelHarness("python3")
    yield harness
    harness.close()


def check(nb: KernelNotebook, stock: KernelHarness) -> None:
    cells = nb.cells()
    if not well_formed(cells):
        return
    expected, namespace = stock_top_to_bottom(stock, cells)
    assert_top_to_bottom(cells, nb.shown(), expected)
    if "skipped" not in nb.shown():  # a cell below an error did not run
        assert nb.namespace() == namespace, cells


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cells=notebooks(), changes=edits())
def test_edits_give_what_stock_gives_top_to_bottom(
    reactive: KernelHarness, stock: KernelHarness, cells: list[str], changes: list[Edit],
) -> None:
    nb = KernelNotebook(reactive)
    try:
        nb.build(cells)
        check(nb, stock)
        for edit in changes:
            nb.apply(edit)
            check(nb, stock)
    finally:
        nb.close()


def test_the_harness_sees_a_wrong_output(reactive: KernelHarness,
                                         stock: KernelHarness) -> None:
    """Control: a cell whose shown output is stale fails the comparison."""
    nb = KernelNotebook(reactive)
    try:
        for code in ("a = 1", "print('ab', a, a)"):
            nb.submit(nb.new_cell(code, len(nb.order)))
        nb.outputs[nb.order[1]] = []  # as if the re-run output were lost
        with pytest.raises(AssertionError):
            check(nb, stock)
    finally:
        nb.close()


def test_graph_request_reruns_readers_after_a_move(reactive: KernelHarness) -> None:
    nb = KernelNotebook(reactive)
    try:
        for code in ("a = 1", "print('ab', a, a)", "a = 2"):
            nb.submit(nb.new_cell(code, len(nb.order)))
        first, reader, second = nb.order
        nb.order = [first, second, reader]
        started = time.monotonic()
        nb.send_order()
        assert time.monotonic() - started < DEFAULT_TIMEOUT
        assert nb.shown()[2] == "ab 2 2\n"
    finally:
        nb.close()




def test_a_builtin_redefined_below_a_reader_is_not_what_it_reads(
        reactive: KernelHarness, stock: KernelHarness) -> None:
    """``def eval`` above a reader and again below it: after an edit, the
    reader re-runs with the definition above it, as top to bottom; a builtin
    defined only below it reads as the builtin."""
    nb = KernelNotebook(reactive)
    try:
        for code in ("def eval(x):\n    return 'first'", "k = 1",
                     "print(eval(1), k, sum([1, 2]))", "def eval(x):\n    return 'second'",
                     "def sum(v):\n    return 'mine'\nprint(eval(0), sum(0))"):
            nb.submit(nb.new_cell(code, len(nb.order)))
        nb.code[nb.order[1]] = "k = 2"
        nb.submit(nb.order[1])
        assert nb.shown()[2] == "first 2 3\n"
        check(nb, stock)
    finally:
        nb.close()
