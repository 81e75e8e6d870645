"""The project's JupyterLab / Notebook 7 extension (``labextension/``), installed in
the venv by ``pip install`` from its prebuilt files, in real JupyterLab 4 and
Notebook 7 driven in headless Chromium: cell states from the kernel's comm, re-runs
that reach a reloaded page, the notebook order, Run all without cascades, lazy mode
and Run stale, the graph panel, skipped cells naming their upstream cell.

``test_jupyterlab.py`` runs the stock path (the extension disabled)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .test_jupyterlab import (
    EXTENSION,
    TOKEN,
    JupyterApp,
    browser,  # noqa: F401  (fixture)
    cells,
    lab_url,
    output,
    write_notebook,
)
from .widget_helpers import drag_slider

WAIT = 60_000
#: Screenshots of each run (gitignored); the README's copies are in docs/screenshots.
SCREENSHOTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[JupyterApp, Path]]:
    root = tmp_path_factory.mktemp("labext")
    app = JupyterApp("jupyterlab", root, extension=True)
    yield app, root
    app.stop()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def badge(page: Page, index: int):  # type: ignore[no-untyped-def]
    return cells(page).nth(index).locator(".rk-lab-badge")


def prompt_of(page: Page, index: int) -> str:
    """A code cell's execution count as its prompt shows it: ``[4]``."""
    text = cells(page).nth(index).locator(".jp-InputPrompt").inner_text()
    return text.strip().rstrip(":")


def open_notebook(page: Page, url: str) -> None:
    page.goto(url)
    expect(cells(page).first).to_be_visible(timeout=WAIT)
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first) \
        .to_be_attached(timeout=WAIT)
    # The extension is active on this reactive notebook: its toolbar is shown, and
    # the kernel's comm has sent its snapshot.
    expect(page.locator(".jp-NotebookPanel[data-rk-state='live']:visible")).to_have_count(
        1, timeout=WAIT)
    expect(page.locator(".rk-lab-runall:visible").first).to_be_visible(timeout=WAIT)


@contextlib.contextmanager
def lab_page(browser: Browser, lab: tuple[JupyterApp, Path], name: str,  # noqa: F811
             *sources: str,
             run: bool = True) -> Iterator[Page]:
    """A reactive notebook of ``sources`` open in JupyterLab (and run all, once)."""
    app, root = lab
    write_notebook(root, name, "reactive", *sources)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_notebook(page, lab_url(app, name))
        if run:
            run_all(page)
        yield page
    finally:
        page.close()


def run_all(page: Page) -> None:
    page.locator(".rk-lab-runall:visible").first.click()


def click_code(page: Page, index: int) -> None:
    """Into a cell's editor, at the start of its first line (the badge sits at the
    input's bottom right, over a one-line cell's text)."""
    cells(page).nth(index).locator(".cm-content").click(position={"x": 6, "y": 6})


def edit(page: Page, index: int, code: str) -> None:
    click_code(page, index)
    page.keyboard.press("Control+A")
    page.keyboard.type(code)
    page.keyboard.press("Control+Enter")


