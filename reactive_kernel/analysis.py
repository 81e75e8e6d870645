"""Static analysis of one cell: the names it defines, reads and deletes.

Pure: code strings in, a frozen dataclass out; nothing here imports IPython,
ipykernel, zmq or tornado.  IPython syntax (``%magic``, ``!cmd``, ``%%magic``)
is handled by passing the shell's own input transformer as ``transform``.

The walk follows the cell's module-level code in execution order, through
its branches, loops, ``try``/``with`` statements (any statement of a ``with``
body may be skipped by a context manager that suppresses an exception, and so
may unpacking its value and entering the next context managers: only a plain
``as name`` of the first one is bound for sure) and ``match`` cases, keeping
the set of names *every* path has bound or deleted so far.  Class bodies and
comprehensions run where they stand (a class body calling a function it
defines reads that function's globals); function and lambda bodies run when
called, and :mod:`symtable` says which globals they read and write.  A class
body run by a function call is walked like one run now, for the names it reads
from the globals before binding them itself (symtable calls those local).
The code magics run in the user namespace (``%time``, ``%timeit``, ``%prun``,
``%debug``, ``%%capture``) is walked where the magic stands, after IPython's
input transformer as IPython does.

Invariants of :class:`CellAnalysis`:

- ``defs`` are the module-level names the cell may change: bind (assignment,
  import, ``def``/``class``, ``for``/``with``/``except`` targets, walrus,
  ``match`` captures, ``global`` writes in class bodies), delete, change in
  place (``inplace``), or write through ``global`` in a function it calls.
- ``refs`` are the names the cell may read from outside itself: a load on a
  path where the cell has not bound the name yet, the globals read by the
  functions it calls (its own, when it loads their name), and every name in
  ``defs`` that some path leaves as it was (``if flag: mode = 'fast'``: the
  value after the cell may be the one from before).
- ``weak`` are refs that only pass a definition above through: on some path
  the cell bound the name first, so it never needs a definer below it.
- ``pass_only`` are the weak refs the cell never loads unbound (only some
  path leaving them as they were reads them: ``for t in ts: tree = t``): a
  run that bound one made its value without the one above.
- ``inplace`` are names whose object the cell changes in place at module level:
  the base of a subscript or attribute target (``df["b"] = ...``, ``obj.x = 1``,
  ``del d[k]``), augmented assignments (``x += 1``), and a call of a method
  that changes its object as the builtin containers' and pandas' do
  (:data:`MUTATING_METHODS`: ``lst.append(1)``, ``df.insert(0, "c", 1)``,
  ``model.fit(X, y)``) or of any method with ``inplace=True``.  Other method
  calls (``ax.plot(x)``, ``rng.integers(3)``) are reads only.
- ``calls`` give, per function or class the cell defines (private ones too),
  the globals its bodies read, write and change in place when called (from
  any cell); a cell calling one of its own changes those names in place too.
- ``deletes`` are module-level names the cell may ``del``.
- ``imported`` are defs every binding of which is an ``import`` statement.
- ``builtins`` are the builtin names (``print``, ``eval``, ``sum``...) the cell
  or the functions it defines may read from the module namespace: they are not
  refs, yet a cell that defines one (``def eval(x): ...``) shadows the builtin
  for the cells below it, and only for those.
- IPython's ambient names (``get_ipython``, ``display``, ...) are never refs.
  Names starting with ``_`` are cell-private and appear nowhere.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import symtable
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from .generators import NUMPY, STDLIB
from .ipython_syntax import (
    NAMELESS_CELL_MAGICS,
    PYTHON_ARG_LINE_MAGICS,
    PYTHON_BODY_CELL_MAGICS,
    expanded_names,
    magic_call,
    shell_call,
    split_timeit_options,
)

#: Names IPython puts in every user namespace; reading them is not a dependency.
AMBIENT_NAMES: frozenset[str] = frozenset(
    {"get_ipython", "display", "In", "Out", "exit", "quit"}
)
BUILTIN_NAMES: frozenset[str] = frozenset(dir(builtins))

#: What calling a function reads, writes and changes in place, globally.
_Effects = tuple[set[str], set[str], set[str]]



@dataclass(frozen=True)
class CallEffects:
    """What calling a function (or a class's methods) reads and writes globally."""

    name: str
    reads: frozenset[str] = field(default_factory=frozenset)
    writes: frozenset[str] = field(default_factory=frozenset)
    #: Globals changed in place (``registry[name] = fn``, ``config.debug = True``).
    changes: frozenset[str] = field(default_factory=frozenset)
    #: Names whose call effects these are too, without being read (``name =
    #: maker``, ``maker(...)``: see ``CellAnalysis.aliases``).
    via: frozenset[str] = field(default_factory=frozenset)
    #: ``(position, name, certain)`` of the parameters whose objects a function
    #: changes in place and never rebinds (``def clean(d): d.dropna(inplace=True)``:
    #: ``(0, "d", True)``; position -1 for a keyword-only one): a call giving a
    #: name there (``clean(df)``, ``clean(d=df)``) changes that name in place.
    #: Not ``certain`` when only an augmented assignment changes it (``pmf *=
    #: likelihood``): the object changes only if it is mutable (the kernel looks).
    changes_params: frozenset[tuple[int, str, bool]] = field(default_factory=frozenset)


@dataclass(frozen=True)
class CellAnalysis:
    """What one cell defines, reads from other cells, and deletes."""

    defs: frozenset[str] = field(default_factory=frozenset)
    refs: frozenset[str] = field(default_factory=frozenset)
    deletes: frozenset[str] = field(default_factory=frozenset)
    #: ``from m import *`` was seen: the cell defines names we cannot list.
    star_import: bool = False
    inplace: frozenset[str] = field(default_factory=frozenset)
    weak: frozenset[str] = field(default_factory=frozenset)
    pass_only: frozenset[str] = field(default_factory=frozenset)
    #: Per function or class the cell leaves defined, sorted by name.
    calls: tuple[CallEffects, ...] = ()
    #: ``(name, maker)`` for ``name = maker``, ``maker.attr``, ``maker(...)``: a
    #: function reached through ``name`` may be ``maker``'s (see ``_alias``).
    aliases: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    #: Builtin names read from the module namespace (a cell above may shadow them).
    builtins: frozenset[str] = field(default_factory=frozenset)
    #: Defs bound only by ``import`` statements (re-running one gives the same
    #: object unless the module was reloaded).
    imported: frozenset[str] = field(default_factory=frozenset)
    #: ``(name, attributes, method)`` for the names in ``inplace`` that the cell
    #: changes only by calling a known mutating method on them or on an
    #: attribute of them (``lst.append``: ``("lst", (), "append")``; ``np.sort``,
    #: ``stats.norm.fit``): whether the call changes anything depends on what the
    #: object is, which the kernel decides when it knows (a module's function
    #: changes no module).
    method_changes: frozenset[tuple[str, tuple[str, ...], str]] = field(
        default_factory=frozenset)
    #: Those of them the cell does not bind otherwise (no assignment or import):
    #: defs only through the calls.
    method_only: frozenset[str] = field(default_factory=frozenset)
    #: ``(name, text)`` for the names in ``inplace`` that the cell changes only
    #: by top-level simple statements reading no other name (``np.random.seed(0)``,
    #: ``plt.rcParams["font.size"] = 12``, ``pd.set_option("display.precision", 3)``):
    #: ``text`` is those statements, comparable between runs.  On a module, the
    #: same statements set the same state again: see :func:`literal_changes`.
    literal_changes: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    #: ``(name, attributes, function)`` for module-level calls that may draw from
    #: or seed a global random generator (``np.random.rand(3)``: ``("np",
    #: ("random",), "rand")``, ``random.seed(1)``): the kernel decides, by what
    #: the object is, whether they do (see :mod:`.generators`).
    draw_calls: frozenset[tuple[str, tuple[str, ...], str]] = field(
        default_factory=frozenset)
    #: ``(name, attributes, method)`` for each known mutating method a
    #: module-level call is given to call (``list(map(out.append, xs))``:
    #: ``("out", (), "append")``; ``fetch(callback=self_.seen.add)``): the call
    #: may change that object, which the kernel decides by what it is (a
    #: module's function, ``reduce(np.add, xs)``, changes nothing).  Not in
    #: ``inplace``.
    handed: frozenset[tuple[str, tuple[str, ...], str]] = field(default_factory=frozenset)
    #: Every top-level statement is an expression changing nothing the analysis
    #: could miss (``df``, ``df.head(3)``, ``print(a)``): no assignment, no
    #: in-place change, no call but :data:`SHOWING_CALLS` and methods (``c.fix(df)``
    #: may change ``df``: ``passes_to``).  Re-running it only shows again, if its
    #: methods are those of the values it shows (see ``Runner.showed``).
    shows_only: bool = False
    #: ``(function, position or keyword, name)`` for each call of a function
    #: by its name given a name (``clean(df)``: ``("clean", 0, "df")``;
    #: ``clean(d=df)``: ``("clean", "d", "df")``), a function of another cell:
    #: the call changes the name in place if that function changes that
    #: parameter (``CallEffects.changes_params``; the kernel looks).
    passed: frozenset[tuple[str, int | str, str]] = field(default_factory=frozenset)
    #: ``(name, attributes, function, given)`` for each module-level call of a
    #: function or method reached through a name (``spectrum.scale(2)``:
    #: ``("spectrum", (), "scale", ())``; ``helpers.clean(df)``: ``("helpers",
    #: (), "clean", ((0, "df"),))``), ``given`` as in ``passed``: a method of the
    #: notebook's own classes changing ``self``, or its own function changing a
    #: parameter, changes that name in place (the kernel looks: see :mod:`.owncalls`).
    attribute_calls: frozenset[
        tuple[str, tuple[str, ...], str, tuple[tuple[int | str, str], ...]]] = field(
        default_factory=frozenset)
    #: Every top-level statement is such an expression, an import or an
    #: assignment to plain names whose value calls nothing else either
    #: (``ax = df.plot()``, ``df = pd.DataFrame(np.random.rand(3, 2))``):
    #: re-running it binds its names anew and changes nothing it reads.
    binds_only: bool = False
    #: For those cells: its last statement is an expression IPython shows (no
    #: trailing ``;``): ``d = a - b`` then ``d``.
    displays: bool = False
    #: For those cells, the names the methods given names are called on, at
    #: the root (``pd`` of ``pd.DataFrame(x)``, ``c`` of ``c.fix(df)``): the cell
    #: only shows if they are a library's modules or objects (the kernel looks).
    passes_to: frozenset[str] = field(default_factory=frozenset)


#: Builtins a cell that only shows things calls (see ``CellAnalysis.shows_only``).
SHOWING_CALLS = frozenset({
    "print", "display", "repr", "str", "len", "round", "sorted", "list", "tuple", "dict",
    "set", "sum", "min", "max", "abs", "type", "format", "int", "float", "bool",
})


def shows_only(body: list[ast.stmt], binding: bool = False) -> frozenset[str] | None:
    """Whether ``body`` only shows values (see ``CellAnalysis.shows_only``), or
    with ``binding``, shows values and binds names (``CellAnalysis.binds_only``):
    if so, the names at the root of the methods it gives names to (``passes_to``),
    else None."""
    if not body:
        return None
    roots: set[str] = set()
    for stmt in body:
        if binding and isinstance(stmt, (ast.Import, ast.ImportFrom)):
            continue
        if binding and isinstance(stmt, (ast.Assign, ast.AnnAssign)) and all(
                _plain_target(t) for t in (
                    stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
            if stmt.value is None:
                continue
        elif not isinstance(stmt, ast.Expr):
            return None
        for node in ast.walk(stmt):
            if isinstance(node, (ast.NamedExpr, ast.Lambda, ast.Await, ast.Yield,
                                 ast.YieldFrom)):
                return None
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in SHOWING_CALLS:
                continue
            if not isinstance(func, ast.Attribute):
                return None
            if any(isinstance(sub, ast.Name)
                   for arg in [*node.args, *(k.value for k in node.keywords)]
                   for sub in ast.walk(arg)):
                while isinstance(func, (ast.Attribute, ast.Subscript)):
                    func = func.value
                if not isinstance(func, ast.Name):
                    return None
                roots.add(func.id)
    return frozenset(roots)


def _quiet(source: str) -> bool:
    """The cell ends with ``;``, which keeps IPython from showing its last value."""
    lines = [line.split("#", 1)[0].rstrip() for line in source.rstrip().splitlines()]
    lines = [line for line in lines if line]
    return bool(lines) and lines[-1].endswith(";")


def _plain_target(target: ast.expr) -> bool:
    """``x``, ``a, b``, ``[a, *rest]``: names only, no item or attribute."""
    if isinstance(target, ast.Name):
        return True
    if isinstance(target, ast.Starred):
        return _plain_target(target.value)
    return isinstance(target, (ast.Tuple, ast.List)) and all(map(_plain_target, target.elts))


#: IPython's own names in the namespace: the last results (``_``, ``__``, ``___``,
#: ``_5``), the inputs (``_i``, ``_ii``, ``_iii``, ``_i5``), its histories and
#: ``!cmd``'s exit code.
_IPYTHON_NAMES = re.compile(r"_|_\d+|_i+|_i\d+|_[iod]h|_exit_code")


def is_private(name: str) -> bool:
    """Names that never link cells: IPython's own (``_``, ``_5``, ``_i3``, ``_oh``)
    and those starting with ``__`` (dunders, ``__x``).  Other names starting with
    one ``_`` (``_scale = 2``) are the notebook's, linked like any other."""
    return name.startswith("__") or _IPYTHON_NAMES.fullmatch(name) is not None



_CELL_MAGIC = re.compile(r"\A\s*%%([\w.]+)([^\n]*)")


def unread_cell_magic(code: str, cell_magics: Iterable[str] = ()) -> frozenset[str] | None:
    """If ``code`` is a cell magic the analysis does not read, one that may run
    code in the namespace (the notebook's own or a package's: a ``%%expect``
    giving its body to ``run_cell``, ThinkPython's ``%%add_method_to Card``
    setting a method of ``Card``, ``%%cython``), the identifiers on its line
    (``Card``); None for any other code, and for a magic whose body is Python
    (``%%time``), another language (``%%bash``), or analysed by ``cell_magics``
    (``%%sql``)."""
    found = _CELL_MAGIC.match(code)
    if found is None:
        return None
    name = found.group(1)
    if name in PYTHON_BODY_CELL_MAGICS or name in NAMELESS_CELL_MAGICS \
            or name in _RUNNING_MAGICS or name in frozenset(cell_magics):
        return None
    return frozenset(w for w in found.group(2).replace(",", " ").split()
                     if w.isidentifier() and not keyword.iskeyword(w))

@dataclass(frozen=True)
class MagicNames:
    """What the body of a non-Python cell magic defines and reads."""

    defs: frozenset[str] = frozenset()
    refs: frozenset[str] = frozenset()
    #: Refs only a cell above may give: never bound to a cell below
    #: (``DROP TABLE IF EXISTS t`` needs no ``t``).
    weak: frozenset[str] = frozenset()
    #: Defs the body leaves gone (``DROP TABLE t``).
    deletes: frozenset[str] = frozenset()


#: Analyses a non-Python cell magic: (line, body) -> its names.
MagicAnalyser = Callable[[str, str], MagicNames]


def analyse(
    code: str,
    transform: Callable[[str], str] | None = None,
    ignore: Iterable[str] = (),
    cell_magics: Mapping[str, MagicAnalyser] | None = None,
) -> CellAnalysis:
    """Analyse one cell.

    ``transform`` turns IPython syntax into Python (the shell's
    ``transform_cell``); ``ignore`` adds names that are never refs;
    ``cell_magics`` analyse the bodies of non-Python cell magics (``%%sql``).
    Raises :class:`SyntaxError` when the (transformed) code does not parse.
    """
    source = transform(code) if transform is not None else code
    walker = _Walker(cell_magics or {}, transform)
    walker.walk_source(source, strict=True)
    ignored = AMBIENT_NAMES | frozenset(ignore)
    result = walker.result(BUILTIN_NAMES | ignored, BUILTIN_NAMES - ignored)
    if walker.tree is None:
        return result
    if not result.inplace:
        # (A cell reading no other cell's names may still show what a setting
        # decides: ``24 * 60 / 7`` under ``%precision 3``.)
        roots = shows_only(walker.tree.body, binding=bool(result.defs))
        if roots is None:
            return result
        if result.defs:
            body = walker.tree.body
            return replace(result, binds_only=True, passes_to=roots,
                           displays=isinstance(body[-1], ast.Expr) and not _quiet(source))
        return replace(result, shows_only=True, passes_to=roots)
    texts = literal_changes(walker.tree.body)
    return replace(result, literal_changes=frozenset(
        (name, text) for name, text in texts.items() if name in result.inplace))


def literal_changes(body: list[ast.stmt]) -> dict[str, str]:
    """Per name changed in place only by simple statements of ``body`` that read
    no other name (``np.random.seed(0)``, ``plt.rcParams["font.size"] = 12``,
    ``sys.path.append("..")``), the text of those statements.  A name changed
    in place anywhere else (a compound statement, a function body, a statement
    reading another name or changing two) has none: what it sets may differ
    between runs of the same text."""
    texts: dict[str, list[str]] = {}
    mixed: set[str] = set()
    for stmt in body:
        roots: set[str] = set()
        loads: set[str] = set()
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                for target in (node.targets if isinstance(node, (ast.Assign, ast.Delete))
                               else [node.target]):
                    _target_bases(target, roots)
            elif isinstance(node, ast.Call):
                changed = _mutated(node)
                if changed is not None:
                    _target_bases(ast.Attribute(value=changed, attr="_", ctx=ast.Store()),
                                  roots)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                loads.add(node.id)
        if not roots:
            continue
        simple = isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign))
        if not simple or len(roots) != 1 or loads - roots:
            mixed |= roots
            continue
        texts.setdefault(roots.pop(), []).append(ast.dump(stmt))
    return {name: "\n".join(found) for name, found in texts.items() if name not in mixed}


def bound_before(
    code: str,
    line: int,
    column: int | None,
    transform: Callable[[str], str] | None = None,
    cell_magics: Mapping[str, MagicAnalyser] | None = None,
) -> frozenset[str] | None:
    """The names a run that failed in the top-level statement at ``line`` and
    ``column`` (of the transformed code, as its traceback gives them) surely
    bound or deleted: those every path of the statements before that one
    binds or deletes (``n = 10; 1 / 0`` bound ``n``).  ``column`` None: the
    line alone, unless several statements share it.  None when no top-level
    statement of ``code`` is there."""
    source = transform(code) if transform is not None else code
    try:
        tree = ast.parse(source, "<cell>", "exec")
    except SyntaxError:
        return None
    def start(stmt: ast.stmt) -> tuple[int, int]:
        # A decorator runs first, from its line (``@`` one column before it).
        first = min([(stmt.lineno, stmt.col_offset)] + [
            (d.lineno, d.col_offset - 1) for d in getattr(stmt, "decorator_list", ())])
        return first if column is not None else (first[0], 0)

    at = [i for i, stmt in enumerate(tree.body)
          if stmt.end_lineno is not None and stmt.end_col_offset is not None
          and start(stmt) <= (line, column if column is not None else 0)
          <= (stmt.end_lineno, stmt.end_col_offset if column is not None else 0)]
    if len(at) != 1:
        return None
    walker = _Walker(cell_magics or {}, transform)
    walker.scopes = _Scopes(source, tree)
    walker._block(tree.body[:at[0]])
    must = walker.module.must or set()
    return frozenset(n for n in must if not is_private(n))


# -- function bodies: symtable -------------------------------------------------------


def _tables(table: symtable.SymbolTable) -> Iterator[symtable.SymbolTable]:
    yield table
    for child in table.get_children():
        yield from _tables(child)


def _nested_in_functions(
    table: symtable.SymbolTable, functions: tuple[symtable.SymbolTable, ...]
) -> Iterator[tuple[symtable.SymbolTable, tuple[symtable.SymbolTable, ...]]]:
    """``table`` and its nested scopes, each with the function scopes around it."""
    yield table, functions
    inner = (*functions, table) if table.get_type() == "function" else functions
    for child in table.get_children():
        yield from _nested_in_functions(child, inner)


class _Scopes:
    """Function, lambda and class scopes of a source, found by kind, name and line."""

    def __init__(self, source: str, tree: ast.Module) -> None:
        self.tree = tree
        self.by_key: dict[tuple[str, str, int], list[symtable.SymbolTable]] = {}
        for table in _tables(symtable.symtable(source, "<cell>", "exec")):
            key = (table.get_type(), table.get_name(), table.get_lineno())
            self.by_key.setdefault(key, []).append(table)
        self._class_nodes: dict[tuple[str, int], ast.ClassDef] | None = None
        self._changed_bases: dict[tuple[str, int], set[str]] | None = None
        # ``@name`` in a function's ``.query("...")``: a read when it is called.
        self._query_names: dict[tuple[str, int], set[str]] | None = (
            None if "@" in source else {})
        self._cache: dict[tuple[str, str, int], tuple[frozenset[str], ...]] = {}

    def function(self, name: str, lineno: int) -> _Effects:
        return self._cached(("function", name, lineno),
                            lambda: self.by_key.get(("function", name, lineno), []))

    def methods(self, name: str, lineno: int) -> _Effects:
        """Effects of the functions nested in a class (not its body, which runs now)."""
        return self._cached(("class", name, lineno), lambda: [
            child
            for table in self.by_key.get(("class", name, lineno), [])
            for child in table.get_children()
        ])

    def _cached(self, key: tuple[str, str, int],
                tables: Callable[[], list[symtable.SymbolTable]]) -> _Effects:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = tuple(frozenset(s) for s in self._effects(tables()))
        return set(found[0]), set(found[1]), set(found[2])

    def _effects(self, tables: Iterable[symtable.SymbolTable]) -> _Effects:
        """Globals read, written and changed in place by code in ``tables``
        (and their nested scopes)."""
        reads: set[str] = set()
        writes: set[str] = set()
        changes: set[str] = set()
        for top in tables:
            for table, functions in _nested_in_functions(top, ()):
                if table.get_type() == "class" and functions:
                    reads |= self._class_body_reads(table)
                if table.get_type() == "function":
                    changes |= self._changed_globals(table)
                    reads |= self._query_globals(table)
                for sym in table.get_symbols():
                    if table.get_type() == "class" and sym.is_referenced() and sym.is_annotated():
                        # ``x: int`` in a class body binds nothing, and symtable does
                        # not tell it from ``x: int = 1``: a read may look outside.
                        reads.add(sym.get_name())
                    if not sym.is_global():
                        continue
                    if sym.is_referenced():
                        reads.add(sym.get_name())
                    if sym.is_declared_global() and (sym.is_assigned() or sym.is_imported()):
                        writes.add(sym.get_name())
        return reads, writes, changes

    def _changed_globals(self, table: symtable.SymbolTable) -> set[str]:
        """Globals whose object a function's own body changes in place: the
        base of a subscript or attribute target (``registry[k] = v``,
        ``config.x = 1``, ``del cache[k]``, ``totals[k] += 1``) or of a mutating
        method's call (``registry.append(f)``)."""
        if self._changed_bases is None:
            self._changed_bases = self._find_changed_bases()
        candidates = self._changed_bases.get((table.get_name(), table.get_lineno()), ())
        found: set[str] = set()
        for name in candidates:
            if name in (NUMPY, STDLIB):
                found.add(name)  # a global generator (``np.random.seed(s)``)
                continue
            try:
                if table.lookup(name).is_global():
                    found.add(name)
            except KeyError:
                pass
        return found

    def changed_params(self, node: ast.FunctionDef | ast.AsyncFunctionDef,
                       ) -> frozenset[tuple[int, str, bool]]:
        """The parameters a function's own body changes in place (see
        ``CallEffects.changes_params``), never rebinding them."""
        if self._changed_bases is None:
            self._changed_bases = self._find_changed_bases()
        candidates = self._changed_bases.get((node.name, node.lineno), set())
        augmented, rebound, _calls = _body_facts(node)
        return frozenset(
            (position, name, name in candidates)
            for position, name in _parameters(node)
            if name not in rebound and (name in candidates or name in augmented))

    def _query_globals(self, table: symtable.SymbolTable) -> set[str]:
        """The globals a function's ``.query``/``.eval`` strings read with ``@``:
        pandas looks an ``@name`` up in the calling frame's locals, then its
        globals; a name the function does not bind is read from the module."""
        if self._query_names is None:
            self._query_names = _query_names_by_function(self.tree)
        found: set[str] = set()
        for name in self._query_names.get((table.get_name(), table.get_lineno()), ()):
            try:
                sym = table.lookup(name)
            except KeyError:
                found.add(name)
                continue
            if sym.is_global():
                found.add(name)
        return found

    def _find_changed_bases(self) -> dict[tuple[str, int], set[str]]:
        """Per function (name, line): the names at the base of the subscript and
        attribute targets of its own statements (expressions bind no such target)."""
        found: dict[tuple[str, int], set[str]] = {}
        todo: list[tuple[list[ast.stmt], tuple[str, int] | None]] = [(self.tree.body, None)]
        while todo:
            body, key = todo.pop()
            for stmt in body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    todo.append((stmt.body, (stmt.name, stmt.lineno)))
                    continue
                if isinstance(stmt, ast.ClassDef):
                    todo.append((stmt.body, None))  # a scope of its own
                    continue
                if key is not None:
                    bases = found.setdefault(key, set())
                    for target in _targets(stmt):
                        _target_bases(target, bases)
                    if not any(hasattr(stmt, part) for part in ("body", "handlers", "cases")):
                        # ``registry.append(f)``, ``cache.update(d)`` (a simple
                        # statement: a compound one's body is walked on its own).
                        for node in ast.walk(stmt):
                            if isinstance(node, ast.Call):
                                changed = _mutated(node, in_function=True)
                                if changed is not None:
                                    _target_bases(ast.Attribute(value=changed, attr="_",
                                                                ctx=ast.Store()), bases)
                                generator = global_generator_call(node)
                                if generator is not None:
                                    bases.add(generator)
                for part_name in ("body", "orelse", "finalbody"):
                    inner = getattr(stmt, part_name, None)
                    if inner:
                        todo.append((inner, key))
                for part in [*getattr(stmt, "handlers", ()), *getattr(stmt, "cases", ())]:
                    todo.append((part.body, key))
        return found

    def _class_body_reads(self, table: symtable.SymbolTable) -> set[str]:
        """A class body run by a function call reads a name it binds itself from
        the globals until it has bound it (``class C: codec = codec``), even if
        an enclosing function binds the name too: CPython loads such a name
        with ``LOAD_NAME``, which looks in the class, the module and builtins,
        never in the function.  symtable calls such a name local."""
        candidates = {
            sym.get_name() for sym in table.get_symbols()
            if sym.is_local() and sym.is_referenced()
        }
        if not candidates:
            return set()
        if self._class_nodes is None:
            self._class_nodes = {
                (n.name, n.lineno): n for n in ast.walk(self.tree) if isinstance(n, ast.ClassDef)
            }
        node = self._class_nodes.get((table.get_name(), table.get_lineno()))
        if node is None:
            return candidates
        walker = _Walker({}, None)
        walker.scopes = self
        walker.frame = _Frame(is_class=True)
        walker._block(node.body)
        return candidates & (walker.strong | walker.weak)


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    """The targets a statement binds, changes or deletes."""
    if isinstance(stmt, (ast.Assign, ast.Delete)):
        return list(stmt.targets)
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
        return [stmt.target]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    return []


def _target_bases(target: ast.expr, found: set[str]) -> None:
    """Adds the name at the base of each subscript or attribute in ``target``."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _target_bases(element, found)
    elif isinstance(target, ast.Starred):
        _target_bases(target.value, found)
    elif isinstance(target, (ast.Subscript, ast.Attribute)):
        base: ast.expr = target
        while isinstance(base, (ast.Subscript, ast.Attribute)):
            base = base.value
        if isinstance(base, ast.Name):
            found.add(base.id)


#: Methods that change their object in place: the builtin containers' (list, dict,
#: set, deque; ``Counter.subtract``, ``OrderedDict.move_to_end``), pandas'
#: ``insert``, scikit-learn's ``fit`` and ``set_params`` and networkx's graph
#: builders.  A call of one on a name (``lst.append(1)``,
#: ``df.insert(0, "c", 1)``, ``G.add_edge(0, 5)``) changes that name in place.
MUTATING_METHODS = frozenset({
    "append", "extend", "insert", "remove", "pop", "popitem", "clear", "sort", "reverse",
    "update", "setdefault", "add", "discard", "difference_update", "intersection_update",
    "symmetric_difference_update", "fit", "partial_fit", "fit_transform", "fit_predict",
    "appendleft", "extendleft", "popleft", "rotate", "subtract", "move_to_end", "set_params",
    "add_edge", "add_edges_from", "add_weighted_edges_from", "add_node", "add_nodes_from",
    "remove_edge", "remove_edges_from", "remove_node", "remove_nodes_from",
})


#: Functions that set a module's state: a random generator's seed, a library's
#: options, style or warnings filters (``random.seed(1)``, ``np.random.seed(0)``,
#: ``pd.set_option(...)``, ``np.set_printoptions(...)``, ``plt.style.use("ggplot")``,
#: ``sns.set_theme()``, ``warnings.filterwarnings("ignore")``, ``os.chdir(...)``).
#: Called on a module, they change it in place for the cells below that read it;
#: on any other object they are reads (the kernel decides when it knows what the
#: object is).  ``set`` and ``use`` count in function bodies only as reads.
MODULE_SETTERS = frozenset({
    "seed", "manual_seed", "set_seed", "setstate", "set_state", "set_option",
    "reset_option", "set_printoptions", "seterr", "use", "rc", "rcdefaults", "set",
    "set_theme", "set_style", "set_context", "set_palette", "filterwarnings",
    "simplefilter", "resetwarnings", "chdir", "setrecursionlimit", "setlocale",
    "basicConfig", "set_default_dtype", "set_grad_enabled", "init_printing",
})
_AMBIGUOUS_SETTERS = frozenset({"set", "use"})


#: Functions of ``random`` that draw from its global generator.
STDLIB_DRAWS = frozenset({
    "random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
    "gauss", "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate",
    "gammavariate", "betavariate", "paretovariate", "weibullvariate", "triangular",
    "getrandbits", "randbytes", "binomialvariate",
})
#: Functions of ``numpy.random`` that draw from its global (legacy) generator.
NUMPY_DRAWS = frozenset({
    "rand", "randn", "randint", "random", "random_sample", "random_integers", "ranf",
    "sample", "choice", "shuffle", "permutation", "bytes", "normal", "uniform",
    "standard_normal", "binomial", "poisson", "exponential", "beta", "gamma",
    "multivariate_normal", "multinomial", "lognormal", "laplace", "logistic", "geometric",
    "chisquare", "standard_t", "standard_exponential", "standard_gamma", "standard_cauchy",
    "triangular", "weibull", "pareto", "power", "rayleigh", "vonmises", "wald", "zipf",
    "hypergeometric", "negative_binomial", "dirichlet", "f", "noncentral_chisquare",
    "noncentral_f", "logseries", "gumbel", "integers", "permuted",
})
#: Functions that set a global generator's state.
GENERATOR_SEEDS = frozenset({"seed", "set_state", "setstate"})
_GENERATOR_CALLS = STDLIB_DRAWS | NUMPY_DRAWS | GENERATOR_SEEDS


def global_generator_call(call: ast.Call) -> str | None:
    """The global generator a call in a function body draws from or seeds,
    judged by its spelling (``np.random.randn(3)``, ``numpy.random.seed(0)``,
    ``random.choice(xs)``); None for anything else."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    path = _attribute_path(func.value)
    if path in (("np", "random"), ("numpy", "random")) \
            and func.attr in NUMPY_DRAWS | GENERATOR_SEEDS:
        return NUMPY
    if path == ("random",) and func.attr in STDLIB_DRAWS | GENERATOR_SEEDS:
        return STDLIB
    return None


#: Decorators that call the function they decorate at once (ipywidgets' ``interact``):
#: the globals its body reads are read where it is defined too.
CALLING_DECORATORS = frozenset({"interact", "interact_manual"})


def _decorator_name(decorator: ast.expr) -> str | None:
    """``interact`` for ``@interact``, ``@w.interact`` and ``@w.interact(n=3)``."""
    if isinstance(decorator, ast.Call):
        decorator = decorator.func
    if isinstance(decorator, ast.Attribute):
        return decorator.attr
    return decorator.id if isinstance(decorator, ast.Name) else None


#: Functions that change their first argument in place: ``random.shuffle(deck)``,
#: ``np.random.shuffle(x)``, ``rng.shuffle(x)``, ``heapq.heappush(heap, x)``,
#: ``bisect.insort(a, x)``, ``setattr(obj, "lr", 0.1)`` (called by that name, as a
#: method or a plain function).
ARGUMENT_MUTATORS = frozenset({
    "shuffle", "heappush", "heappop", "heapify", "heappushpop", "heapreplace",
    "insort", "insort_left", "insort_right", "setattr", "delattr",
})


def _mutated(call: ast.Call, in_function: bool = False) -> ast.expr | None:
    """The object a call changes in place, if it is a known mutating method
    (:data:`MUTATING_METHODS`), a module's setter (:data:`MODULE_SETTERS`; in a
    function body, not the ambiguous ``set`` and ``use``) or has ``inplace=True``,
    called on a name or on attributes and items of one (``lst.append``,
    ``self.items.append``, ``d["k"].append``, ``np.random.seed``), not on what a
    call returned; or the first argument of a known mutating function
    (:data:`ARGUMENT_MUTATORS`: ``random.shuffle(deck)``)."""
    func = call.func
    callee = func.attr if isinstance(func, ast.Attribute) else (
        func.id if isinstance(func, ast.Name) else None)
    if callee in ARGUMENT_MUTATORS and call.args:
        target: ast.expr = call.args[0]
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        return call.args[0] if isinstance(target, ast.Name) else None
    if not isinstance(func, ast.Attribute):
        return None
    setter = func.attr in MODULE_SETTERS and not (
        in_function and func.attr in _AMBIGUOUS_SETTERS)
    if func.attr not in MUTATING_METHODS and not setter and not any(
            k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in call.keywords):
        return None
    base: ast.expr = func.value
    while isinstance(base, (ast.Attribute, ast.Subscript)):
        base = base.value
    return func.value if isinstance(base, ast.Name) else None


#: pandas' ``DataFrame.query`` and ``DataFrame.eval`` read the names a string
#: marks with ``@`` (``df.query("a > @limit")``) from the caller's namespace.
_QUERY_METHODS = frozenset({"query", "eval"})
_QUOTED = re.compile(r"""(['"`])(?:\\.|(?!\1).)*\1""")
_AT_NAME = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")


def _attribute_path(node: ast.expr) -> tuple[str, ...] | None:
    """``("np",)`` for ``np``, ``("stats", "norm")`` for ``stats.norm``, ``("df",
    "[]")`` for ``df["a"]``; None for anything with a call in it."""
    parts: list[str] = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        parts.append(node.attr if isinstance(node, ast.Attribute) else "[]")
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return (node.id, *reversed(parts))


def _given(call: ast.Call) -> list[tuple[int | str, str]]:
    """``(position or keyword, name)`` for the names a call gives a function,
    at the root of what it gives (``update(beliefs[i], x)`` may change what
    ``beliefs`` holds), up to a starred argument."""
    def root(arg: ast.expr) -> str | None:
        while isinstance(arg, (ast.Subscript, ast.Attribute)):
            arg = arg.value
        return arg.id if isinstance(arg, ast.Name) else None

    given: list[tuple[int | str, str]] = []
    for position, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            break
        name = root(arg)
        if name is not None:
            given.append((position, name))
    given += [(k.arg, name) for k in call.keywords
              if k.arg is not None and (name := root(k.value)) is not None]
    return given


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[tuple[int, str]]:
    """``(position, name)`` of a function's parameters, -1 for keyword-only ones."""
    arguments = node.args
    positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    return [*enumerate(positional), *((-1, a.arg) for a in arguments.kwonlyargs)]


def _body_facts(node: ast.FunctionDef | ast.AsyncFunctionDef,
                ) -> tuple[set[str], set[str], list[ast.Call]]:
    """In a function's own body (not its nested scopes): the names it changes
    by an augmented assignment only, the names it binds otherwise, and its calls."""
    augmented: set[str] = set()
    rebound: set[str] = set()
    calls: list[ast.Call] = []
    todo: list[ast.AST] = list(node.body)
    while todo:
        item = todo.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue  # a scope of its own (its name is bound here: not a parameter's)
        if isinstance(item, ast.AugAssign) and isinstance(item.target, ast.Name):
            augmented.add(item.target.id)
            todo.append(item.value)
            continue
        if isinstance(item, ast.Name) and not isinstance(item.ctx, ast.Load):
            rebound.add(item.id)
        elif isinstance(item, (ast.Global, ast.Nonlocal)):
            rebound.update(item.names)
        elif isinstance(item, ast.ExceptHandler) and item.name:
            rebound.add(item.name)
        elif isinstance(item, (ast.Import, ast.ImportFrom)):
            rebound.update((a.asname or a.name).partition(".")[0] for a in item.names)
        elif isinstance(item, ast.Call):
            calls.append(item)
        todo.extend(ast.iter_child_nodes(item))
    return augmented, rebound, calls


@dataclass(frozen=True)
class FunctionChanges:
    """What a function does to its parameters (see :func:`function_changes`)."""

    #: ``(position, name, certain)``: see ``CallEffects.changes_params``.
    changes: frozenset[tuple[int, str, bool]] = frozenset()
    #: ``(callee, given, position, name)`` for each call giving a parameter
    #: (never rebound) to a function reached through a name (``g(d)``: ``(("g",),
    #: 0, 0, "d")``; ``helpers.clean(data=d)``: ``(("helpers", "clean"), "data",
    #: 0, "d")``): if the callee changes what it is given there, so does this one.
    passes: frozenset[tuple[tuple[str, ...], int | str, int, str]] = frozenset()
    #: ``(position, name, attributes, method)`` for each call of a method of a
    #: parameter (never rebound) or of an object its attributes hold
    #: (``self.corner.translate(dx, dy)``: ``(0, "self", ("corner",),
    #: "translate")``): if that method changes its object, the parameter's object
    #: changes there (the kernel looks: see :mod:`.owncalls`).
    methods: frozenset[tuple[int, str, tuple[str, ...], str]] = frozenset()
    #: (``super().m(...)`` has :data:`SUPER` for attributes: the method of the
    #: classes after the method's own in the object's method order.)


#: The attributes of a ``super().m(...)`` call in :attr:`FunctionChanges.methods`.
SUPER: tuple[str, ...] = ("super()",)


def function_changes(source: str) -> FunctionChanges:
    """What the first function defined in ``source`` (a function's or method's
    own source, as :func:`inspect.getsource` gives it, indented or not) does to
    its parameters.  Raises :class:`SyntaxError` if it does not parse."""
    source = textwrap.dedent(source)
    tree = ast.parse(source, "<function>", "exec")
    node = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))),
                None)
    if node is None:
        return FunctionChanges()
    _augmented, rebound, calls = _body_facts(node)
    every = _parameters(node)
    params = {name: position for position, name in every if name not in rebound}
    local = rebound | {name for _position, name in every}
    passes = set()
    methods: set[tuple[int, str, tuple[str, ...], str]] = set()
    for call in calls:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                and isinstance(func.value.func, ast.Name) and func.value.func.id == "super" \
                and every and every[0][1] in params:
            # ``super().record(x)`` in a method: the base class's method, on ``self``.
            methods.add((every[0][0], every[0][1], SUPER, func.attr))
            continue
        callee = _attribute_path(call.func)
        if callee is not None and "[]" not in callee and len(callee) > 1 \
                and callee[0] in params:
            methods.add((params[callee[0]], callee[0], callee[1:-1], callee[-1]))
        if callee is None or "[]" in callee or callee[0] in local or callee[0] in BUILTIN_NAMES:
            continue  # (a method of a parameter or a local: not a global's function)
        for key, name in _given(call):
            if name in params:
                passes.add((callee, key, params[name], name))
    return FunctionChanges(_Scopes(source, tree).changed_params(node), frozenset(passes),
                           frozenset(methods))


