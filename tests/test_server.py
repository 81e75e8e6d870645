"""The reactive server as clients see it: a real process, real kernels, real sockets."""

from __future__ import annotations

import asyncio
import json
import struct
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado import httpclient, websocket

from .server_harness import ServerProcess, WSClient, execute


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("notebooks"))
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def kernel_id(server: ServerProcess) -> str:
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201, model
    return str(model["id"])


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(asyncio.wait_for(coro, 120))


# -- auth and origin -------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/kernelspecs", "/api/kernels", "/api/notebooks",
                                  "/kernelspecs/reactive/logo-64x64.png"])
def test_every_endpoint_needs_the_token(server: ServerProcess, path: str) -> None:
    assert server.http("GET", path, token=None)[0] == 403
    status, body = server.http("GET", path, token="wrong")
    assert status == 403 and "token" in body["message"]
    assert "Traceback" not in json.dumps(body)
    assert server.http("GET", path)[0] == 200


def test_the_output_frame_is_sandboxed_and_holds_nothing(server: ServerProcess) -> None:
    """``/output-frame`` (where HTML outputs with scripts run) is a static document: no
    token needed, none in it, and sandboxed by its own policy even if opened alone."""
    with urllib.request.urlopen(f"{server.base}/output-frame", timeout=30) as response:
        policy = response.headers["Content-Security-Policy"]
        body = response.read().decode()
    assert "sandbox allow-scripts" in policy and "allow-same-origin" not in policy
    assert server.token not in body and "rkHtml" in body


def test_kernelspecs_are_jupyter_shaped(server: ServerProcess) -> None:
    status, body = server.http("GET", "/api/kernelspecs")
    assert status == 200 and body["default"] == "reactive"
    spec = body["kernelspecs"]["reactive"]
    assert spec["spec"]["display_name"] == "Python 3 (reactive)"
    assert spec["resources"]["logo-64x64"] == "/kernelspecs/reactive/logo-64x64.png"
    assert server.http("GET", "/api/kernelspecs/nope")[0] == 404


def test_websocket_auth_and_origin(server: ServerProcess, kernel_id: str) -> None:
    async def attempt(**kw: object) -> int:
        try:
            client = await WSClient.connect(server, kernel_id, **kw)  # type: ignore[arg-type]
        except httpclient.HTTPClientError as err:
            return err.code
        client.close()
        return 101

    assert run(attempt(token="wrong")) == 403
    assert run(attempt(origin="http://evil.example")) == 403
    assert run(attempt(origin=f"http://127.0.0.1:{server.port}")) == 101
    assert run(attempt(query_token=False)) == 101  # header instead of query
    assert run(attempt()) == 101


def test_unknown_kernel_is_404(server: ServerProcess) -> None:
    assert server.http("GET", "/api/kernels/0000-nope")[0] == 404
    assert server.http("POST", "/api/kernels/0000-nope/interrupt")[0] == 404


# -- relay -----------------------------------------------------------------------

def test_a_cascade_is_seen_by_every_client(server: ServerProcess, kernel_id: str) -> None:
    async def scenario() -> None:
        alice = await WSClient.connect(server, kernel_id)
        bob = await WSClient.connect(server, kernel_id)
        try:
            await alice.run(execute("bc_a = 1", "bc-A", session="alice"))
            await alice.run(execute("bc_b = bc_a + 1\nprint('b is', bc_b)", "bc-B",
                                    session="alice"))
            edit = execute("bc_a = 5", "bc-A", session="alice")
            reply = await alice.run(edit)
            assert reply["metadata"]["reactive"]["ran"] == ["bc-A", "bc-B"]
            assert "b is 6" in alice.texts("bc-B")
            # Bob sees the cascade Alice triggered, tagged with the cell id...
            await bob.until(lambda m: m.get("msg_type") == "stream"
                            and m["metadata"].get("cellId") == "bc-B"
                            and "b is 6" in m["content"]["text"])
            await bob.until(lambda m: m.get("msg_type") == "status"
                            and m["parent_header"].get("msg_id") == edit["header"]["msg_id"]
                            and m["content"]["execution_state"] == "idle")
            # ...but not Alice's replies.
            assert not [m for m in bob.received if m.get("msg_type") == "execute_reply"]
        finally:
            alice.close()
            bob.close()

    run(scenario())