def test_the_package_installs_the_prebuilt_extension(tmp_path: Path) -> None:
    """``pip install reactive-kernel`` is all a user does: the wheel carries the built
    extension to share/jupyter/labextensions, and JupyterLab lists it enabled."""
    import zipfile

    root = Path(__file__).parent.parent
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(root), "--no-deps",
                            "-w", str(tmp_path)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(tmp_path.glob("reactive_kernel-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    prefix = f"reactive_kernel-0.1.0.data/data/share/jupyter/labextensions/{EXTENSION}/"
    assert prefix + "package.json" in names and prefix + "install.json" in names
    assert any(n.startswith(prefix + "static/remoteEntry.") for n in names)
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True, timeout=120)
    line = next(ln for ln in (listed.stdout + listed.stderr).splitlines() if EXTENSION in ln)
    assert "enabled" in line and "OK" in line


CHAIN = ("a = 1", "b = a + 1\nprint('b is', b)", "c = b * 10\nprint('c is', c)")


def test_cascade_badges_then_a_reload_still_receives_re_runs(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "chain.ipynb", *CHAIN) as page:
        expect(output(page, 2)).to_contain_text("c is 20", timeout=WAIT)
        for index in range(3):
            expect(badge(page, index)).to_contain_text("ok", timeout=WAIT)
        edit(page, 0, "a = 5")
        expect(output(page, 1)).to_contain_text("b is 6", timeout=WAIT)
        expect(output(page, 2)).to_contain_text("c is 60", timeout=WAIT)
        expect(badge(page, 1)).to_have_attribute("data-mark", "reran", timeout=WAIT)
        expect(badge(page, 2)).to_have_attribute("data-mark", "reran", timeout=WAIT)
        expect(badge(page, 0)).to_have_attribute("data-mark", "trigger", timeout=WAIT)
        shot(page, "jupyterlab-extension-cascade.png")
        # A reload forgets JupyterLab's own routing of the cells' requests: the
        # re-runs still reach the page, by their metadata.cellId.
        page.reload()
        open_notebook(page, lab_url(lab[0], "chain.ipynb").replace("?reset&", "?"))
        edit(page, 0, "a = 7")
        expect(output(page, 1)).to_contain_text("b is 8", timeout=WAIT)
        expect(output(page, 2)).to_contain_text("c is 80", timeout=WAIT)
        expect(output(page, 1)).not_to_contain_text("b is 6")


def test_a_slow_cell_run_by_its_user_is_not_marked_re_run(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    """The kernel says which runs were re-runs: a cell running long enough to be
    announced as running (its execution count comes only at its end) is still
    the user's own run, in Run all as with Ctrl+Enter."""
    with lab_page(browser, lab, "slow.ipynb", "import time\ntime.sleep(0.4)\nsv = 1",
                  "print('sv', sv)") as page:
        expect(output(page, 1)).to_contain_text("sv 1", timeout=WAIT)
        expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
        expect(badge(page, 0)).not_to_have_attribute("data-mark", "reran")
        edit(page, 0, "import time\ntime.sleep(0.4)\nsv = 2")
        expect(output(page, 1)).to_contain_text("sv 2", timeout=WAIT)
        expect(badge(page, 1)).to_have_attribute("data-mark", "reran", timeout=WAIT)
        expect(badge(page, 0)).to_have_attribute("data-mark", "trigger", timeout=WAIT)


def test_a_page_reloaded_while_a_cell_runs_shows_it_running(
        browser: Browser, lab: tuple[JupyterApp, Path], tmp_path: Path) -> None:  # noqa: F811
    """The kernel answers the reloaded page's comm at once, not when the run ends."""
    go = tmp_path / "go"
    waits = ("import os, time\ndeadline = time.monotonic() + 60\n"
             f"while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:\n"
             "    time.sleep(0.02)\nprint('went')")
    with lab_page(browser, lab, "reload-running.ipynb", "w = 1", waits) as page:
        expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
        page.reload()
        expect(cells(page).first).to_be_visible(timeout=WAIT)
        expect(page.locator(".jp-NotebookPanel[data-rk-state='live']:visible")).to_have_count(
            1, timeout=WAIT)
        expect(badge(page, 1)).to_contain_text("running", timeout=WAIT)
        expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
        go.touch()
        expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)


def test_a_reload_during_a_cascade_says_which_outputs_did_not_reach_the_page(
        browser: Browser, lab: tuple[JupyterApp, Path], tmp_path: Path) -> None:  # noqa: F811
    """JupyterLab has no replay of what a page missed: the cells that re-ran while it
    reloaded say their output is older, and the cell running then shows only its new
    output, not the file's old one followed by it."""
    root = lab[1]
    go = tmp_path / "go"
    waits = ("import os, time\ndeadline = time.monotonic() + 60\n"
             f"while a > 1 and not os.path.exists({str(go)!r}) and time.monotonic() < deadline:\n"
             "    time.sleep(0.02)\nprint('c', a)")
    with lab_page(browser, lab, "reload-cascade.ipynb", "a = 1", "print('b', a)",
                  waits) as page:
        expect(output(page, 2)).to_contain_text("c 1", timeout=WAIT)
        page.keyboard.press("Control+s")
        deadline = time.monotonic() + 30
        while "c 1" not in (root / "reload-cascade.ipynb").read_text():
            assert time.monotonic() < deadline, "the notebook was not saved"
            page.wait_for_timeout(100)
        edit(page, 0, "a = 2")
        expect(output(page, 1)).to_contain_text("b 2", timeout=WAIT)
        expect(badge(page, 2)).to_contain_text("running", timeout=WAIT)
        page.reload()  # JupyterLab asks nothing: the edit is in the page only
        expect(page.locator(".jp-NotebookPanel[data-rk-state='live']:visible")).to_have_count(
            1, timeout=WAIT)
        expect(output(page, 1)).to_contain_text("b 1")  # the file's
        expect(badge(page, 1)).to_contain_text("output not received", timeout=WAIT)
        expect(cells(page).nth(1)).to_have_class(re.compile("rk-lab-missed"))
        go.touch()
        expect(output(page, 2)).to_have_text(re.compile(r"^\s*c 2\s*$"), timeout=WAIT)
        expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)
        # Running the cell again shows its current output, and the mark goes.
        click_code(page, 1)
        page.keyboard.press("Control+Enter")
        expect(output(page, 1)).to_contain_text("b 2", timeout=WAIT)
        expect(badge(page, 1)).not_to_contain_text("not received", timeout=WAIT)


