"""Values by definition: what each cell gave each name, and the namespace a cell sees.

A notebook that redefines names (``df = df.dropna()``, ``x`` reused) means
different values at different places.  :class:`ValueStore` keeps, by
reference, the value each definer left each name in its latest run, and puts
in the namespace, before a cell runs, the values the cell would see running
the notebook top to bottom: for each name it reads or defines, and each name
several cells define, the value of the nearest definer above it (for a read
with no definer above, the nearest below).  After a cascade every name holds
its last definer's value.

A kept value is *unavailable* (its definer must run again before a cell can
read it) when its definer never ran, when it was dropped to stay under the
memory budget, or when a later cell changed that very object in place
(``df["b"] = ...`` ran on it): re-running a cell on an object its own last
run already changed would give what no top-to-bottom run gives.

Pure: no IPython, ipykernel, zmq or tornado; the namespace is any mapping.
"""

from __future__ import annotations

import io
import itertools
import sys
import types
from bisect import bisect_left
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TypeGuard, TypeVar

from . import generators
from .analysis import (
    GENERATOR_SEEDS,
    MODULE_SETTERS,
    MUTATING_METHODS,
    NUMPY_DRAWS,
    STDLIB_DRAWS,
)
from .graph import CellId, DependencyGraph


class _Marker:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


#: The holder of a table no cell's run left as it is (see ``Values.tables``).
NO_CELL = CellId("")
#: A name the definer left unbound (``del x``, a failed first assignment).
ABSENT = _Marker("ABSENT")
#: The definer did not run this time (skipped): it left the name as it was.
PASS = _Marker("PASS")

#: Objects changed in place only by rebinding: an ``x += 1`` on one makes a new object
#: (a tuple or frozenset only if what it holds is so too: see :func:`immutable`).
IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), frozenset, tuple, range,
              types.ModuleType)


_T = TypeVar("_T")


def is_a(value: object, kind: type[_T]) -> TypeGuard[_T]:
    """``isinstance`` by ``value``'s type alone: it never asks the object for
    its ``__class__``, which a lazy proxy may answer by raising (werkzeug's
    ``LocalProxy`` outside a request, Django's unconfigured settings)."""
    return issubclass(type(value), kind)


def immutable(value: object) -> bool:
    """Whether nothing can change ``value`` in place: a tuple holding a list can
    change (``t[0].append(3)``).  Past 1,000 items looked at: no."""
    todo, seen = [value], 0
    while todo:
        item = todo.pop()
        kind = type(item)  # (not ``isinstance``: it may ask the object its ``__class__``)
        if not issubclass(kind, IMMUTABLE):
            return False
        if is_a(item, tuple) or is_a(item, frozenset):
            seen += len(item)
            if seen > 1000:
                return False
            todo.extend(item)
    return True


@dataclass
class Record:
    """The value one cell left one name in its latest run."""

    value: object
    stamp: int
    #: A later cell changed this object in place: it is not what the cell left.
    changed: bool = False
    dropped: bool = False
    size: int | None = None
    #: With ``PASS``: the definer failed before binding the name, so it holds
    #: what the cells above left (a run from the top goes on past the error).
    failed: bool = False
    #: A random generator object's state as the cell left it (see
    #: :mod:`.generators`): placing the value sets the object to it.
    state: object = None


@dataclass
class Resolution:
    """Where a cell's view of a name comes from."""

    definer: CellId | None
    value: object = ABSENT
    #: The definer holds no usable value (never ran, dropped, changed in place).
    unavailable: bool = False
    #: A generator object's state as the definer left it.
    state: object = None


def _is_name(name: str) -> bool:
    return name.isidentifier()


def _is_placed(name: str) -> bool:
    """A name whose value placement puts back: a Python name or a global
    generator's state (not a table: a database keeps one version)."""
    return name.isidentifier() or generators.is_generator_name(name)


def estimate_size(value: object) -> int:
    """Bytes a value keeps alive, roughly: pandas' deep memory usage and
    NumPy/Arrow buffers through ``__sizeof__``/``nbytes``, containers one level deep."""
    size = _shallow(value)
    if is_a(value, list) or is_a(value, tuple) or is_a(value, set) or is_a(value, frozenset):
        size += sum(_shallow(v) for v in itertools.islice(value, 10_000))
    elif is_a(value, dict):
        size += sum(_shallow(v) for v in itertools.islice(value.values(), 10_000))
    return size


