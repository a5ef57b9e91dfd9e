"""The snapshot's binary COPY read: same Arrow values as a text read, strict about its framing.

- The column parser in COPY framing (walstream.capture.columns, FRAMING_COPY) agrees with a
  row-by-row reading of binary COPY tuples, in C and in numpy, and damaged tuples raise
  ProtocolError only.
- The header and trailer checks of the reader (_CopyTuples) name what is wrong.
- A type zoo read by the snapshot (binary COPY, text output for the columns without a binary
  decoder) gives exactly the Arrow table of the same rows read as text (CSV COPY, the text
  decoders): with the C parts and without them (numpy parser, Python read loop).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import PgDatabase
from walstream.capture import switch
from walstream.capture.columns import FRAMING_COPY, PAD, TupleColumns
from walstream.capture.switch import column_parser
from walstream.convert.choices import TypeChoices
from walstream.errors import ProtocolError
from walstream.pg import source
from walstream.pg.types import CatalogTypes
from walstream.pg.wire import KIND_BINARY, KIND_NULL
from walstream.snapshot.reader import COPY_SIGNATURE, RawRows, SnapshotSession, _CopyTuples
from walstream.snapshot.tables import Chunk, LoadTable, describe_table
from walstream.snapshot.writer import LoadPosition, load_rows

PATHS = [
    pytest.param(False, id="numpy"),
    pytest.param(
        True,
        id="C",
        marks=pytest.mark.skipif(column_parser() is None, reason="walstream._columns is not built"),
    ),
]

Row = list[bytes | None]


def copy_tuple(values: Row) -> bytes:
    """One binary COPY tuple: Int16 field count, per field Int32 length (-1: NULL) and bytes."""
    parts = [len(values).to_bytes(2, "big")]
    for value in values:
        parts.append((-1 if value is None else len(value)).to_bytes(4, "big", signed=True))
        parts.append(value or b"")
    return b"".join(parts)


@st.composite
def blocks(draw: st.DrawFn) -> tuple[int, list[int | None], list[Row]]:
    ncols = draw(st.integers(1, 6))
    widths = [draw(st.sampled_from([None, None, 1, 4, 8, 16])) for _ in range(ncols)]
    rows: list[Row] = []
    for _ in range(draw(st.integers(0, 30))):
        row: Row = []
        for width in widths:
            if draw(st.integers(0, 4)) == 0:
                row.append(None)
            elif width is not None and draw(st.booleans()):
                row.append(draw(st.binary(min_size=width, max_size=width)))
            else:
                row.append(draw(st.binary(max_size=40)))
        rows.append(row)
    return ncols, widths, rows


def _buffer(rows: list[Row]) -> tuple[bytearray, np.ndarray]:
    data = bytearray()
    offsets = [0]
    for row in rows:
        data += copy_tuple(row)
        offsets.append(len(data))
    return data, np.array(offsets, dtype=np.int64)


def _parser(data: bytes | bytearray, offsets: np.ndarray, ncols: int, native: bool) -> Any:
    return TupleColumns(
        data, offsets, ncols, lambda row: f"row {row}", use_native=native, framing=FRAMING_COPY
    )


@pytest.mark.parametrize("use_native", PATHS)
@settings(max_examples=300, deadline=None)
@given(block=blocks())
def test_copy_columns_equal_the_row_by_row_reading(use_native: bool, block: tuple) -> None:
    ncols, widths, rows = block
    data, offsets = _buffer(rows)
    parser = _parser(data, offsets, ncols, use_native)
    for col in range(ncols):
        kinds, values = parser.next_column(widths[col])
        expected = [row[col] for row in rows]
        assert values.to_pylist() == expected
        assert list(kinds) == [KIND_NULL if v is None else KIND_BINARY for v in expected]
        if pa.types.is_fixed_size_binary(values.type):
            assert values.type.byte_width == widths[col]


@pytest.mark.parametrize("use_native", PATHS)
@settings(max_examples=300, deadline=None)
@given(block=blocks(), data=st.data())
def test_damaged_copy_tuples_raise_protocol_error_only(
    use_native: bool, block: tuple, data: st.DataObject
) -> None:
    ncols, _, rows = block
    buf, offsets = _buffer(rows)
    if not len(buf):
        return
    damaged = bytearray(buf)
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(damaged) - 1))
        damaged[at] = data.draw(st.integers(0, 255))
    else:  # the last rows lose their tail
        damaged = damaged[: len(damaged) - data.draw(st.integers(1, len(damaged)))]
        offsets = np.minimum(offsets, len(damaged))
    try:
        parser = _parser(damaged, offsets, ncols, use_native)
        for _ in range(ncols):
            parser.next_column(data.draw(st.sampled_from([None, 4, 8])))
    except ProtocolError:
        pass


@pytest.mark.parametrize("use_native", PATHS)
@pytest.mark.parametrize(
    ("rows", "ncols", "problem"),
    [
        ([b"\x00\x01\x00\x00"], 1, "row 0: malformed tuple: column 0 length is cut off"),
        ([b"\x00\x01\x00\x00\x00\x05ab"], 1, "row 0: malformed tuple: column 0 is longer"),
        ([b"\x00\x01\xff\xff\xff\xfeab"], 1, "row 0: malformed tuple: column 0 is longer"),
        ([b"\x00\x02\xff\xff\xff\xff"], 2, "row 0: malformed tuple: column 1 is past the row"),
        (
            [b"\x00\x01\xff\xff\xff\xff", b"\x00\x01\xff\xff\xff\xffx"],
            1,
            "row 1: malformed tuple: bytes follow its last column",
        ),
        ([b"\x00\x01\xff\xff\xff\xff", b""], 1, "row 1: malformed tuple: it ends before"),
        ([b"\x00\x02\xff\xff\xff\xff"], 1, "row 0: the tuple has 2 columns, the relation has 1"),
    ],
)
def test_a_malformed_copy_tuple_is_named_with_its_column(
    use_native: bool, rows: list[bytes], ncols: int, problem: str
) -> None:
    data = b"".join(rows) + bytes(PAD)
    offsets = np.cumsum([0] + [len(r) for r in rows], dtype=np.int64)
    with pytest.raises(ProtocolError) as caught:
        parser = _parser(data, offsets, ncols, use_native)
        for _ in range(ncols):
            parser.next_column(None)
    assert str(caught.value).startswith(problem)


# -- the reader, against a server --------------------------------------------------------------

HEADER = COPY_SIGNATURE + bytes(4) + bytes(4)
TRAILER = b"\xff\xff"


def _messages(*messages: bytes) -> tuple[bytearray, np.ndarray]:
    data = bytearray(b"".join(messages)) + bytes(PAD)
    return data, np.cumsum([len(m) for m in messages], dtype=np.int64)


@pytest.fixture
def pair(db: PgDatabase) -> Iterator[LoadTable]:
    """A published (id int4, v text) table as the snapshot describes it."""
    db.execute("CREATE TABLE pair (id int PRIMARY KEY, v text)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE pair")
    with source.connect(db.dsn) as conn:
        yield describe_table(conn, "walstream", "public", "pair", CatalogTypes(conn))


def _tuples(table: LoadTable) -> _CopyTuples:
    return _CopyTuples(table, Chunk(0, 0, None, 1), table.binary_columns())


def test_header_rows_and_trailer_in_any_message_split_give_the_rows(pair: LoadTable) -> None:
    row1 = copy_tuple([(1).to_bytes(4, "big"), b"one"])
    row2 = copy_tuple([(2).to_bytes(4, "big"), None])
    ext = COPY_SIGNATURE + bytes(4) + (3).to_bytes(4, "big") + b"xyz"  # an extension, skipped
    for messages in ([HEADER + row1, row2, TRAILER], [ext, row1, row2, TRAILER]):
        tuples = _tuples(pair)
        raw = tuples.parse(*_messages(*messages), first_seq=1)
        tuples.finish()
        assert raw.seq.to_pylist() == [1, 2]
        assert raw.columns[1].to_pylist() == [b"one", None]
        assert raw.binary == (True, True)
    empty = _tuples(pair)
    assert empty.parse(*_messages(HEADER + TRAILER), first_seq=1).rows == 0
    empty.finish()


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([b"PGCOPY\n\xff\r\n\x01" + bytes(8), TRAILER], "does not start with the binary COPY"),
        ([COPY_SIGNATURE + b"\x00\x01\x00\x00" + bytes(4), TRAILER], "flags 0x00010000"),
        ([COPY_SIGNATURE + bytes(4) + (9).to_bytes(4, "big") + b"ab"], "extension is cut off"),
        ([HEADER, TRAILER, TRAILER], "data follows the binary COPY trailer"),
        ([HEADER + copy_tuple([None, None])], "ended without the binary COPY trailer"),
        ([HEADER + copy_tuple([None, None]) + TRAILER], "bytes follow its last column"),
    ],
)
def test_unexpected_copy_output_is_a_protocol_error(
    pair: LoadTable, messages: list[bytes], problem: str
) -> None:
    tuples = _tuples(pair)
    with pytest.raises(ProtocolError, match=problem):
        tuples.parse(*_messages(*messages), first_seq=1)
        tuples.finish()


# -- binary read == text read, for every type ---------------------------------------------------

EXTRA = """
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN label AS text;
CREATE TYPE pt AS (x int, note text);
CREATE TABLE extra (
    id int PRIMARY KEY, dom posint, lbl label, moods mood[], comp pt, tsv tsvector, p point,
    lsn pg_lsn, ip_text inet, num_text numeric, arr_text int4[], txt text, f4 float4, jdup json,
    n_big numeric, iv interval
);
INSERT INTO extra VALUES
    (1, 5, 'a label', '{happy,NULL,sad}', '(1,"x, \\"y\\"")', 'a fat:2 cat', '(1.5,-2)',
     '16/B374D848', '10.0.0.1', 3.14159, '{1,2}', E'line\\nbreak "quoted" , comma ✓ 🎉', 'Infinity',
     '{"a": 1, "a": 2}', 1e60, '-1 day 02:03:04.5'),
    (2, NULL, '', '{}', '(,)', '', '(0,0)', '0/0', '::1', 'NaN', '{}', '', '-Infinity', '[]',
     -123456789012345678901234567890123456789.123, '0'),
    (3, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', NULL, NULL, NULL),
    (4, 2, 'x', '{ok}', '(,"")', 'b:1', '(1e300,-0)', 'FFFFFFFF/FFFFFFFF', '192.168.0.1/24',
     '-0.000000001', '{{1,NULL},{3,4}}', '\\N', '-0', 'null', 0, '1000 years')
"""
AS_TEXT = ["public.extra.ip_text", "public.extra.num_text", "public.extra.arr_text"]


def _text_rows(conn: Any, table: LoadTable) -> RawRows:
    """The rows read as the snapshot read them before binary COPY: CSV COPY, pyarrow's CSV
    reader, text values (the oracle: the text decoders are the text-mode stream's)."""
    names = [f"c{i}" for i in range(len(table.schema.columns))]
    columns = ", ".join(f'"{c.name}"' for c in table.schema.columns)
    target = f"{table.schema.namespace}.{table.schema.name}"
    data = bytearray()
    with conn.cursor().copy(f"COPY (SELECT {columns} FROM {target}) TO STDOUT (FORMAT csv)") as cp:
        for block in cp:
            data += block
    parsed = pcsv.read_csv(
        pa.BufferReader(pa.py_buffer(data)),
        read_options=pcsv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.binary()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        ),
    )
    columns_ = [parsed.column(i).combine_chunks() for i in range(parsed.num_columns)]
    seq = pa.array(np.arange(1, parsed.num_rows + 1, dtype=np.int64))
    return RawRows(seq, columns_, (False,) * len(columns_), len(data))


def _table(table: LoadTable, raw: RawRows) -> pa.Table:
    from walstream.capture.batch import arrow_schema

    converters = table.converters()
    schema = arrow_schema(table.schema, converters)
    rows = load_rows(table, converters, schema, raw, LoadPosition(1, 1))
    return rows.sort_by("id").drop_columns(["_walstream_seq"])


def _same(got: pa.ChunkedArray, want: pa.ChunkedArray) -> bool:
    """Equal arrays, NaN equal to NaN (Arrow's equals says NaN != NaN)."""
    if got.type != want.type:
        return False
    if not pa.types.is_floating(got.type):
        return bool(got.equals(want))
    nan = float("nan")
    return [repr(v) for v in got.fill_null(nan).to_pylist()] == [
        repr(v) for v in want.fill_null(nan).to_pylist()
    ] and got.is_null().equals(want.is_null())


@pytest.mark.parametrize("use_c", [pytest.param(True, id="C"), pytest.param(False, id="python")])
def test_binary_read_gives_the_arrow_table_of_a_text_read_for_every_type(
    db: PgDatabase, use_c: bool
) -> None:
    from tests.test_types_e2e import load_zoo

    load_zoo(db)  # the zoo table (every type of DESIGN.md §4), its publication and slot
    db.execute(EXTRA)
    db.execute("ALTER PUBLICATION walstream ADD TABLE extra")
    switch.configure(use_c)
    try:
        with source.connect(db.dsn) as conn:
            types = CatalogTypes(conn)
            choices = TypeChoices.parse(AS_TEXT)
            for name in ("zoo", "extra"):
                table = describe_table(conn, "walstream", "public", name, types, choices=choices)
                binary = table.binary_columns()
                if name == "extra":  # both kinds of column are there
                    assert not all(binary) and any(binary)
                session = SnapshotSession(db.dsn, cast(Any, None))
                session.conn = conn
                blocks = list(session.read_chunk(table, Chunk(0, 0, None, 1), 1 << 20))
                read = pa.concat_tables(_table(table, raw) for raw in blocks)
                expected = _table(table, _text_rows(conn, table))
                assert read.num_rows == 4
                for column in expected.column_names:
                    got, want = read.column(column), expected.column(column)
                    assert _same(got, want), (name, column, got.to_pylist(), want.to_pylist())
                assert read.schema.equals(expected.schema, check_metadata=True)
    finally:
        switch.configure(True)


def test_small_blocks_keep_positions_and_rows(db: PgDatabase) -> None:
    """Blocks of one message each: every row once, positions 1, 2, 3... in scan order."""
    db.execute("CREATE TABLE many (id int PRIMARY KEY, v text)")
    db.execute("INSERT INTO many SELECT g, repeat('x', g % 50) FROM generate_series(1, 3000) g")
    db.execute("CREATE PUBLICATION walstream FOR TABLE many")
    with source.connect(db.dsn) as conn:
        table = describe_table(conn, "walstream", "public", "many", CatalogTypes(conn))
        session = SnapshotSession(db.dsn, cast(Any, None))
        session.conn = conn
        blocks = list(session.read_chunk(table, Chunk(0, 0, None, 1), 1))
        assert len(blocks) > 1000
        seq = pa.concat_arrays([b.seq for b in blocks]).to_pylist()
        ids = pa.concat_arrays([b.columns[0] for b in blocks]).to_pylist()
        assert seq == list(range(1, 3001))
        assert sorted(int.from_bytes(i, "big") for i in ids) == list(range(1, 3001))
