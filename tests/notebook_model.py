"""Random notebooks and edits for the edit-equivalence tests, and the oracle:
the same notebook run top to bottom in a fresh namespace.

Cells redefine names (``a`` reused, the builtin ``max`` shadowed and
unshadowed), update them from themselves (``a = a * 2``), change objects in
place (``lst += [b]``, ``d['k'] = ...``, ``lst.append(b)``, ``d.pop('k')``,
through a function: ``put(a)``, ``push(a)``, ``grow(lst, a)`` changing what it
is given, through a method of the notebook's own class: ``acc.bump(a)``,
``acc.give(lst)``, through a function giving it on: ``grow2(lst, a)``, through
another name: ``e = lst`` then ``e.append(a)``, or a container holding it:
``pair[0].append(1)``), change a function's own state by calling it (a
``nonlocal`` counter, a default list, a ``global`` counter), draw from
iterators and generators across cells, shadow ``pow`` by a star import,
delete names and items on some paths, change NumPy arrays through views and
DataFrames in place, read globals through functions defined elsewhere, and
print what they see.
Every generated cell reads only names it or a cell above may define, so a
notebook is *well formed* (runs top to bottom) unless an edit moved or
deleted the definer above a reader; tests compare only well-formed notebooks.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import linecache
import types
from dataclasses import dataclass, field

from hypothesis import strategies as st

from reactive_kernel.analysis import BUILTIN_NAMES, analyse

#: A class whose methods change their object, or what they are given.
_ACC = ("class Acc:\n    def __init__(self, v):\n        self.v = [v]\n"
        "    def bump(self, x):\n        self.v.append(x)\n"
        "    def give(self, out):\n        out.append(len(self.v))\n"
        "    def __repr__(self):\n        return f'Acc({{self.v}})'")

_MAKE = ("def make():\n    cnt = {n}\n    def inc():\n        nonlocal cnt\n        cnt += 1\n"
         "        return cnt\n    return inc")
_ADDTO = "def addto(x, acc2=[]):\n    acc2.append(x)\n    return acc2"
_CNT = ("class Cnt:\n    total = {n}\n    def hit(self):\n        Cnt.total += 1\n"
        "    def __repr__(self):\n        return f'Cnt({{Cnt.total}})'")

#: Statements, each with the names it needs defined above it.
STATEMENTS: list[tuple[str, frozenset[str]]] = [
    ("a = {n}", frozenset()),
    ("b = a + {n}", frozenset({"a"})),
    ("a = a * 2", frozenset({"a"})),
    ("c = a + b", frozenset({"a", "b"})),
    ("lst = [a]", frozenset({"a"})),
    ("lst += [b]", frozenset({"lst", "b"})),
    ("d = {{'k': a}}", frozenset({"a"})),
    ("d['k'] = d['k'] + {n}", frozenset({"d"})),
    ("def f():\n    return a + {n}", frozenset()),
    ("print('f', f())", frozenset({"f", "a"})),
    ("print('ab', a, b)", frozenset({"a", "b"})),
    ("print('lst', lst)", frozenset({"lst"})),
    ("print('d', d)", frozenset({"d"})),
    ("print('c', c)", frozenset({"c"})),
    ("if a > 3:\n    b = {n}", frozenset({"a"})),
    ("a, b = b, a", frozenset({"a", "b"})),
    ("b", frozenset({"b"})),
    ("a;", frozenset({"a"})),
    ("def g():\n    global b\n    b = a + {n}", frozenset()),
    ("g()", frozenset({"g", "a"})),
    ("for i in range({n}):\n    a = a + i", frozenset({"a"})),
    ("try:\n    c = a // b\nexcept ZeroDivisionError:\n    c = -1", frozenset({"a", "b"})),
    ("class K:\n    v = a\n    w = v + {n}", frozenset({"a"})),
    ("print('K', K.w)", frozenset({"K"})),
    ("import contextlib\nwith contextlib.suppress(ZeroDivisionError):\n    c = a // b",
     frozenset({"a", "b"})),
    ("del c", frozenset({"c"})),
    # A builtin shadowed by a cell above, or not yet (the builtin), then unshadowed.
    ("def max(*v):\n    return {n}", frozenset()),
    ("print('max', max(a, {n}))", frozenset({"a"})),
    ("def h(v):\n    return max(v, {n})", frozenset()),
    ("print('h', h(a))", frozenset({"h", "a"})),
    ("del max", frozenset({"max"})),
    # A function that changes a global in place, called from other cells.
    ("def put(v):\n    d['p'] = v", frozenset()),
    ("put(a + {n})", frozenset({"put", "d", "a"})),
    # Subscript, attribute and augmented changes; walrus, comprehension, lambda.
    ("lst[0] = a + {n}", frozenset({"lst", "a"})),
    ("K.w = K.w + {n}", frozenset({"K"})),
    ("a += {n}", frozenset({"a"})),
    ("b = (t := a + {n}) * 2", frozenset({"a"})),
    ("print('t', t)", frozenset({"t"})),
    ("c = [a * j for j in range({n})]", frozenset({"a"})),
    ("f2 = lambda: a + b + {n}", frozenset()),
    ("print('f2', f2())", frozenset({"f2", "a", "b"})),
    ("for b in lst:\n    c = b", frozenset({"lst"})),
    ("for i in range({n} % 3):\n    c = a + i", frozenset({"a"})),
    ("del d['k']", frozenset({"d"})),
    # Changes in place through known mutating methods, at module level and in a function.
    ("lst.append(b)", frozenset({"lst", "b"})),
    ("lst.sort()", frozenset({"lst"})),
    ("d.update(k=a + {n})", frozenset({"d", "a"})),
    ("print('pop', d.pop('k', None))", frozenset({"d"})),
    ("def push(v):\n    lst.append(v)", frozenset()),
    ("push(a + {n})", frozenset({"push", "lst", "a"})),
    # Another name for the same object, changed in place through it.
    ("e = lst", frozenset({"lst"})),
    ("e.append(a + {n})", frozenset({"e", "a"})),
    ("e[0] = {n}", frozenset({"e"})),
    ("print('e', e)", frozenset({"e"})),
    ("e2 = d", frozenset({"d"})),
    ("e2['k'] = {n}", frozenset({"e2"})),
    # A function changing the object it is given.
    ("def grow(v, x):\n    v.append(x)", frozenset()),
    ("grow(lst, a + {n})", frozenset({"grow", "lst", "a"})),
    ("grow(e, {n})", frozenset({"grow", "e"})),
    # ... by an augmented assignment: in place for a list, a rebinding for a number.
    ("def ext(v, x):\n    v += [x]\n    v *= 1", frozenset()),
    ("ext(lst, a + {n})", frozenset({"ext", "lst", "a"})),
    ("ext(a, {n}) if isinstance(a, list) else print('ext', a)", frozenset({"ext", "a"})),
    ("def twice(v):\n    v *= 2\n    return v", frozenset()),
    ("print('twice', twice(a), a)", frozenset({"twice", "a"})),
    # Methods of the notebook's own class changing their object or what they are given.
    # ... by giving it on to one that does.
    ("def grow2(v, x):\n    grow(v, x + 1)", frozenset()),
    ("grow2(lst, {n})", frozenset({"grow2", "grow", "lst"})),
    (_ACC, frozenset()),
    ("acc = Acc(a)", frozenset({"Acc", "a"})),
    ("acc.bump(a + {n})", frozenset({"acc", "a"})),
    ("acc.give(lst)", frozenset({"acc", "lst"})),
    ("print('acc', acc)", frozenset({"acc"})),
    # A function's own state changed by its calls: a closure rebound by ``nonlocal``,
    # a mutable default argument (which ``res`` is), a global counter.
    (_MAKE, frozenset()),
    ("inc = make()", frozenset({"make"})),
    ("print('inc', inc())", frozenset({"inc"})),
    (_ADDTO, frozenset()),
    ("print('addto', addto(a + {n}))", frozenset({"addto", "a"})),
    ("res = addto({n})", frozenset({"addto"})),
    ("print('res', res)", frozenset({"res"})),
    ("cnt = {n}", frozenset()),
    ("def tick():\n    global cnt\n    cnt += 1\n    return cnt", frozenset()),
    ("print('tick', tick())", frozenset({"tick", "cnt"})),
    # Iterators and generators drawn from across cells.
    ("it = iter(lst)", frozenset({"lst"})),
    ("print('next', next(it, None))", frozenset({"it"})),
    ("def gen():\n    yield a\n    yield a + {n}", frozenset()),
    ("it = gen()", frozenset({"gen"})),
    ("it = map(str, range({n}))", frozenset()),
    ("print('rest', list(it))", frozenset({"it"})),
    # A star import shadowing a builtin, and a cell shadowing it again.
    ("from math import *", frozenset()),
    ("print('pow', pow(2, {n}))", frozenset()),
    ("pow = lambda *v: {n}", frozenset()),
    ("del pow", frozenset({"pow"})),
    # Objects shared by containers and names, changed through them; a class
    # attribute changed by a method.
    ("pair = [lst, d]", frozenset({"lst", "d"})),
    ("pair[0].append({n})", frozenset({"pair"})),
    ("pair[1]['q'] = {n}", frozenset({"pair"})),
    ("print('pair', pair)", frozenset({"pair"})),
    ("ac = acc", frozenset({"acc"})),
    ("ac.bump({n})", frozenset({"ac"})),
    ("ac.v = [{n}]", frozenset({"ac"})),
    (_CNT, frozenset()),
    ("cn = Cnt()", frozenset({"Cnt"})),
    ("cn.hit()", frozenset({"cn"})),
    ("print('Cnt', Cnt.total)", frozenset({"Cnt"})),
    # Deletions on some paths; names bound in ``with``, ``try``/``finally`` and
    # ``while`` bodies; a walrus in a comprehension that may not run.
    ("if a > 3:\n    del b", frozenset({"a", "b"})),
    ("if lst:\n    del lst[0]", frozenset({"lst"})),
    ("with open(__import__('os').devnull) as fh:\n    b = a + {n}", frozenset({"a"})),
    ("try:\n    b = a + {n}\nfinally:\n    c = 0", frozenset({"a"})),
    ("while a < {n}:\n    a += 1", frozenset({"a"})),
    ("c = [(t := a + j) for j in range({n} % 3)]", frozenset({"a"})),
    # NumPy views written through, arrays changed by operators and ``out=``.
    ("import numpy as np", frozenset()),
    ("arr = np.arange({n} % 4 + 2)", frozenset({"np"})),
    ("v = arr[1:]", frozenset({"arr"})),
    ("v[0] = {n}", frozenset({"v"})),
    ("arr += 1", frozenset({"arr"})),
    ("print('arr', arr, 'v', v)", frozenset({"arr", "v"})),
    ("np.add(arr, {n}, out=arr)", frozenset({"arr", "np"})),
    # A DataFrame's column set and rows dropped in place.
    ("import pandas as pd", frozenset()),
    ("df = pd.DataFrame({{'x': [a, None, {n}]}})", frozenset({"pd", "a"})),
    ("df['y'] = df['x'] * 2", frozenset({"df"})),
    ("df.dropna(inplace=True)", frozenset({"df"})),
    ("print('df', df.to_dict())", frozenset({"df"})),
]
NAMES = ("a", "b", "c", "lst", "d", "f", "g", "i", "K", "max", "h", "put", "t", "f2", "push",
         "e", "e2", "grow", "ext", "twice", "Acc", "acc",
         "grow2", "make", "inc", "addto", "res", "cnt", "tick", "it", "gen", "pow",
         "pair", "ac", "Cnt", "cn", "fh", "np", "arr", "v", "pd", "df")
#: Names shown by presence only (functions, classes, iterators, modules).
OPAQUE = ("f", "g", "K", "max", "h", "put", "f2", "push", "grow", "ext", "twice", "Acc",
          "grow2", "make", "inc", "addto", "tick", "it", "gen", "pow", "Cnt", "fh", "np",
          "pd")
DEFINES = {
    "a = {n}": {"a"}, "b = a + {n}": {"b"}, "a = a * 2": {"a"}, "c = a + b": {"c"},
    "lst = [a]": {"lst"}, "lst += [b]": {"lst"}, "d = {{'k': a}}": {"d"},
    "d['k'] = d['k'] + {n}": {"d"}, "def f():\n    return a + {n}": {"f"},
    "if a > 3:\n    b = {n}": {"b"}, "a, b = b, a": {"a", "b"},
    "def g():\n    global b\n    b = a + {n}": {"g"}, "g()": {"b"},
    "for i in range({n}):\n    a = a + i": {"i", "a"},
    "try:\n    c = a // b\nexcept ZeroDivisionError:\n    c = -1": {"c"},
    "class K:\n    v = a\n    w = v + {n}": {"K"},
    "import contextlib\nwith contextlib.suppress(ZeroDivisionError):\n    c = a // b": {"c"},
    "def max(*v):\n    return {n}": {"max"}, "def h(v):\n    return max(v, {n})": {"h"},
    "def put(v):\n    d['p'] = v": {"put"}, "put(a + {n})": {"d"},
    "lst[0] = a + {n}": {"lst"}, "K.w = K.w + {n}": {"K"}, "a += {n}": {"a"},
    "b = (t := a + {n}) * 2": {"b", "t"}, "c = [a * j for j in range({n})]": {"c"},
    "f2 = lambda: a + b + {n}": {"f2"}, "for b in lst:\n    c = b": {"b", "c"},
    "for i in range({n} % 3):\n    c = a + i": {"i", "c"},
    "def push(v):\n    lst.append(v)": {"push"},
    "e = lst": {"e"}, "e2 = d": {"e2"}, "def grow(v, x):\n    v.append(x)": {"grow"},
    "def ext(v, x):\n    v += [x]\n    v *= 1": {"ext"},
    "def twice(v):\n    v *= 2\n    return v": {"twice"},
    _ACC: {"Acc"}, "acc = Acc(a)": {"acc"}, "def grow2(v, x):\n    grow(v, x + 1)": {"grow2"},
    _MAKE: {"make"}, "inc = make()": {"inc"}, _ADDTO: {"addto"}, "res = addto({n})": {"res"},
    "cnt = {n}": {"cnt"}, "def tick():\n    global cnt\n    cnt += 1\n    return cnt": {"tick"},
    "it = iter(lst)": {"it"}, "def gen():\n    yield a\n    yield a + {n}": {"gen"},
    "it = gen()": {"it"}, "it = map(str, range({n}))": {"it"}, "pow = lambda *v: {n}": {"pow"},
    "pair = [lst, d]": {"pair"}, "ac = acc": {"ac"}, _CNT: {"Cnt"}, "cn = Cnt()": {"cn"},
    "with open(__import__('os').devnull) as fh:\n    b = a + {n}": {"fh", "b"},
    "try:\n    b = a + {n}\nfinally:\n    c = 0": {"b", "c"},
    "c = [(t := a + j) for j in range({n} % 3)]": {"c"},
    "import numpy as np": {"np"}, "arr = np.arange({n} % 4 + 2)": {"arr"}, "v = arr[1:]": {"v"},
    "import pandas as pd": {"pd"}, "df = pd.DataFrame({{'x': [a, None, {n}]}})": {"df"},
}


@st.composite
def cell_code(draw: st.DrawFn, defined: frozenset[str]) -> tuple[str, frozenset[str]]:
    """One cell of 1-3 statements using only names in ``defined`` (or its own);
    returns the code and the names defined after it."""
    lines = []
    names = set(defined)
    for _ in range(draw(st.integers(1, 3))):
        usable = [(t, needs) for t, needs in STATEMENTS if needs <= names]
        template, _needs = draw(st.sampled_from(usable))
        lines.append(template.format(n=draw(st.integers(0, 9))))
        names |= DEFINES.get(template, set())
    return "\n".join(lines), frozenset(names)


@st.composite
def notebooks(draw: st.DrawFn) -> list[str]:
    """A well-formed notebook of 2-7 cells."""
    cells: list[str] = []
    defined: frozenset[str] = frozenset()
    for _ in range(draw(st.integers(2, 7))):
        code, defined = draw(cell_code(defined))
        cells.append(code)
    return cells


@dataclass
class Edit:
    #: "edit", "insert", "delete", "move", "break" (a SyntaxError typed in),
    #: "fail" (an error raised before, after or between the cell's statements)
    kind: str
    index: int
    target: int = 0
    code: str = ""


@st.composite
def edits(draw: st.DrawFn) -> list[Edit]:
    """A few structural or code edits (indexes are taken modulo the length)."""
    result = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["edit", "edit", "insert", "delete", "move", "break",
                                     "fail"]))
        code, _ = draw(cell_code(frozenset(NAMES)))
        result.append(Edit(kind, draw(st.integers(0, 20)), draw(st.integers(0, 20)), code))
    return result


@dataclass
class TopToBottom:
    """Outputs of each cell and the final namespace, running cells in order."""

    outputs: list[str] = field(default_factory=list)
    namespace: dict[str, str] = field(default_factory=dict)


def run_top_to_bottom(cells: list[str]) -> TopToBottom:
    namespace: dict[str, object] = {}
    result = TopToBottom()
    for code in cells:
        result.outputs.append(exec_cell(code, namespace))
    result.namespace = shown_namespace(namespace)
    return result


def shown_namespace(namespace: dict[str, object]) -> dict[str, str]:
    """The values of the model's names (functions and classes by presence)."""
    return {n: repr(namespace[n]) if n not in OPAQUE else "defined"
            for n in NAMES if n in namespace}


