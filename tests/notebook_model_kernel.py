"""Random notebooks of constructs only a real kernel has, for the kernel-level
edit-equivalence fuzz (``tests/test_edit_equivalence_kernel2.py``).

Library settings followed in notebook order (pandas' display options, numpy's
print options, ``%precision``, matplotlib's ``rcParams``, warning filters),
random state (``np.random.seed``, ``random.seed``, ``default_rng``), files by a
literal path (``%%writefile helper.py`` then importing it, a data file written
and read), the working directory (``%cd ~/sub``, ``HOME`` being the kernel's own
directory), magics (``%time``, ``%%capture``, ``out = !echo``) and SQL cells.

Each statement lists the names (and ``file:``/``sql:`` resources) it needs from
above and those it defines; a notebook is well formed when every cell's needs
are met by the cells above it (checked statically: these cells cannot be
``exec``-ed outside a kernel).
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
    #: a cell magic, or a cell only showing values (a setting re-runs only
    #: those, docs/limits.md): the whole cell
    whole: bool = False
    sql: bool = False


def s(template: str, needs: str = "", defines: str = "", whole: bool = False,
      sql: bool = False) -> Stmt:
    return Stmt(template, frozenset(needs.split()), frozenset(defines.split()), whole, sql)


STATEMENTS: list[Stmt] = [
    # imports
    s("import numpy as np", "", "np"),
    s("import pandas as pd", "", "pd"),
    s("import random", "", "random"),
    s("import warnings", "", "warnings"),
    s("import matplotlib.pyplot as plt", "", "plt"),
    s("import os", "", "os"),
    # pandas display options, a frame shown
    s("pd.set_option('display.max_rows', {n} + 4)", "pd"),
    s("pd.options.display.precision = {n} % 5 + 1", "pd"),
    s("pd.reset_option('display.precision')", "pd"),
    s("df = pd.DataFrame({{'x': [i / 7 for i in range({n} + 6)]}})", "pd", "df"),
    s("df", "df", whole=True),
    s("print(df)", "df", whole=True),
    s("df['x'] = df['x'] * {n}", "df", "df"),
    # numpy print options, an array shown
    s("np.set_printoptions(precision={n} % 6 + 1)", "np"),
    s("arr = np.arange({n} + 2) / 7", "np", "arr"),
    s("arr", "arr", whole=True),
    s("print('arr', arr)", "arr", whole=True),
    # IPython's %precision, a float shown
    s("%precision {n}", ""),
    s("%precision", ""),
    s("{n} / 7", "", whole=True),
    s("fl = {n} / 3", "", "fl"),
    s("fl", "fl", whole=True),
    s("[fl, 2.5]", "fl", whole=True),
    # matplotlib's rcParams, printed
    s("plt.style.use('ggplot')", "plt"),
    s("plt.style.use('default')", "plt"),
    s("plt.rcParams['lines.linewidth'] = {n} + 1", "plt"),
    s("print('rc', plt.rcParams['lines.linewidth'], plt.rcParams['axes.facecolor'])", "plt"),
    # warnings filters, a cell that warns
    # (Only UserWarning ignored: a cell whose RuntimeWarning a filter hid from its
    # first run on is not known to warn, docs/semantics.md.)
    s("warnings.simplefilter('ignore', UserWarning)", "warnings"),
    s("warnings.simplefilter('always')", "warnings"),
    s("warnings.resetwarnings()", "warnings"),
    s("w = np.log(np.array([-1.0 - {n}]))", "np", "w"),
    s("warnings.warn('careful {n}')", "warnings"),
    # random state
    s("np.random.seed({n})", "np", "seed:np"),
    s("random.seed({n})", "random", "seed:random"),
    s("rng = np.random.default_rng({n})", "np", "rng"),
    s("print('nr', np.random.rand())", "np seed:np"),
    s("print('ri', rng.integers(0, 100, 3))", "rng"),
    s("print('rr', random.random())", "random seed:random"),
    s("x = np.random.randint(0, 100)", "np seed:np", "x"),
    s("print('x', x)", "x"),
    s("y = rng.random()", "rng", "y"),
    s("print('y', y)", "y"),
    # files by a literal path
    s("%%writefile helper.py\ndef f():\n    return {n}", "", "file:helper.py", whole=True),
    s("import helper\nprint('helper', helper.f())", "file:helper.py", "helper"),
    s("from helper import f\nprint('f', f())", "file:helper.py", "f"),
    s("print('f()', f())", "f"),
    s("import importlib\nimportlib.reload(helper)\nprint('reload', helper.f())", "helper"),
    s("open('data.txt', 'w').write('v{n}')", "", "file:data.txt"),
    s("with open('data.txt', 'w') as fw:\n    fw.write('w{n}')", "", "file:data.txt fw"),
    s("print('data', open('data.txt').read())", "file:data.txt"),
    # working directory: HOME is the kernel's own directory, with sub/ in it
    s("%cd ~/sub", ""),
    s("%cd ~", ""),
    s("print('cwd', os.getcwd())", "os"),
    # magics
    s("%time z = {n} * 2", "", "z"),
    s("print('z', z)", "z"),
    s("%%capture cap\nprint('captured', {n})", "", "cap", whole=True),
    s("print('cap', cap.stdout)", "cap"),
    s("out = !echo hi {n}", "", "out"),
    s("print('out', out)", "out"),
    s("!echo shell {n}", ""),
    # SQL cells (embedded DuckDB)
    s("%%sql t1\nSELECT x * 2 AS y FROM df", "df", "t1", whole=True, sql=True),
    s("print('t1', t1)", "t1"),
    s("%%sql\nCREATE OR REPLACE TABLE t AS SELECT range AS i FROM range({n})", "", "sql:t",
      whole=True, sql=True),
    s("%%sql\nINSERT INTO t VALUES ({n})", "sql:t", "sql:t", whole=True, sql=True),
    s("%%sql\nSELECT count(*) AS n FROM t", "sql:t", "", whole=True, sql=True),
    s("%%sql c2\nSELECT sum(i) AS s FROM t", "sql:t", "c2", whole=True, sql=True),
    s("print('c2', c2)", "c2"),
]

_PRELUDE = {"np": "import numpy as np", "pd": "import pandas as pd", "random": "import random",
            "warnings": "import warnings", "plt": "import matplotlib.pyplot as plt",
            "os": "import os", "seed:np": "np.random.seed(0)", "seed:random": "random.seed(0)"}


@st.composite
def edits(draw: st.DrawFn, sql: bool = True) -> list[Edit]:
    everything = frozenset().union(*(t.defines for t in STATEMENTS))
    result = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["edit", "edit", "edit", "insert", "delete", "move", "fail",
                                     "break"]))
        # Mostly statements that need only modules and seeds (put first), so
        # that the edited notebook is well formed more often.
        pool = everything if draw(st.integers(0, 9)) < 3 else frozenset(_PRELUDE)
        code, _ = draw(cell_code(pool, sql))
        code = self_sufficient(code)
        target = draw(st.integers(0, 20))
        if kind == "fail":
            target = 0  # appended: a cell magic stays first
        result.append(Edit(kind, draw(st.integers(0, 20)), target, code))
    return result


_MODULES = ["np", "pd", "random", "warnings", "plt", "os"]


#: code -> (needs, defines, sql) of every cell generated
META: dict[str, tuple[frozenset[str], frozenset[str], bool]] = {}


@st.composite
def cell_code(draw: st.DrawFn, defined: frozenset[str], sql: bool) -> tuple[str, frozenset[str]]:
    names = set(defined)
    usable = [t for t in STATEMENTS if t.needs <= names and (sql or not t.sql)
              and not (t.template.startswith("import ") and t.template.count("\n") == 0
                       and t.defines <= names)]
    first = draw(st.sampled_from(usable))
    if first.whole:
        picked = [first]
    else:
        picked = [first]
        for _ in range(draw(st.integers(0, 2))):
            names |= picked[-1].defines
            more = [t for t in STATEMENTS if t.needs <= names and not t.whole
                    and not (t.template.startswith("import ") and t.defines <= names)]
            picked.append(draw(st.sampled_from(more)))
    needs: set[str] = set()
    defs: set[str] = set()
    lines = []
    for t in picked:
        needs |= t.needs - defs
        defs |= t.defines
        lines.append(t.template.format(n=draw(st.integers(0, 9))))
    code = "\n".join(lines)
    META[code] = (frozenset(needs), frozenset(defs), any(t.sql for t in picked))
    return code, frozenset(defined | defs)


@st.composite
def notebooks(draw: st.DrawFn, sql: bool = True) -> list[str]:
    """A well-formed notebook of 3-8 cells."""
    # A first cell importing most of the modules (as notebooks do).
    modules = draw(st.lists(st.sampled_from(_MODULES), min_size=3, max_size=6, unique=True))
    first = "\n".join(_PRELUDE[m] for m in sorted(modules, key=list(_PRELUDE).index))
    META[first] = (frozenset(), frozenset(modules), False)
    cells: list[str] = [first]
    defined: frozenset[str] = frozenset(modules)
    for _ in range(draw(st.integers(3, 8))):
        code, defined = draw(cell_code(defined, sql))
        cells.append(code)
    return cells


def self_sufficient(code: str) -> str:
    """An edit's code with the imports (and seeds) it needs first (not for a cell magic)."""
    needs, defs, sql = META[code]
    if code.startswith("%%"):
        return code
    wanted = [k for k in _PRELUDE if k in needs]
    if "seed:np" in wanted and "np" not in wanted:
        wanted.insert(0, "np")
    if "seed:random" in wanted and "random" not in wanted:
        wanted.insert(0, "random")
    if not wanted:
        return code
    lines = [_PRELUDE[k] for k in sorted(wanted, key=list(_PRELUDE).index)]
    new = "\n".join([*lines, code])
    META[new] = (needs - set(_PRELUDE), defs | set(wanted), sql)
    return new