def _shallow(value: object) -> int:
    try:
        size = sys.getsizeof(value)
        # (An object that cannot say, such as a closed h5py dataset, raises its own error.)
        nbytes = getattr(value, "nbytes", None)
    except Exception:  # a broken __sizeof__ or nbytes must not break a cascade
        return 64
    return nbytes if isinstance(nbytes, int) and nbytes > size else size


@dataclass
class ValueStore:
    """Kept values per (definer, name), the namespace placement, the memory budget.

    Responsibilities: record what a cell left (:meth:`record`), prepare the
    namespace for a cell at its position (:meth:`place`), leave the namespace
    as the last definers left it (:meth:`finalize`), say which kept values
    are unusable (:meth:`resolve`), and drop superseded values past
    ``budget`` bytes, oldest first (:meth:`enforce_budget`).
    """

    namespace: MutableMapping[str, object]
    graph: DependencyGraph
    budget: int = 1 << 30
    records: dict[CellId, dict[str, Record]] = field(default_factory=dict)
    #: Cells whose values are not kept (batch inputs that never re-run): a
    #: name bound to one reads the namespace as it is.
    unkept: set[CellId] = field(default_factory=set)
    #: Per cell, the names its latest run failed before binding (they pass
    #: through); ``failing_version`` changes with it.
    failing: dict[CellId, frozenset[str]] = field(default_factory=dict)
    failing_version: int = 0
    #: Per table (``sql:<table>``): the cell whose run last created, changed or
    #: dropped it (:data:`NO_CELL`: the kernel dropped it as left over).  A
    #: database holds one version of a table, that cell's: the other definers'
    #: versions are not kept (see :meth:`available`).
    tables: dict[str, CellId] = field(default_factory=dict)
    #: Per name no cell above its readers defines: the value something the
    #: analysis cannot see gave it (see :meth:`_outside`).
    outside: dict[str, object] = field(default_factory=dict)
    #: Per cell that binds names the analysis cannot see (``from m import *``,
    #: ``exec``, ``%run -i``), the names its runs rebound that it does not
    #: define visibly, with the values they left: a reader below it, of a name
    #: a cell above it defines, sees that value, as top to bottom (see
    #: :meth:`observe`).
    observed: dict[CellId, dict[str, object]] = field(default_factory=dict)
    #: Generator objects some cell left a name (by id): a cell that changes one's
    #: state draws from it, whether it reads the name or not (``sim.run()`` with
    #: ``sim = Simulator(rng)``).
    generator_objects: dict[int, object] = field(default_factory=dict)
    #: Global generators some name holds a function of (``from numpy.random import
    #: seed, rand``): cells may draw from them though no cell does so visibly.
    generators_used: set[str] = field(default_factory=set)
    _stamps: itertools.count[int] = field(default_factory=itertools.count)
    #: Names :meth:`place` gave the nearest definer above's value for a read the
    #: analysis cannot see -> which of their definers that was (an index into
    #: their positions), while nothing has changed them since.
    _hidden: dict[str, int] = field(default_factory=dict)
    #: Names whose entry in ``_hidden`` went since the last placement; the
    #: position of the last cell placed; every (position, name) of a definer of
    #: a name defined more than once, sorted.
    _hidden_dirty: set[str] = field(default_factory=set)
    _hidden_from: int | None = None
    _hidden_events: list[tuple[int, str]] | None = None
    #: Names :meth:`place` gave a value other than their last definer's (for a
    #: cell above it): a cell below all their definers reading them unseen
    #: needs the last one's put back.
    _displaced: set[str] = field(default_factory=set)

    # -- reading ------------------------------------------------------------

    def resolve(self, cell: CellId, name: str, *, below: bool) -> Resolution | None:
        """What ``cell`` sees for ``name``: the value of the nearest definer above
        (passing over cells that did not run), else with ``below`` the nearest
        definer below; a value a cell between them rebound unseen (see
        :meth:`observe`) replaces it.  None: leave the namespace alone (no
        definer anywhere, or the definer's values are not kept)."""
        found = self._resolve(cell, name, below=below)
        if not self.observed or cell not in self.graph:
            return found
        if found is None:
            if self.graph.definers(name) or self._observer_between(
                    name, float("-inf"), float("inf")) is None:
                return None
            # Bound only unseen (``from math import *``'s ``pow``): what a cell
            # above left, else nothing (a builtin's own), never a cell's below.
            found = Resolution(None)
        high = self.graph.position(cell)
        low = self.graph.position(found.definer) if found.definer is not None \
            else float("-inf")
        if low > high:
            low = float("-inf")  # a definer below: what a cell above left comes first
        seen = self._observed_between(name, low, high)
        if seen is None:
            return found
        return Resolution(found.definer, seen[0])

    def _observed_between(self, name: str, low: float, high: float) -> tuple[object] | None:
        """The value the lowest cell strictly between positions ``low`` and
        ``high`` that rebound ``name`` unseen left it."""
        source = self._observer_between(name, low, high)
        return None if source is None else (self.observed[source][name],)

    def _observer_between(self, name: str, low: float, high: float) -> CellId | None:
        best: tuple[float, CellId] | None = None
        for cell, names in self.observed.items():
            if name not in names or cell not in self.graph:
                continue
            position = self.graph.position(cell)
            if low < position < high and (best is None or position > best[0]):
                best = (position, cell)
        return None if best is None else best[1]

    def unseen_source(self, cell: CellId, name: str) -> CellId | None:
        """The cell whose unseen binding of ``name`` ``cell`` sees, if any."""
        graph = self.graph
        high = graph.position(cell)
        definer = graph.binding(cell, name)
        low = graph.position(definer) if definer is not None else float("-inf")
        return self._observer_between(name, low if low < high else float("-inf"), high)

    def unseen_sources(self) -> dict[tuple[CellId, str], CellId]:
        """Per reader and name, the cell whose unseen binding it sees (see
        :meth:`observe`): a deletion or a move that changes one changes what
        the reader sees."""
        graph = self.graph
        found: dict[tuple[CellId, str], CellId] = {}
        for name in {n for names in self.observed.values() for n in names}:
            for reader in graph.readers(name):
                source = self.unseen_source(reader, name)
                if source is not None:
                    found[(reader, name)] = source
        return found

    def observe(self, cell: CellId, rebound: Mapping[str, object],
                before: Mapping[str, object]) -> None:
        """``cell`` ran code that binds names the analysis cannot see, and its
        run rebound ``rebound`` (names it does not define visibly; what it
        rebound before went before it ran: see :meth:`unobserve`).  ``before``:
        the namespace before it ran: a value it displaced that no cell made
        (``pi`` of a startup file, under ``from math import *``) is what the
        cells above it see (see :meth:`_outside`)."""
        for name, value in rebound.items():
            self._note_generator_function(value)
            prior = before.get(name, ABSENT)
            if prior is not ABSENT and name not in self.outside and not any(
                    record.value is prior for records in self.records.values()
                    if (record := records.get(name)) is not None) and not any(
                    names.get(name, ABSENT) is prior for names in self.observed.values()):
                self.outside[name] = prior
        if rebound:
            self.observed[cell] = dict(rebound)
        else:
            self.observed.pop(cell, None)

    def unobserve(self, cell: CellId) -> dict[str, object]:
        """``cell`` is about to run code other than the code whose run rebound
        names unseen (see :meth:`observe`), or code binding nothing unseen: those
        names it left go from the namespace (or hold what the cell sees above
        it), as a run from the top never made them.  Returns what it had rebound."""
        names = self.observed.pop(cell, None)
        if not names:
            return {}
        for name, value in names.items():
            if self.outside.get(name, ABSENT) is value:
                del self.outside[name]
            if not _is_placed(name) or self.namespace.get(name, ABSENT) is not value:
                continue
            found = self.resolve(cell, name, below=False)
            if found is not None:
                self._put(name, found.value)
            elif not self.graph.definers(name):
                self.namespace.pop(name, None)
        return names

    def _resolve(self, cell: CellId, name: str, *, below: bool) -> Resolution | None:
        graph = self.graph
        definer = graph.binding(cell, name) if below else graph.definer_above(cell, name)
        if definer is None:
            # Only cells below (or this one) define it: unbound here, unless one
            # of them keeps no values (its value could not be put back after).
            others = graph.definers(name)
            if not others or any(d in self.unkept for d in others):
                return None
            return Resolution(None)
        while definer is not None and definer != cell:
            if definer in self.unkept:
                return None
            record = self.records.get(definer, {}).get(name)
            if record is None:
                return Resolution(definer, unavailable=True)
            if record.value is not PASS:
                unusable = record.dropped or record.changed
                return Resolution(definer, ABSENT if record.dropped else record.value, unusable,
                                  record.state)
            definer = graph.definer_above(definer, name)
        return Resolution(None)

    def available(self, definer: CellId, name: str, changed_ok: bool = False) -> bool:
        """Whether ``definer``'s value of ``name`` can be read as it is (``changed_ok``:
        also if a cell below changed it in place since)."""
        if definer in self.unkept:
            return True
        if not _is_name(name):
            holder = self.tables.get(name)
            return holder is None or holder == definer
        record = self.records.get(definer, {}).get(name)
        if record is None:
            return False
        return not (record.dropped or (record.changed and not changed_ok)
                    or record.value is PASS)

    def through_failed(self, definer: CellId | None, name: str,
                       failing: bool = False) -> CellId | None:
        """``definer``, or if it failed before binding ``name``, the nearest
        definer above it that did not: where its value of ``name`` comes from.
        If every one of them failed, None, or with ``failing`` the topmost of
        them (the name is unbound because of it)."""
        last = None
        while definer is not None:
            record = self.records.get(definer, {}).get(name)
            if record is None or record.value is not PASS or not record.failed:
                return definer
            last = definer
            definer = self.graph.definer_above(definer, name)
        return last if failing else None

    # -- the namespace around one cell ----------------------------------------

    def place(self, cell: CellId, unbound: Iterable[str] = ()) -> set[str]:
        """Put in the namespace what ``cell`` sees at its position: the names it
        reads (through the functions it calls too) or defines.  ``unbound``
        reads take no value from a cell below (a cycle's cut reads).

        Names it reads where the analysis cannot see (``eval("x + 1")``,
        a function called through a container) see the nearest definer above
        too, for every name that cells both above and below it define: never a
        value from below, which a top-to-bottom run could not give.  Returns
        those names (the namespace changed for them)."""
        node = self.graph.cell(cell)
        hidden = self._place_hidden(cell, node.refs | node.defs | node.weak)
        # Weak reads (a builtin a cell above may shadow) take a value from above only.
        names = dict.fromkeys(node.weak, False)
        names.update(dict.fromkeys(node.defs, False))
        cut = set(unbound)
        names.update(dict.fromkeys(node.refs - node.weak - cut, True))
        names.update(dict.fromkeys(node.refs & cut, False))
        for name, reads in names.items():
            self._unplace(name)
            if not _is_placed(name) or (reads and name in node.detached):
                continue
            found = self.resolve(cell, name, below=reads)
            if found is None:
                continue
            value = found.value
            if found.definer is None and value is ABSENT:
                value = self._outside(name)
            self._put(name, value)
            if found.state is not None:
                generators.set_object_state(value, found.state)
            if _is_name(name):
                spots = self.graph.definer_positions(name)
                if len(spots) > 1 and (found.definer is None
                                       or self.graph.position(found.definer) != spots[-1]):
                    self._displaced.add(name)
                else:
                    self._displaced.discard(name)
        return hidden

    def _outside(self, name: str) -> object:
        """What a name no cell above defines holds for a cell: what something the
        analysis cannot see made it (``from m import *``, ``exec``, ``%run -i``),
        as first seen, or nothing (a value a cell made, this one's last run or a
        cell below, is not there top to bottom)."""
        current = self.namespace.get(name, ABSENT)
        if current is not ABSENT and not any(
                record.value is current
                for records in self.records.values()
                if (record := records.get(name)) is not None) and not any(
                names.get(name, ABSENT) is current for names in self.observed.values()):
            self.outside[name] = current
        return self.outside.get(name, ABSENT)

    def _unplace(self, name: str) -> None:
        if self._hidden.pop(name, None) is not None:
            self._hidden_dirty.add(name)

    def _place_hidden(self, cell: CellId, known: AbstractSet[str]) -> set[str]:
        graph = self.graph
        position = graph.position(cell)
        last, self._hidden_from = self._hidden_from, position
        names: Iterable[str]
        if last is None or position < last:
            names = graph.multiply_defined()  # the first cell placed, or one above the last
        else:
            # Going down the notebook, a name's definer above changes only past one
            # of its definers, and its value only when something changed it.
            if self._hidden_events is None:
                self._hidden_events = sorted(
                    (spot, name) for name in graph.multiply_defined()
                    for spot in graph.definer_positions(name))
            events = self._hidden_events
            start = bisect_left(events, (last + 1, ""))
            stop = bisect_left(events, (position, ""))
            names = {name for _spot, name in events[start:stop]} | self._hidden_dirty
        if self._displaced:
            names = set(names) | self._displaced
        self._hidden_dirty = set()
        placed: set[str] = set()
        done = self._hidden
        for name in names:
            if name in known:
                continue
            spots = graph.definer_positions(name)
            i = bisect_left(spots, position)
            # Only where cells above and below define it, or below all of them
            # once a cell above was given another definer's value: a name no
            # cell above defines stays (the row "a read with no definer above").
            displaced = name in self._displaced
            if i == 0 or (i == len(spots) and not displaced) or done.get(name) == i \
                    or not _is_name(name):
                continue
            done[name] = i  # placed for a cell below the same definers: still right
            self._displaced.discard(name)
            found = self.resolve(cell, name, below=False)
            if found is None or found.definer is None or found.value is ABSENT:
                continue
            self._put(name, found.value)
            placed.add(name)
        return placed

    def record(self, cell: CellId, changed_in_place: Iterable[str] = (),
               unbound: Iterable[str] = ()) -> None:
        """Keep what ``cell`` left its names after running.  A name it may have
        changed in place (and read) marks the object it was given as changed,
        unless that object cannot change (``x += 1`` on a number).  ``unbound``
        names the cell failed before binding: they pass through."""
        node = self.graph.cell(cell)
        stamp = next(self._stamps)
        kept = self.records[cell] = {}
        for name in node.defs:
            self._unplace(name)
        unbound = set(unbound)
        for name in node.defs:
            if generators.is_generator_name(name):
                kept[name] = Record(generators.snapshot(name), stamp)
            elif not _is_name(name):
                self.tables[name] = cell
            elif name in unbound:
                kept[name] = Record(PASS, stamp, failed=True)
            else:
                value = self.namespace.get(name, ABSENT)
                if generators.is_generator_object(value):
                    kept[name] = Record(value, stamp, state=generators.object_state(value))
                    self._keep_generator(value)
                else:
                    kept[name] = Record(value, stamp)
                    self._note_generator_function(value)
        for name in changed_in_place:
            if name not in node.refs or name not in kept or not _is_name(name):
                continue
            given = self.through_failed(self.graph.binding(cell, name), name)
            if given is None or given == cell:
                continue
            # The object it was given may have been changed, even if the cell
            # rebound the name afterwards (``lst += [1]; lst = [2]``).
            record = self.records.get(given, {}).get(name)
            if record is not None and not immutable(record.value) \
                    and record.value is not ABSENT and record.value is not PASS:
                record.changed = True
                self._changed_above(cell, record.value)
        self._note_failing(cell)

    def _changed_above(self, cell: CellId, value: object) -> None:
        """``cell`` changed ``value`` in place: every cell above it that kept the
        very object, under any name (``a = [1]`` above ``b = a``, ``a = [0]``
        and ``b.append(9)``), kept what is no more."""
        graph = self.graph
        position = graph.position(cell)
        for other, kept in self.records.items():
            if other == cell or other not in graph or graph.position(other) >= position:
                continue
            for record in kept.values():
                if record.value is value:
                    record.changed = True

    def _note_generator_function(self, value: object) -> None:
        if callable(value) and not issubclass(type(value), type):
            generator = generators.of_function(value)
            if generator is not None:
                self.generators_used.add(generator)

    def _keep_generator(self, value: object) -> None:
        objects = self.generator_objects
        objects[id(value)] = value
        if len(objects) > 8:
            # Only the ones some cell's value still is (a re-run made new ones).
            held = {id(r.value) for records in self.records.values() for r in records.values()
                    if r.state is not None}
            for key in [k for k in objects if k not in held]:
                del objects[key]

    def restate(self, cell: CellId) -> None:
        """``cell`` is left as it is in a cascade (its inputs did not change):
        the names it binds or deletes hold again what it left them, as if it
        had run (a definer above it that ran may have rebound them; cells below
        see them through ``globals()`` and the like too)."""
        for name, record in self.records.get(cell, {}).items():
            if record.value is PASS or record.dropped:
                continue
            self._unplace(name)
            self._put(name, record.value)
            if record.state is not None:
                generators.set_object_state(record.value, record.state)

    def passed(self, cell: CellId) -> None:
        """``cell`` did not run: it leaves its names as the cells above left them."""
        stamp = next(self._stamps)
        node = self.graph.cell(cell)
        self.records[cell] = {n: Record(PASS, stamp) for n in node.defs if _is_placed(n)}
        self._note_failing(cell)

    def forget(self, cell: CellId, names: Iterable[str] | None = None) -> None:
        if names is None:
            self.observed.pop(cell, None)
        kept = self.records.get(cell)
        if kept is None:
            return
        if names is None:
            del self.records[cell]
        else:
            for name in names:
                kept.pop(name, None)
        self._note_failing(cell)

    def _note_failing(self, cell: CellId) -> None:
        kept = self.records.get(cell, {})
        names = frozenset(n for n, r in kept.items() if r.value is PASS and r.failed)
        if names != self.failing.get(cell, frozenset()):
            self.failing_version += 1
            if names:
                self.failing[cell] = names
            else:
                self.failing.pop(cell, None)

    def finalize(self, names: Iterable[str]) -> None:
        """Leave each name as its last definer in notebook order left it."""
        self._hidden.clear()
        self._hidden_dirty.clear()
        self._displaced.clear()
        self._hidden_from = None
        self._hidden_events = None
        for name in set(names):
            if _is_placed(name):
                found = self._final(name)
                if found is not None:
                    self._put(name, found[0])
                    if found[1] is not None:
                        generators.set_object_state(found[0], found[1])

    def release(self, names: Iterable[str]) -> None:
        """Names some cell stopped defining: gone if no cell defines them any
        more, else what their last definer left."""
        for name in set(names):
            if not self.graph.definers(name) and (not self.observed or self._observer_between(
                    name, float("-inf"), float("inf")) is None):
                self.namespace.pop(name, None)
        self.finalize(names)

    def _final(self, name: str) -> tuple[object, object] | None:
        """The last definer's value of ``name`` (and a generator object's state
        it left), or what a cell below it rebound unseen (None: leave the
        namespace alone)."""
        definers = self.graph.definers(name)
        if not definers:
            # (Bound only unseen, by a star import, ``exec``, ``%run``: the last one's.)
            seen = self._observed_between(name, float("-inf"), float("inf")) \
                if self.observed else None
            return None if seen is None else (seen[0], None)
        for definer in reversed(definers):
            if definer in self.unkept:
                return None
            record = self.records.get(definer, {}).get(name)
            if record is None or record.value is PASS or record.dropped:
                continue
            if self.observed:
                seen = self._observed_between(name, self.graph.position(definer),
                                              float("inf"))
                if seen is not None:
                    return (seen[0], None)
            return (record.value, record.state)
        if self.observed:
            seen = self._observed_between(name, float("-inf"), float("inf"))
            if seen is not None:
                return (seen[0], None)
        return (ABSENT, None)

    def _put(self, name: str, value: object) -> None:
        if generators.is_generator_name(name):
            if value is not ABSENT and value is not PASS:
                generators.restore(name, value)
            return
        if value is ABSENT or value is PASS:
            self.namespace.pop(name, None)
        elif self.namespace.get(name, ABSENT) is not value:
            self.namespace[name] = value

    # -- memory ----------------------------------------------------------------

    def superseded_bytes(self) -> int:
        """Bytes of kept values that the namespace no longer holds."""
        return sum(size for _r, size in self._superseded())

    def enforce_budget(self) -> list[tuple[CellId, str]]:
        """Drop superseded values, oldest first, until they fit the budget;
        returns what was dropped."""
        superseded = self._superseded()
        total = sum(size for _r, size in superseded)
        dropped: list[tuple[CellId, str]] = []
        if total <= self.budget:
            return dropped
        superseded.sort(key=lambda item: item[0][2].stamp)
        for (cell, name, record), size in superseded:
            if total <= self.budget:
                break
            record.value, record.dropped = ABSENT, True
            total -= size
            dropped.append((cell, name))
        return dropped

    def _superseded(self) -> list[tuple[tuple[CellId, str, Record], int]]:
        """Kept values of names several cells define that are not the value the
        name ends with (an object shared with another name counts, once)."""
        found: list[tuple[tuple[CellId, str, Record], int]] = []
        counted: set[int] = set()
        for name in self.graph.multiply_defined():
            final = self._final(name)
            current = id(final[0]) if final is not None else None
            for definer in self.graph.definers(name):
                record = self.records.get(definer, {}).get(name)
                if (record is None or record.dropped or record.value is ABSENT
                        or record.value is PASS):
                    continue
                key = id(record.value)
                if key == current or key in counted:
                    continue
                counted.add(key)
                if record.size is None:
                    record.size = estimate_size(record.value)
                found.append(((definer, name, record), record.size))
        return found


