"""Type stub of the optional C extension (walstream/_accel.c)."""

from typing import Any

DRAIN_LIMIT: int
DRAIN_EMPTY: int
DRAIN_FRAME: int
DRAIN_END: int

def init(get_copy_data: int, freemem: int, /) -> None: ...
def drain(
    pgconn: int,
    max_frames: int,
    value_limit: int,
    targets: dict[int, tuple[bytearray, bytearray, bytearray, bytearray]],
    txn: Any,
    /,
) -> tuple[int, bytes | None, int, int, int]: ...
def drain_txns(
    pgconn: int,
    max_frames: int,
    value_limit: int,
    tables: dict[int, tuple[Any, ...]],
    row_room: int,
    byte_room: int,
    /,
) -> tuple[int, bytes | None, int, int, int, int, int, Any]: ...
def spill(
    pgconn: int, max_frames: int, out: bytearray, max_bytes: int, /
) -> tuple[int, bytes | None, int, int, int]: ...
def replay(
    block: bytes | bytearray | memoryview,
    pos: int,
    targets: dict[int, tuple[bytearray, bytearray, bytearray, bytearray]],
    txn: Any,
    value_limit: int,
    max_rows: int,
    max_bytes: int,
    /,
) -> tuple[int, int, int]: ...
