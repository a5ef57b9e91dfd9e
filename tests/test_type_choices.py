"""``--as-text`` and ``--on-lossy`` (walstream.convert.choices): parsed once, refused when bad,
and followed by every side that types a column (stream, snapshot, the Snowflake commands)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from tests.cli_run import walstream
from tests.conftest import PgDatabase
from walstream.convert import LOSSY_TOO_LARGE, builtin_type, converter_for
from walstream.convert.choices import TypeChoices
from walstream.convert.converter import MAX_BINARY_BYTES
from walstream.errors import ConfigError, TypeConversionError
from walstream.schema import ColumnSchema, TableSchema


def _type(oid: int, typmod: int = -1) -> object:
    t = builtin_type(oid, typmod)
    assert t is not None
    return t


def test_kinds_and_column_patterns_pick_the_columns_typed_as_text() -> None:
    numeric_10_2 = builtin_type(1700, (10 << 16 | 2) + 4)
    numeric_free = builtin_type(1700)
    date_array = builtin_type(1182)
    json = builtin_type(114)
    text = builtin_type(25)
    assert numeric_10_2 and numeric_free and date_array and json and text
    choices = TypeChoices.parse(["numeric, temporal", "public.orders.*", "s.t.c?"])
    assert choices.as_text("x", "y", "n", numeric_10_2)
    assert not choices.as_text("x", "y", "n", numeric_free)  # already exact text
    assert choices.as_text("x", "y", "d", date_array)  # an array of a temporal type
    assert not choices.as_text("x", "y", "j", json)
    assert choices.as_text("public", "orders", "note", text)
    assert choices.as_text("s", "t", "c1", text) and not choices.as_text("s", "t", "c12", text)
    assert TypeChoices.parse(["json"]).as_text("x", "y", "j", json)
    assert TypeChoices.parse(["array"]).as_text("x", "y", "d", date_array)


@pytest.mark.parametrize("spec", ["numerics", "orders.total", "public..x", "*"])
def test_a_bad_as_text_entry_is_refused_with_the_forms_it_takes(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"schema\.table\.column.*numeric, temporal, array"):
        TypeChoices.parse([spec])
    with pytest.raises(ConfigError, match="--on-lossy"):
        TypeChoices.parse([], "ignore")


def test_a_column_typed_as_text_is_a_string_of_postgres_output_in_both_formats() -> None:
    ts = builtin_type(1114)
    assert ts is not None
    conv = converter_for(ts, "at", as_text=True)
    assert conv.arrow_type == pa.string() and conv.binary_supported
    infinity = (2**63 - 1).to_bytes(8, "big")
    bc = (-63_113_904_000_000_000).to_bytes(8, "big", signed=True)  # 2000 years before 2000
    assert conv.convert([infinity, bc, None], binary=True).to_pylist() == [
        "infinity",
        "0001-01-01 00:00:00 BC",
        None,
    ]
    assert conv.convert([b"infinity", None], binary=False).to_pylist() == ["infinity", None]
    assert conv.stats.take() == {}  # never lossy


def test_a_bytea_over_snowflakes_binary_maximum_is_null_and_marked() -> None:
    bytea = builtin_type(17)
    assert bytea is not None
    conv = converter_for(bytea, "blob")
    big = b"\x01" * (MAX_BINARY_BYTES + 1)
    values, lossy = conv.decode_marked(pa.array([b"ok", big, None], pa.binary()), True)
    assert values.to_pylist() == [b"ok", None, None]
    assert lossy is not None and lossy.tolist() == [False, True, False]
    assert conv.stats.take() == {LOSSY_TOO_LARGE: 1}
    strict = converter_for(bytea, "blob", on_lossy="fail")
    with pytest.raises(TypeConversionError, match=r"'blob'.*too_large"):
        strict.decode_marked(pa.array([big], pa.binary()), True)


def test_the_choice_is_part_of_the_tables_shape() -> None:
    """Changing --as-text for a live table changes its relation: files are cut and the
    Snowflake side evolves as for any schema change."""
    plain = TableSchema(1, "public", "t", (ColumnSchema("n", 1700, "numeric", 655366, False),), "d")
    typed = TableSchema(
        1, "public", "t", (ColumnSchema("n", 1700, "numeric", 655366, False, True),), "d"
    )
    assert not plain.same_shape(typed)
    assert TableSchema.from_json(typed.to_json()) == typed
    assert TableSchema.from_json(plain.to_json()) == plain
    assert "as_text" not in plain.to_json()  # files of before the choice existed read the same


def test_bad_choices_exit_2_with_one_line(tmp_path: Path) -> None:
    result = walstream(
        "run", "--dsn", "host=127.0.0.1 port=1", "--dest", f"file://{tmp_path}", "--as-text", "x"
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--as-text 'x'" in lines[0], result.stderr
    result = walstream(
        "run", "--dsn", "host=127.0.0.1 port=1", "--dest", f"file://{tmp_path}", "--on-lossy", "x"
    )
    assert result.returncode == 2 and "--on-lossy" in result.stderr


def test_snowflake_sql_from_the_source_follows_as_text(db: PgDatabase, tmp_path: Path) -> None:
    db.execute("CREATE TABLE t (id int PRIMARY KEY, amount numeric(10,2), at timestamptz)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE t")
    args = ["snowflake", "sql", "--dsn", db.dsn, "--dest", "s3://bucket/dms"]
    plain = walstream(*args)
    assert plain.returncode == 0, plain.stderr
    assert '"AMOUNT" NUMBER(10,2)' in plain.stdout
    typed = walstream(*args, "--as-text", "numeric", env={"WALSTREAM_AS_TEXT": "temporal"})
    assert typed.returncode == 0, typed.stderr
    assert '"AMOUNT" VARCHAR(134217728)' in typed.stdout
    assert '"AT" TIMESTAMP_TZ(6)' in typed.stdout  # the flag wins over the environment
    env_only = walstream(*args, env={"WALSTREAM_AS_TEXT": "temporal numeric"})
    assert '"AT" VARCHAR(134217728)' in env_only.stdout
    assert '"AMOUNT" VARCHAR(134217728)' in env_only.stdout
