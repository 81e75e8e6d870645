"""A pure, incremental dependency graph of cells.

Nodes are cells keyed by :data:`CellId`; an edge ``d -> r`` labelled ``n``
means cell ``r`` reads name ``n`` and ``d`` is the one cell that defines it.
The graph owns each cell's code, defs, refs and edges; it holds no run state.

Invariants (checked before any mutation, so a refused update changes nothing):

- A name that some cell reads has at most one definer.  Several cells may
  define a name nobody else reads (``fig, ax = plt.subplots()`` in many cells).
- The graph is acyclic.
- *Anonymous* cells (console history without a cell id) never conflict: a new
  anonymous cell takes over the names it defines from earlier definers, and any
  cell takes over names from anonymous definers.  Readers of a taken-over name
  become children of the new definer, except readers that used to write the
  name themselves (``x = x + 1``) or that are its ancestors (which would close a
  cycle); those are *detached* for that name until the next take-over.

Costs: updating a cell touches its own names and their readers; a cycle check
walks only downstream of a cell that gained both parents and children.
Ordering ties are broken by first registration.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NewType

CellId = NewType("CellId", str)


class GraphError(Exception):
    """Base class of the errors that refuse a graph update."""


class CycleError(GraphError):
    """Registering a cell would close a cycle.

    ``edges`` lists the cycle as ``(definer, reader, names)`` triples, starting
    and ending at the cell being registered.
    """

    def __init__(self, edges: list[tuple[CellId, CellId, frozenset[str]]]) -> None:
        self.edges = edges
        self.cells = [edge[0] for edge in edges]
        steps = "".join(f"{a} --{', '.join(sorted(names))}--> " for a, _b, names in edges)
        first = edges[0][0] if edges else "?"
        super().__init__(
            f"Cycle between cells: {steps}{first} (an arrow means 'defines a name "
            "the next cell reads'). "
            "Cells may not depend on each other in a loop; move the shared "
            "computation into one cell."
        )


class MultipleDefinitionError(GraphError):
    """A name that some cell reads would be defined by more than one cell."""

    def __init__(self, name: str, cells: list[CellId], readers: list[CellId]) -> None:
        self.name = name
        self.cells = cells
        self.readers = readers
        super().__init__(
            f"The name {name!r} is defined by more than one cell "
            f"({', '.join(cells)}) and read by {', '.join(readers)}, so it is "
            f"ambiguous. Rename it in one cell, merge the cells, or prefix it "
            f"with '_' (e.g. '_{name}') to keep it private to its cell."
        )


@dataclass
class CellNode:
    """One registered cell.  ``defs`` shrinks when names are taken over."""

    id: CellId
    code: str
    declared_defs: frozenset[str]
    refs: frozenset[str]
    order: int
    anonymous: bool
    defs: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class CellUpdate:
    """What :meth:`DependencyGraph.set_cell` changed."""

    cell: CellId
    #: Names the cell defined before this update and no longer does.
    dropped: frozenset[str]
    #: Cells that were children before and are not any more (they read a
    #: name this cell stopped defining); they must re-run to show the truth.
    orphaned: frozenset[CellId]
    #: Cells that lost names to this one (anonymous take-over).
    displaced: frozenset[CellId] = frozenset()


class DependencyGraph:
    """Incremental DAG of cells: registration, removal, ordering, queries."""

    def __init__(self) -> None:
        self._cells: dict[CellId, CellNode] = {}
        self._definers: dict[str, dict[CellId, None]] = {}
        self._readers: dict[str, dict[CellId, None]] = {}
        self._parents: dict[CellId, dict[CellId, set[str]]] = {}
        self._children: dict[CellId, dict[CellId, set[str]]] = {}
        self._detached: dict[CellId, set[str]] = {}
        self._next_order = 0
        self._version = 0

    # -- queries ------------------------------------------------------------

    def __contains__(self, cell: object) -> bool:
        return cell in self._cells

    @property
    def version(self) -> int:
        """Changes whenever an edge or a cell is added or removed (not when a
        cell is registered again with the same edges), so orders computed
        from the graph can be reused while it stays the same."""
        return self._version

    def __len__(self) -> int:
        return len(self._cells)

    def cell(self, cell: CellId) -> CellNode:
        return self._cells[cell]

    def cells(self) -> list[CellId]:
        """All cells in registration order."""
        return sorted(self._cells, key=lambda c: self._cells[c].order)

    def parents(self, cell: CellId) -> dict[CellId, frozenset[str]]:
        return {p: frozenset(n) for p, n in self._parents.get(cell, {}).items()}

    def children(self, cell: CellId) -> dict[CellId, frozenset[str]]:
        return {c: frozenset(n) for c, n in self._children.get(cell, {}).items()}

    def definers(self, name: str) -> list[CellId]:
        return list(self._definers.get(name, {}))

    def definer(self, name: str) -> CellId | None:
        """The single cell defining ``name``, if exactly one does."""
        found = self._definers.get(name)
        if found is not None and len(found) == 1:
            return next(iter(found))
        return None

    def readers(self, name: str) -> list[CellId]:
        return list(self._readers.get(name, {}))

    def descendants(self, roots: Iterable[CellId]) -> set[CellId]:
        """Every cell reachable from ``roots`` (roots excluded unless reached)."""
        return self._reach(roots, self._children)

    def ancestors(self, roots: Iterable[CellId]) -> set[CellId]:
        return self._reach(roots, self._parents)

    def topological_order(self, cells: Iterable[CellId]) -> list[CellId]:
        """``cells`` sorted so every parent precedes its children.

        Only edges among ``cells`` count; ties go to the earlier registered
        cell.  Costs O(k log k + edges among them) for k cells.
        """
        subset = {c for c in cells if c in self._cells}
        indegree = {
            c: sum(1 for p in self._parents.get(c, {}) if p in subset) for c in subset
        }
        heap = [(self._cells[c].order, c) for c, d in indegree.items() if d == 0]
        heapq.heapify(heap)
        ordered: list[CellId] = []
        while heap:
            _order, cell = heapq.heappop(heap)
            ordered.append(cell)
            for child in self._children.get(cell, {}):
                if child in indegree:
                    indegree[child] -= 1
                    if indegree[child] == 0:
                        heapq.heappush(heap, (self._cells[child].order, child))
        return ordered

    # -- updates ------------------------------------------------------------

    def set_cell(
        self,
        cell: CellId,
        code: str,
        defs: Iterable[str],
        refs: Iterable[str],
        *,
        anonymous: bool = False,
    ) -> CellUpdate:
        """Register or replace a cell.

        Raises :class:`MultipleDefinitionError` or :class:`CycleError` (for
        cells with ids) and leaves the graph unchanged in that case.
        """
        new_defs = frozenset(defs)
        new_refs = frozenset(refs)
        old = self._cells.get(cell)
        self._check_definitions(cell, new_defs, new_refs, anonymous)
        parents = self._proposed_parents(cell, new_defs, new_refs, anonymous)
        children = self._proposed_children(cell, new_defs, anonymous)
        detach: set[CellId] = set()
        if parents and children:
            cycle = self._find_cycle(cell, parents, children)
            if cycle is not None:
                if not anonymous:
                    raise CycleError(cycle)
                # Console history: readers upstream of this cell keep the old
                # value instead of closing a loop.
                detach = self.ancestors(parents) & children.keys()
                detach |= set(parents) & children.keys()

        old_defs = frozenset(old.defs) if old is not None else frozenset()
        old_children = set(self._children.get(cell, {}))
        before = self._adjacency(cell) if old is not None and not anonymous else None
        order = old.order if old is not None else self._take_order()
        if old is not None:
            self._unlink_cell(old)
        node = CellNode(cell, code, new_defs, new_refs, order, anonymous, set(new_defs))
        self._cells[cell] = node
        self._parents.setdefault(cell, {})
        self._children.setdefault(cell, {})
        self._detached[cell] = set()
        for name in new_refs:
            self._readers.setdefault(name, {})[cell] = None
        displaced: set[CellId] = set()
        for name in sorted(new_defs):
            displaced.update(self._take_over(cell, name, detach))
        for name in new_refs:
            self._link_reader(cell, name)
        orphaned = frozenset(old_children - set(self._children[cell]))
        if before is None or detach or displaced or before != self._adjacency(cell):
            self._version += 1
        return CellUpdate(cell, old_defs - new_defs, orphaned, frozenset(displaced))

    def replace_code(self, cell: CellId, code: str) -> None:
        """Store new code for a cell without changing its names or edges
        (used when the new code does not parse: re-runs then show the error)."""
        self._cells[cell].code = code

    def remove_cell(self, cell: CellId) -> frozenset[CellId]:
        """Forget a cell; returns the cells that read names it defined."""
        node = self._cells.get(cell)
        if node is None:
            return frozenset()
        children = frozenset(self._children.get(cell, {}))
        self._version += 1
        self._unlink_cell(node)
        del self._cells[cell]
        for table in (self._parents, self._children, self._detached):
            table.pop(cell, None)
        return children

    # -- internals ----------------------------------------------------------

    def _adjacency(self, cell: CellId) -> tuple[object, ...]:
        """A cell's edges (with their names) and detached names, for comparing."""
        return (
            {p: frozenset(n) for p, n in self._parents.get(cell, {}).items()},
            {c: frozenset(n) for c, n in self._children.get(cell, {}).items()},
            frozenset(self._detached.get(cell, ())),
        )

    def _take_order(self) -> int:
        self._next_order += 1
        return self._next_order

    def _reach(
        self, roots: Iterable[CellId], edges: Mapping[CellId, Mapping[CellId, object]]
    ) -> set[CellId]:
        seen: set[CellId] = set()
        stack = [n for r in roots for n in edges.get(r, {})]
        while stack:
            cell = stack.pop()
            if cell not in seen:
                seen.add(cell)
                stack.extend(edges.get(cell, {}))
        return seen

    def _effective_definers(
        self, cell: CellId, name: str, defines: bool, anonymous: bool
    ) -> list[CellId]:
        """Definers of ``name`` once ``cell`` is registered (take-overs applied)."""
        others = [d for d in self._definers.get(name, {}) if d != cell]
        if not defines:
            return others
        if anonymous:
            return [cell]
        return [d for d in others if not self._cells[d].anonymous] + [cell]

    def _check_definitions(
        self, cell: CellId, defs: frozenset[str], refs: frozenset[str], anonymous: bool
    ) -> None:
        for name in sorted(defs | refs):
            definers = self._effective_definers(cell, name, name in defs, anonymous)
            if len(definers) < 2:
                continue
            # Console readers never make a name ambiguous: they just get no
            # edge for it while several cells define it.
            readers = [
                r for r in self._readers.get(name, {})
                if r != cell and not self._cells[r].anonymous
            ]
            if name in refs and not anonymous:
                readers.append(cell)
            if readers:
                ordered = sorted(definers, key=self._order_of)
                raise MultipleDefinitionError(name, ordered, sorted(readers, key=self._order_of))

    def _order_of(self, cell: CellId) -> int:
        node = self._cells.get(cell)
        return node.order if node is not None else self._next_order + 1

    def _proposed_parents(
        self, cell: CellId, defs: frozenset[str], refs: frozenset[str], anonymous: bool
    ) -> dict[CellId, set[str]]:
        parents: dict[CellId, set[str]] = {}
        for name in refs:
            definers = self._effective_definers(cell, name, name in defs, anonymous)
            if len(definers) == 1 and definers[0] != cell:
                parents.setdefault(definers[0], set()).add(name)
        return parents

    def _proposed_children(
        self, cell: CellId, defs: frozenset[str], anonymous: bool
    ) -> dict[CellId, set[str]]:
        children: dict[CellId, set[str]] = {}
        for name in defs:
            if len(self._effective_definers(cell, name, True, anonymous)) != 1:
                continue
            for reader in self._readers.get(name, {}):
                if reader == cell or self._writes(reader, name):
                    continue
                children.setdefault(reader, set()).add(name)
        return children

    def _writes(self, reader: CellId, name: str) -> bool:
        node = self._cells.get(reader)
        return node is not None and node.anonymous and name in node.declared_defs

    def _find_cycle(
        self,
        cell: CellId,
        parents: Mapping[CellId, set[str]],
        children: Mapping[CellId, set[str]],
    ) -> list[tuple[CellId, CellId, frozenset[str]]] | None:
        """A path cell -> child -> ... -> parent -> cell, if one exists.

        Walks existing edges downstream of the proposed children, ignoring
        ``cell``'s current edges (they are being replaced).
        """
        came_from: dict[CellId, CellId] = {}
        stack = list(children)
        seen = set(stack)
        while stack:
            node = stack.pop()
            if node in parents:
                path = [node]
                while path[-1] not in children:
                    path.append(came_from[path[-1]])
                path.reverse()
                hops = [cell, *path, cell]
                edges: list[tuple[CellId, CellId, frozenset[str]]] = []
                for a, b in itertools.pairwise(hops):
                    if a == cell:
                        names = frozenset(children[b])
                    elif b == cell:
                        names = frozenset(parents[a])
                    else:
                        names = frozenset(self._children[a][b])
                    edges.append((a, b, names))
                return edges
            for child in self._children.get(node, {}):
                if child != cell and child not in seen:
                    seen.add(child)
                    came_from[child] = node
                    stack.append(child)
        return None

    def _add_edge(self, parent: CellId, child: CellId, name: str) -> None:
        self._children.setdefault(parent, {}).setdefault(child, set()).add(name)
        self._parents.setdefault(child, {}).setdefault(parent, set()).add(name)

    def _remove_edge(self, parent: CellId, child: CellId, name: str) -> None:
        names = self._children.get(parent, {}).get(child)
        if names is None:
            return
        names.discard(name)
        if not names:
            del self._children[parent][child]
        names = self._parents.get(child, {}).get(parent)
        if names is not None:
            names.discard(name)
            if not names:
                del self._parents[child][parent]

    def _unlink_name(self, name: str) -> None:
        """Remove every edge labelled ``name`` (its definer's out-edges)."""
        for definer in self._definers.get(name, {}):
            for reader in list(self._children.get(definer, {})):
                self._remove_edge(definer, reader, name)

    def _relink_name(self, name: str) -> None:
        """Re-create the edges labelled ``name`` from its current definers."""
        self._unlink_name(name)
        definer = self.definer(name)
        if definer is None:
            return
        for reader in self._readers.get(name, {}):
            if reader != definer and name not in self._detached.get(reader, set()):
                self._add_edge(definer, reader, name)

    def _link_reader(self, reader: CellId, name: str) -> None:
        definer = self.definer(name)
        if definer is not None and definer != reader:
            if name not in self._detached.get(reader, set()):
                self._add_edge(definer, reader, name)

    def _take_over(self, cell: CellId, name: str, detach: set[CellId]) -> list[CellId]:
        node = self._cells[cell]
        definers = self._definers.setdefault(name, {})
        losers = [
            d
            for d in definers
            if d != cell and (node.anonymous or self._cells[d].anonymous)
        ]
        self._unlink_name(name)
        for loser in losers:
            del definers[loser]
            self._cells[loser].defs.discard(name)
        definers[cell] = None
        if losers or node.anonymous:
            for reader in self._readers.get(name, {}):
                if reader == cell:
                    continue
                detached = self._detached.setdefault(reader, set())
                if reader in detach or self._writes(reader, name):
                    detached.add(name)
                else:
                    detached.discard(name)
        self._relink_name(name)
        return losers

    def _unlink_cell(self, node: CellNode) -> None:
        cell = node.id
        for name in node.refs:
            readers = self._readers.get(name)
            if readers is not None:
                readers.pop(cell, None)
                if not readers:
                    del self._readers[name]
        for parent, names in list(self._parents.get(cell, {}).items()):
            for name in list(names):
                self._remove_edge(parent, cell, name)
        for name in list(node.defs):
            self._unlink_name(name)
            definers = self._definers.get(name)
            if definers is not None:
                definers.pop(cell, None)
                if not definers:
                    del self._definers[name]
            self._relink_name(name)
        self._detached.pop(cell, None)
