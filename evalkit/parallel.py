"""Whole-array numpy work spread over the machine's cores with threads.

numpy frees the GIL inside its array operations, so independent pieces of numeric work run
side by side in threads of one process: no copies of the national tables, no pickling, and
the results are the same whatever the number of cores, because every piece's inputs (its
random numbers included) are fixed before it is handed out.

* :func:`start`: pieces of one computation on the cores (the chunks of the rater bootstrap's
  draws, each writing its own rows);
* :func:`begin`: one whole computation in a thread of its own while the caller goes on (a
  province's robustness draws while the next province is prepared);
* :func:`single_threaded_blas`: BLAS on one thread while any such work runs (many small matrix
  products: BLAS threads cost more than they give).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from threadpoolctl import threadpool_limits

__all__ = ["begin", "cores", "single_threaded_blas", "start"]

#: At most this many threads (whole-array numpy gains little beyond the memory bandwidth).
MAX_THREADS = 4

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_blas: list[Any] = []  # [threadpool_limits, users] while single_threaded_blas is held


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
    if cores() < 2 or threading.current_thread().name.startswith("evalkit_"):
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


def begin(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """Start ``fn(*args)`` in a thread of its own and return a function that waits for it and
    gives its result (or raises what it raised).  The thread may itself spread its pieces
    over the cores with :func:`start`.  On one core it runs here and now."""
    done: Future[Any] = Future()

    def run() -> None:
        try:
            done.set_result(fn(*args))
        except BaseException as exc:  # handed to the caller on wait
            done.set_exception(exc)

    if cores() < 2:
        run()
    else:
        threading.Thread(target=run, name=f"begin-{getattr(fn, '__name__', 'work')}", daemon=True).start()
    return done.result


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS limited to one thread while any caller holds this (threads may hold it at once:
    the limit is taken by the first and given back by the last, never restored early)."""
    with _lock:
        if not _blas:
            _blas.extend([threadpool_limits(limits=1, user_api="blas"), 0])
        _blas[1] += 1
    try:
        yield
    finally:
        with _lock:
            _blas[1] -= 1
            if not _blas[1]:
                _blas.pop(0).restore_original_limits()
                _blas.clear()
