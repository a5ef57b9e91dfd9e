"""Type stub of the optional C extension (walstream/_accel.c)."""

from typing import Any, NamedTuple

DRAIN_LIMIT: int
DRAIN_EMPTY: int
DRAIN_FRAME: int
DRAIN_END: int

# struct sequences in C; typed here as the named tuples they behave as
class Mark(NamedTuple):
    oid: int
    entry: Any
    rows_before: int

class Handoff(NamedTuple):
    xid: int
    final_lsn: int
    commit_ts_us: int
    seq: int
    rows: int
    marks: list[Mark]

class Run(NamedTuple):
    status: int
    frame: bytes | None
    taken: int
    payload_bytes: int
    wal_end: int
    commits: int
    commit_end: int
    handoff: Handoff | None

class Replayed(NamedTuple):
    pos: int
    taken: int
    payload_bytes: int

def init(get_copy_data: int, freemem: int, /) -> None: ...
def drain(
    pgconn: int,
    max_frames: int,
    value_limit: int,
    targets: dict[int, Any],
    txn: Any,
    /,
) -> Run: ...
def drain_txns(
    pgconn: int,
    max_frames: int,
    value_limit: int,
    tables: dict[int, Any],
    row_room: int,
    byte_room: int,
    /,
) -> Run: ...
def spill(pgconn: int, max_frames: int, out: bytearray, max_bytes: int, /) -> Run: ...
def replay(
    block: bytes | bytearray | memoryview,
    pos: int,
    targets: dict[int, Any],
    txn: Any,
    value_limit: int,
    max_rows: int,
    max_bytes: int,
    /,
) -> Replayed: ...
