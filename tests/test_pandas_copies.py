"""``reactive_kernel._compat.pandas.release_copies``: pandas < 3's reference from a
selection to the frame it came from (``_is_copy``) is dropped when no name holds
that frame, as stock frees it, so writing to the selection does not warn
(``SettingWithCopyWarning``) where a top-to-bottom run would not.

The suite runs pandas 3, which has no such reference; these tests give the function
objects shaped as pandas 2's (a module under ``pandas.``, ``_is_copy`` a weak
reference).  The audit's bug script ran it against pandas 2.3 itself.
"""

from __future__ import annotations

import weakref

from reactive_kernel._compat.pandas import release_copies


class Frame:
    """Shaped as a pandas 2 frame, as far as ``release_copies`` looks."""

    __module__ = "pandas.core.frame"

    def __init__(self, origin: Frame | None = None) -> None:
        self._is_copy = weakref.ref(origin) if origin is not None else None


def test_a_selection_whose_origin_no_name_holds_is_released() -> None:
    origin = Frame()
    ns: dict[str, object] = {"df": Frame(origin)}
    release_copies(ns, ["df"])
    assert ns["df"]._is_copy is None  # type: ignore[attr-defined]


def test_a_selection_whose_origin_a_name_or_out_holds_keeps_it() -> None:
    raw, shown = Frame(), Frame()
    ns: dict[str, object] = {"raw": raw, "df": Frame(raw), "Out": {3: shown},
                             "top": Frame(shown)}
    release_copies(ns, ["df", "top"])
    assert ns["df"]._is_copy is not None  # type: ignore[attr-defined]
    assert ns["top"]._is_copy is not None  # type: ignore[attr-defined]


def test_other_values_and_names_not_given_are_left_alone() -> None:
    origin = Frame()
    kept = Frame(origin)

    class Other:
        _is_copy = weakref.ref(origin)

    other = Other()
    ns: dict[str, object] = {"kept": kept, "other": other, "n": 1}
    release_copies(ns, ["other", "n", "missing"])
    assert kept._is_copy is not None and other._is_copy is not None
