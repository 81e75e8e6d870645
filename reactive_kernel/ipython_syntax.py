"""IPython syntax in a transformed cell: magics and shell commands.

IPython's input transformer turns ``%time x = 1`` into
``get_ipython().run_line_magic('time', 'x = 1')`` and ``!ls {d}`` into
``get_ipython().system('ls {d}')``; these helpers read such calls back, and
the names IPython will expand into their text at run time.  Pure.
"""

from __future__ import annotations

import ast
import re
import shlex
import string

#: Cell magics whose body is Python code that runs in the user namespace.
PYTHON_BODY_CELL_MAGICS: frozenset[str] = frozenset({"time", "timeit", "capture"})
#: Cell magics whose body is another language, markup or a file's text, run
#: outside the user namespace: they bind no names (``%%bash --out v`` aside).
NAMELESS_CELL_MAGICS: frozenset[str] = frozenset({
    "bash", "sh", "script", "perl", "ruby", "python", "python2", "python3", "pypy",
    "html", "HTML", "javascript", "js", "latex", "markdown", "svg", "writefile", "file",
})
#: Line magics whose argument is a Python statement.
PYTHON_ARG_LINE_MAGICS: frozenset[str] = frozenset({"time", "timeit"})
# timeit options that take a value ("-n 3") versus plain flags ("-q").
TIMEIT_VALUE_OPTIONS = frozenset({"-n", "-r", "-p"})


def magic_call(node: ast.Call) -> tuple[str, list[str]] | None:
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


def expanded_names(line: str) -> set[str]:
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


def shell_call(node: ast.Call) -> str | None:
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


def split_timeit_options(line: str) -> str:
    """Drop ``%timeit``'s leading options, keep the statement."""
    try:
        words = shlex.split(line, posix=False)
    except ValueError:
        return line
    i = 0
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in TIMEIT_VALUE_OPTIONS else 1
    return " ".join(words[i:])
