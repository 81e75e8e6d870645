"""Input history written to IPython's database at most once per interval.

IPython's ``HistoryManager`` (with its default ``db_cache_size`` of 0) wakes its
saving thread after every input, and the thread commits one SQLite transaction
per input.  In a kernel that thread competes for the GIL and a core with the
request it follows: on a 2-core machine it cost about 1.5 ms of CPU per
``execute_request``, a fifth of the round trip of ``pass``.

:class:`HistoryWriter` keeps the inputs in the manager's own cache and has the
saving thread write them out ``interval`` seconds after the first unsaved one,
so a burst of requests costs one transaction.  Nothing a user sees changes:
the current session's history is read from memory, ``history_request``
(``tail``, ``search``) and ``%history`` of older sessions write the cache out
first, and IPython writes it out at exit.  A kernel killed outright loses at
most the last ``interval`` seconds of history.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


class HistoryWriter:
    """Takes over the write-out timing of ``history_manager`` (see module doc)."""

    def __init__(self, history_manager: Any, interval: float) -> None:
        self.history_manager = history_manager
        self.interval = interval
        self._timer: asyncio.TimerHandle | None = None
        # Only when IPython would write after every input, and not if the user
        # configured a cache size of their own.
        self.active = (
            interval > 0
            and history_manager is not None
            and history_manager.enabled
            and history_manager.db_cache_size <= 1
        )
        if self.active:
            history_manager.db_cache_size = sys.maxsize  # inputs stay in the cache

    @staticmethod
    def usable(history_manager: Any) -> bool:
        """Probe: the manager has what the writer uses."""
        needed = ("enabled", "db_cache_size", "db_input_cache", "db_output_cache",
                  "save_thread", "writeout_cache")
        return history_manager is not None and all(hasattr(history_manager, n) for n in needed)

    def pending(self) -> bool:
        manager = self.history_manager
        return bool(manager.db_input_cache or manager.db_output_cache)

    def note(self) -> None:
        """After a request: write the cache out within ``interval`` seconds."""
        if not self.active or self._timer is not None or not self.pending():
            return
        self._timer = asyncio.get_running_loop().call_later(self.interval, self.write)

    def write(self) -> None:
        """Write the cache out now (on the saving thread when there is one)."""
        self._timer = None
        manager = self.history_manager
        if not self.active or not self.pending():
            return
        thread = manager.save_thread
        if thread is not None and thread.is_alive():
            thread.save_flag.set()
        else:  # no saving thread (an in-memory database, or it stopped)
            manager.writeout_cache()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
