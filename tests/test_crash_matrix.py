"""The crash matrix: every fault point x (kill, exception) on a mixed workload, then the oracle.

Each case streams a random workload with one fault point armed, so the process dies (``os._exit``)
or fails (an exception) at that exact place; a clean restart then resumes from the slot. The
local warehouse loads every file written by both runs, in Snowpipe's way (each file name once),
and every FINAL table must equal the source, row by row. A soak test kills ``walstream run``
with SIGKILL at random moments while a workload keeps writing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.cli_run import walstream
from tests.conftest import PgDatabase
from tests.oracle_workload import Workload, setup_source
from tests.test_oracle import assert_final_equals_source
from walstream.faults import KILL_EXIT_CODE
from walstream.lsn import format_lsn, parse_lsn
from walstream.warehouse import LocalWarehouse

# kill -9 count of the soak; CI keeps it short, a longer soak: WALSTREAM_SOAK_KILLS=25
SOAK_KILLS = int(os.environ.get("WALSTREAM_SOAK_KILLS", "6"))

POINTS = {  # fault point -> which hit to fail at (so some flushes succeed before)
    "after_decode": 25,
    "after_encode": 2,
    "after_upload": 2,
    "after_manifest": 2,
    "after_checkpoint": 2,
}


def run_args(db: PgDatabase, dest: str, until: int) -> list[str]:
    return ["run", "--dsn", db.dsn, "--dest", dest, "--flush-rows", "25",
            "--flush-interval", "0.3", "--status-interval", "0.3",
            "--until-lsn", format_lsn(until)]  # fmt: skip


@pytest.mark.parametrize("action", ["kill", "raise"])
@pytest.mark.parametrize("point", sorted(POINTS))
def test_crash_at_every_fault_point_then_restart_keeps_final_equal_to_source(
    db: PgDatabase, tmp_path: Path, point: str, action: str
) -> None:
    setup_source(db)
    # a stable seed per case (hash() of a str changes from process to process)
    Workload(seed=zlib.crc32(f"{point}-{action}".encode()) & 0xFFFF).run(db, transactions=40)
    until = parse_lsn(db.current_lsn())
    dest = f"file://{tmp_path}/dest"

    crashed = walstream(
        *run_args(db, dest, until), env={"WALSTREAM_FAULTS": f"{point}={action}@{POINTS[point]}"}
    )
    assert crashed.returncode == (KILL_EXIT_CODE if action == "kill" else 1), crashed.stderr
    assert f"fault point {point} reached" in crashed.stderr

    restarted = walstream(*run_args(db, dest, until))
    assert restarted.returncode == 0, restarted.stderr
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        assert_final_equals_source(db, wh, [dest])


def test_crash_in_the_middle_of_a_multipart_upload(
    db: PgDatabase, s3_dest: str, tmp_path: Path
) -> None:
    setup_source(db)
    workload = Workload(seed=77)
    workload.run(db, transactions=30)
    with db.connect() as conn:  # ~12 MB in one flush: a multipart upload of 3 parts
        for i in range(1200):
            conn.execute(
                "INSERT INTO lines VALUES (%s, 1, 'sku', 1, %s)",
                (100000 + i, os.urandom(5000).hex()),
            )
    until = parse_lsn(db.current_lsn())
    args = [*run_args(db, s3_dest, until), "--flush-rows", "100000", "--s3-multipart-threshold",
            "5MB"]  # fmt: skip
    crashed = walstream(*args, env={"WALSTREAM_FAULTS": "sink.mid_multipart=kill"})
    assert crashed.returncode == KILL_EXIT_CODE, crashed.stderr
    restarted = walstream(*args)
    assert restarted.returncode == 0, restarted.stderr
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(s3_dest)
        assert_final_equals_source(db, wh, [s3_dest])


def test_soak_sigkill_at_random_moments_during_a_long_workload(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db)
    dest = f"file://{tmp_path}/dest"
    rng = random.Random(2026)
    workload = Workload(seed=2026)
    stop = threading.Event()
    writer_errors: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set():
                workload.run(db, transactions=5)
        except BaseException as exc:
            writer_errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    kills = 0
    try:
        for _ in range(SOAK_KILLS):
            proc = subprocess.Popen(
                [sys.executable, "-m", "walstream", "run", "--dsn", db.dsn, "--dest", dest,
                 "--flush-rows", "30", "--flush-interval", "0.2", "--status-interval", "0.2"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            # the kill moment is the random variable under test, not a synchronisation
            time.sleep(rng.uniform(1.0, 3.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            kills += 1
    finally:
        stop.set()
        writer.join(120)
    assert not writer_errors, writer_errors
    until = parse_lsn(db.current_lsn())
    final = walstream(*run_args(db, dest, until))
    assert final.returncode == 0, final.stderr
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        assert_final_equals_source(db, wh, [dest])
        rows = sum(
            wh.conn.execute(f'SELECT count(*) FROM public."{t}"').fetchone()[0]  # type: ignore[index]
            for t in ("accounts", "lines", "Mixed Case")
        )
    changes = sum(pq.read_metadata(f).num_rows for f in Path(tmp_path / "dest").rglob("*.parquet"))
    print(
        f"soak: {kills} SIGKILLs during the workload, {changes} change rows in files, "
        f"{rows} FINAL rows compared, 0 lost"
    )
    assert kills == SOAK_KILLS
