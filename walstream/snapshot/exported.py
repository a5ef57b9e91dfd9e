"""The exported snapshot: a replication slot's consistent point, as an MVCC snapshot to read from.

``CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export')`` on a replication connection returns the slot's
consistent point and the name of a snapshot that sees exactly the transactions committed before
it; the slot streams exactly the ones committed at or after it. The snapshot stays importable
(``SET TRANSACTION SNAPSHOT``) only while that connection stays open and idle, so
:class:`SlotSnapshot` holds it and runs nothing else on it until :meth:`SlotSnapshot.close`.

Two kinds of slot:

- the pipeline's own slot, created here when it does not exist yet (initial load): the load and
  the stream that follows meet at its consistent point;
- a ``TEMPORARY`` slot next to an existing one (reload, or finishing an interrupted load): only
  its consistent point matters, since every slot of a database numbers the WAL the same way;
  PostgreSQL drops it when the connection closes.

Where the full-load rows sit (``_walstream_lsn``): a streamed transaction's position is the LSN
where its commit record *starts*, and PostgreSQL streams a commit that starts exactly at the
consistent point (records are 8-byte aligned and the consistent point is a record boundary). So
the load takes :attr:`ExportedSnapshot.snapshot_lsn` = consistent point - 1: after every commit
the snapshot sees (they start at least one record before the consistent point), before every
commit the slot streams, and never the position of a real commit.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from ..errors import SourceError
from ..lsn import format_lsn, parse_lsn
from ..pg.replication import ReplicationStream, quote_ident

log = logging.getLogger("walstream.snapshot")

#: PostgreSQL's limit on slot names (NAMEDATALEN - 1).
MAX_SLOT_NAME = 63


@dataclass(frozen=True, slots=True)
class ExportedSnapshot:
    """A snapshot name and the WAL position it stands for."""

    snapshot_name: str
    consistent_point: int
    slot: str | None = None  # the slot that exported it, when walstream created one

    @property
    def snapshot_lsn(self) -> int:
        """``_walstream_lsn`` of the full-load rows: consistent point - 1 (module docstring)."""
        return self.consistent_point - 1


def temporary_slot_name(slot: str) -> str:
    """A fresh name for a temporary slot next to ``slot``: ``<slot>_snap_<6 hex>``."""
    suffix = f"_snap_{secrets.token_hex(3)}"
    return slot[: MAX_SLOT_NAME - len(suffix)] + suffix


class SlotSnapshot:
    """A replication connection that created a slot with an exported snapshot and holds it.

    Usage: ``with SlotSnapshot(dsn, name, temporary=...) as held: ... held.snapshot ...``; the
    snapshot is importable until the ``with`` block ends.
    """

    def __init__(self, dsn: str, slot: str, *, temporary: bool) -> None:
        self._stream = ReplicationStream(dsn)
        self._slot = slot
        self._temporary = temporary
        self.snapshot: ExportedSnapshot | None = None

    def __enter__(self) -> SlotSnapshot:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> ExportedSnapshot:
        stream = self._stream
        stream.connect()
        temporary = " TEMPORARY" if self._temporary else ""
        # EXPORT_SNAPSHOT is the spelling before 15 (still accepted, but deprecated, by 15+)
        option = "(SNAPSHOT 'export')" if stream.server_version >= 150000 else "EXPORT_SNAPSHOT"
        sql = (
            f"CREATE_REPLICATION_SLOT {quote_ident(self._slot)}{temporary} LOGICAL pgoutput "
            + option
        )
        try:
            rows = stream.command(sql)
        except SourceError as exc:
            stream.close()
            raise SourceError(
                f"cannot create replication slot {self._slot!r} with an exported snapshot: "
                f"{_after_colon(str(exc))}; check max_replication_slots and that the role has "
                "REPLICATION"
            ) from None
        _, consistent_point, snapshot_name, _ = rows[0]
        if not snapshot_name or not consistent_point:
            stream.close()
            raise SourceError(
                f"CREATE_REPLICATION_SLOT {self._slot!r} returned no snapshot: the server did not "
                "export one (is this a standby? run the snapshot against the primary)"
            )
        self.snapshot = ExportedSnapshot(snapshot_name, parse_lsn(consistent_point), self._slot)
        log.info(
            "event=snapshot_exported slot=%s temporary=%s consistent_point=%s snapshot=%s",
            self._slot,
            str(self._temporary).lower(),
            format_lsn(self.snapshot.consistent_point),
            snapshot_name,
        )
        return self.snapshot

    def close(self) -> None:
        """End the snapshot (and drop the slot if temporary) by closing the connection."""
        self._stream.close()


def _after_colon(message: str) -> str:
    """``CREATE_REPLICATION_SLOT failed: ERROR: x`` -> ``ERROR: x`` (the server's words)."""
    return message.split(" failed: ", 1)[-1]
