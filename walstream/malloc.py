"""glibc malloc settings for the walstream process (set by the CLI; a library user is left be).

Why: a flush allocates the same tens of MB again and again (row buffers, numpy columns, the
jsonb values past their version byte). glibc serves blocks from 128 KiB up with a fresh mmap
and returns them to the OS on free, raising that limit only as it sees larger blocks freed,
so how often a block comes back as fresh pages, which the kernel zeroes one by one, depends
on the order of the run's allocations. Fixed limits keep blocks up to 32 MiB in malloc's own
heaps for reuse, and give memory back once 128 MiB are free at a heap's top. Measured with the
bench, three A/B sets of 3 runs each on toast (one slot per run): CPU 2.63-2.75 -> 2.15-2.51 s,
wall 3.33-3.60 -> 3.05-3.36 s; wide-update CPU 1.46 -> 1.31 s; big-txn and narrow-insert
unchanged (an early big-txn gain did not repeat); peak RSS unchanged. Arrow's own buffers
are jemalloc's (walstream/__init__.py).
"""

from __future__ import annotations

import ctypes
import os
import sys

MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 128 * 1024 * 1024
_M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
_M_MMAP_THRESHOLD = -3
# Either set by the user means glibc was configured on purpose (it reads them at start-up).
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def tune() -> bool:
    """Set the fixed thresholds; True when glibc took them (False elsewhere, or when the user
    set either threshold in the environment)."""
    if not sys.platform.startswith("linux") or any(v in os.environ for v in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library symbols to look up: leave malloc be
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    took: bool = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    took = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and took
    return took
