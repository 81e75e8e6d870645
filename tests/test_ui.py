"""The web notebook UI (server/static + ui/), driven in headless Chromium.

A real ``reactive-server`` process and a real reactive kernel: cells are typed into
CodeMirror, run with the keyboard, and the reactive cascade is checked in the DOM of the
page that ran it and of a second page on the same notebook.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from .server_harness import CuttableLink, ServerProcess, WSClient, execute, free_port, message

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
BUILD = Path(__file__).parent.parent / "server" / "static" / "build" / "notebook.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT = 30_000  # ms: the longest any single expectation may wait

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(not BUILD.exists(), reason="the UI is not built (make ui)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path_factory.mktemp("ui-notebooks"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not errors, errors


def shot(page: Page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}.png"), full_page=full_page)


def new_notebook(page: Page, server: ServerProcess) -> str:
    """Create a notebook from the list page; return its path."""
    page.goto(f"{server.base}/?token={server.token}")
    page.get_by_role("button", name="Create a new notebook").click()
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=WAIT)
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected",
                                                           timeout=WAIT)
    return str(page.locator("#nb-title").inner_text())


def open_notebook(page: Page, server: ServerProcess | CuttableLink, path: str) -> None:
    page.goto(f"{server.base}/notebooks/{path}?token={server.token}")
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=WAIT)
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected",
                                                           timeout=WAIT)


def cell(page: Page, index: int):  # type: ignore[no-untyped-def]
    return page.locator(".rk-cell").nth(index)


def type_cells(page: Page, sources: list[str]) -> None:
    """Type each source into successive cells, running each with Shift+Enter."""
    cell(page, 0).locator(".cm-content").click()
    for source in sources:
        page.keyboard.type(source)
        page.keyboard.press("Shift+Enter")


def replace_source(page: Page, index: int, source: str) -> None:
    cell(page, index).locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.type(source)


def output(page: Page, index: int):  # type: ignore[no-untyped-def]
    return cell(page, index).locator(".rk-outputs")


def badge(page: Page, index: int):  # type: ignore[no-untyped-def]
    return cell(page, index).locator(".rk-badge")


def rest(server: ServerProcess, method: str, path: str,
         body: Any = None) -> tuple[int, Any]:
    """``server.http`` from a worker thread: Playwright's sync API owns this thread's
    event loop, and tornado's blocking client needs one of its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(server.http, method, path, body).result(timeout=90)


def open_code_notebook(page: Page, server: ServerProcess, path: str,
                       sources: list[str]) -> None:
    """Create ``path`` through the REST API with one code cell per source (none run,
    ids ``<stem>0``, ``<stem>1``...), and open it."""
    status, model = rest(server, "POST", "/api/notebooks", {"path": path})
    assert status == 201
    stem = path.removesuffix(".ipynb")
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"id": f"{stem}{i}", "cell_type": "code", "metadata": {}, "source": source,
         "outputs": [], "execution_count": None} for i, source in enumerate(sources)]}
    status, _ = rest(server, "PUT", f"/api/notebooks/{path}",
                     {"notebook": notebook, "version": model["version"]})
    assert status == 200
    open_notebook(page, server, path)


@contextlib.contextmanager
def second_page(browser: Browser, server: ServerProcess | CuttableLink,
                path: str) -> Iterator[Page]:
    """Another tab (a browser context of its own) on the notebook at ``path``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = context.new_page()
        open_notebook(other, server, path)
        yield other
    finally:
        context.close()


def kernel_of(server: ServerProcess, path: str) -> str:
    """The id of the notebook's kernel, from the server's list of kernels."""
    status, kernels = rest(server, "GET", "/api/kernels")
    assert status == 200
    ids = [k["id"] for k in kernels if k["notebook"] == path]
    assert len(ids) == 1, kernels
    return str(ids[0])


def kernel_graph(server: ServerProcess, path: str) -> dict[str, Any]:
    """The notebook kernel's graph (a ``reactive_graph_request`` of a client of its
    own): cells with their run counts, edges, order."""
    kernel_id = kernel_of(server, path)

    async def ask() -> dict[str, Any]:
        client = await WSClient.connect(server, kernel_id)
        try:
            request = message("reactive_graph_request", {})
            await client.send(request)
            reply = await client.until(
                lambda m: m["parent_header"].get("msg_id") == request["header"]["msg_id"]
                and m.get("msg_type") == "reactive_graph_reply")
            return dict(reply["content"])
        finally:
            client.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, ask()).result(timeout=90)


def run_stale_cells(page: Page, index: int) -> None:
    """Cell ``index`` never ran in this kernel (a new kernel knows the notebook's cells
    from the file): the cascade marked it stale; "Run stale" runs it."""
    expect(badge(page, index)).to_have_text("stale", timeout=WAIT)
    page.locator("#run-stale").click()


def wait_current(page: Page) -> None:
    """Connected, with the kernel's state applied and anything missed caught up."""
    state = page.locator("#conn-state")
    expect(state).to_have_attribute("data-state", "connected", timeout=WAIT)
    expect(state).to_have_attribute("data-sync", "current", timeout=WAIT)


def wait_saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved", timeout=WAIT)
    expect(page.locator("#save-state")).to_contain_text("Saved", timeout=WAIT)


def test_cascade_two_pages_graph_and_reload(page: Page, browser: Browser,
                                            server: ServerProcess) -> None:
    path = new_notebook(page, server)
    type_cells(page, ["a = 1", "b = a + 1\nprint(b)", "c = b * 10\nc"])
    expect(output(page, 1)).to_have_text("2", timeout=WAIT)
    expect(output(page, 2)).to_contain_text("20", timeout=WAIT)
    expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)
    expect(cell(page, 1).locator(".cm-content .tok-variableName, .cm-content span").first
           ).to_be_visible()
    wait_saved(page)

    # A second page on the same notebook (another tab).
    with second_page(browser, server, path) as other:
        expect(output(other, 2)).to_contain_text("20", timeout=WAIT)

        # Edit the first cell and run only it: the others re-run by themselves.
        replace_source(page, 0, "a = 5")
        page.keyboard.press("Control+Enter")
        for pg in (page, other):
            expect(output(pg, 1)).to_have_text("6", timeout=WAIT)
            expect(output(pg, 2)).to_contain_text("60", timeout=WAIT)
            expect(cell(pg, 1)).to_have_class(re.compile(r"\brk-reran\b"), timeout=WAIT)
            expect(cell(pg, 2)).to_have_class(re.compile(r"\brk-reran\b"), timeout=WAIT)
            expect(badge(pg, 1)).to_contain_text("ok", timeout=WAIT)
            expect(badge(pg, 2)).to_contain_text("ok", timeout=WAIT)
        expect(cell(page, 0)).to_have_class(re.compile(r"\brk-trigger\b"), timeout=WAIT)
        expect(cell(other, 0)).to_have_class(re.compile(r"\brk-trigger\b"), timeout=WAIT)
        shot(page, "cascade")
        shot(other, "cascade-second-page")

    # Graph view: edges a (1 -> 2) and b (2 -> 3); selecting cell 2 lights both sides.
    page.get_by_role("button", name="Graph").click()
    graph = page.locator("#graph-canvas")
    expect(graph.locator(".rk-node")).to_have_count(3, timeout=WAIT)
    expect(graph.locator(".rk-edge-label")).to_have_count(2, timeout=WAIT)
    expect(graph.locator(".rk-edge-label").nth(0)).to_have_text("a")
    expect(graph.locator(".rk-edge-label").nth(1)).to_have_text("b")
    cell(page, 1).locator(".rk-gutter").click()
    expect(graph.locator(".rk-node-selected")).to_have_count(1, timeout=WAIT)
    expect(graph.locator(".rk-node-up")).to_have_count(1)
    expect(graph.locator(".rk-node-down")).to_have_count(1)
    expect(cell(page, 0)).to_have_class(re.compile(r"\brk-upstream\b"))
    expect(cell(page, 2)).to_have_class(re.compile(r"\brk-downstream\b"))
    shot(page, "graph")

    # Reload: outputs and execution counts come back from the saved .ipynb.
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert "60" in json.dumps(saved["cells"][2]["outputs"])
    page.reload()
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=WAIT)
    expect(output(page, 1)).to_have_text("6", timeout=WAIT)
    expect(output(page, 2)).to_contain_text("60", timeout=WAIT)
    expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)  # state from the kernel's graph
    wait_current(page)
    # A reloaded page does not know what the last run re-ran: no marks.
    expect(page.locator(".rk-cell.rk-trigger, .rk-cell.rk-reran")).to_have_count(0)


def test_error_skips_descendants(page: Page, server: ServerProcess) -> None:
    new_notebook(page, server)
    type_cells(page, ["a = 1", "x = 1 / a\nprint(x)", "y = x + 1\ny"])
    expect(output(page, 2)).to_contain_text("2.0", timeout=WAIT)
    replace_source(page, 0, "a = 0")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_have_text("error", timeout=WAIT)
    expect(output(page, 1)).to_contain_text("ZeroDivisionError", timeout=WAIT)
    expect(badge(page, 2)).to_contain_text("skipped", timeout=WAIT)
    # The upstream cell as the page shows it: its prompt's number.
    expect(badge(page, 2)).to_contain_text("upstream [2] failed", timeout=WAIT)
    expect(output(page, 2)).to_contain_text("Not run: upstream cell", timeout=WAIT)
    shot(page, "error-skipped")
    # Fixing the cause re-runs both.
    replace_source(page, 0, "a = 4")
    page.keyboard.press("Control+Enter")
    expect(output(page, 1)).to_have_text("0.25", timeout=WAIT)
    expect(output(page, 2)).to_contain_text("1.25", timeout=WAIT)
    expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)


def test_rerun_outputs_change_shape(page: Page, server: ServerProcess) -> None:
    """A re-run cell's stdout is updated in place when it prints plain text again; any
    other shape (stderr next to it, ANSI colours, no output at all) is drawn anew."""
    new_notebook(page, server)
    type_cells(page, ["v = 1", "import sys\nprint(v)\nprint(v * 10)"])
    out = output(page, 1)
    expect(out).to_have_text("1\n10\n", timeout=WAIT)
    for source, want in (("v = 2", "2\n20\n"), ("v = 3", "3\n30\n")):
        replace_source(page, 0, source)
        page.keyboard.press("Control+Enter")
        expect(out).to_have_text(want, timeout=WAIT)
    expect(out.locator(".rk-output")).to_have_count(1)  # the two prints: one stream
    replace_source(page, 1, "import sys\nprint(v)\nprint('careful', file=sys.stderr)")
    page.keyboard.press("Control+Enter")
    expect(out.locator(".rk-stderr")).to_have_text("careful\n", timeout=WAIT)
    replace_source(page, 0, "v = 4")
    page.keyboard.press("Control+Enter")
    expect(out.locator(".rk-output").first).to_have_text("4\n", timeout=WAIT)
    expect(out.locator(".rk-stderr")).to_have_text("careful\n")
    replace_source(page, 1, "print(f'\\x1b[31m{v}\\x1b[0m')")
    page.keyboard.press("Control+Enter")
    expect(out.locator("span")).to_have_text("4", timeout=WAIT)
    expect(out.locator(".rk-stderr")).to_have_count(0)
    replace_source(page, 0, "v = 5")
    page.keyboard.press("Control+Enter")
    expect(out.locator("span")).to_have_text("5", timeout=WAIT)
    replace_source(page, 1, "w = v")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    expect(out).to_be_hidden()


def test_sql_cell_reacts_to_python(page: Page, server: ServerProcess) -> None:
    new_notebook(page, server)
    type_cells(page, ["a = 3", "%%sql out\nSELECT {a} * 2 AS doubled"])
    sql_cell = cell(page, 1)
    expect(sql_cell.locator(".rk-lang")).to_have_text("SQL")
    table = sql_cell.locator("table.rk-sql-table")
    expect(table).to_be_visible(timeout=WAIT)
    expect(table.locator("th")).to_have_text(["doubled"])
    expect(table.locator("td")).to_have_text(["6"], timeout=WAIT)
    replace_source(page, 0, "a = 21")
    page.keyboard.press("Control+Enter")
    expect(table.locator("td")).to_have_text(["42"], timeout=WAIT)
    expect(sql_cell).to_have_class(re.compile(r"\brk-reran\b"))
    shot(page, "sql")


