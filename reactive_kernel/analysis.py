"""Static analysis of one cell: the names it defines, reads and deletes.

Pure: code strings in, a frozen dataclass out; nothing here imports IPython,
ipykernel, zmq or tornado.  IPython syntax (``%magic``, ``!cmd``, ``%%magic``)
is handled by passing the shell's own input transformer as ``transform``.

Invariants of :class:`CellAnalysis`:

- ``defs`` are the module-level names still bound when the cell finishes
  (assignments, imports, ``def``/``class``, ``for``/``with``/``except`` targets,
  walrus targets, ``match`` captures, type aliases).  A name bound and then
  ``del``-eted in the same cell is a temporary, not a definition.
- ``refs`` are the names the cell reads from *outside* itself: a module-level
  read that happens before the cell binds the name (``x += 1`` reads ``x``),
  and every global name read inside a function, class, lambda or comprehension
  body that the cell does not itself define.  Attribute and subscript targets
  (``a.b = 1``, ``a[0] = 1``) are reads of the base name.
- Builtins and IPython's ambient names (``get_ipython``, ``display``, ...) are
  never refs.  Names starting with ``_`` are cell-private and appear nowhere.
- ``deletes`` are module-level names the cell ``del``-etes.
"""

from __future__ import annotations

import ast
import builtins
import re
import shlex
import string
import symtable
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

#: Names IPython puts in every user namespace; reading them is not a dependency.
AMBIENT_NAMES: frozenset[str] = frozenset(
    {"get_ipython", "display", "In", "Out", "exit", "quit"}
)
BUILTIN_NAMES: frozenset[str] = frozenset(dir(builtins))

#: Cell magics whose body is Python code that runs in the user namespace.
PYTHON_BODY_CELL_MAGICS: frozenset[str] = frozenset({"time", "timeit", "capture"})
#: Line magics whose argument is a Python statement.
PYTHON_ARG_LINE_MAGICS: frozenset[str] = frozenset({"time", "timeit"})
# timeit options that take a value ("-n 3") versus plain flags ("-q").
_TIMEIT_VALUE_OPTIONS = frozenset({"-n", "-r", "-p"})

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass(frozen=True)
class CellAnalysis:
    """What one cell defines, reads from other cells, and deletes."""

    defs: frozenset[str] = field(default_factory=frozenset)
    refs: frozenset[str] = field(default_factory=frozenset)
    deletes: frozenset[str] = field(default_factory=frozenset)
    #: ``from m import *`` was seen: the cell defines names we cannot list.
    star_import: bool = False


def is_private(name: str) -> bool:
    """Cell-private names (``_x``, ``__x``, dunders) never link cells."""
    return name.startswith("_")


#: Analyses a non-Python cell magic: (line, body) -> (defs, refs).
MagicAnalyser = Callable[[str, str], tuple[frozenset[str], frozenset[str]]]


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
    walker = _ModuleWalker(cell_magics or {})
    walker.visit_source(source, strict=True)
    ignored = BUILTIN_NAMES | AMBIENT_NAMES | frozenset(ignore)
    defs = frozenset(n for n in walker.bound if not is_private(n))
    late = walker.late_refs - walker.bound
    refs = frozenset(
        n
        for n in (walker.early_refs | late)
        if not is_private(n) and n not in ignored
    )
    deletes = frozenset(n for n in walker.deleted if not is_private(n))
    return CellAnalysis(defs=defs, refs=refs, deletes=deletes, star_import=walker.star)


def _nested_global_reads(table: symtable.SymbolTable) -> set[str]:
    """Global names read (or written through ``global``) in nested scopes."""
    found: set[str] = set()
    for child in table.get_children():
        for sym in child.get_symbols():
            if not sym.is_global():
                continue
            if sym.is_referenced() or (sym.is_declared_global() and sym.is_assigned()):
                found.add(sym.get_name())
        found |= _nested_global_reads(child)
    return found


def _magic_call(node: ast.Call) -> tuple[str, list[str]] | None:
    """``get_ipython().run_line_magic('name', ...)`` -> (method, string args)."""
    func = node.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in ("run_line_magic", "run_cell_magic")
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    ):
        return None
    args: list[str] = []
    for arg in node.args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            return None
        args.append(arg.value)
    return func.attr, args


_SHELL_METHODS = frozenset({"system", "getoutput"})
_DOLLAR_NAME = re.compile(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)")


