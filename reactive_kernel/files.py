"""Files a cell writes by a literal path, as links to the cells naming that path.

A notebook often writes a file and reads it back further down:
``plt.savefig('fig.png')`` then ``Image('fig.png')`` or ``!ls -l fig.png``,
``df.to_csv('clean.csv')`` then ``pd.read_csv('clean.csv')``, ``%%writefile
helper.py`` then ``%run helper.py``.  No name links those cells, so an edit that
re-runs the writer would leave the reader showing the old file.

:func:`written` finds the paths a cell writes: the first string literal among
the first two arguments (or a path keyword) of a call of a known writer
(``savefig``, ``to_csv``, ``np.save``, ``joblib.dump``, ``torch.save``...),
``open(path, 'w')`` (or ``'x'``; not ``'a'``: adding to a file makes no new
version of it), ``Path(path).write_text(...)``
and ``%%writefile path``; and the paths it deletes (``os.remove(path)``,
``Path(path).unlink()``), which it reads too.  The kernel makes each a pseudo-name, ``file:<path>``,
that the cell defines (:func:`pseudo_name`), and a cell whose code names the path
anywhere else (:func:`names_path`: in a string, a shell line, a magic) reads it,
from above only: a cell above the writer reads the file as it was before.  A
file, like a database table, holds one version: the last writer's.  A module the
notebook writes (``%%writefile helper.py``) is read by the cells importing it
(:func:`imports`: ``import helper``, ``from helper import f``, and a
``%%writefile`` of a script importing it) and by the cells reloading it
(:func:`reloads`: ``importlib.reload(helper)``); the kernel imports it anew when such a
cell runs again (see :meth:`.runner.Runner.fresh_imports`), as a run from the top
would load the file as it then is.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
from collections.abc import Callable, Mapping

PREFIX = "file:"

#: Functions and methods that write the file named by their first string literal
#: argument (among the first two).
WRITERS = frozenset({
    "savefig", "save", "savez", "savez_compressed", "savetxt", "dump", "imsave",
    "imwrite", "to_csv", "to_excel", "to_json", "to_parquet", "to_pickle", "to_feather",
    "to_hdf", "to_html", "to_xml", "to_stata", "to_orc", "to_latex", "to_markdown",
    "to_netcdf", "to_file", "write_image", "write_html", "write_csv", "write_parquet",
    "write_json", "write_ipc",
})
_PATH_KEYWORDS = frozenset({"path", "fname", "filename", "path_or_buf", "excel_writer",
                            "file", "buf", "filepath", "file_name", "fp"})
#: Cheap test before parsing: code that cannot write a file by any of the above.
_HINT = re.compile(r"save|dump|to_\w+\s*\(|write|open\s*\(|imsave|imwrite|remove|unlink")
_WRITEFILE = re.compile(r"\A\s*%%writefile[ \t]+(?:-a[ \t]+)?(\S+)")


def pseudo_name(path: str) -> str:
    return PREFIX + path


def is_file_name(name: str) -> bool:
    return name.startswith(PREFIX)


def path_of(name: str) -> str:
    return name[len(PREFIX):]


def _normal(path: str) -> str | None:
    path = path.strip()
    if not path or len(path) > 300 or "\n" in path or "{" in path or "*" in path:
        return None  # not a plain path (a template, a glob)
    return os.path.normpath(path)


def written(code: str, transform: Callable[[str], str] | None = None) -> dict[str, int]:
    """The paths ``code`` writes by literal, with how many times each is named as
    written (those mentions are not reads)."""
    if _HINT.search(code) is None:
        return {}
    found: dict[str, int] = {}

    def add(raw: object, mentions: int = 1) -> None:
        if isinstance(raw, str):
            path = _normal(raw)
            if path is not None:
                found[path] = found.get(path, 0) + mentions

    magic = _WRITEFILE.match(code)
    if magic is not None:
        add(magic.group(1).strip("'\""))
        return found
    try:
        tree = ast.parse(transform(code) if transform is not None else code)
    except (SyntaxError, ValueError):
        return found
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        callee = func.attr if isinstance(func, ast.Attribute) else (
            func.id if isinstance(func, ast.Name) else None)
        if callee == "open":
            mode = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "mode"), None)
            # (Not ``'a'`` nor ``'r+'``: a cell adding to a file is no new version
            # of it, and running it again would add twice.)
            if node.args and isinstance(mode, ast.Constant) and isinstance(mode.value, str) \
                    and any(c in mode.value for c in "wx") \
                    and isinstance(node.args[0], ast.Constant):
                add(node.args[0].value)
        elif callee in ("write_text", "write_bytes") and isinstance(func, ast.Attribute) \
                and isinstance(func.value, ast.Call) and func.value.args \
                and isinstance(func.value.args[0], ast.Constant):
            add(func.value.args[0].value)  # Path('out.txt').write_text(...)
        elif callee in ("remove", "unlink") and node.args \
                and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id == "os" and isinstance(node.args[0], ast.Constant):
            # ``os.remove('tmp.txt')``: a new version of the file (none), and a
            # read of it (it must be there): run again, it needs its writer again.
            add(node.args[0].value, mentions=0)
        elif callee == "unlink" and isinstance(func, ast.Attribute) \
                and isinstance(func.value, ast.Call) and func.value.args \
                and isinstance(func.value.args[0], ast.Constant):
            add(func.value.args[0].value, mentions=0)  # Path('tmp.txt').unlink()
        elif callee in WRITERS:
            literal = next((a.value for a in node.args[:2]
                            if isinstance(a, ast.Constant) and isinstance(a.value, str)), None)
            if literal is None:
                literal = next((k.value.value for k in node.keywords
                                if k.arg in _PATH_KEYWORDS and isinstance(k.value, ast.Constant)
                                and isinstance(k.value.value, str)), None)
            add(literal)
    return found


def module_of(path: str) -> str | None:
    """The module an ``import`` of which loads ``path`` from the working
    directory (``helper.py``: ``helper``), if it is one."""
    stem, extension = os.path.splitext(path)
    if extension != ".py" or os.sep in path or "/" in path or not stem.isidentifier():
        return None
    return stem


def imports(code: str, transform: Callable[[str], str] | None = None) -> frozenset[str]:
    """The top-level modules ``code`` imports (``import a.b``, ``from a import
    b``: ``a``; not relative imports), and for a ``%%writefile x.py`` cell
    those the file it writes imports (a script run by ``!python x.py`` loads
    them too)."""
    if "import" not in code:
        return frozenset()
    magic = _WRITEFILE.match(code)
    if magic is not None:
        if not magic.group(1).strip("'\"").endswith(".py"):
            return frozenset()
        source = code.partition("\n")[2]
    else:
        source = transform(code) if transform is not None else code
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return frozenset()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.partition(".")[0])
    return frozenset(found)


def reloads(code: str, transform: Callable[[str], str] | None = None) -> frozenset[str]:
    """The modules ``code`` reloads by name (``importlib.reload(helper)``,
    ``reload(helper)``, ``imp.reload(helper)``): such a cell loads the module's
    file again, as it then is."""
    if "reload" not in code:
        return frozenset()
    try:
        tree = ast.parse(transform(code) if transform is not None else code)
    except (SyntaxError, ValueError):
        return frozenset()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and (
                (isinstance(node.func, ast.Name) and node.func.id == "reload")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "reload")):
            target = node.args[0]
            while isinstance(target, ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name):
                found.add(target.id)
    return frozenset(found)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def names_path(code: str, path: str, own: Mapping[str, int]) -> bool:
    """Whether ``code`` names ``path`` other than as a file it writes itself
    (``own``: :func:`written` of the same code)."""
    pattern = _PATTERNS.get(path)
    if pattern is None:
        if len(_PATTERNS) > 4096:
            _PATTERNS.clear()
        # Not inside a longer name (``my.csv`` in ``dummy.csv``); a directory before
        # it counts (an over-approximation: ``data/my.csv`` names ``my.csv``).
        pattern = _PATTERNS[path] = re.compile(
            r"(?<![\w.\-])(?:\./)?" + re.escape(path) + r"(?![\w\-]|\.\w)")
    if path not in code:
        return False
    return len(pattern.findall(code)) > own.get(path, 0)


def digest(path: str) -> bytes | None:
    """A digest of the file's contents; None if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha1(handle.read()).digest()
    except OSError:
        return None
