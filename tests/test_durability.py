"""Crash at named fault points: nothing acked is missing, and a restart re-delivers the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.changes import read_table
from tests.cli_run import walstream
from tests.conftest import PgDatabase
from walstream.faults import KILL_EXIT_CODE
from walstream.lsn import parse_lsn


def workload(db: PgDatabase, transactions: int = 30, rows: int = 7) -> list[tuple[int, list[int]]]:
    """Committed transactions as (an LSN at or after their commit end, ids inserted)."""
    db.execute(
        "CREATE TABLE events (id int PRIMARY KEY, payload text);"
        "CREATE PUBLICATION walstream FOR TABLE events;"
    )
    db.create_slot()
    done = []
    with db.connect() as conn:
        for t in range(transactions):
            ids = [t * 100 + i for i in range(rows)]
            with conn.transaction():
                for i in ids:
                    conn.execute("INSERT INTO events VALUES (%s, %s)", (i, f"payload {i}"))
                if t % 5 == 4:
                    conn.execute("UPDATE events SET payload = 'changed' WHERE id = %s", (ids[0],))
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
            assert row is not None
            done.append((parse_lsn(str(row[0])), ids))
    return done


def run_cli(db: PgDatabase, dest: str, until: int, faults: str = "") -> tuple[int, str]:
    proc = walstream(
        "run",
        "--dsn",
        db.dsn,
        "--slot",
        "sf_sync",
        "--publication",
        "walstream",
        "--dest",
        dest,
        "--flush-rows",
        "20",
        "--flush-interval",
        "0.5",
        "--status-interval",
        "0.5",
        "--until-lsn",
        f"{until >> 32:X}/{until & 0xFFFFFFFF:X}",
        env={"WALSTREAM_FAULTS": faults} if faults else None,
    )
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    "fault",
    [
        "after_encode=kill@2",
        "after_upload=kill@2",
        "after_checkpoint=kill@2",
        "after_upload=raise@3",
        "after_decode=kill@17",
    ],
)
def test_crash_at_fault_point_loses_nothing_and_restart_redelivers(
    db: PgDatabase, tmp_path: Path, fault: str
) -> None:
    txns = workload(db)
    dest = f"file://{tmp_path}/dest"
    until = txns[-1][0]

    code, stderr = run_cli(db, dest, until, fault)
    expected = KILL_EXIT_CODE if fault.split("=")[1].startswith("kill") else 1
    assert code == expected, stderr
    assert f"fault point {fault.split('=')[0]} reached" in stderr

    # The slot never gets ahead of what is stored.
    confirmed = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    stored = (
        {r["id"] for r in read_table(dest, "public.events")}
        if (tmp_path / "dest").exists()
        else set()
    )
    for after_commit, ids in txns:
        if after_commit <= confirmed:
            assert set(ids) <= stored, f"acked past unstored rows {ids}"

    code, stderr = run_cli(db, dest, until)
    assert code == 0, stderr
    rows = read_table(dest, "public.events")  # asserts repeats of a position are identical
    assert {r["id"] for r in rows if r["Op"] == "I"} == {i for _, ids in txns for i in ids}
    assert sum(1 for r in rows if r["Op"] == "U") == len(txns) // 5
    assert parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0") >= until