def test_outputs_of_every_size_arrive_whole_and_in_order(server: ServerProcess,
                                                        kernel_id: str) -> None:
    """The relay reads iopub bursts many messages per callback and writes its own
    WebSocket frames, several per write: each size class of the frame header
    (7-bit, 16-bit, 64-bit length) and a burst of 1,000 small messages (more than
    one callback reads) reach the client intact, in order, none lost."""
    async def scenario() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            sizes = [1, 125, 126, 65535, 65536, 300_000]
            code = ("import sys\n"
                    f"for n in {sizes}:\n"
                    "    sys.stdout.write('x' * (n - 1) + '\\n'); sys.stdout.flush()\n"
                    "for i in range(1000):\n"
                    "    display(i)")
            await client.run(execute(code, "sizes-cell"), timeout=60)
            streams = [m["content"]["text"] for m in client.received
                       if m.get("msg_type") == "stream"]
            assert [len(t) for t in streams] == sizes
            shown = [m["content"]["data"]["text/plain"] for m in client.received
                     if m.get("msg_type") == "display_data"]
            assert shown == [str(i) for i in range(1000)]
        finally:
            client.close()

    run(scenario())


def test_batch_subprotocol_packs_bursts_into_arrays(server: ServerProcess,
                                                   kernel_id: str) -> None:
    """``batch.reactive-kernel.v1`` (the web UI's framing): every server frame is a
    JSON array of messages.  A client beside it on plain JSON frames sees the same
    messages in the same order, one per frame; a burst reaches the batch client in
    fewer frames than messages (how many fewer depends on how far the kernel gets
    ahead of the server: about 0.6 frames per message for this burst here)."""
    from reactive_server.protocol import BATCH_SUBPROTOCOL

    async def scenario() -> None:
        batch = await WSClient.connect(server, kernel_id, subprotocols=[BATCH_SUBPROTOCOL])
        plain = await WSClient.connect(server, kernel_id)
        try:
            assert batch.conn.selected_subprotocol == BATCH_SUBPROTOCOL
            assert plain.conn.selected_subprotocol is None
            request = execute("for i in range(1000):\n    display(i)", "batch-cell")
            await batch.run(request, timeout=60)
            await plain.until(lambda m: m.get("msg_type") == "status"
                              and m["parent_header"].get("msg_id") == request["header"]["msg_id"]
                              and m["content"]["execution_state"] == "idle")

            def shown(client: WSClient) -> list[str]:
                return [m["content"]["data"]["text/plain"] for m in client.received
                        if m.get("msg_type") == "display_data"
                        and m["metadata"].get("cellId") == "batch-cell"]

            assert shown(batch) == shown(plain) == [str(i) for i in range(1000)]
            assert plain.frames == len(plain.received)
            assert batch.frames < len(batch.received), (batch.frames, len(batch.received))
            # Server notices come as arrays too, and requests stay single objects.
            await batch.send("not json")
            notice = await batch.until(lambda m: m.get("msg_type") == "server_error")
            assert "malformed" in notice["content"]["message"]
            reply = await batch.run(execute("1 + 1"))
            assert reply["content"]["status"] == "ok"
        finally:
            batch.close()
            plain.close()

    run(scenario())


def test_reconnecting_client_gets_kernel_info_and_graph(server: ServerProcess,
                                                        kernel_id: str) -> None:
    async def scenario() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            await client.run(execute("rc_x = 1", "rc-X"))
            client.close()
            again = await WSClient.connect(server, kernel_id)
            info = await again.until(lambda m: m.get("msg_type") == "kernel_info_reply")
            assert info["content"]["implementation"] == "reactive_kernel"
            graph = await again.until(lambda m: m.get("msg_type") == "reactive_graph_reply")
            assert graph["content"]["cells"]["rc-X"]["status"] == "ok"
            again.close()
        finally:
            client.close()

    run(scenario())


