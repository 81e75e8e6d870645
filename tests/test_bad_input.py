"""Bad input against a real server and kernel on 127.0.0.1: every route refuses a
missing or wrong token (the routes are read from the app, so a new one cannot be
forgotten), odd paths are refused, and fuzzed REST bodies, notebooks, WebSocket
frames (JSON and v1 binary) and ``reactive_graph_request`` contents get a 4xx or a
``server_error`` answer while the server and the kernel keep serving."""

from __future__ import annotations

import asyncio
import json
import os
import re
import struct
import types
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tornado import httpclient, web, websocket

from reactive_server.app import make_app
from reactive_server.protocol import V1_SUBPROTOCOL, to_v1

from .server_harness import ServerProcess, WSClient, execute, message, run, start_kernel

#: ``make test`` runs a fixed sample; ``make test-reliability`` (FUZZ_EXAMPLES=...) a
#: larger random one.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or None
FUZZ = settings(max_examples=FUZZ_EXAMPLES or 60, deadline=None,
                derandomize=FUZZ_EXAMPLES is None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

#: Handlers that answer without the token, and why that is safe: the pages hold
#: no data (their scripts need the token for every call), the output frame is a
#: sandboxed empty document, static files are the web UI's code.
PUBLIC = {"IndexHandler", "NotebookPageHandler", "OutputFrameHandler", "StaticFileHandler"}
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    base = tmp_path_factory.mktemp("badinput")
    root = base / "root"
    root.mkdir()
    proc = ServerProcess(root)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def kernel_id(server: ServerProcess) -> str:
    return start_kernel(server)


def still_serving(server: ServerProcess, kernel_id: str | None = None) -> None:
    """The server answers, and so does the kernel (an execute through its socket)."""
    assert server.http("GET", "/api/notebooks")[0] == 200
    if kernel_id is None:
        return

    async def ping() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            reply = await client.run(execute("1 + 1"), timeout=60)
            assert reply["content"]["status"] == "ok"
        finally:
            client.close()

    run(ping())


def no_traceback(body: Any) -> None:
    text = json.dumps(body) if not isinstance(body, bytes) else body.decode("latin-1")
    assert "Traceback" not in text and 'File "' not in text


# -- auth: every route ----------------------------------------------------------

def app_routes() -> list[tuple[str, type[web.RequestHandler]]]:
    """The server's routes as the app itself has them (not a copy of the list)."""
    app = make_app(types.SimpleNamespace(), types.SimpleNamespace(), "unused")  # type: ignore[arg-type]
    found = []
    for rule in app.wildcard_router.rules:
        pattern = rule.matcher.regex.pattern  # type: ignore[attr-defined]
        found.append((pattern, rule.target))
    return found


def concrete(pattern: str, values: dict[str, str]) -> str:
    """A URL matching a route's pattern, its named groups filled in."""
    out, i = [], 0
    while i < len(pattern):
        match = re.match(r"\(\?P<(\w+)>", pattern[i:])
        if match:
            depth, j = 0, i
            while True:  # skip to the group's closing parenthesis
                if pattern[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(pattern[j], 0)
                j += 1
                if depth == 0:
                    break
            out.append(values[match.group(1)])
            i = j
        elif pattern[i] == "(":  # an unnamed group (static files): a sample name
            j = pattern.index(")", i)
            out.append("notebook.css" if ".*" in pattern[i:j] else
                       pattern[i + 1:j].replace("\\", ""))
            i = j + 1
        elif pattern[i] == "\\":
            out.append(pattern[i + 1])
            i += 2
        elif pattern[i] == "$":
            i += 1
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def handler_methods(handler: type[web.RequestHandler]) -> list[str]:
    return [m for m in METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)]


def test_every_route_refuses_a_missing_or_wrong_token(server: ServerProcess,
                                                      kernel_id: str) -> None:
    created = server.http("POST", "/api/notebooks", {"path": "auth.ipynb"})
    assert created[0] == 201
    cell = server.http("POST", "/api/notebooks/auth.ipynb/cells",
                       {"version": created[1]["version"], "source": "x = 1"})[1]["cell"]
    values = {"kernel_id": kernel_id, "path": "auth.ipynb", "cell_id": cell["id"],
              "action": "interrupt", "name": "reactive", "filename": "logo-64x64.png"}
    routes = app_routes()
    assert len(routes) >= 15
    public = {h.__name__ for _, h in routes if h.__name__ in PUBLIC}
    assert public == PUBLIC
    checked = 0
    for pattern, handler in routes:
        url = concrete(pattern, values)
        assert re.fullmatch(pattern.rstrip("$"), url), (pattern, url)
        methods = handler_methods(handler)
        assert methods, handler
        if handler.__name__ in PUBLIC:
            status, body = server.http("GET", url, token=None)
            # (robots.txt and favicon.ico are tornado's static routes; absent: 404)
            assert status == 200 or (status == 404 and url in ("/robots.txt", "/favicon.ico")), (
                url, status)
            assert server.token.encode() not in (body if isinstance(body, bytes)
                                                 else str(body).encode())
            continue
        if issubclass(handler, websocket.WebSocketHandler):
            check_websocket_refusals(server, url)
            checked += 1
            continue
        for method in methods:
            for token in (None, "wrong-token", server.token + "x", ""):
                status, body = server.http(method.upper(), url, body={} if method in (
                    "post", "put", "patch") else None, token=token)
                assert status == 403, (method, url, token, status, body)
                assert "token" in body["message"]
                no_traceback(body)
            # REST does not take the token from the query string (it would end up in
            # logs and the browser's history): only the header.
            status, _ = server.http(method.upper(), f"{url}?token={server.token}",
                                    body={} if method in ("post", "put", "patch") else None,
                                    token=None)
            assert status == 403, (method, url)
            checked += 1
    assert checked >= 18
    # Nothing was changed by the refused requests.
    assert server.http("GET", f"/api/kernels/{kernel_id}")[0] == 200
    notebook = server.http("GET", "/api/notebooks/auth.ipynb")
    assert notebook[0] == 200 and notebook[1]["notebook"]["cells"][0]["source"] == "x = 1"


def check_websocket_refusals(server: ServerProcess, url: str) -> None:
    async def attempt(query: str, headers: dict[str, str]) -> int:
        request = httpclient.HTTPRequest(f"{server.ws_base}{url}{query}", headers=headers)
        try:
            conn = await websocket.websocket_connect(request)
        except httpclient.HTTPClientError as err:
            return err.code
        conn.close()
        return 101

    cases = [("", {}), ("?token=wrong", {}), ("", {"Authorization": "token wrong"}),
             (f"?token={server.token}", {"Origin": "http://evil.example"}),
             (f"?token={server.token}", {"Origin": "null"}),
             (f"?token={server.token}", {"Origin": f"http://127.0.0.1:{server.port}.evil"})]
    for query, headers in cases:
        assert run(attempt(query, headers)) == 403, (query, headers)
    assert run(attempt(f"?token={server.token}", {})) == 101


# -- paths -----------------------------------------------------------------------

BAD_PATHS = [
    "..%2Fescape.ipynb", "a%2F..%2F..%2Fescape.ipynb", "%2Fabs.ipynb", "a%00b.ipynb",
    "%00.ipynb", "a%5C..%5Cescape.ipynb", ".hidden.ipynb", "sub%2F.git%2Fx.ipynb",
    "%ED%A0%80.ipynb", "%FF%FE.ipynb", "outside-link.ipynb", "outside-dir%2Fx.ipynb",
    "x" * 300 + ".ipynb", "a%2F%2F..%2Fescape.ipynb",
]


@pytest.fixture(scope="module")
def links(server: ServerProcess) -> Path:
    outside = Path(server.root).parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.ipynb").write_text(json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}))
    (outside / "x.ipynb").write_text((outside / "secret.ipynb").read_text())
    os.symlink(outside / "secret.ipynb", Path(server.root) / "outside-link.ipynb")
    os.symlink(outside, Path(server.root) / "outside-dir")
    return outside


def outside_snapshot(server: ServerProcess) -> dict[str, bytes]:
    parent = Path(server.root).parent
    return {str(p.relative_to(parent)): p.read_bytes() for p in sorted(parent.rglob("*"))
            if p.is_file() and not p.is_symlink() and Path(server.root) not in p.parents}


@pytest.mark.parametrize("path", BAD_PATHS)
def test_odd_paths_are_refused_and_nothing_outside_the_root_changes(
        server: ServerProcess, links: Path, path: str) -> None:
    before = outside_snapshot(server)
    empty = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}
    plain = urllib.parse.unquote(path, errors="surrogateescape")  # as a JSON body has it
    requests = [("GET", f"/api/notebooks/{path}", None),
                ("PUT", f"/api/notebooks/{path}", {"notebook": empty}),
                ("PATCH", f"/api/notebooks/{path}", {"path": "renamed.ipynb"}),
                ("DELETE", f"/api/notebooks/{path}", None),
                ("POST", f"/api/notebooks/{path}/cells", {"source": "1"}),
                ("POST", f"/api/notebooks/{path}/kernel", {}),
                ("POST", "/api/notebooks", {"path": plain}),
                ("PATCH", "/api/notebooks/auth-src.ipynb", {"path": plain})]
    server.http("POST", "/api/notebooks", {"path": "auth-src.ipynb"})
    for method, url, body in requests:
        status, answer = server.http(method, url, body)
        assert 400 <= status < 500, (method, url, status, answer)
        no_traceback(answer)
    assert outside_snapshot(server) == before
    listed = [nb["path"] for nb in server.http("GET", "/api/notebooks")[1]["notebooks"]]
    assert "outside-link.ipynb" not in listed and not any("outside-dir" in p for p in listed)
    still_serving(server)


