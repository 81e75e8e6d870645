"""HTTP and WebSocket handlers: kernelspecs, kernels, notebooks, the channels socket.

Every REST and WebSocket endpoint needs the token (``Authorization: token T``;
WebSockets may pass ``?token=T`` instead).  Errors are JSON without tracebacks.
WebSocket upgrades must come from the server's own origin or the allow-list.
No cookies are used, so there is nothing for a cross-site request to ride on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hmac
import json
import logging
import mimetypes
import struct
import time
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from tornado import web, websocket
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from .kernels import ClientConnection, KernelBusy, KernelGone, KernelHub, KernelStartFailed
from .notebooks import NotebookStore, StoreError, kernel_registration
from .protocol import (
    BATCH_SUBPROTOCOL,
    CLIENT_CHANNELS,
    V1_SUBPROTOCOL,
    ProtocolError,
    from_json,
    from_v1,
    server_error,
    v1_parts_are_json,
)


def token_ok(handler: web.RequestHandler, allow_query: bool) -> bool:
    expected: str = handler.settings["token"]
    given = ""
    auth = handler.request.headers.get("Authorization", "")
    if auth.lower().startswith("token "):
        given = auth[6:].strip()
    elif auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    elif allow_query:
        given = handler.get_query_argument("token", "")
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())



log = logging.getLogger(__name__)

#: The notebook store's operations run here, one at a time, off the event loop.
STORE_THREAD = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="notebook-store")


async def on_store_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """A notebook store operation, on the store's own thread."""
    return await IOLoop.current().run_in_executor(
        STORE_THREAD, functools.partial(fn, *args, **kwargs))


#: Seconds ``POST /api/notebooks/{path}/kernel`` waits for a running kernel to take
#: the notebook's cells before answering without its graph.
REGISTER_WAIT = 1.0


#: Bytes of JSON past which it is parsed or made off the event loop.
_LARGE = 1 << 20


def _log_failure(task: asyncio.Future[Any]) -> None:
    error = None if task.cancelled() else task.exception()
    # A kernel shut down meanwhile (its notebook deleted) takes nothing: no news.
    if error is not None and not isinstance(error, KernelGone):
        log.warning("The kernel did not take a notebook's cells or order: %s", error)

