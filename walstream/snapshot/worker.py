"""A load worker: import the plan's snapshot, claim chunks, store their files, record them done.

The same loop runs as a thread of the coordinator (``walstream snapshot --workers N``) and as a
process of its own anywhere that reaches the source and DEST (``walstream snapshot --join``, e.g.
N ECS tasks), so there is one way to read a chunk. A pass takes the chunks without a done record
in plan order, claims each it can (:mod:`.claims`), checks again that it is not done (another
worker may have finished it between the listing and the claim), reads it into files named by
the plan and writes its done record (:mod:`.plan`). When every chunk left is claimed by others
it waits and looks again, since a claim is released when its worker dies; it returns once every
chunk is done, or when the plan it works on is replaced or finished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from ..errors import SourceError
from ..faults import fault_point
from ..pg.types import CatalogTypes
from ..sink import DurableSink
from .claims import Claims
from .exported import ExportedSnapshot
from .plan import ChunkDone, LoadPlan, PlanTable, read_plan
from .progress import Progress
from .reader import SnapshotSession
from .tables import Chunk, LoadTable, describe_table, published_tables
from .writer import LoadFileWriter, LoadPosition, StoredLoadFile

log = logging.getLogger("walstream.snapshot")

#: Seconds between passes when every chunk left is claimed by another worker.
POLL_SECONDS = 1.0


class SnapshotLost(SourceError):
    """The plan's exported snapshot cannot be imported any more: its coordinator is gone."""


def snapshot_identity(conn: psycopg.Connection[Any]) -> str:
    """``xmin:xmax:xip`` of the transaction's snapshot: the same text for the same snapshot."""
    modern = conn.info.server_version >= 130000
    function = "pg_current_snapshot" if modern else "txid_current_snapshot"
    row = conn.execute(f"SELECT {function}()::text").fetchone()
    return str(row[0]) if row else ""


def import_snapshot(dsn: str, plan: LoadPlan) -> SnapshotSession:
    """A session inside the plan's snapshot; :class:`SnapshotLost` if it is gone or not the same."""
    session = SnapshotSession(dsn, ExportedSnapshot(plan.snapshot_name, plan.consistent_point))
    try:
        session.open()
    except SourceError as exc:
        if "is no longer valid" not in str(exc):
            raise  # the source cannot be reached: that says nothing about the snapshot
        why = f"PostgreSQL no longer has a snapshot named {plan.snapshot_name!r}"
        raise SnapshotLost(_lost_message(plan, why)) from None
    assert session.conn is not None
    identity = snapshot_identity(session.conn)
    if identity != plan.identity:  # a later transaction reused the name
        session.close()
        raise SnapshotLost(
            _lost_message(plan, f"the name now stands for another snapshot ({identity})")
        )
    return session


def snapshot_alive(dsn: str, plan: LoadPlan) -> bool:
    """True while the plan's snapshot can still be imported (its coordinator holds it)."""
    try:
        import_snapshot(dsn, plan).close()
    except SnapshotLost:
        return False
    return True


def _lost_message(plan: LoadPlan, why: str) -> str:
    return (
        f"{plan.describe()} can no longer be joined: its exported snapshot is gone ({why}). A "
        "snapshot lives only as long as the coordinator that exported it, and the rows of two "
        "snapshots must never mix: start the coordinator again (the same walstream snapshot "
        "command); it loads the tables not finished again, whole, from a new snapshot"
    )


