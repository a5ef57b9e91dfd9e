"""The replication connection: START_REPLICATION over COPY BOTH, at the ``psycopg.pq`` level.

psycopg 3 has no replication API, but its ``pq`` layer exposes libpq directly: we open a
``replication=database`` connection, run walsender commands with the simple query protocol, and
read the COPY BOTH stream with non-blocking ``get_copy_data`` and a selector on the socket
(:meth:`ReplicationStream.wait_for_input`: when to wait and for how much). The read loop that
takes the frames apart (XLogData ``w``, keepalive ``k``) is
:func:`walstream.capture.frames.frames`, with the errors for malformed frames from here; this
module writes the standby status update ``r``. What is inside XLogData is
:mod:`walstream.pg.pgoutput`'s business.

Nothing here decides *what* to acknowledge: :meth:`ReplicationStream.send_status` sends whatever
LSN the caller proves durable.
"""

from __future__ import annotations

import contextlib
import os
import select
import selectors
import socket
import time
from dataclasses import dataclass
from typing import Any, NoReturn, cast

import psycopg
from psycopg import pq
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..errors import ConfigError, ProtocolError, SourceError
from ..lsn import format_lsn
from .wire import (
    KEEPALIVE,
    KEEPALIVE_SIZE,
    PG_EPOCH_US,
    STATUS,
    STATUS_UPDATE,
    XLOG_DATA,
    XLOG_PAYLOAD,
)

# The walsender formats text values with the session's settings; pin them so text output is
# the same on every server whatever its postgresql.conf says (our text decoders assume these).
SESSION_OPTIONS = (
    "-c DateStyle=ISO -c IntervalStyle=postgres -c TimeZone=UTC "
    "-c extra_float_digits=3 -c bytea_output=hex -c client_encoding=UTF8 -c lc_monetary=C"
)

# Reading in bulk when the reader is ahead of the walsender (see ReplicationStream._wait): after
# a call that read frames until the socket ran dry, the next wait lasts until LOWAT bytes are
# queued or BUSY_WAIT_S has passed.
LOWAT = 64 * 1024
BUSY_WAIT_S = 0.005
# The replication socket's receive buffer (SO_RCVBUF; Linux doubles it for its bookkeeping).
# Fixed, because a low-water mark on a socket the kernel sizes itself makes Linux clamp the TCP
# window to the mark (see ReplicationStream._wait). --socket-rcvbuf (WALSTREAM_SOCKET_RCVBUF)
# sets another size; 0 leaves the buffer to the kernel's autotuning and reads without a mark.
RCVBUF = 128 * 1024


def fix_receive_buffer(sock: socket.socket, rcvbuf: int = RCVBUF) -> bool:
    """Give ``sock`` a fixed receive buffer of ``rcvbuf`` bytes (0: leave it to the kernel);
    True when it has one (bulk reads are safe)."""
    if not rcvbuf:
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    except OSError:  # a socket without the option: read frames as they come
        return False
    return True


@dataclass(frozen=True, slots=True)
class Keepalive:
    """The server's heartbeat: its current send position and whether it wants a reply now."""

    wal_end: int
    send_time_us: int
    reply_requested: bool


def now_pg_us() -> int:
    """Now, in microseconds since 2000-01-01 (the protocol's clock)."""
    return time.time_ns() // 1000 - PG_EPOCH_US


