"""Edit equivalence of a real reactive kernel with constructs only a kernel has
(``tests/notebook_model_kernel.py``): settings, random state, files, the
working directory, magics and SQL cells.

Each example runs in a fresh reactive kernel started in a directory of its own
(``HOME`` too, with ``sub/`` in it); after every edit and its cascade, every
cell's output must be what a fresh kernel shows running the edited notebook
top to bottom: a stock ipykernel, or, for notebooks with SQL cells (stock has
no ``%%sql``), a fresh reactive kernel sent each cell once, in order, with
``reactiveCascade: false`` (the client running every cell itself).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from .conftest import KernelHarness
from .notebook_model import Edit, assert_top_to_bottom
from .notebook_model_kernel import (
    edits,
    files_and_cd,
    has_sql,
    normalise,
    notebooks,
    warnings_in,
    well_formed,
)
from .test_edit_equivalence_kernel import KernelNotebook

_ROOT = tempfile.mkdtemp(prefix="rk-eq2-")
_MPL = os.path.join(_ROOT, "mpl")


class DirKernel(KernelHarness):
    """A kernel started in a fresh directory that is also its ``HOME``."""

    def __init__(self, kernel_name: str) -> None:
        self.home = tempfile.mkdtemp(dir=_ROOT)
        os.makedirs(os.path.join(self.home, "sub"))
        env = {**os.environ, "HOME": self.home, "MPLCONFIGDIR": _MPL,
               "IPYTHONDIR": os.path.join(_ROOT, "ipython")}
        from jupyter_client.manager import KernelManager
        self.km = KernelManager(kernel_name=kernel_name)
        self.km.start_kernel(env=env, cwd=self.home)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.drain()

    def run_alone(self, code: str, cell: str) -> Any:
        """Run a cell with ``reactiveCascade: false``, as a client running every cell."""
        metadata = {"cellId": cell, "reactiveCascade": False}
        body = {"code": code, "silent": False, "store_history": True,
                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}
        msg = self.kc.session.msg("execute_request", body, metadata=metadata)
        self.kc.shell_channel.send(msg)
        return self.collect(msg)

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.home, ignore_errors=True)


def shown(messages: list[dict[str, Any]], roots: list[str]) -> str:
    parts: list[str] = []
    for m in messages:
        content = m["content"]
        kind = m["msg_type"]
        if kind == "clear_output":
            parts = []
        elif kind == "stream":
            if content["text"].startswith("Not run:"):
                parts.append("skipped")
            elif content["name"] == "stderr":
                parts.append(warnings_in(content["text"]))
            else:
                parts.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            parts.append(content["data"].get("text/plain", "") + "\n")
        elif kind == "error":
            parts.append(content["ename"] + "\n")
    return normalise("".join(parts), roots)


class DirNotebook(KernelNotebook):
    def _take(self, messages: list[dict[str, Any]]) -> None:
        for m in messages:
            cell = m.get("metadata", {}).get("cellId")
            if cell in self.code and m["msg_type"] in (
                    "clear_output", "stream", "execute_result", "display_data", "error"):
                self.outputs.setdefault(cell, []).append(m)

    def shown(self) -> list[str]:
        roots = [self.k.home]  # type: ignore[attr-defined]
        return [shown(self.outputs.get(c, []), roots) for c in self.order]


def top_to_bottom(cells: list[str]) -> list[str]:
    sql = has_sql(cells)
    oracle = DirKernel("reactive" if sql else "python3")
    try:
        outputs = []
        for i, code in enumerate(cells):
            if sql:
                run = oracle.run_alone(code, f"o{i}")
            else:
                run = oracle.run(code)
            outputs.append(shown(run.iopub, [oracle.home]))
        return outputs
    finally:
        oracle.close()


def check(nb: DirNotebook, log: list[str]) -> None:
    cells = nb.cells()
    if not well_formed(cells):
        log.append("ill-formed")
        return
    if files_and_cd(cells):
        log.append("limit")
        return
    expected = top_to_bottom(cells)
    log.append("checked")
    assert_top_to_bottom(cells, nb.shown(), expected)


def run_example(cells: list[str], changes: list[Edit], log: list[str]) -> None:
    k = DirKernel("reactive")
    try:
        nb = DirNotebook(k)
        nb.build(cells)
        check(nb, log)
        for edit in changes:
            nb.apply(edit)
            check(nb, log)
    finally:
        k.close()


@settings(max_examples=int(os.environ.get("RK_FUZZ2") or 5), deadline=None,
          derandomize=not os.environ.get("RK_FUZZ2"),
          suppress_health_check=list(HealthCheck))
@given(cells=notebooks(), changes=edits())
def test_kernel_constructs_give_what_a_fresh_kernel_gives(cells: list[str],
                                                          changes: list[Edit]) -> None:
    """A few derandomized examples; ``RK_FUZZ2=N`` runs N random ones."""
    run_example(cells, changes, [])


def test_the_harness_sees_a_stale_setting() -> None:
    """Control: a float shown as before an edited ``%precision`` fails the check."""
    k = DirKernel("reactive")
    try:
        nb = DirNotebook(k)
        for code in ("%precision 2", "1 / 3"):
            nb.submit(nb.new_cell(code, len(nb.order)))
        stale = list(nb.outputs[nb.order[1]])
        nb.code[nb.order[0]] = "%precision 4"
        nb.submit(nb.order[0])
        assert nb.shown()[1] == "0.3333\n"
        check(nb, [])
        nb.outputs[nb.order[1]] = stale  # as if the re-run output were lost
        with pytest.raises(AssertionError):
            check(nb, [])
    finally:
        k.close()
