"""Schema changes in the middle of the stream: files follow the source, FINAL follows the files.

Each DDL below happens between (and inside) transactions that keep writing. The batches are cut
at the change, the new files carry the new columns, and the local warehouse, loading the files
in order, ends with FINAL equal to the source: added columns present (NULL before they existed),
dropped columns gone from the new files, a type change carried, a renamed column under its new
name, a table added to the publication streamed from its first change, a dropped table's files
complete up to its drop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.changes import change_files, read_table
from tests.conftest import PgDatabase
from tests.streaming import run_to_current
from walstream.warehouse import LocalWarehouse


def final(wh: LocalWarehouse, table: str) -> list[dict[str, Any]]:
    cur = wh.conn.execute(
        "SELECT * EXCLUDE (_walstream_lsn, _walstream_seq, _walstream_commit_ts, "
        f'_walstream_lossy) FROM public."{table}" ORDER BY 1'
    )
    assert cur.description is not None
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def source(db: PgDatabase, table: str) -> list[dict[str, Any]]:
    with db.connect() as conn:
        cur = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1')
        assert cur.description is not None
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_add_drop_alter_rename_columns_and_tables_mid_stream(
    db: PgDatabase, tmp_path: Path
) -> None:
    db.execute(
        "CREATE TABLE items (id int PRIMARY KEY, name text, qty int, obsolete text);"
        "CREATE TABLE doomed (id int PRIMARY KEY, v text);"
        "CREATE PUBLICATION walstream FOR TABLE items, doomed;"
    )
    db.create_slot()
    dest = f"file://{tmp_path}/dest"
    with db.connect() as conn:
        conn.execute("INSERT INTO items VALUES (1, 'a', 1, 'x'), (2, 'b', 2, 'y')")
        conn.execute("INSERT INTO doomed VALUES (1, 'bye')")
        conn.execute("ALTER TABLE items ADD COLUMN price numeric(10,2)")
        conn.execute("INSERT INTO items VALUES (3, 'c', 3, 'z', 9.99)")
        conn.execute("UPDATE items SET price = 1.50 WHERE id = 1")
        with conn.transaction():  # DDL inside a transaction that also writes
            conn.execute("UPDATE items SET qty = 10 WHERE id = 2")
            conn.execute("ALTER TABLE items DROP COLUMN obsolete")
            conn.execute("UPDATE items SET qty = 20 WHERE id = 3")
        conn.execute("ALTER TABLE items ALTER COLUMN qty TYPE bigint")
        conn.execute("INSERT INTO items VALUES (4, 'd', 5000000000, 2.00)")
        conn.execute("ALTER TABLE items RENAME COLUMN name TO title")
        conn.execute("UPDATE items SET title = 'renamed' WHERE id = 1")
        conn.execute("CREATE TABLE newcomer (id int PRIMARY KEY, v text)")
        conn.execute("ALTER PUBLICATION walstream ADD TABLE newcomer")
        conn.execute("INSERT INTO newcomer VALUES (1, 'hello')")
        conn.execute("INSERT INTO doomed VALUES (2, 'last words')")
        conn.execute("DROP TABLE doomed")
        conn.execute("DELETE FROM items WHERE id = 4")
    run_to_current(db, dest, flush_rows=4)

    files = change_files(dest)
    assert set(files) == {"public.items", "public.doomed", "public.newcomer"}
    items = read_table(dest, "public.items")
    shapes = {tuple(k for k in r if not k.startswith("_walstream") and k != "Op") for r in items}
    assert ("id", "name", "qty", "obsolete") in shapes
    assert ("id", "title", "qty", "price") in shapes  # renamed, dropped, added
    assert [r["id"] for r in read_table(dest, "public.doomed")] == [1, 2]
    assert read_table(dest, "public.newcomer")[0]["v"] == "hello"

    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(dest)
        assert final(wh, "newcomer") == source(db, "newcomer")
        assert final(wh, "items") == source(db, "items")
