"""Conversion micro-benchmark: ``ChangeBatch.to_arrow`` + Parquet encode of one flush, in-process.

``python -m bench.convert_bench`` prints the best-of-N CPU time of converting and encoding one
batch of each shape below, with no server, network or sink: the part of a flush that changes
when the column decoders change (walstream.convert), measured without the noise of the whole
suite (``python -m bench``), where the walsender shares the machine's two cores.

- ``wide-text``: 20,000 rows x 40 columns (int4, int8, float8, numeric(12,2), text, bool,
  timestamptz, date), text format, like the suite's wide-update;
- ``wide-binary``: 20,000 rows x 41 fixed-width columns (ints, floats, bool, timestamp[tz],
  date), binary format;
- ``toast``: 2,000 rows of a 16 KB text and a 16 KB jsonb, text format, like the suite's toast.

Run it in two checkouts to compare a change (bench/README.md, "Conversion micro-benchmark").
"""

from __future__ import annotations

import argparse
import struct
import time
from collections.abc import Callable

from walstream.capture.batch import ChangeBatch
from walstream.convert import builtin_type, converter_for
from walstream.pipeline.parquet import encode_parquet
from walstream.schema import ColumnSchema, TableSchema

Shape = tuple[list[ColumnSchema], bytes, list[list[bytes | None]]]

_WIDE_TEXT = (
    [(23, "int4")] * 8
    + [(20, "int8")] * 6
    + [(701, "float8")] * 5
    + [(1700, "numeric")] * 5
    + [(25, "text")] * 7
    + [(16, "bool")] * 3
    + [(1184, "timestamptz")] * 3
    + [(1082, "date")] * 2
)
_NUMERIC_12_2 = (12 << 16 | 2) + 4


def _text_value(name: str, r: int) -> bytes:
    return {
        "int4": str(r % 100_000),
        "int8": str(r * 1000),
        "float8": repr(r / 7.0),
        "numeric": f"{(r % 100_000) / 3.0:.2f}",
        "text": f"value-{r}",
        "bool": "t" if r % 2 else "f",
        "timestamptz": f"2024-01-01 00:{r % 60:02d}:00+00",
        "date": f"2020-01-{r % 28 + 1:02d}",
    }[name].encode()


def wide_text(rows: int = 20_000) -> Shape:
    cols = [ColumnSchema("id", 20, "int8", -1, True)]
    for i, (oid, name) in enumerate(_WIDE_TEXT):
        typmod = _NUMERIC_12_2 if name == "numeric" else -1
        cols.append(ColumnSchema(f"c{i}", oid, name, typmod, False))
    data = [
        [str(r).encode(), *(_text_value(name, r) for _, name in _WIDE_TEXT)] for r in range(rows)
    ]
    return cols, b"t", data


_WIDE_BINARY = (
    [(23, ">i")] * 8
    + [(20, ">q")] * 6
    + [(701, ">d")] * 5
    + [(16, "?")] * 3
    + [(1184, ">q")] * 6
    + [(1082, ">i")] * 4
    + [(1114, ">q")] * 4
)


def wide_binary(rows: int = 20_000) -> Shape:
    cols = [ColumnSchema("id", 20, "int8", -1, True)]
    cols += [ColumnSchema(f"c{i}", oid, "x", -1, False) for i, (oid, _) in enumerate(_WIDE_BINARY)]
    data: list[list[bytes | None]] = []
    for r in range(rows):
        values: list[bytes | None] = [struct.pack(">q", r)]
        for _, fmt in _WIDE_BINARY:
            values.append(struct.pack(fmt, bool(r % 2)) if fmt == "?" else struct.pack(fmt, r * 3))
        data.append(values)
    return cols, b"b", data


def toast(rows: int = 2_000) -> Shape:
    cols = [
        ColumnSchema("id", 20, "int8", -1, True),
        ColumnSchema("counter", 23, "int4", -1, False),
        ColumnSchema("body", 25, "text", -1, False),
        ColumnSchema("doc", 3802, "jsonb", -1, False),
    ]
    body = ("0123456789abcdef" * 1024).encode()
    doc = ('{"id": 1, "pad": "' + "ab" * 8000 + '"}').encode()
    return cols, b"t", [[str(r).encode(), str(r).encode(), body, doc] for r in range(rows)]


SHAPES: dict[str, Callable[[], Shape]] = {
    "wide-text": wide_text,
    "wide-binary": wide_binary,
    "toast": toast,
}


def measure(shape: Shape, repeat: int) -> float:
    """Best CPU seconds of converting and encoding the batch."""
    cols, kind, data = shape
    schema = TableSchema(1, "public", "bench", tuple(cols), "d")
    best = float("inf")
    for _ in range(repeat):
        converters = []
        for c in cols:
            pg_type = builtin_type(c.type_oid, c.typmod)
            assert pg_type is not None
            converters.append(converter_for(pg_type, c.name))
        batch = ChangeBatch(schema, tuple(converters))
        for values in data:
            batch.add("U", kind * len(cols), values, 100, 0, 7, 0)
        started = time.process_time()
        encode_parquet(batch.to_arrow(release=True))
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for name, make in SHAPES.items():
        print(f"{name}: {measure(make(), args.repeat) * 1000:.1f} ms CPU (best of {args.repeat})")


if __name__ == "__main__":
    main()
