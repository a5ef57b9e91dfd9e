"""Type stub of the optional C extension walstream/_columns.c."""

from typing import Any

_Out = bytearray | None

def tuple_column(
    data: Any,
    pos: Any,
    end: Any,
    present: Any,
    starts: Any,
    lengths: Any,
    last: bool,
    fixed_width: int,
    /,
) -> tuple[int, int, int, _Out, _Out, _Out, _Out]: ...