def test_unusual_but_valid_names_work(server: ServerProcess) -> None:
    """Refusing odd paths must not refuse ordinary non-ASCII or spaced names."""
    for name in ("données 2026.ipynb", "日本語.ipynb", "with space/../x.ipynb"):
        status, body = server.http("POST", "/api/notebooks", {"path": name})
        if ".." in name:
            assert status == 403
            continue
        assert status == 201, body
        quoted = urllib.parse.quote(name)
        assert server.http("GET", f"/api/notebooks/{quoted}")[0] == 200


# -- fuzzed REST bodies and notebooks ------------------------------------------------

KEYS = st.sampled_from(["path", "version", "source", "cell_type", "index", "to", "name",
                        "outputs", "metadata", "execution_count", "notebook", "cells",
                        "id", "nbformat", "nbformat_minor", "x"])
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
           | st.floats(allow_nan=False) | st.text(max_size=20))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=5),
                    max_leaves=20)
BODIES = (JSON.map(json.dumps) | st.binary(max_size=64)
          | st.dictionaries(KEYS, JSON, max_size=6).map(json.dumps))


@pytest.fixture(scope="module")
def fuzz_notebook(server: ServerProcess) -> str:
    status, model = server.http("POST", "/api/notebooks", {"path": "fuzz.ipynb"})
    assert status == 201
    cell = server.http("POST", "/api/notebooks/fuzz.ipynb/cells",
                       {"version": model["version"], "source": "f = 1"})[1]["cell"]
    return str(cell["id"])


