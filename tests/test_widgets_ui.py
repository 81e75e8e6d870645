"""Widgets in the web UI, in headless Chromium against a real server and kernel:
ipywidgets render, a slider moved with the mouse re-runs the cells that read it,
``tqdm.auto`` bars end at 100 %, widget state survives save and reload."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Browser, Page, expect

from .server_harness import ServerProcess
from .test_ui import (
    WAIT,
    browser,
    cell,
    kernel_graph,
    open_code_notebook,
    open_notebook,
    output,
    page,
    pytestmark,
    rest,
    second_page,
    server,
    shot,
    wait_saved,
)
from .widget_helpers import drag_slider as drag

__all__ = ["browser", "page", "pytestmark", "server"]  # fixtures and marks, re-used

SLIDER = ("import ipywidgets as w\n"
          "slider = w.IntSlider(value=10, min=0, max=100, description='n')\n"
          "slider")


def run_all_cells(page: Page, count: int) -> None:
    """Run each cell in turn with Shift+Enter."""
    cell(page, 0).locator(".cm-content").click()
    for _ in range(count):
        page.keyboard.press("Shift+Enter")


def drag_slider(page: Page, index: int, fraction: float) -> None:
    """Drag the slider of cell ``index`` with the mouse to ``fraction`` of its track."""
    drag(page, cell(page, index), fraction, WAIT)


def readout(page: Page, index: int) -> int:
    return int(cell(page, index).locator(".widget-readout").first.inner_text())


def test_a_slider_moved_with_the_mouse_reruns_its_readers(page: Page,
                                                          server: ServerProcess) -> None:
    open_code_notebook(page, server, "wslider.ipynb", [
        SLIDER,
        "print('n is', slider.value)",
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
        "ax.bar([0], [slider.value]); ax.set_ylim(0, 100); plt.show()",
    ])
    run_all_cells(page, 3)
    expect(cell(page, 0).locator(".widget-slider")).to_be_visible(timeout=WAIT)
    expect(output(page, 1)).to_have_text(re.compile(r"^\s*n is 10\s*$"), timeout=WAIT)
    image = output(page, 2).locator("img")
    expect(image).to_be_visible(timeout=WAIT)
    before = image.get_attribute("src")
    drag_slider(page, 0, 0.8)
    expect(cell(page, 0).locator(".widget-readout")).not_to_have_text("10", timeout=WAIT)
    moved = readout(page, 0)
    assert moved > 50, moved
    # The last value the slider showed is the one the reader printed, and the plot was
    # drawn again (the slider's own cell did not re-run: still one slider).
    expect(output(page, 1)).to_have_text(re.compile(rf"^\s*n is {moved}\s*$"), timeout=WAIT)
    expect(image).not_to_have_attribute("src", before or "", timeout=WAIT)
    expect(cell(page, 0).locator(".widget-slider")).to_have_count(1)
    expect(page.locator("#kernel-state")).to_have_attribute("data-state", "idle", timeout=WAIT)
    assert readout(page, 0) == moved
    shot(page, "widget-slider")


def test_tqdm_auto_ends_at_100_percent(page: Page, server: ServerProcess) -> None:
    open_code_notebook(page, server, "wtqdm.ipynb", [
        "from tqdm.auto import tqdm\nimport time\n"
        "for i in tqdm(range(30), desc='work'):\n    time.sleep(0.02)",
    ])
    run_all_cells(page, 1)
    bar = output(page, 0).locator(".widget-hprogress, .widget-progress").first
    expect(bar).to_be_visible(timeout=WAIT)
    expect(output(page, 0)).to_contain_text("30/30", timeout=WAIT)
    expect(output(page, 0)).to_contain_text("100%", timeout=WAIT)


def test_widget_state_survives_save_and_reload(page: Page, server: ServerProcess) -> None:
    open_code_notebook(page, server, "wsave.ipynb", [SLIDER, "print('n is', slider.value)"])
    run_all_cells(page, 2)
    drag_slider(page, 0, 0.3)
    expect(cell(page, 0).locator(".widget-readout")).not_to_have_text("10", timeout=WAIT)
    moved = readout(page, 0)
    expect(output(page, 1)).to_have_text(re.compile(rf"^\s*n is {moved}\s*$"), timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_saved(page)
    status, model = rest(server, "GET", "/api/notebooks/wsave.ipynb")
    assert status == 200
    state = model["notebook"]["metadata"]["widgets"][
        "application/vnd.jupyter.widget-state+json"]["state"]
    sliders = [s for s in state.values() if s["model_name"] == "IntSliderModel"]
    assert [s["state"]["value"] for s in sliders] == [moved], state
    # Reload, same kernel: the live widget comes back from the kernel, still working.
    open_notebook(page, server, "wsave.ipynb")
    expect(cell(page, 0).locator(".widget-readout")).to_have_text(str(moved), timeout=WAIT)
    drag_slider(page, 0, 0.9)
    expect(cell(page, 0).locator(".widget-readout")).not_to_have_text(str(moved), timeout=WAIT)
    again = readout(page, 0)
    expect(output(page, 1)).to_have_text(re.compile(rf"^\s*n is {again}\s*$"), timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_saved(page)
    # A new kernel (restarted): the widget is drawn from the notebook's saved state.
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#restart").click()
    expect(page.locator(".rk-toast", has_text="Kernel restarted")).to_be_visible(timeout=WAIT)
    open_notebook(page, server, "wsave.ipynb")
    expect(cell(page, 0).locator(".widget-readout")).to_have_text(str(again), timeout=WAIT)
    # ... and says it is not the kernel's (dragging it would reach nothing).
    saved_only = cell(page, 0).locator(".rk-widget")
    expect(saved_only).to_have_class(re.compile("rk-widget-dead"), timeout=WAIT)
    expect(saved_only).to_have_attribute("title", re.compile("saved state"))
    shot(page, "widget-saved-state")
    cell(page, 0).locator(".cm-content, .rk-code-view").first.click()
    page.keyboard.press("Control+Enter")
    expect(cell(page, 0).locator(".rk-widget")).not_to_have_class(re.compile("rk-widget-dead"),
                                                                   timeout=WAIT)


def test_fifty_values_in_a_second_leave_the_kernel_idle_on_the_last(
        page: Page, server: ServerProcess) -> None:
    """The slider is moved through 50 values within a second while its reader takes
    50 ms a run: the changes coalesce (the manager sends the latest once the kernel is
    idle, the kernel runs one cascade for what arrived meanwhile), the kernel is idle
    again soon, and the reader shows the last value."""
    open_code_notebook(page, server, "wfast.ipynb", [
        SLIDER, "import time\ntime.sleep(0.05)\nprint('n is', slider.value)"])
    run_all_cells(page, 2)
    expect(output(page, 1)).to_have_text(re.compile(r"^\s*n is 10\s*$"), timeout=WAIT)
    handle = cell(page, 0).locator("[role=slider]").first
    handle.focus()
    for _ in range(50):
        page.keyboard.press("ArrowRight", delay=0)
        page.wait_for_timeout(15)
    expect(cell(page, 0).locator(".widget-readout")).to_have_text("60", timeout=WAIT)
    expect(output(page, 1)).to_have_text(re.compile(r"^\s*n is 60\s*$"), timeout=15_000)
    expect(page.locator("#kernel-state")).to_have_attribute("data-state", "idle",
                                                            timeout=15_000)
    runs = kernel_graph(server, "wfast.ipynb")["cells"]["wfast1"]["runs"]
    assert runs is not None and 2 <= runs < 30, runs  # run all, then a few cascades


def test_interact_and_output_widgets_capture_their_outputs(page: Page,
                                                         server: ServerProcess) -> None:
    """``interact`` re-runs its function on every change, into an Output widget (the
    outputs of that request go to the widget, as in JupyterLab); ``with out:`` in a
    cell writes into the widget, not the cell."""
    open_code_notebook(page, server, "winteract.ipynb", [
        "from ipywidgets import interact, Output\n"
        "@interact(k=(0, 20))\ndef square(k=3):\n    print('square', k * k)",
        "out = Output()\ndisplay(out)\nwith out:\n    print('inside the widget')\n"
        "print('outside')",
    ])
    run_all_cells(page, 2)
    expect(output(page, 0).locator(".widget-output")).to_contain_text("square 9", timeout=WAIT)
    slider = output(page, 0).locator("[role=slider]").first
    slider.focus()
    page.keyboard.press("ArrowRight")

    def captured_by_the_widgets() -> None:
        expect(output(page, 0).locator(".widget-output")).to_contain_text("square 16",
                                                                          timeout=WAIT)
        expect(output(page, 0)).not_to_contain_text("square 9")
        expect(output(page, 1).locator(".widget-output")).to_have_text(
            re.compile(r"^\s*inside the widget\s*$"), timeout=WAIT)
        expect(output(page, 1)).to_contain_text("outside")

    captured_by_the_widgets()
    # Saved and reloaded (same kernel), what the widgets captured is still theirs: the
    # cells do not show it as their own output (QA: the first run's `square 9` came
    # back beside the moved slider, and was saved so).
    expect(page.locator("#kernel-state")).to_have_attribute("data-state", "idle", timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_saved(page)
    open_notebook(page, server, "winteract.ipynb")
    captured_by_the_widgets()
    assert output(page, 1).inner_text().count("inside the widget") == 1
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_saved(page)
    saved = (server.root / "winteract.ipynb").read_text()
    streams = ["".join(o["text"]) for c in json.loads(saved)["cells"] for o in c["outputs"]
               if o["output_type"] == "stream"]
    assert streams == ["outside\n"], streams


def test_a_slider_moved_in_one_tab_leaves_the_other_saved(page: Page, browser: Browser,
                                                          server: ServerProcess) -> None:
    """QA: another tab's widget cascade made this one "Unsaved changes", and its next
    slider move ended in a save conflict though nobody edited anything."""
    open_code_notebook(page, server, "wtabs.ipynb", [SLIDER, "print('n is', slider.value)"])
    run_all_cells(page, 2)
    expect(output(page, 1)).to_have_text(re.compile(r"^\s*n is 10\s*$"), timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_saved(page)
    with second_page(browser, server, "wtabs.ipynb") as other:
        expect(cell(other, 0).locator(".widget-slider")).to_be_visible(timeout=WAIT)
        cell(page, 0).locator("[role=slider]").first.focus()
        page.keyboard.press("ArrowRight")
        expect(output(other, 1)).to_have_text(re.compile(r"^\s*n is 11\s*$"), timeout=WAIT)
        wait_saved(page)  # the tab that moved it saves the new output
        wait_saved(other)
        cell(other, 0).locator("[role=slider]").first.focus()
        other.keyboard.press("ArrowRight")
        expect(output(page, 1)).to_have_text(re.compile(r"^\s*n is 12\s*$"), timeout=WAIT)
        wait_saved(other)
        wait_saved(page)
        expect(other.locator("#banner")).not_to_contain_text("conflict")
        expect(page.locator("#banner")).not_to_contain_text("conflict")


COUNTER = '''import anywidget, traitlets
class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "rk-test-counter";
      const show = () => { button.textContent = `count is ${model.get("value")}`; };
      button.onclick = () => { model.set("value", model.get("value") + 1); model.save_changes(); };
      model.on("change:value", show);
      show();
      el.appendChild(button);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)
counter = Counter()
counter'''


def test_an_anywidget_renders_and_drives_its_readers(page: Page,
                                                     server: ServerProcess) -> None:
    open_code_notebook(page, server, "wany.ipynb", [COUNTER, "print('clicks', counter.value)"])
    run_all_cells(page, 2)
    button = cell(page, 0).locator("button.rk-test-counter")
    expect(button).to_have_text("count is 0", timeout=WAIT)
    expect(output(page, 1)).to_have_text(re.compile(r"^\s*clicks 0\s*$"), timeout=WAIT)
    button.click()
    button.click()
    expect(button).to_have_text("count is 2", timeout=WAIT)
    expect(output(page, 1)).to_have_text(re.compile(r"^\s*clicks 2\s*$"), timeout=WAIT)


def test_a_kernel_that_never_answers_for_its_widgets_blocks_nothing(
        page: Page, server: ServerProcess) -> None:
    """The manager first asks the kernel for its widgets (a control comm, else each
    widget's state): a kernel that answers neither (here: both muted) costs a bounded
    wait, after which the widget still draws from its comm_open and a save completes."""
    open_code_notebook(page, server, "wmute.ipynb", [
        "import ipywidgets as w\n"
        "get_ipython().kernel.comm_manager.register_target(\n"
        "    'jupyter.widget.control', lambda comm, msg: None)\n"
        "class Mute(w.IntSlider):\n"
        "    def _handle_msg(self, msg):\n"
        "        pass  # never answers request_state\n"
        "Mute(value=42)",
    ])
    run_all_cells(page, 1)
    expect(cell(page, 0).locator(".widget-readout")).to_have_text("42", timeout=WAIT)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    wait_saved(page)



def test_widgets_of_a_restarted_kernel_say_they_are_inactive(page: Page,
                                                            server: ServerProcess) -> None:
    """Found by the web UI's exploratory test: after a restart a slider could still be
    dragged and nothing happened, with nothing to say so."""
    open_code_notebook(page, server, "wdead.ipynb", [SLIDER, "print('n is', slider.value)"])
    run_all_cells(page, 2)
    expect(output(page, 1)).to_have_text("n is 10", timeout=WAIT)
    expect(cell(page, 0).locator(".widget-slider")).to_be_visible(timeout=WAIT)
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#restart").click()
    expect(page.locator(".rk-toast", has_text="Kernel restarted")).to_be_visible(timeout=WAIT)
    dead = cell(page, 0).locator(".rk-widget")
    expect(dead).to_have_class(re.compile("rk-widget-dead"), timeout=WAIT)
    expect(dead).to_have_attribute("title", re.compile("run its cell again"))
    # Run again, the cell makes a live one.
    cell(page, 0).locator(".cm-content, .rk-code-view").first.click()
    page.keyboard.press("Control+Enter")
    expect(cell(page, 0).locator(".rk-widget")).not_to_have_class(re.compile("rk-widget-dead"),
                                                                   timeout=WAIT)


def saved_widget_notebook(state: dict, views: list[str]) -> dict:
    """A notebook file as someone else saved it: widget state in its metadata and,
    in one cell's outputs, views of those widgets (no kernel of this server has them)."""
    outputs = [{"output_type": "display_data", "metadata": {}, "data": {
        "text/plain": "widget", "application/vnd.jupyter.widget-view+json": {
            "model_id": model_id, "version_major": 2, "version_minor": 0}}}
        for model_id in views]
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {"widgets": {
        "application/vnd.jupyter.widget-state+json": {
            "version_major": 2, "version_minor": 0, "state": state}}},
        "cells": [{"id": "xss0", "cell_type": "code", "metadata": {}, "source": "w",
                   "outputs": outputs, "execution_count": 1}]}


