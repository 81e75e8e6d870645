"""Cascade planning and execution, and the one home of per-cell run state.

The :class:`Runner` owns a :class:`~reactive_kernel.graph.DependencyGraph`
and a :class:`CellState` per cell.  It turns "cell X was submitted with this
code" into a plan (analyse, update the graph, decide what runs and what goes
stale), deletes names that must not survive, and runs the plan through an
executor callback supplied by the kernel glue.  It never touches messages.

Ordering: a cascade runs the submitted cell first, then every affected cell
once, in topological order with ties broken by first registration.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol

from .analysis import CellAnalysis, MagicAnalyser, analyse
from .graph import CellId, DependencyGraph, GraphError

Mode = Literal["auto", "lazy"]


class Status(str, Enum):
    """Run state of one cell, as shown to users."""

    IDLE = "idle"  # registered, never run
    QUEUED = "queued"
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"  # an ancestor failed in the cascade that reached it
    STALE = "stale"  # lazy mode: an ancestor changed, not re-run yet
    INTERRUPTED = "interrupted"


@dataclass
class CellState:
    """Everything the runner remembers about one cell's last run."""

    status: Status = Status.IDLE
    duration: float | None = None  # seconds of the last run
    error: str | None = None  # "ename: evalue" of the last failure
    skipped_because: CellId | None = None
    execution_count: int | None = None
    #: How many times the cell ran in this kernel (trigger or re-run): a client back
    #: from a disconnection compares it to tell which cells ran meanwhile (a re-run
    #: keeps its execution_count).
    runs: int = 0
    #: Opaque handle the kernel uses to route this cell's re-run output
    #: (the cell's last execute_request); the runner only stores it.
    context: object = None


@dataclass(frozen=True)
class Outcome:
    """Result of executing one cell."""

    status: Literal["ok", "error", "interrupted"]
    error: str | None = None


class Executor(Protocol):
    def __call__(self, cell: CellId, code: str, trigger: bool) -> Awaitable[Outcome]: ...


@dataclass
class Plan:
    """What one submission will do, decided before anything runs."""

    trigger: CellId
    run: list[CellId]
    stale: list[CellId] = field(default_factory=list)
    #: Cells left out because their own request is already queued.
    deferred: list[CellId] = field(default_factory=list)
    #: The trigger's code (also used when the trigger is not in the graph).
    code: str = ""


@dataclass
class CascadeReport:
    """What happened; becomes ``execute_reply.metadata.reactive``."""

    ran: list[CellId] = field(default_factory=list)
    skipped: list[CellId] = field(default_factory=list)
    stale: list[CellId] = field(default_factory=list)
    deferred: list[CellId] = field(default_factory=list)
    errors: dict[CellId, str] = field(default_factory=dict)
    timings: dict[CellId, float] = field(default_factory=dict)
    interrupted: bool = False

    def as_metadata(self) -> dict[str, object]:
        return {
            "ran": list(self.ran),
            "skipped": list(self.skipped),
            "stale": list(self.stale),
            "deferred": list(self.deferred),
            "errors": dict(self.errors),
            "timings": {c: round(t * 1000, 3) for c, t in self.timings.items()},
            "interrupted": self.interrupted,
        }


