"""Cascade planning, the graph's upkeep and the cells' run state.

The :class:`Runner` owns a :class:`~reactive_kernel.graph.DependencyGraph`,
a :class:`~reactive_kernel.values.ValueStore` and a
:class:`~reactive_kernel.state.CellState` per cell.  It turns "cell X was
submitted with this code" into a plan (analyse, update the graph, decide what
runs and what goes stale) and runs the plan (:mod:`.cascade`) through an
executor callback supplied by the kernel glue, each cell with the namespace it
would see running the notebook top to bottom.  It never touches messages.

Ordering: a cascade runs the submitted cell first, then every affected cell
once, parents before children, ties broken by notebook position.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import threading
import types
from collections.abc import Callable, Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import replace
from typing import TypeVar

from . import files
from .analysis import (
    BUILTIN_NAMES,
    GENERATOR_SEEDS,
    MUTATING_METHODS,
    CellAnalysis,
    MagicAnalyser,
    analyse,
    bound_before,
    is_private,
    unread_cell_magic,
)
from .calls import CallTimeReads
from .cascade import Cascade, Stop
from .graph import CellId, CellUpdate, DependencyGraph, GraphError
from .owncalls import OwnCalls
from .settings import CWD, FIGURES, PRECISION, Precision, Settings, WorkingDirectory
from .state import CascadeReport, CellState, Executor, Mode, Outcome, Plan, Status, code_hash
from .values import (
    ABSENT,
    NO_CELL,
    ValueStore,
    consumed_by_reading,
    generator_called,
    immutable,
    is_a,
    method_changes,
)
from .values import holds as holds_value
from .views import arrays, shares

__all__ = ["CascadeReport", "CellState", "Executor", "Mode", "Outcome", "Plan", "Runner",
           "Status"]

#: Names a run found for a cell (see :meth:`Runner._register_kept`): a set, or
#: each name with what it came from.
_Names = TypeVar("_Names", frozenset[str], Mapping[str, CellId])


def _package(value: object) -> str:
    """The top-level package of ``value``'s type (``pandas`` for a DataFrame)."""
    module = getattr(type(value), "__module__", None)
    return module.partition(".")[0] if isinstance(module, str) else ""


def _plotting(value: object) -> bool:
    """matplotlib, one of its modules (pyplot, style), or seaborn."""
    name = getattr(value, "__name__", "") if is_a(value, types.ModuleType) else ""
    return name == "seaborn" or name == "matplotlib" or name.startswith("matplotlib.")


def _code_names(code: types.CodeType) -> str:
    """The global and attribute names a function's code (and the code nested
    in it) uses, one per line."""
    names: list[str] = []
    todo = [code]
    while todo:
        current = todo.pop()
        names += current.co_names
        todo += (c for c in current.co_consts if is_a(c, types.CodeType))
    return "\n".join(names)


#: Code that may bind names the analysis cannot list (see :meth:`Runner.binds_unseen`).
_UNSEEN = re.compile(
    r"import\s*\*|\bexec\s*\(|\bglobals\s*\(|\.(?:run_cell|ex|push)\s*\(|\buser_ns\b"
    # SymPy's ``var('x y')`` and ``init_session()`` bind names in the caller's globals.
    r"|(?:\b(?:sympy|sym|sp)\.|(?<![.\w]))var\s*\(|\binit_session\s*\("
    r"|%(?:run|pylab|store)\b"
    r"|run_line_magic\(\s*['\"](?:run|pylab|store)['\"]")


#: Libraries whose display settings change how their objects show
#: (``pd.set_option("display.max_rows", ...)``, ``np.set_printoptions(...)``):
#: see :meth:`Runner.showed`.
_DISPLAY_SETTINGS = frozenset({"pandas", "numpy", "polars", "sympy"})
_PLAIN = (int, float, complex, str, bytes, bool, type(None), tuple, range, list, dict, set,
          frozenset)
#: Methods bound to their object (``stack.append``, a method of the notebook's classes).
_BOUND_METHODS = (types.BuiltinMethodType, types.MethodType)
#: A line or cell magic used at the start of a line (``%%dummy``, ``x = %mine 3``).
_MAGIC_USE = re.compile(r"^[ \t]*(?:[\w., \t]+=[ \t]*)?(%%?)([A-Za-z_][\w.]*)", re.M)
#: IPython's figure settings (``%config InlineBackend.figure_format = 'svg'``,
#: ``%matplotlib inline``, ``set_matplotlib_formats('svg')``): settings of matplotlib.
_FIGURE_SETTINGS = re.compile(
    r"^[ \t]*%(?:config[ \t]+InlineBackend\b|matplotlib\b).*$|\bset_matplotlib_formats[ \t]*\(.*$",
    re.MULTILINE)
#: A showing cell drawing through pandas (``df.plot()``, ``s.hist()``) draws with
#: matplotlib: it reads matplotlib's names too (its style, ``rcParams``).
_DRAWS = re.compile(r"\.(?:plot|hist|boxplot)\b")

#: Libraries whose functions and methods do not change the values given to them
#: (but for the known mutating ones: ``CellAnalysis.inplace``).
_LIBRARIES = _DISPLAY_SETTINGS | {"matplotlib", "seaborn", "scipy", "math", "statistics"}


def _library(value: object) -> bool:
    """A module or an object of one of :data:`_LIBRARIES` (``pd``, a DataFrame)."""
    if is_a(value, types.ModuleType):
        return value.__name__.partition(".")[0] in _LIBRARIES
    return _package(value) in _LIBRARIES


def _changing(analysis: CellAnalysis, names: frozenset[str]) -> CellAnalysis:
    """The analysis with ``names`` changed in place: defined anew for the cells
    below, and read (weakly, if the code does not read them itself)."""
    return replace(analysis, inplace=analysis.inplace | names, defs=analysis.defs | names,
                   refs=analysis.refs | names, weak=analysis.weak | (names - analysis.refs))


def _creates(analysis: CellAnalysis, table: str) -> bool:
    """Whether a cell defining ``table`` (``sql:<table>``) makes it rather than
    changes the one above: it does not read it, or reads it only weakly (``CREATE
    TABLE t`` without ``OR REPLACE`` reads whether a cell above made one)."""
    return table not in analysis.refs or table in analysis.weak


def _draws_only(analysis: CellAnalysis) -> bool:
    """A cell binding nothing but by imports (and files it writes: a figure
    saved), changing nothing in place: drawing a figure, it only shows (see
    :meth:`Runner.showed`)."""
    return not analysis.inplace and all(
        files.is_file_name(name) for name in analysis.defs - analysis.imported)


