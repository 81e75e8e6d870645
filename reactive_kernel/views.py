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
import types
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

#: Bytes of numeric arrays fingerprinted before a cell runs, at most.
WATCH_BYTES = 16 * 1024 * 1024
#: Items of object arrays (pandas' strings before 3.0) fingerprinted, at most.
WATCH_OBJECTS = 200_000
#: The same for what a cell reads (:class:`Contents`): most cells read data, few
#: change it, so less (a read 4 MiB frame costs about 3 ms a run).
CONTENTS_BYTES = 4 * 1024 * 1024
CONTENTS_OBJECTS = 50_000
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
    """The NumPy arrays holding ``value``'s data, as far as a write through one
    object reaches another: itself (an array), a pandas Series' values or a
    DataFrame's columns' (pandas < 3 only); none for anything else."""
    return _data(value, copy_on_write=False)


def _data(value: object, copy_on_write: bool) -> list[Any]:
    """The NumPy arrays of an array, Series or DataFrame (a subclass too:
    empiricaldist's ``Pmf``); pandas' with copy-on-write only if asked."""
    np = sys.modules.get("numpy")
    if np is None:
        return []
    try:
        if isinstance(value, np.ndarray):
            return [value]
        pd = sys.modules.get("pandas")
        if pd is None or not isinstance(value, (pd.Series, pd.DataFrame)):
            return []
        if not copy_on_write and not _pandas_views(pd):
            return []
        columns = [value] if isinstance(value, pd.Series) else [
            value.iloc[:, i] for i in range(min(value.shape[1], COLUMNS))]
        found = []
        for column in columns:
            array = column.to_numpy()
            if array.dtype.hasobject and not isinstance(column.dtype, np.dtype):
                # An extension type's values as objects (pandas 3's strings,
                # tz-aware times): made anew by each ``to_numpy()``, no data of
                # the object's own.
                continue
            found.append(array)
    except Exception:  # an object answering ``isinstance`` or lookups its own way
        return []
    return [a for a in found if isinstance(a, np.ndarray)]


def _is_data(value: object) -> bool:
    """Whether ``value`` is a NumPy array, a pandas Series or a DataFrame."""
    np = sys.modules.get("numpy")
    if np is None:
        return False
    try:
        if isinstance(value, np.ndarray):
            return True
        pd = sys.modules.get("pandas")
        return pd is not None and isinstance(value, (pd.Series, pd.DataFrame))
    except Exception:  # an object answering ``isinstance`` its own way
        return False


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
            if _too_large(value, [WATCH_BYTES, 0]):
                return None
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


#: Attributes of an object looked at for the arrays it holds (``wave.ys``); an
#: object with more (a matplotlib ``Axes``) is not looked into.
ATTRIBUTES = 64


class Contents:
    """What the arrays, Series and DataFrames a cell reads hold before it runs,
    directly or as attributes of an object (``wave.ys``): after it, the names
    whose object's data changed, though the analysis saw no change of them (an
    installed library's method: empiricaldist's ``pmf.normalize()``, NumPy's
    ``np.fill_diagonal(a, 0)``).  Fingerprints take at most
    :data:`CONTENTS_BYTES` (and :data:`CONTENTS_OBJECTS` items of object arrays)
    per cell: a name past them is not looked at.  No reference to an array is kept
    while the cell runs (pandas' copy-on-write would copy on the next write)."""

    def __init__(self, np: Any, kept: dict[str, tuple[object, object]]) -> None:
        self._np = np
        self._kept = kept

    @classmethod
    def before(cls, values: Iterable[tuple[str, object]]) -> Contents | None:
        np = sys.modules.get("numpy")
        if np is None:
            return None
        budget = [CONTENTS_BYTES, CONTENTS_OBJECTS]
        kept: dict[str, tuple[object, object]] = {}
        for name, value in values:
            try:
                fingerprint = _contents(np, value, budget)
            except Exception:  # an object refusing attribute lookups (``isinstance``)
                continue
            if fingerprint is not None:
                kept[name] = (value, fingerprint)
        return cls(np, kept) if kept else None

    def changed(self, namespace: Mapping[str, object]) -> frozenset[str]:
        """The names still bound to the same object whose data changed."""
        found = set()
        budget = [sys.maxsize, sys.maxsize]
        for name, (value, before) in self._kept.items():
            try:
                if namespace.get(name) is value \
                        and _contents(self._np, value, budget) != before:
                    found.add(name)
            except Exception:  # an object that stopped answering
                continue
        return frozenset(found)


