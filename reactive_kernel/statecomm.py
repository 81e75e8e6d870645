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
  "runs", "label"}``; a cell deleted from the graph comes as ``null``;
- ``{"type": "graph", ...}`` when a request changed the graph (the same fields
  as the snapshot);
- ``{"type": "mode", "mode": "auto" | "lazy"}`` when the mode changes;
- ``{"type": "cascade", "cause": {"widget": comm_id, "cells": [ids]},
  "reactive": {...}}`` after a cascade that no request asked for (a widget the
  user moved, :mod:`.widgets`): ``reactive`` is what an execute_reply's
  ``metadata.reactive`` would say.

Requests go the other way on the shell channel, as ``reactive_graph_request``
(``mode``, ``run_stale``, ``order``, ``register``, ``remove``): no magic strings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .graph import CellId
from .runner import Runner

TARGET = "reactive"


def cell_state(runner: Runner, cell: CellId) -> dict[str, object] | None:
    """A cell's state as the comm sends it (None: not in the graph any more)."""
    if cell not in runner.graph and cell not in runner.states:
        return None
    return {**runner.run_state(cell),
            "label": runner.label(cell) if cell in runner.graph else None}


class StatePublisher:
    """Sends cell state changes to every open ``reactive`` comm (see module doc)."""

    def __init__(self, runner: Runner, register: Callable[[str, Any], None],
                 interval: float = 0.1) -> None:
        self.runner = runner
        self.interval = interval
        self.comms: dict[str, Any] = {}
        self._last = 0.0
        self._graph_version = -1
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        register(TARGET, self._open)

    def _open(self, comm: Any, msg: Any) -> None:
        self.comms[comm.comm_id] = comm
        comm.on_close(lambda _msg: self.comms.pop(comm.comm_id, None))
        comm.send({"type": "snapshot", **self.runner.describe()})

    def _send(self, data: dict[str, object]) -> None:
        for comm in list(self.comms.values()):
            comm.send(data)

    def cascade(self, cause: dict[str, object], reactive: dict[str, object]) -> None:
        """A cascade no request asked for (a widget moved): its report."""
        self._send({"type": "cascade", "cause": cause, "reactive": reactive})

    def mode_changed(self, mode: str) -> None:
        self._send({"type": "mode", "mode": mode})

    def progress(self, start: bool) -> None:
        """During a cascade: send what changed, at its ``start`` (the plan) and
        then if the last send is ``interval`` old.  A cell that starts running
        right after a send is shown running ``interval`` later if it still
        runs: a timer thread sends it (comm messages go through ipykernel's
        IOPub thread, which any thread may use)."""
        if not self.comms:
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
            if not self.comms or not changed:
                return
            self._last = time.monotonic()
            cells = {cell: cell_state(self.runner, cell) for cell in sorted(changed)}
            self._send({"type": "cells", "cells": cells})

    def finish(self) -> None:
        """At the end of a request: the last changes, and the graph if it changed."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.flush()
        version = self.runner.graph.version
        if self.comms and version != self._graph_version:
            self._graph_version = version
            self._send({"type": "graph", **self.runner.describe()})
        elif not self.comms:
            self._graph_version = -1
