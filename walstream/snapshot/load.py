"""Loading tables from one exported snapshot with parallel workers, and recording how far it got.

:func:`run_snapshot` is ``walstream snapshot``; :func:`initial_load` is what ``walstream run
--snapshot initial`` does before it streams. Both come down to:

1. check everything that can be checked before a slot exists: the publication, each table (it
   exists, it is published, the role may read it), the destination;
2. hold an exported snapshot (:mod:`.exported`): the pipeline's slot when it is created now,
   else a temporary slot next to it, or a snapshot the caller holds (``--use-snapshot``);
3. in a coordinator transaction inside the snapshot, lock the tables against DDL (ACCESS SHARE,
   like pg_dump), describe them as the stream does, and split them into ctid chunks;
4. ``workers`` threads, each with its own connection inside the same snapshot, take chunks in
   table order; each keeps one :class:`~.writer.LoadFileWriter` per table it is working on and
   stores it when it moves to another table. The first worker to reach a table stores its ``T``
   marker; the last one to leave it marks it loaded.

State per table in the checkpoint (``snapshot`` section): ``not_started`` when planned,
``loading`` once its marker or rows may be stored, ``loaded`` once every file is stored. A
table that is not ``loaded`` after a crash is simply loaded again from a *new* snapshot: its new
``T`` marker sits after everything the interrupted attempt wrote, so partial files of that
attempt change nothing in FINAL. (Resuming the same snapshot is impossible: it dies with the
connection that exported it.)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import psycopg
from psycopg import sql

from ..convert.choices import DEFAULT_CHOICES, TypeChoices
from ..errors import ConfigError, SourceError
from ..layout import load_file_key
from ..lsn import format_lsn
from ..pg import source
from ..pg.types import CatalogTypes
from ..pipeline.checkpoint import Checkpoint
from ..pipeline.manifest import ManifestFile, load_manifest
from ..sink import DurableSink, open_sink
from .exported import ExportedSnapshot, SlotSnapshot, temporary_slot_name
from .progress import Progress, make_progress
from .reader import SnapshotSession
from .tables import (
    Chunk,
    LoadTable,
    check_publication,
    describe_table,
    published_tables,
    select_tables,
)
from .writer import (
    FileNumbers,
    LoadFileWriter,
    LoadPosition,
    StoredLoadFile,
    truncate_marker,
)

log = logging.getLogger("walstream.snapshot")

MiB = 1024 * 1024

NOT_STARTED = "not_started"
LOADING = "loading"
LOADED = "loaded"


@dataclass
class SnapshotConfig:
    dsn: str
    slot: str
    publication: str
    dest: str
    tables: tuple[str, ...] = ()  # schema.table; empty: every table of the publication
    workers: int = 4
    memory_budget: int = 256 * MiB
    resume: bool = False  # skip tables whose last snapshot is loaded
    create_slot: bool = False  # create the pipeline's slot (with this snapshot) if missing
    use_snapshot: str | None = None  # a snapshot exported and held by the caller...
    consistent_point: int | None = None  # ...and the consistent point of its slot
    progress: str = "auto"  # auto | bar | log | none
    progress_interval: float = 10.0
    choices: TypeChoices = DEFAULT_CHOICES  # --as-text / --on-lossy, as the stream has them

    def buffer_sizes(self) -> tuple[int, int]:
        """(block_bytes, file_bytes) per worker from the memory budget.

        A worker holds one block of CSV text with its parsed and converted columns (a few times
        the block) and one compressed file being written, which is copied once to be stored.
        Measured RSS growth on a 116 MB table, above a run on 2000 rows of the same shape:
        31-36 MB with a 16 MB budget (2 workers), 46 MB with 64 MB (2), 103 MB with 256 MB
        (4), 34 MB with 256 MB (1 worker); it does not grow with the table. Beyond the budget,
        count 15-20 MB of encoder and allocator working memory per worker
        (tests/test_snapshot_memory.py).
        """
        share = self.memory_budget // max(self.workers, 1)
        block = min(max(share // 16, 256 * 1024), 64 * MiB)
        file = min(max(share // 6, 1 * MiB), 128 * MiB)
        return block, file

    def check(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"--workers must be at least 1, not {self.workers}")
        if self.memory_budget < 4 * MiB:
            raise ConfigError(
                f"--memory-budget {self.memory_budget} is too small: use at least 4MB"
            )
        if (self.use_snapshot is None) != (self.consistent_point is None):
            raise ConfigError(
                "--use-snapshot and --snapshot-lsn go together: the snapshot's name and the "
                "consistent point of the slot that exported it"
            )


@dataclass
class TableResult:
    table: str
    state: str = NOT_STARTED
    rows: int = 0
    files: int = 0
    bytes: int = 0


@dataclass
class SnapshotSummary:
    snapshot_lsn: int = 0
    consistent_point: int = 0
    slot: str | None = None  # the slot that exported the snapshot
    created_slot: bool = False  # the pipeline's slot was created by this snapshot
    tables: dict[str, TableResult] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # already loaded (resume)
    chunks: int = 0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    @property
    def files(self) -> int:
        return sum(t.files for t in self.tables.values())


class StreamSettings(Protocol):
    """What :func:`initial_load` needs of ``walstream run``'s configuration (``RunConfig``)."""

    dsn: str
    slot: str
    publication: str
    dest: str
    create_slot: bool
    tables: tuple[str, ...]


