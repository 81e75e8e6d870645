"""JupyterLab 4 and Notebook 7, unmodified, driven in headless Chromium.

The same scenario runs on the reactive kernel and on stock ipykernel: with the
reactive kernel the downstream cells update in place; with stock they stay stale,
which shows the test can tell the difference.  The project's own extension
(``labextension/``, tested in ``test_lab_extension.py``) is disabled here: this is
what a user gets from the plain protocol.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from playwright.sync_api import Browser, Page, expect, sync_playwright

from .server_harness import free_port, stop_process
from .widget_helpers import drag_slider

CHROMIUM = "/usr/bin/chromium"
EXTENSION = "reactive-kernel-lab"
ARTIFACTS = Path(__file__).parent / "artifacts"
TOKEN = "lab-" + uuid.uuid4().hex[:10]
SPECS = {
    "reactive": {"name": "reactive", "display_name": "Python 3 (reactive)",
                 "language": "python"},
    "python3": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                "language": "python"},
}



class JupyterApp:
    """``jupyter lab`` or ``jupyter notebook`` on 127.0.0.1 with a token."""

    def __init__(self, module: str, root: Path, *extra: str, extension: bool = False) -> None:
        self.port = free_port()
        config = root / ".jupyter-config"
        (config / "labconfig").mkdir(parents=True, exist_ok=True)
        # As `jupyter labextension disable reactive-kernel-lab` writes it.
        (config / "labconfig" / "page_config.json").write_text(json.dumps(
            {"disabledExtensions": {EXTENSION: not extension}}))
        # No "get notified about Jupyter news?" toast over the cells (nor a fetch of it).
        news = root / ".settings" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True, exist_ok=True)
        (news / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false"}))
        env = dict(os.environ,
                   JUPYTER_CONFIG_DIR=str(config),
                   JUPYTERLAB_SETTINGS_DIR=str(root / ".settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "--no-browser", "--allow-root",
             f"--port={self.port}", "--ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
             f"--ServerApp.root_dir={root}", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if re.search(rf"127\.0\.0\.1:{self.port}/", line) or time.monotonic() > deadline:
                break
        if self.proc.poll() is not None:
            raise RuntimeError(f"{module} did not start")
        import threading

        #: The server's last lines (kernel errors included), for failure messages.
        self.log: collections.deque[str] = collections.deque(maxlen=200)
        threading.Thread(target=lambda: self.log.extend(self.proc.stdout or []),
                         daemon=True).start()

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JupyterApp, Path]]:
    root = tmp_path_factory.mktemp("lab")
    app = JupyterApp("jupyterlab", root)
    yield app, root
    app.stop()


def lab_url(app: JupyterApp, name: str) -> str:
    """The notebook in a fresh workspace: no tabs restored from earlier tests."""
    return f"{app.base}/lab/workspaces/{uuid.uuid4().hex[:8]}/tree/{name}?reset&token={TOKEN}"


def write_notebook(root: Path, name: str, kernel: str, *sources: str) -> None:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = SPECS[kernel]
    nbformat.write(nb, root / name)


def cells(page: Page) -> Any:
    return page.locator(".jp-Notebook:visible .jp-Cell")


def output(page: Page, index: int) -> Any:
    return cells(page).nth(index).locator(".jp-OutputArea")


def open_and_run_all(page: Page, url: str, kernel_label: str) -> None:
    page.goto(url)
    expect(cells(page).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text(kernel_label).first).to_be_visible(timeout=60_000)
    # Wait for the kernel to be idle before running.
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first) \
        .to_be_attached(timeout=60_000)
    cells(page).nth(0).locator(".cm-content").click()
    for _ in range(3):
        page.keyboard.press("Shift+Enter")
    expect(output(page, 2)).to_contain_text("20", timeout=60_000)


def edit_cell(page: Page, index: int, code: str) -> None:
    editor = cells(page).nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(code)
    page.keyboard.press("Control+Enter")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


SOURCES = ("a = 1", "b = a + 1\nprint('b is', b)", "c = b * 10\nc")


@pytest.mark.parametrize("kernel", ["reactive", "python3"])
def test_jupyterlab_updates_downstream_cells_in_place(
        browser: Browser, lab: tuple[JupyterApp, Path], kernel: str) -> None:
    app, root = lab
    name = f"chain-{kernel}.ipynb"
    write_notebook(root, name, kernel, *SOURCES)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_and_run_all(page, lab_url(app, name),
                         SPECS[kernel]["display_name"])
        expect(output(page, 1)).to_contain_text("b is 2")
        edit_cell(page, 0, "a = 5")
        if kernel == "reactive":
            expect(output(page, 1)).to_contain_text("b is 6", timeout=30_000)
            expect(output(page, 2)).to_contain_text("60", timeout=30_000)
            expect(output(page, 1)).not_to_contain_text("b is 2")
            expect(output(page, 2)).not_to_contain_text("20")
            shot(page, "jupyterlab-cascade.png")
            # An error in a re-run cell shows in that cell.
            edit_cell(page, 0, "a = 'x'")
            expect(output(page, 1)).to_contain_text("TypeError", timeout=30_000)
            # Deleting a cell frees its names on the next run (deletedCells).
            edit_cell(page, 0, "a = 2")
            expect(output(page, 1)).to_contain_text("b is 3", timeout=30_000)
            before = cells(page).count()
            cells(page).nth(0).locator(".cm-content").click()
            page.keyboard.press("Escape")  # command mode on the first cell
            page.keyboard.press("d")
            page.keyboard.press("d")
            expect(cells(page)).to_have_count(before - 1, timeout=10_000)
            edit_cell(page, 0, "b = a + 1\nprint('b is', b)")
            expect(output(page, 0)).to_contain_text("NameError", timeout=30_000)
            shot(page, "jupyterlab-deleted-cell.png")
            # The extension is off: nothing of it on the page.
            assert page.locator(".rk-lab-badge, .rk-lab-runall").count() == 0
        else:
            # Stock ipykernel: only the edited cell ran; the others are stale.
            expect(cells(page).nth(0).locator(".jp-InputPrompt")).to_contain_text(
                "[4]", timeout=30_000)
            expect(output(page, 1)).to_contain_text("b is 2")
            expect(output(page, 2)).to_contain_text("20")
    finally:
        page.close()


def test_notebook7_updates_downstream_cells(browser: Browser,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("nb7")
    write_notebook(root, "chain.ipynb", "reactive", *SOURCES)
    app = JupyterApp("notebook", root)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_and_run_all(page, f"{app.base}/notebooks/chain.ipynb?token={TOKEN}",
                         "Python 3 (reactive)")
        edit_cell(page, 0, "a = 5")
        expect(output(page, 1)).to_contain_text("b is 6", timeout=30_000)
        expect(output(page, 2)).to_contain_text("60", timeout=30_000)
        shot(page, "notebook7-cascade.png")
    finally:
        page.close()
        app.stop()


WIDGET_SOURCES = ("import ipywidgets as w\nslider = w.IntSlider(value=10, min=0, max=100)\n"
                  "slider", "print('n is', slider.value)",
                  "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
                  "ax.bar([0], [slider.value]); ax.set_ylim(0, 100); plt.show()")


@pytest.mark.parametrize("frontend", ["jupyterlab", "notebook"])
def test_a_slider_drives_its_readers_without_the_extension(
        browser: Browser, tmp_path_factory: pytest.TempPathFactory, frontend: str) -> None:
    """Stock JupyterLab and Notebook 7 (their own widget manager, no extension of
    ours): moving a slider re-runs the cell reading it, and its output is replaced in
    place (the cell's request is still the page's, so stock routing finds it)."""
    root = tmp_path_factory.mktemp(f"widgets-{frontend}")
    write_notebook(root, "slider.ipynb", "reactive", *WIDGET_SOURCES)
    app = JupyterApp(frontend, root)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        url = (lab_url(app, "slider.ipynb") if frontend == "jupyterlab"
               else f"{app.base}/notebooks/slider.ipynb?token={TOKEN}")
        page.goto(url)
        expect(cells(page).first).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Python 3 (reactive)").first).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first) \
            .to_be_attached(timeout=60_000)
        cells(page).nth(0).locator(".cm-content").click()
        for _ in WIDGET_SOURCES:
            page.keyboard.press("Shift+Enter")
        expect(output(page, 1)).to_contain_text("n is 10", timeout=60_000)
        image = output(page, 2).locator("img")
        expect(image).to_be_visible(timeout=60_000)
        before = image.get_attribute("src")
        drag_slider(page, cells(page).nth(0), 0.6, 60_000)
        readout = cells(page).nth(0).locator(".widget-readout").first
        expect(readout).not_to_have_text("10", timeout=30_000)
        moved = int(readout.inner_text())
        expect(output(page, 1)).to_have_text(re.compile(rf"^\s*n is {moved}\s*$"),
                                             timeout=30_000)
        expect(image).not_to_have_attribute("src", before or "", timeout=30_000)
        expect(output(page, 2).locator("img")).to_have_count(1)
        assert page.locator(".rk-lab-badge").count() == 0  # the extension is off
    finally:
        page.close()
        app.stop()


def test_run_all_runs_each_cell_exactly_once(browser: Browser,
                                            lab: tuple[JupyterApp, Path]) -> None:
    """Run All queues every cell at once: a cascade must not run queued cells again."""
    app, root = lab
    write_notebook(root, "runall.ipynb", "reactive",
                   "import time\ntime.sleep(0.2)\nra = 1",
                   "rb = ra + 1\nopen('runs.txt', 'a').write('b')",
                   "rc = rb + 1\nopen('runs.txt', 'a').write('c')")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(lab_url(app, "runall.ipynb"))
        expect(cells(page).first).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first) \
            .to_be_attached(timeout=60_000)
        for round_number in (1, 2):
            for _attempt in range(3):
                # A click before JupyterLab is ready for it runs nothing (every
                # prompt stays "[ ]"); once it runs, the first prompt changes.
                cells(page).nth(0).locator(".cm-content").click()
                page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                try:
                    expect(cells(page).nth(0).locator(".jp-InputPrompt")).not_to_have_text(
                        "[ ]:" if round_number == 1 else "[1]:", timeout=10_000)
                    break
                except AssertionError:
                    continue
            # The last cell's own request done: its prompt shows its new count.
            try:
                expect(cells(page).nth(2).locator(".jp-InputPrompt")).to_contain_text(
                    f"[{3 * round_number}]", timeout=60_000)
            except AssertionError as err:
                shown = [cells(page).nth(i).inner_text() for i in range(3)]
                raise AssertionError(f"round {round_number}: cells show {shown}; server log:\n"
                                     + "".join(app.log)) from err
            assert (root / "runs.txt").read_text() == "bc" * round_number
    finally:
        page.close()


def test_jupyterlab_through_the_gateway(browser: Browser,
                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    """``jupyter lab --gateway-url`` with kernels hosted by reactive-server."""
    from .server_harness import ServerProcess

    ours = ServerProcess(tmp_path_factory.mktemp("gw-kernels"))
    root = tmp_path_factory.mktemp("gw-lab")
    write_notebook(root, "chain.ipynb", "reactive", *SOURCES)
    app = JupyterApp("jupyterlab", root, f"--gateway-url=http://127.0.0.1:{ours.port}",
                     f"--GatewayClient.auth_token={ours.token}")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_and_run_all(page, lab_url(app, "chain.ipynb"),
                         "Python 3 (reactive)")
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{ours.port}/api/kernels",
                                         headers={"Authorization": f"token {ours.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response), "the kernel should live on our server"
        edit_cell(page, 0, "a = 5")
        expect(output(page, 1)).to_contain_text("b is 6", timeout=30_000)
        expect(output(page, 2)).to_contain_text("60", timeout=30_000)
        shot(page, "jupyterlab-gateway-cascade.png")
    finally:
        page.close()
        app.stop()
        ours.stop()
