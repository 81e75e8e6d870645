"""WebSocket framing of Jupyter messages: JSON text frames and the v1 binary protocol.

JSON frames are ``{channel, header, parent_header, metadata, content, buffers}``
(buffers base64-encoded).  With the ``batch.reactive-kernel.v1`` subprotocol,
server frames are JSON arrays of those messages.  The
``v1.kernel.websocket.jupyter.org`` binary frame is::

    uint64 LE  n = number of offsets
    n x uint64 LE offsets (from the start of the frame; the last one is the end)
    channel (utf-8) | header | parent_header | metadata | content | buffer ...

Header, parent header, metadata and content stay the JSON bytes the kernel
sent, so v1 relaying never re-encodes them.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
from typing import Any

from jupyter_client.jsonutil import json_default

V1_SUBPROTOCOL = "v1.kernel.websocket.jupyter.org"
#: JSON messages, but every server -> client text frame is a JSON *array* of
#: them, in order (everything the server had for the client in one turn of its
#: event loop).  Client -> server frames stay one JSON object each.  A cascade is
#: hundreds of small messages; a browser pays per frame (an event, a parse, an
#: IPC hop, a DevTools event when one is attached), so the web UI asks for this.
BATCH_SUBPROTOCOL = "batch.reactive-kernel.v1"
CHANNELS = frozenset({"shell", "control", "stdin", "iopub"})
CLIENT_CHANNELS = frozenset({"shell", "control", "stdin"})


class ProtocolError(ValueError):
    """A client frame that cannot be a Jupyter message."""


def to_v1(channel: str, parts: list[bytes]) -> bytes:
    """``parts`` = [header, parent_header, metadata, content, *buffers] (bytes)."""
    chunks = [channel.encode(), *parts]
    count = len(chunks) + 1
    offsets = []
    position = 8 * (count + 1)
    for chunk in chunks:
        offsets.append(position)
        position += len(chunk)
    offsets.append(position)
    return struct.pack(f"<{count + 1}Q", count, *offsets) + b"".join(chunks)


def from_v1(data: bytes) -> tuple[str, list[bytes]]:
    """The inverse of :func:`to_v1`, validating every offset."""
    if len(data) < 8:
        raise ProtocolError("binary frame too short")
    (count,) = struct.unpack_from("<Q", data)
    if not 6 <= count <= 4096 or len(data) < 8 * (count + 1):
        raise ProtocolError("binary frame has a bad offset table")
    offsets = struct.unpack_from(f"<{count}Q", data, 8)
    if list(offsets) != sorted(offsets) or offsets[0] < 8 * (count + 1) or offsets[-1] > len(data):
        raise ProtocolError("binary frame offsets out of range")
    chunks = [data[a:b] for a, b in itertools.pairwise(offsets)]
    try:
        channel = chunks[0].decode()
    except UnicodeDecodeError:
        raise ProtocolError("channel name is not utf-8") from None
    return channel, chunks[1:]


def to_json(channel: str, message: dict[str, Any]) -> str:
    buffers = [base64.b64encode(bytes(b)).decode() for b in message.get("buffers") or []]
    body = {
        "channel": channel,
        "header": message["header"],
        "parent_header": message["parent_header"],
        "metadata": message["metadata"],
        "content": message["content"],
        "buffers": buffers,
        "msg_id": message["header"].get("msg_id"),
        "msg_type": message["header"].get("msg_type"),
    }
    return json.dumps(body, default=json_default)


def raw_to_json(channel: str, parts: list[bytes], header: dict[str, Any]) -> bytes:
    """A JSON frame spliced from the kernel's own JSON bytes (no re-encoding).

    ``parts`` = [header, parent_header, metadata, content, *buffers]; ``header``
    is the parsed header (for the convenience fields msg_id / msg_type).
    """
    buffers = ",".join(f'"{base64.b64encode(bytes(b)).decode()}"' for b in parts[4:])
    return b"".join((
        b'{"channel":', json.dumps(channel).encode(),
        b',"header":', parts[0],
        b',"parent_header":', parts[1],
        b',"metadata":', parts[2],
        b',"content":', parts[3],
        b',"buffers":[', buffers.encode(), b"]",
        b',"msg_id":', json.dumps(header.get("msg_id")).encode(),
        b',"msg_type":', json.dumps(header.get("msg_type")).encode(),
        b"}",
    ))


def from_json(text: str) -> tuple[str, dict[str, Any]]:
    """Parse and validate a client's JSON frame."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ProtocolError(f"frame is not JSON: {err}") from None
    if not isinstance(body, dict):
        raise ProtocolError("frame must be a JSON object")
    channel = body.get("channel", "shell")
    header = body.get("header")
    if not isinstance(header, dict) or not isinstance(header.get("msg_type"), str) \
            or not isinstance(header.get("msg_id"), str):
        raise ProtocolError("header must be an object with msg_id and msg_type")
    for key in ("parent_header", "metadata", "content"):
        if not isinstance(body.get(key, {}), dict):
            raise ProtocolError(f"{key} must be an object")
    buffers = body.get("buffers") or []
    if not isinstance(buffers, list):
        raise ProtocolError("buffers must be a list")
    try:
        decoded = [base64.b64decode(b, validate=True) for b in buffers]
    except (ValueError, TypeError):
        raise ProtocolError("buffers must be base64 strings") from None
    message = {
        "header": header,
        "parent_header": body.get("parent_header") or {},
        "metadata": body.get("metadata") or {},
        "content": body.get("content") or {},
        "buffers": decoded,
    }
    return channel, message


def v1_parts_are_json(parts: list[bytes]) -> dict[str, Any]:
    """Check the four JSON parts of a v1 frame; returns the decoded header."""
    if len(parts) < 4:
        raise ProtocolError("binary frame needs header, parent_header, metadata, content")
    decoded = []
    for name, part in zip(("header", "parent_header", "metadata", "content"), parts[:4],
                          strict=False):
        try:
            value = json.loads(part)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError(f"{name} is not JSON") from None
        if not isinstance(value, dict):
            raise ProtocolError(f"{name} must be an object")
        decoded.append(value)
    header = decoded[0]
    if not isinstance(header.get("msg_type"), str) or not isinstance(header.get("msg_id"), str):
        raise ProtocolError("header must have msg_id and msg_type")
    return header


def server_error(message: str) -> str:
    """A server-level notice (not a kernel message) sent on a client's socket."""
    return json.dumps({"channel": "server", "msg_type": "server_error",
                       "header": {"msg_type": "server_error"}, "content": {"message": message}})
