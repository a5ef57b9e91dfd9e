"""``walstream verify``: reconcile the source with FINAL in the local DuckDB warehouse.

Did anything get lost? The answer compares, per table, the rows the source has *at a known LSN*
with the rows FINAL holds, and points at the first key ranges where they differ.

How:

1. One REPEATABLE READ transaction on the source; its first statement reads
   ``pg_current_wal_lsn()``: the snapshot LSN ``S``. Every transaction the snapshot sees
   committed before ``S``.
2. With ``--slot``, wait (``--wait`` seconds) until the slot's ``confirmed_flush_lsn`` reaches
   ``S``: walstream acknowledges only what is durable, so every change up to ``S`` is then in
   change files. When no consumer is attached, the slot is peeked instead (nothing consumed):
   no pending row change of the publication before ``S`` means the same. With ``--dest``,
   every change file there must also be loaded into the warehouse (``--load`` loads them
   first, as ``walstream warehouse load`` would). If FINAL cannot be shown to have caught up,
   the result is *behind* (inconclusive), never a false "differs".
3. The source rows are read in key order as the text of each type's output function (what
   pgoutput sends in text mode, through a server-side cursor, never as Python objects: a
   ``::text`` cast is not the output function for bool, inet, char(n)...), converted by the
   pipeline's own column converters (the values walstream would write to a file, lossy marks
   included), cast to FINAL's column types exactly as the MERGE does, and hashed per row;
   FINAL rows (live ones: soft-deleted rows excluded) are hashed the same way. Both sides go
   into DuckDB temp tables.
4. Keys are cut into ranges of ``--chunk-rows`` consecutive keys; each range gets a row count
   and a checksum (sum of row hashes) per side. Ranges whose counts or checksums differ are
   the differing ranges; within them every key is classified *missing* (source only),
   *extra* (FINAL only) or *changed* (both, different values), and the first keys listed come
   with their values: the differing columns on both sides for a changed key, the row for a
   missing or extra one.
5. A key FINAL changed after ``S`` (its position, its tombstone or a truncate watermark is
   past ``S``) is *in flux*, not a difference: the pipeline is ahead of the snapshot there.

Tables without a key are skipped: their FINAL is append-only (DESIGN.md §3), so it is a log
of changes, not a copy of the table. Exit codes: 0 every table matches, 1 a difference was
found, 2 inconclusive (FINAL behind the snapshot). Snowflake FINAL is not verified by this
module yet.

Cost: every source row passes through Python once (the pipeline's converters); that is the
price of comparing exactly the values walstream writes. Memory stays bounded: rows are read
``chunk_rows`` at a time and DuckDB spills its temp tables.
"""

from __future__ import annotations

import logging

from ..lsn import format_lsn
from ..pg import source
from .compare import Verifier, open_warehouse
from .delivery import delivered, open_snapshot
from .report import (
    BEHIND,
    DIFFERS,
    MATCH,
    SKIPPED,
    KeyDiff,
    RangeReport,
    TableReport,
    VerifyOptions,
    VerifyReport,
    log_table,
)

__all__ = [
    "BEHIND",
    "DIFFERS",
    "MATCH",
    "SKIPPED",
    "KeyDiff",
    "RangeReport",
    "TableReport",
    "VerifyOptions",
    "VerifyReport",
    "verify",
]

log = logging.getLogger("walstream.verify")


def verify(
    dsn: str,
    warehouse_path: str,
    options: VerifyOptions,
    *,
    dest: str | None = None,
    load: bool = False,
) -> VerifyReport:
    """Run the whole reconciliation (see the module docstring)."""
    snap_conn = source.connect(dsn)
    try:
        snapshot = open_snapshot(snap_conn)
        report = VerifyReport(format_lsn(snapshot), MATCH)
        if options.slot:
            args = (options.slot, options.publication, snapshot, options.wait_seconds)
            if not delivered(dsn, *args, report):
                return report
        else:
            report.note = "no --slot: assumed the pipeline has caught up with the source"
        if dest:
            report.unloaded_files = _sync_warehouse(warehouse_path, dest, load)
            if report.unloaded_files:
                report.status = BEHIND
                report.note = (
                    f"{report.unloaded_files} change files under {dest} are not loaded into "
                    "the warehouse: pass --load (or run walstream warehouse load) and retry"
                )
                return report
        wh_conn = open_warehouse(warehouse_path)
        verifier = Verifier(snap_conn, wh_conn, options)
        try:
            for table in verifier.tables():
                table_report = verifier.verify_table(table, snapshot)
                report.tables.append(table_report)
                log_table(table_report)
        finally:
            wh_conn.close()
        if any(t.status == DIFFERS for t in report.tables):
            report.status = DIFFERS
        return report
    finally:
        snap_conn.close()


def _sync_warehouse(path: str, dest: str, load: bool) -> int:
    """Load new files of ``dest`` (with ``load``); return how many remain unloaded."""
    from ..sink import open_sink
    from ..warehouse import LocalWarehouse, change_file_keys

    sink = open_sink(dest)
    with LocalWarehouse(path) as wh:
        if load:
            wh.load(sink)
        loaded = wh.loaded_files()
        return sum(1 for key in change_file_keys(sink) if sink.describe(key) not in loaded)
