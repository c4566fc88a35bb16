"""evalkit.parallel: work in threads gives what the caller would get by itself."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from evalkit import parallel


def _blas_threads() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_begin_gives_the_result_or_the_error_of_its_thread(monkeypatch) -> None:
    seen = []

    def work(a: np.ndarray) -> float:
        seen.append(threading.current_thread().name)
        return float(a.sum())

    def fail() -> None:
        raise ValueError("broken on purpose")

    for n in (1, 2):  # on one core the work runs in the caller, on more in a thread of its own
        monkeypatch.setattr(parallel, "cores", lambda n=n: n)
        assert parallel.begin(work, np.arange(10))() == 45.0
        with pytest.raises(ValueError, match="broken on purpose"):
            parallel.begin(fail)()
    assert seen[0] == threading.current_thread().name and seen[1] != seen[0]


def test_single_threaded_blas_is_held_until_the_last_holder_leaves() -> None:
    """Two threads holding it at once (two provinces' draws): the first to leave does not give
    BLAS its threads back under the second, and the last restores what was there before."""
    # work an earlier test of this process began in the background (parallel.begin) may still
    # take and give back the hold: let it finish, so that only this test's two threads hold it
    for t in threading.enumerate():
        if t.name.startswith("begin-"):
            t.join(timeout=600)
    before = _blas_threads()
    if not before:
        pytest.skip("numpy without a BLAS that threadpoolctl controls")
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first() -> None:
        with parallel.single_threaded_blas():
            first_in.set()
            second_in.wait()
        first_out.set()

    def second() -> None:
        first_in.wait()
        with parallel.single_threaded_blas():
            second_in.set()
            first_out.wait()
            seen["after the first left"] = _blas_threads()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["after the first left"] == [1] * len(before)
    assert _blas_threads() == before