def run_snapshot(
    config: SnapshotConfig, sink: DurableSink | None = None, progress: Progress | None = None
) -> SnapshotSummary:
    """Load the configured tables from one snapshot; see the module docstring.

    Raises SourceError (missing slot or publication, table not published or not readable,
    snapshot no longer valid), SinkError, or ConfigError; tables loaded before a failure stay
    ``loaded`` in the checkpoint.
    """
    config.check()
    sink = sink or open_sink(config.dest)
    sink.check()
    summary = SnapshotSummary()
    with source.connect(config.dsn) as conn:
        check_publication(conn, config.publication)
        info = source.slot_info(conn, config.slot)
        _check_slot(conn, config, info)
        tables = select_tables(conn, config.publication, config.tables)
    checkpoint = Checkpoint.load(sink, config.slot)
    if config.resume and info is not None:
        for schema, table in list(tables):
            state = checkpoint.snapshot_state(f"{schema}.{table}") or {}
            if state.get("state") == LOADED:
                tables.remove((schema, table))
                summary.skipped.append(f"{schema}.{table}")
        if not tables:
            log.info("event=snapshot_nothing_to_do skipped=%d", len(summary.skipped))
            return summary
    # From here on the tables count as requested: if this run dies before they are loaded,
    # --resume (and run --snapshot initial) loads them, even those loaded by an earlier run.
    for schema, table in tables:
        checkpoint.record_snapshot(f"{schema}.{table}", NOT_STARTED, 0, 0, 0)
    if config.use_snapshot is not None and config.consistent_point is not None:
        # the caller's slot starts at the consistent point: the load stands for what is before
        checkpoint.acked_lsn = max(checkpoint.acked_lsn, config.consistent_point)
    checkpoint.write(sink)
    if config.use_snapshot is not None:
        assert config.consistent_point is not None
        snapshot = ExportedSnapshot(config.use_snapshot, config.consistent_point)
        _Load(config, sink, checkpoint, snapshot, tables, summary, progress).run()
        return summary
    created = info is None
    slot = config.slot if created else temporary_slot_name(config.slot)
    with SlotSnapshot(config.dsn, slot, temporary=not created) as held:
        assert held.snapshot is not None
        summary.slot, summary.created_slot = slot, created
        if created:
            # the pipeline's new slot starts at the consistent point: the load stands for what
            # is before it, so the stream's continuity check (checkpoint.py) starts there
            checkpoint.acked_lsn = max(checkpoint.acked_lsn, held.snapshot.consistent_point)
            checkpoint.write(sink)
        try:
            _Load(config, sink, checkpoint, held.snapshot, tables, summary, progress).run()
        except BaseException:
            if created:  # the slot stays (and keeps WAL): say how to finish, not just what broke
                log.warning(
                    "event=snapshot_incomplete slot=%s loaded=%d tables=%d hint=the slot was "
                    "created and retains WAL; finish with walstream snapshot --resume or walstream "
                    "run --snapshot initial (tables not loaded are loaded from a new snapshot), "
                    "or drop the slot",
                    slot,
                    sum(1 for t in summary.tables.values() if t.state == LOADED),
                    len(summary.tables),
                )
            raise
    return summary


