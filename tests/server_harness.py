"""A real ``reactive-server`` process on 127.0.0.1 and clients for it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from tornado import httpclient, websocket

TOKEN = "test-token-" + uuid.uuid4().hex[:8]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[str]) -> None:
    """Terminate, then kill if it does not go within 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class ServerProcess:
    """``python -m reactive_server`` on a free port, stopped at the end."""

    def __init__(self, root: Path, token: str = TOKEN, *extra: str,
                 env: dict[str, str] | None = None) -> None:
        self.root = root
        self.token = token
        env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reactive_server", "--port", "0", "--no-browser",
             "--token", token, "--root-dir", str(root), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 60
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError("server did not start:\n" + "".join(self.log)) from None
            match = re.search(r"Open http://127\.0\.0\.1:(\d+)/", line)
            if match:
                self.port = int(match.group(1))
                break
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("server did not start:\n" + "".join(self.log))
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            self.lines.put(line)

    def stop(self) -> None:
        stop_process(self.proc)

    def http(self, method: str, path: str, body: Any = None, token: str | None = "default",
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        all_headers = dict(headers or {})
        if token == "default":
            token = self.token
        if token is not None:
            all_headers["Authorization"] = f"token {token}"
        data = None if body is None else (body if isinstance(body, str | bytes)
                                          else json.dumps(body))
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = ""
        request = httpclient.HTTPRequest(self.base + path, method=method, body=data,
                                          headers=all_headers, request_timeout=60,
                                          allow_nonstandard_methods=True)
        client = httpclient.HTTPClient()
        try:
            response = client.fetch(request, raise_error=False)
        finally:
            client.close()
        try:
            text = response.body.decode() if response.body else ""
        except UnicodeDecodeError:
            return response.code, response.body
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return response.code, parsed


class CuttableLink:
    """A TCP relay on 127.0.0.1 in front of a server.  A page opened through it
    (``base``) can be taken off the network, as a dropped Wi-Fi would: its open
    connections, WebSockets included, are broken and new ones refused, until
    ``restore``.  (The browser's offline emulation leaves WebSockets open.)"""

    def __init__(self, server: ServerProcess) -> None:
        self.target = ("127.0.0.1", server.port)
        self.token = server.token
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.up = True
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target, timeout=10) if self.up else None
            except OSError:
                upstream = None
            with self.lock:
                if upstream is None or not self.up:
                    _drop(client, upstream)
                    continue
                self.open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        with self.lock:
            self.open.difference_update((src, dst))
        _drop(src, dst)

    def cut(self) -> None:
        """Break every connection through the link and refuse new ones."""
        with self.lock:
            self.up = False
            broken = list(self.open)
            self.open.clear()
        _drop(*broken)

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        _drop(self.listener)  # shutdown wakes the accepting thread


def _drop(*socks: socket.socket | None) -> None:
    for sock in socks:
        if sock is None:
            continue
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


def message(msg_type: str, content: dict[str, Any], cell: str | None = None,
            session: str = "client-session", channel: str = "shell") -> dict[str, Any]:
    return {
        "channel": channel,
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": session,
                   "username": "test", "version": "5.4", "date": "2026-11-23T00:00:00Z"},
        "parent_header": {},
        "metadata": {"cellId": cell} if cell else {},
        "content": content,
        "buffers": [],
    }


def execute(code: str, cell: str | None = None, **kw: Any) -> dict[str, Any]:
    content = {"code": code, "silent": False, "store_history": True, "user_expressions": {},
               "allow_stdin": False, "stop_on_error": True}
    return message("execute_request", content, cell, **kw)


class WSClient:
    """A JSON-protocol WebSocket client that keeps every message it receives
    (with ``subprotocols=[BATCH_SUBPROTOCOL]``, frames are arrays of messages)."""

    def __init__(self, conn: websocket.WebSocketClientConnection) -> None:
        self.conn = conn
        self.received: list[dict[str, Any]] = []
        self.frames = 0
        self._pending: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, server: ServerProcess, kernel_id: str, token: str | None = None,
                      origin: str | None = None, query_token: bool = True,
                      subprotocols: list[str] | None = None) -> WSClient:
        token = server.token if token is None else token
        url = f"{server.ws_base}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
        headers = {}
        if query_token:
            url += f"&token={token}"
        else:
            headers["Authorization"] = f"token {token}"
        if origin:
            headers["Origin"] = origin
        request = httpclient.HTTPRequest(url, headers=headers, request_timeout=30)
        conn = await websocket.websocket_connect(request, subprotocols=subprotocols)
        return cls(conn)

    async def send(self, msg: dict[str, Any] | str | bytes) -> None:
        if isinstance(msg, dict):
            await self.conn.write_message(json.dumps(msg))
        else:
            await self.conn.write_message(msg, binary=isinstance(msg, bytes))

    async def next(self, timeout: float = 30) -> dict[str, Any]:
        if not self._pending:
            raw = await asyncio.wait_for(self.conn.read_message(), timeout)
            if raw is None:
                raise ConnectionError("websocket closed")
            self.frames += 1
            data = json.loads(raw)
            self._pending = data if isinstance(data, list) else [data]
        msg = self._pending.pop(0)
        self.received.append(msg)
        return msg  # type: ignore[no-any-return]

    async def until(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        for msg in self.received:
            if predicate(msg):
                return msg
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError("expected message never came")
            msg = await self.next(left)
            if predicate(msg):
                return msg

    async def run(self, msg: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        """Send an execute_request; wait for its reply and its idle status."""
        msg_id = msg["header"]["msg_id"]
        await self.send(msg)
        reply = await self.until(lambda m: m.get("msg_type") == "execute_reply"
                                 and m["parent_header"].get("msg_id") == msg_id, timeout)
        await self.until(lambda m: m.get("msg_type") == "status"
                         and m["parent_header"].get("msg_id") == msg_id
                         and m["content"]["execution_state"] == "idle", timeout)
        return reply

    def texts(self, cell: str) -> str:
        return "".join(m["content"].get("text", "") for m in self.received
                       if m.get("msg_type") == "stream" and m["metadata"].get("cellId") == cell)

    def close(self) -> None:
        self.conn.close()


def start_kernel(server: ServerProcess, name: str = "reactive") -> str:
    """A new kernel on the server (201), its id."""
    status, model = server.http("POST", "/api/kernels", {"name": name})
    assert status == 201, model
    return str(model["id"])


def run(coro: Any, timeout: float = 120) -> Any:
    """A client scenario, bounded."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
