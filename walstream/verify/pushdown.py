"""Verify with the work pushed down into each engine: ``walstream verify --snowflake`` (and
``--method checksums`` on the local warehouse).

Every row is hashed where it lives (:mod:`.checksum`: the same canonical text in PostgreSQL,
DuckDB and Snowflake) and only per-bucket counts and sums travel, so a table of hundreds of
millions of rows costs one scan on each side and a result of one row per bucket; nothing is
pulled whole into Python. How:

1. The source snapshot ``S`` (a REPEATABLE READ transaction, :mod:`.delivery`), read with the
   replication session's settings (:func:`.checksum.prepare_source`), and, with ``--slot``,
   the wait until walstream has stored every change before ``S``.
2. The wait until FINAL has *merged* them (with ``--slot``): each table's merged watermark
   (FINAL equals the source as of it) must reach ``S``, or the end of the last manifest
   walstream wrote when that is earlier (with ``--dest``: nothing after it but WAL without
   changes). FINAL may be ahead of ``S``; it is never behind it when the comparison starts,
   else the result is *behind* (inconclusive), never a false difference. Without ``--slot``
   both are assumed, as by ``verify`` on the local warehouse.
3. Per table, ``ceil(rows / --chunk-rows)`` buckets of keys (a key's bucket comes from the hash
   of its canonical text): a count and a sum of row hashes per bucket on each side.
4. The differing buckets (up to :data:`CLASSIFIED_BUCKETS` or ``--max-ranges``, whichever is
   more) are listed, key and row hash, in one more scan per side, and every key in them is
   *missing* (source only), *extra* (FINAL only) or *changed*, unless FINAL changed it after
   ``S`` (its position, a tombstone, a truncate): then it is *in flux*, not a difference.
5. For the first keys of each differing bucket, each side's canonical field per column (which
   columns differ) and the values as each engine holds them.

Tables without a key are skipped (their FINAL is an append-only log). Exit codes as
:func:`walstream.verify.verify`: 0 match, 1 differences, 2 inconclusive.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, SourceError, one_line
from ..lsn import format_lsn
from ..pg import source
from ..snowflake.dialects import Dialect, quote
from ..snowflake.model import TableModel
from ..snowflake.watermark import bookkeeping
from .checksum import (
    POSTGRES,
    Bucket,
    BucketSum,
    ChecksumTable,
    Engine,
    KeyedRow,
    bucket_checksums,
    buckets_rows,
    changed_after_query,
    fields_query,
    key_hashes,
    prepare_source,
)
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

if TYPE_CHECKING:
    from ..snowflake.apply import ConnectionSettings

log = logging.getLogger("walstream.verify")

#: Differing buckets whose keys are classified, at least (one scan per side lists them all).
CLASSIFIED_BUCKETS = 16
#: The most buckets of one table (one result row each, per side).
MAX_BUCKETS = 1 << 20
#: A differing bucket is listed key by key only up to this many times --chunk-rows rows.
LISTED_ROWS_PER_BUCKET = 4
#: The memory DuckDB may use while verify reads the local warehouse.
DUCKDB_MEMORY_LIMIT = "256MB"
#: Keys per query that names keys (IN lists stay far below any statement size limit).
KEYS_PER_QUERY = 500


@dataclass
class FinalEngine:
    """Where FINAL is: a DB-API connection (its ``execute`` returns something with
    ``fetchall``) and the dialect its SQL is rendered in; ``where`` names it in messages."""

    conn: Any
    dialect: Dialect
    where: str
    #: a fresh connection (closing the last), for engines whose connection sees one state
    #: (a DuckDB file opened read-only): called before each look at the watermarks
    reopen: Callable[[], Any] | None = None


def _rows(conn: Any, query: str) -> list[Sequence[Any]]:
    result: list[Sequence[Any]] = conn.execute(query).fetchall()
    return result


def merged_watermarks(final: FinalEngine) -> dict[str, tuple[int | None, str | None]]:
    """Each table's merged watermark and what it waits for, from FINAL's engine. A table whose
    full load is still merged in slices has no watermark (None) and waits for its last slice."""
    b = bookkeeping(final.dialect)
    rows = _rows(final.conn, f"SELECT table_name, lsn, waiting_for, load_lsn FROM {b.watermarks}")
    out: dict[str, tuple[int | None, str | None]] = {}
    for t, lsn, waiting, load in rows:
        if load is not None:
            out[str(t)] = (None, f"the rest of its full load at {format_lsn(int(load))}")
        else:
            out[str(t)] = (
                None if lsn is None else int(lsn),
                None if waiting is None else str(waiting),
            )
    return out


def wait_until_merged(
    final: FinalEngine,
    tables: Sequence[str],
    target: int,
    timeout: float,
    keepalive: Callable[[], Any] = lambda: None,
) -> dict[str, tuple[int | None, str | None]]:
    """Wait (up to ``timeout`` seconds) until every table's watermark reaches ``target``;
    returns the tables still behind it, with their watermark and what they wait for.
    ``keepalive`` runs at each look (the snapshot's session must not sit idle in its
    transaction: ``idle_in_transaction_session_timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        keepalive()
        if final.reopen is not None:
            final.conn = final.reopen()
        marks = merged_watermarks(final)
        behind = {
            t: marks.get(t, (None, None))
            for t in tables
            if (marks.get(t, (None, None))[0] or 0) < target
        }
        if not behind or time.monotonic() >= deadline:
            return behind
        time.sleep(1.0)


def verify_in_engines(
    dsn: str,
    final: FinalEngine,
    models: Sequence[TableModel],
    options: VerifyOptions,
    *,
    manifest_end: Callable[[], int | None] | None = None,
) -> VerifyReport:
    """Run the whole reconciliation (see the module docstring). ``manifest_end`` reads the end
    of the last manifest walstream wrote (the checkpoint under DEST), when known."""
    snap_conn = source.connect(dsn)
    try:
        snapshot = open_snapshot(snap_conn)
        prepare_source(snap_conn)
        report = VerifyReport(format_lsn(snapshot), MATCH)
        target = snapshot
        if options.slot:
            args = (options.slot, options.publication, snapshot, options.wait_seconds)
            if not delivered(dsn, *args, report):
                return report
            end = manifest_end() if manifest_end is not None else None
            if end is not None and end < target:
                target = end  # stored up to the snapshot: nothing after this but idle WAL
        else:
            report.note = "no --slot: assumed walstream has stored and FINAL merged every change"
        keyed = [m for m in models if m.has_key]
        names = [m.qualified_name for m in keyed]
        if options.slot:
            behind = wait_until_merged(
                final,
                names,
                target,
                options.wait_seconds,
                keepalive=lambda: snap_conn.execute("SELECT 1"),
            )
        else:  # assumed merged, unless a table says it waits (a file, the rest of a load)
            if final.reopen is not None:
                final.conn = final.reopen()
            marks = merged_watermarks(final)
            behind = {t: marks[t] for t in names if t in marks and marks[t][1] is not None}
        if behind:
            report.status = BEHIND
            report.note = "; ".join(
                f"{t}: merged watermark {format_lsn(lsn) if lsn is not None else 'none yet'}"
                + (f" waits for {waiting}" if waiting else "")
                for t, (lsn, waiting) in sorted(behind.items())
            ) + (
                f" < {format_lsn(target)}: FINAL has not merged everything the snapshot holds; "
                "run again with --wait, check walstream status --snowflake (an idle source "
                "gets a manifest once a minute; a server writing no WAL needs --heartbeat-interval)"
            )
            return report
        for model in models:
            if not model.has_key:
                report.tables.append(
                    TableReport(model.qualified_name, SKIPPED, note="no key: FINAL is a log")
                )
                continue
            table_report = _verify_table(snap_conn, final, model, snapshot, options, dsn)
            report.tables.append(table_report)
            log_table(table_report)
        if any(t.status == DIFFERS for t in report.tables):
            report.status = DIFFERS
        elif any(t.status == BEHIND for t in report.tables):
            report.status = BEHIND
        return report
    finally:
        snap_conn.close()


def _soft_deletes(final: FinalEngine, model: TableModel) -> bool:
    """True when FINAL keeps deleted rows (``--soft-delete``: it has ``_walstream_deleted``)."""
    column = final.dialect.ident("_walstream_deleted")
    try:
        _rows(final.conn, f"SELECT {column} FROM {final.dialect.names(model).final} LIMIT 0")
    except Exception:
        return False
    return True


def _estimate(conn: Any, model: TableModel) -> int:
    """The table's rows as the planner estimates them (``reltuples``), counted when the table
    was never analyzed: it sizes the buckets, not the result."""
    row = conn.execute(
        "SELECT c.reltuples::int8 FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (model.namespace, model.name),
    ).fetchone()
    if row is not None and int(row[0]) > 0:
        return int(row[0])
    name = f"{quote(model.namespace)}.{quote(model.name)}"
    counted = conn.execute(f"SELECT count(*) FROM {name}").fetchone()
    return 0 if counted is None else int(counted[0])


def _one_line(exc: BaseException) -> str:
    return one_line(exc)[:2000]  # a refused statement comes back whole in the message


def _on_final(final: FinalEngine, what: str, call: Callable[[], Any]) -> Any:
    """``call()`` on FINAL's engine; any failure one line, exit 2 (never a "difference")."""
    try:
        return call()
    except Exception as exc:
        raise ConfigError(f"cannot {what} in {final.where}: {_one_line(exc)}") from None


def _on_source(what: str, call: Callable[[], Any]) -> Any:
    """``call()`` on the source; any failure one line, exit 3."""
    try:
        return call()
    except (ConfigError, SourceError):
        raise
    except Exception as exc:
        raise SourceError(f"cannot {what} on the source: {_one_line(exc)}") from None


def _verify_table(
    snap_conn: Any,
    final: FinalEngine,
    model: TableModel,
    snapshot: int,
    options: VerifyOptions,
    dsn: str,
) -> TableReport:
    name = model.qualified_name
    soft_delete = _soft_deletes(final, model)
    table = _on_source(
        f"read {name}'s types",
        lambda: ChecksumTable.from_source(snap_conn, model, soft_delete=soft_delete),
    )
    report = TableReport(name, MATCH, key=[c.name for c in model.key])
    # sized by the larger side: a FINAL that kept rows the source lost must not make a bucket
    # too big to list
    rows = max(
        _on_source(f"count {name}", lambda: _estimate(snap_conn, model)),
        _on_final(final, f"count FINAL of {name}", lambda: _final_count(final, model)),
    )
    buckets = max(1, min(MAX_BUCKETS, math.ceil(rows / options.chunk_rows)))
    mine = _on_source(
        f"checksum {name}", lambda: bucket_checksums(snap_conn, POSTGRES, table, buckets)
    )
    theirs = _on_final(
        final,
        f"checksum FINAL of {name}",
        lambda: bucket_checksums(final.conn, final.dialect, table, buckets),
    )
    report.source_rows = sum(b.rows for b in mine.values())
    report.final_rows = sum(b.rows for b in theirs.values())
    report.ranges = buckets
    empty = BucketSum(0, 0)
    differing = sorted(
        (b for b in mine.keys() | theirs.keys() if mine.get(b, empty) != theirs.get(b, empty)),
        key=lambda b: b.residue,
    )
    report.differing_ranges = len(differing)
    if not differing:
        return report
    # listed key by key only where that is bounded: a few buckets, none much over chunk_rows
    limit = LISTED_ROWS_PER_BUCKET * options.chunk_rows
    listable = [
        b for b in differing if max(mine.get(b, empty).rows, theirs.get(b, empty).rows) <= limit
    ]
    examined = listable[: max(CLASSIFIED_BUCKETS, options.max_ranges)]
    src_rows = _on_source(
        f"list {name}'s keys", lambda: buckets_rows(snap_conn, POSTGRES, table, examined)
    )
    fin_rows = _on_final(
        final,
        f"list FINAL's keys of {name}",
        lambda: buckets_rows(final.conn, final.dialect, table, examined),
    )
    real = 0
    for bucket in examined:
        ours, final_side = src_rows.get(bucket, {}), fin_rows.get(bucket, {})
        kinds = _classify(ours, final_side)
        flux = _in_flux(final, table, snapshot, kinds, final_side)
        flux |= _settled(dsn, final, table, {k: v for k, v in kinds.items() if k not in flux})
        diffs = {k: kind for k, kind in kinds.items() if k not in flux}
        report.in_flux += len(flux)
        report.missing += sum(1 for kind in diffs.values() if kind == "missing")
        report.extra += sum(1 for kind in diffs.values() if kind == "extra")
        report.changed += sum(1 for kind in diffs.values() if kind == "changed")
        real += len(diffs)
        if diffs and len(report.first_differences) < options.max_ranges:
            report.first_differences.append(
                _range(snap_conn, final, table, bucket, mine, theirs, ours, final_side, diffs,
                       options.max_keys_per_range)
            )  # fmt: skip
    if real:
        report.status = DIFFERS
    elif len(examined) < len(differing):
        report.status = BEHIND
        report.note = (
            f"{len(differing)} buckets differ; {len(examined)} listed changed only after the "
            f"snapshot (in flux), {len(differing) - len(examined)} not listed (too many, or over "
            f"{limit} rows): run again when the source is quieter, or with a smaller --chunk-rows"
        )
    return report


def _final_count(final: FinalEngine, model: TableModel) -> int:
    rows = _rows(final.conn, f"SELECT COUNT(*) FROM {final.dialect.names(model).final}")
    return int(rows[0][0]) if rows else 0


def _settled(
    dsn: str, final: FinalEngine, table: ChecksumTable, kinds: Mapping[str, str]
) -> set[str]:
    """The differing keys whose source row, read again now, equals FINAL's row now: changes
    the snapshot could not see although their commit LSN is below it (a commit is written to
    the WAL before it becomes visible), or that FINAL merged since. A wrong FINAL row stays
    wrong when read again, so it stays a difference."""
    keys = sorted(kinds)
    if not keys:
        return set()
    settled: set[str] = set()
    with source.connect(dsn) as conn:
        conn.autocommit = True
        prepare_source(conn)
        for start in range(0, len(keys), KEYS_PER_QUERY):
            part = keys[start : start + KEYS_PER_QUERY]

            def here(part: list[str] = part) -> dict[str, int]:
                return key_hashes(conn, POSTGRES, table, part)

            def there(part: list[str] = part) -> dict[str, int]:
                return key_hashes(final.conn, final.dialect, table, part)

            now = _on_source("read keys again", here)
            then = _on_final(final, "read keys again", there)
            settled |= {k for k in part if now.get(k) == then.get(k)}
    return settled


def _classify(ours: Mapping[str, KeyedRow], theirs: Mapping[str, KeyedRow]) -> dict[str, str]:
    """Key text -> missing | extra | changed, for the keys whose rows differ."""
    out: dict[str, str] = {}
    for key in ours.keys() | theirs.keys():
        a, b = ours.get(key), theirs.get(key)
        if b is None:
            out[key] = "missing"
        elif a is None:
            out[key] = "extra"
        elif a.row_hash != b.row_hash:
            out[key] = "changed"
    return out


def _in_flux(
    final: FinalEngine,
    table: ChecksumTable,
    snapshot: int,
    kinds: Mapping[str, str],
    theirs: Mapping[str, KeyedRow],
) -> set[str]:
    """The differing keys FINAL changed after the snapshot: their FINAL row's position (an
    update or insert), a soft delete, a tombstone (a delete) or any truncate after it."""
    flux = {k for k in kinds if (row := theirs.get(k)) is not None and (row.lsn or 0) > snapshot}
    missing = sorted(k for k, kind in kinds.items() if kind == "missing")
    if not missing:
        return flux
    names = final.dialect.names(table.model)
    with contextlib.suppress(Exception):  # no truncate table: no truncate
        if _rows(
            final.conn, f"SELECT 1 FROM {names.truncates} WHERE _walstream_lsn > {int(snapshot)}"
        ):
            return flux | set(missing)
    for relation in (names.final, names.tombstones):
        for start in range(0, len(missing), KEYS_PER_QUERY):
            part = missing[start : start + KEYS_PER_QUERY]
            query = changed_after_query(table, final.dialect, part, snapshot, relation)
            try:
                flux |= {str(r[0]) for r in _rows(final.conn, query)}
            except Exception as exc:  # an older FINAL without tombstones: FINAL's rows only
                log.warning(
                    "event=verify_flux_unreadable relation=%s error=%s", relation, _one_line(exc)
                )
                break
    return flux


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _fields(conn: Any, engine: Engine, table: ChecksumTable, keys: Sequence[str]) -> dict[str, Any]:
    """Key text -> [(column, field, value)] of ``keys`` in ``engine``."""
    out: dict[str, Any] = {}
    names = [c.name for c in table.compared]
    for row in _rows(conn, fields_query(table, engine, keys)):
        out[str(row[0])] = [
            (names[i], row[1 + 2 * i], _plain(row[2 + 2 * i])) for i in range(len(names))
        ]
    return out


def _range(
    snap_conn: Any,
    final: FinalEngine,
    table: ChecksumTable,
    bucket: Bucket,
    mine: Mapping[Bucket, BucketSum],
    theirs: Mapping[Bucket, BucketSum],
    ours: Mapping[str, KeyedRow],
    final_side: Mapping[str, KeyedRow],
    diffs: Mapping[str, str],
    max_keys: int,
) -> RangeReport:
    """A differing bucket for people: its sums, and its first differing keys with values."""
    empty = BucketSum(0, 0)
    keys = sorted(diffs)[:max_keys]
    src = _on_source("read the differing rows", lambda: _fields(snap_conn, POSTGRES, table, keys))
    fin = _on_final(
        final, "read the differing rows", lambda: _fields(final.conn, final.dialect, table, keys)
    )
    out = RangeReport(
        bucket.residue,
        [],
        [],
        mine.get(bucket, empty).rows,
        theirs.get(bucket, empty).rows,
        format(mine.get(bucket, empty).total, "x"),
        format(theirs.get(bucket, empty).total, "x"),
        bucket=f"{bucket.residue}/{bucket.modulus}",
    )
    for key in keys:
        row = ours.get(key) or final_side.get(key)
        diff = KeyDiff(diffs[key], [_plain(v) for v in row.key] if row is not None else [key])
        a, b = src.get(key, []), fin.get(key, [])
        if diff.kind == "changed":  # a row gone since from either side shows no values
            for (name, fa, va), (_, fb, vb) in zip(a, b, strict=False):
                if fa != fb:
                    diff.values[name] = {"source": va, "final": vb}
        else:
            side, cells = ("source", a) if diff.kind == "missing" else ("final", b)
            diff.values = {name: {side: value} for name, _, value in cells}
        out.differences.append(diff)
    return out


def verify_with_checksums(
    dsn: str,
    options: VerifyOptions,
    *,
    warehouse: str | None = None,
    snowflake: ConnectionSettings | None = None,
    prefix_schema: bool = False,
    dest: str | None = None,
    load: bool = False,
    choices: tuple[tuple[str, ...], str] = ((), "mark"),
) -> VerifyReport:
    """``walstream verify --snowflake`` (or ``--warehouse PATH --method checksums``): FINAL's
    engine opened (Snowflake with ``snowflake``'s settings; the DuckDB file read-only, loaded
    from ``dest`` first with ``load``), the tables' models from the files under ``dest`` (what
    FINAL was built from) or else from the source's publication typed with ``choices``
    (``--as-text``, ``--on-lossy``), then :func:`verify_in_engines`."""
    from ..convert.choices import TypeChoices
    from ..snowflake.discover import models_from_dest, models_from_source

    tables = list(options.tables)
    if dest:
        models = models_from_dest(dest, tables)
    else:
        type_choices = TypeChoices.parse(*choices)
        models = models_from_source(dsn, options.publication or "walstream", tables, type_choices)
    if not models:
        raise ConfigError(
            "no table to verify: none under --dest, or none in the publication (--table?)"
        )
    manifest_end = None
    if dest and options.slot:
        manifest_end = _manifest_end(dest, options.slot)
    if snowflake is not None:
        from ..snowflake.apply import SnowflakeError, connect
        from ..snowflake.dialects import SnowflakeDialect, object_name

        qualifier = f"{object_name(snowflake.database)}.{object_name(snowflake.schema)}"
        dialect = SnowflakeDialect(prefix_schema=prefix_schema, qualifier=qualifier)
        try:
            conn = connect(snowflake)
        except SnowflakeError as exc:
            raise ConfigError(str(exc)) from None
        where = f"snowflake:{snowflake.account}/{snowflake.database}.{snowflake.schema}"
        try:
            return verify_in_engines(
                dsn,
                FinalEngine(conn.cursor(), dialect, where),
                models,
                options,
                manifest_end=manifest_end,
            )
        finally:
            with contextlib.suppress(Exception):
                conn.close()
    assert warehouse is not None
    from ..snowflake.dialects import DUCKDB

    if load and dest:
        from ..warehouse import LocalWarehouse

        with LocalWarehouse(warehouse) as wh:
            wh.load(dest)
    duck = _ReadOnly(warehouse)
    try:
        return verify_in_engines(
            dsn,
            FinalEngine(duck.open(), DUCKDB, f"duckdb:{warehouse}", reopen=duck.open),
            models,
            options,
            manifest_end=manifest_end,
        )
    finally:
        duck.close()


class _ReadOnly:
    """The DuckDB warehouse opened read-only, again each time :meth:`open` is called (a load
    in another process writes between two looks), waiting out a load that holds its lock."""

    LOCK_WAIT = 60.0

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: Any = None

    def open(self) -> Any:
        from .compare import open_warehouse

        self.close()
        deadline = time.monotonic() + self.LOCK_WAIT
        while True:
            try:
                self.conn = open_warehouse(self.path)
                # DuckDB caches the pages it scans up to most of the machine's memory; verify
                # needs one aggregate row per bucket, so its pages may go
                self.conn.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
                return self.conn
            except ConfigError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _manifest_end(dest: str, slot: str) -> Callable[[], int | None]:
    """Reads the end of the last manifest the checkpoint under ``dest`` records for ``slot``."""
    from ..layout import checkpoint_key
    from ..pipeline.checkpoint import Checkpoint
    from ..sink import open_sink

    def read() -> int | None:
        raw = open_sink(dest).get(checkpoint_key(slot))
        if raw is None:
            return None
        try:
            return Checkpoint.parse(raw, slot).manifest_end_lsn
        except ValueError:
            return None

    return read


__all__ = [
    "FinalEngine",
    "merged_watermarks",
    "verify_in_engines",
    "verify_with_checksums",
    "wait_until_merged",
]
