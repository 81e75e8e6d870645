"""Cheaper IOPub sends: coalesced hand-offs, and a lent socket during cascades.

ipykernel sends every iopub message from its IOPub thread: a send from any
thread appends a callback to the thread's queue and wakes it through an
inproc "event pipe".  A cascade publishes a ``clear_output`` and a
``stream`` per re-run cell, a fraction of a millisecond apart, and handing
each one over cost more than running the cell: a wake-up, a fight for the
GIL, and ipykernel's generic send path on a thread whose caches are cold.

:func:`install` replaces the thread's ``send_multipart`` (and ``schedule``)
with a :class:`CoalescingSender`:

- on the IOPub thread, a message is sent at once (after anything queued);
- from other threads, it is appended to a queue, and the thread is woken
  only if no wake-up is already on its way: one wake-up sends everything
  queued by then;
- a thread that *borrowed* the socket (:meth:`CoalescingSender.borrow`, the
  kernel does it for a cascade) sends on it itself, in batches: a batch
  leaves when it holds :attr:`~CoalescingSender.batch_size` messages, when
  its first message is :attr:`~CoalescingSender.batch_delay` seconds old,
  and when the socket is given back.

While the socket is lent, the IOPub thread waits inside one of its own
callbacks and touches nothing, so the socket is used by one thread at a
time, always under ``_socket_lock`` (whose acquire and release are the
memory barriers ZMQ asks for when a socket changes threads).  The waiting
thread wakes every ``batch_delay`` to send a batch that got old (a long
cell in the middle of a cascade), and takes the socket back after at most
:attr:`~CoalescingSender.lend_for` seconds, then runs what was scheduled
meanwhile (timer flushes of a long cell's text, other threads' outputs, new
subscribers); the borrower goes back to queueing and may borrow again.
``OutStream.flush`` called by the borrower flushes directly (see
:func:`flush_directly`): waiting for the parked thread would be slow.

Messages of one thread leave in the order they were sent; in particular a
cell's ``clear_output`` is always sent before that cell's stream text.
Forked subprocesses and a stopped thread keep ipykernel's path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import zmq
from zmq.backend import Socket as _BackendSocket

_backend_send = _BackendSocket.send
_Send = tuple[tuple[Any, ...], dict[str, Any]]

log = logging.getLogger(__name__)


class CoalescingSender:
    """Replacement for ``IOPubThread.send_multipart`` (see module docstring)."""

    #: Longest time the IOPub thread lends its socket at once (seconds).
    lend_for = 0.05
    #: A borrower's batch leaves when it is this old (seconds) ...
    batch_delay = 0.005
    #: ... or holds this many messages.
    batch_size = 64

    def __init__(self, io_thread: Any) -> None:
        self._io = io_thread
        self._original: Callable[..., Any] = io_thread.send_multipart
        self._original_schedule: Callable[..., Any] = io_thread.schedule
        self._lock = threading.Lock()
        self._queue: list[_Send] = []
        self._wake_pending = False
        self._draining = False
        # Whoever uses the socket holds this while it may be lent.
        self._socket_lock = threading.RLock()
        self._lent = threading.Condition(threading.Lock())
        self._borrower: int | None = None  # thread ident, only while lent
        self._lending = False  # the IOPub thread waits in _lend
        self._returned = True  # no borrow is asked for or under way
        self._asker: int | None = None  # the thread that asked for it
        self._batch: list[_Send] = []
        self._batch_started = 0.0
        self._deferred = 0  # callbacks queued without a wake-up while lent
        self._completed = False  # an interrupted send finished its message

    def _after_fork_in_child(self) -> None:
        """A forked child (multiprocessing in a cell) owns nothing of the parent's:
        it must not use the socket, whatever the parent was doing."""
        self._lock = threading.Lock()
        self._queue = []
        self._wake_pending = self._draining = False
        self._socket_lock = threading.RLock()
        self._lent = threading.Condition(threading.Lock())
        self._borrower = self._asker = None
        self._lending, self._returned = False, True
        self._batch = []
        self._deferred = 0

    # -- sending ------------------------------------------------------------

    def _usable(self) -> bool:
        io = self._io
        thread = io.thread
        return bool(thread is not None and thread.is_alive() and io._is_master_process())

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        me = threading.get_ident()
        if me == self._borrower:
            with self._socket_lock:
                if me == self._borrower:
                    batch = self._batch
                    if not batch:
                        self._batch_started = time.monotonic()
                    batch.append((args, kwargs))
                    if (
                        len(batch) >= self.batch_size
                        or time.monotonic() - self._batch_started >= self.batch_delay
                    ):
                        self._send_batch_locked()
                    return
        io = self._io
        if not self._usable():
            self._original(*args, **kwargs)
            return
        if me == io.thread.ident:
            with self._socket_lock:
                self._drain_locked()
                self._send_now(args, kwargs)
            return
        with self._lock:
            self._queue.append((args, kwargs))
            if self._wake_pending:
                return
            self._wake_pending = True
        try:
            self.schedule(self._drain)
        except BaseException:  # e.g. an interrupt: the next send wakes it
            with self._lock:
                self._wake_pending = False
            raise

    def _drain(self) -> None:
        """On the IOPub thread: send everything queued, in order."""
        with self._socket_lock:
            self._drain_locked()

    def _drain_locked(self) -> None:
        with self._lock:
            queue, self._queue = self._queue, []
            self._wake_pending = False
            self._draining = bool(queue)
        sent = 0
        try:
            for args, kwargs in queue:
                self._send_now(args, kwargs)
                sent += 1
        except BaseException:  # keep what was not sent, in order
            if self._completed:
                sent += 1
            self._completed = False
            with self._lock:
                self._queue[:0] = queue[sent:]
            raise
        finally:
            self._draining = False

    def _send_batch_locked(self) -> None:
        """Send other threads' queue, then the borrower's batch (socket lock held)."""
        self._drain_locked()
        batch, self._batch = self._batch, []
        sent = 0
        try:
            for args, kwargs in batch:
                self._send_now(args, kwargs)
                sent += 1
        except BaseException:  # e.g. Ctrl-C on the borrowing main thread
            if self._completed:  # the interrupted message was finished
                sent += 1
            self._completed = False
            self._batch[:0] = batch[sent:]
            raise

    def _send_now(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``IOPubThread._really_send``, cheaper: one call per frame into pyzmq's
        compiled ``send`` (``send_multipart`` and the Python-level ``send`` cost
        several times more than the send itself for small frames)."""
        io = self._io
        sock = io.socket
        if len(args) != 1 or set(kwargs) - {"copy"} or not isinstance(sock, _BackendSocket):
            io._really_send(*args, **kwargs)
            return
        parts = args[0]
        copy = kwargs.get("copy", True)
        send = _backend_send
        last = len(parts) - 1
        done = 0
        try:
            while done < last:
                send(sock, parts[done], zmq.SNDMORE, copy)
                done += 1
            send(sock, parts[last], 0, copy)
        except zmq.ZMQError as err:  # the socket closed under us (shutdown)
            log.debug("iopub message not sent: %s", err)
        except BaseException:
            # A Ctrl-C on the main thread between two frames (raised where the
            # loop jumps back: parts[:done] are sent): finish the message, or
            # its first frames would be glued to the next one.
            if done:
                with contextlib.suppress(zmq.ZMQError):
                    for part in parts[done:last]:
                        send(sock, part, zmq.SNDMORE, copy)
                    send(sock, parts[last], 0, copy)
                self._completed = True
            raise

    def schedule(self, f: Callable[[], Any]) -> None:
        """Replacement for ``IOPubThread.schedule``: while the thread is parked
        lending its socket, callbacks wait in its queue without a wake-up
        each; it runs them when it takes the socket back."""
        with self._lent:
            if self._lending:
                self._io._events.append(f)
                self._deferred += 1
                return
        self._original_schedule(f)

    def settled(self) -> bool:
        """Nothing queued, batched or being drained, and the socket not lent."""
        return not (self._queue or self._batch or self._draining or self._lending)

    # -- lending the socket ---------------------------------------------------

    def owns_socket(self) -> bool:
        """Whether the calling thread may send on the socket right now."""
        return self._borrower is not None and self._borrower == threading.get_ident()

    def asked_by_me(self) -> bool:
        """Whether the calling thread asked for the socket and did not get it yet."""
        return (
            not self._returned and self._borrower is None
            and self._asker == threading.get_ident()
        )

    def holding(self) -> contextlib.AbstractContextManager[Any]:
        """Keep the socket (if this thread borrowed it) for a few sends in a row."""
        return self._socket_lock if self.owns_socket() else contextlib.nullcontext()

    def ask(self) -> bool:
        """Ask the IOPub thread to lend its socket to the calling thread soon,
        without waiting (a later :meth:`borrow` finds it parked, or waits for
        it).  False if the socket is asked for or lent by another thread."""
        if self.owns_socket():
            return True
        if not self._usable() or self._io.thread.ident == threading.get_ident():
            return False
        me = threading.get_ident()
        with self._lent:
            if not self._returned:
                return self._asker == me
            self._returned = False
            self._asker = me
        try:
            self._original_schedule(self._lend)
        except BaseException:
            with self._lent:
                self._returned = True
            raise
        return True

    def borrow(self, timeout: float = 0.5) -> bool:
        """Borrow the socket for the calling thread; True if it now owns it.

        Cheap when the thread already owns it.  Waits for the IOPub thread to
        park (at most ``timeout``); if it is busy for longer, or the socket is
        lent to another thread, the caller just keeps queueing.
        """
        if self.owns_socket():
            return True
        if not self.ask():
            return False
        deadline = time.monotonic() + timeout
        with self._lent:
            while not self._lending and not self._returned:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._returned = True  # _lend will not wait when it runs
                    return False
                self._lent.wait(left)
            if self._returned:
                return False
            with self._socket_lock:
                self._borrower = threading.get_ident()
        return True

    def give_back(self) -> None:
        """End a borrow (send what is batched) or withdraw an :meth:`ask`;
        no-op if the calling thread neither owns nor asked for the socket."""
        me = threading.get_ident()
        with self._lent:
            try:
                if self._borrower is not None and self._borrower == me:
                    with self._socket_lock:
                        try:
                            self._send_batch_locked()
                        finally:  # an interrupt: the IOPub thread sends the rest
                            self._borrower = None
                elif self._asker != me or self._returned:
                    return
            finally:
                if self._borrower is None and (self._asker == me or not self._returned):
                    self._returned = True
                    self._asker = None
                    self._lent.notify_all()

    def _lend(self) -> None:
        """On the IOPub thread: lend the socket, wait, take it back."""
        with self._lent:
            if self._returned:
                return
            self._lending = True
            self._lent.notify_all()
            until = time.monotonic() + self.lend_for
            while not self._returned:
                left = until - time.monotonic()
                if left <= 0:
                    break
                self._lent.wait(min(left, self.batch_delay))
                if self._batch and time.monotonic() - self._batch_started >= self.batch_delay:
                    with self._socket_lock:  # the borrower is in a long cell
                        if self._batch:
                            self._send_batch_locked()
            with self._socket_lock:
                self._send_batch_locked()
                self._borrower = None
            self._returned = True
            self._lending = False
            self._lent.notify_all()
            deferred, self._deferred = self._deferred, 0
        if deferred:
            # What was scheduled meanwhile is in the thread's queue, in order,
            # without a wake-up of its own: one wake-up runs it all (running it
            # here would take events from under ipykernel's own handler).
            self._original_schedule(_nothing)
        # The borrower's sends may have used up the edge of the socket's file
        # descriptor (a new subscriber): look for one now.
        stream = getattr(self._io, "_xpub_stream", None)
        if stream is not None:
            with contextlib.suppress(Exception):
                if stream.socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
                    stream.io_loop.add_callback(stream.flush, zmq.POLLIN)


