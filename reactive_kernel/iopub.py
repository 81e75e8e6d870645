"""Cheaper IOPub sends: coalesced hand-offs to ipykernel's IOPub thread.

ipykernel sends every iopub message from its IOPub thread: a send from any
thread appends a callback to the thread's queue and wakes it through an
inproc "event pipe"; even ``OutStream``'s flush, which already runs on the
IOPub thread, goes through the pipe again.  A cascade publishes a
``clear_output`` and a ``stream`` per re-run cell, so each wake-up (a pipe
message, a ZMQStream dispatch, a GIL hand-over) cost more than the cell.

:func:`install` replaces the thread's ``send_multipart`` so that

- on the IOPub thread, a message is sent at once (after anything queued);
- from other threads, it is appended to a queue, and the thread is woken
  only if no wake-up is already on its way: one wake-up sends everything
  queued by then.

Messages leave in the order ``send_multipart`` was called, whatever the
thread, which is what ipykernel guarantees too: a cell's ``clear_output``
is always sent before that cell's stream text, even when ``OutStream``
flushes from a timer on the IOPub thread, because such a send first empties
the queue.  Forked subprocesses and a stopped thread keep ipykernel's path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_Send = tuple[tuple[Any, ...], dict[str, Any]]


class CoalescingSender:
    """Replacement for ``IOPubThread.send_multipart`` (see module docstring)."""

    def __init__(self, io_thread: Any) -> None:
        self._io = io_thread
        self._original: Callable[..., Any] = io_thread.send_multipart
        self._lock = threading.Lock()
        self._queue: list[_Send] = []
        self._wake_pending = False

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        io = self._io
        thread = io.thread
        if thread is None or not thread.is_alive() or not io._is_master_process():
            self._original(*args, **kwargs)
            return
        if thread.ident == threading.get_ident():
            self._drain()
            io._really_send(*args, **kwargs)
            return
        with self._lock:
            self._queue.append((args, kwargs))
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            io.schedule(self._drain)
        except BaseException:  # e.g. an interrupt: the next send wakes it
            with self._lock:
                self._wake_pending = False
            raise

    def _drain(self) -> None:
        """On the IOPub thread: send everything queued, in order."""
        with self._lock:
            queue, self._queue = self._queue, []
            self._wake_pending = False
        for args, kwargs in queue:
            self._io._really_send(*args, **kwargs)


def install(io_thread: Any) -> bool:
    """Make ``io_thread`` coalesce its wake-ups; False if this ipykernel differs."""
    needed = ("_really_send", "schedule", "_is_master_process", "thread")
    if not all(hasattr(io_thread, name) for name in needed):
        return False
    if isinstance(getattr(io_thread, "send_multipart", None), CoalescingSender):
        return True
    io_thread.send_multipart = CoalescingSender(io_thread)
    return True