class Runner:
    """Plans and runs cascades; owns the graph, the kept values and run state.

    Responsibilities: analyse submitted code, keep the graph current, decide
    which cells run or go stale (auto vs lazy mode), restore the values a cell
    needs, place each cell's view of the namespace and record what it left,
    run cells in order, skip descendants of failures, stop on interrupt, and
    record each cell's status and duration.
    """

    def __init__(
        self,
        namespace: MutableMapping[str, object],
        transform: Callable[[str], str] | None = None,
        mode: Mode = "auto",
        analyser: Callable[[str], CellAnalysis] | None = None,
        cell_magics: Mapping[str, MagicAnalyser] | None = None,
        budget: int = 1 << 30,
        magic: Callable[[str, str], object] | None = None,
    ) -> None:
        self.graph = DependencyGraph(label=self.label)
        self.values = ValueStore(namespace, self.graph, budget)
        #: Settings outside the namespace (working directory, rcParams...) per position.
        self.settings = Settings(self.graph)
        self.namespace = namespace
        self.mode: Mode = mode
        self.states: dict[CellId, CellState] = {}
        self._plans: dict[tuple[object, ...], tuple[tuple[CellId, ...], ...]] = {}
        self._transform = transform
        self._analyser = analyser
        self._cell_magics = dict(cell_magics or {})
        #: The function behind a magic, by kind ("line", "cell") and name (the shell's).
        self._magic = magic
        self._analyses: dict[str, CellAnalysis] = {}
        #: Per cell, the generators its runs changed though the analysis did not
        #: see it draw (``df.sample(3)``, ``train_test_split(X)``, ``sim.run()``
        #: with ``sim = Simulator(rng)``): a drawer of them like the ones it sees,
        #: until a run (of any code) leaves them as they were (see :meth:`drew`).
        self._hidden_draws: dict[CellId, frozenset[str]] = {}
        #: Per cell, other names for the objects it changes in place (``b = a``
        #: above ``b[0] = 9``: ``a``), found after its runs (see :meth:`aliased`),
        #: each with the cell above that bound it when it was found.
        self._aliases: dict[CellId, Mapping[str, CellId]] = {}
        #: Per cell, the names it rebound to a view of the value it was given
        #: (``data = data.T``, ``x = x[:, 0]``), found after its runs (see
        #: :meth:`viewed`).
        self._views: dict[CellId, frozenset[str]] = {}
        #: Per cell, the names whose arrays its latest run changed though the
        #: analysis saw no change of them (``pmf.normalize()`` of an installed
        #: library; see :meth:`changed_unseen`).
        self._unseen_changes: dict[CellId, frozenset[str]] = {}
        #: Per cell, the names of the notebook's own modules whose globals its
        #: latest run rebound (``thinkplot.Config(loc=...)``: see :meth:`set_modules`).
        self._module_sets: dict[CellId, frozenset[str]] = {}
        #: Per cell, reads its code does not make (from above only; see
        #: :meth:`showed`): the names of the libraries whose objects it showed
        #: (``df.head()``: ``pd``), while its code only shows values, and of
        #: ``warnings`` once a run showed a warning.
        self._shown: dict[CellId, frozenset[str]] = {}
        self._warns: dict[CellId, frozenset[str]] = {}
        #: Per cell, the files it writes by a literal path (see :mod:`.files`).
        self._written: dict[CellId, frozenset[str]] = {}
        #: Per cell, the modules it imports that a cell of the notebook writes
        #: (``%%writefile helper.py``), with their paths (see :meth:`fresh_imports`).
        self._module_files: dict[CellId, dict[str, str]] = {}
        #: Per such file (absolute path), a digest of what its module was loaded from.
        self._loaded_sources: dict[str, bytes] = {}
        #: Names cells bound to modules, by top-level package (see :meth:`showed`).
        self._module_names: dict[str, set[str]] = {}
        #: Cells that showed a warning in their latest run (see :meth:`warned`),
        #: and that drew a matplotlib figure (see :meth:`drew_figure`).
        self._warned: set[CellId] = set()
        self._figured: set[CellId] = set()
        #: Cells that showed a float in their latest run (see :meth:`showed_float`).
        self._floated: set[CellId] = set()
        #: Cells that drew a figure, binding and changing nothing (see :meth:`showed`).
        self._drawing: set[CellId] = set()
        self._anonymous_count = 0
        #: Per cell: names it changes in place.
        self._inplace: dict[CellId, frozenset[str]] = {}
        #: Per cell: names it may pass through unread (``Names.pass_only``).
        self.pass_only: dict[CellId, frozenset[str]] = {}
        #: Calls of the notebook's own methods and module functions changing
        #: what they are given (see :mod:`.owncalls`).
        self.own_calls = OwnCalls(namespace, self.settings.own_module)
        self.calls = CallTimeReads(
            self.graph.definers_seen,
            lambda name: (v := namespace.get(name, ABSENT)) is ABSENT or not immutable(v))
        #: Batch inputs (no cell id, no stdin): never re-run, values not kept.
        self.batch = self.values.unkept
        #: Names whose definers changed since the last cascade (see _Cascade.settle).
        self._unsettled: set[str] = set()
        #: Cells whose state changed since :meth:`take_changes` (published to frontends).
        self.changed: set[CellId] = set()
        self._changes_lock = threading.Lock()
        #: Called when a cascade starts (True) and before each of its cells runs
        #: (False): the kernel publishes progress.
        self.on_progress: Callable[[bool], None] | None = None
        #: Called with (old value, new value) when a cell re-run with the code of
        #: its last run binds a name to a new object (widgets keep the user's value).
        self.on_replaced: Callable[[object, object], None] | None = None
        #: The cell running now, if a cascade runs one.
        self.running: CellId | None = None

    # -- identity -----------------------------------------------------------

    def new_anonymous_id(self) -> CellId:
        self._anonymous_count += 1
        return CellId(f"anon-{self._anonymous_count}")

    def state(self, cell: CellId) -> CellState:
        return self.states.setdefault(cell, CellState())

    def table_left_over(self, name: str, creating: bool) -> bool:
        """Whether the database's table ``name`` (``sql:<table>``), made by a cell
        run in this kernel, would not exist for the running cell run from the
        top.  The nearest cell above it that creates or drops the table decides
        (cells that only change it, ``INSERT INTO t``, need it made above);
        without one, the table is left over if the running cell creates it
        (``creating``: its last run or a cell below made the one there) or no
        cell below it creates it.  True also notes that the caller drops it: no
        cell's version is there after, so a reader of one re-runs its cell."""
        if self._table_left_over(name, creating):
            self.values.tables[name] = NO_CELL
            return True
        return False

    def _table_left_over(self, name: str, creating: bool) -> bool:
        cell = self.running
        graph = self.graph
        if cell is None or cell not in graph or cell in self.batch \
                or self.values.tables.get(name) is None:
            return False
        above = graph.definer_above(cell, name)
        while above is not None:
            analysis = self.calls.analysis(above)
            if analysis is not None and name in analysis.deletes:
                return True
            if analysis is not None and _creates(analysis, name):
                return False  # it creates the table
            above = graph.definer_above(above, name)
        if creating:
            return True
        below = graph.definer_below(cell, name)
        while below is not None:
            analysis = self.calls.analysis(below)
            if analysis is not None and _creates(analysis, name) \
                    and name not in analysis.deletes:
                return False  # a cell below creates it: a read from below
            below = graph.definer_below(below, name)
        return True

    def touch(self, cell: CellId) -> None:
        """Note that a cell's state changed (frontends hear of it)."""
        with self._changes_lock:
            self.changed.add(cell)

    def take_changes(self) -> set[CellId]:
        """The cells changed since the last call (from any thread)."""
        with self._changes_lock:
            changed, self.changed = self.changed, set()
        return changed

    def keep_changes(self, cells: set[CellId]) -> None:
        """``cells`` taken by :meth:`take_changes` were not sent: they are
        changes again."""
        with self._changes_lock:
            self.changed |= cells

    def label(self, cell: CellId) -> str:
        """A cell as users see it: ``In [5] `df = load()``` (its first line)."""
        code = self.graph.cell(cell).code if cell in self.graph else ""
        first = next((line.strip() for line in code.splitlines() if line.strip()), "")
        if len(first) > 40:
            first = first[:39] + "…"
        state = self.states.get(cell)
        count = state.execution_count if state is not None else None
        prompt = f"In [{count}]" if count is not None else "a cell not run yet"
        return f"{prompt} `{first}`" if first else prompt

    def analyse(self, code: str) -> CellAnalysis:
        """Analysis of ``code``; identical code is analysed once (bounded cache)."""
        cached = self._analyses.get(code)
        if cached is not None:
            return cached
        if self._analyser is not None:
            result = self._analyser(code)
        else:
            result = analyse(code, self._transform, cell_magics=self._cell_magics)
        if len(self._analyses) >= 4096:
            del self._analyses[next(iter(self._analyses))]
        self._analyses[code] = result
        return result

    def binds_unseen(self, code: str, cell: CellId | None = None) -> bool:
        """Whether ``code`` may bind names the analysis cannot list: a star
        import, ``exec``, ``globals()``, the shell's ``run_cell``, ``ex``, ``push``
        and ``user_ns``, SymPy's ``var(...)`` and ``init_session()``, ``%run``, ``%pylab``,
        ``%store -r``, a cell magic the analysis does not read (the notebook's
        own ``%%expect`` running its body), in it or in a cell defining a
        function it reads (``setx()`` with ``def setx(): globals()["x"] = 2``
        above)."""
        if _UNSEEN.search(code) is not None \
                or unread_cell_magic(code, self._cell_magics) is not None:
            return True
        if cell is None or cell not in self.graph:
            return False
        graph = self.graph
        for name in graph.cell(cell).refs:
            definer = graph.binding(cell, name)
            if definer is not None and definer != cell \
                    and _UNSEEN.search(graph.cell(definer).code) is not None:
                own = self.calls.analysis(definer)
                if own is not None and any(c.name == name for c in own.calls):
                    return True
        return False

    def literal_changes(self, cell: CellId) -> dict[str, str]:
        """The names ``cell`` changes in place only by literal statements of its
        own (``np.random.seed(0)``), not through the functions it calls, with
        those statements' text (see ``CellAnalysis.literal_changes``)."""
        own = self.calls.analysis(cell)
        if own is None or not own.literal_changes:
            return {}
        inplace = self._inplace.get(cell, frozenset())
        through_calls = self.calls.names(cell).inplace
        return {name: text for name, text in own.literal_changes
                if name in inplace and name not in through_calls}

    def bound_before(self, code: str, line: int, column: int | None) -> frozenset[str]:
        """Names a run of ``code`` that failed at ``line`` and ``column`` surely
        bound or deleted before the statement that failed (see
        :func:`.analysis.bound_before`)."""
        found = bound_before(code, line, column, self._transform, self._cell_magics)
        return found or frozenset()

    def python(self, code: str) -> str:
        """``code`` as Python: IPython syntax (``%precision 3``) turned into
        calls by the shell's input transformer, as it runs."""
        if self._transform is None:
            return code
        try:
            return self._transform(code)
        except Exception:  # a transformer failing on odd input: as it is
            return code

    def parses(self, code: str) -> bool:
        try:
            self.analyse(code)
        except SyntaxError:
            return False
        return True

    # -- graph maintenance --------------------------------------------------

    def register(
        self, cell: CellId, code: str, analysis: CellAnalysis, *,
        anonymous: bool | None = None, take_over: bool = False,
    ) -> CellUpdate:
        """Put a cell in the graph without running it (``anonymous``: a cell
        without an id, a console input; None: as it is registered, else not).

        A name the cell defines, deletes or changes in place is a definition
        for the cells below; the cell reads its own reads and those of the
        functions it may call (:mod:`.calls`).  Graph errors propagate, graph
        unchanged.
        """
        if anonymous is None:
            anonymous = cell in self.graph and self.graph.cell(cell).anonymous
        passing = self._passing()
        analysis = self._method_changes_known(analysis)
        if analysis.attribute_calls or analysis.passed:
            analysis = self._own_calls_known(analysis)
        if analysis.handed:
            analysis = self._handed_known(analysis)
        # (A name it reads from above and then binds anew too: ``list(it)`` above
        # ``it = gen()`` in it consumed the iterator above.)
        analysis = self._read_changes_known(analysis, analysis.refs)
        magic = unread_cell_magic(code, self._cell_magics)
        if magic:
            analysis = self._magic_line_known(analysis, magic)
        if "%" in code and self._magic is not None:
            analysis = self._own_magics_known(code, analysis)
        if _FIGURE_SETTINGS.search(code) is not None:
            analysis = self._figure_settings(cell, code, analysis)
        hidden = self._hidden_draws.get(cell)
        if hidden:
            reads = hidden - analysis.refs
            analysis = replace(analysis, defs=analysis.defs | hidden,
                               refs=analysis.refs | reads, weak=analysis.weak | reads)
        # (A change found of a name it reads and then binds anew stays one, as
        # ``lst.append(1)`` above ``lst = [0]``: ``res = addto(0)`` above a new
        # ``def addto``.)
        aliases = ((frozenset(self._aliases.get(cell, {}))
                    | self._module_sets.get(cell, frozenset())
                    | self._unseen_changes.get(cell, frozenset())) - analysis.defs) \
            | (self._unseen_changes.get(cell, frozenset()) & analysis.defs & analysis.refs)
        if aliases:
            analysis = _changing(analysis, aliases)
        views = self._views.get(cell, frozenset()) & analysis.defs & analysis.refs
        if views:
            analysis = _changing(analysis, views)
        if cell in self.settings.figure_setters or any(
                _plotting(self.namespace.get(n)) for n in analysis.inplace):
            # It changes how figures are drawn (see ``settings.FIGURES``).
            analysis = replace(analysis, defs=analysis.defs | {FIGURES})
        if self._sets_precision(cell, code):
            analysis = replace(analysis, defs=analysis.defs | {PRECISION})
        if self._sets_directory(cell, code):
            # (Where a relative ``%cd ..`` lands is where the cells above left it.)
            analysis = replace(analysis, defs=analysis.defs | {CWD},
                               refs=analysis.refs | {CWD}, weak=analysis.weak | {CWD})
        if analysis.imported:
            analysis = self._settings_through_imports(cell, analysis)
            if CWD not in analysis.refs and "os" in files.imports(code, self._transform) \
                    and (self.graph.definer_above(cell, CWD) if cell in self.graph
                         else self.graph.definers(CWD)):
                # ``import os`` below ``%cd sub`` (with no cell above binding ``os``
                # for the setting to change): the working directory it may read
                # (``os.getcwd()``) is the one the ``%cd`` cells above leave.
                analysis = replace(analysis, refs=analysis.refs | {CWD},
                                   weak=analysis.weak | {CWD})
        written = self._written.get(cell)
        analysis, refresh = self._files(cell, code, analysis)
        try:
            update = self._register_shown(cell, code, analysis, passing,
                                          anonymous=anonymous, take_over=take_over)
        except GraphError:
            if written:
                self._written[cell] = written
            else:
                self._written.pop(cell, None)
            raise
        if refresh:
            more = self._refresh_files(refresh, skip=cell)
            if more:
                update = replace(update, rebound=update.rebound | more)
        return update

    def _settings_through_imports(self, cell: CellId, analysis: CellAnalysis) -> CellAnalysis:
        """A module with settings imported again below a cell setting it
        (``import matplotlib.pyplot as plt`` under ``plt.rc(...)``) passes the
        settings on: the import reads the name from above, so an edited setting
        re-runs it, and it the cells below reading the name."""
        graph, namespace = self.graph, self.namespace
        packages = self.settings.packages
        reads = frozenset(
            name for name in analysis.imported - analysis.refs
            if is_a(value := namespace.get(name), types.ModuleType)
            and value.__name__.partition(".")[0] in packages
            and (graph.definer_above(cell, name) if cell in graph else graph.definers(name)))
        if not reads:
            return analysis
        return replace(analysis, refs=analysis.refs | reads, weak=analysis.weak | reads)

    def _files(self, cell: CellId, code: str,
               analysis: CellAnalysis) -> tuple[CellAnalysis, frozenset[str]]:
        """The analysis with the files the cell writes (``file:<path>`` defined)
        and reads (named in its code, written by a cell: read from above only);
        and the paths whose writers changed (their readers are looked at again)."""
        own = files.written(code, self._transform)
        before = self._written.get(cell, frozenset())
        now = frozenset(own)
        if now:
            self._written[cell] = now
        else:
            self._written.pop(cell, None)
        paths = {p for ps in self._written.values() for p in ps}
        reads = frozenset(files.pseudo_name(p) for p in paths
                          if files.names_path(code, p, own))
        modules = {m: p for p in paths if p not in own and (m := files.module_of(p))}
        imported = files.imports(code, self._transform) & modules.keys() if modules \
            else frozenset()
        loaded = {m: modules[m] for m in imported}
        if imported:
            # ``import helper`` below ``%%writefile helper.py``: it loads that file.
            reads |= {files.pseudo_name(modules[m]) for m in imported}
        if modules:
            # ``importlib.reload(helper)``: it loads the file again, as it then is
            # (in the module it is given: not one to import anew).
            reads |= {files.pseudo_name(modules[m])
                      for m in files.reloads(code, self._transform) & modules.keys()}
        for path in {files.path_of(name) for name in reads} - own.keys():
            if files.module_of(path) is not None:
                # ``%run script.py``: what the script imports of the notebook's
                # modules (its writer's) is loaded by this cell's run.
                for writer, paths_written in self._written.items():
                    if path in paths_written and writer != cell:
                        loaded.update(self._module_files.get(writer, {}))
        if loaded:
            self._module_files[cell] = loaded
        else:
            self._module_files.pop(cell, None)
        writes = frozenset(files.pseudo_name(p) for p in own)
        if reads or writes:
            reads -= analysis.refs
            analysis = replace(analysis, defs=analysis.defs | writes,
                               refs=analysis.refs | reads, weak=analysis.weak | reads)
        return analysis, now ^ before

    def _refresh_files(self, paths: frozenset[str], skip: CellId) -> frozenset[CellId]:
        """Register again the cells naming ``paths`` (a writer of them came or went);
        returns those whose reads changed, and the cells whose reads now bind to them."""
        found: set[CellId] = set()
        for other in self.graph.cells():
            if other == skip:
                continue
            node = self.graph.cell(other)
            if not any(p in node.code or ((m := files.module_of(p)) and re.search(
                    rf"\b{re.escape(m)}\b", node.code)) for p in paths):
                continue
            refs = node.refs
            try:
                update = self.register(other, node.code, self.analyse(node.code),
                                       anonymous=node.anonymous)
            except (SyntaxError, GraphError):
                continue
            found |= update.rebound
            if self.graph.cell(other).refs != refs:
                found.add(other)
        return frozenset(found)

    def _register_shown(
        self, cell: CellId, code: str, analysis: CellAnalysis,
        passing: dict[tuple[CellId, str], CellId | None], *,
        anonymous: bool, take_over: bool,
    ) -> CellUpdate:
        shown = self._shown.get(cell, frozenset())
        if not analysis.shows_only and not analysis.displays:
            # (A cell binding names only follows the plotting settings, drawing;
            # so does one that drew a figure, binding and changing nothing.)
            drawing = (analysis.binds_only and _DRAWS.search(code) is not None) or (
                cell in self._drawing and _draws_only(analysis))
            shown = frozenset(n for n in shown if _plotting(self.namespace.get(n))) \
                if drawing else frozenset()
        if (cell in self._drawing and _draws_only(analysis)) \
                or any(_plotting(self.namespace.get(n)) for n in shown):
            # It draws with the settings the cells above leave, named or not
            # (a helper module's ``set_pyplot_params()`` above ``pmf.plot()``).
            shown |= {FIGURES}
        shown |= self._warns.get(cell, frozenset())
        shown -= analysis.refs | analysis.defs
        if shown:
            try:
                return self._register(cell, code, replace(
                    analysis, refs=analysis.refs | shown, weak=analysis.weak | shown),
                    passing, anonymous=anonymous, take_over=take_over)
            except GraphError:
                # (Reads the cell's code does not make never refuse it: a cycle
                # through a setting read from below is left out.)
                self._shown.pop(cell, None)
                self._warns.pop(cell, None)
        return self._register(cell, code, analysis, passing,
                              anonymous=anonymous, take_over=take_over)

    def _register(
        self, cell: CellId, code: str, analysis: CellAnalysis,
        passing: dict[tuple[CellId, str], CellId | None], *,
        anonymous: bool, take_over: bool,
    ) -> CellUpdate:
        previous = self.calls.analysis(cell)
        names, changed = self.calls.update(cell, analysis)
        if names.called:
            # (What the functions it calls read: ``take(2)`` consuming ``g``.)
            through = self._read_changes_known(analysis, names.called)
            if through is not analysis:
                analysis = through
                names, more = self.calls.update(cell, analysis)
                changed |= more
        try:
            update = self.graph.set_cell(
                cell, code, names.defs, names.refs, weak=names.weak, called=names.called,
                anonymous=anonymous, take_over=take_over,
            )
        except GraphError:
            self.calls.restore(cell, previous)
            raise
        self.state(cell)
        self.touch(cell)
        self._inplace[cell] = analysis.inplace | names.inplace
        self.pass_only[cell] = names.pass_only
        self._dropped(cell, update.dropped)
        for loser in update.displaced:
            node = self.graph.cell(loser)
            kept = self.values.records.get(loser)
            if kept is not None:
                self.values.forget(loser, [n for n in kept if n not in node.defs])
            if node.anonymous and not node.defs and not node.refs - BUILTIN_NAMES:
                # Console history that defines nothing any more can never
                # re-run: drop it so the graph stays small.
                self._drop(loser)
        rebound = set(update.rebound) | self._repassed(passing)
        if changed:
            # What its functions read or write reaches the cells calling them.
            rebound |= self._refresh_calls(changed, skip=cell)
        return CellUpdate(cell, update.dropped, frozenset(rebound), update.displaced)

    def _method_changes_known(self, analysis: CellAnalysis) -> CellAnalysis:
        """The analysis without the in-place changes that its mutating-method calls
        do not make, judged by what the objects are now (``np.sort(a)`` is a
        module's function; ``A.add(B)`` on a pandas Series returns a new one),
        and with the global random generators it draws from or seeds (see
        :mod:`.generators`)."""
        if analysis.draw_calls:
            analysis = self._draws_known(analysis)
        analysis = self._method_calls_known(analysis)
        return self._plotting_family(analysis) if analysis.inplace else analysis

    def _own_calls_known(self, analysis: CellAnalysis) -> CellAnalysis:
        """The analysis with the names its calls of the notebook's own methods
        and module functions change in place (``spectrum.scale(2)``), judged by
        what the objects are now (see :mod:`.owncalls`)."""
        changed = self.own_calls.changed(analysis.attribute_calls, analysis.passed) \
            - (analysis.defs - analysis.refs)
        if not changed:
            return analysis
        return replace(_changing(analysis, changed), shows_only=False, binds_only=False,
                       displays=False)

    def _handed_known(self, analysis: CellAnalysis) -> CellAnalysis:
        """The analysis with the objects of the mutating methods its calls are
        given (``list(map(out.append, xs))``) changed in place, judged by what
        they are now: not a module's or a class's function (``reduce(np.add,
        xs)``), nor a name not bound yet."""
        namespace = self.namespace
        found = frozenset(
            name for name, path, method in analysis.handed
            if not issubclass(type(namespace.get(name, ABSENT)), (type, types.ModuleType))
            and name in namespace and method_changes(namespace, name, path, method))
        found -= analysis.inplace
        if not found:
            return analysis
        return replace(_changing(analysis, found), shows_only=False, binds_only=False,
                       displays=False)

    def _bound_method_owners(self, names: Iterable[str]) -> frozenset[str]:
        """The names holding the objects of the known mutating methods ``names``
        hold (``stack`` for ``push = stack.append``)."""
        namespace = self.namespace
        owners: dict[int, object] = {}
        for name in names:
            value = namespace.get(name)
            if type(value) not in _BOUND_METHODS:
                continue
            owner = getattr(value, "__self__", None)
            if owner is None or getattr(value, "__name__", None) not in MUTATING_METHODS \
                    or is_a(owner, types.ModuleType) or is_a(owner, type):
                continue
            owners[id(owner)] = owner
        if not owners:
            return frozenset()
        return frozenset(n for n, v in namespace.items()
                         if owners.get(id(v), ABSENT) is v and not is_private(n))

    def _read_changes_known(self, analysis: CellAnalysis,
                            read: Iterable[str]) -> CellAnalysis:
        """The analysis with what reading ``read`` (its own reads, or the
        globals the functions it calls read) changes in place: an iterator
        consumed (a generator, ``iter(t)``, ``zip(a, b)``, an ``itertools`` or
        ``csv`` reader, an iterator class of the notebook's own, a file open for
        reading: see :func:`.values.consumed_by_reading`; ``next(it)``, ``for x
        in it``, ``take(2)`` with ``def take(n): return [next(g) ...]``), and
        the object of a known mutating method bound to a name (``stack`` of
        ``push = stack.append`` above ``push(1)``).  Re-running the cell first
        re-makes them, as top to bottom would have it, and the cells below
        reading them re-run after it."""
        namespace = self.namespace
        read = frozenset(read)
        found = (frozenset(n for n in read if consumed_by_reading(namespace.get(n)))
                 | self._bound_method_owners(read)) - analysis.inplace
        if not found:
            return analysis
        return replace(_changing(analysis, found), shows_only=False, binds_only=False,
                       displays=False)

    def _magic_line_known(self, analysis: CellAnalysis, words: frozenset[str]) -> CellAnalysis:
        """A cell magic the analysis does not read, naming objects on its line
        (ThinkPython's ``%%add_method_to Card``, which sets a method of
        ``Card``): it may change them, so it changes them in place (but
        modules, and what cannot change)."""
        namespace = self.namespace
        found = frozenset(
            w for w in words
            if (v := namespace.get(w, ABSENT)) is not ABSENT and not is_private(w)
            and not is_a(v, types.ModuleType) and not immutable(v))
        return _changing(analysis, found) if found else analysis

    def _own_magics_known(self, code: str, analysis: CellAnalysis) -> CellAnalysis:
        """A cell using a magic of the notebook's own (``%%dummy`` with
        ``@register_cell_magic def dummy(line, cell)`` above, a method of a
        ``Magics`` class of the notebook) reads the function or the class behind
        it, from above: an edit of it re-runs the cells using the magic.  Found
        once the magic is registered (a cell run before its magic's cell does
        not read it)."""
        assert self._magic is not None
        namespace = self.namespace
        found: set[str] = set()
        for percents, name in _MAGIC_USE.findall(code):
            function = self._magic("cell" if percents == "%%" else "line", name)
            if function is None:
                continue
            owner = getattr(function, "__self__", None)
            if owner is not None and not is_a(owner, type):
                function = type(owner)  # a method of a ``Magics`` subclass
            if getattr(function, "__module__", None) != "__main__":
                continue
            bound = getattr(function, "__name__", None)
            if isinstance(bound, str) and namespace.get(bound) is function:
                found.add(bound)
        reads = frozenset(found) - analysis.refs - analysis.defs
        if not reads:
            return analysis
        return replace(analysis, refs=analysis.refs | reads, weak=analysis.weak | reads)

    def _plotting_family(self, analysis: CellAnalysis) -> CellAnalysis:
        """A setting of matplotlib, pyplot or seaborn (``mpl.rc(...)``,
        ``sns.set_theme()``, ``plt.rcParams[...] = ...``) is one of all three: the
        cells drawing with ``plt`` below an edited ``mpl.rc`` re-run too."""
        namespace = self.namespace
        changed = {n for n in analysis.inplace if _plotting(namespace.get(n))}
        if not changed:
            return analysis
        family = {n for n, v in namespace.items()
                  if not is_private(n) and _plotting(v)} - changed
        if not family:
            return analysis
        literal = dict(analysis.literal_changes)
        texts = [literal[n] for n in sorted(changed) if n in literal]
        same = len(texts) == len(changed)
        return replace(
            analysis, inplace=analysis.inplace | family, defs=analysis.defs | family,
            refs=analysis.refs | family, weak=analysis.weak | (family - analysis.refs),
            literal_changes=analysis.literal_changes | (
                {(n, "\n".join(texts)) for n in family} if same else set()))

    def _figure_settings(self, cell: CellId, code: str, analysis: CellAnalysis) -> CellAnalysis:
        """A cell setting IPython's figure formats (``%config InlineBackend...``,
        ``%matplotlib inline``) changes matplotlib, pyplot and seaborn for the
        cells below, as ``plt.rcParams[...] = ...`` does: edited, the cells
        drawing with them below it re-run (with the same lines, nothing new).
        Only the names a cell above it binds (a setting above the imports
        changes nothing yet)."""
        graph = self.graph
        family = {n for n, v in self.namespace.items()
                  if not is_private(n) and _plotting(v)
                  and (cell not in graph or graph.definer_above(cell, n) is not None)}
        family -= analysis.inplace
        if not family:
            return analysis
        text = "\n".join(m.group(0).strip() for m in _FIGURE_SETTINGS.finditer(code))
        literal = dict(analysis.literal_changes)
        return replace(
            analysis, inplace=analysis.inplace | family, defs=analysis.defs | family,
            refs=analysis.refs | family, weak=analysis.weak | (family - analysis.refs),
            literal_changes=frozenset(
                {(n, "\n".join(filter(None, (literal.get(n, ""), text)))) for n in family}
                | {(n, t) for n, t in analysis.literal_changes if n not in family}))

    def _method_calls_known(self, analysis: CellAnalysis) -> CellAnalysis:
        if not analysis.method_changes:
            return analysis
        calls: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for name, path, method in analysis.method_changes:
            calls.setdefault(name, []).append((path, method))
        kept = {name for name, made in calls.items()
                if any(method_changes(self.namespace, name, path, method) for path, method in made)}
        gone = frozenset(calls) - kept
        if not gone:
            return analysis
        return replace(analysis, inplace=analysis.inplace - gone,
                       defs=analysis.defs - (gone & analysis.method_only),
                       method_changes=frozenset(c for c in analysis.method_changes
                                                if c[0] not in gone))

    def drew(self, cell: CellId, code: str, generators: frozenset[str]) -> frozenset[CellId]:
        """``cell``'s run of ``code`` changed the state of ``generators`` (global
        ones' pseudo-names, names of generator objects): those it was not known
        to draw from make it a drawer of them from now on (until its code
        changes).  Returns the cells whose reads now bind to it (they ran on
        the state the cell above it left)."""
        new = generators - self.graph.cell(cell).defs
        if not new:
            return frozenset()
        self._hidden_draws[cell] = self._hidden_draws.get(cell, frozenset()) | new
        try:
            analysis = self.analyse(code)
        except SyntaxError:
            return frozenset()
        try:
            return self.register(cell, code, analysis).rebound
        except GraphError:
            return frozenset()

    def set_modules(self, cell: CellId, code: str) -> frozenset[CellId]:
        """After ``cell`` ran: the names cells above bound to the modules whose
        settings its run changed, unseen by the analysis (``set_pyplot_params()``
        of a helper module setting ``plt.rcParams``, ``%cd``), or to the
        notebook's own modules whose globals it rebound (``thinkplot.Config(loc=...)``
        setting ``thinkplot.LOC``; see :class:`.settings.LocalModules`), are
        changed in place by it, as a module's setter changes the module: the cells
        below reading them re-run when it does.  Found again after each run.
        Returns the cells whose reads now bind to it."""
        packages = self.settings.module_changes.get(cell, frozenset())
        known = self._module_sets.get(cell, frozenset())
        graph = self.graph
        found = frozenset(
            name for name, value in self.namespace.items()
            if is_a(value, types.ModuleType)
            and value.__name__.partition(".")[0] in packages
            and not is_private(name) and graph.definer_above(cell, name) is not None
        ) if packages else frozenset()
        defs = graph.cell(cell).defs
        if found == known and (cell in self.settings.figure_setters) == (FIGURES in defs) \
                and self._sets_precision(cell, code) == (PRECISION in defs) \
                and self._sets_directory(cell, code) == (CWD in defs):
            return frozenset()
        return self._register_kept(self._module_sets, cell, code, found)

    def _register_kept(self, kept: dict[CellId, _Names], cell: CellId, code: str,
                       found: _Names,
                       analysis: CellAnalysis | None = None) -> frozenset[CellId]:
        """Keep ``found`` as the cell's names in ``kept`` (run-time findings its
        registration adds) and register it again; returns the cells whose reads
        now bind to it (none if the graph refuses: the finding is dropped)."""
        if analysis is None:
            try:
                analysis = self.analyse(code)
            except SyntaxError:
                return frozenset()
        previous = kept.get(cell)
        if found:
            kept[cell] = found
        else:
            kept.pop(cell, None)
        try:
            return self.register(cell, code, analysis).rebound
        except GraphError:
            # (The graph keeps the registration made with what was known before.)
            if previous is None:
                kept.pop(cell, None)
            else:
                kept[cell] = previous
            return frozenset()

    def changes(self, cell: CellId) -> frozenset[str]:
        """The names ``cell`` changes in place, as registered: by its code, and
        found after its runs (other names for its objects, views, data a library
        call changed)."""
        return self._inplace.get(cell, frozenset())

    def own_changes(self, cell: CellId) -> frozenset[str]:
        """:meth:`changes` but the other names found holding its objects (see
        :meth:`aliased`): what a run of it changes itself."""
        return self._inplace.get(cell, frozenset()) - self._aliases.get(cell, {}).keys()

    def aliased(self, cell: CellId, code: str, written: Sequence[object] = (),
                given: Mapping[str, object] | None = None) -> frozenset[CellId]:
        """After ``cell`` ran: the other names (bound by a cell above it) holding an
        object it changed in place (``b = a`` above ``b[0] = 9``, ``data = df``
        above ``data.dropna(inplace=True)``), or holding it as an item of a list,
        tuple or dict or an attribute of an instance of the notebook's classes
        (``tables`` of ``table2 = tables[2]`` above ``table2.columns = [...]``;
        see :func:`.values.holds`), or sharing memory with an array it wrote
        into (``written``: ``v = a[:2]`` above ``v[0] = 5``; see :mod:`.views`),
        are changed in place too, as a run from the top changes them:
        the cells below reading ``a`` re-run when the cell does, and a re-run of
        it first re-makes ``a``.  Found again after each run.  Returns the cells
        whose reads now bind to it.  ``given``: the values of the names it binds,
        before the run (one it changed in place and then bound anew, ``lst.append(1)``
        above ``lst = [5]`` in it, changed the object it was given)."""
        known = self._aliases.get(cell, {})
        try:
            analysis = self.analyse(code)
        except SyntaxError:
            return frozenset()
        namespace, graph = self.namespace, self.graph
        own = self.own_changes(cell)
        changed: dict[int, object] = {}
        for name in own:
            value = namespace.get(name, ABSENT)
            if value is not ABSENT and not is_a(value, types.ModuleType) \
                    and not immutable(value):
                changed[id(value)] = value
            before = given.get(name, ABSENT) if given else ABSENT
            if before is not ABSENT and before is not value \
                    and not is_a(before, types.ModuleType) and not immutable(before):
                changed[id(before)] = before
        if analysis.attribute_calls or analysis.passed:
            # An object the notebook's own methods changed through an attribute
            # (``box.corner.translate(30, 20)``): the names holding it change too.
            for name, path in self.own_calls.changed_paths(
                    analysis.attribute_calls, analysis.passed):
                value = namespace.get(name, ABSENT)
                try:
                    for part in path:
                        attributes = getattr(value, "__dict__", None)
                        value = attributes.get(part, ABSENT) \
                            if isinstance(attributes, dict) else ABSENT
                    if path and value is not ABSENT and not immutable(value):
                        changed[id(value)] = value
                except Exception:  # an object answering attribute lookups its own way
                    continue
        # A class of the notebook's own changed (``%%add_method_to Card``,
        # ``Dog.species = 'wolf'``) changes what its instances and subclasses
        # do and show.
        classes = tuple(v for v in changed.values()
                        if is_a(v, type) and v.__module__ == "__main__")

        shared = list(written)

        def holds(item: object) -> bool:
            if changed.get(id(item), ABSENT) is item:
                return True
            if shared and shares(shared, item):
                return True
            if not classes:
                return False
            try:
                return issubclass(item, classes) if isinstance(item, type) \
                    else issubclass(type(item), classes)
            except Exception:  # a class answering ``isinstance`` its own way
                return False

        found = {
            name: source for name, value in namespace.items()
            if name not in own and name not in analysis.defs and not is_private(name)
            and (source := graph.definer_above(cell, name)) is not None
            and holds_value(value, holds)} if changed else {}
        if found.keys() == known.keys():
            if found:
                self._aliases[cell] = found
            return frozenset()
        return self._register_kept(self._aliases, cell, code, found, analysis)

    def viewed(self, cell: CellId, code: str,
               given: Mapping[str, object]) -> frozenset[CellId]:
        """After ``cell`` ran: the names it read and bound anew to a view of the
        value it was given (``data = data.T``, ``x = x.reshape(-1, 1)``, with
        pandas < 3 ``df = df.iloc[:10]``; ``given``: the values before it ran).
        A write through the new value (``x[0] = 1`` below) changes the old one
        too, so the cell counts as changing them in place: a re-make of the new
        value first re-makes the old one, from its definer above.  Found again
        after each run.  Returns the cells whose reads now bind to it."""
        known = self._views.get(cell, frozenset())
        if cell not in self.graph:
            return frozenset()
        node, namespace = self.graph.cell(cell), self.namespace
        found = frozenset(
            name for name in node.refs & node.declared_defs
            if (old := given.get(name, ABSENT)) is not ABSENT
            and (new := namespace.get(name, ABSENT)) is not old
            and new is not ABSENT and shares(arrays(old), new))
        if found == known:
            return frozenset()
        return self._register_kept(self._views, cell, code, found)

    def fresh_imports(self, cell: CellId) -> None:
        """Before ``cell`` runs: forget the modules it imports that a cell of the
        notebook writes, loaded from those files (``import helper`` below
        ``%%writefile helper.py``) before the file last changed, so its run
        imports each anew from the file as it now is, as a run from the top
        would (Python would hand back the module it loaded before).  A module
        loaded from the file as it is stays: two cells importing it share it."""
        modules = self._module_files.get(cell)
        if not modules:
            return
        dropped = False
        for name, path in modules.items():
            key = os.path.abspath(path)
            digest = files.digest(key)
            module = sys.modules.get(name)
            source = getattr(module, "__file__", None)
            if not isinstance(source, str) or os.path.abspath(source) != key:
                # Not loaded from the file yet: the run loads it as it is now.
                if digest is not None:
                    self._loaded_sources[key] = digest
                continue
            if digest is not None and self._loaded_sources.get(key) == digest:
                continue  # loaded from the file as it is: the same module, as from the top
            if digest is not None:
                self._loaded_sources[key] = digest
            del sys.modules[name]
            dropped = True
            try:  # (a file rewritten within a second, same size: a stale .pyc)
                os.remove(importlib.util.cache_from_source(source))
            except (OSError, ValueError, NotImplementedError):
                pass
        if dropped:
            importlib.invalidate_caches()

    def unseen_candidates(self, cell: CellId) -> frozenset[str]:
        """The names ``cell`` reads and neither binds nor is seen changing: a
        run may change their objects where the analysis cannot see it (see
        :meth:`changed_unseen`)."""
        node = self.graph.cell(cell)
        unseen = self._unseen_changes.get(cell, frozenset())
        seen = (self._inplace.get(cell, frozenset()) | node.declared_defs) - unseen
        return frozenset(n for n in node.refs - seen if n.isidentifier() and not is_private(n))

    def changed_unseen(self, cell: CellId, code: str,
                       changed: frozenset[str]) -> frozenset[CellId]:
        """After ``cell`` ran: ``changed``, names it reads whose arrays, Series
        or DataFrames (or an object's holding them as attributes: ``wave.ys``)
        its run changed though the analysis saw no change of them (an installed
        library's method: empiricaldist's ``pmf.normalize()``, NumPy's
        ``np.fill_diagonal(a, 0)``; see :class:`.views.Contents`), are changed
        in place by it, as by a known mutating call: the cells below reading
        them re-run when it does, and its re-run first re-makes them.  Found
        again after each run.  Returns the cells whose reads now bind to it."""
        known = self._unseen_changes.get(cell, frozenset())
        if changed == known or cell not in self.graph:
            return frozenset()
        return self._register_kept(self._unseen_changes, cell, code, changed)

    def code_with_callees(self, cell: CellId, code: str) -> str:
        """``code``, the code of the cells defining the functions it calls
        (``setup()`` with ``def setup(): pd.set_option(...)`` above), and the
        names the functions it calls use (one of its modules', ``from helpers
        import setup``; a method of the notebook's own classes or a function of
        its own modules, ``cfg.apply(6)``, ``helpers.setup()``): what a setting
        read only around some cells looks at (see :mod:`.settings`)."""
        graph = self.graph
        if cell not in graph:
            return code
        parts = [code]
        functions: list[types.FunctionType] = []
        for name in graph.cell(cell).refs:
            value = self.namespace.get(name)
            if is_a(value, types.FunctionType):
                functions.append(value)
                definer = graph.binding(cell, name)
                if definer is not None and definer != cell:
                    parts.append(graph.cell(definer).code)
        try:
            analysis = self.analyse(code)
        except SyntaxError:
            analysis = None
        if analysis is not None and analysis.attribute_calls:
            functions += self.own_calls.functions(analysis.attribute_calls)
        parts += (_code_names(f.__code__) for f in functions)
        return "\n".join(parts)

    def drew_figure(self, cell: CellId) -> None:
        """``cell``, running, drew a matplotlib figure (see :meth:`showed`)."""
        if cell in self.graph:
            self._figured.add(cell)
            self.settings.drew(cell)

    def showed_float(self, cell: CellId) -> None:
        """``cell``, running, showed a float through IPython's plain-text
        formatter, which ``%precision`` sets (see :meth:`showed`).  (Not a batch
        input's: nothing re-runs it, and nothing would take it out again.)"""
        if cell in self.graph and cell not in self.batch:
            self._floated.add(cell)

    def _sets_precision(self, cell: CellId, code: str) -> bool:
        """Whether ``cell`` defines :data:`.settings.PRECISION`: a ``%precision``
        line, or a latest run that changed it (a function running the magic)."""
        return (Precision.sets is not None and Precision.sets.search(code) is not None) \
            or Precision.name in self.settings.changes.get(cell, {})

    def _sets_directory(self, cell: CellId, code: str) -> bool:
        """Whether ``cell`` defines :data:`.settings.CWD`: a ``%cd`` line or a
        ``chdir`` call, or a latest run that changed the working directory."""
        return (WorkingDirectory.sets is not None
                and WorkingDirectory.sets.search(code) is not None) \
            or "chdir(" in code or WorkingDirectory.name in self.settings.changes.get(cell, {})

    def warned(self, cell: CellId) -> None:
        """``cell``, running, showed a warning: what it shows follows the
        ``warnings`` module's filters, so it reads the names cells bound that
        module to (see :meth:`showed`)."""
        self._warned.add(cell)

    def showed(self, cell: CellId, code: str) -> None:
        """After ``cell`` ran: if it only shows values (``df.head()``,
        ``print(a)``: ``CellAnalysis.shows_only``), the libraries with display
        settings whose objects it read (a DataFrame, an array) become reads of
        it, through the names cells bound them to (``pd``, ``np``), binding only
        above.  A setting of the module in a cell above
        (``pd.set_option(...)``, ``np.set_printoptions(...)``, an in-place
        change of the module) then re-runs it, as it may show the objects
        differently.  (Only such cells: re-running one that changes what it
        reads in a way the analysis cannot see, ``normalize(df)``, would change
        it twice; edited to do more, it reads them no more.)  A cell that showed
        a warning (:meth:`warned`) reads ``warnings`` the same way: an edited
        ``warnings.filterwarnings(...)`` above re-runs it.  A cell that only
        binds names and shows, drawing through pandas (``ax = df.plot()``:
        ``CellAnalysis.binds_only``), reads matplotlib's names the same way: an
        edited style above re-draws it; so does a cell that drew a figure
        (:meth:`drew_figure`) binding and changing nothing (``pmf.plot()``,
        ``nx.draw(G)``).  Sticky until the cell is dropped."""
        node = self.graph.cell(cell)
        namespace = self.namespace
        packages: set[str] = set()
        try:
            analysis: CellAnalysis | None = self.analyse(code)
        except SyntaxError:
            analysis = None
        # (A cell binding names and showing the last one's value, ``d = a - b``
        # then ``d``, shows as well.)
        showing = analysis is not None and (analysis.shows_only or analysis.displays)
        drawing = analysis is not None and analysis.binds_only \
            and _DRAWS.search(code) is not None
        # (Its methods may change the values they are called on: only those of
        # the libraries' objects, of modules and of plain data count as showing.)
        if showing or drawing:
            assert analysis is not None
            safe = all(
                issubclass(type(v), (types.ModuleType, *_PLAIN))
                or _package(v) in _DISPLAY_SETTINGS
                for n in node.refs if (v := namespace.get(n, _PLAIN)) is not _PLAIN
            ) and all(_library(namespace.get(n)) for n in analysis.passes_to)
            showing, drawing = showing and safe, drawing and safe
            if drawing:
                # A cell binding names and drawing through pandas (``ax = df.plot()``,
                # ``df = pd.DataFrame(...)`` and ``df.plot.bar()``) draws with
                # matplotlib's settings: it reads them as a cell drawing with ``plt`` does.
                if any(_package(namespace.get(n)) == "pandas" for n in node.refs | node.defs):
                    packages.add("matplotlib")
        for name in node.refs | node.defs:
            value = namespace.get(name)
            if value is None:
                continue
            if is_a(value, types.ModuleType):
                if name in node.defs and not is_private(name):
                    self._module_names.setdefault(
                        value.__name__.partition(".")[0], set()).add(name)
                continue
            if not showing:
                continue
            package = _package(value)
            if package in _DISPLAY_SETTINGS and package in self._module_names:
                packages.add(package)
        if packages and _DRAWS.search(code) is not None:
            packages.add("matplotlib")
        drawer = False
        if cell in self._figured:
            self._figured.discard(cell)
            if analysis is not None and _draws_only(analysis):
                # It drew a figure, binding (but by imports) and changing nothing
                # (``pmf.plot()``, ``nx.draw(G)``, ``decorate(...)``): it draws with
                # matplotlib's settings, as a cell drawing with ``plt`` does.
                drawer = cell not in self._drawing
                self._drawing.add(cell)
                packages.add("matplotlib")
        warned = cell in self._warned
        self._warned.discard(cell)
        new = drawer
        if cell in self._floated:
            self._floated.discard(cell)
            known = self._shown.get(cell, frozenset())
            if showing and PRECISION not in known:
                # It showed a float: an edited ``%precision`` above re-runs it.
                self._shown[cell] = known | {PRECISION}
                new = True
        for kept, wanted in ((self._shown, packages),
                             (self._warns, {"warnings"} if warned else set())):
            known = kept.get(cell, frozenset())
            names = frozenset(
                n for p in wanted for n in self._module_names.get(p, ())
                if n not in node.refs and n not in node.defs and n not in known
                and is_a(m := namespace.get(n), types.ModuleType)
                and m.__name__.partition(".")[0] == p and self.graph.definers(n))
            if names:
                kept[cell] = known | names
                new = True
        if not new or analysis is None:
            return
        try:
            self.register(cell, code, analysis)
        except GraphError:
            pass

    def hidden_draws(self, cell: CellId) -> frozenset[str]:
        """The generators ``cell`` was found drawing from unseen (see :meth:`drew`)."""
        return self._hidden_draws.get(cell, frozenset())

    def drew_not(self, cell: CellId, generators: Iterable[str]) -> None:
        """``cell`` ran without changing ``generators``: it no longer counts as
        drawing from them unseen (from its next registration)."""
        kept = self._hidden_draws.get(cell)
        if kept:
            left = kept - frozenset(generators)
            if left:
                self._hidden_draws[cell] = left
            else:
                del self._hidden_draws[cell]

    def _draws_known(self, analysis: CellAnalysis) -> CellAnalysis:
        """A cell drawing from a global generator reads (from above only) and
        defines its pseudo-name; one seeding it defines it without reading it."""
        drawing: set[str] = set()
        seeding: set[str] = set()
        for name, path, function in analysis.draw_calls:
            generator = generator_called(self.namespace, name, path, function)
            if generator is not None:
                (seeding if function in GENERATOR_SEEDS else drawing).add(generator)
        if not drawing and not seeding:
            return analysis
        reads = frozenset(drawing - seeding) - analysis.refs
        return replace(analysis, defs=analysis.defs | drawing | seeding,
                       refs=analysis.refs | reads, weak=analysis.weak | reads)

    def _passing(self) -> dict[tuple[CellId, str], CellId | None]:
        """Per cell and name it failed before binding: the cell the name's value
        passes through from (the nearest definer above that bound it)."""
        values = self.values
        return {(failed, name): values.through_failed(failed, name)
                for failed, names in values.failing.items() if failed in self.graph
                for name in names}

    def _repassed(self, before: Mapping[tuple[CellId, str], CellId | None]) -> set[CellId]:
        """The readers of names a failed cell passes through whose source
        changed since ``before`` (a definer above it edited, deleted or moved):
        run top to bottom, they see another value now."""
        found: set[CellId] = set()
        for (failed, name), source in before.items():
            if failed not in self.graph or self.values.through_failed(failed, name) == source:
                continue
            found |= {c for c, via in self.graph.children(failed).items() if name in via}
        return found

    def _refresh_calls(self, names: Iterable[str], skip: CellId | None) -> set[CellId]:
        """Recompute the effective names of cells reading ``names``; returns
        the cells whose names or bindings changed (they must re-run)."""
        changed: set[CellId] = set()
        reader: CellId
        for reader in sorted(self.calls.readers(names)):
            if reader == skip or reader not in self.graph:
                continue
            node = self.graph.cell(reader)
            found = self.calls.names(reader)
            own = self.calls.analysis(reader)
            self._inplace[reader] = found.inplace | (own.inplace if own is not None
                                                     else frozenset())
            self.pass_only[reader] = found.pass_only
            if (found.defs, found.refs, found.weak, found.called) == (
                    node.declared_defs, node.refs, node.weak, node.called):
                continue
            try:
                update = self.graph.set_cell(reader, node.code, found.defs, found.refs,
                                             weak=found.weak, called=found.called,
                                             anonymous=node.anonymous)
            except GraphError:
                continue  # it keeps its old names until it is run again
            self._dropped(reader, update.dropped)
            changed.add(reader)
            changed |= update.rebound
        return changed

    def _dropped(self, cell: CellId, names: frozenset[str]) -> None:
        """``cell`` no longer defines ``names``: its values of them go, and the
        namespace takes what the remaining definers left."""
        if names:
            self.values.forget(cell, names)
            self.values.release(names)
            self._unsettled |= names

    def _drop(self, cell: CellId) -> frozenset[CellId]:
        readers = self.graph.remove_cell(cell)
        self.states.pop(cell, None)
        self.touch(cell)
        self.values.forget(cell)
        self.batch.discard(cell)
        self._inplace.pop(cell, None)
        self._hidden_draws.pop(cell, None)
        self._aliases.pop(cell, None)
        self._views.pop(cell, None)
        self._unseen_changes.pop(cell, None)
        self._module_sets.pop(cell, None)
        written = self._written.pop(cell, None)
        self._module_files.pop(cell, None)
        self._shown.pop(cell, None)
        self._warns.pop(cell, None)
        self._warned.discard(cell)
        self._floated.discard(cell)
        self._drawing.discard(cell)
        self.settings.forget(cell)
        self.pass_only.pop(cell, None)
        functions = self.calls.forget(cell)
        if functions:
            readers = readers | self._refresh_calls(functions, skip=cell)
        if written:
            readers = readers | self._refresh_files(written, skip=cell)
        return frozenset(readers)

    def remove(self, cells: Iterable[CellId]) -> frozenset[CellId]:
        """Drop deleted cells; their names now hold what the remaining
        definers left.  Returns the cells whose reads bound to them."""
        readers: set[CellId] = set()
        removed: set[CellId] = set()
        names: set[str] = set()
        passing = self._passing()
        unseen = self.values.unseen_sources()
        for cell in cells:
            if cell in self.graph:
                names |= self.graph.cell(cell).defs
                names |= self.values.observed.get(cell, {}).keys()
                readers |= self._drop(cell)
                removed.add(cell)
        readers |= self._repassed(passing) | self._unseen_moved(unseen)
        readers |= self._orphaned_aliases()
        self.values.release(names)
        self.settings.finalize()
        self._unsettled |= names
        return frozenset(readers - removed)

    def _orphaned_aliases(self) -> set[CellId]:
        """Cells changing another name for the object they change (``a[0] = 1``
        changing ``b`` of ``b = a`` above: see :meth:`aliased`) whose other name
        the cell that bound it no longer binds (deleted, moved below, edited: no
        cell above binds it, or another does): they change it no more, as top to
        bottom, until a run finds it again.  Returns the cells whose
        reads now bind elsewhere."""
        found: set[CellId] = set()
        graph = self.graph
        for cell in sorted((c for c in self._aliases if c in graph), key=graph.position):
            names = self._aliases[cell]
            kept = {n: source for n, source in names.items()
                    if graph.definer_above(cell, n) == source}
            if kept.keys() != names.keys():
                found |= self._register_kept(self._aliases, cell, graph.cell(cell).code, kept)
        return found

    def _unseen_moved(self, before: Mapping[tuple[CellId, str], CellId]) -> set[CellId]:
        """Readers that saw a name a cell rebound unseen from another cell
        than they would now (it was deleted or moved): they see another value."""
        after = self.values.unseen_sources()
        return {reader for reader, name in before.keys() | after.keys()
                if before.get((reader, name)) != after.get((reader, name))
                and reader in self.graph and self.state(reader).runs > 0}

    def set_order(self, order: Iterable[CellId]) -> frozenset[CellId]:
        """Take the notebook order a client gives; returns the cells whose
        reads now bind elsewhere (they must re-run, or go stale)."""
        passing = self._passing()
        unseen = self.values.unseen_sources()
        rebound = self.graph.set_order(order) | self._repassed(passing) \
            | self._unseen_moved(unseen)
        rebound |= self._orphaned_aliases()
        # What a cell may call is what the cells above it define (see :mod:`.calls`).
        rebound |= self._refresh_calls(self.calls.called_names(), skip=None)
        names = {n for c in self.graph.cells() for n in self.graph.cell(c).defs}
        names |= {n for seen in self.values.observed.values() for n in seen}
        self.values.finalize(names)
        self.settings.finalize()
        self._unsettled |= names
        return rebound

    def describe(self) -> dict[str, object]:
        """The graph and run state as JSON-ready data (for frontends).

        ``order`` lists every cell in dependency order (ties: notebook position),
        so "run all" can follow it; ``notebook_order`` is the positions' order;
        ``cells`` maps ids to names, position-aware edges (labelled with names)
        and state.
        """
        graph = self.graph
        order = graph.topological_order(graph.cells())
        cells: dict[str, object] = {}
        for cell in order:
            node = graph.cell(cell)
            cells[cell] = {
                "defines": sorted(node.defs),
                # A builtin is a read only where a cell above shadows it.
                "reads": sorted(n for n in node.refs
                                if n not in BUILTIN_NAMES or graph.binding(cell, n) is not None),
                "parents": {p: sorted(n) for p, n in graph.parents(cell).items()},
                "children": {c: sorted(n) for c, n in graph.children(cell).items()},
                "position": node.position,
                "label": self.label(cell),
                "anonymous": node.anonymous,
                **self.run_state(cell),
            }
        return {"mode": self.mode, "order": list(order), "notebook_order": graph.cells(),
                "cells": cells}

    def run_state(self, cell: CellId) -> dict[str, object]:
        """A cell's run state as frontends get it (the graph reply, the state comm)."""
        state = self.state(cell)
        return {
            "status": state.status.value,
            "duration_ms": None if state.duration is None else round(state.duration * 1000, 3),
            "error": state.error,
            "skipped_because": state.skipped_because,
            "execution_count": state.execution_count,
            "runs": state.runs,
            "rerun": state.rerun,
            "output_at": None if state.output_at is None else round(state.output_at, 3),
            # The code a cascade would re-run (what the cell last ran, or was
            # registered with): a frontend showing other text marks the cell edited.
            "code_hash": code_hash(self.graph.cell(cell).code) if cell in self.graph else None,
        }

    def load(self, cells: Iterable[tuple[CellId, str]],
             rebound: set[CellId] | None = None) -> dict[CellId, str]:
        """Register cells without running them (a notebook being opened, a
        cell pasted).

        Cells are registered in the given order; one that cannot be (it would
        close a cycle) is left out and reported, one that does not parse is
        registered without names so it still has a place.  A cell this kernel
        has run keeps the code it ran (its values came from that code; a saved
        file or a second view may hold older or unrun text): only running it
        changes it.  Returns errors; adds to ``rebound`` the cells whose reads
        now bind elsewhere (see :meth:`plan_registered`).
        """
        errors: dict[CellId, str] = {}
        for cell, code in cells:
            if cell in self.graph and self.state(cell).runs:
                continue
            try:
                analysis = self.analyse(code)
            except SyntaxError as err:
                analysis = CellAnalysis()
                errors[cell] = f"SyntaxError: {err.msg}"
            try:
                update = self.register(cell, code, analysis)
            except GraphError as err:
                errors[cell] = f"{type(err).__name__}: {err}"
                continue
            if rebound is not None:
                rebound |= update.rebound
        return errors

    def plan_registered(self, cells: Iterable[CellId]) -> Plan:
        """Mark stale, in both modes, the cells that ran and whose reads bind
        elsewhere since cells were registered (a definer pasted above them: top
        to bottom they read its value), with what reads from them; nothing runs
        (registering a cell does not run it; "Run stale" or running it does)."""
        roots = {c for c in cells if c in self.graph and self.state(c).runs} - self.batch
        affected = (self.graph.descendants(roots) | roots) - self.batch
        ordered, cyclic = self.graph.order(affected)
        return Plan(CellId(""), [], stale=[*ordered, *cyclic], cyclic=cyclic)

    # -- planning -----------------------------------------------------------

    def submit(
        self,
        cell: CellId | None,
        code: str,
        *,
        deleted: Iterable[CellId] = (),
        pending: Iterable[CellId] = (),
        interactive: bool = True,
    ) -> Plan:
        """Register a submitted cell and plan its cascade.

        ``cell`` None means an input without a cell id (a fresh id is made):
        from an ``interactive`` client (a console) it takes over the names it
        defines, so earlier inputs that read them re-run; otherwise (a batch
        client: nbclient, papermill) it runs exactly as stock IPython would,
        and nothing earlier ever re-runs.  Raises :class:`SyntaxError` (graph
        untouched, nothing planned) or a
        :class:`~reactive_kernel.graph.GraphError` (graph untouched).
        """
        anonymous = cell is None
        # (The cell submitted is not deleted: JupyterLab keeps an id in
        # ``deletedCells`` until a run's reply even when the cell comes back.)
        rebound = self.remove(c for c in deleted if c != cell)
        cell_id = self.new_anonymous_id() if cell is None else cell
        try:
            analysis = self.analyse(code)
        except SyntaxError:
            # Run it anyway so the user sees Python's own error; descendants
            # are skipped, and later cascades re-run the broken code too.  A
            # notebook cell seen first broken takes its place now, without
            # names (fixed, it defines for the cells below it, not after them).
            if cell_id not in self.graph:
                if not anonymous:
                    self.register(cell_id, code, CellAnalysis())
                return Plan(cell_id, [cell_id], code=code, plain=anonymous)
            self.graph.replace_code(cell_id, code)
            self.touch(cell_id)  # its code_hash changed
            return self.plan(cell_id, rebound, pending, code=code)
        if anonymous and not analysis.defs and not analysis.refs and not analysis.deletes:
            # Nothing to link: run it once, keep no node.
            return Plan(cell_id, [cell_id], code=code, plain=True)
        batch = anonymous and not interactive
        # A cell's first run, from a notebook (a console input is an edit of
        # the earlier definer, which its readers above do follow).
        first_run = not anonymous and (cell_id not in self.graph
                                       or self.state(cell_id).runs == 0)
        update = self.register(cell_id, code, analysis, anonymous=anonymous,
                               take_over=anonymous and interactive)
        if batch:
            self.batch.add(cell_id)
            return Plan(cell_id, [cell_id], code=code, plain=True)
        fed = update.rebound
        if self._aliases and update.rebound:
            # (It may have stopped binding a name cells below change as an alias.)
            fed |= self._orphaned_aliases()
        if first_run:
            fed = frozenset(c for c in fed if not self._ran_before(c, cell_id))
        return self.plan(cell_id, rebound | fed, pending, code=code, first_run=first_run)

    def plan(
        self,
        trigger: CellId,
        extra: Iterable[CellId] = (),
        pending: Iterable[CellId] = (),
        *,
        code: str | None = None,
        first_run: bool = False,
    ) -> Plan:
        """Decide what running ``trigger`` runs, in order.

        ``extra`` are cells that must re-run too (their reads bind elsewhere
        now).  ``pending`` are cells whose own execute_request is already
        queued: they and their descendants are left to that request.  In lazy
        mode affected cells go stale instead (stale cells a cell reads from
        are restored before it runs); in auto mode so do affected cells that
        never ran in this kernel (a notebook just opened, its cells registered
        from the file: running its first cell does not run the rest of it), and
        what depends on them.  On a cell's ``first_run``, the cells
        above it that read from it (having no definer above them) and ran
        already do not re-run: running a notebook top to bottom, they ran
        before it.
        """
        if code is None:
            code = self.graph.cell(trigger).code
        roots = {trigger, *(c for c in extra if c in self.graph)}
        pending = frozenset(pending)
        key = (trigger, frozenset(roots), pending, self.graph.version, first_run,
               self.values.failing_version)
        cached = self._plans.get(key)
        if cached is None:
            cached = self._affected(trigger, roots, pending, first_run)
            if len(self._plans) >= 64:
                self._plans.clear()
            self._plans[key] = cached
        ordered, later, cyclic = (list(c) for c in cached)
        if self.mode == "auto":
            waiting = self._unrun(ordered)
            rest = [c for c in ordered if c not in waiting]
            first: list[CellId] = []
            if len(roots) > 1 and rest:
                # Cells a deletion or a move rebound that the trigger reads from
                # (``u += 1`` above it, now reading ``u`` from further up) run first.
                above = self.graph.ancestors([trigger])
                first = [c for c in rest if c in above]
                rest = [c for c in rest if c not in above]
            run = [*first, trigger, *rest]
            stale = [c for c in ordered if c in waiting]
        else:
            run, stale = [trigger], ordered
        return Plan(trigger, run, stale, later, code, cyclic, roots=frozenset(roots))

    def _affected(self, trigger: CellId, roots: set[CellId], pending: frozenset[CellId],
                  first_run: bool) -> tuple[tuple[CellId, ...], ...]:
        """What running ``trigger`` affects, in notebook order (cells on a cycle
        last), and what is left to requests already queued."""
        if first_run and trigger in self.graph:
            fed = {c for c in self.graph.children(trigger) if not self._ran_before(c, trigger)}
            starts = fed | (roots - {trigger})
            affected = (self.graph.descendants(starts) | starts) - {trigger} - self.batch
        else:
            affected = (self.graph.descendants(roots) | roots) - {trigger} - self.batch
        if self.values.failing:
            affected |= self._through_failed(affected | roots) - {trigger} - self.batch
        blocked = set(pending) & affected
        deferred: set[CellId] = set()
        if blocked:
            deferred = (blocked | self.graph.descendants(blocked)) & affected
            affected -= deferred
        ordered, cyclic = self.graph.order(affected)
        return (*ordered, *cyclic), tuple(self._ordered(deferred)), tuple(cyclic)

    def _through_failed(self, reached: set[CellId]) -> set[CellId]:
        """Readers of the names a cell failed before binding, when the cell those
        names pass through from is ``reached`` (run top to bottom, they see its
        value), and what reads from them."""
        graph, values = self.graph, self.values
        found: set[CellId] = set()
        grown = True
        while grown:
            grown = False
            for failed, names in values.failing.items():
                if failed not in graph:
                    continue
                for name in names:
                    source = values.through_failed(failed, name, failing=True)
                    if source is None or (source not in reached and source not in found):
                        continue
                    readers = {c for c, via in graph.children(failed).items()
                               if name in via} - found - reached
                    if readers:
                        found |= readers | graph.descendants(readers)
                        grown = True
        return found

    def _unrun(self, cells: list[CellId]) -> frozenset[CellId]:
        """Those of ``cells`` that never ran in this kernel, and those of them
        that read from these: a cascade marks them stale rather than running
        them (see :meth:`plan`)."""
        unrun = {c for c in cells if not (c in self.states and self.states[c].runs)}
        if not unrun:
            return frozenset()
        return frozenset((unrun | self.graph.descendants(unrun)).intersection(cells))

    def _ran_before(self, reader: CellId, definer: CellId) -> bool:
        """A reader above a definer's first run that has run already: top to
        bottom it ran before the definer, so the definer's first run does not
        re-run it (a forward reference keeps its NameError).  A reader that
        never ran (a notebook saved out of order, just opened) does run."""
        return (self.graph.position(reader) < self.graph.position(definer)
                and self.state(reader).runs > 0)

    def plan_rebound(self, cells: Iterable[CellId]) -> Plan:
        """Re-run (auto) or mark stale (lazy) cells whose reads bind elsewhere
        after a move or deletion, with their descendants; no trigger.  Cells
        that never ran go stale in auto mode too (see :meth:`plan`)."""
        roots = {c for c in cells if c in self.graph} - self.batch
        affected = (self.graph.descendants(roots) | roots) - self.batch
        ordered, cyclic = self.graph.order(affected)
        every = [*ordered, *cyclic]
        if self.mode == "auto":
            waiting = self._unrun(every)
            return Plan(CellId(""), [c for c in every if c not in waiting],
                        stale=[c for c in every if c in waiting], cyclic=cyclic,
                        roots=frozenset(roots))
        return Plan(CellId(""), [], stale=every, cyclic=cyclic)

    def holders(self, holds: Callable[[object], bool]) -> dict[CellId, frozenset[str]]:
        """The cells whose last run bound a name to a value that ``holds`` accepts
        (or to a list, tuple or dict with such a value directly in it), with those
        names."""
        found: dict[CellId, frozenset[str]] = {}
        for cell, records in self.values.records.items():
            names = frozenset(n for n, r in records.items() if holds_value(r.value, holds))
            if names and cell in self.graph:
                found[cell] = names
        return found

    def plan_readers(self, sources: Mapping[CellId, Collection[str]],
                     reads_value: Callable[[str, frozenset[str]], bool] | None = None,
                     ) -> Plan:
        """Re-run (auto) or mark stale (lazy) the cells whose reads of
        ``names`` bind to each source cell, and what depends on them; not the
        sources (a value they hold changed in place: a widget the user moved).
        ``reads_value(python_code, names)``: whether a reader's code reads what
        changed, rather than only using the object (see :mod:`.widgets`)."""
        roots: set[CellId] = set()
        for cell, names in sources.items():
            if cell not in self.graph:
                continue
            for child, via in self.graph.children(cell).items():
                used = frozenset(via.intersection(names))
                if used and (reads_value is None or self._reads(child, used, reads_value)):
                    roots.add(child)
        plan = self.plan_rebound(roots)
        plan.as_they_are = True
        return plan

    def _reads(self, cell: CellId, names: frozenset[str],
               reads_value: Callable[[str, frozenset[str]], bool]) -> bool:
        code = self.graph.cell(cell).code
        try:
            return reads_value(self._transform(code) if self._transform else code, names)
        except Exception:  # code the check cannot read: it may read anything
            return True

    def unqueue(self, pending: Iterable[CellId]) -> bool:
        """No cascade runs, and the requests a cascade left cells to (see
        :meth:`run`) may never run them (ipykernel aborts the requests queued
        behind a failed one): a cell still queued whose own request is not
        ``pending`` is stale, not re-run since its inputs changed.  Returns
        whether any was."""
        waiting = set(pending)
        found = False
        for cell, state in self.states.items():
            if state.status is Status.QUEUED and cell not in waiting:
                state.status = Status.STALE
                self.touch(cell)
                found = True
        return found

    def run_stale(self) -> Plan | None:
        """Plan running every stale cell (lazy mode's "run stale")."""
        stale = [c for c, s in self.states.items()
                 if s.status is Status.STALE and c in self.graph]
        if not stale:
            return None
        ordered, cyclic = self.graph.order(stale)
        # No trigger: every cell in it is a re-run.
        run = [*ordered, *cyclic]
        return Plan(CellId(""), run, cyclic=cyclic, roots=frozenset(run))

    def _ordered(self, cells: Collection[CellId]) -> list[CellId]:
        return self.graph.topological_order(cells) if cells else []

    # -- running ------------------------------------------------------------

    async def run(
        self,
        plan: Plan,
        execute: Executor,
        is_pending: Callable[[CellId], bool] | None = None,
    ) -> CascadeReport:
        """Run a plan.  Never raises KeyboardInterrupt: it ends the cascade.

        A cell whose parent failed or was skipped in this cascade is skipped
        (the trigger always runs); an interrupt skips everything after it.
        A cell whose own request arrived meanwhile (``is_pending``) is left
        to that request, with its descendants: nothing runs twice.
        """
        report = CascadeReport(stale=list(plan.stale), deferred=list(plan.deferred))
        for cell in plan.stale:
            self.state(cell).status = Status.STALE
            self.touch(cell)
        cascade = Cascade(self, plan, execute, report)
        for cell in plan.run:
            state = self.state(cell)
            cascade.before[cell] = state.status
            state.status = Status.QUEUED
            self.touch(cell)
        for cell in plan.deferred:
            # Left to its own request, already queued, or to that of a cell it
            # reads from: it waits for it (see :meth:`unqueue` if it never runs).
            state = self.state(cell)
            if state.status is not Status.QUEUED:
                state.status = Status.QUEUED
                self.touch(cell)
        if self.on_progress is not None and plan.run and len(plan.run) + len(plan.stale) > 1:
            self.on_progress(True)
        remaining = list(reversed(plan.run))
        try:
            try:
                while remaining:
                    cell = remaining[-1]
                    await cascade.step(cell, is_pending)
                    remaining.pop()
                    if cascade.added:
                        remaining = cascade.take_added(remaining)
                if not plan.plain:
                    await cascade.settle(is_pending)
            except KeyboardInterrupt:
                report.interrupted = True
            except Stop:
                pass
        finally:
            if not plan.plain:
                for cell in reversed(remaining):
                    cascade.not_run(cell)
                self.values.finalize(cascade.touched)
                self.settings.finalize()
                self.values.enforce_budget()
        return report
