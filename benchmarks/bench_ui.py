"""Benchmark of the web UI's reactive cascade against the kernel alone, in the same run.

Run from the repository root (needs ``make ui`` and Debian's ``chromium``)::

    .venv/bin/python benchmarks/bench_ui.py [--quick] [--json PATH] [--trace PATH]

One ``reactive-server`` (``tests/server_harness.py``) serves notebooks holding the
chain of ``bench_kernel.py``: ``c0`` is ``x0 = k``, ``c{i}`` is
``x{i} = x{i-1} + 1; print(x{i})``, 100 cells by default.  Headless Chromium opens
one and runs all its cells once.  Then every run measures, in an order that rotates:

- **UI**: the root cell's text is replaced by ``x0 = k`` (a new ``k`` every run) and
  Shift+Enter is pressed.  Timed *inside the page*, so Playwright and CDP round trips
  add nothing: from ``performance.now()`` in a capture-phase ``keydown`` listener to
  the moment the last cell's output area shows ``k+N-1`` (a MutationObserver) and has
  been painted (the end of the rendering frame that holds the change: a
  ``setTimeout(0)`` queued from inside that frame, or after the next
  ``requestAnimationFrame`` when the change was made outside a frame).  Twice: in the
  page Playwright drives (the issue's figure), and in a second notebook open in a
  Chromium that Playwright does not control, driven over a bare CDP connection
  (``Runtime.evaluate`` and ``Input.*`` only).  Playwright enables the DevTools Network
  domain on its pages, which serialises every WebSocket frame into an event for the
  driver; with the ~200 messages of this cascade that alone costs 20-45 % more.
- **kernel**: ``bench_kernel.reactive_chain_once`` on a ``reactive`` kernel started
  with jupyter_client (direct ZMQ, no server, no browser) holding the same chain:
  re-execute ``c0`` with its ``cellId`` until the last cell's output and the reply
  arrived.
- **floors** (where the time goes): the same cascade on other kernels of the same
  server, timed until the last cell's output arrived, by a Python WebSocket client
  (the server relay) and by a bare page of the uncontrolled Chromium with a plain
  WebSocket and no notebook UI (the browser's networking).

Warm-ups first, medians; the target is UI / kernel <= 1.5.  After every UI run all N
cells are checked (outputs ``k+i``, badges ``ok``).  Every wait has a timeout; the
browsers, the server and the kernel are stopped in ``finally``.  The exit status is 1
only if the benchmark could not run or gave a wrong result; a missed target is
reported as ``NOT MET``.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
import websocket  # websocket-client (a dependency of jupyter_server)
from bench_kernel import (  # the kernel benchmark's chain, and its client
    REACTIVE_KERNEL,
    Kernel,
    _start,
    _stop,
    cell_id,
    chain_code,
    reactive_chain_once,
    setup_reactive_chain,
)
from benchlib import ROOT, BenchError, finish, machine, median, ratio, verdict
from jupyter_client.manager import KernelManager
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from reactive_server.protocol import BATCH_SUBPROTOCOL
from tests.server_harness import ServerProcess, free_port, stop_process

try:
    import psutil
except ImportError:  # CPU figures are optional
    psutil = None

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
BUILD = ROOT / "server" / "static" / "build" / "notebook.js"
TARGET = 1.5  # UI / kernel, at most
WAIT_MS = 30_000  # one page action or one expectation
CASCADE_MS = 120_000  # one whole cascade in the page
SETUP_MS = 300_000  # opening a notebook and running all its cells once
NOTEBOOKS = {"playwright": "chain.ipynb", "bare": "chain-bare.ipynb"}
# --trace: what DevTools' Performance panel records, with JS sampling
TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline",
                    "disabled-by-default-devtools.timeline.frame", "blink", "v8.execute",
                    "disabled-by-default-v8.cpu_profiler", "latencyInfo"]


# The page-side clock.  Installed before the page's own scripts run:
# - a capture-phase keydown listener on window (it runs before CodeMirror's) stamps the
#   armed run's keystroke;
# - requestAnimationFrame is wrapped only to know whether code runs inside a rendering
#   frame: a change made there is painted at the end of that same frame, so a
#   setTimeout(0) queued from it runs after the paint; a change made elsewhere is
#   painted in the next frame (rAF, then setTimeout(0));
# - WebSocket is subclassed to stamp the first request sent after the keystroke and
#   the arrival of the last cell's expected output message (a breakdown, not the figure);
# - uncaught errors are collected (the bare CDP connection does not report them).
INIT_JS = r"""
(() => {
  const B = window.__rkBench = { armed: false, t0: null, keyStamp: null, run: null,
                                 inFrame: false, errors: [] };
  window.addEventListener("error", (e) => { B.errors.push(String(e.message)); });
  window.addEventListener("unhandledrejection", (e) => { B.errors.push(String(e.reason)); });
  const nativeRaf = window.requestAnimationFrame.bind(window);
  B.raf = nativeRaf;
  // Page JS time of the armed run until the paint: message handlers, frame callbacks.
  const timed = (field, fn, self, args) => {
    const start = performance.now();
    try { return fn.apply(self, args); } finally {
      const run = B.run;
      if (run && B.t0 !== null && run.tPaint === null) {
        run[field] += performance.now() - start;
        if (field === "handlerMs") run.messages += 1;  // WebSocket frames
      }
    }
  };
  window.requestAnimationFrame = (cb) => nativeRaf((ts) => {
    if (!B.inFrame) { B.inFrame = true; setTimeout(() => { B.inFrame = false; }, 0); }
    timed("rafMs", cb, window, [ts]);
  });
  window.addEventListener("keydown", (e) => {
    if (!B.armed || e.key !== "Enter" || !(e.shiftKey || e.ctrlKey || e.metaKey)) return;
    B.armed = false;
    B.t0 = performance.now();
    B.keyStamp = e.timeStamp;
  }, true);
  const Native = window.WebSocket;
  class BenchWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const run = B.run;
        if (!run || run.tArrive !== null || B.t0 === null || typeof e.data !== "string") return;
        if (!e.data.includes(run.needle) || !e.data.includes('"stream"')
            || !e.data.includes(run.expected)) return;
        // A frame is one message, or a JSON array of them (the UI's batch subprotocol).
        const data = JSON.parse(e.data);
        const msg = (Array.isArray(data) ? data : [data]).find((m) =>
          m.metadata && m.metadata.cellId === run.cell && m.header.msg_type === "stream"
          && String(m.content.text).includes(run.expected));
        if (!msg) return;
        run.tArrive = performance.now();
        // When the kernel sent it (its header's wall-clock date, ms precision).
        const date = Date.parse(msg.header.date);
        if (!Number.isNaN(date)) run.tKernel = date - performance.timeOrigin;
      });
    }
    set onmessage(fn) {
      super.onmessage = fn && ((e) => timed("handlerMs", fn, this, [e]));
    }
    get onmessage() { return super.onmessage; }
    send(data) {
      const run = B.run;
      if (run && run.tSend === null && B.t0 !== null) run.tSend = performance.now();
      return super.send(data);
    }
  }
  window.WebSocket = BenchWebSocket;
  // Long animation frames (>= 50 ms, Chromium 123+): where the main thread went.
  B.frames = [];
  if ((PerformanceObserver.supportedEntryTypes || []).includes("long-animation-frame")) {
    B.loaf = new PerformanceObserver((list) => { B.frames.push(...list.getEntries()); });
    B.loaf.observe({ type: "long-animation-frame" });
  }
})();
"""

# Arm one run: watch the last cell's output area and badge, wait for the keystroke.
ARM_JS = r"""
({ index, cell, expected, timeoutMs }) => {
  const B = window.__rkBench;
  if (B.run && B.run.stop) B.run.stop();
  const cellEl = document.querySelectorAll(".rk-cell")[index];
  const out = cellEl.querySelector(".rk-outputs");
  const badge = cellEl.querySelector(".rk-badge");
  const run = B.run = { expected: String(expected), needle: JSON.stringify(cell), cell,
    tSend: null, tKernel: null, tArrive: null, tDom: null, tPaint: null, tSettled: null,
    domInFrame: null, error: null, mutations: 0, messages: 0, handlerMs: 0, rafMs: 0 };
  const onOutput = () => {
    run.mutations += 1;
    if (run.tDom !== null || out.textContent.trim() !== run.expected) return;
    run.tDom = performance.now();
    run.domInFrame = B.inFrame;
    const painted = () => setTimeout(() => { run.tPaint = performance.now(); }, 0);
    if (B.inFrame) painted(); else B.raf(painted);
  };
  // Settled: the kernel went busy and idle again after the keystroke, and then the
  // last cell shows the expected output and an ok badge (the page draws states in
  // animation frames, so a badge may go from ok to ok without showing running).
  const kernelState = document.querySelector("#kernel-state");
  let busy = false;
  const onState = () => {
    if (run.tSettled !== null || B.t0 === null) return;
    if (kernelState.dataset.state === "busy") busy = true;
    else if (busy && kernelState.dataset.state === "idle" && badge.dataset.status === "ok"
             && out.textContent.trim() === run.expected) run.tSettled = performance.now();
  };
  const outputs = new MutationObserver(() => { onOutput(); onState(); });
  outputs.observe(out, { childList: true, subtree: true, characterData: true });
  // A batch of messages can take the kernel state from busy to idle in one task:
  // the records' old values still show it was busy.
  const states = new MutationObserver((records) => {
    if (B.t0 !== null && records.some((r) => r.target === kernelState && r.oldValue === "busy")) {
      busy = true;
    }
    onState();
  });
  for (const node of [badge, kernelState]) {
    states.observe(node, { attributes: true, attributeOldValue: true, childList: true,
                           subtree: true, characterData: true });
  }
  const timer = setTimeout(() => { run.error = "timed out in the page"; run.stop(); },
                           timeoutMs);
  run.stop = () => { outputs.disconnect(); states.disconnect(); clearTimeout(timer); };
  B.t0 = null;
  B.keyStamp = null;
  B.armed = true;
  return document.visibilityState;
}
"""

DONE_JS = r"""
() => {
  const run = window.__rkBench.run;
  return run.error !== null || (run.tPaint !== null && run.tSettled !== null);
}
"""

RESULT_JS = r"""
() => {
  const B = window.__rkBench;
  const run = B.run;
  run.stop();
  B.armed = false;
  const { stop, ...data } = run;
  if (B.loaf) B.frames.push(...B.loaf.takeRecords());
  const end = run.tPaint ?? performance.now();
  const long = { count: 0, ms: 0, renderMs: 0, styleLayoutMs: 0, scriptMs: 0 };
  for (const f of B.frames) {
    if (B.t0 === null || f.startTime + f.duration < B.t0 || f.startTime > end) continue;
    const stop = f.startTime + f.duration;
    long.count += 1;
    long.ms += f.duration;
    if (f.renderStart) long.renderMs += stop - f.renderStart;
    if (f.styleAndLayoutStart) long.styleLayoutMs += stop - f.styleAndLayoutStart;
    for (const script of f.scripts) long.scriptMs += script.duration;
  }
  B.frames = [];
  return { ...data, t0: B.t0, keyStamp: B.keyStamp, long };
}
"""

# Quiet: the kernel is idle, the autosave after the run is done and the page has
# applied the graph reply that follows every run.
QUIET_JS = r"""
() => document.querySelector("#kernel-state").dataset.state === "idle"
  && document.querySelector("#save-state").dataset.state === "saved"
  && document.querySelector("#conn-state").dataset.state === "connected"
