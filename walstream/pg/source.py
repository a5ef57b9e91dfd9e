"""The source database seen through ordinary SQL: pre-flight checks, slot and publication setup,
and catalog look-ups the stream needs (primary keys, type names).

Every check turns a PostgreSQL state that would make streaming fail or lose data into one line
that says what is wrong and what to run to fix it, before any replication starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ..errors import ConfigError, SourceError
from .replication import SESSION_OPTIONS


def connect(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    """A normal (non-replication) autocommit connection with our pinned session settings."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid --dsn: {exc}") from None
    options = f"{params.get('options') or ''} {SESSION_OPTIONS}".strip()
    try:
        return psycopg.connect(
            dsn,
            autocommit=True,
            options=options,
            application_name=str(params.get("application_name") or "walstream"),
            connect_timeout=int(str(params.get("connect_timeout") or 10)),
        )
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise SourceError(
            f"cannot connect to PostgreSQL: {first} (check --dsn / WALSTREAM_DSN: host, port, "
            "user, password)"
        ) from None


def protocol_version(server_version_num: int) -> int:
    """Highest pgoutput protocol version this server speaks (v4 needs 16, v3 15, v2 14)."""
    if server_version_num >= 160000:
        return 4
    if server_version_num >= 150000:
        return 3
    if server_version_num >= 140000:
        return 2
    return 1


@dataclass(frozen=True, slots=True)
class SlotInfo:
    name: str
    plugin: str | None
    database: str | None
    active_pid: int | None
    confirmed_flush_lsn: str | None
    wal_status: str | None


def slot_info(conn: psycopg.Connection[tuple[object, ...]], slot: str) -> SlotInfo | None:
    has_wal_status = conn.info.server_version >= 130000
    row = conn.execute(
        "SELECT slot_name, plugin, database, active_pid, confirmed_flush_lsn::text, "
        + ("wal_status" if has_wal_status else "NULL::text")
        + " FROM pg_replication_slots WHERE slot_name = %s",
        (slot,),
    ).fetchone()
    if row is None:
        return None
    name, plugin, database, pid, confirmed, wal_status = row
    return SlotInfo(
        str(name),
        None if plugin is None else str(plugin),
        None if database is None else str(database),
        None if pid is None else int(str(pid)),
        None if confirmed is None else str(confirmed),
        None if wal_status is None else str(wal_status),
    )


def create_publication(
    conn: psycopg.Connection[tuple[object, ...]], publication: str, tables: Sequence[str]
) -> None:
    """CREATE PUBLICATION for ``tables`` (``schema.table``) or for all tables."""
    if tables:
        idents = [sql.Identifier(*_split_table(t)) for t in tables]
        stmt = sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
            sql.Identifier(publication), sql.SQL(", ").join(idents)
        )
    else:
        stmt = sql.SQL("CREATE PUBLICATION {} FOR ALL TABLES").format(sql.Identifier(publication))
    try:
        conn.execute(stmt)
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot create publication {publication!r}: {_pg_message(exc)}"
        ) from None


def create_slot(conn: psycopg.Connection[tuple[object, ...]], slot: str) -> str:
    """Create a pgoutput logical slot; returns its consistent point LSN."""
    try:
        row = conn.execute(
            "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,)
        ).fetchone()
    except psycopg.Error as exc:
        raise SourceError(f"cannot create replication slot {slot!r}: {_pg_message(exc)}") from None
    assert row is not None
    return str(row[0])


def drop_slot(conn: psycopg.Connection[tuple[object, ...]], slot: str) -> None:
    conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))


def _split_table(name: str) -> tuple[str, str]:
    schema, dot, table = name.partition(".")
    if not dot:
        return "public", name
    if not schema or not table:
        raise ConfigError(f"invalid table name {name!r}: expected schema.table")
    return schema, table


def _pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary or exc).strip()


