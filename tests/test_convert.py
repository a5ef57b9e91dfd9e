"""walstream.convert against a live PostgreSQL 18: text and binary decode to the same Arrow values,
and those are the values PostgreSQL holds.

Raw values are fetched exactly as pgoutput produces them: the type's output function (text
result format) or send function (binary result format) under the replication session's
settings, through psycopg's low-level ``exec_params``. Every type of DESIGN.md §4 is a case of
the type zoo below, with NULLs and edge values; the oracle is PostgreSQL itself (psycopg values
of a SQL expression per case), with the documented exceptions (infinity clamped, 24:00:00
clamped) written into the oracle SQL so they are asserted, not skipped.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import pq, sql

from tests.pg_oracles import DATE_DAYS, NATIVE, TIME_US, TS_US
from tests.pg_oracles import FLOAT as FLOAT4
from walstream.convert import (
    CATALOG_SQL,
    CLAMPED_END_OF_DAY,
    CLAMPED_INFINITY,
    FLATTENED_ARRAY,
    LOSSY_NAN,
    LOSSY_OUT_OF_RANGE,
    ColumnConverter,
    PgType,
    TypeCatalog,
    builtin_type,
    converter_for,
)
from walstream.convert.datetimes import (
    TIMESTAMP_MAX_US,
    TIMESTAMP_MIN_US,
    USECS_PER_DAY,
    civil_from_days,
)
from walstream.embedded import LocalPostgres
from walstream.errors import TypeConversionError
from walstream.pg.types import (
    publication_supports_binary,
    read_types,
    unsupported_binary_columns,
)

Conn = psycopg.Connection[Any]

# The session settings of walstream's replication connection (what pgoutput's text depends on).
SESSION_SETTINGS = (
    "SET DateStyle = ISO",
    "SET IntervalStyle = postgres",
    "SET TimeZone = UTC",
    "SET extra_float_digits = 3",
    "SET bytea_output = hex",
    "SET lc_monetary = 'C'",
)

SCHEMA_SQL = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'happy', 'très "content", {ok}');
CREATE DOMAIN price AS numeric(10,2);
CREATE DOMAIN short_text AS varchar(10);
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TYPE textrange AS RANGE (subtype = text);
CREATE TYPE pair AS (a int, b text);
"""


@pytest.fixture(scope="module")
def _convert_pg() -> Iterator[LocalPostgres]:
    base = Path(tempfile.mkdtemp(prefix="walstream-convert-pg-"))
    base.chmod(0o755)
    pg = LocalPostgres(base / "data", settings={"fsync": "off"})
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


@pytest.fixture(scope="module")
def convert_conn(_convert_pg: LocalPostgres) -> Iterator[Conn]:
    with psycopg.connect(_convert_pg.dsn(), autocommit=True) as c:
        for stmt in SESSION_SETTINGS:
            c.execute(stmt)
        c.execute(SCHEMA_SQL)
        yield c


def fetch_raw(conn: Conn, query: str, result_format: int) -> tuple[list[bytes | None], int, int]:
    """Column 0 of ``query`` as raw bytes in text (0) or binary (1) format, its OID and typmod."""
    res = conn.pgconn.exec_params(query.encode(), [], result_format=result_format)
    assert res.status == pq.ExecStatus.TUPLES_OK, res.error_message
    return [res.get_value(row, 0) for row in range(res.ntuples)], res.ftype(0), res.fmod(0)


def resolve(conn: Conn, oid: int, typmod: int) -> PgType:
    return read_types(conn, [oid]).resolve(oid, typmod)


def canonical(array: pa.Array) -> list[Any]:
    """Arrow values as comparable Python: temporal values as integers (they may lie outside
    Python's datetime), floats as (repr) so NaN == NaN and -0 != 0."""
    t = array.type
    if pa.types.is_list(t):
        offsets = array.offsets.to_pylist()
        flat = canonical(array.values)
        return [
            None if not array[i].is_valid else flat[offsets[i] : offsets[i + 1]]
            for i in range(len(array))
        ]
    if pa.types.is_date32(t):
        return array.view(pa.int32()).to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_timestamp(t) or pa.types.is_time64(t):
        return array.view(pa.int64()).to_pylist()  # type: ignore[no-any-return]
    if pa.types.is_floating(t):
        return [None if v is None else repr(v) for v in array.to_pylist()]
    return array.to_pylist()  # type: ignore[no-any-return]


def canonical_oracle(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, float):
            out.append(repr(v))
        elif isinstance(v, list):
            out.append(canonical_oracle(v))
        else:
            out.append(v)
    return out


# -- the type zoo ----------------------------------------------------------------------------

