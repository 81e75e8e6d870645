"""Running the cells of a cascade through IPython, as re-runs.

The cell that a request names runs through ``IPythonKernel.do_execute`` like
any input.  The others a cascade runs are re-runs: no history, no new
execution count, their own ``Out[n]`` and traceback label, their own trailing
``;``.  :class:`Reruns` runs them, and keeps IPython's transform of each code
string (shared with the analysis, so a cell is transformed once).  Which
request a re-run's outputs go to is the kernel's business, not this module's.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import getpass
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.error import StdinNotImplementedError
from IPython.core.interactiveshell import ExecutionResult

from ._compat.rerun import lean_codes, run_statements
from .displayhook import ReactiveDisplayHook
from .runner import Outcome

#: Exceptions that mean "the user interrupted", whatever the cell was doing.
INTERRUPT_NAMES = frozenset({"KeyboardInterrupt", "CancelledError"})

#: (transformed code, transform error, needs the event loop, shows a result).
#: The last is True, False, "quiet" (a trailing ';') or "print" (ends with a
#: ``print(...)`` call, which shows nothing unless ``print`` is redefined).
Prepared = tuple[str, Any, bool, "bool | str"]


class Reruns:
    """Re-runs cells through the kernel's IPython shell.

    Responsibilities: IPython's transform of each code string (cached), and
    running a cell's code as a re-run, with the fast path of
    :mod:`._compat.rerun` when the kernel has it on.
    """

    max_prepared = 4096

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self._prepared: dict[str, Prepared] = {}

    @property
    def shell(self) -> Any:
        return self.kernel.shell

    def prepared(self, code: str) -> Prepared:
        """IPython's transform of ``code``, whether it needs a loop and whether
        it may show a result, cached."""
        cached = self._prepared.get(code)
        if cached is not None:
            return cached
        shell = self.shell
        error = None
        try:
            transformed = shell.transform_cell(code)
        except Exception:
            transformed, error = code, sys.exc_info()
        is_async = bool(shell.should_run_async(
            code, transformed_cell=transformed, preprocessing_exc_tuple=error))
        try:
            body = ast.parse(transformed).body
            displays: bool | str = bool(body) and isinstance(body[-1], ast.Expr)
            if displays and DisplayHook.semicolon_at_end_of_expression(transformed):
                displays = "quiet"  # a trailing ';' hides the result
            elif displays and _is_print_call(body[-1]):
                displays = "print"
        except (SyntaxError, ValueError):
            displays = True  # e.g. top-level await: assume it may
        entry = (transformed, error, is_async, displays)
        if error is None:
            if len(self._prepared) >= self.max_prepared:
                del self._prepared[next(iter(self._prepared))]
            self._prepared[code] = entry
        return entry

    def transform(self, code: str) -> str:
        """The shell's transform, for the analysis; a failed transform is a
        syntax error there (the run reports it)."""
        transformed, error, _, _ = self.prepared(code)
        if error is not None:
            raise SyntaxError(str(error[1]))
        return transformed

    async def run(self, cell: str, code: str, execution_count: int | None) -> Outcome:
        """Run ``cell``'s ``code`` as a re-run labelled ``execution_count``
        (its ``Out[n]`` and tracebacks), leaving the shell's count as it was."""
        shell = self.shell
        fast = self.kernel._fast.reruns
        proxy = self.kernel._compile_cache
        saved_count = shell.execution_count
        displays = self.prepared(code)[3]
        if displays == "print":
            displays = shell.user_ns.get("print", builtins.print) is not builtins.print
        if execution_count is not None and displays and displays != "quiet":
            # IPython's display hook shows execution_count minus an offset
            # that differs between IPython versions: measure it.
            offset = saved_count - shell.displayhook.prompt_count
            shell.execution_count = execution_count + offset
        elif execution_count is not None and not fast:
            # IPython's own path labels tracebacks In[execution_count].
            shell.execution_count = execution_count
        if proxy is not None:
            proxy.label = execution_count
        hook = shell.displayhook
        if isinstance(hook, ReactiveDisplayHook):
            hook.source = self.prepared(code)[0]  # its own ';', not the trigger's
            hook.uncounted = execution_count is None
        try:
            with own_payloads(shell):
                return await self._run_quietly(cell, code)
        finally:
            if isinstance(hook, ReactiveDisplayHook):
                hook.source = None
                hook.uncounted = False
            if proxy is not None:
                proxy.label = None
            if shell.execution_count != saved_count:
                shell.execution_count = saved_count

    async def _run_quietly(self, cell: str, code: str) -> Outcome:
        """Run code through IPython without history.  Post-execute hooks still
        fire, so inline plots of re-runs appear."""
        shell, kernel = self.shell, self.kernel
        transformed, error, is_async, _ = self.prepared(code)
        result = None
        real_compiler = shell.compile
        proxy = kernel._compile_cache if kernel._fast.reruns else None
        if proxy is not None and proxy.compiler is real_compiler and proxy.usable(shell):
            shell.compile = proxy
        lean = None
        if proxy is not None and shell.compile is proxy and not is_async and error is None:
            lean = lean_codes(proxy, shell, code, transformed)
        try:
            with no_stdin():
                if lean is not None:
                    result = await run_statements(shell, cell, code, transformed, *lean)
                    return outcome_of(result, shell.user_global_ns)
                coro = shell.run_cell_async(
                    code, store_history=False, silent=False, transformed_cell=transformed,
                    preprocessing_exc_tuple=error, cell_id=cell,
                )
                if is_async:
                    future = asyncio.ensure_future(coro)
                    with cancelled_by_sigint(future):
                        result = await future
                else:
                    result = await coro
        except asyncio.CancelledError:
            return Outcome("interrupted", "KeyboardInterrupt: cancelled")
        finally:
            shell.compile = real_compiler
            shell.events.trigger("post_execute")
            shell.events.trigger("post_run_cell", result)
        return outcome_of(result, shell.user_global_ns)


