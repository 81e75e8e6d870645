"""Cell state published by the kernel on the ``reactive`` comm, and the
control requests (mode, run stale) that replace magic strings."""

from __future__ import annotations

import time
import uuid
import zlib
from typing import Any

from .conftest import DEFAULT_TIMEOUT, KernelHarness


def open_comm(k: KernelHarness) -> tuple[str, dict[str, Any]]:
    """Open a ``reactive`` comm (comm_open has no reply: wait for its idle)."""
    comm_id = uuid.uuid4().hex
    msg = k.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "reactive",
                                         "data": {}})
    k.kc.shell_channel.send(msg)
    iopub = []
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while True:
        m = k.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if (m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg["header"][
                "msg_id"] and m["content"]["execution_state"] == "idle"):
            break
        iopub.append(m)
    snapshot = comm_messages(iopub, comm_id)
    assert [m["type"] for m in snapshot] == ["snapshot"], snapshot
    return comm_id, snapshot[0]


def comm_messages(iopub: list[dict[str, Any]], comm_id: str) -> list[dict[str, Any]]:
    return [m["content"]["data"] for m in iopub
            if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id]


def graph_request(k: KernelHarness, **content: Any) -> tuple[dict[str, Any], list[Any]]:
    msg = k.kc.session.msg("reactive_graph_request", content)
    k.kc.shell_channel.send(msg)
    result = k.collect(msg)
    return result.reply["content"], result.iopub


def states(messages: list[dict[str, Any]], cell: str) -> list[str]:
    """Every status a cell went through, in the order published."""
    return [m["cells"][cell]["status"] for m in messages
            if m["type"] == "cells" and m["cells"].get(cell)]


def test_a_cascade_is_published_cell_by_cell(fresh_kernel: KernelHarness) -> None:
    k = fresh_kernel
    comm_id, snapshot = open_comm(k)
    assert snapshot["cells"] == {} and snapshot["mode"] == "auto"
    first = k.ok("sc_a = 1", "a")
    published = comm_messages(first.iopub, comm_id)
    assert states(published, "a")[-1] == "ok"
    graph = [m for m in published if m["type"] == "graph"]
    assert graph and graph[-1]["cells"]["a"]["defines"] == ["sc_a"]
    k.ok("import time\ntime.sleep(0.15)\nsc_b = sc_a + 1", "b")
    k.ok("sc_c = sc_b * 10", "c")
    edit = k.ok("sc_a = 5", "a")
    published = comm_messages(edit.iopub, comm_id)
    # Planned (queued), then running, then done: from the kernel, not guessed.
    assert states(published, "b")[0] == "queued" and states(published, "b")[-1] == "ok"
    assert "running" in states(published, "b") + states(published, "c")
    final = published[-1]["cells"] if published[-1]["type"] == "cells" else {}
    done = {cell: s["status"] for m in published if m["type"] == "cells"
            for cell, s in m["cells"].items() if s}
    assert done == {"a": "ok", "b": "ok", "c": "ok"}, (done, final)
    last_c = [m["cells"]["c"] for m in published if m["type"] == "cells" and "c" in m["cells"]]
    assert last_c[-1]["runs"] == 2 and last_c[-1]["duration_ms"] is not None
    # Same names: the graph did not change, no graph message.
    assert not [m for m in published if m["type"] == "graph"]


def test_skips_name_their_upstream_and_deletions_are_null(fresh_kernel: KernelHarness) -> None:
    k = fresh_kernel
    comm_id, _snapshot = open_comm(k)
    k.ok("sk_a = 1", "a")
    k.ok("sk_b = 1 / sk_a", "b")
    k.ok("sk_c = sk_b + 1", "c")
    edit = k.run("sk_a = 0", "a")
    cells = {c: s for m in comm_messages(edit.iopub, comm_id) if m["type"] == "cells"
             for c, s in m["cells"].items()}
    assert cells["b"]["status"] == "error" and cells["b"]["error"].startswith("ZeroDivision")
    assert cells["c"]["status"] == "skipped" and cells["c"]["skipped_because"] == "b"
    _reply, iopub = graph_request(k, remove=["c"])
    removed = [m for m in comm_messages(iopub, comm_id) if m["type"] == "cells"]
    assert removed and removed[0]["cells"]["c"] is None


