"""``reactive_kernel._compat.fdoutput``: the wait for what child processes wrote,
through ipykernel's private pipe-reading attributes, and its fallback without them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from reactive_kernel._compat import fdoutput


class PipeStream(io.StringIO):
    """A stream read from a pipe by a thread, as ipykernel's ``OutStream`` is
    (``_fid``, ``watch_fd_thread``); the thread takes the interpreter to read."""

    def __init__(self) -> None:
        super().__init__()
        self._fid, self.write_end = os.pipe()
        self.got: list[bytes] = []
        self.watch_fd_thread = threading.Thread(target=self._watch, daemon=True)
        self.watch_fd_thread.start()

    def _watch(self) -> None:
        while chunk := os.read(self._fid, 1000):
            self.got.append(chunk)

    def close(self) -> None:
        os.close(self.write_end)
        self.watch_fd_thread.join(5)
        os.close(self._fid)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    calls: list[float] = []
    real = fdoutput.time.sleep
    monkeypatch.setattr(fdoutput.time, "sleep", lambda s: (calls.append(s), real(s)))
    yield calls


def test_without_ipykernels_pipes_it_waits_for_nothing(
        monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    """The public path: a stream without the private attributes (another
    ipykernel, ``redirect_stdout``): the text is shown as before, no wait."""
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    fdoutput.settle()
    assert sleeps == []


def test_after_a_child_process_it_waits_until_the_pipe_is_read(
        monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> None:
    stream = PipeStream()
    try:
        monkeypatch.setattr(sys, "stdout", stream)
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        fdoutput.settle()  # (children ended before: taken in)
        sleeps.clear()
        fdoutput.settle()
        assert sleeps == []  # nothing ended, nothing waiting: no wait
        data = b"x" * 50_000
        # (Written here as a child writes it: into the pipe, before it ends.)
        os.write(stream.write_end, data)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        fdoutput.settle()
        assert sleeps  # it waited, until the thread had taken it all from the pipe
        assert fdoutput._waiting(stream._fid) == 0
    finally:
        stream.close()
