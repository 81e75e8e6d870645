"""The relay's socket reader and signature check, against real ZMQ sockets (no kernel)."""

from __future__ import annotations

import asyncio
import threading

import pytest
import zmq
from jupyter_client.session import Session

from reactive_server.sockets import SocketReader, Verifier

from .conftest import connected_pub_sub


def test_a_burst_is_read_in_bounded_callbacks_without_losing_any() -> None:
    """More messages than one callback may read: all arrive, in order, and no
    callback reads more than the bound (other work gets its turn)."""
    ctx = zmq.Context()
    pub, sub = connected_pub_sub(ctx)
    session = Session(key=b"secret")
    got: list[str] = []
    per_call: list[int] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def on_message(frames: list[bytes]) -> None:
            got.append(session.unpack(frames[-1])["text"])
            if not per_call:  # the reader's first call, scheduled before counting began
                per_call.append(0)
            per_call[-1] += 1
            if len(got) == 600 and not done.done():
                done.set_result(None)

        reader = SocketReader(sub, sub, on_message)
        reader.limit = 50
        read = reader.ready

        def counted() -> None:  # the reader's callback, counting what each call reads
            per_call.append(0)
            read()

        reader.ready = counted  # type: ignore[method-assign]
        loop.remove_reader(reader.fd)
        loop.add_reader(reader.fd, counted)
        for i in range(600):
            session.send(pub, "stream", {"name": "stdout", "text": str(i)})
        await asyncio.wait_for(done, 10)
        reader.close()

    try:
        asyncio.run(scenario())
        assert got == [str(i) for i in range(600)]
        assert max(per_call) <= 50 and sum(per_call) == 600
    finally:
        pub.close(linger=0)
        ctx.term()


def test_replies_after_sends_are_never_missed() -> None:
    """Anything that processes the socket's commands (a send, a poll) can use up
    the edge of its file descriptor while a reply is waiting; ``after_send`` reads
    that reply anyway.  Here a poll (what a send does inside) takes the edge of
    each reply before the reader sees it, and a send that gets no answer follows:
    every reply must still arrive."""
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    dealer = ctx.socket(zmq.DEALER)
    dealer.connect(f"tcp://127.0.0.1:{port}")
    stop = threading.Event()

    def echo() -> None:  # the peer, in its own thread: answers all but b"quiet"
        while not stop.is_set():
            if router.poll(20):
                ident, body = router.recv_multipart()
                if body != b"quiet":
                    router.send_multipart([ident, b"re:" + body])

    peer = threading.Thread(target=echo, daemon=True)
    peer.start()

    async def scenario() -> int:
        replies: asyncio.Queue[bytes] = asyncio.Queue()
        reader = SocketReader(dealer, dealer, lambda frames: replies.put_nowait(frames[-1]))
        count = 0
        try:
            for i in range(50):
                reader.socket.send(str(i).encode())
                assert reader.socket.poll(5_000), "the peer did not answer"
                reader.socket.send(b"quiet")
                reader.after_send()
                assert await asyncio.wait_for(replies.get(), 5) == f"re:{i}".encode()
                count += 1
        finally:
            reader.close()
        return count

    try:
        assert asyncio.run(scenario()) == 50
    finally:
        stop.set()
        peer.join(5)
        router.close(linger=0)
        ctx.term()


def test_a_failing_callback_does_not_stop_the_reader() -> None:
    ctx = zmq.Context()
    pub, sub = connected_pub_sub(ctx)
    got: list[bytes] = []

    async def scenario() -> None:
        done = asyncio.get_running_loop().create_future()

        def on_message(frames: list[bytes]) -> None:
            if frames[0] == b"bad":
                raise ValueError("a broken message")
            got.append(frames[0])
            if frames[0] == b"last":
                done.set_result(None)

        reader = SocketReader(sub, sub, on_message)
        for body in (b"one", b"bad", b"two", b"last"):
            pub.send(body)
        await asyncio.wait_for(done, 10)
        reader.close()

    try:
        asyncio.run(scenario())
        assert got == [b"one", b"two", b"last"]
    finally:
        pub.close(linger=0)
        ctx.term()


@pytest.mark.parametrize("scheme", ["hmac-sha256", "hmac-sha512"])
def test_the_verifier_agrees_with_session_signatures(scheme: str) -> None:
    session = Session(key=b"k3y", signature_scheme=scheme)
    verifier = Verifier(session)
    msg = session.msg("stream", {"name": "stdout", "text": "héllo"}, metadata={"cellId": "c"})
    frames = [bytes(f) for f in session.serialize(msg, ident=[b"someone"])]
    parts = verifier.parts([*frames, b"a buffer"])
    assert parts is not None
    assert session.unpack(parts[3]) == {"name": "stdout", "text": "héllo"}
    assert parts[4:] == [b"a buffer"]  # buffers are not signed
    forged = list(frames)
    forged[-1] = session.pack({"name": "stdout", "text": "forged"})
    assert verifier.parts(forged) is None
    assert verifier.parts(frames[2:]) is None  # no delimiter
    assert verifier.parts(frames[:4]) is None  # too short
    other = Verifier(Session(key=b"another", signature_scheme=scheme))
    assert other.parts(frames) is None


def test_the_verifier_without_a_key_accepts_unsigned_messages() -> None:
    session = Session(key=b"")
    msg = session.msg("status", {"execution_state": "idle"})
    frames = [bytes(f) for f in session.serialize(msg)]
    parts = Verifier(session).parts(frames)
    assert parts is not None and session.unpack(parts[3]) == {"execution_state": "idle"}
