"""IPython's plain-text printers, made when stock makes them.

IPython's ``PlainTextFormatter`` makes its type printers on first use, with one
for NumPy's ``float64`` (``%precision`` applies to it) only if NumPy is
imported by then.  The kernel notes which cells show a float (they read
``%precision``); asking the formatter for its float printer at start would make
the printers before any cell imported NumPy, and ``np.float64(126.0)`` would
show as its repr where stock shows ``126.000000``.  So, while the printers are
not made yet, the formatter becomes a subclass of its class whose default
printers are IPython's own (its private default method ``_type_printers_default``)
with the float printers wrapped.  :func:`wrap_when_made` probes for that method
and says False when it cannot: the caller then wraps through the public
``for_type``, as before (NumPy's floats imported first then show as their repr).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from traitlets import default

Printer = Callable[[Any, Any, bool], Any]


def wrap_when_made(formatter: Any, wrap: Callable[[Printer], Printer]) -> bool:
    """Have ``formatter``'s printers for ``float`` and ``numpy.float64`` pass
    through ``wrap`` once IPython makes them; False if they are made already or
    this IPython makes them otherwise."""
    base = type(formatter)
    make = getattr(base, "_type_printers_default", None)
    has_value = getattr(formatter, "trait_has_value", None)
    if not callable(make) or not callable(has_value) or has_value("type_printers"):
        return False

    def made(self: Any) -> Any:
        printers = make(self)
        if isinstance(printers, dict):
            numpy = sys.modules.get("numpy")
            for kind in (float, getattr(numpy, "float64", None)):
                if kind is not None and kind in printers:
                    printers[kind] = wrap(printers[kind])
        return printers

    formatter.__class__ = type(base.__name__, (base,), {
        "__module__": base.__module__, "__qualname__": base.__qualname__,
        "_type_printers_default": default("type_printers")(made)})
    return True