# -- what a method call does to its object ---------------------------------------


def method_changes(namespace: Mapping[str, object], name: str, path: tuple[str, ...],
                   method: str) -> bool:
    """Whether calling ``method`` on ``name.path`` changes that object, by what it
    is now; unknown (not defined yet, reached through an object's attribute): yes."""
    value = namespace.get(name, _UNKNOWN)
    if method in MODULE_SETTERS and method not in MUTATING_METHODS:
        # A module's setter (``np.random.seed``, ``pd.set_option``); on anything
        # else (``ax.set(...)``, ``rs.seed(1)``) a read, as other methods are.
        if value is _UNKNOWN:
            return True  # not defined yet (imported in the same cell)
        for attribute in path:
            if attribute == "[]" or not issubclass(type(value), types.ModuleType):
                return False
            value = getattr(value, attribute, _UNKNOWN)
        # A module without that attribute (``pd.np.random.seed(0)`` on pandas 2+):
        # the call fails, changing nothing.
        return issubclass(type(value), types.ModuleType)
    if path and _is_pandas(value):
        # A column or attribute of a frame (df["a"].add(1), df.columns.append(i)):
        # arithmetic, concatenation and an Index's insert give new objects.
        return method not in ("add", "subtract", "append", "insert")
    if method in _ONLY_OF and value is not _UNKNOWN and not path:
        # ``d.rotate(1)`` of a deque, not ``img.rotate(90)`` (a new image).
        return is_a(value, _ONLY_OF[method])
    for attribute in path:
        if attribute == "[]" or not issubclass(type(value), types.ModuleType):
            return True  # an object's attribute may be a property: not looked up
        value = getattr(value, attribute, _UNKNOWN)
    if value is _UNKNOWN:
        return True
    if issubclass(type(value), IMMUTABLE):
        return False  # a module's function (np.sort, os.remove), or immutable
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    if _is_pandas(value):
        if kind.__name__.endswith("Index"):
            return False  # an Index never changes: append and insert return new ones
        return method not in ("add", "subtract", "append")  # arithmetic, concatenation: new
    if module.startswith(("statsmodels", "scipy")) and method == "fit":
        return False  # returns the results (or parameters); the model stays as it was
    return True


