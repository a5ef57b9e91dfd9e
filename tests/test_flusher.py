"""The flusher encodes jobs in parallel but stores and reports them strictly in order (issue 7).

A real local sink and real batches; the only stand-in is a sink that holds one store until the
test lets it go, which makes the overlap observable without timing anything.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from tests.waiting import wait_for
from walstream.capture.batch import ChangeBatch
from walstream.capture.buffer import FlushJob
from walstream.convert import LOSSY_INFINITY, builtin_type, converter_for
from walstream.errors import TypeConversionError
from walstream.metrics import METRICS
from walstream.pipeline.checkpoint import Checkpoint
from walstream.pipeline.flusher import Flusher, FlushResult
from walstream.pipeline.parquet import decode_parquet
from walstream.schema import ColumnSchema, TableSchema
from walstream.sink.local import LocalSink

TABLE = TableSchema(
    16384,
    "public",
    "events",
    (ColumnSchema("id", 23, "int4", -1, True), ColumnSchema("at", 1184, "timestamptz", -1, False)),
    "d",
)
TEXT = ord("t")


def batch(first_lsn: int, values: list[tuple[str, str]]) -> ChangeBatch:
    pg_types = [builtin_type(c.type_oid) for c in TABLE.columns]
    converters = tuple(
        converter_for(t, c.name) for t, c in zip(pg_types, TABLE.columns, strict=True) if t
    )
    out = ChangeBatch(TABLE, converters)
    for i, row in enumerate(values):
        out.add("I", bytes([TEXT, TEXT]), [v.encode() for v in row], first_lsn + i, 0, 7, 0)
    return out


def job(first_lsn: int, values: list[tuple[str, str]]) -> FlushJob:
    b = batch(first_lsn, values)
    return FlushJob([b], b.last_lsn + 1, len(b), b.nbytes)


class HeldSink(LocalSink):
    """Stores of keys containing ``hold`` wait until :attr:`release` is set."""

    def __init__(self, root: Path, hold: str) -> None:
        super().__init__(root.as_uri(), root)
        self.hold = hold
        self.release = threading.Event()
        self.stored: list[str] = []

    def put(self, key: str, data: bytes) -> None:
        if self.hold in key:
            assert self.release.wait(30), "the test never released the held store"
        super().put(key, data)
        self.stored.append(key)


def results(flusher: Flusher, count: int) -> list[FlushResult]:
    out: list[FlushResult] = []
    while len(out) < count:
        out += flusher.poll(timeout=30)
    return out


def wait_converted(b: ChangeBatch, timeout: float = 30.0) -> None:
    """Until ``b`` is converted: to_arrow(release=True) empties its row buffer."""
    wait_for(lambda: not b.data, timeout, "the batch's conversion while the job before it is held")


ROW = ("1", "2026-11-22 10:00:00+00")


def test_the_next_job_encodes_while_the_one_before_it_is_stored_and_reports_stay_in_order(
    tmp_path: Path,
) -> None:
    first, second = job(0x1000, [ROW] * 50), job(0x2000, [ROW] * 20)
    sink = HeldSink(tmp_path, "-0000000000001000-")
    checkpoint = Checkpoint("slot")
    flusher = Flusher(sink, checkpoint, max_in_flight=2)
    try:
        flusher.submit(first)
        flusher.submit(second)
        # the second job's rows are converted while the first job's store is held: encoding
        # overlaps the job before it
        wait_converted(second.batches[0])
        assert sink.stored == []  # and nothing of it is stored before the first job
        sink.release.set()
        got = results(flusher, 2)
    finally:
        flusher.close()
    assert [r.job for r in got] == [first, second]
    assert all(r.error is None for r in got)
    assert [len(r.files) for r in got] == [1, 1]
    # each job's file, then its checkpoint, then the next job's
    ckpt = "_walstream/slot/checkpoint.json"
    assert sink.stored == [got[0].files[0].key, ckpt, got[1].files[0].key, ckpt]
    assert checkpoint.acked_lsn == second.end_lsn
    stored = decode_parquet((tmp_path / got[1].files[0].key).read_bytes())
    assert stored.num_rows == 20


def test_a_job_after_a_failed_one_is_never_stored(tmp_path: Path) -> None:
    bad = job(0x1000, [("not a number", ROW[1])])
    after = job(0x2000, [ROW])
    sink = HeldSink(tmp_path, "never")
    flusher = Flusher(sink, Checkpoint("slot"), max_in_flight=2)
    try:
        flusher.submit(bad)
        flusher.submit(after)
        got = results(flusher, 2)
        late = job(0x3000, [ROW])
        flusher.submit(late)  # submitted once the failure is known: not even encoded
        got += results(flusher, 1)
    finally:
        flusher.close()
    assert isinstance(got[0].error, TypeConversionError)
    assert [str(r.error) for r in got[1:]] == ["an earlier flush failed"] * 2
    assert not [key for key in sink.stored if key.endswith(".parquet")]
    assert late.batches[0].data, "a job submitted after a failure was encoded"


def test_lossy_values_are_marked_and_counted_per_file_though_the_converters_are_shared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # both jobs' batches share one converter per column, as a table's batches do
    first = batch(0x1000, [("1", "infinity")] * 2 + [ROW])
    second = batch(0x2000, [("2", "-infinity")] * 3)
    second.converters = first.converters
    sink = HeldSink(tmp_path, "-0000000000001000-")
    flusher = Flusher(sink, Checkpoint("slot"), max_in_flight=2)
    caplog.set_level(logging.WARNING, "walstream.lossy")
    counter = METRICS.lossy_values.labels(first.table.qualified_name, "at", LOSSY_INFINITY)
    before = counter._value.get()
    try:
        for b in (first, second):
            flusher.submit(FlushJob([b], b.last_lsn + 1, len(b), b.nbytes))
        wait_converted(second)  # both converted before either is stored
        sink.release.set()
        got = results(flusher, 2)
    finally:
        flusher.close()
    assert all(r.error is None for r in got)
    assert counter._value.get() - before == 5
    marks = [
        decode_parquet((tmp_path / r.files[0].key).read_bytes())
        .column("_walstream_lossy")
        .to_pylist()
        for r in got
    ]
    assert marks == [[["at"], ["at"], None], [["at"]] * 3]
    # one line per table, column and kind, not one per file
    lines = [r.getMessage() for r in caplog.records if "event=lossy_values" in r.getMessage()]
    assert len(lines) <= 1 and all("--as-text" in line for line in lines), caplog.text
