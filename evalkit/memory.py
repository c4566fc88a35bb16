"""Which allocator Arrow's buffers come from.

pandas 3 keeps text in Arrow arrays, so most of a national run's memory is Arrow's, allocated
by the pool pyarrow ships (mimalloc).  On the 2-core virtual machines evalkit is measured on,
mimalloc's way of taking memory from the system made each page fault about ten times as
costly as with the C library's malloc: the national evaluation spent 13–17 s in the kernel,
and ran 5–10 s faster with a 0.3 GiB lower peak on the system pool (benchmarks/README.md,
"Schools and app pages").  :func:`use_system_allocator` switches once, before a dataset is
read; a user who chose a pool (``ARROW_DEFAULT_MEMORY_POOL``) keeps it.
"""

from __future__ import annotations

import os

__all__ = ["use_system_allocator"]

_done = False


def use_system_allocator() -> None:
    """Make the C library's malloc Arrow's default pool (once; never against the user's
    ``ARROW_DEFAULT_MEMORY_POOL``)."""
    global _done
    if _done or os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    _done = True
