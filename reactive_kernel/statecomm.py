"""Cell state from the kernel, on a Jupyter comm (target ``reactive``).

The kernel is the one owner of each cell's run state; frontends only draw it.
A frontend opens a comm with target name ``reactive`` (frontends that do not,
like stock JupyterLab, get nothing and lose nothing) and receives, as
``comm_msg`` data:

- ``{"type": "snapshot", ...}`` at once: the whole graph and every cell's
  state, as the ``reactive_graph_reply`` has them (``mode``, ``order``,
  ``notebook_order``, ``cells``);
- ``{"type": "cells", "cells": {id: state}}`` whenever cells change state:
  when a cascade is planned (queued, stale), while it runs (at most every
  ``interval`` seconds: running, ok with its duration, error, skipped with the
  upstream cell, unchanged), and when the request ends.  ``state`` is
  ``{"status", "duration_ms", "error", "skipped_because", "execution_count",
  "runs", "rerun", "output_at", "code_hash", "label"}`` (``rerun``: the latest
  run was a cascade's re-run, not the cell's own request; ``code_hash``: the
  :func:`~reactive_kernel.state.code_hash` of the code the kernel holds for the
  cell, what a cascade re-runs, so a frontend can mark other text "edited"); a
  cell deleted from the graph comes as ``null``;
- ``{"type": "graph", ...}`` when a request changed the graph (the same fields
  as the snapshot);
- ``{"type": "mode", "mode": "auto" | "lazy"}`` when the mode changes;
- ``{"type": "cascade", "cause": {"widget": comm_id, "cells": [ids]},
  "reactive": {...}}`` after a cascade that no request asked for (a widget the
  user moved, :mod:`.widgets`): ``reactive`` is what an execute_reply's
  ``metadata.reactive`` would say.

Requests go the other way on the shell channel, as ``reactive_graph_request``
(``mode``, ``run_stale``, ``order``, ``register``, ``remove``): no magic strings.

A ``comm_open`` waits in the shell queue behind a running request, so a page
reloaded while a cell runs would show no state until the run ends.  The kernel
sees the ``comm_open`` arrive (its shell channel thread, :meth:`open_early`)
and answers at once: the snapshot, then every change, on that comm id, with the
``comm_open`` as parent, until the kernel's main thread reaches the open and
takes the comm over (no second snapshot).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .graph import CellId
from .runner import Runner

TARGET = "reactive"
#: At most this many comms answered early at once (each waits for the main thread).
_EARLY_LIMIT = 64


def cell_state(runner: Runner, cell: CellId) -> dict[str, object] | None:
    """A cell's state as the comm sends it (None: not in the graph any more)."""
    if cell not in runner.graph and cell not in runner.states:
        return None
    return {**runner.run_state(cell),
            "label": runner.label(cell) if cell in runner.graph else None}


#: Sends one comm message on iopub for a comm the kernel has not opened yet:
#: (comm id, the parent header: its comm_open's, data).
SendEarly = Callable[[str, dict[str, Any], dict[str, object]], None]


class StatePublisher:
    """Sends cell state changes to every open ``reactive`` comm (see module doc)."""

    def __init__(self, runner: Runner, register: Callable[[str, Any], None],
                 interval: float = 0.1, send_early: SendEarly | None = None) -> None:
        self.runner = runner
        self.interval = interval
        self.comms: dict[str, Any] = {}
        #: Comms answered before the kernel opened them: comm id -> comm_open header.
        self.early: dict[str, dict[str, Any]] = {}
        self._send_early = send_early
        self._last = 0.0
        self._graph_version = -1
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        register(TARGET, self._open)

    def _open(self, comm: Any, msg: Any) -> None:
        with self._lock:
            answered = self.early.pop(comm.comm_id, None) is not None
            self.comms[comm.comm_id] = comm
            comm.on_close(lambda _msg: self.comms.pop(comm.comm_id, None))
            if not answered:
                comm.send({"type": "snapshot", **self.runner.describe()})

    def open_early(self, comm_id: str, parent: dict[str, Any]) -> None:
        """A ``comm_open`` for this target just arrived (called from the shell
        channel thread, while the main thread may be running a cell): send the
        snapshot now, and every change from now on, to ``comm_id``."""
        if self._send_early is None or len(self.early) >= _EARLY_LIMIT:
            return
        with self._lock:
            if comm_id in self.comms or comm_id in self.early:
                return
            snapshot = None
            for _attempt in range(3):
                try:  # the main thread may be changing the graph between two cells
                    snapshot = self.runner.describe()
                    break
                except RuntimeError:
                    continue
            if snapshot is None:
                return  # the main thread's open sends it, later
            self.early[comm_id] = parent
            self._send_early(comm_id, parent, {"type": "snapshot", **snapshot})

    def _listening(self) -> bool:
        return bool(self.comms or self.early)

    def _send(self, data: dict[str, object]) -> None:
        for comm in list(self.comms.values()):
            comm.send(data)
        if self.early and self._send_early is not None:
            for comm_id, parent in list(self.early.items()):
                self._send_early(comm_id, parent, data)

    def cascade(self, cause: dict[str, object], reactive: dict[str, object]) -> None:
        """A cascade no request asked for (a widget moved): its report."""
        with self._lock:
            self._send({"type": "cascade", "cause": cause, "reactive": reactive})

    def mode_changed(self, mode: str) -> None:
        with self._lock:
            self._send({"type": "mode", "mode": mode})

    def progress(self, start: bool) -> None:
        """During a cascade: send what changed, at its ``start`` (the plan) and
        then if the last send is ``interval`` old.  A cell that starts running
        right after a send is shown running ``interval`` later if it still
        runs: a timer thread sends it (comm messages go through ipykernel's
        IOPub thread, which any thread may use)."""
        if not self._listening():
            return
        if start or time.monotonic() - self._last >= self.interval:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self.flush()
        elif self._timer is None or not self._timer.is_alive():
            # One timer at a time (not one thread per cell of a fast cascade): it
            # sends whatever changed by then, at most ``interval`` from now.
            self._timer = threading.Timer(self.interval, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Send every state change not sent yet (from the kernel's thread, or the
        timer's while a cell runs: one at a time)."""
        with self._lock:
            changed = self.runner.take_changes()
            if not self._listening() or not changed:
                return
            try:
                cells = {cell: cell_state(self.runner, cell) for cell in sorted(changed)}
            except Exception:
                if threading.current_thread() is threading.main_thread():
                    raise
                # The timer's thread, while the main thread changes the graph:
                # these go with the next send (an exception here would end in
                # the running cell's output, through the thread's stderr).
                self.runner.keep_changes(changed)
                return
            self._last = time.monotonic()
            self._send({"type": "cells", "cells": cells})

    def finish(self) -> None:
        """At the end of a request: the last changes, and the graph if it changed."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()
        with self._lock:
            version = self.runner.graph.version
            if self._listening() and version != self._graph_version:
                self._graph_version = version
                self._send({"type": "graph", **self.runner.describe()})
            elif not self._listening():
                self._graph_version = -1
