"""The vectorised binary numeric(p <= 18, s) decoder gives exactly what the per-value path gives.

The raw values are PostgreSQL's own ``numeric_send`` output for random values of many
precisions and scales (and the edges: zero, the largest value, tiny fractions, negatives), so
the fast path is checked against the real binary format, not against our idea of it.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pyarrow as pa
import pytest

from tests.conftest import PgDatabase
from walstream.convert import binary as binary_decoders
from walstream.convert.catalog import builtin_type
from walstream.convert.context import ColumnContext, ConversionStats
from walstream.convert.formats import numeric_text

TYPMODS = [(1, 0), (5, 2), (10, 0), (12, 2), (15, 5), (18, 0), (18, 9), (18, 18), (7, 7)]


def _random_values(precision: int, scale: int, rng: random.Random, count: int) -> list[str]:
    whole = precision - scale
    values = ["0", "-0", "9" * whole + ("." + "9" * scale if scale else "") if whole else "0"]
    if scale:
        values += ["0." + "0" * (scale - 1) + "1", "-0." + "9" * scale]
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, precision)))
        digits = digits.rjust(precision, "0")
        text = digits[:whole] + ("." + digits[whole:] if scale else "")
        if not whole:
            text = "0" + text
        values.append(("-" if rng.random() < 0.4 else "") + text)
    return values


@pytest.mark.parametrize(("precision", "scale"), TYPMODS)
def test_fast_numeric_matches_the_exact_path(db: PgDatabase, precision: int, scale: int) -> None:
    """Same decimal128 values as numeric_out parsed by Arrow, NULLs in place."""
    rng = random.Random(precision * 100 + scale)
    values = _random_values(precision, scale, rng, 300)
    with db.connect() as conn:
        rows = conn.execute(
            f"SELECT numeric_send(v::numeric({precision},{scale})) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, i) ORDER BY i",
            (values,),
        ).fetchall()
    raw_values: list[bytes | None] = [bytes(r[0]) for r in rows]
    raw_values.insert(3, None)
    raw = pa.array(raw_values, pa.binary())
    arrow_type = pa.decimal128(precision, scale)
    fast = binary_decoders._numeric_int64(raw, arrow_type)
    assert fast is not None, "the fast path declined ordinary numeric values"
    expected = [None if v is None else Decimal(numeric_text(v)) for v in raw_values]
    assert fast.to_pylist() == expected
    numeric_type = builtin_type(1700)
    assert numeric_type is not None
    ctx = ColumnContext(numeric_type, "n", ConversionStats())
    exact = binary_decoders.numeric(arrow_type)(raw, ctx)
    assert exact.equals(fast)


def test_special_values_fall_back_to_the_path_that_explains_them(db: PgDatabase) -> None:
    """NaN has no decimal128: the vectorised path declines, the exact path raises."""
    with db.connect() as conn:
        nan = conn.execute("SELECT numeric_send('NaN'::numeric)").fetchone()
    assert nan is not None
    raw = pa.array([bytes(nan[0])], pa.binary())
    assert binary_decoders._numeric_int64(raw, pa.decimal128(12, 2)) is None
