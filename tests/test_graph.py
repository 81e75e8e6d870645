"""Pure tests of :class:`reactive_kernel.graph.DependencyGraph`.

Graphs are built with ``set_cell`` and checked against the *whole* edge map
(every cell's children with edge labels, and the matching parents), never one
edge at a time; a randomized test checks every update against bindings
recomputed from scratch.
"""

from __future__ import annotations

import random

import pytest

from reactive_kernel.graph import (
    CellId,
    CellUpdate,
    CycleError,
    DependencyGraph,
)

EdgeMap = dict[str, dict[str, set[str]]]


def children_map(g: DependencyGraph) -> EdgeMap:
    """``{cell: {child: names}}`` for every registered cell."""
    return {c: {ch: set(n) for ch, n in g.children(c).items()} for c in g.cells()}


def parents_map(g: DependencyGraph) -> EdgeMap:
    return {c: {p: set(n) for p, n in g.parents(c).items()} for c in g.cells()}


def invert(edges: EdgeMap) -> EdgeMap:
    out: EdgeMap = {c: {} for c in edges}
    for parent, kids in edges.items():
        for child, names in kids.items():
            out[child][parent] = set(names)
    return out


def assert_edges(g: DependencyGraph, expected: EdgeMap) -> None:
    """Whole children map equals ``expected``; parents are its exact inverse."""
    assert children_map(g) == expected
    assert parents_map(g) == invert(expected)


def snapshot(g: DependencyGraph) -> tuple:
    """Everything observable about the graph, to compare before/after."""
    cells = g.cells()
    nodes = {c: (g.cell(c).code, set(g.cell(c).defs), set(g.cell(c).refs), g.position(c))
             for c in cells}
    names = {n for c in cells for n in (*g.cell(c).declared_defs, *g.cell(c).refs)}
    definers = {n: g.definers(n) for n in names}
    readers = {n: g.readers(n) for n in names}
    return cells, nodes, children_map(g), parents_map(g), definers, readers


def add(
    g: DependencyGraph,
    cell: str,
    defs: str = "",
    refs: str = "",
    *,
    code: str | None = None,
) -> CellUpdate:
    """Register ``cell`` with space-separated ``defs`` and ``refs``."""
    return g.set_cell(CellId(cell), code if code is not None else f"# {cell}",
                      defs.split(), refs.split())


def console(g: DependencyGraph, cell: str, defs: str = "", refs: str = "") -> CellUpdate:
    """A console input: anonymous, taking over the names it defines."""
    return g.set_cell(CellId(cell), f"# {cell}", defs.split(), refs.split(),
                      anonymous=True, take_over=True)


# -- shapes -------------------------------------------------------------------


def test_empty_graph() -> None:
    g = DependencyGraph()
    assert len(g) == 0
    assert g.cells() == []
    assert g.topological_order([]) == []
    assert g.descendants([]) == set()


def test_single_cell_registration_reports_nothing_changed() -> None:
    g = DependencyGraph()
    update = add(g, "a", "x", code="x = 1")
    assert update == CellUpdate(CellId("a"), frozenset(), frozenset())
    assert "a" in g and len(g) == 1
    assert g.cell(CellId("a")).code == "x = 1"
    assert g.definers("x") == ["a"]
    assert_edges(g, {"a": {}})


def test_chain() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "y", "x")
    add(g, "c", "z", "y")
    assert_edges(g, {"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {}})


def test_diamond() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "y", "x")
    add(g, "c", "z", "x")
    add(g, "d", "w", "y z")
    assert_edges(g, {"a": {"b": {"x"}, "c": {"x"}}, "b": {"d": {"y"}},
                     "c": {"d": {"z"}}, "d": {}})
    assert g.topological_order(["d", "c", "b", "a"]) == ["a", "b", "c", "d"]


def test_fan_out_with_several_names_on_one_edge() -> None:
    g = DependencyGraph()
    add(g, "a", "x y")
    add(g, "b", "", "x y")
    add(g, "c", "", "y")
    assert_edges(g, {"a": {"b": {"x", "y"}, "c": {"y"}}, "b": {}, "c": {}})


# -- notebook order: reaching definitions ---------------------------------------------


def test_a_read_binds_to_the_nearest_definer_above() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "", "x")
    add(g, "c", "x")
    add(g, "d", "", "x")
    add(g, "e", "x")
    add(g, "f", "", "x")
    assert_edges(g, {"a": {"b": {"x"}}, "b": {}, "c": {"d": {"x"}}, "d": {},
                     "e": {"f": {"x"}}, "f": {}})
    assert g.definers("x") == ["a", "c", "e"]
    assert g.binding(CellId("d"), "x") == "c"


