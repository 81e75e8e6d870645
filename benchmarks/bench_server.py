"""Benchmarks of reactive-server's WebSocket relay against direct ZMQ, in the same run.

Run from the repository root::

    .venv/bin/python benchmarks/bench_server.py [--quick] [--json PATH] [--profile SECONDS]

1. ``roundtrip``: one ``reactive_server`` process, one ``reactive`` kernel started
   through ``POST /api/kernels``.  A ``pass`` execute_request, timed from send until
   both its execute_reply and its ``idle`` status arrived, alternately through the
   server's WebSocket (JSON text frames, and the v1 binary subprotocol) and over ZMQ
   straight to the same kernel (its connection file, ``kernel-<id>.json`` in the
   Jupyter runtime dir), with a blocking and an asyncio client.  Blocks whose order
   rotates every round; medians; ratio WS / ZMQ.
2. ``fanout``: N WebSocket clients (default 50) on one kernel; one of them runs a
   cell that calls ``display(i)`` M times (default 1,000 display_data messages,
   each published on its own).  Every client must receive exactly M outputs of that
   request, in order.  Delivered messages/s (N*M / time from send until the last
   client had its M-th) and delivery latency percentiles (client receive time minus
   the ``date`` the kernel put in the message header).  Median of several runs, for
   two client layouts run alternately: all clients in one asyncio loop in this
   process, and split over this process and a second one.  Optional: ``--profile``
   records the server with py-spy and prints where its time goes.

The machine is shared and noisy (2 cores): warm-ups first, every figure is a
median, variants are interleaved, every wait has a timeout, and the kernel and the
server are stopped in ``finally``.  The exit status is 1 only if a benchmark could
not run, gave a wrong result or lost messages; a missed target is reported as
``NOT MET`` in the summary table.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import math
import multiprocessing
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import zmq
from benchlib import BenchError, finish, machine, median, percentile, ratio, verdict
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_core.paths import jupyter_runtime_dir
from tornado import httpclient, websocket
from tornado.util import _websocket_mask

from reactive_server.protocol import V1_SUBPROTOCOL, from_v1, to_v1
from tests.server_harness import ServerProcess, execute

try:
    import psutil
except ImportError:  # CPU figures are optional
    psutil = None

TARGET_RATIO = 1.10  # WS JSON round trip / direct ZMQ round trip, at most
REQUEST_TIMEOUT = 30.0  # one round trip
CONNECT_TIMEOUT = 30.0
FANOUT_TIMEOUT = 180.0  # one whole fan-out run
KERNEL_NAME = "reactive"


@dataclass
class Config:
    rt_warmup: int = 50  # per variant, before the first block
    rt_blocks: int = 20
    rt_block: int = 25
    rt_block_warmup: int = 3  # untimed requests at the start of every block
    fan_clients: int = 50
    fan_outputs: int = 1000
    fan_runs: int = 3
    # client layouts, interleaved: 1 = all clients in this process's asyncio loop,
    # 2 = spread over this process and one more
    fan_layouts: tuple[int, ...] = (1, 2)


QUICK = Config(rt_warmup=20, rt_blocks=6, rt_block=15, fan_runs=1)


# -- the server ---------------------------------------------------------------------


class BenchServer(ServerProcess):
    """``ServerProcess`` that does not leak the process if it fails to start."""

    def __init__(self, root: Path, token: str) -> None:
        try:
            super().__init__(root, token)
        except BaseException:
            if getattr(self, "proc", None) is not None:
                self.stop()
            raise

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def tail(self, lines: int = 20) -> str:
        return "".join(self.log[-lines:])

    def ws_url(self, kernel_id: str) -> str:
        return (f"{self.ws_base}/api/kernels/{kernel_id}/channels"
                f"?session_id={uuid.uuid4().hex}&token={self.token}")


def start_kernel(server: BenchServer) -> str:
    code, model = server.http("POST", "/api/kernels", {"name": KERNEL_NAME})
    if code != 201 or not isinstance(model, dict) or "id" not in model:
        raise BenchError(f"POST /api/kernels answered {code}: {model!r}")
    return str(model["id"])


def connection_file(kernel_id: str) -> Path:
    """The server's connection file for ``kernel_id`` (``kernel-<id>.json``)."""
    path = Path(jupyter_runtime_dir()) / f"kernel-{kernel_id}.json"
    if not path.is_file():
        raise BenchError(f"no connection file {path} for kernel {kernel_id}")
    return path


