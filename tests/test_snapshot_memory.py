"""A table much larger than the memory budget loads with bounded memory.

The snapshot runs in a child process (the way users run it) that reports its own peak RSS
(``resource.getrusage``); a child loading 2000 rows of the same shape gives the baseline
(Python, pyarrow, psycopg and the code paths' first use). What the load adds above that must
stay near the budget, far below the table's size, and not grow with the table: rows stream
through blocks and row groups, never a whole table.
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
    "from walstream.commands.snapshot import snapshot\n"
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
    db.execute("CREATE TABLE big (id int PRIMARY KEY, payload text, n int8)")
    # 400k rows of 256 hex characters (compress about 2:1): ~116 MB of heap, 7x the budget
    db.execute(
        "INSERT INTO big SELECT g, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) "
        "|| md5((g + 3)::text) || md5((g + 4)::text) || md5((g + 5)::text) "
        "|| md5((g + 6)::text) || md5((g + 7)::text), g FROM generate_series(1, 400000) g"
    )
    db.execute(
        """
        CREATE TABLE quarter (LIKE big INCLUDING ALL);
        INSERT INTO quarter SELECT * FROM big WHERE id <= 100000;
        CREATE TABLE small (LIKE big INCLUDING ALL);
        INSERT INTO small SELECT * FROM big WHERE id <= 2000;
        CREATE PUBLICATION walstream FOR TABLE big, quarter, small;
        """
    )
    db.create_slot()
    table_mb = int(str(db.execute("SELECT pg_relation_size('big')")[0][0])) / MB

    # the same code paths on 2000 rows: the interpreter, libraries and their first use
    baseline = peak_rss_mb(db, f"file://{tmp_path}/small", "public.small")
    quarter = peak_rss_mb(db, f"file://{tmp_path}/quarter", "public.quarter") - baseline
    growth = peak_rss_mb(db, f"file://{tmp_path}/big", "public.big") - baseline
    figures = (
        f"table {table_mb:.0f} MB, budget {BUDGET_MB} MB, 2 workers: baseline {baseline:.0f} MB, "
        f"growth {growth:.0f} MB (a quarter of the table: {quarter:.0f} MB)"
    )
    record_property("snapshot_rss", figures)
    print(f"\nsnapshot RSS: {figures}")
    assert table_mb > 6 * BUDGET_MB
    # measured ~36 MB: the budget plus per-worker working memory of the encoders and allocators
    assert growth < BUDGET_MB + 48, figures
    assert growth < table_mb / 2, figures
    # and it does not grow with the table: 4x the rows (+87 MB of heap) adds little (measured
    # 2-13 MB: allocator noise)
    assert growth - quarter < 32, figures