def test_self_updates_make_a_chain() -> None:
    """``df = df.dropna()`` after ``df = load()``: each reads the one above."""
    g = DependencyGraph()
    add(g, "load", "df")
    add(g, "drop", "df", "df")
    add(g, "show", "", "df")
    add(g, "col", "df", "df")
    add(g, "plot", "", "df")
    assert_edges(g, {"load": {"drop": {"df"}}, "drop": {"show": {"df"}, "col": {"df"}},
                     "show": {}, "col": {"plot": {"df"}}, "plot": {}})
    assert g.topological_order(g.cells()) == ["load", "drop", "show", "col", "plot"]


def test_a_read_with_no_definer_above_binds_to_the_nearest_below() -> None:
    """A notebook saved out of order: the reader comes first."""
    g = DependencyGraph()
    add(g, "use", "", "x")
    add(g, "late", "x")
    add(g, "later", "x")
    assert_edges(g, {"use": {}, "late": {"use": {"x"}}, "later": {}})
    assert g.topological_order(g.cells()) == ["late", "use", "later"]


def test_a_first_definer_that_reads_the_name_binds_below() -> None:
    g = DependencyGraph()
    add(g, "a", "x", "x")  # x = x + 1 with nothing above
    add(g, "b", "x")
    add(g, "c", "", "x")
    assert_edges(g, {"a": {}, "b": {"a": {"x"}, "c": {"x"}}, "c": {}})


def test_new_definer_in_between_takes_the_readers_below_it() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "r1", "", "x")
    add(g, "r2", "", "x")
    g.set_order(["a", "r1", "mid", "r2"])  # the client inserted "mid"
    update = add(g, "mid", "x")
    assert update.rebound == {"r2"}
    assert_edges(g, {"a": {"r1": {"x"}}, "r1": {}, "mid": {"r2": {"x"}}, "r2": {}})


def test_dropping_a_definition_rebinds_its_readers_to_the_next_above() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "x")
    add(g, "c", "", "x")
    update = add(g, "b", "y")
    assert update.dropped == {"x"} and update.rebound == {"c"}
    assert_edges(g, {"a": {"c": {"x"}}, "b": {}, "c": {}})


def test_remove_cell_returns_its_readers_which_rebind() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "x")
    add(g, "c", "", "x")
    add(g, "d", "", "x")
    assert g.remove_cell(CellId("b")) == {"c", "d"}
    assert_edges(g, {"a": {"c": {"x"}, "d": {"x"}}, "c": {}, "d": {}})
    assert g.remove_cell(CellId("zzz")) == frozenset()


def test_set_order_moves_cells_and_reports_rebound_readers() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "", "x")
    add(g, "c", "x")
    add(g, "d", "", "x")
    rebound = g.set_order(["a", "c", "b", "d"])  # c moved above b
    assert rebound == {"b"}
    assert_edges(g, {"a": {}, "c": {"b": {"x"}, "d": {"x"}}, "b": {}, "d": {}})
    assert g.cells() == ["a", "c", "b", "d"]
    assert g.set_order(["a", "c", "b", "d"]) == frozenset()


def test_set_order_keeps_unlisted_cells_after_and_places_unknown_ids_later() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "z", "", "x")
    g.set_order(["new", "a"])
    assert g.cells() == ["a", "z"]
    add(g, "new", "x")  # registered after the order named it: it goes first
    assert g.cells() == ["new", "a", "z"]
    assert_edges(g, {"new": {}, "a": {"z": {"x"}}, "z": {}})
    add(g, "later", "x")  # never named: after every known cell
    assert g.cells() == ["new", "a", "z", "later"]


def test_reregistration_keeps_the_position_and_same_names_keep_the_version() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "y", "x")
    version = g.version
    add(g, "a", "x", code="x = 2")
    assert g.version == version and g.cell(CellId("a")).code == "x = 2"
    add(g, "a", "x w")
    assert g.version != version
    assert g.cells() == ["a", "b"]


def test_replace_code_keeps_edges() -> None:
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "", "x")
    g.replace_code(CellId("a"), "x = (")
    assert g.cell(CellId("a")).code == "x = ("
    assert_edges(g, {"a": {"b": {"x"}}, "b": {}})