class APIHandler(web.RequestHandler):
    """JSON in, JSON out, token required, no tracebacks."""

    def initialize(self, hub: KernelHub, store: NotebookStore) -> None:
        self.hub = hub
        self.store = store

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        if not token_ok(self, allow_query=False):
            raise web.HTTPError(403, "a valid token is required (Authorization: token ...)")

    def check_xsrf_cookie(self) -> None:
        return None  # token-only auth, no cookies: nothing to forge

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = self._reason
        exc_info = kwargs.get("exc_info")
        if exc_info is not None:
            error = exc_info[1]
            if isinstance(error, web.HTTPError) and error.log_message:
                reason = error.log_message % error.args if error.args else error.log_message
            elif not isinstance(error, web.HTTPError):
                reason = "internal server error"  # details go to the log, not the client
        self.finish(json.dumps({"status": status_code, "message": reason}))

    async def body(self) -> dict[str, Any]:
        """The request's JSON object (a large one parsed off the event loop: a
        whole notebook's, up to 64 MiB, would hold up every kernel's messages)."""
        raw = self.request.body
        if not raw:
            return {}
        try:
            value = json.loads(raw) if len(raw) < _LARGE \
                else await IOLoop.current().run_in_executor(None, json.loads, raw)
        except ValueError:
            raise web.HTTPError(400, "the request body is not JSON") from None
        except RecursionError:
            raise web.HTTPError(400, "the request body is nested too deeply") from None
        if not isinstance(value, dict):
            raise web.HTTPError(400, "the request body must be a JSON object")
        return value

    @staticmethod
    def index_of(body: dict[str, Any]) -> int:
        """The cell position a client sent; a clear 400 if it is not an integer."""
        value = body.get("index", 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise web.HTTPError(400, "index must be an integer")
        return value

    @staticmethod
    def text_of(body: dict[str, Any], key: str, default: str) -> str:
        value = body.get(key, default)
        if not isinstance(value, str):
            raise web.HTTPError(400, f"{key} must be a string")
        return value

    def reply(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(value))

    async def reply_notebook(self, value: Any, status: int = 200) -> None:
        """:meth:`reply` with a notebook's model, serialised off the event loop."""
        data = await IOLoop.current().run_in_executor(None, json.dumps, value)
        self.set_status(status)
        self.finish(data)

    async def store_call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """A notebook store operation, on the store's own thread: file reads and
        writes (a large notebook, a slow disk) never hold up the event loop and
        the kernels' messages; one thread keeps each check-then-write whole."""
        try:
            return await on_store_thread(fn, *args, **kwargs)
        except StoreError as err:
            self.store_failed(err)

    def store_failed(self, err: StoreError) -> NoReturn:
        """Answer with the store's error: its status, its message, the current version."""
        payload = {"status": err.status, "message": str(err)}
        current = getattr(err, "current", None)
        if current is not None:
            payload["version"] = current
        self.set_status(err.status)
        self.finish(json.dumps(payload))
        raise web.Finish() from None

    def changed(self, path: str, model: dict[str, Any]) -> dict[str, Any]:
        """After a write: other tabs on this notebook hear about the new version.
        ``X-Client-Id`` (optional) lets a tab recognise its own change."""
        self.hub.notebook_changed(path, model["version"], self.request.headers.get("X-Client-Id"))
        return model

    def tell_kernel(self, path: str, model: dict[str, Any],
                    remove: list[str] | None = None,
                    register: list[dict[str, Any]] | None = None) -> None:
        """After a structural change through the REST API: the notebook's kernel
        takes its new cell order (reads bind to the nearest definer above), without
        the cells in ``remove`` and with the code cells in ``register`` (not run)."""
        kernel_id = self.hub.notebook_kernels.get(path)
        if kernel_id is None or not self.hub.has(kernel_id):
            return
        order = [c["id"] for c in model["notebook"]["cells"] if c.get("cell_type") == "code"]
        content: dict[str, Any] = {"order": order}
        if remove:
            content["remove"] = remove
        if register:
            content["register"] = kernel_registration({"cells": register})["register"]
        # Queued in the kernel behind whatever it runs: the reply is not awaited, so
        # a busy kernel does not hold up the REST answer.
        task = asyncio.ensure_future(self.hub.request(kernel_id, "reactive_graph_request",
                                                      content, timeout=600))
        task.add_done_callback(_log_failure)

    def kernel_or_404(self, kernel_id: str) -> str:
        if not self.hub.has(kernel_id):
            raise web.HTTPError(404, f"no kernel {kernel_id}")
        return kernel_id


# -- kernelspecs ---------------------------------------------------------------

def _spec_model(manager: KernelSpecManager, name: str) -> dict[str, Any]:
    spec = manager.get_kernel_spec(name)
    resources = {}
    for path in sorted(Path(spec.resource_dir).iterdir()):
        if path.is_file() and path.name != "kernel.json":
            resources[path.stem] = f"/kernelspecs/{name}/{path.name}"
    return {"name": name, "spec": spec.to_dict(), "resources": resources}


class KernelSpecsHandler(APIHandler):
    def get(self) -> None:
        manager = self.hub.specs
        specs = {}
        for name in manager.find_kernel_specs():
            try:
                specs[name] = _spec_model(manager, name)
            except Exception:
                self.hub.log.warning("Unreadable kernelspec %s", name, exc_info=True)
        self.reply({"default": self.hub.kernel_name, "kernelspecs": specs})


class KernelSpecHandler(APIHandler):
    def get(self, name: str) -> None:
        try:
            self.reply(_spec_model(self.hub.specs, name))
        except NoSuchKernel:
            raise web.HTTPError(404, f"no kernelspec {name}") from None


class KernelSpecResourceHandler(APIHandler):
    def get(self, name: str, filename: str) -> None:
        try:
            spec = self.hub.specs.get_kernel_spec(name)
        except NoSuchKernel:
            raise web.HTTPError(404, f"no kernelspec {name}") from None
        root = Path(spec.resource_dir).resolve()
        path = (root / filename).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            raise web.HTTPError(404, "no such resource")
        self.set_header("Content-Type", mimetypes.guess_type(path.name)[0] or
                        "application/octet-stream")
        self.finish(path.read_bytes())


# -- kernels -------------------------------------------------------------------

class KernelsHandler(APIHandler):
    def get(self) -> None:
        self.reply(self.hub.models())

    async def post(self) -> None:
        name = (await self.body()).get("name") or None
        if name is not None and not isinstance(name, str):
            raise web.HTTPError(400, "name must be a string")
        try:
            kernel_id = await self.hub.start_kernel(name)
        except NoSuchKernel:
            raise web.HTTPError(404, f"no kernelspec {name}") from None
        except KernelStartFailed as err:
            raise web.HTTPError(503, f"the kernel did not start: {err}") from None
        self.set_header("Location", f"/api/kernels/{kernel_id}")
        self.reply(self.hub.model(kernel_id), 201)


class KernelHandler(APIHandler):
    def get(self, kernel_id: str) -> None:
        self.reply(self.hub.model(self.kernel_or_404(kernel_id)))

    async def delete(self, kernel_id: str) -> None:
        await self.hub.shutdown(self.kernel_or_404(kernel_id))
        self.set_status(204)
        self.finish()


class KernelActionHandler(APIHandler):
    async def post(self, kernel_id: str, action: str) -> None:
        """Interrupt or restart; one arriving during an automatic restart (or
        another client's) waits for it, or gets 409 with the reason."""
        self.kernel_or_404(kernel_id)
        try:
            if action == "interrupt":
                await self.hub.interrupt(kernel_id)
                self.set_status(204)
                self.finish()
            else:
                ready = await self.hub.restart(kernel_id)
                self.reply({**self.hub.model(kernel_id), "kernel_ready": ready})
        except KernelBusy as err:
            raise web.HTTPError(409, str(err)) from None
        except KernelGone as err:
            raise web.HTTPError(404, str(err)) from None


# -- notebooks -----------------------------------------------------------------

class NotebooksHandler(APIHandler):
    async def get(self) -> None:
        self.reply({"notebooks": await self.store_call(self.store.list)})

    async def post(self) -> None:
        path = (await self.body()).get("path")
        if path is not None and not isinstance(path, str):
            raise web.HTTPError(400, "path must be a string")
        await self.reply_notebook(await self.store_call(self.store.create, path), 201)


class NotebookHandler(APIHandler):
    async def get(self, path: str) -> None:
        model = await self.store_call(self.store.get, path)
        model["kernel_id"] = self.hub.notebook_kernels.get(path)
        await self.reply_notebook(model)

    async def put(self, path: str) -> None:
        body = await self.body()
        notebook = body.get("notebook")
        if not isinstance(notebook, dict):
            raise web.HTTPError(400, "notebook must be an nbformat v4 object")
        cleared = body.get("cleared") or []
        if not isinstance(cleared, list) or not all(isinstance(c, str) for c in cleared):
            raise web.HTTPError(400, "cleared must be a list of cell ids")
        model = await self.store_call(self.store.save, path, notebook, body.get("version"))
        self.hub.notebook_saved(path, model["version"], cleared)
        await self.reply_notebook(self.changed(path, model))

    async def patch(self, path: str) -> None:
        new_path = (await self.body()).get("path")
        if not isinstance(new_path, str):
            raise web.HTTPError(400, "path (the new name) is required")
        # After a kernel start under way, so the kernel goes with the notebook.
        async with self.hub.notebook_lock(path):
            model = await self.store_call(self.store.rename, path, new_path)
            self.hub.rename_notebook(path, model["path"], model["version"],
                                     self.request.headers.get("X-Client-Id"))
        await self.reply_notebook(model)

    async def delete(self, path: str) -> None:
        # After a kernel start under way, so the kernel is found and shut down (it
        # is the notebook's only once its start ends).
        async with self.hub.notebook_lock(path):
            await self.store_call(self.store.delete, path)
            kernel_id = self.hub.notebook_kernels.get(path)
            if kernel_id is not None:
                await self.hub.shutdown(kernel_id)
        self.set_status(204)
        self.finish()


class NotebookKernelHandler(APIHandler):
    async def post(self, path: str) -> None:
        """Start (or reuse) the notebook's kernel and load its cells into the graph."""
        async with self.hub.notebook_lock(path):
            # the notebook exists when its kernel starts: a delete waits for the start
            model = await self.store_call(self.store.get, path)
            try:
                kernel_id, started = await self.hub.kernel_for_notebook(path)
            except KernelStartFailed as err:
                raise web.HTTPError(503, f"the notebook's kernel did not start: {err}") \
                    from None
            except KernelBusy as err:
                raise web.HTTPError(409, str(err)) from None
        # The kernel takes the registration when it is done with what it runs: a page
        # opened (or reloaded) during a long run does not wait for it. It gets the
        # graph from the kernel's state comm once the kernel is free.
        registering = asyncio.ensure_future(self.hub.register_notebook(kernel_id, 3600))
        try:
            registered = await asyncio.wait_for(asyncio.shield(registering),
                                                None if started else REGISTER_WAIT)
        except asyncio.TimeoutError:
            registering.add_done_callback(_log_failure)
            registered = None
        except StoreError as err:  # deleted (or made unreadable) since
            self.store_failed(err)
        except KernelBusy as err:
            raise web.HTTPError(409, str(err)) from None
        except KernelGone:
            registered = None  # the kernel was shut down meanwhile: answered below
        if not self.hub.has(kernel_id):
            raise web.HTTPError(404, "the notebook's kernel was shut down meanwhile "
                                "(the notebook deleted?)")
        graph, version = registered if registered is not None else (None, model["version"])
        # version: the file's version whose cells the kernel has
        self.reply({"kernel": self.hub.model(kernel_id), "graph": graph, "version": version})


class CellsHandler(APIHandler):
    async def post(self, path: str) -> None:
        body = await self.body()
        model, cell = await self.store_call(
            self.store.add_cell, path, body.get("version"), self.index_of(body),
            self.text_of(body, "cell_type", "code"), self.text_of(body, "source", ""))
        self.tell_kernel(path, model)
        await self.reply_notebook({**self.changed(path, model), "cell": cell}, 201)


class CellHandler(APIHandler):
    async def patch(self, path: str, cell_id: str) -> None:
        body = await self.body()
        allowed = {k: body[k] for k in ("source", "cell_type", "outputs", "execution_count",
                                         "metadata") if k in body}
        for key in ("source", "cell_type"):
            if key in allowed:
                self.text_of(body, key, "")
        model = await self.store_call(self.store.update_cell, path, body.get("version"),
                                      cell_id, **allowed)
        if "cell_type" in allowed:
            # A code cell made Markdown or raw leaves the graph, as a deleted one does
            # (its readers re-run); one made code goes in, not run, as on page load.
            cell = next(c for c in model["notebook"]["cells"] if c["id"] == cell_id)
            if cell["cell_type"] == "code":
                self.tell_kernel(path, model, register=[cell])
            else:
                self.tell_kernel(path, model, remove=[cell_id])
        await self.reply_notebook(self.changed(path, model))

    async def delete(self, path: str, cell_id: str) -> None:
        version = self.get_query_argument("version", None)
        model = await self.store_call(self.store.delete_cell, path, version, cell_id)
        self.tell_kernel(path, model, remove=[cell_id])
        await self.reply_notebook(self.changed(path, model))


class CellMoveHandler(APIHandler):
    async def post(self, path: str, cell_id: str) -> None:
        body = await self.body()
        model = await self.store_call(self.store.move_cell, path, body.get("version"), cell_id,
                                      self.index_of(body))
        self.tell_kernel(path, model)
        await self.reply_notebook(self.changed(path, model))


# -- the kernel's WebSocket ----------------------------------------------------

def _frame_header(length: int, binary: bool) -> bytes:
    """Header of a final, unmasked WebSocket frame (RFC 6455, 5.2) from the server."""
    first = 0x82 if binary else 0x81
    if length < 126:
        return bytes((first, length))
    if length <= 0xFFFF:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)