_UNKNOWN = object()
#: Mutating methods whose names other objects use for methods returning new ones.
_ONLY_OF: dict[str, type] = {"rotate": deque, "subtract": Counter, "move_to_end": OrderedDict}


def generator_called(namespace: Mapping[str, object], name: str, path: tuple[str, ...],
                     function: str) -> str | None:
    """The global generator (its pseudo-name) that calling ``function`` on
    ``name.path`` draws from or seeds: the object is ``numpy.random`` or
    ``random`` (through any name: ``npr.rand``, ``np.random.rand``); not known
    yet (imported in the same cell), judged by the spelling.  ``name`` itself
    when it is a generator object (``rng.normal()``)."""
    value = namespace.get(name, _UNKNOWN)
    if not path and generators.is_generator_object(value):
        return name if function in NUMPY_DRAWS | STDLIB_DRAWS | GENERATOR_SEEDS else None
    for attribute in path:
        if value is _UNKNOWN or not issubclass(type(value), types.ModuleType):
            break
        value = getattr(value, attribute, _UNKNOWN)
    else:
        if value is not _UNKNOWN:
            generator = generators.of_module(value)
            if generator == generators.NUMPY and function in NUMPY_DRAWS | GENERATOR_SEEDS:
                return generator
            if generator == generators.STDLIB and function in STDLIB_DRAWS | GENERATOR_SEEDS:
                return generator
            return None
    if name in namespace:
        return None
    if (name, path) in (("np", ("random",)), ("numpy", ("random",))) \
            and function in NUMPY_DRAWS | GENERATOR_SEEDS:
        return generators.NUMPY
    if (name, path) == ("random", ()) and function in STDLIB_DRAWS | GENERATOR_SEEDS:
        return generators.STDLIB
    return None


