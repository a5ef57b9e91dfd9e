"""Fuzz harness: the COPY BOTH frame parsing of :func:`walstream.capture.frames.frames`.

``frames()`` (the read loop's, here without its C part) reads the walsender's CopyData messages
and yields XLogData (``w``: start LSN, end LSN, send time, then one pgoutput message) and
keepalive (``k``: end LSN, send time, reply flag) frames; it is the layer under the pgoutput
decoder. There is no separate pure parse
function, so this harness runs the real ``frames()`` over a stand-in for libpq's connection
(:class:`_CopyDataFeed`): ``get_copy_data`` hands out the fuzzed CopyData payloads one by one,
then reports the end of the COPY (-1), as libpq does when the server closes the stream.

The contract: each payload becomes a frame or raises ProtocolError; the end of input raises
ConnectionLost (a WalstreamError the runner reconnects on). A frame handed to the read loop
must be usable as is, because the loop reads it without checks (hot path): a keepalive's
fields are the ones in its 18 bytes; an XLogData frame (a parsed ``XLogData`` object, or the
raw ``memoryview`` of the frame, depending on the walstream version) has its full 25-byte
header and a message of at least one byte (the loop looks at the message's type byte before
anything else). Each message then goes through a :class:`PgOutputDecoder`, as in the runner.

Input layout: byte 0 picks the pgoutput protocol version (``1 + (b & 3)``); the rest is chunks
(:mod:`fuzz.inputs`), each one CopyData payload (empty and NULL chunks are skipped: libpq never
returns an empty CopyData). Anything else escaping is a finding.

Run: ``python -m fuzz run replication`` (atheris) or import :func:`TestOneInput` (tests).
"""

from __future__ import annotations

import contextlib
import itertools
import struct

from walstream.capture.frames import frames as read_frames
from walstream.errors import ProtocolError
from walstream.pg import replication
from walstream.pg.pgoutput import PgOutputDecoder
from walstream.pg.replication import ConnectionLost, Keepalive, ReplicationStream

from .inputs import split_chunks

MAX_FRAMES = 64
_HEADER = struct.Struct("!QQQ")
_KEEPALIVE = struct.Struct("!QQB")


class _CopyDataFeed:
    """What ``frames()`` uses of ``psycopg.pq.PGconn`` in COPY BOTH mode, fed from a list."""

    def __init__(self, payloads: list[bytes]) -> None:
        self._payloads = iter(payloads)

    def get_copy_data(self, async_: int) -> tuple[int, memoryview]:
        payload = next(self._payloads, None)
        if payload is None:
            return -1, memoryview(b"")  # the COPY is over (server closed the stream)
        return len(payload), memoryview(payload)

    def get_error_message(self) -> str:
        return ""

    def get_result(self) -> None:
        return None


def _stream(payloads: list[bytes]) -> ReplicationStream:
    stream = ReplicationStream("host=127.0.0.1 dbname=fuzz")  # never connects
    stream._conn = _CopyDataFeed(payloads)  # type: ignore[assignment]
    return stream


def _message(frame: object, payload: bytes) -> bytes | None:
    """The pgoutput message of an XLogData ``frame`` (None for a keepalive), checked."""
    if isinstance(frame, Keepalive):
        _check_keepalive(frame, payload)
        return None
    assert payload[:1] == b"w", f"XLogData from a {payload[:1]!r} message"
    assert len(payload) > _HEADER.size + 1, (
        f"an XLogData frame of {len(payload)} bytes (no complete header and message) was "
        "handed to the read loop instead of raising ProtocolError"
    )
    xlogdata = getattr(replication, "XLogData", None)
    if xlogdata is not None and isinstance(frame, xlogdata):  # a parsed frame
        start, end, sent = _HEADER.unpack_from(payload, 1)
        assert (frame.data_start, frame.wal_end, frame.send_time_us) == (start, end, sent)
        message = bytes(frame.payload)
    else:  # the raw frame, header included
        assert isinstance(frame, memoryview), f"frames() yielded {frame!r}"
        assert bytes(frame) == payload, "the frame is not the CopyData payload"
        message = bytes(frame[1 + _HEADER.size :])
    assert message == payload[1 + _HEADER.size :], "the message is not the rest of the frame"
    return message


def _check_keepalive(frame: Keepalive, payload: bytes) -> None:
    assert payload[:1] == b"k", f"keepalive from a {payload[:1]!r} message"
    end, sent, reply = _KEEPALIVE.unpack_from(payload, 1)
    assert (frame.wal_end, frame.send_time_us, frame.reply_requested) == (end, sent, bool(reply))


def TestOneInput(data: bytes) -> None:
    """One fuzz input: read its CopyData payloads as frames, decode the XLogData payloads."""
    if not data:
        return
    decoder = PgOutputDecoder(proto_version=1 + (data[0] & 3))
    payloads = [c for c in itertools.islice(split_chunks(data[1:]), MAX_FRAMES) if c]
    frames = read_frames(_stream(payloads), 0.0, None)
    index = 0
    try:
        for frame in frames:
            message = _message(frame, payloads[index])
            index += 1
            if message is not None:
                with contextlib.suppress(ProtocolError):
                    decoder.decode(message)
    except ProtocolError:
        return  # a malformed frame: the runner stops with this error
    except ConnectionLost:
        assert index == len(payloads), "the stream ended before the last frame"
        return
    raise AssertionError("frames() ended without ConnectionLost at the end of the COPY")
