"""Edit equivalence, property-based, on the runner (no kernel): after any
edit and its cascade, every cell shows what running the edited notebook top
to bottom shows, and the namespace ends the same.

Random notebooks redefine names, update them from themselves, change objects
in place and read globals through functions; random edits change code,
insert, delete and move cells.  ``tests/test_edit_equivalence_kernel.py``
checks the same property between a real reactive kernel and stock ipykernel.
"""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reactive_kernel.graph import CellId, CycleError
from reactive_kernel.runner import Outcome, Runner, Status

from .notebook_model import (
    Edit,
    edits,
    exec_cell,
    notebooks,
    run_top_to_bottom,
    shown_namespace,
    well_formed,
)


class ReactiveNotebook:
    """A notebook driven as the web UI drives the kernel: cells with ids, the
    order sent on every structural change, outputs kept per cell."""

    _ids = itertools.count()

    def __init__(self, budget: int = 1 << 30) -> None:
        self.ns: dict[str, object] = {}
        self.runner = Runner(self.ns, budget=budget)
        self.order: list[CellId] = []
        self.code: dict[CellId, str] = {}
        self.shown: dict[CellId, str] = {}
        self.runs: list[CellId] = []

    async def _execute(self, cell: CellId, code: str, trigger: bool) -> Outcome:
        self.runs.append(cell)
        self.shown[cell] = out = exec_cell(code, self.ns)
        if out.endswith("Error\n"):
            return Outcome("error", out.strip())
        return Outcome("ok")

    def _run(self, plan: object) -> None:
        report = asyncio.run(self.runner.run(plan, self._execute))  # type: ignore[arg-type]
        for cell in report.skipped:
            self.shown[cell] = "skipped"

    def submit(self, cell: CellId) -> bool:
        """Run a cell; False if the kernel refused it (a cycle: only possible
        when a cell reads a name no cell above defines)."""
        try:
            plan = self.runner.submit(cell, self.code[cell])
        except CycleError:
            return False
        self._run(plan)
        return True

    def new_cell(self, code: str, index: int) -> CellId:
        cell = CellId(f"c{next(self._ids)}")
        self.code[cell] = code
        self.order.insert(index, cell)
        return cell

    def send_order(self, rebound: frozenset[CellId] = frozenset()) -> None:
        """As the kernel's reactive_graph_request does for an order or a removal."""
        rebound = rebound | self.runner.set_order(self.order)
        self._run(self.runner.plan_rebound(rebound))

    def apply(self, edit: Edit) -> None:
        n = len(self.order)
        if edit.kind == "edit" and n:
            cell = self.order[edit.index % n]
            old, self.code[cell] = self.code[cell], edit.code
            if not self.submit(cell):
                self.code[cell] = old  # refused: the edit changed nothing
        elif edit.kind == "insert":
            cell = self.new_cell(edit.code, edit.index % (n + 1))
            self.send_order()
            if not self.submit(cell):
                self.order.remove(cell)
                self.send_order()
        elif edit.kind == "delete" and n > 1:
            cell = self.order.pop(edit.index % n)
            del self.code[cell]
            self.shown.pop(cell, None)
            self.send_order(self.runner.remove([cell]))
        elif edit.kind == "move" and n > 1:
            cell = self.order.pop(edit.index % n)
            self.order.insert(edit.target % n, cell)
            self.send_order()

    def cells(self) -> list[str]:
        return [self.code[c] for c in self.order]

    def check(self) -> None:
        """Outputs and namespace equal a top-to-bottom run (if it is well formed)."""
        cells = self.cells()
        if not well_formed(cells):
            return
        expected = run_top_to_bottom(cells)
        shown = [self.shown.get(c, "") for c in self.order]
        for i, (got, want) in enumerate(zip(shown, expected.outputs, strict=True)):
            if got == "skipped":
                assert any(out.endswith("Error\n") for out in expected.outputs[:i]), (
                    cells, shown, expected.outputs)
                continue
            assert got == want, (i, cells, shown, expected.outputs)
        namespace = shown_namespace(self.ns)
        assert namespace == expected.namespace, (cells, namespace, expected.namespace)


def build(cells: list[str], budget: int = 1 << 30) -> ReactiveNotebook:
    nb = ReactiveNotebook(budget)
    for code in cells:
        cell = nb.new_cell(code, len(nb.order))
        assert nb.submit(cell)
    return nb


@settings(max_examples=300, deadline=None)
@given(notebooks(), edits())
def test_every_edit_gives_what_top_to_bottom_gives(cells: list[str], changes: list[Edit]) -> None:
    nb = build(cells)
    nb.check()
    for edit in changes:
        nb.apply(edit)
        nb.check()


@settings(max_examples=100, deadline=None)
@given(notebooks(), edits())
def test_with_no_memory_for_superseded_values_too(cells: list[str], changes: list[Edit]) -> None:
    """Budget 0: every superseded value is dropped and its cell re-runs when needed."""
    nb = build(cells, budget=0)
    nb.check()
    for edit in changes:
        nb.apply(edit)
        nb.check()


@settings(max_examples=100, deadline=None)
@given(notebooks(), st.integers(0, 20))
def test_rerunning_any_cell_unchanged_changes_nothing(cells: list[str], pick: int) -> None:
    """Running a cell again as it is (in-place changes included) leaves every
    output and the namespace as top to bottom has them."""
    nb = build(cells)
    cell = nb.order[pick % len(nb.order)]
    nb.submit(cell)
    nb.submit(cell)
    nb.check()
    assert nb.runner.state(cell).status in (Status.OK, Status.ERROR)