def _expanded_names(line: str) -> set[str]:
    """Names IPython substitutes into ``!cmd`` and magic lines at run time:
    ``{expression}`` fields and ``$name``."""
    found = set(_DOLLAR_NAME.findall(line))
    try:
        fields = [f for _text, f, _spec, _conv in string.Formatter().parse(line) if f]
    except ValueError:
        fields = []
    for text in fields:
        try:
            tree = ast.parse(text, "<expansion>", "eval")
        except SyntaxError:
            continue
        found |= {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
    return found


def _shell_call(node: ast.Call) -> str | None:
    """``get_ipython().system('...')`` / ``.getoutput('...')`` -> the command."""
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _SHELL_METHODS
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def _split_timeit_options(line: str) -> str:
    """Drop ``%timeit``'s leading options, keep the statement."""
    try:
        words = shlex.split(line, posix=False)
    except ValueError:
        return line
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in _TIMEIT_VALUE_OPTIONS else 1
    return " ".join(words[i:])


class _ModuleWalker(ast.NodeVisitor):
    """Walks module-level code in execution order, tracking what is bound.

    Bodies of functions, classes, lambdas and comprehensions run later (or in
    their own scope); their global reads come from :mod:`symtable`, which knows
    Python's scoping rules exactly.
    """

    def __init__(self, cell_magics: Mapping[str, MagicAnalyser]) -> None:
        self.cell_magics = cell_magics
        self.bound: set[str] = set()
        self.early_refs: set[str] = set()
        self.late_refs: set[str] = set()
        self.deleted: set[str] = set()
        self.star = False

    # -- entry points -------------------------------------------------------

    def visit_source(self, source: str, *, strict: bool) -> None:
        try:
            tree = ast.parse(source, "<cell>", "exec")
            table = symtable.symtable(source, "<cell>", "exec")
        except SyntaxError:
            if strict:
                raise
            return  # a magic's body that is not Python: it defines nothing
        self.late_refs |= _nested_global_reads(table)
        for stmt in tree.body:
            self.visit(stmt)

    def _load(self, name: str) -> None:
        if name not in self.bound:
            self.early_refs.add(name)

    def _store(self, name: str) -> None:
        self.bound.add(name)

    def _delete(self, name: str) -> None:
        if name in self.bound:
            self.bound.discard(name)
        else:
            self.early_refs.add(name)
        self.deleted.add(name)

    def _visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    # -- names --------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._store(node.id)
        else:
            self._delete(node.id)

    # -- statements, in the order Python evaluates them ---------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        self._visit_all(node.targets)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self._load(node.target.id)
            self._store(node.target.id)
        else:
            self.visit(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.visit(node.annotation)
        if node.value is None:
            # ``x: int`` binds nothing at run time; only its base is read.
            if not isinstance(node.target, ast.Name):
                self.visit(node.target)
            return
        self.visit(node.value)
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._store(node.target.id)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        self._visit_all(node.body)
        self._visit_all(node.orelse)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
        self._visit_all(node.body)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._store(node.name)
        self._visit_all(node.body)
        if node.name:
            # Python unbinds the ``as`` name when the handler ends.
            self.bound.discard(node.name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._store(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                self.star = True
            else:
                self._store(alias.asname or alias.name)

    def _visit_arguments(self, args: ast.arguments, *, defaults: bool = True) -> None:
        if defaults:
            self._visit_all(args.defaults)
            self._visit_all(args.kw_defaults)
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        self._visit_all(a.annotation for a in every)

    def _type_params_bound(self, node: ast.AST) -> set[str]:
        """Bind PEP 695 type parameters (``def f[T]``) while their annotations
        are visited; returns the names to unbind afterwards."""
        params = getattr(node, "type_params", None) or []
        names = {p.name for p in params if isinstance(getattr(p, "name", None), str)}
        added = names - self.bound
        self.bound |= added
        return added

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_all(node.decorator_list)
        self._visit_all(node.args.defaults)
        self._visit_all(node.args.kw_defaults)
        added = self._type_params_bound(node)
        self._visit_arguments(node.args, defaults=False)
        if node.returns is not None:
            self.visit(node.returns)
        self.bound -= added
        self._store(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list)
        added = self._type_params_bound(node)
        self._visit_all(node.bases)
        self._visit_all(node.keywords)
        self.bound -= added
        self._store(node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_arguments(node.args)

    def _visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
    ) -> None:
        # Only the first iterable is evaluated in the enclosing scope.
        self.visit(node.generators[0].iter)
        # A walrus inside a comprehension binds in the enclosing scope (PEP 572).
        stack: list[ast.AST] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.NamedExpr):
                self._store(current.target.id)
            if current is not node and isinstance(current, _SCOPES):
                continue
            stack.extend(ast.iter_child_nodes(current))

    visit_ListComp = _visit_comprehension
    visit_SetComp = _visit_comprehension
    visit_DictComp = _visit_comprehension
    visit_GeneratorExp = _visit_comprehension

    def visit_Global(self, node: ast.Global) -> None:
        return None  # only meaningful inside functions

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        return None

    def visit_TypeAlias(self, node: ast.AST) -> None:  # Python >= 3.12
        name = getattr(node, "name", None)
        if isinstance(name, ast.Name):
            self._store(name.id)

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
        self._visit_all(node.keys)
        self._visit_all(node.patterns)
        if node.rest is not None:
            self._store(node.rest)

    # -- IPython magics -----------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        command = _shell_call(node)
        if command is not None:
            for name in sorted(_expanded_names(command)):
                self._load(name)
            return
        magic = _magic_call(node)
        if magic is None:
            return
        method, args = magic
        if method == "run_line_magic" and len(args) == 2:
            name, line = args
            if name in PYTHON_ARG_LINE_MAGICS:
                code = _split_timeit_options(line) if name == "timeit" else line
                self.visit_source(code, strict=False)
            else:
                for var in sorted(_expanded_names(line)):
                    self._load(var)
        elif method == "run_cell_magic" and len(args) == 3:
            name, line, body = args
            analyser = self.cell_magics.get(name)
            if analyser is not None:
                defs, refs = analyser(line, body)
                for var in sorted(refs):
                    self._load(var)
                for var in sorted(defs):
                    self._store(var)
                return
            if name not in PYTHON_BODY_CELL_MAGICS:
                for var in sorted(_expanded_names(line)):
                    self._load(var)
            if name not in PYTHON_BODY_CELL_MAGICS:
                return  # not Python: contributes no names
            if name == "timeit":
                self.visit_source(_split_timeit_options(line), strict=False)
            self.visit_source(body, strict=False)
            if name == "capture":
                targets = [w for w in line.split() if not w.startswith("-")]
                if targets and targets[0].isidentifier():
                    self._store(targets[0])
