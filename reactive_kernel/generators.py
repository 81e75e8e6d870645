"""The global random generators' state as a value: ``numpy.random``'s legacy
generator (``np.random.seed``, ``np.random.rand``...) and ``random``'s
(``random.seed``, ``random.random``...).

A cell that draws from one of them reads and changes a pseudo-name
(:data:`GLOBAL_GENERATORS`); one that seeds it defines it.  The value a cell
leaves is a snapshot of the generator's state, and before a cell runs the
generator is set to the state its nearest drawer above left: a cell draws what
it drew top to bottom, and an edit that draws more or less re-runs the drawers
below in order.  Nothing here imports numpy: a generator whose module is not
loaded has no state to keep.
"""

from __future__ import annotations

import sys

#: Pseudo-names of the global generators (not identifiers: no cell binds them).
NUMPY = "<np.random>"
STDLIB = "<random>"
GLOBAL_GENERATORS = frozenset({NUMPY, STDLIB})


def is_generator_name(name: str) -> bool:
    return name in GLOBAL_GENERATORS


def of_module(module: object) -> str | None:
    """The pseudo-name of the global generator ``module`` draws from, if any."""
    name = getattr(module, "__name__", None)
    if name == "numpy.random" and module is sys.modules.get("numpy.random"):
        return NUMPY
    if name == "random" and module is sys.modules.get("random"):
        return STDLIB
    return None


def of_function(value: object) -> str | None:
    """The pseudo-name of the global generator whose bound method ``value`` is
    (``rand`` and ``seed`` after ``from numpy.random import rand, seed`` or
    ``from pylab import *``, ``choice`` after ``from random import choice``)."""
    owner = getattr(value, "__self__", None)
    if owner is None or isinstance(owner, type):
        return None
    # The global generators, through public functions bound to them.
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None and owner is getattr(getattr(numpy_random, "rand", None),
                                                     "__self__", None):
        return NUMPY
    stdlib = sys.modules.get("random")
    if stdlib is not None and owner is getattr(getattr(stdlib, "random", None),
                                               "__self__", None):
        return STDLIB
    return None


def snapshot(name: str) -> object:
    """The generator's state now (None: its module is not loaded)."""
    module = sys.modules.get("numpy.random" if name == NUMPY else "random")
    if module is None:
        return None
    try:
        return module.get_state(legacy=False) if name == NUMPY else module.getstate()
    except Exception:  # a replaced or broken module: nothing to keep
        return None


def restore(name: str, state: object) -> None:
    """Set the generator to ``state`` (a :func:`snapshot`)."""
    if state is None:
        return
    module = sys.modules.get("numpy.random" if name == NUMPY else "random")
    if module is None:
        return
    try:
        if name == NUMPY:
            module.set_state(state)
        else:
            module.setstate(state)
    except Exception:  # a state from another version of the module: left as it is
        pass


def is_generator_object(value: object) -> bool:
    """A random generator object whose state can be kept: numpy's ``Generator``
    and ``RandomState``, ``random.Random`` (not ``SystemRandom``: no state)."""
    kind = type(value)
    module = getattr(kind, "__module__", "") or ""
    if module.startswith("numpy.random"):
        return kind.__name__ in ("Generator", "RandomState")
    stdlib = sys.modules.get("random")
    # (By its type: ``isinstance`` would ask the object for its ``__class__``.)
    return stdlib is not None and issubclass(kind, stdlib.Random) \
        and not issubclass(kind, stdlib.SystemRandom)


def object_state(value: object) -> object:
    """The state of a generator object now (None: not one, or unreadable)."""
    try:
        if type(value).__name__ == "Generator":
            return value.bit_generator.state  # type: ignore[attr-defined]
        if type(value).__name__ == "RandomState":
            return value.get_state(legacy=False)  # type: ignore[attr-defined]
        return value.getstate()  # type: ignore[attr-defined]
    except Exception:
        return None


def set_object_state(value: object, state: object) -> None:
    """Set a generator object to ``state`` (an :func:`object_state`)."""
    if state is None:
        return
    try:
        if type(value).__name__ == "Generator":
            value.bit_generator.state = state  # type: ignore[attr-defined]
        elif type(value).__name__ == "RandomState":
            value.set_state(state)  # type: ignore[attr-defined]
        else:
            value.setstate(state)  # type: ignore[attr-defined]
    except Exception:
        pass


def same_state(a: object, b: object) -> bool:
    """Whether two snapshots are the same state (arrays compared by value)."""
    if type(a) is not type(b):
        return False
    shape = getattr(a, "shape", None)
    if shape is not None:
        try:
            return bool(shape == getattr(b, "shape", None) and a.dtype == b.dtype  # type: ignore[attr-defined]
                        and a.tobytes() == b.tobytes())  # type: ignore[attr-defined]
        except Exception:
            return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    try:
        return bool(a == b)  # random's state: a tuple of numbers, compared at once
    except Exception:
        pass
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list))
        return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b, strict=True))
    return False
