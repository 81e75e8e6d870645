"""Pure tests of cascade planning and run state (no kernel).

The executor here runs cell code with ``exec`` in a dict namespace, the same
interface the kernel glue implements with IPython.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import sys
import types
from typing import Any

import pytest

from reactive_kernel.generators import same_state
from reactive_kernel.graph import CellId
from reactive_kernel.runner import Outcome, Runner, Status


class Notebook:
    """A runner plus an exec-based executor that logs what ran."""

    def __init__(self, mode: str = "auto") -> None:
        self.ns: dict[str, Any] = {}
        self.runner = Runner(self.ns, mode=mode)  # type: ignore[arg-type]
        self.log: list[str] = []
        self.context = contextvars.copy_context()

    async def _execute(self, cell: CellId, code: str, trigger: bool) -> Outcome:
        self.log.append(cell)
        try:
            exec(code, self.ns)
        except KeyboardInterrupt:
            return Outcome("interrupted", "KeyboardInterrupt")
        except Exception as err:
            return Outcome("error", f"{type(err).__name__}: {err}")
        return Outcome("ok")

    @classmethod
    def of(cls, cells: dict[str, str], mode: str = "auto") -> Notebook:
        """A notebook whose cells ran top to bottom, with these ids."""
        nb = cls(mode)
        for cell, code in cells.items():
            nb.run(cell, code)
        return nb

    def run(self, cell: str | None, code: str, **kw: Any) -> Any:
        plan = self.runner.submit(CellId(cell) if cell else None, code, **kw)
        self.log = []
        # One context for every run, as a kernel's cells share one: a setting
        # kept in a context variable (numpy's print options) holds to the next.
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(self.runner.run(plan, self._execute, kw.get("is_pending")),
                                    context=self.context)
            return loop.run_until_complete(task)
        finally:
            loop.close()


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


# -- notebook order: values by definition -----------------------------------------


def test_redefinitions_bind_to_the_nearest_definer_above() -> None:
    """The issue's example: each reader sees the nearest definition above it."""
    nb = Notebook()
    nb.run("1", "a = 5")
    nb.run("2", "b = 3; out2 = a + b")
    nb.run("3", "a = 0; b = 1")
    nb.run("4", "out4 = a + b")
    assert (nb.ns["out2"], nb.ns["out4"]) == (8, 1)
    report = nb.run("1", "a = 6")
    assert report.ran == ["1", "2"]
    assert (nb.ns["out2"], nb.ns["out4"], nb.ns["a"], nb.ns["b"]) == (9, 1, 0, 1)
    report = nb.run("3", "a = 10; b = 1")
    assert report.ran == ["3", "4"] and nb.ns["out4"] == 11


def test_a_self_update_chain_reruns_from_the_edit() -> None:
    nb = Notebook()
    nb.run("load", "df = [3, None, 1]")
    nb.run("clean", "df = [v for v in df if v is not None]")
    nb.run("sort", "df = sorted(df)")
    nb.run("show", "shown = list(df)")
    assert nb.ns["shown"] == [1, 3]
    report = nb.run("load", "df = [5, None, 2, 4]")
    assert report.ran == ["load", "clean", "sort", "show"]
    assert nb.ns["shown"] == [2, 4, 5]
    report = nb.run("clean", "df = [v for v in df if v is not None and v > 2]")
    assert report.ran == ["clean", "sort", "show"]
    assert nb.ns["shown"] == [4, 5]


def test_rerunning_an_in_place_change_starts_from_the_definer() -> None:
    nb = Notebook()
    nb.run("make", "lst = [1]")
    nb.run("grow", "lst += [2]")
    nb.run("show", "shown = list(lst)")
    for _ in range(2):
        report = nb.run("grow", "lst += [2]")
        assert report.restored == ["make"]
        assert report.ran == ["make", "grow", "show"]
        assert nb.ns["shown"] == [1, 2]
    assert nb.ns["lst"] == [1, 2]


def test_reading_an_iterator_consumes_it_so_a_rerun_starts_from_its_definer() -> None:
    """DSIRP's generator notebook (audit 18): ``it = card_generator(...)``,
    ``next(it)``, ``next(it)``, ``for card in it``.  A re-run of ``next(it)`` raised
    StopIteration (the generator was spent) where top to bottom shows the first
    card: a read of a generator or an iterator of the builtins, ``itertools``,
    ``csv`` or the notebook's own classes is a change of it in place."""
    nb = Notebook()
    nb.run("make", "def gen(n):\n    yield from range(n)\nit = gen(3)")
    nb.run("first", "a = next(it)")
    nb.run("second", "b = next(it)")
    nb.run("rest", "rest = list(it)")
    assert (nb.ns["a"], nb.ns["b"], nb.ns["rest"]) == (0, 1, [2])
    report = nb.run("first", "a = next(it)")
    assert report.ran == ["make", "first", "second", "rest"]
    assert (nb.ns["a"], nb.ns["b"], nb.ns["rest"]) == (0, 1, [2])
    report = nb.run("rest", "rest = list(it)")
    assert report.ran == ["make", "first", "second", "rest"] and nb.ns["rest"] == [2]
    # The builtins' iterators and itertools' too; a list is no iterator.
    nb.run("z", "pairs = zip('ab', 'cd')\nfrom itertools import count\nids = count()")
    nb.run("zz", "first_pair = next(pairs)\nfirst_id = next(ids)")
    report = nb.run("zz", "first_pair = next(pairs)\nfirst_id = next(ids)")
    assert report.ran == ["z", "zz"]
    assert (nb.ns["first_pair"], nb.ns["first_id"]) == (("a", "c"), 0)
    nb.run("l", "xs = [1, 2]")
    nb.run("ll", "n = len(xs)")
    assert nb.run("ll", "n = len(xs)").ran == ["ll"]
    # A file open for reading only is read up as well (ElementsOfDataScience:
    # ``fp = gzip.open(path)`` then ``pd.read_fwf(fp, ...)``).
    import gzip
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/lines.gz"
        with gzip.open(path, "wt") as out:
            out.write("a\nb\n")
        nb.run("open", f"import gzip\nfp = gzip.open({path!r}, 'rt')")
        nb.run("read", "lines = fp.read().split()")
        assert nb.run("read", "lines = fp.read().split()").ran == ["open", "read"]
        assert nb.ns["lines"] == ["a", "b"]
        nb.ns["fp"].close()
    # A database cursor or a file open for writing is no mere iterator: re-running
    # an INSERT does not re-run the cells above using the cursor.
    nb.run("db", "import sqlite3\ncon = sqlite3.connect(':memory:')\ncur = con.cursor()")
    nb.run("t", "cur.execute('CREATE TABLE t (x)')")
    nb.run("i", "cur.execute('INSERT INTO t VALUES (1)')")
    assert nb.run("i", "cur.execute('INSERT INTO t VALUES (1)')").ran == ["i"]


def test_a_reader_of_an_object_changed_below_gets_a_fresh_one() -> None:
    nb = Notebook()
    nb.run("make", "d = {}")
    nb.run("count", "n = len(d)")
    nb.run("fill", "d['k'] = 1")
    report = nb.run("count", "n = len(d)")
    assert report.restored == ["make"] and nb.ns["n"] == 0
    assert nb.ns["d"] == {"k": 1}  # the notebook's last word on d


def test_past_the_budget_superseded_values_go_and_their_cell_reruns() -> None:
    nb = Notebook()
    nb.runner.values.budget = 0
    nb.run("a", "x = list(range(1000))")
    nb.run("b", "total = sum(x)")
    nb.run("c", "x = [0]")
    assert nb.runner.values.superseded_bytes() == 0  # dropped at once
    report = nb.run("b", "total = sum(x) + 1")
    assert report.restored == ["a"] and nb.ns["total"] == 499501
    assert nb.ns["x"] == [0]


def test_superseded_values_are_measured() -> None:
    nb = Notebook()
    nb.run("a", "x = bytes(10_000_000)")
    assert nb.runner.values.superseded_bytes() == 0
    nb.run("b", "x = bytes(10)")
    assert 10_000_000 <= nb.runner.values.superseded_bytes() < 10_100_000


def test_cells_loaded_but_never_run_run_when_their_values_are_needed() -> None:
    nb = Notebook()
    assert nb.runner.load([(CellId("a"), "x = 1"), (CellId("b"), "y = x + 1"),
                           (CellId("c"), "z = y * 10")]) == {}
    report = nb.run("c", "z = y * 10")
    assert report.restored == ["a", "b"] and report.ran == ["a", "b", "c"]
    assert nb.ns["z"] == 20


def test_moving_a_definer_reruns_the_readers_it_now_feeds() -> None:
    nb = Notebook()
    nb.run("first", "x = 1")
    nb.run("reader", "seen = x")
    nb.run("second", "x = 2")
    assert nb.ns["seen"] == 1
    rebound = nb.runner.set_order([CellId(c) for c in ("first", "second", "reader")])
    assert rebound == {"reader"}
    report = asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
    assert report.ran == ["reader"] and nb.ns["seen"] == 2


def test_a_function_reads_globals_where_it_is_called() -> None:
    nb = Notebook()
    nb.run("def", "def f():\n    return k * 10")
    nb.run("k1", "k = 1")
    nb.run("use1", "r1 = f()")
    nb.run("k2", "k = 2")
    nb.run("use2", "r2 = f()")
    assert (nb.ns["r1"], nb.ns["r2"]) == (10, 20)
    report = nb.run("k2", "k = 3")
    assert report.ran == ["k2", "use2"] and nb.ns["r2"] == 30 and nb.ns["r1"] == 10
    report = nb.run("def", "def f():\n    return k * 100")
    assert report.ran == ["def", "use1", "use2"]
    assert (nb.ns["r1"], nb.ns["r2"]) == (100, 300)