def initial_load(
    settings: StreamSettings,
    *,
    workers: int = 4,
    memory_budget: int = 256 * MiB,
    progress: str = "auto",
    sink: DurableSink | None = None,
) -> SnapshotSummary:
    """``walstream run --snapshot initial``: load every table not loaded yet, then return.

    If the slot does not exist, it is created here with an exported snapshot and every
    published table is loaded at its consistent point (``--create-slot`` also creates a missing
    publication, as ``run`` does). If it exists, the tables whose snapshot state is not
    ``loaded`` are loaded from a temporary slot's snapshot (an interrupted initial load, or a
    table added to the publication); when there are none, nothing happens. On return the slot
    is free for the stream, which continues exactly after the loaded rows.
    """
    with source.connect(settings.dsn) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_publication WHERE pubname = %s", (settings.publication,)
        ).fetchone()
        if exists is None and settings.create_slot:
            source.create_publication(conn, settings.publication, settings.tables)
        slot_exists = source.slot_info(conn, settings.slot) is not None
    config = SnapshotConfig(
        dsn=settings.dsn,
        slot=settings.slot,
        publication=settings.publication,
        dest=settings.dest,
        workers=workers,
        memory_budget=memory_budget,
        resume=slot_exists,
        create_slot=True,
        progress=progress,
        choices=getattr(settings, "choices", DEFAULT_CHOICES),
    )
    if sink is None:  # the same destination settings as the stream (RunConfig.sink_options)
        sink = open_sink(settings.dest, **(getattr(settings, "sink_options", None) or {}))
    summary = run_snapshot(config, sink)
    if summary.created_slot:
        _wait_slot_released(settings.dsn, settings.slot)
    return summary


def _check_slot(
    conn: psycopg.Connection[tuple[object, ...]],
    config: SnapshotConfig,
    info: source.SlotInfo | None,
) -> None:
    if info is None:
        if config.use_snapshot is None and not config.create_slot:
            raise SourceError(
                f"replication slot {config.slot!r} does not exist: pass --create-slot to create "
                "it with this snapshot (an initial load), or create the slot first; a load is "
                "only useful next to the slot that streams the changes after it"
            )
        return
    source.check_slot(
        conn,
        info,
        lost_fix="drop it, then load again with --create-slot so the new slot and the load meet",
    )


def _wait_slot_released(dsn: str, slot: str, timeout: float = 30.0) -> None:
    """Wait until the walsender that created ``slot`` has let go of it (it exits async)."""
    deadline = time.monotonic() + timeout
    with source.connect(dsn) as conn:
        while True:
            info = source.slot_info(conn, slot)
            if info is None or info.active_pid is None:
                return
            if time.monotonic() > deadline:
                raise SourceError(
                    f"replication slot {slot!r} is still held by pid {info.active_pid} "
                    f"{timeout:.0f}s after the snapshot connection closed"
                )
            time.sleep(0.05)


@dataclass
class _TableWork:
    table: LoadTable
    untaken: int  # chunks no worker has taken yet
    leases: int = 0  # workers holding a writer for the table
    started: bool = False
    result: TableResult = field(default_factory=lambda: TableResult(""))
    files: list[ManifestFile] = field(default_factory=list)  # for the table's load manifest


