"""Every valid value streams, and FINAL says which values are not exact (DESIGN.md §1.7, §4).

A type zoo of PostgreSQL's edge values (NaN and infinities in constrained and unconstrained
numeric, infinite, BC and far-future dates and timestamps, ``24:00``, arrays with lower bounds,
several dimensions and NULL elements, ranges and multiranges with infinite bounds, domains,
composites, enums, geometric types, money, bit strings, tsvector, long and unicode text, json
with duplicate keys) is inserted, updated (also as unchanged TOAST and across a key change),
deleted and inserted again, then taken to a local warehouse's FINAL by five paths: the stream
in binary, the stream in text, the snapshot, and the stream in binary and in text with the
lossless choice (``--as-text``). Each FINAL is compared value by value with the source:

- every value equals PostgreSQL's, through an oracle computed *in PostgreSQL* (day and
  microsecond counts, the type's output function, unnest for arrays) that also states the
  documented nearest value of an inexact one (a clamped date, a NULL for NaN, a flattened
  array);
- each row's ``_walstream_lossy`` names exactly the columns whose source value the zoo lists as
  inexact: none is missing, none is extra;
- with ``--as-text``, those columns hold PostgreSQL's text output and no row is marked.

The counts (values tried, exact, marked, mismatched) are printed for the issue's note.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.changes import read_table
from tests.conftest import PgDatabase
from tests.pg_oracles import DATE_DAYS, FLOAT, NATIVE, TIME_US, TS_US
from tests.streaming import run_to_current
from walstream.errors import TypeConversionError
from walstream.lsn import parse_lsn
from walstream.sink import open_sink
from walstream.snapshot.load import SnapshotConfig, run_snapshot
from walstream.warehouse import LocalWarehouse

# -- oracles, in PostgreSQL (x is the value) and in Python (the FINAL value) -------------------
TEXT = "CASE WHEN x IS NOT NULL THEN format('%s', x) END"  # the output function, like pgoutput
DECIMAL = "CASE WHEN x <> 'NaN' THEN x::numeric END"  # NaN has no decimal: NULL (marked)
JSONB = "x::text"
MONEY = "x::numeric"

_EPOCH = dt.datetime(1970, 1, 1)
_US = dt.timedelta(microseconds=1)


def _final_date(v: dt.date) -> int:
    return (v - dt.date(1970, 1, 1)).days


def _final_ts(v: dt.datetime) -> int:
    if v.tzinfo is not None:
        v = v.astimezone(dt.UTC).replace(tzinfo=None)
    return (v - _EPOCH) // _US


def _final_time(v: dt.time) -> int:
    return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond


_FINAL: dict[str, Callable[[Any], Any]] = {
    TEXT: str,
    NATIVE: lambda v: v,
    FLOAT: float,
    DECIMAL: Decimal,
    DATE_DAYS: _final_date,
    TS_US: _final_ts,
    TIME_US: _final_time,
    JSONB: json.loads,
    MONEY: Decimal,
}


@dataclass(frozen=True)
class Col:
    name: str
    type_sql: str
    values: tuple[tuple[str | None, bool], ...]  # (literal or None, lossy by default)
    oracle: str  # of the value, or of each element of an array


def col(name: str, type_sql: str, oracle: str, *values: str | tuple[str, bool] | None) -> Col:
    return Col(
        name,
        type_sql,
        tuple(v if isinstance(v, tuple) else (v, False) for v in values),
        oracle,
    )


LOSSY = True
BIG_2D = (
    "sql:(SELECT array_agg(ARRAY[(random() * 2e9)::int, (random() * 2e9)::int]) "
    "FROM generate_series(1, 700))"
)

# Types with a binary decoder: streamed in binary and in text.
ZOO = (
    col("b", "bool", NATIVE, "true", "false", None),
    col("i2", "int2", NATIVE, "-32768", "32767", "0", None),
    col("i4", "int4", NATIVE, "-2147483648", "2147483647", "7"),
    col("i8", "int8", NATIVE, "-9223372036854775808", "9223372036854775807", None),
    col("o", "oid", NATIVE, "4294967295", "0"),
    col("f4", "float4", FLOAT, "NaN", "-0", "Infinity", "-Infinity", "1.4e-45", None),
    col("f8", "float8", FLOAT, "NaN", "5e-324", "-1.7976931348623157e308", "0.1"),
    col("n_c", "numeric(10,2)", DECIMAL, "12345678.91", ("NaN", LOSSY), "-0.01", None),
    col("n_neg", "numeric(3,-2)", DECIMAL, "99900", "-100", ("NaN", LOSSY)),
    col("n_free", "numeric", TEXT, "NaN", "Infinity", "-Infinity", "0.0000000001", "1e100"),
    col("n_wide", "numeric(50,10)", TEXT, "-1234567890123456789012345678901234567890.5", "NaN"),
    col("m", "money", MONEY, "1234.56", "-0.01", "92233720368547758.07", None),
    col("t", "text", TEXT, "", "héllo wörld ✓ 🎉", "quote'\"\\", "line\nbreak\ttab", None),
    col("long", "text", TEXT, "sql:repeat('ü→', 60000)", "short", None),
    col("vc", "varchar(10)", TEXT, "", "abc  ", None),
    col("bp", "char(5)", TEXT, "ab", "", "abcde"),
    col("nm", "name", TEXT, "a name", ""),
    col("ch", '"char"', TEXT, "a", ""),
    col("mood", "mood", TEXT, "sad", "happy"),
    col("pos", "posint", NATIVE, "1", "2147483647"),
    col("price", "price", DECIMAL, "1.50", ("NaN", LOSSY), "-9999.99"),
    col("ip", "inet", TEXT, "192.168.0.1/24", "::ffff:1.2.3.4", "2001:db8::1"),
    col("net", "cidr", TEXT, "10.0.0.0/8", "2001:db8::/32"),
    col("mac", "macaddr", TEXT, "08:00:2b:01:02:03"),
    col("mac8", "macaddr8", TEXT, "08:00:2b:01:02:03:04:05"),
    col("u", "uuid", TEXT, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", None),
    col("iv", "interval", TEXT, "1 year 2 mons -3 days 04:05:06.789", "infinity", "-infinity"),
    col("r4", "int4range", TEXT, "empty", "(,)", "[1,)", "(,5]"),
    col("nr", "numrange", TEXT, "[1.5,Infinity)", "(-Infinity,0]", "[NaN,NaN]"),
    col("tsr", "tstzrange", TEXT, "[-infinity,infinity)", "(,2024-01-01 00:00:00+00]"),
    col("dr", "daterange", TEXT, "[-infinity,2020-01-01)", "[0044-03-15 BC,10000-01-01)"),
    col("mr", "int4multirange", TEXT, "{[1,3),[5,)}", "{}"),
    col("dmr", "datemultirange", TEXT, "{[2020-01-01,infinity)}", "{(,)}"),
    col("bits", "bit(4)", TEXT, "0101", "1111"),
    col("vb", "varbit", TEXT, "", "101010101"),
    col(
        "j",
        "json",
        TEXT,
        ('{"a":1,"a":2}', LOSSY),
        '{"a" : 1 , "b":[1,2]}',
        "[]",
        ' {"k": {"x": 1, "y": {"x": 2}}} ',
        ('{"k": {"x":1, "x" :2}}', LOSSY),
    ),
    col("jb", "jsonb", JSONB, '{"a": 1, "ü": [true, null]}', '"str"', "null"),
    col("ba", "bytea", NATIVE, "\\x", "\\xdeadbeef00", None),
    col(
        "d",
        "date",
        DATE_DAYS,
        "2024-02-29",
        ("infinity", LOSSY),
        ("-infinity", LOSSY),
        ("0044-03-15 BC", LOSSY),
        ("10000-01-01", LOSSY),
        "0001-01-01",
        "9999-12-31",
        "1582-10-10",
    ),
    col("tm", "time", TIME_US, ("24:00:00", LOSSY), "00:00:00", "23:59:59.999999"),
    col("ttz", "timetz", TEXT, "24:00:00+00", "12:00:00-11:30", "00:00:00+15:59"),
    col(
        "ts",
        "timestamp",
        TS_US,
        ("infinity", LOSSY),
        ("-infinity", LOSSY),
        ("294276-12-31 23:59:59.999999", LOSSY),
        ("4713-01-01 00:00:00 BC", LOSSY),
        ("20000-01-01 00:00:00", LOSSY),
        "2024-01-01 12:34:56.789",
        "0001-01-01 00:00:00",
        "9999-12-31 23:59:59.999999",
    ),
    col(
        "tstz",
        "timestamptz",
        TS_US,
        "2024-06-01 12:00:00+05:30",
        ("infinity", LOSSY),
        ("294270-01-01 00:00:00+00", LOSSY),
        ("0001-01-01 00:00:00+00 BC", LOSSY),
        "0001-01-01 00:00:00+00",
    ),
    col(
        "ai",
        "int4[]",
        NATIVE,
        "{}",
        "{1,NULL,3}",
        ("{{1,2},{3,4}}", LOSSY),
        ("[0:2]={10,20,30}", LOSSY),
        ("[-3:-3]={7}", LOSSY),
        "{NULL}",
    ),
    col("at", "text[]", TEXT, '{"a b","",NULL,"NULL","x\\"y","a,b"}', ("{{a,b},{c,d}}", LOSSY)),
    col("an", "numeric(8,2)[]", DECIMAL, ("{1.50,NaN}", LOSSY), "{1.5,-2}"),
    col("ad", "date[]", DATE_DAYS, ("{2020-01-01,infinity}", LOSSY), "{NULL}", "{1999-01-01}"),
    col("ats", "timestamptz[]", TS_US, "{}", ('{"0044-03-15 12:00:00+00 BC"}', LOSSY)),
    col("atm", "time[]", TIME_US, ("{24:00:00}", LOSSY), "{00:00:01}"),
    col("auu", "uuid[]", TEXT, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}"),
    col("aiv", "interval[]", TEXT, '{"1 day",infinity}'),
    col("big", "int4[]", NATIVE, "{5}", (BIG_2D, LOSSY), None),  # TOASTed: sent unchanged
)

# Types without a binary decoder (DESIGN §4: text only): streamed in text.
TEXTUAL = (
    col("tsv", "tsvector", TEXT, "a fat cat", "'quoted word':1A"),
    col("tsq", "tsquery", TEXT, "fat & (rat | cat)"),
    col("pt", "point", TEXT, "(1,2)", "(-1.5,1e+20)"),
    col("bx", "box", TEXT, "(1,2),(3,4)"),
    col("ci", "circle", TEXT, "<(1,2),3>"),
    col("ln", "line", TEXT, "{1,2,3}"),
    col("ls", "lseg", TEXT, "[(1,2),(3,4)]"),
    col("pa", "path", TEXT, "[(1,2),(3,4)]", "((0,0),(1,1),(2,0))"),
    col("pg", "polygon", TEXT, "((0,0),(1,1),(2,0))"),
    col("pr", "pair", TEXT, '(1,"a b")', "(,)"),
    col("lsn", "pg_lsn", TEXT, "16/B374D848"),
    col("abx", "box[]", TEXT, "{(1,2),(3,4);(5,6),(7,8)}"),
    col("apr", "pair[]", TEXT, '{"(1,x)",NULL}'),
)

TABLES = {"zoo": ZOO, "zoo_textual": TEXTUAL}
ROWS = 12
LOSSLESS = ("numeric", "temporal", "array", "json")
AS_TEXT_COLUMNS = {
    "n_c", "n_neg", "price", "d", "tm", "ts", "tstz", "ai", "at", "an", "ad", "ats", "atm",
    "auu", "aiv", "big", "j", "n_wide", "abx", "apr",
}  # fmt: skip


def _literal(c: Col, row: int) -> tuple[str | None, bool]:
    return c.values[(row - 1) % len(c.values)]


def _value_sql(c: Col, row: int) -> tuple[str, tuple[object, ...]]:
    literal, _ = _literal(c, row)
    if literal is None:
        return "NULL", ()
    if literal.startswith("sql:"):
        return literal[4:], ()
    return f"%s::{c.type_sql}", (literal,)


def _insert(conn: Any, table: str, columns: tuple[Col, ...], row: int, pattern: int) -> None:
    parts = [_value_sql(c, pattern) for c in columns]
    names = ", ".join(c.name for c in columns)
    params: tuple[object, ...] = (row,)
    for _, p in parts:
        params += p
    conn.execute(
        f"INSERT INTO {table} (id, {names}) VALUES (%s, {', '.join(s for s, _ in parts)})",
        params,
    )


def setup_zoo(db: PgDatabase) -> None:
    db.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    db.execute("CREATE DOMAIN posint AS int CHECK (VALUE > 0)")
    db.execute("CREATE DOMAIN price AS numeric(6,2)")
    db.execute("CREATE TYPE pair AS (a int, b text)")
    for table, columns in TABLES.items():
        cols = ", ".join(f"{c.name} {c.type_sql}" for c in columns)
        db.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, {cols})")
    db.execute("CREATE PUBLICATION walstream FOR TABLE zoo, zoo_textual")
    db.execute("CREATE PUBLICATION walstream_bin FOR TABLE zoo")
    for slot in ("bin", "text", "lossless_bin", "lossless_text"):
        db.create_slot(slot)


def workload(db: PgDatabase) -> dict[str, dict[int, int]]:
    """Inserts, updates, deletes, a key change; returns each table's row -> value pattern."""
    patterns: dict[str, dict[int, int]] = {}
    with db.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table, columns in TABLES.items():
            rows = {r: r for r in range(1, ROWS + 1)}
            for r in rows:
                _insert(conn, table, columns, r, r)
            # every column of the even rows takes the next row's values
            names = ", ".join(c.name for c in columns)
            conn.execute(
                f"UPDATE {table} SET ({names}) = (SELECT {names} FROM {table} n "
                f"WHERE n.id = {table}.id % {ROWS} + 1) WHERE id % 2 = 0"
            )
            for r in rows:
                if r % 2 == 0:
                    rows[r] = r % ROWS + 1
            # one column changes: the others (the TOASTed 2-D array too) are sent unchanged
            first = columns[1].name if table == "zoo" else columns[0].name
            conn.execute(f"UPDATE {table} SET {first} = {first} WHERE id IN (3, 5)")
            conn.execute(f"DELETE FROM {table} WHERE id = 4")
            del rows[4]
            _insert(conn, table, columns, 4, 9)
            rows[4] = 9
            conn.execute(f"UPDATE {table} SET id = 100 WHERE id = 7")  # a key change
            rows[100] = rows.pop(7)
            patterns[table] = rows
    return patterns