def test_names_defined_by_many_cells() -> None:
    g = DependencyGraph()
    for cell in "abc":
        add(g, cell, "fig ax")
    assert g.multiply_defined() == {"fig", "ax"}
    g.remove_cell(CellId("b"))
    g.remove_cell(CellId("c"))
    assert g.multiply_defined() == frozenset()


# -- cycles -------------------------------------------------------------------------


def test_an_earlier_read_from_below_that_would_close_a_cycle_binds_to_nothing() -> None:
    """Run from the top, ``a`` reading x with nothing above fails; ``b`` reads y
    from it as usual: ``b`` is not refused, ``a``'s read binds to nothing."""
    g = DependencyGraph()
    add(g, "a", "y", "x")  # reads x: nothing above, so from below
    update = add(g, "b", "x", "y")
    assert update.rebound == {"a"}
    assert_edges(g, {"a": {"b": {"y"}}, "b": {}})
    assert g.binding(CellId("a"), "x") is None
    # A definer above it later is read as usual.
    g.set_order([CellId("z"), CellId("a"), CellId("b")])
    add(g, "z", "x")
    assert g.binding(CellId("a"), "x") == "z"


def test_a_cycle_through_the_cell_s_own_read_from_below_is_refused_and_changes_nothing(
) -> None:
    g = DependencyGraph()
    add(g, "a", "y")
    add(g, "b", "x", "y")
    before = snapshot(g)
    with pytest.raises(CycleError) as info:
        add(g, "a", "y", "x")  # now reads x, which only b below defines
    assert info.value.edges == [("a", "b", frozenset({"y"})), ("b", "a", frozenset({"x"}))]
    assert snapshot(g) == before
    # A fine version of the same cell is accepted afterwards.
    add(g, "a", "y z")
    assert_edges(g, {"a": {"b": {"y"}}, "b": {}})


def test_reregistration_that_closes_a_cycle_keeps_the_old_cell() -> None:
    g = DependencyGraph()
    add(g, "a", "y", "w")
    add(g, "b", "x", "y")
    add(g, "c", "", "x")
    add(g, "d", "w", "x")  # a reads w from d below: pinned only if on a cycle
    before = snapshot(g)
    with pytest.raises(CycleError):
        add(g, "a", "y", "x w")  # its own read of x from b below; b reads y from it
    assert snapshot(g) == before


def test_cycle_error_names_cells_with_the_label_and_every_name() -> None:
    g = DependencyGraph(label=lambda c: f"In [{c}]")
    add(g, "1", "p q")
    add(g, "2", "r", "p q")
    with pytest.raises(CycleError) as info:
        add(g, "1", "p q", "r")
    message = str(info.value)
    assert "In [1] reads r from In [2]" in message
    assert "In [2] reads p, q from In [1]" in message


def test_a_read_whose_definer_above_goes_binds_to_nothing_not_below() -> None:
    """Top to bottom such a read fails (NameError); it does not take the value of a
    cell below, which would also close a cycle here."""
    g = DependencyGraph()
    add(g, "a", "x")
    add(g, "b", "y", "x")
    add(g, "c", "x", "y")
    assert g.remove_cell(CellId("a")) == {"b"}
    assert g.binding(CellId("b"), "x") is None
    ordered, cyclic = g.order(g.cells())
    assert ordered == ["b", "c"] and cyclic == []
    add(g, "a", "x")  # defined above it again (a new cell goes last: moved first)
    g.set_order([CellId("a"), CellId("b"), CellId("c")])
    assert g.binding(CellId("b"), "x") == "a"
    # An edit that drops the name, and a move that puts the reader above its definer.
    add(g, "a", "")
    assert g.binding(CellId("b"), "x") is None
    g2 = DependencyGraph()
    add(g2, "d", "d")
    add(g2, "e", "", "d")
    assert g2.set_order([CellId("e"), CellId("d")]) == {"e"}
    assert g2.binding(CellId("e"), "d") is None


# -- console inputs: take-over ---------------------------------------------------------


def test_console_redefinition_rebinds_earlier_readers() -> None:
    g = DependencyGraph()
    console(g, "i1", "a")
    console(g, "i2", "b", "a")
    update = console(g, "i3", "a")
    assert update.displaced == {"i1"} and update.rebound == {"i2"}
    assert_edges(g, {"i1": {}, "i2": {}, "i3": {"i2": {"a"}}})
    assert g.definers("a") == ["i3"]


