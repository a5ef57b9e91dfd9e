"""Slot and publication administration, and the source checks behind ``walstream doctor``.

``walstream run`` refuses to start on a source that would fail or lose data
(:func:`walstream.pg.source.preflight`); this module is for the operator before and around
that: create, drop and advance slots, create and extend publications, and one
:func:`run_checks` that inspects everything a healthy source needs and says, per finding, what
to run to fix it. Each check is a plain function returning :class:`Check` values, so the
doctor command only prints them and tests assert on them.

Checks: server version, ``wal_level`` (and ``rds.logical_replication`` on RDS/Aurora),
``max_replication_slots`` and ``max_wal_senders`` headroom, ``max_slot_wal_keep_size``, the
role's REPLICATION (or ``rds_replication``) right, the publication and its tables, each
published table's REPLICA IDENTITY and key, and the slot (plugin, database, wal_status).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ..errors import SourceError
from ..lsn import parse_lsn
from .source import _pg_message, _split_table, create_publication, slot_info

Connection = psycopg.Connection[tuple[object, ...]]

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One finding: ``status`` is ok, warn or fail; ``fix`` says what to do about it."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class PublishedTable:
    schema: str
    table: str
    replica_identity: str  # d(efault) | n(othing) | f(ull) | i(ndex)
    primary_key: tuple[str, ...]
    identity_index: str | None
    pubupdate: bool
    pubdelete: bool

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def identity(self) -> str:
        return {"d": "default", "n": "nothing", "f": "full", "i": "index"}.get(
            self.replica_identity, self.replica_identity
        )


@dataclass
class PublicationInfo:
    name: str
    all_tables: bool
    operations: tuple[str, ...]
    tables: list[PublishedTable] = field(default_factory=list)


def _scalar(conn: Connection, query: str, params: tuple[object, ...] = ()) -> object:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _setting(conn: Connection, name: str) -> str | None:
    value = _scalar(conn, "SELECT current_setting(%s, true)", (name,))
    return None if value is None else str(value)


# -- slots -----------------------------------------------------------------------------------
def create_slot(conn: Connection, slot: str, *, temporary: bool = False) -> str:
    """Create a pgoutput logical slot; returns its consistent point (LSN text)."""
    try:
        row = conn.execute(
            "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput', %s)",
            (slot, temporary),
        ).fetchone()
    except psycopg.Error as exc:
        hint = ""
        if "already exists" in _pg_message(exc):
            hint = f"; it is there already: walstream status --slot {slot}"
        raise SourceError(
            f"cannot create replication slot {slot!r}: {_pg_message(exc)}{hint}"
        ) from None
    assert row is not None
    return str(row[0])


def drop_slot(conn: Connection, slot: str, *, force: bool = False) -> None:
    """Drop a slot; with ``force``, terminate the consumer holding it first."""
    info = slot_info(conn, slot)
    if info is None:
        raise SourceError(f"replication slot {slot!r} does not exist: nothing to drop")
    if info.active_pid is not None:
        if not force:
            raise SourceError(
                f"replication slot {slot!r} is active (pid {info.active_pid}): stop its "
                "consumer first, or pass --force to terminate it"
            )
        conn.execute("SELECT pg_terminate_backend(%s)", (info.active_pid,))
    for _ in range(50):  # the terminated walsender releases the slot within moments
        try:
            conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
            return
        except psycopg.errors.ObjectInUse:
            conn.execute("SELECT pg_sleep(0.1)")
        except psycopg.Error as exc:
            raise SourceError(
                f"cannot drop replication slot {slot!r}: {_pg_message(exc)}"
            ) from None
    raise SourceError(f"replication slot {slot!r} stays in use; try again")


def advance_slot(conn: Connection, slot: str, to_lsn: str | None = None) -> tuple[str, str]:
    """Move a slot's confirmed_flush_lsn forward to ``to_lsn`` (default: the current WAL end).

    Everything the slot skips is never streamed: the changes it covered are lost to FINAL
    unless the tables are re-snapshotted. Returns (before, after) as LSN text.
    """
    info = slot_info(conn, slot)
    if info is None:
        raise SourceError(f"replication slot {slot!r} does not exist")
    if info.active_pid is not None:
        raise SourceError(
            f"replication slot {slot!r} is active (pid {info.active_pid}): stop the consumer "
            "before advancing it"
        )
    target = to_lsn or str(_scalar(conn, "SELECT pg_current_wal_lsn()::text"))
    parse_lsn(target)  # validate early, with our message
    before = info.confirmed_flush_lsn or "0/0"
    try:
        row = conn.execute(
            "SELECT end_lsn::text FROM pg_replication_slot_advance(%s, %s::pg_lsn)",
            (slot, target),
        ).fetchone()
    except psycopg.Error as exc:
        raise SourceError(f"cannot advance slot {slot!r} to {target}: {_pg_message(exc)}") from None
    assert row is not None
    return before, str(row[0])


# -- publications ----------------------------------------------------------------------------
def create_publication_for(conn: Connection, publication: str, tables: Sequence[str]) -> None:
    if publication_info(conn, publication) is not None:
        raise SourceError(
            f"publication {publication!r} already exists: walstream publication add-table "
            f"--publication {publication} TABLE to extend it"
        )
    create_publication(conn, publication, tables)


def add_tables(conn: Connection, publication: str, tables: Sequence[str]) -> None:
    info = publication_info(conn, publication)
    if info is None:
        raise SourceError(
            f"publication {publication!r} does not exist: walstream publication create first"
        )
    if info.all_tables:
        raise SourceError(
            f"publication {publication!r} is FOR ALL TABLES: every table is in it already"
        )
    idents = [sql.Identifier(*_split_table(t)) for t in tables]
    stmt = sql.SQL("ALTER PUBLICATION {} ADD TABLE {}").format(
        sql.Identifier(publication), sql.SQL(", ").join(idents)
    )
    try:
        conn.execute(stmt)
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot add {', '.join(tables)} to publication {publication!r}: {_pg_message(exc)}"
        ) from None


_PUBLISHED_TABLES = """
SELECT pt.schemaname::text, pt.tablename::text, c.relreplident::text,
       COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
                 FROM pg_index i
                 JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE i.indrelid = c.oid AND i.indisprimary), '{}'),
       (SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = c.oid AND i.indisreplident)