def test_every_reply_reaches_new_clients(server: ServerProcess, kernel_id: str) -> None:
    """Clients come and go; each one's first replies must arrive.  (A send on
    the client's socket behind its ZMQStream's back once swallowed the
    edge-triggered wake-up of a reply that arrived meanwhile: the reply sat
    unread and the client waited forever, some tens of connections in.)"""

    async def scenario() -> None:
        for i in range(60):
            client = await WSClient.connect(server, kernel_id)
            try:
                await client.until(lambda m: m.get("msg_type") == "kernel_info_reply", 10)
                await client.until(lambda m: m.get("msg_type") == "reactive_graph_reply", 10)
                await client.run(execute("pass"), timeout=10)
            except asyncio.TimeoutError:
                raise AssertionError(f"client {i} never got its reply") from None
            finally:
                client.close()

    run(scenario())


def test_malformed_frames_get_an_error_and_the_socket_stays_open(
        server: ServerProcess, kernel_id: str) -> None:
    async def scenario() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            for number, bad in enumerate(
                    ("not json", json.dumps([1, 2]), json.dumps({"header": 5}),
                     json.dumps({**execute("1"), "channel": "iopub"}),
                     b"\x01\x02garbage", struct.pack("<Q", 10 ** 6)), start=1):
                await client.send(bad)
                while len(seen) < number:
                    msg = await client.next()
                    if msg.get("msg_type") == "server_error":
                        seen.append(msg)
            reply = await client.run(execute("print('still here')"))
            assert reply["content"]["status"] == "ok"
            # Odd but valid JSON reaches the kernel too (an integer beyond 64 bits).
            odd = execute("odd_ok = 1")
            odd["metadata"]["big"] = 2 ** 70
            reply = await client.run(odd)
            assert reply["content"]["status"] == "ok"
        finally:
            client.close()

    seen: list[dict[str, object]] = []
    run(scenario())
    assert len(seen) == 6
    assert all("malformed" in m["content"]["message"] for m in seen)  # type: ignore[index]


def test_v1_binary_protocol_round_trip(server: ServerProcess, kernel_id: str) -> None:
    from reactive_server.protocol import V1_SUBPROTOCOL, from_v1, to_v1

    async def scenario() -> None:
        request = httpclient.HTTPRequest(
            f"{server.ws_base}/api/kernels/{kernel_id}/channels?token={server.token}")
        conn = await websocket.websocket_connect(request, subprotocols=[V1_SUBPROTOCOL])
        assert conn.selected_subprotocol == V1_SUBPROTOCOL
        msg = execute("v1_val = 6 * 7\nv1_val", "v1-cell")
        parts = [json.dumps(msg[k]).encode() for k in
                 ("header", "parent_header", "metadata", "content")]
        conn.write_message(to_v1("shell", parts), binary=True)
        results, reply, idle = [], None, False
        # The reply (shell) and the outputs (iopub) come on different sockets: no
        # order between them; the request's idle status comes after its outputs.
        while reply is None or not idle:
            raw = await asyncio.wait_for(conn.read_message(), 30)
            assert isinstance(raw, bytes)
            channel, chunks = from_v1(raw)
            header = json.loads(chunks[0])
            content = json.loads(chunks[3])
            if header["msg_type"] == "execute_result":
                results.append((channel, content["data"]["text/plain"],
                                json.loads(chunks[2]).get("cellId")))
            if header["msg_type"] == "execute_reply":
                reply = content
            if header["msg_type"] == "status" and content["execution_state"] == "idle" \
                    and json.loads(chunks[1]).get("msg_id") == msg["header"]["msg_id"]:
                idle = True
        assert results == [("iopub", "42", "v1-cell")]
        assert reply["status"] == "ok"
        conn.close()

    run(scenario())