def test_saved_widget_state_from_a_file_runs_no_script(page: Page,
                                                        server: ServerProcess) -> None:
    """A notebook file from someone else must not put its own HTML in the page when
    opened: the HTML of widgets drawn from its saved state (an HTML widget's value, an
    HTML description, an Output widget's outputs) is sanitised as any other HTML output
    (no handlers, no <style> restyling the page, no form posting elsewhere, nothing laid
    over the page). The page's CSP already stops the handlers from running."""
    evil = ("<b>bold</b><img src=x onerror=\"document.body.dataset.pwned='{}'\">"
            "<style>body {{ display: none }}</style>"
            "<form action='https://example.invalid/'><input name=token></form>"
            "<div class=over style='position: fixed; inset: 0'>over</div>")
    layout = {"model_module": "@jupyter-widgets/base", "model_module_version": "2.0.0",
              "model_name": "LayoutModel", "state": {}}
    controls = {"model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0"}
    output_widget = {"model_module": "@jupyter-widgets/output",
                     "model_module_version": "1.0.0", "model_name": "OutputModel"}
    state = {
        "lay": layout,
        "html": {**controls, "model_name": "HTMLModel", "state": {
            "value": evil.format("html"), "layout": "IPY_MODEL_lay"}},
        "math": {**controls, "model_name": "HTMLMathModel", "state": {
            "value": evil.format("math"), "layout": "IPY_MODEL_lay"}},
        "desc": {**controls, "model_name": "IntSliderModel", "state": {
            "value": 3, "description": evil.format("desc"),
            "description_allow_html": True, "layout": "IPY_MODEL_lay"}},
        "out": {**output_widget, "state": {"layout": "IPY_MODEL_lay", "outputs": [
            {"output_type": "display_data", "metadata": {},
             "data": {"text/html": evil.format("out")}},
            {"output_type": "display_data", "metadata": {},
             "data": {"text/markdown": "> quoted\n\n" + evil.format("md")}}]}},
    }
    path = "xsswidgets.ipynb"
    status, model = rest(server, "POST", "/api/notebooks", {"path": path})
    assert status == 201
    notebook = saved_widget_notebook(state, ["html", "math", "desc", "out"])
    status, _ = rest(server, "PUT", f"/api/notebooks/{path}",
                     {"notebook": notebook, "version": model["version"]})
    assert status == 200
    open_notebook(page, server, path)
    views = output(page, 0).locator(".rk-widget-dead")
    expect(views).to_have_count(4, timeout=WAIT)
    # Each is drawn, its harmless HTML kept ...
    expect(output(page, 0).locator(".widget-html b, .widget-htmlmath b")).to_have_count(
        2, timeout=WAIT)
    expect(output(page, 0).locator(".widget-output b")).to_have_count(2, timeout=WAIT)
    expect(output(page, 0).locator(".widget-output blockquote")).to_have_text("quoted")
    expect(output(page, 0).locator(".widget-slider")).to_be_visible(timeout=WAIT)
    page.wait_for_timeout(500)
    # ... and no handler of the file ran.
    assert page.evaluate("document.body.dataset.pwned || ''") == ""
    for selector in ("[onerror]", "style", "form", "[style*=fixed]"):
        assert output(page, 0).locator(selector).count() == 0, selector
    expect(page.locator("body")).to_be_visible()
