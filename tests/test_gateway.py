"""A stock ``jupyter server --gateway-url`` running its kernels on reactive-server."""

from __future__ import annotations

import asyncio
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado import httpclient

from .server_harness import ServerProcess, WSClient, execute, free_port, stop_process

JUPYTER_TOKEN = "jupyter-" + uuid.uuid4().hex[:8]



class JupyterServer:
    """jupyter_server's ServerApp with --gateway-url pointing at our server."""

    def __init__(self, gateway: ServerProcess, root: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={self.port}",
             "--allow-root",
             "--ip=127.0.0.1", f"--IdentityProvider.token={JUPYTER_TOKEN}",
             f"--ServerApp.root_dir={root}",
             f"--gateway-url=http://127.0.0.1:{gateway.port}",
             f"--GatewayClient.auth_token={gateway.token}",
             "--GatewayClient.request_timeout=60"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log: list[str] = []
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.append(line)
                lines.put(line)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 90
        while True:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if self.proc.poll() is None and time.monotonic() < deadline:
                    continue
                raise RuntimeError("jupyter server did not start:\n" + "".join(self.log)) \
                    from None
            if re.search(rf"127\.0\.0\.1:{self.port}/", line):
                break
        # Give the HTTP server a moment to accept: poll the API, bounded.
        for _ in range(100):
            try:
                if self.get("/api/status")[0] == 200:
                    break
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)

    def get(self, path: str, method: str = "GET", body: str | None = None) -> tuple[int, str]:
        client = httpclient.HTTPClient()
        try:
            response = client.fetch(
                f"http://127.0.0.1:{self.port}{path}", method=method, body=body,
                headers={"Authorization": f"token {JUPYTER_TOKEN}"}, raise_error=False,
                request_timeout=90)
        finally:
            client.close()
        return response.code, response.body.decode() if response.body else ""

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess,
                                                                      JupyterServer]]:
    ours = ServerProcess(tmp_path_factory.mktemp("gateway-root"))
    try:
        jupyter = JupyterServer(ours, tmp_path_factory.mktemp("jupyter-root"))
        try:
            yield ours, jupyter
        finally:
            jupyter.stop()
    finally:
        ours.stop()


def test_stock_jupyter_server_runs_a_cascade_through_the_gateway(
        stack: tuple[ServerProcess, JupyterServer]) -> None:
    import json

    ours, jupyter = stack
    status, body = jupyter.get("/api/kernelspecs")
    assert status == 200, body
    assert "reactive" in json.loads(body)["kernelspecs"]
    status, body = jupyter.get("/api/kernels", "POST", json.dumps({"name": "reactive"}))
    assert status == 201, body + "".join(jupyter.log[-20:])
    kernel_id = json.loads(body)["id"]
    # The kernel lives on our server.
    assert ours.http("GET", f"/api/kernels/{kernel_id}")[0] == 200

    class Proxy:  # WSClient.connect needs ws_base and a token
        ws_base = f"ws://127.0.0.1:{jupyter.port}"
        token = JUPYTER_TOKEN

    async def scenario() -> None:
        client = await WSClient.connect(Proxy, kernel_id)  # type: ignore[arg-type]
        try:
            await client.run(execute("gw_a = 1", "gw-A"))
            first = await client.run(execute("gw_b = gw_a + 1\nprint('b is', gw_b)", "gw-B"))
            assert first["content"]["status"] == "ok"
            edit = await client.run(execute("gw_a = 5", "gw-A"))
            assert edit["metadata"]["reactive"]["ran"] == ["gw-A", "gw-B"]
            await client.until(lambda m: m.get("msg_type") == "stream"
                               and m["metadata"].get("cellId") == "gw-B"
                               and "b is 6" in m["content"]["text"])
        finally:
            client.close()

    asyncio.run(asyncio.wait_for(scenario(), 120))
    status, _ = jupyter.get(f"/api/kernels/{kernel_id}", "DELETE")
    assert status == 204