def test_interrupt(server: ServerProcess, kernel_id: str) -> None:
    async def scenario() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            slow = execute("import time\ntime.sleep(60)")
            await client.send(slow)
            await client.until(lambda m: m.get("msg_type") == "execute_input"
                               and m["parent_header"].get("msg_id") == slow["header"]["msg_id"])
            status, _ = await asyncio.to_thread(
                server.http, "POST", f"/api/kernels/{kernel_id}/interrupt")
            assert status == 204
            reply = await client.until(lambda m: m.get("msg_type") == "execute_reply"
                                       and m["parent_header"].get("msg_id")
                                       == slow["header"]["msg_id"], timeout=20)
            assert reply["content"]["ename"] == "KeyboardInterrupt"
        finally:
            client.close()

    run(scenario())


def test_kernel_death_is_reported_and_the_kernel_restarts(server: ServerProcess) -> None:
    status, model = server.http("POST", "/api/kernels", {})
    assert status == 201
    kid = model["id"]

    async def scenario() -> None:
        client = await WSClient.connect(server, kid)
        watcher = await WSClient.connect(server, kid)
        try:
            await client.run(execute("alive = 1"))
            await client.send(execute("import os\nos._exit(1)"))
            restarting = await watcher.until(
                lambda m: m.get("msg_type") == "status"
                and m["content"]["execution_state"] == "restarting", 30)
            assert restarting["content"]["reason"] == "died"
            # The server survived and the kernel is back, fresh.
            for _ in range(60):
                _, info = await asyncio.to_thread(server.http, "GET", f"/api/kernels/{kid}")
                if info["execution_state"] in ("idle", "starting"):
                    break
                await asyncio.sleep(0.5)
            reply = await client.run(execute("print('back')"), timeout=60)
            assert reply["content"]["status"] == "ok"
            check = await client.run(execute("alive"))
            assert check["content"]["ename"] == "NameError"
        finally:
            client.close()
            watcher.close()

    run(scenario())

    async def requested() -> None:
        # A restart asked for through the API says so (a page that did not ask for it
        # must not report a crash); a shutdown too.
        watcher = await WSClient.connect(server, kid)
        try:
            status, restarted = await asyncio.to_thread(
                server.http, "POST", f"/api/kernels/{kid}/restart")
            assert status == 200 and restarted["id"] == kid
            restarting = await watcher.until(
                lambda m: m.get("msg_type") == "status"
                and m["content"]["execution_state"] == "restarting", 30)
            assert restarting["content"]["reason"] == "requested"
            # A shutdown, a restart and an interrupt queued behind another restart:
            # whichever goes first, the ones finding the kernel gone get 404, never
            # a 500 (the review of 2026-12-06).
            base = f"/api/kernels/{kid}"
            await watcher.until(lambda m: m.get("msg_type") == "kernel_ready", 30)
            watcher.received.clear()  # (``until`` looks at what came before too)
            first = asyncio.ensure_future(asyncio.to_thread(server.http, "POST",
                                                            f"{base}/restart"))
            await watcher.until(lambda m: m.get("msg_type") == "status"
                                and m["content"]["execution_state"] == "restarting", 30)
            answers = await asyncio.gather(
                asyncio.to_thread(server.http, "DELETE", base),
                asyncio.to_thread(server.http, "POST", f"{base}/restart"),
                asyncio.to_thread(server.http, "POST", f"{base}/interrupt"))
            assert (await first)[0] == 200
            assert answers[0][0] == 204, answers
            assert all(status in (200, 204, 404) for status, _ in answers[1:]), answers
            dead = await watcher.until(lambda m: m.get("msg_type") == "status"
                                       and m["content"]["execution_state"] == "dead", 30)
            assert dead["content"]["reason"] == "shutdown"
            # Then the server closes the socket, saying why (it has nothing to relay).
            with pytest.raises(ConnectionError):
                await watcher.until(lambda m: False, 30)
            assert watcher.conn.close_code == 1001
            assert watcher.conn.close_reason == "the kernel was shut down"
        finally:
            watcher.close()

    run(requested())
    assert server.http("GET", f"/api/kernels/{kid}")[0] == 404


# -- notebooks -------------------------------------------------------------------