def _query_names(call: ast.Call) -> list[str]:
    """The names a ``.query("...")`` or ``.eval("...")`` call's literal expression
    marks with ``@`` outside its own quoted strings (``"email == 'a@b.c'"``
    reads nothing), in order."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in _QUERY_METHODS:
        return []
    expr = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg == "expr"), None)
    if not isinstance(expr, ast.Constant) or not isinstance(expr.value, str):
        return []
    return _AT_NAME.findall(_QUOTED.sub(" ", expr.value))


def _query_names_by_function(tree: ast.Module) -> dict[tuple[str, int], set[str]]:
    """Per function or lambda (name, line, as symtable keys them): the names its
    own ``.query``/``.eval`` strings mark with ``@``."""
    found: dict[tuple[str, int], set[str]] = {}

    def visit(node: ast.AST, key: tuple[str, int] | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for part in (*node.decorator_list, node.args, node.returns):
                if part is not None:
                    visit(part, key)
            for stmt in node.body:
                visit(stmt, (node.name, node.lineno))
            return
        if isinstance(node, ast.Lambda):
            visit(node.args, key)
            visit(node.body, ("lambda", node.lineno))
            return
        if isinstance(node, ast.Call) and key is not None:
            names = _query_names(node)
            if names:
                found.setdefault(key, set()).update(names)
        for child in ast.iter_child_nodes(node):
            visit(child, key)

    visit(tree, None)
    return found


def _makers(value: ast.expr) -> set[str]:
    """The names a function reached through an assigned value may come from:
    ``f`` in ``f``, ``f.attr``, ``f(...)``, ``f(...).attr``, ``f.attr(...)``; a
    name passed to the call too (``partial(f)``, ``H(f)`` keeping ``f``); both
    branches of ``a if c else b`` and ``a or b``; the items of a tuple, list, set
    or dict display or comprehension; the container an item is taken from."""
    found: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            stack.append(node.value)
        elif isinstance(node, ast.Call):
            stack.append(node.func)
            stack.extend(a for a in node.args if isinstance(a, ast.Name))
            stack.extend(k.value for k in node.keywords if isinstance(k.value, ast.Name))
        elif isinstance(node, ast.IfExp):
            stack += [node.body, node.orelse]
        elif isinstance(node, ast.BoolOp):
            stack += node.values
        elif isinstance(node, ast.Await):
            stack.append(node.value)
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            stack += node.elts  # ``m, s = Model(), 1``; ``fs = [f, g]``
        elif isinstance(node, ast.Dict):
            stack += node.values  # ``handlers = {"f": f}``
        elif isinstance(node, (ast.Starred, ast.Subscript)):
            stack.append(node.value)  # ``m = models["a"]``
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            stack.append(node.elt)  # ``ms = [Model() for _ in range(2)]``
        elif isinstance(node, ast.DictComp):
            stack.append(node.value)
    return found


def _target_names(target: ast.expr) -> list[str]:
    """The plain names a target binds: ``m`` in ``m``, ``m, s``, ``[m, *rest]``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _unbound_in(body: Iterable[ast.stmt]) -> set[str]:
    """Names ``body`` may delete (``del x``, the end of ``except ... as x``)."""
    found: set[str] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
                found.add(node.id)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                found.add(node.name)
    return found


