"""Random notebooks of classes, dataclasses, decorators, closures, ``global``,
conditional and deleted names and SQL cells over DataFrames, for the third
kernel-level edit-equivalence fuzz (``tests/test_edit_equivalence_kernel3.py``).

Classes are defined, instantiated, changed through their methods (``self.v
+= 1``, ``C.count += 1``), through their instances and class attributes, made
anew below and subclassed; dataclasses are made, changed and copied by
``dataclasses.replace``; a decorator of one cell wraps a function of another
(a registry too); ``functools.lru_cache`` functions are redefined; generator
expressions and iterators are drawn across cells; functions and methods read
globals defined again below; ``global`` is assigned through a function called
from another cell; lambdas live in dicts; ``try/except NameError``,
conditional definitions, ``del``, walrus and comprehensions; SQL cells query
DataFrames by name and by placeholder, make tables and insert into them.

The oracle is stock ipykernel running the notebook top to bottom, with each
``%%sql`` cell translated (:func:`stock_code`) into the DuckDB API on a fresh
connection per run: ``out = _con.sql(body, params={...}).df()``, placeholders
``{name}`` as named parameters ``$name``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hypothesis import strategies as st

from .notebook_model import Edit


@dataclass(frozen=True)
class Stmt:
    template: str
    needs: frozenset[str] = frozenset()
    defines: frozenset[str] = frozenset()
    kills: frozenset[str] = frozenset()
    sql: bool = False


def s(template: str, needs: str = "", defines: str = "", kills: str = "",
      sql: bool = False) -> Stmt:
    return Stmt(template, frozenset(needs.split()), frozenset(defines.split()),
                frozenset(kills.split()), sql)


_C1 = ("class C:\n    count = {n}\n    def __init__(self, v):\n        self.v = v\n"
       "    def bump(self):\n        self.v += 1\n        C.count += 1\n"
       "    def __repr__(self):\n        return f'C({{self.v}}, {{C.count}})'")
_C2 = ("class C:\n    count = 100 + {n}\n    def __init__(self, v):\n        self.v = v * 10\n"
       "    def bump(self):\n        self.v -= 1\n"
       "    def __repr__(self):\n        return f'C2({{self.v}})'")
_D = ("class D(C):\n    def bump(self):\n        super().bump()\n        self.v *= {n} + 1\n"
      "    def __repr__(self):\n        return f'D({{self.v}})'")
_G = "class G:\n    def get(self):\n        return k + {n}"
_PT = "@dataclass\nclass Pt:\n    x: int\n    y: int = {n}"
_PTF = "@dataclass(frozen=True)\nclass Pt:\n    x: int\n    y: int = {n}"
_BAG = "@dataclass\nclass Bag:\n    items: list = field(default_factory=list)"
_DECO = ("def deco(fn):\n    def wrap(*a):\n        return ('deco{n}', fn(*a))\n    return wrap")
_REG = ("def register(fn):\n    REG[fn.__name__] = fn\n    return fn")
_SQ1 = "@functools.lru_cache\ndef sq(v):\n    return v * v + {n}"
_SQ2 = "@functools.lru_cache(maxsize=None)\ndef sq(v):\n    return v * 3 + {n}"

STATEMENTS: list[Stmt] = [
    # plain values, conditional definitions, try/except NameError, del, walrus
    s("k = {n}", "", "k"),
    s("k = k + {n}", "k", "k"),
    s("k += 1", "k", "k"),
    s("flag = {n} % 2 == 0", "", "flag"),
    s("if flag:\n    k = {n}", "flag k", "k"),
    s("if flag:\n    w = {n}\nelse:\n    w = -{n}", "flag", "w"),
    s("if k > {n}:\n    w = k", "k w", "w"),
    s("print('w', w)", "w"),
    s("try:\n    z = k * 2\nexcept NameError:\n    z = -1", "", "z"),
    s("print('z', z)", "z"),
    s("del k", "k", "", "k"),
    s("del w", "w", "", "w"),
    s("if (m := k * 2) > {n}:\n    print('m', m)", "k", "m"),
    s("print('mm', m)", "m"),
    s("ms = [(m := k + j) for j in range({n} % 3)]", "k", "ms m"),
    s("print('k', k)", "k"),
    s("ks = [k * j for j in range({n} % 4)]", "k", "ks"),
    s("kd = {{j: k + j for j in range(2)}}", "k", "kd"),
    s("print('comp', ks, kd, any(v > k for v in [1, {n}]))", "ks kd k"),
    # classes: defined, instantiated, changed by methods and attributes, made anew below
    s(_C1, "", "C"),
    s(_C2, "", "C"),
    s("o = C(k)", "C k", "o"),
    s("o2 = C({n})", "C", "o2"),
    s("o.bump()", "o", "o"),
    s("o.v = {n}", "o", "o"),
    s("C.count += {n}", "C", "C"),
    s("print('o', o, o.v, C.count)", "o C"),
    s("print('inst', isinstance(o, C), type(o).__name__)", "o C"),
    s("print('o2', o2, o2.v)", "o2"),
    s(_D, "C", "D"),
    s("dd = D(k)\ndd.bump()", "D k", "dd"),
    s("print('dd', dd, issubclass(D, C))", "dd D C"),
    s(_G, "", "G"),
    s("print('G', G().get())", "G k"),
    s("def _dbl(self):\n    self.v *= 2\nC.bump = _dbl", "C", "C _dbl"),
    s("type(o).count += {n}", "o", "C"),
    s("bm = o.bump", "o", "bm"),
    s("bm()", "bm", "o"),
    s("objs = [o, o2]", "o o2", "objs"),
    s("objs[{n} % 2].bump()", "objs", "objs"),
    s("print('objs', objs)", "objs"),
    s("class H:\n    def setgv(self):\n        global gv\n        gv = k + {n}", "", "H"),
    s("H().setgv()", "H k", "gv"),
    s("@classmethod\ndef _inc(cls):\n    cls.count += {n}\nC.inc = _inc", "C", "C"),
    s("C.inc()", "C", "C"),
    s("o.inc()", "o", "C"),
    s("import copy\no3 = copy.deepcopy(o)\no3.v += {n}", "o", "o3"),
    s("print('o3', o3.v, o.v)", "o3 o"),
    s("del o.v", "o", "o"),
    s("try:\n    ov = o.v\nexcept AttributeError:\n    ov = None", "o", "ov"),
    s("print('ov', ov)", "ov"),
    s("if flag:\n    def getk():\n        return -k", "flag", "getk"),
    # dataclasses
    s("from dataclasses import dataclass, field, replace", "", "dataclass field replace"),
    s(_PT, "dataclass", "Pt"),
    s(_PTF, "dataclass", "Pt"),
    s("p = Pt(k)", "Pt k", "p"),
    s("p = Pt({n}, k)", "Pt k", "p"),
    s("p.x += {n}", "p", "p"),
    s("q = replace(p, y={n})", "replace p", "q"),
    s("print('pq', p, q, p == q)", "p q"),
    s("print('p', p)", "p"),
    s(_BAG, "dataclass field", "Bag"),
    s("bag = Bag()", "Bag", "bag"),
    s("bag.items.append(k)", "bag k", "bag"),
    s("bag.items = [{n}]", "bag", "bag"),
    s("print('bag', bag)", "bag"),
    s("@dataclass\nclass Pk:\n    x: int = {n}\n    def __post_init__(self):\n"
      "        self.x += k", "dataclass", "Pk"),
    s("pk = Pk()", "Pk k", "pk"),
    s("print('pk', pk, asdict(pk))", "pk asdict"),
    s("from dataclasses import asdict", "", "asdict"),
    # decorators defined in one cell, applied in another; a registry
    s(_DECO, "", "deco"),
    s("@deco\ndef hk(v):\n    return v + {n}", "deco", "hk"),
    s("print('hk', hk(k))", "hk k"),
    s("@deco\ndef hk2(v):\n    return v + k", "deco", "hk2"),
    s("print('hk2', hk2({n}))", "hk2 k"),
    s("@deco\ndef sg():\n    global gv\n    gv = k * {n}", "deco", "sg"),
    s("sg()", "sg k", "gv"),
    s("ps = functools.partial(setg, {n})", "functools setg", "ps"),
    s("ps()", "ps", "gv"),
    s("pk2 = functools.partial(getk)", "functools getk", "pk2"),
    s("print('pk2', pk2())", "pk2 k"),
    s("REG = {{}}", "", "REG"),
    s(_REG, "", "register"),
    s("@register\ndef r{n}():\n    return {n}", "register REG", "REG"),
    s("print('reg', sorted(REG))", "REG"),
    # lru_cache functions redefined below
    s("import functools", "", "functools"),
    s(_SQ1, "functools", "sq"),
    s(_SQ2, "functools", "sq"),
    s("print('sq', sq(k), sq({n}))", "sq k"),
    # generator expressions and iterators drawn across cells
    s("gen = (x * k for x in range({n} % 3 + 1))", "k", "gen"),
    s("print('next', next(gen, None))", "gen", "gen"),
    s("print('rest', list(gen))", "gen", "gen"),
    s("itr = iter([k, {n}, k])", "k", "itr"),
    s("print('itr', next(itr, None), next(itr, None))", "itr", "itr"),
    # functions reading globals redefined below; lambdas in dicts; global
    s("def getk():\n    return k * {n}", "", "getk"),
    s("print('getk', getk())", "getk k"),
    s("ops = {{'add': lambda v: v + {n}, 'mul': lambda v, t=2: v * t}}", "", "ops"),
    s("print('ops', ops['add'](k), ops['mul'](k))", "ops k"),
    s("ops['neg'] = lambda v: -v", "ops", "ops"),
    s("print('neg', ops.get('neg', abs)(k))", "ops k"),
    s("def setg(v):\n    global gv\n    gv = v + {n}", "", "setg"),
    s("setg(k)", "setg k", "gv"),
    s("print('gv', gv)", "gv"),
    s("def incg():\n    global k\n    k += {n}", "", "incg"),
    s("incg()", "incg k", "k"),
    # SQL cells over DataFrames and tables
    s("import pandas as pd", "", "pd"),
    s("fr = pd.DataFrame({{'a': [k, {n}, 3]}})", "pd k", "fr"),
    s("fr['a'] = fr['a'] + {n}", "fr", "fr"),
    s("fr = fr[fr['a'] > {n}]", "fr", "fr"),
    s("%%sql r1\nSELECT count(*) AS c, sum(a) AS s FROM fr", "fr", "r1", sql=True),
    s("%%sql r2\nSELECT a FROM fr WHERE a > {{k}} ORDER BY a", "fr k", "r2", sql=True),
    s("%%sql r2\nSELECT a * {n} AS a FROM fr ORDER BY a", "fr", "r2", sql=True),
    s("print('r1', r1['c'].tolist(), [None if v != v else int(v) for v in r1['s']])", "r1"),
    s("print('r2', [int(v) for v in r2['a']])", "r2"),
    s("%%sql\nCREATE OR REPLACE TABLE tb AS SELECT a FROM fr", "fr", "sql:tb", sql=True),
    s("%%sql\nCREATE TABLE tb AS SELECT {n} AS a", "", "sql:tb", sql=True),
    s("%%sql\nINSERT INTO tb VALUES ({n})", "sql:tb", "sql:tb", sql=True),
    s("%%sql\nDROP TABLE IF EXISTS tb", "", "", "sql:tb", sql=True),
    s("%%sql r3\nSELECT count(*) AS c, sum(a) AS s FROM tb", "sql:tb", "r3", sql=True),
    s("print('r3', r3['c'].tolist(), [None if v != v else int(v) for v in r3['s']])", "r3"),
    s("%%sql fr\nSELECT a + {n} AS a FROM fr", "fr", "fr", sql=True),
    s("%%sql\nUPDATE tb SET a = a + {n}", "sql:tb", "sql:tb", sql=True),
    s("%%sql\nDELETE FROM tb WHERE a > {n}", "sql:tb", "sql:tb", sql=True),
    s("%%sql\nCREATE OR REPLACE VIEW vw AS SELECT a * 2 AS a FROM tb", "sql:tb", "sql:vw",
      sql=True),
    s("%%sql r5\nSELECT count(*) AS c, sum(a) AS s FROM vw", "sql:vw", "r5", sql=True),
    s("print('r5', r5['c'].tolist(), [None if v != v else int(v) for v in r5['s']])", "r5"),
    s("fr2 = fr.assign(b=fr['a'] * 2)", "fr", "fr2"),
    s("%%sql r4\nSELECT sum(b) AS s FROM fr2 WHERE a >= {{k}}", "fr2 k", "r4", sql=True),
    s("print('r4', [None if v != v else int(v) for v in r4['s']])", "r4"),
]

#: The names whose values the final namespaces are compared by.
NAMES = ("k", "flag", "w", "z", "m", "ms", "ks", "kd", "C", "o", "o2", "o3", "ov", "D", "dd",
         "G", "Pt", "p", "pk", "q", "Bag", "bag", "REG", "gen", "itr", "ops", "gv", "fr", "objs",
         "r1", "r2", "r3", "fr2", "r4", "r5")

#: code -> (needs, defines, kills, sql) of every cell generated
META: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str], bool]] = {}


@st.composite
def cell_code(draw: st.DrawFn, defined: frozenset[str],
              sql: bool = True) -> tuple[str, frozenset[str]]:
    names = set(defined)
    usable = [t for t in STATEMENTS if t.needs <= names and (sql or not t.sql)]
    first = draw(st.sampled_from(usable))
    picked = [first]
    if not first.sql:
        for _ in range(draw(st.integers(0, 2))):
            names |= picked[-1].defines
            names -= picked[-1].kills
            more = [t for t in STATEMENTS if t.needs <= names and not t.sql]
            picked.append(draw(st.sampled_from(more)))
    needs: set[str] = set()
    defs: set[str] = set()
    kills: set[str] = set()
    lines = []
    for t in picked:
        needs |= t.needs - defs
        defs = (defs | t.defines) - t.kills
        kills = (kills | t.kills) - t.defines
        lines.append(t.template.format(n=draw(st.integers(0, 9))))
    code = "\n".join(lines)
    META[code] = (frozenset(needs), frozenset(defs), frozenset(kills), first.sql)
    return code, frozenset((defined | defs) - kills)


@st.composite
def notebooks(draw: st.DrawFn, sql: bool = True) -> list[str]:
    """A well-formed notebook of 3-9 cells."""
    cells: list[str] = []
    defined: frozenset[str] = frozenset()
    for _ in range(draw(st.integers(3, 9))):
        code, defined = draw(cell_code(defined, sql))
        cells.append(code)
    return cells


@st.composite
def edits(draw: st.DrawFn, names: frozenset[str] | None = None,
          sql: bool = True) -> list[Edit]:
    """A few edits of cells using ``names`` (mostly; else any name)."""
    everything = frozenset().union(*(t.defines for t in STATEMENTS))
    result = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["edit", "edit", "edit", "insert", "insert", "delete",
                                     "move", "fail", "break"]))
        pool = everything if names is None or draw(st.integers(0, 9)) < 2 else names
        code, _ = draw(cell_code(pool, sql))
        result.append(Edit(kind, draw(st.integers(0, 20)), draw(st.integers(0, 20)), code))
    return result


@st.composite
def examples(draw: st.DrawFn, sql: bool = True) -> tuple[list[str], list[Edit]]:
    """A notebook and edits of it, the edits mostly using the names it defines."""
    cells = draw(notebooks(sql))
    names = frozenset().union(*(META[c][1] for c in cells))
    return cells, draw(edits(names, sql))


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def stock_code(code: str) -> str:
    """A cell as stock ipykernel runs it: a ``%%sql`` cell through DuckDB's API on
    ``_con`` (placeholders as named parameters), any other cell as it is."""
    if not code.startswith("%%sql"):
        return code
    header, _, body = code.partition("\n")
    words = header.split()[1:]
    out = words[0] if words else None
    names = list(dict.fromkeys(_PLACEHOLDER.findall(body)))
    query = _PLACEHOLDER.sub(r"$\1", body)
    params = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    call = f"_con.sql({query!r}, params={params})" if names else f"_con.sql({query!r})"
    if out:
        return f"{out} = {call}.df()"
    return f"_rel = {call}\nif _rel is not None:\n    _rel.df()\ndel _rel"


def is_sql(code: str) -> bool:
    return code.startswith("%%sql")


def meta(code: str) -> tuple[frozenset[str], frozenset[str], frozenset[str], bool]:
    """A cell's (needs, defines, kills, sql), also after a ``fail`` or ``break``
    edit (a cell not generated here, or a SyntaxError, needs and binds nothing)."""
    if code.endswith("\n)"):
        return frozenset(), frozenset(), frozenset(), False
    code = code.removeprefix("1 / 0\n").replace("\n1 / 0", "")
    return META.get(code, (frozenset(), frozenset(), frozenset(), is_sql(code)))


def read_below(cells: list[str]) -> bool:
    """A cell needing a name that no cell above defines (or deletes): a read with
    no definer above binds to the definer below (docs/limits.md)."""
    above: set[str] = set()
    for code in cells:
        needs, defs, kills, _ = meta(code)
        if needs - above:
            return True
        above |= defs | kills
    return False


def guarded_read_below(cells: list[str]) -> bool:
    """A ``try: ... k ... except NameError`` with no cell above binding ``k``: a read
    with no definer above binds to the definer below (docs/limits.md), where stock,
    which catches the ``NameError``, takes the ``except`` branch."""
    return any("except NameError" in code
               and not any("k" in meta(c)[1] | meta(c)[2] for c in cells[:i])
               for i, code in enumerate(cells))


_ADDR = re.compile(r" at 0x[0-9a-f]+")


def normalise(text: str) -> str:
    return _ADDR.sub(" at 0x", text)