# Oracle expressions over ``x`` (the value, or each element of an array): what the Arrow value
# must equal, computed by PostgreSQL. The infinity and 24:00 cases spell out the clamping.
TEXT = "CASE WHEN num_nulls(x) = 0 THEN format('%s', x) END"  # the output function, like pgoutput


@dataclass
class Case:
    type_sql: str
    literals: list[str]
    oracle: str
    binary: bool = True  # binary format decoded
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.type_sql.replace(" ", "_")


TEXTS = [
    "",
    "plain",
    "héllo wörld ✓",
    "emoji 😀🎉 and 𝄞",
    'quote\'s "double" back\\slash',
    "tab\tnewline\nreturn\r",
    "{braces},commas;semi",
    "NULL",
    " leading and trailing ",
]

ZOO: list[Case] = [
    Case("bool", ["t", "f"], NATIVE),
    Case("int2", ["-32768", "32767", "0", "-1"], NATIVE),
    Case("int4", ["-2147483648", "2147483647", "0"], NATIVE),
    Case("int8", ["-9223372036854775808", "9223372036854775807", "42"], NATIVE),
    Case("oid", ["0", "4294967295", "2147483648"], "x::int8"),
    Case(
        "float4",
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "-0",
            "0",
            "1.1",
            "3.4028235e38",
            "1e-45",
            "-1.5e-10",
            "123456",
            "1e6",
            "0.1",
        ],
        FLOAT4,
    ),
    Case(
        "float8",
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "-0",
            "0.1",
            "1.7976931348623157e308",
            "5e-324",
            "1e15",
            "1e-5",
            "123456789012345.6",
            "-2.5e-300",
        ],
        NATIVE,
    ),
    Case(
        "numeric",
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "0",
            "-0.0001",
            "1.000",
            "1e-30",
            "-5e40",
            "123456789012345678901234567890.123456789012345678901234567890",
            "0.10",
        ],
        TEXT,
    ),
    Case("numeric(10,2)", ["0", "-0.01", "12345678.91", "-99999999.99", "1.005"], NATIVE),
    Case("numeric(38,10)", ["9999999999999999999999999999.9999999999", "-1e-10"], NATIVE),
    Case("numeric(3,-2)", ["12345", "-99900", "0"], NATIVE),
    Case("numeric(2,5)", ["0.00012", "-0.00099"], NATIVE),
    Case("numeric(50,10)", ["12345678901234567890123456789012345678901234567890"[:40]], TEXT),
    Case("price", ["12.5", "-0.01"], NATIVE),
    Case(
        "money",
        ["0", "-1234567.89", "92233720368547758.07", "-92233720368547758.08", "0.5"],
        "x::numeric",
    ),
    Case("text", TEXTS, NATIVE),
    Case("varchar(12)", ["", "abc", "ünïcödé"], NATIVE),
    Case("char(5)", ["ab", "", "abcde"], NATIVE),
    Case("name", ["a name", "ü"], NATIVE),
    Case("citext", ["MiXeD Case", ""], TEXT),
    Case("short_text", ["dom", ""], TEXT),
    Case("mood", ["happy", 'très "content", {ok}'], TEXT),
    Case('"char"', ["a", "\\300", ""], TEXT),
    Case("bytea", ["\\x", "\\x00ff10", "abc", "\\xdeadbeef"], NATIVE),
    Case(
        "uuid",
        ["A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "00000000-0000-0000-0000-000000000000"],
        TEXT,
    ),
    Case("json", ['{"a": [1, 2.50, "ü"]}', "null", '  {"spaced" :1}  '], TEXT),
    Case("jsonb", ['{"b": {"c": [1, "😀", null]}, "a": 1.50}', '"str"', "[]", "{}"], TEXT),
    Case(
        "date",
        [
            "2020-02-29",
            "infinity",
            "-infinity",
            "0044-03-15 BC",
            "4713-01-01 BC",
            "10000-01-01",
            "5874897-12-31",
            "0001-01-01",
            "9999-12-31",
            "1970-01-01",
            "1969-12-31",
        ],
        DATE_DAYS,
        stats={CLAMPED_INFINITY: 2, LOSSY_OUT_OF_RANGE: 4},
    ),
    Case(
        "time",
        ["00:00:00", "23:59:59.999999", "24:00:00", "12:34:56.5", "01:02:03.000001"],
        TIME_US,
        stats={CLAMPED_END_OF_DAY: 1},
    ),
    Case(
        "timetz",
        [
            "12:34:56.789+05:30",
            "00:00:00-12",
            "23:59:59+14",
            "12:00:00+05:30:17",
            "24:00:00+00",
            "01:02:03.0004-03:07",
        ],
        TEXT,
    ),
    Case(
        "timestamp",
        [
            "infinity",
            "-infinity",
            "2020-01-01 12:34:56.789",
            "0044-03-15 12:00:00 BC",
            "4713-01-01 00:00:00 BC",
            "10000-01-01 00:00:00",
            "200000-06-15 01:02:03.456789",
            "1970-01-01 00:00:00",
            "1969-12-31 23:59:59.999999",
            "0001-01-01 00:00:00",
            "9999-12-31 23:59:59.999999",
            "2000-01-01 00:00:00.5",
            "294276-12-31 23:59:59.999999",
        ],
        TS_US,
        stats={CLAMPED_INFINITY: 2, LOSSY_OUT_OF_RANGE: 5},
    ),
    Case(
        "timestamptz",
        [
            "infinity",
            "-infinity",
            "2020-06-01 12:00:00+05:30",
            "0044-03-15 12:00:00+00 BC",
            "10000-01-01 00:00:00+00",
            "1969-12-31 23:59:59.999999+00",
            "2000-01-01 00:00:00.1+00",
            "294270-01-01 00:00:00+00",
        ],
        TS_US,
        stats={CLAMPED_INFINITY: 2, LOSSY_OUT_OF_RANGE: 3},
    ),
    Case(
        "interval",
        [
            "1 year 2 mons 3 days 04:05:06.789",
            "-00:00:01",
            "0",
            "1 day -1 sec",
            "1 mon",
            "-1 year -2 mons +3 days -04:05:06",
            "100000 hours",
            "infinity",
            "-infinity",
            "-1 mon",
            "0.000001 sec",
            "-178000000 years",
            "1 year -1 mon",
            "-1 day +1 sec",
        ],
        TEXT,
    ),
    Case(
        "inet",
        [
            "192.168.0.1",
            "192.168.0.1/24",
            "10.0.0.0/8",
            "0.0.0.0/0",
            "::1",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "2001:db8::1/64",
            "fe80::1:0:0:0:1",
            "::",
            "1:0:2:0:3:0:0:4",
            "::ffff:0:0",
            "1:2:3:4:5:6:7:8/128",
            "1::/16",
            "0:0:0:0:0:0:0:2",
        ],
        TEXT,
    ),
    Case(
        "cidr",
        ["10.0.0.0/8", "10.1", "2001:db8::/32", "1.2.3.4/32", "::/0", "::ffff:1.2.3.4/128"],
        TEXT,
    ),
    Case("macaddr", ["08:00:2b:01:02:03", "FF-FF-FF-FF-FF-FF"], TEXT),
    Case("macaddr8", ["08:00:2b:01:02:03:04:05"], TEXT),
    Case("bit(4)", ["0101", "1111"], TEXT),
    Case("varbit", ["", "1", "101010101", "1111111100000000"], TEXT),
    Case("int4range", ["empty", "[1,5)", "(,5]", "[1,)", "(,)", "(1,2]"], TEXT),
    Case("int8range", ["[-9223372036854775808,0)", "empty"], TEXT),
    Case("numrange", ["[1.50,2.5]", "(,)", "empty", "[-1e-10,)", "[NaN,NaN]"], TEXT),
    Case(
        "tsrange",
        [
            '["2020-01-01 00:00:00","2020-01-02 00:00:00")',
            "[2020-01-01, infinity)",
            "(,)",
            "[0044-03-15 BC, 2000-01-01)",
            "[-infinity,2000-01-01 00:00:00.5]",
        ],
        TEXT,
    ),
    Case("tstzrange", ["[2020-01-01 00:00:00+05,2021-01-01)", "empty"], TEXT),
    Case("daterange", ["[2020-01-01,2020-02-01)", "[2020-01-01,]", "(,infinity)"], TEXT),
    Case("floatrange", ["[1.5,2.5)", "(,1e+20]", "[-0,1e-05]", "[0.1,Infinity]"], TEXT),
    Case("textrange", ['["a b","c\\"d")', '["",z]', "[a,b]", '["(x)","[y]"]'], TEXT),
    Case("int4multirange", ["{[1,3),[5,7)}", "{}", "{(,)}"], TEXT),
    Case("tsmultirange", ['{["2020-01-01 00:00:00","2020-01-02 00:00:00")}'], TEXT),
    Case("tsvector", ["a fat cat", "'quoted word':1A"], TEXT, binary=False),
    Case("point", ["(1,2)", "(-1.5,1e+20)"], TEXT, binary=False),
    Case("pair", ['(1,"a b")', "(,)"], TEXT, binary=False),
    Case("pg_lsn", ["16/B374D848"], TEXT, binary=False),
    # arrays: every element through the same oracle as the scalar type
    Case(
        "int4[]",
        ["{}", "{1,NULL,3}", "{{1,2},{3,4}}", "[0:2]={1,2,3}", "{-2147483648}", "[-3:-3]={7}"],
        NATIVE,
        stats={FLATTENED_ARRAY: 3},
    ),
    Case("int2[]", ["{1,2}", "{NULL}"], NATIVE),
    Case("int8[]", ["{9223372036854775807,NULL}"], NATIVE),
    Case("bool[]", ["{t,f,NULL}", "{}"], NATIVE),
    Case("float4[]", ["{NaN,-0,1.1,Infinity}"], FLOAT4),
    Case(
        "float8[]",
        ["{NaN,-Infinity,0.1,5e-324}", "{{1,2},{3,NULL}}"],
        NATIVE,
        stats={FLATTENED_ARRAY: 1},
    ),
    Case(
        "text[]",
        [
            '{"a b","",NULL,"NULL","x\\"y","a,b","{}","\\\\",é,😀}',
            "{}",
            "{plain,words}",
            '{{"a b",c},{d,NULL}}',
            '{"\\t tab"}',
        ],
        NATIVE,
        stats={FLATTENED_ARRAY: 1},
    ),
    Case("varchar(5)[]", ['{ab,"c d"}'], NATIVE),
    Case("numeric[]", ["{1.50,NaN,-Infinity,NULL,0}"], TEXT),
    Case("numeric(8,2)[]", ["{1.5,-2,NULL}", "{}"], NATIVE),
    Case("price[]", ["{1.5,-2}"], "x::numeric"),
    Case("money[]", ["{1.5,-2}"], "x::numeric"),
    Case(
        "date[]",
        ["{2020-01-01,infinity,-infinity,NULL}", '{"0044-03-15 BC",10000-01-01}'],
        DATE_DAYS,
        stats={CLAMPED_INFINITY: 2, LOSSY_OUT_OF_RANGE: 2},
    ),
    Case("time[]", ["{00:00:01,24:00:00}"], TIME_US, stats={CLAMPED_END_OF_DAY: 1}),
    Case("timetz[]", ["{12:00:00+05:30,NULL}"], TEXT),
    Case(
        "timestamp[]", ['{"2020-01-01 00:00:00",infinity,NULL}'], TS_US, stats={CLAMPED_INFINITY: 1}
    ),
    Case(
        "timestamptz[]",
        ['{"2020-01-01 00:00:00+00","0044-03-15 12:00:00+00 BC"}'],
        TS_US,
        stats={LOSSY_OUT_OF_RANGE: 1},
    ),
    Case("interval[]", ['{"1 day",-00:00:01,NULL}'], TEXT),
    Case(
        "uuid[]",
        ["{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}", "{00000000-0000-0000-0000-000000000001}"],
        TEXT,
    ),
    Case("jsonb[]", ['{"{\\"a\\": [1, \\"😀\\"]}",NULL,"[]"}'], TEXT),
    Case("json[]", ['{"{\\"a\\": 1}"}'], TEXT),
    Case("bytea[]", ['{"\\\\x00ff","\\\\x",NULL}'], NATIVE),
    Case("inet[]", ["{192.168.0.1/24,::1,NULL}"], TEXT),
    Case("cidr[]", ["{10.0.0.0/8}"], TEXT),
    Case("macaddr[]", ["{08:00:2b:01:02:03}"], TEXT),
    Case("varbit[]", ['{101,""}'], TEXT),
    Case("mood[]", ['{happy,"très \\"content\\", {ok}",NULL}'], TEXT),
    Case("citext[]", ["{A,b}"], TEXT),
    Case("int4range[]", ['{"[1,5)",empty,NULL}'], TEXT),
    Case("oid[]", ["{4294967295}"], "x::int8"),
    Case("uuid[]", ["{}"], TEXT),
    Case("tsvector[]", ['{"a b"}'], TEXT, binary=False),
    Case("box[]", ["{(1,1),(0,0);(2,2),(1,1)}"], TEXT, binary=False),
    Case("point[]", ['{"(1,2)",NULL}'], TEXT, binary=False),
]


