"""The seed corpus: real bytes from PostgreSQL, so the fuzzers start from valid inputs.

A coverage-guided fuzzer finds deep bugs only if it starts from inputs that get deep: a valid
Relation message, a well-formed binary numeric, a 1-D int4 array. The seeds are therefore
taken from the server, never written from our reading of the formats:

- pgoutput and replication seeds come from the captured fixtures ``tests/data/pgoutput_*.json``
  (``tests/capture_pgoutput.py``): single messages of every type (a changed row captured inside
  a stream block gets a Stream Start in front), and runs of consecutive messages, which cross
  Stream Start/Stop. Replication seeds wrap those messages into XLogData frames, with
  keepalives between them.
- tuples seeds are the TupleData of captured Insert/Update/Delete messages, several rows of one
  relation per seed (plus a row without a tuple, as a TRUNCATE row is in a batch);
- converter seeds are column values read from a throw-away local PostgreSQL
  (:class:`walstream.embedded.LocalPostgres`) in text and binary result format under the
  replication session's settings, i.e. the bytes pgoutput sends for a column, for each type in
  :data:`LITERALS`; every other type of the harness gets a few generic text values.

``python -m fuzz seeds`` rewrites ``fuzz/corpus/*/seed-*`` (deterministic for a given server
version); files named otherwise (``regress-*``: inputs of fixed findings) are kept.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from walstream.embedded import LocalPostgres
from walstream.pg.pgoutput import Delete, Insert, PgOutputDecoder, TupleData, Update

from . import fuzz_convert
from .inputs import join_chunks

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted((REPO / "tests" / "data").glob("pgoutput_*.json"))

MAX_MESSAGE = 2048  # larger captured messages (the TOASTed value) make slow seeds
PER_TYPE = 3  # single-message seeds per message type and fixture
RUN_LENGTH = 12  # messages per sequence seed
RUNS = 6  # sequence seeds per fixture

# Type -> SQL literals (NULL is added to every column). The session settings are those of the
# replication connection (walstream.pg.replication.SESSION_OPTIONS), plus lc_monetary=C.
LITERALS: dict[str, list[str]] = {
    "bool": ["true", "false"],
    "char": ["'a'", "'\\300'::\"char\"", "''"],
    "int2": ["-32768", "32767", "0"],
    "int4": ["-2147483648", "2147483647", "7"],
    "int8": ["-9223372036854775808", "9223372036854775807", "42"],
    "oid": ["0", "4294967295"],
    "float4": ["'NaN'", "'-Infinity'", "1.5e-40", "-0.0", "3.4028235e38"],
    "float8": ["'NaN'", "'Infinity'", "5e-324", "-0.0", "0.1"],
    "numeric": ["'NaN'", "'Infinity'", "0", "-123456789.000100", "1e-100", "1e100"],
    "numeric(10,2)": ["12345678.90", "-0.01", "0"],
    "numeric(38,0)": ["99999999999999999999999999999999999999", "-1"],
    "numeric(38,38)": ["0.12345678901234567890123456789012345678"],
    "numeric(3,-2)": ["99900", "-100"],
    "numeric(2,5)": ["0.00099", "-0.00001"],
    "numeric(50,2)": ["123456789012345678901234567890123456789012345678.99"],
    "money": ["'-$92,233,720,368,547,758.08'", "'$1,234.56'", "0"],
    "text": ["''", "'héllo ✓ 😀'", "'tab\tand \"quotes\"'"],
    "varchar": ["'abc'", "''"],
    "varchar(10)": ["'abcdefghij'"],
    "bpchar(3)": ["'ab'"],
    "name": ["'a_name'"],
    "json": ["'{\"a\": [1, 2.5, null]}'"],
    "jsonb": ['\'{"a": [1, 2.5, null], "b": "ü"}\'', "'[]'"],
    "bytea": ["'\\x00ff10'", "''"],
    "uuid": ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"],
    "macaddr": ["'08:00:2b:01:02:03'"],
    "macaddr8": ["'08:00:2b:01:02:03:04:05'"],
    "inet": ["'192.168.0.1/24'", "'::ffff:1.2.3.4'", "'2001:db8::1'"],
    "cidr": ["'10.0.0.0/8'", "'2001:db8::/32'"],
    "bit": ["B'1'"],
    "varbit": ["B'101100111'", "B''"],
    "date": ["'2024-02-29'", "'infinity'", "'-infinity'", "'4713-01-01 BC'", "'5874897-12-31'"],
    "time": ["'00:00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:34:56.5'"],
    "timetz": ["'12:34:56.789+05:30'", "'00:00:00-03'"],
    "timestamp": [
        "'2024-01-02 03:04:05.678901'",
        "'infinity'",
        "'-infinity'",
        "'0044-03-15 12:00:00 BC'",
        "'294276-12-31 23:59:59'",
    ],
    "timestamptz": ["'2024-01-02 03:04:05.5+00'", "'infinity'", "'10000-01-01 00:00:00+00'"],
    "interval": ["'1 year 2 mons -3 days 04:05:06.789'", "'-00:00:01'", "'infinity'"],
    "int4range": ["'[1,10)'", "'empty'", "'(,5]'"],
    "int8range": ["'[1,)'"],
    "numrange": ["'[1.5,2.25]'"],
    "daterange": ["'[2024-01-01,infinity)'"],
    "tsrange": ['\'["2024-01-01 00:00:00","2024-01-02 00:00:00")\''],
    "tstzrange": ["'(,\"2024-01-02 00:00:00+00\"]'"],
    "int4multirange": ["'{[1,3),[5,7)}'", "'{}'"],
    "datemultirange": ["'{[2024-01-01,2024-02-01)}'"],
    "point": ["'(1,2)'"],
    "tsvector": ["'a fat cat'"],
    "pg_lsn": ["'0/16B3748'"],
    "xid8": ["'42'"],
    "_int4": ["'{1,2,NULL,4}'", "'{}'", "'{{1,2},{3,4}}'", "'[0:1]={5,6}'"],
    "_int8": ["'{1,2}'", "'{}'"],
    "_float8": ["'{NaN,-0,1.5}'"],
    "_bool": ["'{t,f,NULL}'"],
    "_text": [r"""'{"a,b","",NULL,"NULL","q\"uote","back\\slash"}'""", "'{}'"],
    "_varchar": ["'{x,y}'"],
    "_numeric": ["'{1.5,NaN,-2}'"],
    "numeric(10,2)[]": ["'{1.50,-2.00}'"],
    "_date": ["'{2024-01-01,infinity}'"],
    "_timestamptz": ["'{\"2024-01-01 00:00:00+00\"}'"],
    "_uuid": ["'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'"],
    "_bytea": ["'{\"\\\\\\\\x0102\"}'"],
    "_jsonb": ["ARRAY['{\"a\":1}'::jsonb]"],
    "_interval": ["'{\"1 day\"}'"],
    "_box": ["'{(1,1),(0,0);(2,2),(1,1)}'"],
    "_int4range": ["'{\"[1,2)\"}'"],
    "public.mood": ["'sad'", "'très \"content\", {ok}'"],
    "public._mood": [r"""'{sad,"très \"content\", {ok}"}'"""],
    "public.price": ["12.50"],
    "public.floatrange": ["'[1.5,2.5)'"],
    "public.textrange": ["'[\"a b\",z)'"],
    "public.pair": ["ROW(1, 'x y')::pair"],
    "public.citext": ["'MiXeD'"],
}

# The SQL type of a harness type name, where it differs from the name.
SQL_TYPES = {
    "char": '"char"',
    "bpchar(3)": "char(3)",
    "public.mood": "mood",
    "public._mood": "mood[]",
    "public.price": "price",
    "public.floatrange": "floatrange",
    "public.textrange": "textrange",
    "public.pair": "pair",
    "public.citext": "citext",
    "numeric(10,2)[]": "numeric(10,2)[]",
}

SCHEMA_SQL = """
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'happy', 'très "content", {ok}');
CREATE DOMAIN price AS numeric(10,2);
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TYPE textrange AS RANGE (subtype = text);
CREATE TYPE pair AS (a int, b text);
SET DateStyle = ISO; SET IntervalStyle = postgres; SET TimeZone = UTC;
SET extra_float_digits = 3; SET bytea_output = hex; SET lc_monetary = 'C';
"""

GENERIC_TEXT = [b"", b"abc", b"0", b"{}", b"(1,2)", b"\xc3\xa9\xe2\x9c\x93"]


def _sql_type(name: str) -> str:
    if name in SQL_TYPES:
        return SQL_TYPES[name]
    if name.startswith("_"):
        return f"{name[1:]}[]"
    return name


def _fixture_messages(path: Path) -> tuple[int, list[tuple[bool, bytes]]]:
    """(proto_version, [(inside a stream block, message bytes)]) of one captured fixture."""
    fixture: dict[str, Any] = json.loads(path.read_text())
    proto = int(fixture["options"]["proto_version"])
    in_stream = False
    out: list[tuple[bool, bytes]] = []
    for _lsn, _xid, hexed in fixture["messages"]:
        data = bytes.fromhex(hexed)
        out.append((in_stream, data))
        if data[:1] == b"S":
            in_stream = True
        elif data[:1] == b"E":
            in_stream = False
    return proto, out


def pgoutput_inputs() -> Iterator[tuple[int, list[bytes]]]:
    """(proto_version, message sequence) seeds from the captured fixtures."""
    for path in FIXTURES:
        proto, messages = _fixture_messages(path)
        small = [(s, m) for s, m in messages if len(m) <= MAX_MESSAGE]
        per_type: dict[bytes, int] = {}
        stream_start = next((m for _, m in small if m[:1] == b"S"), b"S\x00\x00\x00\x01\x01")
        for in_stream, message in small:
            kind = message[:1]
            if per_type.get(kind, 0) >= PER_TYPE:
                continue
            per_type[kind] = per_type.get(kind, 0) + 1
            yield proto, ([stream_start, message] if in_stream else [message])
        if not small:
            continue
        step = max(1, len(small) // RUNS)
        for start in range(0, len(small), step):
            run = [m for _, m in small[start : start + RUN_LENGTH]]
            if small[start][0]:  # a run that starts inside a stream block needs its start
                run.insert(0, stream_start)
            yield proto, run


def _tuple_bytes(tup: TupleData) -> bytes:
    out = bytearray(len(tup.kinds).to_bytes(2, "big"))
    for kind, value in zip(tup.kinds, tup.values, strict=True):
        out.append(kind)
        if value is not None:
            out += len(value).to_bytes(4, "big") + value
    return bytes(out)


def tuples_inputs() -> Iterator[tuple[int, list[bytes | None]]]:
    """(column count, TupleData rows) seeds: the rows of captured changes, by column count."""
    for path in FIXTURES:
        proto, messages = _fixture_messages(path)
        by_ncols: dict[int, list[bytes]] = {}
        for in_stream, message in messages:
            if message[:1] not in (b"I", b"U", b"D") or len(message) > MAX_MESSAGE:
                continue
            decoder = PgOutputDecoder(proto)
            if in_stream:
                decoder.decode(b"S\x00\x00\x00\x01\x01")
            change = decoder.decode(message)
            assert isinstance(change, Insert | Update | Delete)
            tuples = [change.old if isinstance(change, Delete) else change.new]
            if isinstance(change, Update) and change.old is not None:
                tuples.append(change.old)
            for tup in tuples:
                by_ncols.setdefault(len(tup.kinds), []).append(_tuple_bytes(tup))
        for ncols, rows in sorted(by_ncols.items()):
            for start in range(0, min(len(rows), 4 * RUN_LENGTH), RUN_LENGTH):
                yield ncols, [*rows[start : start + RUN_LENGTH], None]


def _xlogdata(lsn: int, message: bytes) -> bytes:
    return b"w" + lsn.to_bytes(8, "big") * 2 + (774_000_000_000_000).to_bytes(8, "big") + message


def _keepalive(lsn: int, reply: bool) -> bytes:
    return b"k" + lsn.to_bytes(8, "big") + (774_000_000_000_000).to_bytes(8, "big") + bytes([reply])


def replication_inputs() -> Iterator[tuple[int, list[bytes]]]:
    """(proto_version, CopyData payloads): pgoutput seeds framed as the walsender sends them."""
    lsn = 0x16B3748
    for i, (proto, messages) in enumerate(pgoutput_inputs()):
        if i % 3:  # a third of them is plenty: the framing is the same for every message
            continue
        frames = [_keepalive(lsn, i % 2 == 0)]
        for message in messages:
            lsn += len(message)
            frames.append(_xlogdata(lsn, message))
        frames.append(_keepalive(lsn, True))
        yield proto, frames


def _fetch(conn: Any, sql: str, result_format: int) -> list[bytes | None]:
    from psycopg import pq

    res = conn.pgconn.exec_params(sql.encode(), [], result_format=result_format)
    if res.status != pq.ExecStatus.TUPLES_OK:
        raise RuntimeError(f"{sql}: {res.error_message.decode(errors='replace')}")
    return [res.get_value(row, 0) for row in range(res.ntuples)]


def convert_inputs() -> Iterator[tuple[int, int, list[bytes | None]]]:
    """(type index, mode, values) seeds: real text and binary values from a local server."""
    import psycopg

    names = dict(fuzz_convert.TYPE_INDEX)
    with tempfile.TemporaryDirectory(prefix="walstream-fuzz-seeds-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        pg = LocalPostgres(base / "data", settings={"fsync": "off"})
        with pg, psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(SCHEMA_SQL)
            for name, literals in LITERALS.items():
                index = names.pop(name)
                rows = " UNION ALL ".join(
                    f"SELECT ({lit})::{_sql_type(name)}" for lit in [*literals, "NULL"]
                )
                for mode in (0, 1):
                    yield index, mode, _fetch(conn, rows, mode)
    for index in names.values():  # types without literals: text values only
        yield index, 0, [*GENERIC_TEXT, None]


def _write(directory: Path, inputs: Iterable[bytes]) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("seed-*"):
        old.unlink()
    names = set()
    for data in inputs:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (directory / name).write_bytes(data)
        names.add(name)
    return len(names)


def write_seeds(corpus: Path) -> dict[str, int]:
    """Rewrite the seed files of every harness under ``corpus``; return the count per harness."""
    return {
        "pgoutput": _write(
            corpus / "pgoutput",
            (bytes([proto - 1]) + join_chunks(msgs) for proto, msgs in pgoutput_inputs()),
        ),
        "replication": _write(
            corpus / "replication",
            (bytes([proto - 1]) + join_chunks(frames) for proto, frames in replication_inputs()),
        ),
        "tuples": _write(
            corpus / "tuples",
            (bytes([ncols]) + join_chunks(rows) for ncols, rows in tuples_inputs()),
        ),
        "convert": _write(
            corpus / "convert",
            (
                bytes([index, mode]) + join_chunks(values)
                for index, mode, values in convert_inputs()
            ),
        ),
    }
