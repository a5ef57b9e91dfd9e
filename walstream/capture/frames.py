"""The read loop's frames: what the replication stream holds now, with runs taken by C.

The one place the COPY BOTH stream's CopyData messages become frames: an XLogData frame stays
libpq's buffer, a keepalive becomes a :class:`~walstream.pg.replication.Keepalive`, anything
short or unknown is a ProtocolError (the read loop then reads a frame's header and message type
byte without checks; fuzz/fuzz_replication.py runs this function). While the C loop may take
the next frames (see :class:`~.fastpath.FastPath`), one C call takes a run of them (appended to
their batches, or to a spill buffer) and reports it as one :class:`~.fastpath.Drained`; every
frame it does not take is parsed here as any other. The stream keeps the waiting policy
(:meth:`~walstream.pg.replication.ReplicationStream.wait_for_input`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..pg.replication import Keepalive, ReplicationStream, truncated_frame, unknown_frame
from ..pg.wire import KEEPALIVE, KEEPALIVE_BODY, KEEPALIVE_SIZE, XLOG_DATA, XLOG_PAYLOAD
from .fastpath import Drained, FastPath

Frame = memoryview | Keepalive | Drained


def frames(stream: ReplicationStream, timeout: float, fast: FastPath | None) -> Iterator[Frame]:
    """Yield the frames available now; wait at most ``timeout`` seconds for the first one.

    An XLogData frame is libpq's buffer itself, header included; a keepalive a
    :class:`Keepalive`; a run of changes the C loop appended a :class:`Drained`, carrying the
    frame that ended it (if any) in ``frame``, since the caller may stop after any item and
    must not lose a frame already taken from libpq.

    hot path: every change passes here once.
    """
    get_copy_data = stream.conn.get_copy_data
    waited = got = False
    run: Drained | None = None  # a run of changes the C loop took, not yet yielded
    if fast is not None:  # its statuses, as the C loop defines them
        ptr = stream.pgconn_ptr
        accel = fast.accel
        limit, empty, stopped = accel.DRAIN_LIMIT, accel.DRAIN_EMPTY, accel.DRAIN_FRAME
    while True:
        if fast is not None and (
            fast.spill is not None or (fast.targets if fast.txn is not None else fast.tables)
        ):  # FastPath's rule for when the C loop may take the next frames
            status, raw, taken = fast.read(ptr)
            got = True
            if taken is not None:
                run = taken
            if status == stopped:
                assert raw is not None
                nbytes, data = len(raw), memoryview(raw)
            else:
                if run is not None:
                    yield run
                    run = None
                if status == limit:
                    continue
                nbytes, data = (0 if status == empty else -1), None
        else:
            nbytes, data = get_copy_data(1)
        if nbytes > 0:
            assert data is not None
            got = True
            # one comparison per real frame (fuzz finding: short frames escaped as
            # struct.error / IndexError)
            if nbytes <= XLOG_PAYLOAD and (nbytes < KEEPALIVE_SIZE or data[0] != KEEPALIVE):
                raise truncated_frame(data)
            kind = data[0]
            frame: memoryview | Keepalive
            if kind == XLOG_DATA:  # the whole frame; the message is data[XLOG_PAYLOAD:]
                frame = data
            elif kind == KEEPALIVE:
                end, sent, reply = KEEPALIVE_BODY.unpack_from(data, 1)
                frame = Keepalive(end, sent, bool(reply))
            else:
                raise unknown_frame(kind)
            if run is None:
                yield frame
            else:
                run.frame = frame
                yield run
                run = None
        elif nbytes == 0:
            if not stream.wait_for_input(waited, timeout, got):
                return
            waited = True
        else:
            stream.raise_stream_end()