def meta(code: str) -> tuple[frozenset[str], frozenset[str], bool]:
    if code.endswith("\n)") and not code.startswith("%%"):
        return frozenset(), frozenset(), False  # a SyntaxError: it binds nothing
    while code.endswith(("\n1 / 0", "\n)")):
        code = code.removesuffix("\n1 / 0").removesuffix("\n)")
    # (A cell not generated here reads nothing.)
    return META.get(code, (frozenset(), frozenset(), "%%sql" in code))


def well_formed(cells: list[str]) -> bool:
    above: set[str] = set()
    for code in cells:
        needs, defs, _ = meta(code)
        if needs - above:
            return False
        above |= defs
    return True


def files_and_cd(cells: list[str]) -> bool:
    """Files read or imported by a relative path with a ``%cd`` in the notebook:
    a file read after an edited ``%cd`` keeps its output (docs/limits.md)."""
    return any("%cd" in c for c in cells) and any(
        "data.txt" in c or "helper" in c for c in cells)


def has_sql(cells: list[str]) -> bool:
    return any("%%sql" in c for c in cells)


_TIME = re.compile(r"^(CPU times|Wall time).*\n", re.M)
_ADDR = re.compile(r" at 0x[0-9a-f]+")
_SQL_TIME = re.compile(r" · [0-9.]+ [mµ]?s on ")


def normalise(text: str, roots: list[str]) -> str:
    for root in roots:
        text = text.replace(root, "ROOT")
    text = _TIME.sub("", text)
    # ``%%writefile`` run again says the file was there: so does stock run again.
    text = text.replace("Overwriting ", "Writing ")
    text = _SQL_TIME.sub(" · T on ", text)
    return _ADDR.sub(" at 0x", text)


def warnings_in(text: str) -> str:
    """A stderr stream: the warnings' categories and messages only."""
    return "".join(f"{m[0]}: {m[1]}\n" for m in re.findall(r"(\w+Warning): (.*)", text)
                   if m[0] != "ResourceWarning")  # an unclosed file: when it is collected
