"""The server under a client that stops reading, with a real server, kernel and
WebSocket clients on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado import httpclient, websocket

from .server_harness import ServerProcess, WSClient, execute


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def small_buffer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("slow"), "slow-token",
                           "--client-buffer", str(512 * 1024))
    yield server
    server.stop()


def test_a_client_that_stops_reading_is_cut_off_with_a_reason(
        small_buffer_server: ServerProcess) -> None:
    """A client that stops reading while a cell prints megabytes: the server's memory
    stays bounded, the reading client gets every output, and the one that did not read
    is disconnected with a close reason it can read."""
    server = small_buffer_server
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201
    url = f"{server.ws_base}/api/kernels/{model['id']}/channels?token={server.token}"
    lines, width = 60_000, 400  # about 24 MB of text, more in messages

    async def scenario() -> tuple[int, str | None, int, int]:
        idle = await websocket.websocket_connect(httpclient.HTTPRequest(url),
                                                 max_message_size=1 << 30)
        reader = await websocket.websocket_connect(httpclient.HTTPRequest(url),
                                                   max_message_size=1 << 30)
        before = rss_kib(server.proc.pid)
        request = execute(f"for i in range({lines}):\n    print(str(i).rjust({width}, '.'))",
                          "slow-cell")
        reader.write_message(json.dumps(request))
        seen, peak, reply = 0, before, None
        while reply is None:
            raw = await asyncio.wait_for(reader.read_message(), 120)
            assert raw is not None, "the reading client was cut off"
            msg = json.loads(raw)
            if msg["msg_type"] == "stream":
                seen += msg["content"]["text"].count("\n")
                peak = max(peak, rss_kib(server.proc.pid))
            elif msg["msg_type"] == "execute_reply":
                reply = msg["content"]
        assert reply["status"] == "ok"
        while seen < lines:  # stream text after the reply, if any
            msg = json.loads(await asyncio.wait_for(reader.read_message(), 60))
            if msg["msg_type"] == "stream":
                seen += msg["content"]["text"].count("\n")
        # The client that did not read: what reached it, then the close.
        while await asyncio.wait_for(idle.read_message(), 30) is not None:
            pass
        reader.close()
        return seen, idle.close_reason, idle.close_code or 0, peak - before

    seen, reason, code, growth_kib = asyncio.run(scenario())
    assert seen == lines
    assert code == 1008 and reason is not None and re.match(r"too slow: more than", reason)
    assert growth_kib < 200 * 1024, f"server grew by {growth_kib} KiB"
    status, _ = server.http("GET", "/api/kernels")
    assert status == 200  # and it keeps serving


def test_restarts_during_an_automatic_restart_wait_instead_of_failing(
        small_buffer_server: ServerProcess) -> None:
    """The kernel dies (os._exit) and the server restarts it; restarts, interrupts and
    a second client's restart asked meanwhile wait for it (or say 409), never 500, and
    the kernel works afterwards."""
    server = small_buffer_server
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201
    kernel = model["id"]
    url = f"{server.ws_base}/api/kernels/{kernel}/channels?token={server.token}"

    async def scenario() -> list[int]:
        client = await websocket.websocket_connect(httpclient.HTTPRequest(url))
        client.write_message(json.dumps(execute("import os\nos._exit(1)", "die")))
        while True:  # the server says the kernel is restarting
            msg = json.loads(await asyncio.wait_for(client.read_message(), 30))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "restarting":
                break
        http = httpclient.AsyncHTTPClient()

        async def post(action: str) -> int:
            response = await http.fetch(
                f"{server.base}/api/kernels/{kernel}/{action}", method="POST", body="",
                headers={"Authorization": f"token {server.token}"}, raise_error=False,
                request_timeout=120)
            if response.code >= 400:
                assert json.loads(response.body)["message"]  # a JSON reason
            return response.code

        codes = await asyncio.gather(post("restart"), post("restart"), post("interrupt"))
        client.close()
        return list(codes)

    codes = asyncio.run(scenario())
    assert all(code in (200, 204, 409) for code in codes), codes
    assert codes.count(200) >= 1, codes

    async def works() -> str:
        client = await websocket.websocket_connect(httpclient.HTTPRequest(url))
        client.write_message(json.dumps(execute("rl_x = 6 * 7\nrl_x", "after")))
        while True:
            msg = json.loads(await asyncio.wait_for(client.read_message(), 30))
            if msg["msg_type"] == "execute_result":
                client.close()
                return str(msg["content"]["data"]["text/plain"])

    assert asyncio.run(works()) == "42"


def test_the_server_registers_a_notebooks_cells_in_its_restarted_kernel(
        small_buffer_server: ServerProcess) -> None:
    """After a restart, asked for or not (the kernel died), the server registers the
    notebook's saved cells in the new kernel, once, and tells every client
    (``kernel_ready`` with the file's version): a client that runs a reader finds
    the cell defining what it reads, as in the old kernel, without registering
    anything itself."""
    server = small_buffer_server
    status, created = server.http("POST", "/api/notebooks", {"path": "restarted.ipynb"})
    assert status == 201
    path = created["path"]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"id": "rr-a", "cell_type": "code", "metadata": {}, "outputs": [],
         "execution_count": None, "source": "rr_a = 20"},
        {"id": "rr-b", "cell_type": "code", "metadata": {}, "outputs": [],
         "execution_count": None, "source": "print('b', rr_a + 1)"},
    ]}
    status, saved = server.http("PUT", f"/api/notebooks/{path}",
                                {"notebook": notebook, "version": created["version"]})
    assert status == 200, saved
    status, started = server.http("POST", f"/api/notebooks/{path}/kernel", {})
    assert status == 200 and set(started["graph"]["cells"]) == {"rr-a", "rr-b"}
    assert started["version"] == saved["version"]
    kernel = started["kernel"]["id"]

    async def scenario() -> None:
        client = await WSClient.connect(server, kernel)
        try:
            reply = await client.run(execute("print('b', rr_a + 1)", "rr-b"))
            assert reply["content"]["status"] == "ok" and client.texts("rr-b") == "b 21\n"
            for how in ("requested", "died"):
                client.received.clear()
                if how == "requested":
                    status, model = await asyncio.get_running_loop().run_in_executor(
                        None, server.http, "POST", f"/api/kernels/{kernel}/restart", {})
                    assert status == 200
                    assert model["kernel_ready"] == {"reason": "requested", "registered": True,
                                                     "version": saved["version"]}
                else:
                    await client.send(execute("import os\nos._exit(1)", "rr-die"))
                ready = await client.until(lambda m: m.get("msg_type") == "kernel_ready", 90)
                assert ready["content"] == {"reason": how, "registered": True,
                                            "version": saved["version"]}
                # rr_a is gone with the old kernel; the new one knows which cell defines
                # it and runs that cell first.
                client.received.clear()
                reply = await client.run(execute("print('b', rr_a + 1)", "rr-b"))
                assert reply["content"]["status"] == "ok", reply["content"]
                assert reply["metadata"]["reactive"]["restored"] == ["rr-a"]
                assert client.texts("rr-b") == "b 21\n"
        finally:
            client.conn.close()

    asyncio.run(scenario())