#: Values holding no array of their own (the common reads: looked at first).
_NO_ARRAYS = frozenset({int, float, bool, str, bytes, complex, type(None), tuple, list, dict,
                    set, frozenset, range, type, types.FunctionType, types.ModuleType,
                    types.BuiltinFunctionType, types.MethodType})


def _contents(np: Any, value: object, budget: list[int]) -> object | None:
    """A fingerprint of the data of an array, Series or DataFrame, or of the
    ones an object holds as attributes; None if it holds none, or they do not
    fit in ``budget`` (bytes, object items; taken from it)."""
    if type(value) in _NO_ARRAYS:
        return None
    if _too_large(value, budget):
        return None
    data = _data(value, copy_on_write=True)
    if data:
        return _arrays_contents(np, value, data, budget)
    if isinstance(value, (type, types.ModuleType, types.FunctionType, types.MethodType,
                          types.BuiltinFunctionType)) \
            or getattr(type(value), "__module__", "").startswith(("pandas.", "numpy")):
        return None  # (pandas' and NumPy's own objects: their data or nothing)
    attributes = getattr(value, "__dict__", None)
    if not isinstance(attributes, dict) or not attributes or len(attributes) > ATTRIBUTES:
        return None
    parts = []
    for key, item in list(attributes.items()):
        if type(item) in _NO_ARRAYS:
            continue
        if _too_large(item, budget):
            return None
        data = _data(item, copy_on_write=True)
        if data:
            fingerprint = _arrays_contents(np, item, data, budget)
            if fingerprint is None:
                return None
            parts.append((key, fingerprint))
    return tuple(parts) if parts else None


def _too_large(value: object, budget: list[int]) -> bool:
    """Whether ``value``, an array, Series or DataFrame, has a shape too large
    for what is left of ``budget``, whatever it holds: not worth taking apart (a
    wide DataFrame's columns).  Nothing else is asked for a shape (a lazy
    query's computes its result; a mock makes one)."""
    if not _is_data(value):
        return False
    try:
        shape = value.shape  # type: ignore[attr-defined]
    except Exception:
        return True
    if not isinstance(shape, tuple):
        return False
    count = 1
    for size in shape:
        count *= size if isinstance(size, int) else 1
    return count * 8 > budget[0] + budget[1] * 8


def _arrays_contents(np: Any, value: object, data: list[Any], budget: list[int]) -> object | None:
    # The memory the arrays lie in, once each (a DataFrame's columns are views
    # of one block).
    # (Not a base much larger than the data: a Series viewing one column.)
    owners: dict[int, Any] = {}
    total = sum(a.nbytes for a in data)
    for array in data:
        base = array.base
        owner = base if isinstance(base, np.ndarray) and base.nbytes <= 2 * total and (
            base.flags.c_contiguous or base.flags.f_contiguous) else array
        owners.setdefault(id(owner), owner)
    size = sum(a.nbytes for a in owners.values() if not a.dtype.hasobject)
    items = sum(a.size for a in owners.values() if a.dtype.hasobject)
    if size > budget[0] or items > budget[1]:
        return None
    try:
        prints = tuple(_fingerprint(np, a) for a in owners.values())
        shape = getattr(value, "shape", None)
        columns = getattr(value, "columns", None)
        labels = tuple(columns[:COLUMNS]) if columns is not None else None
    except Exception:  # an array NumPy cannot lay out as bytes
        return None
    budget[0] -= size
    budget[1] -= items
    return (shape, labels, prints)
