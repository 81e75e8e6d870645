"""A pure dependency graph of cells in notebook order.

Every cell has a *position* (its place in the notebook).  A cell defines names
and reads names; any number of cells may define the same name.  A read of
``x`` in cell C *binds* to C's reaching definition: the nearest cell above C
that defines ``x``; only if no cell above does, the nearest one below
(notebooks saved out of order).  An edge ``d -> r`` labelled ``x`` means r's
read of ``x`` binds to d.

Edges are not stored: they are computed from two sorted position indexes per
name (its definers, its readers).  A binding is one bisection; the readers a
definer feeds lie between it and the next definer of the name.  So updating a
cell costs O(log n) per name plus the readers it re-binds, and the graph holds
no copy of a fact it can compute.

Invariants:

- Positions are unique integers.  :meth:`DependencyGraph.set_order` sets them
  from the notebook order a client gives (ids it does not know yet keep their
  place for when they arrive); otherwise a new cell goes after every known cell.
- Edges go downward, except bindings to a definer below.  A cycle needs such an
  upward binding.  When :meth:`DependencyGraph.set_cell` would close one through
  other cells' upward bindings, those reads bind to nothing instead (run from
  the top, a read of a name first defined further down fails); it refuses a cell
  whose own upward binding closes one (:class:`CycleError`, graph unchanged).
  :meth:`remove_cell` and :meth:`set_order` cannot refuse; cells left on a
  cycle by them are reported by :meth:`DependencyGraph.order`.
- *Take-over* (inputs of an interactive console, which has no notebook to
  edit): a new input that defines ``x`` takes ``x`` from every earlier
  anonymous definer, so the earlier inputs that read ``x`` bind to the new one.
  An input that wrote ``x`` itself (``x = x + 1``), or whose re-run would close
  a cycle, is *detached* from ``x``: its read binds to nothing.

Ordering ties are broken by position.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NewType

CellId = NewType("CellId", str)

#: Edges of a cycle: ``(definer, reader, names)`` triples.
CycleEdges = list[tuple[CellId, CellId, frozenset[str]]]


class GraphError(Exception):
    """Base class of the errors that refuse a graph update."""


class CycleError(GraphError):
    """Registering a cell would close a cycle.

    ``edges`` lists the cycle as ``(definer, reader, names)`` triples, starting
    and ending at the cell being registered; ``label`` names cells as users
    see them.
    """

    def __init__(self, edges: CycleEdges, label: Callable[[CellId], str] = str) -> None:
        self.edges = edges
        self.cells = [edge[0] for edge in edges]
        steps = "; ".join(
            f"{label(b)} reads {', '.join(sorted(names))} from {label(a)}"
            for a, b, names in edges
        )
        super().__init__(
            f"These cells depend on each other in a loop: {steps}. "
            "A cell reads a name from a cell below it only when no cell above "
            "defines it; define the name above its first reader, or move the "
            "shared computation into one cell."
        )


@dataclass
class CellNode:
    """One registered cell.

    ``defs`` are the names the cell defines in the graph: ``declared_defs``
    minus names taken over by a later console input.
    """

    id: CellId
    code: str
    declared_defs: frozenset[str]
    refs: frozenset[str]
    position: int
    anonymous: bool
    defs: set[str] = field(default_factory=set)
    #: Reads that bind to nothing (see take-over in the module docstring).
    detached: set[str] = field(default_factory=set)
    #: Reads that only pass a definition above through: never bound below.
    weak: frozenset[str] = frozenset()
    #: Reads of the globals of functions the cell may call, defined in other
    #: cells (over-approximated: a class used as a base, a function passed on):
    #: never bound below either.
    called: frozenset[str] = frozenset()
    #: Reads that bound to a definer above until it stopped defining the name (an
    #: edit, a removal, a move), or whose binding below would close a cycle:
    #: they never fall through to a definer below, and read nothing (NameError,
    #: as top to bottom) until one above defines it again.
    above_only: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class CellUpdate:
    """What :meth:`DependencyGraph.set_cell` changed."""

    cell: CellId
    #: Names the cell defined before this update and no longer does.
    dropped: frozenset[str]
    #: Other cells whose reads now bind to a different definer (they read
    #: something new and must re-run to show the truth).
    rebound: frozenset[CellId]
    #: Cells that lost names to this one (take-over).
    displaced: frozenset[CellId] = frozenset()


class _Index:
    """Sorted positions per name; ``multiple`` holds the names with several."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[int]] = {}
        self.multiple: set[str] = set()

    def add(self, name: str, position: int) -> None:
        found = self.by_name.setdefault(name, [])
        insort(found, position)
        if len(found) == 2:
            self.multiple.add(name)

    def discard(self, name: str, position: int) -> None:
        found = self.by_name.get(name)
        if found is None:
            return
        i = bisect_left(found, position)
        if i < len(found) and found[i] == position:
            del found[i]
            if len(found) == 1:
                self.multiple.discard(name)
            elif not found:
                del self.by_name[name]

    def get(self, name: str) -> list[int]:
        return self.by_name.get(name, [])