def _oracle_query(table: str, case: Case, is_array: bool) -> str:
    if not is_array:
        return f"SELECT {case.oracle} FROM (SELECT id, v AS x FROM {table}) s ORDER BY id"
    return (
        f"SELECT CASE WHEN v IS NULL THEN NULL ELSE coalesce((SELECT array_agg({case.oracle}"
        f" ORDER BY o) FROM unnest(v) WITH ORDINALITY AS u(x, o)), '{{}}') END"
        f" FROM {table} ORDER BY id"
    )


@pytest.fixture(scope="module")
def zoo_tables(convert_conn: Conn) -> dict[str, str]:
    """One table per case: (id serial, v <type>) holding the literals and a NULL."""
    tables = {}
    for i, case in enumerate(ZOO):
        table = f"zoo_{i}"
        convert_conn.execute(f"CREATE TABLE {table} (id serial, v {case.type_sql})")
        values = sql.SQL(", ").join(
            sql.SQL("({})").format(sql.Literal(lit)) for lit in [*case.literals, None]
        )
        convert_conn.execute(
            sql.SQL("INSERT INTO {} (v) VALUES ").format(sql.Identifier(table)) + values
        )
        tables[case.id] = table
    return tables


@pytest.mark.parametrize("case", ZOO, ids=[c.id for c in ZOO])
def test_zoo_binary_equals_text_equals_postgres(
    convert_conn: Conn, zoo_tables: dict[str, str], case: Case
) -> None:
    table = zoo_tables[case.id]
    query = f"SELECT v FROM {table} ORDER BY id"
    text_values, oid, typmod = fetch_raw(convert_conn, query, 0)
    binary_values, _, _ = fetch_raw(convert_conn, query, 1)
    pg_type = resolve(convert_conn, oid, typmod)
    text_conv = converter_for(pg_type, column="v")
    text_array = text_conv.convert(text_values, binary=False)
    assert text_array.type == text_conv.arrow_type
    assert len(text_array) == len(text_values)
    assert text_conv.stats.take() == case.stats

    binary_conv = converter_for(pg_type, column="v")
    assert binary_conv.binary_supported == case.binary
    if case.binary:
        binary_array = binary_conv.convert(binary_values, binary=True)
        assert binary_array.type == text_array.type
        assert canonical(binary_array) == canonical(text_array)
        assert binary_conv.stats.take() == case.stats
    else:
        with pytest.raises(TypeConversionError, match="text mode"):
            binary_conv.convert(binary_values, binary=True)

    is_array = pa.types.is_list(text_array.type)
    expected = [r[0] for r in convert_conn.execute(_oracle_query(table, case, is_array)).fetchall()]
    assert canonical(text_array) == canonical_oracle(expected)