def preflight(
    conn: psycopg.Connection[tuple[object, ...]],
    slot: str,
    publication: str,
    *,
    create: bool = False,
    tables: Sequence[str] = (),
) -> SlotInfo:
    """Check (and with ``create`` set up) everything ``walstream run`` needs; return the slot.

    Raises SourceError with the fix for: a standby (in recovery), wal_level not logical,
    publication missing, slot missing, slot of another plugin or database, slot active
    elsewhere, slot invalidated.
    """
    if in_recovery(conn):
        raise SourceError(
            f"the server at --dsn is a standby (in recovery, read-only): slot {slot!r} must be "
            "streamed from the writer. Point --dsn at the writer (on Aurora: the cluster "
            "endpoint, not an instance or reader endpoint); during a failover, start again once "
            "the new writer answers (a running walstream waits for it by itself)"
        )
    wal_level = str(_scalar(conn, "SHOW wal_level"))
    if wal_level != "logical":
        raise SourceError(
            f"wal_level is {wal_level!r}, logical replication needs 'logical': set wal_level = "
            "logical in postgresql.conf (on Aurora/RDS: rds.logical_replication = 1 in the "
            "cluster parameter group) and restart the server"
        )
    has_pub = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (publication,))
    if has_pub.fetchone() is None:
        if not create:
            raise SourceError(
                f"publication {publication!r} does not exist in database "
                f"{conn.info.dbname!r}: run CREATE PUBLICATION {publication} FOR ALL TABLES "
                "(or FOR TABLE ...), or pass --create-slot to create it"
            )
        create_publication(conn, publication, tables)
    info = slot_info(conn, slot)
    if info is None:
        if not create:
            raise SourceError(
                f"replication slot {slot!r} does not exist: create it with "
                f"SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput'), or pass "
                "--create-slot"
            )
        create_slot(conn, slot)
        info = slot_info(conn, slot)
        assert info is not None
    check_slot(
        conn,
        info,
        lost_fix="changes were lost. Drop the slot, create it again and re-snapshot the tables "
        "(walstream snapshot)",
    )
    if info.active_pid is not None:
        raise SourceError(
            f"replication slot {slot!r} is already active (pid {info.active_pid}): another "
            "consumer is streaming it. Stop that consumer, or terminate it with "
            f"SELECT pg_terminate_backend({info.active_pid})"
        )
    return info


def in_recovery(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    """True on a standby (read-only), e.g. the old writer right after a failover."""
    return _scalar(conn, "SELECT pg_is_in_recovery()") is True


def check_slot(
    conn: psycopg.Connection[tuple[object, ...]], info: SlotInfo, *, lost_fix: str
) -> None:
    """Refuse a slot walstream cannot use: another plugin, another database, invalidated.

    ``lost_fix`` says what to do about an invalidated slot, which depends on the command.
    """
    if info.plugin != "pgoutput":
        raise SourceError(
            f"replication slot {info.name!r} uses plugin {info.plugin!r}, walstream needs "
            "'pgoutput': drop it and create a pgoutput slot"
        )
    if info.database != conn.info.dbname:
        raise SourceError(
            f"replication slot {info.name!r} belongs to database {info.database!r}, but --dsn "
            f"connects to {conn.info.dbname!r}: point --dsn at {info.database!r}"
        )
    if info.wal_status == "lost":
        raise SourceError(
            f"replication slot {info.name!r} is invalidated (wal_status=lost): the WAL it "
            f"needed was removed; {lost_fix}"
        )


def _scalar(conn: psycopg.Connection[tuple[object, ...]], query: str) -> object:
    row = conn.execute(query).fetchone()
    return None if row is None else row[0]


def primary_key_columns(conn: psycopg.Connection[tuple[object, ...]], relid: int) -> list[str]:
    """Primary key columns of a table, in key order (empty if it has none)."""
    rows = conn.execute(
        """
        SELECT a.attname
        FROM pg_index i
        JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = %s AND i.indisprimary
        ORDER BY k.ord
        """,
        (relid,),
    ).fetchall()
    return [str(r[0]) for r in rows]
