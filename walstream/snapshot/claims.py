"""Who reads which chunk: session advisory locks on the source, one per chunk of a plan.

Workers on any number of machines already share one thing that is durable, consistent and
watches over their liveness: the source database. A worker claims a chunk with
``pg_try_advisory_lock(load, ordinal)`` on the connection that reads it; PostgreSQL releases the
lock when that session ends, however it ends. So a worker killed mid-chunk loses only that
chunk: its connection closes (at once for a killed process; within the keepalive settings
below for a machine that vanished) and the next worker to look claims it. No lease server, no
clock, no second store to keep consistent with DEST.

The first key is derived from the plan (the slot and the snapshot LSN), the second is the
chunk's ordinal, so two loads, or two slots' loads, never contend for one lock. An application
that happens to use the same pair of keys would only make a chunk look busy until it lets go.
"""

from __future__ import annotations

import zlib
from typing import Any

import psycopg
from psycopg import pq

from .plan import LoadPlan

#: Server-side TCP keepalives of a worker's session: a worker whose machine vanished loses its
#: claims within about idle + interval * count seconds.
KEEPALIVES = {"tcp_keepalives_idle": 30, "tcp_keepalives_interval": 10, "tcp_keepalives_count": 3}


def load_key(plan: LoadPlan) -> int:
    """The advisory lock's first key: a signed 32-bit number from the slot and snapshot LSN."""
    digest = zlib.crc32(f"walstream-load:{plan.slot}:{plan.snapshot_lsn:X}".encode())
    return digest - (1 << 32) if digest >= 1 << 31 else digest


class Claims:
    """Chunk claims held by one session (the worker's reading connection)."""

    def __init__(self, conn: psycopg.Connection[Any], plan: LoadPlan) -> None:
        self._conn = conn
        self._key = load_key(plan)
        self.held: set[int] = set()
        for name, seconds in KEEPALIVES.items():
            conn.execute(f"SET {name} = {seconds}")

    def try_claim(self, ordinal: int) -> bool:
        row = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (self._key, ordinal)
        ).fetchone()
        claimed = bool(row and row[0])
        if claimed:
            self.held.add(ordinal)
        return claimed

    def release(self, ordinal: int) -> None:
        if ordinal not in self.held:
            return
        self.held.discard(ordinal)
        if self._conn.info.transaction_status == pq.TransactionStatus.INERROR:
            return  # the read failed: the session is closed next, and the lock goes with it
        self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self._key, ordinal))