# -- the Arrow types of DESIGN.md §4 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("oid", "typmod", "arrow_type"),
    [
        (16, -1, pa.bool_()),
        (21, -1, pa.int16()),
        (23, -1, pa.int32()),
        (20, -1, pa.int64()),
        (26, -1, pa.int64()),
        (700, -1, pa.float32()),
        (701, -1, pa.float64()),
        (1700, -1, pa.string()),
        (1700, (10 << 16 | 2) + 4, pa.decimal128(10, 2)),
        (1700, (38 << 16 | 0) + 4, pa.decimal128(38, 0)),
        (1700, (39 << 16 | 2) + 4, pa.string()),
        (1700, (3 << 16 | (-2 & 0x7FF)) + 4, pa.decimal128(5, 0)),
        (1700, (2 << 16 | 5) + 4, pa.decimal128(5, 5)),
        (1700, (37 << 16 | (-2 & 0x7FF)) + 4, pa.string()),
        (790, -1, pa.decimal128(38, 2)),
        (25, -1, pa.string()),
        (2950, -1, pa.string()),
        (3802, -1, pa.string()),
        (17, -1, pa.binary()),
        (1082, -1, pa.date32()),
        (1083, -1, pa.time64("us")),
        (1266, -1, pa.string()),
        (1114, -1, pa.timestamp("us")),
        (1184, -1, pa.timestamp("us", tz="UTC")),
        (1186, -1, pa.string()),
        (3904, -1, pa.string()),
        (1007, -1, pa.list_(pa.int32())),
        (1231, (10 << 16 | 2) + 4, pa.list_(pa.decimal128(10, 2))),
        (1009, -1, pa.list_(pa.string())),
        (600, -1, pa.string()),
    ],
)
def test_arrow_type_mapping(oid: int, typmod: int, arrow_type: pa.DataType) -> None:
    pg_type = builtin_type(oid, typmod)
    assert pg_type is not None
    assert converter_for(pg_type).arrow_type == arrow_type


