"""``reactive-server``: the Tornado app that hosts reactive kernels and notebooks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import os
import secrets
import signal
import socket
import sys
import webbrowser
from pathlib import Path
from typing import Any

from tornado import httpserver, httputil, web
from traitlets.config import Config

from .handlers import (
    CellHandler,
    CellMoveHandler,
    CellsHandler,
    ChannelsHandler,
    KernelActionHandler,
    KernelHandler,
    KernelsHandler,
    KernelSpecHandler,
    KernelSpecResourceHandler,
    KernelSpecsHandler,
    NotebookHandler,
    NotebookKernelHandler,
    NotebooksHandler,
    on_store_thread,
)
from .kernels import KernelHub
from .notebooks import NotebookStore, kernel_registration

STATIC = Path(__file__).parent / "static"
TOKEN_ENV = "REACTIVE_SERVER_TOKEN"
MAX_MESSAGE = 64 * 1024 * 1024  # WebSocket frames and request bodies

_ID = r"(?P<kernel_id>[0-9a-f-]{1,64})"
_NB = r"(?P<path>[^?#]+?\.ipynb)"
_CELL = r"(?P<cell_id>[A-Za-z0-9_-]{1,64})"


class IndexHandler(web.RequestHandler):
    """The web UI's page; it holds no data (the API needs the token)."""

    page = "index.html"

    def get(self, *_args: str, **_kwargs: str) -> None:
        self.set_header("Content-Security-Policy",
                        "default-src 'self'; img-src 'self' data: blob:; "
                        # anywidget's ESM (a live widget's code, from the kernel)
                        "script-src 'self' blob:; "
                        "style-src 'self' 'unsafe-inline'; frame-src 'self' blob: data:")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-cache")
        self.render(str(STATIC / self.page))


class NotebookPageHandler(IndexHandler):
    """``/notebooks/{path}``: the notebook editor (the path is read by the page's script)."""

    page = "notebook.html"


class OutputFrameHandler(web.RequestHandler):
    """``/output-frame``: the document an HTML output with scripts or styles of its own
    runs in (``static/output-frame.html``).  Sandboxed without same-origin, by the
    page's iframe and by this policy, so it reaches neither the page, nor its token,
    nor the API; inside, its scripts may run and load what they need, as in
    JupyterLab."""

    def get(self) -> None:
        self.set_header("Content-Security-Policy",
                        "default-src * data: blob: 'unsafe-inline' 'unsafe-eval'; "
                        "sandbox allow-scripts")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write((STATIC / "output-frame.html").read_bytes())


#: What a WebSocket client may leave unread before it is disconnected (bytes).
CLIENT_BUFFER = 64 << 20


def make_app(hub: KernelHub, store: NotebookStore, token: str,
             allow_origins: list[str] | None = None,
             client_buffer: int = CLIENT_BUFFER) -> web.Application:
    deps = {"hub": hub, "store": store}

    async def notebook_cells(path: str) -> tuple[dict[str, Any], str]:
        model = await on_store_thread(store.get, path)
        return kernel_registration(model["notebook"]), model["version"]

    hub.notebook_cells = notebook_cells  # restarts register the saved cells
    routes: list[Any] = [
        (r"/", IndexHandler),
        (rf"/notebooks/{_NB}", NotebookPageHandler),
        (r"/output-frame", OutputFrameHandler),
        (r"/api/kernelspecs", KernelSpecsHandler, deps),
        (r"/api/kernelspecs/(?P<name>[^/]+)", KernelSpecHandler, deps),
        (r"/kernelspecs/(?P<name>[^/]+)/(?P<filename>[^/]+)", KernelSpecResourceHandler, deps),
        (r"/api/kernels", KernelsHandler, deps),
        (rf"/api/kernels/{_ID}", KernelHandler, deps),
        (rf"/api/kernels/{_ID}/(?P<action>interrupt|restart)", KernelActionHandler, deps),
        (rf"/api/kernels/{_ID}/channels", ChannelsHandler, deps),
        (r"/api/notebooks", NotebooksHandler, deps),
        (rf"/api/notebooks/{_NB}/kernel", NotebookKernelHandler, deps),
        (rf"/api/notebooks/{_NB}/cells", CellsHandler, deps),
        (rf"/api/notebooks/{_NB}/cells/{_CELL}/move", CellMoveHandler, deps),
        (rf"/api/notebooks/{_NB}/cells/{_CELL}", CellHandler, deps),
        (rf"/api/notebooks/{_NB}", NotebookHandler, deps),
    ]
    return web.Application(
        routes,
        token=token,
        allow_origins=list(allow_origins or []),
        client_buffer=client_buffer,
        static_path=str(STATIC),
        websocket_max_message_size=MAX_MESSAGE,
        websocket_ping_interval=30,
        xsrf_cookies=False,
        serve_traceback=False,
        transforms=[SmallGZip],
    )