@contextmanager
def own_payloads(shell: Any) -> Iterator[None]:
    """Payloads a re-run writes (``obj?`` paging help, ``set_next_input``,
    ``exit()``) are its own: there is no reply of its own to carry them, and
    left in the shell's payload manager they went on the reply of the next
    request (JupyterLab paged a re-run's help under that cell, and inserted
    the cell a re-run's ``set_next_input`` made below it).  A page is shown in
    the re-run's output, where JupyterLab shows the page of a cell run by hand;
    the others, which act on the notebook or the kernel, are dropped."""
    manager = shell.payload_manager
    before = list(manager.read_payload())
    manager.clear_payload()
    try:
        yield
    finally:
        own = list(manager.read_payload())
        manager.clear_payload()
        for payload in before:
            manager.write_payload(payload, single=False)
        pages = [p for p in own if p.get("source") == "page" and isinstance(p.get("data"), dict)]
        if pages:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()  # the page comes after the cell's text, as in stock
            for page in pages:
                shell.display_pub.publish(data=page["data"], metadata={})


def _no_input(prompt: str = "", stream: Any = None) -> str:
    raise StdinNotImplementedError(
        "input() and getpass() cannot be answered while a cell re-runs in a cascade "
        "(no request is waiting for the answer); run this cell itself to answer"
    )


@contextmanager
def no_stdin() -> Iterator[None]:
    """``input()`` and ``getpass()`` raise in a re-run: the client asked to run
    another cell and is not ready to answer a question from this one."""
    saved = builtins.input, getpass.getpass
    builtins.input = _no_input
    getpass.getpass = _no_input
    try:
        yield
    finally:
        builtins.input, getpass.getpass = saved


@contextmanager
def cancelled_by_sigint(future: asyncio.Future[Any]) -> Iterator[None]:
    """An interrupt (SIGINT) cancels ``future``, an async re-run: in the event
    loop, SIGINT would otherwise stop the kernel's loop, not the cell's code.
    Signals reach only the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()

    def on_sigint(signum: int, frame: Any) -> None:
        loop.call_soon_threadsafe(_cancel, future)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _cancel(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.cancel()


def _is_print_call(node: ast.stmt) -> bool:
    """``print(...)`` as a statement: its value, None, is never displayed."""
    return (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name) and node.value.func.id == "print"
    )


def outcome_of(result: ExecutionResult, namespace: dict[str, Any]) -> Outcome:
    """The outcome of an IPython run in ``namespace``."""
    failure = result.error_before_exec or result.error_in_exec
    if failure is None:
        return Outcome("ok")
    ename = type(failure).__name__
    status = "interrupted" if ename in INTERRUPT_NAMES else "error"
    return Outcome(status, f"{ename}: {failure}",
                   failure_position(result.error_in_exec, namespace))


def outcome_of_reply(reply: dict[str, Any], result: ExecutionResult | None,
                     namespace: dict[str, Any]) -> Outcome:
    """The outcome of an execute_reply's content; ``result`` is the shell's
    last execution result, the run the reply answers."""
    if reply.get("status") == "ok":
        return Outcome("ok")
    ename = str(reply.get("ename", "Error"))
    status = "interrupted" if ename in INTERRUPT_NAMES else "error"
    error = result.error_in_exec if result is not None else None
    at = failure_position(error, namespace) if type(error).__name__ == ename else None
    return Outcome(status, f"{ename}: {reply.get('evalue', '')}", at)


def failure_position(error: BaseException | None,
                     namespace: dict[str, Any]) -> tuple[int, int | None] | None:
    """Line and column of the cell's top-level statement that raised
    ``error``: the first module-level frame of its traceback that runs in the
    user's ``namespace`` (an ``exec`` or ``%run -i`` the cell made runs below
    it).  Column None before Python 3.11 or when the compiler left none."""
    tb = error.__traceback__ if error is not None else None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "<module>" and frame.f_globals is namespace:
            if tb.tb_lineno is None:
                return None
            column: int | None = None
            positions = getattr(frame.f_code, "co_positions", None)
            if positions is not None and tb.tb_lasti >= 0:
                found = list(positions())
                index = tb.tb_lasti // 2
                if index < len(found) and found[index][0] == tb.tb_lineno:
                    column = found[index][2]
            return tb.tb_lineno, column
        tb = tb.tb_next
    return None
