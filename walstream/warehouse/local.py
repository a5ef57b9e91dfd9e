"""The local warehouse: Snowpipe + stream + task, played by one DuckDB file.

``walstream warehouse load --dest DEST --db PATH.duckdb`` does on one machine what Snowflake does
in production (DESIGN.md §3), with the same table models and the same MERGE logic
(:mod:`walstream.snowflake.merge`, rendered for DuckDB):

- like Snowpipe, it loads every change file under DEST whose name it has not loaded before, and
  never loads a name twice (names are remembered with their full URL, so two destinations that
  hold the same names are two sets of files);
- like the pipe's COPY, it stages each file's rows with the file name and row number;
- like the stream and the task, it then merges the rows staged by this load into FINAL.

FINAL follows the source's schema forward: when the files of a table change shape, columns are
renamed (recognized by place and type), added, converted to a new type, and dropped from FINAL
(STAGING keeps them all). Files of an older shape that arrive after a newer one are merged into
the columns FINAL still has under the same names.

One load is one DuckDB transaction: the files it records as loaded are exactly those whose rows
were merged, so a crash in the middle loses nothing and loads nothing twice.

Files are merged in batches of ``files_per_batch`` (default: all new files of a table at once),
in stream order (full-load files at their snapshot LSN, then change files by LSN); tests use
smaller batches and other orders to play out how Snowpipe may deliver files.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pyarrow as pa

from ..errors import ConfigError, SinkError, one_line
from ..extras import missing_extra
from ..layout import (
    INTERNAL_PREFIX,
    arrival_order,
    is_data_key,
    is_manifest_key,
    table_of,
)
from ..pipeline.manifest import parse_manifest
from ..pipeline.parquet import decode_parquet
from ..schema import TableSchema
from ..sink import DurableSink, open_sink
from ..snowflake.ddl import (
    LOAD_ERRORS,
    LOAD_ERRORS_DDL,
    LOADED_FILES,
    LOADED_FILES_DDL,
    TABLE_VERSIONS,
    TABLE_VERSIONS_DDL,
    TASK_RUNS,
    TASK_RUNS_DDL,
    TASK_RUNS_KEPT,
    add_column_statements,
    duckdb_evolve_statements,
    duckdb_work_table_statements,
    table_definitions,
)
from ..snowflake.dialects import DUCKDB
from ..snowflake.model import TableModel
from ..snowflake.options import MergeOptions
from ..snowflake.watermark import (
    RUN_COLUMNS,
    bookkeeping,
    bookkeeping_ddl,
    merge_run_passes,
)
from .report import (
    WarehouseReading,
    duckdb_watermarks,
    read_file_flow,
    read_load_failures,
    read_task_runs,
)

try:
    import duckdb
except ImportError as exc:  # the runtime install has no DuckDB: walstream[local]
    raise missing_extra("duckdb", "local") from exc

log = logging.getLogger("walstream.warehouse")

_STAGED_VIEW = "_walstream_incoming"


@dataclass
class LoadReport:
    """What one ``load`` did."""

    files: int = 0
    rows: int = 0
    skipped: int = 0  # files already loaded
    batches: int = 0
    tables: dict[str, int] = field(default_factory=dict)  # qualified name -> files loaded
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, error) not loaded


def change_file_keys(sink: DurableSink) -> list[str]:
    """Keys of change and full-load files under the sink's root (checkpoints excluded)."""
    return [key for key in sink.list("") if is_data_key(key)]


def manifest_keys(sink: DurableSink) -> list[str]:
    """Keys of flush and load manifests (walstream.pipeline.manifest) of every slot."""
    return sorted(key for key in sink.list(INTERNAL_PREFIX) if is_manifest_key(key))


