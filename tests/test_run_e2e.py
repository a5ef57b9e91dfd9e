"""End to end: real PostgreSQL -> walstream run -> Parquet on a real S3 API (moto), read back."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.changes import apply_changes, change_files, read_file, read_table
from tests.conftest import PgDatabase
from tests.streaming import BackgroundRunner, run_to_current, wait_for
from walstream.lsn import parse_lsn
from walstream.sink import open_sink

KEY_RE = re.compile(
    r"^public/(\w+)/\d{8}-\d{9}-[0-9A-F]{16}-[0-9A-F]{16}(\.\d+_\d+)?-sf_sync\.parquet$"
)
# the data contract written out here on purpose (DESIGN §2), not taken from walstream.layout:
# a change there must fail this test
META = [
    "_walstream_commit_ts",
    "_walstream_lsn",
    "_walstream_seq",
    "_walstream_xid",
    "_walstream_unchanged",
    "_walstream_lossy",
    "_walstream_key_change",
]


def setup_tables(db: PgDatabase) -> None:
    db.execute(
        """
        CREATE TABLE accounts (id int PRIMARY KEY, name text, amount numeric(10,2), big text);
        CREATE TABLE lines (order_id int, line int, sku text, qty int,
                            PRIMARY KEY (order_id, line));
        CREATE PUBLICATION walstream FOR TABLE accounts, lines;
        """
    )
    db.create_slot()


def test_changes_land_in_dms_layout_with_exact_columns_order_and_counts(
    db: PgDatabase, s3_dest: str
) -> None:
    setup_tables(db)
    with db.connect() as conn:
        with conn.transaction():
            for i in range(1, 6):
                conn.execute(
                    "INSERT INTO accounts VALUES (%s, %s, %s, NULL)", (i, f"n{i}", i * 1.5)
                )
            conn.execute("INSERT INTO lines VALUES (1, 1, 'a', 2), (1, 2, 'b', 3)")
        conn.execute("UPDATE accounts SET name = 'renamed' WHERE id = 2")
        conn.execute("UPDATE accounts SET id = 50 WHERE id = 3")  # key change
        conn.execute("DELETE FROM accounts WHERE id = 4")
        with conn.transaction():
            conn.execute("TRUNCATE lines")
            conn.execute("INSERT INTO lines VALUES (2, 1, 'c', 1)")
    start_ack = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    runner = run_to_current(db, s3_dest, binary="on")

    files = change_files(s3_dest)
    assert set(files) == {"public.accounts", "public.lines"}
    for keys in files.values():
        for key in keys:
            assert KEY_RE.match(key), key
    sink = open_sink(s3_dest)
    first = read_file(sink, files["public.accounts"][0])
    assert first.column_names == ["Op", "id", "name", "amount", "big", *META]
    assert str(first.schema.field("amount").type) == "decimal128(10, 2)"
    assert str(first.schema.field("_walstream_commit_ts").type) == "timestamp[us, tz=UTC]"
    relation = json.loads(first.schema.metadata[b"walstream.relation"])
    assert relation["key_columns"] == ["id"] and relation["table"] == "accounts"

    acc = read_table(s3_dest, "public.accounts")
    assert [r["Op"] for r in acc] == ["I"] * 5 + ["U", "D", "U", "D"]
    key_change = acc[6:8]
    assert key_change[0]["id"] == 3 and key_change[1]["id"] == 50
    assert key_change[0]["_walstream_lsn"] == key_change[1]["_walstream_lsn"]
    assert key_change[1]["_walstream_seq"] == key_change[0]["_walstream_seq"] + 1
    assert acc[-1]["id"] == 4 and acc[-1]["name"] is None  # D carries the old key only
    positions = [(r["_walstream_lsn"], r["_walstream_seq"]) for r in acc]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert [r["_walstream_seq"] for r in acc[:5]] == [0, 1, 2, 3, 4]
    assert all(r["_walstream_xid"] for r in acc)
    assert {r["_walstream_lsn"] for r in acc}.__len__() == 4  # 4 transactions touched accounts

    lines = read_table(s3_dest, "public.lines")
    assert [r["Op"] for r in lines] == ["I", "I", "T", "I"]
    truncate = lines[2]
    assert truncate["order_id"] is None and truncate["sku"] is None
    assert truncate["_walstream_seq"] == 0 and lines[3]["_walstream_seq"] == 1

    state = apply_changes(acc, ["id"])
    source = {(r[0],): r for r in db.execute("SELECT id, name, amount FROM accounts")}
    assert set(state) == set(source)
    for key, row in state.items():
        assert (row["id"], row["name"], row["amount"]) == source[key]

    checkpoint = json.loads(sink.get("_walstream/sf_sync/checkpoint.json") or b"{}")
    assert parse_lsn(checkpoint["acked_lsn"]) > start_ack
    assert checkpoint["tables"]["public.accounts"]["rows"] == len(acc)
    confirmed = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    assert confirmed == runner.acked_lsn >= (runner.cfg.until_lsn or 0)


@pytest.mark.parametrize("binary", ["on", "off"])
def test_update_leaving_toasted_column_unchanged_lists_it(
    db: PgDatabase, tmp_path: object, binary: str
) -> None:
    setup_tables(db)
    big = os.urandom(60_000).hex()  # random: not compressible, so stored out of line
    db.execute("INSERT INTO accounts VALUES (1, 'a', 1, %s)", (big,))
    db.execute("UPDATE accounts SET name = 'b' WHERE id = 1")
    db.execute("UPDATE accounts SET id = 2 WHERE id = 1")  # key change keeps big unchanged too
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest, binary=binary)
    rows = read_table(dest, "public.accounts")
    assert [r["Op"] for r in rows] == ["I", "U", "D", "U"]
    assert rows[0]["big"] == big and rows[0]["_walstream_unchanged"] is None
    assert rows[1]["_walstream_unchanged"] == ["big"] and rows[1]["big"] is None
    assert rows[1]["name"] == "b"
    assert rows[3]["_walstream_unchanged"] == ["big"] and rows[3]["id"] == 2
    # both rows of the key change say so; the other rows do not
    assert [r["_walstream_key_change"] for r in rows] == [None, None, True, True]
    state = apply_changes(rows, ["id"])
    assert state[(2,)]["big"] == big


def test_idle_publication_does_not_pin_wal(db: PgDatabase, tmp_path: object) -> None:
    setup_tables(db)
    db.execute("CREATE TABLE other (x int)")  # not published
    start = parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0")
    bg = BackgroundRunner.start(db, f"file://{tmp_path}/dest")
    try:
        for _ in range(5):
            db.execute("INSERT INTO other SELECT generate_series(1, 1000)")
        target = parse_lsn(db.current_lsn())
        db.execute("SELECT pg_switch_wal()")

        def advanced() -> bool:
            db.execute("INSERT INTO other VALUES (1)")  # keep WAL (and keepalives) moving
            return parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0") >= target

        wait_for(advanced, 60, "confirmed_flush_lsn to pass the unpublished writes", bg)
    finally:
        bg.stop()
    assert parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0") > start
    assert change_files(f"file://{tmp_path}/dest") == {}


def test_reconnects_after_walsender_is_terminated_and_resumes_from_slot(
    db: PgDatabase, tmp_path: object
) -> None:
    setup_tables(db)
    dest = f"file://{tmp_path}/dest"
    bg = BackgroundRunner.start(db, dest, reconnect_backoff_max=0.5)
    runner = bg.runner
    try:
        for i in range(50):
            db.execute("INSERT INTO accounts VALUES (%s, 'x', 1, NULL)", (i,))
        wait_for(lambda: bool(db.execute("SELECT 1 FROM pg_replication_slots WHERE active")), bg=bg)
        db.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
            "WHERE slot_name = 'sf_sync'"
        )
        for i in range(50, 100):
            db.execute("INSERT INTO accounts VALUES (%s, 'y', 2, NULL)", (i,))
        runner.cfg.until_lsn = parse_lsn(db.current_lsn())
        bg.join(60)
    finally:
        bg.stop()
    assert runner.summary.reconnects >= 1
    rows = read_table(dest, "public.accounts")
    assert {r["id"] for r in rows} == set(range(100))


def test_schema_change_cuts_the_batch_and_new_files_carry_the_new_columns(
    db: PgDatabase, tmp_path: object
) -> None:
    setup_tables(db)
    db.execute("INSERT INTO accounts VALUES (1, 'a', 1, NULL)")
    db.execute("ALTER TABLE accounts ADD COLUMN region text")
    db.execute("INSERT INTO accounts VALUES (2, 'b', 2, NULL, 'eu')")
    with db.connect() as conn, conn.transaction():  # a change of shape inside one transaction
        conn.execute("INSERT INTO accounts VALUES (3, 'c', 3, NULL, 'us')")
        conn.execute("ALTER TABLE accounts DROP COLUMN big")
        conn.execute("INSERT INTO accounts VALUES (4, 'd', 4, 'us')")
    dest = f"file://{tmp_path}/dest"
    run_to_current(db, dest)
    sink = open_sink(dest)
    keys = change_files(sink)["public.accounts"]
    schemas = [read_file(sink, k).column_names for k in keys]
    assert ["Op", "id", "name", "amount", "big", *META] in schemas
    assert ["Op", "id", "name", "amount", "big", "region", *META] in schemas
    assert ["Op", "id", "name", "amount", "region", *META] in schemas
    assert len(keys) == len(set(keys)) == 3
    # the transaction that changed the shape is cut in two files, each named by its seq range
    split = sorted(k for k in keys if re.search(r"\.\d+_\d+-sf_sync\.parquet$", k))
    assert [k.rsplit(".", 2)[1].split("-")[0] for k in split] == ["0_0", "1_1"], keys
    rows = read_table(dest, "public.accounts")
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert rows[3]["region"] == "us" and "big" not in rows[3]


def test_sigterm_flushes_acks_and_exits_zero(db: PgDatabase, tmp_path: object) -> None:
    import signal
    import subprocess
    import sys

    setup_tables(db)
    for i in range(20):
        db.execute("INSERT INTO accounts VALUES (%s, 'x', 1, NULL)", (i,))
    target = parse_lsn(db.current_lsn())
    dest = f"file://{tmp_path}/dest"
    proc = subprocess.Popen(
        [sys.executable, "-m", "walstream", "--log-format", "text", "run", "--dsn", db.dsn,
         "--dest", dest, "--flush-interval", "3600", "--status-interval", "0.5"],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        # Everything is read (and buffered, as the flush interval is an hour) once the server
        # has sent it: the slot's write position passes the target.
        wait_for(
            lambda: bool(
                db.execute(
                    "SELECT 1 FROM pg_stat_replication WHERE write_lsn >= %s::pg_lsn",
                    (db.current_lsn(),),
                )
            ),
            60,
            "the consumer to receive everything",
        )
        assert parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0") < target
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "reason=SIGTERM" in stderr
    assert {r["id"] for r in read_table(dest, "public.accounts")} == set(range(20))
    assert parse_lsn(db.confirmed_flush_lsn("sf_sync") or "0/0") >= target
