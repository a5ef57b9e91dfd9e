"""``walstream verify``: source vs FINAL in the local DuckDB warehouse.

The pipeline runs for real (PostgreSQL -> walstream run -> file:// -> warehouse load), then
verify must pass on the clean result and find each injected difference: a changed value, a
missing row, an extra row, with the first differing key ranges.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import duckdb
import psycopg
import pytest
from click.testing import CliRunner

from tests.conftest import PgDatabase, PgServer
from tests.streaming import run_to_current
from tests.test_types_e2e import ROWS, load_zoo
from walstream.commands.config import config_option
from walstream.commands.ops import COMMANDS
from walstream.lsn import parse_lsn
from walstream.verify import BEHIND, DIFFERS, MATCH, SKIPPED, VerifyOptions, verify
from walstream.warehouse import LocalWarehouse


def stream(db: PgDatabase, dest: str) -> None:
    run_to_current(db, dest, flush_interval=0.1, status_interval=0.2)


@pytest.fixture
def pipeline(db: PgDatabase, tmp_path: Path) -> tuple[PgDatabase, str, str]:
    """Two tables (one with many types and a composite key) streamed and loaded into FINAL."""
    db.execute(
        """
        CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), tags text[],
                            doc jsonb, seen timestamptz, raw bytea, score float8);
        CREATE TABLE lines (order_id int, line int, qty int, PRIMARY KEY (order_id, line));
        CREATE TABLE nokey (v text);
        CREATE PUBLICATION walstream FOR TABLE items, lines, nokey;
        """
    )
    db.create_slot()
    db.execute(
        """
        INSERT INTO items SELECT g, 'item ' || g, g * 1.25, ARRAY['a', 'b' || g],
               jsonb_build_object('k', g, 'nested', jsonb_build_array(1, 2)),
               '2026-01-02 03:04:05.123456+00'::timestamptz + g * interval '1 minute',
               decode(lpad(to_hex(g), 4, '0'), 'hex'), g / 3.0
        FROM generate_series(1, 250) g;
        INSERT INTO lines SELECT g / 10, g % 10, g FROM generate_series(1, 120) g;
        INSERT INTO nokey VALUES ('x');
        UPDATE items SET name = NULL, tags = '{}' WHERE id % 7 = 0;
        DELETE FROM items WHERE id % 11 = 0;
        UPDATE lines SET line = line + 100 WHERE order_id = 3;
        """
    )
    dest = f"file://{tmp_path}/dest"
    stream(db, dest)
    warehouse = str(tmp_path / "wh.duckdb")
    with LocalWarehouse(warehouse) as wh:
        wh.load(dest)
    return db, dest, warehouse


def options(**kw: object) -> VerifyOptions:
    base: dict[str, object] = {"publication": "walstream", "slot": "sf_sync", "chunk_rows": 50}
    base.update(kw)
    return VerifyOptions(**base)  # type: ignore[arg-type]


def test_clean_pipeline_verifies_as_a_match(pipeline: tuple[PgDatabase, str, str]) -> None:
    db, dest, warehouse = pipeline
    report = verify(db.dsn, warehouse, options(), dest=dest)
    assert report.status == MATCH and report.exit_code == 0, report.as_dict()
    tables = {t.table: t for t in report.tables}
    items, lines = tables["public.items"], tables["public.lines"]
    assert items.status == MATCH and items.source_rows == items.final_rows == 250 - 22
    assert items.ranges == 5 and items.differing_ranges == 0
    assert lines.status == MATCH and lines.key == ["order_id", "line"]
    assert lines.source_rows == 120
    assert tables["public.nokey"].status == SKIPPED
    # caught up: either the slot confirmed the snapshot position, or (a stopped consumer on a
    # cluster whose other databases keep writing) no change of the publication is pending
    confirmed = parse_lsn(report.confirmed_flush_lsn or "0/0")
    assert confirmed >= parse_lsn(report.snapshot_lsn) or report.pending_changes == 0


def test_injected_differences_are_found_with_their_key_ranges(
    pipeline: tuple[PgDatabase, str, str],
) -> None:
    db, dest, warehouse = pipeline
    with duckdb.connect(warehouse) as wh:
        wh.execute("UPDATE public.items SET price = price + 0.01 WHERE id = 120")  # changed
        wh.execute("DELETE FROM public.items WHERE id = 201")  # missing
        wh.execute(
            "INSERT INTO public.items (id, name, _walstream_lsn, _walstream_seq) "
            "VALUES (100000, 'ghost', 1, 0)"
        )  # extra
        wh.execute("DELETE FROM public.lines WHERE order_id = 3 AND line = 105")  # missing
    report = verify(db.dsn, warehouse, options(), dest=dest)
    assert report.status == DIFFERS and report.exit_code == 1
    items = next(t for t in report.tables if t.table == "public.items")
    assert (items.changed, items.missing, items.extra) == (1, 1, 1)
    assert items.differing_ranges == 3 and items.in_flux == 0
    diffs = [d for r in items.first_differences for d in r.differences]
    assert [(d.kind, d.key) for d in diffs] == [
        ("changed", [120]),
        ("missing", [201]),
        ("extra", [100000]),
    ]
    changed, missing, extra = diffs
    # the values, not just the key: the one differing column on both sides, the whole row of
    # a missing or an extra key on the side that has it
    assert changed.values == {"price": {"source": "150.00", "final": "150.01"}}
    assert missing.values["name"] == {"source": "item 201"}
    assert extra.values["name"] == {"final": "ghost"}
    assert "price '150.00' -> '150.01'" in changed.describe()
    first = items.first_differences[0]
    assert first.first_key[0] <= 120 <= first.last_key[0]
    assert first.source_checksum != first.final_checksum
    lines = next(t for t in report.tables if t.table == "public.lines")
    assert lines.missing == 1
    assert lines.first_differences[0].differences[0].key == [3, 105]


def test_rows_final_changed_after_the_snapshot_are_in_flux_not_differences(
    pipeline: tuple[PgDatabase, str, str],
) -> None:
    db, dest, warehouse = pipeline
    with duckdb.connect(warehouse) as wh:  # as if FINAL already holds a later change
        wh.execute(
            "UPDATE public.items SET name = 'later', _walstream_lsn = 9223372036854775000 "
            "WHERE id = 5"
        )
    report = verify(db.dsn, warehouse, options(tables=("public.items",)), dest=dest)
    assert report.status == MATCH
    assert report.tables[0].in_flux == 1 and report.tables[0].changed == 0


def test_unstored_source_changes_make_the_result_inconclusive_not_wrong(
    pipeline: tuple[PgDatabase, str, str], tmp_path: Path
) -> None:
    db, dest, warehouse = pipeline
    db.execute("UPDATE items SET name = 'not streamed yet' WHERE id = 1")
    report = verify(db.dsn, warehouse, options(wait_seconds=0.0), dest=dest)
    assert report.status == BEHIND and report.exit_code == 2 and not report.tables
    assert report.pending_changes == 1 and "has not stored everything" in report.note
    stream(db, dest)  # the consumer catches up; the new file is not loaded yet
    report = verify(db.dsn, warehouse, options(), dest=dest)
    assert report.status == BEHIND and report.unloaded_files == 1
    report = verify(db.dsn, warehouse, options(), dest=dest, load=True)
    assert report.status == MATCH, report.as_dict()


def test_a_stopped_consumer_with_nothing_pending_is_not_behind_on_a_busy_cluster(
    pipeline: tuple[PgDatabase, str, str], pg_server: PgServer
) -> None:
    db, dest, warehouse = pipeline
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:  # another database
        conn.execute("CREATE TABLE IF NOT EXISTS busy_elsewhere (v int)")
        conn.execute("INSERT INTO busy_elsewhere SELECT generate_series(1, 1000)")
        conn.execute("DROP TABLE busy_elsewhere")
    db.execute("CREATE TABLE unpublished (v int); INSERT INTO unpublished VALUES (1)")
    report = verify(db.dsn, warehouse, options(wait_seconds=0.0), dest=dest)
    assert parse_lsn(report.confirmed_flush_lsn or "0/0") < parse_lsn(report.snapshot_lsn)
    assert report.pending_changes == 0 and report.status == MATCH, report.as_dict()


def test_verify_command_json_and_exit_codes(pipeline: tuple[PgDatabase, str, str]) -> None:
    db, dest, warehouse = pipeline

    @click.group()
    @config_option
    def root() -> None:
        pass

    for command in COMMANDS:
        root.add_command(command)
    args = ["verify", "--dsn", db.dsn, "--warehouse", warehouse, "--slot", "sf_sync"]
    result = CliRunner().invoke(root, [*args, "--dest", dest, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == MATCH
    with duckdb.connect(warehouse) as wh:
        wh.execute("DELETE FROM public.lines WHERE order_id = 1")
    result = CliRunner().invoke(root, [*args, "--table", "public.lines"])
    assert result.exit_code == 1
    assert "differs" in result.stdout and "missing [1, 1]" in result.stdout


def test_every_type_of_the_type_zoo_verifies_and_a_changed_value_is_named(
    db: PgDatabase, tmp_path: Path
) -> None:
    """bool, inet, char(n), money, enums, ranges, arrays, infinities...: the source is read as
    its output functions write it (as pgoutput does), so every type matches FINAL, and a
    changed value is reported with both values."""
    load_zoo(db)
    dest = f"file://{tmp_path}/dest"
    stream(db, dest)
    warehouse = str(tmp_path / "wh.duckdb")
    with LocalWarehouse(warehouse) as wh:
        wh.load(dest)
    report = verify(db.dsn, warehouse, options(chunk_rows=2), dest=dest)
    assert report.status == MATCH, report.as_dict()
    (zoo,) = report.tables
    assert (zoo.status, zoo.source_rows, zoo.final_rows) == (MATCH, len(ROWS), len(ROWS))
    with duckdb.connect(warehouse) as wh:
        wh.execute("UPDATE public.zoo SET b = false, ip = '192.168.1.6/24' WHERE id = 1")
    report = verify(db.dsn, warehouse, options(chunk_rows=2), dest=dest)
    (zoo,) = report.tables
    assert (zoo.status, zoo.changed, zoo.missing, zoo.extra) == (DIFFERS, 1, 0, 0)
    (diff,) = [d for r in zoo.first_differences for d in r.differences]
    assert diff.key == [1]
    assert diff.values == {
        "b": {"source": True, "final": False},
        "ip": {"source": "192.168.1.5/24", "final": "192.168.1.6/24"},
    }