@FUZZ
@given(endpoint=st.sampled_from([
    ("POST", "/api/notebooks"), ("PUT", "/api/notebooks/fuzz.ipynb"),
    ("PATCH", "/api/notebooks/fuzz-rename.ipynb"), ("POST", "/api/notebooks/fuzz.ipynb/cells"),
    ("PATCH", "/api/notebooks/fuzz.ipynb/cells/{cell}"),
    ("POST", "/api/notebooks/fuzz.ipynb/cells/{cell}/move"),
    ("POST", "/api/kernels/{kernel}/interrupt"), ("PUT", "/api/notebooks/new-{n}.ipynb")]),
    body=BODIES)
def test_fuzzed_rest_bodies_get_4xx_and_the_server_keeps_serving(
        server: ServerProcess, kernel_id: str, fuzz_notebook: str,
        endpoint: tuple[str, str], body: str | bytes) -> None:
    method, url = endpoint
    url = url.format(cell=fuzz_notebook, kernel=kernel_id, n=uuid.uuid4().hex[:8])
    server.http("POST", "/api/notebooks", {"path": "fuzz-rename.ipynb"})
    status, answer = server.http(method, url, body)
    assert status < 500, (method, url, body, status, answer)
    no_traceback(answer)
    if status >= 400:
        assert isinstance(answer, dict) and isinstance(answer.get("message"), str)
    assert server.http("GET", "/api/notebooks/fuzz.ipynb")[0] == 200


