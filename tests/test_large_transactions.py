"""Large transactions: streamed in chunks before commit, spilled to disk, cut across files.

The walsender is told to stream any transaction over 64 kB (``logical_decoding_work_mem``), so a
few thousand rows exercise exactly what a multi-GB transaction does in production: Stream
Start/Stop chunks interleaved with other transactions, Stream Commit, Stream Abort of the whole
transaction or of a subtransaction, and flushes that cut one transaction into several files.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from tests.changes import change_files, read_table
from tests.cli_run import walstream
from tests.conftest import PgDatabase
from tests.streaming import run_to_current
from walstream.faults import KILL_EXIT_CODE
from walstream.lsn import format_lsn, parse_lsn
from walstream.pipeline.runner import Runner

SPLIT_RE = re.compile(r"\.(\d+)_(\d+)(?:-[a-z0-9_]+)?\.parquet$")


def setup(db: PgDatabase) -> None:
    db.execute(
        "CREATE TABLE big (id int PRIMARY KEY, payload text);"
        "CREATE TABLE small (id int PRIMARY KEY, note text);"
        "CREATE PUBLICATION walstream FOR TABLE big, small;"
    )
    db.create_slot()


def stream(db: PgDatabase, dest: str, tmp_path: Path, **overrides: object) -> Runner:
    """Small flushes and a 64 kB decoding budget, so a few thousand rows stream and get cut."""
    settings: dict[str, object] = {
        "flush_rows": 1500,
        "decoding_work_mem": "64kB",
        "spill_dir": str(tmp_path / "spill"),
    }
    return run_to_current(db, dest, **{**settings, **overrides})


def big_transaction(db: PgDatabase, rows: int = 6000, *, abort: bool = False) -> None:
    with db.connect() as conn:
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, %s) g",
            (rows,),
        )
        # other transactions commit while this one is being streamed
        with db.connect() as other:
            other.execute("INSERT INTO small VALUES (1, 'committed meanwhile')")
        conn.execute("UPDATE big SET payload = 'updated' WHERE id % 1000 = 0")
        conn.execute("ROLLBACK" if abort else "COMMIT")


def test_streamed_transaction_is_spilled_then_written_in_cut_files(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup(db)
    big_transaction(db)
    dest = f"file://{tmp_path}/dest"
    runner = stream(db, dest, tmp_path)
    rows = read_table(dest, "public.big")
    assert sum(1 for r in rows if r["Op"] == "I") == 6000
    assert sum(1 for r in rows if r["Op"] == "U") == 6
    assert len({r["_walstream_lsn"] for r in rows}) == 1  # one transaction
    assert [r["_walstream_seq"] for r in rows] == list(range(6006))
    keys = change_files(dest)["public.big"]
    assert len(keys) >= 4, keys  # 6006 rows with flush_rows=1500: cut into pieces
    ranges = sorted((int(m[1]), int(m[2])) for k in keys if (m := SPLIT_RE.search(k)))
    assert len(ranges) == len(keys)
    assert ranges[0][0] == 0 and ranges[-1][1] == 6005
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    assert read_table(dest, "public.small")[0]["note"] == "committed meanwhile"
    # the small transaction committed before the big one: it sorts first
    assert read_table(dest, "public.small")[0]["_walstream_lsn"] < rows[0]["_walstream_lsn"]
    assert not list((tmp_path / "spill").rglob("*.spill"))
    assert runner.acked_lsn >= (runner.cfg.until_lsn or 0)


def test_aborted_streamed_transaction_writes_nothing(db: PgDatabase, tmp_path: Path) -> None:
    setup(db)
    big_transaction(db, abort=True)
    dest = f"file://{tmp_path}/dest"
    stream(db, dest, tmp_path)
    assert "public.big" not in change_files(dest)
    assert [r["id"] for r in read_table(dest, "public.small")] == [1]
    assert not list((tmp_path / "spill").rglob("*.spill"))


def test_rolled_back_subtransactions_are_skipped(db: PgDatabase, tmp_path: Path) -> None:
    setup(db)
    with db.connect() as conn:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g")
        conn.execute("SAVEPOINT a")
        conn.execute("INSERT INTO big SELECT g, 'gone' FROM generate_series(3001, 6000) g")
        conn.execute("SAVEPOINT b")
        conn.execute("INSERT INTO big VALUES (7000, 'gone too')")
        conn.execute("RELEASE b")
        conn.execute("ROLLBACK TO a")
        conn.execute("SAVEPOINT c")
        conn.execute("INSERT INTO big SELECT g, 'kept' FROM generate_series(8001, 9000) g")
        conn.execute("RELEASE c")
        conn.execute("COMMIT")
    dest = f"file://{tmp_path}/dest"
    stream(db, dest, tmp_path)
    ids = {r["id"] for r in read_table(dest, "public.big")}
    assert ids == set(range(1, 3001)) | set(range(8001, 9001))


def test_large_transaction_without_streaming_is_cut_across_files(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup(db)
    big_transaction(db)
    dest = f"file://{tmp_path}/dest"
    stream(db, dest, tmp_path, streaming="off")
    rows = read_table(dest, "public.big")
    assert [r["_walstream_seq"] for r in rows] == list(range(6006))
    assert len(change_files(dest)["public.big"]) >= 4


@pytest.mark.parametrize("fault", ["after_upload=kill@2", "after_encode=kill@3"])
def test_crash_between_pieces_of_a_cut_transaction_redelivers_it_whole(
    db: PgDatabase, tmp_path: Path, fault: str
) -> None:
    setup(db)
    before = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    big_transaction(db)
    until = format_lsn(parse_lsn(db.current_lsn()))
    dest = f"file://{tmp_path}/dest"
    args = ["run", "--dsn", db.dsn, "--dest", dest, "--flush-rows", "1500",
            "--flush-interval", "0.5", "--status-interval", "0.5", "--until-lsn", until,
            "--spill-dir", str(tmp_path / "spill")]  # fmt: skip
    env = {"WALSTREAM_DECODING_WORK_MEM": "64kB"}
    proc = walstream(*args, env={**env, "WALSTREAM_FAULTS": fault})
    assert proc.returncode == KILL_EXIT_CODE, proc.stderr
    # pieces may be stored, but the transaction is not acknowledged until all of it is
    confirmed = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    assert before <= confirmed < parse_lsn(until)
    proc = walstream(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = read_table(dest, "public.big")  # repeats of a position must be identical
    assert [r["_walstream_seq"] for r in rows] == list(range(6006))


def test_two_million_change_transaction_stays_under_the_memory_budget(
    db: PgDatabase, tmp_path: Path
) -> None:
    """Peak RSS of ``walstream run`` for one 2M-change transaction, with a 256 MB budget.

    Memory is about 130 MB of code (pyarrow, boto3, psycopg) plus the batch being filled and
    the flushes in flight, each at most ``--flush-bytes`` (16 MB here): the budget holds
    however large the transaction, because it is cut across files instead of held whole.
    """
    import subprocess
    import sys

    rows = 2_000_000
    setup(db)
    db.execute("INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, %s) g", (rows,))
    until = db.current_lsn()
    dest = f"file://{tmp_path}/dest"
    code = (
        "import runpy, sys\n"
        "sys.argv = ['walstream'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('walstream', run_name='__main__')\n"
        "finally:\n"
        # VmHWM, not ru_maxrss: Linux carries the parent's (pytest's) high-water mark into
        # ru_maxrss across fork and exec, VmHWM belongs to this process's memory alone
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "    print(f'peak_rss_kb={hwm.split()[1]}', file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "--log-format", "text", "run", "--dsn", db.dsn, "--dest", dest,
         "--until-lsn", until, "--flush-interval", "5", "--flush-bytes", "16MB",
         "--decoding-work-mem", "64MB", "--spill-dir", str(tmp_path / "spill")],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak_kb = int(proc.stderr.rsplit("peak_rss_kb=", 1)[1].split()[0])
    print(f"2M-change transaction: peak RSS {peak_kb / 1024:.0f} MB")
    assert peak_kb < 256 * 1024, (
        f"peak RSS {peak_kb / 1024:.0f} MB over the 256 MB budget; log tail:\n"
        + "\n".join(proc.stderr.splitlines()[-40:])
    )
    stored = read_table(dest, "public.big")
    assert len(stored) == rows
    assert stored[0]["id"] == 1 and stored[-1]["payload"] == f"row {rows}"
    assert [r["_walstream_seq"] for r in stored[:3]] == [0, 1, 2]