def test_interrupt_stops_a_long_cascade(page: Page, server: ServerProcess) -> None:
    new_notebook(page, server)
    type_cells(page, ["n = 0", "import time\ntime.sleep(n)\nm = n", "m + 1"])
    expect(output(page, 2)).to_contain_text("1", timeout=WAIT)
    replace_source(page, 0, "n = 600")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
    shot(page, "running")
    page.get_by_role("button", name="Interrupt").click()
    expect(badge(page, 1)).to_have_text(re.compile("interrupted|error"), timeout=WAIT)
    expect(output(page, 1)).to_contain_text("KeyboardInterrupt", timeout=WAIT)
    expect(badge(page, 2)).to_have_text("skipped — the cascade was interrupted", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    shot(page, "interrupted")


def lazy_edit_of_the_first_cell(page: Page, code: str) -> Locator:
    """Switch to lazy mode, run ``code`` in the first cell: the second goes stale.
    Returns the Auto / Lazy switch."""
    switch = page.get_by_role("switch")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true", timeout=WAIT)
    replace_source(page, 0, code)
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_have_text("stale", timeout=WAIT)
    return switch


def test_lazy_mode_marks_stale_and_runs_on_demand(page: Page, server: ServerProcess) -> None:
    new_notebook(page, server)
    type_cells(page, ["a = 1", "b = a + 1\nprint(b)"])
    expect(output(page, 1)).to_have_text("2", timeout=WAIT)
    switch = lazy_edit_of_the_first_cell(page, "a = 7")
    expect(output(page, 1)).to_have_text("2")
    shot(page, "lazy-stale")
    cell(page, 1).get_by_role("button", name="Run this stale cell").click()
    expect(output(page, 1)).to_have_text("8", timeout=WAIT)
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false", timeout=WAIT)


def in_conflict(page: Page, server: ServerProcess, name: str) -> tuple[str, Locator]:
    """A new notebook saved with ``{name} = 1``, rewritten on disk by another program
    (``{name} = 'theirs'``) while the page edits it (``{name} = 'mine'``) and saves:
    its path, and the conflict banner shown."""
    path = new_notebook(page, server)
    type_cells(page, [f"{name} = 1"])
    wait_saved(page)
    file = server.root / path
    doc = json.loads(file.read_text())
    doc["cells"][0]["source"] = f"{name} = 'theirs'"
    file.write_text(json.dumps(doc))
    replace_source(page, 0, f"{name} = 'mine'")
    page.keyboard.press("Control+s")
    banner = page.locator("#banner")
    expect(banner).to_be_visible(timeout=WAIT)
    expect(banner).to_contain_text("changed", timeout=WAIT)
    return path, banner


def wait_held(page: Page, held: list[Any]) -> None:
    """Until a route handler holding a request (or a message) has it (the handler
    runs with Playwright's next events)."""
    for _ in range(100):
        if held:
            return
        page.wait_for_timeout(20)


def test_save_conflict_shows_a_banner_and_keeps_edits(page: Page, server: ServerProcess) -> None:
    path, banner = in_conflict(page, server, "x")
    expect(cell(page, 0).locator(".cm-content")).to_have_text("x = 'mine'")
    shot(page, "conflict")
    banner.get_by_role("button", name="Overwrite with mine").click()
    expect(banner).to_be_hidden(timeout=WAIT)
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert "".join(saved["cells"][0]["source"]) == "x = 'mine'"


def test_overwrite_chosen_while_a_save_is_in_flight_is_done_after_it(
        page: Page, server: ServerProcess) -> None:
    """The user settles a conflict (overwrite) while a save refused for it is still on
    its way: once that save answers, the page saves over the file as chosen."""
    path, banner = in_conflict(page, server, "y")
    held: list[Any] = []
    page.route(f"**/api/notebooks/{path}", lambda route: held.append(route)
               if route.request.method == "PUT" and not held else route.fallback())
    with page.expect_request(lambda r: r.method == "PUT" and r.url.endswith(path)):
        page.keyboard.press("Control+s")  # refused again, once it answers
    banner.get_by_role("button", name="Overwrite with mine").click()
    wait_held(page, held)
    held[0].continue_()
    page.unroute(f"**/api/notebooks/{path}")
    expect(banner).to_be_hidden(timeout=WAIT)
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert "".join(saved["cells"][0]["source"]) == "y = 'mine'"


def completion_list(page: Page, server: ServerProcess, name: str) -> tuple[Locator, Locator]:
    """A new notebook whose cell defines ``name``, and the completion list opened
    (Tab: a complete_request) on a new line of it typing the start of ``name``:
    the editor and the list's option for ``name``."""
    new_notebook(page, server)
    type_cells(page, [f"{name} = 41"])
    editor = cell(page, 0).locator(".cm-content")
    editor.click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type(name[:-5])
    page.keyboard.press("Tab")
    option = page.locator(".cm-tooltip-autocomplete li", has_text=name)
    expect(option).to_be_visible(timeout=WAIT)
    return editor, option


def test_tab_completes_and_shift_tab_inspects(page: Page, server: ServerProcess) -> None:
    editor, option = completion_list(page, server, "completion_target_value")
    # A click, not Enter: CodeMirror ignores Enter for 75 ms after the list opens
    # (interactionDelay), so an immediate Enter would insert a newline instead.
    option.click()
    expect(editor).to_have_text(
        re.compile(r"completion_target_value = 41\s*completion_target_value\s*$"), timeout=WAIT)
    # Tab at the start of a line still indents.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("len")
    assert "    len" in editor.inner_text()
    page.keyboard.press("Shift+Tab")  # inspect_request: the docstring of len
    help_box = cell(page, 0).locator(".rk-inspect")
    expect(help_box).to_contain_text("Return the number of items", timeout=WAIT)
    shot(page, "inspect")
    help_box.get_by_role("button", name="Close the help").click()
    expect(help_box).to_have_count(0)


def test_run_all_runs_each_cell_once(page: Page, server: ServerProcess) -> None:
    path = new_notebook(page, server)
    type_cells(page, ["ra_x = 0", "ra_y = ra_x + 1\nprint('y', ra_y)",
                      "ra_z = ra_y + 1\nprint('z', ra_z)"])
    expect(output(page, 2)).to_contain_text("z 2", timeout=WAIT)
    page.keyboard.press("Control+s")
    wait_saved(page)
    open_notebook(page, server, path)  # a fresh page: every cell is in the graph
    expect(page.locator(".rk-cell")).to_have_count(4, timeout=WAIT)
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(output(page, 2)).to_have_text("z 2", timeout=WAIT)
    expect(output(page, 1)).to_have_text("y 1", timeout=WAIT)


def test_run_all_stops_at_an_error_and_leaves_the_rest_not_run(
        page: Page, server: ServerProcess) -> None:
    """As in JupyterLab: after a failing cell, Run all's later requests are aborted by
    the kernel; those cells end with no state, count or output (not "queued" for ever),
    run normally afterwards.  A cascade does not run a cell that never ran in this
    kernel: it marks it stale ("Run stale")."""
    open_code_notebook(page, server, "rae.ipynb", [
        "rae_a = 1\nprint('a', rae_a)", "raise ValueError('no data')",
        "rae_b = 2\nprint('b', rae_b)", "print('c', rae_a + rae_b)"])
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(badge(page, 1)).to_have_text("error", timeout=WAIT)
    expect(output(page, 0)).to_have_text("a 1")
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    for index in (2, 3):
        expect(badge(page, index)).to_be_hidden(timeout=WAIT)
        expect(output(page, index)).to_have_text("")
        expect(cell(page, index).locator(".rk-prompt")).not_to_contain_text(re.compile(r"\d"))
    cell(page, 2).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    expect(output(page, 2)).to_have_text("b 2", timeout=WAIT)
    # Its reader never ran in this kernel: the cascade leaves it stale, to run when asked.
    expect(badge(page, 3)).to_have_text("stale", timeout=WAIT)
    expect(output(page, 3)).to_have_text("")
    expect(page.locator("#run-stale")).to_be_visible()
    cell(page, 3).get_by_role("button", name="Run this stale cell and its stale ancestors").click()
    expect(output(page, 3)).to_have_text("c 3", timeout=WAIT)
    expect(page.locator("#run-stale")).to_be_hidden(timeout=WAIT)


def test_cells_become_editors_where_they_are_clicked(page: Page, server: ServerProcess) -> None:
    """A notebook opens with its code highlighted but no editor made yet (a long
    notebook would pay for every editor on each focus move); clicking a cell makes its
    editor with the caret where the click was, and only that one."""
    sources = ["alpha = 1", "beta = alpha + 1", "gamma = beta * 2"]
    open_code_notebook(page, server, "lazy.ipynb", sources)
    expect(page.locator(".rk-cell .cm-editor")).to_have_count(0)
    source = cell(page, 1).locator(".cm-content")
    expect(source).to_have_text("beta = alpha + 1")
    expect(source.locator("span").first).to_be_visible()  # highlighted
    point = source.evaluate("""content => {
        const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
        let node;
        while ((node = walker.nextNode()) && !node.textContent.includes("alpha")) {}
        const range = document.createRange();
        const end = node.textContent.indexOf("alpha") + 5;
        range.setStart(node, end - 1);
        range.setEnd(node, end);
        const box = range.getBoundingClientRect();
        return { x: box.right - 1, y: box.top + box.height / 2 };
    }""")
    page.mouse.click(point["x"], point["y"])
    expect(cell(page, 1).locator(".cm-editor.cm-focused")).to_have_count(1, timeout=WAIT)
    expect(page.locator(".rk-cell .cm-editor")).to_have_count(1)
    page.keyboard.type("_x")
    expect(source).to_have_text("beta = alpha_x + 1")
    expect(cell(page, 0).locator(".cm-content")).to_have_text("alpha = 1")
    # A drag that starts on a cell that is not an editor yet selects text in the editor
    # made under it.
    third = cell(page, 2).locator(".cm-content")
    ends = third.evaluate("""content => {
        const text = content.querySelector(".cm-line");
        const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
        const nodes = [];
        for (let node; (node = walker.nextNode());) nodes.push(node);
        const box = (node, offset) => {
            const range = document.createRange();
            range.setStart(node, offset);
            range.setEnd(node, offset + 1);
            return range.getBoundingClientRect();
        };
        const first = box(nodes[0], 0);
        const beta = nodes.find((node) => node.textContent.includes("beta"));
        const last = box(beta, beta.textContent.indexOf("beta") + 3);
        return { x0: first.left + 1, y0: first.top + first.height / 2,
                 x1: last.right - 1, y1: last.top + last.height / 2 };
    }""")
    page.mouse.move(ends["x0"], ends["y0"])
    page.mouse.down()
    page.mouse.move((ends["x0"] + ends["x1"]) / 2, ends["y1"], steps=3)
    page.mouse.move(ends["x1"], ends["y1"], steps=3)
    page.mouse.up()
    expect(cell(page, 2).locator(".cm-editor.cm-focused")).to_have_count(1, timeout=WAIT)
    page.keyboard.type("z")
    expect(third).to_have_text("z * 2")
    expect(page.locator(".rk-cell .cm-editor")).to_have_count(2)


def test_keys_right_after_shift_enter_reach_the_next_cell(page: Page,
                                                          server: ServerProcess) -> None:
    """Shift+Enter moves the focus into the next cell at once, and that cell's editor is
    made (or focused) once the run is over: keys typed before then must land in it, the
    first one included, whether the editor handles it (Tab, Shift+Enter) or it types a
    character, and so must text composed with an input method; with the editor made
    already, at the caret it had."""
    sources = ["import time\ntime.sleep(1.5)\na = 1",
               "import time as t1\nt1.sleep(0.5)\nb = 2",
               "import time as t2\nt2.sleep(0.5)\nc = 3", "d = 4", "e = 5"]
    # Only the run's end (or a key) may make the editors here, not the fallback timer.
    page.add_init_script("localStorage.setItem('rk-prefs', '{\"editorWaitMs\": 60000}')")
    open_code_notebook(page, server, "soon.ipynb", sources)
    source = [cell(page, i).locator(".cm-content") for i in range(len(sources))]

    cell(page, 0).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")  # cell 0 runs for 1.5 s
    # Cell 1 has the focus, in a text area over its highlighted code, with a caret.
    expect(cell(page, 1).locator(".rk-key-catcher")).to_be_focused()
    expect(cell(page, 1).locator(".cm-editor")).to_have_count(0)
    shot(page, "editor-soon", full_page=False)
    # The editor's own key (Tab indents; the browser's Tab would leave the cell): the
    # editor is made now and the key replayed into it.
    page.keyboard.press("Tab")
    page.keyboard.press("Control+End")
    page.keyboard.type("0")
    expect(source[1]).to_have_text("    import time as t1t1.sleep(0.5)b = 20")  # lines, no newlines
    expect(cell(page, 1).locator(".cm-editor.cm-focused")).to_have_count(1)
    replace_source(page, 1, "import time as t1\nt1.sleep(0.5)\nb = 20")

    page.keyboard.press("Shift+Enter")  # cell 1 runs for 0.5 s; the focus goes into cell 2
    expect(cell(page, 2).locator(".rk-key-catcher")).to_be_focused()
    page.keyboard.press("Shift+Enter")  # the first key in cell 2 runs it and advances
    expect(cell(page, 3).locator(".rk-key-catcher")).to_be_focused()
    page.keyboard.type("x")  # a character first: typed once, where the caret was shown
    expect(source[3]).to_have_text("xd = 4")
    expect(cell(page, 3).locator(".cm-editor.cm-focused")).to_have_count(1)
    page.keyboard.press("Control+a")
    page.keyboard.type("import time as t3\nt3.sleep(0.5)\nd = 4")

    page.keyboard.press("Shift+Enter")  # cell 3 runs for 0.5 s; the focus goes into cell 4
    catcher = cell(page, 4).locator(".rk-key-catcher")
    expect(catcher).to_be_focused()
    cdp = page.context.new_cdp_session(page)  # an input method composes, then commits
    cdp.send("Input.imeSetComposition", {"text": "ka", "selectionStart": 2, "selectionEnd": 2})
    expect(catcher).to_have_class(re.compile("rk-composing"))
    cdp.send("Input.imeSetComposition", {"text": "か", "selectionStart": 1, "selectionEnd": 1})
    cdp.send("Input.insertText", {"text": "か"})
    expect(source[4]).to_have_text("かe = 5")
    expect(cell(page, 4).locator(".cm-editor.cm-focused")).to_have_count(1)
    cdp.detach()
    for i in range(4):
        expect(badge(page, i)).to_contain_text("ok", timeout=WAIT)
    expect(page.locator(".rk-cell")).to_have_count(5)

    # Cell 1's editor exists now: it is focused later, and a key typed before that goes
    # where its caret was (after "b = 20").
    cell(page, 0).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    expect(cell(page, 1).locator(".rk-key-catcher")).to_be_focused()
    page.keyboard.type("1")
    expect(source[1]).to_have_text("import time as t1t1.sleep(0.5)b = 201")
    expect(cell(page, 1).locator(".cm-editor.cm-focused")).to_have_count(1)
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    # Not typed into: the editor takes the focus by itself once the run is over.
    cell(page, 0).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    expect(cell(page, 1).locator(".rk-key-catcher")).to_be_focused()
    expect(cell(page, 1).locator(".cm-editor.cm-focused")).to_have_count(1, timeout=WAIT)
    expect(cell(page, 1).locator(".rk-key-catcher")).to_have_count(0)
    expect(source[1]).to_have_text("import time as t1t1.sleep(0.5)b = 201")


def test_an_open_notebook_follows_a_rename(page: Page, server: ServerProcess) -> None:
    """Renamed elsewhere (the list page in another tab, here the REST call it makes):
    the open page takes the new name, its URL too, and its next save lands in the
    renamed file instead of failing on the old name."""
    path = new_notebook(page, server)
    type_cells(page, ["followed = 1"])
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    wait_saved(page)
    new_path = "renamed-" + path
    status, _ = rest(server, "PATCH", f"/api/notebooks/{path}", {"path": new_path})
    assert status == 200
    expect(page.locator("#nb-title")).to_have_text(new_path, timeout=WAIT)
    assert page.evaluate("() => location.pathname") == f"/notebooks/{new_path}"
    replace_source(page, 0, "followed = 2")
    page.keyboard.press("Control+s")
    wait_saved(page)
    saved = json.loads((server.root / new_path).read_text())
    assert "".join(saved["cells"][0]["source"]) == "followed = 2"
    assert not (server.root / path).exists()
    expect(page.locator("#banner")).to_be_hidden()


class RenameNotices:
    """The page's WebSocket relayed through Playwright: while ``holding``, the
    server's ``notebook_renamed`` notices are kept back until :meth:`release`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.holding = False
        self.held: list[str] = []
        self.sockets: list[Any] = []
        page.route_web_socket(re.compile(r".*/channels.*"), self._relay)

    def _relay(self, ws: Any) -> None:
        self.sockets.append(ws)
        server_side = ws.connect_to_server()

        def to_page(message: str | bytes) -> None:
            if self.holding and isinstance(message, str) and "notebook_renamed" in message:
                self.held.append(message)
            else:
                ws.send(message)
        server_side.on_message(to_page)

    def release(self) -> None:
        wait_held(self.page, self.held)
        self.holding = False
        assert len(self.held) == 1 and self.sockets, self.held
        self.sockets[-1].send(self.held.pop())


def test_a_save_crossing_a_rename_lands_in_the_renamed_file(
        page: Page, server: ServerProcess) -> None:
    """A save on its way while another tab renames the notebook finds the old name
    gone: the page, told of the rename before or after that answer, saves under the
    new name; it never leaves the notebook shown as deleted."""
    notices = RenameNotices(page)
    path = new_notebook(page, server)
    type_cells(page, ["crossed = 1"])
    wait_saved(page)
    banner = page.locator("#banner")
    held: list[Any] = []  # (a handler taking two arguments gets the request too)
    for step, told_first in enumerate([True, False]):
        renamed = f"crossing-{step}-{path}"
        held.clear()
        page.route(f"**/api/notebooks/{path}", lambda route: held.append(route)
                   if route.request.method == "PUT" and not held else route.fallback())
        replace_source(page, 0, f"crossed = {step + 2}")
        with page.expect_request(lambda r, p=path: r.method == "PUT" and r.url.endswith(p)):
            page.keyboard.press("Control+s")
        notices.holding = not told_first
        status, _ = rest(server, "PATCH", f"/api/notebooks/{path}", {"path": renamed})
        assert status == 200
        if told_first:
            expect(page.locator("#nb-title")).to_have_text(renamed, timeout=WAIT)
        wait_held(page, held)
        held[0].continue_()  # to the old name: 404
        page.unroute(f"**/api/notebooks/{path}")
        if not told_first:
            expect(banner).to_contain_text("deleted on disk", timeout=WAIT)
            notices.release()
            expect(page.locator("#nb-title")).to_have_text(renamed, timeout=WAIT)
        expect(banner).to_be_hidden(timeout=WAIT)
        wait_saved(page)
        saved = json.loads((server.root / renamed).read_text())
        assert "".join(saved["cells"][0]["source"]) == f"crossed = {step + 2}"
        assert not (server.root / path).exists()
        path = renamed



def test_a_conflict_left_unsettled_survives_a_rename_crossing_a_save(
        page: Page, server: ServerProcess) -> None:
    """The page is in conflict with the file; a save (refused for that) crosses a
    rename made elsewhere and finds the old name gone: told of the rename, the page
    shows the conflict's choice again, and overwriting saves under the new name."""
    notices = RenameNotices(page)
    path, banner = in_conflict(page, server, "v")
    held: list[Any] = []
    page.route(f"**/api/notebooks/{path}", lambda route: held.append(route)
               if route.request.method == "PUT" and not held else route.fallback())
    with page.expect_request(lambda r: r.method == "PUT" and r.url.endswith(path)):
        page.keyboard.press("Control+s")
    notices.holding = True
    renamed = "conflicted-" + path
    status, _ = rest(server, "PATCH", f"/api/notebooks/{path}", {"path": renamed})
    assert status == 200
    wait_held(page, held)
    held[0].continue_()  # to the old name: 404
    page.unroute(f"**/api/notebooks/{path}")
    expect(banner).to_contain_text("deleted on disk", timeout=WAIT)
    notices.release()
    expect(page.locator("#nb-title")).to_have_text(renamed, timeout=WAIT)
    expect(banner).to_contain_text("changed", timeout=WAIT)
    banner.get_by_role("button", name="Overwrite with mine").click()
    expect(banner).to_be_hidden(timeout=WAIT)
    wait_saved(page)
    saved = json.loads((server.root / renamed).read_text())
    assert "".join(saved["cells"][0]["source"]) == "v = 'mine'"


def test_list_page_renames_and_deletes(page: Page, server: ServerProcess) -> None:
    for name in ("list-alpha.ipynb", "list-beta.ipynb"):
        status, _ = rest(server, "POST", "/api/notebooks", {"path": name})
        assert status == 201
    page.goto(f"{server.base}/?token={server.token}")
    link = page.locator("#list a.nb-link")
    status_line = page.locator("#status")
    expect(link.filter(has_text="list-alpha.ipynb")).to_have_count(1, timeout=WAIT)

    # Rename alpha to gamma inline: the extension is added when left out.
    page.get_by_role("button", name="Rename list-alpha.ipynb", exact=True).click()
    name_box = page.get_by_role("textbox", name="New name for list-alpha.ipynb")
    expect(name_box).to_be_focused()
    name_box.fill("list-gamma")
    name_box.press("Enter")
    expect(status_line).to_have_text("Renamed list-alpha.ipynb to list-gamma.ipynb", timeout=WAIT)
    expect(link.filter(has_text="list-gamma.ipynb")).to_have_count(1, timeout=WAIT)
    expect(link.filter(has_text="list-alpha.ipynb")).to_have_count(0)
    assert (server.root / "list-gamma.ipynb").is_file()
    assert not (server.root / "list-alpha.ipynb").exists()

    # A name that is taken: the server's 409 is shown and nothing moves.
    page.get_by_role("button", name="Rename list-gamma.ipynb", exact=True).click()
    name_box = page.get_by_role("textbox", name="New name for list-gamma.ipynb")
    name_box.fill("list-beta.ipynb")
    page.get_by_role("button", name="Save the new name of list-gamma.ipynb").click()
    expect(status_line).to_contain_text("Cannot rename list-gamma.ipynb", timeout=WAIT)
    expect(status_line).to_contain_text("already exists")
    expect(status_line).to_have_class("error")
    expect(name_box).to_have_attribute("aria-invalid", "true")
    shot(page, "list-rename-conflict")
    assert (server.root / "list-gamma.ipynb").is_file()
    assert (server.root / "list-beta.ipynb").is_file()
    name_box.press("Escape")
    expect(name_box).to_have_count(0)
    expect(link.filter(has_text="list-gamma.ipynb")).to_have_count(1)

    # The renamed link opens the notebook (and starts its kernel).
    link.filter(has_text="list-gamma.ipynb").click()
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=WAIT)
    expect(page.locator("#nb-title")).to_have_text("list-gamma.ipynb")
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected",
                                                           timeout=WAIT)
    _, kernels = rest(server, "GET", "/api/kernels")
    assert "list-gamma.ipynb" in [k["notebook"] for k in kernels]

    # Delete from the keyboard, with an inline confirmation; Cancel keeps the file.
    page.goto(f"{server.base}/?token={server.token}")
    delete = page.get_by_role("button", name="Delete list-gamma.ipynb", exact=True)
    delete.focus()
    page.keyboard.press("Enter")
    cancel = page.get_by_role("button", name="Cancel, keep list-gamma.ipynb")
    expect(cancel).to_be_focused(timeout=WAIT)
    page.keyboard.press("Enter")
    expect(delete).to_be_focused(timeout=WAIT)
    assert (server.root / "list-gamma.ipynb").is_file()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("button", name="Yes, delete list-gamma.ipynb")
    expect(confirm).to_be_visible(timeout=WAIT)
    shot(page, "list-delete-confirm")
    confirm.focus()
    page.keyboard.press("Enter")
    expect(status_line).to_have_text("Deleted list-gamma.ipynb", timeout=WAIT)
    expect(link.filter(has_text="list-gamma.ipynb")).to_have_count(0, timeout=WAIT)
    expect(link.filter(has_text="list-beta.ipynb")).to_have_count(1)
    assert not (server.root / "list-gamma.ipynb").exists()
    _, kernels = rest(server, "GET", "/api/kernels")
    assert "list-gamma.ipynb" not in [k["notebook"] for k in kernels]  # its kernel is gone
    shot(page, "list-after-delete")


