"""Memory shared between objects (``reactive_kernel/views.py``): what a write
through one array changes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reactive_kernel import views
from reactive_kernel.views import Watch, arrays, shares


def test_a_write_into_a_view_is_seen_in_the_array_it_views_only() -> None:
    a = np.zeros(10)
    v, other = a[2:5], a[5:]
    watch = Watch.before([v])
    assert watch is not None and watch.written() == []
    v[0] = 1
    written = watch.written()
    assert len(written) == 1 and written[0] is v
    assert shares(written, a)
    assert not shares(written, other)  # the same buffer, not the same memory
    assert not shares(written, a.copy())
    assert shares(written, [v]) is False  # containers are the caller's to open


def test_interleaved_strides_do_not_count_as_shared() -> None:
    a = np.arange(10.0)
    evens, odds = a[::2], a[1::2]
    watch = Watch.before([evens])
    assert watch is not None
    evens[:] = 0
    assert not shares(watch.written(), odds)
    assert shares(watch.written(), a)


def test_object_arrays_are_watched_by_identity() -> None:
    a = np.array(["x", "y", "z"], dtype=object)
    v = a[:2]
    watch = Watch.before([v])
    assert watch is not None
    v[1] = "y"  # the same (cached one-letter) string object: nothing written
    assert watch.written() == []
    v[1] = ["new"]
    assert shares(watch.written(), a)


def test_too_much_to_fingerprint_is_not_watched(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(views, "WATCH_BYTES", 64)
    assert Watch.before([np.zeros(100)]) is None
    assert Watch.before([np.zeros(4)]) is not None
    assert Watch.before([1, "text", None]) is None


def test_pandas_objects_share_memory_only_without_copy_on_write() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    column = frame["a"]
    if int(pd.__version__.split(".")[0]) >= 3:
        # Copy-on-write: a write through one object never reaches another.
        assert arrays(frame) == [] and arrays(column) == []
    else:
        watch = Watch.before([column])
        assert watch is not None
        column.iloc[0] = 9.0
        assert shares(watch.written(), frame)


class _Holder:
    def __init__(self) -> None:
        self.ys = np.arange(4.0)
        self.label = "wave"


def test_contents_finds_the_data_a_run_changed_directly_or_as_an_attribute() -> None:
    holder, frame, series = _Holder(), pd.DataFrame({"a": [1.0, 2.0]}), pd.Series([1, 2])
    namespace: dict[str, object] = {"h": holder, "df": frame, "s": series, "n": 3,
                                    "f": print, "t": _Holder}
    contents = views.Contents.before(namespace.items())
    assert contents is not None
    assert contents.changed(namespace) == frozenset()
    holder.ys *= 2
    series.iloc[0] = 5  # (a write into pandas' own data, copy-on-write or not)
    holder.label = "other"  # not data
    assert contents.changed(namespace) == {"h", "s"}
    namespace["df"] = frame.copy()  # rebound: not a change of the object it held
    frame.iloc[0, 0] = 9.0
    assert contents.changed(namespace) == {"h", "s"}


def test_contents_takes_at_most_its_budget(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(views, "CONTENTS_BYTES", 100)
    small, large = np.zeros(4), np.zeros(100)
    contents = views.Contents.before([("small", small), ("large", large)])
    assert contents is not None
    small[0] = large[0] = 1
    assert contents.changed({"small": small, "large": large}) == {"small"}


def test_a_frame_too_large_for_the_budget_is_not_taken_apart(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(views, "CONTENTS_BYTES", 1000)
    monkeypatch.setattr(views, "CONTENTS_OBJECTS", 0)
    wide = pd.DataFrame(np.zeros((10, 200)))
    taken: list[object] = []
    monkeypatch.setattr(views, "_data", lambda value, **k: taken.append(value) or [])
    assert views.Contents.before([("wide", wide)]) is None
    assert taken == []
    narrow = wide.iloc[:, :2]
    views.Contents.before([("narrow", narrow)])
    assert taken and taken[0] is narrow


class _Raising:
    """An object answering attribute lookups with KeyError (a record type)."""

    def __getattr__(self, name: str) -> object:
        raise KeyError(name)


def test_only_arrays_series_and_frames_are_asked_for_a_shape() -> None:
    """The review of 2026-12-06: ``.shape`` was read on every object a cell
    reads or changes: a lazy query (DuckDB's relation) ran in full, a
    ``MagicMock`` grew a child, and an object raising KeyError failed the cell."""
    from unittest.mock import MagicMock

    mock = MagicMock()
    assert views.Watch.before([mock, _Raising()]) is None
    assert views.Contents.before([("m", mock), ("r", _Raising())]) is None
    assert "shape" not in dir(mock) and not mock._mock_children


def test_extension_columns_made_anew_by_to_numpy_do_not_count_as_changed() -> None:
    """The review of 2026-12-06: a text column (pandas 3's strings) or a
    tz-aware one gives new objects on each ``to_numpy()``: the frame looked
    changed after every run of a cell reading it, which re-made it."""
    frame = pd.DataFrame({"name": pd.array(["a", "b"], dtype="string"),
                          "t": pd.date_range("2020", periods=2, tz="UTC"),
                          "age": [30, 40]})
    namespace: dict[str, object] = {"df": frame}
    contents = views.Contents.before(namespace.items())
    assert contents is not None
    assert contents.changed(namespace) == frozenset()
    frame.loc[0, "age"] = 31
    assert contents.changed(namespace) == {"df"}

