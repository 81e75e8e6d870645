"""The server's per-cell output log for pages that connect later (server/outputs.py)."""

from __future__ import annotations

import json
from typing import Any

from server.outputs import SAVE_MARGIN, OutputLog


def feed(log: OutputLog, msg_type: str, cell: str | None, content: dict[str, Any],
         now: float) -> None:
    metadata = {"cellId": cell} if cell is not None else {}
    log.feed(msg_type, json.dumps(metadata).encode(), json.dumps(content).encode(), now)


def replayed(log: OutputLog) -> dict[str, Any]:
    message = json.loads(log.replay())
    assert message["channel"] == "server" and message["msg_type"] == "outputs_replay"
    content: dict[str, Any] = message["content"]
    return content


def kinds(content: dict[str, Any], cell: str) -> list[str]:
    return [m["msg_type"] for m in content["cells"][cell]]


def test_a_cells_output_starts_afresh_at_its_execute_input_or_a_clear() -> None:
    log = OutputLog()
    feed(log, "execute_input", "a", {"code": "print(1)", "execution_count": 1}, 1.0)
    feed(log, "stream", "a", {"name": "stdout", "text": "1\n"}, 1.1)
    feed(log, "execute_input", "a", {"code": "print(2)", "execution_count": 2}, 2.0)
    feed(log, "stream", "a", {"name": "stdout", "text": "2\n"}, 2.1)
    feed(log, "clear_output", "b", {"wait": False}, 2.2)
    feed(log, "display_data", "b", {"data": {"text/plain": "x"}, "metadata": {}}, 2.3)
    feed(log, "clear_output", "b", {"wait": True}, 2.4)  # kept: it clears at the next output
    feed(log, "stream", None, {"name": "stdout", "text": "no cell"}, 2.5)
    feed(log, "status", "a", {"execution_state": "idle"}, 2.6)
    content = replayed(log)
    assert kinds(content, "a") == ["execute_input", "stream"]
    assert content["cells"]["a"][1]["content"]["text"] == "2\n"
    assert content["cells"]["a"][1]["metadata"] == {"cellId": "a"}
    assert kinds(content, "b") == ["clear_output", "display_data", "clear_output"]
    assert set(content["cells"]) == {"a", "b"}
    assert content["lost"] == [] and content["version"] is None


def test_a_save_drops_what_it_holds_but_not_what_came_just_before_or_after() -> None:
    log = OutputLog()
    feed(log, "execute_input", "old", {}, 90.0)
    feed(log, "execute_input", "recent", {}, 110.0 - SAVE_MARGIN / 2)
    log.saved("v2", now=110.0)
    feed(log, "execute_input", "after", {}, 111.0)
    content = replayed(log)
    assert set(content["cells"]) == {"recent", "after"}
    assert content["version"] == "v2"
    # Output that goes on after the save continues the saved part: no reset needed.
    feed(log, "stream", "old", {"name": "stdout", "text": "more"}, 112.0)
    assert kinds(replayed(log), "old") == ["stream"]


def test_a_save_that_cleared_a_cells_outputs_drops_them_however_recent() -> None:
    """Outputs cleared in the page (a secret printed by mistake) never come back
    to a page that connects after the save."""
    log = OutputLog()
    feed(log, "execute_input", "secret", {}, 109.0)
    feed(log, "stream", "secret", {"name": "stdout", "text": "token: 123"}, 109.1)
    feed(log, "execute_input", "other", {}, 109.5)
    log.saved("v2", now=110.0, cleared=["secret", "unknown"])
    assert set(replayed(log)["cells"]) == {"other"}


def test_past_its_limit_the_least_recently_changed_cells_are_dropped_as_lost() -> None:
    log = OutputLog(limit=2000)
    for i, cell in enumerate(["a", "b", "c"]):
        feed(log, "execute_input", cell, {}, float(i))
        feed(log, "stream", cell, {"name": "stdout", "text": "x" * 600}, float(i))
    content = replayed(log)
    assert content["lost"] == ["a"] and set(content["cells"]) == {"b", "c"}
    assert log.size <= 2000
    feed(log, "execute_input", "a", {}, 5.0)  # runs again: no longer lost
    content = replayed(log)
    assert "a" not in content["lost"] and "a" in content["cells"]
    log.saved("v3", now=100.0)
    assert replayed(log) == {"cells": {}, "lost": [], "version": "v3"}