def test_a_middle_cell_that_redefines_a_name_re_runs_the_cells_below(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "order.ipynb", "m = 1", "n = m * 10\nprint('n is', n)",
                  "print('m is', m)") as page:
        expect(output(page, 2)).to_contain_text("m is 1", timeout=WAIT)
        # Insert a cell below the second one (JupyterLab's "b" in command mode).
        click_code(page, 1)
        page.keyboard.press("Escape")
        page.keyboard.press("b")
        expect(cells(page)).to_have_count(4, timeout=WAIT)
        page.keyboard.press("Enter")
        page.keyboard.type("m = 2")
        page.keyboard.press("Control+Enter")
        # The kernel knows the new cell sits above the last one: that cell re-runs
        # with the new m; the cell above the new one keeps the first m.
        expect(output(page, 3)).to_contain_text("m is 2", timeout=WAIT)
        expect(output(page, 1)).to_contain_text("n is 10")
        # Deleting it (D,D) re-runs the last cell at once, with the first m.
        page.keyboard.press("Escape")
        page.keyboard.press("d")
        page.keyboard.press("d")
        expect(cells(page)).to_have_count(3, timeout=WAIT)
        expect(output(page, 2)).to_contain_text("m is 1", timeout=WAIT)


def test_a_cell_edited_since_it_ran_says_so(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    """A cell whose text is not the code the kernel holds (the kernel's code_hash) is
    marked edited: a cascade re-runs the code it ran, and its output is of that code."""
    with lab_page(browser, lab, "edited.ipynb", "e = 1", "print('e is', e)") as page:
        expect(output(page, 1)).to_contain_text("e is 1", timeout=WAIT)
        expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
        click_code(page, 1)
        page.keyboard.press("Control+A")
        page.keyboard.type("print('e now', e)")
        expect(badge(page, 1)).to_contain_text("edited", timeout=WAIT)
        expect(cells(page).nth(1)).to_have_class(re.compile("rk-lab-edited"))
        # A cascade re-runs the code the kernel holds: still edited.
        edit(page, 0, "e = 2")
        expect(output(page, 1)).to_contain_text("e is 2", timeout=WAIT)
        expect(badge(page, 1)).to_contain_text("edited")
        click_code(page, 1)
        page.keyboard.press("Control+Enter")
        expect(output(page, 1)).to_contain_text("e now 2", timeout=WAIT)
        expect(badge(page, 1)).not_to_contain_text("edited", timeout=WAIT)
        expect(badge(page, 0)).not_to_contain_text("edited")


def test_undoing_a_deletion_puts_the_cell_back_and_runs_it(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "undo.ipynb", "u = 1", "u = 2", "print('u is', u)") as page:
        expect(output(page, 2)).to_contain_text("u is 2", timeout=WAIT)
        cells(page).nth(1).locator(".jp-InputPrompt").click()
        page.keyboard.press("d")
        page.keyboard.press("d")
        expect(cells(page)).to_have_count(2, timeout=WAIT)
        expect(output(page, 1)).to_contain_text("u is 1", timeout=WAIT)
        # Z brings the cell back with its id: it goes back into the graph and runs
        # again, so the last cell reads its u once more.
        page.keyboard.press("z")
        expect(cells(page)).to_have_count(3, timeout=WAIT)
        expect(output(page, 2)).to_contain_text("u is 2", timeout=WAIT)
        expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
        # JupyterLab keeps the id in the `deletedCells` of the next run, even with
        # the cell back: that run (of another cell) must not delete it again.
        before = prompt_of(page, 0)
        click_code(page, 0)
        page.keyboard.press("Control+Enter")
        expect(cells(page).nth(0).locator(".jp-InputPrompt")).not_to_have_text(
            f"{before}:", timeout=WAIT)
        expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
        expect(output(page, 2)).to_contain_text("u is 2")
        expect(output(page, 2)).not_to_contain_text("u is 1")
        expect(badge(page, 1)).to_contain_text("ok")


def test_a_pasted_definer_makes_the_reader_below_stale(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    """C, V of a cell redefining a name above its reader: top to bottom the reader
    reads the copy, which has not run: stale, not "ok" with the old value."""
    with lab_page(browser, lab, "paste.ipynb", "w = 1", "w = w + 1",
                  "print('w is', w)") as page:
        expect(output(page, 2)).to_contain_text("w is 2", timeout=WAIT)
        cells(page).nth(1).locator(".jp-InputPrompt").click()
        page.keyboard.press("c")
        page.keyboard.press("v")
        expect(cells(page)).to_have_count(4, timeout=WAIT)
        expect(badge(page, 3)).to_contain_text("stale", timeout=WAIT)
        click_code(page, 2)
        page.keyboard.press("Control+Enter")
        expect(output(page, 3)).to_contain_text("w is 3", timeout=WAIT)
        expect(badge(page, 3)).to_contain_text("ok", timeout=WAIT)


def test_run_all_runs_each_cell_once_and_a_skip_names_its_upstream(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    root = lab[1]
    with lab_page(browser, lab, "runall.ipynb", "import time\ntime.sleep(0.2)\nra = 1",
                  "rb = ra + 1\nopen('runs.txt', 'a').write('b')",
                  "rc = rb + 1\nopen('runs.txt', 'a').write('c')",
                  "rd = 1 / (ra - 2)", "re_ = rd", run=False) as page:
        for round_number in (1, 2):
            run_all(page)
            expect(cells(page).nth(4).locator(".jp-InputPrompt")).to_contain_text(
                f"[{5 * round_number}]", timeout=WAIT)
            assert (root / "runs.txt").read_text() == "bc" * round_number
        # A cascade from the top: a cell fails, its reader is skipped and says why.
        edit(page, 0, "import time\ntime.sleep(0.2)\nra = 2")
        expect(badge(page, 3)).to_have_text("error", timeout=WAIT)
        failed = prompt_of(page, 3)
        assert re.fullmatch(r"\[\d+\]", failed), failed
        expect(badge(page, 4)).to_have_text(f"skipped — upstream {failed} failed",
                                            timeout=WAIT)
        shot(page, "jupyterlab-extension-skipped.png")
        # Run all again: the failing cell stops it, and the cell after it, whose request
        # the kernel aborted, goes back to [ ] (not [*] for good), as in JupyterLab's own.
        run_all(page)
        expect(cells(page).nth(4).locator(".jp-InputPrompt")).to_have_text(
            re.compile(r"^\[ \]:?$"), timeout=WAIT)


def output_texts(page: Page, index: int) -> list[str]:
    """The outputs of code cell ``index`` in every view of the notebook on the page."""
    return [" | ".join(o.inner_text().strip() for o in
                       view.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output").all())
            for view in page.locator(".jp-Notebook").all()]


def test_a_re_run_of_a_cell_whose_own_request_waits_is_not_shown_twice(
        browser: Browser, tmp_path_factory: pytest.TempPathFactory,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    """JupyterLab's own Run All sends every cell's request at once, cascades on; a
    cascade may re-run a cell whose own request the kernel has not seen yet (forced
    here: the peek at queued requests off).  That cell's own run gives its output:
    the re-run's is not shown before it (audit: a plot cell showed two figures)."""
    monkeypatch.setenv("REACTIVE_KERNEL_PEEK", "0")
    root = tmp_path_factory.mktemp("labpeek")
    app = JupyterApp("jupyterlab", root, extension=True)
    try:
        with lab_page(browser, (app, root), "peek.ipynb",
                      "import time\ntime.sleep(0.3)\npk = [1]", "print('pk is', pk)") as page:
            expect(output(page, 1)).to_contain_text("pk is [1]", timeout=WAIT)
            before = prompt_of(page, 1)
            page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-item").filter(
                has_text=re.compile(r"^Run All Cells")).first.click()
            expect(cells(page).nth(1).locator(".jp-InputPrompt")).not_to_have_text(
                f"{before}:", timeout=WAIT)
            expect(cells(page).nth(1).locator(".jp-InputPrompt")).to_have_text(
                re.compile(r"^\[\d+\]:?$"), timeout=WAIT)
            expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
            assert output_texts(page, 1) == ["pk is [1]"]
    finally:
        app.stop()


def test_views_other_tabs_and_merges_keep_one_output_per_run(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "views.ipynb", "n = 1", "print('n is', n)") as page:
        expect(output(page, 1)).to_contain_text("n is 1", timeout=WAIT)
        # A second view of the same notebook (they share its model): a re-run's output
        # goes in once, not once per view.
        page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab").filter(
            has_text="views.ipynb").first.click(button="right")
        page.locator(".lm-Menu-item").filter(has_text="New View for Notebook").first.click()
        expect(page.locator(".jp-NotebookPanel[data-rk-state='live']")).to_have_count(
            2, timeout=WAIT)
        edit(page, 0, "n = 2")
        expect(page.locator(".jp-Notebook").first.locator(".jp-Cell").nth(1)).to_contain_text(
            "n is 2", timeout=WAIT)
        assert output_texts(page, 1) == ["n is 2", "n is 2"], output_texts(page, 1)
        # The cell run from another tab: this tab shows that run's output, not all of them.
        other = browser.new_page(viewport={"width": 1280, "height": 800})
        try:
            open_notebook(other, lab_url(lab[0], "views.ipynb"))
            for text in ("again", "and again"):
                edit(other, 1, f"print('n is', n, {text!r})")
                expect(output(page, 1)).to_contain_text(text, timeout=WAIT)
            assert output_texts(page, 1) == ["n is 2 and again"] * 2, output_texts(page, 1)
        finally:
            other.close()


def test_display_updates_of_re_runs_reach_a_reloaded_page(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "displays.ipynb", "n = 3",
                  "h = display('start n=%d' % n, display_id=True)\n"
                  "h.update('updated n=%d' % n)") as page:
        expect(output(page, 1)).to_contain_text("updated n=3", timeout=WAIT)
        page.keyboard.press("Control+s")
        page.reload()
        open_notebook(page, lab_url(lab[0], "displays.ipynb").replace("?reset&", "?"))
        edit(page, 0, "n = 5")
        expect(output(page, 1)).to_contain_text("updated n=5", timeout=WAIT)
        expect(output(page, 1)).not_to_contain_text("start")


def test_a_merge_restart_the_palette_and_the_toolbar(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "merge.ipynb", "x = 1", "x = 2", "print('x is', x)") as page:
        expect(output(page, 2)).to_contain_text("x is 2", timeout=WAIT)
        # Merging the two definers (Shift+M): the merged cell goes into the graph and
        # the reader keeps reading x = 2, as a top-to-bottom run would (no NameError).
        cells(page).nth(0).locator(".jp-InputPrompt").click()
        page.keyboard.press("Shift+ArrowDown")
        page.keyboard.press("Shift+M")
        expect(cells(page)).to_have_count(2, timeout=WAIT)
        expect(badge(page, 1)).to_have_attribute("data-mark", "reran", timeout=WAIT)
        expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
        expect(output(page, 1)).to_have_text(re.compile(r"^\s*x is 2\s*$"), timeout=WAIT)
        # The extension's Graph button is a button's size: the kernel's name and status
        # stay in the toolbar.
        box = page.locator(".jp-NotebookPanel-toolbar .rk-lab-graph:visible").first.bounding_box()
        assert box is not None and box["width"] < 120, box
        expect(page.locator(".jp-NotebookPanel-toolbar .jp-KernelName:visible")).to_have_count(1)
        # On a one-line active cell the badge is not under JupyterLab's cell toolbar.
        cells(page).nth(1).locator(".jp-InputPrompt").click()
        toolbar = cells(page).nth(1).locator(".jp-cell-toolbar")
        expect(toolbar).to_be_visible(timeout=WAIT)
        a, b = toolbar.bounding_box(), badge(page, 1).bounding_box()
        assert a is not None and b is not None
        assert b["x"] + b["width"] <= a["x"] or b["y"] >= a["y"] + a["height"], (a, b)
        # The commands are in the palette.
        page.keyboard.press("Control+Shift+C")
        page.keyboard.type("Run Stale")
        expect(page.locator(".lm-CommandPalette-item").filter(has_text="Run Stale Cells")
               ).to_have_count(1, timeout=WAIT)
        page.keyboard.press("Escape")
        # After a restart no badge claims a result of the old kernel is current.
        expect(badge(page, 1)).to_contain_text("ok", timeout=WAIT)
        page.locator(".lm-MenuBar-item").filter(has_text="Kernel").click()
        page.locator(".lm-Menu-item").filter(has_text=re.compile(r"^Restart Kernel…")).first.click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        expect(page.locator(".jp-Notebook:visible .rk-lab-badge")).to_have_count(0,
                                                                                  timeout=WAIT)


def test_a_restart_during_run_all_leaves_no_output_of_the_old_kernel(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    """jupyter_client interrupts a kernel before restarting it: the old kernel's
    KeyboardInterrupt must not land in the cells (JupyterLab drops it too)."""
    with lab_page(browser, lab, "restart.ipynb", "import time\ntime.sleep(5)\nq = 1",
                  "print('q', q)", run=False) as page:
        run_all(page)
        expect(badge(page, 0)).to_contain_text("running", timeout=WAIT)
        page.locator(".lm-MenuBar-item").filter(has_text="Kernel").click()
        page.locator(".lm-Menu-item").filter(has_text=re.compile(r"^Restart Kernel…")).first.click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        expect(page.locator(".jp-Notebook:visible .rk-lab-badge")).to_have_count(0, timeout=WAIT)
        # The new kernel is up and its comm live: the old one's messages came before.
        expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first) \
            .to_be_attached(timeout=WAIT)
        expect(page.locator(".jp-NotebookPanel[data-rk-state='live']:visible")).to_have_count(
            1, timeout=WAIT)
        assert "KeyboardInterrupt" not in output(page, 0).inner_text()
        assert "Not run" not in output(page, 1).inner_text()
        # The extension's "Restart and Run All" asks first, as JupyterLab's own does.
        cells(page).nth(1).locator(".jp-InputPrompt").click()
        page.keyboard.press("Control+Shift+C")
        page.keyboard.type("Restart Kernel and Run All Cells (reactive)")
        page.keyboard.press("Enter")
        expect(page.locator(".jp-Dialog")).to_contain_text("Restart the kernel", timeout=WAIT)
        page.locator(".jp-Dialog .jp-mod-accept").click()
        expect(output(page, 1)).to_contain_text("q 1", timeout=WAIT)


def test_lazy_mode_run_stale_and_the_graph_panel(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    with lab_page(browser, lab, "lazy.ipynb", "x = 1", "y = x + 1\nprint('y is', y)",
                  "z = y + 1\nprint('z is', z)") as page:
        expect(output(page, 2)).to_contain_text("z is 3", timeout=WAIT)
        mode = page.locator(".rk-lab-mode-item:visible").first
        mode.click()
        expect(mode).to_have_attribute("data-mode", "lazy", timeout=WAIT)
        edit(page, 0, "x = 10")
        expect(badge(page, 1)).to_have_text("stale", timeout=WAIT)
        expect(badge(page, 2)).to_have_text("stale", timeout=WAIT)
        expect(output(page, 1)).to_contain_text("y is 2")
        page.locator(".rk-lab-stale:visible").first.click()
        expect(output(page, 2)).to_contain_text("z is 12", timeout=WAIT)
        expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)
        mode.click()
        expect(mode).to_have_attribute("data-mode", "auto", timeout=WAIT)
        # The graph panel: what each cell reads from which cell; the selected cell's
        # upstream and downstream cells are marked in the notebook and the panel.
        page.locator(".rk-lab-graph:visible").first.click()
        panel = page.locator("#reactive-graph")
        expect(panel).to_be_visible(timeout=WAIT)
        expect(panel.locator(".rk-lab-graph-cell").nth(1)).to_contain_text(
            f"reads from {prompt_of(page, 0)}: x", timeout=WAIT)
        click_code(page, 1)
        expect(cells(page).nth(0)).to_have_class(re.compile(r"rk-lab-upstream"),
                                                 timeout=WAIT)
        expect(cells(page).nth(2)).to_have_class(
            re.compile(r"rk-lab-downstream"), timeout=WAIT)
        expect(panel.locator(".rk-lab-graph-downstream")).to_have_count(1, timeout=WAIT)
        shot(page, "jupyterlab-extension-graph.png")


def test_notebook7_shows_states_and_re_runs_after_a_reload(
        browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> None:  # noqa: F811
    root = tmp_path_factory.mktemp("nb7ext")
    write_notebook(root, "chain.ipynb", "reactive", *CHAIN)
    app = JupyterApp("notebook", root, extension=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    url = f"{app.base}/notebooks/chain.ipynb?token={TOKEN}"
    try:
        open_notebook(page, url)
        run_all(page)
        expect(output(page, 2)).to_contain_text("c is 20", timeout=WAIT)
        edit(page, 0, "a = 5")
        expect(output(page, 2)).to_contain_text("c is 60", timeout=WAIT)
        expect(badge(page, 2)).to_contain_text("ok", timeout=WAIT)
        page.reload()
        open_notebook(page, url)
        edit(page, 0, "a = 7")
        expect(output(page, 2)).to_contain_text("c is 80", timeout=WAIT)
        shot(page, "notebook7-extension-cascade.png")
    finally:
        page.close()
        app.stop()


def test_a_slider_moved_in_jupyterlab_reruns_its_readers(
        browser: Browser, lab: tuple[JupyterApp, Path]) -> None:  # noqa: F811
    """JupyterLab's own widget manager (jupyterlab_widgets) draws the slider; moving it
    re-runs the cells that read it in the kernel, and their outputs reach the page."""
    sources = (
        "import ipywidgets as w\nslider = w.IntSlider(value=10, min=0, max=100)\nslider",
        "print('n is', slider.value)",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
        "ax.bar([0], [slider.value]); ax.set_ylim(0, 100); plt.show()",
        "from tqdm.auto import tqdm\nfor i in tqdm(range(20)):\n    pass",
    )
    with lab_page(browser, lab, "widgets.ipynb", *sources) as page:
        expect(output(page, 1)).to_contain_text("n is 10", timeout=WAIT)
        expect(output(page, 3)).to_contain_text("20/20", timeout=WAIT)
        expect(output(page, 3)).to_contain_text("100%", timeout=WAIT)
        image = output(page, 2).locator("img")
        expect(image).to_be_visible(timeout=WAIT)
        before = image.get_attribute("src")
        drag_slider(page, cells(page).nth(0), 0.7, WAIT)
        readout = cells(page).nth(0).locator(".widget-readout").first
        expect(readout).not_to_have_text("10", timeout=WAIT)
        moved = int(readout.inner_text())
        expect(output(page, 1)).to_contain_text(f"n is {moved}", timeout=WAIT)
        expect(output(page, 1)).not_to_contain_text("n is 10")
        expect(image).not_to_have_attribute("src", before or "", timeout=WAIT)
        expect(badge(page, 1)).to_have_attribute("data-mark", "reran", timeout=WAIT)
        shot(page, "jupyterlab-extension-widgets.png")
