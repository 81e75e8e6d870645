"""Pure tests of cascade planning and run state (no kernel).

The executor here runs cell code with ``exec`` in a dict namespace, the same
interface the kernel glue implements with IPython.
"""

from __future__ import annotations

import asyncio
from typing import Any

from reactive_kernel.graph import CellId
from reactive_kernel.runner import Outcome, Runner, Status


class Notebook:
    """A runner plus an exec-based executor that logs what ran."""

    def __init__(self, mode: str = "auto") -> None:
        self.ns: dict[str, Any] = {}
        self.runner = Runner(self.ns, mode=mode)  # type: ignore[arg-type]
        self.log: list[str] = []

    async def _execute(self, cell: CellId, code: str, trigger: bool) -> Outcome:
        self.log.append(cell)
        try:
            exec(code, self.ns)
        except KeyboardInterrupt:
            return Outcome("interrupted", "KeyboardInterrupt")
        except Exception as err:
            return Outcome("error", f"{type(err).__name__}: {err}")
        return Outcome("ok")

    def run(self, cell: str | None, code: str, **kw: Any) -> Any:
        plan = self.runner.submit(CellId(cell) if cell else None, code, **kw)
        self.log = []
        return asyncio.run(self.runner.run(plan, self._execute, kw.get("is_pending")))


def test_chain_cascade_updates_values_in_order() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "z = y * 10")
    report = nb.run("a", "x = 5")
    assert report.ran == ["a", "b", "c"]
    assert nb.log == ["a", "b", "c"]
    assert nb.ns["z"] == 60
    assert {c: nb.runner.state(CellId(c)).status for c in "abc"} == {
        "a": Status.OK, "b": Status.OK, "c": Status.OK}


def test_runs_count_triggers_and_reruns_but_not_skips() -> None:
    nb = Notebook()
    for cell, code in (("a", "x = 1"), ("b", "y = 1 / x"), ("c", "z = y + 1"), ("a", "x = 2")):
        nb.run(cell, code)

    def runs() -> dict[str, int]:
        cells: dict[str, Any] = nb.runner.describe()["cells"]  # type: ignore[assignment]
        return {c: info["runs"] for c, info in cells.items()}

    assert runs() == {"a": 2, "b": 2, "c": 2}
    nb.run("a", "x = 0")  # b fails, c is skipped: it did not run
    assert runs() == {"a": 3, "b": 3, "c": 2}


def test_failure_skips_descendants_and_names_the_cause() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = 1 / x")
    nb.run("c", "z = y + 1")
    nb.run("d", "w = x + 1")
    report = nb.run("a", "x = 0")
    assert report.ran == ["a", "b", "d"]
    assert report.skipped == ["c"]
    assert report.errors == {"b": "ZeroDivisionError: division by zero"}
    state = nb.runner.state(CellId("c"))
    assert state.status is Status.SKIPPED and state.skipped_because == "b"
    assert "z" not in nb.ns  # c did not run, and its old value is gone


def test_stale_values_are_deleted_before_rerun() -> None:
    nb = Notebook()
    nb.run("a", "x = 1\nold = 2")
    nb.run("b", "print(old)")
    report = nb.run("a", "x = 1")
    assert "old" not in nb.ns
    assert report.errors["b"].startswith("NameError")
    # A failing cell leaves no stale value of its own either.
    nb.run("a", "x = 1 / 0")
    assert "x" not in nb.ns


def test_self_update_keeps_its_input() -> None:
    nb = Notebook()
    nb.run(None, "n = 1")
    nb.run(None, "n += 1")
    nb.run(None, "n += 1")
    assert nb.ns["n"] == 3


def test_lazy_mode_marks_stale_then_runs_stale_ancestors_first() -> None:
    nb = Notebook(mode="lazy")
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "z = y + 1")
    report = nb.run("a", "x = 10")
    assert report.ran == ["a"] and report.stale == ["b", "c"]
    assert nb.ns["z"] == 3
    assert nb.runner.state(CellId("b")).status is Status.STALE
    report = nb.run("c", "z = y + 1")
    assert report.ran == ["b", "c"]
    assert nb.ns["z"] == 12
    assert nb.runner.run_stale() is None


def test_pending_cells_and_their_descendants_are_deferred() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "z = y + 1")
    nb.run("d", "w = x + 2")
    plan = nb.runner.submit(CellId("a"), "x = 2", pending=[CellId("b")])
    assert plan.run == ["a", "d"] and plan.deferred == ["b", "c"]
    # A request that arrives during the cascade defers the cell too.
    plan = nb.runner.submit(CellId("a"), "x = 3")
    report = asyncio.run(nb.runner.run(plan, nb._execute, lambda c: c == "b"))
    assert report.ran == ["a", "d"] and report.deferred == ["b", "c"]


def test_interrupt_ends_the_cascade() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = x\nif y == 2: raise KeyboardInterrupt")
    nb.run("c", "z = y")
    report = nb.run("a", "x = 2")
    assert report.interrupted
    assert report.ran == ["a", "b"] and report.skipped == ["c"]
    assert nb.runner.state(CellId("b")).status is Status.INTERRUPTED


def test_deleted_cells_drop_names_and_rerun_readers() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    report = nb.run("c", "q = 0", deleted=[CellId("a")])
    assert "x" not in nb.ns
    assert report.ran == ["c", "b"]
    assert report.errors["b"].startswith("NameError")
    assert CellId("a") not in nb.runner.graph


def test_syntax_error_keeps_graph_and_skips_descendants() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    report = nb.run("a", "x = (")
    assert report.ran == ["a"] and report.skipped == ["b"]
    assert nb.runner.graph.children(CellId("a")) == {"b": frozenset({"x"})}


def test_console_inputs_without_names_leave_no_node() -> None:
    nb = Notebook()
    nb.run(None, "print('hello')")
    nb.run(None, "v = 1")
    nb.run(None, "v = 2")  # takes over v; the first definer is dropped
    assert len(nb.runner.graph) == 1


def test_repeated_edits_reuse_the_plan_only_while_the_edges_stay() -> None:
    """The cascade of a cell edited again is reused while the graph's edges are
    the same, and recomputed as soon as any edge or cell changes."""
    nb = Notebook()
    graph = nb.runner.graph
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "z = y + 1")
    version = graph.version
    assert nb.run("a", "x = 2").ran == ["a", "b", "c"]
    assert nb.run("a", "x = 3").ran == ["a", "b", "c"]
    assert graph.version == version  # same names: same edges
    nb.run("d", "w = x * 2")  # a new reader of x
    assert graph.version != version
    assert nb.run("a", "x = 4").ran == ["a", "b", "c", "d"]
    assert nb.ns["w"] == 8 and nb.ns["z"] == 6
    version = graph.version
    nb.run("b", "y = 100")  # b no longer reads x
    assert graph.version != version
    assert nb.run("a", "x = 5").ran == ["a", "d"]
    assert nb.ns["y"] == 100 and nb.ns["z"] == 101
    version = graph.version
    nb.run("a", "x = 6\nv = 1")  # a defines a new name nobody reads yet
    nb.run("e", "u = v + 1")
    assert nb.run("a", "x = 7\nv = 2").ran == ["a", "d", "e"]
    nb.run("f", "t = 0", deleted=["e"])
    assert nb.run("a", "x = 8\nv = 3").ran == ["a", "d"]