def start_workers(
    workers: Sequence[ChunkWorker], fail: Callable[[BaseException], None]
) -> list[threading.Thread]:
    """A thread per worker, started; whatever a worker raises goes to ``fail``, which should
    set the workers' stop event so the others stop too."""

    def work(worker: ChunkWorker) -> None:
        try:
            worker.run()
        except BaseException as exc:
            fail(exc)

    threads = [
        threading.Thread(target=work, args=(w,), name=f"walstream-snapshot-{i}", daemon=True)
        for i, w in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    return threads


class ChunkWorker:
    """One worker's loop over a plan; see the module docstring."""

    def __init__(
        self,
        dsn: str,
        plan: LoadPlan,
        sink: DurableSink,
        progress: Progress,
        stop: threading.Event,
        on_done: Callable[[], None] | None = None,
        tables: dict[str, LoadTable] | None = None,
        buffers: tuple[int, int] | None = None,
    ) -> None:
        self.dsn = dsn
        self.plan = plan
        self.sink = sink
        self.progress = progress
        self.stop = stop
        self.on_done = on_done
        self.position = LoadPosition(plan.snapshot_lsn, plan.snapshot_ts_us)
        # this worker's own memory share (--memory-budget / --workers where it runs); the
        # plan's sizes otherwise. Either way a chunk read again keeps its names and positions
        self.block_bytes, self.file_bytes = buffers or (plan.block_bytes, plan.file_bytes)
        self.chunks_read = 0
        # described once per worker inside the snapshot; the coordinator's threads are given
        # its descriptions (the same snapshot, so the same tables) and only lock them
        self._tables: dict[str, LoadTable] = dict(tables or {})
        self._locked: set[str] = set()

    def run(self) -> int:
        """Work until every chunk is done (or the plan changes); the number of chunks read."""
        session = import_snapshot(self.dsn, self.plan)
        try:
            conn = session.conn
            assert conn is not None
            claims = Claims(conn, self.plan)
            while not self.stop.is_set():
                done = self.plan.done_ordinals(self.sink)
                pending = [item for item in self.plan.chunks() if item[0] not in done]
                if not pending or not self._plan_current():
                    break
                if not self._pass(session, claims, pending):
                    self.stop.wait(POLL_SECONDS)  # the rest are claimed: wait for them
        finally:
            session.close()
        return self.chunks_read

    def _pass(
        self,
        session: SnapshotSession,
        claims: Claims,
        pending: list[tuple[int, PlanTable, Chunk]],
    ) -> bool:
        """Read every pending chunk this worker can claim; False if it could claim none."""
        progressed = False
        for ordinal, table, chunk in pending:
            if self.stop.is_set():
                break
            if not claims.try_claim(ordinal):
                continue
            try:
                if self.plan.is_done(self.sink, ordinal):
                    continue
                self._read(session, ordinal, table, chunk)
                progressed = True
            finally:
                claims.release(ordinal)
        return progressed

    def _read(
        self, session: SnapshotSession, ordinal: int, plan_table: PlanTable, chunk: Chunk
    ) -> None:
        table = self._table(session, plan_table.name)
        started = time.monotonic()
        log.info(
            "event=snapshot_chunk_start table=%s chunk=%d ordinal=%d first_block=%d end_block=%s",
            table.qualified_name,
            chunk.index,
            ordinal,
            chunk.first_block,
            "-" if chunk.end_block is None else chunk.end_block,
        )
        self.progress.chunk_started(table.qualified_name, ordinal)
        files: list[StoredLoadFile] = []
        writer = LoadFileWriter(
            self.sink, table, self.position, chunk.index, self.file_bytes, files.append
        )
        rows = nbytes = 0
        try:
            for raw in session.read_chunk(table, chunk, self.block_bytes):
                if self.stop.is_set():
                    writer.abandon()
                    return
                writer.write(raw)
                rows += raw.rows
                nbytes += raw.nbytes
                self.progress.advance(table.qualified_name, ordinal, raw.rows, raw.nbytes)
            writer.close()
        except BaseException:
            writer.abandon()
            raise
        record = ChunkDone(
            table.qualified_name,
            chunk.index,
            rows,
            nbytes,
            tuple((f.key, f.rows) for f in files),
            seconds=time.monotonic() - started,
        )
        record.write(self.sink, self.plan, ordinal)
        self.chunks_read += 1
        self.progress.chunk_done(table.qualified_name, ordinal, chunk.blocks, rows, nbytes)
        log.info(
            "event=snapshot_chunk_done table=%s chunk=%d ordinal=%d rows=%d bytes=%d files=%d "
            "seconds=%.2f",
            table.qualified_name,
            chunk.index,
            ordinal,
            rows,
            nbytes,
            len(files),
            record.seconds,
        )
        fault_point("after_chunk")
        if self.on_done is not None:
            self.on_done()

    def _table(self, session: SnapshotSession, name: str) -> LoadTable:
        """The table as the stream describes it, read once per worker inside the snapshot."""
        table = self._tables.get(name)
        if table is None:
            conn = session.conn
            assert conn is not None
            plan = self.plan
            entry = plan.table(name)
            published = published_tables(conn, plan.publication)
            table = describe_table(
                conn, plan.publication, entry.namespace, entry.relname, CatalogTypes(conn),
                published, plan.choices,
            )  # fmt: skip
            self._tables[name] = table
        if name not in self._locked:
            session.lock(table)
            self._locked.add(name)
        return table

    def _plan_current(self) -> bool:
        """False once the plan on DEST is finished or replaced by another load's."""
        current = read_plan(self.sink, self.plan.slot)
        if current is None or current.snapshot_lsn != self.plan.snapshot_lsn:
            log.warning(
                "event=snapshot_plan_replaced slot=%s snapshot=%s hint=another load replaced "
                "this one; this worker stops",
                self.plan.slot,
                self.plan.snapshot_name,
            )
            return False
        return not current.finished