def test_restart_empties_the_namespace_and_restart_run_all(page: Page,
                                                           server: ServerProcess) -> None:
    new_notebook(page, server)
    type_cells(page, ["rs_a = 41", "rs_b = rs_a + 1\nprint('b', rs_b)",
                      "print('a', rs_a)"])
    expect(output(page, 1)).to_have_text("b 42", timeout=WAIT)
    expect(output(page, 2)).to_have_text("a 41", timeout=WAIT)
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() of both buttons

    page.locator("#restart").click()
    expect(page.locator(".rk-toast", has_text="Kernel restarted")).to_be_visible(timeout=WAIT)
    expect(page.locator(".rk-toast", has_text="died")).to_have_count(0)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    expect(badge(page, 1)).to_be_hidden()  # states were reset with the kernel
    # The namespace is empty ...
    replace_source(page, 2, "print('rs_a' in globals())")
    cell(page, 2).get_by_role("button", name="Run cell").click()
    expect(output(page, 2)).to_have_text("False", timeout=WAIT)
    # ... and a cell that reads rs_a runs the cell defining it first (it never ran in
    # this kernel), as running the notebook top to bottom would.
    cell(page, 1).get_by_role("button", name="Run cell").click()
    expect(output(page, 1)).to_have_text("b 42", timeout=WAIT)
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    shot(page, "restart-runs-what-is-needed")
    replace_source(page, 2, "print('a', rs_a)")

    # Restart + run all: every cell once, in dependency order, on a fresh counter.
    page.locator("#restart-run").click()
    expect(output(page, 1)).to_have_text("b 42", timeout=WAIT)
    expect(output(page, 2)).to_have_text("a 41", timeout=WAIT)
    for index in range(3):
        expect(badge(page, index)).to_contain_text("ok", timeout=WAIT)
        expect(cell(page, index).locator(".rk-prompt")).to_have_text(f"[{index + 1}]",
                                                                      timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    shot(page, "restart-run-all")


def test_update_display_data_replaces_the_first_cell_output(page: Page,
                                                             server: ServerProcess) -> None:
    path = new_notebook(page, server)
    type_cells(page, ['h = display("one", display_id=True)', 'h.update("two")'])
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    expect(output(page, 0)).to_have_text("'two'", timeout=WAIT)
    expect(output(page, 1)).to_be_hidden()  # the update is not an output of its own
    shot(page, "update-display")
    wait_saved(page)
    saved_outputs = json.dumps(json.loads((server.root / path).read_text())["cells"][0]["outputs"])
    assert "'two'" in saved_outputs and "'one'" not in saved_outputs, saved_outputs


def test_long_output_shows_its_end_behind_show_earlier(page: Page,
                                                       server: ServerProcess) -> None:
    """A long stream shows its last lines (a training loop's latest epoch), with the
    earlier ones behind a button, as JupyterLab's scrolled output does."""
    new_notebook(page, server)
    type_cells(page, ["shown = display('first', display_id=True)\n"
                      "for i in range(5000):\n    print(f'line {i}')"])
    text = output(page, 0).locator("pre.rk-stream")
    more = output(page, 0).get_by_role("button", name=re.compile(r"^Show .* earlier lines$"))
    expect(more).to_have_text(re.compile(r"^Show 4[,.\s\u202f]?800 earlier lines$"),
                              timeout=WAIT)
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    expect(text).to_contain_text("line 4999")
    expect(text).not_to_contain_text(re.compile(r"\bline 4799\b"))
    lines = text.inner_text().rstrip("\n").split("\n")
    assert (lines[0], lines[-1], len(lines)) == ("line 4800", "line 4999", 200)
    more.scroll_into_view_if_needed()
    shot(page, "output-folded", full_page=False)
    more.click()
    expect(more).to_have_count(0, timeout=WAIT)
    expect(text).to_contain_text(re.compile(r"^line 0$", re.M), timeout=WAIT)
    assert text.inner_text().rstrip("\n").endswith("line 4998\nline 4999")
    last = text.evaluate("""pre => {
        const range = document.createRange();
        const node = pre.lastChild;
        range.setStart(node, Math.max(0, node.textContent.trimEnd().length - 9));
        range.setEnd(node, node.textContent.trimEnd().length);
        range.startContainer.parentElement.scrollIntoView({block: "end"});
        const box = range.getBoundingClientRect();
        return {top: box.top, bottom: box.bottom, height: innerHeight};
    }""")
    assert last["bottom"] > 0 and last["top"] < last["height"], last  # on screen
    shot(page, "output-expanded", full_page=False)
    # Redrawing the cell (another of its outputs is updated from the next cell) keeps
    # what the user unfolded.
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.type("shown.update('second')")
    page.keyboard.press("Shift+Enter")
    expect(output(page, 0)).to_contain_text("'second'", timeout=WAIT)
    expect(text).to_contain_text(re.compile(r"^line 0$", re.M))
    expect(more).to_have_count(0)


def test_output_after_a_save_is_saved_too(page: Page, server: ServerProcess) -> None:
    """A save taken while a cell runs must not leave its later output unsaved."""
    path = new_notebook(page, server)
    cell(page, 0).locator(".cm-content").click()
    page.keyboard.type("import time\ntime.sleep(1.5)\nprint('late output')")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 0)).to_contain_text("running", timeout=WAIT)
    page.keyboard.press("Control+s")  # snapshot without the output
    expect(output(page, 0)).to_have_text("late output", timeout=WAIT)
    wait_saved(page)
    saved_outputs = json.dumps(json.loads((server.root / path).read_text())["cells"][0]["outputs"])
    assert "late output" in saved_outputs, saved_outputs