def test_notebook_round_trip_with_graph_loaded(server: ServerProcess) -> None:
    status, created = server.http("POST", "/api/notebooks", {"path": "flow.ipynb"})
    assert status == 201
    notebook = created["notebook"]
    template = notebook["cells"][0]
    cells = []
    # Saved out of dependency order: the reader first.
    for cid, src in (("reader", "total = base * 2\nprint(total)"), ("base", "base = 21")):
        cells.append({**template, "id": cid, "source": src, "outputs": [],
                      "execution_count": None})
    notebook["cells"] = cells
    status, saved = server.http("PUT", "/api/notebooks/flow.ipynb",
                                {"notebook": notebook, "version": created["version"]})
    assert status == 200, saved
    status, opened = server.http("POST", "/api/notebooks/flow.ipynb/kernel")
    assert status == 200, opened
    graph = opened["graph"]
    assert graph["order"] == ["base", "reader"]
    assert graph["cells"]["base"]["children"] == {"reader": ["base"]}
    # Reopening reuses the kernel.
    again = server.http("POST", "/api/notebooks/flow.ipynb/kernel")[1]
    assert again["kernel"]["id"] == opened["kernel"]["id"]
    # Edit a cell through REST, then read it back.
    status, edited = server.http("PATCH", "/api/notebooks/flow.ipynb/cells/base",
                                 {"version": opened["version"], "source": "base = 50"})
    assert status == 200, edited
    reread = server.http("GET", "/api/notebooks/flow.ipynb")[1]
    assert reread["version"] == edited["version"]
    assert [c["source"] for c in reread["notebook"]["cells"]] == [
        "total = base * 2\nprint(total)", "base = 50"]
    assert reread["kernel_id"] == opened["kernel"]["id"]
    on_disk = json.loads((server.root / "flow.ipynb").read_text())
    assert [c["id"] for c in on_disk["cells"]] == ["reader", "base"]


def test_a_notebooks_kernel_starts_in_the_notebooks_directory(server: ServerProcess) -> None:
    """As in JupyterLab: a notebook in a subdirectory reads the data files beside it
    by relative path (its kernel's working directory is the notebook's); other
    kernels start in the root."""
    (server.root / "course").mkdir()
    (server.root / "course" / "data.csv").write_text("x\n1\n")
    status, _ = server.http("POST", "/api/notebooks", {"path": "course/lesson.ipynb"})
    assert status == 201
    status, opened = server.http("POST", "/api/notebooks/course/lesson.ipynb/kernel")
    assert status == 200, opened

    async def scenario(kernel: str, code: str) -> str:
        client = await WSClient.connect(server, kernel)
        try:
            reply = await client.run(execute(code, cell="cwd"))
            assert reply["content"]["status"] == "ok", reply
            return client.texts("cwd")
        finally:
            client.close()

    printed = run(scenario(opened["kernel"]["id"], "print(open('data.csv').read().split()[1])"))
    assert printed == "1\n"
    status, other = server.http("POST", "/api/kernels", {"name": "reactive"})
    assert status == 201
    printed = run(scenario(other["id"], "import os\nprint(os.getcwd())"))
    assert Path(printed.strip()).resolve() == server.root.resolve()
    assert server.http("DELETE", f"/api/kernels/{other['id']}")[0] == 204


def test_concurrent_saves_conflict(server: ServerProcess) -> None:
    created = server.http("POST", "/api/notebooks", {"path": "shared.ipynb"})[1]
    cell = created["notebook"]["cells"][0]["id"]
    first = server.http("PATCH", f"/api/notebooks/shared.ipynb/cells/{cell}",
                        {"version": created["version"], "source": "tab_one = 1"})
    second = server.http("PATCH", f"/api/notebooks/shared.ipynb/cells/{cell}",
                         {"version": created["version"], "source": "tab_two = 2"})
    assert first[0] == 200
    assert second[0] == 409 and second[1]["version"] == first[1]["version"]
    body = server.http("GET", "/api/notebooks/shared.ipynb")[1]
    assert body["notebook"]["cells"][0]["source"] == "tab_one = 1"


