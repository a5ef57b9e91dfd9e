"""``walstream run``: the read loop that turns a replication slot into durable Parquet files.

One thread reads the COPY BOTH stream and appends each change row, as its raw TupleData bytes,
to its table's batch (rows are parsed column by column at flush time; see
:mod:`walstream.batch`); the other pgoutput messages are decoded in full. Between
transactions it decides whether to flush (interval, bytes, rows, shutdown) and hands whole
transactions to the :class:`Flusher`. It acknowledges an LSN only
when the flusher reports it durable (files and checkpoint stored), or, when nothing at all is
buffered or in flight, the position of the server's last keepalive, so an idle publication does
not pin WAL. Status updates go out on a timer whatever the flusher is doing.

Invariant (DESIGN.md §1.1): ``acked_lsn`` never exceeds the end LSN of a transaction whose
changes are not all durable.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import psycopg

from ..batch import KEY_CHANGE_DELETE, KEY_CHANGE_UPDATE, Txn
from ..convert import PgType
from ..convert.choices import TypeChoices
from ..errors import ProtocolError, SourceError, TypeConversionError
from ..faults import any_armed, fault_point
from ..layout import checkpoint_key
from ..lsn import format_lsn, parse_lsn
from ..metrics import METRICS
from ..pg import fastpath, source
from ..pg import pgoutput as m
from ..pg.fastpath import Drained, FastPath, Handoff
from ..pg.relations import RelationCache
from ..pg.replication import (
    ConnectionLost,
    Keepalive,
    ReplicationStream,
    StreamRefused,
    socket_rcvbuf,
)
from ..pg.tuples import encode_tuple
from ..pg.types import CatalogTypes, publication_supports_binary
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
    STREAM_STOP,
    TRUNCATE,
    U32,
    UPDATE,
    XLOG_HEADER,
    XLOG_PAYLOAD,
    fast_shape,
)
from ..schema import TableSchema
from ..sink import DurableSink, open_sink
from .buffer import ChangeBuffer
from .checkpoint import Checkpoint, check_continuity
from .flusher import Flusher, FlushJob, FlushResult
from .manifest import LoadRef, ManifestChain
from .services import RunServices, ServiceSettings
from .spill import LENGTH, SpillStore

log = logging.getLogger("walstream.run")

MiB = 1024 * 1024
SPILL_READ = 4 << 20  # bytes of a spill file read at a time at replay
REPLAY_ROWS = 4096  # rows per replay() call: the budget is looked at between calls


@dataclass
class RunConfig:
    dsn: str
    slot: str
    publication: str
    dest: str
    create_slot: bool = False
    tables: tuple[str, ...] = ()
    binary: str = "auto"  # auto | on | off
    streaming: str = "on"  # on | off: pgoutput streaming of large in-progress transactions
    spill_dir: str | None = None  # where streamed transactions wait for their commit
    spill_budget: int = 20 * 1024 * MiB
    decoding_work_mem: str | None = None  # the walsender's logical_decoding_work_mem
    flush_interval: float = 60.0
    flush_bytes: int = 32 * MiB
    flush_rows: int = 1_000_000
    status_interval: float = 10.0
    max_in_flight: int = 2
    upload_workers: int = 4
    reconnect_backoff_max: float = 60.0
    reconnect_attempts: int = 0  # 0 = keep trying
    until_lsn: int | None = None  # stop once everything up to here is durable and acked
    exit_when_idle: float | None = None  # stop after this many seconds with nothing to do
    sink_options: dict[str, Any] = field(default_factory=dict)  # e.g. S3 retry settings
    sink_retry_cap: float = 30.0  # longest wait between attempts during a destination outage
    dsn_provider: Callable[[], str] | None = None  # called per connection (secrets, IAM tokens)
    metrics_port: int | None = None  # serve /metrics, /healthz, /readyz (0: any free port)
    metrics_host: str = "127.0.0.1"  # 0.0.0.0 where a scraper reaches it from outside
    metrics_token: str | None = None  # /metrics only with Authorization: Bearer <token>
    heartbeat_interval: float | None = None  # seconds between pg_logical_emit_message
    # runs with a flush's batches before their files are stored (--snowflake-evolve)
    before_write: Callable[[list[Any]], None] | None = None  # called with list[ChangeBatch]
    max_value_size: int = 128 * MiB  # larger values: see oversized_values
    oversized_values: str = "fail"  # fail | null
    accept_gap: bool = False  # --accept-gap: go on from a slot ahead of the checkpoint
    as_text: tuple[str, ...] = ()  # --as-text: columns or kinds typed as PostgreSQL's text
    on_lossy: str = "mark"  # --on-lossy: mark | fail

    @property
    def choices(self) -> TypeChoices:
        """--as-text and --on-lossy (DESIGN.md §4); a bad value is a ConfigError."""
        return TypeChoices.parse(self.as_text, self.on_lossy)


@dataclass
class RunSummary:
    acked_lsn: int = 0
    transactions: int = 0
    changes: int = 0
    files: list[str] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    bytes_received: int = 0


class Runner:
    """Streams one slot to one destination until stopped; see module docstring."""

    def __init__(self, config: RunConfig, sink: DurableSink | None = None) -> None:
        self.cfg = config
        self.sink = sink
        self.summary = RunSummary()
        self._stop = threading.Event()
        self._stop_reason = ""
        self._stream: ReplicationStream | None = None
        self._streamed = False  # the current session got as far as streaming
        self.acked_lsn = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def request_stop(self, reason: str = "requested") -> None:
        self._stop_reason = reason
        self._stop.set()
        flusher = getattr(self, "_flusher", None)
        if flusher is not None:
            flusher.abandon()  # do not wait out a destination outage once asked to stop

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            self.request_stop(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self) -> RunSummary:
        cfg = self.cfg
        socket_rcvbuf()  # a bad WALSTREAM_SOCKET_RCVBUF fails here, before anything connects
        choices = cfg.choices
        log.info(  # a bad choice fails here too
            "event=type_choices as_text=%s on_lossy=%s", choices.describe(), choices.on_lossy
        )
        self._spill = SpillStore(cfg.spill_dir, cfg.spill_budget)
        self._spill.check()  # an unusable --spill-dir too; dead processes' spill dirs go
        sink = self.sink or open_sink(cfg.dest, **cfg.sink_options)
        sink.check()
        sweep = getattr(sink, "sweep", None)
        if sweep is not None:
            sweep()  # a killed run's temp files and multipart uploads (DESIGN.md §1.9)
        self.sink = sink
        self._sql = source.connect(self._dsn())
        try:
            info = source.preflight(
                self._sql, cfg.slot, cfg.publication, create=cfg.create_slot, tables=cfg.tables
            )
            self.acked_lsn = parse_lsn(info.confirmed_flush_lsn or "0/0")
            self.summary.acked_lsn = self.acked_lsn
            checkpoint = Checkpoint.load(sink, cfg.slot)
            where = sink.describe(checkpoint_key(cfg.slot))
            check_continuity(checkpoint, self.acked_lsn, where, cfg.accept_gap)
            # the slot is where the stream resumes: a record ahead of it (a crash between the
            # checkpoint and the ack, or a forged file) is not kept
            checkpoint.acked_lsn = self.acked_lsn
            self._value_limit = cfg.max_value_size
            self._flusher = Flusher(
                sink,
                checkpoint,
                max_in_flight=cfg.max_in_flight,
                upload_workers=cfg.upload_workers,
                retry_cap=cfg.sink_retry_cap,
                before_write=cfg.before_write,
                manifests=ManifestChain(
                    cfg.slot,
                    # the chain goes on where the last manifest ended; with no record of one,
                    # nothing of this slot comes before its confirmed position: an origin
                    checkpoint.manifest_end_lsn or self.acked_lsn,
                    origin=checkpoint.manifest_end_lsn is None,
                    loads=tuple(LoadRef(t, lsn) for t, lsn in checkpoint.snapshot_positions()),
                ),
            )
            self._types = CatalogTypes(self._sql)
            self._relations = RelationCache(
                self._lookup_primary_key, self._lookup_type, cfg.choices
            )
            services: RunServices | None = None
            try:
                services = RunServices.start(self._service_settings(), self.summary, self._dsn)
                self._run_sessions()
            finally:
                if services is not None:
                    services.close()
                self._flusher.close()
        finally:
            self._sql.close()
        self.summary.acked_lsn = self.acked_lsn
        return self.summary

    def _run_sessions(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._streamed = False
            try:
                self._session()
                return
            except StreamRefused:
                raise
            except (ConnectionLost, psycopg.OperationalError) as exc:
                error: Exception = exc
            except SourceError as exc:
                if attempt == 0 or "does not exist" in str(exc):
                    raise
                error = exc
            self._drain_after_disconnect()
            if self._streamed:
                attempt = 0  # a new outage: the whole --reconnect-attempts budget, short delays
            attempt += 1
            self.summary.reconnects += 1
            METRICS.reconnects.inc()
            METRICS.errors.labels("connection_lost").inc()
            if self.cfg.reconnect_attempts and attempt > self.cfg.reconnect_attempts:
                raise SourceError(
                    f"replication connection lost and {self.cfg.reconnect_attempts} reconnect "
                    f"attempts failed; last error: {error}"
                )
            delay = min(self.cfg.reconnect_backoff_max, 0.5 * 2 ** min(attempt, 10))
            delay *= 0.5 + random.random() / 2
            log.warning(
                "event=reconnect attempt=%d delay_s=%.1f error=%s", attempt, delay, _one_line(error)
            )
            self._stop.wait(delay)
            try:  # the old session's walsender may still hold the slot for a moment
                self._sql.close()
                self._sql = source.connect(self._dsn())
            except SourceError as exc:
                log.warning("event=reconnect_sql_failed error=%s", _one_line(exc))
                continue
            self._check_slot_still_ours()

    def _check_slot_still_ours(self) -> None:
        """Before streaming again: a slot that was dropped, invalidated or moved past what was
        stored while walstream ran is not retried forever (it would stay "healthy" while
        nothing can ever be read): exit 3, as at start-up (DESIGN.md §1 guarantees 8, 9)."""
        if source.in_recovery(self._sql):
            return  # a failover in progress: the writer's slot is checked on the next attempt
        slot = self.cfg.slot
        info = source.slot_info(self._sql, slot)
        if info is None:
            raise SourceError(
                f"replication slot {slot!r} was dropped while walstream ran: changes after "
                f"{format_lsn(self.acked_lsn)} are no longer available. Create the slot again "
                "and re-load the tables (walstream snapshot), see docs/operations.md#slot-lost-or-"
                "invalidated"
            )
        source.check_slot(
            self._sql,
            info,
            lost_fix="changes after the last acknowledged position were lost. Drop the slot, "
            "create it again and re-load the tables (walstream snapshot)",
        )
        confirmed = parse_lsn(info.confirmed_flush_lsn or "0/0")
        if confirmed > self.acked_lsn:
            raise SourceError(
                f"slot {slot!r} moved to {format_lsn(confirmed)} while walstream ran, past what "
                f"it stored ({format_lsn(self.acked_lsn)}): something else advanced or consumed "
                "it, and the changes in between were never stored. Re-load the tables, or start "
                "again with --accept-gap"
            )

    def _service_settings(self) -> ServiceSettings:
        cfg = self.cfg
        return ServiceSettings(
            status_interval=cfg.status_interval,
            metrics_port=cfg.metrics_port,
            metrics_host=cfg.metrics_host or "127.0.0.1",
            metrics_token=cfg.metrics_token,
            heartbeat_interval=cfg.heartbeat_interval,
        )

    def _dsn(self) -> str:
        """The DSN for the next connection (fresh credentials from ``dsn_provider`` if set)."""
        return self.cfg.dsn_provider() if self.cfg.dsn_provider else self.cfg.dsn

    # -- catalog look-ups (called on Relation messages only) ---------------------------------
    def _lookup_primary_key(self, relid: int) -> list[str]:
        return source.primary_key_columns(self._sql, relid)

    def _lookup_type(self, oid: int, typmod: int) -> PgType:
        self._types.conn = self._sql  # the SQL connection is replaced on reconnect
        return self._types.resolve(oid, typmod)

    # -- one replication session -------------------------------------------------------------
    def _session(self) -> None:
        cfg = self.cfg
        settings = {}
        if cfg.decoding_work_mem:
            settings["logical_decoding_work_mem"] = cfg.decoding_work_mem
        if source.in_recovery(self._sql):
            # after a failover the DSN may still reach the old writer, now a standby: wait
            raise ConnectionLost("the server is in recovery (read-only); waiting for a writer")
        stream = ReplicationStream(self._dsn(), settings)
        stream.connect()
        self._stream = stream
        try:
            version = stream.server_version
            proto = source.protocol_version(version)
            options = {"proto_version": str(proto), "publication_names": cfg.publication}
            if version >= 140000:
                options["messages"] = "true"
                if self._use_binary():
                    options["binary"] = "true"
            if proto >= 2 and cfg.streaming == "on":
                options["streaming"] = "on"
            accel, accel_why = fastpath.load()
            log.info(
                "event=stream_start slot=%s publication=%s proto_version=%d binary=%s "
                "streaming=%s from=%s read_loop=%s",
                cfg.slot,
                cfg.publication,
                proto,
                options.get("binary", "false"),
                options.get("streaming", "off"),
                format_lsn(self.acked_lsn),
                "C" if accel is not None else "python",
            )
            log.debug("event=read_loop detail=%r", accel_why)
            stream.start(cfg.slot, 0, options)
            self._streamed = True
            METRICS.set_streaming(True)
            stream.watch(self._flusher.wakeup_socket)
            self._decoder = m.PgOutputDecoder(proto)
            self._proto = proto
            self._buffer = ChangeBuffer()
            self._fast: FastPath | None = None
            if accel is not None:
                self._fast = FastPath(
                    accel, self._buffer.fast, self._value_limit, self._buffer.tables
                )
            self._txn: Txn | None = None
            self._spill.start()
            self._stream_xid: int | None = None
            self._idle_lsn = 0
            self._last_idle_record = 0.0
            self._received_lsn = self.acked_lsn
            self._last_status = 0.0
            self._last_activity = time.monotonic()
            self._loop(stream)
            self._shutdown(stream)
        finally:
            self._stream = None
            METRICS.set_streaming(False)
            self._spill.clear()
            stream.close()

    def _use_binary(self) -> bool:
        if self.cfg.binary == "on":
            return True
        if self.cfg.binary == "off":
            return False
        return publication_supports_binary(self._sql, self.cfg.publication)

    def _loop(self, stream: ReplicationStream) -> None:
        flusher = self._flusher
        while not self._stop.is_set():
            self._handle_results(flusher.poll())
            if self._done():
                return
            now = time.monotonic()
            if not flusher.has_capacity():
                # backpressure: read nothing more until a flush completes, but keep talking
                self._handle_results(flusher.poll(timeout=0.2))
                self._maybe_send_status(stream)
                continue
            wait = min(1.0, self._next_deadline(now) - now)
            self._set_room()
            count = 0
            received = 0
            drained = drained_bytes = drained_end = 0
            last: memoryview | None = None
            decoder = self._decoder
            change = self._change
            in_stream = decoder.in_stream  # changes only with the messages decoded below
            for frame in stream.frames(max(wait, 0.0), self._fast):
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
                        self._buffer.committed(frame.commits, frame.commit_end)
                        self.summary.transactions += frame.commits
                    if frame.handoff is not None:
                        self._adopt(frame.handoff)
                    self._set_room()
                    if frame.frame is None:
                        if frame.may_stop and (count + drained >= 4096 or self._over_budget()):
                            break
                        continue
                    frame = frame.frame  # the frame that ended the run: handled as any other
                if type(frame) is memoryview:
                    last = frame
                    received += len(frame)
                    kind = frame[XLOG_PAYLOAD]
                    if in_stream and kind != STREAM_STOP:
                        # a chunk of a transaction that has not committed yet: to disk as is
                        assert self._stream_xid is not None
                        self._spill.append(self._stream_xid, frame[XLOG_PAYLOAD:])
                    elif kind in CHANGES:
                        change(kind, frame, XLOG_PAYLOAD, XLOG_PAYLOAD + CHANGE_OID, decoder)
                    else:
                        self._on_message(decoder.decode(frame[XLOG_PAYLOAD:]))
                        in_stream = decoder.in_stream
                else:
                    assert type(frame) is Keepalive
                    self._on_keepalive(stream, frame)
                count += 1
                if count & 255 == 0:
                    if count >= 4096:  # look at the clock and the flusher now and then
                        break
                    if self._txn is not None and self._over_budget():
                        break  # cut the transaction in progress (see _maybe_flush)
                if self._txn is None and not flusher.has_capacity():
                    break
            if last is not None:
                _, wal_end, _ = XLOG_HEADER.unpack_from(last, 1)
                self._received_lsn = max(self._received_lsn, wal_end)
                self.summary.bytes_received += received - XLOG_PAYLOAD * count
            if drained:
                self._received_lsn = max(self._received_lsn, drained_end)
                self.summary.bytes_received += drained_bytes
                count += drained
            if count:
                self._last_activity = time.monotonic()
            self._maybe_flush()
            self._maybe_record_idle()
            self._maybe_send_status(stream)
            if self._done():
                return

    def _next_deadline(self, now: float) -> float:
        deadline = self._last_status + self.cfg.status_interval
        first = self._buffer.first_change_at
        if first is not None:
            deadline = min(deadline, first + self.cfg.flush_interval)
        return deadline

    def _done(self) -> bool:
        cfg = self.cfg
        if cfg.until_lsn is not None and self.acked_lsn >= cfg.until_lsn:
            self.request_stop("until-lsn reached")
            return True
        if (
            cfg.exit_when_idle is not None
            and self._buffer.empty()
            and self._txn is None
            and self._flusher.in_flight == 0
            and time.monotonic() - self._last_activity >= cfg.exit_when_idle
        ):
            self.request_stop("idle")
            return True
        return False

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
        txn = self._txn
        if txn is None:
            name = decoder.decode(buf[start:]).__class__.__name__
            raise ProtocolError(f"{name} outside a transaction")
        # the part byte and the tuple's column count must be there; if not, decode() raises
        part = buf[at + OID_TO_PART] if len(buf) > at + OID_TO_TUPLE + 1 else -1
        if len(buf) - start <= self._value_limit and fast_shape(kind, part):
            (oid,) = U32.unpack_from(buf, at)
            buffer = self._buffer
            batch = buffer.batch_for(self._relations[oid])
            batch.append(kind, buf[at + OID_TO_TUPLE :], txn)
            buffer.rows += 1
            self.summary.changes += 1
            if self._fast is not None and oid not in buffer.fast:
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
        rel = self._relations[msg.relation_oid]
        rows: list[tuple[int, m.TupleData]]
        if isinstance(msg, m.Insert):
            rows = [(INSERT, msg.new)]
        elif isinstance(msg, m.Delete):
            rows = [(DELETE, msg.old)]
        else:
            rows = [(UPDATE, msg.new)]
            if msg.old is not None and _key_changed(rel.key_indexes, msg.old, msg.new):
                # the row moved to another key: D old, U new, both marked (DESIGN §2)
                rows = [(KEY_CHANGE_DELETE, msg.old), (KEY_CHANGE_UPDATE, msg.new)]
            elif msg.old is not None:
                rows = [(UPDATE, _key_from_old(rel.key_indexes, msg.old, msg.new))]
        batch = self._buffer.batch_for(rel)
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
            if self.cfg.oversized_values != "null":
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
        self._buffer.fast.clear()
        kind = type(msg)
        if kind is not m.Begin and kind is not m.Commit:
            self._buffer.tables.clear()
        txn = self._txn
        if kind is m.Begin:
            assert isinstance(msg, m.Begin)
            if txn is not None:
                raise ProtocolError(f"Begin of xid {msg.xid} inside transaction {txn.xid}")
            self._set_txn(Txn(msg.xid, msg.final_lsn, msg.commit_ts_us))
            self._buffer.begin()
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
            self._relations.update(msg)
        elif kind is m.Truncate:
            assert isinstance(msg, m.Truncate) and txn is not None
            for oid in msg.relation_oids:
                self._buffer.batch_for(self._relations[oid]).append(TRUNCATE, b"", txn)
                self._count(1)
        elif kind is m.TypeInfo:
            assert isinstance(msg, m.TypeInfo)
            self._relations.note_type(msg)
        elif kind is m.LogicalMessage or kind is m.Origin:
            pass  # heartbeats and origins carry no rows; their LSNs are covered by Commit/keepalive
        elif kind is m.StreamStart:
            assert isinstance(msg, m.StreamStart)
            self._stream_xid = msg.xid
            if self._fast is not None:
                self._fast.spill = bytearray()  # the block's messages: to disk through C
        elif kind is m.StreamStop:
            self._stream_xid = None
            if self._fast is not None:
                self._fast.spill = None
        elif kind is m.StreamCommit:
            assert isinstance(msg, m.StreamCommit)
            self._replay_streamed(msg)
        elif kind is m.StreamAbort:
            assert isinstance(msg, m.StreamAbort)
            self._spill.abort(msg.xid, msg.subxid)
        else:
            raise ProtocolError(
                f"unexpected {kind.__name__} message: walstream did not ask for streaming or "
                "two-phase decoding"
            )

    def _set_txn(self, txn: Txn | None) -> None:
        """The transaction in progress (None between transactions), for the C loop as well."""
        self._txn = txn
        if self._fast is not None:
            self._fast.txn = txn

    def _adopt(self, handoff: Handoff) -> None:
        """Go on with the transaction the C loop began and stopped inside."""
        xid, final_lsn, commit_ts_us, seq = handoff[:4]
        txn = Txn(xid, final_lsn, commit_ts_us, seq)
        self._set_txn(txn)
        self._buffer.adopt(txn, handoff)

    def _set_room(self) -> None:
        """What the C loop may add to the buffer before the pipeline looks at its budget."""
        fast = self._fast
        if fast is not None:
            buf = self._buffer
            fast.row_room = self.cfg.flush_rows - buf.rows
            fast.byte_room = self.cfg.flush_bytes - buf.nbytes()

    def _finish_txn(self, end_lsn: int) -> None:
        self._buffer.commit(end_lsn)
        self._set_txn(None)
        self.summary.transactions += 1
        if self._buffer.empty():
            self._idle_lsn = max(self._idle_lsn, end_lsn)
        fault_point("after_decode")
        self._maybe_flush()

    def _spill_block(self, messages: int) -> None:
        """Write what the C loop gathered of the stream block in progress to its spill file."""
        assert self._fast is not None and self._fast.spill is not None
        assert self._stream_xid is not None
        self._spill.append_block(self._stream_xid, self._fast.spill, messages)
        self._fast.spill.clear()

    def _replay_streamed(self, commit: m.StreamCommit) -> None:
        """Apply a streamed transaction from its spill file now that it has committed.

        The file is read in blocks; runs of changes of tables already seen in the transaction
        are appended by the C loop (``replay``), every other message goes through
        :meth:`_replay_message` as in the read loop.
        """
        if self._txn is not None:
            raise ProtocolError(f"Stream Commit of xid {commit.xid} inside transaction")
        spilled = self._spill.take(commit.xid)
        self._set_txn(Txn(commit.xid, commit.commit_lsn, commit.commit_ts_us))
        self._buffer.begin()
        if spilled is not None:
            decoder = m.PgOutputDecoder(self._proto)
            decoder.decode(b"S" + commit.xid.to_bytes(4, "big") + b"\x01")  # inside a stream
            aborted = spilled.aborted_subxids
            # changes of aborted subtransactions are skipped one by one, in Python
            fast = self._fast if not aborted else None
            targets = self._buffer.fast
            reader = spilled.reader()
            try:
                block = b""
                pos = handled = 0
                while True:
                    if fast is not None and targets:
                        self._set_room()
                        pos, taken, _ = fast.accel.replay(
                            block,
                            pos,
                            targets,
                            fast.txn,
                            fast.value_limit,
                            max(1, min(REPLAY_ROWS, fast.row_room)),
                            max(1, fast.byte_room // 2),  # the buffer counts row bytes twice
                        )
                        if taken:
                            self._count(taken)
                            if self._over_budget():
                                self._cut_transaction()
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
                    if handled & 255 == 0 and self._over_budget():
                        self._cut_transaction()
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

    def _over_budget(self) -> bool:
        buf = self._buffer
        return buf.rows >= self.cfg.flush_rows or buf.nbytes() >= self.cfg.flush_bytes

    def _cut_transaction(self) -> None:
        """Flush the part of a large transaction buffered so far (waiting for a free slot)."""
        while not self._flusher.has_capacity():
            self._handle_results(self._flusher.poll(timeout=0.2))
            if self._stream is not None:
                self._maybe_send_status(self._stream)
        self._flusher.submit(self._buffer.take())

    def _count(self, rows: int) -> None:
        self._buffer.rows += rows
        self.summary.changes += rows

    def _on_keepalive(self, stream: ReplicationStream, frame: Keepalive) -> None:
        self._received_lsn = max(self._received_lsn, frame.wal_end)
        if self._txn is None:
            # everything before this keepalive is buffered, in flight or durable
            self._idle_lsn = max(self._idle_lsn, frame.wal_end)
        if frame.reply_requested:
            self._send_status(stream, reply=False)

    # -- flush and ack -----------------------------------------------------------------------
    def _maybe_flush(self, force: bool = False) -> None:
        buf = self._buffer
        if buf.empty() or not self._flusher.has_capacity():
            return
        if self._txn is not None:
            if self._over_budget():
                self._cut_transaction()  # too large to wait for its commit (DESIGN §1.4)
            return
        cfg = self.cfg
        reason = "shutdown" if force else ""
        if not reason and buf.rows >= cfg.flush_rows:
            reason = "rows"
        if not reason and buf.nbytes() >= cfg.flush_bytes:
            reason = "bytes"
        first = buf.first_change_at
        if not reason and first is not None and time.monotonic() - first >= cfg.flush_interval:
            reason = "interval"
        if not reason and cfg.until_lsn is not None and self._received_lsn >= cfg.until_lsn:
            reason = "until-lsn"
        if not reason:
            return
        job = buf.take()
        log.debug(
            "event=flush reason=%s rows=%d end_lsn=%s", reason, job.rows, format_lsn(job.end_lsn)
        )
        self._flusher.submit(job)

    def _handle_results(self, results: list[FlushResult]) -> None:
        for result in results:
            if result.error is not None:
                METRICS.errors.labels("flush").inc()
                raise result.error
            if result.job.batches:
                METRICS.observe_flush(result.seconds, result.files, result.job.batches)
            self.summary.files += [f.key for f in result.files]
            for f in result.files:
                self.summary.rows_by_table[f.table] = (
                    self.summary.rows_by_table.get(f.table, 0) + f.rows
                )
            self._advance_ack(result.job.end_lsn)
            # an idle position recorded every status interval is not news
            log.log(
                logging.INFO if result.job.batches else logging.DEBUG,
                "event=flush_durable files=%d rows=%d end_lsn=%s seconds=%.3f",
                len(result.files),
                result.job.rows,
                format_lsn(result.job.end_lsn),
                result.seconds,
            )
        if results and self._stream is not None:
            self._send_status(self._stream)

    def _advance_ack(self, lsn: int) -> None:
        if lsn > self.acked_lsn:
            self.acked_lsn = lsn

    def _ack_candidate(self) -> int:
        """The highest LSN we may confirm right now: what the checkpoint records as stored.

        An idle position (a keepalive's, or the commit of a transaction with no published
        rows) is confirmed only once recorded (:meth:`_maybe_record_idle`), so the slot is
        never ahead of the checkpoint and a slot that is ahead of it at start-up means changes
        were skipped (DESIGN.md §1 guarantee 8, :func:`.checkpoint.check_continuity`).
        """
        return self.acked_lsn

    def _maybe_record_idle(self) -> None:
        """With nothing buffered or in flight, record the idle position in the checkpoint (an
        empty flush job: no files, no manifest) at most every status interval, or at once when
        it reaches --until-lsn; its result advances the ack like any flush's."""
        if (
            self._idle_lsn <= self.acked_lsn
            or self._txn is not None
            or not self._buffer.empty()
            or self._flusher.in_flight
        ):
            return
        cfg = self.cfg
        now = time.monotonic()
        due = now - self._last_idle_record >= cfg.status_interval
        if due or (cfg.until_lsn is not None and self._idle_lsn >= cfg.until_lsn):
            self._last_idle_record = now
            self._flusher.submit(FlushJob([], self._idle_lsn, 0, 0))

    def _maybe_send_status(self, stream: ReplicationStream) -> None:
        if (
            time.monotonic() - self._last_status >= self.cfg.status_interval
            or self._ack_candidate() > self.acked_lsn
        ):
            self._send_status(stream)

    def _send_status(self, stream: ReplicationStream, reply: bool = False) -> None:
        self._advance_ack(self._ack_candidate())
        stream.send_status(max(self._received_lsn, self.acked_lsn), self.acked_lsn, reply)
        self._last_status = time.monotonic()
        METRICS.progress(
            acked_lsn=self.acked_lsn,
            received_lsn=self._received_lsn,
            server_wal_end=self._received_lsn,
            buffered_bytes=self._buffer.nbytes(),
            buffered_rows=self._buffer.rows,
            in_flight=self._flusher.in_flight,
        )

    # -- stopping ----------------------------------------------------------------------------
    def _drain(self) -> None:
        """Flush the complete transactions buffered and wait for every flush to be durable."""
        if self._txn is not None:
            self._buffer.rollback()
            self._set_txn(None)
        while not self._buffer.empty():
            self._maybe_flush(force=True)
            if not self._buffer.empty():
                self._handle_results(self._flusher.poll(timeout=0.5))
        while self._flusher.in_flight:
            self._handle_results(self._flusher.poll(timeout=0.5))

    def _shutdown(self, stream: ReplicationStream) -> None:
        log.info("event=stopping reason=%s", self._stop_reason or "done")
        self._drain()
        self._send_status(stream)
        log.info("event=stopped acked_lsn=%s", format_lsn(self.acked_lsn))

    def _drain_after_disconnect(self) -> None:
        """After a lost connection: store what is complete; the rest comes again from the slot."""
        self._stream = None  # dead: acks wait for the next session
        if getattr(self, "_buffer", None) is not None:
            self._drain()


def _key_changed(key_indexes: tuple[int, ...], old: m.TupleData, new: m.TupleData) -> bool:
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


def _key_from_old(key_indexes: tuple[int, ...], old: m.TupleData, new: m.TupleData) -> m.TupleData:
    """``new`` with its unchanged-TOAST key columns filled in from the old key.

    The key is the same (see :func:`_key_changed`), and every row must carry its key: the old
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