def test_a_pasted_definer_makes_the_reader_below_stale(page: Page,
                                                      server: ServerProcess) -> None:
    """A copy of a cell that redefines a name, pasted above its reader: top to
    bottom the reader reads the copy, which has not run, so it shows "stale", not
    "ok" with the old value; running the copy re-runs it (found by an exploratory
    test in JupyterLab, where the extension registers pasted cells the same way)."""
    new_notebook(page, server)
    type_cells(page, ["pd_x = 1", "pd_x = pd_x + 1", "print('x', pd_x)"])
    expect(output(page, 2)).to_have_text("x 2", timeout=WAIT)
    page.keyboard.press("Escape")
    cell(page, 1).focus()
    page.keyboard.press("c")
    page.keyboard.press("v")
    expect(cell(page, 2)).to_contain_text("pd_x = pd_x + 1")
    expect(badge(page, 3)).to_have_text("stale", timeout=WAIT)
    expect(output(page, 3)).to_have_text("x 2")
    cell(page, 2).focus()
    page.keyboard.press("Control+Enter")
    expect(output(page, 3)).to_have_text("x 3", timeout=WAIT)
    expect(badge(page, 3)).to_contain_text("ok", timeout=WAIT)


def test_command_mode_clipboard_undo_outputs_and_kernel_keys(page: Page,
                                                             server: ServerProcess) -> None:
    """JupyterLab's command-mode keys: C/X/V/Shift+V, Z, O, Alt+Enter, I,I, 0,0, H."""
    path = new_notebook(page, server)
    type_cells(page, ["cb_a = 2", "cb_b = cb_a * 10\nprint('b', cb_b)"])
    expect(output(page, 1)).to_have_text("b 20", timeout=WAIT)
    cells = page.locator(".rk-cell")
    expect(cells).to_have_count(3)
    page.keyboard.press("Escape")  # the new, empty third cell, in command mode
    page.keyboard.press("ArrowUp")
    expect(cell(page, 1)).to_be_focused()
    printer_id = cell(page, 1).get_attribute("data-cell-id")

    # C, V, Shift+V: new cells with the code, no outputs, ids of their own.
    page.keyboard.press("c")
    page.keyboard.press("v")
    expect(cells).to_have_count(4)
    expect(cell(page, 2)).to_be_focused()
    expect(cell(page, 2)).to_contain_text("print('b', cb_b)")
    expect(output(page, 2)).to_be_hidden()
    page.keyboard.press("Shift+V")
    expect(cells).to_have_count(5)
    expect(cell(page, 2)).to_contain_text("print('b', cb_b)")
    ids = [cells.nth(i).get_attribute("data-cell-id") for i in range(5)]
    assert len(set(ids)) == 5, ids

    # X cuts, Z brings the cell back where it was, with its id.
    pasted_id = ids[2]
    page.keyboard.press("x")
    expect(cells).to_have_count(4)
    page.keyboard.press("z")
    expect(cells).to_have_count(5)
    expect(cell(page, 2)).to_have_attribute("data-cell-id", pasted_id)
    for _ in range(2):  # drop both pasted cells again (D,D)
        cell(page, 2).focus()
        page.keyboard.press("d")
        page.keyboard.press("d")
    expect(cells).to_have_count(3)

    # D,D then Z: the kernel dropped the cell at once; Z puts it back at its place and
    # runs it again, with what the cells above hold now.
    cell(page, 1).focus()
    page.keyboard.press("d")
    page.keyboard.press("d")
    expect(cells).to_have_count(2)
    page.keyboard.press("z")
    expect(cell(page, 1)).to_have_attribute("data-cell-id", printer_id)
    expect(output(page, 1)).to_have_text("b 20", timeout=WAIT)
    cell(page, 1).focus()
    page.keyboard.press("d")
    page.keyboard.press("d")
    replace_source(page, 0, "cb_a = 3")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("z")
    expect(cell(page, 1)).to_have_attribute("data-cell-id", printer_id)
    expect(output(page, 1)).to_have_text("b 30", timeout=WAIT)
    replace_source(page, 0, "cb_a = 4")
    page.keyboard.press("Control+Enter")
    expect(output(page, 1)).to_have_text("b 40", timeout=WAIT)

    # O hides the outputs (saved as metadata.jupyter.outputs_hidden); clicking shows them.
    page.keyboard.press("Escape")
    cell(page, 1).focus()
    page.keyboard.press("o")
    expect(output(page, 1)).to_have_text("1 output hidden · show")
    page.keyboard.press("Control+s")
    wait_saved(page)
    status, model = rest(server, "GET", f"/api/notebooks/{path}")
    assert status == 200
    saved = {c["id"]: c for c in model["notebook"]["cells"]}
    assert saved[printer_id]["metadata"]["jupyter"]["outputs_hidden"] is True
    assert saved[printer_id]["outputs"], "hidden outputs are still saved"
    output(page, 1).get_by_role("button").click()
    expect(output(page, 1)).to_have_text("b 40")

    # Alt+Enter runs the cell and inserts an empty one below, in edit mode.
    cell(page, 0).focus()
    page.keyboard.press("Alt+Enter")
    expect(cells).to_have_count(4)
    expect(cell(page, 1).locator(".cm-content")).to_be_focused()
    expect(cell(page, 1).locator(".cm-placeholder")).to_be_visible()  # empty
    # I,I interrupts what runs.
    page.keyboard.type("import time\ntime.sleep(600)")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("i")
    page.keyboard.press("i")
    expect(output(page, 1)).to_contain_text("KeyboardInterrupt", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    # 0,0 restarts, after the same confirmation as the toolbar's button.
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    cell(page, 1).focus()
    page.keyboard.press("0")
    page.keyboard.press("0")
    expect(page.locator(".rk-toast", has_text="Kernel restarted")).to_be_visible(timeout=WAIT)
    assert questions and "Restart the kernel" in questions[0]

    # H lists the shortcuts; Esc closes the list and the cell has the focus again.
    cell(page, 1).focus()
    page.keyboard.press("h")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Undo the last delete, cut or merge")
    shot(page, "shortcuts", full_page=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cell(page, 1)).to_be_focused()


def test_kernel_death_is_reported_and_the_new_kernel_knows_the_cells(
        page: Page, server: ServerProcess) -> None:
    """User code kills the kernel: the cell says so, the server restarts the kernel, and
    the server registers every cell in the new kernel's graph, so the next edit marks
    its dependents stale instead of leaving the dead kernel's outputs standing as
    current, and "Run stale" runs them."""
    new_notebook(page, server)
    type_cells(page, ["kd_a = 1", "kd_b = kd_a + 1\nprint('b', kd_b)"])
    expect(output(page, 1)).to_have_text("b 2", timeout=WAIT)
    page.keyboard.type("import os\nos._exit(1)")
    page.keyboard.press("Shift+Enter")
    expect(page.locator(".rk-toast", has_text="kernel died")).to_be_visible(timeout=WAIT)
    expect(badge(page, 2)).to_have_text("error", timeout=WAIT)
    expect(output(page, 2)).to_contain_text("KernelDied", timeout=WAIT)
    expect(page.locator(".rk-toast", has_text="The kernel is back")).to_be_visible(timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    expect(badge(page, 1)).to_be_hidden()  # no state of the old kernel is left
    shot(page, "kernel-died")

    replace_source(page, 0, "kd_a = 5")
    page.keyboard.press("Control+Enter")
    run_stale_cells(page, 1)
    expect(output(page, 1)).to_have_text("b 6", timeout=WAIT)
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    expect(badge(page, 2)).to_have_text("error")  # the new kernel never ran it


def test_a_restarted_server_gives_the_page_a_new_kernel(browser: Browser,
                                                        tmp_path: Path) -> None:
    """The server stops (its kernels with it) and comes back on the same port: the page
    reconnects, finds its kernel gone and gets the notebook a new one; the server
    registers the saved cells there and the page the one it edited since, so the next
    edit cascades again, on the page's code."""
    port = str(free_port())
    first = ServerProcess(tmp_path, "restart-token", "--port", port)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    second: ServerProcess | None = None
    try:
        path = new_notebook(page, first)
        type_cells(page, ["sr_a = 1", "sr_b = sr_a + 1\nprint('b', sr_b)"])
        expect(output(page, 1)).to_have_text("b 2", timeout=WAIT)
        old_kernel = kernel_of(first, path)
        first.stop()
        expect(page.locator("#conn-state")).not_to_have_attribute("data-state", "connected",
                                                                   timeout=WAIT)
        # An edit the file does not have (nothing saves while the server is away): the
        # new kernel must get the page's code, not the file's.
        replace_source(page, 1, "sr_b = sr_a + 2\nprint('b', sr_b)")
        second = ServerProcess(tmp_path, "restart-token", "--port", port)
        wait_current(page)
        assert kernel_of(second, path) != old_kernel
        expect(badge(page, 1)).to_be_hidden()  # no state of the old kernel is left
        replace_source(page, 0, "sr_a = 5")
        page.keyboard.press("Control+Enter")
        run_stale_cells(page, 1)
        expect(output(page, 1)).to_have_text("b 7", timeout=WAIT)
    finally:
        context.close()
        if second is not None:
            second.stop()
        first.stop()
    assert not errors, errors


def test_a_restart_from_another_tab_is_not_reported_as_a_crash(
        page: Page, browser: Browser, server: ServerProcess) -> None:
    """Tab A restarts the kernel while tab B runs a cell: B says the kernel was
    restarted (not that it died), the cell that was running says it did not finish,
    and B's cells are registered in the new kernel."""
    path = new_notebook(page, server)
    type_cells(page, ["rt_a = 1", "rt_b = rt_a + 1\nprint('b', rt_b)",
                      "import time\ntime.sleep(rt_a * 0)"])
    expect(output(page, 1)).to_have_text("b 2", timeout=WAIT)
    wait_saved(page)
    with second_page(browser, server, path) as other:
        replace_source(other, 2, "import time\ntime.sleep(600)")
        other.keyboard.press("Control+Enter")
        expect(badge(other, 2)).to_contain_text("running", timeout=WAIT)
        page.on("dialog", lambda dialog: dialog.accept())
        page.locator("#restart").click()
        expect(other.locator(".rk-toast", has_text="restarted by another tab")).to_be_visible(
            timeout=WAIT)
        expect(other.locator(".rk-toast", has_text="died")).to_have_count(0)
        expect(output(other, 2)).to_contain_text("KernelRestarted", timeout=WAIT)
        expect(badge(other, 2)).to_have_text("error")
        expect(page.locator(".rk-toast", has_text="Kernel restarted")).to_be_visible(
            timeout=WAIT)
        expect(page.locator(".rk-toast", has_text="died")).to_have_count(0)
        expect(other.locator(".rk-toast", has_text="The kernel is back")).to_be_visible(
            timeout=WAIT)
        # The new kernel knows the cells: an edit in B marks its reader stale, in
        # both tabs, and runs it when asked.
        replace_source(other, 0, "rt_a = 7")
        other.keyboard.press("Control+Enter")
        expect(badge(page, 1)).to_have_text("stale", timeout=WAIT)
        run_stale_cells(other, 1)
        expect(output(other, 1)).to_have_text("b 8", timeout=WAIT)
        expect(output(page, 1)).to_have_text("b 8", timeout=WAIT)


def test_a_kernel_shut_down_elsewhere_can_be_replaced(page: Page,
                                                      server: ServerProcess) -> None:
    path = new_notebook(page, server)
    type_cells(page, ["sd_a = 1", "sd_b = sd_a + 1\nprint('b', sd_b)"])
    expect(output(page, 1)).to_have_text("b 2", timeout=WAIT)
    kernel_id = kernel_of(server, path)
    assert rest(server, "DELETE", f"/api/kernels/{kernel_id}")[0] == 204
    banner = page.locator("#banner")
    expect(banner).to_contain_text("The kernel was shut down", timeout=WAIT)
    banner.get_by_role("button", name="Start a new kernel").click()
    expect(banner).to_be_hidden(timeout=WAIT)
    wait_current(page)
    assert kernel_of(server, path) != kernel_id
    replace_source(page, 0, "sd_a = 3")
    page.keyboard.press("Control+Enter")
    run_stale_cells(page, 1)
    expect(output(page, 1)).to_have_text("b 4", timeout=WAIT)


def cut_off(page: Page, link: CuttableLink) -> None:
    """The page's network goes: every connection through the link breaks."""
    link.cut()
    expect(page.locator("#conn-state")).not_to_have_attribute("data-state", "connected",
                                                               timeout=WAIT)


def reconnect(page: Page, link: CuttableLink) -> None:
    """The network is back and the user clicks the connection pill ("Offline · retry
    in ... s") to reconnect now; the page then shows what the kernel knows."""
    link.restore()
    page.locator("#conn-state").click()
    wait_current(page)


def test_a_page_back_from_a_disconnection_catches_up(page: Page, browser: Browser,
                                                     server: ServerProcess) -> None:
    """Cells that ran while a page was disconnected: their outputs come from the file
    if a tab saved them, and otherwise from the server, which keeps what ran since the
    last save (a page never shows the old outputs as current).  The page reaches the
    server through a link that the test breaks, as a dropped network would."""
    path = new_notebook(page, server)
    type_cells(page, ["dc_a = 1", "dc_b = dc_a + 1\nprint('b', dc_b)"])
    expect(output(page, 1)).to_have_text("b 2", timeout=WAIT)
    wait_saved(page)
    link = CuttableLink(server)
    try:
        with second_page(browser, link, path) as other:
            check_catching_up(page, other, link, server, path)
    finally:
        link.close()


def check_catching_up(page: Page, other: Page, link: CuttableLink, server: ServerProcess,
                      path: str) -> None:
    expect(output(other, 1)).to_have_text("b 2", timeout=WAIT)

    # The first page cascades and saves while the other is away.
    cut_off(other, link)
    replace_source(page, 0, "dc_a = 5")
    page.keyboard.press("Control+Enter")
    expect(output(page, 1)).to_have_text("b 6", timeout=WAIT)
    wait_saved(page)
    reconnect(other, link)
    expect(output(other, 1)).to_have_text("b 6", timeout=WAIT)
    expect(cell(other, 0)).to_contain_text("dc_a = 5")

    # A client that saves nothing (a script on the kernel's WebSocket) cascades.
    cut_off(other, link)
    kernel_id = kernel_of(server, path)
    root_id = cell(page, 0).get_attribute("data-cell-id")

    async def script() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            reply = await client.run(execute("dc_a = 9", cell=root_id))
            assert reply["content"]["status"] == "ok"
        finally:
            client.conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, script()).result(timeout=90)
    expect(output(page, 1)).to_have_text("b 10", timeout=WAIT)  # connected: live
    reconnect(other, link)
    # Not saved by anyone: the server replays what ran since the last save.
    expect(output(other, 1)).to_have_text("b 10", timeout=WAIT)

    # Away while its own cell runs: the cell's output is known to be incomplete.
    replace_source(other, 1, "import time\ndc_b = dc_a + 1\nprint('b', dc_b)\n"
                   "time.sleep(1.5)\nprint('done')")
    other.keyboard.press("Control+Enter")
    expect(output(other, 1)).to_contain_text("b 10", timeout=WAIT)
    cut_off(other, link)
    expect(output(page, 1)).to_contain_text("done", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    reconnect(other, link)
    expect(output(other, 1)).to_have_text("b 10\ndone", timeout=WAIT)
    expect(badge(other, 1)).not_to_contain_text("running")
    # Nothing of the request cut short is left waiting: the next run of that cell
    # shows its own output, complete.
    replace_source(other, 1, "dc_b = dc_a + 1\nprint('b', dc_b)")
    other.keyboard.press("Control+Enter")
    expect(output(other, 1)).to_have_text("b 10", timeout=WAIT)
    expect(badge(other, 1)).to_contain_text("ok", timeout=WAIT)

    # Away while the kernel is restarted: the page finds a new kernel session, and
    # the new kernel has its cells.
    cut_off(other, link)
    assert rest(server, "POST", f"/api/kernels/{kernel_id}/restart")[0] == 200
    link.restore()
    other.locator("#conn-state").click()
    expect(other.locator(".rk-toast", has_text="restarted while this page was disconnected")
           ).to_be_visible(timeout=WAIT)
    wait_current(other)
    replace_source(other, 0, "dc_a = 20")
    other.keyboard.press("Control+Enter")
    run_stale_cells(other, 1)
    expect(output(other, 1)).to_contain_text("b 21", timeout=WAIT)

    # A page that saw every run live misses nothing when it reconnects.
    expect(other.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    expect(other.locator(".rk-toast", has_text="were not received")).to_have_count(0,
                                                                                    timeout=WAIT)
    cut_off(other, link)
    reconnect(other, link)
    expect(output(other, 1)).to_have_text("b 21")
    expect(other.locator(".rk-toast", has_text="were not received")).to_have_count(0)


def test_a_page_is_told_which_outputs_the_server_could_not_keep(
        browser: Browser, tmp_path: Path) -> None:
    """Cells ran from a script (which saves nothing) while no page was open; the
    server keeps at most --replay-limit bytes of their output, so the page that opens
    then shows the newer outputs it kept and says which cell's output it lost, rather
    than show that cell's older output from the file as current."""
    server = ServerProcess(tmp_path, "replay-token", "--replay-limit", "3000")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        first = context.new_page()
        open_code_notebook(first, server, "lost.ipynb", [
            "lo_a = 'a' * 1500\nprint(lo_a)",
            "lo_b = 'b' * 1500\nprint(lo_b)", "print('a is', lo_a[:3])"])
        first.close()  # the page started the notebook's kernel; it goes on without it
        kernel_id = kernel_of(server, "lost.ipynb")

        async def script() -> None:
            client = await WSClient.connect(server, kernel_id)
            try:
                for cell_id, code in [("lost0", "lo_a = 'A' * 1500\nprint(lo_a)"),
                                      ("lost1", "lo_b = 'B' * 1500\nprint(lo_b)"),
                                      ("lost2", "print('a is', lo_a[:3])")]:
                    reply = await client.run(execute(code, cell=cell_id))
                    assert reply["content"]["status"] == "ok"
            finally:
                client.conn.close()

        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, script()).result(timeout=90)
        page = context.new_page()
        open_notebook(page, server, "lost.ipynb")
        expect(output(page, 1)).to_contain_text("BBBBBBBB", timeout=WAIT)
        expect(output(page, 2)).to_have_text("a is AAA")
        # Cell 0's 1.5 kB went first: the page says its output is missing.
        expect(output(page, 0)).to_contain_text("ran while this page was disconnected")
        expect(output(page, 0)).not_to_contain_text("AAA")
        expect(page.locator(".rk-toast", has_text="their outputs were not received")
               ).to_be_visible(timeout=WAIT)
    finally:
        context.close()
        server.stop()


def test_redefinitions_follow_the_notebook_order(page: Page, server: ServerProcess) -> None:
    """The page sends the notebook order: a cell inserted in the middle that
    redefines a name feeds the cells below it, and moving it below them gives
    them back the first definition (they re-run by themselves)."""
    new_notebook(page, server)
    type_cells(page, ["nb_a = 1", "print('a is', nb_a)"])
    expect(output(page, 1)).to_have_text("a is 1", timeout=WAIT)
    cell(page, 1).focus()
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # a new cell above the reader
    expect(page.locator(".rk-cell")).to_have_count(4)
    page.keyboard.press("Enter")  # edit mode
    page.keyboard.type("nb_a = 2")
    page.keyboard.press("Control+Enter")
    expect(output(page, 2)).to_have_text("a is 2", timeout=WAIT)
    expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)
    cell(page, 1).get_by_role("button", name="Move cell down").click()
    expect(cell(page, 2)).to_contain_text("nb_a = 2")
    expect(output(page, 1)).to_have_text("a is 1", timeout=WAIT)
    expect(cell(page, 1)).to_have_class(re.compile(r"\brk-reran\b"), timeout=WAIT)
    shot(page, "order-move")
    # Deleting a definer (or making it Markdown) re-runs its readers at once, with
    # the definition above it, or fails them: no result stays that the notebook no
    # longer gives, and nothing else has to run first.
    cell(page, 2).get_by_role("button", name="Move cell up").click()
    expect(output(page, 2)).to_have_text("a is 2", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    cell(page, 1).focus()
    page.keyboard.press("d")
    page.keyboard.press("d")
    expect(page.locator(".rk-cell")).to_have_count(3)
    expect(output(page, 1)).to_have_text("a is 1", timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    cell(page, 0).focus()
    page.keyboard.press("m")
    expect(output(page, 1)).to_contain_text("NameError", timeout=WAIT)


def test_cell_states_are_the_kernels_for_runs_the_page_did_not_ask_for(
        page: Page, server: ServerProcess) -> None:
    """Another client (a script on the kernel's WebSocket) edits the root: the page
    shows what the kernel publishes on its comm, with no request of its own: the slow
    cell running while it runs, the failure, the skip naming its upstream cell, the new
    execution count of the edited cell, and which cells re-ran."""
    path = new_notebook(page, server)
    type_cells(page, ["ks_w = 1", "import time\ntime.sleep(ks_w)\nks_v = ks_w",
                      "ks_u = 1 / (ks_v - 2)", "ks_t = ks_u"])
    expect(badge(page, 3)).to_contain_text("ok", timeout=WAIT)
    status, started = rest(server, "POST", f"/api/notebooks/{path}/kernel", {})
    assert status == 200, started
    kernel_id = started["kernel"]["id"]
    root_id = cell(page, 0).get_attribute("data-cell-id")
    count_before = cell(page, 0).locator(".rk-prompt").text_content()

    async def script() -> None:
        client = await WSClient.connect(server, kernel_id)
        try:
            reply = await client.run(execute("ks_w = 2", cell=root_id), timeout=60)
            assert reply["content"]["status"] == "ok"
        finally:
            client.conn.close()

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(asyncio.run, script())
        expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
        done.result(timeout=90)
    expect(badge(page, 2)).to_have_text("error", timeout=WAIT)
    expect(output(page, 2)).to_contain_text("ZeroDivisionError", timeout=WAIT)
    expect(badge(page, 3)).to_have_text(re.compile(r"^skipped — upstream (\[\d+\]|#3) failed$"),
                                        timeout=WAIT)
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    expect(cell(page, 0).locator(".rk-prompt")).not_to_have_text(count_before or "", timeout=WAIT)
    expect(cell(page, 0)).to_have_class(re.compile(r"\brk-trigger\b"), timeout=WAIT)
    expect(cell(page, 1)).to_have_class(re.compile(r"\brk-reran\b"), timeout=WAIT)
    # The source on the page is the page's: only the run states and outputs followed.
    expect(cell(page, 0)).to_contain_text("ks_w = 1")


def test_dataframes_render_inline_and_active_html_fits_its_frame(
        page: Page, server: ServerProcess) -> None:
    """A DataFrame is a styled table in the page (pandas' scoped style dropped), as
    tall as its rows; HTML with a script runs in a sandboxed frame as tall as its
    content (a tall one is capped and scrolls)."""
    new_notebook(page, server)
    type_cells(page, [
        "import pandas as pd\npd.DataFrame({'x': [1, 2, 3], 'y': ['a', 'b', 'c']})",
        "from IPython.display import HTML\n"
        "HTML(\"<div id='h' style='height:60px'>before</div>"
        "<script>document.getElementById('h').textContent = 'from the script'</script>\")",
        "HTML(\"<div style='height:5000px'>tall</div><script>1</script>\")",
        "HTML(\"<p id='p'>?</p><script>var r; try { r = parent.document.title } "
        "catch (e) { r = 'blocked' } document.getElementById('p').textContent = r</script>\")",
    ])
    table = output(page, 0).locator(".rk-html table")
    expect(table).to_be_visible(timeout=WAIT)
    expect(output(page, 0).locator("iframe")).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(3)
    assert table.get_attribute("border") is None  # pandas' border="1" is not kept
    box = output(page, 0).bounding_box()
    assert box is not None and box["height"] < 160, box  # no empty area under 3 rows
    frame = output(page, 1).locator("iframe.rk-html-frame")
    expect(frame).to_have_attribute("sandbox", "allow-scripts")
    expect(page.frame_locator(".rk-cell >> nth=1 >> iframe").locator("#h")).to_have_text(
        "from the script", timeout=WAIT)
    expect(frame).to_have_attribute("style", re.compile(r"height: 6\dpx"), timeout=WAIT)
    tall = output(page, 2).locator("iframe.rk-html-frame")
    expect(tall).to_have_attribute("style", re.compile(r"height: 1200px"), timeout=WAIT)
    expect(tall).to_have_class(re.compile(r"\brk-frame-capped\b"))
    # The frame's scripts cannot reach the page (nor its token).
    expect(page.frame_locator(".rk-cell >> nth=3 >> iframe").locator("#p")).to_have_text(
        "blocked", timeout=WAIT)
    shot(page, "dataframe-and-frames")


def test_a_page_reloaded_during_a_cascade_shows_what_the_kernel_did(
        page: Page, browser: Browser, server: ServerProcess) -> None:
    # The third cell takes 30 s once x changes: the page reloads while it runs.
    open_code_notebook(page, server, "reload-mid.ipynb", [
        "x = 1",
        "y = x + 1\nprint('y', y)",
        "import time\ntime.sleep(0.01 if y < 3 else 30)\nz = y * 10\nprint('z', z)",
    ])
    cell(page, 0).locator(".cm-content").click()
    for _ in range(3):
        page.keyboard.press("Shift+Enter")
    expect(output(page, 2)).to_have_text("z 20", timeout=WAIT)
    wait_saved(page)

    replace_source(page, 0, "x = 3")
    page.keyboard.press("Control+Enter")
    expect(output(page, 1)).to_have_text("y 4", timeout=WAIT)  # the cascade is in cell 3
    page.reload()
    # The page is usable at once, not when the kernel is done (the file it loads still
    # says `y 2`: the server replays what ran since the last save).
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=10_000)
    expect(output(page, 1)).to_have_text("y 4", timeout=10_000)
    expect(page.locator("#kernel-state")).to_have_text("Busy", timeout=10_000)
    # The kernel answers the reloaded page's comm at once, not when the run ends: the
    # cell still running says so, the one before it is done.
    expect(badge(page, 2)).to_contain_text("running", timeout=10_000)
    expect(badge(page, 1)).to_contain_text("ok", timeout=10_000)
    # A tab opened now gets the same.
    with second_page(browser, server, "reload-mid.ipynb") as other:
        expect(output(other, 1)).to_have_text("y 4", timeout=10_000)
    page.locator("#interrupt").click()
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    expect(badge(page, 2)).to_have_text(re.compile("interrupted"), timeout=WAIT)
    expect(output(page, 1)).to_have_text("y 4")
    expect(badge(page, 1)).to_contain_text("ok")


def test_input_help_and_clearing_outputs_work_as_in_jupyterlab(page: Page,
                                                               server: ServerProcess) -> None:
    path = new_notebook(page, server)
    # A new notebook's cell takes typing at once (no click first).
    page.keyboard.type("who = input('name? ')\nprint('hello', who)")
    page.keyboard.press("Shift+Enter")
    # input(): a box under the cell; the answer goes back to the kernel.
    field = cell(page, 0).locator(".rk-stdin-field")
    expect(field).to_be_visible(timeout=WAIT)
    field.fill("Ada")
    field.press("Enter")
    expect(output(page, 0)).to_have_text("name? Ada\nhello Ada", timeout=WAIT)
    expect(field).to_have_count(0)
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)

    # `len?`: IPython's help text (sent with the reply) shows under the cell.
    page.keyboard.type("len?")
    page.keyboard.press("Shift+Enter")
    expect(output(page, 1)).to_contain_text("Return the number of items", timeout=WAIT)
    # Shift+Tab inside a call's parentheses: the help of the function called.
    page.keyboard.type("print(len([1, 2]))")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Shift+Tab")
    expect(cell(page, 2).locator(".rk-inspect")).to_contain_text(
        "Return the number of items", timeout=WAIT)

    # Clear outputs: one cell, then all; the file loses them at the next save.
    cell(page, 0).locator("button[aria-label='Clear outputs']").click()
    expect(output(page, 0)).to_have_text("")
    expect(output(page, 1)).not_to_have_text("")
    page.locator("#clear-all").click()
    expect(output(page, 1)).to_have_text("")
    page.keyboard.press("Control+s")
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert [c["outputs"] for c in saved["cells"][:2]] == [[], []]

    # Shift+M in command mode merges the cell below into the selected one.
    cell(page, 1).locator(".rk-gutter").click()
    page.keyboard.press("Shift+M")
    expect(page.locator(".rk-cell")).to_have_count(2)
    expect(cell(page, 1).locator(".cm-content, .rk-static-content").first).to_contain_text(
        "len?")
    expect(cell(page, 1)).to_contain_text("print(len([1, 2]))")

    # The token stays with this browser: the notebook's address without it works.
    page.goto(f"{server.base}/notebooks/{path}")
    expect(page.locator("body[data-ready]")).to_have_count(1, timeout=WAIT)
    expect(cell(page, 0)).to_contain_text("who = input")
    # The outputs cleared and saved seconds after they ran do not come back with the
    # server's replay of recent outputs.
    expect(page.locator("#conn-state")).to_have_attribute("data-state", "connected",
                                                          timeout=WAIT)
    expect(output(page, 0)).to_have_text("")


def test_the_title_renames_the_notebook(page: Page, server: ServerProcess) -> None:
    path = new_notebook(page, server)
    page.locator("#nb-title").click()
    field = page.locator(".rk-title-field")
    expect(field).to_be_focused()
    field.fill("renamed from title")
    field.press("Enter")
    expect(page.locator("#nb-title")).to_have_text("renamed from title.ipynb", timeout=WAIT)
    assert (server.root / "renamed from title.ipynb").exists()
    assert not (server.root / path).exists()
    expect(page).to_have_url(re.compile(r"/notebooks/renamed%20from%20title\.ipynb"))
    # Escape leaves it as it is.
    page.locator("#nb-title").click()
    page.locator(".rk-title-field").fill("other")
    page.locator(".rk-title-field").press("Escape")
    expect(page.locator("#nb-title")).to_have_text("renamed from title.ipynb")
    assert not (server.root / "other.ipynb").exists()


def test_another_tabs_edit_is_taken_or_kept_in_conflict_never_saved_over(
        page: Page, browser: Browser, server: ServerProcess) -> None:
    """A cell whose editor has the focus but no edits of its own takes the text another
    tab saved; one with edits not saved yet keeps them, and the page is in conflict:
    nothing is saved over the other tab's edit until the user chooses."""
    path = "tabs-edit.ipynb"
    open_code_notebook(page, server, path, ["limit = 10", "print('under', limit)", "note = 'x'"])
    state = page.locator("#save-state")
    banner = page.locator("#banner")
    cell(page, 0).locator(".cm-content").click()  # the caret there, nothing typed
    expect(state).to_have_attribute("data-state", "saved")

    def sources() -> list[str]:
        saved = json.loads((server.root / path).read_text())
        return ["".join(c["source"]) for c in saved["cells"]]

    with second_page(browser, server, path) as other:
        replace_source(other, 0, "limit = 99")
        other.keyboard.press("Control+s")
        wait_saved(other)
        expect(cell(page, 0).locator(".cm-content")).to_have_text("limit = 99", timeout=WAIT)
        expect(state).to_have_attribute("data-state", "saved")
        replace_source(page, 2, "note = 'mine'")
        page.keyboard.press("Control+s")
        wait_saved(page)
        expect(banner).to_be_hidden()
        assert sources() == ["limit = 99", "print('under', limit)", "note = 'mine'"]

        # This page types into cell 0 while it fetches the other tab's next save.
        held: list[Any] = []
        page.route(f"**/api/notebooks/{path}", lambda route: held.append(route)
                   if route.request.method == "GET" else route.fallback())
        with page.expect_request(lambda r: r.method == "GET" and r.url.endswith(path)):
            replace_source(other, 0, "limit = 7")
            other.keyboard.press("Control+s")
        cell(page, 0).locator(".cm-content").click()
        page.keyboard.press("End")
        page.keyboard.type("  # mine")
        wait_held(page, held)
        held[0].continue_()
        page.unroute(f"**/api/notebooks/{path}")
        expect(banner).to_contain_text("changed cell #1", timeout=WAIT)
        expect(state).to_have_attribute("data-state", "conflict")
        expect(cell(page, 0).locator(".cm-content")).to_have_text("limit = 99  # mine")
        expect(cell(page, 2).locator(".cm-content")).to_have_text("note = 'mine'")
        page.keyboard.press("Control+s")  # refused: the file is the other tab's
        expect(banner).to_contain_text("changed", timeout=WAIT)
        expect(state).to_have_attribute("data-state", "conflict")
        assert sources()[0] == "limit = 7"
        shot(page, "tab-conflict", full_page=False)
        banner.get_by_role("button", name="Overwrite with mine").click()
        wait_saved(page)
        assert sources() == ["limit = 99  # mine", "print('under', limit)", "note = 'mine'"]


def test_edits_are_autosaved_two_minutes_after_the_first_unsaved_one(
        page: Page, server: ServerProcess) -> None:
    """Nothing run: the edits are saved 120 s after the first of them (JupyterLab's
    autosave interval), on the page's clock; never over a file changed elsewhere."""
    page.clock.install()
    path = "autosave-edits.ipynb"
    open_code_notebook(page, server, path, ["a = 1"])
    state = page.locator("#save-state")
    replace_source(page, 0, "a = 'typed, never run'")
    page.locator("#add-md").click()
    page.keyboard.type("## notes")
    page.keyboard.press("Escape")
    expect(state).to_have_attribute("data-state", "dirty")
    page.clock.fast_forward(100_000)
    expect(state).to_have_attribute("data-state", "dirty")
    page.clock.fast_forward(21_000)
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert ["".join(c["source"]) for c in saved["cells"]] == ["a = 'typed, never run'", "## notes"]

    # Another program rewrites the file: the next autosave is refused, the page says so
    # and keeps its edits; the file keeps the other program's.
    saved["cells"][0]["source"] = "a = 'theirs'"
    (server.root / path).write_text(json.dumps(saved))
    replace_source(page, 0, "a = 'mine'")
    page.clock.fast_forward(121_000)
    expect(page.locator("#banner")).to_contain_text("changed on disk", timeout=WAIT)
    expect(state).to_have_attribute("data-state", "conflict")
    expect(cell(page, 0).locator(".cm-content")).to_have_text("a = 'mine'")
    saved = json.loads((server.root / path).read_text())
    assert "".join(saved["cells"][0]["source"]) == "a = 'theirs'"


def test_run_stale_saves_the_outputs_it_made(page: Page, server: ServerProcess) -> None:
    path = "stale-saved.ipynb"
    open_code_notebook(page, server, path, ["st_a = 1", "print('a is', st_a)"])
    page.locator("#run-all").click()
    expect(output(page, 1)).to_have_text("a is 1", timeout=WAIT)
    lazy_edit_of_the_first_cell(page, "st_a = 2")
    wait_saved(page)
    page.locator("#run-stale").click()
    expect(output(page, 1)).to_have_text("a is 2", timeout=WAIT)
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert "a is 2" in json.dumps(saved["cells"][1]["outputs"])


def test_a_jupyterlab_notebook_shows_its_attachments_and_raw_cells(
        page: Page, server: ServerProcess) -> None:
    """Images pasted into a Markdown cell in JupyterLab travel in the cell's
    attachments: shown from there (only images, as data: URLs). A raw cell says Raw
    and is not highlighted as Python."""
    path = "lab-attachments.ipynb"
    png = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJR"
           "U5ErkJggg==")
    status, model = rest(server, "POST", "/api/notebooks", {"path": path})
    assert status == 201
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"id": "md", "cell_type": "markdown", "metadata": {},
         "source": "![red dot](attachment:red.png)\n\n"
                   "<img src=\"attachment:pasted.png\" alt=\"html\">\n\n"
                   "![a page](attachment:page.html)",
         "attachments": {"red.png": {"image/png": png}, "pasted.png": {"image/png": png},
                         "page.html": {"text/html": "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="}}},
        {"id": "code", "cell_type": "code", "metadata": {}, "source": "import os",
         "outputs": [], "execution_count": None},
        {"id": "raw", "cell_type": "raw", "metadata": {}, "source": "import os"}]}
    status, _ = rest(server, "PUT", f"/api/notebooks/{path}",
                     {"notebook": notebook, "version": model["version"]})
    assert status == 200
    open_notebook(page, server, path)
    images = cell(page, 0).locator(".rk-md-view img")
    expect(images).to_have_count(2)
    for i in range(2):
        expect(images.nth(i)).to_have_attribute("src", f"data:image/png;base64,{png}")
        expect(images.nth(i)).to_have_js_property("naturalWidth", 1)
    expect(cell(page, 0).locator(".rk-img-alt")).to_have_text("a page")  # not an image
    expect(cell(page, 1).locator(".rk-lang")).to_have_text("Python")
    expect(cell(page, 1).locator(".rk-input span").first).to_be_attached()  # highlighted
    expect(cell(page, 2).locator(".rk-lang")).to_have_text("Raw")
    expect(cell(page, 2)).to_have_attribute("aria-label", "Cell 3, Raw")
    expect(cell(page, 2).locator(".rk-input")).to_contain_text("import os")
    expect(cell(page, 2).locator(".rk-input span")).to_have_count(0)
    shot(page, "attachments-raw", full_page=False)