@pytest.mark.parametrize(("maker", "make", "call"), [
    ("def f(x):\n    return x * k", "g = f", "g(1)"),  # an alias
    ("class Sig:\n    def val(self, x):\n        return x * k", "g = Sig()", "g.val(1)"),
    ("def make():\n    def inner(x):\n        return x * k\n    return inner", "g = make()",
     "g(1)"),  # a closure a factory made
    # Found by audit 8: inherited methods and more ways of naming the object.
    ("class A:\n    def val(self, x):\n        return x * k", "class B(A):\n    pass\ng = B()",
     "g.val(1)"),
    ("class A:\n    def val(self, x):\n        return x * k",
     "class B(A):\n    def val(self, x):\n        return super().val(x)\ng = B()", "g.val(1)"),
    ("class A:\n    def val(self, x):\n        return x * k", "g, other = A(), 1", "g.val(1)"),
    ("class A:\n    def val(self, x):\n        return x * k", "g: A = A()", "g.val(1)"),
    ("class A:\n    def val(self, x):\n        return x * k", "g = A() if True else None",
     "g.val(1)"),
    ("def f(x):\n    return x * k", "import functools\ng = functools.partial(f)", "g(1)"),
    ("def f(x):\n    return x * k", "g = {'f': f}", "g['f'](1)"),
    ("def f(self, x):\n    return x * k", "class C:\n    val = f\ng = C()", "g.val(1)"),
    ("class A:\n    def val(self, x):\n        return x * k", "ms = {'a': A()}\ng = ms['a']",
     "g.val(1)"),
    ("class A:\n    def val(self, x):\n        return x * k", "g = [A() for _ in range(2)]",
     "g[1].val(1)"),
])
def test_a_function_reached_through_another_name_reads_globals_where_it_is_called(
        maker: str, make: str, call: str) -> None:
    """Found by a real-notebook audit: the reads of ``f`` were those of the cell
    that made ``g``, so editing ``k`` between it and the call left ``r`` stale."""
    nb = Notebook()
    nb.run("k1", "k = 2")
    nb.run("def", maker)
    nb.run("make", make)
    nb.run("k2", "k = 10")
    nb.run("use", f"r = {call}")
    assert nb.ns["r"] == 10
    report = nb.run("k2", "k = 11")
    assert report.ran == ["k2", "use"] and nb.ns["r"] == 11
    nb.run("k1", "k = 3")  # the call still reads the k just above it
    assert nb.ns["r"] == 11


def test_a_function_writing_a_global_defines_it_in_the_calling_cell() -> None:
    nb = Notebook()
    nb.run("def", "def load():\n    global model\n    model = source * 2")
    nb.run("src", "source = 1")
    nb.run("call", "load()")
    nb.run("use", "pred = model + 1")
    assert nb.ns["pred"] == 3
    report = nb.run("src", "source = 5")
    assert report.ran == ["src", "call", "use"] and nb.ns["pred"] == 11


def test_readers_of_values_that_did_not_change_are_not_rerun() -> None:
    nb = Notebook()
    nb.run("imp", "import math")
    nb.run("use", "r = math.floor(2.5)")
    report = nb.run("imp", "import math  # again")
    assert report.ran == ["imp"] and report.unchanged == ["use"]
    assert nb.runner.state(CellId("use")).status is Status.OK
    # A value that changed does re-run its readers.
    nb.run("imp", "import math\nmath = type('M', (), {'floor': staticmethod(round)})")
    assert nb.log == ["imp", "use"]


def test_batch_inputs_never_rerun_earlier_inputs() -> None:
    nb = Notebook()
    for code in ('data = {"a": 1}', 'data["e"] = 1.25', 'data = {"b": 2}', "out = dict(data)"):
        report = asyncio.run(nb.runner.run(
            nb.runner.submit(None, code, interactive=False), nb._execute))
        assert len(report.ran) == 1
    assert nb.ns["out"] == {"b": 2}


def test_a_skipped_cell_leaves_the_names_as_the_cells_above_left_them() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = 1 / z_src")
    nb.run("src", "z_src = 1")
    nb.run("c", "x = y")
    nb.runner.set_order([CellId(c) for c in ("a", "src", "b", "c")])
    report = nb.run("src", "z_src = 0")
    assert report.skipped == ["c"] and nb.ns["x"] == 1


def test_a_cell_drawing_or_changing_in_place_below_a_skipped_one_is_skipped() -> None:
    """Audit 27: a cell drawing from ``np.random`` (or ``random``) below a skipped
    drawer, and a cell changing in place through a function (``add(7)`` with
    ``add`` appending to ``total``) below a skipped changer, read weakly: they
    were left as they were, showing numbers from the old stream and a list
    holding what the skipped cell appended, as if current.  A skipped cell
    passes nothing on: they are skipped too."""
    cells = {"imp": "import numpy as np\nimport random\nnp.random.seed(0)\nrandom.seed(0)",
             "n": "n = 3", "r": "r = np.random.rand(n)\nq = 1 / (n - 2)",
             "s": "s = q + np.random.rand()", "b": "b = np.random.rand()",
             "p": "p = [random.random() for _ in range(n)]\nq2 = 1 / (n - 2)",
             "t": "t = q2 + random.random()", "u": "u = random.random()"}
    nb = Notebook.of(cells)
    report = nb.run("n", "n = 2")
    assert report.skipped == ["s", "b", "t", "u"] and not report.unchanged
    assert report.skipped_because == {"s": "r", "b": "r", "t": "p", "u": "p"}
    cells = {"t": "total = []", "f": "def add(v):\n    total.append(v)", "k": "k = 1",
             "q": "q = 1 / k", "a": "add(q)", "b": "add(7)", "show": "shown = list(total)"}
    nb = Notebook.of(cells)
    assert nb.ns["shown"] == [1.0, 7]
    report = nb.run("k", "k = 0")
    assert report.skipped == ["a", "b", "show"] and not report.unchanged
    # A failed drawer (not skipped) passes on the state its draws left, as from
    # the top: the drawer below runs from it.
    cells = {"imp": "import numpy as np\nnp.random.seed(0)", "n": "n = 3",
             "r": "r = np.random.rand(n)\n1 / (n - 2)", "b": "b = np.random.rand()"}
    nb = Notebook.of(cells)
    cells["n"] = "n = 2"
    report = nb.run("n", cells["n"])
    assert report.ran == ["n", "r", "b"] and not report.skipped
    cells["r"] = "r = np.random.rand(n)"  # what ran of it, from the top
    assert nb.ns["b"] == _top_to_bottom(cells)["b"]


def test_a_deletion_that_leaves_a_cycle_runs_the_cells_top_to_bottom() -> None:
    """b reads x from c below once a is gone, and c reads b's y: on that cycle, a
    read of a cell below is unbound, as running the notebook top to bottom."""
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "y = x + 1")
    nb.run("c", "x = y * 10")
    report = nb.run("d", "z = 0", deleted=[CellId("a")])
    assert report.ran == ["d", "b"] and report.skipped == ["c"]
    assert report.errors["b"].startswith("NameError") and "x" not in nb.ns
    # Defining x above b again breaks the cycle: everything runs.
    nb.runner.set_order([CellId(c) for c in ("e", "b", "c", "d")])
    report = nb.run("e", "x = 2")
    assert report.ran == ["e", "b", "c"] and nb.ns["x"] == 30


def test_a_first_run_does_not_rerun_a_forward_reference_above_it() -> None:
    """Top to bottom, ``print(y)`` above ``y = 1`` fails: running the notebook in
    order leaves it failed; running it again reads y from below (the notebook
    was saved out of order), and from then on it follows y."""
    nb = Notebook()
    assert nb.run("use", "seen = y").errors["use"].startswith("NameError")
    report = nb.run("def", "y = 1")
    assert report.ran == ["def"] and "seen" not in nb.ns
    nb.run("use", "seen = y")
    assert nb.ns["seen"] == 1
    assert nb.run("def", "y = 2").ran == ["def", "use"] and nb.ns["seen"] == 2


def test_a_cell_redefining_a_builtin_shadows_it_only_below() -> None:
    """Top to bottom, a read of ``eval`` sees the nearest ``def eval`` above,
    else the builtin; never a definition further down."""
    nb = Notebook()
    nb.run("a", "def eval(x):\n    return 'first'")
    nb.run("b", "k = 1")
    nb.run("c", "out = (eval(1), k)")
    nb.run("d", "def eval(x):\n    return 'second'")
    nb.run("e", "below = (sum([1, 2]), len([0]), k)")
    nb.run("f", "def sum(v):\n    return 'mine'\nlen = sum")
    report = nb.run("b", "k = 2")
    assert report.ran == ["b", "c", "e"]
    assert nb.ns["out"] == ("first", 2)
    assert nb.ns["below"] == (3, 1, 2)  # the builtins: sum and len are defined below
    assert nb.ns["eval"](0) == "second" and nb.ns["sum"]([]) == "mine"
    # Redefining the shadowing function re-runs its readers below, not above.
    report = nb.run("a", "def eval(x):\n    return 'edited'")
    assert report.ran == ["a", "c"]
    assert nb.ns["out"] == ("edited", 2)
    report = nb.run("f", "def sum(v):\n    return 'changed'\nlen = sum")
    assert report.ran == ["f"]
    graph: Any = nb.runner.describe()["cells"]
    assert graph["c"]["reads"] == ["eval", "k"] and graph["e"]["reads"] == ["k"]


