"""Outputs a notebook's cells produced since the notebook was last saved, per cell.

A page that reloads (or reconnects) while its kernel runs, or after cells ran
and before anyone saved, loads the notebook file: the outputs of those runs are
in no file, and the kernel's iopub messages went to the clients that were
connected then.  :class:`OutputLog` keeps, for each cell, the iopub messages of
its current output (everything since the message that last reset it: the
cell's ``execute_input`` or a ``clear_output`` without ``wait``), as long as
they are newer than the notebook's last save, so a client that connects gets
them (``outputs_replay``) and shows what the kernel did, not the file's older
outputs.

Messages are kept as the bytes the kernel sent (content and metadata), never
re-encoded.  Cells are named by the ``cellId`` the reactive kernel puts in the
metadata of every output message.  Memory is bounded: past ``limit`` bytes the
cells least recently changed are dropped and listed as ``lost``, so a client
can say that their output did not reach it rather than show an old one.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

#: The iopub messages that make up a cell's output.
OUTPUT_TYPES = frozenset({"stream", "display_data", "update_display_data", "execute_result",
                          "error", "clear_output"})
#: Messages that start a cell's output afresh (besides ``clear_output`` without wait).
RESET_TYPES = frozenset({"execute_input"})
#: Comm messages, which say what an Output widget captures.
COMM_TYPES = frozenset({"comm_open", "comm_msg", "comm_close"})

#: Display ids whose cells are remembered, at most (the oldest are forgotten).
_DISPLAYS = 4096

#: Seconds before a save that outputs are still kept for: the saving client wrote
#: its file from what it had received a moment before the save reached the server.
SAVE_MARGIN = 10.0


@dataclass
class _CellLog:
    messages: list[bytes] = field(default_factory=list)
    size: int = 0
    changed_at: float = 0.0


class OutputLog:
    """Per-cell output messages since the last save, bounded by ``limit`` bytes."""

    def __init__(self, limit: int = 32 * 2**20) -> None:
        self.limit = limit
        self._cells: OrderedDict[str, _CellLog] = OrderedDict()  # least recently changed first
        self._size = 0
        self._lost: set[str] = set()
        #: The file version of the last save of the notebook (None: none yet).
        self.version: str | None = None
        #: Output widgets capturing a request's outputs (``with out: ...``,
        #: ``interact``): comm id -> that request's msg_id.  Those outputs are the
        #: widget's (its state), not the cell's.
        self._captures: dict[str, str] = {}
        #: The cells that showed each display id (``display(x, display_id=True)``):
        #: an update of it made by another cell (``h.update(y)``) is theirs.
        self._displays: dict[str, set[str]] = {}

    def new_kernel(self) -> None:
        """The kernel restarted: its Output widgets are gone with their captures."""
        self._captures.clear()
        self._displays.clear()

    def comm(self, msg_type: str, content: bytes) -> None:
        """A ``comm_open``, ``comm_msg`` or ``comm_close`` of the kernel: an Output
        widget's ``msg_id`` state says whose outputs it captures from now on."""
        if msg_type == "comm_close":
            if self._captures:
                with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
                    self._captures.pop(orjson.loads(content).get("comm_id"), None)
            return
        if b'"msg_id"' not in content:
            return
        try:
            found = orjson.loads(content)
            comm_id, state = found.get("comm_id"), (found.get("data") or {}).get("state")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if not isinstance(comm_id, str) or not isinstance(state, dict) or "msg_id" not in state:
            return
        if isinstance(state["msg_id"], str) and state["msg_id"]:
            self._captures[comm_id] = state["msg_id"]
        else:
            self._captures.pop(comm_id, None)

    def feed(self, msg_type: str, metadata: bytes, content: bytes,
             now: float | None = None, parent: bytes = b"{}") -> None:
        """One iopub message of the kernel (its metadata, content and parent
        header frames)."""
        if msg_type not in OUTPUT_TYPES and msg_type not in RESET_TYPES:
            return
        if self._captures and msg_type in OUTPUT_TYPES:
            try:
                parent_id = orjson.loads(parent).get("msg_id")
            except (orjson.JSONDecodeError, AttributeError):
                parent_id = None
            if parent_id and parent_id in self._captures.values():
                return  # an Output widget's: it keeps them in its state
        try:
            cell = orjson.loads(metadata).get("cellId")
        except (orjson.JSONDecodeError, AttributeError):
            return
        if not isinstance(cell, str) or not cell:
            return
        reset = msg_type in RESET_TYPES
        if msg_type == "clear_output":
            try:
                reset = not orjson.loads(content).get("wait")
            except (orjson.JSONDecodeError, AttributeError):
                return
        record = (b'{"msg_type":' + orjson.dumps(msg_type) + b',"metadata":' + metadata
                  + b',"content":' + content + b"}")
        owners = [cell]
        if msg_type in ("display_data", "update_display_data") and b'"display_id"' in content:
            try:
                shown = orjson.loads(content).get("transient", {}).get("display_id")
            except (orjson.JSONDecodeError, AttributeError):
                shown = None
            if isinstance(shown, str) and shown:
                if msg_type == "display_data":
                    self._displays.setdefault(shown, set()).add(cell)
                    if len(self._displays) > _DISPLAYS:
                        del self._displays[next(iter(self._displays))]
                elif shown in self._displays:
                    owners = sorted(self._displays[shown])
        for owner in owners:
            self._append(owner, record, reset, now)

    def _append(self, cell: str, record: bytes, reset: bool, now: float | None) -> None:
        if not reset and cell in self._lost:
            return  # the start of its output is gone: lost until its next run starts anew
        log = self._cells.pop(cell, None)
        if log is None:
            log = _CellLog()
        if reset:
            self._size -= log.size
            log = _CellLog()
        log.messages.append(record)
        log.size += len(record)
        log.changed_at = time.monotonic() if now is None else now
        self._size += len(record)
        self._cells[cell] = log
        self._lost.discard(cell)
        while self._size > self.limit and self._cells:
            old, dropped = self._cells.popitem(last=False)
            self._size -= dropped.size
            self._lost.add(old)

    def saved(self, version: str, now: float | None = None,
              cleared: Iterable[str] = ()) -> None:
        """The notebook was saved (file version ``version``): what the saving client
        had is on disk, so cells unchanged since shortly before need no replay, and
        the cells whose outputs it cleared (``cleared``) none, however recent."""
        cutoff = (time.monotonic() if now is None else now) - SAVE_MARGIN
        self.version = version
        gone = set(cleared)
        for cell in [c for c, log in self._cells.items()
                     if log.changed_at < cutoff or c in gone]:
            self._size -= self._cells.pop(cell).size
        self._lost.clear()

    def replay(self) -> bytes:
        """The ``outputs_replay`` server message for a client that connects (sent
        even when empty, so the client knows it has everything): ``{"cells":
        {cellId: [{"msg_type", "metadata", "content"}, ...]}, "lost": [cellIds],
        "version"}``."""
        cells = b",".join(orjson.dumps(cell) + b":[" + b",".join(log.messages) + b"]"
                          for cell, log in self._cells.items())
        content = (b'{"cells":{' + cells + b'},"lost":' + orjson.dumps(sorted(self._lost))
                   + b',"version":' + orjson.dumps(self.version) + b"}")
        return (b'{"channel":"server","msg_type":"outputs_replay",'
                b'"header":{"msg_type":"outputs_replay"},"content":' + content + b"}")

    @property
    def size(self) -> int:
        return self._size