CELLS = st.fixed_dictionaries(
    {"cell_type": st.sampled_from(["code", "markdown", "raw", "heading", "", 3])},
    optional={"source": st.text(max_size=30) | st.lists(st.text(max_size=10), max_size=3)
              | JSON,
              "metadata": JSON | st.dictionaries(st.text(max_size=6), JSON, max_size=3),
              "outputs": st.lists(st.fixed_dictionaries(
                  {"output_type": st.sampled_from(["stream", "display_data", "error", "x"])},
                  optional={"name": st.sampled_from(["stdout", "stderr", 1]),
                            "text": st.text(max_size=10) | JSON, "data": JSON}), max_size=2)
              | JSON,
              "execution_count": st.none() | st.integers(-5, 10 ** 12) | JSON,
              "id": st.text(max_size=70) | JSON,
              "attachments": JSON})
NOTEBOOKS = st.fixed_dictionaries(
    {"cells": st.lists(CELLS, max_size=4) | JSON},
    optional={"nbformat": st.sampled_from([4, 3, 5, "4", None]),
              "nbformat_minor": st.sampled_from([0, 4, 5, 99, -1, "5"]),
              "metadata": JSON | st.just({"kernelspec": {"name": "reactive"}})})


@FUZZ
@given(notebook=NOTEBOOKS)
def test_fuzzed_notebooks_are_saved_whole_or_refused_whole(
        server: ServerProcess, notebook: dict[str, Any]) -> None:
    path = f"nb-{uuid.uuid4().hex[:10]}.ipynb"
    status, answer = server.http("PUT", f"/api/notebooks/{path}", {"notebook": notebook})
    assert status < 500, (notebook, status, answer)
    no_traceback(answer)
    on_disk = Path(server.root) / path
    if status >= 400:
        assert not on_disk.exists()  # refused: nothing written
        return
    saved = json.loads(on_disk.read_text())  # whole, valid JSON
    assert saved["nbformat"] == 4
    status, model = server.http("GET", f"/api/notebooks/{path}")
    assert status == 200 and model["version"] == answer["version"]
    assert len(model["notebook"]["cells"]) == len(saved["cells"])


# -- fuzzed WebSocket frames and graph requests ------------------------------------------

HEADERS = st.fixed_dictionaries(
    {"msg_id": st.text(max_size=12) | JSON, "msg_type": st.sampled_from(
        ["execute_request", "reactive_graph_request", "kernel_info_request", "comm_open",
         "comm_msg", "inspect_request", "complete_request", "bogus", ""]) | JSON},
    optional={"session": st.text(max_size=8) | JSON, "username": JSON, "version": JSON})
