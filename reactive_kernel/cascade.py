"""Running one plan: restores, the namespace around each cell, skips, cutoffs.

A :class:`Cascade` runs the cells of a :class:`~reactive_kernel.state.Plan`
in order through the kernel's executor.  Before a cell runs, the cells whose
values it reads and that hold none usable (never ran, dropped for memory,
changed in place since, stale) run first (*restored*, once per cascade); the
namespace is then set to what the cell sees at its position; afterwards its
values are kept.  A cell whose parent failed is skipped (unless its own code
does not parse: it shows its SyntaxError); a cell whose inputs are the very
values it read last time is left as it is.
"""

from __future__ import annotations

import ast
import sys
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING

from ._compat.pandas import release_copies
from .analysis import is_private
from .files import is_file_name
from .findings import RunFindings
from .generators import GLOBAL_GENERATORS, is_generator_name, is_generator_object, same_state
from .graph import CellId
from .settings import CWD, FIGURES, PRECISION
from .state import CascadeReport, CellState, Executor, Outcome, Plan, Status
from .values import ABSENT, PASS, immutable, is_a

if TYPE_CHECKING:
    from .runner import Runner


def star_imported(code: str, namespace: Mapping[str, object],
                  before: int | None = None) -> dict[str, object]:
    """The names ``code``'s star imports (``from math import *``) bound that
    hold their module's object now (``before``: only those of statements
    ending above that line, at the top level)."""
    if "import *" not in code:
        return {}
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    found: dict[str, object] = {}
    nodes = _surely_ran(tree.body) if before is None else (
        node for node in tree.body if (node.end_lineno or before) < before)
    for node in nodes:
        if not isinstance(node, ast.ImportFrom) or node.level or node.module is None \
                or not any(alias.name == "*" for alias in node.names):
            continue
        module = sys.modules.get(node.module)
        if module is None:
            continue
        try:
            exported = getattr(module, "__all__", None)
            names = [n for n in exported if isinstance(n, str)] if exported is not None \
                else [n for n in vars(module) if not n.startswith("_")]
            for name in names:
                value = namespace.get(name, ABSENT)
                if value is not ABSENT and value is getattr(module, name, ABSENT):
                    found[name] = value
        except Exception:  # a module answering attribute lookups its own way
            continue
    return found


