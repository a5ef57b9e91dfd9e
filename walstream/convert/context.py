"""Per-column state shared by the decoders: where errors point, and which values are lossy.

DESIGN.md §1 guarantee 7 and §4: no valid value stops the stream, and no value changes silently.
A value the files cannot hold exactly is stored as the nearest value they can hold (or NULL
where there is none) and *marked*: the decoder calls :meth:`ColumnContext.mark` with the kind of
loss and the rows it hit. The marks become the row's ``_walstream_lossy`` (names of the lossy
columns, :func:`walstream.convert.lossy.lossy_column`), the counts per kind are logged and
counted in a metric (:mod:`walstream.convert.lossy`). With ``on_lossy="fail"`` (the explicit
fail-fast choice) marking raises instead, naming the column, the kind and the value.

Everything else that does not fit is malformed input (PostgreSQL never sends it) and raises
:class:`TypeConversionError` through :meth:`ColumnContext.error`, which names the column, its
type, the value, and what the user can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ..errors import TypeConversionError
from .buffers import Mask
from .catalog import PgType

# Kinds of loss (ConversionStats keys, the ``kind`` label of the lossy-values metric). Each is a
# value stored as something other than the source's exact value; see DESIGN.md §4 and README's
# type table for what each becomes.
LOSSY_INFINITY = "infinity"  # date/timestamp +-infinity -> the last/first representable value
LOSSY_OUT_OF_RANGE = "out_of_range"  # date/timestamp outside 0001-01-01 .. 9999-12-31 -> its end
LOSSY_END_OF_DAY = "time_24_00"  # time 24:00:00 -> 23:59:59.999999
LOSSY_NAN = "numeric_nan"  # NaN in numeric(p,s) -> NULL
LOSSY_ARRAY_SHAPE = "array_shape"  # several dimensions flattened / lower bound other than 1 dropped
LOSSY_JSON_DUPLICATE_KEYS = "json_duplicate_keys"  # json object with a repeated key: last one wins
LOSSY_TOO_LARGE = "too_large"  # bytea over 64 MB (Snowflake's BINARY maximum) -> NULL

LOSSY_KINDS = (
    LOSSY_INFINITY,
    LOSSY_OUT_OF_RANGE,
    LOSSY_END_OF_DAY,
    LOSSY_NAN,
    LOSSY_ARRAY_SHAPE,
    LOSSY_JSON_DUPLICATE_KEYS,
    LOSSY_TOO_LARGE,
)

# The names older code and tests used for the same kinds.
CLAMPED_INFINITY = LOSSY_INFINITY
CLAMPED_END_OF_DAY = LOSSY_END_OF_DAY
FLATTENED_ARRAY = LOSSY_ARRAY_SHAPE

#: What a column does with a value it cannot store exactly: ``mark`` (the default: store the
#: nearest value, name the column in ``_walstream_lossy``) or ``fail`` (raise, exit 5).
ON_LOSSY_CHOICES = ("mark", "fail")


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


@dataclass(slots=True)
class RowMarks:
    """The rows of one decode call whose value is lossy (None until one is)."""

    size: int
    rows: Mask | None = None

    def add(self, rows: Mask) -> None:
        self.rows = rows.copy() if self.rows is None else self.rows | rows


@dataclass(frozen=True, slots=True)
class ColumnContext:
    """The column a decoder works on: its type, name (when known), stats and lossy rows."""

    pg_type: PgType
    column: str | None
    stats: ConversionStats
    marks: RowMarks | None = None
    on_lossy: str = "mark"

    def mark(self, kind: str, rows: Mask, shown: Callable[[], object] | None = None) -> None:
        """The values at ``rows`` (a bool mask over this call's values) were stored inexactly.

        ``shown`` gives the first such source value for the fail-fast error message.
        """
        count = int(np.count_nonzero(rows))
        if not count:
            return
        if self.on_lossy == "fail":
            raise self.error(
                f"value cannot be stored exactly ({kind}) and --on-lossy is 'fail'",
                None if shown is None else shown(),
                "use --on-lossy mark (the default: store the nearest value and name the column "
                "in _walstream_lossy) or --as-text for this column (exact, as PostgreSQL's text)",
            )
        self.stats.add(kind, count)
        if self.marks is not None:
            self.marks.add(rows)

    def mark_positions(
        self, kind: str, positions: npt.NDArray[np.int64], size: int, shown: object = None
    ) -> None:
        """:meth:`mark` for the values at integer ``positions`` out of ``size``."""
        if len(positions):
            rows = np.zeros(size, dtype=np.bool_)
            rows[positions] = True
            self.mark(kind, rows, lambda: shown)

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