def test_a_function_reads_the_builtin_a_cell_above_its_caller_shadows() -> None:
    nb = Notebook()
    nb.run("a", "def total(v):\n    return sum(v)")
    nb.run("b", "k = 1")
    nb.run("c", "out = (total([1, 2]), k)")
    nb.run("d", "def sum(v):\n    return 'mine'")
    nb.run("e", "late = total([1])")
    assert nb.ns["late"] == "mine"
    report = nb.run("b", "k = 2")
    assert report.ran == ["b", "c"]
    assert nb.ns["out"] == (3, 2)
    report = nb.run("d", "def sum(v):\n    return 'again'")
    assert report.ran == ["d", "e"]
    assert nb.ns["late"] == "again" and nb.ns["out"] == (3, 2)


def test_readers_of_an_import_that_gives_the_same_object_do_not_rerun() -> None:
    """A class registering itself in its base (SQLAlchemy's declarative base,
    an ``__init_subclass__`` registry) cannot run twice on the same base: a
    re-run import cell must not re-run it when the names it imports are the
    very objects they were."""
    nb = Notebook()
    nb.run("a", "from json import dumps, loads\nimport importlib, json")
    nb.run("b", "class Base:\n    seen = []\n"
                "    def __init_subclass__(cls):\n"
                "        assert cls.__name__ not in Base.seen, 'defined twice'\n"
                "        Base.seen.append(cls.__name__)")
    nb.run("c", "class User(Base):\n    codec = dumps")
    nb.run("d", "shown = (loads('[1]'), Base.seen)")
    report = nb.run("a", "from json import dumps, loads\nimport importlib, json, math")
    assert report.ran == ["a"] and report.unchanged == ["c", "d"]
    # A reload makes new function objects: their readers re-run, and the class that
    # registers itself in Base (Base.seen.append: a change in place) gets a fresh
    # Base first, as top to bottom (before, it failed with "defined twice").
    report = nb.run("a", "import importlib, json\nimportlib.reload(json)\n"
                         "from json import dumps, loads")
    assert report.ran == ["a", "b", "c", "d"] and not report.errors
    assert nb.ns["shown"] == ([1], ["User"])


def test_a_builtin_redefined_by_a_batch_input_below_is_not_lost() -> None:
    """Batch inputs (nbclient) keep no values: a re-run above one that
    redefined a builtin reads the namespace as it is, and the definition stays."""
    nb = Notebook()
    nb.run("a", "k = 1")
    nb.run("b", "out = (len([1]), k)")
    nb.run(None, "len = lambda v: 'mine'", interactive=False)
    report = nb.run("a", "k = 2")
    assert report.ran == ["a", "b"]
    assert nb.ns["len"]([]) == "mine" and nb.ns["out"] == ("mine", 2)


def test_a_cell_first_run_broken_keeps_its_place_for_when_it_is_fixed() -> None:
    """Top to bottom, ``y * 2`` below a cell that did not parse fails; fixed,
    that cell defines ``y`` for it (it is above it, not a new last cell)."""
    nb = Notebook()
    nb.run("a", "x = 1")
    assert nb.run("b", "y = x +").errors["b"].startswith("SyntaxError")
    assert nb.run("c", "z = y * 2").errors["c"].startswith("NameError")
    assert nb.runner.graph.cells() == ["a", "b", "c"]
    report = nb.run("b", "y = x + 1")
    assert report.ran == ["b", "c"]
    assert nb.ns["z"] == 4
    assert nb.run("a", "x = 2").ran == ["a", "b", "c"] and nb.ns["z"] == 6


def test_a_name_a_failed_cell_did_not_bind_comes_from_the_cell_above() -> None:
    """Run from the top, ``x = 1/0`` leaves ``x`` as the cell above set it, so
    a reader below it sees that cell's value, and re-runs when it changes;
    the namespace ends with it too."""
    nb = Notebook()
    nb.run("a", "x = 1")
    assert nb.run("b", "y = 2\nx = 1 / 0").errors["b"].startswith("ZeroDivisionError")
    assert nb.run("c", "z = x * 10").ran == ["c"] and nb.ns["z"] == 10
    report = nb.run("a", "x = 2")
    assert report.ran == ["a", "c"] and nb.ns["z"] == 20 and nb.ns["x"] == 2
    assert nb.run("b", "y = 3\nx = 5").ran == ["b", "c"] and nb.ns["z"] == 50
    assert nb.run("a", "x = 4").ran == ["a"] and nb.ns["x"] == 5


def test_a_name_a_broken_cell_defined_ends_as_the_cell_above_left_it() -> None:
    nb = Notebook()
    nb.run("a", "x = 1")
    nb.run("b", "x = 2")
    nb.run("b", "x = 2 +")  # does not parse: it binds nothing
    assert nb.ns["x"] == 1
    nb.run("a", "x = 3")
    assert nb.ns["x"] == 3


def test_a_cell_that_changes_a_global_through_a_function_defines_it_below() -> None:
    """``evaluate(...)`` fills ``scores`` through the function: the table below
    re-runs when one call is edited, and the edited call starts from a fresh
    ``scores`` (top to bottom, the old entry is not there)."""
    nb = Notebook()
    nb.run("s", "scores = {}")
    nb.run("f", "def evaluate(name, value):\n    scores[name] = value")
    nb.run("a", "evaluate('lr', 1)")
    nb.run("b", "evaluate('rf', 2)")
    nb.run("t", "table = sorted(scores.items())")
    assert nb.ns["table"] == [("lr", 1), ("rf", 2)]
    report = nb.run("a", "evaluate('svm', 3)")
    assert report.ran == ["s", "a", "b", "t"]
    assert nb.ns["table"] == [("rf", 2), ("svm", 3)]


def test_a_decorator_registering_into_a_dict_defines_it_below() -> None:
    nb = Notebook()
    nb.run("r", "registry = {}\ndef register(fn):\n    registry[fn.__name__] = fn\n    return fn")
    nb.run("one", "@register\ndef one():\n    return 1")
    nb.run("n", "names = sorted(registry)")
    assert nb.ns["names"] == ["one"]
    nb.run("one", "@register\ndef two():\n    return 2")
    assert nb.ns["names"] == ["two"]


def test_a_cell_binding_what_its_call_reads_is_not_skipped_for_a_failure_above() -> None:
    """Audit 6: ``x = 5; print(f())`` never reads the ``x`` of the cell above,
    so that cell failing does not skip it (stock shows 10)."""
    nb = Notebook()
    nb.run("f", "def f():\n    return x * 2")
    nb.run("a", "x = 1")
    nb.run("b", "x = 5\ny = f()")
    report = nb.run("a", "x = 1 / 0")
    assert report.skipped == [] and nb.ns["y"] == 10


def test_a_read_the_analysis_cannot_see_never_takes_a_value_from_below() -> None:
    """A re-run cell that reads ``limit`` inside a string (``df.query("a > @limit")``)
    or calls a function held in a container sees the nearest definer above, as top to
    bottom, not the value a cell below left in the namespace."""
    nb = Notebook()
    nb.run("a", "limit = 1\nk = 1")
    nb.run("f", "def f(v):\n    return v * k")
    nb.run("fs", "fs = {'f': f}")
    nb.run("data", "data = [0, 1, 2, 3]")
    nb.run("use", "seen = (len([v for v in data if v > eval('limit')]), "
                  "[fs['f'](v) for v in data])")
    nb.run("below", "limit = 2\nk = 10")
    report = nb.run("data", "data = [0, 1, 2, 3, 4]")
    assert report.ran == ["data", "use"]
    assert nb.ns["seen"] == (3, [0, 1, 2, 3, 4])
    # When the cascade ends the names hold their last definer's values again.
    assert nb.ns["limit"] == 2 and nb.ns["k"] == 10
    # A name only cells below define stays as it is (no definer above to take).
    nb.run("late", "only_below = 5")
    nb.run("late2", "only_below = 6")
    nb.runner.set_order([CellId(c) for c in
                         ("a", "f", "fs", "data", "use", "late", "below", "late2")])
    report = nb.run("data", "data = [1]")
    assert report.ran == ["data", "use"] and nb.ns["only_below"] == 6



def test_a_failed_cell_that_made_its_own_object_leaves_nothing_of_the_one_above() -> None:
    """Property test: ``d = {...}; d['k'] = ...`` broken by a SyntaxError passes
    ``d`` through from above; when the cell above stops defining ``d``, it is
    gone, as top to bottom (the broken cell's in-place change is of its own
    object, not of the one it was given)."""
    nb = Notebook()
    nb.run("c3", "d = {'k': 0}\na = 0")
    nb.run("c4", "d = {'k': a}\nd['k'] = d['k'] + 1")
    nb.run("c4", "d = {'k': a}\nd['k'] = d['k'] + 1\n)")
    assert nb.ns["d"] == {"k": 0}
    nb.run("c3", "a = 0")
    assert "d" not in nb.ns


@pytest.mark.parametrize("change", ["delete", "edit", "move"])
def test_readers_through_a_failed_cell_follow_a_new_source_above_it(change: str) -> None:
    """Property test: ``c4`` fails before binding ``a`` (a SyntaxError), so its
    reader ``c5`` sees ``c3``'s value; deleting ``c3``, editing it to stop
    defining ``a`` or moving it below re-runs ``c5`` with ``c1``'s value."""
    nb = Notebook()
    nb.run("c1", "a = 0")
    nb.run("c3", "a = 1")
    nb.run("c4", "a = 5")
    nb.run("c5", "r = a * 2")
    nb.run("c6", "top = 100")
    nb.run("c4", "a = 5\n)")
    nb.run("c5", "r = a * 2")
    assert nb.ns["r"] == 2
    if change == "edit":
        report = nb.run("c3", "z = 1")
    else:
        rebound = (nb.runner.remove([CellId("c3")]) if change == "delete" else
                   nb.runner.set_order([CellId(c) for c in ("c1", "c4", "c5", "c3", "c6")]))
        report = asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
    assert "c5" in report.ran and nb.ns["r"] == 0


