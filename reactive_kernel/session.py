"""A jupyter_client Session that tags output messages with their cell id.

Every iopub output message a cell produces carries message metadata
``{"cellId": ...}`` (DESIGN.md, contract item 6).  Outputs are sent from
several places (the display hook, the display publisher, ``OutStream``
flushed later on the IOPub thread), but each carries its request as parent
header, so the tag is looked up from the parent's msg_id when the message is
built.
"""

from __future__ import annotations

from typing import Any

from jupyter_client.session import (
    DELIM,
    Session,
    protocol_version,  # type: ignore[attr-defined]
    utcnow,
)

OUTPUT_MSG_TYPES = frozenset(
    {
        "stream",
        "display_data",
        "update_display_data",
        "execute_result",
        "error",
        "clear_output",
    }
)
#: Messages tagged with their cell: the outputs, and ``execute_input``, which starts a
#: cell's new output (a client that keeps outputs per cell, like reactive-server's
#: replay for pages that connect later, starts afresh there).
TAGGED_MSG_TYPES = OUTPUT_MSG_TYPES | {"execute_input"}


class RoutingSession(Session):
    """Session that adds ``metadata.cellId`` to output messages.

    The map from request msg_id to cell id is written by the kernel on the
    main thread and read on the IOPub thread; plain dict reads and writes are
    atomic, and the map is bounded (oldest requests forgotten first).
    """

    max_routes = 20_000

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._routes: dict[str, str] = {}
        self._packed_parents: dict[str, bytes] = {}
        self._packed_meta: dict[str, bytes] = {}

    def route(self, msg_id: str, cell_id: str) -> None:
        """Outputs whose parent is ``msg_id`` belong to ``cell_id``."""
        self._routes[msg_id] = cell_id
        while len(self._routes) > self.max_routes:
            del self._routes[next(iter(self._routes))]

    def cell_for(self, msg_id: str) -> str | None:
        return self._routes.get(msg_id)

    def msg(  # type: ignore[override]
        self,
        msg_type: str,
        content: Any = None,
        parent: Any = None,
        header: Any = None,
        metadata: Any = None,
    ) -> dict[str, Any]:
        message = super().msg(msg_type, content, parent, header, metadata)
        if msg_type in TAGGED_MSG_TYPES:
            parent_id = message["parent_header"].get("msg_id")
            cell = self._routes.get(parent_id) if parent_id else None
            if cell is not None and "cellId" not in message["metadata"]:
                message["metadata"]["cellId"] = cell
        return message

    # -- a lean path for the two messages every re-run cell publishes -------

    _parents_cache_size = 4_096

    def output_frames(
        self, msg_type: str, content: dict[str, Any], header: dict[str, Any], cell: str,
        ident: bytes,
    ) -> list[bytes]:
        """Wire frames of an output message of ``cell`` whose parent header is ``header``.

        The same message ``Session.send`` would build (header, parent header,
        ``metadata.cellId``, signature), for the ``clear_output`` and
        ``stream`` a re-run publishes.  The packed parent header and metadata
        are computed once per request and per cell instead of once per
        message: in a cascade that halves the cost of a message.
        """
        key = header["msg_id"]
        packed = self._packed_parents.get(key)
        if packed is None:
            packed = self.pack(header)
            cache = self._packed_parents
            cache[key] = packed
            if len(cache) > self._parents_cache_size:
                del cache[next(iter(cache))]
        meta = self._packed_meta.get(cell)
        if meta is None:
            meta = self.pack({**self.metadata, "cellId": cell})
            if len(self._packed_meta) > self._parents_cache_size:
                self._packed_meta.clear()
            self._packed_meta[cell] = meta
        real = [
            self.pack({
                "msg_id": self.msg_id, "msg_type": msg_type, "username": self.username,
                "session": self.session, "date": utcnow(), "version": protocol_version,
            }),
            packed,
            meta,
            self.pack(content),
        ]
        return [ident, DELIM, self.sign(real), *real]
