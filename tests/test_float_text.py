"""Binary float4/float8 printed as PostgreSQL prints them, sign included (fuzz finding:
negative values lost their '-', which changed the bounds of binary ranges over floats)."""

from __future__ import annotations

from tests.conftest import PgDatabase
from walstream.convert.formats import float4_text, float8_text

VALUES = ["-1.5", "-0.1", "-1e+20", "-2.5e-30", "3.25", "-123456.789", "-0"]


def test_negative_and_positive_floats_print_like_float_out(db: PgDatabase) -> None:
    with db.connect() as conn:
        conn.execute("SET extra_float_digits = 3")
        for text in VALUES:
            row = conn.execute(
                "SELECT float8send(%s::float8), %s::float8::text, "
                "float4send(%s::float4), %s::float4::text",
                (text, text, text, text),
            ).fetchone()
            assert row is not None
            assert float8_text(bytes(row[0])) == row[1]
            assert float4_text(bytes(row[2])) == row[3]
