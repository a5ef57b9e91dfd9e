"""How far a snapshot is: a rich progress bar on a terminal, structured log lines otherwise.

Workers report rows and COPY bytes as they read a chunk; a finished chunk counts with the rows,
bytes and heap blocks of its done record, which is how chunks read by workers in other
processes or machines are counted too (the coordinator reads their records, :mod:`.load`), and
why a chunk is counted once however many report it. The bar shows per table the fraction of
blocks done, rows, MB, MB/s and the ETA. Without a terminal (or with ``--json``), an
``event=snapshot_progress`` line per table in progress (rows, bytes, chunks done of all,
rates, ETA) and one ``event=snapshot_progress_total`` line are logged every ``interval``
seconds, and ``event=snapshot_table_loaded`` when a table is done. The same figures are
Prometheus gauges (:class:`ProgressCollector`). All methods are called from worker threads.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger("walstream.snapshot")

MB = 1_000_000


@dataclass
class TableProgress:
    blocks: int
    chunks: int = 1
    chunks_done: int = 0
    blocks_done: int = 0
    rows_done: int = 0  # of done chunks
    bytes_done: int = 0
    inflight: dict[int, tuple[int, int]] = field(default_factory=dict)  # ordinal: rows, bytes
    done: set[int] = field(default_factory=set)
    started: float | None = None
    finished: float | None = None
    files: int = 0

    @property
    def rows(self) -> int:
        return self.rows_done + sum(r for r, _ in self.inflight.values())

    @property
    def bytes(self) -> int:
        return self.bytes_done + sum(b for _, b in self.inflight.values())

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def rates(self) -> tuple[float, float]:
        """(rows/s, MB/s) since the table started."""
        seconds = max(self.seconds, 1e-6)
        return self.rows / seconds, self.bytes / MB / seconds

    def eta(self) -> float | None:
        """Seconds left at the rate of the blocks done so far; None before the first chunk."""
        if self.finished is not None:
            return 0.0
        if not self.blocks_done or self.started is None:
            return None
        return self.seconds * max(self.blocks - self.blocks_done, 0) / self.blocks_done


@dataclass
class Progress:
    """Counts per table; subclasses show them. This base class shows nothing."""

    tables: dict[str, TableProgress] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, tables: list[tuple[str, int, int]]) -> None:
        """(table, heap blocks, chunks) of each table of the load."""
        for name, blocks, chunks in tables:
            self.tables[name] = TableProgress(max(blocks, 1), max(chunks, 1))

    def table_started(self, table: str) -> None:
        with self.lock:
            entry = self.tables[table]
            if entry.started is None:
                entry.started = time.monotonic()

    def chunk_started(self, table: str, ordinal: int) -> None:
        self.table_started(table)
        with self.lock:
            self.tables[table].inflight[ordinal] = (0, 0)

    def advance(self, table: str, ordinal: int, rows: int, nbytes: int) -> None:
        with self.lock:
            entry = self.tables[table]
            if ordinal in entry.done:
                return
            old_rows, old_bytes = entry.inflight.get(ordinal, (0, 0))
            entry.inflight[ordinal] = (old_rows + rows, old_bytes + nbytes)
        self._changed(table)

    def chunk_done(self, table: str, ordinal: int, blocks: int, rows: int, nbytes: int) -> None:
        """A chunk's done record: counted once, whoever reports it."""
        self.table_started(table)
        with self.lock:
            entry = self.tables[table]
            if ordinal in entry.done:
                return
            entry.done.add(ordinal)
            entry.inflight.pop(ordinal, None)
            entry.chunks_done += 1
            entry.blocks_done += blocks
            entry.rows_done += rows
            entry.bytes_done += nbytes
        self._changed(table)

    def totals(self) -> TableProgress:
        """Every table together."""
        with self.lock:
            total = TableProgress(0, 0)
            starts = [e.started for e in self.tables.values() if e.started is not None]
            total.started = min(starts) if starts else None
            for entry in self.tables.values():
                total.blocks += entry.blocks
                total.chunks += entry.chunks
                total.chunks_done += entry.chunks_done
                total.blocks_done += entry.blocks_done
                total.rows_done += entry.rows
                total.bytes_done += entry.bytes
                total.files += entry.files
            if self.tables and all(e.finished for e in self.tables.values()):
                total.finished = max(e.finished or 0.0 for e in self.tables.values())
        return total

    def table_done(self, table: str, files: int) -> None:
        with self.lock:
            entry = self.tables[table]
            entry.finished = time.monotonic()
            entry.files = files
            entry.blocks_done = entry.blocks
        rows_s, mb_s = entry.rates()
        log.info(
            "event=snapshot_table_loaded table=%s rows=%d bytes=%d files=%d chunks=%d "
            "seconds=%.2f rows_per_s=%.0f mb_per_s=%.1f",
            table,
            entry.rows,
            entry.bytes,
            files,
            entry.chunks_done,
            entry.seconds,
            rows_s,
            mb_s,
        )
        self._changed(table)

    def stop(self) -> None:
        pass

    def _changed(self, table: str) -> None:
        pass