def kernel_pid(server_pid: int) -> int | None:
    """The kernel: the server's child process running ipykernel/reactive_kernel."""
    if psutil is None:
        return None
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(server_pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "-f" in child.cmdline():
                    return int(child.pid)
    return None


def cpu_seconds(pid: int | None) -> float:
    if psutil is None or pid is None:
        return float("nan")
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return float("nan")
    return float(times.user + times.system)


# -- clients for the round trip -------------------------------------------------------


def _is_idle_status(msg_type: str, content: Callable[[], dict[str, Any]]) -> bool:
    return msg_type == "status" and content().get("execution_state") == "idle"


def classify_ws(raw: str | bytes, msg_id: str) -> str | None:
    """"reply" / "idle" if ``raw`` is the execute_reply / idle status of ``msg_id``."""
    if isinstance(raw, bytes):  # v1 binary frame
        _channel, parts = from_v1(raw)
        if json.loads(parts[1]).get("msg_id") != msg_id:
            return None
        msg_type = json.loads(parts[0]).get("msg_type")
        if msg_type == "execute_reply":
            return "reply"
        return "idle" if _is_idle_status(msg_type, lambda: json.loads(parts[3])) else None
    msg = json.loads(raw)
    if (msg.get("parent_header") or {}).get("msg_id") != msg_id:
        return None  # includes the server's own notices
    msg_type = msg["header"]["msg_type"]
    if msg_type == "execute_reply":
        return "reply"
    return "idle" if _is_idle_status(msg_type, lambda: msg["content"]) else None


def _nodelay(conn: websocket.WebSocketClientConnection) -> None:
    """TCP_NODELAY on our side, as browsers do: only the server's side is measured."""
    if conn.protocol is not None:
        conn.protocol.set_nodelay(True)


class WSRoundTrip:
    """One WebSocket client (JSON or v1) doing sequential round trips."""

    def __init__(self, conn: websocket.WebSocketClientConnection, binary: bool) -> None:
        self.conn = conn
        self.binary = binary
        self.session = uuid.uuid4().hex

    @classmethod
    async def connect(cls, server: BenchServer, kernel_id: str, binary: bool) -> WSRoundTrip:
        request = httpclient.HTTPRequest(server.ws_url(kernel_id), connect_timeout=CONNECT_TIMEOUT,
                                         request_timeout=CONNECT_TIMEOUT)
        conn = await asyncio.wait_for(websocket.websocket_connect(
            request, subprotocols=[V1_SUBPROTOCOL] if binary else None), CONNECT_TIMEOUT)
        if binary and conn.selected_subprotocol != V1_SUBPROTOCOL:
            conn.close()
            raise BenchError(f"server did not select {V1_SUBPROTOCOL}")
        _nodelay(conn)
        return cls(conn, binary)

    def build(self, code: str) -> dict[str, Any]:
        return execute(code, session=self.session)

    def encode(self, msg: dict[str, Any]) -> str | bytes:
        if self.binary:
            parts = [json.dumps(msg[key]).encode() for key in
                     ("header", "parent_header", "metadata", "content")]
            return to_v1("shell", parts)
        return json.dumps(msg)

    async def _once(self, msg: dict[str, Any]) -> float:
        msg_id = msg["header"]["msg_id"]
        start = time.perf_counter()
        await self.conn.write_message(self.encode(msg), binary=self.binary)
        seen: set[str] = set()
        while len(seen) < 2:
            raw = await self.conn.read_message()
            if raw is None:
                raise BenchError("the server closed the WebSocket")
            kind = classify_ws(raw, msg_id)
            if kind is not None:
                seen.add(kind)
        return time.perf_counter() - start

    async def once(self, code: str = "pass") -> float:
        return await asyncio.wait_for(self._once(self.build(code)), REQUEST_TIMEOUT)

    async def close(self) -> None:
        """Close and wait until the server acknowledged it (bounded)."""
        self.conn.close()

        async def closed() -> None:
            while await self.conn.read_message() is not None:
                pass

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(closed(), 5.0)


class LeanWSRoundTrip:
    """A blocking WebSocket client on a plain socket, framing by hand (RFC 6455),
    the counterpart of the blocking ZMQ client: what a client with a compiled
    WebSocket stack (a browser) costs, rather than tornado's coroutine per frame.
    Messages are classified exactly as the tornado client does."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, server: BenchServer, kernel_id: str, binary: bool) -> None:
        self.binary = binary
        self.session = uuid.uuid4().hex
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=CONNECT_TIMEOUT)
        try:
            self._handshake(server, kernel_id, binary)
        except BaseException:
            self.sock.close()
            raise

    def _handshake(self, server: BenchServer, kernel_id: str, binary: bool) -> None:
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as browsers do
        key = base64.b64encode(os.urandom(16)).decode()
        path = server.ws_url(kernel_id).split(str(server.port), 1)[1]
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13"]
        if binary:
            lines.append(f"Sec-WebSocket-Protocol: {V1_SUBPROTOCOL}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if not head.startswith(b"HTTP/1.1 101") or accept.encode() not in head:
            raise BenchError(f"WebSocket upgrade refused: {head[:200]!r}")
        self.sock.settimeout(REQUEST_TIMEOUT)

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise BenchError("the server closed the WebSocket")
        self.buf += chunk

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def send(self, payload: bytes) -> None:
        n = len(payload)
        first = 0x82 if self.binary else 0x81
        if n < 126:
            header = bytes((first, 0x80 | n))
        elif n <= 0xFFFF:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + _websocket_mask(mask, payload))

    def recv(self) -> str | bytes:
        while True:
            first, second = self._take(2)
            n = second & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._take(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._take(8))
            payload = self._take(n)
            opcode = first & 0x0F
            if opcode == 1:
                return payload.decode()
            if opcode == 2:
                return payload
            if opcode == 8:
                raise BenchError("the server closed the WebSocket")

    def once(self, code: str = "pass") -> float:
        msg = execute(code, session=self.session)
        msg_id = msg["header"]["msg_id"]
        if self.binary:
            data = to_v1("shell", [json.dumps(msg[key]).encode() for key in
                                   ("header", "parent_header", "metadata", "content")])
        else:
            data = json.dumps(msg).encode()
        start = time.perf_counter()
        self.send(data)
        seen: set[str] = set()
        while len(seen) < 2:
            kind = classify_ws(self.recv(), msg_id)
            if kind is not None:
                seen.add(kind)
        return time.perf_counter() - start

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\x88\x80" + os.urandom(4))  # a masked, empty close frame
            self.sock.close()


class ZMQRoundTrip:
    """A jupyter_client kernel client on the kernel's own sockets (blocking or asyncio).

    Messages are sent with ``Session.send`` (serialise + sign, as the server does);
    received ones are checked (HMAC) and JSON-decoded part by part, which is what
    the WebSocket client does with its frames.  (``Session.deserialize`` would add
    some 70 us per message, mostly ISO-date parsing in ``extract_dates``.)
    """

    def __init__(self, path: Path, asynchronous: bool) -> None:
        self.asynchronous = asynchronous
        kc: Any = AsyncKernelClient() if asynchronous else BlockingKernelClient()
        kc.load_connection_file(str(path))
        kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        self.kc = kc
        self.session = kc.session
        self.shell = kc.shell_channel.socket
        self.iopub = kc.iopub_channel.socket
        # plain sockets sharing the asyncio ones, for draining without awaiting
        self._sync = [zmq.Socket.shadow(s.underlying) for s in (self.shell, self.iopub)]

    def classify(self, frames: list[bytes], msg_id: str) -> str | None:
        _idents, parts = self.session.feed_identities(frames)
        if self.session.auth is not None:
            expected = self.session.sign(parts[1:5])
            if not hmac.compare_digest(expected, bytes(parts[0])):
                raise BenchError("message with a bad signature from the kernel")
        if json.loads(parts[2]).get("msg_id") != msg_id:
            return None
        msg_type = json.loads(parts[1]).get("msg_type")
        if msg_type == "execute_reply":
            return "reply"
        return "idle" if _is_idle_status(msg_type, lambda: json.loads(parts[4])) else None

    def build(self, code: str) -> dict[str, Any]:
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        return self.session.msg("execute_request", content)

    def drain(self) -> int:
        dropped = 0
        for sock in self._sync:
            while True:
                try:
                    sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                dropped += 1
        return dropped

    def _blocking(self, msg: dict[str, Any]) -> float:
        msg_id = msg["header"]["msg_id"]
        deadline = time.perf_counter() + REQUEST_TIMEOUT
        start = time.perf_counter()
        self.session.send(self.shell, msg)
        for sock, want in ((self.shell, "reply"), (self.iopub, "idle")):
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise BenchError("timed out waiting for the kernel over ZMQ")
                if not sock.poll(max(1, int(left * 1000))):
                    continue
                if self.classify(sock.recv_multipart(), msg_id) == want:
                    break
        return time.perf_counter() - start

    async def _async(self, msg: dict[str, Any]) -> float:
        msg_id = msg["header"]["msg_id"]
        start = time.perf_counter()
        self.session.send(self.shell, msg)
        for sock, want in ((self.shell, "reply"), (self.iopub, "idle")):
            while self.classify(await sock.recv_multipart(), msg_id) != want:
                pass
        return time.perf_counter() - start

    async def once(self, code: str = "pass") -> float:
        msg = self.build(code)
        if self.asynchronous:
            return await asyncio.wait_for(self._async(msg), REQUEST_TIMEOUT)
        return self._blocking(msg)  # blocks the loop; nothing else runs meanwhile

    async def value(self, expression: str) -> str:
        """``user_expressions`` evaluated over ZMQ (to check it is the same kernel)."""
        msg = self.build("")
        msg["content"]["user_expressions"] = {"v": expression}
        msg_id = msg["header"]["msg_id"]
        self.session.send(self.shell, msg)
        deadline = time.perf_counter() + REQUEST_TIMEOUT
        while time.perf_counter() < deadline:
            if self.asynchronous:
                frames = await asyncio.wait_for(self.shell.recv_multipart(), REQUEST_TIMEOUT)
            elif self.shell.poll(1000):
                frames = self.shell.recv_multipart()
            else:
                continue
            _idents, parts = self.session.feed_identities(frames)
            reply = self.session.deserialize(parts)
            if reply["parent_header"].get("msg_id") == msg_id:
                result = reply["content"]["user_expressions"]["v"]
                return str(result.get("data", {}).get("text/plain", result))
        raise BenchError("no reply to a user_expressions request over ZMQ")

    def close(self) -> None:
        for sock in self._sync:
            with contextlib.suppress(Exception):
                sock.close(linger=0)
        with contextlib.suppress(Exception):
            self.kc.stop_channels()


# -- 1. round trip -----------------------------------------------------------------


VARIANTS = ("ws_json", "ws_v1", "ws_lean_json", "ws_lean_v1", "zmq_blocking", "zmq_async")
WS_VARIANTS = ("ws_json", "ws_v1", "ws_lean_json", "ws_lean_v1")
LABELS = {"ws_json": "WebSocket, JSON frames", "ws_v1": "WebSocket, v1 binary",
          "ws_lean_json": "WebSocket (lean), JSON", "ws_lean_v1": "WebSocket (lean), v1",
          "zmq_blocking": "ZMQ direct, blocking", "zmq_async": "ZMQ direct, asyncio"}


def _ms(seconds: list[float]) -> list[float]:
    return [s * 1e3 for s in seconds]


async def bench_roundtrip(server: BenchServer, kernel_id: str, config: Config
                          ) -> dict[str, Any]:
    """All four variants in rotating blocks; WebSocket clients connect per block.

    A WebSocket client is connected only during its own blocks: an idle client
    would make the server encode and write every iopub message of the ZMQ blocks
    too, taking CPU the kernel and the ZMQ client need (two cores).
    """
    path = connection_file(kernel_id)
    zmq_clients = {"zmq_blocking": ZMQRoundTrip(path, asynchronous=False),
                   "zmq_async": ZMQRoundTrip(path, asynchronous=True)}
    try:
        for client in zmq_clients.values():
            if client.asynchronous:
                await client.kc.wait_for_ready(timeout=CONNECT_TIMEOUT)
            else:
                client.kc.wait_for_ready(timeout=CONNECT_TIMEOUT)
        # Same kernel?  Set a value through the server, read it back over ZMQ.
        token = uuid.uuid4().hex
        ws = await WSRoundTrip.connect(server, kernel_id, binary=False)
        try:
            await ws.once(f"_bench_token = {token!r}")
        finally:
            await ws.close()
        for client in zmq_clients.values():
            client.drain()
            seen = await client.value("_bench_token")
            if seen != repr(token):
                raise BenchError(f"the ZMQ client reached another kernel ({seen!r})")
            client.drain()

        pids = {"server": server.pid, "kernel": kernel_pid(server.pid)}
        cpu_used: dict[str, Counter[str]] = {v: Counter() for v in VARIANTS}

        async def block(variant: str, n: int, warmup: int) -> list[float]:
            ws: WSRoundTrip | None = None
            lean: LeanWSRoundTrip | None = None
            if variant.startswith("ws_lean"):
                lean = LeanWSRoundTrip(server, kernel_id, binary=variant.endswith("v1"))
                client_once = lean.once

                async def once() -> float:
                    return client_once()  # blocks the loop, as the blocking ZMQ client
            elif variant.startswith("ws"):
                ws = await WSRoundTrip.connect(server, kernel_id, binary=variant == "ws_v1")
                once = ws.once
            else:
                client = zmq_clients[variant]
                client.drain()
                once = client.once
            try:
                for _ in range(warmup):
                    await once()
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                before["client"] = time.process_time()
                times = [await once() for _ in range(n)]
                if n:
                    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
                    after["client"] = time.process_time()
                    cpu_used[variant].update({k: after[k] - before[k] for k in before})
            finally:
                if ws is not None:
                    await ws.close()
                if lean is not None:
                    lean.close()
            return times

        for variant in VARIANTS:
            await block(variant, 0, config.rt_warmup)
        samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
        block_medians: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for round_no in range(config.rt_blocks):
            shift = round_no % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                times = _ms(await block(variant, config.rt_block, config.rt_block_warmup))
                samples[variant] += times
                block_medians[variant].append(median(times))
    finally:
        for client in zmq_clients.values():
            client.close()

    result: dict[str, Any] = {
        "code": "pass", "blocks": config.rt_blocks, "block": config.rt_block,
        "warmup": config.rt_warmup, "block_warmup": config.rt_block_warmup,
        "connection_file": str(path),
    }
    for variant in VARIANTS:
        values = samples[variant]
        result[variant] = {"median_ms": median(values),
                           "p10_ms": percentile(values, 0.10),
                           "p90_ms": percentile(values, 0.90),
                           "n": len(values),
                           # CPU per request (psutil, 10 ms ticks summed over the blocks)
                           "cpu_ms_per_request": {k: v / len(values) * 1e3
                                                  for k, v in cpu_used[variant].items()}}
    for ws in WS_VARIANTS:
        for zmq_name in ("zmq_blocking", "zmq_async"):
            key = f"{ws}/{zmq_name}"
            result.setdefault("ratios", {})[key] = ratio(result[ws]["median_ms"],
                                                         result[zmq_name]["median_ms"])
            paired = [ratio(a, b) for a, b in zip(block_medians[ws], block_medians[zmq_name],
                                                  strict=True)]
            result.setdefault("paired_ratios", {})[key] = median(paired)
    # The target compares with the faster of the two ZMQ clients (the stricter test).
    best = min(("zmq_blocking", "zmq_async"), key=lambda v: result[v]["median_ms"])
    result["reference"] = best
    result["ratio"] = result["ratios"][f"ws_json/{best}"]
    result["ratio_v1"] = result["ratios"][f"ws_v1/{best}"]
    result["ratio_lean"] = result["ratios"][f"ws_lean_json/{best}"]
    result["ratio_lean_v1"] = result["ratios"][f"ws_lean_v1/{best}"]
    result["target"] = TARGET_RATIO
    result["met"] = result["ratio"] <= TARGET_RATIO
    return result


# -- 2. fan-out ----------------------------------------------------------------------


def fanout_code(outputs: int) -> str:
    return f"from IPython.display import display\nfor i in range({outputs}): display(i)"


def _epoch(date: str) -> float:
    return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()


class FanoutClient:
    """Counts the display_data of one request as they arrive (tornado callback)."""

    def __init__(self, group: FanoutGroup) -> None:
        self.group = group
        self.conn: websocket.WebSocketClientConnection | None = None
        # The client that sends the request also waits for its execute_reply,
        # which may arrive before or after the idle status (other socket).
        self.wants_reply = False
        self.arm(None, 0)

    def arm(self, target: str | None, expected: int) -> None:
        self.target = target
        self.expected = expected
        self.count = 0
        self.in_order = True
        self.times: list[float] = []
        self.dates: list[str] = []
        self.done_at = math.nan
        self.reply: dict[str, Any] | None = None
        self.idle = False
        self.closed = False

    def on_message(self, raw: str | bytes | None) -> None:
        now = time.time()
        if raw is None:
            self.closed = True
            self.group.client_finished()
            return
        msg = orjson.loads(raw)
        parent = msg.get("parent_header")
        if not parent or parent.get("msg_id") != self.target:
            return
        msg_type = msg["header"]["msg_type"]
        if msg_type == "display_data":
            if msg["content"]["data"].get("text/plain") != str(self.count):
                self.in_order = False
            self.count += 1
            self.times.append(now)
            self.dates.append(msg["header"]["date"])
            if self.count == self.expected:
                self.done_at = now
        elif msg_type == "execute_reply":
            self.reply = msg["content"]
            if self.idle and self.wants_reply:
                self.group.client_finished()
        elif msg_type == "status" and msg["content"].get("execution_state") == "idle":
            self.idle = True
            if not self.wants_reply or self.reply is not None:
                self.group.client_finished()


class FanoutGroup:
    """Some of the fan-out clients, all in this process's asyncio loop."""

    def __init__(self) -> None:
        self.clients: list[FanoutClient] = []
        self.pending = 0
        self.finished: asyncio.Event | None = None

    async def connect(self, url_for: Callable[[], str], n: int) -> None:
        async def one() -> FanoutClient:
            client = FanoutClient(self)
            request = httpclient.HTTPRequest(url_for(), connect_timeout=CONNECT_TIMEOUT,
                                             request_timeout=CONNECT_TIMEOUT)
            client.conn = await asyncio.wait_for(websocket.websocket_connect(
                request, on_message_callback=client.on_message), CONNECT_TIMEOUT)
            _nodelay(client.conn)
            return client

        # a few at a time: every connection makes the server open 3 ZMQ sockets
        for start in range(0, n, 10):
            self.clients += await asyncio.gather(*(one() for _ in range(min(10, n - start))))

    def arm(self, target: str, expected: int) -> None:
        self.finished = asyncio.Event()
        self.pending = len(self.clients)
        self.cpu0 = time.process_time()
        for client in self.clients:
            client.arm(target, expected)

    def client_finished(self) -> None:
        self.pending -= 1
        if self.pending <= 0 and self.finished is not None:
            self.finished.set()

    async def wait(self, timeout: float) -> None:
        assert self.finished is not None
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.finished.wait(), timeout)

    def result(self) -> dict[str, Any]:
        """Per-client counts and completion times, and every latency (seconds)."""
        latencies: list[float] = []
        for client in self.clients:
            latencies += [t - _epoch(d) for t, d in zip(client.times, client.dates, strict=True)]
        return {
            "counts": [c.count for c in self.clients],
            "in_order": [c.in_order for c in self.clients],
            "idle": [c.idle for c in self.clients],
            "closed": [c.closed for c in self.clients],
            "done_at": [c.done_at for c in self.clients],
            "latencies": latencies,
            "cpu": time.process_time() - self.cpu0,  # this process, during the run
        }

    def close(self) -> None:
        for client in self.clients:
            if client.conn is not None:
                client.conn.close()