def test_a_function_called_to_redefine_a_name_below_is_not_called_above() -> None:
    """``xs = f()`` below a cell reading the ``xs`` of a cell above does not make
    that cell call ``f`` (top to bottom it never sees that ``xs``): an edit of what
    ``f`` reads re-runs the call, not the cell above.  Moved below the call, the
    reader sees its ``xs``, and reads what ``f`` reads."""
    nb = Notebook.of({"b": "b = 1", "f": "def f():\n    return [b]",
                      "x": "xs = [0]", "show": "shown = list(xs)", "call": "xs = f()"})
    report = nb.run("b", "b = 2")
    assert report.ran == ["b", "call"]
    assert nb.ns["shown"] == [0] and nb.ns["xs"] == [2]
    rebound = nb.runner.set_order([CellId(c) for c in ("b", "f", "x", "call", "show")])
    asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
    assert nb.ns["shown"] == [2]
    report = nb.run("b", "b = 3")
    assert report.ran == ["b", "call", "show"]
    assert nb.ns["shown"] == [3]


def test_a_drawer_below_a_reader_redefining_its_name_draws_the_same_again() -> None:
    """A cell drawing through a function of the notebook and redefining a name a
    cell above draws (``xs``), re-run unchanged, draws what it drew: the cell
    reading the first ``xs`` between them is no drawer (audit 19, ThinkStats chap07)."""
    nb = Notebook.of({
        "np": "import numpy as np",
        "jitter": "def jitter(n):\n    return np.random.normal(0, 1, n)",
        "seed": "np.random.seed(17)\nxs = np.random.normal(size=3)",
        "read": "zs = xs * 2",
        "draw": "xs = jitter(3)\nfirst = xs.tolist()"})
    drawn = nb.ns["first"]
    nb.run("draw", "xs = jitter(3)\nfirst = xs.tolist()")
    assert nb.ns["first"] == drawn
    assert "<np.random>" not in nb.runner.graph.cell(CellId("read")).defs


def test_names_a_cell_bound_unseen_go_when_its_edited_code_binds_them_no_more() -> None:
    """``from math import *`` edited to ``import math``: top to bottom, ``pow`` is
    the builtin again and ``pi`` is not defined; the cells below that read them
    re-run and see that (audit 19, numpy-100's ``from numpy import *``).  Same for
    ``exec``.  Edited to bind them again, they come back."""
    nb = Notebook.of({"star": "from math import *", "use": "p = pow(2, 3)\nq = pi",
                      "ex": "exec('z = 5')", "read": "w = z"})
    assert type(nb.ns["p"]) is float and nb.ns["w"] == 5
    report = nb.run("star", "import math")
    assert report.ran == ["star", "use"]
    assert type(nb.ns["p"]) is int and "pi" not in nb.ns
    assert nb.runner.state(CellId("use")).status == Status.ERROR
    report = nb.run("ex", "pass")
    assert report.ran == ["ex", "read"] and "z" not in nb.ns
    assert nb.runner.state(CellId("read")).status == Status.ERROR
    report = nb.run("star", "from math import *")
    assert "use" in report.ran and type(nb.ns["p"]) is float and nb.ns["q"] == math.pi


def test_a_failed_restore_still_gives_what_it_bound_before_failing() -> None:
    """Property test, no memory for superseded values: ``c2``'s value must be
    re-made from ``c1``, which binds ``a`` and then fails again; ``c2`` still
    re-runs on it (a failure in an earlier cascade does not block it either)."""
    nb = Notebook()
    nb.runner = Runner(nb.ns, budget=0)
    nb.run("c1", "a = [1]")
    nb.run("c2", "a = a + [2]")
    nb.run("c3", "a = [10]")
    nb.run("c1", "a = [1]\n1 / 0")
    nb.run("c2", "a = a + [2]")
    rebound = nb.runner.remove([CellId("c3")])
    report = asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
    assert report.restored == ["c1", "c2"] and nb.ns["a"] == [1, 2]


def test_a_shuffle_is_a_change_in_place_of_what_it_shuffles() -> None:
    """``random.shuffle(deck)`` changes ``deck``: the cell below re-runs when it is
    edited, and it shuffles a fresh deck, as top to bottom."""
    cells = {"c1": "import random\ndeck = list(range(10))",
             "c2": "random.seed(1)\nrandom.shuffle(deck)",
             "c3": "hand = deck[:3]"}
    nb = Notebook()
    for cell, code in cells.items():
        nb.run(cell, code)
    report = nb.run("c2", "random.seed(2)\nrandom.shuffle(deck)")
    assert report.restored == ["c1"] and report.ran == ["c1", "c2", "c3"]
    expected: dict[str, Any] = {}
    for code in (cells["c1"], "random.seed(2)\nrandom.shuffle(deck)", cells["c3"]):
        exec(code, expected)
    assert nb.ns["hand"] == expected["hand"] and nb.ns["deck"] == expected["deck"]


def test_a_mutating_method_handed_to_a_function_is_a_change_in_place() -> None:
    """Audit 20: ``list(map(out.append, xs))`` appends through ``map``; run again
    it appended a second time (``[1, 2, 1, 2]``). A known mutating method handed
    to a function to call changes its object: a re-run starts from a fresh one,
    and the reader below re-runs when it is edited."""
    nb = Notebook()
    nb.run("c1", "out = []")
    nb.run("c2", "list(map(out.append, [1, 2]))")
    nb.run("c3", "n = len(out)")
    report = nb.run("c2", "list(map(out.append, [1, 2]))")
    assert report.restored == ["c1"] and nb.ns["out"] == [1, 2]
    report = nb.run("c2", "list(map(out.append, [1, 2, 3]))")
    assert report.ran == ["c1", "c2", "c3"] and nb.ns["n"] == 3
    # Two handed at once; a module's function handed changes no module.
    nb.run("c4", "good, bad = [], []")
    nb.run("c5", "def split(xs, yes, no):\n    for x in xs:\n        (yes if x > 0 else no)(x)")
    nb.run("c6", "split([1, -1, 2], good.append, bad.append)")
    nb.run("c7", "both = (good, bad)")
    report = nb.run("c6", "split([3, -4], good.append, bad.append)")
    assert report.restored == ["c4"] and nb.ns["both"] == ([3], [-4])
    nb.run("c8", "import functools\nimport operator")
    nb.run("c9", "total = functools.reduce(operator.add, [1, 2])")
    nb.run("c10", "three = operator.add(1, 2)")
    report = nb.run("c9", "total = functools.reduce(operator.add, [1, 2, 3])")
    assert report.ran == ["c9"] and nb.ns["total"] == 6


def test_module_functions_and_methods_returning_new_objects_change_nothing() -> None:
    """Audit 9: ``np.sort(a)``, ``np.append(a, k)`` made ``np`` changed in place (every
    cell reading ``np`` re-ran, re-drawing seeded numbers); ``A.add(B)`` on a pandas
    object and ``Index.append`` return new objects and re-made ``A``."""
    nb = Notebook()
    nb.run("imp", "import numpy as np\nimport pandas as pd")
    nb.run("a", "a = np.array([3, 1, 2])")
    nb.run("sort", "s = np.sort(a)")
    nb.run("k", "k = 2")
    nb.run("app", "r = np.append(a, k)")
    nb.run("rev", "t = np.sort(a)[::-1]")
    report = nb.run("k", "k = 3")
    assert report.ran == ["k", "app"] and list(nb.ns["r"]) == [3, 1, 2, 3]
    nb.run("A", "A = pd.Series([1, 2])\nidx = pd.Index(['x'])")
    nb.run("add", "B = A.add(100)\nidx2 = idx.append(pd.Index(['y']))")
    report = nb.run("add", "B = A.add(200)\nidx2 = idx.append(pd.Index(['y']))")
    assert report.restored == [] and report.ran == ["add"]
    assert nb.ns["B"].tolist() == [201, 202]
    # Audit 10: through a column or an attribute of a frame, too.
    nb.run("df", "df = pd.DataFrame({'a': [1, 2]})")
    nb.run("col", "c = df['a'].add(1)\nd = df.a.add(df.a)\ncols = df.columns.append(idx)")
    report = nb.run("col", "c = df['a'].add(2)\nd = df.a.add(df.a)\ncols = df.columns.append(idx)")
    assert report.restored == [] and report.ran == ["col"] and nb.ns["c"].tolist() == [3, 4]
    # The same names called on a list do change it.
    nb.run("lst", "lst = [2, 1]")
    nb.run("srt", "lst.sort()\nlst.append(3)")
    report = nb.run("srt", "lst.sort()\nlst.append(4)")
    assert report.restored == ["lst"] and nb.ns["lst"] == [1, 2, 4]


def test_a_tuple_holding_a_list_can_change_in_place() -> None:
    """Audit 9 (pydata-book ch03): ``t[0].append(3)`` re-run appended to the list its
    last run had changed, the tuple being taken as unchangeable."""
    nb = Notebook()
    nb.run("t", "t = ([1, 2], 0)")
    nb.run("app", "t[0].append(3)")
    report = nb.run("app", "t[0].append(3)")
    assert report.restored == ["t"] and nb.ns["t"] == ([1, 2, 3], 0)


