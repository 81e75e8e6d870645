"""Kernel lifecycle and message relay, through jupyter_client (no hand-written ZMQ).

:class:`KernelHub` owns the kernels (``AsyncMultiKernelManager``), one
:class:`KernelRelay` per kernel and the notebook -> kernel mapping.  A relay
subscribes once to the kernel's iopub and broadcasts every message to every
client of that kernel; each client has its own shell/control/stdin sockets, so
replies reach only the client that asked.  The hub never parses code and keeps
no graph: the kernel owns that.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import zmq
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.multikernelmanager import AsyncMultiKernelManager
from jupyter_client.session import Session
from traitlets import Float, Instance, Int, Unicode, default
from traitlets.config import LoggingConfigurable

from .outputs import COMM_TYPES, OUTPUT_TYPES, RESET_TYPES, OutputLog
from .protocol import raw_to_json, to_json, to_v1
from .sockets import SocketReader, Verifier, connect

Deliver = Callable[[str | bytes, bool], None]  # (payload, binary)


def _dumps(value: Any) -> bytes:
    """JSON bytes of a client's message part (orjson; the stdlib for what orjson
    refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False).encode()


class ClientConnection:
    """One WebSocket client of a kernel: its own request sockets, a sink for frames."""

    def __init__(self, relay: KernelRelay, protocol: str, deliver: Deliver,
                 gone: Callable[[str], None] | None = None) -> None:
        self.relay = relay
        self.protocol = protocol  # "json" or "v1"
        self.deliver = deliver
        #: Closes the client's WebSocket, with a reason, when the kernel goes.
        self.gone = gone
        # Replies arrive by callback on the server's event loop.
        self.sockets: dict[str, SocketReader] = {}
        identity = uuid.uuid4().hex.encode()
        for channel in ("shell", "control", "stdin"):
            socket, owner = connect(relay.km, channel, identity)
            self.sockets[channel] = SocketReader(socket, owner,
                                                 self._from_kernel_on(channel))

    def _from_kernel_on(self, channel: str) -> Callable[[list[bytes]], None]:
        def from_kernel(frames: list[bytes]) -> None:
            self.relay.touch()
            self.send_frames(channel, frames)
        return from_kernel

    def send_frames(self, channel: str, frames: list[bytes], cache: dict[str, Any] | None = None
                    ) -> None:
        """Frames from the kernel, in this client's protocol (built once per
        protocol and shared by every client of a broadcast)."""
        key = self.protocol
        if cache is not None and key in cache:
            payload = cache[key]
        else:
            parts = self.relay.verified_parts(frames)
            if parts is None:
                return
            if self.protocol == "v1":
                payload = to_v1(channel, parts)
            else:
                header = cache.get("header") if cache is not None else None
                if header is None:
                    header = orjson.loads(parts[0])
                payload = raw_to_json(channel, parts, header)
            if cache is not None:
                cache[key] = payload
        self.deliver(payload, self.protocol == "v1")

    def send_message(self, channel: str, message: dict[str, Any]) -> None:
        """A message dict built by the server (e.g. a synthetic status)."""
        session = self.relay.session
        if self.protocol == "v1":
            packed = session.serialize(message)
            self.deliver(to_v1(channel, [bytes(p) for p in packed[2:6]]), True)
        else:
            self.deliver(to_json(channel, message), False)

    # Requests go straight out on the socket, signed by the kernel's Session.
    def to_kernel_json(self, channel: str, message: dict[str, Any]) -> None:
        parts = [_dumps(message[key]) for key in
                 ("header", "parent_header", "metadata", "content")]
        self.to_kernel_parts(channel, parts + list(message.get("buffers") or []))

    def to_kernel_parts(self, channel: str, parts: list[bytes]) -> None:
        reader = self.sockets[channel]
        self.relay.session.send_raw(reader.socket, parts)
        reader.after_send()

    def close(self) -> None:
        for reader in self.sockets.values():
            with contextlib.suppress(Exception):
                reader.close()
        self.sockets.clear()
        self.relay.clients.discard(self)


class KernelBusy(Exception):
    """A request that cannot be served now (the kernel is restarting, or has too
    many requests of the server's waiting)."""


class KernelStartFailed(Exception):
    """A new kernel died or did not answer ``kernel_info`` in time; it was stopped."""