FROM pg_publication_tables pt
JOIN pg_namespace n ON n.nspname = pt.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
WHERE pt.pubname = %s
ORDER BY 1, 2
"""


def publication_info(conn: Connection, publication: str) -> PublicationInfo | None:
    row = conn.execute(
        "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate "
        "FROM pg_publication WHERE pubname = %s",
        (publication,),
    ).fetchone()
    if row is None:
        return None
    all_tables, ins, upd, dele, trunc = (bool(v) for v in row)
    ops = tuple(
        name
        for name, on in (("insert", ins), ("update", upd), ("delete", dele), ("truncate", trunc))
        if on
    )
    info = PublicationInfo(publication, all_tables, ops)
    for schema, table, ident, pk, index in conn.execute(_PUBLISHED_TABLES, (publication,)):
        keys = tuple(str(k) for k in pk) if isinstance(pk, list) else ()
        info.tables.append(
            PublishedTable(
                str(schema),
                str(table),
                str(ident),
                keys,
                None if index is None else str(index),
                upd,
                dele,
            )
        )
    return info


# -- checks ----------------------------------------------------------------------------------
def check_server(conn: Connection) -> list[Check]:
    checks: list[Check] = []
    version = conn.info.server_version
    major = version // 10000
    if version < 100000:
        checks.append(
            Check("server_version", FAIL, f"PostgreSQL {version}", "walstream needs 10 or later")
        )
    elif version < 140000:
        checks.append(
            Check(
                "server_version",
                WARN,
                f"PostgreSQL {major}: pgoutput v1, large transactions are not streamed",
                "upgrade to 14+ for streaming of large transactions and binary values",
            )
        )
    else:
        checks.append(Check("server_version", OK, f"PostgreSQL {major}"))
    in_recovery = bool(_scalar(conn, "SELECT pg_is_in_recovery()"))
    if in_recovery:
        checks.append(
            Check(
                "writer",
                WARN if version >= 160000 else FAIL,
                "the server is a standby (pg_is_in_recovery() = true)",
                "point --dsn at the primary (logical slots on standbys need PostgreSQL 16+ "
                "and hot_standby_feedback = on)",
            )
        )
    else:
        checks.append(Check("writer", OK, "the server is a primary"))
    return checks


def check_wal_level(conn: Connection) -> Check:
    wal_level = _setting(conn, "wal_level")
    rds = _setting(conn, "rds.logical_replication")
    if wal_level == "logical":
        detail = "wal_level = logical" + (f", rds.logical_replication = {rds}" if rds else "")
        return Check("wal_level", OK, detail)
    if rds is not None:
        return Check(
            "wal_level",
            FAIL,
            f"wal_level = {wal_level}, rds.logical_replication = {rds}",
            "set rds.logical_replication = 1 in the DB cluster parameter group and reboot "
            "the writer instance",
        )
    return Check(
        "wal_level",
        FAIL,
        f"wal_level = {wal_level}",
        "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL",
    )


def check_capacity(conn: Connection, slot: str | None) -> list[Check]:
    checks = []
    max_slots = int(str(_setting(conn, "max_replication_slots") or 0))
    used = int(str(_scalar(conn, "SELECT count(*) FROM pg_replication_slots") or 0))
    needs_new = slot is not None and slot_info(conn, slot) is None
    free = max_slots - used
    detail = f"max_replication_slots = {max_slots}, {used} in use"
    if free <= 0 and needs_new:
        checks.append(
            Check(
                "max_replication_slots",
                FAIL,
                detail + f": no room for slot {slot!r}",
                f"raise max_replication_slots (e.g. to {max(10, used + 4)}) and restart, or "
                "drop an unused slot (walstream slot drop)",
            )
        )
    elif free <= 1:
        checks.append(
            Check(
                "max_replication_slots",
                WARN,
                detail,
                f"raise max_replication_slots (e.g. to {max(10, used + 4)}) and restart",
            )
        )
    else:
        checks.append(Check("max_replication_slots", OK, detail))
    senders = int(str(_setting(conn, "max_wal_senders") or 0))
    active = int(
        str(_scalar(conn, "SELECT count(*) FROM pg_stat_replication") or 0)  # walsenders
    )
    detail = f"max_wal_senders = {senders}, {active} in use"
    if senders - active <= 0:
        checks.append(Check("max_wal_senders", FAIL, detail, "raise max_wal_senders and restart"))
    else:
        checks.append(Check("max_wal_senders", OK, detail))
    keep = _setting(conn, "max_slot_wal_keep_size")
    if keep is not None and keep in ("-1", "-1MB"):
        checks.append(
            Check(
                "max_slot_wal_keep_size",
                WARN,
                "max_slot_wal_keep_size = -1: a stopped consumer pins WAL without limit",
                "set max_slot_wal_keep_size (e.g. 100GB, below the free disk) and alert on "
                "walstream status lag; a slot over the limit is invalidated instead of "
                "filling the disk",
            )
        )
    elif keep is not None:
        checks.append(Check("max_slot_wal_keep_size", OK, f"max_slot_wal_keep_size = {keep}"))
    return checks


def check_role(conn: Connection) -> Check:
    row = conn.execute(
        "SELECT r.rolname::text, r.rolsuper, r.rolreplication, "
        "EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'rds_replication' "
        "        AND pg_has_role(r.oid, g.oid, 'MEMBER')) "
        "FROM pg_roles r WHERE r.rolname = current_user"
    ).fetchone()
    assert row is not None
    name, superuser, replication, rds_replication = row
    if superuser or replication:
        how = "superuser" if superuser else "REPLICATION"
        return Check("role", OK, f"role {name} has {how}")
    if rds_replication:
        return Check("role", OK, f"role {name} is a member of rds_replication")
    return Check(
        "role",
        FAIL,
        f"role {name} has neither REPLICATION nor rds_replication",
        f"ALTER ROLE {name} WITH REPLICATION; (on RDS/Aurora: GRANT rds_replication TO {name};)",
    )


def check_publication(conn: Connection, publication: str) -> list[Check]:
    info = publication_info(conn, publication)
    if info is None:
        return [
            Check(
                "publication",
                FAIL,
                f"publication {publication!r} does not exist in database {conn.info.dbname!r}",
                f"walstream publication create --publication {publication} [--table s.t ...]",
            )
        ]
    scope = "FOR ALL TABLES" if info.all_tables else f"{len(info.tables)} tables"
    checks = [
        Check(
            "publication",
            OK if info.tables else WARN,
            f"publication {publication!r}: {scope}, publishes {', '.join(info.operations)}",
            "" if info.tables else f"walstream publication add-table --publication {publication}",
        )
    ]
    for t in info.tables:
        checks.append(check_table(t))
    return checks


def check_table(t: PublishedTable) -> Check:
    name = f"table {t.qualified_name}"
    qualified = f"{_quote(t.schema)}.{_quote(t.table)}"
    publishes_changes = t.pubupdate or t.pubdelete
    if t.replica_identity == "n" and publishes_changes:
        return Check(
            name,
            FAIL,
            "REPLICA IDENTITY NOTHING: UPDATE and DELETE on it fail on the source",
            f"ALTER TABLE {qualified} REPLICA IDENTITY DEFAULT (with a primary key) or FULL",
        )
    if t.replica_identity == "d" and not t.primary_key and publishes_changes:
        return Check(
            name,
            FAIL,
            "no primary key and REPLICA IDENTITY DEFAULT: UPDATE and DELETE on it fail on "
            "the source",
            f"ALTER TABLE {qualified} ADD PRIMARY KEY (...); or REPLICA IDENTITY FULL "
            "(FINAL is then append-only)",
        )
    if not t.primary_key and t.replica_identity != "i":
        return Check(
            name,
            WARN,
            f"no key (REPLICA IDENTITY {t.identity.upper()}): FINAL is append-only for it",
            f"ALTER TABLE {qualified} ADD PRIMARY KEY (...) to get a merged FINAL",
        )
    key = ", ".join(t.primary_key) if t.primary_key else f"index {t.identity_index}"
    return Check(name, OK, f"key ({key}), REPLICA IDENTITY {t.identity.upper()}")


def check_slot(conn: Connection, slot: str) -> Check:
    info = slot_info(conn, slot)
    if info is None:
        return Check(
            "slot",
            WARN,
            f"replication slot {slot!r} does not exist",
            f"walstream slot create --slot {slot} (or walstream run --create-slot)",
        )
    if info.plugin != "pgoutput":
        return Check(
            "slot",
            FAIL,
            f"slot {slot!r} uses plugin {info.plugin!r}",
            f"walstream slot drop --slot {slot}; walstream slot create --slot {slot}",
        )
    if info.database != conn.info.dbname:
        return Check(
            "slot",
            FAIL,
            f"slot {slot!r} belongs to database {info.database!r}, not {conn.info.dbname!r}",
            f"point --dsn at database {info.database!r}",
        )
    if info.wal_status in ("lost", "unreserved"):
        return Check(
            "slot",
            FAIL,
            f"slot {slot!r} wal_status = {info.wal_status}: WAL it needs is (about to be) gone",
            f"walstream slot drop --slot {slot}; walstream slot create --slot {slot}; then "
            "re-snapshot the tables (walstream snapshot)",
        )
    state = f"active (pid {info.active_pid})" if info.active_pid is not None else "inactive"
    detail = f"slot {slot!r}: pgoutput, {state}, wal_status = {info.wal_status}"
    if info.wal_status == "extended":
        return Check(
            "slot",
            WARN,
            detail + " (retains more than max_wal_size)",
            "check the consumer: walstream status",
        )
    return Check("slot", OK, detail)


def run_checks(conn: Connection, *, slot: str | None, publication: str | None) -> list[Check]:
    """Every check of the source, in the order an operator fixes them."""
    checks = check_server(conn)
    checks.append(check_wal_level(conn))
    checks.append(check_role(conn))
    checks += check_capacity(conn, slot)
    if publication:
        checks += check_publication(conn, publication)
    if slot:
        checks.append(check_slot(conn, slot))
    return checks


def _quote(name: str) -> str:
    return (
        '"' + name.replace('"', '""') + '"'
        if not name.islower() or not name.isidentifier()
        else name
    )
