"""The capture loop: replication frames in, rows appended to per-table batches out.

One :class:`Capture` lives for a whole ``walstream run``. Per session it decodes the pgoutput
stream (:meth:`Capture.read`): each Insert, Update and Delete is appended to its table's batch
as its raw TupleData bytes (parsed column by column at flush, :mod:`.batch`), the other
messages are decoded in full, streamed transactions wait in their spill files until they
commit, and runs of changes the C loop can take (:mod:`.fastpath`) never become Python objects
at all. Whatever the path, the rows are the same (tests/test_capture.py runs both).

Capture decides nothing about flushing or acknowledging: it tells the pipeline it feeds
(:class:`Pipeline`) when a transaction is complete, when the one in progress outgrows the flush
budget, and when the server asks for a status update, and it keeps the positions the pipeline
acknowledges from: ``received_lsn`` (the server's WAL end as last seen) and ``idle_lsn`` (a
position before which everything is buffered, in flight or durable).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from ..errors import ProtocolError, TypeConversionError
from ..faults import any_armed, fault_point
from ..lsn import format_lsn
from ..metrics import METRICS
from ..pg import pgoutput as m
from ..pg.relations import RelationCache
from ..pg.replication import Keepalive
from ..pg.wire import (
    CHANGE_OID,
    CHANGES,
    DELETE,
    INSERT,
    KIND_NULL,
    KIND_UNCHANGED,
    NOT_SENT,
    OID_TO_PART,
    OID_TO_TUPLE,
    STREAM_CHANGE_OID,
    STREAM_CHANGE_XID,
    STREAM_START,
    STREAM_STOP,
    TRUNCATE,
    U32,
    UPDATE,
    XLOG_HEADER,
    XLOG_PAYLOAD,
    fast_shape,
)
from ..schema import TableSchema
from .batch import KEY_CHANGE_DELETE, KEY_CHANGE_UPDATE, Txn
from .buffer import ChangeBuffer
from .columns import encode_tuple
from .fastpath import Drained, FastPath
from .frames import Frame
from .spill import LENGTH, SpillStore

if TYPE_CHECKING:  # without importing the C extension
    from .._accel import Handoff

log = logging.getLogger("walstream.run")

READ_FRAMES = 4096  # frames per read(): the pipeline looks at the clock and the flusher between
SPILL_READ = 4 << 20  # bytes of a spill file read at a time at replay
REPLAY_ROWS = 4096  # rows per replay() call: the budget is looked at between calls


@dataclass(frozen=True)
class CaptureSettings:
    """What capture needs of ``walstream run``'s settings."""

    flush_rows: int  # --flush-rows: the buffer's row budget
    flush_bytes: int  # --flush-bytes: its memory budget
    max_value_size: int  # --max-value-size
    oversized_values: str = "fail"  # --oversized-values: fail | null


@dataclass
class CaptureCounts:
    """What capture has read over the whole run (every session)."""

    changes: int = 0
    transactions: int = 0
    bytes_received: int = 0  # pgoutput bytes


class Pipeline(Protocol):
    """What capture needs from the pipeline it feeds (walstream.pipeline.runner.Runner)."""

    def transaction_done(self) -> None:
        """A transaction is complete in the buffer: flush now if one is due."""

    def cut_transaction(self) -> None:
        """The transaction in progress outgrew the budget: flush what is buffered so far
        (waiting for room if need be), so the buffer is empty again."""

    def reply_requested(self) -> None:
        """The server asked for a status update now."""

    def has_capacity(self) -> bool:
        """Whether a flush could be handed over now (else reading pauses between
        transactions)."""


