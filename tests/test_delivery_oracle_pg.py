"""The delivery oracle on real PostgreSQL: the pipeline's own files and manifests, any delivery.

A seeded workload (tests/oracle_workload.py: TOAST set and left unchanged, key changes, deletes
and re-inserts, truncates, a composite key, mixed-case names) plus one large transaction that
PostgreSQL streams before it commits (``logical_decoding_work_mem`` at its minimum) runs on
real PostgreSQL; the source's state is recorded after every transaction with its xid. The
Runner streams the slot with tiny flushes, so transactions are cut across files and their
files are carried into the next manifest. Then hypothesis delivers the files and manifests in
any order and grouping, some held back: after every run each FINAL table equals the source as
it was after the last transaction at or below the table's watermark, and at the end equals
the source.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.changes import read_table
from tests.conftest import PgDatabase
from tests.oracle_workload import KEYED, Workload, keyed, setup_source, source_rows
from tests.streaming import run_to_current
from walstream.sink import open_sink
from walstream.warehouse import LocalWarehouse

JSON_COLUMNS = {"doc"}
TABLES = {**KEYED, "bulk": ["id"]}
Snapshot = dict[str, dict[tuple[Any, ...], dict[str, Any]]]


class RecordingWorkload(Workload):
    """The workload, recording each transaction's xid and the tables' state after it."""

    def __init__(self, seed: int, db: PgDatabase) -> None:
        super().__init__(seed)
        self.db = db
        self.history: list[tuple[int, Snapshot]] = []

    def transaction(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            super().transaction(conn)  # a savepoint inside this transaction
            row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None
        self.history.append((int(row[0]), snapshot(self.db)))


def snapshot(db: PgDatabase) -> Snapshot:
    out: Snapshot = {}
    for table, key in TABLES.items():
        columns, rows = source_rows(db, table)
        out[table] = keyed(columns, rows, key, JSON_COLUMNS)
    return out


def final(wh: LocalWarehouse, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    exists = wh.conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_name = ?",
        [table],
    ).fetchall()
    if not exists[0][0]:
        return {}
    meta = "_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_lossy"
    cur = wh.conn.execute(f'SELECT * EXCLUDE ({meta}) FROM public."{table}"')
    assert cur.description is not None
    return keyed([d[0] for d in cur.description], cur.fetchall(), TABLES[table], JSON_COLUMNS)


@pytest.fixture(scope="module")
def pipeline_output(
    tmp_path_factory: pytest.TempPathFactory, db_module: PgDatabase
) -> tuple[str, RecordingWorkload, dict[int, int]]:
    """The workload's files and manifests (streamed once), its history, and xid -> commit LSN."""
    db = db_module
    setup_source(db)
    db.execute("CREATE TABLE bulk (id int PRIMARY KEY, v text)")
    db.execute("ALTER PUBLICATION walstream ADD TABLE bulk")
    workload = RecordingWorkload(21, db)
    with db.connect() as conn:
        for i in range(36):
            workload.transaction(conn)
            if i == 12:  # one transaction far larger than logical_decoding_work_mem
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO bulk SELECT g, repeat(md5(g::text), 8) "
                        "FROM generate_series(1, 4000) g"
                    )
                    conn.execute("UPDATE bulk SET v = 'changed' WHERE id % 7 = 0")
                    conn.execute("DELETE FROM bulk WHERE id % 11 = 0")
                    row = conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
                assert row is not None
                workload.history.append((int(row[0]), snapshot(db)))
    dest = f"file://{tmp_path_factory.mktemp('pg_delivery')}/dest"
    # the large transaction is streamed before its commit (64kB is the walsender's minimum;
    # tests/test_large_transactions.py checks the streaming itself) and cut across files
    run_to_current(
        db,
        dest,
        flush_rows=7,
        decoding_work_mem="64kB",
        spill_dir=str(Path(dest[7:]).parent / "spill"),
    )
    commits: dict[int, int] = {}
    for table in TABLES:
        for r in read_table(dest, f"public.{table}"):
            if r["_walstream_xid"] is not None:
                commits[r["_walstream_xid"]] = r["_walstream_lsn"]
    return dest, workload, commits


def state_as_of(workload: RecordingWorkload, commits: dict[int, int], lsn: int | None) -> Snapshot:
    state: Snapshot = {t: {} for t in TABLES}
    if lsn is None:
        return state
    for xid, snap in workload.history:
        commit = commits.get(xid)
        if commit is None:
            continue  # changed nothing: its state is the one before it
        if commit > lsn:
            break
        state = snap
    return state


@settings(
    max_examples=int(os.environ.get("WALSTREAM_DELIVERY_EXAMPLES_PG", "1")),
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_pipelines_files_in_any_delivery_keep_final_the_source_as_of_its_watermark(
    pipeline_output: tuple[str, RecordingWorkload, dict[int, int]],
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
) -> None:
    dest, workload, commits = pipeline_output
    sink = open_sink(dest)
    # a transaction whose operations found nothing to change leaves no row (and no state change)
    assert len({xid for xid, _ in workload.history if xid in commits}) > 25
    keys = sorted(k for k in sink.list("") if k.endswith((".parquet", ".json")))
    assert any("/manifests/" in k for k in keys)
    rng = random.Random(seed)
    rng.shuffle(keys)
    held = keys[: rng.randint(0, 3)]
    keys = keys[len(held) :] + held
    root: Path = tmp_path_factory.mktemp("pg_wh")
    with LocalWarehouse(str(root / "wh.duckdb")) as wh:
        while keys:
            take = rng.randint(1, 12)
            wh.load(sink, keys=keys[:take])
            keys = keys[take:]
            marks = {str(w["table_name"]): w["lsn"] for w in wh.watermarks()}
            for table in TABLES:
                lsn = marks.get(f"public.{table}")
                want = state_as_of(workload, commits, None if lsn is None else int(str(lsn)))
                assert final(wh, table) == want[table], f"{table} at watermark {lsn}"
        last = workload.history[-1][1]
        for table in TABLES:
            assert final(wh, table) == last[table], table
        assert len(last["bulk"]) > 3000 and last["accounts"]