class _Load:
    """One snapshot's load: coordinator transaction, chunk queue, workers, bookkeeping."""

    def __init__(
        self,
        config: SnapshotConfig,
        sink: DurableSink,
        checkpoint: Checkpoint,
        snapshot: ExportedSnapshot,
        tables: Sequence[tuple[str, str]],
        summary: SnapshotSummary,
        progress: Progress | None,
    ) -> None:
        self.config = config
        self.sink = sink
        self.checkpoint = checkpoint
        self.snapshot = snapshot
        self.names = list(tables)
        self.summary = summary
        self.progress = progress or make_progress(config.progress, config.progress_interval)
        self.block_bytes, self.file_bytes = config.buffer_sizes()
        self.numbers = FileNumbers()
        self._lock = threading.Lock()  # queue and per-table counters
        self._checkpoint_lock = threading.Lock()
        self._queue: deque[tuple[_TableWork, Chunk]] = deque()
        self._work: dict[str, _TableWork] = {}
        self._failed = threading.Event()
        self._errors: list[BaseException] = []
        self.position = LoadPosition(snapshot.snapshot_lsn, 0)

    # -- coordinator -------------------------------------------------------------------------
    def run(self) -> None:
        snap = self.snapshot
        self.summary.snapshot_lsn = snap.snapshot_lsn
        self.summary.consistent_point = snap.consistent_point
        with SnapshotSession(self.config.dsn, snap) as coordinator:
            conn = coordinator.conn
            assert conn is not None
            self._plan(conn)
            log.info(
                "event=snapshot_start tables=%d chunks=%d workers=%d snapshot_lsn=%s "
                "consistent_point=%s block_bytes=%d file_bytes=%d",
                len(self._work),
                len(self._queue),
                self.config.workers,
                format_lsn(snap.snapshot_lsn),
                format_lsn(snap.consistent_point),
                self.block_bytes,
                self.file_bytes,
            )
            self.progress.start([(name, w.table.blocks) for name, w in self._work.items()])
            try:
                self._run_workers()
            finally:
                self.progress.stop()
        if self._errors:
            raise self._errors[0]
        log.info(
            "event=snapshot_done tables=%d rows=%d files=%d snapshot_lsn=%s",
            len(self._work),
            self.summary.rows,
            self.summary.files,
            format_lsn(snap.snapshot_lsn),
        )

    def _plan(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        for namespace, name in self.names:
            # held to the end of the load: no DDL can change what the workers read
            conn.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(
                    sql.Identifier(namespace, name)
                )
            )
        row = conn.execute(
            "SELECT (extract(epoch FROM statement_timestamp()) * 1000000)::int8"
        ).fetchone()
        assert row is not None
        self.position = LoadPosition(self.snapshot.snapshot_lsn, int(str(row[0])))
        types = CatalogTypes(conn)
        tid_range_scan = conn.info.server_version >= 140000
        publication = self.config.publication
        published = published_tables(conn, publication)
        for namespace, name in self.names:
            table = describe_table(
                conn, publication, namespace, name, types, published, self.config.choices
            )
            chunks = table.chunks(tid_range_scan)
            work = _TableWork(table, len(chunks), result=TableResult(table.qualified_name))
            self._work[table.qualified_name] = work
            self._queue.extend((work, chunk) for chunk in chunks)
            self.summary.tables[table.qualified_name] = work.result
        self.summary.chunks = len(self._queue)
        with self._checkpoint_lock:
            for qualified in self._work:
                self.checkpoint.record_snapshot(
                    qualified, NOT_STARTED, self.snapshot.snapshot_lsn, 0, 0
                )
            self.checkpoint.write(self.sink)

    def _run_workers(self) -> None:
        threads = [
            threading.Thread(target=self._worker, name=f"walstream-snapshot-{i}", daemon=True)
            for i in range(min(self.config.workers, len(self._queue)))
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException as exc:  # Ctrl-C: stop the workers, leave the tables loading
            self._fail(exc)
            for thread in threads:
                thread.join(30)
            raise

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)
        self._failed.set()

    # -- workers -----------------------------------------------------------------------------
    def _worker(self) -> None:
        writer: LoadFileWriter | None = None
        try:
            with SnapshotSession(self.config.dsn, self.snapshot) as session:
                while not self._failed.is_set():
                    item = self._take(writer)
                    if item is None:
                        break
                    work, chunk, first = item
                    if writer is None or writer.table is not work.table:
                        if writer is not None:
                            writer.close()
                            self._release(writer.table.qualified_name)
                        writer = LoadFileWriter(
                            self.sink,
                            work.table,
                            self.position,
                            self.numbers,
                            self.file_bytes,
                            self._stored,
                        )
                        session.lock(work.table)
                    if first:
                        self._start_table(work)
                    self._read(session, work, chunk, writer)
                if writer is not None and not self._failed.is_set():
                    writer.close()
                    self._release(writer.table.qualified_name)
                    writer = None
        except BaseException as exc:
            self._fail(exc)
        finally:
            if writer is not None:
                writer.abandon()

    def _take(self, writer: LoadFileWriter | None) -> tuple[_TableWork, Chunk, bool] | None:
        """The next chunk, with a lease on its table; True if it is the table's first."""
        with self._lock:
            if not self._queue:
                return None
            work, chunk = self._queue.popleft()
            work.untaken -= 1
            if writer is None or writer.table is not work.table:
                work.leases += 1
            first = not work.started
            work.started = True
            return work, chunk, first

    def _read(
        self, session: SnapshotSession, work: _TableWork, chunk: Chunk, writer: LoadFileWriter
    ) -> None:
        name = work.table.qualified_name
        for raw in session.read_chunk(work.table, chunk, self.block_bytes):
            if self._failed.is_set():
                return
            writer.write(raw)
            with self._lock:
                work.result.rows += raw.rows
                work.result.bytes += raw.nbytes
            self.progress.advance(name, raw.rows, raw.nbytes)
        self.progress.chunk_done(name, chunk.blocks)

    def _start_table(self, work: _TableWork) -> None:
        table = work.table
        self.progress.table_started(table.qualified_name)
        with self._lock:
            work.result.state = LOADING
        self._record(table.qualified_name, LOADING)
        key = load_file_key(
            table.schema.namespace, table.schema.name, 0, self.position.snapshot_lsn
        )
        self.sink.put(key, truncate_marker(table, self.position))
        self._stored(StoredLoadFile(table.qualified_name, key, 0, 0), rows=1)

    def _stored(self, stored: StoredLoadFile, rows: int | None = None) -> None:
        with self._lock:
            work = self._work[stored.table]
            work.result.files += 1
            work.files.append(
                ManifestFile(stored.table, stored.key, stored.rows if rows is None else rows)
            )

    def _release(self, name: str) -> None:
        """A worker is done with a table; the last one out marks it loaded."""
        with self._lock:
            work = self._work[name]
            work.leases -= 1
            done = work.untaken == 0 and work.leases == 0 and not self._failed.is_set()
            if done:
                work.result.state = LOADED
        if done:
            # the load manifest, before the table counts as loaded: a warehouse merges the load
            # only once every file it lists has arrived (walstream.pipeline.manifest)
            manifest = load_manifest(
                self.config.slot, self.snapshot.snapshot_lsn, work.files, origin=False
            )
            manifest.write(self.sink)
            self._record(name, LOADED)
            self.progress.table_done(name, work.result.files)

    def _record(self, name: str, state: str) -> None:
        result = self._work[name].result
        with self._checkpoint_lock:
            self.checkpoint.record_snapshot(
                name, state, self.snapshot.snapshot_lsn, result.files, result.rows
            )
            self.checkpoint.write(self.sink)