def replication_conninfo(dsn: str, settings: dict[str, str] | None = None) -> str:
    """The user's DSN plus ``replication=database``, our pinned and any extra session settings."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid --dsn: {exc}") from None
    options = str(params.get("options") or "")
    extra = " ".join(f"-c {k}={v}" for k, v in (settings or {}).items())
    return make_conninfo(
        dsn,
        replication="database",
        options=f"{options} {SESSION_OPTIONS} {extra}".strip(),
        application_name=str(params.get("application_name") or "walstream"),
    )


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ReplicationStream:
    """A walsender session streaming one logical slot.

    Usage: ``connect()``, ``start(...)``, then :func:`walstream.capture.frames.frames` in a
    loop, ``send_status`` whenever an LSN becomes durable (and at least every few seconds),
    ``close()``.
    """

    def __init__(
        self, dsn: str, settings: dict[str, str] | None = None, rcvbuf: int = RCVBUF
    ) -> None:
        self._conninfo = replication_conninfo(dsn, settings)
        self._rcvbuf = rcvbuf
        self._conn: pq.abc.PGconn | None = None
        self._selector: selectors.DefaultSelector | None = None
        self._fd = -1
        self._busy = False
        self._sock: socket.socket | None = None
        self._lowat = 1
        self.server_version = 0

    # -- connection -------------------------------------------------------------------------
    def connect(self, connect_timeout: float = 10.0) -> None:
        """Open the walsender connection, waiting on its socket rather than inside libpq.

        psycopg's C implementation holds the GIL through libpq's blocking connect: a server
        that does not answer (during a failover, an address that drops packets) would freeze
        the flusher, the heartbeat and ``/healthz`` for the whole ``connect_timeout``.
        """
        conninfo = make_conninfo(self._conninfo, connect_timeout=str(int(connect_timeout)))
        conn = pq.PGconn.connect_start(conninfo.encode())
        deadline = time.monotonic() + connect_timeout
        status = pq.PollingStatus.WRITING
        if conn.status == pq.ConnStatus.BAD:  # e.g. a host name that does not resolve
            status = pq.PollingStatus.FAILED
        while status not in (pq.PollingStatus.OK, pq.PollingStatus.FAILED):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                conn.finish()
                raise SourceError(
                    f"cannot open a replication connection: no answer in {connect_timeout:g}s"
                )
            sock = conn.socket
            reading = status == pq.PollingStatus.READING
            select.select([sock] if reading else [], [] if reading else [sock], [], remaining)
            status = pq.PollingStatus(conn.connect_poll())
        if conn.status != pq.ConnStatus.OK:
            message = " ".join(conn.get_error_message().split())
            conn.finish()
            raise SourceError(f"cannot open a replication connection: {message}")
        self._conn = conn
        self.server_version = conn.server_version

    @property
    def conn(self) -> pq.abc.PGconn:
        if self._conn is None:
            raise RuntimeError("replication stream is not connected")
        return self._conn

    def command(self, sql: str) -> list[tuple[str | None, ...]]:
        """Run a walsender command (simple query protocol) and return its rows as text."""
        res = self.conn.exec_(sql.encode())
        if res.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
            message = (res.error_message or self.conn.error_message).decode(errors="replace")
            raise SourceError(f"{sql.split()[0]} failed: {message.strip()}")
        rows: list[tuple[str | None, ...]] = []
        for i in range(res.ntuples):
            row = []
            for j in range(res.nfields):
                value = res.get_value(i, j)
                row.append(None if value is None else bytes(value).decode())
            rows.append(tuple(row))
        return rows

    def identify_system(self) -> tuple[str, int, str]:
        """(systemid, timeline, current xlogpos) of the server."""
        systemid, timeline, xlogpos, _ = self.command("IDENTIFY_SYSTEM")[0]
        return str(systemid), int(timeline or 0), str(xlogpos)

    def start(self, slot: str, start_lsn: int, options: dict[str, str]) -> None:
        """Send START_REPLICATION and switch to COPY BOTH."""
        opts = ", ".join(f"{quote_ident(k)} {_quote_literal(v)}" for k, v in options.items())
        sql = f"START_REPLICATION SLOT {quote_ident(slot)} LOGICAL {format_lsn(start_lsn)} ({opts})"
        conn = self.conn
        conn.send_query(sql.encode())
        while conn.is_busy():  # wait here, not in libpq's get_result (which holds the GIL)
            select.select([conn.socket], [], [])
            conn.consume_input()
        res = conn.get_result()
        if res is None or res.status != pq.ExecStatus.COPY_BOTH:
            message = ""
            if res is not None:
                message = (res.error_message or b"").decode(errors="replace").strip()
            message = message or conn.get_error_message().strip()
            raise SourceError(f"START_REPLICATION on slot {slot!r} failed: {message}")
        conn.nonblocking = 1
        self._selector = selectors.DefaultSelector()
        self._fd = conn.socket
        self._selector.register(self._fd, selectors.EVENT_READ)
        # our own handle on libpq's socket (a dup: closing it leaves libpq's alone), to size
        # its receive buffer and set its low-water mark (see _wait)
        self._sock = socket.socket(fileno=os.dup(self._fd))
        self._lowat = 1
        self._bulk = fix_receive_buffer(
            self._sock, self._rcvbuf
        )  # whether _wait may raise the mark

    def watch(self, sock: socket.socket) -> None:
        """Also end :meth:`wait_for_input`'s wait when ``sock`` becomes readable (e.g. a flush is
        done).

        ``sock`` must be non-blocking; :meth:`wait_for_input` reads (and discards) what arrives on
        it.
        """
        assert self._selector is not None
        self._selector.register(sock, selectors.EVENT_READ)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._conn is not None:
            self._conn.finish()
            self._conn = None

    # -- stream -----------------------------------------------------------------------------
    @property
    def pgconn_ptr(self) -> int:
        """The address of libpq's ``PGconn``, for the C read loop (same libpq, same state)."""
        return int(cast(Any, self.conn).pgconn_ptr)  # not in pq.abc

    def wait_for_input(self, waited: bool, timeout: float, got: bool) -> bool:
        """libpq has no whole frame: wait for more and read it in; False when the reader should
        return (nothing came in time, or a watched socket woke it).

        The first wait of a read (``waited`` false) lasts up to ``timeout``; afterwards the
        reader keeps reading for as long as the socket has more (a select with no wait), and
        returns when it runs dry, after which the next read waits for a bulk of frames if this
        one ``got`` any (see :meth:`_wait`).
        """
        assert self._selector is not None
        if waited:
            events = self._selector.select(0)
            if not events:
                # ran dry: we read faster than the walsender sends
                self._busy = got
                return False
        else:
            events = self._wait(timeout)
        woken = False
        for key, _ in events:
            if key.fd != self._fd:  # a watched socket: drain it, let the caller look
                woken = True
                with contextlib.suppress(BlockingIOError):
                    key.fileobj.recv(4096)  # type: ignore[union-attr]
        if woken or not events:
            return False
        self.conn.consume_input()
        return True

    def _wait(self, timeout: float) -> list[tuple[selectors.SelectorKey, int]]:
        """Wait for the stream's socket (or a watched one) to become readable.

        While the stream is busy (the last call read frames until the socket ran dry), the
        wait ends only when ``LOWAT`` bytes have arrived (the socket's receive low-water mark)
        or after ``BUSY_WAIT_S``, whichever is first; then whatever is there is read. So a
        reader that is faster than the walsender wakes once per few hundred changes instead of
        once per few, and a trickle waits at most a few milliseconds. When the stream is idle
        the mark is one byte: the first frame after a pause is read at once.

        Why it matters (bench/README.md, "Read loop"): every wake-up costs two syscalls and a
        turn of the read loop here, and a wake-up on the walsender's side for each message it
        sends to a sleeping reader. On a 2-core host, reading in bulk halved the walsender's
        CPU on narrow-insert and made the whole run ~1.7x faster.

        The mark is only used on a socket whose receive buffer is fixed (``RCVBUF``, set at
        connect). On a buffer the kernel sizes itself, Linux's SO_RCVLOWAT grows the buffer to fit
        the mark and clamps the TCP window to the mark (64 KiB) for the rest of the connection, and
        the autotuned buffer stays small while the reader lets bytes queue. Over loopback, where a
        segment may be 64 KiB, the window offered then fell below one segment (`ss`: 34-43 KB
        offered, 48-52 KB segments, 4 MB waiting at the walsender), and the walsender sat out its
        200 ms persist timer: runs of 0.25-0.5 s in which neither side did anything, once or several
        times in most wide-update runs (16 and 32 KiB marks too). On a real network the clamp alone
        limits the stream to 64 KiB per round trip. A fixed 256 KiB buffer (128 KiB asked; Linux
        doubles it) removed the stalls and kept the bulk reads: wide-update 2.77 -> 2.23 s,
        mixed-oltp 1.11 -> 0.88 s, big-txn 7.2 -> 6.5 s (CPU 3.2 -> 2.4 s), toast 3.61 -> 3.38 s,
        narrow-insert unchanged (medians of 2 to 3 runs on one slot each). With
        --socket-rcvbuf 0 (far from the database, where a window of 256 KiB per round trip
        is too small) the kernel sizes the buffer and frames are read as they come.
        """
        assert self._selector is not None
        busy = self._busy
        self._busy = False
        want = LOWAT if busy and self._bulk else 1
        if want != self._lowat and self._sock is not None:
            with contextlib.suppress(OSError):  # not every socket has one (then: no effect)
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, want)
            self._lowat = want
        if not busy:
            return self._selector.select(timeout)
        events = self._selector.select(min(timeout, BUSY_WAIT_S))
        if events:
            return events
        # the mark was not reached: read what there is (maybe nothing: then idle from here)
        key = self._selector.get_key(self._fd)
        return [(key, selectors.EVENT_READ)]

    def raise_stream_end(self) -> NoReturn:
        """libpq says the COPY ended: raise why (ConnectionLost, or StreamRefused when a
        reconnect would meet the same error)."""
        conn = self.conn
        message = conn.get_error_message().strip()
        res = conn.get_result()
        sqlstate = ""
        if res is not None and res.error_message:
            message = res.error_message.decode(errors="replace").strip()
            sqlstate = (res.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
        message = " ".join(message.split()) or "server closed the stream"
        if sqlstate and not sqlstate.startswith(RECONNECTABLE_SQLSTATE_CLASSES):
            # The walsender hit an error decoding the WAL: it will hit it again at the same
            # place after a reconnect, so say what it is instead of retrying forever.
            hint = _STREAM_ERROR_HINTS.get(sqlstate, "")
            raise StreamRefused(
                f"the server stopped the replication stream with an error (SQLSTATE {sqlstate}): "
                f"{message}{hint}; nothing after the last stored transaction was acknowledged"
            )
        raise ConnectionLost(f"replication stream ended: {message}")

    def send_status(self, write_lsn: int, flush_lsn: int, reply: bool = False) -> None:
        """Standby status update: ``flush_lsn`` becomes the slot's ``confirmed_flush_lsn``."""
        msg = STATUS.pack(STATUS_UPDATE, write_lsn, flush_lsn, flush_lsn, now_pg_us(), int(reply))
        conn = self.conn
        if conn.put_copy_data(msg) != 1:
            raise ConnectionLost(f"cannot send status update: {conn.get_error_message().strip()}")
        # non-blocking flush: finish later if the socket is full; a status update is tiny
        deadline = time.monotonic() + 10
        while conn.flush() == 1:
            if time.monotonic() > deadline:
                raise ConnectionLost("cannot send status update: socket stays full")
            time.sleep(0.001)


class ConnectionLost(SourceError):
    """The replication connection broke; the caller may reconnect and resume from the slot."""


class StreamRefused(SourceError):
    """The walsender reported an error that a reconnect would meet again (bad data, bugs)."""


# Connection exceptions, operator intervention (shutdown, pg_terminate_backend), resources:
# a new connection may well succeed.
RECONNECTABLE_SQLSTATE_CLASSES = ("08", "57", "53", "58")

_STREAM_ERROR_HINTS = {
    "55000": (
        ". If the slot was invalidated (wal_status lost: the WAL it needed is gone), changes "
        "were lost: drop and recreate the slot, then reload the tables with walstream snapshot "
        "(see docs/operations.md, 'Slot lost or invalidated')"
    ),
    "22021": (
        ". The source holds text that is not valid UTF-8 (a SQL_ASCII database?): walstream "
        "writes UTF-8; fix or re-encode the row, or take its table out of the publication"
    ),
}


def unknown_frame(kind: int) -> ProtocolError:
    return ProtocolError(f"unknown replication stream message type 0x{kind:02X} ({chr(kind)!r})")


def truncated_frame(data: memoryview) -> ProtocolError:
    """The error for a CopyData message too short for its type (see
    :func:`walstream.capture.frames.frames`)."""
    kind = data[0]
    if kind == XLOG_DATA:
        need = (
            f"an XLogData frame is a {XLOG_PAYLOAD}-byte header and a pgoutput message of 1 "
            "byte or more"
        )
    elif kind == KEEPALIVE:
        need = f"a keepalive is {KEEPALIVE_SIZE} bytes"
    else:
        return unknown_frame(kind)
    return ProtocolError(
        f"truncated replication stream message of {len(data)} bytes ({need}): the server "
        "or the connection is broken; walstream stops without acknowledging anything after it"
    )
