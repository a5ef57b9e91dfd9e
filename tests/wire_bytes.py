"""Replication stream bytes for tests that need no server, and a libpq stand-in for the C loop.

The builders write the frames and pgoutput messages of PostgreSQL's "Streaming Replication
Protocol" and "Logical Replication Message Formats" (protocol version 2: streamed transactions
carry their xid). :class:`FakeLibpq` serves a list of frames through the two libpq functions
the C read loop calls (``PQgetCopyData``, ``PQfreemem``), so walstream._accel runs on them
exactly as on a connection; :func:`bind` points the extension at it and back at the real libpq.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from walstream.capture import switch
from walstream.pg.wire import PG_EPOCH_US

HEADER = struct.Struct("!cQQQ")
BEGIN = struct.Struct("!cQqI")
COMMIT = struct.Struct("!cBQQq")
KEEPALIVE = struct.Struct("!cQqB")


def xlog(message: bytes, end: int = 0x1000) -> bytes:
    """An XLogData frame carrying ``message``, the server's WAL end at ``end``."""
    return HEADER.pack(b"w", 0x10, end, 0) + message


def keepalive(wal_end: int, reply: bool = False) -> bytes:
    return KEEPALIVE.pack(b"k", wal_end, 0, int(reply))


def begin(final_lsn: int, xid: int, ts: int = 5) -> bytes:
    return xlog(BEGIN.pack(b"B", final_lsn, ts, xid))


def commit(lsn: int, end: int, ts: int = 5) -> bytes:
    return xlog(COMMIT.pack(b"C", 0, lsn, end, ts), end=end)


def cstring(text: str) -> bytes:
    return text.encode() + b"\x00"


def relation(oid: int, name: str, columns: Sequence[tuple[str, int, bool]]) -> bytes:
    """A Relation message: ``columns`` as (name, type OID, part of the key)."""
    body = oid.to_bytes(4, "big") + cstring("public") + cstring(name) + b"d"
    body += len(columns).to_bytes(2, "big")
    for column, type_oid, key in columns:
        body += bytes([int(key)]) + cstring(column) + struct.pack("!Ii", type_oid, -1)
    return xlog(b"R" + body)


def tuple_data(*values: str | None) -> bytes:
    """TupleData of text values (None: NULL)."""
    out = len(values).to_bytes(2, "big")
    for value in values:
        if value is None:
            out += b"n"
        else:
            raw = value.encode()
            out += b"t" + len(raw).to_bytes(4, "big") + raw
    return out


def change(kind: bytes, oid: int, part: bytes, row: bytes) -> bytes:
    return kind + oid.to_bytes(4, "big") + part + row


def insert(oid: int, *values: str | None) -> bytes:
    return xlog(change(b"I", oid, b"N", tuple_data(*values)))


def delete(oid: int, *key: str | None) -> bytes:
    """A Delete carrying the old key: every column, those not in the key NULL."""
    return xlog(change(b"D", oid, b"K", tuple_data(*key)))


def update(oid: int, new: Sequence[str | None], old_key: Sequence[str | None] = ()) -> bytes:
    old = b"K" + tuple_data(*old_key) if old_key else b""
    return xlog(b"U" + oid.to_bytes(4, "big") + old + b"N" + tuple_data(*new))


def stream_start(xid: int, first: bool = True) -> bytes:
    return xlog(b"S" + struct.pack("!IB", xid, int(first)))


def stream_stop() -> bytes:
    return xlog(b"E")


def stream_insert(xid: int, oid: int, *values: str | None) -> bytes:
    return xlog(b"I" + struct.pack("!II", xid, oid) + b"N" + tuple_data(*values))


def stream_commit(xid: int, lsn: int, end: int, ts: int = 5) -> bytes:
    return xlog(b"c" + struct.pack("!IBQQq", xid, 0, lsn, end, ts), end=end)


def commit_ts_us(ts: int = 5) -> int:
    """A message's commit time as walstream records it (Unix microseconds)."""
    return ts + PG_EPOCH_US


GET_COPY_DATA = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int
)
FREEMEM = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.free.argtypes = [ctypes.c_void_p]


class FakeLibpq:
    """PQgetCopyData/PQfreemem over a list of frames; then 0 (no data) or -1 (COPY done)."""

    def __init__(self, frames: list[bytes], end: int = 0) -> None:
        self.frames = list(frames)
        self.end = end
        self.outstanding = 0
        self.taken_by_c = 0  # frames the C loop read
        self.get = GET_COPY_DATA(self._get)
        self.free = FREEMEM(self._free)

    def _get(self, conn: int, out: Any, is_async: int) -> int:
        if not self.frames:
            return self.end
        frame = self.frames.pop(0)
        ptr = _libc.malloc(max(len(frame), 1))
        ctypes.memmove(ptr, frame, len(frame))
        out[0] = ptr
        self.outstanding += 1
        self.taken_by_c += 1
        return len(frame)

    def _free(self, ptr: int) -> None:
        self.outstanding -= 1
        _libc.free(ptr)

    def get_copy_data(self, is_async: int) -> tuple[int, memoryview | None]:
        """psycopg's ``PGconn.get_copy_data`` over the same frames (the Python loop)."""
        if not self.frames:
            return self.end, None
        frame = self.frames.pop(0)
        return len(frame), memoryview(frame)

    def addresses(self) -> tuple[int, int]:
        get = ctypes.cast(self.get, ctypes.c_void_p).value
        free = ctypes.cast(self.free, ctypes.c_void_p).value
        assert get and free
        return get, free


@contextmanager
def bound(fake: FakeLibpq) -> Iterator[Any]:
    """The C read loop reading from ``fake``; the real libpq bound again afterwards."""
    module, _ = switch.read_loop()
    assert module is not None
    module.init(*fake.addresses())
    try:
        yield module
    finally:
        switch.read_loop.cache_clear()
        assert switch.read_loop()[0] is not None
