"""An oracle for :mod:`reactive_kernel.analysis`, built from CPython's own bytecode.

A cell is compiled with ``compile()``; its module-level code is walked as a
control-flow graph (every instruction's successors: the next one, jump
targets, and the exception table's handlers) with a *must* data-flow analysis
of the module names bound or deleted on every path.  Then:

- **binds**: every name a ``STORE_NAME``/``STORE_GLOBAL``/``DELETE_NAME``/
  ``DELETE_GLOBAL`` of the module code, of a class body or comprehension it
  runs, may change;
- **reads**: every name a ``LOAD_NAME``/``LOAD_GLOBAL`` (or a ``DELETE_NAME``,
  which needs the name to exist) may read while some path to it has not bound
  it; in a class body, a name not bound in the class on every path reads the
  module;
- **late binds** and **late reads**: the same in function and lambda bodies,
  which run when called: global stores, and global loads (a lambda not bound
  to a name is taken as called where it stands, so its reads of names the
  cell binds are the cell's own).

A ``for`` loop over an iterable that is certainly not empty (a display, ``range``
of literals, through a few builtins that keep the items) is entered through a
copy of its ``FOR_ITER`` that cannot exit: such a loop ends only after an
iteration.

Class bodies and comprehensions run where they stand, with the module names
bound at that point (a generator expression is counted as running there).
:func:`missed` compares with the analysis: every bind must be a definition,
every read a ref; late ones may instead be the call effects of the cell's
functions (which the analysis gives to the cells calling them).  Private
(``_x``) names, builtins and IPython's ambient names are left out on both
sides, as the analysis documents.
"""

from __future__ import annotations

import ast
import dis
import itertools
import types
from dataclasses import dataclass, field

from reactive_kernel.analysis import AMBIENT_NAMES, BUILTIN_NAMES, analyse, is_private

_ENDS = {"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE"}
_UNCONDITIONAL = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP",
                  "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_NO_INTERRUPT"}
_COMPREHENSIONS = {"<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>"}
_JUMPS = set(dis.hasjrel) | set(dis.hasjabs)


@dataclass
class Truth:
    binds: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    late_binds: set[str] = field(default_factory=set)
    late_reads: set[str] = field(default_factory=set)


