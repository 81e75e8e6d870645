"""``python -m reactive_kernel run NOTEBOOK.ipynb [-o OUT.ipynb]``.

Executes a notebook with the reactive kernel in dependency order (even if its
cells were saved out of order), writes the outputs into the notebook, shows
progress, and exits non-zero if a cell fails.

How: the cells are loaded into a fresh kernel's graph without running
(``reactive_graph_request``), the kernel is put in lazy mode so no cell runs
as a side effect of another, then every code cell runs once, by its own
request, in the graph's order.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager

from . import KERNEL_NAME

OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


class NotebookRunner:
    """Runs one notebook's code cells in dependency order on a reactive kernel."""

    def __init__(self, notebook: Any, kernel_name: str = KERNEL_NAME, timeout: float = 600,
                 allow_errors: bool = False, progress: Any = sys.stderr) -> None:
        self.nb = notebook
        self.kernel_name = kernel_name
        self.timeout = timeout
        self.allow_errors = allow_errors
        self.progress = progress
        self.errors: list[tuple[str, str]] = []

    def run(self) -> bool:
        km = KernelManager(kernel_name=self.kernel_name)
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            return self._run_all(kc)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    def _request(self, kc: Any, msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
        msg = kc.session.msg(msg_type, content)
        kc.shell_channel.send(msg)
        deadline = time.monotonic() + 60
        while True:
            reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                return dict(reply["content"])

    def _run_all(self, kc: Any) -> bool:
        cells = {c.id: c for c in self.nb.cells if c.cell_type == "code"}
        graph = self._request(kc, "reactive_graph_request", {
            "register": [{"cellId": cid, "code": c.source} for cid, c in cells.items()]})
        if graph.get("status") != "ok":
            raise RuntimeError(f"the kernel could not load the notebook: {graph.get('evalue')}")
        for cid, message in graph.get("errors", {}).items():
            self.errors.append((cid, message))
        order = [c for c in graph["order"] if c in cells]
        order += [c for c in cells if c not in order]  # refused cells: run, and fail, last
        kc.execute("%reactive lazy", silent=True)  # nothing runs as a side effect
        ok = not self.errors
        for number, cid in enumerate(order, start=1):
            self._show(number, len(order), cid)
            if not self._execute(kc, cells[cid]):
                ok = False
                if not self.allow_errors:
                    break
        self._show(len(order), len(order), "done", end=True)
        return ok

    def _show(self, done: int, total: int, label: str, end: bool = False) -> None:
        if self.progress is None:
            return
        width = 30
        filled = int(width * (done - (0 if end else 1)) / max(total, 1))
        bar = "#" * filled + "." * (width - filled)
        self.progress.write(f"\r[{bar}] {done}/{total} {label[:30]:<30}")
        if end:
            self.progress.write("\n")
        self.progress.flush()

    def _execute(self, kc: Any, cell: Any) -> bool:
        msg = kc.session.msg("execute_request", {
            "code": cell.source, "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": False,
        }, metadata={"cellId": cell.id})
        kc.shell_channel.send(msg)
        msg_id = msg["header"]["msg_id"]
        outputs: list[Any] = []
        clear_pending = False
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                message = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"cell {cell.id} did not finish in {self.timeout} s") \
                    from None
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                break
            if kind == "clear_output":
                if message["content"].get("wait"):
                    clear_pending = True
                else:
                    outputs = []
            elif kind in OUTPUT_TYPES:
                if clear_pending:
                    outputs, clear_pending = [], False
                outputs.append(nbformat.v4.output_from_msg(message))
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=60)
        cell.outputs = outputs
        cell.execution_count = reply["content"].get("execution_count")
        if reply["content"]["status"] != "ok":
            self.errors.append((cell.id, f"{reply['content'].get('ename')}: "
                                         f"{reply['content'].get('evalue')}"))
            return False
        return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m reactive_kernel run",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("-o", "--output", type=Path, help="where to write (default: in place)")
    parser.add_argument("--kernel", default=KERNEL_NAME, help="kernelspec (default: reactive)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per cell")
    parser.add_argument("--allow-errors", action="store_true", help="keep going after errors")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        nb = nbformat.read(args.notebook, as_version=4)
    except (OSError, ValueError) as err:
        print(f"Cannot read {args.notebook}: {err}", file=sys.stderr)
        return 2
    for cell in nb.cells:  # notebooks older than nbformat 4.5 have no cell ids
        if not cell.get("id"):
            cell["id"] = uuid.uuid4().hex[:8]
    nb.nbformat_minor = max(nb.get("nbformat_minor", 5), 5)
    runner = NotebookRunner(nb, args.kernel, args.timeout, args.allow_errors,
                            None if args.quiet else sys.stderr)
    ok = runner.run()
    nbformat.write(nb, args.output or args.notebook)
    for cell, message in runner.errors:
        print(f"cell {cell}: {message}", file=sys.stderr)
    return 0 if ok else 1
