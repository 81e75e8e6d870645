"""Benchmark: a slider change to the dependent cell's output painted, the web UI
against marimo's own slider driving the same cell, in one run.

Run from the repository root (needs ``make ui`` and Debian's ``chromium``)::

    .venv/bin/python benchmarks/bench_widgets.py [--runs N] [--json PATH]

Both notebooks hold the same two cells: a slider (``ipywidgets.IntSlider`` here,
``mo.ui.slider`` in marimo), 0 to 1000 from 10, and a cell reading it whose output is
``f"n is {slider.value}"``. Headless Chromium opens both (marimo's editor, ``marimo edit
--headless --no-token``, installed in a venv of its own, ``.bench-venv/marimo`` or
``$MARIMO_VENV``, on first use). Each run focuses the slider's handle (``[role=slider]``
in both) and presses ArrowRight, timed inside the page: from ``performance.now()`` in a
capture-phase ``keydown`` listener to the frame after the dependent output shows the new
value (a MutationObserver, then ``requestAnimationFrame`` and ``setTimeout(0)``). Runs
alternate between the two; warm-ups first; medians. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchlib import ROOT, BenchError, finish, machine, median, ratio
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(ROOT))
from tests.server_harness import ServerProcess, free_port

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MARIMO_VENV = Path(os.environ.get("MARIMO_VENV", ROOT / ".bench-venv" / "marimo"))
MARIMO = "marimo==0.25.2"
WAIT_MS = 30_000

OURS = [
    "import ipywidgets as w\nslider = w.IntSlider(value=10, min=0, max=1000)\nslider",
    "f'n is {slider.value}'",
]
MARIMO_NOTEBOOK = '''import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    return (mo,)


@app.cell
def _(mo):
    slider = mo.ui.slider(0, 1000, value=10)
    slider
    return (slider,)


@app.cell
def _(slider):
    f"n is {slider.value}"
    return


if __name__ == "__main__":
    app.run()
'''

# Arms the page: the next keydown starts the clock; the container holding the text
# `n is {before}` is watched until it says `n is {expected}`, then painted.
ARM_JS = """({before, expected}) => {
  const all = [...document.querySelectorAll('body *')].filter(
    (e) => e.children.length === 0 && e.textContent.includes(`n is ${before}`));
  if (!all.length) return 'no output showing n is ' + before;
  let box = all[all.length - 1];
  for (let i = 0; i < 4 && box.parentElement; i++) box = box.parentElement;
  const r = window.__bench = {t0: null, tDom: null, tPaint: null};
  addEventListener('keydown', () => { if (r.t0 === null) r.t0 = performance.now(); },
                   {capture: true, once: true});
  const seen = () => {
    if (r.tDom !== null || !box.isConnected) return;
    if (!(box.textContent || '').includes(`n is ${expected}`)) return;
    r.tDom = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { r.tPaint = performance.now(); }, 0));
  };
  const observer = new MutationObserver(seen);
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  return 'armed';
}"""
DONE_JS = "() => window.__bench && window.__bench.tPaint !== null"
RESULT_JS = "() => window.__bench"


def marimo_python() -> Path:
    python = MARIMO_VENV / "bin" / "python"
    if not python.exists():
        print(f"installing {MARIMO} into {MARIMO_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(MARIMO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", MARIMO],
                       check=True, timeout=900)
    return python


def start_marimo(root: Path) -> tuple[subprocess.Popen[str], str]:
    path = root / "slider_marimo.py"
    path.write_text(MARIMO_NOTEBOOK)
    port = free_port()
    proc = subprocess.Popen(
        [str(marimo_python()), "-m", "marimo", "edit", str(path), "--headless",
         "--no-token", "--port", str(port), "--host", "127.0.0.1", "--skip-update-check"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise BenchError("marimo did not start")


def create_ours(server: ServerProcess, path: str) -> None:
    status, model = server.http("POST", "/api/notebooks", {"path": path})
    if status != 201:
        raise BenchError(f"could not create {path}: {status}")
    cells = [{"id": f"w{i}", "cell_type": "code", "metadata": {}, "source": src,
              "outputs": [], "execution_count": None} for i, src in enumerate(OURS)]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    status, _ = server.http("PUT", f"/api/notebooks/{path}",
                            {"notebook": notebook, "version": model["version"]})
    if status != 200:
        raise BenchError(f"could not write {path}: {status}")


def open_ours(page: Page, server: ServerProcess, path: str) -> None:
    page.goto(f"{server.base}/notebooks/{path}?token={server.token}")
    page.wait_for_selector("body[data-ready]", timeout=WAIT_MS)
    page.wait_for_selector("#conn-state[data-state=connected]", timeout=WAIT_MS)
    page.locator(".rk-cell").first.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector("[role=slider]", timeout=WAIT_MS)
    page.get_by_text("n is 10").first.wait_for(timeout=WAIT_MS)


def open_marimo(page: Page, url: str) -> None:
    page.goto(url)
    # Its cells open stale: run them all (the editor's last run button, bottom right).
    page.get_by_test_id("run-button").last.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)  # the editor's kernel connection settles
    page.get_by_test_id("run-button").last.click()
    page.wait_for_selector("[role=slider]", timeout=WAIT_MS * 2)
    page.get_by_text("n is 10").first.wait_for(timeout=WAIT_MS * 2)


def once(page: Page, before: int) -> float:
    armed = page.evaluate(ARM_JS, {"before": before, "expected": before + 1})
    if armed != "armed":
        raise BenchError(armed)
    page.locator("[role=slider]").first.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(DONE_JS, timeout=WAIT_MS)
    r = page.evaluate(RESULT_JS)
    if r["t0"] is None:
        raise BenchError("the keystroke was not seen")
    return float(r["tPaint"] - r["t0"])


def settle(page: Page) -> None:
    """Let a page finish what follows a change (saves, idle) before the next run."""
    page.wait_for_timeout(300)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    results: dict[str, Any] = {"machine": machine(), "runs": args.runs}
    times: dict[str, list[float]] = {"web UI": [], "marimo": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = ServerProcess(root, "bench-widgets")
        marimo, url = start_marimo(root)
        try:
            create_ours(server, "slider.ipynb")
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    pages = {"web UI": browser.new_page(viewport={"width": 1280, "height": 800}),
                             "marimo": browser.new_page(viewport={"width": 1280, "height": 800})}
                    open_ours(pages["web UI"], server, "slider.ipynb")
                    open_marimo(pages["marimo"], url)
                    value = {"web UI": 10, "marimo": 10}
                    for i in range(args.warmup + args.runs):
                        order = ["web UI", "marimo"] if i % 2 == 0 else ["marimo", "web UI"]
                        for name in order:
                            page = pages[name]
                            page.bring_to_front()
                            ms = once(page, value[name])
                            value[name] += 1
                            settle(page)
                            if i >= args.warmup:
                                times[name].append(ms)
                finally:
                    browser.close()
        finally:
            marimo.terminate()
            try:
                marimo.wait(10)
            except subprocess.TimeoutExpired:
                marimo.kill()
            server.stop()
    ours, theirs = median(times["web UI"]), median(times["marimo"])
    results.update({"web_ui_ms": times["web UI"], "marimo_ms": times["marimo"],
                    "web_ui_median_ms": ours, "marimo_median_ms": theirs,
                    "marimo_over_web_ui": ratio(theirs, ours),
                    "elapsed_s": time.monotonic() - started})
    print(f"slider change -> dependent output painted (median of {args.runs}):")
    print(f"  web UI  {ours:7.1f} ms")
    print(f"  marimo  {theirs:7.1f} ms")
    print(f"  marimo / web UI = {ratio(theirs, ours):.2f}")
    return finish(results, args.json, failed=False)


if __name__ == "__main__":
    sys.exit(main())