class LocalWarehouse:
    """A DuckDB file holding STAGING, FINAL and the MERGE's helper tables of every table."""

    def __init__(self, path: str, options: MergeOptions | None = None) -> None:
        self.path = path
        self.options = options or MergeOptions()
        try:
            self.conn = duckdb.connect(path)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot open the warehouse database {path!r}: {exc}") from exc
        self.conn.execute(LOADED_FILES_DDL)
        self.conn.execute(LOAD_ERRORS_DDL)
        self.conn.execute(TASK_RUNS_DDL)
        self.conn.execute(TABLE_VERSIONS_DDL)
        self.conn.execute(
            f"ALTER TABLE {TABLE_VERSIONS} ADD COLUMN IF NOT EXISTS arrow_schema BLOB"
        )
        for sql in bookkeeping_ddl(DUCKDB):
            self.conn.execute(sql)
        b = bookkeeping(DUCKDB)
        # a warehouse made before manifests carried their commit time
        self.conn.execute(f"ALTER TABLE {b.manifests} ADD COLUMN IF NOT EXISTS end_time_us BIGINT")
        for column in RUN_COLUMNS:
            # a warehouse made before loads were merged in slices
            self.conn.execute(
                f"ALTER TABLE {b.watermarks} ADD COLUMN IF NOT EXISTS {column} BIGINT"
            )
        self._ensured: set[TableModel] = set()  # models whose tables were created
        self._failed_run: tuple[str, dt.datetime, str] | None = None  # a task run that raised
        self._types: dict[str, str] = {}  # type as we write it -> as the catalog reports it

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> LocalWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries ----------------------------------------------------------------------------
    def loaded_files(self) -> set[str]:
        rows = self.conn.execute(f"SELECT file FROM {LOADED_FILES}").fetchall()
        return {str(r[0]) for r in rows}

    def final_name(self, model: TableModel) -> str:
        return DUCKDB.names(model).final

    def final_tables(self) -> list[tuple[str, str]]:
        """(schema, table) of every FINAL table, for reports and comparisons with the source."""
        rows = self.conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema <> 'main' AND table_name NOT LIKE '\\_walstream\\_%' ESCAPE '\\' "
            "ORDER BY 1, 2"
        ).fetchall()
        return [(str(s), str(t)) for s, t in rows]

    # -- loading ----------------------------------------------------------------------------
    def load(
        self,
        dest: str | DurableSink,
        keys: Sequence[str] | None = None,
        files_per_batch: int | None = None,
        retry_failed: Sequence[str] = (),
    ) -> LoadReport:
        """Load the files and manifests of ``dest`` not loaded before (all, or ``keys``), and
        run each table's MERGE task as far as its merged watermark allows.

        ``keys`` are loaded in the order given (default: manifests, then files in stream order,
        :func:`arrival_order`); each table's files are staged ``files_per_batch`` at a time
        (default: all at once), each batch followed by a task run, as Snowpipe and a task may
        interleave. Every table then gets one more run, for manifests that arrived alone.
        """
        sink = open_sink(dest) if isinstance(dest, str) else dest
        if files_per_batch is not None and files_per_batch < 1:
            raise ConfigError(f"files_per_batch must be at least 1, not {files_per_batch}")
        if keys is None:
            wanted = manifest_keys(sink) + sorted(change_file_keys(sink), key=arrival_order)
        else:
            wanted = list(keys)
        # failed files to try again: forgotten as failed in the load's own transaction, so
        # a load that cannot finish leaves them failed
        retried = {
            str(r[0]): str(r[1])
            for key in retry_failed
            for r in self.conn.execute(
                f"SELECT file, url FROM {LOAD_ERRORS} WHERE file = ?", [key]
            ).fetchall()
        }
        loaded = self.loaded_files() - set(retried.values())
        report = LoadReport()
        manifests: list[tuple[str, str]] = []
        by_table: dict[str, list[tuple[str, str]]] = {}
        for key in wanted:
            if key.startswith(INTERNAL_PREFIX) and not is_manifest_key(key):
                continue  # checkpoints and other state: no pipe's pattern matches them
            url = sink.describe(key)
            if url in loaded:
                report.skipped += 1
                continue
            loaded.add(url)  # a key listed twice is loaded once
            if is_manifest_key(key):
                manifests.append((key, url))
            else:
                by_table.setdefault(table_of(key), []).append((key, url))
        self.conn.execute("BEGIN TRANSACTION")
        try:
            for key, url in retried.items():
                self.conn.execute(f"DELETE FROM {LOAD_ERRORS} WHERE file = ?", [key]).fetchall()
                self.conn.execute(f"DELETE FROM {LOADED_FILES} WHERE file = ?", [url]).fetchall()
            for key, url in manifests:
                self._load_manifest(sink, key, url)
            for table, files in by_table.items():
                step = files_per_batch or len(files)
                for start in range(0, len(files), step):
                    self._stage_batch(sink, files[start : start + step], report)
                    self._run_task(table)
                    report.batches += 1
                report.tables[table] = len(files)
            for table in self._known_tables():
                self._run_task(table)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._ensured.clear()  # DDL of this load was rolled back too
            self._record_failed_run()
            raise
        log.info(
            "event=warehouse_load files=%d manifests=%d rows=%d skipped=%d batches=%d db=%s",
            report.files,
            len(manifests),
            report.rows,
            report.skipped,
            report.batches,
            self.path,
        )
        return report

    def _load_manifest(self, sink: DurableSink, key: str, url: str) -> None:
        """Like the manifest pipe: the manifest's interval and files, in the bookkeeping."""
        data = sink.get(key)
        if data is None:
            raise SinkError(f"{url} was listed but cannot be read any more; load again")
        try:
            manifest = parse_manifest(data)
        except ValueError as exc:
            raise SinkError(f"{url}: {exc}; remove it or replace it with walstream's") from None
        b = bookkeeping(DUCKDB)
        now = dt.datetime.now(dt.UTC)
        self.conn.execute(
            f"INSERT INTO {b.manifests} (manifest, slot, kind, origin, start_lsn, end_lsn, "
            "loaded_at, end_time_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [key, manifest.slot, manifest.kind, manifest.origin, manifest.start_lsn,
             manifest.end_lsn, now, manifest.end_time_us or None],
        ).fetchall()  # fmt: skip
        for f in manifest.files:
            self.conn.execute(
                f"INSERT INTO {b.manifest_files} VALUES (?, ?, ?, ?)",
                [key, f.table, f.key, f.rows],
            ).fetchall()
        for load in manifest.loads:
            self.conn.execute(
                f"INSERT INTO {b.manifest_loads} VALUES (?, ?, ?)", [key, load.table, load.lsn]
            ).fetchall()
        self.conn.execute(
            f"INSERT INTO {LOADED_FILES} VALUES (?, ?, ?, ?)", [url, "", len(manifest.files), now]
        ).fetchall()

    def _stage_batch(
        self, sink: DurableSink, files: Sequence[tuple[str, str]], report: LoadReport
    ) -> None:
        """Like the pipe's COPY: each file's rows into its table's STAGING, whole. A file
        that cannot be read as a change file fails alone, as Snowpipe fails it (ON_ERROR =
        SKIP_FILE): recorded with its error, not tried again (see :meth:`reload_failed`)."""
        b = bookkeeping(DUCKDB)
        for key, url in files:
            data = sink.get(key)
            if data is None:
                raise SinkError(f"{url} was listed but cannot be read any more; load again")
            try:
                table = decode_parquet(data)
                model = TableModel.from_arrow_schema(table.schema, where=url)
            except (pa.ArrowException, ValueError, ConfigError) as exc:
                self._load_failed(key, url, exc, report)
                continue
            self._shape_for(model, _first_position(table), table.schema)
            self.conn.register(_STAGED_VIEW, _staged_rows(table, url))
            try:
                staging = DUCKDB.names(model).staging
                self.conn.execute(
                    f"INSERT INTO {staging} BY NAME SELECT * FROM {_STAGED_VIEW}"
                ).fetchall()
            finally:
                self.conn.unregister(_STAGED_VIEW)
            now = dt.datetime.now(dt.UTC)
            self.conn.execute(
                f"INSERT INTO {LOADED_FILES} VALUES (?, ?, ?, ?)",
                [url, model.qualified_name, table.num_rows, now],
            ).fetchall()
            self.conn.execute(
                f"INSERT INTO {b.files} VALUES (?, ?, ?, ?)",
                [key, model.qualified_name, table.num_rows, now],
            ).fetchall()
            report.files += 1
            report.rows += table.num_rows

    def _load_failed(self, key: str, url: str, exc: BaseException, report: LoadReport) -> None:
        """Record a file that cannot be loaded: in LOAD_ERRORS with its error, and as seen
        (like Snowpipe, the name is not tried again by itself)."""
        error = one_line(exc) or type(exc).__name__
        now = dt.datetime.now(dt.UTC)
        table = table_of(key) or ""
        self.conn.execute(
            f"INSERT INTO {LOAD_ERRORS} VALUES (?, ?, ?, ?, ?, ?)",
            [key, url, table, "Load failed", error, now],  # as COPY_HISTORY spells it
        ).fetchall()
        self.conn.execute(
            f"INSERT OR REPLACE INTO {LOADED_FILES} VALUES (?, ?, ?, ?)", [url, "", 0, now]
        ).fetchall()
        report.failed.append((url, error))
        log.warning("event=warehouse_load_failed file=%s table=%s error=%s", url, table, error)

    def _run_task(self, table: str) -> None:
        """One run of ``table``'s MERGE task (walstream.snowflake.watermark), current shape,
        recorded in TASK_RUNS (a run that raises is recorded after the load's rollback)."""
        model = self._current_model(table)
        if model is None:
            return
        started = dt.datetime.now(dt.UTC)
        try:
            for sql in duckdb_work_table_statements(model, self.options, ["changes"]):
                self.conn.execute(sql)
            staging = DUCKDB.names(model).staging
            for guard, statements in merge_run_passes(model, DUCKDB, staging, self.options):
                if guard is not None and not self.conn.execute(guard).fetchall()[0][0]:
                    continue  # nothing to merge in this pass: skip its MERGE statements
                for sql in statements:
                    self.conn.execute(sql).fetchall()  # DuckDB's MERGE returns a count
        except Exception as exc:
            self._failed_run = (table, started, one_line(exc))
            raise
        self.conn.execute(
            f"INSERT INTO {TASK_RUNS} VALUES (?, 'SUCCEEDED', NULL, ?, ?)",
            [table, started, dt.datetime.now(dt.UTC)],
        ).fetchall()
        self.conn.execute(
            f"DELETE FROM {TASK_RUNS} WHERE table_name = ? AND scheduled_at < ("
            f"SELECT MIN(scheduled_at) FROM (SELECT scheduled_at FROM {TASK_RUNS} "
            f"WHERE table_name = ? ORDER BY scheduled_at DESC LIMIT {TASK_RUNS_KEPT}))",
            [table, table],
        ).fetchall()

    def _record_failed_run(self) -> None:
        """After a load's rollback: the task run that failed it, as TASK_HISTORY shows a
        failed run (the load's own error still reaches the caller)."""
        failed, self._failed_run = self._failed_run, None
        if failed is None:
            return
        table, started, error = failed
        try:
            self.conn.execute(
                f"INSERT INTO {TASK_RUNS} VALUES (?, 'FAILED', ?, ?, ?)",
                [table, error, started, dt.datetime.now(dt.UTC)],
            ).fetchall()
        except duckdb.Error as exc:  # the load's error matters more than its record
            log.warning("event=warehouse_task_run_unrecorded table=%s error=%s", table, exc)

    def _known_tables(self) -> list[str]:
        rows = self.conn.execute(f"SELECT table_name FROM {TABLE_VERSIONS} ORDER BY 1").fetchall()
        return [str(r[0]) for r in rows]

    def _current_model(self, table: str) -> TableModel | None:
        rows = self.conn.execute(
            f"SELECT arrow_schema FROM {TABLE_VERSIONS} WHERE table_name = ?", [table]
        ).fetchall()  # all: a result left unread blocks register()
        row = rows[0] if rows else None
        if row is None or row[0] is None:
            return None
        model = TableModel.from_arrow_schema(pa.ipc.read_schema(pa.py_buffer(bytes(row[0]))))
        self._create_tables(model)
        return model

    def watermarks(self) -> list[dict[str, object]]:
        """Per table: slot, merged watermark, and what it waits for since when (DESIGN §3)."""
        b = bookkeeping(DUCKDB)
        cur = self.conn.execute(
            f"SELECT table_name, slot, lsn, waiting_for, waiting_since, merged_at, load_lsn, "
            "load_seq "
            f"FROM {b.watermarks} ORDER BY table_name"
        )
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def reading(self) -> WarehouseReading:
        """What ``walstream status --warehouse`` reads of this warehouse (for the metrics file
        a load writes)."""
        return WarehouseReading(
            duckdb_watermarks(self.conn, self.path),
            read_file_flow(self.conn),
            read_load_failures(self.conn),
            read_task_runs(self.conn),
        )

    def load_failures(self) -> list[dict[str, object]]:
        """Files that failed to load and have not loaded since (oldest first)."""
        return read_load_failures(self.conn) or []

    def task_runs(self) -> list[dict[str, object]]:
        """The recent runs of each table's MERGE task (newest first)."""
        return read_task_runs(self.conn) or []

    def reload_failed(
        self, dest: str | DurableSink, tables: Sequence[str] = (), dry_run: bool = False
    ) -> tuple[list[str], LoadReport | None]:
        """Load again the files that failed to load (of ``tables``, default all), once their
        cause is fixed: forget that they were tried, then load exactly them. A file loaded
        twice is harmless (the MERGE is exact per position), so nothing is duplicated; a file
        that still fails is recorded again. Returns the keys and the load's report (None on a
        dry run)."""
        sink = open_sink(dest) if isinstance(dest, str) else dest
        wanted = set(tables)
        failed = [f for f in self.load_failures() if not wanted or str(f["table_name"]) in wanted]
        keys = [str(f["file"]) for f in failed]
        if dry_run or not keys:
            return keys, None
        log.info("event=warehouse_reload_failed files=%d", len(keys))
        return keys, self.load(sink, keys=keys, retry_failed=keys)

    def file_flow(self) -> list[dict[str, object]]:
        """Per table: files written (listed by manifests), loaded, and not loaded since when
        (:func:`~walstream.snowflake.watermark.file_flow_query`)."""
        return read_file_flow(self.conn) or []

    # -- schema evolution -------------------------------------------------------------------
    def _shape_for(self, model: TableModel, first: tuple[int, int], arrow: pa.Schema) -> TableModel:
        """Bring the tables to ``model`` if its rows are newer than the table's current shape;
        return the model to merge with.

        Schema changes only go forward: a shape whose first change is after the current one's
        becomes current (columns renamed, added, retyped, and dropped from FINAL). Files of an
        older shape that arrive late (a replay) are merged into the columns FINAL still has.
        """
        self._create_tables(model)
        version = self._version(model.qualified_name)
        if version is None or first > version[0]:
            previous = None if version is None else version[1]
            if previous is None or not previous.same_shape(model.schema):
                existing = {
                    d.role: self._column_types(d.name)
                    for d in table_definitions(model, DUCKDB, self.options)
                    if d.role in ("final", "staging", "tombstones")
                }
                statements = duckdb_evolve_statements(
                    model, self.options, previous, existing, self._canonical_type
                )
                for sql in statements:
                    self._alter(model, sql)
            self._set_version(model, first, arrow)
            return model
        if version[1].same_shape(model.schema):
            return model
        staging = next(
            d for d in table_definitions(model, DUCKDB, self.options) if d.role == "staging"
        )
        for sql in add_column_statements(staging, self._column_types(staging.name), DUCKDB):
            self._alter(model, sql)
        final = {DUCKDB.name_key(c) for c in self._column_types(DUCKDB.names(model).final)}
        return _restricted(model, final)

    def _alter(self, model: TableModel, sql: str) -> None:
        log.info("event=warehouse_schema_change table=%s sql=%s", model.qualified_name, sql)
        try:
            self.conn.execute(sql)
        except duckdb.Error as exc:
            raise ConfigError(
                f"{model.qualified_name}: cannot follow the source's schema change ({sql}): "
                f"{exc}; convert the column in the warehouse by hand, then load again"
            ) from None

    def _create_tables(self, model: TableModel) -> None:
        if model in self._ensured:
            return
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DUCKDB.ident(model.namespace)}")
        for definition in table_definitions(model, DUCKDB, self.options):
            self.conn.execute(definition.sql)
            if definition.role == "final" and self.options.soft_delete:
                # soft delete switched on for a FINAL made without it: its column, NULL in the
                # rows already there, which the MERGE reads as live (source columns are left to
                # schema evolution, which must see renames before additions)
                have = self._column_types(definition.name)
                if "_walstream_deleted" not in have:
                    self.conn.execute(
                        f"ALTER TABLE {definition.name} ADD COLUMN _walstream_deleted BOOLEAN"
                    )
        self._ensured.add(model)

    def _version(self, table: str) -> tuple[tuple[int, int], TableSchema] | None:
        rows = self.conn.execute(
            f"SELECT _walstream_lsn, _walstream_seq, relation FROM {TABLE_VERSIONS} "
            "WHERE table_name = ?",
            [table],
        ).fetchall()  # all: a result left unread blocks register()
        if not rows:
            return None
        row = rows[0]
        return (int(row[0]), int(row[1])), TableSchema.from_json(str(row[2]))

    def _set_version(self, model: TableModel, first: tuple[int, int], arrow: pa.Schema) -> None:
        name = model.qualified_name
        self.conn.execute(f"DELETE FROM {TABLE_VERSIONS} WHERE table_name = ?", [name])
        self.conn.execute(
            f"INSERT INTO {TABLE_VERSIONS} VALUES (?, ?, ?, ?, ?)",
            [name, first[0], first[1], model.schema.to_json(), arrow.serialize().to_pybytes()],
        )

    def _column_types(self, quoted_table: str) -> dict[str, str]:
        schema, table = (part[1:-1].replace('""', '"') for part in _split_name(quoted_table))
        rows = self.conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
        return {str(name): str(typ) for name, typ in rows}

    def _canonical_type(self, typ: str) -> str:
        if typ not in self._types:
            row = self.conn.execute(f"SELECT typeof(CAST(NULL AS {typ}))").fetchone()
            assert row is not None
            self._types[typ] = str(row[0])
        return self._types[typ]