class KernelGone(Exception):
    """The kernel was shut down (before or while the request waited)."""


class KernelRequests:
    """The server's own shell requests to one kernel (a notebook's cells and cell
    order), on one socket for all of them, replies matched by ``msg_id``.

    A busy kernel answers only when its run ends, and every cell edit or page load
    meanwhile adds a request: one socket per request would keep hundreds open
    (ZeroMQ allows 1023 per context, shared by every kernel's clients)."""

    def __init__(self, km: Any) -> None:
        self.session: Session = km.session
        socket, owner = connect(km, "shell", uuid.uuid4().hex.encode())
        self.reader = SocketReader(socket, owner, self._on_reply)
        self.pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def ask(self, msg_type: str, content: dict[str, Any], timeout: float
                  ) -> dict[str, Any]:
        """Send a request and await its reply's content."""
        if self.reader.closed:
            raise KernelGone("the kernel was shut down")
        message = self.session.msg(msg_type, content)
        msg_id = message["header"]["msg_id"]
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = answer
        try:
            try:
                # Never blocks the event loop: past ZeroMQ's queue (thousands of
                # requests waiting for a busy kernel), a request fails instead.
                self.reader.socket.send_multipart(self.session.serialize(message),
                                                  zmq.NOBLOCK)
            except zmq.Again:
                raise KernelBusy("the kernel has too many requests waiting; "
                                 "try again when its run ends") from None
            self.reader.after_send()
            return await asyncio.wait_for(answer, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"the kernel did not answer {msg_type} in {timeout} s") \
                from None
        finally:
            self.pending.pop(msg_id, None)

    def _on_reply(self, frames: list[bytes]) -> None:
        _idents, parts = self.session.feed_identities(frames, copy=True)
        reply = self.session.deserialize(parts, content=True)
        answer = self.pending.get(reply["parent_header"].get("msg_id"))
        if answer is not None and not answer.done():
            answer.set_result(dict(reply["content"]))

    def close(self) -> None:
        """Close the socket; what still waits for a reply fails at once."""
        self.reader.close()
        for answer in self.pending.values():
            if not answer.done():
                answer.set_exception(KernelGone("the kernel was shut down"))


