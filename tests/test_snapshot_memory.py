"""A table much larger than the memory budget loads with bounded memory.

The snapshot runs in a child process (the way users run it) that reports its own peak RSS
(``resource.getrusage``); a child loading a one-row table gives the interpreter's baseline
(Python, pyarrow, psycopg). What the load adds above that must stay near the budget and far
below the table's size: rows stream through blocks and row groups, never a whole table.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PgDatabase

MB = 1024 * 1024
BUDGET_MB = 16

CHILD = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "'maxrss_kb=%d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "from walstream.cli import cli, main\n"
    "from walstream.snapshot.commands import snapshot\n"
    "main.add_command(snapshot)\n"
    "sys.argv[0] = 'walstream'\n"
    "cli()\n"
)


def peak_rss_mb(db: PgDatabase, dest: str, table: str) -> float:
    args = [
        "snapshot", "--dsn", db.dsn, "--dest", dest, "--table", table, "--workers", "2",
        "--memory-budget", f"{BUDGET_MB}MB", "--json",
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "WALSTREAM_LOG_FORMAT": "json"},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"maxrss_kb=(\d+)", proc.stderr)
    assert match, proc.stderr
    return int(match.group(1)) / 1024


def test_table_larger_than_the_memory_budget_loads_with_bounded_rss(
    db: PgDatabase, tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    db.execute(
        """
        CREATE TABLE big (id int PRIMARY KEY, payload text, n int8);
        CREATE TABLE tiny (id int PRIMARY KEY);
        INSERT INTO tiny VALUES (1);
        CREATE PUBLICATION walstream FOR TABLE big, tiny;
        """
    )
    # 400k rows of 256 hex characters (compress about 2:1): ~116 MB of heap, 7x the budget
    db.execute(
        "INSERT INTO big SELECT g, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) "
        "|| md5((g + 3)::text) || md5((g + 4)::text) || md5((g + 5)::text) "
        "|| md5((g + 6)::text) || md5((g + 7)::text), g FROM generate_series(1, 400000) g"
    )
    db.create_slot()
    table_mb = int(str(db.execute("SELECT pg_relation_size('big')")[0][0])) / MB

    baseline = peak_rss_mb(db, f"file://{tmp_path}/tiny", "public.tiny")
    peak = peak_rss_mb(db, f"file://{tmp_path}/big", "public.big")
    growth = peak - baseline
    record_property("snapshot_rss", f"table={table_mb:.0f}MB baseline={baseline:.0f}MB "
                    f"peak={peak:.0f}MB growth={growth:.0f}MB budget={BUDGET_MB}MB")  # fmt: skip
    print(
        f"\nsnapshot RSS: table {table_mb:.0f} MB, budget {BUDGET_MB} MB, baseline "
        f"{baseline:.0f} MB, peak {peak:.0f} MB, growth {growth:.0f} MB"
    )
    assert table_mb > 6 * BUDGET_MB
    # measured ~40 MB: the budget plus the allocators' and zstd's own working memory
    assert growth < BUDGET_MB + 48, f"peak RSS grew by {growth:.0f} MB"
    assert growth < table_mb / 2