@dataclass
class Tally:
    exact: int = 0
    marked: int = 0
    mismatched: int = 0


def final_rows(
    wh: LocalWarehouse, table: str, columns: tuple[Col, ...]
) -> dict[int, tuple[dict[str, Any], set[str]]]:
    names = ", ".join(f'"{c.name}"' for c in columns)
    rows = wh.conn.execute(f'SELECT id, {names}, _walstream_lossy FROM public."{table}"').fetchall()
    out = {}
    for row in rows:
        values = dict(zip([c.name for c in columns], row[1:-1], strict=True))
        out[int(row[0])] = (values, set(row[-1] or ()))
    return out


def source_oracle(
    db: PgDatabase, table: str, columns: tuple[Col, ...], as_text: set[str]
) -> dict[int, dict[str, Any]]:
    exprs = []
    for c in columns:
        oracle = TEXT if c.name in as_text else c.oracle
        if c.type_sql.endswith("[]") and c.name not in as_text:
            # unnest flattens several dimensions row-major and ignores the lower bounds; text
            # elements through text[] (unnest would expand a composite into its fields)
            array = f"{c.name}::text[]" if oracle == TEXT else c.name
            elements = f"SELECT o, {oracle} AS v FROM unnest({array}) WITH ORDINALITY AS u(x, o)"
            exprs.append(
                f"CASE WHEN {c.name} IS NOT NULL THEN coalesce((SELECT array_agg(v ORDER BY o) "
                f"FROM ({elements}) e), '{{}}') END"
            )
        else:
            exprs.append(f"(SELECT {oracle} FROM (SELECT {c.name} AS x) s)")
    with db.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; SET DateStyle = 'ISO'")
        conn.execute("SET extra_float_digits = 3; SET lc_monetary = 'C'")
        rows = conn.execute(f"SELECT id, {', '.join(exprs)} FROM {table}").fetchall()
    return {
        int(r[0]): dict(zip([c.name for c in columns], r[1:], strict=True))  # type: ignore[arg-type]
        for r in rows
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _canonical(c: Col, value: Any, as_text: bool) -> Any:
    if value is None:
        return None
    convert = str if as_text else _FINAL[c.oracle]
    if isinstance(value, list) and not as_text:
        return [None if v is None else convert(v) for v in value]
    if isinstance(value, bytes | bytearray | memoryview) and c.oracle == NATIVE:
        return bytes(value)
    return convert(value)


def check_final(
    db: PgDatabase,
    wh: LocalWarehouse,
    patterns: dict[str, dict[int, int]],
    as_text: set[str],
    tables: tuple[str, ...] = ("zoo", "zoo_textual"),
) -> Tally:
    tally = Tally()
    problems: list[str] = []
    for table in tables:
        columns = TABLES[table]
        source = source_oracle(db, table, columns, as_text)
        final = final_rows(wh, table, columns)
        assert sorted(final) == sorted(source) == sorted(patterns[table]), table
        for rid, expected in source.items():
            values, lossy = final[rid]
            want_lossy = {
                c.name
                for c in columns
                if c.name not in as_text and _literal(c, patterns[table][rid])[1]
            }
            for c in columns:
                got = _canonical(c, values[c.name], c.name in as_text)
                want = expected[c.name]
                if c.oracle == JSONB and c.name not in as_text and want is not None:
                    want = json.loads(want)
                ok = _same(got, want) and ((c.name in lossy) == (c.name in want_lossy))
                if not ok:
                    tally.mismatched += 1
                    problems.append(
                        f"{table}[{rid}].{c.name}: {got!r:.120} != {want!r:.120}, {lossy=}"
                    )
                elif c.name in lossy:
                    tally.marked += 1
                else:
                    tally.exact += 1
    assert not problems, "\n".join(problems[:20])
    return tally


def warehouse_of(dest: str, path: Path, files_per_batch: int | None = None) -> LocalWarehouse:
    """A local warehouse with every file of ``dest`` merged; ``files_per_batch=1`` merges file
    by file, so an unchanged TOAST value (and its lossy mark) comes from FINAL."""
    wh = LocalWarehouse(str(path))
    wh.conn.execute("SET TimeZone = 'UTC'")
    if files_per_batch is None:
        wh.load(open_sink(dest))
    else:
        wh.load(open_sink(dest), files_per_batch=files_per_batch)
    return wh


@pytest.fixture(scope="module")
def zoo_db(db_module: PgDatabase) -> tuple[PgDatabase, dict[str, dict[int, int]]]:
    setup_zoo(db_module)
    return db_module, workload(db_module)


@pytest.mark.parametrize(
    ("slot", "binary", "publication", "lossless"),
    [
        ("bin", "on", "walstream_bin", False),
        ("text", "off", "walstream", False),
        ("lossless_bin", "on", "walstream_bin", True),
        ("lossless_text", "off", "walstream", True),
    ],
)
def test_every_value_reaches_final_exact_or_marked(
    zoo_db: tuple[PgDatabase, dict[str, dict[int, int]]],
    tmp_path: Path,
    slot: str,
    binary: str,
    publication: str,
    lossless: bool,
) -> None:
    db, patterns = zoo_db
    dest = f"file://{tmp_path}/dest"
    as_text = LOSSLESS if lossless else ()
    # small files, merged one by one: marks carried through FINAL, not only within one merge
    run_to_current(
        db,
        dest,
        slot=slot,
        publication=publication,
        binary=binary,
        as_text=as_text,
        flush_rows=7,
    )
    files = read_table(dest, "public.zoo")
    # the TOASTed 2-D array was sent as unchanged: its mark had to be carried
    assert any("big" in (r["_walstream_unchanged"] or ()) for r in files)
    tables = ("zoo",) if publication == "walstream_bin" else ("zoo", "zoo_textual")
    # merged all at once (a mark carried along the changes of one merge) and file by file (a
    # mark carried from FINAL)
    for per_batch in (None, 1):
        with warehouse_of(dest, tmp_path / f"wh{per_batch}.duckdb", per_batch) as wh:
            tally = check_final(db, wh, patterns, AS_TEXT_COLUMNS if lossless else set(), tables)
        print(f"{slot}: exact={tally.exact} marked={tally.marked} mismatched={tally.mismatched}")
        assert tally.mismatched == 0
        assert (tally.marked == 0) == lossless


@pytest.mark.parametrize("lossless", [False, True])
def test_the_snapshot_gives_the_same_final(
    zoo_db: tuple[PgDatabase, dict[str, dict[int, int]]], tmp_path: Path, lossless: bool
) -> None:
    from walstream.convert.choices import TypeChoices

    db, patterns = zoo_db
    dest = f"file://{tmp_path}/dest"
    slot = f"snap_{int(lossless)}"
    run_snapshot(
        SnapshotConfig(
            dsn=db.dsn,
            slot=slot,
            publication="walstream",
            dest=dest,
            create_slot=True,
            progress="none",
            choices=TypeChoices.parse(LOSSLESS if lossless else ()),
        )
    )
    db.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    with warehouse_of(dest, tmp_path / "wh.duckdb") as wh:
        tally = check_final(db, wh, patterns, AS_TEXT_COLUMNS if lossless else set())
    print(f"snapshot lossless={lossless}: exact={tally.exact} marked={tally.marked}")
    assert tally.mismatched == 0
    assert (tally.marked == 0) == lossless


# -- mid-stream: the stream goes on, or (fail-fast) stops before the value ---------------------
def _nan_midstream(db: PgDatabase) -> int:
    """Rows before, a NaN and an out-of-range timestamp, rows after; the NaN's commit LSN."""
    db.execute("CREATE TABLE prices (id int PRIMARY KEY, amount numeric(10,2), at timestamp)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE prices")
    db.create_slot()
    db.execute("INSERT INTO prices SELECT g, g, '2024-01-01' FROM generate_series(1, 50) g")
    before = parse_lsn(db.current_lsn())
    db.execute("INSERT INTO prices VALUES (51, 'NaN', '294270-01-01'), (52, 1, '20000-01-01')")
    db.execute("INSERT INTO prices SELECT g, g, '2024-01-02' FROM generate_series(53, 100) g")
    return before


def test_a_nan_and_an_out_of_range_timestamp_mid_stream_are_marked_and_acked(
    db: PgDatabase, tmp_path: Path
) -> None:
    before = _nan_midstream(db)
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest)
    acked = db.confirmed_flush_lsn("sf_sync")
    assert acked is not None and parse_lsn(acked) > before
    with warehouse_of(dest, tmp_path / "wh.duckdb") as wh:
        rows = wh.conn.execute(
            'SELECT id, amount, "at", _walstream_lossy FROM public.prices ORDER BY id'
        ).fetchall()
    assert len(rows) == 100
    assert rows[50] == (51, None, dt.datetime(9999, 12, 31, 23, 59, 59, 999999), ["amount", "at"])
    assert rows[51] == (52, Decimal("1.00"), dt.datetime(9999, 12, 31, 23, 59, 59, 999999), ["at"])
    assert all(r[3] is None for r in rows[:50] + rows[52:])


def test_with_on_lossy_fail_the_run_stops_before_the_value_and_acks_nothing_past_it(
    db: PgDatabase, tmp_path: Path
) -> None:
    before = _nan_midstream(db)
    with pytest.raises(TypeConversionError, match=r"'amount'.*numeric_nan.*'fail'") as raised:
        run_to_current(db, f"file://{tmp_path}/dest", on_lossy="fail")
    assert raised.value.exit_code == 5
    acked = db.confirmed_flush_lsn("sf_sync")
    assert acked is None or parse_lsn(acked) <= before
