"""What a cell's run changed that its code does not show.

The analysis lists what a cell's code binds and changes; a run may change
more: a global generator a library call drew from (``df.sample(3)``), the
data of a value a library method wrote into (``pmf.normalize()``), a view of
the value it was given (``data = data.T``), another name for an object it
changed in place (``b = a`` above ``b[0] = 9``), a module's globals it set.
A :class:`RunFindings` takes what it needs before the run and, after it,
hands each finding to the :class:`~reactive_kernel.runner.Runner`, which
registers it; the readers that now bind to the cell are the cascade's to run.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .analysis import is_private
from .generators import GLOBAL_GENERATORS, object_state, of_function, same_state, snapshot
from .graph import CellId
from .values import ABSENT, is_a
from .views import Contents, Watch

if TYPE_CHECKING:
    from .runner import Runner


class RunFindings:
    """One run of a placed cell: taken before it runs, read after."""

    def __init__(self, runner: Runner, cell: CellId, code: str,
                 given: Mapping[str, object],
                 unseen: Mapping[str, object] | None) -> None:
        """``given``: the values of the names it binds, before the run;
        ``unseen``: the whole namespace before the run, if the cell may bind
        names its code does not show (see :meth:`Runner.binds_unseen`)."""
        self.runner, self.cell, self.code = runner, cell, code
        self.given, self.unseen = given, unseen
        namespace = runner.values.namespace
        # A generator some cell draws from visibly: a cell may draw from it unseen.
        used = runner.values.generators_used
        self.states = {g: snapshot(g) for g in GLOBAL_GENERATORS
                       if g in used or runner.graph.definers(g)}
        self.objects = dict(runner.values.generator_objects)
        self.object_states = {key: object_state(value) for key, value in self.objects.items()}
        # The arrays of what it changes in place: memory written through a view
        # changes the names viewing it too (``v = a[:2]`` above ``v[0] = 5``).
        # (Not the other names found for them: a large array viewed by the
        # cell's small one would stop the watch.)
        changing = runner.own_changes(cell)
        self.watch = Watch.before(namespace.get(n) for n in changing) if changing else None
        # The data of what it reads: a library's method may change it unseen.
        candidates = self.candidates = runner.unseen_candidates(cell)
        self.contents = Contents.before(
            (n, namespace[n]) for n in candidates if n in namespace
        ) if "numpy" in sys.modules else None
        # The state the notebook's own functions it reads keep (a counter in a
        # closure, a mutable default argument): a call changes it unseen.
        # (Also one it reads and then binds anew: ``res = addto(0)`` above a new
        # ``def addto``, which changed the one above it before it went.)
        node = runner.graph.cell(cell)
        self.rebinds = node.refs & node.declared_defs
        self.functions = {
            n: (value, state) for n in candidates | self.rebinds
            if is_a(value := namespace.get(n), types.FunctionType)
            and value.__globals__ is namespace and (state := function_state(value)) is not None}

    def after(self, ok: bool) -> tuple[frozenset[CellId], frozenset[CellId]]:
        """After the run (``ok``: without an error): the cells whose reads now
        bind to it, and the cells that must re-run whatever their parents did
        (the readers of a module whose globals it started or stopped setting)."""
        runner, cell, code = self.runner, self.cell, self.code
        namespace = runner.values.namespace
        readers: set[CellId] = set()
        drawn = frozenset(g for g, s in self.states.items()
                          if s is not None and not same_state(s, snapshot(g)))
        objects = self.objects
        moved = {key for key, s in self.object_states.items()
                 if s is not None and not same_state(s, object_state(objects[key]))}
        if moved:
            # The names holding a generator whose state it changed.
            drawn |= {n for n, v in namespace.items()
                      if id(v) in moved and v is objects[id(v)] and not is_private(n)}
        # A generator no cell was seen using until this one bound its functions
        # (``from numpy.random import seed, rand; seed(0)``): it may have seeded
        # or drawn; the state it left is the one below it.
        untracked = GLOBAL_GENERATORS - self.states.keys()
        if untracked and cell in runner.graph:
            unseen = self.unseen
            made = [namespace.get(n) for n in runner.graph.cell(cell).defs] if unseen is None \
                else [v for n, v in namespace.items() if unseen.get(n, ABSENT) is not v]
            drawn |= {g for v in made if callable(v) and (g := of_function(v)) in untracked}
        hidden = runner.hidden_draws(cell)
        if hidden and ok:
            runner.drew_not(cell, {g for g in hidden - drawn
                                   if g in self.states or id(namespace.get(g)) in objects})
        if drawn:
            readers |= runner.drew(cell, code, drawn)
        if ok:
            changed = self.contents.changed(namespace) if self.contents is not None \
                else frozenset()
            # (Also a function the cell then rebinds, ``res = addto(0)`` above a new
            # ``def addto``: the one above it was changed before it went.)
            changed |= {n for n, (value, state) in self.functions.items()
                        if _differs(function_state(value), state)}
            changed |= self._own_calls_now(runner, code)
            readers |= runner.changed_unseen(cell, code, changed)
            if self.given:
                readers |= runner.viewed(cell, code, self.given)
        if runner.changes(cell) and (ok or cell in runner.graph):
            # (Failing too: what it changed before the error is changed.)
            written = self.watch.written() if self.watch is not None else []
            readers |= runner.aliased(cell, code, written, self.given)
        # (A cell that starts or stops setting a module's globals: the readers
        # below it see another state of the module.)
        forced = runner.set_modules(cell, code) if cell in runner.graph else frozenset()
        return frozenset(readers), forced

    def _own_calls_now(self, runner: Runner, code: str) -> frozenset[str]:
        """The names it reads that its calls of the notebook's own functions
        change in place, judged by the functions as its run left them: one it
        defines itself before the call (``def grow(v, x): ...`` then ``grow2(lst,
        0)``, ``grow2`` giving ``v`` on to ``grow``) was not there to look at when
        it was registered."""
        try:
            analysis = runner.analyse(code)
        except SyntaxError:
            return frozenset()
        if not (analysis.attribute_calls or analysis.passed):
            return frozenset()
        # (Also one it reads and then binds anew: ``grow2(lst, 0)`` above ``lst =
        # lst + [9]`` changed the list above before it went.)
        return runner.own_calls.changed(analysis.attribute_calls, analysis.passed) \
            & (self.candidates | self.rebinds)


#: Items past which a function's state is taken by identity alone.
_STATE_ITEMS = 1000


def function_state(function: types.FunctionType) -> tuple[object, ...] | None:
    """What a call of ``function`` may change and a run from the top makes anew
    with it: the objects its closure holds (a ``nonlocal`` counter rebinds one)
    and copies of its mutable default arguments and closure containers (``acc=[]``
    appended to); None if it keeps no such state."""
    parts: list[object] = []
    for cell in function.__closure__ or ():
        try:
            parts.append(_snapshot(cell.cell_contents))
        except ValueError:  # an empty cell (a name bound later)
            parts.append(None)
    for value in (*(function.__defaults__ or ()), *(function.__kwdefaults__ or {}).values()):
        if is_a(value, list) or is_a(value, dict) or is_a(value, set):
            parts.append(_snapshot(value))
    return tuple(parts) if parts else None


def _snapshot(value: object) -> object:
    """``value``'s identity, and for a small list, dict or set a shallow copy."""
    if (is_a(value, list) or is_a(value, dict) or is_a(value, set)) \
            and len(value) <= _STATE_ITEMS:
        return (id(value), value.copy())
    return (id(value),)


def _differs(now: object, before: object) -> bool:
    try:
        return bool(now != before)
    except Exception:  # items that cannot say (arrays): taken as the same
        return False
