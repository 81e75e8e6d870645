"""The server under load, real kernels and WebSocket clients on 127.0.0.1: many
clients each driving its own kernel, and many clients watching one kernel's
broadcast.  Nothing may be lost, every reply must match its request, and the
server's memory must come back down.

``make test`` runs a short version; ``make test-reliability`` the full one
(``LOAD=full``: 20 clients x 1,000 executes, 50 watchers), whose figures the
README reports.  Figures are printed (``-s``), not asserted: tests check
behaviour, benchmarks report numbers."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado import httpclient, websocket

from .server_harness import ServerProcess, execute

FULL = os.environ.get("LOAD") == "full"
CLIENTS, EXECUTES = (20, 1000) if FULL else (3, 60)
WATCHERS, BROADCAST_LINES = (50, 2000) if FULL else (8, 300)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("load"), "load-token")
    yield proc
    proc.stop()


async def connect(server: ServerProcess, kernel_id: str) -> websocket.WebSocketClientConnection:
    request = httpclient.HTTPRequest(
        f"{server.ws_base}/api/kernels/{kernel_id}/channels?token={server.token}",
        request_timeout=60)
    return await websocket.websocket_connect(request, max_message_size=64 << 20)


async def drive(server: ServerProcess, kernel_id: str, n: int) -> list[float]:
    """``n`` executes, one after another, on one kernel: each reply must answer its
    own request and carry that request's output; the round trips (ms)."""
    conn = await connect(server, kernel_id)
    latencies = []
    try:
        for i in range(n):
            msg = execute(f"print({i})", f"load-{i % 7}")
            msg_id = msg["header"]["msg_id"]
            started = time.perf_counter()
            await conn.write_message(json.dumps(msg))
            text, replied, idle = "", False, False
            while not (replied and idle):
                raw = await asyncio.wait_for(conn.read_message(), 60)
                assert raw is not None, "the server closed the socket"
                got = json.loads(raw)
                parent = got.get("parent_header", {}).get("msg_id")
                kind = got.get("msg_type")
                if parent != msg_id:
                    # Only this client's kernel, only this client's requests (and what
                    # the server sends every new connection: kernel info, the graph).
                    assert kind in ("status", "kernel_info_reply", "reactive_graph_reply") \
                        or got.get("channel") == "server", got
                    continue
                if kind == "stream":
                    text += got["content"]["text"]
                elif kind == "execute_reply":
                    assert got["content"]["status"] == "ok", got["content"]
                    replied = True
                elif kind == "status" and got["content"]["execution_state"] == "idle":
                    idle = True
            latencies.append((time.perf_counter() - started) * 1000)
            assert text == f"{i}\n", (i, text)
    finally:
        conn.close()
    return latencies


def test_many_clients_each_on_its_own_kernel(server: ServerProcess) -> None:
    kernels = []
    for _ in range(CLIENTS):
        status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
        assert status == 201, model
        kernels.append(model["id"])
    gc.collect()
    before = rss_mib(server.proc.pid)

    async def everyone() -> list[list[float]]:
        return list(await asyncio.gather(*(drive(server, k, EXECUTES) for k in kernels)))

    started = time.monotonic()
    results = asyncio.run(asyncio.wait_for(everyone(), 1800))
    elapsed = time.monotonic() - started
    peak = rss_mib(server.proc.pid)
    latencies = [ms for one in results for ms in one]
    assert len(latencies) == CLIENTS * EXECUTES
    for kernel in kernels:
        assert server.http("DELETE", f"/api/kernels/{kernel}")[0] == 204
    after = rss_mib(server.proc.pid)
    print(f"\nload: {CLIENTS} clients x {EXECUTES} executes on their own kernels in "
          f"{elapsed:.1f} s ({len(latencies) / elapsed:.0f}/s); round trip p50 "
          f"{percentile(latencies, 0.5):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms; "
          f"server RSS {before:.0f} MiB before, {peak:.0f} at the end, {after:.0f} after "
          f"the kernels were shut down")
    # The server keeps nothing per message: what it holds does not grow with the count.
    assert after - before < 64, (before, peak, after)


def test_many_clients_watching_one_kernel_see_everything(server: ServerProcess) -> None:
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201
    kernel = model["id"]
    code = f"for i in range({BROADCAST_LINES}):\n    print(i)"
    expected = "".join(f"{i}\n" for i in range(BROADCAST_LINES))

    async def scenario() -> tuple[list[str], float, float]:
        watchers = [await connect(server, kernel) for _ in range(WATCHERS)]
        sender = await connect(server, kernel)
        msg = execute(code, "broadcast")
        msg_id = msg["header"]["msg_id"]

        async def watch(conn: websocket.WebSocketClientConnection) -> str:
            text = ""
            while True:
                raw = await asyncio.wait_for(conn.read_message(), 120)
                assert raw is not None, "a watcher was disconnected"
                got = json.loads(raw)
                if got.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if got["msg_type"] == "stream":
                    text += got["content"]["text"]
                elif got["msg_type"] == "status" and \
                        got["content"]["execution_state"] == "idle":
                    return text

        gc_before = rss_mib(server.proc.pid)
        started = time.monotonic()
        tasks = [asyncio.ensure_future(watch(c)) for c in [*watchers, sender]]
        await sender.write_message(json.dumps(msg))
        texts = await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        peak = rss_mib(server.proc.pid)
        for conn in [*watchers, sender]:
            conn.close()
        print(f"\nbroadcast: {BROADCAST_LINES} lines to {WATCHERS + 1} clients of one kernel "
              f"in {elapsed:.2f} s; server RSS {gc_before:.0f} -> {peak:.0f} MiB")
        return list(texts), gc_before, peak

    texts, _, _ = asyncio.run(asyncio.wait_for(scenario(), 600))
    assert len(texts) == WATCHERS + 1
    for text in texts:
        assert text == expected  # every line, in order, for every client
    assert server.http("DELETE", f"/api/kernels/{kernel}")[0] == 204
