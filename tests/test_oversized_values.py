"""Values over --max-value-size (PostgreSQL allows 1 GB; Snowflake loads at most 128 MB).

``fail`` (the default) stops with one actionable line and exit 5 before anything of the
transaction is acknowledged; ``null`` writes NULL for that value only, logs it, and goes on.
Tested with a 2 MB value against a 1 MB cap: the same code path as 1 GB against 128 MB, at a
size CI can afford.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.changes import read_table
from tests.cli_run import walstream
from tests.conftest import PgDatabase
from tests.streaming import run_to_current
from tests.test_errors import assert_clean_failure, run_args
from walstream.lsn import parse_lsn

MB = 1024 * 1024


def _setup(db: PgDatabase) -> tuple[str, str]:
    """Two transactions, the second with a 2 MB value; returns it and the LSN between them."""
    db.execute("CREATE TABLE docs (id int PRIMARY KEY, body text, note text)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE docs")
    db.create_slot()
    db.execute("INSERT INTO docs VALUES (1, 'small', 'first')")
    between = db.current_lsn()
    big = os.urandom(MB).hex()  # 2 MB of text
    db.execute("INSERT INTO docs VALUES (2, %s, 'second')", (big,))
    return big, between


def test_a_value_over_the_cap_stops_the_run_and_acknowledges_nothing_of_it(
    db: PgDatabase, tmp_path: Path
) -> None:
    _, between = _setup(db)
    args = run_args(db.dsn, f"file://{tmp_path}/dest", "--max-value-size", "1MB")
    args[args.index("--until-lsn") + 1] = db.current_lsn()
    proc = walstream(*args)
    assert_clean_failure(proc, 5, "public.docs.body", "--max-value-size", "--oversized-values")
    # the first transaction may be stored, never the one with the big value
    assert 2 not in [r["id"] for r in read_table(f"file://{tmp_path}/dest", "public.docs")]
    assert parse_lsn(db.confirmed_flush_lsn("sf_sync")) <= parse_lsn(between)


def test_null_policy_writes_null_for_that_value_only_and_logs_it(
    db: PgDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _setup(db)
    dest = f"file://{tmp_path}/dest"
    with caplog.at_level(logging.WARNING, logger="walstream.run"):
        run_to_current(db, dest, max_value_size=MB, oversized_values="null")
    rows = {r["id"]: r for r in read_table(dest, "public.docs")}
    assert rows[1]["body"] == "small"
    assert rows[2]["body"] is None and rows[2]["note"] == "second"
    nulled = [r.getMessage() for r in caplog.records if "event=value_nulled" in r.getMessage()]
    assert len(nulled) == 1 and "column=public.docs.body" in nulled[0]
    assert f"bytes={2 * MB}" in nulled[0]


def test_values_under_the_cap_take_the_ordinary_path(db: PgDatabase, tmp_path: Path) -> None:
    big, _ = _setup(db)
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, max_value_size=4 * MB)
    rows = {r["id"]: r for r in read_table(dest, "public.docs")}
    assert rows[2]["body"] == big