def _is_pandas(value: object) -> bool:
    return (getattr(type(value), "__module__", "") or "").startswith("pandas")


def _collection(kind: type) -> bool:
    """A ``collections`` subclass of a builtin container (``defaultdict``,
    ``OrderedDict``, ``Counter``), or a ``namedtuple``: its items are its own."""
    return kind.__module__ == "collections" or (
        issubclass(kind, tuple) and isinstance(getattr(kind, "_fields", None), tuple))


#: Modules whose iterator types only iterate (not a file or a database cursor,
#: which other calls use too): see :func:`consumed_by_reading`.
_ITERATOR_MODULES = frozenset({"builtins", "itertools", "_csv", "csv", "collections", "__main__"})


def consumed_by_reading(value: object) -> bool:
    """A generator, an iterator of the builtins (``iter(t)``, ``zip``, ``map``,
    ``enumerate``), ``itertools``, ``csv`` or the notebook's own classes, or a
    file open for reading only (``open(p)``, ``gzip.open(p)``): reading it
    consumes it."""
    if issubclass(type(value), types.GeneratorType):
        return True
    if is_a(value, io.IOBase):
        try:
            return not value.closed and value.readable() and not value.writable()
        except Exception:  # a file object answering its own way
            return False
    kind = type(value)
    return issubclass(kind, Iterator) and getattr(kind, "__module__", None) in _ITERATOR_MODULES


