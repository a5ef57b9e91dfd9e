"""Hostile and unusual sources: odd identifiers, every replica identity, partitions, generated
columns, huge values, non-UTF-8 bytes. Each either streams exactly or stops with a clear error.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.changes import apply_changes, change_files, read_table
from tests.conftest import PgDatabase
from tests.streaming import run_to_current
from walstream.pg.replication import StreamRefused

LONG = "t" * 63  # PostgreSQL's longest identifier


@pytest.mark.parametrize("binary", ["on", "off"])
def test_odd_identifiers_stream_with_names_intact(
    db: PgDatabase, tmp_path: Path, binary: str
) -> None:
    db.execute('CREATE SCHEMA "Odd Schema"')
    db.execute(
        'CREATE TABLE "Odd Schema"."we""ird tåble 🎉" '
        '("Key Col" int PRIMARY KEY, "select" text, "naïve ""quoted"" col" int)'
    )
    db.execute(f'CREATE TABLE "{LONG}" (id int PRIMARY KEY, "{LONG}" text)')
    db.execute('CREATE TABLE "a/b" (id int PRIMARY KEY)')
    db.execute('CREATE TABLE ".." (id int PRIMARY KEY)')
    db.execute("CREATE PUBLICATION walstream FOR ALL TABLES")
    db.create_slot()
    db.execute('INSERT INTO "Odd Schema"."we""ird tåble 🎉" VALUES (1, \'x\', 2)')
    db.execute(f"INSERT INTO \"{LONG}\" VALUES (1, 'y')")
    db.execute('INSERT INTO "a/b" VALUES (1)')
    db.execute('INSERT INTO ".." VALUES (1)')
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, binary=binary)
    files = change_files(dest)
    assert set(files) == {'Odd Schema.we"ird tåble 🎉', f"public.{LONG}", "public.a%2Fb",
                          "public.%2E%2E"}  # fmt: skip
    rows = read_table(dest, 'Odd Schema.we"ird tåble 🎉')
    assert rows[0]["Key Col"] == 1 and rows[0]["select"] == "x"
    assert rows[0]['naïve "quoted" col'] == 2
    assert read_table(dest, f"public.{LONG}")[0][LONG] == "y"
    assert (tmp_path / "dest" / "public" / "%2E%2E").is_dir()  # never walks out of the layout


def test_every_replica_identity(db: PgDatabase, tmp_path: Path) -> None:
    db.execute(
        """
        CREATE TABLE ri_default (id int PRIMARY KEY, v text);
        CREATE TABLE ri_full (id int PRIMARY KEY, v text);
        ALTER TABLE ri_full REPLICA IDENTITY FULL;
        CREATE TABLE ri_index (code text NOT NULL, v text);
        CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
        ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
        CREATE TABLE ri_nothing (v text);
        ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
        CREATE PUBLICATION walstream FOR ALL TABLES;
        """
    )
    db.create_slot()
    with db.connect() as conn:
        for table in ("ri_default", "ri_full"):
            conn.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
            conn.execute(f"UPDATE {table} SET v = 'a2' WHERE id = 1")
            conn.execute(f"UPDATE {table} SET id = 30 WHERE id = 3")
            conn.execute(f"DELETE FROM {table} WHERE id = 2")
        conn.execute("INSERT INTO ri_index VALUES ('x', '1'), ('y', '2')")
        conn.execute("UPDATE ri_index SET code = 'z' WHERE code = 'x'")
        conn.execute("DELETE FROM ri_index WHERE code = 'y'")
        conn.execute("INSERT INTO ri_nothing VALUES ('only inserts')")
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            conn.execute("DELETE FROM ri_nothing")  # PostgreSQL itself refuses
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest)
    for table in ("ri_default", "ri_full"):
        rows = read_table(dest, f"public.{table}")
        state = apply_changes(rows, ["id"])
        assert {k[0]: v["v"] for k, v in state.items()} == {1: "a2", 30: "c"}, table
        deletes = [r for r in rows if r["Op"] == "D"]
        # FULL sends the whole old row with a delete, DEFAULT only the key
        expected_v = {"ri_full": {"c", "b"}, "ri_default": {None}}[table]
        assert {r["v"] for r in deletes} == expected_v
    index_rows = read_table(dest, "public.ri_index")
    assert [r["Op"] for r in index_rows] == ["I", "I", "D", "U", "D"]
    assert apply_changes(index_rows, ["code"]) == {("z",): {"code": "z", "v": "1"}}
    assert [r["v"] for r in read_table(dest, "public.ri_nothing")] == ["only inserts"]


@pytest.mark.parametrize("via_root", [True, False])
def test_partitioned_tables(db: PgDatabase, tmp_path: Path, via_root: bool) -> None:
    db.execute(
        "CREATE TABLE parted (id int, region text, PRIMARY KEY (id, region)) "
        "PARTITION BY LIST (region);"
        "CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');"
        "CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');"
    )
    db.execute(
        "CREATE PUBLICATION walstream FOR TABLE parted "
        f"WITH (publish_via_partition_root = {str(via_root).lower()})"
    )
    db.create_slot()
    db.execute("INSERT INTO parted VALUES (1, 'eu'), (2, 'us'), (3, 'eu')")
    db.execute("UPDATE parted SET region = 'us' WHERE id = 1")  # moves across partitions
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest)
    files = change_files(dest)
    if via_root:
        assert set(files) == {"public.parted"}
        state = apply_changes(read_table(dest, "public.parted"), ["id", "region"])
        assert sorted(state) == [(1, "us"), (2, "us"), (3, "eu")]
    else:
        assert set(files) == {"public.parted_eu", "public.parted_us"}
        us = apply_changes(read_table(dest, "public.parted_us"), ["id", "region"])
        eu = apply_changes(read_table(dest, "public.parted_eu"), ["id", "region"])
        assert sorted(us) == [(1, "us"), (2, "us")] and sorted(eu) == [(3, "eu")]


@pytest.mark.parametrize("publish_generated", [False, True])
def test_generated_columns(db: PgDatabase, tmp_path: Path, publish_generated: bool) -> None:
    db.execute(
        "CREATE TABLE g (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED)"
    )
    option = " WITH (publish_generated_columns = stored)" if publish_generated else ""
    db.execute(f"CREATE PUBLICATION walstream FOR TABLE g{option}")
    db.create_slot()
    db.execute("INSERT INTO g (id, a) VALUES (1, 21)")
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest)
    row = read_table(dest, "public.g")[0]
    if publish_generated:
        assert row["doubled"] == 42
    else:
        assert "doubled" not in row and row["a"] == 21


@pytest.mark.parametrize("binary", ["on", "off"])
def test_huge_values_roundtrip(db: PgDatabase, tmp_path: Path, binary: str) -> None:
    db.execute("CREATE TABLE blobs (id int PRIMARY KEY, t text, b bytea)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE blobs")
    db.create_slot()
    text = os.urandom(12 * 1024 * 1024).hex()  # 24 MB of text, stored out of line
    blob = os.urandom(16 * 1024 * 1024)
    db.execute("INSERT INTO blobs VALUES (1, %s, %s)", (text, blob))
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, binary=binary, flush_bytes=8 * 1024 * 1024)
    row = read_table(dest, "public.blobs")[0]
    assert row["t"] == text and row["b"] == blob


def test_invalid_utf8_in_sql_ascii_database_stops_with_a_clear_error(
    db: PgDatabase, tmp_path: Path
) -> None:
    name = f"{db.name}_ascii"
    with psycopg.connect(db.server.admin_dsn, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' TEMPLATE template0 "
            "LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    ascii_db = PgDatabase(db.server, name, db.server.dsn(name))
    try:
        ascii_db.execute("CREATE TABLE latin (id int PRIMARY KEY, t text)")
        ascii_db.execute("CREATE PUBLICATION walstream FOR TABLE latin")
        ascii_db.create_slot()
        before = ascii_db.confirmed_flush_lsn("sf_sync")
        with ascii_db.connect() as conn:
            conn.execute("SET client_encoding = 'SQL_ASCII'")
            conn.execute("INSERT INTO latin VALUES (1, 'caf' || chr(233))")
        with pytest.raises(StreamRefused, match="not valid UTF-8"):
            run_to_current(ascii_db, f"file://{tmp_path}/dest", binary="off")
        assert ascii_db.confirmed_flush_lsn("sf_sync") == before  # nothing unstored acked
    finally:
        with psycopg.connect(db.server.admin_dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE database = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