def test_malformed_messages_are_ignored() -> None:
    log = OutputLog()
    log.feed("stream", b"not json", b"{}", 1.0)
    log.feed("stream", b"[1]", b"{}", 1.0)
    log.feed("clear_output", b'{"cellId": "a"}', b"oops", 1.0)
    log.feed("stream", b'{"cellId": 5}', b"{}", 1.0)
    assert replayed(log)["cells"] == {}


def test_outputs_an_output_widget_captures_are_not_the_cells() -> None:
    """Widgets QA: ``with out: print(...)`` outputs were replayed after a reload as
    the cell's own outputs (and saved so); they are the Output widget's state."""
    log = OutputLog()

    def out(msg_type: str, text: str, parent: str, now: float) -> None:
        log.feed(msg_type, json.dumps({"cellId": "w"}).encode(),
                 json.dumps({"name": "stdout", "text": text}).encode(), now,
                 parent=json.dumps({"msg_id": parent}).encode())

    def state(msg_type: str, msg_id: str) -> None:
        log.comm(msg_type, json.dumps({"comm_id": "out1", "data": {
            "method": "update", "state": {"msg_id": msg_id}}}).encode())

    feed(log, "execute_input", "w", {"code": "with out: ...", "execution_count": 1}, 1.0)
    out("stream", "before\n", "req1", 1.1)
    state("comm_msg", "req1")
    out("stream", "captured\n", "req1", 1.2)
    state("comm_msg", "")
    out("stream", "after\n", "req1", 1.3)
    state("comm_open", "req1")
    out("stream", "captured again\n", "req1", 1.4)
    log.comm("comm_close", json.dumps({"comm_id": "out1", "data": {}}).encode())
    out("stream", "closed\n", "req1", 1.5)
    state("comm_msg", "req1")
    log.new_kernel()  # a restart: the old kernel's widgets capture nothing any more
    out("stream", "new kernel\n", "req1", 1.6)
    texts = [m["content"]["text"] for m in replayed(log)["cells"]["w"][1:]]
    assert texts == ["before\n", "after\n", "closed\n", "new kernel\n"]


def test_an_update_of_a_display_made_by_another_cell_is_replayed_in_the_cell_showing_it() -> None:
    """The review of 2026-12-06: ``h = display('v1', display_id=True)`` in one cell
    and ``h.update('v2')`` in another: the update was kept with the updating cell,
    so a page connecting later showed ``v1``."""
    log = OutputLog()
    shown = {"data": {"text/plain": "'v1'"}, "metadata": {}, "transient": {"display_id": "d1"}}
    update = {"data": {"text/plain": "'v2'"}, "metadata": {}, "transient": {"display_id": "d1"}}
    feed(log, "execute_input", "a", {"code": "h = display(...)", "execution_count": 1}, 1.0)
    feed(log, "display_data", "a", shown, 1.1)
    feed(log, "execute_input", "b", {"code": "h.update('v2')", "execution_count": 2}, 2.0)
    feed(log, "update_display_data", "b", update, 2.1)
    feed(log, "update_display_data", "b", dict(update, transient={"display_id": "other"}), 2.2)
    content = replayed(log)
    assert kinds(content, "a") == ["execute_input", "display_data", "update_display_data"]
    assert content["cells"]["a"][2]["content"]["data"] == {"text/plain": "'v2'"}
    assert kinds(content, "b") == ["execute_input", "update_display_data"]  # an unknown id: its own
    log.new_kernel()
    feed(log, "update_display_data", "b", update, 3.0)
    assert kinds(replayed(log), "a") == ["execute_input", "display_data", "update_display_data"]


def test_a_lost_cell_stays_lost_until_its_next_run_starts() -> None:
    """A cell whose start was dropped for the limit is not replayed from what
    came after (the rest of the same run, or an update of its display): a page
    would show a truncated output as whole (the review of 2026-12-06)."""
    log = OutputLog(limit=1000)
    feed(log, "execute_input", "a", {}, 1.0)
    feed(log, "stream", "a", {"name": "stdout", "text": "x" * 2000}, 1.0)
    assert replayed(log)["lost"] == ["a"]
    feed(log, "stream", "a", {"name": "stdout", "text": "TAIL\n"}, 2.0)
    content = replayed(log)
    assert content["lost"] == ["a"] and "a" not in content["cells"]
    feed(log, "execute_input", "a", {}, 3.0)
    feed(log, "stream", "a", {"name": "stdout", "text": "again\n"}, 3.0)
    content = replayed(log)
    assert content["lost"] == [] and kinds(content, "a") == ["execute_input", "stream"]
