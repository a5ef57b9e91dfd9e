"""The heartbeat: a transactional logical message every ``--heartbeat-interval`` seconds.

Why: a slot only moves its ``restart_lsn`` when the walsender decodes WAL of the slot's database
and the consumer confirms it. On a busy cluster whose published tables are quiet, the slot's
database may write nothing for hours while other databases write gigabytes, and every byte of
that WAL stays pinned. A transactional ``pg_logical_emit_message`` writes a tiny transaction in
the slot's own database: the walsender streams it (Begin, Message, Commit; pgoutput sends it
because walstream asks for ``messages 'true'``), the read loop acknowledges its end LSN like any
empty transaction (DESIGN.md §1.5), and ``restart_lsn`` follows.

The heartbeat runs in its own thread on its own ordinary connection, so it never waits on the
read loop. Failures are logged and counted, never fatal: the stream itself is what matters. A
server in recovery cannot write messages; ``walstream run`` refuses a standby at start, so that
is a failover in progress: the heartbeat says so once and keeps trying until a writer answers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable

import psycopg

from .errors import WalstreamError
from .metrics import METRICS, Metrics

log = logging.getLogger("walstream.heartbeat")

PREFIX = "walstream_heartbeat"

Connection = psycopg.Connection[tuple[object, ...]]


class Heartbeat:
    """Emits ``pg_logical_emit_message(true, 'walstream_heartbeat', <UTC time>)`` periodically.

    ``connect`` opens the heartbeat's connection; it is called again after a failure (a fresh
    RDS IAM token or rotated password each time).
    """

    def __init__(
        self,
        connect: Callable[[], Connection],
        interval: float,
        *,
        metrics: Metrics = METRICS,
    ) -> None:
        if interval <= 0:
            raise ValueError("heartbeat interval must be positive")
        self._connect = connect
        self.interval = interval
        self._metrics = metrics
        self._stop = threading.Event()
        self._conn: Connection | None = None
        self._thread = threading.Thread(target=self._run, name="walstream-heartbeat", daemon=True)
        self.sent = 0
        self.last_lsn: str | None = None

    def start(self) -> Heartbeat:
        self._thread.start()
        log.info("event=heartbeat_start interval_s=%s", self.interval)
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.interval + 5.0))
        self._disconnect()

    def beat(self) -> str:
        """Emit one heartbeat now; returns its LSN (text). Raises psycopg/Walstream errors."""
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
        payload = dt.datetime.now(dt.UTC).isoformat()
        row = self._conn.execute(
            "SELECT pg_logical_emit_message(true, %s, %s)::text", (PREFIX, payload)
        ).fetchone()
        assert row is not None
        self.sent += 1
        self.last_lsn = str(row[0])
        return self.last_lsn

    def _run(self) -> None:
        failures = 0
        standby = False
        while not self._stop.is_set():
            try:
                lsn = self.beat()
            except (psycopg.Error, WalstreamError) as exc:
                failures += 1
                self._metrics.heartbeats.labels("error").inc()
                self._metrics.errors.labels("heartbeat").inc()
                self._disconnect()
                message = " ".join(str(exc).split())
                if "recovery" in message:
                    if not standby:
                        log.warning(
                            "event=heartbeat_paused reason=standby error=%s "
                            "hint=the server is in recovery (a failover?); retrying until a "
                            "writer answers",
                            message,
                        )
                    standby = True
                elif failures == 1 or failures % 10 == 0:
                    log.warning("event=heartbeat_failed failures=%d error=%s", failures, message)
            else:
                if standby:
                    log.info("event=heartbeat_resumed failures=%d", failures)
                standby = False
                failures = 0
                self._metrics.heartbeats.labels("ok").inc()
                log.debug("event=heartbeat lsn=%s", lsn)
            self._stop.wait(self.interval)

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()
