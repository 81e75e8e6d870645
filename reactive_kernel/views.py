"""Objects that share memory: a change written through one shows in the others.

``v = a[:2]`` (a NumPy view) above ``v[0] = 5`` changes ``a`` as well, and with
pandas < 3 (no copy-on-write) so does ``vals = df['value']`` above
``vals[5] = 0`` for ``df``.  The runner counts such names as changed in place
by the cell (see :meth:`.runner.Runner.aliased`), but only when the cell really
wrote into the memory they share: :class:`Watch` takes a fingerprint of the
arrays a cell may change before it runs, and :meth:`Watch.written` gives those
whose contents differ after.  Adding a column to a frame (``df['b'] = 1``)
writes into no array a view of the frame holds, so the view is left alone.

Only NumPy arrays, pandas Series and the first :data:`COLUMNS` columns of a
DataFrame are looked at, and only while NumPy is loaded; a cell changing more
than :data:`WATCH_BYTES` of arrays (or :data:`WATCH_OBJECTS` items of object
arrays) is not watched (the views of its objects are not followed).  Nothing
here imports NumPy or pandas.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Iterable
from typing import Any

#: Bytes of numeric arrays fingerprinted before a cell runs, at most.
WATCH_BYTES = 16 * 1024 * 1024
#: Items of object arrays (pandas' strings before 3.0) fingerprinted, at most.
WATCH_OBJECTS = 200_000
#: Columns of a DataFrame looked at.
COLUMNS = 256
#: Work NumPy may spend proving two strided arrays do not overlap.
_MAX_WORK = 1000


def _pandas_views(pd: Any) -> bool:
    """Whether pandas' objects here can be changed through another one: before
    pandas 3.0 with copy-on-write not switched on."""
    try:
        if int(str(pd.__version__).split(".")[0]) >= 3:
            return False
        return pd.get_option("mode.copy_on_write") is not True
    except Exception:  # a pandas we do not know: follow nothing
        return False


def arrays(value: object) -> list[Any]:
    """The NumPy arrays holding ``value``'s data: itself (an array), a pandas
    Series' values, a DataFrame's columns' (pandas < 3 only); none for anything
    else."""
    np = sys.modules.get("numpy")
    if np is None:
        return []
    if isinstance(value, np.ndarray):
        return [value]
    if not getattr(type(value), "__module__", "").startswith("pandas."):
        return []
    pd = sys.modules.get("pandas")
    if pd is None or not _pandas_views(pd):
        return []
    try:
        if isinstance(value, pd.Series):
            found = [value.to_numpy()]
        elif isinstance(value, pd.DataFrame):
            found = [value.iloc[:, i].to_numpy()
                     for i in range(min(value.shape[1], COLUMNS))]
        else:
            return []
    except Exception:  # a frame answering its own way
        return []
    return [a for a in found if isinstance(a, np.ndarray)]


def _fingerprint(np: Any, array: Any) -> object:
    if array.dtype.hasobject:
        return tuple(map(id, array.ravel(order="K")))
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


class Watch:
    """The arrays of the objects a cell may change, with their contents'
    fingerprints before it runs."""

    def __init__(self, np: Any, watched: list[tuple[Any, object]]) -> None:
        self._np = np
        self._watched = watched

    @classmethod
    def before(cls, values: Iterable[object]) -> Watch | None:
        """A watch of ``values``' arrays, or None when they hold none or too
        many bytes to fingerprint cheaply."""
        np = sys.modules.get("numpy")
        if np is None:
            return None
        found: dict[int, Any] = {}
        for value in values:
            for array in arrays(value):
                found.setdefault(id(array), array)
        if not found:
            return None
        size = sum(a.nbytes for a in found.values() if not a.dtype.hasobject)
        items = sum(a.size for a in found.values() if a.dtype.hasobject)
        if size > WATCH_BYTES or items > WATCH_OBJECTS:
            return None
        try:
            return cls(np, [(a, _fingerprint(np, a)) for a in found.values()])
        except Exception:  # an array NumPy cannot lay out as bytes
            return None

    def written(self) -> list[Any]:
        """The watched arrays whose contents changed since :meth:`before`."""
        np = self._np
        changed = []
        for array, before in self._watched:
            try:
                if _fingerprint(np, array) != before:
                    changed.append(array)
            except Exception:
                changed.append(array)
        return changed


def shares(written: list[Any], value: object) -> bool:
    """Whether ``value``'s data lies (in part) in the memory of an array of
    ``written``."""
    if not written:
        return False
    np = sys.modules.get("numpy")
    if np is None:
        return False
    for array in arrays(value):
        for other in written:
            if array is other:
                return True
            if not np.may_share_memory(array, other):
                continue
            try:
                if np.shares_memory(array, other, max_work=_MAX_WORK):
                    return True
            except Exception:  # too hard to tell: take it as shared
                return True
    return False
