"""Encoding and storing batches off the read loop, in order, and reporting what is durable.

The read loop hands over a :class:`FlushJob` (whole transactions, every table touched) and goes
back to reading. Each table's batch is converted and encoded at once, in an encoder pool, so a
job encodes while the one before it is still encoding or being stored: on a multi-core machine
the flushes of a large transaction, cut one after another, use every core. One flush thread
then takes jobs in submission order, waits for their files, stores them (in parallel across
tables), writes the checkpoint, and only then reports the job's ``end_lsn`` as durable. Stores
and reports happen strictly in order, so the reported LSNs only ever grow and the read loop can
acknowledge each one as it arrives; a job encoded after a failed one is never stored.

Backpressure: at most ``max_in_flight`` jobs exist at once; the read loop must stop reading
changes (but keep sending status updates) while :meth:`Flusher.has_capacity` is false.

``before_write`` (e.g. ``--snowflake-evolve``) runs in the flush thread with a job's batches
after they are encoded and before any of their files is stored; a
:class:`~walstream.errors.TransientSinkError` from it is waited out like a destination outage,
any other error fails the job. So whatever it prepares is in place before the first file that
needs it exists.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from ..capture.batch import ChangeBatch
from ..capture.buffer import FlushJob
from ..errors import TransientSinkError
from ..faults import fault_point
from ..layout import change_file_key
from ..metrics import METRICS
from ..sink import DurableSink
from .checkpoint import Checkpoint
from .lossy import report_lossy
from .manifest import ManifestChain, ManifestFile
from .parquet import encode_parquet

log = logging.getLogger("walstream.flush")

T = TypeVar("T")

#: Called with a job's batches before their files are stored (see the module docstring).
BeforeWrite = Callable[[list[ChangeBatch]], None]


@dataclass(frozen=True)
class EncodedFile:
    """One batch's Parquet bytes, and when its conversion ran (for the flush's duration)."""

    batch: ChangeBatch
    key: str
    data: bytes
    began: float
    ended: float


@dataclass(frozen=True)
class StoredFile:
    table: str
    key: str
    rows: int
    size: int
    first_lsn: int
    last_lsn: int


@dataclass
class FlushResult:
    job: FlushJob
    files: list[StoredFile]
    error: BaseException | None = None
    seconds: float = 0.0


#: A quiet slot gets a manifest without files this often (its idle acks otherwise write none).
IDLE_MANIFEST_SECONDS = 60.0


class Flusher:
    """The flush thread and its bounded queue of jobs."""

    def __init__(
        self,
        sink: DurableSink,
        checkpoint: Checkpoint,
        *,
        max_in_flight: int = 2,
        upload_workers: int = 4,
        retry_cap: float = 30.0,
        before_write: BeforeWrite | None = None,
        manifests: ManifestChain | None = None,
    ) -> None:
        self._retry_cap = retry_cap
        self._manifests = manifests
        self._manifest_at = time.monotonic()  # when the last manifest was written
        self._before_write = before_write
        self._abandon = threading.Event()
        self._sink = sink
        self._checkpoint = checkpoint
        self._max_in_flight = max_in_flight
        self._jobs: queue.Queue[tuple[FlushJob, list[Future[EncodedFile]]] | None] = queue.Queue()
        self._results: queue.Queue[FlushResult] = queue.Queue()
        # A byte is written here whenever a result is ready, so a read loop waiting on its
        # socket with select() wakes up at once and can acknowledge without delay.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        # never block the flush thread on a wake-up nobody reads yet (a long replay cuts many
        # flushes between reads): a full socket is readable, which is all a wake-up is for
        self._wake_w.setblocking(False)
        self._in_flight = 0
        self._next_seq = 0
        self._failed = False
        self._pool = ThreadPoolExecutor(upload_workers, thread_name_prefix="walstream-upload")
        # Converting is CPU work: more threads than cores only add memory (each conversion in
        # progress holds a batch's Arrow copy, and each thread its allocator caches).
        encoders = max(2, min(upload_workers, os.cpu_count() or 1))
        self._encoders = ThreadPoolExecutor(encoders, thread_name_prefix="walstream-encode")
        self._thread = threading.Thread(target=self._run, name="walstream-flush", daemon=True)
        self._thread.start()

    @property
    def wakeup_socket(self) -> socket.socket:
        """Readable when a flush result is ready (whoever selects on it drains it)."""
        return self._wake_r

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def has_capacity(self) -> bool:
        return self._in_flight < self._max_in_flight

    def submit(self, job: FlushJob) -> None:
        """Queue ``job`` and start encoding its batches (the read loop owns them no more)."""
        job.seq = self._next_seq
        self._next_seq += 1
        self._in_flight += 1
        encodes = []
        if not self._failed:  # nothing after a failed job is stored: do not encode it either
            encodes = [
                self._encoders.submit(self._encode, batch, file_key(batch, self._checkpoint.slot))
                for batch in job.batches
            ]
        self._jobs.put((job, encodes))

    def poll(self, timeout: float | None = None) -> list[FlushResult]:
        """Results that arrived (waiting up to ``timeout`` for the first one), in job order."""
        results: list[FlushResult] = []
        if not self._in_flight:
            return results  # hot path: called once per loop turn, usually with nothing to do
        try:
            if timeout:
                results.append(self._results.get(timeout=timeout))
            while True:
                results.append(self._results.get_nowait())
        except queue.Empty:
            pass
        self._in_flight -= len(results)
        return results

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=60)
        self._encoders.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._wake_r.close()
        self._wake_w.close()

    # -- flush thread ------------------------------------------------------------------------
    def _report(self, result: FlushResult) -> None:
        self._results.put(result)
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            job, encodes = item
            if self._failed:  # never store anything after a failed job: order would break
                for pending in encodes:
                    pending.cancel()
                self._report(FlushResult(job, [], RuntimeError("an earlier flush failed")))
                continue
            started = time.monotonic()
            try:
                # encoded once (it releases the raw values); stores retry from the bytes
                encoded = [pending.result() for pending in encodes]
                storing = time.monotonic()
                files = self._store(job, encoded)
            except BaseException as exc:  # reported to the read loop, which stops
                self._failed = True
                self._report(FlushResult(job, [], exc, time.monotonic() - started))
                continue
            # the job's own work: its encoding (which may overlap the previous job's), then
            # its stores and checkpoint
            spent = time.monotonic() - storing
            if encoded:
                spent += max(f.ended for f in encoded) - min(f.began for f in encoded)
            self._report(FlushResult(job, files, None, spent))

    def _store(self, job: FlushJob, encoded: list[EncodedFile]) -> list[StoredFile]:
        """Store ``job``'s encoded files, then its manifest (:mod:`.manifest`), then its
        checkpoint; only then is the job reported durable and its ``end_lsn`` acknowledged."""
        fault_point("after_encode")
        hook = self._before_write
        if hook is not None:
            self._until_stored(lambda: hook(job.batches), what="before_write")
        files = self._until_stored(lambda: list(self._pool.map(self._put, encoded)))
        fault_point("after_upload")
        chain = self._manifests
        # a job without batches records an idle position (the runner's _maybe_record_idle):
        # the checkpoint, and at most every IDLE_MANIFEST_SECONDS a manifest without files, so
        # that a quiet slot's watermark (and FINAL's freshness) follows the source; otherwise
        # the next flush's manifest covers the interval (the chain stays whole either way)
        idle_due = time.monotonic() - self._manifest_at >= IDLE_MANIFEST_SECONDS
        if chain is not None and (job.batches or idle_due):
            listed = [ManifestFile(f.table, f.key, f.rows, f.last_lsn) for f in files]
            if job.batches:
                end_time_us = max(b.last_commit_ts_us for b in job.batches)
            else:  # nothing changed up to the idle position: the source as of now
                end_time_us = time.time_ns() // 1000
            manifest = chain.next_manifest(job.end_lsn, listed, end_time_us)
            if manifest is not None:
                self._until_stored(lambda: manifest.write(self._sink), what="manifest")
                self._checkpoint.manifest_end_lsn = manifest.end_lsn
                self._manifest_at = time.monotonic()
                fault_point("after_manifest")
        for file, stored in zip(encoded, files, strict=True):
            self._checkpoint.record_file(
                file.batch.table.qualified_name,
                stored.key,
                stored.first_lsn,
                stored.last_lsn,
                stored.rows,
                file.batch.last_commit_ts_us,
            )
        # a job that only holds part of a large transaction completes no transaction
        self._checkpoint.acked_lsn = max(self._checkpoint.acked_lsn, job.end_lsn)
        self._until_stored(lambda: self._checkpoint.write(self._sink))
        fault_point("after_checkpoint")
        return files

    def _until_stored(self, store: Callable[[], T], what: str = "flush_store") -> T:
        """Run ``store`` until it succeeds, waiting out transient destination outages.

        The sink already retried each request; a :class:`TransientSinkError` means the outage
        lasted longer than that. We keep trying (with capped, jittered backoff) because nothing
        is lost by waiting: nothing unstored is acknowledged, and while this job is stuck the
        read loop stops reading (backpressure), so memory stays bounded. :meth:`abandon` (on
        shutdown) makes the next failure final.
        """
        attempt = 0
        while True:
            try:
                return store()
            except TransientSinkError as exc:
                if self._abandon.is_set():
                    raise
                attempt += 1
                METRICS.retries.labels(what).inc()
                delay = min(self._retry_cap, 0.5 * 2 ** min(attempt, 12))
                delay *= 0.5 + random.random() / 2
                log.warning(
                    "event=flush_retry what=%s attempt=%d delay_s=%.1f error=%s",
                    what,
                    attempt,
                    delay,
                    " ".join(str(exc).split()),
                )
                if self._abandon.wait(delay):
                    raise

    def abandon(self) -> None:
        """Stop waiting out destination outages: a failing store fails its job now."""
        self._abandon.set()

    def _encode(self, batch: ChangeBatch, key: str) -> EncodedFile:
        """Convert and encode one batch (in the encoder pool)."""
        began = time.monotonic()
        data = encode_parquet(batch.to_arrow(release=True))
        table = batch.table
        report_lossy(table.qualified_name, (c.name for c in table.columns), batch.adjusted, key)
        return EncodedFile(batch, key, data, began, time.monotonic())

    def _put(self, file: EncodedFile) -> StoredFile:
        batch = file.batch
        self._sink.put(file.key, file.data)
        log.info(
            "event=file_stored table=%s key=%s rows=%d bytes=%d first_lsn=%X last_lsn=%X",
            batch.table.qualified_name,
            self._sink.describe(file.key),
            len(batch),
            len(file.data),
            batch.first_lsn,
            batch.last_lsn,
        )
        return StoredFile(
            batch.table.qualified_name,
            file.key,
            len(batch),
            len(file.data),
            batch.first_lsn,
            batch.last_lsn,
        )


def file_key(batch: ChangeBatch, slot: str | None = None) -> str:
    """The key of ``batch``'s file, written by ``slot`` (DESIGN §2: the DMS layout)."""
    return change_file_key(
        batch.table.namespace,
        batch.table.name,
        batch.first_commit_ts_us,
        batch.first_lsn,
        batch.last_lsn,
        (batch.first_seq, batch.last_seq) if batch.split else None,
        slot,
    )