def test_mode_and_run_stale_are_requests_not_magics(fresh_kernel: KernelHarness) -> None:
    k = fresh_kernel
    comm_id, _snapshot = open_comm(k)
    k.ok("ms_a = 1", "a")
    k.ok("ms_b = ms_a + 1\nprint('b', ms_b)", "b")
    reply, iopub = graph_request(k, mode="lazy")
    assert reply["mode"] == "lazy"
    assert {"type": "mode", "mode": "lazy"} in comm_messages(iopub, comm_id)
    edit = k.ok("ms_a = 2", "a")
    assert edit.reactive["stale"] == ["b"]
    assert states(comm_messages(edit.iopub, comm_id), "b") == ["stale"]
    reply, iopub = graph_request(k, run_stale=True)
    assert reply["reactive"]["ran"] == ["b"] and reply["cells"]["b"]["status"] == "ok"
    assert any(m["msg_type"] == "stream" and m["content"]["text"] == "b 3\n" for m in iopub)
    bad, _ = graph_request(k, mode="sometimes")
    assert bad["status"] == "error" and "mode" in bad["evalue"]


def test_no_comm_no_messages(kernel: KernelHarness) -> None:
    """Frontends that open no comm (stock JupyterLab, console) get nothing extra."""
    run = kernel.ok("nc_a = 1", KernelHarness.unique())
    assert not [m for m in run.iopub if m["msg_type"].startswith("comm")]


def test_a_comm_opened_while_a_cell_runs_is_answered_at_once(
        fresh_kernel: KernelHarness, tmp_path: Any) -> None:
    """A page reloaded while a cell runs opens its comm behind that request in the
    shell queue: the kernel answers it as it arrives (the running cell shows as
    running), sends it each change meanwhile, and takes it over without a second
    snapshot once the request is done."""
    k = fresh_kernel
    k.ok("ea_a = 1", "a")
    go = tmp_path / "go"
    k.ok("import os, time\n"
         "def ea_wait(path):\n"
         "    print('waiting', flush=True)\n"
         "    deadline = time.monotonic() + 30\n"
         "    while not os.path.exists(path) and time.monotonic() < deadline:\n"
         "        time.sleep(0.01)\n"
         f"ea_path = {str(go)!r}", "setup")
    go.touch()
    k.ok("ea_wait(ea_path)\nea_b = ea_a + 1", "b")
    k.ok("ea_c = ea_b * 10", "c")
    go.unlink()
    running = k.request("ea_a = 2", "a")  # b waits for the file; c after it
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while True:  # until b runs
        m = k.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if m["msg_type"] == "stream" and "waiting" in m["content"]["text"]:
            break
    comm_id = uuid.uuid4().hex
    opening = k.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "reactive",
                                             "data": {}})
    k.kc.shell_channel.send(opening)
    seen: list[dict[str, Any]] = []
    while not any(m["type"] == "snapshot" for m in seen):
        m = k.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        assert m["parent_header"].get("msg_id") != running["header"]["msg_id"] or \
            m["msg_type"] != "status" or m["content"]["execution_state"] != "idle", \
            "the snapshot waited for the run to end"
        seen += comm_messages([m], comm_id)
    snapshot = seen[-1]
    assert snapshot["cells"]["b"]["status"] == "running", snapshot["cells"]["b"]
    assert snapshot["cells"]["c"]["status"] == "queued", snapshot["cells"]["c"]
    go.touch()
    result = k.collect(running)
    assert result.status == "ok" and result.reactive["ran"] == ["a", "b", "c"]
    later = comm_messages(result.iopub, comm_id)
    assert [m["type"] for m in later if m["type"] == "snapshot"] == []
    assert states(later, "c")[-1] == "ok", later
    # The open itself (now handled by the main thread) sends nothing more.
    after_open = result.iopub
    while not any(m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
                  and m["parent_header"].get("msg_id") == opening["header"]["msg_id"]
                  for m in after_open):
        after_open.append(k.kc.get_iopub_msg(timeout=DEFAULT_TIMEOUT))
    handled = next(i for i, m in enumerate(after_open)
                   if m["parent_header"].get("msg_id") == opening["header"]["msg_id"]
                   and m["msg_type"] == "status")
    assert comm_messages(after_open[handled:], comm_id) == []
    # From now on the comm is an ordinary one: each change once.
    edit = k.ok("ea_a = 3", "a")
    published = comm_messages(edit.iopub, comm_id)
    assert states(published, "c") == ["queued", "running", "ok"] or \
        states(published, "c")[-1] == "ok", published
    cells_messages = [m for m in edit.iopub if m["msg_type"] == "comm_msg"]
    assert len(cells_messages) == len({m["header"]["msg_id"] for m in cells_messages})
    assert len(published) == len([m for m in published if m["type"] == "cells"])


