"""What a child process writes reaches the cell that ran it, before its result.

ipykernel points file descriptors 1 and 2 at pipes and reads each on a thread of
its own (``OutStream._fid`` and ``watch_fd_thread``, private), which writes what
it read to the stream under the parent header current *when it writes*.  So the
text of ``os.system(...)`` or of ``subprocess.run(...)`` without capture is
written to the stream a moment after the child wrote it, once that thread gets
the interpreter.  In stock a request's reply and the next request's round trip
pass before another cell runs; in a cascade the next cell starts at once, and
the text went to it, or after the cell's result.

The resources the ended child processes used (public:
:func:`resource.getrusage` of ``RUSAGE_CHILDREN``, one system call) tell that
one ended since the last look (``os.system``, ``subprocess.run``: waited for);
after one, or when a pipe holds text, :func:`settle` lets the reading
threads run until the pipes are empty, bounded, before the cell's result is
shown and before the next cell runs.  Without the private attributes it does
nothing (the text is still shown, as before, maybe in the next cell).
"""

from __future__ import annotations

import sys
import time
from array import array

try:
    import fcntl
    import termios
except ImportError:  # not on Windows: the pipes are only waited for a moment
    fcntl = termios = None  # type: ignore[assignment]
try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

#: How long a cell's end waits at most for its children's text.
TIMEOUT = 0.2

#: What the ended child processes used, at the last look.
_seen: tuple[float, ...] = ()


def _children() -> tuple[float, ...]:
    """What the child processes waited for used, all told (a child that ran
    adds page faults at least).  Not an audit hook: a Python one runs for
    every audited call (each ``id()``, ``sys._getframe()``, ``exec``) and made
    them several times slower."""
    if resource is None:
        return ()
    try:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    except (OSError, ValueError):
        return ()
    return (usage.ru_utime, usage.ru_stime, usage.ru_minflt, usage.ru_majflt,
            usage.ru_nvcsw, usage.ru_nivcsw)


def install() -> None:
    """Look at what child processes used from now on."""
    global _seen
    _seen = _children()


def _pipes() -> list[int]:
    """The read ends of the pipes ipykernel's threads are reading."""
    found = []
    for stream in (sys.stdout, sys.stderr):
        fid = getattr(stream, "_fid", None)
        thread = getattr(stream, "watch_fd_thread", None)
        if isinstance(fid, int) and thread is not None and thread.is_alive():
            found.append(fid)
    return found


def _waiting(fid: int) -> int:
    if fcntl is None:
        return 0
    count = array("i", [0])
    try:
        fcntl.ioctl(fid, termios.FIONREAD, count)
    except OSError:
        return 0
    return count[0]


def settle() -> None:
    """Wait until ipykernel's threads have taken what was written to the file
    descriptors (the pipes are empty, and the interpreter was left to those
    threads once more to write the last of it): after a child process ended,
    at most :data:`TIMEOUT`; else only if a pipe holds text (the cell wrote to
    the descriptor itself, or a library's C code did), at most a few ms."""
    global _seen
    now = _children()
    spawned, _seen = now != _seen, now
    pipes = _pipes()
    if not pipes or not (spawned or any(_waiting(fid) for fid in pipes)):
        return
    deadline = time.monotonic() + (TIMEOUT if spawned else 0.02)
    while True:
        # Sleeping leaves the interpreter to the reading threads.
        time.sleep(0.001)
        if not any(_waiting(fid) for fid in pipes) or time.monotonic() > deadline:
            break
    # A thread may hold text it read during that sleep, not written yet.
    time.sleep(0.001)
