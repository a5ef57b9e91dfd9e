"""Lossy values, reported: one log line per column, a metric per table, column and kind.

The decoders mark each value they cannot store exactly (:mod:`walstream.convert.context`) and
the row names its column in ``_walstream_lossy``; that is the record a FINAL reader sees. This
module is the operator's side of it (DESIGN.md §1 guarantee 7): every marked value is counted
in ``walstream_lossy_values{table,column,kind}``, and the first time a column has a value of a
kind marked, a warning says so, with the file it went to and the way to exactness
(``--as-text``). Later ones are only counted, so a column full of ``infinity`` does not flood
the log with a line per flush.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence

from ..convert import ConversionStats
from ..metrics import METRICS

log = logging.getLogger("walstream.lossy")

_lock = threading.Lock()
_logged: set[tuple[str, str, str]] = set()


def report_lossy(
    table: str, columns: Iterable[str], stats: Sequence[ConversionStats], key: str
) -> None:
    """Count and (first time per table, column and kind) log the marked values of one file;
    ``stats`` are the file's per-column counts, taken (reset) here."""
    for column, column_stats in zip(columns, stats, strict=True):
        for kind, count in column_stats.take().items():
            METRICS.lossy_values.labels(table, column, kind).inc(count)
            with _lock:
                first = (table, column, kind) not in _logged
                _logged.add((table, column, kind))
            if first:
                log.warning(
                    "event=lossy_values table=%s column=%s kind=%s count=%d key=%s action=%s",
                    table,
                    column,
                    kind,
                    count,
                    key,
                    "stored as the nearest value and named in the rows' _walstream_lossy; "
                    f"for exact values type the column as text (--as-text {table}.{column})",
                )