class KernelRelay:
    """The shared iopub subscription of one kernel and its clients."""

    def __init__(self, hub: KernelHub, kernel_id: str, km: Any) -> None:
        self.hub = hub
        self.kernel_id = kernel_id
        self.km = km
        self.session: Session = km.session
        self.verifier = Verifier(self.session)
        self.clients: set[ClientConnection] = set()
        self.execution_state = "starting"
        #: Cells' outputs since the notebook was last saved, for clients that connect.
        self.outputs = OutputLog(hub.replay_limit)
        self._last_activity = time.time()
        socket, owner = connect(km, "iopub")
        self.iopub = SocketReader(socket, owner, self._broadcast)
        self.requests = KernelRequests(km)
        km.add_restart_callback(self._on_restart, "restart")
        km.add_restart_callback(self._on_dead, "dead")
        #: Lifecycle operations (restart, interrupt, shutdown) one at a time.
        self.lifecycle = asyncio.Lock()
        self._auto_restart: asyncio.Future[None] | None = None

    async def settled(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) for an automatic restart under way
        to finish; False if it did not."""
        pending = self._auto_restart
        if pending is None or pending.done():
            return True
        try:
            await asyncio.wait_for(asyncio.shield(pending), timeout)
        except (asyncio.TimeoutError, Exception):
            return pending.done()
        return True

    async def _restarted(self) -> None:
        """The restarter replaced the kernel: done when the manager's ``ready``
        future (a new one for each step of the restart) stays resolved, the new
        kernel answers, and its notebook's cells are registered in it."""
        while True:
            ready = self.km.ready
            await asyncio.shield(ready)
            await asyncio.sleep(0)
            if self.km.ready is ready:
                break
        await self.hub.kernel_back(self, "died")

    def touch(self) -> None:
        self._last_activity = time.time()

    @property
    def last_activity(self) -> str:
        moment = datetime.datetime.fromtimestamp(self._last_activity, datetime.timezone.utc)
        return moment.isoformat().replace("+00:00", "Z")

    def verified_parts(self, frames: list[bytes]) -> list[bytes] | None:
        """[header, parent_header, metadata, content, *buffers] of a signed kernel
        message, or None (logged) if the signature does not match."""
        parts = self.verifier.parts(frames)
        if parts is None:
            self.hub.log.warning("Dropping a message with a bad signature from %s",
                                 self.kernel_id)
        return parts

    def _broadcast(self, frames: list[bytes]) -> None:
        """One iopub message to every client (encoded once per protocol)."""
        self.touch()
        parts = self.verified_parts(frames)
        if parts is None:
            return
        header = orjson.loads(parts[0])
        msg_type = header.get("msg_type")
        if msg_type == "status":
            state = orjson.loads(parts[3]).get("execution_state")
            self.execution_state = state or self.execution_state
        elif msg_type in OUTPUT_TYPES or msg_type in RESET_TYPES:
            self.outputs.feed(msg_type, parts[2], parts[3], parent=parts[1])
        elif msg_type in COMM_TYPES:
            self.outputs.comm(msg_type, parts[3])
        cache: dict[str, Any] = {"header": header}
        for client in list(self.clients):
            try:
                client.send_frames("iopub", frames, cache)
            except Exception:  # one broken client must not stop the others
                self.hub.log.warning("Dropping a client of %s", self.kernel_id, exc_info=True)
                client.close()

    def broadcast_status(self, state: str, reason: str) -> None:
        """A status the kernel cannot send itself (restarting, dead), with why:
        ``reason`` is "died" (the restarter found it dead), "requested" (a restart
        asked for through the REST API) or "shutdown"."""
        self.execution_state = state
        message = self.session.msg("status", {"execution_state": state, "reason": reason})
        for client in list(self.clients):
            client.send_message("iopub", message)

    def broadcast_server(self, msg_type: str, content: dict[str, Any]) -> None:
        """A server notice (not a kernel message) to JSON clients, e.g. a notebook
        edit another tab made; v1 clients (JupyterLab) do not expect text frames."""
        payload = json.dumps({"channel": "server", "msg_type": msg_type,
                              "header": {"msg_type": msg_type}, "content": content})
        for client in list(self.clients):
            if client.protocol == "json":
                client.deliver(payload, False)

    def attach(self, protocol: str, deliver: Deliver,
               gone: Callable[[str], None] | None = None) -> ClientConnection:
        """A new client; ``gone`` closes it (with a reason) when the kernel goes."""
        client = ClientConnection(self, protocol, deliver, gone)
        self.clients.add(client)
        return client

    def _on_restart(self) -> None:
        self.hub.log.warning("Kernel %s died; restarting it", self.kernel_id)
        self.broadcast_status("restarting", "died")
        # Called just before the restarter restarts the kernel: what asks for a
        # restart, interrupt or shutdown meanwhile waits for it (jupyter_client's
        # manager does not take two at once).
        self._auto_restart = asyncio.ensure_future(self._restarted())

    def _on_dead(self) -> None:
        self.hub.log.error("Kernel %s died and will not be restarted", self.kernel_id)
        self.broadcast_status("dead", "died")

    def close(self, reason: str = "the kernel is gone") -> None:
        """Stop relaying: each client's WebSocket is closed with ``reason``."""
        for client in list(self.clients):
            client.close()
            if client.gone is not None:
                with contextlib.suppress(Exception):
                    client.gone(reason)
        with contextlib.suppress(Exception):
            self.iopub.close()
        self.requests.close()


