"""The lean re-run path: an unchanged cell run from cached code objects.

IPython's ``InteractiveShell.run_cell_async`` does, for every run, work that
only concerns a new or changed cell: history, transforming, naming, parsing,
compiling.  For the cells of a cascade, whose code did not change, this module
runs the same steps minus those, with the code objects of
:class:`.compiling.CachingCompilerProxy`.  It copies the order of
``run_cell_async``'s steps (IPython 9), so it lives here, behind the
``reruns`` fast path: :func:`.install` turns it on only for the IPython
versions it was tested with and after a probe; otherwise the kernel calls
``run_cell_async`` itself.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

from .compiling import CachingCompilerProxy


def lean_codes(
    proxy: CachingCompilerProxy, shell: Any, code: str, transformed: str
) -> tuple[tuple[Any, ...], bool] | None:
    """The code objects and display flag to run ``code`` by :func:`run_statements`,
    or None when IPython's own path must run it (a syntax error for it to report,
    top-level await, an empty cell)."""
    if not transformed.strip():
        return None
    flags = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0) if shell.autoawait else 0
    try:
        _name, codes, displays = proxy.statements(
            transformed, shell.execution_count, code, flags)
    except Exception:  # e.g. a syntax error: IPython's own path reports it
        return None
    if any(c.co_flags & inspect.CO_COROUTINE for c in codes):
        return None
    return codes, displays


async def run_statements(
    shell: Any, cell: str, code: str, transformed: str, codes: tuple[Any, ...], displays: bool
) -> ExecutionResult:
    """``run_cell_async`` for a re-run of unchanged, synchronous code.

    ``pre_execute`` and ``pre_run_cell`` events, the builtin and display traps,
    then each statement through ``run_code`` (which reports errors exactly as
    IPython does).  The caller fires the post events.
    """
    info = ExecutionInfo(code, False, False, True, cell, transformed_cell=transformed)
    result = ExecutionResult(info)
    result.execution_count = shell.execution_count
    shell.events.trigger("pre_execute")
    shell.events.trigger("pre_run_cell", info)
    shell.logger.log(transformed, code)
    raised = False
    with shell.builtin_trap, shell.display_trap:
        if displays:
            shell.displayhook.exec_result = result
        try:
            for code_obj in codes:
                if await shell.run_code(code_obj, result):
                    raised = True
                    break
        finally:
            if displays:
                shell.displayhook.exec_result = None
        if shell.last_execution_succeeded is raised:
            shell.last_execution_succeeded = not raised
        shell.last_execution_result = result
    return result
