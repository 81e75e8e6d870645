"""Which readers of a widget re-run when a user changes it (pure: the code only)."""

from __future__ import annotations

import pytest

from reactive_kernel.widgets import reads_widget_value

NAMES = frozenset({"slider"})


@pytest.mark.parametrize("code", [
    "print(slider.value)",
    "n = slider.value * 2",
    "x = slider",  # another name for it: what reads x may read the value
    "plot(slider)",  # the function may read slider.value
    "f(value=slider)",
    "panel.children[0].value if slider.disabled else 0",
    "def total():\n    return slider.value\n",
    "[s.value for s in [slider]]",
    "get_ipython().run_cell_magic('sql', '', 'select {slider.value}')",  # no Name node
    "slider.value += 1",
    "slider.value = other.value + slider.value",
])
def test_reads(code: str) -> None:
    assert reads_widget_value(code, NAMES)


@pytest.mark.parametrize("code", [
    "slider.observe(handler, names='value')",
    "slider.close()",
    "slider",
    "display(slider)",
    "display(w.HBox([slider, out]))",
    "ui = widgets.VBox(children=[slider])",
    "w.jslink((slider, 'value'), (other, 'value'))",
    "out = interactive_output(f, {'n': slider})",
    "interact(f, n=slider)",
    # wiring anywhere in the cell: re-running it would add another handler
    "def on_change(change):\n    print(slider.value)\nslider.observe(on_change, 'value')",
    "button.on_click(lambda b: print(slider.value))",
    # Widgets QA: only setting it; re-run on each move, it undid the move.
    "slider.value = other.value * 2",
    "slider.max = 10",
])
def test_only_uses(code: str) -> None:
    assert not reads_widget_value(code, NAMES)