@pytest.mark.parametrize("path", ["..%2F..%2Fetc%2Fpasswd.ipynb", "%2Fetc%2Fx.ipynb",
                                  "sub%2F..%2F..%2Fx.ipynb", ".hidden%2Fx.ipynb"])
def test_paths_cannot_escape_the_root(server: ServerProcess, path: str) -> None:
    status, body = server.http("GET", f"/api/notebooks/{path}")
    assert status in (403, 404), body
    status, body = server.http("POST", "/api/notebooks", {"path": path.replace("%2F", "/")})
    assert status == 403, body
    assert not (Path(server.root).parent / "x.ipynb").exists()


def test_notebook_list_create_rename_delete(server: ServerProcess) -> None:
    server.http("POST", "/api/notebooks", {"path": "a_list.ipynb"})
    names = [n["path"] for n in server.http("GET", "/api/notebooks")[1]["notebooks"]]
    assert "a_list.ipynb" in names
    status, renamed = server.http("PATCH", "/api/notebooks/a_list.ipynb",
                                  {"path": "b_list.ipynb"})
    assert status == 200 and renamed["path"] == "b_list.ipynb"
    assert server.http("DELETE", "/api/notebooks/b_list.ipynb")[0] == 204
    assert server.http("GET", "/api/notebooks/b_list.ipynb")[0] == 404
    assert server.http("PUT", "/api/notebooks/x.ipynb", "{not json")[0] == 400


def test_a_notebook_deleted_or_renamed_while_its_kernel_starts(server: ServerProcess) -> None:
    """A delete or rename arriving while the notebook's kernel starts waits for the
    start: the deleted notebook's kernel is shut down, the renamed one's goes with
    it; the page that asked for the kernel gets it or a 404, never a 500, and no
    kernel is left under a name that is gone."""
    for name in ("starting-deleted.ipynb", "starting-renamed.ipynb"):
        assert server.http("POST", "/api/notebooks", {"path": name})[0] == 201
    before = {k["id"] for k in server.http("GET", "/api/kernels")[1]}

    async def call(method: str, path: str, body: object = None) -> tuple[int, object]:
        if body is None and method in ("POST", "PATCH"):
            body = {}
        response = await httpclient.AsyncHTTPClient().fetch(
            server.base + path, method=method, raise_error=False, request_timeout=90,
            body=None if body is None else json.dumps(body),
            headers={"Authorization": f"token {server.token}"})
        return response.code, json.loads(response.body) if response.body else None

    async def scenario() -> tuple[list[tuple[int, object]], list[tuple[int, object]]]:
        opening = [asyncio.ensure_future(call("POST", f"/api/notebooks/{name}/kernel"))
                   for name in ("starting-deleted.ipynb", "starting-renamed.ipynb")]
        while True:  # both kernels are listed: they are starting (a second or so)
            _, kernels = await call("GET", "/api/kernels")
            assert isinstance(kernels, list)
            if len({k["id"] for k in kernels} - before) == 2:
                break
        changes = await asyncio.gather(
            call("DELETE", "/api/notebooks/starting-deleted.ipynb"),
            call("PATCH", "/api/notebooks/starting-renamed.ipynb",
                 {"path": "starting-renamed-2.ipynb"}))
        return list(changes), list(await asyncio.gather(*opening))

    changes, opened = run(scenario())
    assert [code for code, _ in changes] == [204, 200], changes
    assert all(code in (200, 404) for code, _ in opened), opened
    kernels = {k["id"]: k["notebook"] for k in server.http("GET", "/api/kernels")[1]
               if k["id"] not in before}
    status, renamed = server.http("GET", "/api/notebooks/starting-renamed-2.ipynb")
    assert status == 200 and renamed["kernel_id"] is not None
    assert kernels == {renamed["kernel_id"]: "starting-renamed-2.ipynb"}


