"""Garbage-collector thresholds for the mapper's inner loop.

The mapping search allocates millions of short-lived tuples and dicts (tile extents, factor maps,
coordinate keys) while long-lived caches hold hundreds of thousands of entries (the nest analysis'
memos, a sweep's :class:`~accelsim.pipeline.Memo`).  With CPython's default thresholds (700, 10, 10)
a young collection runs every 700 net allocations and, ten of those later, an older one that
re-scans the caches.  None of this garbage is cyclic, so that scanning finds almost nothing.

Measured on 20 points of ``examples/sweep_eyeriss.yaml`` (MobileNet, one process): 1.56 s per point
with the default thresholds, 1.10 s with (10000, 20, 20); results identical.  Collection stays on:
cycles are still freed, only less often.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

#: Thresholds (young, middle, old) while the mapper runs; see the module doc.
THRESHOLDS = (10_000, 20, 20)


@contextmanager
def fewer_collections():
    """Run the body with :data:`THRESHOLDS` (never lower than the caller's), then restore the caller's.

    Re-entrant: a nested use keeps the outer setting; a caller that disabled automatic collection
    (threshold 0) keeps it disabled.  Also usable as a decorator: ``@fewer_collections()``.
    """
    before = gc.get_threshold()
    if before[0] == 0:
        yield
        return
    gc.set_threshold(*(max(a, b) for a, b in zip(THRESHOLDS, before)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
