"""The server under a client that stops reading, with a real server, kernel and
WebSocket clients on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado import httpclient, websocket

from .server_harness import ServerProcess, WSClient, execute, message

#: ``LOAD=full`` (``make test-reliability``): the long versions.
FULL = os.environ.get("LOAD") == "full"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def small_buffer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # 8 MiB: the reading client, four times that behind at most, can never be cut off
    # by the hard bound on a slow machine; only the client that reads nothing is.
    server = ServerProcess(tmp_path_factory.mktemp("slow"), "slow-token",
                           "--client-buffer", str(8 << 20))
    yield server
    server.stop()


class IdleClient:
    """A WebSocket client that stops reading right after the handshake, on a socket
    with a small receive buffer (Linux would otherwise let an unread loopback socket
    take tens of megabytes, and tornado's client reads ahead of its caller)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, server: ServerProcess, path: str) -> IdleClient:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 10)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                     .encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def drain(self, timeout: float) -> tuple[int, str | None]:
        """Reads what reached it, then the close frame: its code and reason, or
        ``(0, None)`` if the server dropped the connection without one."""
        try:
            while True:
                head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
                size = head[1] & 0x7F
                if size >= 126:
                    wide = await self.reader.readexactly(2 if size == 126 else 8)
                    size = int.from_bytes(wide, "big")
                payload = await asyncio.wait_for(self.reader.readexactly(size), timeout)
                if head[0] & 0x0F == 8:  # close
                    code = int.from_bytes(payload[:2], "big") if payload else 0
                    return code, payload[2:].decode() if payload else None
        except asyncio.IncompleteReadError:
            return 0, None
        finally:
            self.writer.close()


def slow_client(server: ServerProcess, setup: list[dict[str, Any]],
                request: dict[str, Any], expected: int, read_within_10s: bool = True) -> None:
    """Two clients on one kernel: one reads everything, the other reads nothing.  The
    ``setup`` messages are sent (and answered) first; then ``request`` makes the kernel
    send ``expected`` outputs (stream lines and display_data messages, counted).  The
    reading client gets every one, the one that did not read is disconnected (with a
    close reason it reads if it reads again within 10 s: ``read_within_10s``), the
    server's memory stays bounded and it keeps serving."""
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201
    url = f"{server.ws_base}/api/kernels/{model['id']}/channels?token={server.token}"

    def cut_off() -> int:
        return sum("does not read its messages" in line for line in list(server.log))

    cut_before = cut_off()

    def outputs(msg: dict[str, Any]) -> int:
        if msg["msg_type"] == "stream":
            return int(msg["content"]["text"].count("\n"))
        return 1 if msg["msg_type"] == "display_data" else 0

    async def answered(client: Any, sent: dict[str, Any], timeout: float) -> tuple[int, Any]:
        seen, reply = 0, None
        while reply is None:
            raw = await asyncio.wait_for(client.read_message(), timeout)
            assert raw is not None, "the reading client was cut off"
            msg = json.loads(raw)
            seen += outputs(msg)
            if msg["parent_header"].get("msg_id") == sent["header"]["msg_id"] and \
                    msg["msg_type"].endswith("_reply"):
                reply = msg["content"]
        return seen, reply

    async def scenario() -> tuple[int, str | None, int, int]:
        reader = await websocket.websocket_connect(httpclient.HTTPRequest(url),
                                                   max_message_size=1 << 30)
        for message_ in setup:
            reader.write_message(json.dumps(message_))
            await answered(reader, message_, 120)
        idle = await IdleClient.connect(
            server, f"/api/kernels/{model['id']}/channels?token={server.token}")
        before = rss_kib(server.proc.pid)
        reader.write_message(json.dumps(request))
        seen, reply = await answered(reader, request, 300)
        assert reply["status"] == "ok"
        peak = rss_kib(server.proc.pid)
        while seen < expected:  # output after the reply, if any
            seen += outputs(json.loads(await asyncio.wait_for(reader.read_message(), 60)))
            peak = max(peak, rss_kib(server.proc.pid))
        # The idle client is cut off once it has left its backlog untouched for the
        # server's grace period (a few seconds), whenever the burst ends.
        deadline = time.monotonic() + 60
        while cut_off() == cut_before:
            assert time.monotonic() < deadline, "the idle client was never cut off"
            await asyncio.sleep(0.05)
            peak = max(peak, rss_kib(server.proc.pid))
        code, reason = await idle.drain(60)  # what reached it, then the close
        reader.close()
        return seen, reason, code, peak - before

    seen, reason, code, growth_kib = asyncio.run(scenario())
    assert seen == expected
    assert cut_off() > cut_before  # the server cut the idle client off, and said so
    if read_within_10s:
        assert code == 1008 and reason is not None and re.match(r"too slow: more than", reason)
    else:
        # It read nothing for more than 10 s after its close frame was queued: dropped.
        assert code in (0, 1008)
    assert growth_kib < 200 * 1024, f"server grew by {growth_kib} KiB"
    status, _ = server.http("GET", "/api/kernels")
    assert status == 200  # and it keeps serving


def test_a_client_that_stops_reading_is_cut_off_with_a_reason(
        small_buffer_server: ServerProcess) -> None:
    """A cell prints about 24 MB (60,000 lines of 400 characters)."""
    lines, width = 60_000, 400
    slow_client(small_buffer_server, [], execute(
        f"for i in range({lines}):\n    print(str(i).rjust({width}, '.'))", "slow-cell"),
        lines)


@pytest.mark.skipif(not FULL, reason="the long version: LOAD=full (make test-reliability)")
def test_a_slow_client_during_a_cascade_of_100000_outputs(
        small_buffer_server: ServerProcess) -> None:
    """Editing a root re-runs 100 cells that each display 1,000 values: 100,000
    display_data messages in one cascade."""
    cells = [{"cellId": "root", "code": "base = 0"}] + [
        {"cellId": f"many-{i}", "code": f"for j in range(1000):\n    display(base + {i} + j)"}
        for i in range(100)]
    register = message("reactive_graph_request",
                       {"register": cells, "order": [c["cellId"] for c in cells]})
    # The cascade takes longer than the 10 s the server waits for a cut-off client to
    # read its close frame: this one only reads again at the end, and was dropped.
    # Each cell runs once first (cells registered but never run are stale, not re-run).
    runs = [execute(c["code"], c["cellId"]) for c in cells]
    slow_client(small_buffer_server, [register, *runs], execute("base = 1", "root"), 100_000,
                read_within_10s=False)


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


def test_a_page_opened_as_its_kernel_dies_gets_the_same_kernel_back(
        small_buffer_server: ServerProcess) -> None:
    """A page load (``POST /api/notebooks/{path}/kernel``) just after the notebook's
    kernel died waits for the restart under way and gets that kernel, not a second
    one next to it (which the other tabs would never see)."""
    server = small_buffer_server
    assert server.http("POST", "/api/notebooks", {"path": "reopened.ipynb"})[0] == 201
    status, opened = server.http("POST", "/api/notebooks/reopened.ipynb/kernel")
    assert status == 200, opened
    kernel = opened["kernel"]["id"]

    async def kernel_pid() -> int:
        client = await WSClient.connect(server, kernel)
        try:
            await client.run(execute("import os\nprint(os.getpid())", "ro-pid"))
            return int(client.texts("ro-pid"))
        finally:
            client.close()

    pid = asyncio.run(asyncio.wait_for(kernel_pid(), 60))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not dead(pid):  # the kernel's process is gone: the restarter has yet to see
        assert time.monotonic() < deadline
        time.sleep(0.01)
    status, again = server.http("POST", "/api/notebooks/reopened.ipynb/kernel")
    assert status == 200, again
    assert again["kernel"]["id"] == kernel
    listed = [k["id"] for k in server.http("GET", "/api/kernels")[1]
              if k["notebook"] == "reopened.ipynb"]
    assert listed == [kernel]


def dead(pid: int) -> bool:
    """Whether the process has ended: gone, or a zombie its parent has not reaped yet
    (all its threads ended: a parent's wait sees it only then)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return fields["State"].split()[0] in ("Z", "X") and int(fields["Threads"]) <= 1


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_requests_waiting_for_a_busy_kernel_share_one_socket(
        small_buffer_server: ServerProcess) -> None:
    """Cell moves and page loads during a long run each leave the kernel a request
    it answers when the run ends (its cell order, the notebook's cells): they wait
    on one socket, not one each (ZeroMQ allows 1023 sockets, then new WebSockets
    fail), and the kernel takes them all once free."""
    server = small_buffer_server
    status, created = server.http("POST", "/api/notebooks", {"path": "busy.ipynb"})
    assert status == 201
    cell = created["notebook"]["cells"][0]["id"]
    status, model = server.http("POST", "/api/notebooks/busy.ipynb/cells",
                                {"version": created["version"], "index": 1})
    assert status == 201
    status, opened = server.http("POST", "/api/notebooks/busy.ipynb/kernel")
    assert status == 200
    kernel = opened["kernel"]["id"]
    version = model["version"]

    async def scenario() -> int:
        client = await WSClient.connect(server, kernel)
        busy = execute("import time\ntime.sleep(120)", cell)
        await client.send(busy)
        await client.until(lambda m: m.get("msg_type") == "execute_input")
        before = open_fds(server.proc.pid)
        loop = asyncio.get_running_loop()
        http = httpclient.AsyncHTTPClient(force_instance=True, max_clients=100)
        opens = [http.fetch(f"{server.base}/api/notebooks/busy.ipynb/kernel", method="POST",
                            body="", headers={"Authorization": f"token {server.token}"},
                            request_timeout=60) for _ in range(100)]
        nonlocal version
        for i in range(100):
            status, moved = await loop.run_in_executor(
                None, server.http, "POST", f"/api/notebooks/busy.ipynb/cells/{cell}/move",
                {"version": version, "index": (i + 1) % 2})
            assert status == 200, moved
            version = moved["version"]
        assert all(r.code == 200 for r in await asyncio.gather(*opens))
        http.close()
        grown = open_fds(server.proc.pid) - before
        status, _ = await loop.run_in_executor(
            None, server.http, "POST", f"/api/kernels/{kernel}/interrupt")
        assert status == 204
        await client.until(lambda m: m.get("msg_type") == "execute_reply"
                           and m["parent_header"]["msg_id"] == busy["header"]["msg_id"])
        reply = await client.run(execute("1", "after-the-run"))
        assert reply["content"]["status"] == "ok"
        client.close()
        return grown

    grown = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert grown < 20, f"{grown} more file descriptors with 200 requests waiting"
    assert server.http("DELETE", f"/api/kernels/{kernel}")[0] == 204


# -- faults: the disk, the server's death, kernels that do not start ------------------

def hidden_leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def big_notebook(tag: str, kib: int) -> dict[str, object]:
    line = f"# {tag} " + "x" * 60 + "\n"
    source = line * (kib * 1024 // len(line))
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [],
                       "execution_count": None, "source": source} for i in range(4)]}


def test_a_full_disk_during_a_save_says_so_and_keeps_the_old_file(
        tmp_path: Path) -> None:
    """The file system refuses the write (simulated with RLIMIT_FSIZE on the server
    process: writes past 64 KiB fail as on a full disk): the client gets a clear
    error, the file on disk is the old one byte for byte, no temporary file is left,
    and a save that fits still works."""
    import resource

    server = ServerProcess(tmp_path, "disk-token")
    try:
        status, created = server.http("POST", "/api/notebooks", {"path": "full.ipynb"})
        assert status == 201
        before = (tmp_path / "full.ipynb").read_bytes()
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
        status, body = server.http("PUT", "/api/notebooks/full.ipynb",
                                   {"notebook": big_notebook("big", 256),
                                    "version": created["version"]})
        assert status == 507, body
        assert "not enough space" in body["message"] and "unchanged" in body["message"]
        assert "Traceback" not in json.dumps(body)
        assert (tmp_path / "full.ipynb").read_bytes() == before
        assert hidden_leftovers(tmp_path) == []
        status, saved = server.http("PUT", "/api/notebooks/full.ipynb",
                                    {"notebook": big_notebook("small", 4),
                                     "version": created["version"]})
        assert status == 200, saved
        assert "# small" in (tmp_path / "full.ipynb").read_text()
    finally:
        server.stop()


def test_a_server_killed_mid_save_leaves_the_old_or_the_new_file(tmp_path: Path) -> None:
    """SIGKILL of the server while it writes a large notebook, at several moments of
    the save: the file on disk is always a whole notebook, the old or the new one."""
    import threading
    import time

    server = ServerProcess(tmp_path, "kill-token")
    status, created = server.http("POST", "/api/notebooks", {"path": "kill.ipynb"})
    assert status == 201
    status, model = server.http("PUT", "/api/notebooks/kill.ipynb",
                                {"notebook": big_notebook("gen-0", 4096),
                                 "version": created["version"]})
    assert status == 200
    started = time.monotonic()
    status, model = server.http("PUT", "/api/notebooks/kill.ipynb",
                                {"notebook": big_notebook("gen-1", 4096),
                                 "version": model["version"]})
    save_s = time.monotonic() - started
    assert status == 200
    server.stop()
    outcomes: list[tuple[float, str]] = []

    def kill_after(delay: float, tag: str) -> str:
        """Send a save of a new generation, SIGKILL the server ``delay`` s later; what
        the disk holds then ("old", "new", or "mid-write" with the old file)."""
        server = ServerProcess(tmp_path, "kill-token")
        try:
            version = server.http("GET", "/api/notebooks/kill.ipynb")[1]["version"]
            old = (tmp_path / "kill.ipynb").read_bytes()
            body = {"notebook": big_notebook(tag, 4096), "version": version}

            def send() -> None:
                with contextlib.suppress(Exception):  # the server dies under it
                    server.http("PUT", "/api/notebooks/kill.ipynb", body)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            time.sleep(delay)
            server.proc.kill()
            server.proc.wait(30)
            sender.join(60)
        finally:
            server.stop()
        data = (tmp_path / "kill.ipynb").read_bytes()
        notebook = json.loads(data)  # whole, valid JSON
        assert len(notebook["cells"]) == 4
        if data != old:
            assert f"# {tag} " in "".join(notebook["cells"][0]["source"])
            return "new"
        if hidden_leftovers(tmp_path):  # killed while it wrote its temporary file
            for leftover in hidden_leftovers(tmp_path):
                (tmp_path / leftover).unlink()
            return "mid-write"
        return "old"

    # Coarse moments across the save, then halving the gap between the last kill that
    # left the old file and the first that left the new one: the last kills land
    # around the write itself.
    low, high = 0.0, save_s * 1.5
    for step in range(9):
        delay = save_s * (0.2 + 0.4 * step) if step < 3 else (low + high) / 2
        outcome = kill_after(delay, f"gen-{step + 2}")
        outcomes.append((round(delay, 3), outcome))
        if step >= 2 or outcome != "new":
            if outcome == "new":
                high = min(high, delay)
            else:
                low = max(low, delay)
    print("kills (delay s, file):", outcomes, "a save takes", round(save_s, 3), "s")
    assert {o for _, o in outcomes} <= {"old", "new", "mid-write"}


MUTE = "import time; time.sleep(600)  # reactive-test-mute-kernel"


@pytest.fixture(scope="module")
def odd_kernels_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that knows two broken kernelspecs: one whose process never answers,
    one whose process exits at once."""
    import sys

    base = tmp_path_factory.mktemp("oddkernels")
    for name, argv in (("mute", [sys.executable, "-c", MUTE, "{connection_file}"]),
                       ("dead", [sys.executable, "-c", "raise SystemExit(3)"])):
        spec = base / "jupyter" / "kernels" / name
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps(
            {"argv": argv, "display_name": name, "language": "python"}))
    root = base / "root"
    root.mkdir()
    server = ServerProcess(root, "odd-token", "--kernel-ready-timeout", "3",
                           env={"JUPYTER_PATH": str(base / "jupyter")})
    yield server
    server.stop()


def mute_processes() -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"reactive-test-mute-kernel" in cmdline:
                found.append(int(proc.name))
    return found


@pytest.mark.parametrize(("name", "why"), [("mute", "did not answer kernel_info within 3 s"),
                                            ("dead", "ended before it answered")])
def test_a_kernel_that_does_not_start_is_reported_and_stopped(
        odd_kernels_server: ServerProcess, name: str, why: str) -> None:
    server = odd_kernels_server
    status, body = server.http("POST", "/api/kernels", {"name": name})
    assert status == 503, body
    assert why in body["message"]
    assert server.http("GET", "/api/kernels")[1] == []
    assert mute_processes() == []  # the silent process was stopped, not left behind
    status, _ = server.http("GET", "/api/kernelspecs")
    assert status == 200  # still serving


def test_a_client_that_disconnects_mid_request_loses_nothing_for_others(
        small_buffer_server: ServerProcess) -> None:
    """A client sends a long-running execute and drops its socket: the kernel finishes
    the request, another client watching the kernel sees all of its output, and the
    next request runs."""
    server = small_buffer_server
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201
    kernel = model["id"]

    async def scenario() -> tuple[str, str]:
        watcher = await WSClient.connect(server, kernel)
        leaver = await WSClient.connect(server, kernel)
        request = execute("import time\nfor i in range(20):\n    print(i, flush=True)\n"
                          "    time.sleep(0.05)", "leaving")
        await leaver.send(request)
        await watcher.until(lambda m: m.get("msg_type") == "stream", 30)
        leaver.conn.close()  # gone mid-request
        await watcher.until(lambda m: m.get("msg_type") == "status"
                            and m["parent_header"].get("msg_id") == request["header"]["msg_id"]
                            and m["content"]["execution_state"] == "idle", 60)
        after = await watcher.run(execute("print('next')", "next"))
        assert after["content"]["status"] == "ok"
        texts = watcher.texts("leaving"), watcher.texts("next")
        watcher.close()
        return texts

    leaving, following = asyncio.run(asyncio.wait_for(scenario(), 120))
    assert leaving == "".join(f"{i}\n" for i in range(20))
    assert following == "next\n"


@pytest.fixture(scope="module")
def startup_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose kernels run IPython startup files a test writes (a slow or a
    failing kernel start), and whose lifecycle requests wait 2 s for one under way."""
    base = tmp_path_factory.mktemp("startup")
    root = base / "root"
    root.mkdir()
    server = ServerProcess(root, "startup-token", "--settle-timeout", "2",
                           env={"IPYTHONDIR": str(base / "ipython")})
    server.startup = base / "ipython" / "profile_default" / "startup"  # type: ignore[attr-defined]
    yield server
    server.stop()


def _post(server: ServerProcess, path: str) -> Any:
    return asyncio.to_thread(server.http, "POST", path)


def test_an_interrupt_behind_a_slow_restart_gets_409_in_bounded_time(
        startup_server: ServerProcess) -> None:
    """An interrupt asked while a restart waits for a slow kernel start waits at
    most the settle timeout, then says 409 (the review of 2026-12-06: it waited
    for the whole start, up to ready_timeout and the registration)."""
    server = startup_server
    kernel = server.http("POST", "/api/kernels", {"name": "reactive"})[1]["id"]
    startup: Path = server.startup  # type: ignore[attr-defined]
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-slow.py").write_text("import time\ntime.sleep(8)\n")

    async def scenario() -> tuple[int, int, float]:
        watcher = await WSClient.connect(server, kernel)
        try:
            restart = asyncio.ensure_future(_post(server, f"/api/kernels/{kernel}/restart"))
            await watcher.until(lambda m: m.get("msg_type") == "status"
                                and m["content"]["execution_state"] == "restarting", 30)
            started = time.monotonic()
            status, answer = await _post(server, f"/api/kernels/{kernel}/interrupt")
            waited = time.monotonic() - started
            assert "restarting" in answer["message"]
            return status, (await restart)[0], waited
        finally:
            watcher.close()

    try:
        interrupted, restarted, waited = asyncio.run(scenario())
    finally:
        (startup / "00-slow.py").unlink()
    assert (interrupted, restarted) == (409, 200)
    assert waited < 6, waited
    assert server.http("DELETE", f"/api/kernels/{kernel}")[0] == 204


def test_a_kernel_that_dies_at_every_start_shuts_down_cleanly(
        startup_server: ServerProcess) -> None:
    """A kernel whose every start fails (a startup file exiting) goes dead; a
    restart then a shutdown are answered, never a 500, and it is gone (the
    review of 2026-12-06: jupyter_client refused the shutdown, a 500)."""
    server = startup_server
    kernel = server.http("POST", "/api/kernels", {"name": "reactive"})[1]["id"]
    startup: Path = server.startup  # type: ignore[attr-defined]
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-die.py").write_text("import os\nos._exit(3)\n")

    async def break_it() -> None:
        watcher = await WSClient.connect(server, kernel)
        try:
            await watcher.send(execute("import os; os._exit(1)", cell="die"))
            await watcher.until(lambda m: m.get("msg_type") == "status"
                                and m["content"]["execution_state"] == "dead", 90)
        finally:
            watcher.close()

    try:
        asyncio.run(break_it())
        status, _ = server.http("POST", f"/api/kernels/{kernel}/restart")
        assert status in (200, 409), status
        assert server.http("DELETE", f"/api/kernels/{kernel}")[0] == 204
    finally:
        (startup / "00-die.py").unlink()
    assert server.http("GET", f"/api/kernels/{kernel}")[0] == 404
    assert server.http("GET", "/api/kernels")[1] == []
