"""Decode pgoutput, PostgreSQL's logical replication output plugin, from bytes to typed messages.

Why it exists: every change walstream writes arrives as one pgoutput message inside an XLogData
frame of the replication stream. :mod:`walstream.pg.replication` strips the frame and hands the
payload here; the pipeline receives the typed message and never looks at bytes. The format is
"Logical Replication Message Formats" in the PostgreSQL protocol documentation, protocol
versions 1 to 4:

- v1: transactions (Begin, Relation, Type, Insert, Update, Delete, Truncate, Message, Origin,
  Commit);
- v2: streaming of large in-progress transactions (Stream Start / Stop / Commit / Abort); inside
  a Stream Start..Stop block, Relation, Type, Insert, Update, Delete, Truncate and Message carry
  the xid of the (sub)transaction the change belongs to;
- v3: two-phase commit (Begin Prepare, Prepare, Commit Prepared, Rollback Prepared,
  Stream Prepare);
- v4: parallel streaming, where Stream Abort also carries the abort LSN and time (only when the
  subscription asked for ``streaming 'parallel'``, so both shapes occur in v4).

The decoder is pure: bytes in, message out; no sockets, no clock, no logging. Its only state is
whether it is inside a stream block, which decides whether the leading xid is present. It is
therefore tested with captured bytes and fuzzed (``tests/test_pgoutput.py``).

Values stay raw: a column value is the ``bytes`` the server sent, text or binary format as
``TupleData.kinds`` says; turning them into Arrow values is :mod:`walstream.convert`'s job, which
needs the Relation's type OIDs anyway. Timestamps are converted to Unix-epoch microseconds.
A namespace of ``''`` in Relation and Type messages means ``pg_catalog`` (the wire format's
convention, kept as sent).

Errors: any input that does not follow the format (truncated, unknown message or tuple kind,
trailing bytes, invalid UTF-8 in a name, negative or overflowing lengths) raises
:class:`~walstream.errors.ProtocolError` naming the message type and what was wrong. The parse
functions themselves do not check buffer bounds before each read: ``struct`` and indexing raise
on short input, and :meth:`PgOutputDecoder.decode` turns those exceptions into ProtocolError at
one place, which keeps the per-change path free of checks. Only where a short buffer would *not*
raise (a slice silently truncates) do we check explicitly.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from ..errors import ProtocolError
from . import wire as w

__all__ = [
    "Begin",
    "BeginPrepare",
    "Commit",
    "CommitPrepared",
    "Delete",
    "Insert",
    "LogicalMessage",
    "Message",
    "Origin",
    "PgOutputDecoder",
    "Prepare",
    "Relation",
    "RelationColumn",
    "RollbackPrepared",
    "StreamAbort",
    "StreamCommit",
    "StreamPrepare",
    "StreamStart",
    "StreamStop",
    "Truncate",
    "TupleData",
    "TypeInfo",
    "Update",
]


MIN_PROTO_VERSION = 1
MAX_PROTO_VERSION = 4


# --- messages -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TupleData:
    """The columns of one row, in Relation column order.

    ``kinds[i]`` is ``ord('n')`` (NULL), ``ord('u')`` (unchanged TOASTed value, not sent),
    ``ord('t')`` (text format) or ``ord('b')`` (binary format); ``values[i]`` is the raw value
    for ``t``/``b`` and ``None`` for ``n``/``u``.
    """

    kinds: bytes
    values: tuple[bytes | None, ...]


@dataclass(frozen=True, slots=True)
class RelationColumn:
    """One published column: ``flags`` bit 1 marks a replica identity (key) column."""

    flags: int
    name: str
    type_oid: int
    typmod: int

    @property
    def is_key(self) -> bool:
        return bool(self.flags & 1)


@dataclass(frozen=True, slots=True)
class Relation:
    """The schema of a table, sent before its first change and again after it changes.

    ``replica_identity`` is ``pg_class.relreplident``: ``'d'`` default (primary key), ``'n'``
    nothing, ``'f'`` full, ``'i'`` index. ``namespace`` is ``''`` for ``pg_catalog``.
    """

    xid: int | None
    oid: int
    namespace: str
    name: str
    replica_identity: str
    columns: tuple[RelationColumn, ...]


@dataclass(frozen=True, slots=True)
class Begin:
    final_lsn: int
    commit_ts_us: int
    xid: int


@dataclass(frozen=True, slots=True)
class Commit:
    flags: int
    commit_lsn: int
    end_lsn: int
    commit_ts_us: int


@dataclass(frozen=True, slots=True)
class Origin:
    """The transaction was replayed from another node (replication origin ``name``)."""

    origin_lsn: int
    name: str


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """The 'Y' message: names a non-built-in type (enum, domain, composite...) by OID."""

    xid: int | None
    oid: int
    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class Insert:
    xid: int | None
    relation_oid: int
    new: TupleData


@dataclass(frozen=True, slots=True)
class Update:
    """``old`` is the old key (``old_kind`` ``'K'``, only when the key changed) or the whole old
    row (``'O'``, REPLICA IDENTITY FULL); both are ``None`` when neither was sent."""

    xid: int | None
    relation_oid: int
    old: TupleData | None
    old_kind: str | None
    new: TupleData


@dataclass(frozen=True, slots=True)
class Delete:
    """``old`` is the key (``old_kind`` ``'K'``) or the whole row (``'O'``, REPLICA IDENTITY
    FULL); the other columns of a ``'K'`` tuple are sent as NULL."""

    xid: int | None
    relation_oid: int
    old: TupleData
    old_kind: str


@dataclass(frozen=True, slots=True)
class Truncate:
    xid: int | None
    options: int
    relation_oids: tuple[int, ...]

    @property
    def cascade(self) -> bool:
        return bool(self.options & 1)

    @property
    def restart_identity(self) -> bool:
        return bool(self.options & 2)


@dataclass(frozen=True, slots=True)
class LogicalMessage:
    """A ``pg_logical_emit_message()`` record (sent only with ``messages 'true'``)."""

    xid: int | None
    transactional: bool
    lsn: int
    prefix: str
    content: bytes


@dataclass(frozen=True, slots=True)
class StreamStart:
    xid: int
    first_segment: bool


@dataclass(frozen=True, slots=True)
class StreamStop:
    pass


@dataclass(frozen=True, slots=True)
class StreamCommit:
    xid: int
    flags: int
    commit_lsn: int
    end_lsn: int
    commit_ts_us: int


@dataclass(frozen=True, slots=True)
class StreamAbort:
    """Abort of a streamed transaction (``subxid == xid``) or of one of its subtransactions.

    ``abort_lsn`` and ``abort_ts_us`` are sent only in protocol v4 with ``streaming 'parallel'``;
    otherwise they are ``None``.
    """

    xid: int
    subxid: int
    abort_lsn: int | None
    abort_ts_us: int | None


@dataclass(frozen=True, slots=True)
class BeginPrepare:
    prepare_lsn: int
    end_lsn: int
    prepare_ts_us: int
    xid: int
    gid: str


@dataclass(frozen=True, slots=True)
class Prepare:
    flags: int
    prepare_lsn: int
    end_lsn: int
    prepare_ts_us: int
    xid: int
    gid: str


@dataclass(frozen=True, slots=True)
class CommitPrepared:
    flags: int
    commit_lsn: int
    end_lsn: int
    commit_ts_us: int
    xid: int
    gid: str


@dataclass(frozen=True, slots=True)
class RollbackPrepared:
    flags: int
    prepare_end_lsn: int
    rollback_end_lsn: int
    prepare_ts_us: int
    rollback_ts_us: int
    xid: int
    gid: str


@dataclass(frozen=True, slots=True)
class StreamPrepare:
    flags: int
    prepare_lsn: int
    end_lsn: int
    prepare_ts_us: int
    xid: int
    gid: str


Message: TypeAlias = (
    Begin
    | Commit
    | Origin
    | Relation
    | TypeInfo
    | Insert
    | Update
    | Delete
    | Truncate
    | LogicalMessage
    | StreamStart
    | StreamStop
    | StreamCommit
    | StreamAbort
    | BeginPrepare
    | Prepare
    | CommitPrepared
    | RollbackPrepared
    | StreamPrepare
)


# --- wire layouts ---------------------------------------------------------------------------
# Precompiled once: Struct.unpack_from on the message bytes at an offset neither copies nor
# re-parses a format string per call. All integers are network byte order. XLogRecPtr (LSN) and
# TransactionId/Oid are unsigned; TimestampTz, typmod and lengths are signed.

_U16 = struct.Struct(">H")
_U32 = w.U32
_I32 = struct.Struct(">i")
_U32_U32 = struct.Struct(">II")  # leading xid + relation OID of a streamed change
_BEGIN = w.BEGIN_BODY  # final_lsn, commit_ts, xid
_COMMIT = w.COMMIT_BODY  # flags, commit_lsn, end_lsn, commit_ts
_ORIGIN_LSN = struct.Struct(">Q")
_RELATION_COLUMN_TAIL = struct.Struct(">Ii")  # type OID, typmod (after the column name)
_MESSAGE_HEAD = struct.Struct(">BQ")  # flags, lsn
_TRUNCATE_HEAD = struct.Struct(">IB")  # number of relations, options
_STREAM_START = struct.Struct(">IB")  # xid, first segment
_STREAM_COMMIT = struct.Struct(">IBQQq")  # xid, flags, commit_lsn, end_lsn, commit_ts
_STREAM_ABORT = struct.Struct(">II")  # xid, subxid
_STREAM_ABORT_V4 = struct.Struct(">IIQq")  # xid, subxid, abort_lsn, abort_ts
_BEGIN_PREPARE = struct.Struct(">QQqI")  # prepare_lsn, end_lsn, prepare_ts, xid
_PREPARE = struct.Struct(">BQQqI")  # flags, lsn, end_lsn, ts, xid (Prepare, Commit/Stream Prep.)
_ROLLBACK_PREPARED = struct.Struct(">BQQqqI")  # flags, prep end, rb end, prep ts, rb ts, xid

_PART_NEW = w.PART_NEW
_PART_KEY = w.PART_KEY
_PART_OLD = w.PART_OLD
_VALUED = (w.KIND_TEXT, w.KIND_BINARY)

_REPLICA_IDENTITIES = frozenset("dnfi")

# Message type byte -> (name for errors, first protocol version that has it).
_MESSAGE_TYPES: dict[int, tuple[str, int]] = {
    w.BEGIN: ("Begin", 1),
    w.COMMIT: ("Commit", 1),
    w.ORIGIN: ("Origin", 1),
    w.RELATION: ("Relation", 1),
    w.TYPE: ("Type", 1),
    w.INSERT: ("Insert", 1),
    w.UPDATE: ("Update", 1),
    w.DELETE: ("Delete", 1),
    w.TRUNCATE: ("Truncate", 1),
    w.MESSAGE: ("Message", 1),
    w.STREAM_START: ("Stream Start", 2),
    w.STREAM_STOP: ("Stream Stop", 2),
    w.STREAM_COMMIT: ("Stream Commit", 2),
    w.STREAM_ABORT: ("Stream Abort", 2),
    w.BEGIN_PREPARE: ("Begin Prepare", 3),
    w.PREPARE: ("Prepare", 3),
    w.COMMIT_PREPARED: ("Commit Prepared", 3),
    w.ROLLBACK_PREPARED: ("Rollback Prepared", 3),
    w.STREAM_PREPARE: ("Stream Prepare", 3),
}


class _Malformed(ValueError):
    """Raised inside the parse functions; decode() adds the message type and re-raises."""


def _describe_byte(value: int) -> str:
    """``0x5A ('Z')`` for printable ASCII, ``0x00`` otherwise."""
    if 0x20 < value < 0x7F:
        return f"0x{value:02X} ({chr(value)!r})"
    return f"0x{value:02X}"


def _expect_size(buf: bytes, size: int) -> None:
    if len(buf) != size:
        what = "truncated" if len(buf) < size else "trailing bytes"
        raise _Malformed(f"expected exactly {size} bytes, got {len(buf)} ({what})")


def _expect_end(buf: bytes, pos: int) -> None:
    if pos != len(buf):
        raise _Malformed(
            f"{len(buf) - pos} unexpected trailing bytes after offset {pos} "
            f"(message is {len(buf)} bytes)"
        )


def _read_name(buf: bytes, pos: int, what: str) -> tuple[str, int]:
    """A NUL-terminated strict UTF-8 string at ``pos``; returns it and the offset after the NUL."""
    end = buf.find(0, pos)
    if end < 0:
        raise _Malformed(f"{what} at offset {pos} has no NUL terminator")
    try:
        return buf[pos:end].decode("utf-8"), end + 1
    except UnicodeDecodeError as exc:
        raise _Malformed(f"{what} at offset {pos} is not valid UTF-8: {exc.reason}") from None


def _read_tuple(buf: bytes, pos: int) -> tuple[TupleData, int]:
    """TupleData at ``pos``; returns it and the offset after it.

    Hot path: runs per column of every changed row. One loop iteration per column (never per
    byte), locals instead of globals, and no bounds checks except the one a slice needs:
    ``buf[pos]`` and ``unpack_from`` raise on short input by themselves (decode() converts).
    """
    (ncols,) = _U16.unpack_from(buf, pos)
    pos += 2
    size = len(buf)
    unpack_len = _I32.unpack_from
    kinds = bytearray(ncols)
    values: list[bytes | None] = [None] * ncols
    valued, not_sent = _VALUED, w.NOT_SENT  # locals: no global lookups per column
    for i in range(ncols):
        kind = buf[pos]
        kinds[i] = kind
        if kind in valued:
            (length,) = unpack_len(buf, pos + 1)
            pos += 5
            stop = pos + length
            # A slice past the end would silently return fewer bytes: check the declared length.
            if length < 0 or stop > size:
                raise _Malformed(
                    f"column {i} declares a value of {length} bytes at offset {pos}, "
                    f"but the message has {size - pos} bytes left"
                )
            values[i] = buf[pos:stop]
            pos = stop
        elif kind in not_sent:
            pos += 1
        else:
            raise _Malformed(
                f"unknown tuple data kind {_describe_byte(kind)} for column {i} at offset {pos}"
            )
    return TupleData(bytes(kinds), tuple(values)), pos


read_tuple = _read_tuple  # for readers of raw change messages (the runner's slow path)

# --- the decoder ----------------------------------------------------------------------------


class PgOutputDecoder:
    """Decodes the pgoutput messages of one replication connection, in order.

    Create one per ``START_REPLICATION`` (or call :meth:`reset` after a reconnect), with the
    ``proto_version`` that was requested from the server. Messages must be fed in stream order:
    the decoder remembers whether it is between Stream Start and Stream Stop, since that decides
    whether changes carry a leading xid.
    """

    __slots__ = ("_handlers", "_in_stream", "proto_version")

    def __init__(self, proto_version: int = 1) -> None:
        if not MIN_PROTO_VERSION <= proto_version <= MAX_PROTO_VERSION:
            raise ProtocolError(
                f"unsupported pgoutput proto_version {proto_version!r}: this decoder handles "
                f"versions {MIN_PROTO_VERSION} to {MAX_PROTO_VERSION}"
            )
        self.proto_version = proto_version
        self._in_stream = False
        handlers: dict[int, Callable[[bytes], Message]] = {
            w.BEGIN: self._begin,
            w.COMMIT: self._commit,
            w.ORIGIN: self._origin,
            w.RELATION: self._relation,
            w.TYPE: self._type,
            w.INSERT: self._insert,
            w.UPDATE: self._update,
            w.DELETE: self._delete,
            w.TRUNCATE: self._truncate,
            w.MESSAGE: self._message,
            w.STREAM_START: self._stream_start,
            w.STREAM_STOP: self._stream_stop,
            w.STREAM_COMMIT: self._stream_commit,
            w.STREAM_ABORT: self._stream_abort,
            w.BEGIN_PREPARE: self._begin_prepare,
            w.PREPARE: self._prepare,
            w.COMMIT_PREPARED: self._commit_prepared,
            w.ROLLBACK_PREPARED: self._rollback_prepared,
            w.STREAM_PREPARE: self._stream_prepare,
        }
        # Only the message types this protocol version has: anything else is a protocol error.
        self._handlers = {
            code: handler
            for code, handler in handlers.items()
            if _MESSAGE_TYPES[code][1] <= proto_version
        }

    @property
    def in_stream(self) -> bool:
        """True between a Stream Start and its Stream Stop."""
        return self._in_stream

    def reset(self) -> None:
        """Forget the stream state, e.g. after the connection was lost inside a stream block."""
        self._in_stream = False

    def decode(self, data: bytes | memoryview) -> Message:
        """Decode one pgoutput message (the payload of one XLogData frame).

        Raises ProtocolError for anything that does not follow the format.
        """
        buf = data if isinstance(data, bytes) else bytes(data)
        try:
            handler = self._handlers[buf[0]]
        except IndexError:
            raise ProtocolError("empty pgoutput message (0 bytes)") from None
        except KeyError:
            raise self._unknown_type(buf[0]) from None
        try:
            return handler(buf)
        except _Malformed as exc:
            error = f"malformed {self._name(buf)} message: {exc}"
        except struct.error as exc:
            error = f"truncated {self._name(buf)} message of {len(buf)} bytes: {exc}"
        except IndexError:
            error = f"truncated {self._name(buf)} message: {len(buf)} bytes end inside its data"
        except (UnicodeDecodeError, ValueError) as exc:  # defensive: parse code raises _Malformed
            error = f"malformed {self._name(buf)} message: {exc}"
        raise ProtocolError(error)

    # --- helpers used only on errors ---

    @staticmethod
    def _name(buf: bytes) -> str:
        return _MESSAGE_TYPES[buf[0]][0]

    def _unknown_type(self, code: int) -> ProtocolError:
        known = _MESSAGE_TYPES.get(code)
        if known is not None:
            name, since = known
            return ProtocolError(
                f"pgoutput message type {_describe_byte(code)} ({name}) needs proto_version "
                f">= {since}, but the decoder was created for proto_version {self.proto_version}"
            )
        return ProtocolError(f"unknown pgoutput message type {_describe_byte(code)}")

    def _xid_and_start(self, buf: bytes) -> tuple[int | None, int]:
        """The leading xid of a change (present only inside a stream block) and the next offset."""
        if self._in_stream:
            return _U32.unpack_from(buf, 1)[0], 5
        return None, 1

    # --- transaction boundaries (v1) ---

    def _begin(self, buf: bytes) -> Begin:
        _expect_size(buf, 1 + _BEGIN.size)
        final_lsn, ts, xid = _BEGIN.unpack_from(buf, 1)
        return Begin(final_lsn, ts + w.PG_EPOCH_US, xid)

    def _commit(self, buf: bytes) -> Commit:
        _expect_size(buf, 1 + _COMMIT.size)
        flags, commit_lsn, end_lsn, ts = _COMMIT.unpack_from(buf, 1)
        return Commit(flags, commit_lsn, end_lsn, ts + w.PG_EPOCH_US)

    def _origin(self, buf: bytes) -> Origin:
        (origin_lsn,) = _ORIGIN_LSN.unpack_from(buf, 1)
        name, pos = _read_name(buf, 9, "origin name")
        _expect_end(buf, pos)
        return Origin(origin_lsn, name)

    # --- schema ---

    def _relation(self, buf: bytes) -> Relation:
        xid, pos = self._xid_and_start(buf)
        (oid,) = _U32.unpack_from(buf, pos)
        namespace, pos = _read_name(buf, pos + 4, "namespace")
        name, pos = _read_name(buf, pos, "relation name")
        identity = chr(buf[pos])
        if identity not in _REPLICA_IDENTITIES:
            raise _Malformed(
                f"unknown replica identity {_describe_byte(buf[pos])} at offset {pos} "
                "(expected 'd', 'n', 'f' or 'i')"
            )
        (ncols,) = _U16.unpack_from(buf, pos + 1)
        pos += 3
        columns = []
        for i in range(ncols):
            flags = buf[pos]
            column_name, pos = _read_name(buf, pos + 1, f"name of column {i}")
            type_oid, typmod = _RELATION_COLUMN_TAIL.unpack_from(buf, pos)
            pos += _RELATION_COLUMN_TAIL.size
            columns.append(RelationColumn(flags, column_name, type_oid, typmod))
        _expect_end(buf, pos)
        return Relation(xid, oid, namespace, name, identity, tuple(columns))

    def _type(self, buf: bytes) -> TypeInfo:
        xid, pos = self._xid_and_start(buf)
        (oid,) = _U32.unpack_from(buf, pos)
        namespace, pos = _read_name(buf, pos + 4, "type namespace")
        name, pos = _read_name(buf, pos, "type name")
        _expect_end(buf, pos)
        return TypeInfo(xid, oid, namespace, name)

    # --- changes: hot path, one call per changed row ---

    def _insert(self, buf: bytes) -> Insert:
        if self._in_stream:
            xid, oid = _U32_U32.unpack_from(buf, 1)
            pos = 9
        else:
            xid = None
            (oid,) = _U32.unpack_from(buf, 1)
            pos = 5
        if buf[pos] != _PART_NEW:
            raise _Malformed(f"expected 'N' at offset {pos}, got {_describe_byte(buf[pos])}")
        new, pos = _read_tuple(buf, pos + 1)
        if pos != len(buf):
            _expect_end(buf, pos)
        return Insert(xid, oid, new)

    def _update(self, buf: bytes) -> Update:
        if self._in_stream:
            xid, oid = _U32_U32.unpack_from(buf, 1)
            pos = 9
        else:
            xid = None
            (oid,) = _U32.unpack_from(buf, 1)
            pos = 5
        part = buf[pos]
        old: TupleData | None = None
        old_kind: str | None = None
        if part in (_PART_KEY, _PART_OLD):
            old_kind = "K" if part == _PART_KEY else "O"
            old, pos = _read_tuple(buf, pos + 1)
            part = buf[pos]
        if part != _PART_NEW:
            expected = "'N'" if old_kind else "'K', 'O' or 'N'"
            raise _Malformed(f"expected {expected} at offset {pos}, got {_describe_byte(part)}")
        new, pos = _read_tuple(buf, pos + 1)
        if pos != len(buf):
            _expect_end(buf, pos)
        return Update(xid, oid, old, old_kind, new)

    def _delete(self, buf: bytes) -> Delete:
        if self._in_stream:
            xid, oid = _U32_U32.unpack_from(buf, 1)
            pos = 9
        else:
            xid = None
            (oid,) = _U32.unpack_from(buf, 1)
            pos = 5
        part = buf[pos]
        if part == _PART_KEY:
            old_kind = "K"
        elif part == _PART_OLD:
            old_kind = "O"
        else:
            raise _Malformed(f"expected 'K' or 'O' at offset {pos}, got {_describe_byte(part)}")
        old, pos = _read_tuple(buf, pos + 1)
        if pos != len(buf):
            _expect_end(buf, pos)
        return Delete(xid, oid, old, old_kind)

    def _truncate(self, buf: bytes) -> Truncate:
        xid, pos = self._xid_and_start(buf)
        count, options = _TRUNCATE_HEAD.unpack_from(buf, pos)
        pos += _TRUNCATE_HEAD.size
        # Check before unpacking so that a corrupt count cannot make us build a huge format.
        if len(buf) - pos != 4 * count:
            raise _Malformed(
                f"declares {count} relations ({4 * count} bytes) but has {len(buf) - pos} bytes "
                f"of relation OIDs at offset {pos}"
            )
        oids = struct.unpack_from(f">{count}I", buf, pos)
        return Truncate(xid, options, oids)

    def _message(self, buf: bytes) -> LogicalMessage:
        xid, pos = self._xid_and_start(buf)
        flags, lsn = _MESSAGE_HEAD.unpack_from(buf, pos)
        prefix, pos = _read_name(buf, pos + _MESSAGE_HEAD.size, "message prefix")
        (length,) = _I32.unpack_from(buf, pos)
        pos += 4
        if length < 0 or pos + length != len(buf):
            raise _Malformed(
                f"declares {length} bytes of content at offset {pos}, "
                f"but {len(buf) - pos} bytes follow"
            )
        return LogicalMessage(xid, bool(flags & 1), lsn, prefix, buf[pos:])

    # --- streaming of in-progress transactions (v2) ---

    def _stream_start(self, buf: bytes) -> StreamStart:
        _expect_size(buf, 1 + _STREAM_START.size)
        if self._in_stream:
            raise _Malformed("Stream Start inside a stream block (no Stream Stop before it)")
        xid, first = _STREAM_START.unpack_from(buf, 1)
        if first > 1:
            raise _Malformed(f"first-segment flag is {first}, expected 0 or 1")
        self._in_stream = True
        return StreamStart(xid, first == 1)

    def _stream_stop(self, buf: bytes) -> StreamStop:
        _expect_size(buf, 1)
        if not self._in_stream:
            raise _Malformed("Stream Stop outside a stream block (no Stream Start before it)")
        self._in_stream = False
        return StreamStop()

    def _stream_commit(self, buf: bytes) -> StreamCommit:
        _expect_size(buf, 1 + _STREAM_COMMIT.size)
        xid, flags, commit_lsn, end_lsn, ts = _STREAM_COMMIT.unpack_from(buf, 1)
        return StreamCommit(xid, flags, commit_lsn, end_lsn, ts + w.PG_EPOCH_US)

    def _stream_abort(self, buf: bytes) -> StreamAbort:
        # v4 sends the abort LSN and time only with streaming 'parallel': both sizes are valid.
        if len(buf) == 1 + _STREAM_ABORT.size:
            xid, subxid = _STREAM_ABORT.unpack_from(buf, 1)
            return StreamAbort(xid, subxid, None, None)
        if self.proto_version >= 4 and len(buf) == 1 + _STREAM_ABORT_V4.size:
            xid, subxid, abort_lsn, ts = _STREAM_ABORT_V4.unpack_from(buf, 1)
            return StreamAbort(xid, subxid, abort_lsn, ts + w.PG_EPOCH_US)
        expected = "9 or 25" if self.proto_version >= 4 else "9"
        raise _Malformed(f"expected exactly {expected} bytes, got {len(buf)}")

    # --- two-phase commit (v3) ---

    def _begin_prepare(self, buf: bytes) -> BeginPrepare:
        prepare_lsn, end_lsn, ts, xid = _BEGIN_PREPARE.unpack_from(buf, 1)
        gid, pos = _read_name(buf, 1 + _BEGIN_PREPARE.size, "gid")
        _expect_end(buf, pos)
        return BeginPrepare(prepare_lsn, end_lsn, ts + w.PG_EPOCH_US, xid, gid)

    def _prepare(self, buf: bytes) -> Prepare:
        flags, prepare_lsn, end_lsn, ts, xid = _PREPARE.unpack_from(buf, 1)
        gid, pos = _read_name(buf, 1 + _PREPARE.size, "gid")
        _expect_end(buf, pos)
        return Prepare(flags, prepare_lsn, end_lsn, ts + w.PG_EPOCH_US, xid, gid)

    def _commit_prepared(self, buf: bytes) -> CommitPrepared:
        flags, commit_lsn, end_lsn, ts, xid = _PREPARE.unpack_from(buf, 1)
        gid, pos = _read_name(buf, 1 + _PREPARE.size, "gid")
        _expect_end(buf, pos)
        return CommitPrepared(flags, commit_lsn, end_lsn, ts + w.PG_EPOCH_US, xid, gid)

    def _rollback_prepared(self, buf: bytes) -> RollbackPrepared:
        flags, prepare_end, rollback_end, prepare_ts, rollback_ts, xid = (
            _ROLLBACK_PREPARED.unpack_from(buf, 1)
        )
        gid, pos = _read_name(buf, 1 + _ROLLBACK_PREPARED.size, "gid")
        _expect_end(buf, pos)
        return RollbackPrepared(
            flags,
            prepare_end,
            rollback_end,
            prepare_ts + w.PG_EPOCH_US,
            rollback_ts + w.PG_EPOCH_US,
            xid,
            gid,
        )

    def _stream_prepare(self, buf: bytes) -> StreamPrepare:
        flags, prepare_lsn, end_lsn, ts, xid = _PREPARE.unpack_from(buf, 1)
        gid, pos = _read_name(buf, 1 + _PREPARE.size, "gid")
        _expect_end(buf, pos)
        return StreamPrepare(flags, prepare_lsn, end_lsn, ts + w.PG_EPOCH_US, xid, gid)