def test_builtin_oids_match_pg_type(convert_conn: Conn) -> None:
    """Every built-in OID in our table names the same type (and array type) on the server."""
    rows = convert_conn.execute(
        "SELECT t.oid::int8, t.typname::text FROM pg_type t WHERE t.oid = ANY(%s)",
        ([o for o in range(1, 10000) if builtin_type(o) is not None],),
    ).fetchall()
    names = dict(rows)
    for oid in range(1, 10000):
        t = builtin_type(oid)
        if t is not None:
            assert names.get(oid) == t.name, oid


def test_catalog_resolves_domains_arrays_ranges(convert_conn: Conn) -> None:
    oids = [
        r[0]
        for r in convert_conn.execute(
            "SELECT oid::int8 FROM pg_type WHERE typname IN ('price', '_price', 'mood', '_mood',"
            " 'floatrange', 'floatmultirange', 'citext', 'pair')"
        ).fetchall()
    ]
    rows = convert_conn.execute(CATALOG_SQL, (oids,)).fetchall()
    catalog = TypeCatalog(rows)
    by_name = {str(r[2]): int(r[0]) for r in rows}
    price = catalog.resolve(by_name["price"])
    assert (price.kind, price.element and price.element.display_name) == ("domain", "numeric(10,2)")
    price_array = catalog.resolve(by_name["_price"])
    assert price_array.kind == "array" and price_array.element == price
    assert converter_for(price_array).arrow_type == pa.list_(pa.decimal128(10, 2))
    assert catalog.resolve(by_name["mood"]).kind == "enum"
    multirange = catalog.resolve(by_name["floatmultirange"])
    assert multirange.kind == "multirange"
    assert multirange.element is not None and multirange.element.name == "floatrange"
    assert multirange.element.element == builtin_type(701)
    assert catalog.resolve(by_name["citext"]).namespace == "public"
    assert catalog.resolve(by_name["pair"]).kind == "composite"
    assert converter_for(catalog.resolve(by_name["citext"])).binary_supported
    assert not converter_for(catalog.resolve(by_name["pair"])).binary_supported