def test_cell_operations(server: ServerProcess) -> None:
    created = server.http("POST", "/api/notebooks", {"path": "ops.ipynb"})[1]
    status, added = server.http("POST", "/api/notebooks/ops.ipynb/cells",
                                {"version": created["version"], "index": 1,
                                 "cell_type": "markdown", "source": "# Title"})
    assert status == 201, added
    new_id = added["cell"]["id"]
    status, moved = server.http("POST", f"/api/notebooks/ops.ipynb/cells/{new_id}/move",
                                {"version": added["version"], "index": 0})
    assert status == 200, moved
    assert moved["notebook"]["cells"][0]["id"] == new_id
    status, deleted = server.http(
        "DELETE", f"/api/notebooks/ops.ipynb/cells/{new_id}?version={moved['version']}")
    assert status == 200 and len(deleted["notebook"]["cells"]) == 1


def test_notebook_edits_are_broadcast_to_its_clients(server: ServerProcess) -> None:
    created = server.http("POST", "/api/notebooks", {"path": "synced.ipynb"})[1]
    opened = server.http("POST", "/api/notebooks/synced.ipynb/kernel")[1]
    cell = created["notebook"]["cells"][0]["id"]

    async def scenario() -> None:
        tabs = [await WSClient.connect(server, opened["kernel"]["id"]) for _ in range(2)]
        try:
            status, edited = await asyncio.to_thread(
                server.http, "PATCH", f"/api/notebooks/synced.ipynb/cells/{cell}",
                {"version": opened["version"], "source": "shared = 1"},
                headers={"X-Client-Id": "tab-1"})
            assert status == 200
            for tab in tabs:
                notice = await tab.until(lambda m: m.get("msg_type") == "notebook_changed")
                assert notice["content"] == {"path": "synced.ipynb",
                                             "version": edited["version"], "origin": "tab-1"}
            # A rename: every tab hears the new name, and the kernel goes with it.
            status, renamed = await asyncio.to_thread(
                server.http, "PATCH", "/api/notebooks/synced.ipynb",
                {"path": "synced-renamed.ipynb"}, headers={"X-Client-Id": "tab-2"})
            assert status == 200
            for tab in tabs:
                notice = await tab.until(lambda m: m.get("msg_type") == "notebook_renamed")
                assert notice["content"] == {"path": "synced.ipynb",
                                             "new_path": "synced-renamed.ipynb",
                                             "version": renamed["version"], "origin": "tab-2"}
            _, kernels = await asyncio.to_thread(server.http, "GET", "/api/kernels")
            notebooks = {k["id"]: k["notebook"] for k in kernels}
            assert notebooks[opened["kernel"]["id"]] == "synced-renamed.ipynb"
        finally:
            for tab in tabs:
                tab.close()

    run(scenario())


@pytest.mark.parametrize("body", [{"index": "first"}, {"index": 1.5}, {"source": 5},
                                  {"cell_type": ["code"]}])
def test_bad_cell_fields_are_400_not_500(server: ServerProcess, body: dict) -> None:  # type: ignore[type-arg]
    created = server.http("POST", "/api/notebooks", {})[1]
    status, reply = server.http("POST", f"/api/notebooks/{created['path']}/cells",
                                {"version": created["version"], **body})
    assert status == 400, reply
    assert "must be" in reply["message"]


def test_a_large_notebook_round_trips_and_is_sent_uncompressed(server: ServerProcess) -> None:
    """A notebook of several megabytes is parsed and serialised off the event loop
    and sent without gzip (compressing it there would hold up every kernel's
    messages); a small answer is still compressed for a client that accepts it."""
    status, model = server.http("POST", "/api/notebooks", {"path": "large.ipynb"})
    assert status == 201
    notebook = model["notebook"]
    text = "x" * 80 + "\n"
    notebook["cells"] = [{"cell_type": "code", "id": "big", "source": "print('x')",
                          "metadata": {}, "execution_count": 1,
                          "outputs": [{"output_type": "stream", "name": "stdout",
                                       "text": text * 60_000}]}]
    status, saved = server.http("PUT", "/api/notebooks/large.ipynb",
                                {"notebook": notebook, "version": model["version"]})
    assert status == 200, saved
    assert saved["notebook"]["cells"][0]["outputs"][0]["text"] == text * 60_000

    def fetch(path: str) -> httpclient.HTTPResponse:
        client = httpclient.HTTPClient()
        try:
            return client.fetch(server.base + path, decompress_response=False, headers={
                "Authorization": f"token {server.token}", "Accept-Encoding": "gzip"})
        finally:
            client.close()

    large = fetch("/api/notebooks/large.ipynb")
    assert "Content-Encoding" not in large.headers and len(large.body) > 4 << 20
    assert "Accept-Encoding" in large.headers.get("Vary", "")
    assert json.loads(large.body)["version"] == saved["version"]
    notebook["cells"][0]["outputs"][0]["text"] = text * 60
    status, model = server.http("PUT", "/api/notebooks/large.ipynb",
                                {"notebook": notebook, "version": saved["version"]})
    assert status == 200, model
    small = fetch("/api/notebooks/large.ipynb")
    assert small.headers.get("Content-Encoding") == "gzip"