class Capture:
    """Turns one slot's pgoutput stream into batches; see the module docstring."""

    def __init__(
        self,
        settings: CaptureSettings,
        relations: RelationCache,
        spill: SpillStore,
        pipeline: Pipeline,
        counts: CaptureCounts | None = None,
    ) -> None:
        self.settings = settings
        self.relations = relations
        self.spill = spill
        self.pipeline = pipeline
        self.counts = CaptureCounts() if counts is None else counts
        self._value_limit = settings.max_value_size
        self.buffer = ChangeBuffer()
        self.txn: Txn | None = None  # the transaction in progress
        self.fast: FastPath | None = None  # the C loop's state, when it is used
        self.proto = 1
        self.decoder = m.PgOutputDecoder(self.proto)
        self.stream_xid: int | None = None  # the streamed transaction of the block in progress
        self.received_lsn = 0
        self.idle_lsn = 0

    # -- sessions ----------------------------------------------------------------------------
    def start(self, proto: int, accel: ModuleType | None, from_lsn: int) -> None:
        """A new replication session from ``from_lsn``: an empty buffer (what an earlier
        session left was stored or rolled back), with the C loop when ``accel`` is given."""
        self.proto = proto
        self.decoder = m.PgOutputDecoder(proto)
        self.buffer = ChangeBuffer()
        self.fast = None
        if accel is not None:
            buf = self.buffer
            self.fast = FastPath(accel, buf.fast, self._value_limit, buf.tables)
        self.txn = None
        self.stream_xid = None
        self.idle_lsn = 0
        self.received_lsn = from_lsn
        self.spill.start()

    def end(self) -> None:
        """The session is over: streamed transactions that did not commit come again."""
        self.spill.clear()

    def abandon_transaction(self) -> None:
        """Drop the rows of the transaction in progress (the slot sends it again)."""
        if self.txn is not None:
            self.buffer.rollback()
            self._set_txn(None)

    # -- the read loop -----------------------------------------------------------------------
    def read(self, frames: Iterable[Frame]) -> int:
        """Take the frames (from :func:`.frames.frames`) until they end, ``READ_FRAMES`` were
        taken, the transaction in progress outgrows the budget (then what is buffered goes to
        the pipeline, :meth:`Pipeline.cut_transaction`), or the pipeline has no room between
        transactions. Returns how many frames and changes were taken.

        hot path: every frame passes here once (a run the C loop took, once per run).
        """
        self.set_room()
        count = received = 0
        drained = drained_bytes = drained_end = 0
        last: memoryview | None = None
        decoder = self.decoder
        change = self._change
        has_capacity = self.pipeline.has_capacity
        in_stream = decoder.in_stream  # changes only with the messages decoded below
        for frame in frames:
            if type(frame) is Drained:
                # a run of changes the C read loop appended to their batches
                drained += frame.count
                drained_bytes += frame.payload_bytes
                drained_end = frame.wal_end
                self._count(frame.count)
                if frame.spilled:
                    self._spill_block(frame.spilled)
                    drained += frame.spilled
                if frame.commits:
                    self.buffer.committed(frame.commits, frame.commit_end)
                    self.counts.transactions += frame.commits
                if frame.handoff is not None:
                    self._adopt(frame.handoff)
                self.set_room()
                if frame.frame is None:
                    if frame.may_stop and (count + drained >= READ_FRAMES or self.over_budget()):
                        break
                    continue
                frame = frame.frame  # the frame that ended the run: handled as any other
            if type(frame) is memoryview:
                last = frame
                received += len(frame) - XLOG_PAYLOAD
                kind = frame[XLOG_PAYLOAD]
                if in_stream and kind != STREAM_STOP:
                    # a chunk of a transaction that has not committed yet: to disk as is
                    assert self.stream_xid is not None
                    self.spill.append(self.stream_xid, frame[XLOG_PAYLOAD:])
                elif kind in CHANGES:
                    change(kind, frame, XLOG_PAYLOAD, XLOG_PAYLOAD + CHANGE_OID, decoder)
                else:
                    self._on_message(decoder.decode(frame[XLOG_PAYLOAD:]))
                    in_stream = decoder.in_stream
            else:
                assert type(frame) is Keepalive
                self._keepalive(frame)
            count += 1
            if count & 255 == 0:
                if count >= READ_FRAMES:  # the pipeline looks at the clock and the flusher
                    break
                if self.txn is not None and self.over_budget():
                    break  # cut the transaction in progress (below)
            if self.txn is None and not has_capacity():
                break
        if last is not None:
            _, wal_end, _ = XLOG_HEADER.unpack_from(last, 1)
            self.received_lsn = max(self.received_lsn, wal_end)
            self.counts.bytes_received += received
        if drained:
            self.received_lsn = max(self.received_lsn, drained_end)
            self.counts.bytes_received += drained_bytes
        if self.txn is not None and self.over_budget():
            self.pipeline.cut_transaction()  # too large to wait for its commit (DESIGN §1.4)
        return count + drained

    def over_budget(self) -> bool:
        """The buffer holds --flush-rows rows or --flush-bytes bytes."""
        buf = self.buffer
        return buf.rows >= self.settings.flush_rows or buf.nbytes() >= self.settings.flush_bytes

    def set_room(self) -> None:
        """What the C loop may add to the buffer before the pipeline looks at its budget."""
        fast = self.fast
        if fast is not None:
            buf = self.buffer
            fast.row_room = self.settings.flush_rows - buf.rows
            fast.byte_room = self.settings.flush_bytes - buf.nbytes()

    def _keepalive(self, frame: Keepalive) -> None:
        self.received_lsn = max(self.received_lsn, frame.wal_end)
        if self.txn is None:
            # everything before this keepalive is buffered, in flight or durable
            self.idle_lsn = max(self.idle_lsn, frame.wal_end)
        if frame.reply_requested:
            self.pipeline.reply_requested()

    # -- messages ----------------------------------------------------------------------------
    def _change(
        self, kind: int, buf: memoryview | bytes, start: int, at: int, decoder: m.PgOutputDecoder
    ) -> None:
        """An Insert, Update or Delete message at ``buf[start:]``, its relation OID at ``at``.

        hot path: once per change message. The common shapes (an Insert, a Delete, an Update
        without its old row) are appended unparsed. An Update that carries its old key or row,
        and any message big enough to hold a value over ``--max-value-size``, is decoded in
        full (:meth:`_append_decoded`); so is anything malformed, which raises the decoder's
        precise ProtocolError.
        """
        txn = self.txn
        if txn is None:
            name = decoder.decode(buf[start:]).__class__.__name__
            raise ProtocolError(f"{name} outside a transaction")
        # the part byte and the tuple's column count must be there; if not, decode() raises
        part = buf[at + OID_TO_PART] if len(buf) > at + OID_TO_TUPLE + 1 else -1
        if len(buf) - start <= self._value_limit and fast_shape(kind, part):
            (oid,) = U32.unpack_from(buf, at)
            buffer = self.buffer
            batch = buffer.batch_for(self.relations[oid])
            batch.append(kind, buf[at + OID_TO_TUPLE :], txn)
            buffer.rows += 1
            self.counts.changes += 1
            if self.fast is not None and oid not in buffer.fast:
                # this table's next changes of the transaction, and of whole later ones: in C
                buffer.fast[oid] = batch.storage
                if not any_armed():  # fault points count transactions one by one in Python
                    buffer.tables[oid] = batch.entry
            return
        self._append_decoded(decoder.decode(buf[start:]), txn)

    def _append_decoded(self, msg: m.Message, txn: Txn) -> None:
        """The slow path of :meth:`_change`, from the decoded message."""
        if not isinstance(msg, m.Insert | m.Delete | m.Update):
            raise ProtocolError(f"unexpected {msg.__class__.__name__} message among changes")
        rel = self.relations[msg.relation_oid]
        rows: list[tuple[int, m.TupleData]]
        if isinstance(msg, m.Insert):
            rows = [(INSERT, msg.new)]
        elif isinstance(msg, m.Delete):
            rows = [(DELETE, msg.old)]
        else:
            rows = [(UPDATE, msg.new)]
            if msg.old is not None and key_changed(rel.key_indexes, msg.old, msg.new):
                # the row moved to another key: D old, U new, both marked (DESIGN §2)
                rows = [(KEY_CHANGE_DELETE, msg.old), (KEY_CHANGE_UPDATE, msg.new)]
            elif msg.old is not None:
                rows = [(UPDATE, key_from_old(rel.key_indexes, msg.old, msg.new))]
        batch = self.buffer.batch_for(rel)
        for op, row in rows:
            kinds, values = self._cap_values(rel.table, row, txn)
            batch.append(op, encode_tuple(kinds, values), txn)
        self._count(len(rows))

    def _cap_values(
        self, table: TableSchema, row: m.TupleData, txn: Txn
    ) -> tuple[bytes, tuple[bytes | None, ...]]:
        """The row with every value over ``--max-value-size`` handled per
        ``--oversized-values``: ``fail`` stops the run (nothing of this transaction is
        acknowledged), ``null`` writes NULL and logs it."""
        limit = self._value_limit
        if all(v is None or len(v) <= limit for v in row.values):
            return row.kinds, row.values
        kinds = bytearray(row.kinds)
        values = list(row.values)
        for i, value in enumerate(row.values):
            if value is None or len(value) <= limit:
                continue
            column = f"{table.qualified_name}.{table.columns[i].name}"
            if self.settings.oversized_values != "null":
                raise TypeConversionError(
                    f"{column}: a value of {len(value):,} bytes (commit LSN "
                    f"{format_lsn(txn.commit_lsn)}) is over --max-value-size "
                    f"({limit:,} bytes; Snowflake loads at most 128 MB into a VARCHAR, VARIANT "
                    "or BINARY value); nothing of this transaction was acknowledged. Leave the "
                    "column out of the publication, raise --max-value-size if the warehouse "
                    "takes it, or run with --oversized-values null to write NULL instead"
                )
            log.warning(
                "event=value_nulled reason=over_max_value_size column=%s bytes=%d limit=%d "
                "commit_lsn=%s",
                column,
                len(value),
                limit,
                format_lsn(txn.commit_lsn),
            )
            METRICS.errors.labels("value_nulled").inc()
            kinds[i] = KIND_NULL
            values[i] = None
        return bytes(kinds), tuple(values)

    def _on_message(self, msg: m.Message) -> None:
        """Every message but the changes that :meth:`_change` takes."""
        # the C read loop takes nothing after a message until the pipeline has seen a change
        # of each table again (a Relation may have given a table a new batch, a Stream Start
        # sends changes to disk...)
        self.buffer.fast.clear()
        kind = type(msg)
        if kind is not m.Begin and kind is not m.Commit:
            self.buffer.tables.clear()
        txn = self.txn
        if kind is m.Begin:
            assert isinstance(msg, m.Begin)
            if txn is not None:
                raise ProtocolError(f"Begin of xid {msg.xid} inside transaction {txn.xid}")
            self._set_txn(Txn(msg.xid, msg.final_lsn, msg.commit_ts_us))
            self.buffer.begin()
        elif kind is m.Commit:
            assert isinstance(msg, m.Commit)
            if txn is None:
                raise ProtocolError("Commit without Begin")
            if msg.commit_lsn != txn.commit_lsn:
                raise ProtocolError(
                    f"Commit LSN {format_lsn(msg.commit_lsn)} differs from the Begin's final "
                    f"LSN {format_lsn(txn.commit_lsn)}"
                )
            self._finish_txn(msg.end_lsn)
        elif kind is m.Relation:
            assert isinstance(msg, m.Relation)
            self.relations.update(msg)
        elif kind is m.Truncate:
            assert isinstance(msg, m.Truncate) and txn is not None
            for oid in msg.relation_oids:
                self.buffer.batch_for(self.relations[oid]).append(TRUNCATE, b"", txn)
                self._count(1)
        elif kind is m.TypeInfo:
            assert isinstance(msg, m.TypeInfo)
            self.relations.note_type(msg)
        elif kind is m.LogicalMessage or kind is m.Origin:
            pass  # heartbeats and origins carry no rows; their LSNs are covered by Commit/keepalive
        elif kind is m.StreamStart:
            assert isinstance(msg, m.StreamStart)
            self.stream_xid = msg.xid
            if self.fast is not None:
                self.fast.spill = bytearray()  # the block's messages: to disk through C
        elif kind is m.StreamStop:
            self.stream_xid = None
            if self.fast is not None:
                self.fast.spill = None
        elif kind is m.StreamCommit:
            assert isinstance(msg, m.StreamCommit)
            self._replay_streamed(msg)
        elif kind is m.StreamAbort:
            assert isinstance(msg, m.StreamAbort)
            self.spill.abort(msg.xid, msg.subxid)
        else:
            raise ProtocolError(
                f"unexpected {kind.__name__} message: walstream did not ask for streaming or "
                "two-phase decoding"
            )

    def _set_txn(self, txn: Txn | None) -> None:
        """The transaction in progress (None between transactions), for the C loop as well."""
        self.txn = txn
        if self.fast is not None:
            self.fast.txn = txn

    def _adopt(self, handoff: Handoff) -> None:
        """Go on with the transaction the C loop began and stopped inside."""
        txn = Txn(handoff.xid, handoff.final_lsn, handoff.commit_ts_us, handoff.seq)
        self._set_txn(txn)
        self.buffer.adopt(txn, handoff)

    def _finish_txn(self, end_lsn: int) -> None:
        self.buffer.commit(end_lsn)
        self._set_txn(None)
        self.counts.transactions += 1
        if self.buffer.empty():
            self.idle_lsn = max(self.idle_lsn, end_lsn)
        fault_point("after_decode")
        self.pipeline.transaction_done()

    def _spill_block(self, messages: int) -> None:
        """Write what the C loop gathered of the stream block in progress to its spill file."""
        assert self.fast is not None and self.fast.spill is not None
        assert self.stream_xid is not None
        self.spill.append_block(self.stream_xid, self.fast.spill, messages)
        self.fast.spill.clear()

    def _replay_streamed(self, commit: m.StreamCommit) -> None:
        """Apply a streamed transaction from its spill file now that it has committed.

        The file is read in blocks; runs of changes of tables already seen in the transaction
        are appended by the C loop (``replay``), every other message goes through
        :meth:`_replay_message` as in the read loop.
        """
        if self.txn is not None:
            raise ProtocolError(f"Stream Commit of xid {commit.xid} inside transaction")
        spilled = self.spill.take(commit.xid)
        self._set_txn(Txn(commit.xid, commit.commit_lsn, commit.commit_ts_us))
        self.buffer.begin()
        if spilled is not None:
            decoder = m.PgOutputDecoder(self.proto)
            # the decoder reads the spilled messages as inside a stream: its Stream Start
            decoder.decode(bytes((STREAM_START,)) + U32.pack(commit.xid) + b"\x01")
            aborted = spilled.aborted_subxids
            # changes of aborted subtransactions are skipped one by one, in Python
            fast = self.fast if not aborted else None
            targets = self.buffer.fast
            reader = spilled.reader()
            try:
                block = b""
                pos = handled = 0
                while True:
                    if fast is not None and targets:
                        self.set_room()
                        replayed = fast.accel.replay(
                            block,
                            pos,
                            targets,
                            fast.txn,
                            fast.value_limit,
                            max(1, min(REPLAY_ROWS, fast.row_room)),
                            max(1, fast.byte_room // 2),  # the buffer counts row bytes twice
                        )
                        pos = replayed.pos
                        if replayed.taken:
                            self._count(replayed.taken)
                            if self.over_budget():
                                self.pipeline.cut_transaction()
                    available = len(block) - pos
                    length = LENGTH.unpack_from(block, pos)[0] if available >= 4 else 0
                    if available < 4 or available < 4 + length:  # read on
                        more = reader.read(max(SPILL_READ, 4 + length - available))
                        if not more:
                            if available:
                                raise ProtocolError(
                                    f"spill file of xid {commit.xid} ends inside a message"
                                )
                            break
                        block = block[pos:] + more
                        pos = 0
                        continue
                    raw = memoryview(block)[pos + 4 : pos + 4 + length]
                    pos += 4 + length
                    self._replay_message(raw, decoder, aborted)
                    handled += 1
                    if handled & 255 == 0 and self.over_budget():
                        self.pipeline.cut_transaction()
            finally:
                reader.close()
                spilled.close()
        self._finish_txn(commit.end_lsn)

    def _replay_message(
        self, raw: memoryview, decoder: m.PgOutputDecoder, aborted: set[int]
    ) -> None:
        """One spilled message of a committed streamed transaction."""
        kind = raw[0]
        if kind in CHANGES:
            if aborted and U32.unpack_from(raw, STREAM_CHANGE_XID)[0] in aborted:
                return  # a subtransaction that rolled back
            self._change(kind, raw, 0, STREAM_CHANGE_OID, decoder)
            return
        msg = decoder.decode(raw)
        if aborted and getattr(msg, "xid", None) in aborted:
            return
        self._on_message(msg)

    def _count(self, rows: int) -> None:
        self.buffer.rows += rows
        self.counts.changes += rows


def key_changed(key_indexes: tuple[int, ...], old: m.TupleData, new: m.TupleData) -> bool:
    """True when an UPDATE moved the row to another key (written as D old + U new).

    A key column sent as unchanged TOAST in the new row is, by definition, unchanged: a key
    value over ~2 kB is stored out of line, and PostgreSQL then sends the old key in full (for
    the replica identity) and the new one as "unchanged". That is not a key change.
    """
    if not key_indexes:
        return False
    for i in key_indexes:
        if old.kinds[i] in NOT_SENT or new.kinds[i] in NOT_SENT:
            continue  # a value not sent on either side: that column did not change
        if old.values[i] != new.values[i]:
            return True
    return False


def key_from_old(key_indexes: tuple[int, ...], old: m.TupleData, new: m.TupleData) -> m.TupleData:
    """``new`` with its unchanged-TOAST key columns filled in from the old key.

    The key is the same (see :func:`key_changed`), and every row must carry its key: the old
    tuple holds the value PostgreSQL did not repeat in the new one.
    """
    missing = [
        i for i in key_indexes if new.kinds[i] == KIND_UNCHANGED and old.kinds[i] not in NOT_SENT
    ]
    if not missing:
        return new
    kinds = bytearray(new.kinds)
    values = list(new.values)
    for i in missing:
        kinds[i] = old.kinds[i]
        values[i] = old.values[i]
    return m.TupleData(bytes(kinds), tuple(values))