def test_the_next_cell_stays_in_sight_while_output_above_it_grows(
        page: Page, server: ServerProcess) -> None:
    """Shift+Enter moves on while the cell runs; its output, arriving above the next
    cell, must not push that cell below the window. A user who scrolls away keeps
    the place they scrolled to."""
    fillers = [f"f{i} = {i}\n" + "\n".join(f"# line {k}" for k in range(5)) for i in range(6)]
    slow = "import time\ntime.sleep(0.5)\nprint('\\n'.join(map(str, range(30))))"
    open_code_notebook(page, server, "in-sight.ipynb", [*fillers, slow, "after = 1"])
    in_sight = """() => {
        const r = document.querySelectorAll('.rk-cell')[7].querySelector('.rk-input')
            .getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight;
    }"""
    # The last cell's input just above the bottom of the window, the slow cell above it.
    page.evaluate("""() => {
        const r = document.querySelectorAll('.rk-cell')[7].querySelector('.rk-input')
            .getBoundingClientRect();
        scrollBy(0, r.bottom - innerHeight + 12);
    }""")
    assert page.evaluate(in_sight)
    cell(page, 6).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    expect(cell(page, 7).locator(".rk-key-catcher")).to_be_focused()
    expect(output(page, 6)).to_contain_text("29", timeout=WAIT)
    page.wait_for_function(in_sight, timeout=2000)
    shot(page, "next-cell-in-sight", full_page=False)

    # Again, but the user scrolls up to the top while the cell runs: the page stays there.
    cell(page, 6).locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    expect(output(page, 6)).to_have_text("")
    page.mouse.move(400, 400)
    page.mouse.wheel(0, -5000)
    page.wait_for_function("() => scrollY < 50", timeout=5000)
    expect(output(page, 6)).to_contain_text("29", timeout=WAIT)
    after_frames = """() => new Promise((done) =>
        requestAnimationFrame(() => requestAnimationFrame(() => done(scrollY))))"""
    assert page.evaluate(after_frames) < 50


