"""Speed-ups that lean on private internals of ipykernel and IPython, fenced in one place.

Each *fast path* replaces a public path that works everywhere:

- ``reruns``: an unchanged cell re-runs from compiled code cached per cell
  (:mod:`.compiling`) through IPython's ``run_code`` (:mod:`.rerun`, the steps
  of ``run_cell_async`` minus those only a new cell needs), instead of
  ``InteractiveShell.run_cell_async``;
- ``history``: inputs are written to IPython's history database at most once
  a second (:mod:`.history`), instead of once per input.

:func:`install` turns a fast path on only for the ipykernel and IPython major
versions it was written and tested against (:data:`TESTED`), and only if its
probe passes; otherwise the kernel keeps the public path, which is always
correct.  It logs which are active.

Measured (2026-12-03, 100-cell chain, edit of the root against the same cells
run by hand on stock): 0.055 with every fast path, 0.065-0.08 with ``reruns``
and ``history`` only, 0.11-0.14 with none.  A third one, lending the IOPub
socket to the kernel's thread during a cascade and flushing re-run cells'
streams from it, bought the rest (about 25 ms per 100 re-run cells) with 400
lines of threading against ipykernel's internals; it was deleted.
``ReactiveKernel.fast_paths = False``, or the environment variable
``REACTIVE_KERNEL_FAST_PATHS=0``, forces every one off (a comma-separated list
of names keeps only those); CI runs the kernel tests both ways.

Outside this package the kernel uses no underscored name of ipykernel or
IPython: what a re-run needs beyond ``run_cell_async`` (``input()`` refused,
an interrupt cancelling an async re-run, the request's ZMQ identity kept with
its parent header) it does itself, with the standard library and the public
``set_parent``.

The peek at queued execute_requests (so a cascade leaves a cell whose own
request is already queued to that request) is not a speed-up but protocol
behaviour, through ipykernel's public ``shell_channel_thread_main``.  The
kernel checks that the first shell request passed it and logs a warning if not;
``ReactiveKernel.peek_queued = False`` or ``REACTIVE_KERNEL_PEEK=0`` turns it
off, and a test runs a pipelined Run All that way: such a cell then runs twice,
with the same outputs and values.  The same peek counts queued ``comm_msg``s so
that a burst of widget changes makes one cascade (:mod:`..widgets`); without it
each change makes its own, still correct; and it answers a signed ``reactive``
``comm_open`` as it arrives (:mod:`..statecomm`); without it the answer comes when
the requests queued before the open are done.

One library's private attribute is used too, for correctness rather than speed:
pandas < 3's reference from a selection to the frame it came from, dropped when
no name holds that frame (:mod:`.pandas`), so a value the kernel keeps does not
make pandas warn where stock would not; it does nothing on pandas 3.  And
ipykernel's own: the pipes its threads read file descriptors 1 and 2 from
(:mod:`.fdoutput`), so the text a cell's child processes wrote is the cell's
even when the next cell of a cascade starts at once; without them that text
may show in the next cell, as before.  And IPython's default plain-text
printers, made when stock makes them so that ``%precision`` reaches NumPy's
``float64`` as in stock (:mod:`.formatters`); without that method, or with
``REACTIVE_KERNEL_FAST_PATHS=0``, the float printer is wrapped at start through
the public ``for_type``, and such floats show as their repr.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

log = logging.getLogger(__name__)

#: Major versions each fast path was written against and tested with.
TESTED: dict[str, tuple[int, ...]] = {"ipykernel": (7,), "IPython": (9,)}

FAST_PATHS = ("reruns", "history")


def _major(version: str) -> int:
    try:
        return int(version.split(".")[0])
    except ValueError:
        return -1


def versions_tested() -> bool:
    """Whether the running ipykernel and IPython are versions the fast paths know."""
    return (_major(version("ipykernel")) in TESTED["ipykernel"]
            and _major(version("ipython")) in TESTED["IPython"])


def wanted(setting: bool) -> set[str]:
    """The fast paths the kernel's ``fast_paths`` setting and the environment
    (``REACTIVE_KERNEL_FAST_PATHS``: ``0``, ``1`` or a list of names) allow."""
    if not setting:
        return set()
    value = os.environ.get("REACTIVE_KERNEL_FAST_PATHS", "1").strip()
    if value in ("", "1"):
        return set(FAST_PATHS)
    if value == "0":
        return set()
    return {name.strip() for name in value.split(",")} & set(FAST_PATHS)


def private_allowed(setting: bool) -> bool:
    """Whether the private internals used for correctness rather than speed
    (:mod:`.formatters`) may be: not when every fast path is forced off
    (``REACTIVE_KERNEL_FAST_PATHS=0``), so that CI's run of the kernel tests
    that way takes their public paths too."""
    return setting and os.environ.get("REACTIVE_KERNEL_FAST_PATHS", "1").strip() != "0"


@dataclass
class FastPaths:
    """Which fast paths are on in this kernel, and their objects."""

    reruns: bool = False
    history: bool = False
    reasons: dict[str, str] = field(default_factory=dict)

    def active(self) -> list[str]:
        return [name for name in FAST_PATHS if getattr(self, name)]


def install(kernel: Any, setting: bool, history_interval: float) -> FastPaths:
    """Probe and turn on the fast paths for ``kernel`` (an IPythonKernel)."""
    from .compiling import CachingCompilerProxy
    from .history import HistoryWriter

    paths = FastPaths()
    allowed = wanted(setting)
    if not allowed:
        paths.reasons = dict.fromkeys(FAST_PATHS, "turned off")
    elif not versions_tested():
        reason = (f"ipykernel {version('ipykernel')} / IPython {version('ipython')} "
                  "not among the versions tested")
        paths.reasons = dict.fromkeys(FAST_PATHS, reason)
    else:
        for name in set(FAST_PATHS) - allowed:
            paths.reasons[name] = "turned off"
        if "reruns" in allowed:
            proxy = CachingCompilerProxy(kernel.shell.compile)
            paths.reruns = proxy.probe(kernel.shell)
            if paths.reruns:
                kernel._compile_cache = proxy
            else:
                paths.reasons["reruns"] = "the shell's compiler or run_code differ"
        if "history" in allowed:
            paths.history = HistoryWriter.usable(kernel.shell.history_manager)
            if paths.history:
                kernel._history = HistoryWriter(kernel.shell.history_manager,
                                                history_interval)
            else:
                paths.reasons["history"] = "the history manager differs"
    on = paths.active()
    log.info("Reactive kernel fast paths: %s%s", ", ".join(on) or "none",
             "".join(f"; {name} off: {why}" for name, why in paths.reasons.items()))
    return paths
