"""The relay's kernel sockets on the asyncio event loop, and its fast signature check.

jupyter_client makes and connects every socket (the kernel's URL, the socket type,
the iopub subscription, the client's identity): :func:`connect` only asks it for
one.  :class:`SocketReader` then does what pyzmq's ``ZMQStream`` does for a socket
that is only read by callback, for less: a ``ZMQStream`` takes two turns of the
event loop and a dozen socket-option lookups through pyzmq's Python attribute
layer per message, and the relay handles every message a kernel publishes (a
cascade is hundreds), so that overhead was most of the server's CPU per request.

A ZMQ socket's file descriptor is edge-triggered: it signals when the socket's
state *changes*, and only reading ``EVENTS`` re-arms it.  So the reader reads
until ``EVENTS`` says nothing is left (or a bound is reached, then yields the loop
and carries on), and a send on the socket (which can consume the edge of a reply
that arrived meanwhile) is followed by :meth:`SocketReader.after_send`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import Any

import zmq
from jupyter_client.connect import ConnectionFileMixin
from jupyter_client.session import DELIM, Session

log = logging.getLogger(__name__)

OnMessage = Callable[[list[bytes]], None]


def connect(km: Any, channel: str, identity: bytes | None = None) -> tuple[zmq.Socket, Any]:
    """A socket on one of ``km``'s kernel channels, made and connected by jupyter_client.

    The kernel manager's own ``connect_*`` (its IOLoop flavour) would wrap the socket
    in a ``ZMQStream``; the connection mixin's plain method returns the socket itself
    (of the manager's context's class, here an asyncio socket).  Returns a blocking
    shadow of it, for non-blocking reads and writes on the event loop, and the
    original, which owns the underlying socket and is what to close.
    """
    made = getattr(ConnectionFileMixin, f"connect_{channel}")(km, identity=identity)
    return zmq.Socket.shadow(made.underlying), made


class SocketReader:
    """Hands every whole message arriving on ``socket`` to ``on_message`` (frames as
    bytes, in order), on the running asyncio loop, until :meth:`close`."""

    #: Most messages read in one callback before other work gets a turn.
    limit = 256

    def __init__(self, socket: zmq.Socket, owner: Any, on_message: OnMessage) -> None:
        self.socket = socket
        self.owner = owner
        self.on_message = on_message
        self.loop = asyncio.get_running_loop()
        self.fd = socket.get(zmq.FD)
        self.closed = False
        self.loop.add_reader(self.fd, self.ready)
        self.loop.call_soon(self.ready)  # anything that came before the reader

    def ready(self) -> None:
        sock = self.socket
        for _ in range(self.limit):
            if self.closed or not sock.get(zmq.EVENTS) & zmq.POLLIN:
                return
            frames = [sock.recv(zmq.NOBLOCK)]
            while sock.get(zmq.RCVMORE):
                frames.append(sock.recv(zmq.NOBLOCK))
            try:
                self.on_message(frames)
            except Exception:  # one bad message must not stop the reading
                log.warning("Could not handle a kernel message", exc_info=True)
        self.loop.call_soon(self.ready)  # more is waiting: after the others' turn

    def after_send(self) -> None:
        """After a send on the socket: read what arrived meanwhile (see module doc)."""
        if not self.closed and self.socket.get(zmq.EVENTS) & zmq.POLLIN:
            self.loop.call_soon(self.ready)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.loop.remove_reader(self.fd)
        except RuntimeError:  # the loop is closed already (server shutdown)
            pass
        finally:
            self.owner.close(linger=0)  # the socket goes whatever the loop's state


class Verifier:
    """Checks the HMAC of a kernel's messages with ``session``'s key and scheme.

    (``Session.sign`` feeds a copy of its HMAC part by part.  ``hmac.digest`` over the
    joined parts gives the same signature but releases the GIL around OpenSSL even
    for a few bytes, and then waits up to a thread switch interval to get it back
    whenever another thread wants it.)
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def parts(self, frames: list[bytes]) -> list[bytes] | None:
        """[header, parent_header, metadata, content, *buffers], or None if the
        frames are not a message or its signature does not match."""
        try:
            start = frames.index(DELIM)
        except ValueError:
            return None
        parts = frames[start + 2:]
        if len(parts) < 4:
            return None
        if self.session.auth is not None:
            expected = self.session.sign(parts[:4])
            if not hmac.compare_digest(expected, frames[start + 1]):
                return None
        return parts