def exec_cell(code: str, namespace: dict[str, object],
              failed: list[BaseException] | None = None) -> str:
    """What a cell shows: printed text, the value of a last bare expression
    (unless it ends with ';'), or the error's name (the error itself is
    appended to ``failed``)."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            lines = code.split("\n")
            last = lines[-1]
            if last and last[0].isalpha() and last.rstrip(";").isidentifier():
                exec(_compiled("\n".join(lines[:-1]), "exec"), namespace)
                # Padded so that its traceback gives the line it is on.
                value = eval(_compiled("\n" * (len(lines) - 1) + last.rstrip(";"), "eval"),
                             namespace)
                if not last.endswith(";"):
                    print(repr(value))
            else:
                exec(_compiled(code, "exec"), namespace)
    except Exception as err:
        buffer.write(f"{type(err).__name__}\n")
        if failed is not None:
            failed.append(err)
    return buffer.getvalue()


def _compiled(source: str, mode: str) -> types.CodeType:
    """``source`` compiled under a name ``linecache`` knows, as IPython compiles
    a cell (so ``inspect.getsource`` finds the functions it defines)."""
    name = f"<cell-{hashlib.sha1(source.encode()).hexdigest()[:12]}>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    return compile(source, name, mode)


def well_formed(cells: list[str]) -> bool:
    """Every cell's reads are defined by a cell above it or by itself first:
    a top-to-bottom run raises no NameError, and no cell reads a name that only
    cells below it define (``1 / 0`` before the read hides the NameError)."""
    if "NameError" in "".join(run_top_to_bottom(cells).outputs):
        return False
    above: set[str] = set()
    for code in cells:
        try:
            found = analyse(code)
        except SyntaxError:
            continue
        if found.refs - found.weak - above - BUILTIN_NAMES:
            return False
        above |= found.defs
    return True


class EditedNotebook:
    """A notebook edited as a user edits one in the web UI: code edits run the
    cell, inserts and moves send the order, deletions remove the cell.  Kernels
    under test implement :meth:`submit`, :meth:`send_order` and :meth:`shown`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.order: list[str] = []
        self.code: dict[str, str] = {}
        self._count = 0

    def submit(self, cell: str) -> bool:
        """Run a cell; False if it was refused (a cycle: only possible when a
        cell reads a name no cell above defines)."""
        raise NotImplementedError

    def send_order(self, removed: str | None = None) -> None:
        """Send the order (and a removal) as the web UI does."""
        raise NotImplementedError

    def shown(self) -> list[str]:
        """What each cell shows, in notebook order ("skipped" for a skipped cell)."""
        raise NotImplementedError

    def new_cell(self, code: str, index: int) -> str:
        self._count += 1
        cell = f"{self.prefix}{self._count}"
        self.code[cell] = code
        self.order.insert(index, cell)
        return cell

    def build(self, cells: list[str]) -> None:
        for code in cells:
            assert self.submit(self.new_cell(code, len(self.order)))

    def apply(self, edit: Edit) -> None:
        n = len(self.order)
        if edit.kind == "edit" and n:
            cell = self.order[edit.index % n]
            old, self.code[cell] = self.code[cell], edit.code
            if not self.submit(cell):
                self.code[cell] = old  # refused: the edit changed nothing
        elif edit.kind == "insert":
            cell = self.new_cell(edit.code, edit.index % (n + 1))
            self.send_order()
            if not self.submit(cell):
                self.order.remove(cell)
                self.send_order(removed=cell)
        elif edit.kind == "break" and n:
            cell = self.order[edit.index % n]
            self.code[cell] += "\n)"  # a later edit may fix it
            assert self.submit(cell)
        elif edit.kind == "fail" and n:
            cell = self.order[edit.index % n]
            code = self.code[cell]
            lines = code.split("\n")
            if edit.target % 3 == 2 and len(lines) > 1 and not lines[1].startswith(" "):
                # Between its statements: what ran before is bound.
                self.code[cell] = "\n".join([lines[0], "1 / 0", *lines[1:]])
            else:
                self.code[cell] = f"1 / 0\n{code}" if edit.target % 3 == 1 else f"{code}\n1 / 0"
            assert self.submit(cell)
        elif edit.kind == "delete" and n > 1:
            cell = self.order.pop(edit.index % n)
            del self.code[cell]
            self.send_order(removed=cell)
        elif edit.kind == "move" and n > 1:
            cell = self.order.pop(edit.index % n)
            self.order.insert(edit.target % n, cell)
            self.send_order()

    def cells(self) -> list[str]:
        return [self.code[c] for c in self.order]


def assert_top_to_bottom(cells: list[str], shown: list[str], expected: list[str]) -> None:
    """Every cell shows what the top-to-bottom run shows; a skipped cell only
    where a cell above it failed in that run."""
    for i, (got, want) in enumerate(zip(shown, expected, strict=True)):
        if got == "skipped":
            assert any(out.endswith("Error\n") for out in expected[:i]), (cells, shown, expected)
            continue
        assert got == want, (i, cells, shown, expected)