# -- the walk ----------------------------------------------------------------------------

#: Names bound or deleted on every path so far; None: no path gets here.
_Must = set[str] | None

#: Calls whose result is not empty when their arguments are not.
_KEEPS_ITEMS = frozenset({"enumerate", "reversed", "sorted", "list", "tuple", "zip"})


def _int_literal(node: ast.expr) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_literal(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _runs_once(node: ast.expr) -> bool:
    """Whether iterating over ``node`` certainly gives an item: a literal that is
    not empty, ``range`` of literals that is not, or one of them through
    ``enumerate``, ``zip`` and the like (the builtins, as everywhere here)."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return any(not isinstance(item, ast.Starred) for item in node.elts)
    if isinstance(node, ast.Dict):
        return any(key is not None for key in node.keys)
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes) and len(node.value) > 0
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.args and not node.keywords):
        return False
    if node.func.id == "range":
        bounds = [_int_literal(arg) for arg in node.args]
        if len(bounds) > 3 or any(b is None for b in bounds):
            return False
        try:
            return len(range(*[b for b in bounds if b is not None])) > 0
        except ValueError:  # a step of 0
            return False
    if node.func.id in _KEEPS_ITEMS and (node.func.id == "zip" or len(node.args) == 1):
        return all(_runs_once(arg) for arg in node.args)
    return False


def _join(*states: _Must) -> _Must:
    reached = [s for s in states if s is not None]
    if not reached:
        return None
    joined = set(reached[0])
    for state in reached[1:]:
        joined &= state
    return joined


@dataclass
class _Frame:
    """The namespace statements bind into: the module, or a class body."""

    must: _Must = field(default_factory=set)
    #: Bound or deleted on some path so far.
    may: set[str] = field(default_factory=set)
    #: Class bodies: names declared ``global``.
    globals: set[str] = field(default_factory=set)
    is_class: bool = False
    #: Class bodies: what calling the functions and classes they define reads
    #: and writes globally (``x = helper()``, ``@deco`` run at class definition).
    calls: dict[str, _Effects] = field(default_factory=dict)


class _Walker(ast.NodeVisitor):
    """Walks a cell in execution order (see the module docstring)."""

    def __init__(self, cell_magics: Mapping[str, MagicAnalyser],
                 transform: Callable[[str], str] | None) -> None:
        self.cell_magics = cell_magics
        #: IPython's transform, for the Python code of magics (IPython transforms it too).
        self.transform = transform
        self.module = _Frame()
        self.frame = self.module
        self.strong: set[str] = set()
        self.weak: set[str] = set()
        self.defs: set[str] = set()
        self.deleted: set[str] = set()
        self.changed: set[str] = set()
        #: In-place changes by a mutating method's call, per name (see
        #: ``CellAnalysis.method_changes``), and names bound or changed otherwise.
        self.method_calls: dict[str, set[tuple[tuple[str, ...], str]]] = {}
        self.draw_calls: set[tuple[str, tuple[str, ...], str]] = set()
        self.handed: set[tuple[str, tuple[str, ...], str]] = set()
        self.bound_otherwise: set[str] = set()
        self.stored_in_place: set[str] = set()
        self._by_method = False
        #: Module names bound by an import statement, and bound any other way.
        self.imported: set[str] = set()
        self.assigned: set[str] = set()
        self.importing = False
        self.calls: dict[str, _Effects] = {}
        #: Per function the cell defines at the top level: the parameters it
        #: changes in place; and the calls of other cells' functions given names.
        self.param_changes: dict[str, set[tuple[int, str, bool]]] = {}
        self.passed: set[tuple[str, int | str, str]] = set()
        self.attribute_calls: set[
            tuple[str, tuple[str, ...], str, tuple[tuple[int | str, str], ...]]] = set()
        self.aliases: set[tuple[str, str]] = set()
        #: The classes whose bodies are being read (a name: a top-level class).
        self.classes: list[str | None] = []
        self.star = False
        #: The cell's own module (the first source walked), once parsed.
        self.tree: ast.Module | None = None
        self.future_annotations = False
        self.breaks: list[list[_Must]] = []
        #: Names local to the comprehensions being walked, innermost last.
        self.comprehensions: list[set[str]] = []
        self.scopes: _Scopes | None = None

    # -- entry points -------------------------------------------------------

    def walk_source(self, source: str, *, strict: bool) -> None:
        try:
            tree = ast.parse(source, "<cell>", "exec")
            scopes = _Scopes(source, tree)
        except SyntaxError:
            if strict:
                raise
            return  # a magic's body that is not Python: it defines nothing
        outer, self.scopes = self.scopes, scopes
        if self.tree is None:
            self.tree = tree
        try:
            self._block(tree.body)
        finally:
            self.scopes = outer

    def result(self, ignored: frozenset[str], builtin: frozenset[str]) -> CellAnalysis:
        must = self.module.must if self.module.must is not None else set()
        passed = self.defs - must
        refs = self.strong | self.weak | passed

        def public(names: Iterable[str]) -> frozenset[str]:
            return frozenset(n for n in names if not is_private(n))

        def readable(names: Iterable[str]) -> frozenset[str]:
            return frozenset(n for n in names if not is_private(n) and n not in ignored)

        def builtins_in(names: Iterable[str]) -> frozenset[str]:
            return frozenset(n for n in names if n in builtin and not is_private(n))

        # Private functions (``_helper``) keep their effects: they never link
        # cells, but the cell itself may call them.
        calls = tuple(
            CallEffects(name, readable(reads) | builtins_in(reads), public(writes),
                        readable(changes),
                        changes_params=frozenset(self.param_changes.get(name, ())))
            for name, (reads, writes, changes) in sorted(self.calls.items())
            if readable(reads) or builtins_in(reads) or public(writes) or readable(changes)
            or self.param_changes.get(name)
        )
        return CellAnalysis(
            defs=public(self.defs),
            refs=readable(refs),
            deletes=public(self.deleted),
            star_import=self.star,
            inplace=readable(self.changed),
            weak=readable(refs - self.strong),
            pass_only=readable(passed - self.strong - self.weak),
            calls=calls,
            aliases=frozenset((name, maker) for name, maker in self.aliases
                              if not is_private(name) and maker in readable([maker])),
            builtins=builtins_in(refs),
            imported=public(self.imported - self.assigned - self.changed),
            method_changes=frozenset(
                (name, path, method)
                for name, calls in self.method_calls.items()
                if name not in self.stored_in_place and name in self.changed
                and not is_private(name) and name not in ignored
                for path, method in calls),
            method_only=frozenset(
                name for name in self.method_calls
                if name not in self.stored_in_place and name not in self.bound_otherwise
                and name in self.changed and not is_private(name) and name not in ignored),
            draw_calls=frozenset(self.draw_calls),
            handed=frozenset(h for h in self.handed
                             if not is_private(h[0]) and h[0] not in ignored),
            passed=frozenset((f, key, name) for f, key, name in self.passed
                             if not is_private(name) and name not in ignored),
            attribute_calls=frozenset(
                (name, path, function, tuple((k, n) for k, n in given
                                             if not is_private(n) and n not in ignored))
                for name, path, function, given in self.attribute_calls
                if not is_private(name) and name not in ignored),
        )

    # -- names ----------------------------------------------------------------

    def _read_module(self, name: str) -> None:
        """A read that reaches the module namespace."""
        if name in self.calls:
            self._call(name, set())
        must = self.module.must
        if must is None or name in must:
            return
        (self.weak if name in self.module.may else self.strong).add(name)

    def _call(self, name: str, seen: set[str]) -> None:
        """``name`` (a function or class of this cell) may be called here."""
        seen.add(name)
        self._effect(*self.calls[name], seen)

    def _effect(self, reads: set[str], writes: set[str], changes: set[str],
                seen: set[str]) -> None:
        """A call reading and writing these globals may happen here, calling in
        turn the cell's functions it reads.  Its reads are taken as made before
        any of its writes (the order inside the calls is not followed), so the
        result does not depend on the order sets iterate in."""
        reads, writes, changes = set(reads), set(writes), set(changes)
        todo = sorted(reads & self.calls.keys() - seen)
        while todo:
            callee = todo.pop()
            if callee in seen:
                continue
            seen.add(callee)
            more_reads, more_writes, more_changes = self.calls[callee]
            todo.extend(sorted(more_reads & self.calls.keys() - seen - reads))
            reads |= more_reads
            writes |= more_writes
            changes |= more_changes
        must = self.module.must
        if must is not None:
            for read in reads - must:
                (self.weak if read in self.module.may else self.strong).add(read)
        for write in writes:
            self._store_module(write, certain=False)
        for change in changes:
            self.changed.add(change)
            self._store_module(change, certain=False)

    def _load(self, name: str) -> None:
        if any(name in local for local in self.comprehensions):
            return
        frame = self.frame
        if frame.is_class and not self.comprehensions:
            if name in frame.globals:
                self._read_module(name)
                return
            local = frame.calls.get(name)
            if local is not None and name in frame.may:
                # A function of the class body, called while the class is made.
                self._effect(*local, set())
            if frame.must is not None and name in frame.must:
                return
        self._read_module(name)

    def _store_module(self, name: str, *, certain: bool) -> None:
        if not self._by_method:
            self.bound_otherwise.add(name)
        (self.imported if self.importing else self.assigned).add(name)
        self.defs.add(name)
        self.module.may.add(name)
        if certain and self.module.must is not None:
            self.module.must.add(name)

    def _store(self, name: str) -> None:
        frame = self.frame
        if frame.is_class and name not in frame.globals:
            frame.may.add(name)
            if frame.must is not None:
                frame.must.add(name)
            return
        # A class body's ``global`` write happens only if the class runs: maybe.
        self._store_module(name, certain=not frame.is_class)

    def _delete(self, name: str) -> None:
        frame = self.frame
        if frame.is_class and name not in frame.globals:
            self._unbind_in_class(name)
            return
        self._read_module(name)  # ``del`` fails if the name does not exist
        self.deleted.add(name)
        self._store(name)

    def _unbind_in_class(self, name: str) -> None:
        """A class body's name deleted: a read after it looks in the globals
        (``class C: x = 1; del x; y = x`` reads the module's ``x``)."""
        self.frame.may.add(name)
        if self.frame.must is not None:
            self.frame.must.discard(name)

    def _passing(self, node: ast.Call, callee: str) -> None:
        """``f(df)``, ``f(d=df)``, ``f(dfs[0])``: names given to a function called
        by its name (or holding what it is given).
        One of this cell changing that parameter changes the name in place
        here; another cell's is looked up by the kernel (``passed``)."""
        given = _given(node)
        own = self.param_changes.get(callee)
        for key, name in given:
            if self._local_in_comprehension(ast.Name(id=name)):
                continue
            if own is None:
                self.passed.add((callee, key, name))
            elif any(key in (position, param) for position, param, _certain in own):
                self._changed_in_place(ast.Attribute(
                    value=ast.Name(id=name, ctx=ast.Load()), attr="_", ctx=ast.Store()))

    def _attribute_call(self, node: ast.Call) -> None:
        """``spectrum.scale(2)``, ``helpers.clean(df)`` at module level (see
        ``CellAnalysis.attribute_calls``)."""
        func = node.func
        if not isinstance(func, ast.Attribute) or self.frame is not self.module:
            return
        path = _attribute_path(func.value)
        if path is None or "[]" in path or self._local_in_comprehension(func.value):
            return
        given = tuple((key, name) for key, name in _given(node)
                      if not self._local_in_comprehension(ast.Name(id=name)))
        self.attribute_calls.add((path[0], path[1:], func.attr, given))

    def _local_in_comprehension(self, target: ast.expr) -> bool:
        base = target
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        return isinstance(base, ast.Name) and any(base.id in local
                                                  for local in self.comprehensions)

    def _changed_in_place(self, target: ast.expr) -> None:
        base = target
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not isinstance(base, ast.Name):
            return
        frame = self.frame
        local = frame.is_class and base.id not in frame.globals and frame.must is not None \
            and base.id in frame.must
        if not local:
            self.changed.add(base.id)
            if not self._by_method:
                self.stored_in_place.add(base.id)
            self._store_module(base.id, certain=not frame.is_class)

    # -- blocks and control flow ------------------------------------------------

    def _block(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            self.visit(stmt)

    def _copy(self) -> _Must:
        return None if self.frame.must is None else set(self.frame.must)

    def _branches(self, start: _Must, *bodies: list[ast.stmt]) -> list[_Must]:
        ends = []
        for body in bodies:
            self.frame.must = None if start is None else set(start)
            self._block(body)
            ends.append(self.frame.must)
        return ends

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        self.frame.must = _join(*self._branches(self._copy(), node.body, node.orelse))

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While,
              target: ast.expr | None) -> None:
        self._forget_deleted_in_loop(node.body)
        start = self._copy()
        self.breaks.append([])
        if target is not None:
            self._target(target)
        if isinstance(node, ast.For) and _runs_once(node.iter) and self.frame.must is not None:
            # A loop over a literal that is not empty (``range(3)``, ``[1, 2]``) runs
            # at least once: when it ends, it has bound its target.
            start = self.frame.must - _unbound_in(node.body)
        self._block(node.body)
        breaks = self.breaks.pop()
        # Otherwise the loop may run no time at all; its else runs unless it broke out.
        (normal,) = self._branches(start, node.orelse)
        self.frame.must = _join(normal, *breaks)

    def _forget_deleted_in_loop(self, body: list[ast.stmt]) -> None:
        """In a class body, a later iteration may find a name of the class deleted."""
        if self.frame.is_class and self.frame.must is not None:
            self.frame.must -= _unbound_in(body)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._loop(node, node.target)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self._forget_deleted_in_loop(node.body)  # the test runs again after the body
        self.visit(node.test)
        self._loop(node, None)

    def visit_Break(self, node: ast.Break) -> None:
        if self.breaks:
            self.breaks[-1].append(self._copy())
        self.frame.must = None

    def visit_Continue(self, node: ast.Continue) -> None:
        self.frame.must = None

    def visit_Raise(self, node: ast.Raise) -> None:
        self.generic_visit(node)
        self.frame.must = None

    def visit_Return(self, node: ast.Return) -> None:
        self.generic_visit(node)
        self.frame.must = None

    def visit_Try(self, node: ast.Try) -> None:
        self._try(node)

    def visit_TryStar(self, node: ast.TryStar) -> None:
        self._try(node)

    def _try(self, node: ast.Try | ast.TryStar) -> None:
        start = self._copy()
        self._block(node.body)
        self._block(node.orelse)
        ends = [self.frame.must]
        for handler in node.handlers:
            # An exception may leave the body at any statement.
            self.frame.must = None if start is None else set(start)
            if handler.type is not None:
                self.visit(handler.type)
            if handler.name:
                self._store(handler.name)
            self._block(handler.body)
            if handler.name:
                self._delete_silently(handler.name)
            ends.append(self.frame.must)
        after = _join(*ends)
        if node.finalbody:
            weakest = _join(after, start) if after is not None else start
            self.frame.must = None if weakest is None else set(weakest)
            self._block(node.finalbody)
            end = self.frame.must
            if end is None or after is None:
                after = None
            else:
                after = after | (end - (weakest or set()))
        self.frame.must = after

    def _delete_silently(self, name: str) -> None:
        """Python unbinds an ``except ... as`` name when the handler ends."""
        frame = self.frame
        if frame.is_class and name not in frame.globals:
            self._unbind_in_class(name)
            return
        self.deleted.add(name)
        self._store_module(name, certain=not frame.is_class)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        first, *rest = node.items
        self.visit(first.context_expr)
        target = first.optional_vars
        if isinstance(target, ast.Name):
            self._target(target)  # binding a name cannot fail
            target = None
        after = self._copy()
        # From here on, the first context manager may suppress an exception:
        # unpacking its value, entering the next ones (``with suppress(OSError),
        # open(p) as fh``), the body.
        if target is not None:
            self._target(target)
        for item in rest:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._target(item.optional_vars)
        self._block(node.body)
        # A context manager may suppress an exception from any statement.
        self.frame.must = after

    visit_AsyncWith = visit_With

    def visit_Match(self, node: ast.Match) -> None:
        self.visit(node.subject)
        start = self._copy()
        ends: list[_Must] = [start]  # no case may match
        for case in node.cases:
            self.frame.must = None if start is None else set(start)
            self.visit(case.pattern)
            if case.guard is not None:
                self.visit(case.guard)
            self._block(case.body)
            ends.append(self.frame.must)
        self.frame.must = _join(*ends)

    # -- names ----------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._store(node.id)
        else:
            self._delete(node.id)

    def _target(self, target: ast.expr) -> None:
        """An assignment target, evaluated as Python does (bases read first)."""
        if isinstance(target, ast.Name):
            self._store(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(element)
        elif isinstance(target, ast.Starred):
            self._target(target.value)
        elif isinstance(target, ast.Attribute):
            self.visit(target.value)
            self._changed_in_place(target)
        elif isinstance(target, ast.Subscript):
            self.visit(target.value)
            self.visit(target.slice)
            self._changed_in_place(target)
        else:
            self.visit(target)

    # -- statements, in the order Python evaluates them ---------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        named = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(node.value, ast.Lambda) and isinstance(named, ast.Name):
            # ``f = lambda: ...`` is a function: its body runs when called.
            self._arguments(node.value.args)
            self._define(named.id, self._effects_of("lambda", node.value.lineno))
            return
        self.visit(node.value)
        for target in node.targets:
            self._target(target)
        self._aliases_of(node.targets, node.value)

    def _aliases_of(self, targets: Iterable[ast.expr], value: ast.expr) -> None:
        """Aliases an assignment makes (see :meth:`_alias`): at module level, of
        each name it binds (``m, s = build()`` too) and of a class's attribute
        (``C.m = f``); in a top-level class's body, of the class (``m = f``)."""
        if self.frame is self.module:
            owners = [n for t in targets for n in _target_names(t)]
            owners += [t.value.id for t in targets
                       if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)]
        elif self.frame.is_class and self.classes and self.classes[-1] is not None:
            owners = [self.classes[-1]]
        else:
            return
        makers = _makers(value)
        for owner in owners:
            for maker in makers - {owner}:
                self._alias(owner, maker)

    def _alias(self, name: str, maker: str) -> None:
        """``name = maker``, ``name = maker.attr``, ``name = maker(...)``: a function
        reached through ``name`` (an alias, a bound method, a method of an instance,
        a closure a factory returned) reads ``maker``'s globals where it is called, so
        a cell that reads ``name`` reads ``maker`` (and through it those globals)."""
        self.aliases.add((name, maker))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)
            self._store(node.target.id)
            frame = self.frame
            if not frame.is_class or node.target.id in frame.globals:
                self.changed.add(node.target.id)
        else:
            self._target(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        if not self.future_annotations:
            self.visit(node.annotation)
        if node.value is not None:
            self._target(node.target)
            self._aliases_of([node.target], node.value)
        elif isinstance(node.target, ast.Attribute | ast.Subscript):
            # ``a.b: int`` evaluates ``a`` (and a subscript) but binds nothing.
            self.visit(node.target.value)
            if isinstance(node.target, ast.Subscript):
                self.visit(node.target.slice)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                self._target(target)
            else:
                self.visit(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        if self.comprehensions:
            # Binds in the enclosing scope, if the comprehension runs at all.
            self._store_module(node.target.id, certain=False)
        else:
            self._store(node.target.id)
            self._aliases_of([node.target], node.value)

    def visit_Import(self, node: ast.Import) -> None:
        self.importing = True
        for alias in node.names:
            self._store(alias.asname or alias.name.split(".")[0])
        self.importing = False

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__" and any(a.name == "annotations" for a in node.names):
            self.future_annotations = True
        self.importing = True
        for alias in node.names:
            if alias.name == "*":
                self.star = True
            else:
                self._store(alias.asname or alias.name)
        self.importing = False

    def visit_Global(self, node: ast.Global) -> None:
        if self.frame.is_class:
            self.frame.globals.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        return None

    # -- definitions --------------------------------------------------------

    def _effects_of(self, kind: str, lineno: int, name: str = "lambda") -> _Effects:
        if self.scopes is None:
            return set(), set(), set()
        if kind == "class":
            return self.scopes.methods(name, lineno)
        return self.scopes.function(name, lineno)

    def _define(self, name: str, effects: _Effects) -> None:
        """A function or class: what calling it reads and writes.  Several
        definitions of a name in one cell (in ``try``/``except`` branches, say)
        add up."""
        self._store(name)
        frame = self.frame
        calls = self.calls if not frame.is_class or name in frame.globals else frame.calls
        reads, writes, changes = calls.setdefault(name, (set(), set(), set()))
        reads |= effects[0]
        writes |= effects[1]
        changes |= effects[2]

    def _arguments(self, args: ast.arguments, *, annotations: bool = False) -> None:
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)
        if annotations and not self.future_annotations:
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            every += [a for a in (args.vararg, args.kwarg) if a is not None]
            for arg in every:
                if arg.annotation is not None:
                    self.visit(arg.annotation)

    def _type_params(self, node: ast.AST) -> set[str]:
        """PEP 695 type parameters (``def f[T]``) are bound by the definition."""
        params = getattr(node, "type_params", None) or []
        return {p.name for p in params if isinstance(getattr(p, "name", None), str)}

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        params = self._type_params(node)
        if params:
            self.comprehensions.append(params)  # visible to annotations only
        try:
            self._arguments(node.args, annotations=True)
            if node.returns is not None and not self.future_annotations:
                self.visit(node.returns)
        finally:
            if params:
                self.comprehensions.pop()
        self._define(node.name, self._effects_of("function", node.lineno, node.name))
        if self.frame is self.module and self.scopes is not None:
            changed = self.scopes.changed_params(node)
            if changed:
                self.param_changes.setdefault(node.name, set()).update(changed)
        if any(_decorator_name(d) in CALLING_DECORATORS for d in node.decorator_list) \
                and node.name in self.calls and self.frame is self.module:
            # ``@interact(n=(1, 10))`` calls the function as it defines it.
            self._call(node.name, set())

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        params = self._type_params(node)
        if params:
            self.comprehensions.append(params)
        try:
            for base in node.bases:
                self.visit(base)
            for keyword in node.keywords:
                self.visit(keyword)
        finally:
            if params:
                self.comprehensions.pop()
        outer = self.frame
        top = outer is self.module
        if top:
            # A method a subclass inherits reads its globals where it is called.
            for base in node.bases:
                for maker in _makers(base) - {node.name}:
                    self._alias(node.name, maker)
        self.frame = _Frame(is_class=True)
        self.classes.append(node.name if top else None)
        breaks, self.breaks = self.breaks, []
        try:
            self._block(node.body)
        finally:
            self.frame, self.breaks = outer, breaks
            self.classes.pop()
        self._define(node.name, self._effects_of("class", node.lineno, node.name))

    def visit_Lambda(self, node: ast.Lambda) -> None:
        # Not bound to a name: most likely called right away (``key=lambda r: r[k]``).
        self._arguments(node.args)
        reads, _writes, _changes = self._effects_of("function", node.lineno)
        for name in reads:
            self._read_module(name)

    def visit_TypeAlias(self, node: ast.AST) -> None:  # Python >= 3.12
        name = getattr(node, "name", None)
        if isinstance(name, ast.Name):
            self._store(name.id)  # its value is evaluated lazily

    # -- comprehensions ------------------------------------------------------

    def _visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
    ) -> None:
        # Only the first iterable is evaluated in the enclosing scope.
        self.visit(node.generators[0].iter)
        local: set[str] = set()
        for generator in node.generators:
            local |= {n.id for n in ast.walk(generator.target)
                      if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        self.comprehensions.append(local)
        try:
            for i, generator in enumerate(node.generators):
                if i:
                    self.visit(generator.iter)
                self._comprehension_target(generator.target)
                for condition in generator.ifs:
                    self.visit(condition)
            if isinstance(node, ast.DictComp):
                self.visit(node.key)
                self.visit(node.value)
            else:
                self.visit(node.elt)
        finally:
            self.comprehensions.pop()

    def _comprehension_target(self, target: ast.expr) -> None:
        """``[... for obj.attr in src]`` reads ``obj`` and changes it in place."""
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._comprehension_target(element)
        elif isinstance(target, ast.Starred):
            self._comprehension_target(target.value)
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            self.visit(target.value)
            if isinstance(target, ast.Subscript):
                self.visit(target.slice)
            base = target.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and not any(
                    base.id in local for local in self.comprehensions):
                self.changed.add(base.id)
                self._store_module(base.id, certain=False)

    visit_ListComp = _visit_comprehension
    visit_SetComp = _visit_comprehension
    visit_DictComp = _visit_comprehension
    visit_GeneratorExp = _visit_comprehension

    # -- match statement captures ------------------------------------------

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name is not None:
            self._store(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name is not None:
            self._store(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for key in node.keys:
            self.visit(key)
        for pattern in node.patterns:
            self.visit(pattern)
        if node.rest is not None:
            self._store(node.rest)

    # -- IPython magics -----------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        for name in _query_names(node):
            self._load(name)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _GENERATOR_CALLS:
            path = _attribute_path(node.func.value)
            if path is not None and not is_private(path[0]) \
                    and not self._local_in_comprehension(node.func.value):
                self.draw_calls.add((path[0], path[1:], node.func.attr))
        for arg in (*node.args, *(k.value for k in node.keywords)):
            if isinstance(arg, ast.Starred):
                arg = arg.value
            if isinstance(arg, ast.Attribute) and arg.attr in MUTATING_METHODS:
                path = _attribute_path(arg.value)
                if path is not None and not self._local_in_comprehension(arg.value):
                    self.handed.add((path[0], path[1:], arg.attr))
        if isinstance(node.func, ast.Name) and (
                node.func.id not in BUILTIN_NAMES or node.func.id in self.param_changes):
            self._passing(node, node.func.id)
        else:
            self._attribute_call(node)
        changed = _mutated(node)
        if changed is not None and not self._local_in_comprehension(changed):
            path = _attribute_path(changed) if isinstance(node.func, ast.Attribute) \
                and node.func.value is changed else None
            self._by_method = path is not None
            try:
                self._changed_in_place(ast.Attribute(value=changed, attr="_", ctx=ast.Store()))
            finally:
                self._by_method = False
            if path is not None and isinstance(node.func, ast.Attribute):
                self.method_calls.setdefault(path[0], set()).add((path[1:], node.func.attr))
        command = shell_call(node)
        if command is not None:
            for name in sorted(expanded_names(command)):
                self._load(name)
            return
        magic = magic_call(node)
        if magic is None:
            return
        method, args = magic
        if method == "run_line_magic" and len(args) == 2:
            name, line = args
            if name in PYTHON_ARG_LINE_MAGICS or name in _RUNNING_MAGICS:
                self._python_magic(name, line)
            elif name in _INTROSPECTION_MAGICS:
                found = _LEADING_NAME.match(line)
                if found is not None and "*" not in line:  # ``a*?`` searches names
                    self._load(found.group(1))
            elif name == "xdel":
                var = _strip_getopt(line, frozenset()).strip()
                if var.isidentifier():
                    self._delete(var)
            else:
                for var in sorted(expanded_names(line)):
                    self._load(var)
        elif method == "run_cell_magic" and len(args) == 3:
            name, line, body = args
            analyser = self.cell_magics.get(name)
            if analyser is not None:
                names = analyser(line, body)
                for var in sorted(names.refs - names.weak):
                    self._load(var)
                must = self.module.must
                if must is not None:
                    self.weak |= names.weak - must
                for var in sorted(names.defs):
                    self._store(var)
                self.deleted |= names.deletes & names.defs
                return
            if name in _RUNNING_MAGICS:
                self._python_magic(name, line, body)
                return
            if name not in PYTHON_BODY_CELL_MAGICS:
                for var in sorted(expanded_names(line)):
                    self._load(var)
                return  # not Python: contributes no names
            if name == "timeit":
                self._timeit_code(split_timeit_options(line), body)
                return
            # ``%%time --no-raise-error``: an exception stops the body, not the cell.
            maybe = name == "time" and _strip_time_options(line) != line.lstrip()
            self._python_code(body, maybe=maybe)
            if name == "capture":
                targets = [w for w in line.split() if not w.startswith("-")]
                if targets and targets[0].isidentifier():
                    self._store(targets[0])

    def _python_magic(self, name: str, line: str, body: str | None = None) -> None:
        """A magic running Python code in the user namespace: ``%time``,
        ``%timeit``, ``%prun`` (the code after their options) and ``%debug``."""
        if name == "timeit":
            self._timeit_code(split_timeit_options(line))
        elif name == "time":
            code = _strip_time_options(line)
            self._python_code(code, maybe=code != line.lstrip())
        elif name == "prun":
            code = _strip_getopt(line, _PRUN_VALUE_OPTIONS)
            self._python_code(code if body is None else code + "\n" + body)
        elif name == "debug":
            code = _strip_debug_options(line)
            # IPython runs it as it is, without its input transformer; the user
            # may quit the debugger before the end.
            self._python_code(code if body is None else code + "\n" + body,
                              transform=False, maybe=True)

    def _timeit_code(self, setup: str, body: str | None = None) -> None:
        """``%timeit``'s and ``%%timeit``'s code: IPython runs it as the body of a
        function, so the names it assigns are that function's (the namespace
        never gets them), while it reads globals and may change their objects."""
        code = setup if body is None else setup + "\n" + body
        if self.transform is not None:
            try:
                code = self.transform(code)
            except Exception:
                return
        if not code.strip():
            return
        self.walk_source(f"def __timeit__():\n{textwrap.indent(code, '    ')}\n    pass\n"
                         "__timeit__()\n", strict=False)
        self.calls.pop("__timeit__", None)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return
        for node in ast.walk(tree):  # ``!ls {d}``: expanded from the namespace
            command = shell_call(node) if isinstance(node, ast.Call) else None
            for name in sorted(expanded_names(command)) if command is not None else ():
                self._load(name)

    def _python_code(self, code: str, *, transform: bool = True, maybe: bool = False) -> None:
        """Code a magic runs: IPython passes it through its input transformer
        first (``%%time`` over ``x = !ls``), and ignores it if it is not Python.
        ``maybe``: the cell goes on even if the code stops half way."""
        if transform and self.transform is not None:
            try:
                code = self.transform(code)
            except Exception:
                return
        before = self._copy()
        self.walk_source(code, strict=False)
        if maybe:
            self.frame.must = before


#: Magics (besides ``ipython_syntax``'s) running Python code in the user namespace.
_RUNNING_MAGICS: frozenset[str] = frozenset({"prun", "debug"})
#: ``%prun``'s options that take a value (getopt ``D:l:rs:T:q``).
_PRUN_VALUE_OPTIONS: frozenset[str] = frozenset("DlsT")
#: ``obj?``, ``obj??``, ``%pdef obj``...: they show the object (its value too).
_INTROSPECTION_MAGICS: frozenset[str] = frozenset(
    {"pinfo", "pinfo2", "pdef", "pdoc", "psource", "pfile"}
)
_LEADING_NAME = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def _strip_getopt(line: str, value_options: frozenset[str]) -> str:
    """The rest of a magic's line after its getopt-style options (``-s name -q``)."""
    rest = line.lstrip()
    while rest.startswith("-") and len(rest) > 1 and not rest[1].isspace():
        token, _, after = rest.partition(" ")
        if token == "--":
            return after
        letters = token[1:]
        takes = next((i for i, c in enumerate(letters) if c in value_options), None)
        if takes is not None and takes == len(letters) - 1:
            after = after.lstrip().partition(" ")[2]  # the value is the next word
        rest = after.lstrip()
    return rest


def _strip_time_options(line: str) -> str:
    """``%time [--no-raise-error] statement`` (argparse: a prefix is the option)."""
    rest = line.lstrip()
    while True:
        token, _, after = rest.partition(" ")
        if len(token) < 3 or not "--no-raise-error".startswith(token):
            return rest
        rest = after.lstrip()


def _strip_debug_options(line: str) -> str:
    """``%debug [--breakpoint FILE:LINE] [statement]``."""
    rest = line.lstrip()
    while True:
        token, _, after = rest.partition(" ")
        if token == "-b" or (len(token) > 2 and "--breakpoint".startswith(token)):
            rest = after.lstrip().partition(" ")[2].lstrip()
        elif token.startswith(("-b", "--breakpoint=")):
            rest = after.lstrip()
        else:
            return rest
