"""The optional C read loop (:mod:`walstream._accel`): finding it, wiring it to libpq, using it.

Why: the read loop is walstream's one per-change Python cost (see walstream/_accel.c). The
extension is built when ``pip install`` finds a C compiler; without it, or with
``WALSTREAM_ACCEL=0``, or when psycopg's libpq cannot be found, walstream reads frames in
Python exactly as before, with the same results (tests/test_fastpath.py runs both).

The extension must call the very libpq that owns psycopg's connection (psycopg-binary bundles
its own copy, and two copies must never share a ``PGconn``), so its functions are taken from
the libpq mapped into this process, which must be exactly one.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .tuples import accel_enabled

# frames per drain() call: the read loop looks at its memory budget between calls
DRAIN_FRAMES = 256
# bytes of stream-block messages spill() gathers before the pipeline writes them to disk
SPILL_BLOCK = 1 << 20

#: one table's buffers as the C loop appends to them (ChangeBatch.storage)
Target = tuple[bytearray, bytearray, bytearray, bytearray]
#: a batch as drain_txns() appends whole transactions to it (ChangeBatch.entry): its buffers,
#: its runs (int64 records: first row, commit LSN, xid, commit time), what a row costs beyond
#: its bytes, and the batch itself
TableEntry = tuple[bytearray, bytearray, bytearray, bytearray, bytearray, int, Any]
#: a transaction drain_txns() began and hands to Python: xid, final LSN, commit time, next
#: seq, its rows so far, and per batch it touched (relation OID, entry, the batch's rows before)
Handoff = tuple[int, int, int, int, int, list[tuple[int, TableEntry, int]]]


@dataclass(slots=True)
class Drained:
    """What one drain() call took: ``count`` changes, their pgoutput bytes, the last WAL end.

    From drain_txns() also: ``commits`` whole transactions committed, the last ending at
    ``commit_end``; ``handoff``: the transaction it stopped inside, for Python to adopt. From
    spill(): ``spilled`` stream-block messages in ``FastPath.spill`` (``count`` is 0: they are
    changes only once their transaction commits).

    ``frame``: the frame that ended the run, which the C loop did not take (an XLogData
    ``memoryview`` or a ``Keepalive``), to be handled right after the run. ``may_stop``: the
    reader may stop reading after this run (to look at its budget); false when the run ended
    at the end of the stream, which the reader must go on to see.
    """

    count: int
    payload_bytes: int
    wal_end: int
    frame: Any = None
    may_stop: bool = False
    commits: int = 0
    commit_end: int = 0
    handoff: Handoff | None = None
    spilled: int = 0


class FastPath:
    """The read loop's state the C loop needs: the extension, whose rows go where, and the
    transaction.

    Inside a transaction Python has begun (``txn`` set), ``targets`` maps a relation OID to
    its batch's buffers; the pipeline fills it when the first change of a table in the
    transaction has gone through Python (so the batch is marked for rollback and the
    transaction's run is recorded) and empties it at every transaction boundary, flush cut,
    schema change and stream. Only what is in it is taken by C (``drain``).

    Between transactions (``txn`` None), ``tables`` maps a relation OID to its batch's
    :data:`TableEntry`: every table the pipeline has appended to since its last flush, schema
    change or stream, which C may take whole transactions for (``drain_txns``), within
    ``row_room`` rows and ``byte_room`` bytes of the flush budget.

    Inside a stream block, ``spill`` is the buffer the messages gather in on their way to the
    transaction's spill file (``spill``); None elsewhere.
    """

    __slots__ = (
        "accel",
        "byte_room",
        "row_room",
        "spill",
        "tables",
        "targets",
        "txn",
        "value_limit",
    )

    def __init__(
        self,
        accel: Any,
        targets: dict[int, Target],
        value_limit: int,
        tables: dict[int, TableEntry] | None = None,
    ) -> None:
        self.accel = accel  # walstream._accel, initialised by load()
        self.targets = targets
        self.tables: dict[int, TableEntry] = {} if tables is None else tables
        self.txn: Any = None
        self.value_limit = value_limit
        self.row_room = 0
        self.byte_room = 0
        self.spill: bytearray | None = None


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
def load() -> tuple[Any, str]:
    """(the initialised extension module or None, why it is or is not used) — once."""
    if not accel_enabled():
        return None, "disabled by WALSTREAM_ACCEL"
    try:
        from .. import _accel
    except ImportError:
        return None, "not built (no C compiler at install time)"
    import psycopg.pq  # noqa: F401  (maps psycopg's libpq into the process)

    paths = _libpq_paths()
    if len(paths) != 1:
        return None, f"cannot tell psycopg's libpq ({len(paths)} mapped)"
    path = paths.pop()
    try:
        lib = ctypes.CDLL(path)
        get_copy_data = ctypes.cast(lib.PQgetCopyData, ctypes.c_void_p).value
        freemem = ctypes.cast(lib.PQfreemem, ctypes.c_void_p).value
    except (OSError, AttributeError) as exc:
        return None, f"cannot use {path}: {exc}"
    if not get_copy_data or not freemem:
        return None, f"cannot use {path}: functions not found"
    _accel.init(get_copy_data, freemem)
    return _accel, f"C read loop on {os.path.basename(path)}"