#: Items of a list, tuple or dict looked at for a widget (every widget change scans the
#: kept values: a million-item list must not cost a drag its smoothness).
HOLDS_SCAN = 1000


def holds(kept: object, accepts: Callable[[object], bool]) -> bool:
    """``accepts`` takes ``kept``, one of the first :data:`HOLDS_SCAN` items of a
    list, tuple, dict or deque (or of the ``collections`` kinds of them: a
    ``defaultdict``, an ``OrderedDict``, a ``namedtuple``), or an attribute of an
    instance of a class the notebook defined (``app.slider``)."""
    if accepts(kept):
        return True
    kind = type(kept)
    if (is_a(kept, list) or is_a(kept, tuple) or is_a(kept, deque)) and (
            kind in (list, tuple, deque) or _collection(kind)):
        return any(accepts(item) for item in itertools.islice(kept, HOLDS_SCAN))
    if is_a(kept, dict) and (kind is dict or _collection(kind)):
        return any(accepts(item) for item in itertools.islice(dict.values(kept), HOLDS_SCAN))
    if getattr(kind, "__module__", None) == "__main__" and not issubclass(kind, type):
        try:
            attributes = getattr(kept, "__dict__", None)
        except Exception:  # an object answering attribute lookups its own way
            return False
        if isinstance(attributes, dict):
            return any(accepts(item) for item in attributes.values())
    return False