def test_a_query_string_names_a_read() -> None:
    """``df.query("a > @limit")`` re-runs when ``limit`` changes, also through a
    function, with a real pandas frame."""
    nb = Notebook()
    nb.run("imp", "import pandas as pd")
    nb.run("df", "df = pd.DataFrame({'a': [1, 2, 3]})")
    nb.run("limit", "limit = 1")
    nb.run("n", "n = len(df.query('a > @limit'))")
    nb.run("f", "def big(d):\n    return d.query('a >= @limit')")
    nb.run("m", "m = len(big(df))")
    report = nb.run("limit", "limit = 2")
    assert report.ran == ["limit", "n", "m"]
    assert nb.ns["n"] == 1 and nb.ns["m"] == 2


def test_a_cell_inserting_a_column_re_runs_on_a_fresh_frame() -> None:
    """Audit 8 (ML-Exercise1): ``data.insert(0, 'Ones', 1)`` in the model cell; an edit
    above re-runs it, and it must not find the column its last run inserted."""
    nb = Notebook()
    nb.run("load", "data = {'x': [1, 2]}")
    nb.run("alpha", "alpha = 0.1")
    nb.run("model", "if 'Ones' in data:\n"
                    "    raise ValueError('cannot insert Ones, already exists')\n"
                    "data.update(Ones=1)\ncols = sorted(data)\nfit = alpha * len(cols)")
    nb.run("grow", "lst = [0]")
    nb.run("use", "lst.append(alpha)\nsize = len(lst)")
    report = nb.run("alpha", "alpha = 0.2")
    assert not report.errors, report.errors
    assert nb.ns["size"] == 2 and nb.ns["fit"] == 0.2 * 2 and nb.ns["lst"] == [0, 0.2]
    assert "load" in report.restored and "grow" in report.restored


def test_hidden_reads_follow_each_cells_own_definer_above() -> None:
    """Two re-run cells with a definer between them that does not re-run: each reads
    its own nearest definer above, as top to bottom."""
    nb = Notebook()
    nb.run("a", "limit = 1")
    nb.run("data", "data = [0, 1, 2, 3, 4, 5, 6]")
    nb.run("use1", "one = [v for v in data if v > eval('limit')]")
    nb.run("mid", "limit = 5")
    nb.run("use2", "two = [v for v in data if v > eval('limit')]")
    nb.run("below", "limit = 2")
    report = nb.run("data", "data = [0, 1, 2, 3, 4, 5, 6, 7]")
    assert report.ran == ["data", "use1", "use2"]
    assert nb.ns["one"] == [2, 3, 4, 5, 6, 7] and nb.ns["two"] == [6, 7]
    assert nb.ns["limit"] == 2


def test_a_loop_that_bound_the_name_it_may_pass_through_is_not_rerun() -> None:
    nb = Notebook()
    nb.run("seed", "import random\nrng = random.Random(0)")
    nb.run("first", "tree = 'first'")
    nb.run("loop", "for i in range(2):\n    tree = rng.random()\n    drawn = tree")
    nb.run("after", "last = rng.random()")
    drawn, last = nb.ns["drawn"], nb.ns["last"]
    # Run from the top with ``first`` edited, the loop draws the same numbers:
    # it does not read ``tree``, and its last run bound it.
    report = nb.run("first", "tree = 'second'")
    assert report.ran == ["first"]
    assert (nb.ns["tree"], nb.ns["drawn"], nb.ns["last"]) == (drawn, drawn, last)
    # A loop that did not run passes the new value on.
    nb.run("loop", "for i in range(0):\n    tree = rng.random()\n    drawn = tree")
    nb.run("reader", "shown = tree")
    assert nb.ns["shown"] == "second"
    report = nb.run("first", "tree = 'third'")
    assert report.ran == ["first", "loop", "reader"] and nb.ns["shown"] == "third"
    # A loop that reads the value above before binding its own does re-run.
    nb.run("loop", "for i in range(2):\n    print(tree)\n    tree = i")
    report = nb.run("first", "tree = 'fourth'")
    assert "loop" in report.ran


def test_globals_of_functions_called_bind_only_above_the_calling_cell() -> None:
    """A class used as a base reads (over-approximated) the globals its
    methods read; defined only further down, they must not bind below (the
    cell defining them reads the class: a cycle would refuse it)."""
    nb = Notebook()
    nb.run("base", "class Base:\n    def shown(self):\n        return ht.value")
    nb.run("child", "class Child(Base):\n    pass")
    nb.run("first", "ht = Child()\nht.value = 1\nfirst = ht.shown()")
    nb.run("second", "ht = Child()\nht.value = 2\nsecond = ht.shown()")
    assert (nb.ns["first"], nb.ns["second"]) == (1, 2)
    report = nb.run("base", "class Base:\n    def shown(self):\n        return ht.value * 10")
    assert report.ran == ["base", "child", "first", "second"]
    assert (nb.ns["first"], nb.ns["second"]) == (10, 20)
    # A function reading a global defined only below the calling cell finds
    # nothing there, as run from the top.
    nb.run("show", "def show():\n    return later")
    nb.run("call", "try:\n    got = show()\nexcept NameError:\n    got = 'NameError'")
    nb.run("later", "later = 5")
    report = nb.run("call", "try:\n    got = show()\nexcept NameError:\n    got = 'NameError'")
    assert nb.ns["got"] == "NameError"


def test_a_cell_left_as_it_is_still_leaves_its_names_as_it_did() -> None:
    """A deletion (or binding) by a cell whose inputs did not change holds for
    the cells below that re-run, though a definer above it ran again."""
    nb = Notebook()
    nb.run("a", "x = 1\ny = 2")
    nb.run("b", "del x")
    nb.run("c", "seen = ('x' in globals(), y)")
    report = nb.run("a", "x = 1\ny = 3")
    assert report.ran == ["a", "c"] and report.unchanged == ["b"]
    assert nb.ns["seen"] == (False, 3)


@pytest.mark.parametrize("cells", [
    ["class Base:\n    unit = 'm'", "class Sub(Base):\n    pass", "s = Sub()",
     "Base.unit = 'cm'", "shown = (s.unit, Base.unit)"],
    ["a = {'u': 'm'}", "b = {'inner': a}", "c = [b]", "a['u'] = 'cm'",
     "shown = (c[0]['inner']['u'], a['u'])"],
])
def test_a_fresh_object_re_makes_what_holds_the_old_one_between(cells: list[str]) -> None:
    """Re-running a change in place first re-makes the object (its definer, and
    the cells between that read it); what the cells between made from those
    (an instance of a re-made class, a list holding a re-made dict) is made
    again too, as top to bottom (audit 12)."""
    nb = Notebook()
    for i, code in enumerate(cells):
        nb.run(f"c{i}", code)
    report = nb.run("c3", cells[3].replace("'cm'", "'mm'"))
    assert report.restored == ["c0", "c1", "c2"] and nb.ns["shown"] == ("mm", "mm")


def test_what_holds_no_re_made_object_between_is_left_as_it_is() -> None:
    nb = Notebook()
    for cell, code in (("a", "d = {'u': 'm'}\nk = 3"), ("b", "n = k * 2"),
                       ("c", "d['u'] = 'cm'"), ("e", "shown = (n, d['u'])")):
        nb.run(cell, code)
    report = nb.run("c", "d['u'] = 'mm'")
    assert report.restored == ["a"] and report.ran == ["a", "c", "e"]
    assert nb.ns["shown"] == (6, "mm")


@pytest.mark.parametrize(("cells", "shown"), [
    (["from math import *", "pi = pi * 2", "shown = round(pi, 2)"], 6.28),
    (["exec('d = {}')", "d.update(a=1)", "shown = d"], {"a": 1}),
    (["exec('n = 1')", "n += 1", "shown = n"], 2),
    (["from math import *", "del pi", "shown = 'pi' in globals()"], False),
])
def test_a_name_only_something_unseen_made_is_there_for_the_cells_changing_it(
        cells: list[str], shown: object) -> None:
    """A star import or ``exec`` makes names the analysis cannot list: a cell
    that changes one (no cell above defines it) finds it, as top to bottom, and
    finds it again when it runs again, not its own last run's value (audit 12)."""
    nb = Notebook()
    for i, code in enumerate(cells):
        report = nb.run(f"c{i}", code)
        assert not report.errors, report.errors
    assert nb.ns["shown"] == shown
    nb.run("c1", cells[1])
    nb.run("c2", cells[2])
    assert nb.ns["shown"] == shown


def test_an_edited_seed_reruns_the_readers_of_its_module_as_top_to_bottom() -> None:
    """Audit 12 (S1): ``random.seed(1)`` edited to ``random.seed(2)`` re-ran nothing
    (it defined nothing) and the draws below kept the old seed's numbers.  A
    module's setter changes the module for the cells below that read it; the
    same setting made again (an import added to the cell) is no new value."""
    cells = {"imp": "import random\nimport numpy as np",
             "seed": "random.seed(1)\nnp.random.seed(0)",
             "x": "x = random.random()",
             "y": "y = np.random.rand()",
             "p": "p = (x, y)"}
    nb = Notebook.of(cells)
    report = nb.run("seed", "random.seed(2)\nnp.random.seed(0)")
    # np is set as it was: its reader is left as it is.
    assert report.ran == ["seed", "x", "p"] and report.restored == []
    expected: dict[str, Any] = {}
    for code in {**cells, "seed": "random.seed(2)\nnp.random.seed(0)"}.values():
        exec(code, expected)
    assert nb.ns["p"] == expected["p"]
    assert nb.run("seed", "random.seed(2)\nnp.random.seed(0)\nimport math").ran == ["seed"]
    assert nb.run("imp", "import random\nimport numpy as np\nimport os").ran == ["imp"]
    # A seed read from a name sets what that name holds: always a new value.
    nb.run("seed", "SEED = 3\nrandom.seed(SEED)")
    assert nb.run("seed", "SEED = 3\nrandom.seed(SEED)").ran == ["seed", "x", "p"]


