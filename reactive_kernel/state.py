"""The run state of cells and the data a cascade passes around.

:class:`CellState` is the one home of a cell's run state (status, duration,
error, runs); :class:`Plan` is what one submission will run, decided before
anything runs; :class:`CascadeReport` is what happened, sent back as the
execute_reply's ``metadata.reactive``.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, Protocol

from .graph import CellId

Mode = Literal["auto", "lazy"]


def code_hash(code: str) -> str:
    """A short fingerprint of a cell's code, as the state comm publishes it: the
    CRC-32 of its UTF-8 bytes, 8 hex digits.  A frontend hashes its editor's text the
    same way to tell whether the code the kernel holds (and a cascade would re-run)
    is the one it shows (``ui/src/cellstate.js``, the JupyterLab extension)."""
    try:
        data = code.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: U+FFFD, as a browser's TextEncoder
        data = code.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()
    return f"{zlib.crc32(data):08x}"


class Status(str, Enum):
    """Run state of one cell, as shown to users."""

    IDLE = "idle"  # registered, never run
    QUEUED = "queued"
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"  # an ancestor failed in the cascade that reached it
    STALE = "stale"  # lazy mode: an ancestor changed, not re-run yet
    INTERRUPTED = "interrupted"


@dataclass
class CellState:
    """Everything the runner remembers about one cell's last run."""

    status: Status = Status.IDLE
    duration: float | None = None  # seconds of the last run
    error: str | None = None  # "ename: evalue" of the last failure
    skipped_because: CellId | None = None
    execution_count: int | None = None
    #: How many times the cell ran in this kernel (trigger or re-run): a client back
    #: from a disconnection compares it to tell which cells ran meanwhile (a re-run
    #: keeps its execution_count).
    runs: int = 0
    #: Whether its latest run (or the one running) was a re-run by a cascade,
    #: not its own request: frontends mark re-runs (↻) from it.
    rerun: bool = False
    #: Opaque handle the kernel uses to route this cell's re-run output
    #: (the cell's last execute_request); the runner only stores it.
    context: object = None
    #: The code of the cell's last run (a re-run of the same code carries over
    #: what the user set on the widgets it re-creates: see :mod:`.widgets`).
    ran_code: str | None = None
    #: When (seconds since the epoch) the kernel last replaced the cell's output: a
    #: run ended, or a skip was announced.  A page that loads a file saved before
    #: that has an older output than the kernel's (frontends say so).
    output_at: float | None = None
    #: Names the cell may pass through without reading them (``for t in ts:
    #: tree = t``) that its last run bound itself: a new value above them
    #: changes nothing it did.
    made: frozenset[str] = frozenset()
    #: The literal in-place changes of the code its last run ran (see
    #: ``CellAnalysis.literal_changes``): a module it changes the same way
    #: again is not a new value for its readers.
    settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """Result of executing one cell."""

    status: Literal["ok", "error", "interrupted"]
    error: str | None = None
    #: Where a failed run stopped: the line and column (None: unknown) in the
    #: transformed code of the top-level statement that raised, as its
    #: traceback gives them; None when unknown (the error came from IPython).
    failed_at: tuple[int, int | None] | None = None


class Executor(Protocol):
    def __call__(self, cell: CellId, code: str, trigger: bool) -> Awaitable[Outcome]: ...


@dataclass
class Plan:
    """What one submission will do, decided before anything runs."""

    trigger: CellId
    run: list[CellId]
    stale: list[CellId] = field(default_factory=list)
    #: Cells left out because their own request is already queued.
    deferred: list[CellId] = field(default_factory=list)
    #: The trigger's code (also used when the trigger is not in the graph).
    code: str = ""
    #: Affected cells on a cycle (left by a move or a deletion) or below one, in
    #: notebook order: they run last, their reads of cells below them on the
    #: cycle unbound, as top to bottom.  Also listed in ``run`` (or ``stale``).
    cyclic: list[CellId] = field(default_factory=list)
    #: Run the trigger as it is: no namespace placement, no values kept
    #: (batch inputs without a cell id, as stock ipykernel runs them).
    plain: bool = False
    #: Cells that run whatever their parents did (their reads bind elsewhere
    #: now, or the user asked); the others run only if a value they read changed.
    roots: frozenset[CellId] = frozenset()
    #: Run cells on the objects as they are, changed in place or not: no cell
    #: re-runs to re-make one (a widget's cascade: re-making the widget, or a
    #: label a reader sets, would replace it under the user's hand; the readers
    #: change the objects in place, as in stock).  Values never made, dropped for
    #: memory or stale are still made first.
    as_they_are: bool = False
    #: The client runs every cell itself (``reactiveCascade: false``): no cell
    #: runs again for what this one changed (the last writer of a file it wrote).
    alone: bool = False


@dataclass
class CascadeReport:
    """What happened; becomes ``execute_reply.metadata.reactive``."""

    ran: list[CellId] = field(default_factory=list)
    skipped: list[CellId] = field(default_factory=list)
    stale: list[CellId] = field(default_factory=list)
    deferred: list[CellId] = field(default_factory=list)
    #: Cells run first because a cell needed their values (a subset of ``ran``).
    restored: list[CellId] = field(default_factory=list)
    #: Cells not re-run: every value they read is the one they read last time.
    unchanged: list[CellId] = field(default_factory=list)
    errors: dict[CellId, str] = field(default_factory=dict)
    timings: dict[CellId, float] = field(default_factory=dict)
    skipped_because: dict[CellId, CellId] = field(default_factory=dict)
    interrupted: bool = False

    def as_metadata(self) -> dict[str, object]:
        return {
            "ran": list(self.ran),
            "skipped": list(self.skipped),
            "stale": list(self.stale),
            "deferred": list(self.deferred),
            "restored": list(self.restored),
            "unchanged": list(self.unchanged),
            "errors": dict(self.errors),
            "timings": {c: round(t * 1000, 3) for c, t in self.timings.items()},
            "skipped_because": dict(self.skipped_because),
            "interrupted": self.interrupted,
        }

    def merge(self, more: CascadeReport) -> None:
        """Append a later cascade of the same request (run-stale, cells
        registered after a move)."""
        self.ran += more.ran
        self.skipped += more.skipped
        self.restored += more.restored
        self.unchanged += more.unchanged
        self.stale = [c for c in self.stale if c not in more.ran]
        self.stale += [c for c in more.stale if c not in self.stale]
        self.errors.update(more.errors)
        self.timings.update(more.timings)
        self.skipped_because.update(more.skipped_because)
        self.deferred += [c for c in more.deferred if c not in self.deferred]
        self.interrupted = self.interrupted or more.interrupted