def _surely_ran(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a run without an error that surely ran: the top level,
    the bodies of ``with``, the first statement of a ``try`` (not a branch, a
    loop's body or a handler: ``if flag: from numpy import *`` binds nothing
    when ``flag`` is false)."""
    found: list[ast.stmt] = []
    for node in body:
        found.append(node)
        if isinstance(node, (ast.With, ast.AsyncWith)):
            found.extend(_surely_ran(node.body))
        elif isinstance(node, ast.Try) and node.body:
            found.extend(_surely_ran(node.body[:1]))
    return found


class Stop(Exception):
    """An interrupt ended the cascade."""


class Cascade:
    """One run of a plan: restores, placement, skips, and the report."""

    def __init__(self, runner: Runner, plan: Plan, execute: Executor,
                 report: CascadeReport) -> None:
        self.runner = runner
        self.graph = runner.graph
        self.plan = plan
        self.execute = execute
        self.report = report
        self.failed: set[CellId] = set()
        #: Cells re-run only to restore a value, that failed again: as a failure
        #: of an earlier cascade, they block only the names they left unbound.
        self.failed_restores: set[CellId] = set()
        self.done: set[CellId] = set()
        self.touched: set[str] = set(runner._unsettled)
        runner._unsettled.clear()
        #: Statuses before the cascade queued the cells.
        self.before: dict[CellId, Status] = {}
        #: Per cell run here: names whose value is the very object it had before.
        self.same: dict[CellId, dict[str, object]] = {}
        #: Cells on a cycle: their reads bound to a cell below them on it are
        #: unbound here (top to bottom, nothing below has run yet).
        self.cut: dict[CellId, set[str]] = {}
        #: Restores that run only if a value they read was re-made (see
        #: :meth:`_readers_between`), and those that run whatever they read.
        self.follow: set[CellId] = set()
        self.required: set[CellId] = set()
        #: Cells to run that the plan did not list: readers of names a cell
        #: rebound unseen (``from m import *``, ``%run -i``), with their
        #: descendants, added as the cascade goes (see :meth:`_observed`);
        #: ``forced`` of them run whatever their parents did.
        self.added: list[CellId] = []
        self.forced: set[CellId] = set()
        cyclic = set(plan.cyclic)
        for cell in plan.cyclic:
            position = self.graph.position(cell)
            for parent, names in self.graph.parents(cell).items():
                if parent in cyclic and self.graph.position(parent) > position:
                    self.cut.setdefault(cell, set()).update(names)

    async def step(self, cell: CellId, is_pending: Callable[[CellId], bool] | None) -> None:
        runner, report = self.runner, self.report
        trigger = cell == self.plan.trigger
        if cell in self.done:
            return  # ran already, restored for a cell before it
        if not trigger and cell in self.graph:
            parents = self._parents(cell)
            if (is_pending is not None and is_pending(cell)) or any(
                p in report.deferred for p in parents
            ):
                report.deferred.append(cell)
                return
        if not trigger and not self._must_run(cell):
            # Before any restore: a cell that will not run needs no fresh inputs.
            runner.state(cell).status = self.before.get(cell, Status.OK)
            runner.touch(cell)
            report.unchanged.append(cell)
            if not self.plan.plain and cell in self.graph:
                self.touched |= self.graph.cell(cell).defs
                runner.values.restate(cell)
            return
        if not self.plan.plain and cell in self.graph:
            restored: list[CellId] = []
            for need in self._restore_order(cell):
                if need not in self.failed and not self._blocked(need) \
                        and (need not in self.follow or self._reads_changed(need)):
                    report.restored.append(need)
                    await self._run(need, False)
                    restored.append(need)
            if restored:
                self._remade(cell, restored)
        if not trigger:
            blocker = self._blocked(cell)
            if blocker is not None and cell in self.graph \
                    and not runner.parses(self.graph.cell(cell).code):
                blocker = None  # it shows its own SyntaxError, not "Not run"
            if blocker is not None:
                self.failed.add(cell)
                state = runner.state(cell)
                state.status, state.error = Status.SKIPPED, None
                state.skipped_because = runner.state(blocker).skipped_because or blocker
                runner.touch(cell)
                report.skipped.append(cell)
                report.skipped_because[cell] = state.skipped_because
                self._pass(cell)
                return
        await self._run(cell, trigger)

    async def settle(self, is_pending: Callable[[CellId], bool] | None = None) -> None:
        """Before the namespace is left as the last definers left it: a last
        definer whose value a cell below changed in place, and which that cell
        no longer changes (it was edited, moved or deleted), runs again; so does
        the last writer of a file another writer of it rewrote, unless its own
        request is queued (``is_pending``: a Run All runs it next anyway) or the
        client runs every cell itself (``Plan.alone``)."""
        graph, values = self.graph, self.runner.values
        for name in sorted(self.touched):
            if is_file_name(name):
                # A file holds one version: its last writer's, as from the top
                # (a writer above it re-ran for a reader between them).
                definers = graph.definers(name)
                last = definers[-1] if definers else None
                if last is None or values.tables.get(name) in (None, last) \
                        or last in self.done or last in self.failed \
                        or last in self.runner.batch or self.runner.state(last).runs == 0 \
                        or self.plan.alone or (is_pending is not None and is_pending(last)):
                    continue
            else:
                definers = graph.definers(name) if name.isidentifier() else []
                if not definers:
                    continue
                last = values.through_failed(definers[-1], name)
                if last is None:
                    continue
                record = values.records.get(last, {}).get(name)
                if (record is None or last in self.done or last in self.failed
                        or last in self.runner.batch
                        or not (record.dropped
                                or (record.changed and not self.plan.as_they_are))):
                    continue
            for need in [*self._restore_order(last), last]:
                if need not in self.done and need not in self.failed and not self._blocked(need) \
                        and (need == last or need not in self.follow
                             or self._reads_changed(need)):
                    self.report.restored.append(need)
                    await self._run(need, False)

    def _must_run(self, cell: CellId) -> bool:
        """Whether a planned cell reads a value that changed in this cascade
        (or must run anyway).  A value that is the very object its definer
        left before did not change if it cannot change (a number, a string, a
        module...), if the definer only imports it (``from m import f`` gives
        the object ``m`` holds) or if the cell only passes it through (a weak
        read).  A new value of a name the cell never reads but may pass through
        changes nothing if its last run bound the name itself (``for t in ts:
        tree = t``): run again, it would bind it again (a loop drawing from a
        seeded generator would draw other numbers than top to bottom)."""
        if cell in self.plan.roots or cell in self.forced or cell not in self.graph:
            return True
        if self.before.get(cell) not in (Status.OK, Status.ERROR):
            return True  # skipped, interrupted or never run: what it shows is not current
        if self._blocked(cell) is not None:
            return True  # it will be skipped, and say why
        return self._reads_changed(cell)

    def _reads_changed(self, cell: CellId) -> bool:
        """Whether a value ``cell`` reads was made anew in this cascade (see
        :meth:`_must_run`)."""
        weak = self.graph.cell(cell).weak
        made = self.runner.state(cell).made
        values = self.runner.values
        for parent, names in self._parents(cell).items():
            for name in names - made:
                # A name the parent failed before binding comes from above it
                # (or from no cell, because of the topmost that failed).
                source = values.through_failed(parent, name, failing=True) \
                    if parent not in self.done else parent
                if source is None or source not in self.same:
                    continue  # did not run in this cascade
                same = self.same[source]
                own = self.runner.calls.analysis(source)
                imported = own.imported if own is not None else frozenset()
                if name not in same:
                    return True
                if name not in weak and name not in imported and not is_generator_name(name) \
                        and not immutable(same[name]) and same[name] is not ABSENT \
                        and not is_generator_object(same[name]):
                    return True
        return False

    def _remade_input(self, cell: CellId, name: str) -> bool:
        """Whether the value ``cell`` read for ``name`` was made anew in this cascade."""
        parent = self.graph.binding(cell, name)
        source = self.runner.values.through_failed(parent, name)
        return source is not None and source != cell and source in self.same \
            and name not in self.same[source]

    def _blocked(self, cell: CellId) -> CellId | None:
        """A cell it reads from that failed or was skipped in this cascade (a
        name its parent failed before binding is read from above that parent).
        Weak reads do not count: the cell may bind the name before reading it
        (``x = 5; print(f())`` with ``f`` reading ``x``); if it does not, it
        reads what the failed cell passes on, as a run from the top would.  But
        a skipped cell passes on nothing of this run: a global generator it
        draws from, or an object it changes in place, is as its last run left
        it, and a cell drawing from that generator or changing that object
        (``add(7)`` with ``add`` appending to ``total``: weak reads) would use
        that state as current."""
        if cell not in self.graph:
            return None
        failing = self.runner.values.failing
        weak = self.graph.cell(cell).weak
        used = (GLOBAL_GENERATORS | self.runner.changes(cell)) & weak
        for parent, names in self._parents(cell).items():
            skipped = parent in self.failed and parent not in self.done
            names = names - (weak - used) if skipped else names - weak
            if not names:
                continue
            if parent in self.failed and parent not in self.failed_restores:
                return parent
            for name in names & failing.get(parent, frozenset()):
                source = self.runner.values.through_failed(parent, name, failing=True)
                if source in self.failed:
                    return source
        return None

    def _parents(self, cell: CellId) -> dict[CellId, frozenset[str]]:
        """The cell's parents, without the reads cut on a cycle."""
        parents = self.graph.parents(cell)
        cut = self.cut.get(cell)
        if cut:
            parents = {p: n - cut for p, n in parents.items() if n - cut}
        return parents

    async def _run(self, cell: CellId, trigger: bool) -> None:
        runner, report = self.runner, self.report
        placed = not self.plan.plain and cell in self.graph
        if placed:
            node = self.graph.cell(cell)
            self.touched |= node.declared_defs
            self.touched |= node.refs
            self.touched |= runner.values.place(cell, unbound=self.cut.get(cell, ()))
            namespace = runner.values.namespace
            given = {n: namespace.get(n, ABSENT) for n in node.defs if n.isidentifier()}
        code = self.graph.cell(cell).code if cell in self.graph else self.plan.code
        state = runner.state(cell)
        before = dict(runner.values.records.get(cell, {}))
        same_code, state.ran_code = state.ran_code == code, code
        settings, state.settings = state.settings, {}
        binds_unseen = placed and runner.binds_unseen(code, cell)
        # Names its last run bound unseen: gone before it runs, as a run from the
        # top never made them; its run binds them again if its code still does
        # (the same code may not: ``exec(src)`` of another ``src``, ``from h
        # import *`` of a module since rewritten).
        unobserved = runner.values.unobserve(cell) if placed else {}
        unseen = dict(runner.values.namespace) if binds_unseen else None
        ran_before = cell in runner.settings.left
        if placed:
            runner.fresh_imports(cell)
        findings = RunFindings(runner, cell, code, given, unseen) if placed else None
        runner.settings.before(cell, placed)
        outcome = await self._execute(cell, code, state, trigger)
        resettled = runner.settings.after(cell if cell in self.graph else None, code,
                                          runner.code_with_callees(cell, code))
        if findings is not None:
            readers, forced = findings.after(outcome.status == "ok")
            self._add(cell, set(readers), forced=False)
            self._add(cell, set(forced), forced=True)
        if unseen is not None:
            # What it rebound without defining it visibly: top to bottom, the
            # cells below it see that, not a definer's above it.
            defs = self.graph.cell(cell).defs
            rebound = {n: v for n, v in namespace.items()
                       if not is_private(n) and n not in defs
                       and unseen.get(n, ABSENT) is not v}
            # A star import binds what its module gives even where a cell above
            # gave the same objects (``from math import *`` twice): the names are
            # its too, and stay if the one above goes.  (A failed run's only if
            # it ran before the statement that failed.)
            # (Of the code as Python: a magic line above it, ``%precision 3``, did
            # not parse.)
            failed, python = outcome.failed_at, runner.python(code)
            starred = star_imported(python, namespace) if outcome.status == "ok" \
                else star_imported(python, namespace, before=failed[0]) if failed else {}
            for n, v in starred.items():
                if n not in defs and not is_private(n):
                    rebound.setdefault(n, v)
            self._observed(cell, rebound, unobserved, unseen)
        elif unobserved:
            self._observed(cell, {}, unobserved, {})
        if placed:
            inplace = runner.changes(cell)
            unbound: list[str] = []
            if outcome.status != "ok":
                # Names it failed before binding pass through; an object it was
                # given to change in place stays its value (it may have changed
                # it), but not one it binds itself first (``d = {}; d['k'] = 1``),
                # one that cannot change (``n += 1`` on a number), or any if the
                # code did not even compile.
                # A name holding the very object it was given was bound anyway
                # by a statement that ran before the one that failed
                # (``n = 10; 1 / 0`` below ``n = 10``: small numbers are shared).
                refs = self.graph.cell(cell).refs
                ran = runner.parses(code)
                bound = runner.bound_before(code, *outcome.failed_at) \
                    if ran and outcome.failed_at is not None else frozenset()
                unbound = [n for n, v in given.items()
                           if (not ran or n not in inplace or n not in refs
                               or immutable(v))
                           and namespace.get(n, ABSENT) is v and n not in bound]
            runner.values.record(cell, inplace, unbound)
            release_copies(namespace, self.graph.cell(cell).defs)
            state.made = frozenset(n for n in runner.pass_only.get(cell, ())
                                   if n in given and namespace.get(n, ABSENT) is not given[n])
            after = runner.values.records.get(cell, {})
            if same_code and runner.on_replaced is not None:
                for name, record in after.items():
                    if name in before and before[name].value is not record.value:
                        try:
                            runner.on_replaced(before[name].value, record.value)
                        except Exception:  # (a hook's failure is not the cell's)
                            pass
            # A module changed by the same literal statements as in its last
            # run (``np.random.seed(0)``, ``plt.rcParams[...] = 12``) is set
            # as it was: not a new value for its readers.
            literal = runner.literal_changes(cell) if outcome.status == "ok" else {}
            state.settings = literal
            # Unless the module it changed came to it changed (``pd.set_option(a)``
            # edited above ``pd.set_option(b)``): then it leaves another state.
            literal = {n: t for n, t in literal.items() if not self._remade_input(cell, n)}
            self.same[cell] = {
                n: r.value for n, r in after.items()
                if n in before and (
                    # A global generator: the same state as its last run left.
                    same_state(before[n].value, r.value) if is_generator_name(n)
                    else before[n].value is r.value
                    and (n not in inplace or (is_a(r.value, ModuleType) and n in literal
                                              and settings.get(n) == literal[n]))
                    and not before[n].changed
                    # A module whose settings it left otherwise (a setting above it
                    # edited, or taken out of it): a new value for its readers.
                    and not (is_a(r.value, ModuleType)
                             and r.value.__name__.partition(".")[0] in resettled)
                    # A generator object: the same state too.
                    and (r.state is None or same_state(before[n].state, r.state)))
                and not before[n].dropped and r.value is not PASS
            }
            if ran_before and FIGURES in self.graph.cell(cell).defs \
                    and not resettled & {"matplotlib", "seaborn"}:
                # It left how figures are drawn as its last run did.
                self.same[cell][FIGURES] = None
            for pseudo in (PRECISION, CWD):
                if ran_before and pseudo in self.graph.cell(cell).defs \
                        and pseudo not in resettled:
                    self.same[cell][pseudo] = None
            if outcome.status == "ok":
                runner.showed(cell, code)
        else:
            self.same[cell] = {}
            state.made = frozenset()
        self.done.add(cell)
        report.ran.append(cell)
        report.timings[cell] = state.duration or 0.0
        if outcome.status != "ok":
            self.failed.add(cell)
            if not trigger and cell in report.restored:
                self.failed_restores.add(cell)
            report.errors[cell] = outcome.error or outcome.status
        if outcome.status == "interrupted":
            report.interrupted = True
            raise Stop

    async def _execute(
        self, cell: CellId, code: str, state: CellState, trigger: bool
    ) -> Outcome:
        state.status = Status.RUNNING
        state.skipped_because = None
        state.runs += 1
        state.rerun = not trigger
        self.runner.touch(cell)
        if self.runner.on_progress is not None:
            self.runner.on_progress(False)
        started = time.perf_counter()
        self.runner.running = cell
        try:
            outcome = await self.execute(cell, code, trigger)
        except KeyboardInterrupt:
            outcome = Outcome("interrupted", "KeyboardInterrupt")
        finally:
            self.runner.running = None
        state.duration = time.perf_counter() - started
        state.output_at = time.time()
        if outcome.status == "ok":
            state.status, state.error = Status.OK, None
        elif outcome.status == "interrupted":
            state.status, state.error = Status.INTERRUPTED, outcome.error
        else:
            state.status, state.error = Status.ERROR, outcome.error
        self.runner.touch(cell)
        return outcome

    def _restore_order(self, cell: CellId) -> list[CellId]:
        """Cells to run before ``cell`` because it reads values they do not hold
        usably, parents first (their own such inputs included)."""
        order: list[CellId] = []
        seen = {cell}
        stack: list[tuple[CellId, list[CellId]]] = [(cell, self._needs(cell, seen))]
        while stack:
            current, needs = stack[-1]
            if needs:
                need = needs.pop()
                if need not in seen:
                    seen.add(need)
                    stack.append((need, self._needs(need, seen)))
                continue
            stack.pop()
            if current != cell:
                order.append(current)
        return order

    def _needs(self, cell: CellId, seen: set[CellId]) -> list[CellId]:
        """What ``cell`` needs run first, in the reverse of the order to run it
        (the caller pops from the end): each definer whose value it reads is not
        usable, and after that definer, the cells between the two that read the
        same value.  Those may have changed the object through a call
        (``df.dropna(inplace=True)``, ``lst.append(2)``, ``model.fit(X)``), which
        analysis cannot see: top to bottom, ``cell`` saw the object with their
        changes.  A table changes only through the SQL cells that define it."""
        runner, graph = self.runner, self.graph
        found: list[CellId] = []
        node = graph.cell(cell)
        cut = self.cut.get(cell, set())
        for name in sorted(node.refs - cut, reverse=True):
            definer = runner.values.through_failed(graph.binding(cell, name), name)
            if (definer is None or definer == cell or definer in self.done
                    or definer in runner.batch or self._absent_anyway(cell, definer, name)):
                continue
            if runner.state(definer).status is Status.STALE or not runner.values.available(
                    definer, name, changed_ok=self.plan.as_they_are):
                # Needed for its own value: it runs whatever it reads (it may be
                # listed already, as a cell between for another name).
                self.required.add(definer)
                self.follow.discard(definer)
                if definer in seen or definer in found:
                    continue
                between = self._readers_between(definer, cell, name) \
                    if name.isidentifier() else []
                found.extend(r for r in reversed(between) if r not in seen and r not in found)
                found.append(definer)
        # A name a cell between rebound unseen (``exec("x = [2]")``, a star import)
        # that this cell changes in place: its last run changed that very object,
        # so the cell that made it runs again first (after the definer above it).
        values = runner.values
        for name in sorted((node.refs & runner.changes(cell)) - cut):
            if not values.observed:
                break
            source = values.unseen_source(cell, name)
            if source is None or source in self.done or source in runner.batch \
                    or source in seen or source in found \
                    or issubclass(type(values.observed.get(source, {}).get(name)), ModuleType):
                continue  # (run again, an import gives the same module: nothing fresh)
            definer = graph.binding(cell, name)
            at = found.index(definer) if definer in found else len(found)
            found.insert(at, source)
        return found

    def _absent_anyway(self, cell: CellId, definer: CellId, name: str) -> bool:
        """Whether ``cell`` reads table ``name`` only to know it is not there
        (``CREATE TABLE t`` without ``OR REPLACE``, ``DROP TABLE IF EXISTS t``:
        a weak read) from a ``definer`` that drops it: the table is dropped
        before the cell runs (``Runner.table_left_over``), with no need to run
        the drop again."""
        if name.isidentifier() or name not in self.graph.cell(cell).weak:
            return False
        analysis = self.runner.calls.analysis(definer)
        return analysis is not None and name in analysis.deletes

    def _readers_between(self, definer: CellId, cell: CellId, name: str) -> list[CellId]:
        """Cells strictly between ``definer`` and ``cell`` (below it) that ran in
        this kernel, in notebook order: those that read ``name`` from
        ``definer`` (they may have changed its object through a call), and
        those that read from ``definer`` or from them otherwise, which run only
        if a value they read is made anew (``s = Sub()`` under a re-made
        ``class Sub(Base)``, ``c = [b]`` under a re-made ``b = {"a": a}``: top to
        bottom, they hold the new objects)."""
        graph, runner = self.graph, self.runner
        low, high = graph.position(definer), graph.position(cell)

        def usable(r: CellId) -> bool:
            return (low < graph.position(r) < high and r not in self.done
                    and r not in runner.batch and runner.state(r).runs > 0)

        direct = {r for r in graph.readers(name)
                  if usable(r) and graph.binding(r, name) == definer}
        self.required |= direct
        self.follow -= direct
        members = {definer, *direct}
        for r in sorted((r for r in graph.descendants({definer}) if usable(r)),
                        key=graph.position):
            if r not in members and any(p in members for p in graph.parents(r)):
                members.add(r)
                if r not in self.required:
                    self.follow.add(r)
        return sorted(members - {definer}, key=graph.position)

    def _remade(self, cell: CellId, restored: list[CellId]) -> None:
        """Cells restored for ``cell`` made some values anew: the readers below
        ``cell`` that read those values from them held the old objects (``d =
        Dog()`` re-made for an edited ``Dog.species = 'wolf'``: ``print(d.species)``
        below): they run too if a value they read is new (see :meth:`_must_run`)."""
        graph = self.graph
        readers: set[CellId] = set()
        for need in restored:
            same = self.same.get(need, {})
            for name in graph.cell(need).defs:
                if name in same:
                    continue
                readers |= {r for r in graph.readers(name) if graph.binding(r, name) == need}
        self._add(cell, readers, forced=False)

    def _add(self, cell: CellId, readers: set[CellId], *, forced: bool) -> None:
        """Run ``readers`` below ``cell`` that ran before, and their descendants
        below it, after ``cell`` in notebook order, though the plan did not list
        them (``forced``: whatever their parents did); in lazy mode they go stale."""
        graph, runner = self.graph, self.runner
        position = graph.position(cell)

        def waiting(r: CellId) -> bool:
            return graph.position(r) > position and r not in self.done \
                and runner.state(r).runs > 0

        readers = {r for r in readers if waiting(r)}
        if not readers:
            return
        if runner.mode != "auto":
            for reader in sorted(readers, key=graph.position):
                if runner.state(reader).status is not Status.QUEUED:
                    runner.state(reader).status = Status.STALE
                    runner.touch(reader)
                    if reader not in self.report.stale:
                        self.report.stale.append(reader)
            return
        if forced:
            self.forced |= readers
        for other in sorted(readers | graph.descendants(readers), key=graph.position):
            if other not in self.added and waiting(other):
                self.added.append(other)

    def _observed(self, cell: CellId, rebound: dict[str, object],
                  unobserved: dict[str, object], ran_in: dict[str, object]) -> None:
        """``cell`` rebound names unseen: keep their values for the cells below
        it, and re-run the readers below that ran with another value (an
        edited ``from m import *``, a script run again by ``%run -i``), unless
        a cell between them defines the name visibly; in lazy mode they go
        stale.  ``unobserved``: what it had rebound so before its run (see
        :meth:`.values.Values.unobserve`); ``ran_in``: the namespace before it."""
        values, graph = self.runner.values, self.graph
        before = unobserved
        values.observe(cell, rebound, ran_in)
        after = values.observed.get(cell, {})
        self.touched |= after.keys() | before.keys()
        changed = {n for n in after.keys() | before.keys()
                   if after.get(n, ABSENT) is not before.get(n, ABSENT)}
        if not changed or self.plan.plain:
            return
        position = graph.position(cell)
        readers: set[CellId] = set()
        for name in changed:
            for reader in graph.readers(name):
                source = graph.binding(reader, name)
                if source is None or not position < graph.position(source) \
                        < graph.position(reader):
                    readers.add(reader)
        self._add(cell, readers, forced=True)

    def take_added(self, remaining: list[CellId]) -> list[CellId]:
        """``remaining`` (in the reverse of the order to run) with the cells
        :meth:`_observed` added, queued, in notebook order."""
        runner, graph = self.runner, self.graph
        new = [c for c in self.added if c not in remaining and c in graph]
        self.added = []
        for cell in new:
            state = runner.state(cell)
            self.before.setdefault(cell, state.status)
            state.status = Status.QUEUED
            runner.touch(cell)
        if self.plan.cyclic:  # the plan's order is not the notebook's: they go last
            return [*sorted(new, key=graph.position, reverse=True), *remaining]
        return sorted([*remaining, *new], key=graph.position, reverse=True)

    def _pass(self, cell: CellId) -> None:
        if cell in self.graph and not self.plan.plain:
            self.touched |= self.graph.cell(cell).defs
            self.runner.values.passed(cell)
            self.runner.state(cell).made = frozenset()

    def not_run(self, cell: CellId) -> None:
        """A planned cell the cascade did not reach (interrupted)."""
        state = self.runner.state(cell)
        if state.status is Status.QUEUED:
            state.status = Status.SKIPPED
            state.error = "the cascade was interrupted"
        elif state.status is Status.RUNNING:
            state.status = Status.INTERRUPTED
        state.skipped_because = None
        self.runner.touch(cell)
        if cell not in self.report.ran and cell not in self.report.deferred:
            self.report.skipped.append(cell)
            self._pass(cell)