def test_library_settings_rerun_their_readers_and_setter_names_on_objects_are_reads() -> None:
    """``pd.set_option(...)`` edited re-runs the cells below that read ``pd``;
    ``ax.set(title=...)`` on an object is a read, as other method calls."""
    nb = Notebook()
    nb.run("pd", "import pandas as pd\npd.set_option('display.precision', 3)")
    nb.run("show", "s = repr(pd.DataFrame({'a': [1.123456]}))")
    report = nb.run("pd", "import pandas as pd\npd.set_option('display.precision', 5)")
    assert report.ran == ["pd", "show"] and "1.12346" in nb.ns["s"]
    nb.run("pd", "import pandas as pd\npd.set_option('display.precision', 6)")
    nb.run("ax", "class Axes:\n    def set(self, **kw):\n        self.kw = kw\nax = Axes()")
    nb.run("title", "ax.set(title='t')")
    assert "ax" not in nb.runner.graph.cell(CellId("title")).defs
    # A helper setting the seeds: calling it changes both modules.
    nb.run("helper", "import random\ndef set_seed(s):\n    random.seed(s)")
    nb.run("call", "set_seed(1)")
    nb.run("draw", "r = random.random()")
    report = nb.run("call", "set_seed(2)")
    assert report.ran == ["call", "draw"]
    import random
    random.seed(2)
    assert nb.ns["r"] == random.random()


def test_a_name_a_star_import_or_exec_rebinds_is_seen_below_it_as_top_to_bottom() -> None:
    """Audit 12 (B3): ``pi = 3`` / ``from math import *`` / ``print(pi)`` printed 3
    with cell ids (the reader's definer above put its value back), where top to
    bottom prints ``math.pi``; the same for ``exec`` and a module rebound by
    ``from numpy import *``.  An edit above the star import re-runs the reader,
    which still sees what the star import bound."""
    import math
    cases = [
        ({"a": "pi = 3", "b": "from math import *", "c": "v = pi"}, None, math.pi),
        ({"a": "x = 1", "b": "exec('x = 2')", "c": "v = x"}, None, 2),
        ({"a": "import random", "b": "from numpy import *", "c": "v = random.__name__"},
         None, "numpy.random"),
        ({"a": "e = 1", "b": "from math import *", "c": "v = round(e, 3)"},
         ("a", "e = 2"), 2.718),
        # A visible definer below the star import wins again, after the star
        # import re-runs too.
        ({"a": "pi = 3", "b": "from math import *", "c": "pi = 4", "d": "v = pi"},
         ("b", "from math import *"), 4),
        ({"a": "from math import *", "b": "pi = pi * 2", "c": "v = pi"}, None, 2 * math.pi),
    ]
    for cells, edit, expected in cases:
        nb = Notebook.of(cells)
        if edit is not None:
            nb.run(*edit)
        assert nb.ns["v"] == expected, cells
        top: dict[str, Any] = {}
        for code in {**cells, **(dict([edit]) if edit else {})}.values():
            exec(code, top)
        assert nb.ns["v"] == top["v"]
    # Moving the star import below the reader: the reader sees the cell above again.
    nb = Notebook.of({"a": "pi = 3", "b": "from math import *", "c": "v = pi"})
    rebound = nb.runner.set_order([CellId("a"), CellId("c"), CellId("b")])
    asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
    nb.run("c", "v = pi")
    assert nb.ns["v"] == 3


def test_an_edited_star_import_or_exec_reruns_the_readers_of_what_it_rebound() -> None:
    """Names a cell rebinds unseen are no definitions, yet a reader below saw
    them: when a run of that cell binds them to other objects (an edited
    ``exec``, ``from cmath import *`` for ``from math import *``, a script run
    again by ``%run -i``), the readers below re-run (stale in lazy mode), but not
    those a cell between defines the name for."""
    nb = Notebook()
    for cell, code in {"a": "x = 1", "b": "exec('x = 2')", "c": "v = x", "d": "w = v * 10",
                       "e": "x = 7", "f": "z = x"}.items():
        nb.run(cell, code)
    report = nb.run("b", "exec('x = 3')")
    assert report.ran == ["b", "c", "d"] and (nb.ns["w"], nb.ns["z"]) == (30, 7)
    # The same objects bound again: nothing to re-run.
    assert nb.run("b", "exec('x = 3')").ran == ["b"]
    nb = Notebook.of({"a": "x = 1", "b": "exec('x = 2')", "c": "v = x"}, mode="lazy")
    report = nb.run("b", "exec('x = 3')")
    assert report.ran == ["b"] and report.stale == ["c"]
    assert nb.runner.state(CellId("c")).status is Status.STALE


def test_readers_below_of_values_a_restore_made_anew_rerun() -> None:
    """Audit 12 (e05, e19): ``class Dog`` / ``d = Dog()`` / ``Dog.species = 'cat'`` /
    ``print(d.species)``, edit the third cell to ``'wolf'``: the restore re-made
    ``Dog`` and ``d`` but the reader of ``d`` below was not in the plan and
    kept ``cat``.  Readers below of what a restore made anew run too."""
    cells = {"c0": "class Dog:\n    species = 'dog'", "c1": "d = Dog()",
             "c2": "Dog.species = 'cat'", "c3": "v = d.species", "c4": "u = 1"}
    nb = Notebook.of(cells)
    report = nb.run("c2", "Dog.species = 'wolf'")
    assert report.ran == ["c0", "c1", "c2", "c3"] and nb.ns["v"] == "wolf"
    # A method patched onto the base class of an instance's class.
    cells = {"c0": "class A:\n    def who(self):\n        return 'A'",
             "c1": "class B(A):\n    pass", "c2": "b = B()",
             "c3": "def who(self):\n    return 'patched'\nA.who = who", "c4": "v = b.who()"}
    nb = Notebook.of(cells)
    nb.run("c3", "def who(self):\n    return 'patched2'\nA.who = who")
    assert nb.ns["v"] == "patched2"


def test_deleting_or_moving_a_cell_that_rebound_a_name_unseen_reruns_its_readers() -> None:
    """``x = 1`` / ``exec("x = 2")`` / ``print(x)``: deleting the ``exec`` cell, or
    moving it below the reader, makes the reader see 1 again, as top to bottom."""
    for change in ("delete", "move"):
        nb = Notebook.of({"c0": "x = 1", "c1": "exec('x = 2')", "c2": "v = x"})
        assert nb.ns["v"] == 2
        if change == "delete":
            rebound = nb.runner.remove([CellId("c1")])
        else:
            rebound = nb.runner.set_order([CellId("c0"), CellId("c2"), CellId("c1")])
        report = asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
        assert report.ran == ["c2"] and nb.ns["v"] == 1
        assert nb.ns["x"] == (1 if change == "delete" else 2)


