"""Bucket checksums (walstream/verify/checksum.py): the same rows, the same sums, in every engine.

The type zoos (tests/test_lossy_zoo.py: every type with its edge values, inexact values marked
in ``_walstream_lossy``, updates with unchanged TOAST and a key change; tests/test_types_e2e.py)
are written to PostgreSQL and streamed by the real pipeline, in text and in binary mode, to
``file://`` destinations. Each destination is merged into a local DuckDB warehouse, and into
Snowflake FINAL tables on fakesnow through the generated COPY and task body (as in
tests/test_snowflake_delivery.py). The checksums computed inside PostgreSQL, DuckDB and fakesnow
must be equal, bucket by bucket and column by column; a changed value or a dropped lossy mark in
FINAL must change exactly its bucket, and narrowing must find its key.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import fakesnow
import fakesnow.copy_into
import psycopg
import pytest
import snowflake.connector
from sqlglot import exp

from tests.conftest import PgDatabase
from tests.snowflake_parse import parse_snowflake
from tests.streaming import run_to_current
from tests.test_fakesnow import NOT_IN_FAKESNOW, _strip_json_extract_quoted, copy_file
from tests.test_lossy_zoo import LOSSLESS, setup_zoo, workload
from tests.test_snowflake_evolve import manifest_pipe_copy, run_procedure
from tests.test_types_e2e import load_zoo
from walstream.errors import ConfigError
from walstream.sink import open_sink
from walstream.snowflake.dialects import DUCKDB, SNOWFLAKE
from walstream.snowflake.discover import models_from_dest
from walstream.snowflake.model import TableModel, snowflake_type
from walstream.snowflake.objects import snowflake_statements
from walstream.snowflake.options import SnowflakeOptions
from walstream.verify import checksum
from walstream.verify.checksum import (
    POSTGRES,
    Bucket,
    BucketSum,
    ChecksumTable,
    Engine,
    bucket_checksums,
    bucket_rows,
    checksum_query,
    prepare_source,
    row_texts,
    rows_query,
    texts_query,
)
from walstream.warehouse import LocalWarehouse

BUCKETS = 8


# -- FINAL on fakesnow ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def snowflake_cursor() -> Iterator[Any]:
    """A fakesnow connection for the module (as tests/test_fakesnow.py's ``cursor``)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fakesnow.copy_into, "_strip_json_extract", _strip_json_extract_quoted)
        with fakesnow.patch(nop_regexes=NOT_IN_FAKESNOW):
            conn = snowflake.connector.connect(database="ANALYTICS", schema="CDC")
            try:
                yield conn.cursor()
            finally:
                conn.close()


def deliver_to_snowflake(cursor: Any, dest: str, schema: str) -> list[TableModel]:
    """Every file of ``dest`` into FINAL tables of ``schema``: the generated objects, each
    manifest and file loaded in order by the pipes' COPY, then every table's task body."""
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    cursor.execute(f"USE SCHEMA {schema}")
    sink = open_sink(dest)
    models = {m.name: m for m in models_from_dest(dest)}
    options = SnowflakeOptions(dest=dest, storage_integration=None)
    procedures = {}
    for statement in snowflake_statements(list(models.values()), options):
        cursor.execute(statement.sql)
        if statement.kind == "procedure":
            procedures[statement.table] = statement.sql[
                statement.sql.index("$$") + 3 : statement.sql.rindex("$$")
            ]
    for key in sorted(k for k in sink.list("") if k.endswith((".parquet", ".json"))):
        if key.endswith(".json"):
            manifest_pipe_copy(cursor, key, sink.get(key) or b"")
        else:
            table = re.sub(r"^public/([^/]+)/.*", r"\1", key)
            cursor.execute(copy_file(models[table], options, key))
    for model in models.values():
        run_procedure(cursor, procedures[model.qualified_name], model)
    return list(models.values())


# -- the engines ---------------------------------------------------------------------------------
@dataclass
class Engines:
    """One stream of a zoo: the source, and FINAL in DuckDB and on fakesnow."""

    pg: psycopg.Connection[Any]
    duck: duckdb.DuckDBPyConnection
    snow: Any
    tables: dict[str, ChecksumTable]
    schema: str

    def cursors(self) -> dict[str, tuple[Any, Engine]]:
        return {
            "postgres": (self.pg, POSTGRES),
            "duckdb": (self.duck, DUCKDB),
            "snowflake": (self.snow, SNOWFLAKE),
        }

    def checksums(
        self, table: ChecksumTable, buckets: int = BUCKETS, within: Bucket | None = None
    ) -> dict[str, dict[Bucket, BucketSum]]:
        return {
            name: bucket_checksums(cursor, engine, table, buckets, within)
            for name, (cursor, engine) in self.cursors().items()
        }

    def use(self) -> Engines:
        """This stream's FINAL schema as fakesnow's current one (the connection is shared)."""
        self.snow.execute(f"USE SCHEMA {self.schema}")
        return self

    def close(self) -> None:
        self.pg.close()
        self.duck.close()

    def texts(self, table: ChecksumTable) -> dict[str, dict[str, str]]:
        return {
            name: row_texts(cursor, engine, table)
            for name, (cursor, engine) in self.cursors().items()
        }


def column_mismatches(engines: Engines, table: ChecksumTable) -> list[str]:
    """Each compared column whose whole-table checksum differs between engines, with the rows'
    texts that differ (so a failure names the column, its types and the values)."""
    problems = []
    for column in table.model.columns:
        if column.is_key:
            continue
        one = table.only([column.name])
        sums = engines.checksums(one, buckets=1)
        if sums["postgres"] == sums["duckdb"] == sums["snowflake"]:
            continue
        texts = engines.texts(one)
        diffs = [
            f"    {key}: " + ", ".join(f"{n}={texts[n].get(key)!r:.160}" for n in texts)
            for key in sorted(set().union(*texts.values()))
            if len({t.get(key) for t in texts.values()}) > 1
        ]
        problems.append(
            f"{table.model.name}.{column.name} ({column.pg_type} -> {snowflake_type(column)}):\n"
            + "\n".join(diffs[:6])
        )
    return problems


# -- the zoos, streamed --------------------------------------------------------------------------
def _engines(db: PgDatabase, dest: str, warehouse: Path, snow: Any, schema: str) -> Engines:
    """FINAL of ``dest`` in a DuckDB warehouse and in fakesnow's ``schema``; the source."""
    with LocalWarehouse(str(warehouse)) as wh:
        wh.load(open_sink(dest))
    models = deliver_to_snowflake(snow, dest, schema)
    pg = psycopg.connect(db.dsn, autocommit=True)
    prepare_source(pg)
    tables = {m.name: ChecksumTable.from_source(pg, m) for m in models}
    return Engines(pg, duckdb.connect(str(warehouse)), snow, tables, schema)


@dataclass
class Zoo:
    text: Engines  # zoo and zoo_textual, streamed in text mode
    binary: Engines  # zoo, streamed with binary 'true'
    lossless: Engines  # both, with --as-text numeric,temporal,array,json


@pytest.fixture(scope="module")
def zoo(
    db_module: PgDatabase, tmp_path_factory: pytest.TempPathFactory, snowflake_cursor: Any
) -> Iterator[Zoo]:
    """tests/test_lossy_zoo.py's zoo and workload, streamed three ways."""
    setup_zoo(db_module)
    workload(db_module)
    base = tmp_path_factory.mktemp("checksum-zoo")
    made = {}
    for slot, binary, publication, as_text in (
        ("text", "off", "walstream", ()),
        ("bin", "on", "walstream_bin", ()),
        ("lossless_text", "off", "walstream", LOSSLESS),
    ):
        dest = f"file://{base}/{slot}"
        run_to_current(
            db_module, dest, slot=slot, publication=publication, binary=binary, as_text=as_text
        )
        made[slot] = _engines(
            db_module, dest, base / f"{slot}.duckdb", snowflake_cursor, f"ZOO_{slot.upper()}"
        )
    try:
        yield Zoo(made["text"], made["bin"], made["lossless_text"])
    finally:
        for engines in made.values():
            engines.close()


def assert_same_everywhere(engines: Engines) -> None:
    """Whole tables (in buckets) and column by column: the same in the three engines."""
    problems = []
    for table in engines.tables.values():
        sums = engines.checksums(table)
        assert sums["postgres"] == sums["duckdb"] == sums["snowflake"], table.model.name
        rows = sum(s.rows for s in sums["postgres"].values())
        assert rows == engines.pg.execute(f"SELECT count(*) FROM {table.model.name}").fetchone()[0]
        assert len(sums["postgres"]) > 1, "the rows spread over several buckets"
        problems += column_mismatches(engines, table)
        problems += vacuous_fields(engines, table)
    assert not problems, "\n".join(problems)


def vacuous_fields(engines: Engines, table: ChecksumTable) -> list[str]:
    """Columns whose texts say NULL more often than FINAL holds NULL: equal checksums must not
    come from a value's text being NULL in every engine."""
    problems = []
    final = DUCKDB.names(table.model).final
    for column in table.model.values:
        texts = row_texts(engines.duck, DUCKDB, table.only([column.name])).values()
        nulls = sum(1 for t in texts if re.search(r"\|~?N\|$", t))
        (expected,) = engines.duck.execute(
            f"SELECT count(*) FROM {final} WHERE {DUCKDB.ident(column.name)} IS NULL"
        ).fetchone()
        if nulls != expected:
            problems.append(f"{column.name}: {nulls} NULL fields for {expected} NULL values")
    return problems


def test_every_column_of_the_type_zoo_has_the_same_checksums_in_the_three_engines(
    zoo: Zoo,
) -> None:
    """Text mode: both tables (the textual one has the types without a binary format)."""
    engines = zoo.text.use()
    assert {t.model.name for t in engines.tables.values()} == {"zoo", "zoo_textual"}
    assert_same_everywhere(engines)


def test_the_binary_stream_gives_the_same_checksums(zoo: Zoo) -> None:
    assert_same_everywhere(zoo.binary.use())
    text, binary = zoo.text.use(), zoo.binary
    assert bucket_checksums(text.pg, POSTGRES, text.tables["zoo"], BUCKETS) == bucket_checksums(
        binary.duck, DUCKDB, binary.tables["zoo"], BUCKETS
    )


def test_columns_typed_as_text_compare_as_postgres_text(zoo: Zoo) -> None:
    """--as-text: FINAL holds PostgreSQL's text output, nothing is marked, and the source
    side reads the same text."""
    engines = zoo.lossless.use()
    zoo_table = engines.tables["zoo"]
    assert {c.name for c in zoo_table.model.columns if c.as_text} >= {"d", "ts", "ai", "j"}
    assert_same_everywhere(engines)


def test_lossy_values_are_compared_with_their_marks(zoo: Zoo) -> None:
    """FINAL holds marked rows; the source side computes the same marks and nearest values, and
    a mark dropped from FINAL changes the row (so do the nearest value and the mark of the
    lossless stream: a different text)."""
    engines = zoo.text.use()
    table = engines.tables["zoo"]
    marked = engines.duck.execute(
        "SELECT id, _walstream_lossy FROM public.zoo WHERE _walstream_lossy IS NOT NULL ORDER BY id"
    ).fetchall()
    assert len(marked) > 5 and any("d" in m for _, m in marked)
    rid, names = marked[0]
    for column in names:  # each marked column of that row: equal across engines, with its mark
        one = table.only([column])
        sums = engines.checksums(one)
        assert sums["postgres"] == sums["duckdb"] == sums["snowflake"], column
        assert "~" in row_texts(engines.pg, POSTGRES, one)[f"V{rid}|"]
    source = bucket_checksums(engines.pg, POSTGRES, table, BUCKETS)
    with rolled_back(engines.duck) as duck:
        duck.execute(f"UPDATE public.zoo SET _walstream_lossy = NULL WHERE id = {rid}")
        final = bucket_checksums(duck, DUCKDB, table, BUCKETS)
    assert differing(source, final) == {bucket_of(f"V{rid}|", BUCKETS)}
    with rolled_back(engines.snow) as snow:
        snow.execute(f'UPDATE "ZOO" SET _walstream_lossy = NULL WHERE "ID" = {rid}')
        final = bucket_checksums(snow, SNOWFLAKE, table, BUCKETS)
    assert differing(source, final) == {bucket_of(f"V{rid}|", BUCKETS)}
    lossless = bucket_checksums(zoo.lossless.pg, POSTGRES, zoo.lossless.tables["zoo"], BUCKETS)
    assert differing(source, lossless)  # as text, the same rows are other texts


# -- differences ---------------------------------------------------------------------------------
@contextmanager
def rolled_back(cursor: Any) -> Iterator[Any]:
    """``cursor`` in a transaction that is rolled back afterwards (FINAL is shared)."""
    cursor.execute("BEGIN TRANSACTION")
    try:
        yield cursor
    finally:
        cursor.execute("ROLLBACK")


def bucket_of(key_text: str, buckets: int) -> Bucket:
    """The bucket of a key text, computed here: the first 64 bits of its MD5."""
    key_hash = int(hashlib.md5(key_text.encode()).hexdigest()[:16], 16)
    return Bucket(buckets, key_hash % buckets)


def differing(a: dict[Bucket, BucketSum], b: dict[Bucket, BucketSum]) -> set[Bucket]:
    return {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}


def narrow(
    source: tuple[Any, Engine], final: tuple[Any, Engine], table: ChecksumTable, bucket: Bucket
) -> tuple[Bucket, set[str]]:
    """Split ``bucket`` until its differing part holds at most 3 keys of either side; that
    part and the key texts whose rows differ."""
    while True:
        src, fin = (bucket_rows(c, e, table, bucket) for c, e in (source, final))
        if max(len(src), len(fin)) <= 3:
            diff = {k for k in src.keys() | fin.keys() if src.get(k, None) != fin.get(k, None)}
            changed = {k for k in src.keys() & fin.keys() if src[k].row_hash != fin[k].row_hash}
            return bucket, (diff - (src.keys() & fin.keys())) | changed
        parts = differing(
            bucket_checksums(*source, table, 4, bucket), bucket_checksums(*final, table, 4, bucket)
        )
        assert len(parts) == 1, parts
        (bucket,) = parts


def test_a_changed_value_in_final_changes_exactly_its_bucket_and_narrowing_finds_its_key(
    zoo: Zoo,
) -> None:
    engines = zoo.text.use()
    table = engines.tables["zoo"]
    source = bucket_checksums(engines.pg, POSTGRES, table, BUCKETS)
    changes = {
        "duckdb": (engines.duck, DUCKDB, "UPDATE public.zoo SET t = t || '!' WHERE id = 6"),
        "snowflake": (
            engines.snow,
            SNOWFLAKE,
            'UPDATE "ZOO" SET "T" = "T" || \'!\' WHERE "ID" = 6',
        ),
    }
    for name, (cursor, engine, update) in changes.items():
        with rolled_back(cursor):
            cursor.execute(update)
            final = bucket_checksums(cursor, engine, table, BUCKETS)
            (bucket,) = differing(source, final)
            assert bucket == bucket_of("V6|", BUCKETS), name
            assert source[bucket].rows == final[bucket].rows
            part, keys = narrow((engines.pg, POSTGRES), (cursor, engine), table, bucket)
            assert keys == {"V6|"} and part.holds(int(hashlib.md5(b"V6|").hexdigest()[:16], 16))
            # which column: the texts of that row, one column at a time
            assert differing_columns(engines.pg, (cursor, engine), table, part, "V6|") == ["t"]


def differing_columns(
    pg: Any, final: tuple[Any, Engine], table: ChecksumTable, bucket: Bucket, key: str
) -> list[str]:
    out = []
    for column in table.model.values:
        one = table.only([column.name])
        if row_texts(pg, POSTGRES, one, bucket)[key] != row_texts(*final, one, bucket)[key]:
            out.append(column.name)
    return out


def test_a_missing_and_an_extra_row_change_their_bucket_counts(zoo: Zoo) -> None:
    engines = zoo.text.use()
    table = engines.tables["zoo"]
    source = bucket_checksums(engines.pg, POSTGRES, table, BUCKETS)
    with rolled_back(engines.snow) as snow:
        snow.execute('DELETE FROM "ZOO" WHERE "ID" = 2')
        final = bucket_checksums(snow, SNOWFLAKE, table, BUCKETS)
    (bucket,) = differing(source, final)
    assert final.get(bucket, BucketSum(0, 0)).rows == source[bucket].rows - 1
    with rolled_back(engines.duck) as duck:
        duck.execute(
            "INSERT INTO public.zoo (id, _walstream_lsn, _walstream_seq) VALUES (4242, 1, 0)"
        )
        final = bucket_checksums(duck, DUCKDB, table, BUCKETS)
        rows = bucket_rows(duck, DUCKDB, table, bucket_of("V4242|", BUCKETS))
    (bucket,) = differing(source, final)
    assert final[bucket].rows == source.get(bucket, BucketSum(0, 0)).rows + 1
    assert rows["V4242|"].key == (4242,) and rows["V4242|"].lsn == 1


def test_soft_deleted_rows_of_final_are_not_counted(zoo: Zoo) -> None:
    engines = zoo.text.use()
    table = engines.tables["zoo"]
    soft = ChecksumTable(table.model, table.pg_types, soft_delete=True)
    source = bucket_checksums(engines.pg, POSTGRES, table, BUCKETS)
    with rolled_back(engines.duck) as duck:
        duck.execute("ALTER TABLE public.zoo ADD COLUMN _walstream_deleted BOOLEAN")
        duck.execute(
            "INSERT INTO public.zoo (id, _walstream_lsn, _walstream_seq, _walstream_deleted) "
            "VALUES (4242, 1, 0, TRUE)"
        )
        assert bucket_checksums(duck, DUCKDB, soft, BUCKETS) == source
        assert bucket_checksums(duck, DUCKDB, table, BUCKETS) != source


# -- the other zoo -------------------------------------------------------------------------------
def test_the_types_e2e_zoo_in_text_and_binary_mode(
    db: PgDatabase, tmp_path: Path, snowflake_cursor: Any
) -> None:
    """tests/test_types_e2e.py's zoo (NULL rows, unicode, empty strings, NaN, huge numerics,
    infinities, ranges, arrays, jsonb), streamed both ways as that test does."""
    load_zoo(db)
    db.execute("SELECT pg_copy_logical_replication_slot('sf_sync', 'sf_sync_text')")
    for slot, binary in (("sf_sync", "on"), ("sf_sync_text", "off")):
        dest = f"file://{tmp_path}/{slot}"
        run_to_current(db, dest, slot=slot, binary=binary)
        engines = _engines(
            db, dest, tmp_path / f"{slot}.duckdb", snowflake_cursor, f"E2E_{slot.upper()}"
        )
        try:
            assert_same_everywhere(engines.use())
        finally:
            engines.close()


# -- the parts -----------------------------------------------------------------------------------
def test_every_snowflake_query_parses(zoo: Zoo) -> None:
    for engines in (zoo.text, zoo.lossless):
        for table in engines.tables.values():
            for query in (
                checksum_query(table, SNOWFLAKE, 16, Bucket(3, 2)),
                rows_query(table, SNOWFLAKE, Bucket(7, 1)),
                texts_query(table, SNOWFLAKE, Bucket(2, 0)),
            ):
                assert parse_snowflake(query).find(exp.Lambda) or "TRANSFORM" not in query


def test_the_hash_is_the_documented_md5_number_upper64_in_every_engine(zoo: Zoo) -> None:
    """Snowflake's documented example: MD5_NUMBER_UPPER64('Snowflake') = 17145559544104499780
    (the first 16 hex digits of its MD5); PostgreSQL's signed reading of the same bits."""
    engines = zoo.text.use()
    expected = 17145559544104499780
    assert int(hashlib.md5(b"Snowflake").hexdigest()[:16], 16) == expected
    pg_hash = checksum._PostgresSql.hash("'Snowflake'")
    (pg,) = engines.pg.execute(f"SELECT {pg_hash}").fetchone()
    assert pg % 2**64 == expected and pg < 0
    duck = checksum._DuckDBSql(DUCKDB).hash("'Snowflake'")
    assert engines.duck.execute(f"SELECT {duck}").fetchone() == (expected,)
    snow = checksum._SnowflakeSql(SNOWFLAKE).hash("'Snowflake'")
    engines.snow.execute(f"SELECT {snow}")
    assert engines.snow.fetchone() == (expected,)
    # the documented TRANSFORM example, through the same translation
    engines.snow.execute("SELECT TRANSFORM([1, 2, 3], a INT -> a * 2)")
    assert json_list(engines.snow.fetchone()[0]) == [2, 4, 6]


def json_list(value: Any) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else list(value)


def doubles() -> list[float]:
    """Edge doubles (zeros, subnormals, powers of two and their neighbours, the extremes) and
    random bit patterns."""
    rng = random.Random(20)
    values = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308]
    values += [1.7976931348623157e308, -1.7976931348623157e308, 0.1, 1 / 3, 1e-45, 3.4e38]
    for e in (-1074, -1023, -1022, -1021, -100, -1, 0, 1, 52, 53, 100, 1023):
        p = 2.0**e
        values += [p, -p, math.nextafter(p, 0), math.nextafter(p, math.inf)]
    while len(values) < 400:
        (x,) = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))
        if math.isfinite(x):
            values.append(x)
    return values


