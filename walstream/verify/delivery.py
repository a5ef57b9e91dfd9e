"""The snapshot verify compares at, and whether everything before it was delivered (steps 1
and 2 of :mod:`walstream.verify`)."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from ..errors import SourceError
from ..lsn import format_lsn, parse_lsn


def open_snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """Start the REPEATABLE READ read-only snapshot on ``conn``; returns its LSN ``S``."""
    conn.autocommit = False
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return parse_lsn(str(row[0]))


_PEEK_PENDING = """
SELECT count(*) FROM pg_logical_slot_peek_binary_changes(
    %s, %s::pg_lsn, NULL, 'proto_version', '1', 'publication_names', %s)
WHERE get_byte(data, 0) IN (73, 85, 68, 84)  -- pgoutput Insert, Update, Delete, Truncate
"""


def pending_changes(
    conn: psycopg.Connection[tuple[object, ...]], slot: str, publication: str, upto: int
) -> int:
    """Row changes of ``publication`` the (inactive) slot holds for commits before ``upto``.

    Peeking decodes without consuming: the slot does not move. A stopped consumer on a busy
    cluster is always behind the current WAL LSN, yet has nothing to deliver when all that
    WAL is other databases' or other tables' traffic; this tells the two apart.
    """
    try:
        row = conn.execute(_PEEK_PENDING, (slot, format_lsn(upto), publication)).fetchone()
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot peek slot {slot!r} for pending changes: {' '.join(str(exc).split())}"
        ) from None
    return int(str(row[0])) if row else 0


def wait_until_delivered(
    conn: psycopg.Connection[tuple[object, ...]],
    slot: str,
    publication: str | None,
    target: int,
    timeout: float,
) -> tuple[int | None, int | None]:
    """Wait until every change committed before ``target`` is stored (or ``timeout``).

    Returns (confirmed_flush_lsn, pending changes: 0 when delivered, None when unknown). With a
    consumer attached, delivered means confirmed_flush_lsn >= target (walstream acknowledges
    only what is stored, and acknowledges keepalives when idle). Without one, the slot is
    peeked: no pending row change of the publication before ``target`` also means delivered.
    """
    deadline = time.monotonic() + timeout
    pending: int | None = None
    peeked = False
    while True:
        row = conn.execute(
            "SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (slot,),
        ).fetchone()
        if row is None:
            raise SourceError(f"replication slot {slot!r} does not exist")
        confirmed = None if row[0] is None else parse_lsn(str(row[0]))
        if confirmed is not None and confirmed >= target:
            return confirmed, 0
        if not row[1] and publication and not peeked:
            peeked = True
            pending = pending_changes(conn, slot, publication, target)
            if pending == 0:
                return confirmed, 0
        if time.monotonic() >= deadline:
            return confirmed, pending
        time.sleep(0.2)


def delivered(
    dsn: str, slot: str, publication: str | None, snapshot: int, wait: float, report: Any
) -> bool:
    """Step 2 for both methods: wait until ``slot`` has stored every change before
    ``snapshot``; else mark ``report`` (a VerifyReport) behind with the way out."""
    from ..pg import source
    from .report import BEHIND

    with source.connect(dsn) as poll:
        confirmed, pending = wait_until_delivered(poll, slot, publication, snapshot, wait)
    report.confirmed_flush_lsn = None if confirmed is None else format_lsn(confirmed)
    report.pending_changes = pending
    if pending == 0:
        return True
    report.status = BEHIND
    known = "" if pending is None else f" ({pending} row changes pending)"
    report.note = (
        f"the slot has confirmed {report.confirmed_flush_lsn} < snapshot "
        f"{report.snapshot_lsn}{known}: walstream has not stored everything yet; "
        "run again with --wait, or check walstream status"
    )
    return False