def _top_to_bottom(cells: dict[str, str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    for code in cells.values():
        exec(code, namespace)
    return namespace


def test_draws_from_a_global_generator_follow_notebook_order() -> None:
    """Audits 9-12 ("random generators' global state"): editing a cell that draws
    from ``np.random`` (``rand(3)`` to ``rand(5)``) left the drawers below showing
    numbers from the old stream.  A draw reads and changes the generator's
    state, kept per cell: the drawers below re-run in order and draw what top to
    bottom draws, and a drawer run again by hand draws the same numbers again."""
    cells = {"imp": "import numpy as np", "seed": "np.random.seed(0)",
             "a": "a = np.random.rand(3)", "b": "b = np.random.rand(2)",
             "c": "c = a.sum() + b.sum()", "d": "d = 1"}
    nb = Notebook.of(cells)
    edited = {**cells, "a": "a = np.random.rand(5)"}
    report = nb.run("a", edited["a"])
    assert report.ran == ["a", "b", "c"]
    expected = _top_to_bottom(edited)
    assert nb.ns["b"].tolist() == expected["b"].tolist() and nb.ns["c"] == expected["c"]
    # Run again unchanged: the same numbers, the drawer below left as it is.
    report = nb.run("a", edited["a"])
    assert report.ran == ["a", "c"] and report.unchanged == ["b"]
    assert nb.ns["a"].tolist() == expected["a"].tolist()
    # After the cascade the generator is where top to bottom leaves it.
    import numpy as np
    left = np.random.get_state()
    _top_to_bottom(edited)
    assert same_state(left, np.random.get_state())
    # A cell drawing where the analysis cannot see it (pandas' sample draws from
    # np.random): found drawing when it runs, it is a drawer from then on.
    cells = {"imp": "import numpy as np\nimport pandas as pd", "seed": "np.random.seed(0)",
             "a": "a = np.random.rand(3)", "h": "s = pd.Series(range(100)).sample(3)",
             "b": "b = np.random.rand(2)", "c": "c = list(s) + list(b)"}
    nb = Notebook.of(cells)
    assert nb.ns["c"] == _top_to_bottom(cells)["c"]
    cells["a"] = "a = np.random.rand(5)"
    assert nb.run("a", cells["a"]).ran == ["a", "h", "b", "c"]
    assert nb.ns["c"] == _top_to_bottom(cells)["c"]
    # The standard library's generator, seeded and drawn from.
    cells = {"imp": "import random", "s": "random.seed(1)", "x": "x = random.random()",
             "y": "y = random.randint(0, 10**6)"}
    nb = Notebook.of(cells)
    for cell, code in (("x", "x = random.random(); x2 = random.random()"),
                       ("s", "random.seed(2)")):
        cells[cell] = code
        report = nb.run(cell, code)
        assert report.ran[-1] == "y" and nb.ns["y"] == _top_to_bottom(cells)["y"]


def test_a_generator_objects_state_is_kept_per_cell() -> None:
    """Web UI exploratory test (bug 7) and audits 9-10: ``rng = default_rng(0)`` /
    ``data = rng.integers(...)`` / ``data[0] = -1``: re-making ``data`` for an
    edit drew from a generator that had moved on, and every value below
    changed.  A generator object's state is kept per cell like a global
    generator's: a cell re-run draws what it drew top to bottom, a drawer edited
    re-runs the drawers below, and a cell drawing through another object
    (``sim.run()`` holding ``rng``) is found drawing when it runs."""
    def same_as_top(nb: Notebook, cells: dict[str, str], names: list[str]) -> bool:
        top = _top_to_bottom(cells)
        return all(repr(nb.ns[n]) == repr(top[n]) for n in names)

    cells = {"imp": "import numpy as np", "rng": "rng = np.random.default_rng(0)",
             "data": "data = rng.integers(0, 1000, 4)", "chg": "data[0] = -1",
             "show": "s = list(data)", "more": "m = rng.integers(0, 1000, 2)"}
    nb = Notebook.of(cells)
    for cell, code in (("show", "s = list(data) + [0]"), ("chg", "data[0] = -2"),
                       ("data", "data = rng.integers(0, 1000, 6)")):
        cells[cell] = code
        nb.run(cell, code)
        assert same_as_top(nb, cells, ["s", "m"]), cell
    cells = {"imp": "import numpy as np", "rng": "rng = np.random.RandomState(0)",
             "sim": "class Sim:\n    def __init__(self, r):\n        self.r = r\n"
                    "    def run(self):\n        return self.r.rand()\nsim = Sim(rng)",
             "run": "v = sim.run()", "x": "x = rng.rand()"}
    nb = Notebook.of(cells)
    cells["run"] = "v = sim.run() + sim.run()"
    assert nb.run("run", cells["run"]).ran == ["run", "x"]
    assert same_as_top(nb, cells, ["v", "x"])
    cells = {"imp": "import random", "r": "r = random.Random(1)", "a": "a = r.random()",
             "b": "b = r.randint(0, 10**6)"}
    nb = Notebook.of(cells)
    cells["a"] = "a = r.random(); a2 = r.random()"
    assert nb.run("a", cells["a"]).ran == ["a", "b"] and same_as_top(nb, cells, ["b"])


def test_audit_13_settings_chains_unseen_seeds_and_unseen_objects_changed_in_place() -> None:
    """Audit 13's four bugs, each against top to bottom.  S: a second setting cell of
    the same module counted as setting it as before though what it was given changed.
    G: a seed set in a helper function, or by ``seed`` imported from numpy.random, was
    not kept.  E: an object only ``exec`` made, changed in place below, was changed
    again on itself after an edit.  X: ``globals()[...]`` in a function a cell calls."""
    def check(cells: dict[str, str], edit: tuple[str, str] | None, names: list[str]) -> None:
        nb = Notebook.of(cells)
        if edit is not None:
            cells = {**cells, edit[0]: edit[1]}
            nb.run(*edit)
        top = _top_to_bottom(cells)
        assert [repr(nb.ns[n]) for n in names] == [repr(top[n]) for n in names], cells

    check({"imp": "import pandas as pd", "rows": "pd.set_option('display.max_rows', 10)",
           "prec": "pd.set_option('display.precision', 2)",
           "show": "v = pd.get_option('display.max_rows')"},
          ("rows", "pd.set_option('display.max_rows', 20)"), ["v"])
    check({"def": "import numpy as np\ndef reset(s):\n    np.random.seed(s)", "seed": "reset(1)",
           "a": "a = np.random.rand(2)", "b": "b = list(a)"},
          ("a", "a = np.random.rand(3)"), ["b"])
    check({"imp": "from numpy.random import seed, rand\nseed(0)", "a": "a = rand(2)",
           "b": "b = list(a)"}, ("a", "a = rand(3)"), ["b"])
    check({"x": "x = [1]", "ex": "exec('x = [2]')", "app": "x.append(3)", "show": "v = list(x)"},
          ("x", "x = [5]"), ["v"])
    check({"ex": "exec('z = [1]')", "app": "z.append(2)", "show": "v = list(z)"},
          ("app", "z.append(3)"), ["v"])
    check({"x": "x = 1", "def": "def setx():\n    globals()['x'] = 2", "call": "setx()",
           "show": "v = x"}, None, ["v"])


def test_a_setter_a_module_does_not_have_changes_nothing() -> None:
    """Audit 13: ``pd.np.random.seed(0)`` (no ``pd.np`` in pandas 2+) fails in both
    kernels, yet counted as a change of ``pd``: the 42 cells below reading ``pd``
    showed "Not run" where stock runs them."""
    nb = Notebook()
    nb.run("a", "import pandas as pd")
    nb.run("b", "pd.np.random.seed(0)")
    nb.run("c", "v = int(pd.Series([1, 2]).sum())")
    assert "pd" not in nb.runner.graph.cell(CellId("b")).defs
    report = nb.run("a", "import pandas as pd\nimport os")
    assert report.skipped == [] and nb.ns["v"] == 3


def test_a_setting_of_matplotlib_or_seaborn_reruns_the_cells_drawing_with_pyplot() -> None:
    """Audit 13: every handson-ml2 notebook sets ``mpl.rc(...)`` in its first cell and
    draws with ``plt``: an edited style re-ran nothing (``plt`` is another name).  A
    setting of matplotlib, pyplot or seaborn is one of all three; the same setting
    made again is still no new value."""
    nb = Notebook()
    nb.run("imp", "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib as mpl\n"
                  "import matplotlib.pyplot as plt")
    nb.run("rc", "mpl.rc('lines', linewidth=3)")
    nb.run("draw", "w = plt.rcParams['lines.linewidth']")
    report = nb.run("rc", "mpl.rc('lines', linewidth=5)")
    assert report.ran == ["rc", "draw"] and nb.ns["w"] == 5
    assert nb.run("rc", "mpl.rc('lines', linewidth=5)").ran == ["rc"]


def test_a_display_setting_reruns_the_cells_showing_that_modules_objects() -> None:
    """``pd.set_option('display.max_rows', ...)`` or ``np.set_printoptions(...)``
    edited changes how the cells below show DataFrames and arrays, though they never
    name ``pd`` or ``np`` (``df.head()``, ``print(a)``): a cell that only shows values
    reads the names its objects' library is bound to (from above only), so it
    re-runs.  A cell doing more is left alone (audit 14b: ``normalize(df)`` re-run
    would change ``df`` twice); the setting made again, or the import cell re-run,
    re-runs nothing."""
    nb = Notebook.of({
        "imp": "import numpy as np\nimport pandas as pd\n"
               "df = pd.DataFrame({'a': range(40)})\na = np.arange(3) / 3\nb = np.ones(2)",
        "opt": "pd.set_option('display.max_rows', 6)",
        "popt": "np.set_printoptions(precision=2)",
        "show": "df.head(3)",
        "parr": "print(a)",
        "plain": "k = 2 * 3",
        "half": "def halve(v):\n    v.__itruediv__(2)\nclass Sim:\n    def step(self, v=None):\n"
                "        self.n = 1\nsim = Sim()",
        "more": "halve(b)\nprint(a)",
        "meth": "sim.step(a)\nprint(a)",
        "self": "sim.step()\nprint(a)",
        "count": "n = len(df)",
        "given": "print(df.head(k))",
    })
    try:
        # Nothing a cell's code reads from the module: a read from above.
        assert "pd" in nb.runner.graph.cell(CellId("show")).refs
        assert "pd" in nb.runner.graph.cell(CellId("show")).weak
        assert "np" not in nb.runner.graph.cell(CellId("more")).refs
        assert not nb.runner.graph.cell(CellId("plain")).refs - {"k"}
        report = nb.run("opt", "pd.set_option('display.max_rows', 60)")
        assert "show" in report.ran
        assert "given" in report.ran  # a DataFrame's method given a name changes nothing
        assert not {"parr", "plain", "more", "meth", "self", "count"} & set(report.ran)
        report = nb.run("popt", "np.set_printoptions(precision=4)")
        assert "parr" in report.ran and not {"show", "more", "meth", "self"} & set(report.ran)
        assert nb.run("popt", "np.set_printoptions(precision=4)").ran == ["popt"]
        # Edited to do more than show, a cell reads the library no more.
        nb.run("show", "df.head(3)\nshown = 1")
        assert "pd" not in nb.runner.graph.cell(CellId("show")).refs
        assert "show" not in nb.run("opt", "pd.set_option('display.max_rows', 7)").ran
        nb.run("show", "df.head(3)")
        assert "show" in nb.run("opt", "pd.set_option('display.max_rows', 60)").ran
        nb.run("imp2", "import numpy as np\nimport pandas as pd")
        assert nb.run("imp2", "import numpy as np\nimport pandas as pd\nimport os").ran \
            == ["imp2"]
        # A cell above the setting shows what top to bottom shows: it does not re-run.
        nb.run("early", "print(np.arange(2) / 3)")
        rebound = nb.runner.set_order([CellId(c) for c in (
            "imp", "early", "opt", "popt", "show", "parr", "plain", "half", "more",
            "meth", "self", "count")])
        asyncio.run(nb.runner.run(nb.runner.plan_rebound(rebound), nb._execute))
        nb.run("early", "print(np.arange(2) / 3)")
        assert "popt" not in nb.runner.graph.parents(CellId("early"))
        ran = nb.run("popt", "np.set_printoptions(precision=3)").ran
        assert "parr" in ran and "early" not in ran
    finally:
        import numpy as np
        import pandas as pd
        np.set_printoptions(precision=8)
        pd.reset_option("display.max_rows")


def test_a_cell_above_a_call_found_changing_an_array_gets_it_before_the_change() -> None:
    """``halve(a)`` (``v.__itruediv__(2)``: a change the analysis does not see)
    is found changing ``a`` when it runs: a cell above it reading ``a``, re-run,
    gets ``a`` as top to bottom has it there, not halved; the call re-run by hand
    halves a fresh ``a`` once; and the cells below reading ``a`` re-run with it."""
    nb = Notebook.of({
        "imp": "import numpy as np\na = np.arange(3.0)",
        "first": "first = a.tolist()",
        "half": "def halve(v):\n    v.__itruediv__(2)",
        "call": "halve(a)",
        "last": "last = a.tolist()",
    })
    assert nb.ns["first"] == [0.0, 1.0, 2.0] and nb.ns["last"] == [0.0, 0.5, 1.0]
    nb.run("first", "first = a.tolist()")
    assert nb.ns["first"] == [0.0, 1.0, 2.0]
    report = nb.run("call", "halve(a)")
    assert "last" in report.ran and nb.ns["last"] == [0.0, 0.5, 1.0]
    report = nb.run("half", "def halve(v):\n    v.__imul__(3)")
    assert "last" in report.ran and nb.ns["last"] == [0.0, 3.0, 6.0]
    assert nb.ns["first"] == [0.0, 1.0, 2.0]


def test_names_starting_with_one_underscore_link_cells_ipythons_own_do_not() -> None:
    """Audit 14: ``_scale = 2`` edited to 3 left ``y = x * _scale`` below it stale
    (every ``_`` name was cell-private).  The notebook's own ``_name`` links like
    any name; IPython's (``_``, ``_5``, ``_i3``) and ``__name`` never link."""
    nb = Notebook.of({"s": "_scale = 2", "y": "y = 10 * _scale",
                      "t": "_ = y + 1\n__tmp = 5", "u": "u = __tmp if '__tmp' in dir() else 0"})
    report = nb.run("s", "_scale = 3")
    assert report.ran == ["s", "y", "t"] and nb.ns["y"] == 30 and nb.ns["_"] == 31
    assert nb.run("t", "_ = y + 2\n__tmp = 6").ran == ["t"]


def test_a_plot_drawn_through_pandas_follows_an_edited_matplotlib_setting() -> None:
    """Audit 14b: every pandas-cookbook chapter sets ``plt.rcParams`` or a style in its
    first cell and plots with ``df.plot()``, which never names ``plt``: an edited
    setting left the plots as they were."""
    nb = Notebook.of({
        "imp": "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
               "import pandas as pd\ndf = pd.DataFrame({'a': [1, 3, 2]})",
        "rc": "plt.rcParams['figure.figsize'] = (4, 3)",
        "draw": "df['a'].plot()",
        "other": "df['a'].sum()",
    })
    try:
        report = nb.run("rc", "plt.rcParams['figure.figsize'] = (6, 3)")
        assert "draw" in report.ran and "other" not in report.ran
    finally:
        import matplotlib
        matplotlib.rcdefaults()


def test_a_report_merged_with_a_later_cascade_keeps_what_both_say() -> None:
    """The review of 2026-12-06: merging a run-stale cascade into a request's
    report dropped the cells it deferred and forgot an interrupt before it."""
    from reactive_kernel.state import CascadeReport

    first = CascadeReport(ran=["a"], deferred=["b"], interrupted=True)
    first.merge(CascadeReport(ran=["c"], deferred=["d", "b"], stale=["e"]))
    assert first.ran == ["a", "c"] and first.deferred == ["b", "d"]
    assert first.interrupted is True and first.stale == ["e"]


def test_a_change_through_another_name_remakes_the_object_kept_above() -> None:
    """The review of 2026-12-06: ``a = [1]`` / ``b = a`` / ``a = [0]`` /
    ``b.append(9)``: re-run, the append started from the list a cell above
    kept, already appended to, and appended again."""
    nb = Notebook()
    for cell, code in [("c1", "a = [1]"), ("c2", "b = a"), ("c3", "a = [0]"),
                       ("c4", "b.append(9)"), ("c5", "both = (a, b)")]:
        nb.run(cell, code)
    for _ in range(2):
        report = nb.run("c4", "b.append(9)")
        assert report.restored[:1] == ["c1"] and nb.ns["both"] == ([0], [1, 9])
    nb.run("s1", "x, y = [1], [2]")
    nb.run("s2", "x, y = y, x")
    nb.run("s3", "x.append(9)")
    nb.run("s3", "x.append(9)")
    assert nb.ns["x"] == [2, 9] and nb.ns["y"] == [1]


def test_a_name_read_unseen_below_every_definer_gets_the_last_ones_value() -> None:
    """The review of 2026-12-06: a generator reading ``k`` when consumed below
    ``k = 10``, re-made in a cascade that placed ``k = 1`` for it, was consumed
    with ``k = 1`` (the cell below reads only ``gen``)."""
    nb = Notebook()
    for cell, code in [("c1", "k = 1"), ("c2", "gen = (k * i for i in range(3))"),
                       ("c3", "k = 10"), ("c4", "out = list(gen)")]:
        nb.run(cell, code)
    assert nb.ns["out"] == [0, 10, 20]
    nb.run("c2", "gen = (k * i for i in range(4))")
    assert nb.ns["out"] == [0, 10, 20, 30] and nb.ns["k"] == 10


def test_a_mutating_method_bound_to_a_name_changes_its_object_when_called() -> None:
    """The review of 2026-12-06: ``push = stack.append`` / ``push(1)``: re-run,
    it appended again."""
    nb = Notebook()
    nb.run("c1", "stack = []")
    nb.run("c2", "push = stack.append")
    nb.run("c3", "push(1); push(2)")
    nb.run("c4", "n = len(stack)")
    report = nb.run("c3", "push(1); push(2)")
    assert report.restored == ["c1", "c2"] and nb.ns["stack"] == [1, 2]
    report = nb.run("c3", "push(3)")
    assert nb.ns["n"] == 1 and "c4" in report.ran


@pytest.mark.parametrize(("make", "change", "edited", "expected"), [
    ("from collections import Counter\ninv = Counter(apple=3)", "inv.subtract({'apple': 1})",
     "inv.subtract({'apple': 2})", "inv['apple'] == 1"),
    ("from collections import OrderedDict\nod = OrderedDict(a=1, b=2, c=3)",
     "od.move_to_end('a')", "od.move_to_end('b')", "list(od) == ['a', 'c', 'b']"),
    ("from collections import deque\nd = deque([1, 2, 3])", "d.rotate(1)", "d.rotate(-1)",
     "list(d) == [2, 3, 1]"),
    ("class Cfg:\n    pass\ncfg = Cfg()", "setattr(cfg, 'lr', 0.5)", "setattr(cfg, 'lr', 0.1)",
     "cfg.lr == 0.1"),
])
def test_more_changes_in_place_of_the_standard_library(
        make: str, change: str, edited: str, expected: str) -> None:
    """The review of 2026-12-06: ``Counter.subtract``, ``OrderedDict.move_to_end``,
    ``deque.rotate`` and ``setattr`` were reads: an edit changed the object the
    last run had changed."""
    nb = Notebook()
    nb.run("c1", make)
    nb.run("c2", change)
    report = nb.run("c2", edited)
    assert report.restored == ["c1"]
    assert eval(expected, nb.ns)


class _Symbol:
    """What the test reads of a SymPy symbol."""

    def __init__(self, name: str, positive: bool | None = None,
                 integer: bool | None = None) -> None:
        self.name, self.is_positive, self.is_integer = name, positive, integer

    def __add__(self, other: _Symbol) -> str:
        return f"{self.name} + {other.name}"


def _sympy_var(names: str | list[str], **assumptions: bool) -> object:
    """SymPy's ``var``: binds the symbols in the caller's globals."""
    listed = names.split() if isinstance(names, str) else names
    symbols = [_Symbol(n, **assumptions) for n in listed]
    caller = sys._getframe(1).f_globals
    for symbol in symbols:
        caller[symbol.name] = symbol
    return symbols


def test_audit_25_sympy_var_binds_names_the_analysis_cannot_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit 25: jckantor/CBE20255 makes its symbols with ``sym.var(['n1', 'n2'])``,
    which binds them in the caller's globals.  Edited (``positive=True``, or
    another list of names), the cells reading them were left as they were: they
    showed the old symbols, or names top to bottom no longer has.  (SymPy is no
    test dependency: without it, a stand-in ``var`` binding as SymPy's does.)"""
    try:
        import sympy  # noqa: F401
    except ImportError:
        monkeypatch.setitem(sys.modules, "sympy",
                            types.SimpleNamespace(var=_sympy_var, __name__="sympy"))
    for edit, names in (("sym.var(['n1', 'n2'], positive=True)", ["v"]),
                        ("from sympy import var\nvar('n1 n2', integer=True)", ["v"])):
        cells = {"imp": "import sympy as sym", "var": "sym.var(['n1', 'n2'])",
                 "show": "v = (n1.is_positive, n1.is_integer, str(n1 + n2))"}
        nb = Notebook.of(cells)
        cells["var"] = edit
        report = nb.run("var", edit)
        assert report.ran == ["var", "show"], edit
        top = _top_to_bottom(cells)
        assert [nb.ns[n] for n in names] == [top[n] for n in names], edit
    cells = {"imp": "import sympy as sym", "var": "sym.var(['n1', 'n2'])",
             "show": "v = str(n1 + n2)"}
    nb = Notebook.of(cells)
    nb.run("var", "sym.var(['n1', 'n3'])")
    assert "n2" not in nb.ns
