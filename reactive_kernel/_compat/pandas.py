"""pandas before 3.0: a selection from a frame the kernel keeps alive warns.

pandas 1 and 2 give a frame selected from another (``df.dropna()``,
``df[df.a > 0]``) a weak reference to that other (``NDFrame._is_copy``) and
show ``SettingWithCopyWarning`` when the selection is written to
(``df['b'] = ...``) while the other is alive.  Run top to bottom,
``df = df.dropna()`` frees the first frame, so nothing warns; this kernel keeps
it (the value its cell left), and pandas would warn.  After a cell runs,
:func:`release_copies` drops the reference of each frame it bound whose origin
no name holds (a name of the namespace, or IPython's ``Out``): what stock would
have freed.  Version-coupled (a private attribute of pandas < 3, where
copy-on-write made the warning go): it does nothing where the attribute is not
a weak reference.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping


def release_copies(namespace: Mapping[str, object], names: Iterable[str]) -> None:
    held: set[int] | None = None
    for name in names:
        value = namespace.get(name)
        module = getattr(type(value), "__module__", None)  # (None for some: sympy's)
        if not isinstance(module, str) or not module.startswith("pandas."):
            continue
        ref = getattr(value, "_is_copy", None)
        if not isinstance(ref, weakref.ref):
            continue
        origin = ref()
        if origin is None:
            continue
        if held is None:
            held = {id(v) for v in namespace.values()}
            out = namespace.get("Out")
            if isinstance(out, dict):
                held |= {id(v) for v in out.values()}
        if id(origin) not in held:
            try:
                value._is_copy = None  # type: ignore[attr-defined]
            except Exception:  # an odd pandas: it may warn, as it would have
                pass
