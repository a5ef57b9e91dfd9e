"""A seeded random workload on real PostgreSQL, and FINAL-vs-source comparison, for the oracle.

The workload covers what the MERGE must get right (issue 3): inserts, updates of key and
non-key columns, deletes, re-inserts of deleted keys, several updates of one key in one
transaction and across transactions, large TOASTed text and jsonb that later updates leave
unchanged (in the same flush and in later flushes), TRUNCATE followed by new rows, NULLs,
multi-table transactions, a composite key, a quoted mixed-case table and column names, and a
keyless table. Large values are random hex, so PostgreSQL cannot compress them inline and
stores them out of line (TOAST), which is what makes pgoutput send them as "unchanged".
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.conftest import PgDatabase

SCHEMA_SQL = """
CREATE TABLE accounts (
    id int PRIMARY KEY,
    name text,
    balance numeric(12,2),
    ratio float8,
    active bool,
    born date,
    updated timestamptz,
    tags text[],
    data bytea,
    big text,
    doc jsonb
);
CREATE TABLE lines (
    order_id int,
    line int,
    sku varchar(20),
    qty int8,
    note text,
    PRIMARY KEY (order_id, line)
);
CREATE TABLE "Mixed Case" ("Id" int PRIMARY KEY, "Some Value" text, "Big Note" text);
CREATE TABLE events (kind text, payload text, at timestamp);
ALTER TABLE events REPLICA IDENTITY FULL;
"""

TABLES = ("accounts", "lines", "Mixed Case", "events")
KEYED = {"accounts": ["id"], "lines": ["order_id", "line"], "Mixed Case": ["Id"]}


def setup_source(db: PgDatabase, slot: str = "sf_sync", publication: str = "walstream") -> None:
    db.execute(SCHEMA_SQL)
    db.execute(f'CREATE PUBLICATION {publication} FOR TABLE accounts, lines, "Mixed Case", events')
    db.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))


@dataclass
class Workload:
    """Random transactions; a mirror of the live keys steers the choice of operations."""

    seed: int
    rng: random.Random = field(init=False)
    accounts: set[int] = field(default_factory=set)
    deleted_accounts: set[int] = field(default_factory=set)
    lines: set[tuple[int, int]] = field(default_factory=set)
    mixed: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- values -----------------------------------------------------------------------------
    def big_text(self) -> str | None:
        r = self.rng.random()
        if r < 0.15:
            return None
        if r < 0.55:
            return self.rng.randbytes(self.rng.randint(2500, 4000)).hex()  # TOASTed
        return f"small-{self.rng.randint(0, 999)}"

    def big_doc(self) -> Jsonb | None:
        r = self.rng.random()
        if r < 0.15:
            return None
        if r < 0.55:
            return Jsonb({"blob": self.rng.randbytes(3000).hex(), "n": self.rng.randint(0, 9)})
        return Jsonb({"n": self.rng.randint(0, 99), "tags": ["a", None, 1.5]})

    def account_values(self) -> dict[str, Any]:
        r = self.rng
        return {
            "name": None if r.random() < 0.1 else f"name-{r.randint(0, 9999)}",
            "balance": None
            if r.random() < 0.1
            else decimal.Decimal(r.randint(-(10**9), 10**9)) / 100,
            "ratio": r.choice([None, 0.1, -2.5e-300, 1e300, r.random()]),
            "active": r.choice([None, True, False]),
            "born": r.choice(
                [None, dt.date(1970, 1, 1) + dt.timedelta(days=r.randint(-9999, 20000))]
            ),
            "updated": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
            + dt.timedelta(microseconds=r.randint(0, 10**13)),
            "tags": r.choice([None, [], ["x", None, "y z"], [f"t{r.randint(0, 9)}"]]),
            "data": r.choice([None, b"", r.randbytes(r.randint(1, 40))]),
        }

    # -- operations -------------------------------------------------------------------------
    def transaction(self, conn: psycopg.Connection[Any]) -> None:
        ops: list[Callable[[psycopg.Connection[Any]], None]] = [
            self.insert_account,
            self.update_account,
            self.update_account,
            self.update_account_key,
            self.delete_account,
            self.reinsert_account,
            self.touch_account_many_times,
            self.change_lines,
            self.change_lines,
            self.change_mixed,
            self.change_events,
        ]
        with conn.transaction():
            if self.rng.random() < 0.03:
                self.truncate(conn)
            for _ in range(self.rng.randint(1, 5)):
                self.rng.choice(ops)(conn)

    def insert_account(self, conn: psycopg.Connection[Any]) -> None:
        key = self.rng.randint(1, 60)
        if key in self.accounts:
            return
        self._insert_account(conn, key)

    def _insert_account(self, conn: psycopg.Connection[Any], key: int) -> None:
        v = self.account_values()
        conn.execute(
            "INSERT INTO accounts VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (key, v["name"], v["balance"], v["ratio"], v["active"], v["born"], v["updated"],
             v["tags"], v["data"], self.big_text(), self.big_doc()),
        )  # fmt: skip
        self.accounts.add(key)
        self.deleted_accounts.discard(key)

    def reinsert_account(self, conn: psycopg.Connection[Any]) -> None:
        if self.deleted_accounts:
            self._insert_account(conn, self.rng.choice(sorted(self.deleted_accounts)))

    def _some_account(self) -> int | None:
        return self.rng.choice(sorted(self.accounts)) if self.accounts else None

    def update_account(self, conn: psycopg.Connection[Any]) -> None:
        key = self._some_account()
        if key is None:
            return
        r = self.rng.random()
        v = self.account_values()
        if r < 0.5:  # leave big and doc unchanged: unchanged TOAST when they are large
            conn.execute(
                "UPDATE accounts SET name = %s, balance = %s, tags = %s WHERE id = %s",
                (v["name"], v["balance"], v["tags"], key),
            )
        elif r < 0.75:
            conn.execute("UPDATE accounts SET big = %s WHERE id = %s", (self.big_text(), key))
        else:
            conn.execute(
                "UPDATE accounts SET doc = %s, active = %s WHERE id = %s",
                (self.big_doc(), v["active"], key),
            )

    def update_account_key(self, conn: psycopg.Connection[Any]) -> None:
        key = self._some_account()
        new = self.rng.randint(1, 60)
        if key is None or new in self.accounts:
            return
        conn.execute("UPDATE accounts SET id = %s, ratio = %s WHERE id = %s", (new, 0.5, key))
        self.accounts.discard(key)
        self.deleted_accounts.add(key)
        self.accounts.add(new)
        self.deleted_accounts.discard(new)

    def delete_account(self, conn: psycopg.Connection[Any]) -> None:
        key = self._some_account()
        if key is None:
            return
        conn.execute("DELETE FROM accounts WHERE id = %s", (key,))
        self.accounts.discard(key)
        self.deleted_accounts.add(key)

    def touch_account_many_times(self, conn: psycopg.Connection[Any]) -> None:
        """Several updates of one key in one transaction, including a key change mid-way."""
        for _ in range(self.rng.randint(2, 4)):
            if self.rng.random() < 0.3:
                self.update_account_key(conn)
            else:
                self.update_account(conn)

    def change_lines(self, conn: psycopg.Connection[Any]) -> None:
        r = self.rng
        order, line = r.randint(1, 8), r.randint(1, 5)
        note = r.choice([None, "n", r.randbytes(2500).hex()])
        if (order, line) not in self.lines:
            conn.execute(
                "INSERT INTO lines VALUES (%s, %s, %s, %s, %s)",
                (order, line, f"sku{r.randint(0, 99)}", r.randint(-5, 10**15), note),
            )
            self.lines.add((order, line))
            return
        action = r.random()
        if action < 0.3:
            conn.execute("DELETE FROM lines WHERE order_id = %s AND line = %s", (order, line))
            self.lines.discard((order, line))
        elif action < 0.55:
            new = (order, r.randint(1, 5))
            if new not in self.lines:
                conn.execute(
                    "UPDATE lines SET line = %s WHERE order_id = %s AND line = %s",
                    (new[1], order, line),
                )
                self.lines.discard((order, line))
                self.lines.add(new)
        elif action < 0.8:
            conn.execute(
                "UPDATE lines SET qty = qty + 1 WHERE order_id = %s AND line = %s", (order, line)
            )
        else:
            conn.execute(
                "UPDATE lines SET note = %s WHERE order_id = %s AND line = %s", (note, order, line)
            )

    def change_mixed(self, conn: psycopg.Connection[Any]) -> None:
        r = self.rng
        key = r.randint(1, 15)
        if key not in self.mixed:
            conn.execute(
                'INSERT INTO "Mixed Case" VALUES (%s, %s, %s)',
                (key, r.choice([None, "v", 'it\'s "quoted"']), self.big_text()),
            )
            self.mixed.add(key)
            return
        action = r.random()
        if action < 0.3:
            conn.execute('DELETE FROM "Mixed Case" WHERE "Id" = %s', (key,))
            self.mixed.discard(key)
        elif action < 0.6:
            new = r.randint(1, 15)
            if new not in self.mixed:
                conn.execute('UPDATE "Mixed Case" SET "Id" = %s WHERE "Id" = %s', (new, key))
                self.mixed.discard(key)
                self.mixed.add(new)
        else:
            conn.execute(
                'UPDATE "Mixed Case" SET "Some Value" = %s WHERE "Id" = %s',
                (f"v{r.randint(0, 99)}", key),
            )

    def change_events(self, conn: psycopg.Connection[Any]) -> None:
        r = self.rng
        action = r.random()
        if action < 0.6:
            conn.execute(
                "INSERT INTO events VALUES (%s, %s, %s)",
                (r.choice(["a", "b", None]), r.choice([None, "p", r.randbytes(40).hex()]),
                 dt.datetime(2020, 1, 1) + dt.timedelta(seconds=r.randint(0, 10**8))),
            )  # fmt: skip
        elif action < 0.8:
            conn.execute(
                "DELETE FROM events WHERE ctid = (SELECT ctid FROM events ORDER BY ctid LIMIT 1)"
            )
        else:
            conn.execute("UPDATE events SET kind = 'u' WHERE kind = 'a'")

    def truncate(self, conn: psycopg.Connection[Any]) -> None:
        """TRUNCATE one or two tables, then new rows in the same transaction."""
        if self.rng.random() < 0.5:
            conn.execute("TRUNCATE accounts")
            self.deleted_accounts |= self.accounts
            self.accounts.clear()
            self.insert_account(conn)
        else:
            conn.execute('TRUNCATE lines, "Mixed Case"')
            self.lines.clear()
            self.mixed.clear()
            self.change_lines(conn)

    def run(self, db: PgDatabase, transactions: int) -> None:
        with db.connect() as conn:
            for _ in range(transactions):
                self.transaction(conn)


# -- comparing FINAL with the source -----------------------------------------------------------
def source_rows(db: PgDatabase, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with db.connect() as conn:
        cur = conn.execute(f'SELECT * FROM "{table}"')
        assert cur.description is not None
        return [d.name for d in cur.description], cur.fetchall()


def normalize(value: Any) -> Any:
    """One representation for values that PostgreSQL and the warehouse return differently."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def keyed(
    columns: list[str], rows: Iterable[tuple[Any, ...]], key: list[str], json_columns: set[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        record = {}
        for name, value in zip(columns, row, strict=True):
            if name in json_columns and isinstance(value, str):
                value = json.loads(value)
            record[name] = normalize(value)
        k = tuple(record[c] for c in key)
        assert k not in out, f"key {k} twice"
        out[k] = record
    return out


def assert_same_rows(
    table: str,
    source: dict[tuple[Any, ...], dict[str, Any]],
    final: dict[tuple[Any, ...], dict[str, Any]],
) -> None:
    """Row by row, value by value, with a message that names the first difference."""
    missing = sorted(set(source) - set(final))
    extra = sorted(set(final) - set(source))
    assert not missing and not extra, f"{table}: keys missing {missing[:5]} extra {extra[:5]}"
    for k, row in source.items():
        for column, value in row.items():
            got = final[k][column]
            assert got == value, (
                f"{table} key {k} column {column!r}: FINAL has {_short(got)}, "
                f"source has {_short(value)}"
            )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:60] + f"...({len(text)} chars)"
