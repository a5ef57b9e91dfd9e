"""The oracle: a random workload on real PostgreSQL, the whole pipeline, FINAL == source.

PostgreSQL 18 -> ``walstream run`` (the Runner) -> Parquet files -> the local warehouse (the
same MERGE as Snowflake, on DuckDB) -> every FINAL table compared row by row, value by value,
with the source tables. Seeds, flush sizes (one change per file up to one file per run) and
merge batchings vary, and one run keeps deleted rows (soft delete); a second phase of changes
lands on a FINAL that already holds rows, so unchanged TOAST values must come from FINAL.
Replays are real: a copy of the slot streams the same WAL again, cut into other files, into a
second destination, and loading it changes nothing.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.changes import change_files, read_table
from tests.conftest import PgDatabase
from tests.oracle_workload import (
    KEYED,
    Workload,
    assert_same_rows,
    keyed,
    setup_source,
    source_rows,
)
from tests.streaming import run_to_current
from walstream.snowflake.options import MergeOptions
from walstream.warehouse import LocalWarehouse

JSON_COLUMNS = {"doc"}


def stream(
    db: PgDatabase, dest: str, flush_rows: int, slot: str = "sf_sync", binary: str = "auto"
) -> None:
    """Run the slot until everything written so far is stored and acknowledged."""
    run_to_current(db, dest, slot=slot, flush_rows=flush_rows, binary=binary)


def final_table(wh: LocalWarehouse, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """FINAL's source columns; with soft deletes, only the rows not marked deleted."""
    meta = "_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_lossy"
    where = ""
    if wh.options.soft_delete:
        meta += ", _walstream_deleted"
        where = " WHERE NOT _walstream_deleted"
    # the workload's values are all exact: no row may be marked lossy
    marked = f'SELECT count(*) FROM public."{table}" WHERE _walstream_lossy IS NOT NULL'
    assert wh.conn.execute(marked).fetchall() == [(0,)]
    cur = wh.conn.execute(f'SELECT * EXCLUDE ({meta}) FROM public."{table}"{where}')
    assert cur.description is not None
    return [d[0] for d in cur.description], cur.fetchall()


def assert_final_equals_source(db: PgDatabase, wh: LocalWarehouse, dests: list[str]) -> None:
    for table, key in KEYED.items():
        columns, rows = source_rows(db, table)
        source = keyed(columns, rows, key, JSON_COLUMNS)
        final_columns, final_rows = final_table(wh, table)
        assert final_columns == columns
        assert_same_rows(table, source, keyed(final_columns, final_rows, key, JSON_COLUMNS))
    # the keyless table is append-only: FINAL is its change log, each change once
    log = wh.conn.execute(
        'SELECT _walstream_op, kind, payload, "at", _walstream_lsn, _walstream_seq '
        "FROM public.events ORDER BY _walstream_lsn, _walstream_seq"
    ).fetchall()
    changes: dict[tuple[int, int], tuple[Any, ...]] = {}
    for dest in dests:
        for r in read_table(dest, "public.events"):
            position = (r["_walstream_lsn"], r["_walstream_seq"])
            changes[position] = (r["Op"], r["kind"], r["payload"], r["at"], *position)
    assert log == [changes[p] for p in sorted(changes)]


@pytest.mark.parametrize(
    ("seed", "flush_rows", "binary", "soft_delete"),
    [
        (1, 1, "on", False),
        (2, 6, "off", False),
        (3, 1_000_000, "on", False),
        (4, 40, "auto", True),
    ],
)
def test_oracle_final_tables_equal_the_source_after_random_workloads(
    db: PgDatabase, tmp_path: Path, seed: int, flush_rows: int, binary: str, soft_delete: bool
) -> None:
    setup_source(db)
    dest = f"file://{tmp_path}/dest"
    workload = Workload(seed)
    rng = random.Random(seed)
    options = MergeOptions(soft_delete=soft_delete)
    with LocalWarehouse(str(tmp_path / "wh.duckdb"), options) as wh:
        for phase in range(2):
            workload.run(db, transactions=70)
            stream(db, dest, flush_rows, binary=binary)
            batch = None if phase == 0 else rng.choice([1, 3, None])
            report = wh.load(dest, files_per_batch=batch)
            assert report.files > 0
            assert_final_equals_source(db, wh, [dest])


def test_oracle_replay_of_the_same_wal_into_other_files_leaves_final_unchanged(
    db: PgDatabase, tmp_path: Path, s3_dest: str
) -> None:
    setup_source(db)
    # a copy of the slot, taken before any change, streams the same WAL again later: the
    # files a replay after a crash would write, cut differently and under other names
    db.execute("SELECT pg_copy_logical_replication_slot('sf_sync', 'sf_replay')")
    Workload(7).run(db, transactions=60)
    first = s3_dest
    second = f"file://{tmp_path}/replayed"
    stream(db, first, flush_rows=1_000_000)
    # small replayed files merged one at a time: an insert arrives after the delete that
    # removed its key (the delete's file was merged long before), only the tombstone stops it
    stream(db, second, flush_rows=4, slot="sf_replay")
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(first)
        assert_final_equals_source(db, wh, [first])
        before = {t: final_table(wh, t) for t in KEYED}
        assert wh.load(first).files == 0  # the same names again: skipped, like Snowpipe
        for key in sorted(k for keys in change_files(second).values() for k in keys):
            assert wh.load(second, keys=[key]).files == 1
            assert {t: final_table(wh, t) for t in KEYED} == before, f"after {key}"
        assert_final_equals_source(db, wh, [first, second])


@pytest.mark.parametrize("binary", ["on", "off"])
def test_a_toasted_primary_key_streams_and_merges_to_final_equal_to_the_source(
    db: PgDatabase, tmp_path: Path, binary: str
) -> None:
    """A text key over ~2 kB is stored out of line; an UPDATE that keeps it sends the old key in
    full and the new one as unchanged TOAST. That is an update of the same key, not a key
    change: no D row, no key-change mark, and the warehouse load succeeds (issue: it used to
    write D + U with a NULL key and fail on the NOT NULL key)."""
    db.execute(
        "CREATE TABLE docs (k text PRIMARY KEY, n int, body text);"
        "ALTER TABLE docs ALTER COLUMN k SET STORAGE EXTERNAL;"
        "CREATE PUBLICATION walstream FOR TABLE docs"
    )
    db.create_slot()
    long_key = os.urandom(1_150).hex()  # 2.3 kB: stored out of line, still indexable
    db.execute("INSERT INTO docs VALUES (%s, 1, 'a'), ('short', 1, 'b')", (long_key,))
    db.execute("UPDATE docs SET n = n + 1")
    db.execute("UPDATE docs SET k = k || 'x' WHERE k = 'short'")  # a real key change
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, binary=binary)
    rows = read_table(dest, "public.docs")
    assert [r["Op"] for r in rows] == ["I", "I", "U", "U", "D", "U"]
    assert [r["_walstream_key_change"] for r in rows] == [None] * 4 + [True, True]
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        final = wh.conn.execute("SELECT k, n, body FROM public.docs ORDER BY n, k").fetchall()
    source = db.connect().execute("SELECT k, n, body FROM docs ORDER BY n, k").fetchall()
    assert final == source
