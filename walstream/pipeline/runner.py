"""``walstream run``: the read loop that turns a replication slot into durable Parquet files.

One thread reads the COPY BOTH stream and appends each change row, as its raw TupleData bytes,
to its table's batch (rows are parsed column by column at flush time; see
:mod:`walstream.capture.batch`); the other pgoutput messages are decoded in full. Between
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

from ..capture import switch
from ..capture.buffer import FlushJob
from ..capture.capture import Capture, CaptureCounts, CaptureSettings
from ..capture.frames import frames
from ..capture.spill import SpillStore
from ..convert import PgType
from ..convert.choices import TypeChoices
from ..errors import SourceError, one_line
from ..layout import checkpoint_key
from ..lsn import format_lsn, parse_lsn
from ..metrics import METRICS
from ..pg import source
from ..pg.relations import RelationCache
from ..pg.replication import RCVBUF, ConnectionLost, ReplicationStream, StreamRefused
from ..pg.types import CatalogTypes, publication_supports_binary
from ..sink import DurableSink, open_sink
from .checkpoint import Checkpoint, check_continuity
from .flusher import Flusher, FlushResult
from .manifest import LoadRef, ManifestChain
from .services import RunServices, ServiceSettings

log = logging.getLogger("walstream.run")

MiB = 1024 * 1024


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
    socket_rcvbuf: int = RCVBUF  # --socket-rcvbuf: the replication socket's buffer (0: kernel)
    # --snowflake-monitor-interval: starts the warehouse monitor (see ServiceSettings)
    warehouse_monitor: Callable[[Callable[[], int], Any], Any] | None = None

    @property
    def choices(self) -> TypeChoices:
        """--as-text and --on-lossy (DESIGN.md §4); a bad value is a ConfigError."""
        return TypeChoices.parse(self.as_text, self.on_lossy)


@dataclass
class RunSummary:
    acked_lsn: int = 0
    files: list[str] = field(default_factory=list)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    captured: CaptureCounts = field(default_factory=CaptureCounts)  # capture counts here

    @property
    def transactions(self) -> int:
        return self.captured.transactions

    @property
    def changes(self) -> int:
        return self.captured.changes

    @property
    def bytes_received(self) -> int:
        return self.captured.bytes_received


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
        # set up by run(): the catalog connection, the flusher and capture
        self._sql: psycopg.Connection[tuple[object, ...]] | None = None
        self._flusher: Flusher | None = None
        self._capture: Capture | None = None
        self._types: CatalogTypes | None = None
        self._last_status = 0.0  # when the last status update went out
        self._last_activity = 0.0  # when the last frame arrived
        self._last_idle_record = 0.0  # when an idle position was last recorded

    @property
    def sql(self) -> psycopg.Connection[tuple[object, ...]]:
        assert self._sql is not None, "not running"
        return self._sql

    @property
    def flusher(self) -> Flusher:
        assert self._flusher is not None, "not running"
        return self._flusher

    @property
    def capture(self) -> Capture:
        assert self._capture is not None, "not running"
        return self._capture

    # -- lifecycle ---------------------------------------------------------------------------
    def request_stop(self, reason: str = "requested") -> None:
        self._stop_reason = reason
        self._stop.set()
        if self._flusher is not None:
            self._flusher.abandon()  # do not wait out a destination outage once asked to stop

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            self.request_stop(signal.Signals(signum).name)

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run(self) -> RunSummary:
        cfg = self.cfg
        choices = cfg.choices
        log.info(  # a bad choice fails here too
            "event=type_choices as_text=%s on_lossy=%s", choices.describe(), choices.on_lossy
        )
        spill = SpillStore(cfg.spill_dir, cfg.spill_budget)
        spill.check()  # an unusable --spill-dir too; dead processes' spill dirs go
        sink = self.sink or open_sink(cfg.dest, **cfg.sink_options)
        sink.check()
        sweep = getattr(sink, "sweep", None)
        if sweep is not None:
            sweep()  # a killed run's temp files and multipart uploads (DESIGN.md §1.9)
        self.sink = sink
        self._sql = source.connect(self._dsn())
        try:
            info = source.preflight(
                self.sql, cfg.slot, cfg.publication, create=cfg.create_slot, tables=cfg.tables
            )
            self.acked_lsn = parse_lsn(info.confirmed_flush_lsn or "0/0")
            self.summary.acked_lsn = self.acked_lsn
            checkpoint = Checkpoint.load(sink, cfg.slot)
            where = sink.describe(checkpoint_key(cfg.slot))
            check_continuity(checkpoint, self.acked_lsn, where, cfg.accept_gap)
            # the slot is where the stream resumes: a record ahead of it (a crash between the
            # checkpoint and the ack, or a forged file) is not kept
            checkpoint.acked_lsn = self.acked_lsn
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
            self._types = CatalogTypes(self.sql)
            relations = RelationCache(self._lookup_primary_key, self._lookup_type, cfg.choices)
            settings = CaptureSettings(
                cfg.flush_rows, cfg.flush_bytes, cfg.max_value_size, cfg.oversized_values
            )
            self._capture = Capture(settings, relations, spill, self, self.summary.captured)
            services: RunServices | None = None
            try:
                services = RunServices.start(
                    self._service_settings(), self.summary, self._dsn, acked=lambda: self.acked_lsn
                )
                self._run_sessions()
            finally:
                if services is not None:
                    services.close()
                self.flusher.close()
        finally:
            self.sql.close()
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
                self.sql.close()
                self._sql = source.connect(self._dsn())
            except SourceError as exc:
                log.warning("event=reconnect_sql_failed error=%s", _one_line(exc))
                continue
            self._check_slot_still_ours()

    def _check_slot_still_ours(self) -> None:
        """Before streaming again: a slot that was dropped, invalidated or moved past what was
        stored while walstream ran is not retried forever (it would stay "healthy" while
        nothing can ever be read): exit 3, as at start-up (DESIGN.md §1 guarantees 8, 9)."""
        if source.in_recovery(self.sql):
            return  # a failover in progress: the writer's slot is checked on the next attempt
        slot = self.cfg.slot
        info = source.slot_info(self.sql, slot)
        if info is None:
            raise SourceError(
                f"replication slot {slot!r} was dropped while walstream ran: changes after "
                f"{format_lsn(self.acked_lsn)} are no longer available. Create the slot again "
                "and re-load the tables (walstream snapshot), see docs/operations.md#slot-lost-or-"
                "invalidated"
            )
        source.check_slot(
            self.sql,
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
            warehouse_monitor=cfg.warehouse_monitor,
        )

    def _dsn(self) -> str:
        """The DSN for the next connection (fresh credentials from ``dsn_provider`` if set)."""
        return self.cfg.dsn_provider() if self.cfg.dsn_provider else self.cfg.dsn

    # -- catalog look-ups (called on Relation messages only) ---------------------------------
    def _lookup_primary_key(self, relid: int) -> list[str]:
        return source.primary_key_columns(self.sql, relid)

    def _lookup_type(self, oid: int, typmod: int) -> PgType:
        assert self._types is not None
        self._types.conn = self.sql  # the SQL connection is replaced on reconnect
        return self._types.resolve(oid, typmod)

    # -- one replication session -------------------------------------------------------------
    def _session(self) -> None:
        cfg = self.cfg
        settings = {}
        if cfg.decoding_work_mem:
            settings["logical_decoding_work_mem"] = cfg.decoding_work_mem
        if source.in_recovery(self.sql):
            # after a failover the DSN may still reach the old writer, now a standby: wait
            raise ConnectionLost("the server is in recovery (read-only); waiting for a writer")
        stream = ReplicationStream(self._dsn(), settings, rcvbuf=cfg.socket_rcvbuf)
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
            accel, accel_why = switch.read_loop()
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
            stream.watch(self.flusher.wakeup_socket)
            self.capture.start(proto, accel, self.acked_lsn)
            self._last_idle_record = 0.0
            self._last_status = 0.0
            self._last_activity = time.monotonic()
            self._loop(stream)
            self._shutdown(stream)
        finally:
            self._stream = None
            METRICS.set_streaming(False)
            self.capture.end()
            stream.close()

    def _use_binary(self) -> bool:
        if self.cfg.binary == "on":
            return True
        if self.cfg.binary == "off":
            return False
        return publication_supports_binary(self.sql, self.cfg.publication)

    def _loop(self, stream: ReplicationStream) -> None:
        flusher = self.flusher
        capture = self.capture
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
            wait = max(0.0, min(1.0, self._next_deadline(now) - now))
            if capture.read(frames(stream, wait, capture.fast)):
                self._last_activity = time.monotonic()
            self._maybe_flush()
            self._maybe_record_idle()
            self._maybe_send_status(stream)
            if self._done():
                return

    def _next_deadline(self, now: float) -> float:
        deadline = self._last_status + self.cfg.status_interval
        first = self.capture.buffer.first_change_at
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
            and self.capture.buffer.empty()
            and self.capture.txn is None
            and self.flusher.in_flight == 0
            and time.monotonic() - self._last_activity >= cfg.exit_when_idle
        ):
            self.request_stop("idle")
            return True
        return False

    # -- what capture asks of the pipeline (capture.Pipeline) --------------------------------
    def transaction_done(self) -> None:
        self._maybe_flush()

    def cut_transaction(self) -> None:
        """Flush the part of a large transaction buffered so far (waiting for a free slot)."""
        flusher = self.flusher
        while not flusher.has_capacity():
            self._handle_results(flusher.poll(timeout=0.2))
            if self._stream is not None:
                self._maybe_send_status(self._stream)
        flusher.submit(self.capture.buffer.take())

    def reply_requested(self) -> None:
        if self._stream is not None:
            self._send_status(self._stream, reply=False)

    def has_capacity(self) -> bool:
        return self.flusher.has_capacity()

    # -- flush and ack -----------------------------------------------------------------------
    def _maybe_flush(self, force: bool = False) -> None:
        capture = self.capture
        buf = capture.buffer
        if buf.empty() or not self.flusher.has_capacity():
            return
        if capture.txn is not None:
            return  # capture hands over a transaction too large to wait for its commit
        cfg = self.cfg
        reason = "shutdown" if force else ""
        if not reason and buf.rows >= cfg.flush_rows:
            reason = "rows"
        if not reason and buf.nbytes() >= cfg.flush_bytes:
            reason = "bytes"
        first = buf.first_change_at
        if not reason and first is not None and time.monotonic() - first >= cfg.flush_interval:
            reason = "interval"
        if not reason and cfg.until_lsn is not None and capture.received_lsn >= cfg.until_lsn:
            reason = "until-lsn"
        if not reason:
            return
        job = buf.take()
        log.debug(
            "event=flush reason=%s rows=%d end_lsn=%s", reason, job.rows, format_lsn(job.end_lsn)
        )
        self.flusher.submit(job)

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
        capture = self.capture
        idle_lsn = capture.idle_lsn
        if (
            idle_lsn <= self.acked_lsn
            or capture.txn is not None
            or not capture.buffer.empty()
            or self.flusher.in_flight
        ):
            return
        cfg = self.cfg
        now = time.monotonic()
        due = now - self._last_idle_record >= cfg.status_interval
        if due or (cfg.until_lsn is not None and idle_lsn >= cfg.until_lsn):
            self._last_idle_record = now
            self.flusher.submit(FlushJob([], idle_lsn, 0, 0))

    def _maybe_send_status(self, stream: ReplicationStream) -> None:
        if (
            time.monotonic() - self._last_status >= self.cfg.status_interval
            or self._ack_candidate() > self.acked_lsn
        ):
            self._send_status(stream)

    def _send_status(self, stream: ReplicationStream, reply: bool = False) -> None:
        self._advance_ack(self._ack_candidate())
        capture = self.capture
        received = capture.received_lsn
        stream.send_status(max(received, self.acked_lsn), self.acked_lsn, reply)
        self._last_status = time.monotonic()
        METRICS.progress(
            acked_lsn=self.acked_lsn,
            received_lsn=received,
            server_wal_end=received,
            buffered_bytes=capture.buffer.nbytes(),
            buffered_rows=capture.buffer.rows,
            in_flight=self.flusher.in_flight,
        )

    # -- stopping ----------------------------------------------------------------------------
    def _drain(self) -> None:
        """Flush the complete transactions buffered and wait for every flush to be durable."""
        capture = self.capture
        capture.abandon_transaction()
        while not capture.buffer.empty():
            self._maybe_flush(force=True)
            if not capture.buffer.empty():
                self._handle_results(self.flusher.poll(timeout=0.5))
        while self.flusher.in_flight:
            self._handle_results(self.flusher.poll(timeout=0.5))

    def _shutdown(self, stream: ReplicationStream) -> None:
        log.info("event=stopping reason=%s", self._stop_reason or "done")
        self._drain()
        self._send_status(stream)
        log.info("event=stopped acked_lsn=%s", format_lsn(self.acked_lsn))

    def _drain_after_disconnect(self) -> None:
        """After a lost connection: store what is complete; the rest comes again from the slot."""
        self._stream = None  # dead: acks wait for the next session
        self._drain()


def _one_line(exc: BaseException) -> str:
    return one_line(exc) or type(exc).__name__