FRAMES = st.fixed_dictionaries(
    {"header": HEADERS | JSON},
    optional={"channel": st.sampled_from(["shell", "control", "stdin", "iopub", "x", ""]) | JSON,
              "parent_header": JSON, "metadata": JSON, "content": JSON, "buffers": JSON})


@FUZZ
@given(frames=st.lists(FRAMES.map(json.dumps) | JSON.map(json.dumps)
                       | st.text(max_size=40), min_size=1, max_size=4))
def test_fuzzed_json_frames_get_an_error_and_the_socket_stays_open(
        server: ServerProcess, kernel_id: str, frames: list[str]) -> None:
    async def scenario() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            for frame in frames:
                await client.send(frame)
            reply = await client.run(execute("fz_alive = 1"), timeout=60)
            assert reply["content"]["status"] == "ok"
        finally:
            client.close()

    run(scenario())


@FUZZ
@given(raw=st.binary(max_size=80) | st.lists(st.binary(max_size=20), min_size=1, max_size=6)
       .map(lambda parts: to_v1(parts[0].decode("latin-1")[:8] or "shell", parts[1:]))
       | st.tuples(st.integers(0, 2 ** 64 - 1), st.binary(max_size=40))
       .map(lambda t: struct.pack("<Q", t[0]) + t[1]))
def test_fuzzed_v1_binary_frames_get_an_error_and_the_socket_stays_open(
        server: ServerProcess, kernel_id: str, raw: bytes) -> None:
    async def scenario() -> None:
        request = httpclient.HTTPRequest(
            f"{server.ws_base}/api/kernels/{kernel_id}/channels?token={server.token}")
        conn = await websocket.websocket_connect(request, subprotocols=[V1_SUBPROTOCOL])
        try:
            await conn.write_message(raw, binary=True)
            msg = execute("fz_v1 = 1")
            parts = [json.dumps(msg[k]).encode() for k in
                     ("header", "parent_header", "metadata", "content")]
            await conn.write_message(to_v1("shell", parts), binary=True)
            while True:
                frame = await asyncio.wait_for(conn.read_message(), 60)
                assert frame is not None, "the server closed the socket"
                if isinstance(frame, bytes) and b"execute_reply" in frame \
                        and msg["header"]["msg_id"].encode() in frame:
                    return
        finally:
            conn.close()

    run(scenario())


GRAPH_CONTENT = st.fixed_dictionaries({}, optional={
    "order": st.lists(st.text(max_size=6) | JSON, max_size=4) | JSON,
    "register": st.lists(st.fixed_dictionaries({}, optional={
        "cellId": st.text(max_size=6) | JSON,
        "code": st.sampled_from(["x = 1", "def f(:", "y = x", "%%sql\nselect 1", ""]) | JSON}),
        max_size=3) | JSON,
    "remove": st.lists(st.text(max_size=6) | JSON, max_size=3) | JSON,
    "mode": st.sampled_from(["auto", "lazy", "eager", ""]) | JSON,
    "run_stale": JSON})


@FUZZ
@given(content=GRAPH_CONTENT)
def test_fuzzed_graph_requests_are_answered_and_the_kernel_keeps_running(
        server: ServerProcess, content: dict[str, Any]) -> None:
    status, model = server.http("POST", "/api/kernels", {"name": "reactive"}) \
        if not GRAPH_KERNEL else (200, {"id": GRAPH_KERNEL[0]})
    if not GRAPH_KERNEL:
        assert status == 201
        GRAPH_KERNEL.append(model["id"])

    async def scenario() -> None:
        client = await WSClient.connect(server, GRAPH_KERNEL[0])
        try:
            request = message("reactive_graph_request", content)
            await client.send(request)
            reply = await client.until(
                lambda m: m.get("msg_type") == "reactive_graph_reply"
                and m["parent_header"].get("msg_id") == request["header"]["msg_id"], 60)
            assert reply["content"]["status"] in ("ok", "error")
            if reply["content"]["status"] == "error":
                assert reply["content"]["evalue"]
            # Back to auto mode, and the kernel still runs code.
            await client.send(message("reactive_graph_request", {"mode": "auto"}))
            done = await client.run(execute("fz_graph = 2"), timeout=60)
            assert done["content"]["status"] == "ok"
        finally:
            client.close()

    run(scenario())


