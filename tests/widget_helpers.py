"""Driving ipywidgets in a browser page (the web UI, JupyterLab, Notebook 7)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect


def drag_slider(page: Page, scope: Any, fraction: float, timeout: float = 30_000) -> None:
    """Drag the first ipywidgets slider in ``scope`` (a locator) with the mouse, in ten
    moves (a drag, not a jump: widget managers send changes as it goes), to
    ``fraction`` of its track."""
    track = scope.locator(".widget-slider .noUi-target").first
    handle = scope.locator(".widget-slider .noUi-handle").first
    expect(handle).to_be_visible(timeout=timeout)
    box, grip = track.bounding_box(), handle.bounding_box()
    assert box is not None and grip is not None
    y = grip["y"] + grip["height"] / 2
    start = grip["x"] + grip["width"] / 2
    target = box["x"] + box["width"] * fraction
    page.mouse.move(start, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(start + (target - start) * step / 10, y)
    page.mouse.up()