def _gives_an_item(node: ast.expr) -> bool:
    """Iterating over ``node`` certainly gives an item (if evaluating it does not
    raise): a display with an element that is not starred, a non-empty string,
    ``range`` of literals that is not empty, or one of these through a builtin
    that keeps the items."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(not isinstance(e, ast.Starred) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(k is not None for k in node.keys)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes) and bool(node.value)
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.keywords:
        return False
    name, args = node.func.id, node.args
    if name == "range":
        try:
            return bool(range(*(ast.literal_eval(a) for a in args)))
        except (ValueError, TypeError, SyntaxError):
            return False
    if name in ("enumerate", "reversed", "sorted", "list", "tuple") and len(args) == 1:
        return _gives_an_item(args[0])
    return name == "zip" and bool(args) and all(_gives_an_item(a) for a in args)


def _nonempty_loops(source: str) -> set[tuple[int | None, ...]]:
    """Source positions of the ``for`` statements whose iterable certainly gives
    an item."""
    return {(node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.For) and _gives_an_item(node.iter)}


def _successors(code: types.CodeType, nonempty: set[tuple[int | None, ...]] | None = None,
                ) -> tuple[list[dis.Instruction], dict[int, list[int]], dict[int, list[int]]]:
    """Instructions, their normal successors, and the handlers an exception in
    each may jump to.  The ``FOR_ITER`` of a loop in ``nonempty`` (positions of
    the ``for`` statement) is entered, from its ``GET_ITER``, through a copy of
    it (offset ``-1 - offset``) that can only go on into the body: the loop can
    only end after an iteration."""
    instructions = list(dis.get_instructions(code))
    offsets = [i.offset for i in instructions]
    following = dict(itertools.pairwise(offsets))
    entries = getattr(dis.Bytecode(code), "exception_entries", [])
    normal: dict[int, list[int]] = {}
    raising: dict[int, list[int]] = {}
    for ins in instructions:
        out: list[int] = []
        if ins.opname not in _ENDS and ins.opname not in _UNCONDITIONAL \
                and ins.offset in following:
            out.append(following[ins.offset])
        if ins.opcode in _JUMPS and isinstance(ins.argval, int):
            out.append(ins.argval)
        normal[ins.offset] = out
        raising[ins.offset] = [e.target for e in entries if e.start <= ins.offset < e.end]
    for ins, nxt in itertools.pairwise(instructions):
        if (nonempty and ins.opname == "GET_ITER" and nxt.opname == "FOR_ITER"
                and tuple(ins.positions or ()) in nonempty and nxt.offset in following):
            first = -1 - nxt.offset
            normal[ins.offset] = [first]
            normal[first] = [following[nxt.offset]]
            raising[first] = raising[nxt.offset]
    return instructions, normal, raising


def _must(code: types.CodeType, start: frozenset[str], kinds: set[str],
          unbinds: frozenset[str] = frozenset(),
          nonempty: set[tuple[int | None, ...]] | None = None,
          ) -> tuple[list[dis.Instruction], dict[int, frozenset[str]]]:
    """Names bound (by instructions in ``kinds``, and not unbound since by one in
    ``unbinds``) on every path to each instruction; unreachable instructions are
    left out."""
    instructions, normal, raising = _successors(code, nonempty)
    before: dict[int, frozenset[str]] = {instructions[0].offset: start}
    by_offset = {i.offset: i for i in instructions}
    by_offset.update({offset: by_offset[-1 - offset] for offset in normal if offset < 0})
    work = [instructions[0].offset]
    while work:
        offset = work.pop()
        state = before[offset]
        ins = by_offset[offset]
        if ins.opname in kinds:
            after = state | {ins.argval}
        elif ins.opname in unbinds:
            after = state - {ins.argval}
        else:
            after = state
        # An exception may leave an instruction before it stored: a handler
        # sees the state before it.
        for nxt, value in [*((n, after) for n in normal[offset]),
                           *((n, state) for n in raising[offset])]:
            old = before.get(nxt)
            new = value if old is None else old & value
            if old is None or new != old:
                before[nxt] = new
                work.append(nxt)
    return instructions, before


def _nested(code: types.CodeType, instructions: list[dis.Instruction]
            ) -> list[tuple[int, types.CodeType, str]]:
    """Code objects made in ``code``: (offset, code, "class" | "comprehension" |
    "function")."""
    found = []
    for i, ins in enumerate(instructions):
        if ins.opname != "LOAD_CONST" or not isinstance(ins.argval, types.CodeType):
            continue
        inner = ins.argval
        if inner.co_name in _COMPREHENSIONS:
            kind = "comprehension"
        elif i > 0 and instructions[i - 1].opname == "LOAD_BUILD_CLASS":
            kind = "class"
        else:
            kind = "function"
        found.append((ins.offset, inner, kind))
    return found


_MODULE_STORES = {"STORE_NAME", "STORE_GLOBAL", "DELETE_NAME", "DELETE_GLOBAL"}
# In a class body, ``del x`` unbinds the class's own ``x``: a later load reads the module.
_CLASS_STORES = {"STORE_NAME"}
_CLASS_UNBINDS = frozenset({"DELETE_NAME"})


def _run(code: types.CodeType, kind: str, module: frozenset[str], truth: Truth,
         nonempty: set[tuple[int | None, ...]]) -> None:
    """Code that runs now: the module, or a class body or comprehension it runs
    while ``module`` names are bound on every path."""
    if kind == "module":
        instructions, before = _must(code, module, _MODULE_STORES, nonempty=nonempty)
    elif kind == "class":
        instructions, before = _must(code, frozenset(), _CLASS_STORES, _CLASS_UNBINDS,
                                     nonempty)
    else:
        instructions, before = _must(code, frozenset(), set())
    for ins in instructions:
        if ins.offset not in before:
            continue  # unreachable
        here, op, name = before[ins.offset], ins.opname, ins.argval
        if kind == "module":
            if op in ("LOAD_NAME", "LOAD_GLOBAL", "DELETE_NAME") and name not in here:
                truth.reads.add(name)
            if op in _MODULE_STORES:
                truth.binds.add(name)
        elif kind == "class":
            if op == "LOAD_NAME" and name not in here and name not in module:
                truth.reads.add(name)
            if op == "LOAD_GLOBAL" and name not in module:
                truth.reads.add(name)
            if op in ("STORE_GLOBAL", "DELETE_GLOBAL"):
                truth.binds.add(name)
        else:
            if op == "LOAD_GLOBAL" and name not in module:
                truth.reads.add(name)
            if op in ("STORE_GLOBAL", "DELETE_GLOBAL"):
                truth.binds.add(name)
    for offset, inner, inner_kind in _nested(code, instructions):
        if offset not in before:
            continue
        if inner_kind == "function":
            _late(inner, truth)
        else:
            at = before[offset] if kind == "module" else module
            _run(inner, inner_kind, frozenset(at), truth, nonempty)


def _late(code: types.CodeType, truth: Truth, class_body: bool = False) -> None:
    """A function or lambda body (or a class body one of them runs): runs when
    called."""
    instructions = list(dis.get_instructions(code))
    if class_body:
        # Its LOAD_NAME reads the module where the class has not bound the name on
        # every path (names of the enclosing function are LOAD_CLASSDEREF).
        instructions, before = _must(code, frozenset(), _CLASS_STORES, _CLASS_UNBINDS)
    for ins in instructions:
        if ins.opname == "LOAD_GLOBAL":
            truth.late_reads.add(ins.argval)
        elif ins.opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
            truth.late_binds.add(ins.argval)
        elif ins.opname == "LOAD_NAME" and class_body and ins.offset in before \
                and ins.argval not in before[ins.offset]:
            truth.late_reads.add(ins.argval)
    for _offset, inner, kind in _nested(code, list(dis.get_instructions(code))):
        _late(inner, truth, class_body=kind == "class")


def oracle(source: str) -> Truth:
    """What CPython's bytecode for ``source`` may bind and read (module names)."""
    code = compile(source, "<cell>", "exec", dont_inherit=True)
    truth = Truth()
    _run(code, "module", frozenset(), truth, _nonempty_loops(source))
    ignored = BUILTIN_NAMES | AMBIENT_NAMES

    def public(names: set[str]) -> set[str]:
        return {n for n in names if not is_private(n)}

    truth.binds = public(truth.binds)
    truth.late_binds = public(truth.late_binds)
    truth.reads = {n for n in public(truth.reads) if n not in ignored}
    truth.late_reads = {n for n in public(truth.late_reads) if n not in ignored}
    return truth


@dataclass
class Misses:
    defs: set[str]
    reads: set[str]

    def __bool__(self) -> bool:
        return bool(self.defs or self.reads)


def missed(source: str) -> Misses:
    """Names the bytecode may bind or read that the analysis does not list."""
    truth = oracle(source)
    got = analyse(source)
    late_reads = {n for c in got.calls for n in c.reads}
    late_writes = {n for c in got.calls for n in c.writes}
    defs = truth.binds - got.defs
    defs |= truth.late_binds - got.defs - late_writes
    reads = truth.reads - got.refs
    # A lambda that is not bound to a name is taken as called where it stands:
    # its reads of names the cell binds are the cell's own.
    reads |= truth.late_reads - got.refs - late_reads - late_writes - got.defs
    return Misses(defs, reads)


def statements(source: str) -> list[str]:
    """Each top-level statement of a module as a cell of its own."""
    tree = ast.parse(source)
    found = []
    for node in tree.body:
        segment = ast.get_source_segment(source, node, padded=False)
        if segment is not None:
            found.append(segment)
    return found