class ChannelsHandler(websocket.WebSocketHandler):
    """``/api/kernels/{id}/channels``: JSON text frames, JSON batches (the web UI's
    ``batch.reactive-kernel.v1``) or the v1 binary protocol."""

    #: Seconds a client cut off for not reading has to read its close frame.
    DROP_AFTER = 10.0

    def initialize(self, hub: KernelHub, store: NotebookStore) -> None:
        self.hub = hub
        self.client: ClientConnection | None = None
        self.protocol = "json"
        self.batch = False
        self._outgoing: list[bytes] = []
        self._batched: list[bytes] = []
        self._flush_scheduled = False
        self._unsent = 0
        self._drained_at = time.monotonic()
        self._slow_check: object | None = None

    def check_origin(self, origin: str) -> bool:
        allowed: list[str] = self.settings.get("allow_origins", [])
        if origin in allowed:
            return True
        host = self.request.headers.get("Host", "")
        return urlparse(origin).netloc == host

    async def prepare(self) -> None:
        if not token_ok(self, allow_query=True):
            raise web.HTTPError(403, "a valid token is required")

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """The first of the client's offers that the server speaks (offers are in
        the client's order of preference); none: plain JSON frames."""
        for offer in subprotocols:
            if offer == V1_SUBPROTOCOL:
                self.protocol = "v1"
                return offer
            if offer == BATCH_SUBPROTOCOL:
                self.batch = True
                return offer
        return None

    def get_compression_options(self) -> None:
        return None

    async def get(self, *args: Any, **kwargs: Any) -> None:
        kernel_id = kwargs.get("kernel_id") or (args[0] if args else "")
        if not self.hub.has(kernel_id):
            raise web.HTTPError(404, f"no kernel {kernel_id}")
        await super().get(*args, **kwargs)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"status": status_code, "message": self._reason}))

    async def open(self, kernel_id: str) -> None:  # type: ignore[override]
        relay = self.hub.relays.get(kernel_id)
        if relay is None:
            self.close(1011, "kernel is gone")
            return
        # Small frames go out at once (Nagle would hold each reply ~40 ms).
        self.set_nodelay(True)
        self.client = relay.attach(self.protocol, self._deliver, self._kernel_gone)
        if self.batch:
            # For the web UI (the batch subprotocol is its own): the outputs of runs
            # since the last save, which the notebook file lacks (a page reloaded
            # during a cascade), before any live message,
            self._deliver(relay.outputs.replay(), False)
            # and the kernel's state now (busy with a run that started before it came).
            if relay.execution_state != "starting":
                self.client.send_message("iopub", relay.session.msg(
                    "status", {"execution_state": relay.execution_state}))
        # A (re)connecting client gets what it needs to draw the notebook:
        # a fresh kernel_info and the per-cell graph state.
        for msg_type, content in (("kernel_info_request", {}), ("reactive_graph_request", {})):
            if msg_type == "reactive_graph_request" and relay.km.kernel_name != "reactive":
                continue
            message = relay.session.msg(msg_type, content)
            self.client.to_kernel_json("shell", message)

    def _kernel_gone(self, reason: str) -> None:
        """The kernel was shut down: this socket has nothing left to relay (what
        is queued for it, the kernel's last status, goes first)."""
        if self._flush_scheduled:
            self._flush_outgoing()
        self.close(1001, reason)

    def _deliver(self, payload: str | bytes, binary: bool) -> None:
        """Queue one frame for this client; everything queued in one turn of the
        event loop leaves in one write (for a batch client: in one frame).

        Tornado's ``write_message`` makes an asyncio task and a socket write per
        message; an iopub burst (a cascade) is hundreds of messages, and each
        relayed message cost the server more than the kernel spent on it.  The
        frames are the same (unmasked, uncompressed: compression is off here),
        only the writes are fewer.
        """
        conn = self.ws_connection
        if conn is None or conn.is_closing():
            return
        data = payload.encode() if isinstance(payload, str) else payload
        if getattr(conn, "stream", None) is None or getattr(conn, "_compressor", None):
            # not the connection we know: let tornado frame it
            self.write_message(b"[" + data + b"]" if self.batch else data, binary=binary)
            return
        if self.batch:
            self._batched.append(data)
        else:
            self._outgoing.append(_frame_header(len(data), binary))
            self._outgoing.append(data)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            IOLoop.current().add_callback(self._flush_outgoing)

    def _flush_outgoing(self) -> None:
        self._flush_scheduled = False
        frames, self._outgoing = self._outgoing, []
        if self._batched:
            batch = b"[" + b",".join(self._batched) + b"]"
            self._batched = []
            frames += (_frame_header(len(batch), False), batch)
        conn = self.ws_connection
        if not frames or conn is None or conn.is_closing():
            return
        limit = self.settings.get("client_buffer")
        if limit is not None and self._unsent > 4 * limit:
            self._too_slow()  # far behind already, whatever this write holds
            return
        data = b"".join(frames)
        try:
            written = conn.stream.write(data)
        except StreamClosedError:
            return  # on_close detaches the client
        self._unsent += len(data)
        written.add_done_callback(lambda _f: self._sent(len(data)))
        self._watch_backlog()

    # A client that stops reading is cut off, never buffered for without bound: one
    # that has more than ``client_buffer`` bytes waiting and took none of them for
    # SLOW_AFTER seconds, or more than four times that when more comes.  A client
    # merely slower than a burst keeps reading and stays.

    #: Seconds a client may leave its backlog untouched before it is cut off.
    SLOW_AFTER = 5.0

    def _sent(self, size: int) -> None:
        self._unsent -= size
        self._drained_at = time.monotonic()

    def _watch_backlog(self) -> None:
        limit = self.settings.get("client_buffer")
        if limit is None or self._unsent <= limit or self._slow_check is not None:
            return
        self._slow_check = IOLoop.current().call_later(self.SLOW_AFTER, self._check_backlog)

    def _check_backlog(self) -> None:
        self._slow_check = None
        limit = self.settings.get("client_buffer") or 0
        if self._unsent <= limit or self.ws_connection is None:
            return
        if time.monotonic() - self._drained_at >= self.SLOW_AFTER:
            self._too_slow()
        else:
            self._watch_backlog()

    def _too_slow(self) -> None:
        """The client left more than ``client_buffer`` bytes unread: disconnect it
        with the reason (it may reconnect and catch up from the graph's state)."""
        limit = self.settings.get("client_buffer") or 0
        log.warning("Disconnecting a WebSocket client of kernel %s that does not read "
                    "its messages (more than %d bytes waiting)",
                    self.client.relay.kernel_id if self.client else "?", limit)
        conn = self.ws_connection
        if conn is None:
            return
        # The close frame goes after what is waiting (nothing more is queued: the
        # connection is closing); a client that still does not read is dropped.
        with contextlib.suppress(Exception):
            self.close(1008, f"too slow: more than {limit / 2**20:.1f} MiB of messages "
                             "not read")
        IOLoop.current().call_later(self.DROP_AFTER, conn.stream.close)

    def on_message(self, message: str | bytes) -> None:
        if self.client is None:
            return
        try:
            if isinstance(message, bytes):
                channel, parts = from_v1(message)
                v1_parts_are_json(parts)
                self._check_channel(channel)
                self.client.to_kernel_parts(channel, parts)
            else:
                channel, body = from_json(message)
                self._check_channel(channel)
                self.client.to_kernel_json(channel, body)
        except ProtocolError as err:
            self._notify(f"malformed message ignored: {err}")
        except Exception:
            self.hub.log.warning("Could not relay a client message", exc_info=True)
            self._notify("message could not be relayed to the kernel")

    @staticmethod
    def _check_channel(channel: str) -> None:
        if channel not in CLIENT_CHANNELS:
            raise ProtocolError(f"unknown channel {channel!r}")

    def _notify(self, text: str) -> None:
        # a text frame, queued behind what the client is already owed (v1
        # clients skip text frames)
        self._deliver(server_error(text), False)

    def on_close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