def _nothing() -> None:
    """A wake-up of the IOPub thread, for the callbacks queued before it."""


def flush_directly(stream: Any, sender: CoalescingSender) -> None:
    """Make ``stream.flush()`` (an ``OutStream``) cheaper.

    ipykernel's flush hands the flush to the IOPub thread and waits for it
    (twice per request, after every execution).  Instead:

    - called by the thread that borrowed the iopub socket, it flushes at
      once (the IOPub thread is parked: waiting for it would be slow);
    - with nothing written since the last flush and no message waiting to
      be sent, it returns at once;
    - otherwise it is ipykernel's flush.
    """
    if "flush" in vars(stream):
        return  # already wrapped (or replaced by someone else)
    original = stream.flush

    def flush() -> None:
        if sender.asked_by_me():
            sender.borrow()  # e.g. a cascade's trigger: the lend is on its way
        if sender.owns_socket():
            with sender.holding():
                stream._flush()
        elif stream.echo is None and not stream._buffers and sender.settled():
            return  # nothing written, nothing queued: no round trip to the thread
        else:
            original()

    stream.flush = flush


def install(io_thread: Any) -> CoalescingSender | None:
    """Make ``io_thread`` coalesce its wake-ups; None if this ipykernel differs."""
    needed = ("_really_send", "schedule", "_is_master_process", "thread", "_events", "socket")
    if not all(hasattr(io_thread, name) for name in needed):
        return None
    current = getattr(io_thread, "send_multipart", None)
    if isinstance(current, CoalescingSender):
        return current
    sender = CoalescingSender(io_thread)
    io_thread.send_multipart = sender
    io_thread.schedule = sender.schedule
    os.register_at_fork(after_in_child=sender._after_fork_in_child)
    return sender