def test_console_self_updates_are_detached_not_rerun() -> None:
    g = DependencyGraph()
    console(g, "i1", "n")
    console(g, "i2", "n", "n")  # n = n + 1
    console(g, "i3", "", "n")  # print(n)
    console(g, "i4", "n")  # n = 10
    assert g.definers("n") == ["i4"]
    assert_edges(g, {"i1": {}, "i2": {}, "i3": {}, "i4": {"i3": {"n"}}})
    assert g.binding(CellId("i2"), "n") is None


def test_console_takeover_that_would_close_a_cycle_detaches() -> None:
    g = DependencyGraph()
    console(g, "i1", "a")
    console(g, "i2", "b", "a")
    console(g, "i3", "a", "b")  # a = b * 2
    assert_edges(g, {"i1": {}, "i2": {"i3": {"b"}}, "i3": {}})


def test_console_inputs_do_not_take_names_from_notebook_cells() -> None:
    g = DependencyGraph()
    add(g, "cell", "a")
    add(g, "reader", "", "a")
    console(g, "i1", "a")
    assert g.definers("a") == ["cell", "i1"]
    assert_edges(g, {"cell": {"reader": {"a"}}, "reader": {}, "i1": {}})


# -- cost shape ---------------------------------------------------------------------


class CountingGraph(DependencyGraph):
    def __init__(self) -> None:
        super().__init__()
        self.cycle_checks = 0

    def find_cycle(self, cell):  # type: ignore[no-untyped-def]
        self.cycle_checks += 1
        return super().find_cycle(cell)


N = 2_000


def test_appending_to_a_long_chain_does_not_walk_the_graph() -> None:
    g = CountingGraph()
    add(g, "c0", "v0")
    for i in range(1, N):
        add(g, f"c{i}", f"v{i}", f"v{i - 1}")
    assert g.cycle_checks == 0
    add(g, "mid", "", "v5")
    assert g.cycle_checks == 0
    # Control: a cell with parents and children is checked.
    add(g, "c1", "v1", "v0")
    assert g.cycle_checks == 0  # same names: nothing to check
    add(g, "c1", "v1 w", "v0")
    assert g.cycle_checks == 1
    chain = [f"c{i}" for i in range(N)]
    assert g.topological_order(reversed(chain)) == chain
    assert len(g.descendants(["c0"])) == N


# -- model check against a from-scratch recomputation -----------------------------------


Pins = set[tuple[str, str]]  # (reader, name): reads kept from falling to a cell below
NO_PINS: frozenset[tuple[str, str]] = frozenset()


def model_binding(order: list[str], cells: dict[str, tuple[set[str], set[str]]],
                  reader: str, name: str,
                  pins: Pins | frozenset[tuple[str, str]] = NO_PINS) -> str | None:
    i = order.index(reader)
    above = [c for c in order[:i] if name in cells[c][0]]
    if above:
        return above[-1]
    if (reader, name) in pins:
        return None
    below = [c for c in order[i + 1:] if name in cells[c][0]]
    return below[0] if below else None


def model_edges(order: list[str], cells: dict[str, tuple[set[str], set[str]]],
                pins: Pins | frozenset[tuple[str, str]] = NO_PINS) -> EdgeMap:
    edges: EdgeMap = {c: {} for c in order}
    for reader in order:
        for name in cells[reader][1]:
            definer = model_binding(order, cells, reader, name, pins)
            if definer is not None:
                edges[definer].setdefault(reader, set()).add(name)
    return edges


def model_bindings(order: list[str], cells: dict[str, tuple[set[str], set[str]]],
                   pins: Pins | frozenset[tuple[str, str]] = NO_PINS
                   ) -> dict[str, dict[str, tuple[str | None, bool]]]:
    """Each read's definer, and whether it is below the reader."""
    found: dict[str, dict[str, tuple[str | None, bool]]] = {}
    for reader in order:
        found[reader] = {}
        for name in cells[reader][1]:
            definer = model_binding(order, cells, reader, name, pins)
            below = definer is not None and order.index(definer) > order.index(reader)
            found[reader][name] = (definer, below)
    return found