def float_text(x: float) -> str:
    """FLOAT's canonical text, from Python's frexp (checksum.py's module docstring)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    mantissa, exponent = math.frexp(abs(x))  # abs(x) = mantissa * 2**exponent, 0.5 <= m < 1
    if exponent - 1 < -1022:  # subnormal
        m, e = int(math.ldexp(abs(x), 1074)), -1074
    else:
        m, e = int(mantissa * 2**53), exponent - 53
    return f"{'-' if x < 0 else ''}{m}p{e}"


def test_float_texts_are_exact_and_the_same_in_the_three_engines(zoo: Zoo) -> None:
    """The binary value m * 2**e whatever LN rounds to, for subnormals, powers of two and
    their neighbours, the extremes, NaN and the infinities."""
    engines = zoo.text.use()
    values = doubles()
    expected = [float_text(v) for v in values] + ["NaN", "Infinity", "-Infinity"]
    literals = [repr(v) for v in values] + ["'NaN'", "'Infinity'", "'-Infinity'"]
    pg = checksum._PostgresSql().float_text("v")
    got = engines.pg.execute(
        f"SELECT {pg} FROM unnest(ARRAY[{', '.join(f'{v}::float8' for v in literals)}]) "
        "WITH ORDINALITY AS u(v, o) ORDER BY o"
    ).fetchall()
    assert [r[0] for r in got] == expected
    duck = checksum._DuckDBSql(DUCKDB).float_text("v")
    rows = ", ".join(f"({i}, CAST({v} AS DOUBLE))" for i, v in enumerate(literals))
    got = engines.duck.execute(
        f"SELECT {duck} FROM (VALUES {rows}) AS t(i, v) ORDER BY i"
    ).fetchall()
    assert [r[0] for r in got] == expected
    snow = checksum._SnowflakeSql(SNOWFLAKE).float_text('"V"')
    engines.snow.execute('CREATE OR REPLACE TEMPORARY TABLE "FLOATS" ("I" NUMBER(10,0), "V" FLOAT)')
    values_sql = ", ".join(f"({i}, {v}::FLOAT)" for i, v in enumerate(literals))
    engines.snow.execute(f'INSERT INTO "FLOATS" VALUES {values_sql}')
    engines.snow.execute(f'SELECT {snow} FROM "FLOATS" ORDER BY "I"')
    assert [r[0] for r in engines.snow.fetchall()] == expected


def test_buckets_split_into_the_buckets_inside_them() -> None:
    whole = Bucket()
    assert whole.split(3) == (Bucket(3, 0), Bucket(3, 1), Bucket(3, 2))
    parts = Bucket(3, 1).split(4)
    assert parts == (Bucket(12, 1), Bucket(12, 4), Bucket(12, 7), Bucket(12, 10))
    for h in range(200):
        inside = [p for p in parts if p.holds(h)]
        assert len(inside) == (1 if Bucket(3, 1).holds(h) else 0)
    with pytest.raises(ConfigError):
        Bucket(4, 4)
    with pytest.raises(ConfigError):
        Bucket(0, 0)


ARRAYS = {
    "ab": ("bool[]", ["{t,NULL,f}", "{}"]),
    "a2": ("int2[]", ["{-32768,32767}", "{NULL}"]),
    "a8": ("int8[]", ["{-9223372036854775808,9223372036854775807}", "{0}"]),
    "af4": ("float4[]", ["{NaN,-0,Infinity,1.4e-45}", "{1.5}"]),
    "af8": ("float8[]", ["{-Infinity,5e-324,0.1,NULL}", "{}"]),
    "aba": ("bytea[]", ['{"\\\\x00ff",NULL,"\\\\x"}', "{}"]),
    "ats": ("timestamp[]", ['{"2024-01-01 12:34:56.789",NULL}', '{"-infinity"}']),
    "aj": ("json[]", ['{"{\\"a\\": 1}","[1, 2]"}', '{"{\\"a\\":1,\\"a\\":2}"}']),
    "ajb": ("jsonb[]", ['{"{\\"b\\": [true, null]}"}', "{}"]),
    "ain": ("inet[]", ['{10.1.2.3,"192.168.0.1/24"}', "{::1}"]),
    "abp": ("char(3)[]", ['{"a",NULL,"abc"}', "{}"]),
    "am": ("money[]", ["{1.50,-2}", "{}"]),
    # fakesnow keeps ARRAY elements as JSON numbers (doubles): 15 digits survive
    "an38": ("numeric(38,2)[]", ["{1234567890123.45,-0.05}", "{NaN}"]),
    "n38": ("numeric(38,2)", ["123456789012345678901234567890.12", "NaN"]),
}


def test_arrays_of_every_element_family(
    db: PgDatabase, tmp_path: Path, snowflake_cursor: Any
) -> None:
    """The element families the zoos lack (booleans, floats, bytea, timestamps, json, inet,
    char(n), money), with NULL elements and lossy elements; and NUMBER(38,2) beyond 2**63."""
    cols = ", ".join(f"{name} {typ}" for name, (typ, _) in ARRAYS.items())
    db.execute(f"CREATE TABLE arr (id int PRIMARY KEY, {cols})")
    db.execute("CREATE PUBLICATION walstream FOR TABLE arr")
    db.create_slot()
    names = list(ARRAYS)
    with db.connect() as conn:
        for row in range(2):
            values = ", ".join(f"%s::{ARRAYS[n][0]}" for n in names)
            conn.execute(
                f"INSERT INTO arr (id, {', '.join(names)}) VALUES (%s, {values})",
                (row, *[ARRAYS[n][1][row] for n in names]),
            )
        conn.execute("INSERT INTO arr (id) VALUES (2)")
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest)
    engines = _engines(db, dest, tmp_path / "wh.duckdb", snowflake_cursor, "ARRAYS")
    try:
        assert_same_everywhere(engines.use())
    finally:
        engines.close()
