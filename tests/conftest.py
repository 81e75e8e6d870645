"""Shared fixtures: real kernels started from the installed kernelspecs."""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import zmq
from jupyter_client.manager import KernelManager

DEFAULT_TIMEOUT = 30.0


def connected_pub_sub(ctx: zmq.Context) -> tuple[zmq.Socket, zmq.Socket]:
    """A PUB socket on 127.0.0.1 and a SUB subscribed to everything, returned once
    the subscription is live (PUB drops what it sends before that): probed,
    with every probe read back."""
    pub = ctx.socket(zmq.PUB)
    port = pub.bind_to_random_port("tcp://127.0.0.1")
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(f"tcp://127.0.0.1:{port}")
    for _ in range(200):
        pub.send(b"probe")
        if sub.poll(25):
            break
    else:
        pub.close(linger=0)
        sub.close(linger=0)
        pytest.fail("the subscriber never connected")
    while sub.poll(50):
        sub.recv_multipart()
    return pub, sub


@dataclass
class Execution:
    """One execute_request: its reply and every iopub message until its idle."""

    request: dict[str, Any]
    reply: dict[str, Any]
    iopub: list[dict[str, Any]] = field(default_factory=list)

    @property
    def msg_id(self) -> str:
        return self.request["header"]["msg_id"]

    @property
    def status(self) -> str:
        return self.reply["content"]["status"]

    @property
    def reactive(self) -> dict[str, Any]:
        return self.reply["metadata"]["reactive"]

    def outputs(self, cell: str | None = None) -> list[dict[str, Any]]:
        kinds = {"stream", "execute_result", "display_data", "error", "clear_output",
                 "update_display_data"}
        return [
            m for m in self.iopub
            if m["msg_type"] in kinds and (cell is None or m["metadata"].get("cellId") == cell)
        ]

    def text(self, cell: str | None = None) -> str:
        """Stream text and text/plain results of a cell's outputs, in order."""
        parts = []
        for m in self.outputs(cell):
            content = m["content"]
            if m["msg_type"] == "stream":
                parts.append(content["text"])
            elif "data" in content:
                parts.append(content["data"].get("text/plain", "") + "\n")
            elif m["msg_type"] == "error":
                parts.append(f"{content['ename']}: {content['evalue']}\n")
        return "".join(parts)


class KernelHarness:
    """Speaks the Jupyter protocol to a real kernel subprocess."""

    _ids = itertools.count()

    def __init__(self, kernel_name: str, env: dict[str, str] | None = None) -> None:
        self.km = KernelManager(kernel_name=kernel_name)
        self.km.start_kernel(**({"env": env} if env is not None else {}))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.drain()

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def drain(self) -> None:
        while True:
            try:
                self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                return

    def request(
        self,
        code: str,
        cell: str | None = None,
        deleted: list[str] | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if cell is not None:
            metadata["cellId"] = cell
        if deleted:
            metadata["deletedCells"] = deleted
        body = {"code": code, "silent": False, "store_history": True,
                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        body.update(content)
        msg = self.kc.session.msg("execute_request", body, metadata=metadata)
        self.kc.shell_channel.send(msg)
        return msg

    def collect(self, request: dict[str, Any], timeout: float = DEFAULT_TIMEOUT) -> Execution:
        """Wait for the reply and the idle status of ``request``."""
        msg_id = request["header"]["msg_id"]
        deadline = time.monotonic() + timeout
        iopub: list[dict[str, Any]] = []
        reply = None
        idle = False
        while not (idle and reply is not None):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply/idle for {request['content']['code']!r}")
            if not idle:
                try:
                    m = self.kc.get_iopub_msg(timeout=min(left, 1.0))
                except queue.Empty:
                    continue
                if (m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
                        and m["content"]["execution_state"] == "idle"):
                    idle = True
                else:
                    iopub.append(m)
            if idle and reply is None:
                m = self.kc.get_shell_msg(timeout=left)
                if m["parent_header"].get("msg_id") == msg_id:
                    reply = m
        return Execution(request, reply, iopub)

    def run(self, code: str, cell: str | None = None, **kw: Any) -> Execution:
        timeout = kw.pop("timeout", DEFAULT_TIMEOUT)
        return self.collect(self.request(code, cell, **kw), timeout=timeout)

    def ok(self, code: str, cell: str | None = None, **kw: Any) -> Execution:
        result = self.run(code, cell, **kw)
        assert result.status == "ok", result.reply["content"]
        return result

    def value(self, expression: str) -> Any:
        """Evaluate an expression silently (no graph) and return its repr."""
        msg = self.request("", user_expressions={"v": expression}, silent=True)
        deadline = time.monotonic() + DEFAULT_TIMEOUT
        while True:  # skip stray replies (e.g. wait_for_ready's extra kernel_info)
            reply = self.kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        data = reply["content"]["user_expressions"]["v"]
        if data["status"] != "ok":
            return data["ename"]
        return data["data"]["text/plain"]

    def interrupt_until(self, done: threading.Event, first: float, every: float = 1.0) -> None:
        """Interrupt after ``first`` seconds, then every ``every`` seconds until
        ``done`` is set (from a thread of its own).  A SIGINT that lands before
        the kernel started handling the request is ignored by ipykernel, which
        on a loaded machine can take longer than ``first``."""

        def repeat() -> None:
            delay = first
            while not done.wait(delay):
                self.km.interrupt_kernel()
                delay = every

        threading.Thread(target=repeat, daemon=True).start()

    @classmethod
    def unique(cls, prefix: str = "cell") -> str:
        return f"{prefix}-{next(cls._ids)}"


@pytest.fixture(scope="session")
def kernel() -> Iterator[KernelHarness]:
    """One reactive kernel shared by tests that use distinct names and cell ids."""
    harness = KernelHarness("reactive")
    yield harness
    harness.close()


@pytest.fixture
def fresh_kernel() -> Iterator[KernelHarness]:
    """A kernel of its own, for tests that interrupt or change modes."""
    harness = KernelHarness("reactive")
    yield harness
    harness.close()