class _NotebookLock:
    """A notebook path's lock, and how many hold it or wait for it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class KernelHub(LoggingConfigurable):
    """Owns kernels and their relays; maps notebooks to kernels."""

    kernel_name = Unicode("reactive", help="Kernelspec for new kernels.").tag(config=True)
    ready_timeout = Float(60.0, help="Seconds a new kernel has to answer kernel_info "
                          "before it is stopped and the start reported failed.").tag(config=True)
    replay_limit = Int(32 * 2**20, help="Bytes of output messages kept per kernel for "
                       "clients that connect later (a page reloaded during a run): "
                       "those of runs since the notebook was last saved. Past it, the "
                       "least recently changed cells are dropped and reported lost."
                       ).tag(config=True)
    root_dir = Unicode("", help="The notebooks' root: a notebook's kernel starts in the "
                       "notebook's directory under it (relative paths in its cells work "
                       "as in JupyterLab), other kernels in the root itself.").tag(config=True)
    manager = Instance(AsyncMultiKernelManager)

    specs = Instance(KernelSpecManager)

    @default("specs")
    def _default_specs(self) -> KernelSpecManager:
        return KernelSpecManager(parent=self)

    @default("manager")
    def _default_manager(self) -> AsyncMultiKernelManager:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime = jupyter_runtime_dir()
        os.makedirs(runtime, exist_ok=True)
        return AsyncMultiKernelManager(
            parent=self,
            connection_dir=runtime,  # connection files live in the Jupyter runtime dir
            kernel_spec_manager=self.specs,
            default_kernel_name=self.kernel_name,
            kernel_manager_class="jupyter_client.ioloop.AsyncIOLoopKernelManager",
        )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: A notebook's ``reactive_graph_request`` registering its saved cells, and
        #: the version of the file they come from (set by the app: the store).
        self.notebook_cells: Callable[[str], Awaitable[tuple[dict[str, Any], str]]] | None \
            = None
        self.relays: dict[str, KernelRelay] = {}
        #: Each open notebook's kernel, by the notebook's path (the one record of
        #: which kernel is whose: :meth:`notebook_of` reads it the other way).
        self.notebook_kernels: dict[str, str] = {}
        self._locks: dict[str, _NotebookLock] = {}

    # -- lifecycle -------------------------------------------------------------

    async def start_kernel(self, name: str | None = None, cwd: str | None = None) -> str:
        cwd = cwd or self.root_dir or None
        kernel_id = await self.manager.start_kernel(kernel_name=name or self.kernel_name,
                                                    **({"cwd": cwd} if cwd else {}))
        km = self.manager.get_kernel(kernel_id)
        km.start_restarter()  # polls every KernelRestarter.time_to_dead seconds
        self.relays[kernel_id] = KernelRelay(self, kernel_id, km)
        try:
            await self.wait_ready(kernel_id)
        except KernelStartFailed:
            relay = self.relays.pop(kernel_id)
            relay.close()
            with contextlib.suppress(Exception):
                await self.manager.shutdown_kernel(kernel_id, now=True)
            raise
        return kernel_id

    async def wait_ready(self, kernel_id: str) -> None:
        """Until the kernel answers ``kernel_info``; :class:`KernelStartFailed` if its
        process dies first or ``ready_timeout`` passes."""
        client = self.manager.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=self.ready_timeout)
        except RuntimeError as err:  # jupyter_client: died, or no answer in time
            died = "died" in str(err)
            raise KernelStartFailed(
                "the kernel's process ended before it answered" if died else
                f"the kernel did not answer kernel_info within {self.ready_timeout:g} s"
            ) from None
        finally:
            client.stop_channels()

    def notebook_of(self, kernel_id: str) -> str | None:
        """The path of the notebook whose kernel this is, if any."""
        return next((path for path, kernel in self.notebook_kernels.items()
                     if kernel == kernel_id), None)

    def has(self, kernel_id: str) -> bool:
        return kernel_id in self.relays

    def model(self, kernel_id: str) -> dict[str, Any]:
        relay = self.relays[kernel_id]
        km = relay.km
        return {
            "id": kernel_id,
            "name": km.kernel_name,
            "last_activity": relay.last_activity,
            "execution_state": relay.execution_state,
            "connections": len(relay.clients),
            "notebook": self.notebook_of(kernel_id),
        }

    def models(self) -> list[dict[str, Any]]:
        return [self.model(k) for k in list(self.relays)]

    settle_timeout = Float(30.0, help="Seconds a restart, interrupt or shutdown waits "
                           "for one under way (a restart, a slow start) before it is "
                           "answered 409.").tag(config=True)

    async def _settle(self, relay: KernelRelay) -> None:
        if not await relay.settled(self.settle_timeout):
            raise KernelBusy("the kernel is still restarting; try again in a moment")

    @contextlib.asynccontextmanager
    async def _lifecycle(self, kernel_id: str) -> AsyncIterator[KernelRelay]:
        """The kernel's relay, its lifecycle operations held for the caller
        once the one under way (another client's restart, a slow start) ends:
        :class:`KernelBusy` after ``settle_timeout`` seconds, :class:`KernelGone`
        if the kernel was shut down meanwhile."""
        relay = self.relays.get(kernel_id)
        if relay is None:
            raise KernelGone(f"no kernel {kernel_id}")
        try:
            await asyncio.wait_for(relay.lifecycle.acquire(), self.settle_timeout)
        except asyncio.TimeoutError:
            raise KernelBusy("the kernel is still starting or restarting; "
                             "try again in a moment") from None
        try:
            if self.relays.get(kernel_id) is not relay:
                raise KernelGone(f"kernel {kernel_id} was shut down")
            yield relay
        finally:
            relay.lifecycle.release()

    async def interrupt(self, kernel_id: str) -> None:
        async with self._lifecycle(kernel_id) as relay:
            await self._settle(relay)
            await self.manager.interrupt_kernel(kernel_id)

    async def restart(self, kernel_id: str) -> dict[str, Any]:
        """Restart the kernel; what :meth:`kernel_back` told the clients."""
        async with self._lifecycle(kernel_id) as relay:
            await self._settle(relay)
            relay.broadcast_status("restarting", "requested")
            await self.manager.restart_kernel(kernel_id)
            return await self.kernel_back(relay, "requested")

    async def kernel_back(self, relay: KernelRelay, reason: str) -> dict[str, Any]:
        """After a restart (``reason``: "requested" or "died"): once the new kernel
        answers, its notebook's saved cells go into its graph (nothing runs), once
        for all the notebook's clients, and every client hears ``kernel_ready``
        (``{"reason", "registered", "version"}``: whether the cells are in, from
        which version of the file)."""
        registered = None
        relay.outputs.new_kernel()
        try:
            await self.wait_ready(relay.kernel_id)
            registered = await self.register_notebook(relay.kernel_id)
        except Exception:
            self.log.warning("Could not register the notebook's cells in kernel %s",
                             relay.kernel_id, exc_info=True)
        notice = {"reason": reason, "registered": registered is not None,
                  "version": registered[1] if registered is not None else None}
        relay.broadcast_server("kernel_ready", notice)
        return notice

    async def register_notebook(self, kernel_id: str, timeout: float = 30
                                ) -> tuple[dict[str, Any], str] | None:
        """The notebook's saved cells into its kernel's graph, in notebook order,
        nothing run: the graph reply and the file's version, or None if the kernel
        is no notebook's or not a reactive kernel."""
        path = self.notebook_of(kernel_id)
        relay = self.relays.get(kernel_id)
        if path is None or relay is None or self.notebook_cells is None \
                or relay.km.kernel_name != "reactive":
            return None
        content, version = await self.notebook_cells(path)
        return await self.request(kernel_id, "reactive_graph_request", content,
                                  timeout=timeout), version

    async def shutdown(self, kernel_id: str) -> None:
        try:
            async with self._lifecycle(kernel_id) as relay:
                with contextlib.suppress(KernelBusy):
                    await self._settle(relay)  # a shutdown goes ahead regardless
                await self._shutdown(kernel_id)
        except KernelGone:
            return  # shut down meanwhile (two clients at once)

    async def _shutdown(self, kernel_id: str) -> None:
        relay = self.relays.pop(kernel_id)
        relay.broadcast_status("dead", "shutdown")
        relay.close("the kernel was shut down")
        notebook = self.notebook_of(kernel_id)
        if notebook is not None:
            del self.notebook_kernels[notebook]
        # A shutdown_request first (killed after KernelManager.shutdown_wait_time), so
        # the kernel exits cleanly: IPython writes out its input history at exit.
        try:
            await self.manager.shutdown_kernel(kernel_id, now=False)
        except Exception:
            # A kernel whose (re)start failed: jupyter_client's manager may not
            # take a clean shutdown then (its ready future unset); stop it hard.
            self.log.warning("Kernel %s did not shut down cleanly; stopping it",
                             kernel_id, exc_info=True)
            with contextlib.suppress(Exception):
                await self.manager.get_kernel(kernel_id).shutdown_kernel(now=True)
            with contextlib.suppress(Exception):
                self.manager.remove_kernel(kernel_id)

    async def shutdown_all(self) -> None:
        async def one(kernel_id: str) -> None:
            with contextlib.suppress(Exception):
                await self.shutdown(kernel_id)

        await asyncio.gather(*(one(k) for k in list(self.relays)))

    # -- notebooks -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def notebook_lock(self, path: str) -> AsyncIterator[None]:
        """One change at a time to which kernel the notebook at ``path`` has: its
        kernel's start (:meth:`kernel_for_notebook`), the notebook's rename or delete.
        A delete or rename during a start waits for it, then finds the kernel to shut
        down or to take along, instead of leaving it mapped to a name that is gone."""
        entry = self._locks.setdefault(path, _NotebookLock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if not entry.users:  # no lock kept for every name ever used
                del self._locks[path]

    async def kernel_for_notebook(self, path: str) -> tuple[str, bool]:
        """The notebook's kernel, started if needed: (kernel id, started now). The
        caller holds :meth:`notebook_lock` for ``path``.

        A kernel that died is waited for while the restarter brings it back (a page
        opened meanwhile gets it, not a second kernel); one the restarter gave up on
        is shut down and replaced. :class:`KernelBusy` if it is not back in time."""
        kernel_id = self.notebook_kernels.get(path)
        if kernel_id is not None and kernel_id in self.relays:
            if await self._back_from_restarts(self.relays[kernel_id]):
                return kernel_id, False
            await self.shutdown(kernel_id)
        kernel_id = await self.start_kernel(cwd=self._directory_of(path))
        self.notebook_kernels[path] = kernel_id
        return kernel_id, True

    async def _back_from_restarts(self, relay: KernelRelay) -> bool:
        """Whether the kernel is alive once the automatic restart under way, or about
        to start, is over (at most ``settle_timeout`` seconds); False if it died for
        good (the restarter gave up); :class:`KernelBusy` if it is not back by then."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        while True:
            if not await relay.settled(deadline - loop.time()):
                raise KernelBusy("the notebook's kernel is still restarting; "
                                 "try again in a moment")
            if await relay.km.is_alive():
                return True
            if relay.execution_state == "dead":  # set when the restarter gives up
                return False
            if loop.time() >= deadline:
                raise KernelBusy("the notebook's kernel died and has not restarted yet; "
                                 "try again in a moment")
            # Its process ended and the restarter (which looks every
            # KernelRestarter.time_to_dead seconds) has not started a new one yet.
            await asyncio.sleep(0.1)

    def _directory_of(self, path: str) -> str | None:
        """The directory of the notebook at ``path`` (relative to the root), if the
        root is known and the directory is inside it."""
        if not self.root_dir:
            return None
        root = Path(self.root_dir).resolve()
        directory = (root / path).parent.resolve()
        return str(directory) if directory.is_relative_to(root) and directory.is_dir() else None

    def notebook_saved(self, path: str, version: str, cleared: Iterable[str] = ()) -> None:
        """A client saved the whole notebook, outputs included: the outputs its
        kernel keeps for clients that connect later need go back no further, and
        none at all for the cells whose outputs the client cleared."""
        kernel_id = self.notebook_kernels.get(path)
        relay = self.relays.get(kernel_id) if kernel_id else None
        if relay is not None:
            relay.outputs.saved(version, cleared=cleared)

    def notebook_changed(self, path: str, version: str, origin: str | None = None) -> None:
        """Tell every client of the notebook's kernel that the file changed."""
        kernel_id = self.notebook_kernels.get(path)
        relay = self.relays.get(kernel_id) if kernel_id else None
        if relay is not None:
            relay.broadcast_server("notebook_changed",
                                   {"path": path, "version": version, "origin": origin})

    def rename_notebook(self, old: str, new: str, version: str,
                        origin: str | None = None) -> None:
        """The notebook's kernel follows its new name, and every client of it hears
        (``notebook_renamed``), so other tabs save under the new name."""
        kernel_id = self.notebook_kernels.pop(old, None)
        if kernel_id is None:
            return
        self.notebook_kernels[new] = kernel_id
        relay = self.relays.get(kernel_id)
        if relay is not None:
            relay.broadcast_server("notebook_renamed", {"path": old, "new_path": new,
                                                        "version": version, "origin": origin})

    # -- requests of the server's own ------------------------------------------

    async def request(self, kernel_id: str, msg_type: str, content: dict[str, Any],
                      timeout: float = 30) -> dict[str, Any]:
        """Send a shell request on the kernel's request socket and await its reply."""
        return await self.relays[kernel_id].requests.ask(msg_type, content, timeout)
