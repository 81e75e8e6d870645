"""Real notebooks through the web UI, against stock ipykernel.

    python benchmarks/real_notebooks_ui.py NOTEBOOK.ipynb ... [--no-edit]

What ``real_notebooks.py`` checks at the protocol, end to end as a user meets it:
the real server and kernel, headless Chromium (Debian's), the notebook opened in
the web UI.  For each notebook (a copy beside it, so relative data paths work and
the original is left alone):

- every cell is run in turn with Shift+Enter (each waits for the one before, as a
  user reading along would), the notebook is saved (Ctrl+S), and each code cell's
  saved outputs are compared with stock ipykernel running it top to bottom (twice:
  cells whose outputs differ between the two are left out);
- then an early cell gets a number changed (``real_notebooks.find_edit``), typed
  into its editor and run with Ctrl+Enter; once the cascade is over the notebook is
  saved again and every cell compared with stock running the edited notebook.

So this covers the page's routing of re-run outputs to their cells, its saving,
and the kernel's semantics at once.  It prints the cells that differ and a
summary; nothing of the notebooks is kept.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from playwright.sync_api import Page, expect, sync_playwright

from tests.notebook_runs import compare, find_edit, render_saved, stock_reference
from tests.server_harness import ServerProcess

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT = 180_000  # ms: the longest one cell (or one cascade) may take
DONE = re.compile(r"^(ok|error|skipped|interrupted)$")


def settle(page: Page) -> None:
    """Wait until no cell is queued or running and the kernel is idle."""
    expect(page.locator(".rk-badge[data-status=queued], .rk-badge[data-status=running]")
           ).to_have_count(0, timeout=WAIT)
    expect(page.locator("#kernel-state")).to_have_attribute("data-state", "idle", timeout=WAIT)


def save(page: Page, path: Path) -> list[str]:
    """Save with Ctrl+S; each code cell's saved outputs, rendered as stock's are."""
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved", timeout=WAIT)
    nb = nbformat.read(path, as_version=4)  # multiline strings joined
    return [render_saved(c.outputs) for c in nb.cells if c.cell_type == "code"]


def ui_run(path: Path, edit: tuple[int, str] | None) -> tuple[list[str], list[str] | None,
                                                              float]:
    """What each code cell shows in the web UI after running them all in turn, and
    after ``edit`` (code cell index, new code); and the seconds the first took."""
    copy = path.with_name(f"ui-copy-{path.name}")
    shutil.copyfile(path, copy)
    server = ServerProcess(path.parent, "ui-notebooks")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{server.base}/notebooks/{copy.name}?token={server.token}")
            expect(page.locator("#conn-state")).to_have_attribute("data-sync", "current",
                                                                   timeout=WAIT)
            cells = page.locator(".rk-cell")
            kinds = [c.cell_type for c in nbformat.read(copy, as_version=4).cells]
            expect(cells).to_have_count(len(kinds), timeout=WAIT)
            code_at = [i for i, kind in enumerate(kinds) if kind == "code"]
            started = time.perf_counter()
            cells.nth(0).focus()
            page.keyboard.press("Escape")
            for index in range(len(kinds)):
                # Shift+Enter on the last cell would add an empty one below it.
                page.keyboard.press("Shift+Enter" if index < len(kinds) - 1 else "Control+Enter")
                if kinds[index] == "code":
                    expect(cells.nth(index).locator(".rk-badge")).to_have_attribute(
                        "data-status", DONE, timeout=WAIT)
            settle(page)
            seconds = time.perf_counter() - started
            first = save(page, copy)
            after = None
            if edit is not None:
                target = cells.nth(code_at[edit[0]])
                target.locator(".cm-content").click()
                page.keyboard.press("Control+a")
                page.keyboard.insert_text(edit[1])
                page.keyboard.press("Control+Enter")
                expect(target.locator(".rk-badge")).to_have_attribute("data-status", DONE,
                                                                      timeout=WAIT)
                settle(page)
                after = save(page, copy)
            browser.close()
            return first, after, seconds
    finally:
        server.stop()
        copy.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--no-edit", action="store_true", help="only run the cells in turn")
    args = parser.parse_args()
    same = edited_same = edited = 0
    stock_s = ui_s = 0.0
    for path in args.notebooks:
        path = path.resolve()
        cells = [c.source for c in nbformat.read(path, as_version=4).cells
                 if c.cell_type == "code"]
        first, skip, t_stock = stock_reference(path, cells)
        edit = None if args.no_edit else find_edit(cells)
        try:
            shown, after, t_ui = ui_run(path, edit)
        except Exception as err:  # one notebook must not stop the survey
            print(f"{path.name}: could not be measured: {type(err).__name__}: {err}")
            continue
        stock_s += t_stock
        ui_s += t_ui
        differ = compare(first, shown, skip)
        same += not differ
        line = (f"{path.name}: {len(cells)} cells, {len(skip)} nondeterministic; "
                f"{len(differ)} differ from stock")
        edit_differ: list[tuple[int, str, str]] = []
        if edit is not None and after is not None:
            edited_cells = list(cells)
            edited_cells[edit[0]] = edit[1]
            expected, skip_edit, _ = stock_reference(path, edited_cells)
            edit_differ = compare(expected, after, skip | skip_edit)
            edited += 1
            edited_same += not edit_differ
            changed = sum(1 for a, b in zip(first, expected, strict=True) if a != b)
            line += (f"; edit of cell {edit[0]} ({changed} outputs change): "
                     f"{len(edit_differ)} differ")
        print(line, flush=True)
        for label, diffs in (("run", differ), ("edit", edit_differ)):
            for i, want, got in diffs[:3]:
                print(f"    [{label}] cell {i}: stock {want[:80]!r} / web UI {got[:80]!r}")
    total = len(args.notebooks)
    print(f"\nrun in turn: {same}/{total} notebooks show stock's outputs; after an edit: "
          f"{edited_same}/{edited}; time in the web UI {ui_s:.1f} s, stock {stock_s:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