class DependencyGraph:
    """Cells in notebook order with position-aware bindings (see module docstring)."""

    def __init__(self, label: Callable[[CellId], str] | None = None) -> None:
        self._cells: dict[CellId, CellNode] = {}
        self._at: dict[int, CellId] = {}
        self._defs = _Index()
        self._refs = _Index()
        self._hints: dict[CellId, int] = {}
        self._next_position = 0
        self._version = 0
        self.label: Callable[[CellId], str] = label or self._first_line

    # -- queries ------------------------------------------------------------

    def __contains__(self, cell: object) -> bool:
        return cell in self._cells

    def __len__(self) -> int:
        return len(self._cells)

    @property
    def version(self) -> int:
        """Changes whenever a binding may have changed, so orders computed from
        the graph can be reused while it stays the same."""
        return self._version

    def cell(self, cell: CellId) -> CellNode:
        return self._cells[cell]

    def position(self, cell: CellId) -> int:
        return self._cells[cell].position

    def cells(self) -> list[CellId]:
        """All cells in notebook order."""
        return [self._at[p] for p in sorted(self._at)]

    def definers(self, name: str) -> list[CellId]:
        """Cells defining ``name``, in notebook order."""
        return [self._at[p] for p in self._defs.get(name)]

    def readers(self, name: str) -> list[CellId]:
        return [self._at[p] for p in self._refs.get(name)]

    def multiply_defined(self) -> frozenset[str]:
        """Names more than one cell defines."""
        return frozenset(self._defs.multiple)

    def definer_positions(self, name: str) -> list[int]:
        """The positions of the cells defining ``name``, sorted (do not change it)."""
        return self._defs.get(name)

    def definers_seen(self, cell: CellId, name: str) -> list[CellId]:
        """The cells defining ``name`` that a read of it in ``cell`` may see,
        in notebook order: those above it and the cell itself; with none above,
        all of them (a read binds below).  A cell not registered yet is taken
        at the place it will get."""
        found = self._defs.get(name)
        node = self._cells.get(cell)
        if node is not None:
            position = node.position
        else:
            hint = self._hints.get(cell)
            position = hint if hint is not None and hint not in self._at \
                else self._next_position
        if bisect_left(found, position) == 0:
            return [self._at[p] for p in found]
        return [self._at[p] for p in found[:bisect_right(found, position)]]

    def definer_above(self, cell: CellId, name: str) -> CellId | None:
        """The nearest cell above ``cell`` that defines ``name``."""
        found = self._defs.get(name)
        i = bisect_left(found, self._cells[cell].position)
        return self._at[found[i - 1]] if i > 0 else None

    def definer_below(self, cell: CellId, name: str) -> CellId | None:
        """The nearest cell below ``cell`` that defines ``name``."""
        found = self._defs.get(name)
        i = bisect_right(found, self._cells[cell].position)
        return self._at[found[i]] if i < len(found) else None

    def binding(self, cell: CellId, name: str) -> CellId | None:
        """The cell whose definition of ``name`` a read in ``cell`` binds to."""
        node = self._cells[cell]
        if name in node.detached:
            return None
        found = self._defs.get(name)
        if not found:
            return None
        i = bisect_left(found, node.position)
        if i > 0:
            return self._at[found[i - 1]]
        if name in node.weak or name in node.called or name in node.above_only:
            return None
        if i < len(found) and found[i] == node.position:
            i += 1
        return self._at[found[i]] if i < len(found) else None

    def parents(self, cell: CellId) -> dict[CellId, frozenset[str]]:
        found: dict[CellId, set[str]] = {}
        for name in self._cells[cell].refs:
            definer = self.binding(cell, name)
            if definer is not None and definer != cell:
                found.setdefault(definer, set()).add(name)
        return {p: frozenset(n) for p, n in found.items()}

    def children(self, cell: CellId) -> dict[CellId, frozenset[str]]:
        found: dict[CellId, set[str]] = {}
        for name in self._cells[cell].defs:
            for reader in self._fed_by(cell, name):
                found.setdefault(reader, set()).add(name)
        return {c: frozenset(n) for c, n in found.items()}

    def descendants(self, roots: Iterable[CellId]) -> set[CellId]:
        """Every cell reachable from ``roots`` (roots excluded unless reached)."""
        return self._reach(roots, self.children)

    def ancestors(self, roots: Iterable[CellId]) -> set[CellId]:
        return self._reach(roots, self.parents)

    def order(self, cells: Iterable[CellId]) -> tuple[list[CellId], list[CellId]]:
        """``cells`` sorted so every parent precedes its children, ties by
        position; and, apart, those on a cycle among them (in position order)."""
        subset = {c for c in cells if c in self._cells}
        parents = {c: {p for p in self.parents(c) if p in subset} for c in subset}
        children: dict[CellId, list[CellId]] = {}
        for cell, found in parents.items():
            for parent in found:
                children.setdefault(parent, []).append(cell)
        indegree = {c: len(found) for c, found in parents.items()}
        heap = [(self._cells[c].position, c) for c, d in indegree.items() if d == 0]
        heapq.heapify(heap)
        ordered: list[CellId] = []
        while heap:
            _position, cell = heapq.heappop(heap)
            ordered.append(cell)
            for child in children.get(cell, ()):
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(heap, (self._cells[child].position, child))
        left = sorted((c for c, d in indegree.items() if d > 0),
                      key=lambda c: self._cells[c].position)
        return ordered, left

    def topological_order(self, cells: Iterable[CellId]) -> list[CellId]:
        """:meth:`order`, with cells on cycles last."""
        ordered, cyclic = self.order(cells)
        return ordered + cyclic

    def find_cycle(self, cell: CellId) -> CycleEdges | None:
        """A path ``cell -> ... -> cell`` through bindings, if one exists."""
        came_from: dict[CellId, tuple[CellId, frozenset[str]]] = {}
        stack = [cell]
        seen = {cell}
        while stack:
            node = stack.pop()
            for child, names in self.children(node).items():
                if child == cell:
                    edges: CycleEdges = [(node, cell, names)]
                    while node != cell:
                        parent, via = came_from[node]
                        edges.append((parent, node, via))
                        node = parent
                    edges.reverse()
                    return edges
                if child not in seen:
                    seen.add(child)
                    came_from[child] = (node, names)
                    stack.append(child)
        return None

    # -- updates ------------------------------------------------------------

    def set_cell(
        self,
        cell: CellId,
        code: str,
        defs: Iterable[str],
        refs: Iterable[str],
        *,
        anonymous: bool = False,
        take_over: bool = False,
        weak: Iterable[str] = (),
        called: Iterable[str] = (),
    ) -> CellUpdate:
        """Register or replace a cell.

        ``weak`` reads bind only to a definer above (a value the cell may
        pass through unchanged, as ``if flag: mode = 1`` does), and so do
        ``called`` ones (globals read by functions of other cells it may call:
        run from the top, a function reads the globals defined by then).

        ``take_over`` (console inputs) takes the names it defines from earlier
        anonymous definers.  Raises :class:`CycleError` and leaves the graph
        unchanged if the cell would close a cycle (a take-over detaches
        instead).
        """
        new_defs = frozenset(defs)
        new_refs = frozenset(refs)
        new_weak = frozenset(weak) & new_refs
        new_called = frozenset(called) & new_refs
        old = self._cells.get(cell)
        hint = self._hints.pop(cell, None) if old is None else None
        if old is None:
            position = hint if hint is not None and hint not in self._at else None
            if position is None:
                position = self._take_position()
        else:
            position = old.position
        if (old is not None and not take_over and old.declared_defs == new_defs
                and old.refs == new_refs and old.defs == set(new_defs)
                and old.anonymous == anonymous and old.weak == new_weak
                and old.called == new_called):
            old.code = code  # same names: same bindings
            return CellUpdate(cell, frozenset(), frozenset())
        before = self._fed_readers(old) if old is not None else {}
        node = CellNode(cell, code, new_defs, new_refs, position, anonymous, set(new_defs),
                        weak=new_weak, called=new_called)
        if old is not None:
            node.detached = old.detached & new_refs
            node.above_only = old.above_only & new_refs
            self._unindex(old)
        displaced: dict[CellId, set[str]] = {}
        if take_over:
            displaced = self._take_from_earlier(node)
        self._index(node)
        if take_over:
            self._detach_cycles(node)
        pinned: dict[CellId, set[str]] = {}
        if not take_over and self.parents(cell) and self.children(cell):
            cycle = self.find_cycle(cell)
            if cycle is not None:
                pinned = self._pin_cycles(cell)
                cycle = self.find_cycle(cell) if pinned else cycle
            if cycle is not None:
                error = CycleError(cycle, self.label)  # labels of the proposed cell
                for reader, names in pinned.items():
                    self._cells[reader].above_only -= names
                self._unindex(node)
                if old is not None:
                    self._index(old)
                else:
                    del self._cells[cell]
                    del self._at[position]
                    if hint is not None:
                        self._hints[cell] = hint
                raise error
        if not take_over:
            self._keep_above(before, position)
        self._version += 1
        after = self._fed_readers(node)
        rebound = {r for r in before.keys() | after.keys() if before.get(r) != after.get(r)}
        rebound |= pinned.keys()
        rebound.discard(cell)
        old_defs = frozenset(old.defs) if old is not None else frozenset()
        return CellUpdate(cell, old_defs - new_defs, frozenset(rebound),
                          frozenset(displaced))

    def replace_code(self, cell: CellId, code: str) -> None:
        """Store new code for a cell without changing its names or bindings
        (used when the new code does not parse: re-runs then show the error)."""
        self._cells[cell].code = code

    def remove_cell(self, cell: CellId) -> frozenset[CellId]:
        """Forget a cell; returns the cells whose reads bound to it."""
        node = self._cells.get(cell)
        if node is None:
            return frozenset()
        fed = self._fed_readers(node)
        self._unindex(node)
        del self._cells[cell]
        del self._at[node.position]
        self._keep_above(fed, node.position)
        self._version += 1
        return frozenset(fed)

    def set_order(self, order: Iterable[CellId]) -> frozenset[CellId]:
        """Give cells the notebook order ``order``; returns the cells whose
        reads now bind to a different definer.

        Known cells missing from ``order`` keep their relative order after the
        listed ones; listed ids not registered yet get that place when they are.
        """
        listed = list(dict.fromkeys(order))
        seen = set(listed)
        unlisted = [c for c in self.cells() if c not in seen]
        before = self._all_bindings()
        for node in self._cells.values():
            self._unindex(node)
        self._at.clear()
        self._hints.clear()
        for position, cell in enumerate([*listed, *unlisted]):
            found = self._cells.get(cell)
            if found is None:
                self._hints[cell] = position
                continue
            found.position = position
            self._at[position] = cell
            self._index(found)
        self._next_position = len(listed) + len(unlisted)
        moved_up = {c: {n for n, (d, below) in reads.items() if d is not None and not below}
                    for c, reads in before.items()}
        for cell, reads in self._all_bindings().items():
            names = {n for n in moved_up.get(cell, ()) if reads[n][1]}
            self._cells[cell].above_only |= names
        self._version += 1
        after = self._all_bindings()
        return frozenset(c for c in after if before.get(c) != after[c])

    # -- internals ----------------------------------------------------------

    def _keep_above(self, readers: Mapping[CellId, Iterable[str]], definer_at: int) -> None:
        """Readers below ``definer_at`` whose reads bound to the definer there: a
        read that would now bind to a cell below the reader binds to nothing."""
        for reader, names in readers.items():
            node = self._cells.get(reader)
            if node is None or node.position <= definer_at:
                continue
            for name in names:
                bound = self.binding(reader, name)
                if bound is not None and self._cells[bound].position > node.position:
                    node.above_only.add(name)

    @staticmethod
    def _first_line(cell: CellId) -> str:
        return str(cell)

    def _take_position(self) -> int:
        position = self._next_position
        self._next_position += 1
        return position

    def _index(self, node: CellNode) -> None:
        self._cells[node.id] = node
        self._at[node.position] = node.id
        for name in node.defs:
            self._defs.add(name, node.position)
        for name in node.refs:
            self._refs.add(name, node.position)

    def _unindex(self, node: CellNode) -> None:
        for name in node.defs:
            self._defs.discard(name, node.position)
        for name in node.refs:
            self._refs.discard(name, node.position)

    def _fed_by(self, cell: CellId, name: str) -> list[CellId]:
        """Readers whose read of ``name`` binds to ``cell``."""
        position = self._cells[cell].position
        found = self._defs.get(name)
        i = bisect_left(found, position)
        if i >= len(found) or found[i] != position:
            return []
        readers = self._refs.get(name)
        if not readers:
            return []
        # Readers in (position, next definer] bind to it ...
        end = bisect_right(readers, found[i + 1]) if i + 1 < len(found) else len(readers)
        candidates = readers[bisect_right(readers, position):end]
        if i == 0:  # ... and so do readers above the first definer,
            candidates = readers[:bisect_left(readers, position)] + candidates
        if i == 1:  # ... and the first definer if it reads the name itself.
            j = bisect_left(readers, found[0])
            if j < len(readers) and readers[j] == found[0]:
                candidates.append(found[0])
        result = []
        for reader_position in candidates:
            reader = self._at[reader_position]
            if reader != cell and self.binding(reader, name) == cell:
                result.append(reader)
        return result

    def _fed_readers(self, node: CellNode) -> dict[CellId, frozenset[str]]:
        """Readers fed by ``node``, with the names, as registered now."""
        if self._cells.get(node.id) is not node:
            return {}
        return self.children(node.id)

    def _all_bindings(self) -> dict[CellId, dict[str, tuple[CellId | None, bool]]]:
        """Every read's definer, and whether it is below the reader (a read of a
        cell below means something else than one of a cell above)."""
        found: dict[CellId, dict[str, tuple[CellId | None, bool]]] = {}
        for cell, node in self._cells.items():
            reads = found[cell] = {}
            for name in node.refs:
                definer = self.binding(cell, name)
                below = definer is not None and self._cells[definer].position > node.position
                reads[name] = (definer, below)
        return found

    def _take_from_earlier(self, node: CellNode) -> dict[CellId, set[str]]:
        """Take-over: earlier anonymous definers lose the names ``node`` defines;
        readers that wrote a name themselves are detached from it."""
        displaced: dict[CellId, set[str]] = {}
        for name in node.defs:
            for position in list(self._defs.get(name)):
                other = self._cells[self._at[position]]
                if other.id == node.id or not other.anonymous or position > node.position:
                    continue
                self._defs.discard(name, position)
                other.defs.discard(name)
                displaced.setdefault(other.id, set()).add(name)
                if name in node.refs:
                    # ``n += 1`` typed after ``n = 1``: it reads n as it is now.
                    node.detached.add(name)
            for reader in self.readers(name):
                if reader == node.id:
                    continue
                writer = self._cells[reader]
                if name in writer.declared_defs and name not in writer.defs:
                    writer.detached.add(name)
                else:
                    writer.detached.discard(name)
        return displaced

    def _pin_cycles(self, cell: CellId) -> dict[CellId, set[str]]:
        """Cycles through ``cell`` that other cells' reads of a definer below
        them close: those reads bind to nothing instead (``above_only``), as run
        from the top, where a cell reading a name no cell above defines fails
        (``try: n`` / ``except NameError: n = 0`` above ``n += 1``).  Returns
        the names pinned per reader (the caller undoes them to refuse)."""
        ahead = self.descendants([cell]) | {cell}
        behind = self.ancestors([cell])
        pinned: dict[CellId, set[str]] = {}
        for reader in behind - {cell}:
            node = self._cells[reader]
            for definer, names in self.parents(reader).items():
                if definer in ahead and self._cells[definer].position > node.position:
                    added = set(names) - node.above_only
                    if added:
                        pinned.setdefault(reader, set()).update(added)
        for reader, more in pinned.items():
            self._cells[reader].above_only |= more
        return pinned

    def _detach_cycles(self, node: CellNode) -> None:
        """Take-over: readers whose re-run would close a cycle through ``node``
        keep their old value instead (they are detached from its names)."""
        while True:
            cycle = self.find_cycle(node.id)
            if cycle is None:
                return
            _definer, reader, names = cycle[0]
            self._cells[reader].detached.update(names)

    def _reach(
        self, roots: Iterable[CellId],
        edges: Callable[[CellId], Mapping[CellId, object]],
    ) -> set[CellId]:
        seen: set[CellId] = set()
        stack = [n for r in roots if r in self._cells for n in edges(r)]
        while stack:
            cell = stack.pop()
            if cell not in seen:
                seen.add(cell)
                stack.extend(edges(cell))
        return seen
