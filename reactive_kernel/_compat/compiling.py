"""Parse and compile a re-run cell once, not on every cascade.

A cascade re-runs cells whose code did not change.  IPython's
``run_cell_async`` names the cell (hashing its code, filling ``linecache``),
parses it and compiles each top-level statement every time: more than the
run itself for a typical small cell.  :class:`CachingCompilerProxy` stands
in for the shell's compiler during a re-run and remembers those results per
code string, while everything else (display hook, traps, events,
tracebacks) stays IPython's.

What is cached, and why it stays correct:

- ``cache(code, number)``: the name depends only on the code (ipykernel
  names cells by a hash of their code); the traceback label ``In[number]``
  is still updated on every call, and the ``linecache`` entry is restored if
  something removed it.
- ``ast_parse(code, name)``: the same tree is returned again.  Only used
  when no AST transformers are registered and the display mode is
  ``last_expr`` (IPython's default), the two things that could change or
  mutate a tree between runs.
- ``compiler(mod, name, mode)``: keyed by the identity of the statements
  (trees the cache keeps alive, so identities are never reused), the mode
  and the compiler's flags, which hold ``__future__`` imports and top-level
  await.
"""

from __future__ import annotations

import ast
import linecache
from collections import OrderedDict
from typing import Any


class _Entry:
    __slots__ = ("codes", "name", "plan", "trees")

    def __init__(self) -> None:
        self.name: str | None = None
        self.trees: dict[tuple[str, str], Any] = {}
        self.codes: dict[tuple[Any, ...], Any] = {}
        self.plan: tuple[tuple[Any, ...], tuple[Any, ...], bool] | None = None


class CachingCompilerProxy:
    """The shell's compiler, with results remembered per code string."""

    max_entries = 4096

    def __init__(self, compiler: Any) -> None:
        #: Traceback label (``In[label]``) for the next cells, instead of the
        #: number IPython passes (a re-run shows its cell's own count).
        self.label: int | None = None
        self._compiler = compiler
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._by_name: dict[str, _Entry] = {}

    @property
    def compiler(self) -> Any:
        return self._compiler

    def usable(self, shell: Any) -> bool:
        """Whether caching trees is safe with this shell's settings."""
        return not shell.ast_transformers and shell.ast_node_interactivity == "last_expr"

    def probe(self, shell: Any) -> bool:
        """Whether this IPython has what the lean re-run path uses, and a
        statement compiled here runs as IPython would run it."""
        needed_compiler = ("cache", "ast_parse", "extra_flags", "flags")
        needed_shell = ("run_code", "builtin_trap", "display_trap", "displayhook", "events",
                        "logger", "last_execution_succeeded", "last_execution_result")
        if not (all(hasattr(self._compiler, n) for n in needed_compiler)
                and all(hasattr(shell, n) for n in needed_shell)
                and hasattr(shell.displayhook, "exec_result")):
            return False
        try:
            _name, codes, displays = self.statements("_rk_probe = 6 * 7", 0, "", 0)
            return len(codes) == 1 and not displays
        except Exception:  # a changed compiler API: keep IPython's path
            return False

    def _entry(self, code: str) -> _Entry:
        entry = self._entries.get(code)
        if entry is None:
            entry = self._entries[code] = _Entry()
            while len(self._entries) > self.max_entries:
                _old_code, old = self._entries.popitem(last=False)
                if old.name is not None and self._by_name.get(old.name) is old:
                    del self._by_name[old.name]
        return entry

    # -- the three calls run_cell_async makes --------------------------------

    def cache(self, transformed_code: str, number: int = 0, raw_code: str | None = None) -> str:
        if self.label is not None:
            number = self.label
        entry = self._entry(transformed_code)
        name = entry.name
        if name is None or name not in linecache.cache:
            name = self._compiler.cache(transformed_code, number, raw_code=raw_code)
            entry.name = name
            self._by_name[name] = entry
        else:
            filename_map = getattr(self._compiler, "_filename_map", None)
            if isinstance(filename_map, dict):
                filename_map[name] = number
        return str(name)

    def ast_parse(self, source: str, filename: str = "<unknown>", symbol: str = "exec") -> Any:
        entry = self._entry(source)
        key = (filename, symbol)
        tree = entry.trees.get(key)
        if tree is None:
            tree = self._compiler.ast_parse(source, filename=filename, symbol=symbol)
            entry.trees[key] = tree
            if entry.name is None:
                self._by_name.setdefault(filename, entry)
        return tree

    def __call__(self, mod: Any, filename: str, mode: str) -> Any:
        entry = self._by_name.get(filename)
        if entry is None:
            return self._compiler(mod, filename, mode)
        key = (tuple(map(id, mod.body)), type(mod), mode, self._compiler.flags)
        code = entry.codes.get(key)
        if code is None:
            code = self._compiler(mod, filename, mode)
            if len(entry.codes) > 256:  # statements not from the cached tree
                entry.codes.clear()
            # Keep the statements alive with the code: their ids stay unique.
            entry.codes[key] = code
            entry.codes[(id(code), "nodes")] = list(mod.body)
        return code

    # -- a whole cell at once (the kernel's lean re-run path) ------------------

    def statements(
        self, source: str, number: int, raw_code: str, extra_flags: int
    ) -> tuple[str, tuple[Any, ...], bool]:
        """Name a cell and return the code objects IPython would run for it.

        ``run_ast_nodes`` in ``last_expr`` mode compiles each top-level
        statement on its own, the last one in ``single`` mode (so its value
        is displayed) if it is an expression.  Returns ``(name, codes,
        displays)``, compiled once per code, name and compiler flags.  Raises
        what parsing or compiling raises (the caller lets IPython report it).
        """
        name = self.cache(source, number, raw_code)
        entry = self._entry(source)
        key = (name, self._compiler.flags, extra_flags)
        plan = entry.plan
        if plan is None or plan[0] != key:
            nodes = self.ast_parse(source, filename=name).body
            displays = bool(nodes) and isinstance(nodes[-1], ast.Expr)
            mods: list[tuple[Any, str]] = [
                (ast.Module([node], []), "exec") for node in (nodes[:-1] if displays else nodes)
            ]
            if displays:
                mods.append((ast.Interactive([nodes[-1]]), "single"))
            with self._compiler.extra_flags(extra_flags):
                codes = tuple(self(mod, name, mode) for mod, mode in mods)
            plan = entry.plan = (key, codes, displays)
        return name, plan[1], plan[2]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compiler, name)