@dataclass
class LogProgress(Progress):
    """``event=snapshot_progress`` lines, at most one per table every ``interval`` seconds."""

    interval: float = 10.0
    _last: dict[str, float] = field(default_factory=dict)

    def _changed(self, table: str) -> None:
        now = time.monotonic()
        with self.lock:
            entry = self.tables[table]
            if entry.finished is not None or now - self._last.get(table, 0.0) < self.interval:
                return
            self._last[table] = now
            total_due = now - self._last.get("", 0.0) >= self.interval
            if total_due:
                self._last[""] = now
        _log_line("event=snapshot_progress table=%s " + _FIELDS, table, entry)
        if total_due:
            _log_line(
                "event=snapshot_progress_total tables=%d " + _FIELDS,
                len(self.tables),
                self.totals(),
            )


_FIELDS = (
    "rows=%d bytes=%d chunks_done=%d chunks=%d blocks_done=%d blocks=%d rows_per_s=%.0f "
    "mb_per_s=%.1f eta_s=%s"
)


def _log_line(fmt: str, first: object, entry: TableProgress) -> None:
    rows_s, mb_s = entry.rates()
    eta = entry.eta()
    log.info(
        fmt,
        first,
        entry.rows,
        entry.bytes,
        entry.chunks_done,
        entry.chunks,
        entry.blocks_done,
        entry.blocks,
        rows_s,
        mb_s,
        "-" if eta is None else f"{eta:.0f}",
    )


@dataclass
class BarProgress(Progress):
    """A rich progress bar per table on stderr; log lines go above the bars meanwhile."""

    _bar: Any = None
    _tasks: dict[str, Any] = field(default_factory=dict)
    _streams: list[tuple[logging.StreamHandler[Any], Any]] = field(default_factory=list)

    def start(self, tables: list[tuple[str, int, int]]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        super().start(tables)
        self._bar = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rows]:>12,} rows"),
            TextColumn("{task.fields[mb]:>9.1f} MB"),
            TextColumn("{task.fields[rate]:>7.1f} MB/s"),
            TextColumn("{task.fields[chunks]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            console=Console(stderr=True),
            redirect_stderr=True,
        )
        for name, entry in self.tables.items():
            self._tasks[name] = self._bar.add_task(
                name,
                total=entry.blocks,
                rows=0,
                mb=0.0,
                rate=0.0,
                chunks=f"0/{entry.chunks}",
                eta="-",
                start=False,
            )
        self._bar.start()
        # our log handler holds the real stderr; point it at rich's proxy so lines print above
        for handler in logging.getLogger("walstream").handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
                self._streams.append((handler, handler.setStream(sys.stderr)))

    def table_started(self, table: str) -> None:
        first = self.tables[table].started is None
        super().table_started(table)
        if first:
            self._bar.start_task(self._tasks[table])

    def _changed(self, table: str) -> None:
        with self.lock:
            entry = self.tables[table]
            _, mb_s = entry.rates()
            eta = entry.eta()
            self._bar.update(
                self._tasks[table],
                completed=entry.blocks_done,
                rows=entry.rows,
                mb=entry.bytes / MB,
                rate=mb_s,
                chunks=f"{entry.chunks_done}/{entry.chunks}",
                eta="-" if eta is None else f"{eta:.0f}s",
            )

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        for handler, stream in self._streams:
            handler.setStream(stream)
        self._streams.clear()


class ProgressCollector(Collector):
    """The progress as Prometheus gauges, read at scrape time (``snapshot --metrics-port``).

    Per table (label ``table``; ``*`` is every table together): ``walstream_snapshot_rows``,
    ``_bytes``, ``_chunks_done``, ``_chunks``, ``_rows_per_second`` and ``_eta_seconds`` (-1
    before the first chunk is done), and ``walstream_snapshot_loaded`` (1 once loaded). The
    coordinator counts every worker's chunks from their done records; a ``--join`` worker
    counts its own.
    """

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def collect(self) -> Iterator[Metric]:
        names = ("rows", "bytes", "chunks_done", "chunks", "rows_per_second", "eta_seconds")
        families = {
            name: GaugeMetricFamily(f"walstream_snapshot_{name}", _HELP[name], labels=["table"])
            for name in (*names, "loaded")
        }
        with self.progress.lock:
            entries = list(self.progress.tables.items())
        for table, entry in [*entries, ("*", self.progress.totals())]:
            eta = entry.eta()
            values = {
                "rows": entry.rows,
                "bytes": entry.bytes,
                "chunks_done": entry.chunks_done,
                "chunks": entry.chunks,
                "rows_per_second": entry.rates()[0],
                "eta_seconds": -1.0 if eta is None else eta,
                "loaded": 1.0 if entry.finished is not None else 0.0,
            }
            for name, value in values.items():
                families[name].add_metric([table], float(value))
        yield from families.values()


_HELP = {
    "rows": "Rows the full load has read, by table",
    "bytes": "COPY bytes the full load has read, by table",
    "chunks_done": "Chunks of the full load with a done record, by table",
    "chunks": "Chunks in the full load's plan, by table",
    "rows_per_second": "Rows per second since the table's first chunk started",
    "eta_seconds": "Seconds left at the rate so far (-1: not known yet)",
    "loaded": "1 once the table's load manifest is written and it is loaded",
}


def make_progress(mode: str = "auto", interval: float = 10.0) -> Progress:
    """``bar``, ``log``, ``none``, or ``auto`` (a bar when stderr is a terminal, else log)."""
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "log"
    if mode == "bar":
        return BarProgress()
    if mode == "log":
        return LogProgress(interval=interval)
    return Progress()
