"""Loading tables from one exported snapshot with parallel workers, and recording how far it got.

:func:`run_snapshot` is ``walstream snapshot``; :func:`initial_load` is what ``walstream run
--snapshot initial`` does before it streams. Both come down to:

1. check everything that can be checked before a slot exists: the publication, each table (it
   exists, it is published, the role may read it), the destination, and whether an earlier load
   of the slot is still running (its snapshot can be imported: join it with ``--join``) or died
   with its coordinator (say so, and load its unfinished tables again);
2. hold an exported snapshot (:mod:`.exported`): the pipeline's slot when it is created now,
   else a temporary slot next to it, or a snapshot the caller holds (``--use-snapshot``);
3. in a coordinator transaction inside the snapshot, lock the tables against DDL (ACCESS SHARE,
   like pg_dump), describe them as the stream does, split them into chunks, store each table's
   ``T`` marker, and publish the plan on DEST (:mod:`.plan`);
4. ``workers`` threads here, and any number of ``walstream snapshot --join`` processes anywhere,
   run the same :class:`~.worker.ChunkWorker`: claim a chunk, store its files, record it done;
5. the coordinator reads the done records; when every chunk of a table is done it writes the
   table's load manifest and marks it loaded; when all are, it marks the plan finished and lets
   the snapshot go.

State per table in the checkpoint (``snapshot`` section, written by the coordinator only):
``not_started`` when requested, ``loading`` once its marker is stored, ``loaded`` once every
file is stored. A worker that dies loses only the chunk it held: another worker claims it once
the dead one's session is gone, and a worker started again with the same command reads only the
chunks without a done record, from the same snapshot. The snapshot itself lives only as long as
the coordinator's replication connection; when the coordinator dies, the tables not ``loaded``
are loaded again, whole, from a *new* snapshot (never a mix of two snapshots): their new ``T``
marker sits after everything the interrupted attempt wrote, so its files change nothing in FINAL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import psycopg
from psycopg import sql

from ..convert.choices import DEFAULT_CHOICES, TypeChoices
from ..errors import ConfigError, SourceError
from ..lsn import format_lsn
from ..pg import source
from ..pg.types import CatalogTypes
from ..pipeline.checkpoint import Checkpoint
from ..pipeline.manifest import ManifestFile, load_manifest
from ..sink import DurableSink, open_sink
from .exported import ExportedSnapshot, SlotSnapshot, temporary_slot_name
from .plan import ChunkDone, LoadPlan, PlanTable, read_plan
from .progress import Progress, make_progress
from .reader import SnapshotSession
from .tables import (
    CHUNK_BYTES,
    LoadTable,
    check_publication,
    describe_table,
    published_tables,
    select_tables,
)
from .worker import ChunkWorker, snapshot_alive, snapshot_identity, start_workers
from .writer import LoadPosition, marker_key, truncate_marker

log = logging.getLogger("walstream.snapshot")

MiB = 1024 * 1024

NOT_STARTED = "not_started"
LOADING = "loading"
LOADED = "loaded"

#: Seconds between readings of the done records while the load runs.
WATCH_SECONDS = 0.5
#: Seconds between looks for a plan to join.
JOIN_POLL_SECONDS = 2.0


@dataclass
class SnapshotConfig:
    dsn: str
    slot: str
    publication: str
    dest: str
    tables: tuple[str, ...] = ()  # schema.table; empty: every table of the publication
    workers: int = 4  # local worker threads; 0: only coordinate (workers join with --join)
    memory_budget: int = 256 * MiB
    chunk_bytes: int = CHUNK_BYTES  # the most table bytes one chunk stands for
    stall_seconds: float = 600.0  # warn when no chunk finished for this long
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
        share = self.memory_budget // max(self.workers, 1)  # --join: one worker's budget
        block = min(max(share // 16, 256 * 1024), 64 * MiB)
        file = min(max(share // 6, 1 * MiB), 128 * MiB)
        return block, file

    def check(self) -> None:
        if self.workers < 0:
            raise ConfigError(f"--workers must be 0 or more, not {self.workers}")
        if self.chunk_bytes < 64 * 1024:
            raise ConfigError(f"--chunk-size {self.chunk_bytes} is too small: use at least 64KB")
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
    resume = config.resume
    if _earlier_load_lost(config, sink, checkpoint, tables):
        resume = True
    if resume and info is not None:
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


def join_load(
    config: SnapshotConfig,
    sink: DurableSink | None = None,
    progress: Progress | None = None,
    wait_seconds: float = 120.0,
) -> int:
    """``walstream snapshot --join``: work on the slot's running load; the chunks read here.

    Waits up to ``wait_seconds`` for an unfinished plan (workers may start before their
    coordinator has planned), then runs ``config.workers`` (at least one) worker threads until
    every chunk is done. Raises :class:`~.worker.SnapshotLost` when the plan's coordinator is gone.
    """
    config.check()
    sink = sink or open_sink(config.dest)
    deadline = time.monotonic() + wait_seconds
    plan = read_plan(sink, config.slot)
    while plan is None or plan.finished:
        if time.monotonic() >= deadline:
            log.info(
                "event=snapshot_join_nothing slot=%s last=%s hint=no load of this slot is "
                "running; start one with walstream snapshot (without --join)",
                config.slot,
                "-" if plan is None else plan.snapshot_name,
            )
            return 0
        time.sleep(min(JOIN_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
        plan = read_plan(sink, config.slot)
    progress = progress or make_progress(config.progress, config.progress_interval)
    progress.start([(t.name, t.blocks, len(t.chunks)) for t in plan.tables])
    for ordinal in plan.done_ordinals(sink):  # what others did: the bar starts where the load is
        table, chunk = plan.chunk_at(ordinal)
        progress.chunk_done(table.name, ordinal, chunk.blocks, 0, 0)
    count = max(config.workers, 1)
    buffers = replace(config, workers=count).buffer_sizes()  # this process's own budget
    log.info(
        "event=snapshot_join slot=%s snapshot=%s chunks=%d workers=%d planned_by=%s",
        config.slot,
        plan.snapshot_name,
        plan.chunk_count,
        count,
        plan.planned_by,
    )
    stop = threading.Event()
    errors: list[BaseException] = []
    workers = [
        ChunkWorker(config.dsn, plan, sink, progress, stop, buffers=buffers) for _ in range(count)
    ]

    def fail(exc: BaseException) -> None:
        errors.append(exc)
        stop.set()

    threads = start_workers(workers, fail)
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    finally:
        stop.set()
        progress.stop()
    if errors:
        raise errors[0]
    return sum(w.chunks_read for w in workers)


def _earlier_load_lost(
    config: SnapshotConfig,
    sink: DurableSink,
    checkpoint: Checkpoint,
    tables: Sequence[tuple[str, str]],
) -> bool:
    """Look at the slot's last plan: True when it died unfinished (its tables get resumed).

    A plan whose snapshot still imports has a live coordinator: starting a second load of the
    same slot would race it, so that is an error that says how to help it instead.
    """
    plan = read_plan(sink, config.slot)
    if plan is None or plan.finished:
        return False
    if snapshot_alive(config.dsn, plan):
        raise SourceError(
            f"{plan.describe()} is still running: its coordinator holds the snapshot. Add "
            f"workers to it with walstream snapshot --join --slot {config.slot} (same --dsn and "
            "--dest), or stop that coordinator before starting another load of this slot"
        )
    done = plan.done_ordinals(sink)
    unfinished = []
    for table in plan.tables:
        state = checkpoint.snapshot_state(table.name) or {}
        if state.get("state") != LOADED:
            ordinals = {table.first_ordinal + c.index for c in table.chunks}
            unfinished.append(f"{table.name}({len(ordinals & done)}/{len(ordinals)} chunks)")
    log.warning(
        "event=snapshot_lost slot=%s snapshot=%s snapshot_lsn=%s planned_by=%s unfinished=%s "
        "hint=the coordinator of this load exited and its exported snapshot went with it; rows "
        "of two snapshots must never mix, so the unfinished tables are loaded again whole from "
        "a new snapshot (tables it finished are kept)",
        config.slot,
        plan.snapshot_name,
        format_lsn(plan.snapshot_lsn),
        plan.planned_by,
        ",".join(unfinished) or "-",
    )
    return True


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
    plan: PlanTable | None = None
    result: TableResult = field(default_factory=lambda: TableResult(""))

    @property
    def loaded(self) -> bool:
        return self.result.state == LOADED


class _Load:
    """One snapshot's load: the coordinator; its workers are :class:`~.worker.ChunkWorker`."""

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
        self._work: dict[str, _TableWork] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._errors: list[BaseException] = []
        self._records: dict[int, ChunkDone] = {}
        self.position = LoadPosition(snapshot.snapshot_lsn, 0)

    # -- coordinator -------------------------------------------------------------------------
    def run(self) -> None:
        snap = self.snapshot
        self.summary.snapshot_lsn = snap.snapshot_lsn
        self.summary.consistent_point = snap.consistent_point
        with SnapshotSession(self.config.dsn, snap) as coordinator:
            conn = coordinator.conn
            assert conn is not None
            plan = self._plan(conn)
            log.info(
                "event=snapshot_start tables=%d chunks=%d workers=%d snapshot_lsn=%s "
                "consistent_point=%s block_bytes=%d file_bytes=%d",
                len(self._work),
                plan.chunk_count,
                self.config.workers,
                format_lsn(snap.snapshot_lsn),
                format_lsn(snap.consistent_point),
                self.block_bytes,
                self.file_bytes,
            )
            self.progress.start([(t.name, t.blocks, len(t.chunks)) for t in plan.tables])
            try:
                self._markers(plan)
                plan.write(self.sink)  # from here on, workers anywhere may join
                self._run_workers(plan)
            finally:
                self.progress.stop()
            if self._errors:
                raise self._errors[0]
            replace(plan, finished=True).write(self.sink)
        log.info(
            "event=snapshot_done tables=%d rows=%d files=%d snapshot_lsn=%s",
            len(self._work),
            self.summary.rows,
            self.summary.files,
            format_lsn(snap.snapshot_lsn),
        )

    def _plan(self, conn: psycopg.Connection[tuple[object, ...]]) -> LoadPlan:
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
        plan_tables: list[PlanTable] = []
        ordinal = 0
        for namespace, name in self.names:
            table = describe_table(
                conn, publication, namespace, name, types, published, self.config.choices
            )
            chunks = table.chunks(
                tid_range_scan, self.config.chunk_bytes, max(self.config.workers, 1)
            )
            entry = PlanTable(table.schema.namespace, table.schema.name, tuple(chunks), ordinal)
            ordinal += len(chunks)
            plan_tables.append(entry)
            work = _TableWork(table, entry, TableResult(table.qualified_name))
            self._work[table.qualified_name] = work
            self.summary.tables[table.qualified_name] = work.result
        self.summary.chunks = ordinal
        choices = self.config.choices
        return LoadPlan(
            slot=self.config.slot,
            publication=publication,
            snapshot_name=self.snapshot.snapshot_name,
            identity=snapshot_identity(conn),
            consistent_point=self.snapshot.consistent_point,
            snapshot_lsn=self.snapshot.snapshot_lsn,
            snapshot_ts_us=self.position.snapshot_ts_us,
            block_bytes=self.block_bytes,
            file_bytes=self.file_bytes,
            as_text=tuple(sorted(choices.kinds)) + choices.columns,
            on_lossy=choices.on_lossy,
            tables=tuple(plan_tables),
        )

    def _markers(self, plan: LoadPlan) -> None:
        """Each table's T marker, before any of its rows: the table is ``loading`` from here."""
        for name, work in self._work.items():
            marker = marker_key(work.table, plan.snapshot_lsn)
            self.sink.put(marker, truncate_marker(work.table, self.position))
            work.result.state = LOADING
            work.result.files = 1
            self.checkpoint.record_snapshot(name, LOADING, plan.snapshot_lsn, 1, 0)
        self.checkpoint.write(self.sink)

    def _run_workers(self, plan: LoadPlan) -> None:
        tables = {name: work.table for name, work in self._work.items()}  # the same snapshot's
        workers = [
            ChunkWorker(
                self.config.dsn, plan, self.sink, self.progress, self._stop, self._wake.set, tables
            )
            for _ in range(min(self.config.workers, plan.chunk_count))
        ]
        threads = start_workers(workers, self._fail)
        try:
            self._watch(plan)
        except BaseException as exc:  # Ctrl-C or a failure: stop the workers, tables stay loading
            self._fail(exc)
            raise
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(30)

    def _watch(self, plan: LoadPlan) -> None:
        """Read done records (local and remote workers alike) until every table is loaded."""
        last_news = time.monotonic()
        warned = 0.0
        while not self._errors:
            news = plan.done(self.sink, self._records)
            if news:
                last_news = time.monotonic()
            for ordinal, record in news.items():
                self._records[ordinal] = record
                _, chunk = plan.chunk_at(ordinal)
                self.progress.chunk_done(
                    record.table, ordinal, chunk.blocks, record.rows, record.nbytes
                )
            for name, work in self._work.items():
                if not work.loaded and self._all_done(work):
                    self._finish(plan, name, work)
            if all(w.loaded for w in self._work.values()):
                return
            idle = time.monotonic() - last_news
            if idle >= self.config.stall_seconds and idle - warned >= self.config.stall_seconds:
                warned = idle
                self._stalled(plan, idle)
            elif idle < warned:
                warned = 0.0
            self._wake.wait(WATCH_SECONDS)
            self._wake.clear()
        raise self._errors[0]

    def _all_done(self, work: _TableWork) -> bool:
        assert work.plan is not None
        first = work.plan.first_ordinal
        return all(first + c.index in self._records for c in work.plan.chunks)

    def _stalled(self, plan: LoadPlan, idle: float) -> None:
        done = len(self._records)
        log.warning(
            "event=snapshot_stalled slot=%s seconds=%.0f chunks_done=%d chunks=%d "
            "local_workers=%d hint=no chunk finished for %.0fs; %s",
            self.config.slot,
            idle,
            done,
            plan.chunk_count,
            self.config.workers,
            idle,
            "check the workers (walstream snapshot --join) are running and can reach the "
            "source and DEST"
            if self.config.workers == 0
            else "check the source for locks or a slow scan (pg_stat_activity)",
        )

    def _finish(self, plan: LoadPlan, name: str, work: _TableWork) -> None:
        """Every chunk of the table is done: its load manifest, then ``loaded``."""
        assert work.plan is not None
        files = [ManifestFile(name, marker_key(work.table, plan.snapshot_lsn), 1)]
        rows = nbytes = 0
        for chunk in work.plan.chunks:
            record = self._records[work.plan.first_ordinal + chunk.index]
            files += [ManifestFile(name, key, n) for key, n in record.files]
            rows += record.rows
            nbytes += record.nbytes
        work.result.rows, work.result.bytes, work.result.files = rows, nbytes, len(files)
        # the load manifest, before the table counts as loaded: a warehouse merges the load
        # only once every file it lists has arrived (walstream.pipeline.manifest)
        load_manifest(self.config.slot, plan.snapshot_lsn, files, origin=False).write(self.sink)
        work.result.state = LOADED
        self.checkpoint.record_snapshot(name, LOADED, plan.snapshot_lsn, len(files), rows)
        self.checkpoint.write(self.sink)
        self.progress.table_done(name, len(files))

    def _fail(self, exc: BaseException) -> None:
        self._errors.append(exc)
        self._stop.set()
        self._wake.set()
