"""KernelRelay's iopub draining, against real ZMQ sockets (no kernel needed)."""

from __future__ import annotations

import logging
from typing import Any

import zmq
from jupyter_client.session import Session

from reactive_server.kernels import KernelRelay

from .conftest import connected_pub_sub


class _Client:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    def send_frames(self, channel: str, frames: list[bytes], cache: dict[str, Any]) -> None:
        assert channel == "iopub"
        self.got.append(frames[-1])  # the content part


class _Stream:
    def __init__(self, socket: zmq.Socket) -> None:
        self.socket = socket


class _Hub:
    log = logging.getLogger("test-relay")


def test_a_burst_is_read_in_bounded_callbacks_without_losing_any() -> None:
    ctx = zmq.Context()
    pub, sub = connected_pub_sub(ctx)
    session = Session(key=b"secret")
    try:
        relay = KernelRelay.__new__(KernelRelay)
        relay.hub = _Hub()
        relay.kernel_id = "k"
        relay.session = session
        relay.iopub = _Stream(sub)
        relay.execution_state = "idle"
        relay._last_activity = 0.0
        client = _Client()
        relay.clients = {client}
        relay.drain_limit = 3
        for i in range(20):
            session.send(pub, "stream", {"name": "stdout", "text": str(i)})
        callbacks = 0
        while len(client.got) < 20:
            assert sub.poll(5_000), f"lost messages: got {len(client.got)}"
            relay._from_iopub(sub.recv_multipart())  # what the ZMQStream does
            callbacks += 1
        texts = [session.unpack(c)["text"] for c in client.got]
        assert texts == [str(i) for i in range(20)]
        assert callbacks >= 5  # at most 1 + drain_limit messages per callback
        assert not sub.poll(100)
    finally:
        pub.close(linger=0)
        sub.close(linger=0)
        ctx.term()