def test_an_unsigned_comm_open_gets_no_early_answer(fresh_kernel: KernelHarness) -> None:
    """Only a signed comm_open is answered before the main thread checks it."""
    k = fresh_kernel
    k.ok("us_a = 1", "a")
    comm_id = uuid.uuid4().hex
    msg = k.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "reactive",
                                         "data": {}})
    key = k.kc.session.key
    k.kc.session.key = b"wrong"  # signs with another key
    try:
        k.kc.shell_channel.send(msg)
    finally:
        k.kc.session.key = key
    check = k.run("1", "probe")  # the main thread dropped the bad open meanwhile
    assert comm_messages(check.iopub, comm_id) == []


def test_a_refused_cell_is_published_as_an_error(fresh_kernel: KernelHarness) -> None:
    """A cell refused for a cycle did not run its code: its badge must not keep the
    last run's ok."""
    k = fresh_kernel
    comm_id, _snapshot = open_comm(k)
    k.ok("cy_a = 1", "a")
    k.ok("cy_b = cy_a + 1", "b")
    refused = k.run("cy_a = cy_b + 1", "a")
    assert refused.status == "error" and refused.reply["content"]["ename"] == "CycleError"
    published = comm_messages(refused.iopub, comm_id)
    last = [m["cells"]["a"] for m in published if m["type"] == "cells" and "a" in m["cells"]]
    assert last and last[-1]["status"] == "error", published
    assert last[-1]["error"].startswith("CycleError")
    assert last[-1]["execution_count"] == refused.reply["content"]["execution_count"]
    # Its earlier value still stands for the cells below, and running it again works.
    assert k.value("cy_b") == "2"
    k.ok("cy_a = 3", "a")
    assert k.value("cy_b") == "4"


def test_each_cell_publishes_the_hash_of_the_code_a_cascade_would_rerun(
        fresh_kernel: KernelHarness) -> None:
    """``code_hash`` is the CRC-32 of the code the kernel holds for the cell: what it
    ran, or was registered with; a refused edit leaves the code it ran before (a
    cascade re-runs that), so a frontend showing the edit can say it is not run."""
    k = fresh_kernel
    comm_id, _snapshot = open_comm(k)

    def published(result_iopub: list[Any], cell: str) -> str | None:
        hashes = [m["cells"][cell]["code_hash"] for m in comm_messages(result_iopub, comm_id)
                  if m["type"] == "cells" and m["cells"].get(cell)]
        return hashes[-1] if hashes else None

    first = k.ok("ch_a = 1", "a")
    assert published(first.iopub, "a") == f"{zlib.crc32(b'ch_a = 1'):08x}"
    k.ok("ch_b = ch_a + 1  # é", "b")
    refused = k.run("ch_a = ch_b", "a")
    assert refused.reply["content"]["ename"] == "CycleError"
    # The graph's code of a is still the one it ran: the refused text is not its code.
    reply, _ = graph_request(k)
    assert reply["cells"]["a"]["code_hash"] == f"{zlib.crc32(b'ch_a = 1'):08x}"
    assert reply["cells"]["b"]["code_hash"] == \
        f"{zlib.crc32('ch_b = ch_a + 1  # é'.encode()):08x}"
    # Registered, never run: the hash of the registered code; broken code has one too.
    _reply, iopub = graph_request(k, register=[{"cellId": "c", "code": "ch_c = ch_b"}])
    assert published(iopub, "c") == f"{zlib.crc32(b'ch_c = ch_b'):08x}"
    broken = k.run("ch_c = (", "c")
    assert broken.status == "error"
    assert published(broken.iopub, "c") == f"{zlib.crc32(b'ch_c = ('):08x}"