GRAPH_KERNEL: list[str] = []


def test_files_with_odd_names_on_disk_do_not_break_the_list(server: ServerProcess) -> None:
    """Other programs may leave names the API refuses (bytes that are not UTF-8, a
    control character): the list still answers, and lists only what it can open."""
    empty = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []})
    root = os.fsencode(server.root)
    for name in (b"\xff\xfe.ipynb", b"tab\there.ipynb", b"bidi\xe2\x80\xaegpj.ipynb"):
        with open(os.path.join(root, name), "w") as handle:
            handle.write(empty)
    status, body = server.http("GET", "/api/notebooks")
    assert status == 200, body
    for notebook in body["notebooks"]:
        quoted = urllib.parse.quote(notebook["path"])
        assert server.http("GET", f"/api/notebooks/{quoted}")[0] == 200, notebook["path"]


def test_notebooks_too_deep_or_not_unicode_are_refused_and_nothing_changes(
        server: ServerProcess) -> None:
    """Valid JSON a notebook cannot hold: a lone surrogate (``"\\ud800"``), nesting
    deeper than the parsers go (in a request body, a saved notebook, a file
    another program wrote): a 400 saying why, the file as it was (the review
    of 2026-12-06: 500s, and a file on disk nobody could open)."""
    status, model = server.http("POST", "/api/notebooks", {"path": "deep-src.ipynb"})
    assert status == 201, model
    version = model["version"]
    cell = {"cell_type": "code", "source": "\ud800", "metadata": {}, "outputs": [],
            "execution_count": None}

    def notebook(metadata: str, cells: str) -> str:
        return (f'{{"version": "{version}", "notebook": {{"nbformat": 4, "nbformat_minor": 5, '
                f'"metadata": {metadata}, "cells": [{cells}]}}}}')

    bodies = [
        ("PUT", "/api/notebooks/deep-src.ipynb", notebook("{}", json.dumps(cell))),
        ("POST", "/api/notebooks/deep-src.ipynb/cells",
         json.dumps({"version": version, "source": "\ud800"})),
        ("POST", "/api/notebooks", "[" * 100_000 + "]" * 100_000),
        ("PUT", "/api/notebooks/deep-src.ipynb",
         notebook('{"x": ' + "[" * 900 + "]" * 900 + "}", "")),
    ]
    for method, url, body in bodies:
        status, answer = server.http(method, url, body)
        assert status == 400, (method, url[:40], status, answer)
        no_traceback(answer)
    status, now = server.http("GET", "/api/notebooks/deep-src.ipynb")
    assert status == 200 and now["version"] == version
    (server.root / "deep-disk.ipynb").write_text(json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "cells": []})[:-1]
        + ', "metadata": {"x": ' + "[" * 600 + "]" * 600 + "}}")
    try:
        status, answer = server.http("GET", "/api/notebooks/deep-disk.ipynb")
        assert status == 400 and "nested too deeply" in answer["message"], answer
    finally:
        (server.root / "deep-disk.ipynb").unlink()
    still_serving(server)


def test_a_symlink_loop_is_refused_without_naming_the_servers_paths(
        server: ServerProcess) -> None:
    loop = server.root / "loop-self.ipynb"
    loop.symlink_to(loop)
    try:
        for method in ("GET", "DELETE"):
            status, answer = server.http(method, "/api/notebooks/loop-self.ipynb")
            assert status == 403, answer
            assert str(server.root) not in answer["message"] and "/tmp" not in answer["message"]
    finally:
        loop.unlink()
