"""Input history reaches IPython's database without a write per input.

The kernel keeps inputs in IPython's history cache and writes them out at most once
per ``ReactiveKernel.history_write_interval`` (reactive_kernel/_compat/history.py), on the
saving thread, at a history request, or at exit.
"""

from __future__ import annotations

import ast
import sqlite3
import time
from typing import Any

from jupyter_client.manager import KernelManager

from .conftest import DEFAULT_TIMEOUT, KernelHarness


def _history_db(kernel: KernelHarness) -> tuple[str, int]:
    """The kernel's history database file and its current session number."""
    found = ast.literal_eval(kernel.value(
        "(str(get_ipython().history_manager.hist_file), "
        "get_ipython().history_manager.session_number)"))
    return str(found[0]), int(found[1])


def _stored(path: str, session: int) -> list[str]:
    """The raw inputs of ``session`` in the database (read-only, as another process)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute("SELECT source_raw FROM history WHERE session = ? ORDER BY line",
                          (session,)).fetchall()
    finally:
        db.close()
    return [row[0] for row in rows]


def _wait_stored(path: str, session: int, sources: list[str], timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            stored = _stored(path, session)
        except sqlite3.OperationalError:
            # (A read-only reader of a database in WAL mode the kernel is writing
            # may be refused for a moment: "attempt to write a readonly database".)
            if time.monotonic() > deadline:
                raise
            stored = []
        if all(s in stored for s in sources) or time.monotonic() > deadline:
            return stored
        time.sleep(0.05)  # polling another process's file, bounded by the deadline


def test_inputs_are_written_within_the_interval(kernel: KernelHarness) -> None:
    """With the default interval (1 s), inputs land in the database without any
    later request, shutdown or history request."""
    path, session = _history_db(kernel)
    sources = [f"hist_marker_{i} = {i}" for i in range(3)]
    for source in sources:
        kernel.ok(source, KernelHarness.unique("hist"))
    stored = _wait_stored(path, session, sources, timeout=15)
    assert all(s in stored for s in sources), stored


def test_history_request_sees_inputs_not_yet_written(kernel: KernelHarness) -> None:
    source = "hist_tail_marker = 42"
    kernel.ok(source, KernelHarness.unique("hist"))
    msg_id = kernel.kc.history(hist_access_type="tail", n=5, raw=True, output=False)
    reply = kernel.kc.get_shell_msg(timeout=DEFAULT_TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert source in [entry[2] for entry in reply["content"]["history"]]


def _start(arguments: list[str]) -> tuple[KernelManager, Any]:
    km = KernelManager(kernel_name="reactive")
    km.start_kernel(extra_arguments=arguments)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def test_inputs_wait_in_the_cache_and_are_written_at_shutdown() -> None:
    """With a long interval nothing is written per input (the inputs stay in the
    cache); a clean shutdown writes them all."""
    km, kc = _start(["--ReactiveKernel.history_write_interval=600"])
    harness = KernelHarness.__new__(KernelHarness)
    harness.km, harness.kc = km, kc
    try:
        harness.drain()
        path, session = _history_db(harness)
        sources = [f"hist_late_{i} = {i}" for i in range(3)]
        for source in sources:
            harness.ok(source, KernelHarness.unique("hist"))
        if "history" not in harness.value("get_ipython().kernel._fast.active()"):
            # Fast paths off (REACTIVE_KERNEL_FAST_PATHS=0): IPython writes each input.
            stored = _wait_stored(path, session, sources, timeout=15)
            assert all(s in stored for s in sources), stored
            return
        cached = harness.value(
            "[s for _, _, s in get_ipython().history_manager.db_input_cache]")
        assert all(s in cached for s in sources), cached
        assert not any(s in _stored(path, session) for s in sources)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)  # shutdown_request: the kernel exits cleanly
    stored = _stored(path, session)
    assert all(s in stored for s in sources), stored