"""

CELLS_JS = r"""
() => [...document.querySelectorAll(".rk-cell")].map((c) => ({
  id: c.dataset.cellId,
  output: c.querySelector(".rk-outputs").textContent.trim(),
  status: c.querySelector(".rk-badge").dataset.status || "",
}))
"""


ERRORS_JS = "() => window.__rkBench.errors"

READY_JS = r"""
() => !!document.body && document.body.dataset.ready === "1"
  && document.querySelector("#conn-state").dataset.state === "connected"
"""

ALL_OK_JS = r"""
(n) => [...document.querySelectorAll(".rk-cell .rk-badge")]
  .filter((b) => b.dataset.status === "ok").length === n
"""


# The browser floor: a bare page talking to another reactive kernel of the same server
# over a plain WebSocket, with no notebook UI: what the server relay and the browser's
# networking cost before the UI does anything.
FLOOR_OPEN_JS = r"""
async ({ url, timeoutMs }) => {
  const F = window.__floor = { waiters: new Set(), session: crypto.randomUUID() };
  const ws = F.ws = new WebSocket(url, ["batch.reactive-kernel.v1"]);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("WebSocket open timed out")), timeoutMs);
    ws.onopen = () => { clearTimeout(timer); resolve(); };
    ws.onerror = () => { clearTimeout(timer); reject(new Error("WebSocket error")); };
  });
  ws.onmessage = (e) => {
    const data = JSON.parse(e.data);
    for (const msg of Array.isArray(data) ? data : [data]) {
      for (const waiter of [...F.waiters]) waiter(msg);
    }
  };
  F.execute = (code, cellId) => {
    const id = crypto.randomUUID();
    ws.send(JSON.stringify({ channel: "shell", parent_header: {}, buffers: [],
      header: { msg_id: id, msg_type: "execute_request", session: F.session,
                username: "bench", version: "5.4", date: new Date().toISOString() },
      metadata: { cellId }, content: { code, silent: false, store_history: true,
        user_expressions: {}, allow_stdin: false, stop_on_error: true } }));
    return id;
  };
  // Resolve with the first message for which done(msg) is true; every wait times out.
  F.until = (done, ms) => new Promise((resolve, reject) => {
    const waiter = (msg) => {
      if (!done(msg)) return;
      F.waiters.delete(waiter); clearTimeout(timer); resolve(msg);
    };
    const timer = setTimeout(() => { F.waiters.delete(waiter); reject(new Error("timed out")); },
                             ms);
    F.waiters.add(waiter);
  });
  return true;
}
"""

FLOOR_SETUP_JS = r"""
async ({ sources, timeoutMs }) => {
  const F = window.__floor;
  for (let i = 0; i < sources.length; i++) {
    const id = F.execute(sources[i], `c${i}`);
    const reply = await F.until((m) => m.header.msg_type === "execute_reply"
                                && m.parent_header.msg_id === id, timeoutMs);
    if (reply.content.status !== "ok") return `c${i}: ${JSON.stringify(reply.content)}`;
  }
  return null;
}
"""

FLOOR_RUN_JS = r"""
async ({ code, last, expected, timeoutMs }) => {
  const F = window.__floor;
  let text = "";
  let tLast = null;
  let reply = null;
  let messages = 0;
  const t0 = performance.now();
  const id = F.execute(code, "c0");
  await F.until((m) => {
    messages += 1;
    if (m.header.msg_type === "stream" && m.metadata.cellId === last) {
      text += m.content.text;
      if (text.trim().split("\n").pop() === expected) tLast = performance.now();
    }
    if (m.header.msg_type === "execute_reply" && m.parent_header.msg_id === id) reply = m;
    return tLast !== null && reply !== null;
  }, timeoutMs);
  const reactive = reply.metadata.reactive || {};
  return { ms: tLast - t0, messages, status: reply.content.status,
           ran: (reactive.ran || []).length, skipped: (reactive.skipped || []).length,
           last: text.trim() };
}
"""


@dataclass
class Config:
    cells: int = 100
    runs: int = 7
    warmup: int = 2


QUICK = Config(runs=3, warmup=1)
SERIES = ("ui", "ui_bare", "kernel", "server_floor", "browser_floor")


# -- CPU accounting -------------------------------------------------------------------


@dataclass
class Processes:
    """The processes whose CPU a run costs, per group; Chromium's are split by browser
    (``pw``: the one Playwright drives, ``bare``: the other) and by role."""

    groups: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def find(cls, server: ServerProcess, kernel: Kernel, bare_pid: int | None) -> Processes:
        names = ("pw renderer", "pw chromium other", "playwright driver", "bare renderer",
                 "bare chromium other", "server", "server kernels", "kernel")
        groups: dict[str, list[Any]] = {name: [] for name in names}
        if psutil is None:
            return cls(groups)
        with suppress(psutil.Error):
            groups["server"].append(psutil.Process(server.proc.pid))
            groups["server kernels"] += psutil.Process(server.proc.pid).children(recursive=True)
            if kernel.pid is not None:
                groups["kernel"].append(psutil.Process(kernel.pid))
            bare = set()
            if bare_pid is not None:
                root = psutil.Process(bare_pid)
                bare = {p.pid for p in [root, *root.children(recursive=True)]}
            for child in psutil.Process().children(recursive=True):
                cmdline = " ".join(child.cmdline())
                if "playwright" in cmdline and "driver" in cmdline:
                    groups["playwright driver"].append(child)
                elif "chrom" in child.name() or "--type=" in cmdline:  # the network
                    prefix = "bare" if child.pid in bare else "pw"  # service is "exe"
                    role = "renderer" if "--type=renderer" in cmdline else "chromium other"
                    groups[f"{prefix} {role}"].append(child)
        return cls(groups)

    def cpu_ms(self) -> dict[str, float]:
        """CPU ms so far per group, and the renderers' main threads (where the page's
        JS, style, layout and paint run) on their own."""
        totals: dict[str, float] = {}
        for name, procs in self.groups.items():
            total = main_thread = 0.0
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    if name.endswith("renderer"):
                        main_thread += sum(t.user_time + t.system_time for t in proc.threads()
                                           if t.id == proc.pid) * 1000
                except psutil.Error:
                    continue
                total += (times.user + times.system) * 1000
            totals[name] = total
            if name.endswith("renderer"):
                totals[f"{name} main thread"] = main_thread
        return totals


@contextmanager
def cpu_meter(processes: Processes | None, into: dict[str, Any]) -> Iterator[None]:
    """Store the CPU ms each group spent inside the block in ``into["cpu_ms"]``."""
    before = processes.cpu_ms() if processes else {}
    yield
    after = processes.cpu_ms() if processes else {}
    into["cpu_ms"] = {name: after[name] - before[name] for name in before if name in after}


# -- the server ------------------------------------------------------------------------


@contextmanager
def server_process(root: Path) -> Iterator[ServerProcess]:
    """A reactive-server on a free port; its log tail is printed if anything fails."""
    server: ServerProcess | None = None
    try:
        server = ServerProcess(root, "bench-" + uuid.uuid4().hex[:12])
        yield server
    except BaseException:
        if server is not None:
            tail = "".join(server.log[-15:])
            print(f"--- last lines of the server's log:\n{tail}", file=sys.stderr)
        raise
    finally:
        if server is not None:
            server.stop()


def chain_notebook(n: int) -> dict[str, Any]:
    """An nbformat 4.5 notebook holding the N-cell chain, cell ids ``c0`` ... ``c{n-1}``."""
    cells = [{"id": cell_id(i), "cell_type": "code", "metadata": {}, "source": chain_code(i),
              "outputs": [], "execution_count": None} for i in range(n)]
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": REACTIVE_KERNEL, "language": "python",
                                        "display_name": "Python 3 (reactive)"}}}


def create_notebook(server: ServerProcess, path: str, n: int) -> None:
    """Create the notebook through the REST API, then save the chain into it."""
    code, model = server.http("POST", "/api/notebooks", {"path": path})
    if code != 201 or not isinstance(model, dict):
        raise BenchError(f"POST /api/notebooks answered {code}: {model!r}")
    body = {"notebook": chain_notebook(n), "version": model.get("version")}
    code, saved = server.http("PUT", f"/api/notebooks/{path}", body)
    if code != 200:
        raise BenchError(f"PUT /api/notebooks/{path} answered {code}: {saved!r}")


def start_kernel(server: ServerProcess) -> str:
    """Another reactive kernel on the server (for the floors)."""
    code, model = server.http("POST", "/api/kernels", {"name": REACTIVE_KERNEL})
    if code != 201 or not isinstance(model, dict) or "id" not in model:
        raise BenchError(f"POST /api/kernels answered {code}: {model!r}")
    return str(model["id"])


def channels_url(server: ServerProcess, kernel_id: str) -> str:
    return (f"{server.ws_base}/api/kernels/{kernel_id}/channels"
            f"?session_id={uuid.uuid4().hex}&token={server.token}")


# -- two ways to drive a page ----------------------------------------------------------


class Driver(Protocol):
    """What a benchmark run needs from a page, by Playwright or by bare CDP."""

    def evaluate(self, js: str, arg: Any = None) -> Any: ...
    def wait_for(self, js: str, arg: Any = None, timeout_ms: float = WAIT_MS) -> None: ...
    def edit_root(self, text: str) -> None: ...
    def press(self, key: str) -> None: ...


class PlaywrightDriver:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:  # a dialog would block the page: record, dismiss
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def evaluate(self, js: str, arg: Any = None) -> Any:
        return self.page.evaluate(js, arg)

    def wait_for(self, js: str, arg: Any = None, timeout_ms: float = WAIT_MS) -> None:
        try:
            self.page.wait_for_function(js, arg=arg, polling=50, timeout=timeout_ms)
        except PlaywrightError as err:
            raise BenchError(f"timed out waiting for {js.strip()[:80]!r}: {err}") from None
        if self.dialogs:
            raise BenchError(f"the page opened dialogs: {self.dialogs}")

    def edit_root(self, text: str) -> None:
        self.page.locator(".rk-cell").nth(0).locator(".cm-content").click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.type(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)


# Input.dispatchKeyEvent fields of the keys the bare driver presses (modifiers: 2 Ctrl, 8 Shift)
KEYS = {
    "Shift+Enter": {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
                    "modifiers": 8, "text": "\r"},
    "Control+Enter": {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13,
                      "modifiers": 2, "text": "\r"},
    "Control+a": {"key": "a", "code": "KeyA", "windowsVirtualKeyCode": 65, "modifiers": 2},
}


class CdpDriver:
    """One page over a bare DevTools connection: only commands, no domain that sends
    events while the page works (Runtime.evaluate, Input.*, Page.navigate, Emulation)."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=WAIT_MS / 1000,
                                              suppress_origin=True)
        self.next_id = 0

    def close(self) -> None:
        self.ws.close()

    def call(self, method: str, timeout_s: float = WAIT_MS / 1000, **params: Any) -> Any:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"CDP {method}: no answer in {timeout_s:.0f} s")
            self.ws.settimeout(left)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise BenchError(f"CDP {method}: no answer in {timeout_s:.0f} s") from None
            if msg.get("id") != self.next_id:
                continue  # an event of a domain enabled during set-up
            if "error" in msg:
                raise BenchError(f"CDP {method}: {msg['error']}")
            return msg["result"]

    def evaluate(self, js: str, arg: Any = None, timeout_s: float = WAIT_MS / 1000) -> Any:
        result = self.call("Runtime.evaluate", timeout_s,
                           expression=f"({js})({json.dumps(arg)})",
                           awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise BenchError(f"page script failed: {details.get('exception', details)}")
        return result["result"].get("value")

    def wait_for(self, js: str, arg: Any = None, timeout_ms: float = WAIT_MS) -> None:
        """Poll ``js(arg)`` in the page every 50 ms (as Playwright does) until truthy."""
        poll = f"""({{ arg, timeoutMs }}) => new Promise((resolve) => {{
          const check = ({js});
          const started = performance.now();
          const tick = () => {{
            let ok = false;
            try {{ ok = !!check(arg); }} catch (e) {{ ok = false; }}
            if (ok) resolve(true);
            else if (performance.now() - started > timeoutMs) resolve(false);
            else setTimeout(tick, 50);
          }};
          tick();
        }})"""
        done = self.evaluate(poll, {"arg": arg, "timeoutMs": timeout_ms},
                             timeout_s=timeout_ms / 1000 + 10)
        if not done:
            raise BenchError(f"timed out waiting for {js.strip()[:80]!r}")

    def key(self, name: str) -> None:
        fields = KEYS[name]
        text = fields.get("text")
        base = {k: v for k, v in fields.items() if k != "text"}
        self.call("Input.dispatchKeyEvent", type="keyDown", **base,
                  **({"text": text} if text else {}))
        self.call("Input.dispatchKeyEvent", type="keyUp", **base)

    def edit_root(self, text: str) -> None:
        self.evaluate("() => document.querySelector('.rk-cell .cm-content').focus()")
        self.key("Control+a")
        self.call("Input.insertText", text=text)

    def press(self, key: str) -> None:
        self.key(key)


class BareChromium:
    """The same Chromium with the same flags, not controlled by Playwright: its pages are
    driven by :class:`CdpDriver`, so no DevTools domain instruments them."""

    def __init__(self, profile: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [CHROMIUM, *ARGS, f"--remote-debugging-port={self.port}",
             f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                version = self._http("/json/version")
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise BenchError("Chromium's DevTools endpoint did not come up") from None
                time.sleep(0.2)
        self.browser = CdpDriver(version["webSocketDebuggerUrl"])

    def _http(self, path: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as reply:
            return json.load(reply)

    def new_page(self, url: str) -> CdpDriver:
        """A page in a window of its own: the selected tab of its window, so visible
        (a background tab's renderer runs at a lower priority, its frames throttled)."""
        target = self.browser.call("Target.createTarget", url=url, newWindow=True)
        return CdpDriver(f"ws://127.0.0.1:{self.port}/devtools/page/{target['targetId']}")

    def stop(self) -> None:
        with suppress(Exception):
            self.browser.close()
        stop_process(self.proc)  # type: ignore[arg-type]


# -- the notebook page ------------------------------------------------------------------


def open_playwright_notebook(browser: Browser, server: ServerProcess,
                             path: str) -> tuple[PlaywrightDriver, Page]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.add_init_script(INIT_JS)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    driver = PlaywrightDriver(page)
    page.goto(f"{server.base}/notebooks/{path}?token={server.token}")
    driver.wait_for(READY_JS, timeout_ms=SETUP_MS)
    return driver, page


def evaluate_until(driver: CdpDriver, predicate_js: str, timeout_s: float, failure: str) -> None:
    """Poll a page that may still be navigating (evaluations can fail meanwhile) until
    ``predicate_js`` is true; BenchError(``failure``) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if driver.evaluate(predicate_js):
                return
        except BenchError:
            pass
        if time.monotonic() > deadline:
            raise BenchError(failure)
        time.sleep(0.1)


def open_bare_notebook(chromium: BareChromium, server: ServerProcess, path: str) -> CdpDriver:
    driver = chromium.new_page("about:blank")
    driver.call("Page.enable")
    driver.call("Page.addScriptToEvaluateOnNewDocument", source=INIT_JS)
    driver.call("Emulation.setDeviceMetricsOverride", deviceScaleFactor=1, mobile=False,
                **VIEWPORT)
    driver.call("Page.navigate", url=f"{server.base}/notebooks/{path}?token={server.token}")
    # The first evaluations may land in about:blank or mid-navigation.
    evaluate_until(driver, "() => location.pathname.startsWith('/notebooks/')",
                   SETUP_MS / 1000, "the bare Chromium did not open the notebook")
    driver.wait_for(READY_JS, timeout_ms=SETUP_MS)
    if not driver.evaluate("() => !!window.__rkBench"):
        raise BenchError("the bare Chromium did not run the page-side clock")
    driver.call("Page.disable")  # loaded: from now on, no domain reports anything
    return driver


def check_cells(page: Driver, n: int, root_value: int) -> None:
    """Every cell: ``c0`` shows nothing, ``c{i}`` shows ``root_value + i``; badges ok;
    no uncaught error in the page."""
    cells = page.evaluate(CELLS_JS)
    if [c["id"] for c in cells] != [cell_id(i) for i in range(n)]:
        raise BenchError(f"the page shows cells {[c['id'] for c in cells][:5]}..., "
                         f"expected c0..c{n - 1}")
    wrong = []
    for i, c in enumerate(cells):
        expected = "" if i == 0 else str(root_value + i)
        if c["output"] != expected or c["status"] != "ok":
            wrong.append(f"{c['id']}: output {c['output']!r} status {c['status']!r} "
                         f"(expected {expected!r}, ok)")
    if wrong:
        raise BenchError(f"{len(wrong)} of {n} cells wrong after x0 = {root_value}: "
                         + "; ".join(wrong[:5]))
    errors = page.evaluate(ERRORS_JS)
    if errors:
        raise BenchError(f"the page threw: {errors[:5]}")


def wait_quiet(page: Driver) -> None:
    page.wait_for(QUIET_JS)
    time.sleep(0.15)  # the graph reply that follows the idle status
    page.wait_for(QUIET_JS)


def run_all(page: Driver, n: int) -> None:
    """Run every cell once (the toolbar's Run all) and check all outputs."""
    page.wait_for(f"() => document.querySelectorAll('.rk-cell').length === {n}")
    page.evaluate("() => document.querySelector('#run-all').click()")
    page.wait_for(ALL_OK_JS, n, timeout_ms=SETUP_MS)
    wait_quiet(page)
    check_cells(page, n, 0)


def ui_chain_once(page: Driver, n: int, root_value: int, key: str,
                  processes: Processes | None = None) -> dict[str, Any]:
    """Edit the root cell to ``x0 = root_value``, press ``key``; page-side timings, and
    the CPU each process group spent from the keystroke until painted and settled."""
    page.edit_root(chain_code(0, root_value))
    visibility = page.evaluate(ARM_JS, {"index": n - 1, "cell": cell_id(n - 1),
                                        "expected": root_value + n - 1,
                                        "timeoutMs": CASCADE_MS})
    if visibility != "visible":
        raise BenchError(f"the page is {visibility}: its frames would be throttled")
    out: dict[str, Any] = {}
    with cpu_meter(processes, out):
        page.press(key)
        page.wait_for(DONE_JS, timeout_ms=CASCADE_MS + 5000)
    r = page.evaluate(RESULT_JS)
    if r["error"] or r["t0"] is None:
        raise BenchError(f"UI chain {n}: {r['error'] or 'the keystroke was not seen'}: {r}")
    wait_quiet(page)
    check_cells(page, n, root_value)
    t0 = r["t0"]

    def since(name: str, start: float | None = t0) -> float | None:
        return None if r[name] is None or start is None else r[name] - start

    return {
        "ms": r["tPaint"] - t0,  # the figure: keystroke -> last output painted
        "dom_ms": r["tDom"] - t0,
        "settled_ms": r["tSettled"] - t0,  # kernel idle again, last badge ok
        "key_to_send_ms": since("tSend"),
        "send_to_arrival_ms": since("tArrive", r["tSend"]),
        "send_to_kernel_sent_ms": since("tKernel", r["tSend"]),
        "kernel_sent_to_arrival_ms": since("tArrive", r["tKernel"]),
        "arrival_to_dom_ms": None if r["tArrive"] is None else r["tDom"] - r["tArrive"],
        "dom_to_paint_ms": r["tPaint"] - r["tDom"],
        "dom_in_frame": r["domInFrame"],
        "event_queue_ms": t0 - r["keyStamp"] if r["keyStamp"] is not None else None,
        "mutations": r["mutations"],
        "long_frames": r["long"],  # long animation frames between keystroke and paint
        # the page's own JS between keystroke and paint: WebSocket message handlers
        # (and how many frames) and requestAnimationFrame callbacks
        "messages": r["messages"],
        "handler_ms": r["handlerMs"],
        "raf_ms": r["rafMs"],
        **out,
    }


# -- the floors ---------------------------------------------------------------------------


def open_browser_floor(chromium: BareChromium, server: ServerProcess, kernel_id: str,
                       n: int) -> CdpDriver:
    """A bare page (the server's logo, same origin) of the uncontrolled Chromium holding a
    WebSocket to ``kernel_id``, with the n-cell chain registered and run once."""
    page = chromium.new_page(f"{server.base}/static/logo.svg")
    evaluate_until(page, "() => document.readyState === 'complete'", WAIT_MS / 1000,
                   "browser floor: the bare page did not load")
    page.evaluate(FLOOR_OPEN_JS, {"url": channels_url(server, kernel_id), "timeoutMs": WAIT_MS})
    failed = page.evaluate(FLOOR_SETUP_JS, {"sources": [chain_code(i) for i in range(n)],
                                            "timeoutMs": WAIT_MS}, timeout_s=SETUP_MS / 1000)
    if failed:
        raise BenchError(f"browser floor: registering the chain failed: {failed}")
    return page


def browser_floor_once(page: CdpDriver, n: int, root_value: int,
                       processes: Processes | None = None) -> dict[str, Any]:
    """Re-execute c0 from the bare page; ms until the last cell's output arrived (and
    the reply, which usually comes first)."""
    expected = str(root_value + n - 1)
    out: dict[str, Any] = {}
    with cpu_meter(processes, out):
        r = page.evaluate(FLOOR_RUN_JS, {"code": chain_code(0, root_value),
                                         "last": cell_id(n - 1), "expected": expected,
                                         "timeoutMs": CASCADE_MS},
                          timeout_s=CASCADE_MS / 1000 + 10)
    if r["status"] != "ok" or r["ran"] != n or r["skipped"] or r["last"] != expected:
        raise BenchError(f"browser floor {n}: wrong result {r} (expected {expected})")
    time.sleep(0.05)  # the idle status and stray messages
    return {**r, **out}


class ServerFloor:
    """A Python WebSocket client of another reactive kernel of the same server: the
    cascade through the server relay without a browser (blocking, every receive with a
    timeout; framed as the page asks, JSON batches, parsed as the page parses them)."""

    def __init__(self, server: ServerProcess, kernel_id: str) -> None:
        self.ws = websocket.create_connection(
            channels_url(server, kernel_id), timeout=WAIT_MS / 1000,
            subprotocols=[BATCH_SUBPROTOCOL],
            sockopt=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),))  # as browsers do
        self.session = uuid.uuid4().hex

    def close(self) -> None:
        self.ws.close()

    def execute(self, code: str, cell: str) -> str:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "channel": "shell", "parent_header": {}, "buffers": [], "metadata": {"cellId": cell},
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "bench", "version": "5.4", "date": "2026-01-01T00:00:00Z"},
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        return msg_id

    def messages(self, timeout_s: float) -> Iterator[dict[str, Any]]:
        deadline = time.perf_counter() + timeout_s
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError("server floor: timed out waiting for the kernel")
            self.ws.settimeout(left)
            try:
                data = orjson.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                raise BenchError("server floor: timed out waiting for the kernel") from None
            yield from data if isinstance(data, list) else [data]

    def reply(self, msg_id: str, timeout_s: float) -> dict[str, Any]:
        for msg in self.messages(timeout_s):
            if msg["header"]["msg_type"] == "execute_reply" \
                    and msg["parent_header"].get("msg_id") == msg_id:
                return msg
        raise AssertionError("unreachable")

    def drain(self, quiet_s: float = 0.05) -> None:
        self.ws.settimeout(quiet_s)
        with suppress(websocket.WebSocketTimeoutException):
            while True:
                self.ws.recv()

    def setup(self, n: int) -> None:
        for i in range(n):
            reply = self.reply(self.execute(chain_code(i), cell_id(i)), WAIT_MS / 1000)
            if reply["content"]["status"] != "ok":
                raise BenchError(f"server floor: registering c{i} failed: {reply['content']}")
        self.drain()

    def chain_once(self, n: int, root_value: int,
                   processes: Processes | None = None) -> dict[str, Any]:
        """Re-execute c0; ms until the last cell's output (and the reply) arrived."""
        expected = str(root_value + n - 1)
        last = cell_id(n - 1)
        text = ""
        t_last = 0.0
        reply: dict[str, Any] | None = None
        messages = 0
        out: dict[str, Any] = {}
        with cpu_meter(processes, out):
            start = time.perf_counter()
            msg_id = self.execute(chain_code(0, root_value), cell_id(0))
            for msg in self.messages(CASCADE_MS / 1000):
                messages += 1
                kind = msg["header"]["msg_type"]
                if kind == "stream" and msg["metadata"].get("cellId") == last:
                    text += msg["content"]["text"]
                    if text.strip().splitlines()[-1] == expected:
                        t_last = time.perf_counter()
                elif kind == "execute_reply" and msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg
                if t_last and reply is not None:
                    break
        assert reply is not None
        ran = reply["metadata"].get("reactive", {}).get("ran", [])
        if reply["content"]["status"] != "ok" or len(ran) != n:
            raise BenchError(f"server floor {n}: wrong result {reply['content']} ran={len(ran)}")
        self.drain()
        return {"ms": (t_last - start) * 1000, "messages": messages, **out}


# -- the benchmark ---------------------------------------------------------------------


@dataclass
class Setup:
    """Everything a run needs, opened by :func:`bench`."""

    ui: PlaywrightDriver
    ui_bare: CdpDriver
    kernel: Kernel
    server_floor: ServerFloor
    browser_floor: CdpDriver


def run_once(setup: Setup, which: str, n: int, value: int, key: str,
             processes: Processes | None) -> dict[str, Any]:
    if which == "ui":
        return ui_chain_once(setup.ui, n, value, key, processes)
    if which == "ui_bare":
        return ui_chain_once(setup.ui_bare, n, value, key, processes)
    if which == "server_floor":
        return setup.server_floor.chain_once(n, value, processes)
    if which == "browser_floor":
        return browser_floor_once(setup.browser_floor, n, value, processes)
    out: dict[str, Any] = {}
    with cpu_meter(processes, out):
        r = reactive_chain_once(setup.kernel, n, value, chain_code)
    setup.kernel.drain(0.05)
    return {**r, **out}


def summarise(runs: dict[str, list[dict[str, Any]]], config: Config, key: str,
              value: int) -> dict[str, Any]:
    def med(series: str, name: str) -> Any:
        values = [r[name] for r in runs[series] if r.get(name) is not None]
        return median(values) if values else None

    def cpu(series: str) -> dict[str, float]:
        if psutil is None:
            return {}
        return {name: median([r["cpu_ms"][name] for r in runs[series]])
                for name in runs[series][0]["cpu_ms"]}

    def page(series: str) -> dict[str, Any]:
        frames = [r["long_frames"] for r in runs[series]]
        return {
            "ms": med(series, "ms"),
            "runs_ms": [r["ms"] for r in runs[series]],
            "dom_ms": med(series, "dom_ms"),
            "settled_ms": med(series, "settled_ms"),
            "key_to_send_ms": med(series, "key_to_send_ms"),
            "send_to_arrival_ms": med(series, "send_to_arrival_ms"),
            "send_to_kernel_sent_ms": med(series, "send_to_kernel_sent_ms"),
            "kernel_sent_to_arrival_ms": med(series, "kernel_sent_to_arrival_ms"),
            "arrival_to_dom_ms": med(series, "arrival_to_dom_ms"),
            "dom_to_paint_ms": med(series, "dom_to_paint_ms"),
            "dom_in_frame": [r["dom_in_frame"] for r in runs[series]],
            "event_queue_ms": med(series, "event_queue_ms"),
            "messages": med(series, "messages"),
            "handler_ms": med(series, "handler_ms"),
            "raf_ms": med(series, "raf_ms"),
            "long_frames": {name: median([f[name] for f in frames]) for name in frames[0]},
            "cpu_ms": cpu(series),
        }

    kernel_ms = med("kernel", "ms")
    result: dict[str, Any] = {
        "n": config.cells, "runs": config.runs, "warmup": config.warmup, "key": key,
        "target": TARGET,
        "kernel": {"ms": kernel_ms, "runs_ms": [r["ms"] for r in runs["kernel"]],
                   "in_kernel_cell_ms_sum": med("kernel", "kernel_cell_ms_sum"),
                   "cpu_ms": cpu("kernel")},
        "ui": page("ui"),
        "ui_bare": page("ui_bare"),
        "server_floor": {"ms": med("server_floor", "ms"),
                         "runs_ms": [r["ms"] for r in runs["server_floor"]],
                         "messages": med("server_floor", "messages"),
                         "cpu_ms": cpu("server_floor")},
        "browser_floor": {"ms": med("browser_floor", "ms"),
                          "runs_ms": [r["ms"] for r in runs["browser_floor"]],
                          "messages": med("browser_floor", "messages"),
                          "cpu_ms": cpu("browser_floor")},
        "expected_last_output": str(value + config.cells - 1),
    }
    for series in ("ui", "ui_bare", "server_floor", "browser_floor"):
        result[series]["ratio"] = ratio(result[series]["ms"], kernel_ms)
        result[series]["ratios_per_run"] = [
            ratio(r["ms"], k["ms"]) for r, k in zip(runs[series], runs["kernel"], strict=True)]
    # The figure: the Playwright-driven page.
    result["ratio"] = result["ui"]["ratio"]
    result["met"] = result["ratio"] <= TARGET
    result["ui_bare"]["met"] = result["ui_bare"]["ratio"] <= TARGET
    return result


def bench(browser: Browser, chromium: BareChromium, server: ServerProcess, kernel: Kernel,
          floor_kernels: list[str], config: Config, key: str, trace: str | None,
          results: dict[str, Any]) -> dict[str, Any]:
    n = config.cells
    started = time.perf_counter()
    ui_page: Page | None = None
    opened: list[Any] = []
    try:
        ui, ui_page = open_playwright_notebook(browser, server, NOTEBOOKS["playwright"])
        run_all(ui, n)
        ui_bare = open_bare_notebook(chromium, server, NOTEBOOKS["bare"])
        opened.append(ui_bare)
        run_all(ui_bare, n)
        setup_reactive_chain(kernel, n, chain_code)
        server_floor = ServerFloor(server, floor_kernels[0])
        opened.append(server_floor)
        server_floor.setup(n)
        browser_floor = open_browser_floor(chromium, server, floor_kernels[1], n)
        opened.append(browser_floor)
        setup = Setup(ui, ui_bare, kernel, server_floor, browser_floor)
        results["setup_s"] = time.perf_counter() - started
        value = 0
        for _ in range(config.warmup):
            value += 1
            for which in SERIES:
                run_once(setup, which, n, value, key, None)
        processes = Processes.find(server, kernel, chromium.proc.pid)
        runs: dict[str, list[dict[str, Any]]] = {which: [] for which in SERIES}
        for run in range(config.runs):
            value += 1
            shift = run % len(SERIES)  # the order rotates
            for which in SERIES[shift:] + SERIES[:shift]:
                runs[which].append(run_once(setup, which, n, value, key, processes))
            print(f"   run {run + 1}: UI {runs['ui'][-1]['ms']:.1f} ms, without DevTools "
                  f"attached {runs['ui_bare'][-1]['ms']:.1f} ms; kernel "
                  f"{runs['kernel'][-1]['ms']:.1f} ms; floors: server "
                  f"{runs['server_floor'][-1]['ms']:.1f} ms, browser "
                  f"{runs['browser_floor'][-1]['ms']:.1f} ms", flush=True)
        if trace:
            value += 1
            browser.start_tracing(page=ui_page, path=trace, screenshots=False,
                                  categories=TRACE_CATEGORIES)
            try:
                ui_chain_once(ui, n, value, key)
            finally:
                browser.stop_tracing()
            print(f"   Chrome trace of one more (Playwright-driven) UI run written to {trace}")
    finally:
        for item in opened:
            with suppress(Exception):
                item.close()
        if ui_page is not None:
            ui_page.context.close()
    return summarise(runs, config, key, value)


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cpu(cpu: dict[str, float], names: tuple[str, ...]) -> str:
    return ", ".join(f"{name} {cpu[name]:.0f}" for name in names if cpu.get(name))


def print_summary(r: dict[str, Any]) -> None:
    pw = ("pw renderer main thread", "pw renderer", "pw chromium other", "playwright driver",
          "server", "server kernels")
    bare = ("bare renderer main thread", "bare renderer", "bare chromium other", "server",
            "server kernels")
    rows = [
        ("kernel alone (direct ZMQ)", r["kernel"], 1.0, _cpu(r["kernel"]["cpu_ms"], ("kernel",))),
        ("server floor: Python WebSocket client", r["server_floor"], r["server_floor"]["ratio"],
         _cpu(r["server_floor"]["cpu_ms"], ("server", "server kernels"))),
        ("browser floor: bare page, no notebook UI", r["browser_floor"],
         r["browser_floor"]["ratio"], _cpu(r["browser_floor"]["cpu_ms"], bare)),
        ("UI, Chromium without DevTools attached", r["ui_bare"], r["ui_bare"]["ratio"],
         _cpu(r["ui_bare"]["cpu_ms"], bare)),
        ("UI, Playwright-driven (the issue's figure)", r["ui"], r["ratio"],
         _cpu(r["ui"]["cpu_ms"], pw)),
    ]
    print(f"\nSummary: edit the root of a {r['n']}-cell chain ({r['key']}), keystroke -> last "
          f"output painted, median of {r['runs']} runs")
    width = max(len(row[0]) for row in rows)
    print(f"{'':{width}}  {'ms':>7}  {'x kernel':>8}  CPU ms per run")
    for label, series, times_kernel, cpu in rows:
        print(f"{label:{width}}  {series['ms']:7.1f}  {times_kernel:8.3f}  {cpu}")
    print(f"target UI / kernel <= {r['target']}: {r['ratio']:.3f} [{verdict(r['met'])}]; "
          f"without DevTools attached {r['ui_bare']['ratio']:.3f} "
          f"[{verdict(r['ui_bare']['met'])}]")
    for series, label in (("ui", "UI"), ("ui_bare", "UI without DevTools")):
        s = r[series]
        per_run = ", ".join(f"{x:.2f}" for x in s["ratios_per_run"])
        lf = s["long_frames"]
        print(f"{label}: ratio per run {per_run}")
        print(f"  keystroke -> request sent {_fmt(s['key_to_send_ms'])} ms; -> last output "
              f"message in the page {_fmt(s['send_to_arrival_ms'])} (the kernel dated it "
              f"{_fmt(s['send_to_kernel_sent_ms'])} after the request); -> in the DOM "
              f"{_fmt(s['arrival_to_dom_ms'])}; -> painted {_fmt(s['dom_to_paint_ms'])}; "
              f"kernel idle and last badge ok at {_fmt(s['settled_ms'])}")
        print(f"  page JS: {_fmt(s['messages'], 0)} WebSocket frames handled in "
              f"{_fmt(s['handler_ms'])} ms, animation-frame callbacks {_fmt(s['raf_ms'])} ms; "
              f"long animation frames: {lf['count']:.0f}, {lf['ms']:.0f} ms, rendering "
              f"{lf['renderMs']:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (smoke run)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--cells", type=int, help="chain length (default 100)")
    parser.add_argument("--runs", type=int, help="measured runs (default 7, --quick 3)")
    parser.add_argument("--key", default="Shift+Enter", choices=("Shift+Enter", "Control+Enter"),
                        help="the keystroke that runs the root cell")
    parser.add_argument("--trace", metavar="PATH",
                        help="after the measured runs, write a Chrome trace of one more UI run")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else Config()
    config = Config(cells=args.cells or base.cells, runs=args.runs or base.runs,
                    warmup=base.warmup)
    if config.cells < 2:
        parser.error("--cells must be at least 2")

    results: dict[str, Any] = {
        "quick": args.quick,
        **machine(),
        "config": vars(config),
    }
    started = time.perf_counter()
    failed = False
    try:
        if not Path(CHROMIUM).exists():
            raise BenchError(f"{CHROMIUM} is missing (Debian's chromium package)")
        if not BUILD.exists():
            raise BenchError(f"{BUILD} is missing: run `make ui`")
        print(f"edit the root of a {config.cells}-cell chain ({args.key}) in the web UI, in the "
              f"kernel alone and through the server to bare clients: median of {config.runs} "
              f"runs after {config.warmup} warm-ups, in rotating order", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
            root = Path(tmp) / "notebooks"  # the kernel's log stays out of the server's root
            root.mkdir()
            with server_process(root) as server:
                # tornado's blocking HTTP client cannot run inside Playwright's event loop
                for path in NOTEBOOKS.values():
                    create_notebook(server, path, config.cells)
                floor_kernels = [start_kernel(server), start_kernel(server)]
                chromium = BareChromium(Path(tmp) / "chromium-profile")
                kernel: Kernel | None = None
                try:
                    with sync_playwright() as pw:
                        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                                     timeout=WAIT_MS)
                        try:
                            results["browser"] = browser.version
                            kernel = _start("kernel", KernelManager(kernel_name=REACTIVE_KERNEL),
                                            Path(tmp) / "kernel.log")
                            results["chain"] = bench(browser, chromium, server, kernel,
                                                     floor_kernels, config, args.key,
                                                     args.trace, results)
                        finally:
                            browser.close()
                except BaseException:
                    log = Path(tmp) / "kernel.log"
                    if log.exists():
                        tail = log.read_text(errors="replace").splitlines()[-15:]
                        print("--- last lines of the kernel's log:", *tail, sep="\n",
                              file=sys.stderr)
                    raise
                finally:
                    try:
                        _stop(kernel)
                    finally:
                        chromium.stop()
    except (BenchError, PlaywrightError, OSError, websocket.WebSocketException) as err:
        print(f"FAILED: {err}", file=sys.stderr)
        results["error"] = str(err)
        failed = True
    results["elapsed_s"] = time.perf_counter() - started
    if "chain" in results:
        print_summary(results["chain"])
    return finish(results, args.json, failed)


if __name__ == "__main__":
    sys.exit(main())
