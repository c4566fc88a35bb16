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

__all__ = ["cores", "in_parallel"]

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


def in_parallel(fn: Callable[..., Any], calls: Iterable[Sequence[Any]]) -> list[Any]:
    """``[fn(*args) for args in calls]``, the calls run in threads on the available cores
    (in this thread on one core, for one call, or when called from one of those threads).
    The first exception raised by a call is raised here, after every call has finished."""
    calls = list(calls)
    inside = threading.current_thread().name.startswith("evalkit")
    if len(calls) < 2 or cores() < 2 or inside:
        return [fn(*args) for args in calls]
    futures = [_executor().submit(fn, *args) for args in calls]
    errors = [f.exception() for f in futures]
    for err in errors:
        if err is not None:
            raise err
    return [f.result() for f in futures]
