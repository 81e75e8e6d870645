"""The iopub sender against ipykernel's real IOPubThread and a real ZMQ socket.

Behaviours: messages of one thread keep their order, whether queued from
another thread, sent by the IOPub thread or batched by a borrower; a
borrower's lone message still leaves while it keeps the socket; the IOPub
thread takes its socket back on time; what is scheduled while it is lent
runs afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import zmq
from ipykernel.iostream import IOPubThread, OutStream
from jupyter_client.session import Session

from reactive_kernel import iopub

from .conftest import connected_pub_sub

WAIT_MS = 5_000


@pytest.fixture
def pub() -> Iterator[tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket]]:
    ctx = zmq.Context()
    sock, sub = connected_pub_sub(ctx)
    thread = IOPubThread(sock)
    thread.start()
    sender = iopub.install(thread)
    assert sender is not None
    try:
        yield thread, sender, sub
    finally:
        thread.stop()
        thread.close()
        sub.close(linger=0)
        ctx.term()


def _receive(sub: zmq.Socket, count: int) -> list[list[bytes]]:
    got = []
    while len(got) < count:
        assert sub.poll(WAIT_MS), f"only {len(got)} of {count} messages arrived"
        got.append(sub.recv_multipart())
    return got


def test_install_is_idempotent(pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket]):
    thread, sender, _sub = pub
    assert iopub.install(thread) is sender
    assert thread.schedule == sender.schedule


def test_each_thread_keeps_its_order_borrowed_or_not(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    thread, sender, sub = pub
    other_done = threading.Event()

    def other() -> None:
        for i in range(150):
            thread.send_multipart([b"other", str(i).encode()])
        other_done.set()

    for i in range(50):  # queued to the IOPub thread
        thread.send_multipart([b"main", str(i).encode()])
    assert sender.borrow()
    worker = threading.Thread(target=other)
    worker.start()
    for i in range(50, 250):  # batched by the borrower
        thread.send_multipart([b"main", str(i).encode()])
    sender.give_back()
    assert other_done.wait(WAIT_MS / 1000)
    worker.join()
    for i in range(250, 300):  # queued again
        thread.send_multipart([b"main", str(i).encode()])
    got = _receive(sub, 450)
    assert [int(m[1]) for m in got if m[0] == b"main"] == list(range(300))
    assert [int(m[1]) for m in got if m[0] == b"other"] == list(range(150))
    assert not sub.poll(50)


def test_a_borrowers_lone_message_leaves_while_it_keeps_the_socket(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    """A long cell in a cascade: what it sent before does not wait for its end."""
    thread, sender, sub = pub
    sender.lend_for = 30.0  # the lend does not end while we wait
    try:
        assert sender.borrow()
        thread.send_multipart([b"lone"])
        assert sub.poll(WAIT_MS), "the batch stayed with the borrower"
        assert sub.recv_multipart() == [b"lone"]
        assert sender.owns_socket()
    finally:
        sender.give_back()
    assert not sender.owns_socket()


def test_the_lend_ends_on_time_and_scheduled_work_runs_after(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    thread, sender, sub = pub
    sender.lend_for = 0.05
    ran = threading.Event()
    assert sender.borrow()
    thread.schedule(ran.set)  # waits: the IOPub thread is parked
    with sender._lent:
        assert sender._lent.wait_for(lambda: not sender._lending, WAIT_MS / 1000)
    assert ran.wait(WAIT_MS / 1000)
    assert not sender.owns_socket()
    # The former borrower now queues, and can borrow again.
    thread.send_multipart([b"after"])
    assert _receive(sub, 1) == [[b"after"]]
    assert sender.borrow()
    thread.send_multipart([b"again"])
    sender.give_back()
    assert _receive(sub, 1) == [[b"again"]]


def test_only_one_thread_borrows_at_a_time(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    _thread, sender, _sub = pub
    sender.lend_for = 30.0
    assert sender.borrow()
    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(sender.borrow()))
    worker.start()
    worker.join(WAIT_MS / 1000)
    assert result == [False]
    sender.give_back()


def test_the_io_thread_never_borrows(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    thread, sender, _sub = pub
    result: list[bool] = []
    done = threading.Event()

    def on_io_thread() -> None:
        result.append(sender.borrow())
        done.set()

    thread.schedule(on_io_thread)
    assert done.wait(WAIT_MS / 1000)
    assert result == [False]


def test_the_borrowers_flush_does_not_wait_for_the_parked_thread(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    """ipykernel's ``OutStream.flush`` hands the flush to the IOPub thread and
    waits for it; that thread is parked while the socket is lent, so without
    :func:`iopub.flush_directly` the text would wait for the lend to end."""
    thread, sender, sub = pub
    session = Session(key=b"")
    stream = OutStream(session, thread, "stdout", watchfd=False)
    stream.flush_timeout = 0.2  # ipykernel gives up waiting after this
    iopub.flush_directly(stream, sender)
    sender.lend_for = 30.0
    try:
        assert sender.borrow()
        stream.write("hello\n")
        stream.flush()
        assert sub.poll(WAIT_MS), "the flushed text waited for the lend to end"
        frames = sub.recv_multipart()
        assert b"hello" in frames[-1]
        assert sender.owns_socket()
    finally:
        sender.give_back()
    # Not the borrower: ipykernel's own flush through the IOPub thread.
    stream.write("bye\n")
    stream.flush()
    assert sub.poll(WAIT_MS)
    assert b"bye" in sub.recv_multipart()[-1]
    stream.close()


def test_an_ask_withdrawn_unused_frees_the_thread_at_once(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    """The kernel asks for the socket before a cascade's trigger runs; if no
    re-run ends up borrowing it, giving it back must not leave the IOPub
    thread parked (its queue would wait for the lend to time out)."""
    thread, sender, sub = pub
    sender.lend_for = 30.0
    assert sender.ask()
    with sender._lent:
        assert sender._lent.wait_for(lambda: sender._lending, WAIT_MS / 1000)
    assert not sender.owns_socket()
    sender.give_back()
    with sender._lent:
        assert sender._lent.wait_for(lambda: not sender._lending, WAIT_MS / 1000)
    thread.send_multipart([b"free"])
    assert _receive(sub, 1) == [[b"free"]]
    # Asked, then borrowed: the borrow takes the lend already under way.
    assert sender.ask()
    assert sender.borrow()
    thread.send_multipart([b"mine"])
    sender.give_back()
    assert _receive(sub, 1) == [[b"mine"]]


def test_callbacks_around_a_lend_all_run_in_order(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket],
):
    """Callbacks scheduled just before the thread parks (with their own wake-up)
    and while it is parked (without) all run, in order, and the thread keeps
    handling later ones (it once took queued callbacks from under ipykernel's
    handler, which then failed on an empty queue and stopped waking up)."""
    thread, sender, _sub = pub
    sender.lend_for = 30.0
    ran: list[int] = []
    done = threading.Event()
    for _round in range(20):
        ran.clear()
        done.clear()
        assert sender.ask()
        thread.schedule(lambda: ran.append(1))
        assert sender.borrow()
        thread.schedule(lambda: ran.append(2))
        sender.give_back()
        thread.schedule(lambda: ran.append(3))
        thread.schedule(done.set)
        assert done.wait(WAIT_MS / 1000), f"callbacks stopped running: {ran}"
        assert ran == [1, 2, 3]


def test_an_interrupt_between_frames_leaves_every_message_whole(
    pub: tuple[IOPubThread, iopub.CoalescingSender, zmq.Socket], monkeypatch: pytest.MonkeyPatch,
):
    """Ctrl-C reaches the borrowing main thread between two frames of a message:
    the message is finished (not glued to the next one), none is lost or sent
    twice, and the socket goes back to the IOPub thread."""
    thread, sender, sub = pub
    real_send = iopub._backend_send
    calls = {"n": 0}

    def interrupted_send(sock, data, flags=0, copy=True):
        calls["n"] += 1
        if calls["n"] == 6:  # the third frame of the second message
            raise KeyboardInterrupt
        return real_send(sock, data, flags, copy)

    sender.lend_for = 30.0
    assert sender.borrow()
    for i in range(5):
        thread.send_multipart([b"m", str(i).encode(), b"end"])
    monkeypatch.setattr(iopub, "_backend_send", interrupted_send)
    with pytest.raises(KeyboardInterrupt):
        sender.give_back()
    monkeypatch.setattr(iopub, "_backend_send", real_send)
    assert not sender.owns_socket()
    got = _receive(sub, 5)
    assert got == [[b"m", str(i).encode(), b"end"] for i in range(5)]
    assert not sub.poll(100)
