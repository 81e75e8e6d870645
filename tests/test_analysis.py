"""Pure tests of :func:`reactive_kernel.analysis.analyse`.

Every case compares the *whole* :class:`CellAnalysis` (defs, refs, weak
reads, deletes, in-place changes, call effects and star_import), never single
members, so an extra or missing name fails.  ``tests/test_analysis_oracle.py``
checks the analysis against CPython's own bytecode.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from reactive_kernel.analysis import (
    BUILTIN_NAMES,
    CallEffects,
    CellAnalysis,
    analyse,
    bound_before,
    function_changes,
    unread_cell_magic,
)

T = TransformerManager().transform_cell


def cell(
    defs: set[str] | frozenset[str] = frozenset(),
    refs: set[str] | frozenset[str] = frozenset(),
    deletes: set[str] | frozenset[str] = frozenset(),
    star: bool = False,
    *,
    weak: set[str] | frozenset[str] = frozenset(),
    inplace: set[str] | frozenset[str] = frozenset(),
    calls: dict[str, tuple[set[str], ...]] | None = None,
) -> CellAnalysis:
    """The expected analysis, spelled with plain sets.  ``weak`` names are
    refs too; ``inplace`` and deleted names are defs too."""
    return CellAnalysis(
        defs=frozenset(defs) | frozenset(inplace) | frozenset(deletes),
        refs=frozenset(refs) | frozenset(weak),
        deletes=frozenset(deletes),
        star_import=star,
        inplace=frozenset(inplace),
        weak=frozenset(weak),
        calls=tuple(
            CallEffects(name, *(frozenset(part) for part in effects))
            for name, effects in sorted((calls or {}).items())
        ),
    )


def without_builtins(found: CellAnalysis) -> CellAnalysis:
    calls = (dataclasses.replace(c, reads=c.reads - BUILTIN_NAMES, changes_params=frozenset())
             for c in found.calls)
    # Aliases (``test_aliases``), pass-only reads (``test_pass_only``), literal
    # changes (``test_literal_changes``) and names given to calls
    # (``test_parameters_a_function_changes_in_place``, ``test_attribute_calls``)
    # are left out too.
    return dataclasses.replace(found, builtins=frozenset(), imported=frozenset(),
                               aliases=frozenset(), pass_only=frozenset(),
                               literal_changes=frozenset(), passed=frozenset(),
                               attribute_calls=frozenset(),
                               calls=tuple(c for c in calls
                                           if c.reads or c.writes or c.changes))


def check(code: str, expected: CellAnalysis, transform=None) -> None:
    """``got`` against ``expected``, leaving builtin reads and import-only
    names out (``test_builtin_reads``, ``test_import_only_names``)."""
    got = without_builtins(analyse(code, transform))
    for part in ("defs", "refs", "weak", "deletes", "inplace", "calls", "star_import"):
        assert getattr(got, part) == getattr(expected, part), f"{part} of {code!r}"
    # (test_shows_only, test_binds_only)
    assert dataclasses.replace(got, shows_only=False, binds_only=False, displays=False,
                               passes_to=frozenset()) == expected


# -- assignments ------------------------------------------------------------

@pytest.mark.parametrize(("code", "aliases"), [
    ("g = f", {("g", "f")}),
    ("g = h = f", {("g", "f"), ("h", "f")}),
    ("s = Sig(1)", {("s", "Sig")}),
    ("m = obj.method", {("m", "obj")}),
    ("r = make().build(x)", {("r", "make"), ("r", "x")}),
    ("if a:\n    g = f", {("g", "f")}),
    ("x = 1", set()),
    ("x = a + b", set()),
    ("x = x", set()),
    ("__p = f\ng = __q", set()),
    ("_p = f\ng = _q", {("_p", "f"), ("g", "_q")}),
    ("def d():\n    g = f", set()),
    # Found by audit 8: more ways an object that holds a function gets its name.
    ("a, b = f, g", {("a", "f"), ("a", "g"), ("b", "f"), ("b", "g")}),
    ("m, s = build()", {("m", "build"), ("s", "build")}),
    ("m: Model = Model()", {("m", "Model")}),
    ("m = Model() if flag else None", {("m", "Model")}),
    ("(m := Model())", {("m", "Model")}),
    ("p = partial(f, 2)", {("p", "partial"), ("p", "f")}),
    ("h = H(fn=f)", {("h", "H"), ("h", "f")}),
    ("fs = {'f': f}", {("fs", "f")}),
    ("m = models['a']", {("m", "models")}),
    ("ms = [Model() for _ in range(2)]", {("ms", "Model")}),
    ("class B(A):\n    pass", {("B", "A")}),
    ("class B(mod.A, metaclass=M):\n    pass", {("B", "mod")}),
    ("class K:\n    g = f", {("K", "f")}),
    ("C.m = f", {("C", "f")}),
    ("class K:\n    class I(A):\n        g = f", set()),
])
def test_aliases(code: str, aliases: set[tuple[str, str]]) -> None:
    """A function reached through another name (an alias, a method of an instance,
    a closure a factory made) reads the globals of the name it came from."""
    assert analyse(code).aliases == frozenset(aliases)


ASSIGNMENTS = [
    ("x = 1", cell({"x"})),
    ("x = y", cell({"x"}, {"y"})),
    ("a = b = c", cell({"a", "b"}, {"c"})),
    ("a, b = pair", cell({"a", "b"}, {"pair"})),
    ("a, (b, *c) = d", cell({"a", "b", "c"}, {"d"})),
    ("[first, *rest] = seq", cell({"first", "rest"}, {"seq"})),
    # A change in place is a new definition for the cells below (and a read).
    ("a.b = 1", cell(refs={"a"}, inplace={"a"})),
    ("a[i] = 2", cell(refs={"a", "i"}, inplace={"a"})),
    ("a[i:j] = v", cell(refs={"a", "i", "j", "v"}, inplace={"a"})),
    ("a.b.c = v", cell(refs={"a", "v"}, inplace={"a"})),
    ("x, a.b, m[k] = t", cell({"x"}, {"a", "m", "k", "t"}, inplace={"a", "m"})),
    ("x += 1", cell({"x"}, {"x"}, inplace={"x"})),
    ("x -= y", cell({"x"}, {"x", "y"}, inplace={"x"})),
    ("x = 1\nx += 1", cell({"x"}, inplace={"x"})),
    ("a.b += 1", cell(refs={"a"}, inplace={"a"})),
    ("a[i] *= k", cell(refs={"a", "i", "k"}, inplace={"a"})),
    ("f(x).y = 1", cell(refs={"f", "x"})),
    ("x: int", cell()),
    ("x: Alias", cell(refs={"Alias"})),
    ("y: int = z", cell({"y"}, {"z"})),
    ("y: Alias = z", cell({"y"}, {"Alias", "z"})),
    ("a.b: int", cell(refs={"a"})),
    ("a[i]: int = v", cell(refs={"a", "i", "v"}, inplace={"a"})),
    ("x = 1 if c else other", cell({"x"}, {"c", "other"})),
]


@pytest.mark.parametrize(("code", "expected"), ASSIGNMENTS)
def test_assignments(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- walrus ---------------------------------------------------------------

WALRUS = [
    ("(x := f(1))", cell({"x"}, {"f"})),
    ("if (n := len(items)) > limit:\n    pass", cell({"n"}, {"items", "limit"})),
    # A walrus in a comprehension binds in the enclosing (module) scope.
    # ... if the comprehension runs at all: else the name keeps its value.
    ("ys = [(y := v) for v in src]", cell({"ys", "y"}, {"src"}, weak={"y"})),
    ("[y for v in src if (y := v)]", cell({"y"}, {"src"}, weak={"y"})),
    ("[[(z := c) for c in row] for row in grid]", cell({"z"}, {"grid"}, weak={"z"})),
    # ... but not from a lambda body, which is its own scope.
    ("f = lambda: (w := 1)", cell({"f"})),
]


@pytest.mark.parametrize(("code", "expected"), WALRUS)
def test_walrus(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- compound statements ---------------------------------------------------

COMPOUND = [
    # A loop may run no time: what it binds may keep the value from before.
    ("for i in it:\n    pass", cell({"i"}, {"it"}, weak={"i"})),
    ("for k, v in d.items():\n    total = v",
     cell({"k", "v", "total"}, {"d"}, weak={"k", "v", "total"})),
    ("for i in it:\n    pass\nelse:\n    done = i", cell({"i", "done"}, {"it"}, weak={"i"})),
    # A loop over a literal that is not empty runs: its target is bound after it,
    # so a cell that reuses a loop variable does not read another cell's.
    ("for i in range(3):\n    print(i)", cell({"i"})),
    ("for i, x in enumerate([1, 2]):\n    pass\nprint(i, x)", cell({"i", "x"})),
    ("for i in zip('ab', (1,)):\n    pass", cell({"i"})),
    ("for i in range(10, -1, -2):\n    pass", cell({"i"})),
    ("for i in range(3):\n    if i:\n        continue\n    y = i",
     cell({"i", "y"}, weak={"y"})),
    # Not certainly: empty, or not literals (``n`` may be 0), or a step of 0.
    ("for i in range(0):\n    pass", cell({"i"}, weak={"i"})),
    ("for i in range(n):\n    pass", cell({"i"}, {"n"}, weak={"i"})),
    ("for i in range(1, 5, 0):\n    pass", cell({"i"}, weak={"i"})),
    ("for k in {}:\n    pass", cell({"k"}, weak={"k"})),
    ("for i in [*xs]:\n    pass", cell({"i"}, {"xs"}, weak={"i"})),
    ("for i in range(3):\n    del i", cell(deletes={"i"}, weak={"i"})),
    ("while n > 0:\n    n -= 1", cell({"n"}, {"n"}, inplace={"n"})),
    ("for i in it:\n    y = i\n    break\nprint(y)", cell({"i", "y"}, {"it"}, weak={"i", "y"})),
    ("with ctx:\n    pass", cell(refs={"ctx"})),
    # A context manager may suppress an exception: the body's names are maybe.
    ("with open(p) as fh:\n    data = fh.read()", cell({"fh", "data"}, {"p"}, weak={"data"})),
    # ``a()`` may suppress a failed unpacking or an exception entering ``b``.
    ("with a() as (g, h), b as k:\n    pass",
     cell({"g", "h", "k"}, {"a", "b"}, weak={"g", "h", "k"})),
    ("with suppress(OSError), open(p) as fh:\n    pass\nprint(fh)",
     cell({"fh"}, {"suppress", "p"}, weak={"fh"})),
    ("with cm as (a, b):\n    pass", cell({"a", "b"}, {"cm"}, weak={"a", "b"})),
    ("with cm as a:\n    pass\nprint(a)", cell({"a"}, {"cm"})),
    # The ``as`` name is unbound when the handler ends, if the handler ran.
    ("try:\n    pass\nexcept E as e:\n    print(e)",
     cell(refs={"E"}, deletes={"e"}, weak={"e"})),
    ("try:\n    pass\nexcept (E1, E2) as e:\n    msg = str(e)",
     cell({"msg"}, {"E1", "E2"}, deletes={"e"}, weak={"e", "msg"})),
    ("print(e)\ntry:\n    pass\nexcept E as e:\n    pass", cell(refs={"E", "e"}, deletes={"e"})),
    (
        "try:\n    import fast as impl\nexcept ImportError:\n    import slow as impl",
        cell({"impl"}),
    ),
    ("if c:\n    x = 1\nelse:\n    x = 2", cell({"x"}, {"c"})),
    ("assert cond, msg", cell(refs={"cond", "msg"})),
    ("raise Err from cause", cell(refs={"Err", "cause"})),
]


@pytest.mark.parametrize(("code", "expected"), COMPOUND)
def test_compound_statements(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- imports ----------------------------------------------------------------

IMPORTS = [
    ("import x", cell({"x"})),
    ("import x.y", cell({"x"})),
    ("import x.y.z", cell({"x"})),
    ("import x.y as z", cell({"z"})),
    ("import os.path, numpy as np", cell({"os", "np"})),
    ("from m import a", cell({"a"})),
    ("from m import a as b", cell({"b"})),
    ("from m.sub import a, b as c", cell({"a", "c"})),
    ("from . import sib", cell({"sib"})),
    ("from m import *", cell(star=True)),
    ("from m import *\nfrom n import q", cell({"q"}, star=True)),
    ("from m import *\nprint(unknown)", cell(refs={"unknown"}, star=True)),
]


@pytest.mark.parametrize(("code", "expected"), IMPORTS)
def test_imports(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- functions, classes, lambdas ------------------------------------------

SCOPES = [
    ("def f():\n    pass", cell({"f"})),
    ("async def f():\n    pass", cell({"f"})),
    ("class C:\n    pass", cell({"C"})),
    # Decorators, defaults, annotations and bases run at definition time.
    (
        "@dec\ndef f(a=d1, *args: A, k=d2, **kw: K) -> R:\n    return a",
        cell({"f"}, {"dec", "d1", "A", "d2", "K", "R"}),
    ),
    ("def f(a: Ann, /, b: Bnn = bdef):\n    pass", cell({"f"}, {"Ann", "Bnn", "bdef"})),
    ("@dec(arg)\nclass C:\n    pass", cell({"C"}, {"dec", "arg"})),
    ("class C(Base, Mixin, metaclass=M):\n    pass", cell({"C"}, {"Base", "Mixin", "M"})),
    ("class C(mod.Base):\n    pass", cell({"C"}, {"mod"})),
    # Free global reads inside bodies are reads; locals and params are not.
    # Global reads inside bodies happen when the function is called: they are
    # its call effects, reads of the cells (this one included) that call it.
    ("def f(a):\n    b = a + g\n    return b", cell({"f"}, calls={"f": ({"g"}, set())})),
    ("def f(a):\n    return a + g\nf(1)", cell({"f"}, {"g"}, calls={"f": ({"g"}, set())})),
    ("def f():\n    x = 1\n    return x", cell({"f"})),
    ("async def f():\n    await g", cell({"f"}, calls={"f": ({"g"}, set())})),
    (
        "async def f():\n    async for i in a:\n        pass\n    async with b as c:\n        pass",
        cell({"f"}, calls={"f": ({"a", "b"}, set())}),
    ),
    ("class C:\n    z = w\n    def m(self):\n        return q",
     cell({"C"}, {"w"}, calls={"C": ({"q"}, set())})),
    ("class C:\n    y = 1\n    z = y", cell({"C"})),
    ("class C:\n    x: Ann2 = v", cell({"C"}, {"Ann2", "v"})),
    ("f = lambda u=dd: u + glob", cell({"f"}, {"dd"}, calls={"f": ({"glob"}, set())})),
    # A lambda not bound to a name is most likely called at once.
    ("lambda: [x for x in y]", cell(refs={"y"})),
    ("s = sorted(rows, key=lambda r: r[k])", cell({"s"}, {"rows", "k"})),
    ("def f():\n    def g():\n        return h\n    return g",
     cell({"f"}, calls={"f": ({"h"}, set())})),
    # Calling a function reads what its body reads, when it is called.
    ("def f():\n    return later\nlater = 1", cell({"f", "later"},
                                                  calls={"f": ({"later"}, set())})),
    ("def f():\n    return later\nprint(f())\nlater = 1",
     cell({"f", "later"}, {"later"}, calls={"f": ({"later"}, set())})),
    ("x = 1\ndef f():\n    return x", cell({"x", "f"}, calls={"f": ({"x"}, set())})),
    ("def f():\n    return f()", cell({"f"}, calls={"f": ({"f"}, set())})),
    ("def f():\n    return g()\ndef g():\n    return h\nf()",
     cell({"f", "g"}, {"h"}, calls={"f": ({"g"}, set()), "g": ({"h"}, set())})),
]


@pytest.mark.parametrize(("code", "expected"), SCOPES)
def test_functions_classes_lambdas(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- comprehensions -------------------------------------------------------

COMPREHENSIONS = [
    ("[v for v in src]", cell(refs={"src"})),
    ("(v for v in src)", cell(refs={"src"})),
    ("sum(v for v in src)", cell(refs={"src"})),
    ("{v for v in src}", cell(refs={"src"})),
    ("{k: v for k, v in items}", cell(refs={"items"})),
    ("[v for v in src if v > thr]", cell(refs={"src", "thr"})),
    ("out = [f(v) for v in src]", cell({"out"}, {"f", "src"})),
    ("[w for v in src for w in v if w > lim]", cell(refs={"src", "lim"})),
    ("[[c for c in row] for row in grid]", cell(refs={"grid"})),
    ("[[c for c in other] for row in grid]", cell(refs={"grid", "other"})),
    ("src = [1]\n[v for v in src]", cell({"src"})),
    # Loop names are local to the comprehension: a later read is external.
    ("x = [i for i in range(3)]\ni", cell({"x"}, {"i"})),
    ("x = [y async for y in agen()]", cell({"x"}, {"agen"})),
    # Class-body names are not visible inside a comprehension in that body.
    ("class C:\n    y = 1\n    z = [y for _ in range(3)]", cell({"C"}, {"y"},
                                                             calls={"C": ({"y"}, set())})),
    # A target that is not a name reads (and changes) a module name.
    ("[0 for obj.attr in src]", cell(refs={"obj", "src"}, inplace={"obj"})),
    ("[0 for d[k] in src]", cell(refs={"d", "k", "src"}, inplace={"d"})),
    ("[0 for x in src for x.y in z]", cell(refs={"src", "z"})),
]


@pytest.mark.parametrize(("code", "expected"), COMPREHENSIONS)
def test_comprehensions(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- global / nonlocal --------------------------------------------------------

GLOBALS = [
    ("def f():\n    global g\n    g = 1", cell({"f"}, calls={"f": (set(), {"g"})})),
    ("def f():\n    global g\n    return g", cell({"f"}, calls={"f": ({"g"}, set())})),
    # symtable marks an augmented global assignment as a write only; a write
    # is a (weak) read of the callers anyway.
    ("def f():\n    global g\n    g += 1", cell({"f"}, calls={"f": (set(), {"g"})})),
    ("def f():\n    global g\n    g = 1\ng = 2", cell({"f", "g"}, calls={"f": (set(), {"g"})})),
    # Calling it in the cell: the cell may define the name (or leave it as it was).
    ("def setup():\n    global config\n    config = 1\nsetup()",
     cell({"setup", "config"}, weak={"config"}, calls={"setup": (set(), {"config"})})),
    (
        "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n += 1\n"
        "    return inner",
        cell({"outer"}),
    ),
]


@pytest.mark.parametrize(("code", "expected"), GLOBALS)
def test_global_and_nonlocal(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# A function that changes a global's object in place: a cell calling it
# changes that name in place (a definition for the cells below, and a read).
CHANGES_THROUGH_CALLS = [
    ("def register(fn):\n    registry[fn.__name__] = fn\n    return fn",
     cell({"register"}, calls={"register": ({"registry"}, set(), {"registry"})})),
    ("def f():\n    cfg.opts['a'] = 1\n    del cache[0]\n    totals[0] += 1",
     cell({"f"}, calls={"f": ({"cfg", "cache", "totals"}, set(),
                              {"cfg", "cache", "totals"})})),
    # A local or a parameter changed in place is not a global.
    ("def f(d):\n    d['k'] = 1\n    seen = {}\n    seen[1] = 2", cell({"f"})),
    # A nested function's own globals count; its locals do not.
    ("def f():\n    def g():\n        out.x = 1\n        mine = []\n        mine[:] = [1]\n"
     "    g()", cell({"f"}, calls={"f": ({"out"}, set(), {"out"})})),
    # Called in its own cell: the cell changes the name in place (it may not).
    ("def add(k):\n    store[k] = 1\nadd(3)",
     cell({"add"}, refs={"store"}, inplace={"store"},
          calls={"add": ({"store"}, set(), {"store"})})),
    # A known mutating method changes its object in place; other method calls are reads.
    ("def log(m):\n    history.append(m)",
     cell({"log"}, calls={"log": ({"history"}, set(), {"history"})})),
    ("def draw(m):\n    ax.plot(m)", cell({"draw"}, calls={"draw": ({"ax"}, set())})),
    ("def keep(m):\n    seen = []\n    seen.append(m)", cell({"keep"})),
]


@pytest.mark.parametrize(("code", "expected"), CHANGES_THROUGH_CALLS)
def test_changes_in_place_through_calls(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- del ------------------------------------------------------------------------

DELETES = [
    # A deletion is a definition for the cells below: the name is gone.
    ("t = 1\ndel t", cell(deletes={"t"})),
    ("del ext", cell(refs={"ext"}, deletes={"ext"})),
    ("del (p, q)", cell(refs={"p", "q"}, deletes={"p", "q"})),
    ("t = 1\ndel t, ext", cell(refs={"ext"}, deletes={"t", "ext"})),
    ("x = 1\ndel x\nx = 2", cell({"x"}, deletes={"x"})),
    ("for x in xs:\n    del x", cell(refs={"xs"}, deletes={"x"}, weak={"x"})),
    ("del a.b, c[k]", cell(refs={"a", "c", "k"}, inplace={"a", "c"})),
    ("cache = {}\nif reset:\n    del cache", cell({"cache"}, {"reset"}, deletes={"cache"})),
]


@pytest.mark.parametrize(("code", "expected"), DELETES)
def test_del(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- match ----------------------------------------------------------------------

MATCHES = [
    # No case may match: what the cases bind is maybe.
    ("match cmd:\n    case x:\n        pass", cell({"x"}, {"cmd"}, weak={"x"})),
    ("match cmd:\n    case [first, *rest]:\n        pass",
     cell({"first", "rest"}, {"cmd"}, weak={"first", "rest"})),
    ("match cmd:\n    case [_, *_]:\n        pass", cell(refs={"cmd"})),
    ("match cmd:\n    case (1 | 2) as num:\n        pass", cell({"num"}, {"cmd"}, weak={"num"})),
    (
        "match cmd:\n    case {'k': kv, **others}:\n        pass",
        cell({"kv", "others"}, {"cmd"}, weak={"kv", "others"}),
    ),
    ("match cmd:\n    case {mod.K: val}:\n        pass",
     cell({"val"}, {"cmd", "mod"}, weak={"val"})),
    (
        "match cmd:\n    case Point(x=px, y=py) as pt:\n        pass",
        cell({"px", "py", "pt"}, {"cmd", "Point"}, weak={"px", "py", "pt"}),
    ),
    ("match cmd:\n    case Point(a, b):\n        pass",
     cell({"a", "b"}, {"cmd", "Point"}, weak={"a", "b"})),
    ("match cmd:\n    case Color.RED:\n        pass", cell(refs={"cmd", "Color"})),
    ("match cmd:\n    case str() | bytes():\n        pass", cell(refs={"cmd"})),
    ("match cmd:\n    case [a] if a > lim:\n        pass",
     cell({"a"}, {"cmd", "lim"}, weak={"a"})),
    ("match cmd:\n    case _:\n        out = 0", cell({"out"}, {"cmd"}, weak={"out"})),
]


@pytest.mark.parametrize(("code", "expected"), MATCHES)
def test_match(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- issue 15's root causes, each with its minimal cell --------------------------

ROOT_CAUSES = [
    # 1. A ``global`` write inside a function is a definition of the cell calling it.
    ("def setup():\n    global config\n    config = 1\nsetup()",
     cell({"setup", "config"}, weak={"config"}, calls={"setup": (set(), {"config"})})),
    # 2. A class body reading a name it also binds reads the global first.
    ("class B:\n    codec = codec", cell({"B"}, {"codec"})),
    # 3. Class bodies and comprehensions run where they stand.
    ("class C:\n    size = LIMIT\nLIMIT = 10", cell({"C", "LIMIT"}, {"LIMIT"})),
    ("total = sum([w * price for w in weights])\nprice = 3",
     cell({"total", "price"}, {"weights", "price"})),
    # 4. A binding on some paths only: a definition and a possible read.
    ("if flag:\n    mode = 'fast'\nprint(mode)", cell({"mode"}, {"flag"}, weak={"mode"})),
    ("try:\n    import ssl\nexcept ImportError:\n    pass", cell({"ssl"}, weak={"ssl"})),
    ("with suppress(KeyError):\n    val = d['k']", cell({"val"}, {"suppress", "d"}, weak={"val"})),
    # 5. A ``del`` or ``except ... as`` on some paths only keeps the definition.
    ("cache = {}\nif reset:\n    del cache", cell({"cache"}, {"reset"}, deletes={"cache"})),
    ("e = 1\ntry:\n    pass\nexcept Exception as e:\n    pass", cell({"e"}, deletes={"e"})),
    ("class K:\n    global registry\n    registry = {}",
     cell({"K", "registry"}, weak={"registry"})),
    # 6. A class body's name deleted (``del``, the end of ``except ... as``) is
    # looked up in the globals again.
    ("class C:\n    x = 1\n    del x\n    y = x", cell({"C"}, {"x"})),
    ("class C:\n    try:\n        raise X\n    except X as e:\n        pass\n    y = e",
     cell({"C"}, {"X", "e"})),
    ("class C:\n    x = 1\n    for i in r:\n        y = x\n        del x", cell({"C"}, {"r", "x"})),
    ("class C:\n    x = 1\n    while x:\n        del x", cell({"C"}, {"x"})),
    # 7. A class body calling a function it defines reads that function's globals.
    ("class C:\n    def helper():\n        return g\n    x = helper()",
     cell({"C"}, {"g"}, calls={"C": ({"g"}, set())})),
    ("class C:\n    def deco(f):\n        return wrap(f)\n    @deco\n    def m(self):\n"
     "        pass",
     cell({"C"}, {"wrap"}, calls={"C": ({"wrap"}, set())})),
    ("class C:\n    f = lambda: g\n    x = f()", cell({"C"}, {"g"}, calls={"C": ({"g"}, set())})),
    ("class C:\n    def helper():\n        return g", cell({"C"}, calls={"C": ({"g"}, set())})),
    # 8. A class body run by a call reads what it binds, until it binds it.
    ("def f():\n    class C:\n        codec = codec\n    return C",
     cell({"f"}, calls={"f": ({"codec"}, set())})),
    ("def f(n):\n    class C:\n        size = n\n        z = 1\n        w = z\n    return C",
     cell({"f"})),
    # The function's own codec is not what the class body reads (LOAD_NAME skips it).
    ("def f():\n    codec = 1\n    class C:\n        codec = codec\n    return C",
     cell({"f"}, calls={"f": ({"codec"}, set())})),
    ("class A:\n    def m(self):\n        class B:\n            q = q\n        return B",
     cell({"A"}, calls={"A": ({"q"}, set())})),
]


@pytest.mark.parametrize(("code", "expected"), ROOT_CAUSES)
def test_root_causes_of_missed_names(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- f-strings, builtins, ambient and private names, ordering -------------------

MISC = [
    ("s = f'{a} {b!r} {c:{w}}'", cell({"s"}, {"a", "b", "c", "w"})),
    ("print(f'{obj.attr:>{width}}')", cell(refs={"obj", "width"})),
    ("print(len(list(x)))", cell(refs={"x"})),
    ("r = range(n)\nm = max(map(abs, r))", cell({"r", "m"}, {"n"})),
    ("print(display, In, Out, get_ipython, exit, quit)", cell()),
    # Shadowing a builtin is still a definition of it.
    ("list = [1]", cell({"list"})),
    # IPython's own names and names starting with __ never link cells; other names
    # starting with _ are the notebook's (audit 14: an edited `_scale = 3` left its
    # readers stale).
    ("x = _ + __ + ___ + _5 + _i + _iii + _i3 + _oh[1] + _ih[0] + _dh[0] + _exit_code",
     cell({"x"})),
    ("_p = 1\nq = _p + __r", cell({"_p", "q"})),
    ("_scale = 2\ny = x * _scale", cell({"_scale", "y"}, {"x"})),
    ("print(_scale)", cell(refs={"_scale"})),
    ("_private = secret\n__dunder__ = 1", cell({"_private"}, {"secret"})),
    # A private function never links cells, but calling it reads what it reads.
    ("def __helper():\n    return __other + g\n__helper()",
     cell(refs={"g"}, calls={"__helper": ({"g"}, set())})),
    ("del __t", cell()),
    ("__t = 1\ndel __t", cell()),
    ("print(x); x = 1", cell({"x"}, {"x"})),
    ("x = 1; print(x)", cell({"x"})),
    ("fig, ax = plt.subplots(); ax.plot(d)", cell({"fig", "ax"}, {"plt", "d"})),
    ("x = await f(y)", cell({"x"}, {"f", "y"})),
    ("async with lock:\n    v = await get()", cell({"v"}, {"lock", "get"}, weak={"v"})),
    ("async for item in stream:\n    pass", cell({"item"}, {"stream"}, weak={"item"})),
    ("", cell()),
    ("# only a comment", cell()),
]


@pytest.mark.parametrize(("code", "expected"), MISC)
def test_misc(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


@pytest.mark.parametrize("code", ["x = = 1", "def f(:\n    pass", "x = (", "return x = 1"])
def test_syntax_error_raises(code: str) -> None:
    with pytest.raises(SyntaxError):
        analyse(code)


def test_ignore_names_are_never_refs() -> None:
    got = analyse("print(a, b)\nc = 1", ignore=["a", "len"])
    assert dataclasses.replace(without_builtins(got), binds_only=False,
                               passes_to=frozenset()) == cell({"c"}, {"b"})
    assert got.builtins == {"print"}


BUILTIN_READS = [
    # Builtins read before the cell binds them; a cell above may shadow them.
    ("print(len(list(x)))", {"print", "len", "list"}, {}),
    ("def eval(s):\n    return 1\nprint(eval('x'))", {"print"}, {}),
    ("if flag:\n    sum = 0\nprint(sum)", {"print", "sum"}, {}),
    ("display(In)", set(), {}),
    # A function reads the builtins its body loads when it is called.
    ("def f(v):\n    return sorted(v, key=abs)", set(), {"f": {"sorted", "abs"}}),
    ("def g():\n    sum = 0\n    return sum", set(), {}),
]


IMPORT_ONLY = [
    ("import numpy as np\nfrom os import path, sep as s", {"np", "path", "s"}),
    ("import os.path", {"os"}),
    ("import json\njson = json.dumps", set()),
    ("import types\ntypes.x = 1", set()),
    ("try:\n    import ujson as js\nexcept ImportError:\n    js = None", set()),
    ("if flag:\n    import math", {"math"}),
    ("def f():\n    global g\n    import g\nf()", set()),
    ("class C:\n    import re", set()),
]


@pytest.mark.parametrize(("code", "names"), IMPORT_ONLY)
def test_import_only_names(code: str, names: set[str]) -> None:
    assert analyse(code).imported == names


@pytest.mark.parametrize(("code", "reads", "calls"), BUILTIN_READS)
def test_builtin_reads(code: str, reads: set[str], calls: dict[str, set[str]]) -> None:
    got = analyse(code)
    assert got.builtins == reads
    assert {c.name: c.reads & BUILTIN_NAMES for c in got.calls
            if c.reads & BUILTIN_NAMES} == calls


def test_result_is_frozen() -> None:
    got = analyse("x = y")
    assert isinstance(got.defs, frozenset)
    assert isinstance(got.refs, frozenset)
    assert isinstance(got.deletes, frozenset)
    with pytest.raises(AttributeError):
        got.defs = frozenset()  # type: ignore[misc]


# -- type parameter syntax (Python >= 3.12) -----------------------------------

TYPE_SYNTAX = [
    ("type X = int", cell({"X"})),
    ("type Pair = tuple[A, B]", cell({"Pair"}, {"A", "B"})),
    ("type L[T] = list[T]", cell({"L"})),
    ("type X = int\ndel X", cell(deletes={"X"})),
    # Type parameters are bound by the definition itself, not read from outside.
    ("def f[T](a: T) -> T:\n    return a", cell({"f"})),
    ("class C[T](Base[T]):\n    pass", cell({"C"}, {"Base"})),
]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type statement needs Python 3.12")
@pytest.mark.parametrize(("code", "expected"), TYPE_SYNTAX)
def test_type_parameter_syntax(code: str, expected: CellAnalysis) -> None:
    check(code, expected)


# -- IPython syntax through the shell's transformer -----------------------------

IPYTHON = [
    ("%time x = y + 1", cell({"x"}, {"y"})),
    ("%timeit -n 3 f(z)", cell(refs={"f", "z"})),
    ("%timeit -q -n 3 -r 2 f(z)", cell(refs={"f", "z"})),
    ("%%time\nw = v", cell({"w"}, {"v"})),
    ("%%time\nw = v\nu = w + extra", cell({"w", "u"}, {"v", "extra"})),
    # ``%timeit`` runs its code as a function's body (audit 21, CFDPython): the names
    # it assigns are that function's; it reads globals and changes their objects.
    ("%%timeit -n 2 setup_x = s\nr = setup_x + t", cell(refs={"s", "t"})),
    ("%timeit u = np.zeros(3)", cell(refs={"np"})),
    ("%%timeit\nu[0] += 1", cell({"u"}, {"u"}, inplace={"u"})),
    ("%%capture out\nprint(k)", cell({"out"}, {"k"})),
    ("%%capture --no-stderr out\nprint(k)", cell({"out"}, {"k"})),
    ("%%capture\nprint(k)", cell(refs={"k"})),
    ("%%bash\necho $HOME", cell()),
    ("%%time\nx = = 1", cell()),
    ("files = !ls", cell({"files"})),
    ("%reactive graph", cell()),
    ("import os\n%time n = len(os.listdir(p))", cell({"os", "n"}, {"p"})),
    # ``!cmd`` expands ``{expr}`` / ``$name`` from the user namespace at run
    # time (InteractiveShell.system -> var_expand), so the cell reads ``d``:
    # changing ``d`` must re-run the shell command.
    ("!ls {d}", cell(refs={"d"})),
    ("files = !ls {d}", cell({"files"}, {"d"})),
    # IPython transforms the code of %time, %%time, %%timeit and %%capture too.
    ("%%time\nx = !ls {d}", cell({"x"}, {"d"})),
    ("%time x = !ls {d}", cell({"x"}, {"d"})),
    ("%%capture out\n%time x = f(y)", cell({"out", "x"}, {"f", "y"})),
    ("%%timeit -n 2 s = setup\ns2 = !ls {d}", cell(refs={"setup", "d"})),
    # ``--no-raise-error``: an exception stops the statement, not the cell.
    ("%time --no-raise-error x = f(y)", cell({"x"}, {"f", "y"}, weak={"x"})),
    ("%%time --no-raise-error\nx = f(y)", cell({"x"}, {"f", "y"}, weak={"x"})),
    # %prun and %debug run their code in the user namespace.
    ("%prun x = f(y)", cell({"x"}, {"f", "y"})),
    ("%prun -s cumulative -q x = f(y)", cell({"x"}, {"f", "y"})),
    ("%prun -qs cumulative x = f(y)", cell({"x"}, {"f", "y"})),
    ("%%prun -l 3\nx = f(y)", cell({"x"}, {"f", "y"})),
    ("%debug -b file.py:3 x = f(y)", cell({"x"}, {"f", "y"}, weak={"x"})),
    ("%%debug\nx = f(y)", cell({"x"}, {"f", "y"}, weak={"x"})),
    ("%debug", cell()),
    # Introspection shows the object: a read.
    ("obj?", cell(refs={"obj"})),
    ("?obj.attr", cell(refs={"obj"})),
    ("obj??", cell(refs={"obj"})),
    ("%pdef func", cell(refs={"func"})),
    ("a*?", cell()),
    ("%xdel x", cell(refs={"x"}, deletes={"x"})),
]


@pytest.mark.parametrize(("code", "expected"), IPYTHON)
def test_ipython_syntax(code: str, expected: CellAnalysis) -> None:
    check(code, expected, T)


def test_magic_without_transform_is_a_syntax_error() -> None:
    with pytest.raises(SyntaxError):
        analyse("%time x = 1")


def test_calls_give_the_same_result_whatever_the_hash_seed() -> None:
    """A function that calls the cell's other functions: which of its reads may
    be bound by the cell itself first used to depend on the order a set of names
    iterated in, which changes with PYTHONHASHSEED from one process to the next."""
    code = ("def g():\n    global R\n    R = 1\n"
            "def f():\n    g()\n    h()\n    return R + Q\n"
            "def h():\n    global Q\n    Q = R\n"
            "f()\n")
    script = ("import sys\nfrom reactive_kernel.analysis import analyse\n"
              "a = analyse(sys.stdin.read())\n"
              "print(sorted(a.refs), sorted(a.weak), sorted(a.defs))\n")
    results = set()
    for seed in range(6):
        done = subprocess.run([sys.executable, "-c", script], input=code, text=True,
                              capture_output=True, timeout=60, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed)})
        results.add(done.stdout)
    # The calls' reads are taken as made before their writes: plain reads.
    assert results == {"['Q', 'R'] [] ['Q', 'R', 'f', 'g', 'h']\n"}
    check(code, cell({"Q", "R", "f", "g", "h"}, {"Q", "R"}, calls={
        "f": ({"g", "h", "R", "Q"}, set()), "g": (set(), {"R"}), "h": ({"R"}, {"Q"})}))


@pytest.mark.parametrize(("code", "inplace"), [
    ("lst.append(1)", {"lst"}),
    ("df.insert(0, 'Ones', 1)", {"df"}),
    ("model.fit(X, y)", {"model"}),
    ("df.dropna(inplace=True)", {"df"}),
    ("d['k'].append(1)", {"d"}),
    ("self_.items.update(other)", {"self_"}),
    ("ax.plot(x)", set()),
    ("df.dropna(inplace=False)", set()),
    ("smf.ols(f, d).fit()", set()),  # what a call returned, not a name's object
    ("[x.append(1) for x in xs]", set()),
    ("[out.append(x) for x in xs]", {"out"}),
    ("random.shuffle(deck)", {"deck"}),
    ("np.random.shuffle(data.values)", {"data"}),
    ("heapq.heappush(heap, (1, 'a'))", {"heap"}),
    ("from heapq import heapify\nheapify(h)", {"h"}),
    ("insort(a, 3)", {"a"}),
    ("rng.shuffle(x)", {"x"}),
    ("q.appendleft(0)", {"q"}),
    ("est.set_params(C=2)", {"est"}),
    ("G.add_edge(0, 5)\nG.remove_nodes_from([1, 2])", {"G"}),
    ("Xs = scaler.fit_transform(X)", {"scaler"}),
    ("random.shuffle(make())", set()),
    ("sorted(xs)", set()),
])
def test_a_mutating_method_changes_its_object_in_place(code: str, inplace: set[str]) -> None:
    """Found by audit 8: ``data.insert(0, 'Ones', 1)`` re-run on the object its last
    run changed fails (``cannot insert Ones, already exists``): known mutating
    methods are changes in place, so a re-run first gets a fresh object."""
    got = analyse(code)
    assert got.inplace == frozenset(inplace)
    assert inplace <= got.defs and inplace <= got.refs


@pytest.mark.parametrize(("code", "handed"), [
    ("list(map(out.append, xs))", {("out", (), "append")}),
    ("fetch(url, callback=self_.seen.add)", {("self_", ("seen",), "add")}),
    ("consume(*map(cache.update, parts))", {("cache", (), "update")}),
    ("split(xs, good.append, bad.append)", {("good", (), "append"), ("bad", (), "append")}),
    ("functools.reduce(np.add, xs)", {("np", (), "add")}),  # the kernel decides
    ("sorted(d, key=d.get)", set()),
    ("[list(map(x.append, ys)) for x in xs]", set()),
    ("list(map(list.append, ls, xs))", set()),  # a builtin's
])
def test_a_mutating_method_handed_to_a_call_is_noted(
        code: str, handed: set[tuple[str, tuple[str, ...], str]]) -> None:
    """Audit 20: ``list(map(out.append, xs))`` appends through ``map``. Such a
    method handed to a call is noted, not an in-place change: the kernel
    decides by what the object is (``np.add`` is a module's function)."""
    got = analyse(code)
    assert got.handed == frozenset(handed)
    assert not got.inplace


@pytest.mark.parametrize(("code", "inplace", "literal"), [
    ("random.seed(1)", {"random"}, {"random"}),
    ("np.random.seed(0)", {"np"}, {"np"}),
    ("import numpy as np\nnp.random.seed(0)\nx = np.random.rand(3)", {"np"}, {"np"}),
    ("pd.set_option('display.precision', 3)\npd.options.display.max_rows = 10",
     {"pd"}, {"pd"}),
    ("plt.style.use('ggplot')\nplt.rcParams['figure.figsize'] = (8, 4)", {"plt"}, {"plt"}),
    ("sns.set_theme(style='whitegrid')", {"sns"}, {"sns"}),
    ("sys.path.append('..')", {"sys"}, {"sys"}),
    ("np.set_printoptions(formatter={'float': '{:.2f}'.format})", {"np"}, {"np"}),
    # Reading another name, in a compound statement, or two names at once: the
    # same text may set something else next time.
    ("np.random.seed(SEED)", {"np"}, set()),
    ("if fast:\n    random.seed(1)", {"random"}, set()),
    ("random.seed(1); np.random.seed(1)", {"random", "np"}, {"random", "np"}),
    ("random.seed(1)\nfor _ in range(3):\n    random.seed(2)", {"random"}, set()),
    ("d['k'] = 1\nd['j'] = 2", {"d"}, {"d"}),
    ("d[k] = 1", {"d"}, set()),
    # Setters called on what a call returned, and ordinary methods, change nothing.
    ("np.random.default_rng(0).seed(1)", set(), set()),
    ("x = rng.random()", set(), set()),
])
def test_a_module_setter_changes_the_module_and_literal_changes_are_comparable(
        code: str, inplace: set[str], literal: set[str]) -> None:
    """Audit 12 (S1): an edited ``random.seed(1)`` re-ran nothing, as it defined
    nothing.  A module's setter (``seed``, ``set_option``, ``style.use``...) is a
    change in place of the name it is called on (the kernel drops it when the
    object is not a module), and statements changing a name that read nothing
    else are kept as text, so that the same setting made again is no new value."""
    got = analyse(code)
    assert got.inplace == frozenset(inplace)
    assert {name for name, _ in got.literal_changes} == literal


def test_setters_in_function_bodies_change_modules_for_the_callers() -> None:
    """``def set_seed(s): random.seed(s); np.random.seed(s)`` is a common helper:
    calling it changes both modules; the ambiguous ``set`` and ``use`` do not
    count in function bodies (``ax.set(title=t)`` on a global axes)."""
    got = analyse("def set_seed(s):\n    random.seed(s)\n    np.random.seed(s)\n"
                  "def style(t):\n    ax.set(title=t)\n    plt.style.use(t)")
    effects = {c.name: c for c in got.calls}
    # (and the two global generators' state: see test_runner's generator tests)
    assert effects["set_seed"].changes == {"random", "np", "<random>", "<np.random>"}
    assert "style" not in effects or not effects["style"].changes


@pytest.mark.parametrize(("code", "refs", "call_reads"), [
    ("r = df.query('a > @limit')", {"df", "limit"}, {}),
    ("r = df.eval(expr='a + @k')", {"df", "k"}, {}),
    # ``@`` inside the query's own quoted strings marks nothing.
    ("r = df.query(\"email == 'x@y.com' and a > @lo\")", {"df", "lo"}, {}),
    ("limit = 3\nr = df.query('a > @limit')", {"df"}, {}),
    ("r = [df.query('a > @x') for x in xs]", {"df", "xs"}, {}),
    ("def f(d):\n    return d.query('a > @limit')", set(), {"f": {"limit"}}),
    ("def f(d, limit):\n    return d.query('a > @limit')", set(), {}),
    ("g = lambda d: d.query('a > @cut')", set(), {"g": {"cut"}}),
    ("r = df.query(q)", {"df", "q"}, {}),
    ("r = s.replace('@x', y)", {"s", "y"}, {}),
])
def test_a_query_string_reads_the_names_it_marks_with_at(
        code: str, refs: set[str], call_reads: dict[str, set[str]]) -> None:
    """pandas' ``df.query("a > @limit")`` reads ``limit`` from the caller's
    namespace: a read, so the cell re-runs when ``limit`` changes."""
    got = analyse(code)
    assert got.refs == frozenset(refs)
    assert {c.name: set(c.reads) for c in got.calls if c.reads} == call_reads


@pytest.mark.parametrize(("code", "changes", "only"), [
    ("np.sort(a)", {("np", (), "sort")}, {"np"}),
    ("stats.norm.fit(d)", {("stats", ("norm",), "fit")}, {"stats"}),
    ("import os\nos.remove(p)", {("os", (), "remove")}, set()),
    ("lst.append(1)", {("lst", (), "append")}, {"lst"}),
    ("df['a'] = 1\ndf.insert(0, 'b', 2)", set(), set()),  # changed by a store too
    ("d['k'].append(1)", {("d", ("[]",), "append")}, {"d"}),
    ("df.a.add(1)", {("df", ("a",), "add")}, {"df"}),
    ("random.shuffle(deck)", set(), set()),
])
def test_changes_made_only_by_method_calls_are_listed_for_the_kernel(
        code: str, changes: set[tuple[str, tuple[str, ...], str]], only: set[str]) -> None:
    """Whether ``np.sort(a)`` changes ``np`` depends on what ``np`` is: the kernel
    decides (a module's function changes nothing)."""
    got = analyse(code)
    assert got.method_changes == frozenset(changes)
    assert got.method_only == frozenset(only)


@pytest.mark.parametrize(("code", "pass_only"), [
    ("for t in ts:\n    tree = t", {"t", "tree"}),
    ("for i in range(n):\n    tree = i\n    print(tree)", {"i", "tree"}),
    ("try:\n    import ssl\nexcept ImportError:\n    pass", {"ssl"}),
    ("if flag:\n    mode = 1", {"mode"}),
    # Loaded where the cell may not have bound it: the value above is read.
    ("for i in range(n):\n    tree = i\nprint(tree)", {"i"}),
    ("if c:\n    tree = 0\nfor i in range(n):\n    print(tree)\n    tree = i", {"i"}),
    ("for t in ts:\n    tree = t\ndel tree", {"t"}),
    ("def f():\n    return tree\nfor t in ts:\n    tree = t\nf()", {"t"}),
    ("while n:\n    tree = n\n    n -= 1", {"tree"}),
    ("tree = 1", set()),
])
def test_pass_only(code: str, pass_only: set[str]) -> None:
    """Names the cell may leave as they were without ever loading them."""
    found = analyse(code)
    assert found.pass_only == pass_only and found.pass_only <= found.weak


@pytest.mark.parametrize(("code", "line", "column", "bound"), [
    ("n = 10; m = 'a'; 1 / 0", 1, 17, {"n", "m"}),
    ("n = 10; 1 / 0; m = 'a'", 1, 8, {"n"}),
    ("n = 10\nm = n\nf(m)", 3, 0, {"n", "m"}),
    ("n = 10\nm = n\nf(m)", 3, None, {"n", "m"}),
    # Statements that started only, or on some paths only, bound nothing for sure.
    ("n = 10\nif c:\n    m = 1\nelse:\n    m = 2\n    f(m)", 6, 4, {"n"}),
    ("if c:\n    m = 1\nn = 10\nf()", 4, 0, {"n"}),
    ("for i in range(n):\n    k = i\nf()", 3, 0, set()),
    ("for i in range(3):\n    k = i\nf()", 3, 0, {"i"}),  # as the analysis has it
    ("import os, sys as s\ndel x\n_p = 1\nf()", 4, 0, {"os", "s", "x", "_p"}),
    ("import os, sys as s\ndel x\n__p = 1\nf()", 4, 0, {"os", "s", "x"}),
    ("def g():\n    global h\n    h = 1\nclass C:\n    pass\ng()", 6, 0, {"g", "C"}),
    ("%time n = 10\nf()", 2, 0, {"n"}),
    # A decorator that raises: its statement, from the decorator's line.
    ("n = 10\n@deco(n)\ndef f():\n    pass", 2, 1, {"n"}),
    ("n = 10\n@deco(n)\ndef f():\n    pass", 2, None, {"n"}),
])
def test_bound_before_a_failed_statement(
        code: str, line: int, column: int | None, bound: set[str]) -> None:
    """What a run that failed at a position surely bound or deleted before it."""
    assert bound_before(code, line, column, T) == bound


@pytest.mark.parametrize(("code", "line", "column"), [
    ("n = 10; 1 / 0", 1, None),  # the line alone names no single statement
    ("n = 10\nf()", 7, 0),  # not in the code: an error reported elsewhere
    ("n = 10\nf(", 2, 0),  # it does not parse: nothing ran
])
def test_bound_before_an_unknown_position(code: str, line: int, column: int | None) -> None:
    assert bound_before(code, line, column, T) is None


@pytest.mark.parametrize("code", [
    "import ipywidgets as w\n@w.interact(k=(1, 5))\ndef f(k):\n    print(k * sq)",
    "@interact\ndef f(k=1):\n    print(k * sq)",
    "@widgets.interact_manual\ndef f(k=1):\n    return k * sq",
])
def test_a_decorator_that_calls_the_function_reads_its_globals_where_it_is_defined(
        code: str) -> None:
    """Web UI exploratory test (bug 2): ``@w.interact(k=...)`` calls the function as it
    defines it; the cell kept ``k*sq 200`` after ``sq = 7``.  Other decorators do
    not call it (``@lru_cache``): the function's globals are read where it is called."""
    assert "sq" in analyse(code).refs
    assert "sq" not in analyse("@lru_cache\ndef f(k=1):\n    return k * sq").refs


@pytest.mark.parametrize(("code", "expected", "passes_to"), [
    ("df", True, set()), ("df.head(3)", True, set()), ("print(a)\nprint(len(df))", True, set()),
    ("df.describe().T", True, set()), ("print(f'{x:.2f}')", True, set()), ("x + 1", True, set()),
    ("normalize(df)\ndf", False, set()), ("ax.plot(x)\nn = 1", False, {"ax"}),
    ("lst.append(1)", False, set()), ("c.fix(df)\ndf", True, {"c"}),
    ("helpers.to_thousands(df)\ndf", True, {"helpers"}),
    ("print(df.round(decimals=n))", True, {"df"}), ("df.groupby('a').mean()", True, set()),
    ("df['b'] = 1", False, set()), ("(n := 3)", False, set()),
    ("print(np.random.rand())", True, set()), ("pass", False, set()), ("", False, set()),
    ("%timeit df.head()", False, set()), ("1 + 1", True, set()),
    ("f(x).g(y)", False, set()), ("d['k'].fix(df)", True, {"d"}),
])
def test_shows_only(code: str, expected: bool, passes_to: set[str]) -> None:
    """A cell that only shows values (expressions, method calls and showing builtins,
    nothing changed in place) may be re-run for a display setting (``Runner.showed``)
    if the methods given names are a library's (``passes_to``: the kernel looks)."""
    got = analyse(code, T)
    assert got.shows_only is expected
    assert got.passes_to == passes_to


@pytest.mark.parametrize(("code", "expected", "passes_to"), [
    ("ax = df.plot()\nax.set_title('t')", True, set()),
    ("a, *b = df.head(), 1\ndf", True, set()),
    ("import pandas as pd\ndf = pd.DataFrame(np.random.rand(3))\ndf.plot.bar()", True, {"pd"}),
    ("df2: object = df.copy()", True, set()), ("df['b'] = 1\ndf.plot()", False, set()),
    ("ax.title = 't'\nax.plot()", False, set()),
    ("norm = normalize(df)\nnorm.plot()", False, set()),
    ("res = c.fix(df)", True, {"c"}), ("for x in df: y = x", False, set()), ("df", False, set()),
    ("x = 1", True, set()), ("y = (n := 2)", False, set()),
    ("pcts = counts.div(counts.sum(axis=1), axis=0)\npcts.plot.bar()", True, {"counts"}),
])
def test_binds_only(code: str, expected: bool, passes_to: set[str]) -> None:
    """A cell that binds names (to names only) and otherwise only shows may be
    re-run for a plotting setting when it draws through pandas (``Runner.showed``)."""
    got = analyse(code, T)
    assert got.binds_only is expected
    assert got.passes_to == passes_to



@pytest.mark.parametrize(("code", "expected"), [
    ("def f(d):\n    d['x'] = 1", {(0, "d", True)}),
    ("def f(a, d):\n    d.x += 1", {(1, "d", True)}),
    ("def f(d, *, log):\n    log.append(d)\n    del d[0]", {(-1, "log", True), (0, "d", True)}),
    ("def f(df):\n    df.dropna(inplace=True)", {(0, "df", True)}),
    ("def f(d):\n    d = dict(d)\n    d['x'] = 1", set()),
    ("def f(d):\n    return d['x']", set()),
    ("def f(d):\n    def g():\n        d['x'] = 1\n    return g", set()),
    ("class C:\n    def m(self, d):\n        d['x'] = 1", set()),
    # ``pmf *= likelihood`` (ThinkBayes2): in place if the object is mutable.
    ("def f(pmf, data):\n    for x in data:\n        pmf *= x\n    pmf.normalize()",
     {(0, "pmf", False)}),
    ("def f(p):\n    p *= 2\n    p['k'] = 1", {(0, "p", True)}),
    ("def f(p):\n    p *= 2\n    for p in []: pass", set()),
    ("def f(p):\n    if (p := p * 2):\n        p['k'] = 1", set()),
])
def test_parameters_a_function_changes_in_place(code: str, expected: set) -> None:  # type: ignore[type-arg]
    """A function changing an object it is given (``d['x'] = 1``, ``d.append``,
    ``inplace=True``) without rebinding the parameter: a call giving it a name
    changes that name in place (``CallEffects.changes_params``)."""
    got = {c.name: c.changes_params for c in analyse(code).calls}
    assert got.get("f", frozenset()) == expected


def test_a_call_giving_names_changes_them_if_the_function_changes_its_parameter() -> None:
    same = analyse("def f(d, *, k):\n    d['x'] = 1\n    k.append(1)\nf(a, k=b)\nf(c, k=e)")
    assert same.inplace == {"a", "b", "c", "e"}
    assert {"a", "b", "c", "e"} <= same.defs and {"a", "b", "c", "e"} <= same.refs
    other = analyse("clean(df, 2, *rest, key=k)\nprint(df)\nlen(df)")
    assert other.passed == {("clean", 0, "df"), ("clean", "key", "k")}
    held = analyse("for i in range(4):\n    update(beliefs[i], 'W', x=cfg.opts)\nf(g(a))")
    assert held.passed == {("update", 0, "beliefs"), ("update", "x", "cfg"), ("g", 0, "a")}
    assert not other.inplace


def test_attribute_calls() -> None:
    """Module-level calls through a name, with the names they are given: the
    kernel looks whether they reach the notebook's own code (``.owncalls``)."""
    found = analyse("spectrum.scale(2)\nhelpers.fix(df, key=cfg.k)\nax.set(title=t)\n"
                    "pkg.mod.f(x)\n[o.go(o, y) for o in items]\nd['k'].push(z)\n"
                    "def f():\n    obj.change(w)\n"
                    "class C:\n    obj.change(v)\n")
    assert found.attribute_calls == {
        ("spectrum", (), "scale", ()),
        ("helpers", (), "fix", ((0, "df"), ("key", "cfg"))),
        ("ax", (), "set", (("title", "t"),)),
        ("pkg", ("mod",), "f", ((0, "x"),)),
    }


@pytest.mark.parametrize(("source", "changes", "passes"), [
    ("    def scale(self, factor):\n        self.hs *= factor\n", {(0, "self", True)}, set()),
    ("def normalize(self):\n    self /= self.sum()\n    return self\n",
     {(0, "self", False)}, set()),
    ("@property\ndef total(self):\n    return sum(self.hs)\n", set(), set()),
    ("def fill(self, out, *, log):\n    out.extend(self.seen)\n    log.append(1)\n",
     {(1, "out", True), (-1, "log", True)}, set()),
    ("def train(pmf, data):\n    for x in data:\n        update(pmf, x)\n"
     "    helpers.clean(d=data[0])\n    pmf.helper(x)\n    g = update\n    g(pmf)\n",
     set(), {(("update",), 0, 0, "pmf"), (("helpers", "clean"), "d", 1, "data")}),
    ("def f(d):\n    d = d.copy()\n    g(d)\n", set(), set()),
    ("x = 1\n", set(), set()),
])
def test_function_changes_from_a_functions_own_source(
        source: str, changes: set, passes: set) -> None:  # type: ignore[type-arg]
    found = function_changes(source)
    assert found.changes == changes and found.passes == passes


def test_a_cell_magic_the_analysis_does_not_read_may_bind_names_unseen() -> None:
    """A notebook's own cell magic (ThinkPython's ``%%expect``, which runs its
    body with ``run_cell``) may bind names: the kernel watches what it rebinds.
    Magics with a Python body, another language's, or an analysed one do not."""
    assert unread_cell_magic("%%expect TypeError\nt[0] = 1") == {"TypeError"}
    assert unread_cell_magic("%%add_method_to Card\n    def f(self): pass") == {"Card"}
    assert unread_cell_magic("\n%%cython -a\ndef f(): pass") == frozenset()
    assert unread_cell_magic("%%time\nx = 1") is None
    assert unread_cell_magic("%%bash\nls") is None
    assert unread_cell_magic("%%writefile a.py\nx = 1") is None
    assert unread_cell_magic("%%sql\nSELECT 1", {"sql"}) is None
    assert unread_cell_magic("%%sql\nSELECT 1") == frozenset()
    assert unread_cell_magic("x = 1\n%%expect") is None


def test_function_changes_lists_methods_called_on_parameters_and_their_attributes() -> None:
    """``self.corner.translate(dx, dy)`` in a method: the kernel looks whether that
    method changes its object (ThinkPython chap16); a rebound parameter's are not
    the caller's."""
    facts = function_changes("def translate(self, dx, dy):\n"
                             "    self.corner.translate(dx, dy)\n")
    assert facts.methods == {(0, "self", ("corner",), "translate")}
    facts = function_changes("def f(p, q):\n    p.move(1)\n    q = [2]\n    q.append(3)\n"
                             "    helper.run(p)\n")
    assert facts.methods == {(0, "p", (), "move")}


def test_a_cell_binding_names_and_ending_with_an_expression_displays() -> None:
    assert analyse("d = a - b\nd").displays
    assert not analyse("d = a - b\nd;").displays
    assert not analyse("d = a - b\nd;  # quiet").displays
    assert not analyse("d = a - b").displays