def model_pin(order: list[str], cells: dict[str, tuple[set[str], set[str]]], pins: Pins,
              lost_above: set[tuple[str, str]]) -> None:
    """Reads that bound to a definer above and would now bind to one below: pinned."""
    for reader, name in lost_above:
        if reader not in cells or name not in cells[reader][1]:
            continue
        definer = model_binding(order, cells, reader, name, pins)
        if definer is not None and order.index(definer) > order.index(reader):
            pins.add((reader, name))


def model_has_cycle(edges: EdgeMap) -> bool:
    indegree = {c: 0 for c in edges}
    for kids in edges.values():
        for child in kids:
            indegree[child] += 1
    ready = [c for c, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        cell = ready.pop()
        seen += 1
        for child in edges[cell]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return seen != len(edges)


@pytest.mark.parametrize("seed", range(40))
def test_random_updates_match_a_from_scratch_model(seed: int) -> None:
    rnd = random.Random(seed)
    names = list("abcdef")
    g = DependencyGraph()
    order: list[str] = []
    cells: dict[str, tuple[set[str], set[str]]] = {}
    pins: Pins = set()
    for step in range(60):
        cid = f"c{rnd.randrange(9)}"
        before_bindings = model_bindings(order, cells, pins)
        # Reads bound to a definer above them (by definer), which an update may take.
        above = {(r, n, d) for r, b in before_bindings.items()
                 for n, (d, below) in b.items() if d is not None and not below}
        roll = rnd.random()
        if roll < 0.1:
            expected = {r for r, b in before_bindings.items() for d, _ in b.values() if d == cid}
            assert g.remove_cell(CellId(cid)) == expected - {cid}
            if cid in cells:
                order.remove(cid)
                del cells[cid]
                pins = {(r, n) for r, n in pins if r != cid}
                model_pin(order, cells, pins, {(r, n) for r, n, d in above if d == cid})
        elif roll < 0.2:
            new_order = order[:]
            rnd.shuffle(new_order)
            rebound = g.set_order([CellId(c) for c in new_order])
            model_pin(new_order, cells, pins, {(r, n) for r, n, _ in above})
            after = model_bindings(new_order, cells, pins)
            assert rebound == {c for c in after if after[c] != before_bindings[c]}
            order = new_order
        else:
            defs = set(rnd.sample(names, rnd.randrange(3)))
            refs = set(rnd.sample(names, rnd.randrange(3)))
            proposed_order = order if cid in cells else [*order, cid]
            proposed = {**cells, cid: (defs, refs)}
            proposed_pins = {(r, n) for r, n in pins if r != cid or n in refs}
            edges = model_edges(proposed_order, proposed, proposed_pins)
            pinned: set[str] = set()
            if _on_cycle(edges, cid):
                # Other cells' reads of a definer below them that close a cycle
                # through it bind to nothing; a cycle left goes through its own.
                ahead = _reach(edges, cid) | {cid}
                behind = {c for c in proposed_order if cid in _reach(edges, c)} - {cid}
                binds = model_bindings(proposed_order, proposed, proposed_pins)
                for reader in behind:
                    for name, (definer, below) in binds[reader].items():
                        if below and definer in ahead:
                            proposed_pins.add((reader, name))
                            pinned.add(reader)
                edges = model_edges(proposed_order, proposed, proposed_pins)
            snap = snapshot(g)
            if _on_cycle(edges, cid):
                with pytest.raises(CycleError):
                    add(g, cid, " ".join(sorted(defs)), " ".join(sorted(refs)), code=str(step))
                assert snapshot(g) == snap
            else:
                update = add(g, cid, " ".join(sorted(defs)), " ".join(sorted(refs)),
                             code=str(step))
                order, cells, pins = proposed_order, proposed, proposed_pins
                model_pin(order, cells, pins, {(r, n) for r, n, d in above if d == cid})
                after = model_bindings(order, cells, pins)
                assert update.rebound == {
                    c for c in after if c != cid and after[c] != before_bindings.get(c)
                } | pinned
        assert g.cells() == order
        assert_edges(g, model_edges(order, cells, pins))
        ordered, cyclic = g.order(g.cells())
        assert sorted(ordered + cyclic) == sorted(order)
        assert bool(cyclic) == model_has_cycle(model_edges(order, cells, pins))


def _reach(edges: EdgeMap, cell: str) -> set[str]:
    stack, seen = list(edges[cell]), set()
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(edges[node])
    return seen


def _on_cycle(edges: EdgeMap, cell: str) -> bool:
    stack, seen = list(edges[cell]), set()
    while stack:
        node = stack.pop()
        if node == cell:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges[node])
    return False