def _fanout_worker(pipe: Any, ws_base: str, n: int) -> None:
    """Another process holding ``n`` clients; driven by commands on ``pipe``."""

    async def main() -> None:
        group = FanoutGroup()
        await group.connect(lambda: ws_base + f"&session_id={uuid.uuid4().hex}", n)
        pipe.send(("ready", None))
        try:
            while True:
                if not await asyncio.to_thread(pipe.poll, FANOUT_TIMEOUT * 2):
                    return
                command, target, expected = pipe.recv()
                if command != "run":
                    return
                group.arm(target, expected)
                pipe.send(("armed", None))
                await group.wait(FANOUT_TIMEOUT)
                pipe.send(("result", group.result()))
        finally:
            group.close()

    try:
        asyncio.run(main())
    except Exception as err:  # report instead of hanging the parent
        with contextlib.suppress(Exception):
            pipe.send(("error", repr(err)))


class Workers:
    """Fan-out clients in other processes (``spawn``), for ``--fanout-procs`` > 1."""

    def __init__(self, server: BenchServer, kernel_id: str, sizes: list[int]) -> None:
        ctx = multiprocessing.get_context("spawn")
        base = (f"{server.ws_base}/api/kernels/{kernel_id}/channels?token={server.token}")
        self.procs: list[Any] = []
        self.pipes: list[Any] = []
        for size in sizes:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_fanout_worker, args=(child, base, size), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.pipes.append(parent)

    async def expect(self, what: str, timeout: float) -> list[Any]:
        answers = []
        for pipe in self.pipes:
            if not await asyncio.to_thread(pipe.poll, timeout):
                raise BenchError(f"a fan-out worker did not answer ({what})")
            kind, payload = pipe.recv()
            if kind != what:
                raise BenchError(f"a fan-out worker failed: {kind} {payload}")
            answers.append(payload)
        return answers

    def send(self, *command: Any) -> None:
        for pipe in self.pipes:
            pipe.send(command)

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(Exception):
                pipe.send(("stop", None, 0))
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)