def test_a_cell_made_markdown_through_rest_leaves_the_kernels_graph(
        server: ServerProcess) -> None:
    """As deleting it does: a code cell turned into Markdown by
    ``PATCH /api/notebooks/{path}/cells/{id}`` is no definition any more, so the
    cells reading it re-run (here: fail with NameError), instead of binding to
    code the notebook no longer has; turned back into code, it is registered
    again (nothing runs)."""
    created = server.http("POST", "/api/notebooks", {"path": "retype.ipynb"})[1]
    notebook = created["notebook"]
    template = notebook["cells"][0]
    notebook["cells"] = [{**template, "id": cid, "source": src, "outputs": [],
                          "execution_count": None}
                         for cid, src in (("definer", "retyped = 1"),
                                          ("reader", "print('sum', retyped + 1)"))]
    saved = server.http("PUT", "/api/notebooks/retype.ipynb",
                        {"notebook": notebook, "version": created["version"]})[1]
    opened = server.http("POST", "/api/notebooks/retype.ipynb/kernel")[1]
    assert opened["graph"]["cells"]["reader"]["parents"] == {"definer": ["retyped"]}

    async def scenario() -> None:
        tab = await WSClient.connect(server, opened["kernel"]["id"])
        try:
            for cid, src in (("definer", "retyped = 1"),
                             ("reader", "print('sum', retyped + 1)")):
                reply = await tab.run(execute(src, cid))
                assert reply["content"]["status"] == "ok"
            assert "sum 2" in tab.texts("reader")
            await tab.send({**execute(""), "header": {**execute("")["header"],
                                                     "msg_type": "comm_open"},
                            "content": {"comm_id": "state", "target_name": "reactive",
                                        "data": {}}})
            await tab.until(lambda m: m.get("msg_type") == "comm_msg"
                            and m["content"]["data"].get("type") == "snapshot")
            tab.received.clear()  # what comes from here on
            status, changed = await asyncio.to_thread(
                server.http, "PATCH", "/api/notebooks/retype.ipynb/cells/definer",
                {"version": saved["version"], "cell_type": "markdown"})
            assert status == 200, changed
            gone = await tab.until(lambda m: m.get("msg_type") == "comm_msg"
                                   and "definer" in (m["content"]["data"].get("cells") or {}))
            assert gone["content"]["data"]["cells"]["definer"] is None
            failed = await tab.until(lambda m: m.get("msg_type") == "error"
                                     and m["metadata"].get("cellId") == "reader")
            assert failed["content"]["ename"] == "NameError"
            tab.received.clear()
            # Back to code: in the graph again (not run), the reader reads it.
            status, back = await asyncio.to_thread(
                server.http, "PATCH", "/api/notebooks/retype.ipynb/cells/definer",
                {"version": changed["version"], "cell_type": "code"})
            assert status == 200, back
            graph = await tab.until(
                lambda m: m.get("msg_type") == "comm_msg"
                and m["content"]["data"].get("type") == "graph"
                and "definer" in m["content"]["data"]["cells"])
            cells = graph["content"]["data"]["cells"]
            assert cells["reader"]["parents"] == {"definer": ["retyped"]}
            assert cells["definer"]["status"] == "idle"  # registered, not run
        finally:
            tab.close()

    run(scenario())
