"""The merged watermark: how far each table may be merged, whatever order its files arrive in.

Guarantee 6 (DESIGN.md §1, §3): after every task run each FINAL table equals its source table as
of one LSN, its *merged watermark*. Manifests (:mod:`walstream.pipeline.manifest`) tell the
warehouse which files hold the changes of each LSN interval; a task run for table ``T``:

1. computes ``T``'s new watermark: from the current one, through the chain of its slot's flush
   manifests whose files of ``T`` have all arrived whole (row counts match), up to the first gap;
   never past a full load of ``T`` that is known but not complete;
2. merges a complete full load whose position is at or below the current watermark (a reload
   merged late), alone, with the MERGE rules of :mod:`.merge` (its ``T`` marker then its rows);
3. merges the staged rows in ``(previous watermark, new watermark]`` (and rows without a
   position, which only AWS DMS writes): exactly the changes not merged yet, in position order,
   where the MERGE rules are exact;
4. records the watermark, and what it waits for (the first missing file, or a missing
   manifest) and since when, so a stuck table says so; other tables go on;
5. prunes STAGING of what is merged.

The bookkeeping relations (both dialects; Snowflake names in brackets):

- ``MANIFESTS`` (view over the manifest pipe's raw rows): manifest, slot, kind, origin,
  start_lsn, end_lsn, loaded_at;
- ``MANIFEST_FILES`` (view): manifest, table_name, file, row_count;
- ``FILES``: the change and load files that reached STAGING, with their row counts;
- ``WATERMARKS``: per table its slot, previous and current watermark, what it waits for;
- ``LOADS``: full loads already merged (table, position).

Everything here is SQL rendered per :class:`~.sql.Dialect`; the local warehouse runs the very
same statements on DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dialects import SNOWFLAKE, Dialect, DuckDBDialect, SnowflakeDialect
from .merge import merge_statements
from .model import TableModel
from .options import MergeOptions


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """The names of the warehouse-wide bookkeeping relations in one dialect."""

    manifests: str
    manifest_files: str
    files: str
    watermarks: str
    loads: str
    manifests_raw: str  # Snowflake: what the manifest pipe loads; DuckDB: unused
    manifest_loads: str  # the full loads origin manifests name (table, snapshot LSN)


def bookkeeping(dialect: Dialect) -> Bookkeeping:
    if isinstance(dialect, DuckDBDialect):
        return Bookkeeping(
            "main._walstream_manifests",
            "main._walstream_manifest_files",
            "main._walstream_files",
            "main._walstream_watermarks",
            "main._walstream_loads",
            "",
            "main._walstream_manifest_loads",
        )
    q = dialect.object if isinstance(dialect, SnowflakeDialect) else (lambda name: name)
    return Bookkeeping(
        q("WALSTREAM_MANIFESTS"),
        q("WALSTREAM_MANIFEST_FILES"),
        q("WALSTREAM_FILES"),
        q("WALSTREAM_WATERMARKS"),
        q("WALSTREAM_LOADS"),
        q("WALSTREAM_MANIFESTS_RAW"),
        q("WALSTREAM_MANIFEST_LOADS"),
    )


def bookkeeping_ddl(dialect: Dialect) -> list[str]:
    """CREATE ... IF NOT EXISTS for the bookkeeping relations."""
    b = bookkeeping(dialect)
    pos, text, ts = dialect.position_type, dialect.text_type, dialect.commit_ts_type
    out = []
    if isinstance(dialect, DuckDBDialect):
        out += [
            f"CREATE TABLE IF NOT EXISTS {b.manifests} (manifest {text}, slot {text}, "
            f"kind {text}, origin BOOLEAN, start_lsn {pos}, end_lsn {pos}, loaded_at {ts}, "
            f"end_time_us {pos})",
            f"CREATE TABLE IF NOT EXISTS {b.manifest_files} (manifest {text}, table_name {text}, "
            f"file {text}, row_count {pos})",
            f"CREATE TABLE IF NOT EXISTS {b.manifest_loads} (manifest {text}, table_name {text}, "
            f"lsn {pos})",
        ]
    else:
        out += [
            f"CREATE TABLE IF NOT EXISTS {b.manifests_raw} (manifest VARCHAR, body VARIANT, "
            "loaded_at TIMESTAMP_TZ(6) DEFAULT CURRENT_TIMESTAMP())",
            f"CREATE OR REPLACE VIEW {b.manifests} AS\n"
            "SELECT manifest, body:slot::VARCHAR AS slot, body:kind::VARCHAR AS kind,\n"
            "    body:origin::BOOLEAN AS origin, body:start_lsn::NUMBER(19,0) AS start_lsn,\n"
            "    body:end_lsn::NUMBER(19,0) AS end_lsn, MIN(loaded_at) AS loaded_at,\n"
            "    body:end_time_us::NUMBER(19,0) AS end_time_us\n"
            f"FROM {b.manifests_raw}\nGROUP BY 1, 2, 3, 4, 5, 6, 8",
            f"CREATE OR REPLACE VIEW {b.manifest_files} AS\n"
            "SELECT DISTINCT r.manifest, f.value:table::VARCHAR AS table_name,\n"
            "    f.value:key::VARCHAR AS file, f.value:rows::NUMBER(19,0) AS row_count\n"
            f"FROM {b.manifests_raw} AS r, LATERAL FLATTEN(INPUT => r.body:files) AS f",
            f"CREATE OR REPLACE VIEW {b.manifest_loads} AS\n"
            "SELECT DISTINCT r.manifest, l.value:table::VARCHAR AS table_name,\n"
            "    l.value:lsn::NUMBER(19,0) AS lsn\n"
            f"FROM {b.manifests_raw} AS r, LATERAL FLATTEN(INPUT => r.body:loads) AS l",
        ]
    out += [
        f"CREATE TABLE IF NOT EXISTS {b.files} (file {text}, table_name {text}, "
        f"row_count {pos}, loaded_at {ts})",
        f"CREATE TABLE IF NOT EXISTS {b.watermarks} (table_name {text}, slot {text}, "
        f"prev_lsn {pos}, lsn {pos}, waiting_for {text}, waiting_since {ts}, merged_at {ts}, "
        + ", ".join(f"{c} {pos}" for c in RUN_COLUMNS)
        + ")",
        f"CREATE TABLE IF NOT EXISTS {b.loads} (table_name {text}, lsn {pos}, merged_at {ts})",
    ]
    return out


def file_flow_query(dialect: Dialect) -> str:
    """Per table (``table_name``), the files the manifests say were written and their rows
    (``files_written``, ``rows_written``) against the files that reached STAGING and theirs
    (``files_loaded``, ``rows_loaded``): how many are written but not loaded yet
    (``files_unloaded``), since when (``unloaded_since``: the arrival of the first manifest
    that lists them), and when a file last loaded (``last_loaded_at``).

    Read-only, over the bookkeeping both warehouses keep (``walstream status``). A load file
    of a full load is in no manifest: it counts as loaded, not as written.
    """
    b = bookkeeping(dialect)
    return (
        "WITH written AS (\n"
        "    SELECT mf.table_name, mf.file, MAX(mf.row_count) AS row_count,\n"
        "        MIN(m.loaded_at) AS listed_at\n"
        f"    FROM {b.manifest_files} AS mf JOIN {b.manifests} AS m ON m.manifest = mf.manifest\n"
        "    GROUP BY mf.table_name, mf.file\n"
        "), loaded AS (\n"
        "    SELECT file, MAX(table_name) AS table_name, MAX(row_count) AS row_count,\n"
        "        MAX(loaded_at) AS loaded_at\n"
        f"    FROM {b.files} WHERE table_name IS NOT NULL GROUP BY file\n"
        ")\n"
        "SELECT COALESCE(w.table_name, l.table_name) AS table_name,\n"
        "    COUNT(w.file) AS files_written, COALESCE(SUM(w.row_count), 0) AS rows_written,\n"
        "    COUNT(l.file) AS files_loaded, COALESCE(SUM(l.row_count), 0) AS rows_loaded,\n"
        "    COUNT(CASE WHEN l.file IS NULL THEN 1 END) AS files_unloaded,\n"
        "    MIN(CASE WHEN l.file IS NULL THEN w.listed_at END) AS unloaded_since,\n"
        "    MAX(l.loaded_at) AS last_loaded_at\n"
        "FROM written AS w FULL OUTER JOIN loaded AS l ON l.file = w.file\n"
        "GROUP BY COALESCE(w.table_name, l.table_name)\n"
        "ORDER BY 1"
    )


#: The watermark table's columns the status reads.
STATUS_COLUMNS = (
    "table_name",
    "slot",
    "lsn",
    "waiting_for",
    "waiting_since",
    "merged_at",
    "load_lsn",
    "load_seq",
)


def watermark_status_query(dialect: Dialect, with_time: bool = True) -> str:
    """Every table's watermark row (:data:`STATUS_COLUMNS`) and, with ``with_time``, the
    source's commit time at its watermark (``final_time_us``, Unix microseconds: the latest
    ``end_time_us`` of its slot's manifests up to the watermark): how fresh FINAL is. Without
    it (``SELECT *``), for objects made before manifests carried their time."""
    b = bookkeeping(dialect)
    if not with_time:  # every column there is (a much older table may lack some)
        return f"SELECT * FROM {b.watermarks} ORDER BY table_name"
    columns = ", ".join(f"w.{c}" for c in STATUS_COLUMNS)
    return (
        f"SELECT {columns},\n"
        f"    (SELECT MAX(m.end_time_us) FROM {b.manifests} AS m\n"
        "        WHERE m.slot = w.slot AND m.end_lsn <= w.lsn) AS final_time_us\n"
        f"FROM {b.watermarks} AS w\nORDER BY w.table_name"
    )


def _arrived(dialect: Dialect) -> str:
    """Files that reached STAGING, one row each with its row count."""
    files = bookkeeping(dialect).files
    return f"(SELECT file, MAX(row_count) AS row_count FROM {files} GROUP BY file)"


def _lists(dialect: Dialect, table: str, manifest: str) -> str:
    """True when manifest ``manifest`` lists files of ``table``."""
    return (
        f"EXISTS (SELECT 1 FROM {bookkeeping(dialect).manifest_files} AS mf\n"
        f"    WHERE mf.manifest = {manifest} AND mf.table_name = {table})"
    )


def _complete(dialect: Dialect, table: str, manifest: str) -> str:
    """True when every file manifest ``manifest`` lists for ``table`` arrived whole."""
    b = bookkeeping(dialect)
    return (
        f"NOT EXISTS (SELECT 1 FROM {b.manifest_files} AS mf\n"
        f"    LEFT JOIN {_arrived(dialect)} AS fl\n"
        "        ON fl.file = mf.file AND fl.row_count = mf.row_count\n"
        f"    WHERE mf.manifest = {manifest} AND mf.table_name = {table} AND fl.file IS NULL)"
    )


#: The columns of WATERMARKS a run writes besides the watermark: its window of positions and
#: the full load it merges in slices.
RUN_COLUMNS = ("lo_lsn", "lo_seq", "hi_lsn", "hi_seq", "load_lsn", "load_seq")

#: The greatest ``_walstream_seq``: a window bound ``(lsn, AFTER_ALL)`` is after every change
#: at ``lsn``.
AFTER_ALL = 2**62


def watermark_query(
    model: TableModel, dialect: Dialect, staging: str, options: MergeOptions
) -> str:
    """One row for ``model``'s next run: ``table_name, slot, prev_lsn, lsn, waiting_for``, the
    window ``(lo_lsn, lo_seq) < position <= (hi_lsn, hi_seq)`` it merges, and the full load
    being merged in slices (``load_lsn``, merged up to ``load_seq``), if any."""
    b = bookkeeping(dialect)
    t = dialect.literal(model.qualified_name)
    slice_rows = int(options.load_slice_rows)
    return f"""WITH cur AS (
    SELECT MAX(slot) AS slot, MAX(lsn) AS lsn, MAX(prev_lsn) AS prev_lsn,
        MAX(load_lsn) AS load_lsn, MAX(load_seq) AS load_seq
    FROM {b.watermarks} WHERE table_name = {t}
),
slot AS (
    SELECT COALESCE(
        (SELECT slot FROM cur),
        (SELECT MIN(m.slot) FROM {b.manifest_files} AS mf
            JOIN {b.manifests} AS m ON m.manifest = mf.manifest WHERE mf.table_name = {t})
    ) AS slot
),
origin AS (
    SELECT COALESCE(
        (SELECT lsn FROM cur),
        (SELECT prev_lsn FROM cur WHERE load_lsn IS NOT NULL),  -- a load merged in slices
        (SELECT MIN(m.start_lsn) FROM {b.manifests} AS m, slot
            WHERE m.slot = slot.slot AND (m.kind = 'flush' AND m.origin OR m.kind = 'load'
                AND {_lists(dialect, t, "m.manifest")}))
    ) AS lsn
),
links AS (
    SELECT m.manifest, m.start_lsn, m.end_lsn, m.loaded_at,
        CASE WHEN {_complete(dialect, t, "m.manifest")} THEN 1 ELSE 0 END AS complete
    FROM {b.manifests} AS m, slot, origin
    WHERE m.slot = slot.slot AND m.end_lsn > origin.lsn AND (m.kind = 'flush'
        OR {_lists(dialect, t, "m.manifest")})
),
reach AS (
    SELECT l.*, MAX(l.end_lsn) OVER (
        ORDER BY l.start_lsn, l.end_lsn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS reach_before
    FROM links AS l WHERE l.complete = 1
),
gap AS (
    SELECT MIN(r.start_lsn) AS at_lsn FROM reach AS r, origin
    WHERE r.start_lsn > GREATEST(origin.lsn, COALESCE(r.reach_before, origin.lsn))
),
chain AS (
    SELECT GREATEST(origin.lsn, COALESCE(MAX(r.end_lsn), origin.lsn)) AS lsn
    FROM origin LEFT JOIN gap ON TRUE
    LEFT JOIN reach AS r ON r.start_lsn < COALESCE(gap.at_lsn, r.start_lsn + 1)
    GROUP BY origin.lsn
),
announced AS (
    -- full loads of the table an origin manifest of its slot names, whose own manifest has
    -- not arrived: nothing of the table is merged past them
    SELECT ml.lsn FROM {b.manifest_loads} AS ml
    JOIN {b.manifests} AS m ON m.manifest = ml.manifest, slot
    WHERE m.slot = slot.slot AND ml.table_name = {t}
        AND NOT EXISTS (SELECT 1 FROM {b.manifests} AS lm
            JOIN {b.manifest_files} AS mf ON mf.manifest = lm.manifest
            WHERE lm.kind = 'load' AND lm.start_lsn + 1 = ml.lsn AND mf.table_name = {t})
),
open_loads AS (
    SELECT MIN(lsn) AS lsn FROM (
        SELECT m.start_lsn AS lsn FROM {b.manifests} AS m, origin
        WHERE m.kind = 'load' AND m.end_lsn > origin.lsn AND {_lists(dialect, t, "m.manifest")}
            AND NOT ({_complete(dialect, t, "m.manifest")})
        UNION ALL
        SELECT lsn - 1 FROM announced
    ) AS o
),
capped AS (
    SELECT CASE WHEN open_loads.lsn IS NOT NULL AND open_loads.lsn < chain.lsn
        THEN GREATEST(open_loads.lsn, origin.lsn) ELSE chain.lsn END AS lsn
    FROM chain, open_loads, origin
),
missing AS (
    SELECT MIN(mf.file) AS file FROM {b.manifest_files} AS mf
    JOIN links AS l ON l.manifest = mf.manifest
    LEFT JOIN {_arrived(dialect)} AS fl
        ON fl.file = mf.file AND fl.row_count = mf.row_count
    WHERE mf.table_name = {t} AND fl.file IS NULL
        AND l.start_lsn <= (SELECT lsn FROM capped) AND l.complete = 0
),
sliced AS (
    -- the full load merged in slices: the one in progress, else the first complete load in
    -- the window with more rows than a slice
    SELECT COALESCE((SELECT load_lsn FROM cur), (
        SELECT MIN(l.lsn) FROM {_complete_loads(dialect, model)} AS l, origin, capped
        WHERE l.lsn > origin.lsn AND l.lsn <= capped.lsn AND l.row_count - 1 > {slice_rows}
    )) AS lsn,
    COALESCE((SELECT load_seq FROM cur), -1) AS after_seq
),
cut AS (
    -- the last row of this run's slice; NULL when the rest of the load fits in this run
    SELECT (SELECT s._walstream_seq FROM {staging} AS s
        WHERE s._walstream_lsn = sliced.lsn AND s._walstream_xid IS NULL
            AND s._walstream_seq > sliced.after_seq
        ORDER BY s._walstream_seq LIMIT 1 OFFSET {slice_rows - 1}) AS seq
    FROM sliced
)
SELECT {t} AS table_name, slot.slot, origin.lsn AS prev_lsn,
    -- no watermark while a load is merged in slices, nor until the chain leaves its origin:
    -- before that FINAL is not the source as of any LSN
    CASE WHEN cut.seq IS NOT NULL THEN NULL
        WHEN cur.lsn IS NULL AND capped.lsn <= origin.lsn THEN NULL ELSE capped.lsn END AS lsn,
    -- the first missing file; else, past a hole in the chain, the missing manifest's interval
    COALESCE(missing.file,
        (SELECT 'load manifest of ' || {t} || ' at ' || CAST(MIN(lsn) AS VARCHAR)
            FROM announced HAVING COUNT(*) > 0),
        CASE WHEN gap.at_lsn IS NOT NULL THEN 'manifest of ' || slot.slot
        || ' (' || CAST(capped.lsn AS VARCHAR) || ', ' || CAST(gap.at_lsn AS VARCHAR) || ']'
        END) AS waiting_for,
    CASE WHEN cur.load_lsn IS NOT NULL THEN cur.load_lsn ELSE origin.lsn END AS lo_lsn,
    CASE WHEN cur.load_lsn IS NOT NULL THEN cur.load_seq ELSE {AFTER_ALL} END AS lo_seq,
    CASE WHEN cut.seq IS NOT NULL THEN sliced.lsn ELSE capped.lsn END AS hi_lsn,
    CASE WHEN cut.seq IS NOT NULL THEN cut.seq ELSE {AFTER_ALL} END AS hi_seq,
    CASE WHEN cut.seq IS NOT NULL THEN sliced.lsn END AS load_lsn,
    cut.seq AS load_seq
FROM cur, slot, origin, capped, missing, sliced, cut LEFT JOIN gap ON TRUE"""


def watermark_statements(
    model: TableModel, dialect: Dialect, staging: str, options: MergeOptions
) -> list[str]:
    """Record ``model``'s next watermark and window (keeping ``waiting_since`` while it waits on
    the same thing); run before the MERGE passes, which read it."""
    b = bookkeeping(dialect)
    now = dialect.now()
    run = RUN_COLUMNS
    sets = ", ".join(f"{c} = n.{c}" for c in run)
    return [
        f"MERGE INTO {b.watermarks} AS w\nUSING (\n"
        f"{watermark_query(model, dialect, staging, options)}\n) AS n\n"
        "ON w.table_name = n.table_name\n"
        "WHEN MATCHED THEN UPDATE SET slot = n.slot, prev_lsn = COALESCE(w.lsn, n.prev_lsn),\n"
        f"    lsn = n.lsn, {sets},\n"
        "    waiting_since = CASE WHEN n.waiting_for IS NULL THEN NULL\n"
        "        WHEN w.waiting_for IS NOT DISTINCT FROM n.waiting_for "
        f"THEN COALESCE(w.waiting_since, {now}) ELSE {now} END,\n"
        f"    waiting_for = n.waiting_for, merged_at = {now}\n"
        "WHEN NOT MATCHED AND n.slot IS NOT NULL THEN INSERT (table_name, slot, prev_lsn, lsn, "
        f"waiting_for, waiting_since, merged_at, {', '.join(run)})\n"
        "VALUES (n.table_name, n.slot, n.prev_lsn, n.lsn, n.waiting_for, "
        f"CASE WHEN n.waiting_for IS NULL THEN NULL ELSE {now} END, {now}, "
        f"{', '.join('n.' + c for c in run)})"
    ]


def _watermark(dialect: Dialect, model: TableModel) -> str:
    b = bookkeeping(dialect)
    t = dialect.literal(model.qualified_name)
    return (
        "(SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn "
        f"FROM {b.watermarks} WHERE table_name = {t})"
    )


def _complete_loads(dialect: Dialect, model: TableModel) -> str:
    """``model``'s full loads that arrived whole and are not merged yet: position (``lsn``)
    and rows (``row_count``, its ``T`` marker included)."""
    b = bookkeeping(dialect)
    t = dialect.literal(model.qualified_name)
    return (
        f"(SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM {b.manifest_files} AS mf\n"
        f"        WHERE mf.manifest = m.manifest AND mf.table_name = {t}) AS row_count\n"
        f"    FROM {b.manifests} AS m\n"
        f"    WHERE m.kind = 'load' AND {_lists(dialect, t, 'm.manifest')}\n"
        f"    AND {_complete(dialect, t, 'm.manifest')}\n"
        f"    AND NOT EXISTS (SELECT 1 FROM {b.loads} AS d WHERE d.table_name = {t} "
        "AND d.lsn = m.start_lsn + 1))"
    )


def late_load_source(model: TableModel, dialect: Dialect, staging: str) -> str:
    """Staged rows of complete full loads at or below the previous watermark (pass 2)."""
    return (
        f"(SELECT s.* FROM {staging} AS s, {_watermark(dialect, model)} AS w\n"
        "WHERE s._walstream_xid IS NULL AND s._walstream_lsn <= w.prev_lsn\n"
        f"    AND s._walstream_lsn IN (SELECT lsn FROM {_complete_loads(dialect, model)} AS l))"
    )


def window_source(model: TableModel, dialect: Dialect, staging: str) -> str:
    """Staged rows in this run's window ``(lo, hi]`` of positions (the previous watermark to
    the new one, or a slice of a full load), and rows without a position (pass 3)."""
    return (
        f"(SELECT s.* FROM {staging} AS s LEFT JOIN {_watermark(dialect, model)} AS w ON TRUE\n"
        "WHERE s._walstream_lsn IS NULL\n"
        "    OR ((s._walstream_lsn > w.lo_lsn\n"
        "            OR s._walstream_lsn = w.lo_lsn\n"
        "                AND COALESCE(s._walstream_seq, 0) > w.lo_seq)\n"
        "        AND (s._walstream_lsn < w.hi_lsn\n"
        "            OR s._walstream_lsn = w.hi_lsn\n"
        "                AND COALESCE(s._walstream_seq, 0) <= w.hi_seq)))"
    )


def after_merge_statements(model: TableModel, dialect: Dialect, staging: str) -> list[str]:
    """Record the loads merged whole by this run, then prune STAGING of what is merged."""
    b = bookkeeping(dialect)
    t = dialect.literal(model.qualified_name)
    w = _watermark(dialect, model)
    return [
        f"INSERT INTO {b.loads} (table_name, lsn, merged_at)\n"
        f"SELECT {t}, l.lsn, {dialect.now()}\n"
        f"FROM {_complete_loads(dialect, model)} AS l, {w} AS w\n"
        f"WHERE l.lsn < w.hi_lsn OR l.lsn = w.hi_lsn AND w.hi_seq = {AFTER_ALL}",
        # merged: every position up to the window's end, except rows of loads not complete yet
        # (the load being merged in slices is complete: its merged rows go)
        f"DELETE FROM {staging}\n"
        "WHERE _walstream_lsn IS NULL OR (\n"
        f"    EXISTS (SELECT 1 FROM {w} AS w WHERE _walstream_lsn < w.hi_lsn\n"
        "        OR _walstream_lsn = w.hi_lsn AND COALESCE(_walstream_seq, 0) <= w.hi_seq)\n"
        "    AND NOT (_walstream_xid IS NULL AND _walstream_lsn NOT IN (\n"
        f"        SELECT lsn FROM {b.loads} WHERE table_name = {t})\n"
        f"        AND _walstream_lsn NOT IN (SELECT COALESCE(load_lsn, -1) FROM {w} AS w)))",
    ]


__all__ = [
    "SNOWFLAKE",
    "Bookkeeping",
    "after_merge_statements",
    "bookkeeping",
    "bookkeeping_ddl",
    "late_load_source",
    "merge_run_passes",
    "merge_run_statements",
    "watermark_query",
    "watermark_statements",
    "window_source",
]


def merge_run_passes(
    model: TableModel, dialect: Dialect, staging: str, options: MergeOptions
) -> list[tuple[str | None, list[str]]]:
    """One task run as its passes: watermark, late loads, the window, bookkeeping (in order, in
    one transaction). Each pass comes with a query telling whether it has rows to merge (None:
    always run), so a runner may skip an empty MERGE pass; running them all is the same."""
    late = late_load_source(model, dialect, staging)
    window = window_source(model, dialect, staging)
    return [
        (None, watermark_statements(model, dialect, staging, options)),
        (
            f"SELECT EXISTS (SELECT 1 FROM {late} AS s)",
            merge_statements(model, dialect, late, options),
        ),
        (
            f"SELECT EXISTS (SELECT 1 FROM {window} AS s)",
            merge_statements(model, dialect, window, options),
        ),
        (None, after_merge_statements(model, dialect, staging)),
    ]


def merge_run_statements(
    model: TableModel, dialect: Dialect, staging: str, options: MergeOptions
) -> list[str]:
    """One task run for ``model``: every statement of :func:`merge_run_passes`, in order (the
    Snowflake procedure's body). Running it again with nothing new changes nothing."""
    passes = merge_run_passes(model, dialect, staging, options)
    return [sql for _, statements in passes for sql in statements]