def test_publication_binary_support_names_text_only_columns(convert_conn: Conn) -> None:
    convert_conn.execute(
        "CREATE TABLE pub_ok (id int PRIMARY KEY, m mood, p price[], r floatrange)"
    )
    convert_conn.execute("CREATE TABLE pub_text_only (id int PRIMARY KEY, doc tsvector)")
    convert_conn.execute("CREATE PUBLICATION pub_ok_only FOR TABLE pub_ok")
    convert_conn.execute("CREATE PUBLICATION pub_both FOR TABLE pub_ok, pub_text_only")
    assert publication_supports_binary(convert_conn, "pub_ok_only")
    assert not publication_supports_binary(convert_conn, "pub_both")
    assert [t.name for _, t in unsupported_binary_columns(convert_conn, "pub_both")] == ["tsvector"]


# -- errors and stats ----------------------------------------------------------------------------


def _numeric(typmod: int) -> ColumnConverter:
    pg_type = builtin_type(1700, typmod)
    assert pg_type is not None
    return converter_for(pg_type, column="amount")


def test_nan_in_constrained_numeric_is_null_and_marked(convert_conn: Conn) -> None:
    """DESIGN §4: NaN has no decimal; it is stored as NULL and its row marked, or with the
    fail-fast choice it stops the column with the value and the way out."""
    convert_conn.execute("CREATE TABLE nan_num (id serial, v numeric(10,2))")
    convert_conn.execute("INSERT INTO nan_num (v) VALUES ('NaN'), (1), (NULL), ('NaN')")
    for fmt in (0, 1):
        values, _, typmod = fetch_raw(convert_conn, "SELECT v FROM nan_num ORDER BY id", fmt)
        conv = _numeric(typmod)
        array, lossy = conv.decode_marked(pa.array(values, pa.binary()), bool(fmt))
        assert array.to_pylist() == [None, Decimal("1.00"), None, None]
        assert lossy is not None and lossy.tolist() == [True, False, False, True]
        assert conv.stats.take() == {LOSSY_NAN: 2}
        strict = converter_for(conv.pg_type, column="amount", on_lossy="fail")
        with pytest.raises(TypeConversionError, match=r"'amount'.*numeric\(10,2\).*NaN.*as-text"):
            strict.convert(values, binary=bool(fmt))


def test_timestamp_beyond_arrow_range_is_clamped_and_marked(convert_conn: Conn) -> None:
    query = (
        "SELECT v FROM (VALUES (1, '294270-01-01 00:00:00'::timestamp), (2, '2020-01-01'),"
        " (3, '4713-01-01 00:00:00 BC')) t(i, v) ORDER BY i"
    )
    pg_type = builtin_type(1114)
    assert pg_type is not None
    for fmt in (0, 1):
        values, _, _ = fetch_raw(convert_conn, query, fmt)
        conv = converter_for(pg_type, column="ts")
        array, lossy = conv.decode_marked(pa.array(values, pa.binary()), bool(fmt))
        assert array.cast(pa.int64()).to_pylist() == [
            TIMESTAMP_MAX_US,
            1577836800000000,
            TIMESTAMP_MIN_US,
        ]
        assert lossy is not None and lossy.tolist() == [True, False, True]
        with pytest.raises(TypeConversionError, match=r"'ts'.*out_of_range.*(294270|4713)"):
            converter_for(pg_type, column="ts", on_lossy="fail").convert(values, binary=bool(fmt))