async def fanout_session(server: BenchServer, kernel_id: str, config: Config, procs: int,
                         runs: int) -> list[dict[str, Any]]:
    """Connect the clients over ``procs`` processes, warm up, ``runs`` timed runs, close."""
    n_clients, outputs = config.fan_clients, config.fan_outputs
    procs = max(1, min(procs, n_clients))
    share = [n_clients // procs + (1 if i < n_clients % procs else 0) for i in range(procs)]
    kpid = kernel_pid(server.pid)
    local = FanoutGroup()
    workers: Workers | None = None
    found: list[dict[str, Any]] = []
    try:
        if procs > 1:
            workers = Workers(server, kernel_id, share[1:])
        await local.connect(lambda: server.ws_url(kernel_id), share[0])
        if workers is not None:
            await workers.expect("ready", 60)
        sender = local.clients[0]
        sender.wants_reply = True
        assert sender.conn is not None
        await asyncio.sleep(0.5)  # let every client's kernel_info etc. settle

        async def run(expected: int) -> dict[str, Any]:
            msg = execute(fanout_code(expected), session=uuid.uuid4().hex)
            msg_id = msg["header"]["msg_id"]
            frame = json.dumps(msg)
            local.arm(msg_id, expected)
            if workers is not None:
                workers.send("run", msg_id, expected)
                await workers.expect("armed", 30)
            cpu = {"server": cpu_seconds(server.pid), "kernel": cpu_seconds(kpid)}
            machine = psutil.cpu_times() if psutil is not None else None
            sent = time.time()
            await sender.conn.write_message(frame)
            await local.wait(FANOUT_TIMEOUT)
            parts = [local.result()]
            if workers is not None:
                parts += await workers.expect("result", FANOUT_TIMEOUT + 30)
            finished = time.time()
            cpu_used = {k: cpu_seconds(p) - cpu[k] for k, p in
                        (("server", server.pid), ("kernel", kpid))}
            machine_busy = machine_steal = math.nan
            if machine is not None:
                now = psutil.cpu_times()
                spent = {f: getattr(now, f) - getattr(machine, f) for f in now._fields}
                total = sum(spent.values()) or math.nan
                machine_busy = 1 - (spent["idle"] + spent.get("iowait", 0.0)) / total
                machine_steal = spent.get("steal", 0.0) / total
            merged: dict[str, list[Any]] = {key: [] for key in
                                            ("counts", "in_order", "idle", "closed", "done_at",
                                             "latencies")}
            for part in parts:
                for key in merged:
                    merged[key] += part[key]
            cpu_used["clients"] = sum(p["cpu"] for p in parts)
            counts = Counter(merged["counts"])
            problems = []
            if counts != Counter({expected: n_clients}):
                problems.append(f"outputs per client {dict(counts)} (expected {expected} each)")
            if not all(merged["in_order"]):
                problems.append(f"{merged['in_order'].count(False)} clients saw outputs out "
                                "of order or merged")
            if not all(merged["idle"]):
                problems.append(f"{merged['idle'].count(False)} clients never saw the idle")
            if any(merged["closed"]):
                problems.append(f"{sum(merged['closed'])} WebSockets closed")
            if sender.reply is None or sender.reply.get("status") != "ok":
                problems.append(f"execute_reply {sender.reply!r}")
            done = [t for t in merged["done_at"] if not math.isnan(t)]
            last = max(done) if done and len(done) == n_clients else math.nan
            lat = sorted(merged["latencies"])
            return {
                "problems": problems,
                "delivered": sum(merged["counts"]),
                "lost": n_clients * expected - sum(min(c, expected) for c in merged["counts"]),
                "seconds_to_last": last - sent,
                "seconds_to_first_done": (min(done) - sent) if done else math.nan,
                "seconds_until_all_idle": finished - sent,
                "msgs_per_s": n_clients * expected / (last - sent),
                "latency_p50_ms": percentile(lat, 0.50) * 1e3,
                "latency_p90_ms": percentile(lat, 0.90) * 1e3,
                "latency_p99_ms": percentile(lat, 0.99) * 1e3,
                "latency_max_ms": (lat[-1] * 1e3) if lat else math.nan,
                "cpu_s": cpu_used,
                "server_cpu_us_per_delivery": cpu_used["server"] / max(1, sum(merged["counts"]))
                * 1e6,
                "machine_busy": machine_busy,  # all CPUs, send -> all idle
                "machine_steal": machine_steal,
            }

        warm = await run(min(100, outputs))  # connections and code paths warm, untimed
        if warm["problems"]:
            raise BenchError("fan-out warm-up: " + "; ".join(warm["problems"]))
        for _ in range(runs):
            await asyncio.sleep(0.3)
            found.append(await run(outputs))
    finally:
        local.close()
        if workers is not None:
            workers.close()
    return found


def _layout(procs: int) -> str:
    return "1 loop" if procs == 1 else f"{procs} procs"


async def bench_fanout(server: BenchServer, kernel_id: str, config: Config,
                       layouts: list[int]) -> dict[str, Any]:
    """``fan_runs`` runs per client layout, layouts interleaved (order rotating)."""
    result: dict[str, Any] = {"clients": config.fan_clients, "outputs": config.fan_outputs,
                              "code": fanout_code(config.fan_outputs), "layouts": {}}
    runs: dict[int, list[dict[str, Any]]] = {procs: [] for procs in layouts}
    for round_no in range(config.fan_runs):
        shift = round_no % len(layouts)
        for procs in layouts[shift:] + layouts[:shift]:
            one = (await fanout_session(server, kernel_id, config, procs, 1))[0]
            runs[procs].append(one)
            wall = one["seconds_to_last"]
            cpu = ", ".join(f"{k} {v:.2f} s ({v / wall * 100:.0f}%)"
                            for k, v in one["cpu_s"].items())
            print(f"   run {round_no + 1}, clients in {_layout(procs):<7}: "
                  f"{one['msgs_per_s']:7.0f} msgs/s, last client done after {wall:.3f} s, "
                  f"latency p50 {one['latency_p50_ms']:6.1f} ms p99 "
                  f"{one['latency_p99_ms']:6.1f} ms\n      CPU {cpu}; server "
                  f"{one['server_cpu_us_per_delivery']:.1f} us per delivered message; machine "
                  f"busy {one['machine_busy'] * 100:.0f}% (steal "
                  f"{one['machine_steal'] * 100:.0f}%)"
                  + (f"  PROBLEMS: {'; '.join(one['problems'])}" if one["problems"] else ""),
                  flush=True)
    for procs, good in runs.items():
        summary: dict[str, Any] = {"client_processes": procs, "runs": good}
        summary["ok"] = bool(good) and all(not r["problems"] for r in good)
        for key in ("msgs_per_s", "seconds_to_last", "latency_p50_ms", "latency_p99_ms",
                    "server_cpu_us_per_delivery"):
            summary[key] = median(r[key] for r in good)
        summary["lost"] = sum(r["lost"] for r in good)
        result["layouts"][_layout(procs)] = summary
    result["ok"] = all(s["ok"] for s in result["layouts"].values())
    result["lost"] = sum(s["lost"] for s in result["layouts"].values())
    return result


# -- profiling (optional) ------------------------------------------------------------


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


# Where a relay's time can go: (label, text that appears in a frame of the stack).
PROFILE_BUCKETS = (
    ("Session.deserialize (all)", "Session.deserialize ("),
    ("  of which extract_dates / dateutil", "extract_dates ("),
    ("protocol.to_json (json.dumps)", "to_json (server/protocol.py"),
    ("protocol.to_v1", "to_v1 (server/protocol.py"),
    ("protocol.from_json / from_v1", "from_"),
    ("Session.send to the kernel", "Session.send ("),
    ("KernelRelay._note_status", "_note_status ("),
    ("touch / _now (last_activity)", "_now (server/kernels.py"),
    ("WebSocket write_message (tornado)", "WebSocketProtocol13.write_message ("),
    ("IOStream writes (socket send)", "IOStream.write_to_fd ("),
    ("WebSocket frame reading (tornado)", "WebSocketProtocol13._receive_frame"),
    ("ZMQ socket recv", "Socket.recv_multipart ("),
    ("ZMQStream machinery", "ZMQStream._handle_events ("),
    ("selector wait (idle)", "select (selectors.py"),
)


def summarize_raw(path: Path, top: int = 12) -> dict[str, Any]:
    """Shares of the server's samples from py-spy ``-f raw``: by leaf, and by bucket."""
    self_time: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1]
        self_time[leaf.rsplit(":", 1)[0] + ")" if ":" in leaf else leaf] += count
        for label, text in PROFILE_BUCKETS:
            if text == "from_":
                hit = any(f.startswith(("from_json (server", "from_v1 (server")) for f in frames)
            else:
                hit = any(text in f for f in frames)
            if hit:
                buckets[label] += count
    if not total:
        return {"samples": 0, "self": [], "buckets": []}
    return {"samples": total,
            "self": [(name, n / total) for name, n in self_time.most_common(top)],
            "buckets": [(label, buckets[label] / total) for label, _ in PROFILE_BUCKETS]}