class SmallGZip(web.GZipContentEncoding):
    """tornado's gzip of responses, but for large ones (a whole notebook's
    model): compressing tens of megabytes on the event loop would hold up every
    kernel's messages for a second, for a client on the same machine as a rule."""

    MAX_LENGTH = 4 << 20

    def transform_first_chunk(self, status_code: int, headers: httputil.HTTPHeaders,
                              chunk: bytes, finishing: bool,
                              ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        self._whole = finishing and len(chunk) > self.MAX_LENGTH
        if self._whole:
            # (Smaller answers at the same address are compressed: caches must know.)
            vary = headers.get("Vary")
            headers["Vary"] = f"{vary}, Accept-Encoding" if vary else "Accept-Encoding"
            return status_code, headers, chunk
        return super().transform_first_chunk(status_code, headers, chunk, finishing)

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return chunk if self._whole else super().transform_chunk(chunk, finishing)


def bind(ip: str, port: int, tries: int = 50) -> tuple[list[socket.socket], int]:
    """Bind ``port``, or the next free one."""
    from tornado.netutil import bind_sockets

    for candidate in range(port, port + tries):
        try:
            sockets = bind_sockets(candidate, address=ip)
            return sockets, int(sockets[0].getsockname()[1])
        except OSError as err:
            if err.errno != errno.EADDRINUSE or port == 0:
                raise
    raise OSError(f"no free port in {port}..{port + tries - 1}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="reactive-server",
        description="Serve reactive notebooks and a Jupyter-compatible kernels API.")
    parser.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8888,
                        help="port (default 8888; the next free one if taken)")
    parser.add_argument("--root-dir", default=os.getcwd(), help="where notebooks live")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                        help=f"access token (default: ${TOKEN_ENV}, else random)")
    parser.add_argument("--allow-origin", action="append", default=[],
                        help="extra origin allowed to open WebSockets (repeatable)")
    parser.add_argument("--kernel-name", default="reactive", help="kernelspec for new kernels")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--client-buffer", type=int, default=CLIENT_BUFFER, metavar="BYTES",
                        help="what a WebSocket client may leave unread before it is "
                        "disconnected (default 64 MiB)")
    parser.add_argument("--kernel-ready-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long a new kernel has to answer before it is stopped "
                        "and its start reported failed (default 60)")
    parser.add_argument("--settle-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long a restart, interrupt or shutdown waits for one under "
                        "way (a restart, a slow start) before it is answered 409 (default 30)")
    parser.add_argument("--replay-limit", type=int, default=KernelHub.replay_limit.default_value,
                        metavar="BYTES",
                        help="output of runs since the last save kept per kernel for pages "
                        "that connect later (default 32 MiB); past it the least recently "
                        "changed cells are reported lost")
    args = parser.parse_args(argv)
    for option in ("client_buffer", "replay_limit"):
        if getattr(args, option) < 0:
            parser.error(f"--{option.replace('_', '-')} must be 0 or more bytes")
    return args


async def serve(args: argparse.Namespace) -> None:
    token = args.token or secrets.token_hex(24)
    config = Config()
    config.KernelRestarter.time_to_dead = 1.0  # notice a dead kernel within a second
    config.KernelRestarter.restart_limit = 5
    store = NotebookStore(Path(args.root_dir).resolve())
    hub = KernelHub(kernel_name=args.kernel_name, ready_timeout=args.kernel_ready_timeout,
                    replay_limit=args.replay_limit, root_dir=str(store.root), config=config,
                    settle_timeout=args.settle_timeout)
    app = make_app(hub, store, token, args.allow_origin, args.client_buffer)
    sockets, port = bind(args.ip, args.port)
    server = httpserver.HTTPServer(app, max_body_size=MAX_MESSAGE, xheaders=False)
    server.add_sockets(sockets)
    host = f"[{args.ip}]" if ":" in args.ip else args.ip
    url = f"http://{host}:{port}/?token={token}"
    print(f"Reactive server: notebooks in {store.root}", flush=True)
    print(f"Open {url}", flush=True)
    if not args.no_browser:
        with contextlib.suppress(Exception):
            webbrowser.open(url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    print("Shutting down kernels...", flush=True)
    server.stop()
    await hub.shutdown_all()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except OSError as err:
        print(f"reactive-server: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