def test_malformed_input_raises_conversion_error() -> None:
    int4 = converter_for(builtin_type(23))  # type: ignore[arg-type]
    with pytest.raises(TypeConversionError):
        int4.convert([b"\x00\x01"], binary=True)
    with pytest.raises(TypeConversionError):
        int4.convert([b"12x"], binary=False)
    text = converter_for(builtin_type(25))  # type: ignore[arg-type]
    with pytest.raises(TypeConversionError, match="UTF-8"):
        text.convert([b"\xff"], binary=False)
    arrays = converter_for(builtin_type(1007))  # type: ignore[arg-type]
    with pytest.raises(TypeConversionError, match="array"):
        arrays.convert([b"{1,2"], binary=False)
    with pytest.raises(TypeConversionError, match="array"):
        arrays.convert([b"\x00\x00\x00\x01"], binary=True)


def test_empty_and_all_null_columns() -> None:
    for oid in (16, 23, 1700, 1082, 1114, 1184, 1083, 2950, 3802, 17, 1007, 1186, 3904, 790):
        conv = converter_for(builtin_type(oid))  # type: ignore[arg-type]
        for binary in (False, True):
            assert conv.convert([], binary).type == conv.arrow_type
            nulls = conv.convert([None, None], binary)
            assert nulls.type == conv.arrow_type and nulls.null_count == 2


def test_stats_take_resets() -> None:
    conv = converter_for(builtin_type(1082), column="d")  # type: ignore[arg-type]
    conv.convert([b"infinity", b"2020-01-01", b"-infinity"], binary=False)
    assert conv.stats.take() == {CLAMPED_INFINITY: 2}
    assert conv.stats.take() == {}


# -- random values -------------------------------------------------------------------------------

_TEXT_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")  # what PG can store
_MICROS = st.integers(-210_000_000_000_000_000, 9_224_318_015_999_999_999)  # 4713 BC..294276 AD


def _ts_literal(us: int) -> str:
    """A PostgreSQL timestamp literal for microseconds since 1970 (any era)."""
    days, rest = divmod(us, USECS_PER_DAY)
    year, month, day = civil_from_days(days)
    seconds, micro = divmod(rest, 1_000_000)
    bc = " BC" if year <= 0 else ""
    return (
        f"{1 - year if year <= 0 else year:04d}-{month:02d}-{day:02d} "
        f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{micro:06d}{bc}"
    )


# microseconds since 1970, outside 0001..9999 the nearest end of the storable range (marked)
_CLAMPED_US = (
    "CASE WHEN v IS NOT NULL THEN LEAST(GREATEST(extract(epoch FROM v) * 1000000, "
    f"{TIMESTAMP_MIN_US}), {TIMESTAMP_MAX_US})::int8 END"
)

# (column type, oracle expression over v) of the table the random values go through
RANDOM_COLUMNS = {
    "i8": ("int8", "v"),
    "f8": ("float8", "v"),
    "f4": ("float4", "v::float8"),
    "t": ("text", "v"),
    "n": ("numeric", "v::text"),
    "nf": ("numeric(17,4)", "v"),
    # outside 0001..9999: the nearest end of the storable range (marked lossy)
    "ts": ("timestamp", _CLAMPED_US),
    "tstz": ("timestamptz", _CLAMPED_US),
}


@pytest.fixture(scope="module")
def random_table(convert_conn: Conn) -> str:
    columns = ", ".join(f"{name} {type_sql}" for name, (type_sql, _) in RANDOM_COLUMNS.items())
    convert_conn.execute(f"CREATE TABLE random_values (id int PRIMARY KEY, {columns})")
    return "random_values"


_ROW = st.fixed_dictionaries(
    {
        "i8": st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
        "f8": st.one_of(st.none(), st.floats()),
        "f4": st.one_of(st.none(), st.floats(width=32)),
        "t": st.one_of(st.none(), st.text(_TEXT_CHARS, max_size=20)),
        "n": st.one_of(st.none(), st.decimals(allow_nan=False)),
        "nf": st.one_of(
            st.none(), st.decimals(min_value=-(10**13) + 1, max_value=10**13 - 1, places=4)
        ),
        "ts": st.one_of(st.none(), _MICROS.map(_ts_literal)),
        "tstz": st.one_of(st.none(), _MICROS.map(lambda us: _ts_literal(us) + "+00")),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(_ROW, max_size=10))
def test_random_values_binary_equals_text_equals_postgres(
    convert_conn: Conn, random_table: str, rows: list[dict[str, Any]]
) -> None:
    convert_conn.execute(f"TRUNCATE {random_table}")
    names = list(RANDOM_COLUMNS)
    placeholders = ", ".join(["%s"] * (len(names) + 1))
    with convert_conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {random_table} (id, {', '.join(names)}) VALUES ({placeholders})",
            [(i, *(row[n] for n in names)) for i, row in enumerate(rows)],
        )
    for name, (type_sql, oracle) in RANDOM_COLUMNS.items():
        query = f"SELECT {name} FROM {random_table} ORDER BY id"
        text_values, oid, typmod = fetch_raw(convert_conn, query, 0)
        binary_values, _, _ = fetch_raw(convert_conn, query, 1)
        conv = converter_for(resolve(convert_conn, oid, typmod), column=name)
        from_text = conv.convert(text_values, binary=False)
        from_binary = conv.convert(binary_values, binary=True)
        assert canonical(from_text) == canonical(from_binary), type_sql
        expected = [
            r[0]
            for r in convert_conn.execute(
                f"SELECT {oracle} FROM (SELECT id, {name} AS v FROM {random_table}) s ORDER BY id"
            ).fetchall()
        ]
        assert canonical(from_text) == canonical_oracle(expected), type_sql