async def profile_server(server: BenchServer, kernel_id: str, config: Config, seconds: float,
                         out_dir: Path) -> dict[str, Any]:
    """py-spy the server during WS JSON round trips, then during a fan-out run."""
    tool = py_spy()
    if tool is None:
        raise BenchError("py-spy is not installed")
    found: dict[str, Any] = {}
    for phase in ("roundtrip_ws_json", "fanout"):
        raw = out_dir / f"server-{phase}.txt"
        spy = subprocess.Popen([tool, "record", "--pid", str(server.pid), "-f", "raw", "-o",
                                str(raw), "-d", str(int(seconds)), "-r", "250", "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            await asyncio.sleep(1.0)  # py-spy attaches
            done = 0
            stop_at = time.monotonic() + seconds + 30
            if phase == "fanout":
                while spy.poll() is None and time.monotonic() < stop_at:
                    await fanout_session(server, kernel_id, config, config.fan_layouts[0], 1)
                    done += 1
            else:
                ws = await WSRoundTrip.connect(server, kernel_id, binary=False)
                try:
                    started = time.perf_counter()
                    while spy.poll() is None and time.monotonic() < stop_at:
                        await ws.once()
                        done += 1
                    elapsed = time.perf_counter() - started
                finally:
                    await ws.close()
                found[f"{phase}_ms_under_profiler"] = elapsed / max(done, 1) * 1e3
            spy.wait(timeout=60)
        finally:
            if spy.poll() is None:
                spy.terminate()
                spy.wait(timeout=10)
        if not raw.exists():
            raise BenchError(f"py-spy wrote nothing: {spy.stderr.read() if spy.stderr else ''}")
        found[phase] = {"raw": str(raw), "iterations": done, **summarize_raw(raw)}
    return found


def print_profile(found: dict[str, Any]) -> None:
    for phase in ("roundtrip_ws_json", "fanout"):
        data = found[phase]
        extra = (f", {found[phase + '_ms_under_profiler']:.2f} ms per round trip"
                 if phase + "_ms_under_profiler" in found else "")
        print(f"   server during {phase}: {data['samples']} samples while busy, "
              f"{data['iterations']} iterations{extra} ({data['raw']})")
        print("     inclusive, by activity:")
        for label, share in data["buckets"]:
            print(f"       {share * 100:5.1f}%  {label}")
        print("     self time, top functions:")
        for name, share in data["self"]:
            print(f"       {share * 100:5.1f}%  {name}")


# -- main ---------------------------------------------------------------------------


def print_summary(results: dict[str, Any]) -> None:
    rows: list[tuple[str, str, str]] = []
    rt = results.get("roundtrip")
    if rt:
        for variant in VARIANTS:
            rows.append((f"round trip, {LABELS[variant]}", f"{rt[variant]['median_ms']:.3f} ms",
                         ""))
        ref = LABELS[rt["reference"]].split(", ")[1]
        paired = rt["paired_ratios"]
        for ws, ratio, variant in (("JSON", rt["ratio"], "ws_json"),
                                   ("v1", rt["ratio_v1"], "ws_v1"),
                                   ("JSON, lean client", rt["ratio_lean"], "ws_lean_json"),
                                   ("v1, lean client", rt["ratio_lean_v1"], "ws_lean_v1")):
            key = f"{variant}/{rt['reference']}"
            rows.append((f"ratio WS {ws} / ZMQ {ref}",
                         f"{ratio:.3f} (paired {paired[key]:.3f})",
                         f"<= {TARGET_RATIO:.2f} {verdict(ratio <= TARGET_RATIO)}"))
        other = "zmq_async" if rt["reference"] == "zmq_blocking" else "zmq_blocking"
        rows.append((f"ratio WS JSON / ZMQ {LABELS[other].split(', ')[1]}",
                     f"{rt['ratios']['ws_json/' + other]:.3f}", "(info)"))
    fan = results.get("fanout")
    if fan:
        tag = f"{fan['clients']}x{fan['outputs']}"
        for layout, data in fan["layouts"].items():
            rows.append((f"fan-out {tag}, clients in {layout}: delivered",
                         f"{data['msgs_per_s']:.0f} msgs/s", ""))
            rows.append((f"fan-out {tag}, clients in {layout}: last client done",
                         f"{data['seconds_to_last']:.3f} s", ""))
            rows.append((f"fan-out {tag}, clients in {layout}: latency p50 / p99",
                         f"{data['latency_p50_ms']:.1f} / {data['latency_p99_ms']:.1f} ms", ""))
            rows.append((f"fan-out {tag}, clients in {layout}: server CPU per delivery",
                         f"{data['server_cpu_us_per_delivery']:.1f} us", ""))
        rows.append(("fan-out: messages lost (all runs)", str(fan["lost"]),
                     "0 " + ("ok" if fan["ok"] else "FAILED")))
    if not rows:
        return
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print("\nSummary (medians)")
    print(f"  {'benchmark':<{width}}  {'value':>{value_width}}  target")
    for name, value, target in rows:
        print(f"  {name:<{width}}  {value:>{value_width}}  {target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--only", choices=("roundtrip", "fanout"), action="append",
                        help="run only these benchmarks (repeatable)")
    parser.add_argument("--fanout-procs", default=None, metavar="N[,N...]",
                        help="client layouts for the fan-out, interleaved: 1 = one asyncio "
                             "loop here, 2 = this process and one more (default 1,2)")
    parser.add_argument("--profile", type=float, metavar="SECONDS", default=0,
                        help="afterwards, py-spy the server for SECONDS during WS round trips "
                             "and during fan-out runs, and print where its time goes")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    if args.fanout_procs is not None:
        config.fan_layouts = tuple(int(n) for n in args.fanout_procs.split(","))
    selected = set(args.only or ("roundtrip", "fanout"))
    results: dict[str, Any] = {
        "quick": args.quick, **machine(), "config": asdict(config),
    }
    started = time.perf_counter()
    failed = False
    server: BenchServer | None = None
    kernel_id: str | None = None
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        try:
            server = BenchServer(Path(tmp), "bench-" + uuid.uuid4().hex)
            kernel_id = start_kernel(server)
            results["kernel_id"] = kernel_id
            print(f"server pid {server.pid}, kernel {kernel_id} (pid {kernel_pid(server.pid)}), "
                  f"{os.cpu_count()} CPUs", flush=True)
            if "roundtrip" in selected:
                print(f"1. round trip: `pass`, {config.rt_warmup} warm-ups per variant, then "
                      f"{config.rt_blocks} rounds of {len(VARIANTS)} rotating blocks of "
                      f"{config.rt_block} (+{config.rt_block_warmup} untimed each)", flush=True)
                rt = asyncio.run(bench_roundtrip(server, kernel_id, config))
                results["roundtrip"] = rt
                for variant in VARIANTS:
                    r = rt[variant]
                    cpu = " ".join(f"{k} {v:.2f}" for k, v in r["cpu_ms_per_request"].items())
                    print(f"   {LABELS[variant]:<24} median {r['median_ms']:.3f} ms "
                          f"(p10 {r['p10_ms']:.3f}, p90 {r['p90_ms']:.3f}, n={r['n']}); "
                          f"CPU ms per request: {cpu}")
                for key, value in rt["ratios"].items():
                    print(f"   ratio {key:<24} {value:.3f} (paired by block "
                          f"{rt['paired_ratios'][key]:.3f})")
                print(f"   WS JSON / {rt['reference']}: {rt['ratio']:.3f} "
                      f"[target <= {TARGET_RATIO}: {verdict(rt['met'])}]", flush=True)
            if "fanout" in selected:
                how = " and ".join(_layout(p) for p in config.fan_layouts)
                print(f"2. fan-out: {config.fan_clients} WebSocket clients, one cell with "
                      f"{config.fan_outputs} display() calls; clients in {how} (interleaved), "
                      f"{config.fan_runs} runs each, each on fresh connections after a "
                      "100-output warm-up", flush=True)
                fan = asyncio.run(bench_fanout(server, kernel_id, config,
                                               list(config.fan_layouts)))
                results["fanout"] = fan
                if not fan["ok"]:
                    failed = True
            if args.profile > 0:
                print(f"3. profile: py-spy on the server, {args.profile:.0f} s per phase",
                      flush=True)
                out_dir = Path(tempfile.gettempdir())
                found = asyncio.run(profile_server(server, kernel_id, config, args.profile,
                                                   out_dir))
                results["profile"] = found
                print_profile(found)
        except Exception as err:
            failed = True
            print(f"FAILED: {err!r}", file=sys.stderr)
            if server is not None:
                print("--- last lines of the server's log:\n" + server.tail(), file=sys.stderr)
        finally:
            if server is not None:
                try:
                    if kernel_id is not None:
                        with contextlib.suppress(Exception):
                            server.http("DELETE", f"/api/kernels/{kernel_id}")
                finally:
                    server.stop()
    results["elapsed_s"] = time.perf_counter() - started
    results["failed"] = failed
    print_summary(results)
    return finish(results, args.json, failed)


if __name__ == "__main__":
    sys.exit(main())