class Runner:
    """Plans and runs cascades; owns the graph and per-cell run state.

    Responsibilities: analyse submitted code, keep the graph current, delete
    names whose definitions went away, decide which cells run or go stale
    (auto vs lazy mode), run them in order, skip descendants of failures,
    stop on interrupt, and record each cell's status and duration.
    """

    def __init__(
        self,
        namespace: MutableMapping[str, object],
        transform: Callable[[str], str] | None = None,
        mode: Mode = "auto",
        analyser: Callable[[str], CellAnalysis] | None = None,
        cell_magics: Mapping[str, MagicAnalyser] | None = None,
    ) -> None:
        self.graph = DependencyGraph()
        self.namespace = namespace
        self.mode: Mode = mode
        self.states: dict[CellId, CellState] = {}
        self._plans: dict[tuple[object, ...], tuple[tuple[CellId, ...], tuple[CellId, ...]]] = {}
        self._transform = transform
        self._analyser = analyser
        self._cell_magics = dict(cell_magics or {})
        self._analyses: dict[str, CellAnalysis] = {}
        self._anonymous_count = 0

    # -- identity -----------------------------------------------------------

    def new_anonymous_id(self) -> CellId:
        self._anonymous_count += 1
        return CellId(f"anon-{self._anonymous_count}")

    def state(self, cell: CellId) -> CellState:
        return self.states.setdefault(cell, CellState())

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

    # -- graph maintenance --------------------------------------------------

    def register(
        self, cell: CellId, code: str, analysis: CellAnalysis, *, anonymous: bool = False
    ) -> frozenset[CellId]:
        """Put a cell in the graph without running it.

        Returns the cells that must re-run because they read a name this
        cell stopped defining.  Graph errors propagate, graph unchanged.
        """
        if cell in self.graph:
            node = self.graph.cell(cell)
            if (node.code == code and node.anonymous == anonymous
                    and node.defs == node.declared_defs):
                return frozenset()  # re-running unchanged code: the graph is current
        update = self.graph.set_cell(
            cell, code, analysis.defs, analysis.refs, anonymous=anonymous
        )
        self.state(cell)
        self._forget_names(update.dropped, cell)
        for loser in update.displaced:
            node = self.graph.cell(loser)
            if node.anonymous and not node.defs and not node.refs:
                # Console history that defines nothing any more can never
                # re-run: drop it so the graph stays small.
                self.graph.remove_cell(loser)
                self.states.pop(loser, None)
        return update.orphaned

    def remove(self, cells: Iterable[CellId]) -> frozenset[CellId]:
        """Drop deleted cells and their names; returns their former readers."""
        readers: set[CellId] = set()
        removed: set[CellId] = set()
        for cell in cells:
            if cell not in self.graph:
                continue
            defs = set(self.graph.cell(cell).defs)
            readers |= self.graph.remove_cell(cell)
            self.states.pop(cell, None)
            removed.add(cell)
            self._forget_names(defs, None)
        return frozenset(readers - removed)

    def _forget_names(self, names: Iterable[str], keep_for: CellId | None) -> None:
        """Delete names from the namespace unless another cell defines them."""
        for name in names:
            if any(d != keep_for for d in self.graph.definers(name)):
                continue
            self.namespace.pop(name, None)

    def clear_names_of(self, cell: CellId) -> None:
        """Before a cell runs: delete what it alone defines, so nothing stale
        survives a failure.  Names it also reads first (``x += 1``) are kept."""
        if cell in self.graph:
            node = self.graph.cell(cell)
            owned = [
                n
                for n in node.defs
                if n not in node.refs and self.graph.definers(n) == [cell]
            ]
            for name in owned:
                self.namespace.pop(name, None)

    def describe(self) -> dict[str, object]:
        """The graph and run state as JSON-ready data (for frontends).

        ``order`` lists every cell in dependency order (ties: registration), so
        "run all" can follow it; ``cells`` maps ids to names, edges and state.
        """
        graph = self.graph
        order = graph.topological_order(graph.cells())
        cells: dict[str, object] = {}
        for cell in order:
            node = graph.cell(cell)
            state = self.state(cell)
            cells[cell] = {
                "defines": sorted(node.defs),
                "reads": sorted(node.refs),
                "parents": {p: sorted(n) for p, n in graph.parents(cell).items()},
                "children": {c: sorted(n) for c, n in graph.children(cell).items()},
                "anonymous": node.anonymous,
                "status": state.status.value,
                "duration_ms": None if state.duration is None else round(state.duration * 1000, 3),
                "error": state.error,
                "skipped_because": state.skipped_because,
                "execution_count": state.execution_count,
                "runs": state.runs,
            }
        return {"mode": self.mode, "order": list(order), "cells": cells}

    def load(self, cells: Iterable[tuple[CellId, str]]) -> dict[CellId, str]:
        """Register cells without running them (a notebook being opened).

        Cells are registered in the given order; one that cannot be (cycle,
        ambiguous name) is left out and reported, one that does not parse is
        registered without names so it still has a place.  Returns errors.
        """
        errors: dict[CellId, str] = {}
        for cell, code in cells:
            try:
                analysis = self.analyse(code)
            except SyntaxError as err:
                analysis = CellAnalysis()
                errors[cell] = f"SyntaxError: {err.msg}"
            try:
                self.register(cell, code, analysis)
            except GraphError as err:
                errors[cell] = f"{type(err).__name__}: {err}"
        return errors

    # -- planning -----------------------------------------------------------

    def submit(
        self,
        cell: CellId | None,
        code: str,
        *,
        deleted: Iterable[CellId] = (),
        pending: Iterable[CellId] = (),
    ) -> Plan:
        """Register a submitted cell and plan its cascade.

        ``cell`` None means an anonymous console input (a fresh id is made).
        Raises :class:`SyntaxError` (graph untouched, nothing planned) or a
        :class:`~reactive_kernel.graph.GraphError` (graph untouched).
        """
        anonymous = cell is None
        readers_of_deleted = self.remove(deleted)
        cell_id = self.new_anonymous_id() if cell is None else cell
        try:
            analysis = self.analyse(code)
        except SyntaxError:
            # Run it anyway so the user sees Python's own error; descendants
            # are skipped, and later cascades re-run the broken code too.
            if cell_id not in self.graph:
                return Plan(cell_id, [cell_id], code=code)
            self.graph.replace_code(cell_id, code)
            return self.plan(cell_id, readers_of_deleted, pending, code=code)
        if anonymous and not analysis.defs and not analysis.refs:
            # Nothing to link: run it once, keep no node.
            return Plan(cell_id, [cell_id], code=code)
        orphaned = self.register(cell_id, code, analysis, anonymous=anonymous)
        return self.plan(cell_id, readers_of_deleted | orphaned, pending, code=code)

    def plan(
        self,
        trigger: CellId,
        extra: Iterable[CellId] = (),
        pending: Iterable[CellId] = (),
        *,
        code: str | None = None,
    ) -> Plan:
        """Decide what running ``trigger`` runs, in order.

        ``extra`` are cells that must re-run too (orphaned readers, readers
        of deleted cells).  ``pending`` are cells whose own execute_request is
        already queued: they and their descendants are left to that request.
        In lazy mode affected cells go stale instead, and stale ancestors of
        ``trigger`` run first.
        """
        if code is None:
            code = self.graph.cell(trigger).code
        roots = {trigger, *(c for c in extra if c in self.graph)}
        pending = frozenset(pending)
        if self.mode == "auto":
            # Editing the same cell again and again is the common case: its
            # cascade is the same as long as the graph's edges are.
            key = (trigger, frozenset(roots), pending, self.graph.version)
            cached = self._plans.get(key)
            if cached is not None:
                return Plan(trigger, list(cached[0]), [], list(cached[1]), code)
        affected = (self.graph.descendants(roots) | roots) - {trigger}
        blocked = set(pending) & affected
        deferred: set[CellId] = set()
        if blocked:
            deferred = (blocked | self.graph.descendants(blocked)) & affected
            affected -= deferred
        if self.mode == "auto":
            run = [trigger, *self.graph.topological_order(affected)]
            later = self._ordered(deferred)
            if len(self._plans) >= 64:
                self._plans.clear()
            self._plans[key] = (tuple(run), tuple(later))
            return Plan(trigger, run, [], later, code)
        stale_up = {
            a for a in self.graph.ancestors([trigger]) if self.state(a).status is Status.STALE
        }
        head = self.graph.topological_order(stale_up)
        stale = (affected | self.graph.descendants(stale_up)) - stale_up - {trigger} - deferred
        return Plan(
            trigger, [*head, trigger], self._ordered(stale), self._ordered(deferred), code
        )

    def run_stale(self) -> Plan | None:
        """Plan running every stale cell (lazy mode's "run stale")."""
        stale = [c for c, s in self.states.items() if s.status is Status.STALE]
        if not stale:
            return None
        # No trigger: every cell in it is a re-run.
        return Plan(CellId(""), self.graph.topological_order(stale))

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
        for cell in plan.run:
            self.state(cell).status = Status.QUEUED
        failed: set[CellId] = set()
        remaining = list(plan.run)
        try:
            while remaining:
                cell = remaining[0]
                state = self.state(cell)
                blocker = None
                if cell != plan.trigger and cell in self.graph:
                    parents = self.graph.parents(cell)
                    if (is_pending is not None and is_pending(cell)) or any(
                        p in report.deferred for p in parents
                    ):
                        remaining.pop(0)
                        report.deferred.append(cell)
                        continue
                    blocker = next((p for p in parents if p in failed), None)
                if blocker is not None:
                    remaining.pop(0)
                    failed.add(cell)
                    self.clear_names_of(cell)  # its old values are stale now
                    state.status = Status.SKIPPED
                    state.skipped_because = self.state(blocker).skipped_because or blocker
                    report.skipped.append(cell)
                    continue
                self.clear_names_of(cell)
                code = self.graph.cell(cell).code if cell in self.graph else plan.code
                outcome = await self._run_one(cell, code, state, execute, cell == plan.trigger)
                remaining.pop(0)
                report.ran.append(cell)
                report.timings[cell] = state.duration or 0.0
                if outcome.status != "ok":
                    failed.add(cell)
                    report.errors[cell] = outcome.error or outcome.status
                if outcome.status == "interrupted":
                    report.interrupted = True
                    break
        except KeyboardInterrupt:
            report.interrupted = True
        for cell in remaining:
            state = self.state(cell)
            if state.status is Status.QUEUED:
                state.status = Status.SKIPPED
            elif state.status is Status.RUNNING:
                state.status = Status.INTERRUPTED
            state.skipped_because = None
            if cell not in report.ran:
                report.skipped.append(cell)
        return report

    async def _run_one(
        self, cell: CellId, code: str, state: CellState, execute: Executor, trigger: bool
    ) -> Outcome:
        state.status = Status.RUNNING
        state.skipped_because = None
        state.runs += 1
        started = time.perf_counter()
        try:
            outcome = await execute(cell, code, trigger)
        except KeyboardInterrupt:
            outcome = Outcome("interrupted", "KeyboardInterrupt")
        state.duration = time.perf_counter() - started
        if outcome.status == "ok":
            state.status, state.error = Status.OK, None
        elif outcome.status == "interrupted":
            state.status, state.error = Status.INTERRUPTED, outcome.error
        else:
            state.status, state.error = Status.ERROR, outcome.error
        return outcome
