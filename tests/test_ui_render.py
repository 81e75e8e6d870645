"""How the web UI renders Markdown and outputs, as JupyterLab does, in headless Chromium
against a real server and kernel: GFM Markdown with KaTeX math and sanitised raw HTML,
the MIME type JupyterLab would choose (LaTeX, JSON), images at their asked size, inline
styles, the END of a long stream, and tracebacks shown once."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from .server_harness import ServerProcess
from .test_ui import (
    WAIT,
    badge,
    browser,
    cell,
    open_code_notebook,
    open_notebook,
    output,
    page,
    pytestmark,
    rest,
    server,
    shot,
)

__all__ = ["browser", "page", "pytestmark", "server"]  # fixtures and marks, re-used

# A 2x2 red PNG: a data: URI Markdown may show.
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4"
       "z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==")

MARKDOWN = "\n".join([
    "Setext title",
    "============",
    "",
    "Inline $x^2$ and $a_1 * b_2$ here, *one emphasis*, \\*not italic\\*, `$code`.",
    "",
    "$$\\int_0^1 x\\,dx = \\frac{1}{2}$$",
    "",
    "\\begin{equation}",
    "E = mc^2",
    "\\end{equation}",
    "",
    "| name | value |",
    "|------|------:|",
    "| a    | 1     |",
    "",
    "- outer",
    "  - inner",
    "- [ ] todo",
    "- [x] done",
    "",
    "1. one",
    "2. two",
    "",
    "A paragraph between.",
    "",
    "3. three",
    "",
    f'<b>bold</b><br><img width="50" src="{PNG}" alt="tiny">',
    "",
    "<details><summary>More</summary>hidden body</details>",
    "",
    '<span style="color: rgb(255, 0, 0)" class="red">red text</span>',
    "",
    "![a picture](images/pic.png)",
    "",
    f'<img src="{PNG}x" onerror="window.__xss = 1" class="bad">',
    '<a href="javascript:window.__xss = 2" class="badlink">link</a>',
    "<script>window.__xss = 3</script>",
    "<style>body { display: none }</style>",
])


def open_cells(page: Page, server: ServerProcess, path: str,
               cells: list[tuple[str, str]]) -> None:
    """Create ``path`` through the REST API with the given (cell_type, source) cells
    (none run), and open it."""
    status, model = rest(server, "POST", "/api/notebooks", {"path": path})
    assert status == 201
    stem = path.removesuffix(".ipynb")
    nb_cells: list[dict[str, Any]] = []
    for i, (kind, source) in enumerate(cells):
        entry: dict[str, Any] = {"id": f"{stem}{i}", "cell_type": kind, "metadata": {},
                                 "source": source}
        if kind == "code":
            entry.update(outputs=[], execution_count=None)
        nb_cells.append(entry)
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": nb_cells}
    status, _ = rest(server, "PUT", f"/api/notebooks/{path}",
                     {"notebook": notebook, "version": model["version"]})
    assert status == 200
    open_notebook(page, server, path)


def run_cells(page: Page, count: int) -> None:
    cell(page, 0).locator(".cm-content").click()
    for _ in range(count):
        page.keyboard.press("Shift+Enter")


def test_markdown_cell_gfm_math_and_sanitised_html(page: Page, server: ServerProcess) -> None:
    open_cells(page, server, "render-md.ipynb", [("markdown", MARKDOWN)])
    md = cell(page, 0).locator(".rk-md-view")
    # Math: inline, display and an equation environment, typeset by KaTeX (loaded lazily).
    expect(md.locator(".katex")).to_have_count(4, timeout=WAIT)
    expect(md.locator(".katex-display")).to_have_count(2)
    expect(md.locator(".rk-math .katex-error")).to_have_count(0)
    assert "$x^2$" not in md.inner_text()
    # $a_1 * b_2$ is math, not emphasis: the one <em> is *one emphasis*.
    expect(md.locator("em")).to_have_count(1)
    expect(md.locator("em")).to_have_text("one emphasis")
    expect(md.locator("code")).to_have_text("$code")
    expect(md).to_contain_text("*not italic*")
    assert "\\*" not in md.inner_text()
    expect(md.locator("h1")).to_have_text("Setext title")
    # GFM: a table, a nested list, task lists, an ordered list resumed after a paragraph.
    expect(md.locator("table th")).to_have_text(["name", "value"])
    expect(md.locator("table td")).to_have_text(["a", "1"])
    expect(md.locator("ul ul li")).to_have_text("inner")
    expect(md.locator("li input[type=checkbox][disabled]")).to_have_count(2)
    expect(md.locator("ol")).to_have_count(2)
    expect(md.locator("ol").nth(1)).to_have_attribute("start", "3")
    # Raw HTML: the safe part kept (with its inline style), the rest removed.
    expect(md.locator("b")).to_have_text("bold")
    expect(md.locator("br")).not_to_have_count(0)
    expect(md.locator("img[alt=tiny]")).to_have_attribute("width", "50")
    expect(md.locator("details summary")).to_have_text("More")
    assert md.locator(".red").evaluate("e => getComputedStyle(e).color") == "rgb(255, 0, 0)"
    # A relative image: no file API here, so its alt text stands in for it.
    expect(md.locator(".rk-img-alt")).to_have_text("a picture")
    expect(md.locator("img[src*='images/pic.png']")).to_have_count(0)
    # Nothing active survives.
    expect(md.locator("img.bad")).to_have_count(1)
    assert md.locator("img.bad").get_attribute("onerror") is None
    assert md.locator("a.badlink").get_attribute("href") is None
    expect(md.locator("script, style")).to_have_count(0)
    page.wait_for_timeout(300)  # the broken image's error event has fired by now
    assert page.evaluate("window.__xss") is None
    expect(page.locator("#cells")).to_be_visible()
    shot(page, "render-markdown")


def test_outputs_latex_json_markdown_image_size_and_styles(page: Page,
                                                           server: ServerProcess) -> None:
    open_code_notebook(page, server, "render-out.ipynb", [
        "from IPython.display import HTML, JSON, Image, Latex, Markdown, Math, display\n"
        "display(Latex(r'$\\frac{1}{2}$'))\n"
        "display(Math(r'x^2 + y^2'))",
        "JSON({'alpha': 1, 'beta': [1, 2, 3], 'gamma': {'deep': True}})",
        "import io\nimport matplotlib\nmatplotlib.use('agg')\nimport matplotlib.pyplot as plt\n"
        "fig = plt.figure(figsize=(3, 2))\nfig.add_subplot().plot([0, 1], [1, 0])\n"
        "buf = io.BytesIO()\nfig.savefig(buf, format='png')\n"
        "plt.close(fig)\nImage(buf.getvalue(), width=60)",
        "HTML('<h3 style=\"color:red\" class=\"styled\">Red heading</h3>')",
        "Markdown('| k | v |\\n|---|---|\\n| $\\\\alpha$ | 2 |')",
    ])
    run_cells(page, 5)
    expect(badge(page, 4)).to_contain_text("ok", timeout=WAIT)
    # text/latex before text/plain, typeset with KaTeX.
    expect(output(page, 0).locator(".rk-latex .katex")).to_have_count(2, timeout=WAIT)
    expect(output(page, 0)).not_to_contain_text("IPython.core.display")
    # application/json as a tree: the root open, its keys shown.
    tree = output(page, 1).locator(".rk-json")
    expect(tree).to_be_visible(timeout=WAIT)
    expect(tree.locator(".rk-json-key")).to_contain_text(["alpha", "beta", "gamma"])
    expect(output(page, 1)).not_to_contain_text("IPython.core.display")
    # Image(width=60) is 60 px wide.
    img = output(page, 2).locator("img.rk-image")
    expect(img).to_have_attribute("width", "60", timeout=WAIT)
    box = img.evaluate("i => i.getBoundingClientRect().width - 24")  # less its padding
    assert abs(box - 60) < 1, box
    # Inline styles of an HTML output are kept (rendered inline, not in a frame).
    heading = output(page, 3).locator(".rk-html h3.styled")
    expect(heading).to_have_text("Red heading", timeout=WAIT)
    assert heading.evaluate("e => getComputedStyle(e).color") == "rgb(255, 0, 0)"
    expect(output(page, 3).locator("iframe")).to_have_count(0)
    # Markdown output: a GFM table, with math.
    expect(output(page, 4).locator("table td .katex")).to_have_count(1, timeout=WAIT)
    shot(page, "render-outputs")


def test_a_long_stream_shows_its_end_while_it_runs(page: Page, server: ServerProcess) -> None:
    open_code_notebook(page, server, "render-long.ipynb", [
        "import time\nfor i in range(400):\n    print(f'epoch {i}', flush=True)\n"
        "time.sleep(3)\nprint('done')",
    ])
    run_cells(page, 1)
    text = output(page, 0).locator("pre.rk-stream")
    # While the cell still runs, the last epoch is on screen and the first ones folded.
    expect(badge(page, 0)).to_contain_text("running", timeout=WAIT)
    expect(text).to_contain_text("epoch 399", timeout=WAIT)
    expect(badge(page, 0)).to_contain_text("running")
    expect(text).not_to_contain_text(re.compile(r"\bepoch 199\b"))
    expect(badge(page, 0)).to_contain_text("ok", timeout=WAIT)
    expect(text).to_contain_text("done")
    lines = text.inner_text().rstrip("\n").split("\n")
    assert lines[0] == "epoch 201" and lines[-2:] == ["epoch 399", "done"], lines[:3]
    assert len(lines) == 200
    more = output(page, 0).get_by_role("button", name="Show 201 earlier lines")
    expect(more).to_be_visible()
    # The tail scrolls in a box that starts at its end: "done" is in view in it.
    text.scroll_into_view_if_needed()
    seen = text.evaluate("""pre => {
        const box = pre.parentElement.getBoundingClientRect();
        const range = document.createRange();
        range.selectNodeContents(pre);
        const rects = [...range.getClientRects()];
        const end = rects[rects.length - 1];
        return {box: [box.top, box.bottom], end: [end.top, end.bottom], tall: pre.offsetHeight};
    }""")
    assert seen["box"][0] <= seen["end"][0] and seen["end"][1] <= seen["box"][1] + 1, seen
    assert seen["tall"] > seen["box"][1] - seen["box"][0], seen  # it does scroll
    shot(page, "render-long-stream", full_page=False)
    more.click()
    expect(more).to_have_count(0)
    expect(text).to_contain_text(re.compile(r"^epoch 0$", re.M))
    assert len(text.inner_text().rstrip("\n").split("\n")) == 401


def test_an_error_shows_its_traceback_once(page: Page, server: ServerProcess) -> None:
    open_code_notebook(page, server, "render-err.ipynb", ["1 / 0", "x = = 1"])
    run_cells(page, 1)
    expect(badge(page, 0)).to_contain_text("error", timeout=WAIT)
    page.keyboard.press("Shift+Enter")  # a queued cell after an error is not run: one by one
    expect(badge(page, 1)).to_contain_text("error", timeout=WAIT)
    zero = output(page, 0)
    expect(zero.locator(".rk-traceback")).to_contain_text("ZeroDivisionError", timeout=WAIT)
    expect(zero.locator(".rk-error-title")).to_have_count(0)
    assert zero.inner_text().count("division by zero") == 1, zero.inner_text()
    syntax = output(page, 1)
    expect(syntax.locator(".rk-traceback")).to_contain_text("SyntaxError", timeout=WAIT)
    expect(syntax.locator(".rk-error-title")).to_have_count(0)
    assert syntax.inner_text().count("SyntaxError") == 1, syntax.inner_text()
    assert not re.search(r"\d{6,}\.py", syntax.inner_text()), syntax.inner_text()
    shot(page, "render-errors")


def test_terminal_escapes_other_than_colours_never_show_as_text(
        page: Page, server: ServerProcess) -> None:
    """Escape sequences the page does not draw (erase line, cursor moves and hiding, as
    progress bars and `!pip install` print them) are dropped wherever they are, as in
    JupyterLab, not only after the last colour: no "[2K" or "[?25l" in the text."""
    path = "render-escapes.ipynb"
    status, model = rest(server, "POST", "/api/notebooks", {"path": path})
    assert status == 201
    text = ("\x1b[?25l\x1b[2K\x1b[32mgreen\x1b[0m plain\n"
            "\x1b[1A\x1b[31mred\x1b[0m\x1b[K end\n")
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"id": "esc0", "cell_type": "code", "metadata": {}, "source": "pass",
         "execution_count": 1, "outputs": [
             {"output_type": "stream", "name": "stdout", "text": text}]}]}
    status, _ = rest(server, "PUT", f"/api/notebooks/{path}",
                     {"notebook": notebook, "version": model["version"]})
    assert status == 200
    open_notebook(page, server, path)
    stream = output(page, 0).locator("pre.rk-stream")
    expect(stream).to_contain_text("green", timeout=WAIT)
    shown = stream.evaluate("pre => pre.textContent")
    assert shown == "green plain\nred end\n", repr(shown)
    expect(stream.locator("span", has_text="green")).to_have_count(1)