def test_without_the_peek_a_comm_gets_its_snapshot_from_the_open(
        monkeypatch: Any) -> None:
    """The public path (REACTIVE_KERNEL_PEEK=0, an ipykernel that would not pass shell
    messages through the peek): the comm is answered when the kernel handles its
    open, once, and then hears every change."""
    monkeypatch.setenv("REACTIVE_KERNEL_PEEK", "0")
    k = KernelHarness("reactive")
    try:
        k.ok("np_a = 1", "a")
        comm_id, snapshot = open_comm(k)  # asserts a single snapshot
        assert snapshot["cells"]["a"]["status"] == "ok"
        edit = k.ok("np_a = 2", "a")
        assert states(comm_messages(edit.iopub, comm_id), "a")[-1] == "ok"
    finally:
        k.close()


def test_a_malformed_comm_open_is_dropped_and_the_kernel_goes_on(
        fresh_kernel: KernelHarness) -> None:
    """The peek reads a comm_open before the kernel checks it: content that is not a
    comm's, or no comm id, changes nothing, and the kernel still answers."""
    k = fresh_kernel
    for content in ({"target_name": "reactive"}, {"comm_id": 5, "target_name": "reactive"},
                    {"comm_id": "x", "target_name": "other"}):
        k.kc.shell_channel.send(k.kc.session.msg("comm_open", content))
    check = k.run("1 + 1", "after")
    assert check.status == "ok"
    assert not [m for m in check.iopub if m["msg_type"] == "comm_msg"]


def test_code_hash_of_a_lone_surrogate_is_the_browsers() -> None:
    """A lone surrogate (possible in JSON) hashes as a browser's TextEncoder encodes
    it, U+FFFD, so a frontend does not mark the cell edited; the kernel never fails."""
    from reactive_kernel.state import code_hash
    replaced = "a = '\ufffd'".encode()
    assert code_hash("a = '\ud800'") == f"{zlib.crc32(replaced):08x}"
    assert code_hash("é") == f"{zlib.crc32('é'.encode()):08x}"


class _Comm:
    """What the publisher needs of an open ipykernel comm: an id, its messages."""

    def __init__(self) -> None:
        self.comm_id = "pure"
        self.sent: list[dict[str, Any]] = []

    def send(self, data: dict[str, Any]) -> None:
        self.sent.append(data)

    def on_close(self, _callback: Any) -> None:
        pass


def test_a_send_failing_on_the_timers_thread_keeps_its_changes() -> None:
    import threading

    from reactive_kernel.runner import Runner
    from reactive_kernel.statecomm import StatePublisher

    runner = Runner({})
    opened: list[Any] = []
    publisher = StatePublisher(runner, lambda _target, callback: opened.append(callback))
    comm = _Comm()
    opened[0](comm, {})
    runner.load([("a", "x = 1")])
    real_label = runner.label
    failures = []

    def label(cell: str) -> str:
        if threading.current_thread() is not threading.main_thread():
            # (As when the main thread changes the graph meanwhile.)
            failures.append(cell)
            raise KeyError(cell)
        return real_label(cell)

    runner.label = label  # type: ignore[method-assign]
    timer = threading.Thread(target=publisher.flush)
    timer.start()
    timer.join(DEFAULT_TIMEOUT)
    assert failures == ["a"] and [m["type"] for m in comm.sent] == ["snapshot"]
    publisher.flush()  # the next send has them
    assert comm.sent[-1]["type"] == "cells" and "a" in comm.sent[-1]["cells"], comm.sent
