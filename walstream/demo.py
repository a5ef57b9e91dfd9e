"""``walstream demo``: the whole flow on one machine with nothing to configure.

Starts an embedded PostgreSQL 18 with ``wal_level=logical`` in the work directory, creates two
tables, a publication and a slot, writes a random workload, streams the slot with
``walstream run`` to a local ``file://`` destination until everything written is stored and
acknowledged, and prints what it wrote. Then it loads the files into the local DuckDB warehouse
(the same MERGE as Snowflake) and checks every FINAL table against the source with
``walstream verify``. Running it again reuses the database and continues.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import click
import psycopg
from psycopg.types.json import Jsonb

from .embedded import LocalPostgres
from .lsn import format_lsn, parse_lsn
from .pipeline.parquet import decode_parquet
from .pipeline.runner import RunConfig, Runner
from .sink import open_sink

SLOT = "walstream_demo"
PUBLICATION = "walstream_demo"

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS customers (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text,
    balance numeric(12,2),
    tags text[],
    profile jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount numeric(12,2) NOT NULL,
    status text NOT NULL,
    placed_on date NOT NULL DEFAULT current_date,
    note text
);
"""


def _workload(conn: psycopg.Connection[tuple[object, ...]], transactions: int, seed: int) -> None:
    rng = random.Random(seed)
    statuses = ["new", "paid", "shipped", "returned"]
    for _ in range(transactions):
        with conn.transaction():
            for _ in range(rng.randint(1, 8)):
                cid = rng.randint(1, 300)
                action = rng.random()
                if action < 0.45:
                    conn.execute(
                        "INSERT INTO customers (id, name, email, balance, tags, profile) "
                        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                        "balance = EXCLUDED.balance, updated_at = now()",
                        (
                            cid,
                            f"customer {cid}",
                            f"c{cid}@example.com" if rng.random() < 0.8 else None,
                            round(rng.uniform(-500, 5000), 2),
                            [
                                rng.choice(["vip", "new", "eu", "us"])
                                for _ in range(rng.randint(0, 3))
                            ],
                            Jsonb({"score": rng.randint(0, 100), "ü": "ok"}),
                        ),
                    )
                elif action < 0.8:
                    conn.execute(
                        "INSERT INTO orders (customer_id, amount, status, note) "
                        "VALUES (%s, %s, %s, %s)",
                        (cid, round(rng.uniform(1, 900), 2), rng.choice(statuses), None),
                    )
                elif action < 0.93:
                    conn.execute(
                        "UPDATE orders SET status = %s WHERE id = (SELECT max(id) FROM orders)",
                        (rng.choice(statuses),),
                    )
                else:
                    conn.execute("DELETE FROM customers WHERE id = %s", (cid,))


def run_demo(
    workdir: str,
    *,
    transactions: int,
    seed: int,
    then: Callable[[str, str, str, str], None] | None = None,
) -> None:
    """The demo; ``then(dsn, slot, dest, warehouse)`` runs at its end, while the database is
    still up (the command shows ``walstream status`` of the whole path with it)."""
    root = Path(workdir).absolute()
    root.mkdir(parents=True, exist_ok=True)
    dest_dir = root / "dest"
    click.echo(f"walstream demo: starting embedded PostgreSQL in {root / 'pgdata'}")
    pg = LocalPostgres(root / "pgdata")
    pg.start()
    try:
        dsn = pg.dsn()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA_SQL)
            if (
                conn.execute(
                    "SELECT 1 FROM pg_publication WHERE pubname = %s", (PUBLICATION,)
                ).fetchone()
                is None
            ):
                conn.execute(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE customers, orders")
            if (
                conn.execute(
                    "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
                ).fetchone()
                is None
            ):
                conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (SLOT,))
            click.echo(f"walstream demo: writing {transactions} transactions")
            _workload(conn, transactions, seed)
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
            assert row is not None
            end_lsn = parse_lsn(str(row[0]))
        click.echo(f"walstream demo: streaming slot {SLOT} to {dest_dir.as_uri()}")
        runner = Runner(
            RunConfig(
                dsn=dsn,
                slot=SLOT,
                publication=PUBLICATION,
                dest=dest_dir.as_uri(),
                flush_interval=1.0,
                flush_rows=5_000,
                status_interval=1.0,
                until_lsn=end_lsn,
            )
        )
        summary = runner.run()
        _report(dest_dir.as_uri(), summary.files, summary.acked_lsn, summary.transactions)
        _reconcile(dsn, dest_dir.as_uri(), str(root / "warehouse.duckdb"))
        if then is not None:
            then(dsn, SLOT, dest_dir.as_uri(), str(root / "warehouse.duckdb"))
    finally:
        pg.stop()


def _reconcile(dsn: str, dest: str, warehouse: str) -> None:
    """Load the files into the local warehouse (Snowpipe + MERGE on DuckDB), compare with source."""
    from .verify import VerifyOptions, verify

    click.echo("")
    click.echo(f"walstream demo: loading {dest} into the local warehouse {warehouse}")
    report = verify(
        dsn,
        warehouse,
        VerifyOptions(publication=PUBLICATION, slot=SLOT),
        dest=dest,
        load=True,
    )
    click.echo(f"{'FINAL table':<20} {'source rows':>12} {'FINAL rows':>11}  result")
    for table in report.tables:
        click.echo(
            f"{table.table:<20} {table.source_rows:>12} {table.final_rows:>11}  {table.status}"
        )
    verdict = "FINAL equals the source" if report.exit_code == 0 else report.note or report.status
    click.echo(f"verify at LSN {report.snapshot_lsn}: {verdict}")


def _report(dest: str, new_files: list[str], acked_lsn: int, transactions: int) -> None:
    sink = open_sink(dest)
    click.echo("")
    click.echo(f"{'table':<20} {'files':>6} {'rows':>8}  ops (I/U/D/T)   last file")
    by_table: dict[str, list[str]] = {}
    for key in new_files:
        schema, table, _ = key.split("/", 2)
        by_table.setdefault(f"{schema}.{table}", []).append(key)
    for table, keys in sorted(by_table.items()):
        counts = {"I": 0, "U": 0, "D": 0, "T": 0}
        rows = 0
        for key in keys:
            data = sink.get(key)
            assert data is not None
            ops = decode_parquet(data).column("Op").to_pylist()
            rows += len(ops)
            for op in ops:
                counts[op] += 1
        ops_text = "/".join(str(counts[k]) for k in "IUDT")
        click.echo(f"{table:<20} {len(keys):>6} {rows:>8}  {ops_text:<15} {keys[-1]}")
    click.echo("")
    click.echo(
        f"transactions streamed: {transactions}; files written: {len(new_files)}; "
        f"acked LSN: {format_lsn(acked_lsn)}"
    )
    click.echo(f"destination: {dest}")