def test_a_notebook_deleted_while_open_can_be_saved_again(page: Page,
                                                          server: ServerProcess) -> None:
    path = "deleted-open.ipynb"
    open_code_notebook(page, server, path, ["kept = 'work'"])
    assert rest(server, "DELETE", f"/api/notebooks/{path}")[0] == 204
    banner = page.locator("#banner")
    expect(banner).to_contain_text("This notebook was deleted on disk", timeout=WAIT)
    expect(banner).not_to_contain_text("kernel")
    replace_source(page, 0, "kept = 'more work'")
    # Its kernel went with it: a run says so at once, nothing waits queued for ever.
    page.keyboard.press("Control+Enter")
    expect(page.locator(".rk-toast-error")).to_contain_text("Nothing ran", timeout=WAIT)
    expect(badge(page, 0)).not_to_contain_text("queued")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_text("Not saved (deleted on disk)", timeout=WAIT)
    expect(banner).to_contain_text("deleted on disk")
    assert not (server.root / path).exists()
    shot(page, "deleted-open", full_page=False)
    banner.get_by_role("button", name="Save to recreate it").click()
    wait_saved(page)
    saved = json.loads((server.root / path).read_text())
    assert "".join(saved["cells"][0]["source"]) == "kept = 'more work'"
    # Its kernel went with it: a new one, and the cell runs there.
    expect(banner).to_be_hidden(timeout=WAIT)
    wait_current(page)
    cell(page, 0).locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)


