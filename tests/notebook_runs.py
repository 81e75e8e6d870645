"""Running a notebook's cells on a kernel and reading what each cell shows, and
comparing a whole notebook with stock ipykernel (:func:`measure`).

Shared by the tests that compare notebooks with stock ipykernel and by
``benchmarks/real_notebooks.py``.
"""

from __future__ import annotations

import hashlib
import queue
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
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


# ---- a whole notebook against stock ipykernel ------------------------------------

@dataclass
class Result:
    name: str
    cells: int
    nondeterministic: list[int] = field(default_factory=list)
    with_ids: list[tuple[int, str, str]] = field(default_factory=list)
    without_ids: list[tuple[int, str, str]] = field(default_factory=list)
    refused: int = 0
    edit: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    stock_errors: int = 0


def plain_run(kernel_name: str, path: Path, cells: list[str]) -> tuple[list[str], float]:
    """The cells in order, without cell ids (stock, or the reactive kernel as
    nbclient drives it): each cell's output, and the seconds it took."""
    kernel = Kernel(kernel_name, path.parent)
    try:
        started = time.perf_counter()
        outputs = [render(kernel.execute(code)[1], digests=True) for code in cells]
        return outputs, time.perf_counter() - started
    finally:
        kernel.close()


def stock_run(path: Path, cells: list[str]) -> tuple[list[str], float]:
    return plain_run("python3", path, cells)


def stock_reference(path: Path, cells: list[str]) -> tuple[list[str], set[int], float]:
    """Stock's outputs, the cells whose outputs differ between two stock runs (random
    numbers, timings: left out of comparisons), and the first run's seconds."""
    first, seconds = stock_run(path, cells)
    second, _ = stock_run(path, cells)
    return first, {i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b}, seconds


def reactive_with_ids(path: Path, cells: list[str],
                      edit: tuple[int, str] | None = None) -> tuple[list[str], int, float,
                                                                   list[str] | None]:
    """Cells sent with ids, in order; then, if ``edit``, that one cell again
    with new code.  Returns what each cell shows, refusals, seconds, and what
    each shows after the edit."""
    kernel = Kernel("reactive", path.parent)
    ids = [f"cell-{i}" for i in range(len(cells))]
    shown = Shown(ids)
    refused = 0
    try:
        started = time.perf_counter()
        for cell, code in zip(ids, cells, strict=True):
            reply, messages = kernel.execute(code, cell)
            shown.take(cell, messages)
            refused += reply["content"].get("ename") == "CycleError"
        seconds = time.perf_counter() - started
        first = shown.render(ids, digests=True)
        after = None
        if edit is not None:
            index, code = edit
            shown.take(ids[index], kernel.execute(code, ids[index])[1])
            after = shown.render(ids, digests=True)
        return first, refused, seconds, after
    finally:
        kernel.close()


_NUMBER = re.compile(r"(?<![\w.])([2-9]|[1-9]\d{1,3})(?![\w.])")


def find_edit(cells: list[str]) -> tuple[int, str] | None:
    """An early cell assigning something from a number that later cells read:
    change the first such number, as a user editing the data would."""
    for index, code in enumerate(cells[: max(3, len(cells) // 2)]):
        if code.lstrip().startswith(("%", "!")):
            continue
        for line in code.splitlines():
            match = re.match(r"\s*([A-Za-z_]\w*)\s*=[^=]", line)
            if not match or not _NUMBER.search(line.split("=", 1)[1]):
                continue
            name = match.group(1)
            if any(re.search(rf"\b{name}\b", later) for later in cells[index + 1:]):
                start = line.index("=", match.start(1)) + 1
                number = _NUMBER.search(line, start)
                assert number is not None
                value = int(number.group(1))
                # The number itself, not the same digits in a name (`tables[2]` in
                # `table2 = tables[2]`) or a string earlier on the line.
                new_line = line[:number.start(1)] + str(value + 1) + line[number.end(1):]
                return index, code.replace(line, new_line, 1)
    return None


def compare(stock: list[str], mine: list[str], skip: set[int]) -> list[tuple[int, str, str]]:
    return [(i, a, b) for i, (a, b) in enumerate(zip(stock, mine, strict=True))
            if i not in skip and a != b]


def measure(path: Path, with_edit: bool) -> Result:
    nb = nbformat.read(path, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    result = Result(path.name, len(cells))
    first, skip, t_stock = stock_reference(path, cells)
    result.nondeterministic = sorted(skip)
    result.stock_errors = sum(1 for out in first if "Error:" in out)
    result.seconds["stock"] = t_stock
    edit = find_edit(cells) if with_edit else None
    mine, refused, t_ids, after = reactive_with_ids(path, cells, edit)
    result.with_ids = compare(first, mine, skip)
    result.refused = refused
    result.seconds["reactive_ids"] = t_ids
    batch, t_batch = plain_run("reactive", path, cells)
    result.without_ids = compare(first, batch, skip)
    result.seconds["reactive_no_ids"] = t_batch
    if edit is not None and after is not None:
        edited = list(cells)
        edited[edit[0]] = edit[1]
        expected, skip_edit, _ = stock_reference(path, edited)
        skip_edit |= skip
        result.edit = {"cell": edit[0], "code": edit[1],
                       "differ": compare(expected, after, skip_edit),
                       "changed_by_edit": sum(1 for a, b in zip(first, expected, strict=True)
                                              if a != b)}
    return result
