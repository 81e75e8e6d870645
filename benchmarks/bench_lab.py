"""A 100-cell cascade shown in JupyterLab with the extension, without it, and in the
project's web UI, measured in one run on the same machine and browser.

Each front end opens the same chain notebook (``x0 = 0``, ``x{i} = x{i-1} + 1;
print(x{i})``) on its own reactive kernel and runs it once.  A measurement edits
the first cell to ``x0 = k`` and presses Ctrl+Enter; the time runs from that key's
keydown (in the page) to the frame after the last cell's output shows ``k + 99``
(a MutationObserver in the page, then requestAnimationFrame).  Rounds alternate the
front ends (each first in turn); medians over the rounds; ratios printed.

The extension must not make JupyterLab slower: the ratio "with / without" is the
figure to watch (target <= 1.1).  Exit status 1 only if the benchmark could not run.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import benchlib  # noqa: F401  (the import path)
import nbformat
from benchlib import BenchError, median, ratio, verdict
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import Page, sync_playwright

from tests.server_harness import ServerProcess
from tests.test_jupyterlab import CHROMIUM, SPECS, TOKEN, JupyterApp

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 120_000

#: Per front end: the cells, the output of a cell, and the editor of a cell.
FRONTENDS = {
    "lab": {"cell": ".jp-Notebook .jp-Cell", "output": ".jp-OutputArea",
            "editor": ".cm-content"},
    "webui": {"cell": ".rk-cell", "output": ".rk-outputs", "editor": ".cm-content"},
}

WATCH_JS = """([cellSel, outSel, index, want, timeout]) => {
 window.__rkBench = new Promise((resolve, reject) => {
  const start = { at: null };
  const onKey = (e) => {
    if (e.key === "Enter" && start.at === null) start.at = performance.now();
  };
  document.addEventListener("keydown", onKey, true);
  const target = document.querySelectorAll(cellSel)[index];
  if (!target) { reject(new Error("no cell " + index)); return; }
  const done = () => {
    const out = target.querySelector(outSel);
    if (out && out.textContent.includes(want) && start.at !== null) {
      observer.disconnect();
      document.removeEventListener("keydown", onKey, true);
      requestAnimationFrame(() => resolve(performance.now() - start.at));
    }
  };
  const observer = new MutationObserver(done);
  observer.observe(target, { subtree: true, childList: true, characterData: true });
  setTimeout(() => reject(new Error("timed out waiting for " + want)), timeout);
 });
}"""


def chain_notebook(path: Path, n: int) -> None:
    cells = [new_code_cell("x0 = 0")] + [
        new_code_cell(f"x{i} = x{i - 1} + 1\nprint(x{i})") for i in range(1, n)]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = SPECS["reactive"]
    nbformat.write(nb, path)


def wait_text(page: Page, frontend: str, index: int, text: str) -> None:
    sel = FRONTENDS[frontend]
    page.locator(sel["cell"]).nth(index).locator(sel["output"]).filter(
        has_text=text).wait_for(timeout=TIMEOUT_MS)


def measure(page: Page, frontend: str, n: int, value: int) -> float:
    sel = FRONTENDS[frontend]
    editor = page.locator(sel["cell"]).nth(0).locator(sel["editor"])
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(f"x0 = {value}")
    page.evaluate(WATCH_JS, [sel["cell"], sel["output"], n - 1, str(value + n - 1),
                             TIMEOUT_MS])
    page.keyboard.press("Control+Enter")
    return float(page.evaluate("() => window.__rkBench"))


def open_lab(page: Page, app: JupyterApp, name: str, n: int) -> None:
    page.goto(f"{app.base}/lab/workspaces/{uuid.uuid4().hex[:8]}/tree/{name}?reset&token={TOKEN}")
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(
        state="attached", timeout=TIMEOUT_MS)
    page.locator(".jp-Notebook .jp-Cell").first.locator(".cm-content").click()
    # Run all from the menu (each cell's request; the same with or without the
    # extension).
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    wait_text(page, "lab", n - 1, str(n - 1))


def open_webui(page: Page, server: ServerProcess, name: str, n: int) -> None:
    page.goto(f"{server.base}/notebooks/{name}?token={server.token}")
    page.locator("body[data-ready='1']").wait_for(state="attached", timeout=TIMEOUT_MS)
    page.locator("#run-all").click()
    wait_text(page, "webui", n - 1, str(n - 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    n = args.cells
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        roots = {k: root / k for k in ("with", "without", "webui")}
        for path in roots.values():
            path.mkdir()
            chain_notebook(path / "chain.ipynb", n)
        apps: dict[str, JupyterApp] = {}
        server = None
        try:
            apps["with"] = JupyterApp("jupyterlab", roots["with"], extension=True)
            apps["without"] = JupyterApp("jupyterlab", roots["without"], extension=False)
            server = ServerProcess(roots["webui"], "bench-" + uuid.uuid4().hex[:8])
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                pages = {k: browser.new_page(viewport={"width": 1280, "height": 800})
                         for k in ("with", "without", "webui")}
                open_lab(pages["with"], apps["with"], "chain.ipynb", n)
                open_lab(pages["without"], apps["without"], "chain.ipynb", n)
                open_webui(pages["webui"], server, "chain.ipynb", n)
                times: dict[str, list[float]] = {k: [] for k in pages}
                value = 1000
                for round_number in range(args.rounds + 1):  # the first is a warm-up
                    keys = list(pages)
                    shift = round_number % len(keys)  # each front end first in turn
                    for key in keys[shift:] + keys[:shift]:
                        page = pages[key]
                        page.bring_to_front()
                        value += 1
                        ms = measure(page, "webui" if key == "webui" else "lab", n, value)
                        if round_number:
                            times[key].append(ms)
                    print(f"round {round_number}: " + ", ".join(
                        f"{k} {t[-1]:.0f} ms" for k, t in times.items() if t), flush=True)
                browser.close()
        except Exception as err:
            raise BenchError(str(err)) from err
        finally:
            for app in apps.values():
                app.stop()
            if server is not None:
                server.stop()
    med = {k: median(v) for k, v in times.items()}
    with_over_without = ratio(med["with"], med["without"])
    print(f"\n{n}-cell cascade, Ctrl+Enter on the root to the last output painted "
          f"(medians of {args.rounds} rounds):")
    print(f"  JupyterLab with the extension     {med['with']:8.0f} ms")
    print(f"  JupyterLab without the extension  {med['without']:8.0f} ms")
    print(f"  the project's web UI              {med['webui']:8.0f} ms")
    print(f"  with / without: {with_over_without:.2f} (target <= 1.1: "
          f"{verdict(with_over_without <= 1.1)}); "
          f"without / web UI: {ratio(med['without'], med['webui']):.1f}; "
          f"with / web UI: {ratio(med['with'], med['webui']):.1f}")
    return 0


if __name__ == "__main__":
    started = time.monotonic()
    try:
        status = main()
    except BenchError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        status = 1
    print(f"total {time.monotonic() - started:.1f} s")
    sys.exit(status)
