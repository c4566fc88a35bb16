"""Whole-array numpy work spread over the machine's cores with threads.

numpy frees the GIL inside its array operations, so independent pieces of numeric work (the
chunks of the rater bootstrap's draws, each writing its own rows) run side by side in threads
of one process: no copies of the national tables, no pickling, and the results are the same
whatever the number of cores, because every piece's inputs (its random numbers included) are
fixed before it is handed out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["cores", "start"]

#: At most this many threads (whole-array numpy gains little beyond the memory bandwidth).
MAX_THREADS = 4

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=min(cores(), MAX_THREADS), thread_name_prefix="evalkit")
        return _pool


def start(fn: Callable[..., Any], calls: Iterable[Sequence[Any]]) -> Callable[[], list[Any]]:
    """Start ``fn(*args)`` for each of ``calls`` in threads on the available cores and return
    a function that waits for them: it gives their results in order, or raises the first
    exception raised by a call once every call has finished.  The calling thread goes on
    meanwhile (e.g. deciding what the previous calls gave).  On one core, or called from one
    of those threads, the calls run here and now."""
    calls = list(calls)
    if cores() < 2 or threading.current_thread().name.startswith("evalkit"):
        results = [fn(*args) for args in calls]
        return lambda: results
    futures = [_executor().submit(fn, *args) for args in calls]

    def wait() -> list[Any]:
        errors = [f.exception() for f in futures]
        for err in errors:
            if err is not None:
                raise err
        return [f.result() for f in futures]

    return wait
