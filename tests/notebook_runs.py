"""Running a notebook's cells on a kernel and reading what each cell shows.

Shared by the tests that compare notebooks with stock ipykernel and by
``benchmarks/real_notebooks.py``.
"""

from __future__ import annotations

import hashlib
import queue
import re
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

TIMEOUT = 120.0
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,16}")
_TIMING = re.compile(r"\d+(\.\d+)? ?(ns|µs|μs|us|ms|s) ± [\d.]+ ?(ns|µs|μs|us|ms|s) per loop.*")
_WALL = re.compile(r"(CPU times|Wall time):.*")


def normalise(text: str) -> str:
    text = _ADDRESS.sub("0x…", text)
    text = _TIMING.sub("<timing>", text)
    return _WALL.sub("<timing>", text)


def render(messages: list[dict[str, Any]], digests: bool = False) -> str:
    """A cell's visible output as text: streams, results, displays, errors.
    An image shows as its MIME type, or with ``digests`` as its type and a digest
    of its data (so a plot that shows something else differs)."""
    parts: list[str] = []
    streaming = False
    for m in messages:
        kind, content = m["msg_type"], m["content"]
        if kind == "clear_output":
            parts = []
        elif kind == "stream":
            if content["text"].startswith("Not run:"):
                parts.append("<not run>")
            elif streaming:
                parts[-1] += content["text"]  # one text, however it was flushed
            else:
                parts.append(content["text"])
            streaming = not content["text"].startswith("Not run:")
            continue
        elif kind in ("execute_result", "display_data"):
            data = content.get("data", {})
            images = sorted(k for k in data if k.startswith("image/"))
            if digests:
                images = [f"{k}:{_digest(data[k])}" for k in images]
            parts.append(f"<{','.join(images)}>" if images else data.get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{content['ename']}: {content['evalue']}")
        streaming = False
    return normalise("\n".join(parts))


def _digest(data: Any) -> str:
    text = "".join(data) if isinstance(data, list) else str(data)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


class Kernel:
    """A kernel started from a kernelspec in a directory, spoken to directly."""

    def __init__(self, name: str, cwd: Path) -> None:
        self.km = KernelManager(kernel_name=name)
        self.km.start_kernel(cwd=str(cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        while True:
            try:
                self.kc.get_iopub_msg(timeout=0.3)
            except queue.Empty:
                break

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def request(self, msg_type: str, content: dict[str, Any],
                metadata: dict[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                 list[dict[str, Any]]]:
        """Send a shell request; returns its reply and the iopub messages until its idle."""
        msg = self.kc.session.msg(msg_type, content, metadata=metadata or {})
        self.kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        deadline = time.monotonic() + TIMEOUT
        iopub = []
        while True:
            m = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            if (m["msg_type"] == "status" and m["parent_header"].get("msg_id") == msg_id
                    and m["content"]["execution_state"] == "idle"):
                break
            iopub.append(m)
        while True:
            reply = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply, iopub

    def execute(self, code: str, cell: str | None = None) -> tuple[dict[str, Any],
                                                                   list[dict[str, Any]]]:
        content = {"code": code, "silent": False, "store_history": True,
                   "user_expressions": {}, "allow_stdin": False, "stop_on_error": False}
        return self.request("execute_request", content, {"cellId": cell} if cell else None)




class Shown:
    """What each cell of a reactive kernel shows: its own request's outputs and
    the re-run outputs that reached it later (routed by ``metadata.cellId``)."""

    OUTPUTS = ("clear_output", "stream", "execute_result", "display_data", "error")

    def __init__(self, cells: list[str]) -> None:
        self.messages: dict[str, list[dict[str, Any]]] = {c: [] for c in cells}

    def take(self, cell: str | None, messages: list[dict[str, Any]]) -> None:
        """The iopub messages of one request (``cell``'s own, if not None)."""
        if cell is not None:
            self.messages[cell] = []
        for m in messages:
            owner = m.get("metadata", {}).get("cellId")
            if owner in self.messages and m["msg_type"] in self.OUTPUTS:
                self.messages[owner].append(m)

    def render(self, cells: list[str], digests: bool = False) -> list[str]:
        return [render(self.messages.get(c, []), digests) for c in cells]


def run_stock(kernel: Kernel, cells: list[str]) -> list[str]:
    """Each cell's output running ``cells`` top to bottom in a fresh namespace."""
    kernel.execute("%reset -f")
    return [render(kernel.execute(code)[1]) for code in cells]


def render_saved(outputs: list[Any]) -> str:
    """:func:`render` for outputs saved in a notebook (nbclient, papermill)."""
    messages = []
    for out in outputs:
        kind = out["output_type"]
        if kind == "stream":
            messages.append({"msg_type": "stream", "content": {"text": out["text"]}})
        elif kind in ("execute_result", "display_data"):
            messages.append({"msg_type": kind, "content": {"data": dict(out["data"])}})
        elif kind == "error":
            messages.append({"msg_type": "error", "content": {"ename": out["ename"],
                                                              "evalue": out["evalue"]}})
    return render(messages)
