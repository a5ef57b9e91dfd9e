"""The workloads of issue 7: what each one writes, and how many changes it produces.

A workload has two phases. ``prepare`` creates its tables and any initial rows *before* the
slots exist (so initial data is not part of the measured stream); ``generate`` writes the
measured changes after the slots exist and returns how many change rows walstream must write
for them (one per inserted, updated or deleted row; no update here changes a key).

Generation runs inside PostgreSQL (``generate_series`` in ``DO`` blocks that ``COMMIT`` per
transaction) or through ``pgbench``, so writing a million changes takes seconds, not minutes,
and the Python driver never competes with the consumers for the CPU while they are measured.

Sizes are the issue's full sizes times ``scale`` (the smoke run uses a tiny scale).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from .server import BenchServer, pg_tool

NARROW_COLUMNS = (
    "id int8 PRIMARY KEY, name text, amount numeric(12,2), created_at timestamptz, "
    "active bool, attrs jsonb"
)
NARROW_SELECT = (
    "SELECT g, 'customer-' || g, (g % 1000000) / 100.0, "
    "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0, "
    "jsonb_build_object('k', g, 'tag', 'tag-' || (g % 10), 'score', g % 977)"
)


def _scaled(full: int, scale: float, minimum: int) -> int:
    return max(minimum, round(full * scale))


def _batched_do(statement: str, total: int, per_txn: int) -> str:
    """A DO block running ``statement`` (with ``lo``/``hi`` bounds) once per transaction."""
    return (
        "DO $$ DECLARE lo int8; hi int8; BEGIN "
        f"FOR t IN 0..{(total - 1) // per_txn} LOOP "
        f"lo := t::int8 * {per_txn} + 1; hi := least((t::int8 + 1) * {per_txn}, {total}); "
        f"{statement}; COMMIT; END LOOP; END $$"
    )


@dataclass(frozen=True)
class Workload:
    name: str
    shape: str
    tables: tuple[str, ...]
    prepare: Callable[[BenchServer, float], None]
    generate: Callable[[BenchServer, float], int]
    #: ``logical_decoding_work_mem`` while this workload is decoded (big-txn must stream).
    decoding_work_mem: Callable[[float], str] = lambda scale: "64MB"


# -- narrow-insert ------------------------------------------------------------------------------
def _narrow_prepare(server: BenchServer, scale: float) -> None:
    server.execute("DROP TABLE IF EXISTS narrow")
    server.execute(f"CREATE TABLE narrow ({NARROW_COLUMNS})")


def _narrow_generate(server: BenchServer, scale: float) -> int:
    total = _scaled(1_000_000, scale, 1000)
    server.execute(
        _batched_do(
            f"INSERT INTO narrow {NARROW_SELECT} FROM generate_series(lo, hi) g", total, 1000
        )
    )
    return total


# -- wide-update --------------------------------------------------------------------------------
WIDE_KINDS = (
    [("i", "int4", "(id % 100000)::int4 + {n}")] * 8
    + [("b", "int8", "id * 1000 + {n}")] * 6
    + [("f", "float8", "id / 7.0 + {n}")] * 5
    + [("n", "numeric(12,2)", "round((id % 100000) / 3.0, 2) + {n}")] * 5
    + [("t", "text", "'value-' || id || '-{n}'")] * 7
    + [("o", "bool", "(id + {n}) % 2 = 0")] * 3
    + [
        (
            "s",
            "timestamptz",
            "timestamptz '2024-01-01 00:00:00+00' + (id + {n}) * interval '1 minute'",
        )
    ]
    * 3
    + [("d", "date", "date '2020-01-01' + (id % 3000)::int")] * 2
)  # 39 columns + the key = 40


def _wide_columns() -> list[tuple[str, str, str]]:
    return [(f"{p}{i}", typ, expr.format(n=i)) for i, (p, typ, expr) in enumerate(WIDE_KINDS)]


def _wide_rows(scale: float) -> int:
    return min(10_000, _wide_updates(scale))


def _wide_updates(scale: float) -> int:
    return _scaled(300_000, scale, 1000)


def _create_filled(
    server: BenchServer, table: str, cols: list[tuple[str, str, str]], rows: int
) -> None:
    """``table`` (an int8 key and ``cols``: name, type, value from ``id``) with ``rows`` rows."""
    server.execute(f"DROP TABLE IF EXISTS {table}")
    server.execute(
        f"CREATE TABLE {table} (id int8 PRIMARY KEY, "
        + ", ".join(f"{name} {typ}" for name, typ, _ in cols)
        + ")"
    )
    server.execute(
        f"INSERT INTO {table} SELECT id, "
        + ", ".join(expr for _, _, expr in cols)
        + f" FROM generate_series(1, {rows}) id"
    )
    server.execute(f"VACUUM ANALYZE {table}")


def _wide_prepare(server: BenchServer, scale: float) -> None:
    _create_filled(server, "wide", _wide_columns(), _wide_rows(scale))


def _wide_generate(server: BenchServer, scale: float) -> int:
    rows, updates = _wide_rows(scale), _wide_updates(scale)
    # Transaction t updates 100 consecutive rows, wrapping around the table.
    statement = (
        f"UPDATE wide SET i0 = i0 + 1, b8 = b8 + 1, f14 = f14 + 0.5, n19 = n19 + 1, "
        f"t24 = 'updated-' || lo || '-' || id, o31 = NOT o31, s34 = s34 + interval '1 second' "
        f"WHERE id BETWEEN ((lo - 1) % {rows}) + 1 AND ((lo - 1) % {rows}) + 1 + (hi - lo)"
    )
    server.execute(_batched_do(statement, updates, 100))
    return updates


# -- toast --------------------------------------------------------------------------------------
TOAST_PER_TXN = 10


def _toast_rows(scale: float) -> int:
    return min(2000, _toast_updates(scale))


def _toast_updates(scale: float) -> int:
    return _scaled(100_000, scale, 200)


TOAST_BODY = "repeat(md5(random()::text), 512)"  # 16 KiB of text
TOAST_DOC = "jsonb_build_object('id', {id}, 'pad', repeat(md5(random()::text), 500))"  # ~16 KiB


def _toast_prepare(server: BenchServer, scale: float) -> None:
    server.execute("DROP TABLE IF EXISTS toast")
    server.execute("CREATE TABLE toast (id int8 PRIMARY KEY, counter int4, body text, doc jsonb)")
    # EXTERNAL: stored out of line and uncompressed, so every row really is TOASTed.
    server.execute("ALTER TABLE toast ALTER COLUMN body SET STORAGE EXTERNAL")
    server.execute("ALTER TABLE toast ALTER COLUMN doc SET STORAGE EXTERNAL")
    server.execute(
        f"INSERT INTO toast SELECT id, 0, {TOAST_BODY}, {TOAST_DOC.format(id='id')} "
        f"FROM generate_series(1, {_toast_rows(scale)}) id"
    )
    server.execute("VACUUM ANALYZE toast")


def _toast_generate(server: BenchServer, scale: float) -> int:
    rows, updates = _toast_rows(scale), _toast_updates(scale)
    where = f"WHERE id BETWEEN ((lo - 1) % {rows}) + 1 AND ((lo - 1) % {rows}) + 1 + (hi - lo)"
    # Even transactions leave the TOASTed columns unchanged (pgoutput sends them as 'u'),
    # odd ones rewrite both 16 KiB values.
    statement = (
        "IF t % 2 = 0 THEN "
        f"UPDATE toast SET counter = counter + 1 {where}; "
        "ELSE "
        f"UPDATE toast SET counter = counter + 1, body = {TOAST_BODY}, "
        f"doc = {TOAST_DOC.format(id='id')} {where}; "
        "END IF"
    )
    server.execute(_batched_do(statement, updates, TOAST_PER_TXN))
    return updates


# -- very-wide-row ------------------------------------------------------------------------------
#: The types of an ERP-like table's columns, in turn, with the SQL of a value from ``id``.
ERP_KINDS = (
    ("int4", "(id % 100000)::int4 + {n}"),
    ("int8", "id * {n}"),
    ("numeric(14,2)", "(id % 100000) / 100.0 + {n}"),
    ("text", "'v' || id || '-{n}'"),
    ("timestamptz", "timestamptz '2024-01-01 00:00:00+00' + (id + {n}) * interval '1 minute'"),
    ("bool", "(id + {n}) % 3 = 0"),
    ("date", "date '2020-01-01' + ((id + {n}) % 3000)::int"),
    ("varchar(20)", "'code-' || ((id + {n}) % 997)"),
)
ERP_COLUMNS = 239  # + the key = 240


def _erp_columns() -> list[tuple[str, str, str]]:
    kinds = ERP_KINDS
    return [
        (f"c{i:03d}", kinds[i % len(kinds)][0], kinds[i % len(kinds)][1].format(n=i))
        for i in range(ERP_COLUMNS)
    ]


def _erp_updates(scale: float) -> int:
    return _scaled(100_000, scale, 500)


def _erp_rows(scale: float) -> int:
    return min(10_000, _erp_updates(scale))


def _erp_prepare(server: BenchServer, scale: float) -> None:
    _create_filled(server, "erp", _erp_columns(), _erp_rows(scale))


def _erp_generate(server: BenchServer, scale: float) -> int:
    rows, updates = _erp_rows(scale), _erp_updates(scale)
    # An ERP posting: a status, an amount and a timestamp change; pgoutput sends all 240 columns.
    statement = (
        "UPDATE erp SET c000 = c000 + 1, c002 = c002 + 1, c004 = c004 + interval '1 minute' "
        f"WHERE id BETWEEN ((lo - 1) % {rows}) + 1 AND ((lo - 1) % {rows}) + 1 + (hi - lo)"
    )
    server.execute(_batched_do(statement, updates, 100))
    return updates


# -- many-tables --------------------------------------------------------------------------------
MANY_TABLES = tuple(f"many_{i:03d}" for i in range(500))
MANY_PER_TXN = 10  # rows per transaction, each in another table


def _many_inserts(scale: float) -> int:
    return _scaled(100_000, scale, 1000)


def _many_prepare(server: BenchServer, scale: float) -> None:
    server.execute(
        "DO $$ BEGIN FOR i IN 0..499 LOOP "
        "EXECUTE format('DROP TABLE IF EXISTS many_%s', lpad(i::text, 3, '0')); "
        "EXECUTE format('CREATE TABLE many_%s (id int8 PRIMARY KEY, v int4, note text)', "
        "lpad(i::text, 3, '0')); END LOOP; END $$"
    )


def _many_generate(server: BenchServer, scale: float) -> int:
    total = _many_inserts(scale)
    # row r goes to table r % 500: every flush holds a few changes of each of many tables
    statement = (
        "FOR r IN lo..hi LOOP EXECUTE format('INSERT INTO many_%s VALUES ($1, $2, $3)', "
        "lpad((r % 500)::text, 3, '0')) USING r, (r % 1000)::int4, 'note ' || r; END LOOP"
    )
    server.execute(_batched_do(statement, total, MANY_PER_TXN))
    return total


# -- mixed-oltp (pgbench TPC-B) -----------------------------------------------------------------
PGBENCH_TABLES = ("pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history")
PGBENCH_CLIENTS = 4


def _pgbench_scale(scale: float) -> int:
    return max(1, min(4, round(4 * scale)))


def _pgbench(server: BenchServer, *args: str, timeout: float = 1800) -> str:
    cmd = [
        str(pg_tool("pgbench")),
        "-h",
        "127.0.0.1",
        "-p",
        str(server.port),
        "-U",
        "postgres",
        *args,
        "bench",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench {' '.join(args)} failed: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def _oltp_prepare(server: BenchServer, scale: float) -> None:
    _pgbench(server, "-i", "-q", "-s", str(_pgbench_scale(scale)))


def _oltp_generate(server: BenchServer, scale: float) -> int:
    per_client = _scaled(50_000, scale, 100) // PGBENCH_CLIENTS
    out = _pgbench(
        server, "-n", "-c", str(PGBENCH_CLIENTS), "-j", "2", "-t", str(max(per_client, 1))
    )
    match = re.search(r"number of transactions actually processed: (\d+)", out)
    if match is None:
        raise RuntimeError(f"cannot read pgbench's transaction count from: {out[-400:]}")
    # TPC-B: three updates (accounts, tellers, branches) and one history insert per transaction.
    return 4 * int(match.group(1))


# -- big-txn ------------------------------------------------------------------------------------
def _big_prepare(server: BenchServer, scale: float) -> None:
    server.execute("DROP TABLE IF EXISTS big")
    server.execute(f"CREATE TABLE big ({NARROW_COLUMNS})")


def _big_generate(server: BenchServer, scale: float) -> int:
    total = _scaled(2_000_000, scale, 2000)
    server.execute(f"INSERT INTO big {NARROW_SELECT} FROM generate_series(1, {total}) g")
    return total


def _big_work_mem(scale: float) -> str:
    # At full size 2M rows (~300 MB decoded) stream past the default 64MB; a scaled-down run
    # lowers the limit so the transaction still streams (64kB is PostgreSQL's minimum).
    return "64MB" if scale >= 0.25 else "64kB"


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "narrow-insert",
            "1M inserts, 6 columns (int8 key, text, numeric(12,2), timestamptz, bool, jsonb), "
            "1000-row transactions",
            ("narrow",),
            _narrow_prepare,
            _narrow_generate,
        ),
        Workload(
            "wide-update",
            "300k updates of a 40-column row, mixed types, 100-row transactions",
            ("wide",),
            _wide_prepare,
            _wide_generate,
        ),
        Workload(
            "toast",
            "100k updates of rows with a 16 KiB text and a 16 KiB jsonb (TOASTed), "
            f"{TOAST_PER_TXN}-row transactions, half leaving the TOASTed columns unchanged",
            ("toast",),
            _toast_prepare,
            _toast_generate,
        ),
        Workload(
            "mixed-oltp",
            f"pgbench TPC-B transactions (50k at full size), {PGBENCH_CLIENTS} clients",
            PGBENCH_TABLES,
            _oltp_prepare,
            _oltp_generate,
        ),
        Workload(
            "very-wide-row",
            "100k updates of a 240-column row (an ERP table: int, numeric, text, timestamptz, "
            "bool, date, varchar in turn), 3 columns changed, 100-row transactions",
            ("erp",),
            _erp_prepare,
            _erp_generate,
        ),
        Workload(
            "many-tables",
            f"100k inserts spread over {len(MANY_TABLES)} tables, {MANY_PER_TXN}-row "
            "transactions each touching 10 tables: a file per table per flush",
            MANY_TABLES,
            _many_prepare,
            _many_generate,
        ),
        Workload(
            "big-txn",
            "one transaction of 2M inserts (narrow rows), streamed by the server",
            ("big",),
            _big_prepare,
            _big_generate,
            _big_work_mem,
        ),
    )
}
