"""How far a snapshot is: a rich progress bar on a terminal, structured log lines otherwise.

Workers report rows and COPY bytes as they read, and each finished chunk's share of the table's
blocks; the bar shows per table the fraction of blocks done, rows, MB and MB/s. Without a
terminal (or with ``--json``), an ``event=snapshot_progress`` line per table in progress is
logged every ``interval`` seconds, and ``event=snapshot_table_loaded`` when a table is done.
All methods are called from worker threads.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("walstream.snapshot")

MB = 1_000_000


@dataclass
class TableProgress:
    blocks: int
    blocks_done: int = 0
    rows: int = 0
    bytes: int = 0
    started: float | None = None
    finished: float | None = None
    files: int = 0

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def rates(self) -> tuple[float, float]:
        """(rows/s, MB/s) since the table started."""
        seconds = max(self.seconds, 1e-6)
        return self.rows / seconds, self.bytes / MB / seconds


@dataclass
class Progress:
    """Counts per table; subclasses show them. This base class shows nothing."""

    tables: dict[str, TableProgress] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, tables: list[tuple[str, int]]) -> None:
        for name, blocks in tables:
            self.tables[name] = TableProgress(max(blocks, 1))

    def table_started(self, table: str) -> None:
        with self.lock:
            self.tables[table].started = time.monotonic()

    def advance(self, table: str, rows: int, nbytes: int) -> None:
        with self.lock:
            entry = self.tables[table]
            entry.rows += rows
            entry.bytes += nbytes
        self._changed(table)

    def chunk_done(self, table: str, blocks: int) -> None:
        with self.lock:
            self.tables[table].blocks_done += blocks
        self._changed(table)

    def table_done(self, table: str, files: int) -> None:
        with self.lock:
            entry = self.tables[table]
            entry.finished = time.monotonic()
            entry.files = files
            entry.blocks_done = entry.blocks
        rows_s, mb_s = entry.rates()
        log.info(
            "event=snapshot_table_loaded table=%s rows=%d bytes=%d files=%d seconds=%.2f "
            "rows_per_s=%.0f mb_per_s=%.1f",
            table,
            entry.rows,
            entry.bytes,
            files,
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
        rows_s, mb_s = entry.rates()
        log.info(
            "event=snapshot_progress table=%s rows=%d bytes=%d blocks_done=%d blocks=%d "
            "rows_per_s=%.0f mb_per_s=%.1f",
            table,
            entry.rows,
            entry.bytes,
            entry.blocks_done,
            entry.blocks,
            rows_s,
            mb_s,
        )


@dataclass
class BarProgress(Progress):
    """A rich progress bar per table on stderr; log lines go above the bars meanwhile."""

    _bar: Any = None
    _tasks: dict[str, Any] = field(default_factory=dict)
    _streams: list[tuple[logging.StreamHandler[Any], Any]] = field(default_factory=list)

    def start(self, tables: list[tuple[str, int]]) -> None:
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
            TimeElapsedColumn(),
            console=Console(stderr=True),
            redirect_stderr=True,
        )
        for name, entry in self.tables.items():
            self._tasks[name] = self._bar.add_task(
                name, total=entry.blocks, rows=0, mb=0.0, rate=0.0, start=False
            )
        self._bar.start()
        # our log handler holds the real stderr; point it at rich's proxy so lines print above
        for handler in logging.getLogger("walstream").handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__:
                self._streams.append((handler, handler.setStream(sys.stderr)))

    def table_started(self, table: str) -> None:
        super().table_started(table)
        self._bar.start_task(self._tasks[table])

    def _changed(self, table: str) -> None:
        with self.lock:
            entry = self.tables[table]
            _, mb_s = entry.rates()
            self._bar.update(
                self._tasks[table],
                completed=entry.blocks_done,
                rows=entry.rows,
                mb=entry.bytes / MB,
                rate=mb_s,
            )

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        for handler, stream in self._streams:
            handler.setStream(stream)
        self._streams.clear()


def make_progress(mode: str = "auto", interval: float = 10.0) -> Progress:
    """``bar``, ``log``, ``none``, or ``auto`` (a bar when stderr is a terminal, else log)."""
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "log"
    if mode == "bar":
        return BarProgress()
    if mode == "log":
        return LogProgress(interval=interval)
    return Progress()
