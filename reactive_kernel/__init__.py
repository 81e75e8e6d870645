"""A reactive kernel for Jupyter: cells re-run when what they read changes."""

from __future__ import annotations

__version__ = "0.1.0"
KERNEL_NAME = "reactive"
DISPLAY_NAME = "Python 3 (reactive)"
