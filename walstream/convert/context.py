"""Per-column state shared by the decoders: where errors point, and what was adjusted.

DESIGN.md §4 says no value is silently changed. The few adjustments we make (infinite dates and
timestamps clamped to the Arrow/Snowflake range, ``24:00:00`` clamped to the last microsecond of
the day, multi-dimensional arrays flattened) are counted in :class:`ConversionStats`, one per
column converter, so the caller can log them once per flush. Everything else that does not fit
raises :class:`TypeConversionError` through :meth:`ColumnContext.error`, which names the
column, its type, the value, and what the user can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from ..errors import TypeConversionError
from .catalog import PgType

# ConversionStats keys
CLAMPED_INFINITY = "infinity_clamped"
CLAMPED_END_OF_DAY = "time_24_00_clamped"
FLATTENED_ARRAY = "multidim_array_flattened"


@dataclass(slots=True)
class ConversionStats:
    """How many values of a column were adjusted, by reason (see the module docstring)."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str, count: int = 1) -> None:
        if count:
            self.counts[reason] = self.counts.get(reason, 0) + count

    def take(self) -> dict[str, int]:
        """The counts since the last take (for logging once per flush), and reset them."""
        counts, self.counts = self.counts, {}
        return counts

    def __len__(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class ColumnContext:
    """The column a decoder works on: its type, name (when known) and stats."""

    pg_type: PgType
    column: str | None
    stats: ConversionStats

    def error(self, problem: str, value: object = None, fix: str = "") -> TypeConversionError:
        where = f"column {self.column!r}" if self.column else "a column"
        text = f"{where} of type {self.pg_type.display_name}: {problem}"
        if value is not None:
            if isinstance(value, bytes | bytearray | memoryview):
                value = bytes(value)
                shown = repr(value[:200]) + ("..." if len(value) > 200 else "")
            else:
                shown = repr(value)[:200]
            text += f" (value {shown})"
        if fix:
            text += f"; {fix}"
        return TypeConversionError(text)


# A column decoder: a whole column of raw values (Arrow binary) -> its Arrow array.
Decoder = Callable[[pa.Array, ColumnContext], pa.Array]
