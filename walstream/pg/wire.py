"""The bytes of PostgreSQL's replication protocol and of pgoutput, named once for Python.

Every kind byte, part byte, offset and fixed layout that walstream reads or writes on the
replication connection is defined here and nowhere else in Python; the C extensions read theirs
from ``walstream/wire.h``, and tests/test_wire.py holds the two to each other (through the
constants ``walstream._accel`` exports). References: the streaming replication protocol
(XLogData, Primary keepalive, Standby status update) and the logical replication message formats
(pgoutput), in PostgreSQL's documentation.
"""

from __future__ import annotations

import struct

#: microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00:00 UTC)
PG_EPOCH_US = 946_684_800_000_000

# -- CopyData frames of the replication stream ----------------------------------------------
XLOG_DATA = 0x77  # 'w': start LSN, end LSN, send time, then one pgoutput message
KEEPALIVE = 0x6B  # 'k': WAL end, send time, reply requested
STATUS_UPDATE = b"r"  # the standby's status update (write, flush, apply, time, reply)
XLOG_HEADER = struct.Struct("!QQQ")  # after the kind byte: data start, WAL end, send time
XLOG_PAYLOAD = 1 + XLOG_HEADER.size  # where the pgoutput message starts in an XLogData frame
KEEPALIVE_BODY = struct.Struct("!QQB")  # after the kind byte
KEEPALIVE_SIZE = 1 + KEEPALIVE_BODY.size
STATUS = struct.Struct("!cQQQQB")

# -- pgoutput message kinds ----------------------------------------------------------------
BEGIN = ord("B")
COMMIT = ord("C")
ORIGIN = ord("O")
RELATION = ord("R")
TYPE = ord("Y")
INSERT = ord("I")
UPDATE = ord("U")
DELETE = ord("D")
TRUNCATE = ord("T")
MESSAGE = ord("M")
STREAM_START = ord("S")
STREAM_STOP = ord("E")  # the one message inside a stream block that is not spilled
STREAM_COMMIT = ord("c")
STREAM_ABORT = ord("A")
BEGIN_PREPARE = ord("b")
PREPARE = ord("P")
COMMIT_PREPARED = ord("K")
ROLLBACK_PREPARED = ord("r")
STREAM_PREPARE = ord("p")
CHANGES = frozenset((INSERT, UPDATE, DELETE))

# -- a change message: kind, [xid inside a stream block], relation OID, part, TupleData -------
U32 = struct.Struct(">I")
CHANGE_OID = 1  # the relation OID's offset in a change message
STREAM_CHANGE_XID = 1  # inside a stream block the (sub)transaction's xid comes first,
STREAM_CHANGE_OID = 5  # then the OID
OID_TO_PART = 4  # from the OID to the part byte
OID_TO_TUPLE = 5  # from the OID to the TupleData
PART_NEW = ord("N")
PART_KEY = ord("K")
PART_OLD = ord("O")

# -- TupleData column kinds ----------------------------------------------------------------
KIND_NULL = ord("n")
KIND_UNCHANGED = ord("u")  # an unchanged TOASTed value, not sent
KIND_TEXT = ord("t")
KIND_BINARY = ord("b")
NOT_SENT = (KIND_NULL, KIND_UNCHANGED)

# -- Begin and Commit (the layouts the C read loop takes on its own) ---------------------------
BEGIN_BODY = struct.Struct(">QqI")  # final LSN, commit time, xid
COMMIT_BODY = struct.Struct(">BQQq")  # flags, commit LSN, end LSN, commit time
BEGIN_SIZE = 1 + BEGIN_BODY.size
COMMIT_SIZE = 1 + COMMIT_BODY.size
BEGIN_FINAL_LSN, BEGIN_COMMIT_TS, BEGIN_XID = 1, 9, 17  # offsets in a Begin message
COMMIT_LSN, COMMIT_END_LSN = 2, 10  # offsets in a Commit message


def fast_shape(kind: int, part: int) -> bool:
    """The change shapes appended without decoding (wire.h's ``wire_fast_shape``): an Insert or
    an Update carrying only its new row, or a Delete carrying its key or old row."""
    if kind == DELETE:
        return part in (PART_KEY, PART_OLD)
    return part == PART_NEW