def test_psycopg_native_temporal_values_match(convert_conn: Conn) -> None:
    """Within Python's datetime range, Arrow values equal psycopg's date/time/datetime."""
    query = (
        "SELECT v FROM (VALUES (1, '2020-02-29 12:34:56.789+05:30'::timestamptz),"
        " (2, '0001-01-01 00:00:00+00'), (3, '9999-12-31 23:59:59.999999+00'), (4, NULL)) t(i, v)"
        " ORDER BY i"
    )
    for fmt in (0, 1):
        values, oid, typmod = fetch_raw(convert_conn, query, fmt)
        array = converter_for(resolve(convert_conn, oid, typmod)).convert(values, binary=bool(fmt))
        expected = [r[0] for r in convert_conn.execute(query).fetchall()]
        assert array.to_pylist() == expected
        naive = array.cast(pa.timestamp("us")).to_pylist()
        assert naive[0] == dt.datetime(2020, 2, 29, 7, 4, 56, 789000)
        dates = converter_for(builtin_type(1082)).convert(  # type: ignore[arg-type]
            fetch_raw(convert_conn, "SELECT '2020-02-29'::date", fmt)[0], binary=bool(fmt)
        )
        assert dates.to_pylist() == [dt.date(2020, 2, 29)]
        times = converter_for(builtin_type(1083)).convert(  # type: ignore[arg-type]
            fetch_raw(convert_conn, "SELECT '12:34:56.000001'::time", fmt)[0], binary=bool(fmt)
        )
        assert times.to_pylist() == [dt.time(12, 34, 56, 1)]


def test_float_bit_patterns_survive(convert_conn: Conn) -> None:
    """-0 stays negative zero and subnormals keep their exact bits in both formats."""
    query = (
        "SELECT v FROM (VALUES (1, '-0'::float8), (2, '5e-324'), (3, '2.2250738585072014e-308'))"
        " t(i, v) ORDER BY i"
    )
    for fmt in (0, 1):
        values, _, _ = fetch_raw(convert_conn, query, fmt)
        array = converter_for(builtin_type(701)).convert(values, binary=bool(fmt))  # type: ignore[arg-type]
        bits = [struct.pack(">d", v).hex() for v in array.to_pylist()]
        assert bits == ["8000000000000000", "0000000000000001", "0010000000000000"]
        assert math.copysign(1.0, array[0].as_py()) == -1.0


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.none() | st.binary(min_size=1, max_size=3000), max_size=40),
    offset=st.integers(0, 3),
)
def test_strip_prefix_long_and_short_paths_agree(values: list[bytes | None], offset: int) -> None:
    """strip_prefix copies long values one by one and masks short ones: same result."""
    from walstream.convert import buffers

    raw = pa.array(values, pa.binary()).slice(min(offset, len(values)))
    long = buffers.strip_prefix(raw, 1) if raw.null_count < len(raw) else None
    saved = buffers.LONG_VALUE_BYTES
    try:
        buffers.LONG_VALUE_BYTES = 1  # every value counts as long
        as_long = buffers.strip_prefix(raw, 1)
        buffers.LONG_VALUE_BYTES = 10**12  # none does
        as_short = buffers.strip_prefix(raw, 1)
    finally:
        buffers.LONG_VALUE_BYTES = saved
    for a, b in zip(as_long, as_short, strict=True):
        assert a.tolist() == b.tolist()
    if long is not None:
        for a, b in zip(long, as_short, strict=True):
            assert a.tolist() == b.tolist()
    expected = [v[1:] for v in values[min(offset, len(values)) :] if v is not None]
    got_offsets, got_data = as_long[0], as_long[1].tobytes()
    valid = as_long[2]
    pieces = [got_data[got_offsets[i] : got_offsets[i + 1]] for i in range(len(valid)) if valid[i]]
    assert pieces == expected