def _split_name(quoted: str) -> tuple[str, str]:
    """``"schema"."table"`` -> the two quoted parts."""
    match = re.fullmatch(r'("(?:[^"]|"")*")\.("(?:[^"]|"")*")', quoted)
    assert match is not None, quoted
    return match.group(1), match.group(2)


def _first_position(rows: pa.Table) -> tuple[int, int]:
    """The first (lsn, seq) of a group's rows; rows without a position count as (0, 0)."""
    lsn = rows.column("_walstream_lsn").to_pylist() if "_walstream_lsn" in rows.column_names else []
    seq = rows.column("_walstream_seq").to_pylist() if "_walstream_seq" in rows.column_names else []
    positions = [(int(a), int(b or 0)) for a, b in zip(lsn, seq, strict=False) if a is not None]
    return min(positions, default=(0, 0))


def _restricted(model: TableModel, keep: set[str]) -> TableModel:
    """``model`` with only the columns whose name (key) is in ``keep``."""
    columns = tuple(c for c in model.columns if DUCKDB.name_key(c.name) in keep)
    missing = [c.name for c in model.key if c not in columns]
    if missing:
        raise ConfigError(
            f"{model.qualified_name}: a late file of an older shape has key columns {missing} "
            "that FINAL no longer has; it cannot be merged (load files in order, or reload)"
        )
    names = {c.name for c in columns}
    schema = replace(
        model.schema, columns=tuple(c for c in model.schema.columns if c.name in names)
    )
    return TableModel(schema, columns)


def _staged_rows(table: pa.Table, url: str) -> pa.Table:
    """A file's rows as STAGING expects them: ``Op`` -> ``_walstream_op``, plus the origin."""
    names = ["_walstream_op" if name == "Op" else name for name in table.column_names]
    rows = table.rename_columns(names).replace_schema_metadata(None)
    rows = rows.append_column("_walstream_file", pa.array([url] * rows.num_rows, pa.string()))
    return rows.append_column(
        "_walstream_file_row", pa.array(range(1, rows.num_rows + 1), pa.int64())
    )
