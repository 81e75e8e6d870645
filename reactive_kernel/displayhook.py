"""The shell and display hook of the reactive kernel.

IPython decides whether a cell's last expression is shown by looking for a
trailing ``;`` in the last input of its history.  A re-run cell is not in the
history (its execution count is not bumped), so that input is the trigger's:
``plt.hist(data);`` re-run by a trigger without ``;`` showed its tuple, and a
trigger ending with ``;`` hid every re-run cell's result.  The kernel names
the code being re-run (:attr:`ReactiveDisplayHook.source`), and the ``;``
is looked for there.

A cell this kernel never counted (an upstream cell run before the one asked
for, in a new kernel) has no number of its own: its result is published with
``execution_count`` null (``Out[ ]``), never with another cell's number,
and kept in no ``Out[n]`` (``_`` is still its result).
"""

from __future__ import annotations

from ipykernel import zmqshell
from ipykernel.displayhook import ZMQShellDisplayHook
from traitlets import Type

from ._compat import fdoutput


class ReactiveDisplayHook(ZMQShellDisplayHook):
    """ipykernel's display hook, with the ``;`` of the cell being re-run."""

    #: The (transformed) code of the cell being re-run, None outside re-runs.
    source: str | None = None
    #: True while re-running a cell that has no execution count in this kernel.
    uncounted: bool = False

    def write_output_prompt(self) -> None:
        super().write_output_prompt()
        if self.uncounted and self.msg:
            self.msg["content"]["execution_count"] = None

    def update_user_ns(self, result: object) -> None:
        if not self.uncounted:
            super().update_user_ns(result)  # type: ignore[no-untyped-call]
            return
        # ``_`` as for any result, but no ``Out[n]`` / ``_n``: the count at hand
        # is another cell's (the one asked for, or the one before it).
        full, self.do_full_cache = self.do_full_cache, 0
        try:
            super().update_user_ns(result)  # type: ignore[no-untyped-call]
        finally:
            self.do_full_cache = full

    def log_output(self, format_dict: dict[str, str]) -> None:
        if not self.uncounted:
            super().log_output(format_dict)  # type: ignore[no-untyped-call]

    def finish_displayhook(self) -> None:
        # The text child processes of the cell wrote comes before its result.
        fdoutput.settle()
        super().finish_displayhook()

    def quiet(self) -> bool:
        if self.source is not None:
            return bool(self.semicolon_at_end_of_expression(self.source))
        return bool(super().quiet())


class ZMQInteractiveShell(zmqshell.ZMQInteractiveShell):
    """ipykernel's shell with :class:`ReactiveDisplayHook`.

    It keeps the name of the class it extends: libraries and notebooks tell a
    Jupyter kernel from a terminal by it (pandas looks for "zmq" in the shell's
    type to size its reprs for a notebook, not an 80-column terminal; many
    notebooks test ``get_ipython().__class__.__name__ == "ZMQInteractiveShell"``),
    and its module too (``'zmqshell' in str(type(get_ipython()))`` is another
    common test).
    """

    displayhook_class = Type(ReactiveDisplayHook)


ZMQInteractiveShell.__module__ = zmqshell.__name__


#: The reactive kernel's shell, by the name the kernel knows it.
ReactiveShell = ZMQInteractiveShell