def test_merge_run_all_undo_and_edited_marks_keep_top_to_bottom(
        page: Page, server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: Shift+M dropped the lower cell's
    definitions before the merged code ran (the reader below failed with NameError);
    Run all ran a cell inserted (not run) in the middle last; Z after D,D ran a cell
    of a saved notebook that never ran in this kernel; and a cell edited since it ran
    showed a cascade's output of its old code with nothing to say so."""
    path = new_notebook(page, server)
    type_cells(page, ["mg_a = 1", "mg_b = 2", "print('sum', mg_a + mg_b)"])
    expect(output(page, 2)).to_have_text("sum 3", timeout=WAIT)
    # Shift+M on the first cell: the reader keeps its value until the merged cell runs,
    # and after that run, reads it from the merged cell.
    cell(page, 0).focus()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+M")
    expect(page.locator(".rk-cell")).to_have_count(3)
    expect(cell(page, 0)).to_contain_text("mg_b = 2")
    # Z undoes the merge: both cells as they were (no code twice).
    page.keyboard.press("z")
    expect(page.locator(".rk-cell")).to_have_count(4)
    expect(cell(page, 0).locator(".cm-content, .rk-code-view").first).to_have_text("mg_a = 1")
    expect(cell(page, 1)).to_contain_text("mg_b = 2")
    cell(page, 0).focus()
    page.keyboard.press("Shift+M")
    expect(page.locator(".rk-cell")).to_have_count(3)
    expect(cell(page, 0).locator(".rk-edited-note")).to_be_visible()
    cell(page, 0).focus()
    page.keyboard.press("Shift+Enter")
    expect(output(page, 1)).to_have_text("sum 3", timeout=WAIT)
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    expect(cell(page, 0).locator(".rk-edited-note")).to_be_hidden()
    # A cell edited without running it: a cascade re-runs its old code, and it says so.
    replace_source(page, 1, "print('total', mg_a + mg_b)")
    expect(cell(page, 1).locator(".rk-edited-note")).to_be_visible()
    replace_source(page, 0, "mg_a = 10\nmg_b = 2")
    page.keyboard.press("Control+Enter")
    expect(output(page, 1)).to_have_text("sum 12", timeout=WAIT)
    expect(cell(page, 1).locator(".rk-edited-note")).to_be_visible()
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(output(page, 1)).to_have_text("total 12", timeout=WAIT)
    expect(cell(page, 1).locator(".rk-edited-note")).to_be_hidden()
    # Run all leaves the empty cell at the end alone (no count), as JupyterLab does.
    # (Run all sends its requests at once: an empty cell run would be queued with them.)
    expect(page.locator(".rk-cell")).to_have_count(3)
    count = cell(page, 1).locator(".rk-prompt").inner_text()
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(cell(page, 1).locator(".rk-prompt")).not_to_have_text(count, timeout=WAIT)
    expect(output(page, 1)).to_have_text("total 12", timeout=WAIT)
    expect(badge(page, 2)).to_be_hidden()
    expect(cell(page, 2).locator(".rk-prompt")).to_have_text("[ ]")
    page.keyboard.press("Control+s")
    wait_saved(page)

    # Run all with a cell inserted in the middle and typed, not run: it runs in its place.
    open_code_notebook(page, server, "mg_runall.ipynb",
                       ["ra2_a = 1", "print('a is', ra2_a)"])
    cell(page, 0).focus()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    expect(page.locator(".rk-cell")).to_have_count(3)
    cell(page, 1).locator(".cm-content").click()
    page.keyboard.type("ra2_a = 5")
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(output(page, 2)).to_have_text("a is 5", timeout=WAIT)

    # D,D then Z on a saved cell that never ran in this kernel: it comes back, not run.
    # (A run would be sent on the reply to the registration, before the reply to the
    # second cell's run, which the page then shows.)
    open_code_notebook(page, server, "mg_undo.ipynb", ["print('never ran')", "print('after')"])
    cell(page, 0).focus()
    page.keyboard.press("Escape")
    page.keyboard.press("d")
    page.keyboard.press("d")
    page.keyboard.press("z")
    expect(cell(page, 0)).to_contain_text("print('never ran')")
    cell(page, 1).focus()
    page.keyboard.press("Shift+Enter")
    expect(output(page, 1)).to_have_text("after", timeout=WAIT)
    expect(badge(page, 0)).to_be_hidden()
    expect(output(page, 0)).not_to_contain_text("never ran")
    assert path


def test_a_cell_deleted_in_another_tab_runs_in_its_place(
        page: Page, browser: Browser, server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: tab 1 deletes ``a = 2``; tab 2, which
    still has it, runs it; the kernel had put it after every cell it knew, so the
    reader below it in tab 2 kept ``a is 1``.  A page running a cell the kernel does
    not know sends its order first."""
    open_code_notebook(page, server, "tt_del.ipynb",
                       ["tt_a = 1", "tt_a = 2", "print('a is', tt_a)"])
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(output(page, 2)).to_have_text("a is 2", timeout=WAIT)
    with second_page(browser, server, "tt_del.ipynb") as other:
        expect(output(other, 2)).to_have_text("a is 2", timeout=WAIT)
        cell(page, 1).focus()
        page.keyboard.press("Escape")
        page.keyboard.press("d")
        page.keyboard.press("d")
        expect(output(page, 1)).to_have_text("a is 1", timeout=WAIT)
        expect(output(other, 2)).to_have_text("a is 1", timeout=WAIT)
        cell(other, 1).locator(".cm-content").click()
        other.keyboard.press("Control+Enter")
        expect(output(other, 2)).to_have_text("a is 2", timeout=WAIT)


def test_edited_mark_follows_the_code_the_kernel_holds(page: Page, server: ServerProcess) -> None:
    """The "edited" mark compares the editor with the code the kernel holds for the cell
    (its published code_hash), not with what this page last sent: a refused edit keeps
    the code that ran, and a page reloaded after saving an edit it never ran marks it."""
    open_code_notebook(page, server, "edited_mark.ipynb", ["em_a = 1", "em_b = em_a + 1"])
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
    note = cell(page, 0).locator(".rk-edited-note")
    expect(note).to_be_hidden()
    # Refused (a cycle): the kernel keeps em_a = 1, which cascades re-run.
    replace_source(page, 0, "em_a = em_b")
    page.keyboard.press("Control+Enter")
    expect(output(page, 0)).to_contain_text("CycleError", timeout=WAIT)
    expect(note).to_be_visible()
    # Back to the code the kernel holds: not edited, without running it.
    replace_source(page, 0, "em_a = 1")
    expect(note).to_be_hidden()
    # Edited, saved, never run: the reloaded page marks it too.
    replace_source(page, 0, "em_a = 7")
    page.keyboard.press("Control+s")
    wait_saved(page)
    open_notebook(page, server, "edited_mark.ipynb")
    expect(cell(page, 0)).to_contain_text("em_a = 7")
    expect(cell(page, 0).locator(".rk-edited-note")).to_be_visible(timeout=WAIT)
    expect(cell(page, 1).locator(".rk-edited-note")).to_be_hidden()
    cell(page, 0).locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(cell(page, 0).locator(".rk-edited-note")).to_be_hidden(timeout=WAIT)


def test_code_run_is_saved_when_the_run_starts(page: Page, server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: a page reloaded while an edited cell's
    cascade ran showed the old code above the new outputs (the code was saved only at
    the run's end).  New code is saved as its run starts."""
    open_code_notebook(page, server, "rl_save.ipynb",
                       ["rl_a = 1", "import time\ntime.sleep(0.5 * rl_a)\nprint('three', rl_a)"])
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(output(page, 1)).to_have_text("three 1", timeout=WAIT)
    replace_source(page, 0, "rl_a = 6")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
    wait_saved(page)  # during the cascade (the reader sleeps 3 s)
    expect(badge(page, 1)).to_contain_text("running")
    open_notebook(page, server, "rl_save.ipynb")
    expect(cell(page, 0)).to_contain_text("rl_a = 6")
    expect(output(page, 1)).to_have_text("three 6", timeout=WAIT)


def test_unsaved_edits_of_other_cells_take_another_tabs_save_cell_by_cell(
        page: Page, browser: Browser, server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: a page with unsaved edits of one cell
    offered only a whole-file choice when another tab saved an edit of another cell,
    and "Keep mine and save" wrote the other tab's cell back to its old text.  The
    page takes the other tab's cells that it did not edit, keeps its own edits, and
    its save keeps both."""
    path = "tabs-merge.ipynb"
    open_code_notebook(page, server, path, ["tm_a = 1", "print('a', tm_a)", "tm_c = 3"])

    def sources() -> list[str]:
        saved = json.loads((server.root / path).read_text())
        return ["".join(c["source"]) for c in saved["cells"]]

    with second_page(browser, server, path) as other:
        replace_source(page, 2, "tm_c = 'mine'")
        expect(page.locator("#save-state")).to_have_attribute("data-state", "dirty")
        replace_source(other, 0, "tm_a = 'theirs'")
        other.keyboard.press("Control+s")
        wait_saved(other)
        expect(cell(page, 0).locator(".cm-content")).to_have_text("tm_a = 'theirs'",
                                                                  timeout=WAIT)
        expect(page.locator("#banner")).to_be_hidden()
        expect(cell(page, 2).locator(".cm-content")).to_have_text("tm_c = 'mine'")
        page.keyboard.press("Control+s")
        wait_saved(page)
        assert sources() == ["tm_a = 'theirs'", "print('a', tm_a)", "tm_c = 'mine'"]


def test_lazy_mode_carries_over_a_restart(page: Page, server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: after a restart the switch said Auto
    again (a new kernel starts in auto mode).  The mode chosen on the page carries over."""
    new_notebook(page, server)
    type_cells(page, ["lz_a = 1", "print('a', lz_a)"])
    expect(output(page, 1)).to_have_text("a 1", timeout=WAIT)
    page.locator("#mode-switch").click()
    expect(page.locator("#mode-label")).to_have_text("Lazy", timeout=WAIT)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#restart").click()
    expect(page.locator(".rk-toast", has_text="Kernel restarted")).to_be_visible(timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_text("Idle", timeout=WAIT)
    expect(page.locator("#mode-label")).to_have_text("Lazy", timeout=WAIT)
    # The kernel is lazy: an edit marks its reader stale instead of running it.
    replace_source(page, 0, "lz_a = 2")
    page.keyboard.press("Control+Enter")
    expect(badge(page, 1)).to_have_text("stale", timeout=WAIT)


def test_command_keys_work_after_a_toolbar_button(page: Page, server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: after a click on a toolbar button the
    focus stayed on it and B did nothing.  The selected cell takes the keys again."""
    new_notebook(page, server)
    type_cells(page, ["tb_a = 1"])
    expect(page.locator(".rk-cell")).to_have_count(2)
    # (The run's end hands the editor to the next cell: after that, not during the click.)
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    expect(cell(page, 1).locator(".cm-content")).to_be_focused(timeout=WAIT)
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    page.keyboard.press("b")
    expect(page.locator(".rk-cell")).to_have_count(3)


def test_arrow_keys_move_between_cells_from_the_editor(page: Page,
                                                       server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: ArrowDown on an editor's last line (and
    ArrowUp on its first) stayed in the cell; JupyterLab goes on to the next cell."""
    new_notebook(page, server)
    type_cells(page, ["ar_a = 1\nar_b = 2", "ar_c = 3"])
    cell(page, 0).locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    page.keyboard.press("ArrowDown")  # second line: still the first cell
    page.keyboard.press("ArrowDown")  # last line: the next cell, at its start
    page.keyboard.type("# ")
    expect(cell(page, 1).locator(".cm-content")).to_have_text("# ar_c = 3")
    page.keyboard.press("ArrowUp")  # its only line: back to the first cell, at its end
    page.keyboard.type("  # end")
    expect(cell(page, 0).locator(".cm-content")).to_contain_text("ar_b = 2  # end")


def test_download_upload_and_shut_down_from_the_pages(page: Page, server: ServerProcess,
                                                      tmp_path: Path) -> None:
    """Found by the web UI's exploratory test: no way to get an .ipynb out of the page or
    into the list, and no way to shut a notebook's kernel down (69 kernels stayed up
    after opening 69 notebooks).  Download gives the page's notebook; Upload saves each
    file under its name (a taken name gets " (1)"); Shut down ends the kernel."""
    open_code_notebook(page, server, "dl_nb.ipynb", ["dl_a = 6 * 7", "print('a', dl_a)"])
    page.get_by_role("button", name="Run all", exact=True).click()
    expect(output(page, 1)).to_have_text("a 42", timeout=WAIT)
    with page.expect_download() as got:
        page.locator("#download").click()
    saved = tmp_path / "down.ipynb"
    got.value.save_as(saved)
    notebook = json.loads(saved.read_text())
    assert got.value.suggested_filename == "dl_nb.ipynb"
    assert ["".join(c["source"]) for c in notebook["cells"]] == ["dl_a = 6 * 7",
                                                                  "print('a', dl_a)"]
    assert notebook["cells"][1]["outputs"][0]["text"] in ("a 42\n", ["a 42\n"])

    page.goto(f"{server.base}/?token={server.token}")
    link = page.locator("#list a.nb-link")
    row = page.locator("#list li", has_text="dl_nb.ipynb").first
    expect(row.locator(".running")).to_be_visible(timeout=WAIT)
    page.locator("#upload-file").set_input_files(str(saved))
    expect(page.locator("#status")).to_have_text("Uploaded down.ipynb", timeout=WAIT)
    page.locator("#upload-file").set_input_files(str(saved))
    expect(page.locator("#status")).to_have_text("Uploaded down (1).ipynb", timeout=WAIT)
    expect(link.filter(has_text="down (1).ipynb")).to_have_count(1, timeout=WAIT)
    uploaded = json.loads((server.root / "down (1).ipynb").read_text())
    assert "".join(uploaded["cells"][0]["source"]) == "dl_a = 6 * 7"
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    page.locator("#upload-file").set_input_files(str(bad))
    expect(page.locator("#status")).to_contain_text("bad.ipynb is not a notebook", timeout=WAIT)

    page.get_by_role("button", name="Shut down the kernel of dl_nb.ipynb").click()
    expect(page.locator("#status")).to_have_text("Shut down the kernel of dl_nb.ipynb",
                                                 timeout=WAIT)
    expect(row.locator(".running")).to_have_count(0, timeout=WAIT)
    status, kernels = rest(server, "GET", "/api/kernels")
    assert status == 200 and not [k for k in kernels if k["notebook"] == "dl_nb.ipynb"]


def test_a_rerun_keeps_its_output_until_the_next_after_clear_output_wait(
        page: Page, server: ServerProcess) -> None:
    """``clear_output(wait=True)`` keeps what the cell shows until its next output, in a
    cascade's re-run too (which starts with a clear_output of its own): a status line
    printed before it stays on screen while the cell works, as in JupyterLab."""
    open_code_notebook(page, server, "clearwait.ipynb", [
        "v = 1",
        "from IPython.display import clear_output\nimport time\n"
        "print('working on', v, flush=True)\nclear_output(wait=True)\n"
        "time.sleep(3)\nprint('done with', v)",
    ])
    cell(page, 0).locator(".cm-content, .rk-code-view").first.click()
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    out = output(page, 1)
    expect(out).to_have_text("done with 1\n", timeout=WAIT)
    replace_source(page, 0, "v = 2")
    page.keyboard.press("Control+Enter")
    expect(out).to_have_text("working on 2\n", timeout=WAIT)
    expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
    page.wait_for_timeout(1000)  # the cell sleeps: its status line stays
    expect(badge(page, 1)).to_contain_text("running")
    assert out.inner_text() == "working on 2\n", repr(out.inner_text())
    expect(out).to_have_text("done with 2\n", timeout=WAIT)


def test_a_cell_another_tab_added_and_ran_shows_its_state_here(
        page: Page, browser: Browser, server: ServerProcess) -> None:
    """A cell that another tab inserted and ran reaches this page with that tab's save:
    it shows the state the kernel gave it (here: error), not a blank badge until its
    next change."""
    path = "tabs-newcell.ipynb"
    open_code_notebook(page, server, path, ["x = 1"])
    cell(page, 0).locator(".cm-content, .rk-code-view").first.click()
    page.keyboard.press("Control+Enter")
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    page.keyboard.press("Escape")
    wait_saved(page)
    with second_page(browser, server, path) as other:
        cell(other, 0).locator(".cm-content, .rk-code-view").first.click()
        other.keyboard.press("Escape")
        other.keyboard.press("b")
        other.keyboard.press("Enter")
        other.keyboard.type("x / 0")
        other.keyboard.press("Control+Enter")
        expect(badge(other, 1)).to_contain_text("error", timeout=WAIT)
        other.keyboard.press("Control+s")
        wait_saved(other)
        expect(page.locator(".rk-cell")).to_have_count(2, timeout=WAIT)
        expect(output(page, 1)).to_contain_text("ZeroDivisionError", timeout=WAIT)
        expect(badge(page, 1)).to_contain_text("error", timeout=WAIT)
        expect(badge(page, 0)).to_contain_text("ok")


def test_escape_closes_the_completion_list_and_keeps_editing(page: Page,
                                                             server: ServerProcess) -> None:
    """As in JupyterLab, Escape with the completion list open closes the list only: the
    cell stays in edit mode, so the next keys are text, not notebook commands (a typed
    "x" would cut the cell, "d", "d" delete it)."""
    editor, option = completion_list(page, server, "escape_target_value")
    page.keyboard.press("Escape")
    expect(option).to_have_count(0)
    page.keyboard.type("x")
    expect(page.locator(".rk-cell")).to_have_count(2)
    expect(editor).to_have_text(re.compile(r"escape_target_value = 41\s*escape_target_x\s*$"))
    page.keyboard.press("Escape")  # with no list open, Escape leaves edit mode
    expect(cell(page, 0)).to_be_focused()


def test_load_magic_puts_the_file_in_the_cell(page: Page, server: ServerProcess) -> None:
    """``%load`` (IPython's ``set_next_input`` payload, replace=True) replaces the cell's
    text with the file's, as in JupyterLab; ``set_next_input(text)`` without replace puts
    the text in a new cell below. Nothing of it runs."""
    (server.root / "loadme.py").write_text("loaded_value = 42\n")
    open_code_notebook(page, server, "loadmagic.ipynb", [
        "%load loadme.py", "get_ipython().set_next_input('made_below = 1')"])
    cell(page, 0).locator(".cm-content, .rk-code-view").first.click()
    page.keyboard.press("Control+Enter")
    editor = cell(page, 0).locator(".cm-content")
    expect(editor).to_contain_text("loaded_value = 42", timeout=WAIT)
    expect(editor).to_contain_text("%load loadme.py")
    cell(page, 1).locator(".cm-content, .rk-code-view").first.click()
    page.keyboard.press("Control+Enter")
    expect(page.locator(".rk-cell")).to_have_count(3, timeout=WAIT)
    expect(cell(page, 2).locator(".cm-content")).to_have_text("made_below = 1")
    expect(badge(page, 2)).to_have_text("")


def test_a_request_aborted_while_the_page_was_away_is_not_queued_for_ever(
        page: Page, server: ServerProcess) -> None:
    """Run all, and the network drops while its first cell runs: the cell fails and
    the kernel aborts the requests behind it (stop_on_error); their replies went to
    the socket that broke.  Back, the page must not show those cells "queued" for
    ever: the kernel's snapshot says they are not."""
    path = "away-abort.ipynb"
    status, model = rest(server, "POST", "/api/notebooks", {"path": path})
    assert status == 201
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"id": f"aa{i}", "cell_type": "code", "metadata": {}, "source": source,
         "outputs": [], "execution_count": None} for i, source in enumerate([
             "import time\ntime.sleep(1.5)\nraise ValueError('late')",
             "print('aborted one')"])]}
    assert rest(server, "PUT", f"/api/notebooks/{path}",
                {"notebook": notebook, "version": model["version"]})[0] == 200
    link = CuttableLink(server)
    try:
        open_notebook(page, link, path)
        wait_current(page)
        page.get_by_role("button", name="Run all", exact=True).click()
        expect(badge(page, 0)).to_contain_text("running", timeout=WAIT)
        expect(badge(page, 1)).to_have_text("queued")
        cut_off(page, link)
        # The first cell fails meanwhile and the second is aborted: a graph request
        # answered after the first one's error comes after the abort (one queue).
        deadline = time.monotonic() + 60
        while kernel_graph(server, path)["cells"]["aa0"]["status"] != "error":
            assert time.monotonic() < deadline, "the first cell never failed"
        kernel_graph(server, path)
        reconnect(page, link)
        expect(badge(page, 0)).to_have_text("error", timeout=WAIT)
        expect(badge(page, 1)).not_to_have_text("queued", timeout=WAIT)
        expect(output(page, 1)).to_have_text("")
        # And it runs when asked.
        cell(page, 1).locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        expect(output(page, 1)).to_have_text("aborted one", timeout=WAIT)
    finally:
        link.close()
