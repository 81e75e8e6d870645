"""What a cell reads and writes through the functions it calls.

``def f(): return a`` reads ``a`` when ``f`` runs, not when its cell runs.  A
cell that loads ``f`` (``print(f())``) therefore also reads ``a``, at its own
place in the notebook: top to bottom, the ``a`` it sees is the nearest
definition above *it*.  Likewise ``def load(): global model; model = ...``
makes a cell calling ``load()`` a (possible) definer of ``model``, and
``def register(fn): registry[fn.__name__] = fn`` makes a cell calling
``register`` (``@register`` included) a cell that changes ``registry`` in place.

:class:`CallTimeReads` gives each cell its effective names: its own reads and
definitions, plus the globals the functions it may call read and write, found
through the cells defining any name it reads, transitively (``f`` calling
``g`` reading ``b``).  It over-approximates: every definer of a name above
the cell (and the cell itself) counts, not only the nearest; those below count
only when none is above, as the read then binds below (``xs = jitter(...)``
further down does not make a cell reading the ``xs`` of a cell above call
``jitter``).  A name written only through a call is a *weak* read as well:
the call may not write it, leaving the value from above.  A builtin name
(``eval``) is a weak read too: a cell defining it shadows the builtin for the
cells below only; above it, the builtin is what top to bottom reads.

Pure: the graph is asked only for the definers of a name a cell may see
(:meth:`.graph.DependencyGraph.definers_seen`); the runner refreshes the cells
when positions change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from .analysis import BUILTIN_NAMES, CallEffects, CellAnalysis
from .graph import CellId


@dataclass(frozen=True)
class Names:
    """A cell's effective definitions and reads (``weak`` ⊆ ``refs``), and the
    names it changes in place through the functions it calls."""

    defs: frozenset[str]
    refs: frozenset[str]
    weak: frozenset[str]
    inplace: frozenset[str] = frozenset()
    #: Weak refs neither the cell nor a function it calls loads (see
    #: ``CellAnalysis.pass_only``).
    pass_only: frozenset[str] = frozenset()
    #: Refs read only by functions of other cells it may call.
    called: frozenset[str] = frozenset()


class CallTimeReads:
    """Effective names per cell, and which cells to refresh when the
    functions a cell defines change."""

    def __init__(self, definers: Callable[[CellId, str], list[CellId]],
                 mutable: Callable[[str], bool] = lambda name: True) -> None:
        self._definers = definers
        #: Whether a name's object may change in place (not a number or a
        #: string: ``pmf *= likelihood`` on one rebinds the parameter only).
        self._mutable = mutable
        self._own: dict[CellId, CellAnalysis] = {}
        self._calls: dict[CellId, Mapping[str, CallEffects]] = {}
        #: Name -> cells whose effective reads went through it.
        self._readers: dict[str, set[CellId]] = {}
        self._through: dict[CellId, frozenset[str]] = {}

    def update(self, cell: CellId, analysis: CellAnalysis) -> tuple[Names, set[str]]:
        """Record a cell's own analysis; returns its effective names and the
        function names whose call effects changed (their readers need a
        :meth:`refresh`)."""
        old = self._calls.get(cell, {})
        new = {effects.name: effects for effects in analysis.calls}
        for name, maker in sorted(analysis.aliases):
            # Calling what ``name`` holds may call ``maker``'s functions: their
            # effects are ``name``'s too (``maker`` itself is not read again).
            effects = new.get(name) or CallEffects(name)
            new[name] = replace(effects, via=effects.via | {maker})
        self._own[cell] = analysis
        self._calls[cell] = new
        changed = {n for n in old.keys() | new.keys() if old.get(n) != new.get(n)}
        return self.names(cell), changed

    def restore(self, cell: CellId, analysis: CellAnalysis | None) -> None:
        """Undo :meth:`update` (the graph refused the cell)."""
        if analysis is None:
            self.forget(cell)
        else:
            self.update(cell, analysis)

    def analysis(self, cell: CellId) -> CellAnalysis | None:
        return self._own.get(cell)

    def names(self, cell: CellId) -> Names:
        own = self._own[cell]
        defs = set(own.defs)
        written: set[str] = set()
        changed: set[str] = set()
        strong = set(own.refs - own.weak)
        weak = set(own.weak) | own.builtins
        seen = set(own.refs) | own.builtins
        called: set[str] = set()
        frontier = list(seen)
        while frontier:
            name = frontier.pop()
            for definer in self._definers(cell, name):
                effects = self._calls.get(definer, {}).get(name)
                if effects is None:
                    continue
                called |= effects.reads
                for read in effects.reads:
                    # The cell may bind it itself before calling: then it never
                    # needs a definer below.
                    (weak if read in own.defs or read in BUILTIN_NAMES else strong).add(read)
                    if read not in seen:
                        seen.add(read)
                        frontier.append(read)
                for maker in effects.via:
                    if maker not in seen:
                        seen.add(maker)
                        frontier.append(maker)
                for write in effects.writes:
                    defs.add(write)
                    written.add(write)
                for change in effects.changes:
                    defs.add(change)
                    written.add(change)
                    changed.add(change)
        for function, key, name in own.passed:
            # ``clean(df)`` with ``def clean(d): d['x'] = 1`` in another cell.
            for definer in self._definers(cell, function):
                effects = self._calls.get(definer, {}).get(function)
                if effects is not None and any(
                        key in (position, param) and (certain or self._mutable(name))
                        for position, param, certain in effects.changes_params):
                    defs.add(name)
                    changed.add(name)
                    seen.add(function)
        self._index(cell, frozenset(seen))
        # A name a call may write (before the cell reads it, or not at all)
        # never needs a definer below the cell.
        strong -= written
        weak |= written
        weak -= strong
        return Names(frozenset(defs), frozenset(strong | weak), frozenset(weak),
                     frozenset(changed), own.pass_only - called,
                     frozenset(called - own.refs - own.builtins))

    def _index(self, cell: CellId, through: frozenset[str]) -> None:
        for name in self._through.get(cell, frozenset()) - through:
            readers = self._readers.get(name)
            if readers is not None:
                readers.discard(cell)
                if not readers:
                    del self._readers[name]
        for name in through:
            self._readers.setdefault(name, set()).add(cell)
        self._through[cell] = through

    def forget(self, cell: CellId) -> set[str]:
        """Drop a cell; returns the function names whose effects went with it."""
        self._index(cell, frozenset())
        self._through.pop(cell, None)
        self._own.pop(cell, None)
        return set(self._calls.pop(cell, {}))

    def called_names(self) -> set[str]:
        """The names some cell's functions give call effects to (see :meth:`names`)."""
        return {name for calls in self._calls.values() for name in calls}

    def readers(self, names: Iterable[str]) -> set[CellId]:
        """Cells whose effective names went through one of ``names``."""
        found: set[CellId] = set()
        for name in names:
            found |= self._readers.get(name, set())
        return found
