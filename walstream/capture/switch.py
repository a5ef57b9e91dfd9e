"""The one switch between walstream's C parts and their Python equivalents.

walstream has two optional C extensions: the read loop (:mod:`walstream._accel`, which appends
runs of changes to their batches straight from libpq) and the column parser
(:mod:`walstream._columns`, which parses a batch's rows at flush, and the snapshot's COPY rows,
which its ``copy_messages`` reads from libpq). Each has a Python twin that
gives the same results (tests run both). They are used when they were built (``pip install``
found a C compiler) and the command layer has not turned them off (``WALSTREAM_ACCEL=0``, read
in :mod:`walstream.commands.config`); nothing below the command layer reads the environment.

The read loops must also call the very libpq that owns psycopg's connection (psycopg-binary
bundles its own copy, and two copies must never share a ``PGconn``), so its functions are taken
from the libpq mapped into this process, which must be exactly one; otherwise the Python loops
run.
"""

from __future__ import annotations

import ctypes
import os
from functools import lru_cache
from pathlib import Path
from types import ModuleType

_enabled = True


def configure(use_c: bool) -> None:
    """Turn the C parts on (when built) or off, for the whole process; set once at start."""
    global _enabled
    _enabled = use_c
    read_loop.cache_clear()
    column_parser.cache_clear()
    copy_reader.cache_clear()


def use_c() -> bool:
    """False when the C parts were turned off (:func:`configure`)."""
    return _enabled


@lru_cache(maxsize=1)
def column_parser() -> ModuleType | None:
    """The C column parser, or None when it is not built or is turned off."""
    if not _enabled:
        return None
    try:
        from .. import _columns
    except ImportError:
        return None
    return _columns


def _libpq_paths() -> set[str]:
    """Paths of the libpq copies mapped into this process (Linux: /proc/self/maps)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return set()
    paths = set()
    for line in maps.read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and os.path.basename(parts[5]).startswith("libpq"):
            paths.add(parts[5].strip())
    return paths


@lru_cache(maxsize=1)
def _libpq() -> tuple[int, int, str] | str:
    """(addresses of PQgetCopyData and PQfreemem, file name) of psycopg's libpq, or why not."""
    import psycopg.pq  # noqa: F401  (maps psycopg's libpq into the process)

    paths = _libpq_paths()
    if len(paths) != 1:
        return f"cannot tell psycopg's libpq ({len(paths)} mapped)"
    path = paths.pop()
    try:
        lib = ctypes.CDLL(path)
        get_copy_data = ctypes.cast(lib.PQgetCopyData, ctypes.c_void_p).value
        freemem = ctypes.cast(lib.PQfreemem, ctypes.c_void_p).value
    except (OSError, AttributeError) as exc:
        return f"cannot use {path}: {exc}"
    if not get_copy_data or not freemem:
        return f"cannot use {path}: functions not found"
    return get_copy_data, freemem, os.path.basename(path)


@lru_cache(maxsize=1)
def read_loop() -> tuple[ModuleType | None, str]:
    """(the C read loop bound to psycopg's libpq, or None; why it is or is not used): once."""
    if not _enabled:
        return None, "disabled by WALSTREAM_ACCEL"
    try:
        from .. import _accel
    except ImportError:
        return None, "not built (no C compiler at install time)"
    found = _libpq()
    if isinstance(found, str):
        return None, found
    get_copy_data, freemem, name = found
    _accel.init(get_copy_data, freemem)
    return _accel, f"C read loop on {name}"


@lru_cache(maxsize=1)
def copy_reader() -> tuple[ModuleType, int, int] | None:
    """(walstream._columns, PQgetCopyData, PQfreemem) for the snapshot's C COPY read loop
    (``copy_messages``), or None when the column parser is off or psycopg's libpq unknown."""
    columns = column_parser()
    found = None if columns is None else _libpq()
    if columns is None or isinstance(found, str) or found is None:
        return None
    return columns, found[0], found[1]
