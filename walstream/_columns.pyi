"""Type stub of the optional C extension walstream/_columns.c."""

from typing import Any

def scan_column(
    data: Any,
    pos: Any,
    end: Any,
    present: Any,
    starts: Any,
    lengths: Any,
    kinds: Any,
    last: bool,
    fixed_width: int,
    framing: int,
    /,
) -> tuple[int, int, int, int, int, int, int]: ...
def fill_column(
    data: Any,
    starts: Any,
    lengths: Any,
    kinds: Any,
    validity: Any,
    offsets: Any,
    values: Any,
    width: int,
    /,
) -> None: ...
def copy_messages(
    pgconn: int,
    get_copy_data: int,
    freemem: int,
    out: bytearray,
    ends: Any,
    taken: int,
    max_bytes: int,
    /,
) -> tuple[int, int]: ...
