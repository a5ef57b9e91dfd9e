"""Table DDL: FINAL, STAGING and the MERGE's helper tables, in both dialects, and their evolution.

The columns of each table are defined once here (:func:`table_definitions`); ``snowflake apply``
creates and widens them, the local warehouse creates, widens, renames and retypes them
(:func:`duckdb_evolve_statements`), and the MERGE (:mod:`.merge`) reads the same definitions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..schema import TableSchema
from .dialects import DUCKDB, Dialect, SnowflakeDialect, indent, join_lines
from .model import TableModel
from .options import MergeOptions


def check_names(models: Sequence[TableModel], dialect: Dialect) -> None:
    """Two source tables (or columns) must not land on one warehouse name."""
    seen: dict[str, str] = {}
    for model in models:
        for name in dialect.names(model).all():
            if name in seen and seen[name] != model.qualified_name:
                raise ConfigError(
                    f"tables {seen[name]} and {model.qualified_name} both need the object "
                    f"{name}; use --prefix-schema to name objects <schema>_<table>"
                )
            seen[name] = model.qualified_name
        columns: dict[str, str] = {}
        for col in model.columns:
            ident = dialect.ident(col.name)
            if ident in columns:
                raise ConfigError(
                    f"{model.qualified_name}: columns {columns[ident]!r} and {col.name!r} both "
                    f"map to {ident}; rename one of them in the source"
                )
            columns[ident] = col.name


# -- tables -------------------------------------------------------------------------------------
def staging_columns(model: TableModel, dialect: Dialect) -> list[tuple[str, str]]:
    """(name, type) of the STAGING table: the file's columns, then where each row came from."""
    cols = [("_walstream_op", dialect.text_type)]
    cols += [(dialect.ident(c.name), dialect.staging_type(c)) for c in model.columns]
    cols += [
        ("_walstream_commit_ts", dialect.commit_ts_type),
        ("_walstream_lsn", dialect.position_type),
        ("_walstream_seq", dialect.position_type),
        ("_walstream_xid", dialect.position_type),
        ("_walstream_unchanged", dialect.text_list_type),
        ("_walstream_lossy", dialect.text_list_type),
        ("_walstream_key_change", dialect.boolean_type),
        ("_walstream_file", dialect.text_type),
        ("_walstream_file_row", dialect.position_type),
    ]
    return cols


def final_columns(
    model: TableModel, dialect: Dialect, options: MergeOptions
) -> list[tuple[str, str]]:
    """(name, type) of FINAL: the source columns, which of them are lossy, and the position of
    the change each row shows."""
    cols = [(dialect.ident(c.name), dialect.final_type(c)) for c in model.columns]
    if not model.has_key:
        cols += [
            ("_walstream_op", dialect.text_type),
            ("_walstream_unchanged", dialect.text_list_type),
        ]
    cols += [
        ("_walstream_lossy", dialect.text_list_type),
        ("_walstream_lsn", dialect.position_type),
        ("_walstream_seq", dialect.position_type),
        ("_walstream_commit_ts", dialect.commit_ts_type),
    ]
    if options.soft_delete and model.has_key:
        cols.append(("_walstream_deleted", dialect.boolean_type))
    return cols


def changes_columns(model: TableModel, dialect: Dialect) -> list[tuple[str, str]]:
    cols = [("_walstream_op", dialect.text_type)]
    cols += [(dialect.ident(c.name), dialect.final_type(c)) for c in model.columns]
    cols += [
        ("_walstream_lossy", dialect.text_list_type),
        ("_walstream_lsn", dialect.position_type),
        ("_walstream_seq", dialect.position_type),
        ("_walstream_commit_ts", dialect.commit_ts_type),
    ]
    return cols


def _position_columns(dialect: Dialect, key: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        *key,
        ("_walstream_lsn", dialect.position_type),
        ("_walstream_seq", dialect.position_type),
        ("_walstream_commit_ts", dialect.commit_ts_type),
        ("_walstream_merged_at", dialect.commit_ts_type),
    ]


def _create_table(
    name: str,
    columns: Sequence[tuple[str, str]],
    not_null: Iterable[str] = (),
    primary_key: Sequence[str] = (),
    transient: bool = False,
) -> str:
    required = set(not_null)
    body = [f"{col} {typ}{' NOT NULL' if col in required else ''}" for col, typ in columns]
    if primary_key:
        body.append(f"PRIMARY KEY ({', '.join(primary_key)})")
    kind = "TRANSIENT TABLE" if transient else "TABLE"
    return f"CREATE {kind} IF NOT EXISTS {name} (\n{indent(join_lines(body))}\n)"


@dataclass(frozen=True, slots=True)
class TableDefinition:
    """A warehouse table walstream owns: its name and (name, type) columns, for DDL and checks."""

    role: str  # final | staging | pending | changes | tombstones | truncates
    name: str
    columns: tuple[tuple[str, str], ...]
    sql: str


def table_definitions(
    model: TableModel, dialect: Dialect, options: MergeOptions
) -> list[TableDefinition]:
    """CREATE TABLE IF NOT EXISTS for FINAL, STAGING and the MERGE's helper tables."""
    check_names([model], dialect)
    n = dialect.names(model)
    transient = isinstance(dialect, SnowflakeDialect)
    key = [dialect.ident(c.name) for c in model.key]
    key_typed = [(dialect.ident(c.name), dialect.final_type(c)) for c in model.key]
    primary_key = key if dialect.declares_primary_key else []
    final = final_columns(model, dialect, options)
    final_not_null = [*key] + (["_walstream_lsn", "_walstream_seq"] if model.has_key else [])
    defs = [
        TableDefinition(
            "final",
            n.final,
            tuple(final),
            _create_table(n.final, final, final_not_null, primary_key),
        ),
        TableDefinition(
            "staging",
            n.staging,
            tuple(staging_columns(model, dialect)),
            _create_table(n.staging, staging_columns(model, dialect)),
        ),
    ]
    if dialect.pending_is_table:
        defs.append(
            TableDefinition(
                "pending",
                n.stream,
                tuple(staging_columns(model, dialect)),
                _create_table(n.stream, staging_columns(model, dialect)),
            )
        )
    if model.has_key:
        changes = changes_columns(model, dialect)
        tombstones = _position_columns(dialect, key_typed)
        truncates = _position_columns(dialect, [])
        defs += [
            TableDefinition(
                "changes",
                n.changes,
                tuple(changes),
                _create_table(n.changes, changes, transient=transient),
            ),
            TableDefinition(
                "tombstones",
                n.tombstones,
                tuple(tombstones),
                _create_table(n.tombstones, tombstones, key, primary_key),
            ),
            TableDefinition(
                "truncates",
                n.truncates,
                tuple(truncates),
                _create_table(n.truncates, truncates),
            ),
        ]
    return defs


def add_column_statements(
    definition: TableDefinition, existing: Iterable[str], dialect: Dialect
) -> list[str]:
    """ALTER TABLE ... ADD COLUMN for the columns of ``definition`` missing from ``existing``.

    ``existing`` are column names as the warehouse reports them (unquoted). Columns are only
    ever added: a column dropped at the source stays in FINAL, null in new rows.
    """
    have = {dialect.name_key(name) for name in existing}
    return [
        f"ALTER TABLE {definition.name} ADD COLUMN {name} {typ}"
        for name, typ in definition.columns
        if dialect.name_key(dialect.reported_name(name)) not in have
    ]


# -- the local DuckDB warehouse's own bookkeeping ------------------------------------------------
LOADED_FILES = "main._walstream_loaded_files"

LOADED_FILES_DDL = f"""CREATE TABLE IF NOT EXISTS {LOADED_FILES} (
    file VARCHAR PRIMARY KEY,
    table_name VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    loaded_at TIMESTAMPTZ NOT NULL
)"""


#: Files the local "pipe" could not load (Snowflake: COPY_HISTORY's failed files): like
#: Snowpipe, the load goes on without them and does not try their names again until
#: ``walstream warehouse reload-failed``.
LOAD_ERRORS = "main._walstream_load_errors"

LOAD_ERRORS_DDL = f"""CREATE TABLE IF NOT EXISTS {LOAD_ERRORS} (
    file VARCHAR NOT NULL,
    url VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    failed_at TIMESTAMPTZ NOT NULL
)"""

#: The runs of each table's local MERGE task (Snowflake: TASK_HISTORY), the latest
#: :data:`TASK_RUNS_KEPT` per table.
TASK_RUNS = "main._walstream_task_runs"
TASK_RUNS_KEPT = 100

TASK_RUNS_DDL = f"""CREATE TABLE IF NOT EXISTS {TASK_RUNS} (
    table_name VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    error VARCHAR,
    scheduled_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ
)"""

#: The files that failed to load and have not loaded since, as ``COPY_HISTORY`` answers
#: (:func:`walstream.snowflake.history.failures`).
LOAD_FAILURES_QUERY = f"""SELECT e.table_name, e.file, e.status, e.error, e.failed_at
FROM {LOAD_ERRORS} AS e
WHERE NOT EXISTS (SELECT 1 FROM main._walstream_files AS f WHERE f.file = e.file)
QUALIFY ROW_NUMBER() OVER (PARTITION BY e.file ORDER BY e.failed_at DESC) = 1
ORDER BY e.failed_at, e.file"""

#: The last runs of each table's task, newest first, as ``TASK_HISTORY`` answers.
TASK_RUNS_QUERY = f"""SELECT table_name, state, error, scheduled_at, completed_at
FROM {TASK_RUNS}
QUALIFY ROW_NUMBER() OVER (PARTITION BY table_name ORDER BY scheduled_at DESC) <= 20
ORDER BY table_name, scheduled_at DESC"""

TABLE_VERSIONS = "main._walstream_table_versions"

TABLE_VERSIONS_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE_VERSIONS} (
    table_name VARCHAR NOT NULL,
    _walstream_lsn BIGINT NOT NULL,
    _walstream_seq BIGINT NOT NULL,
    relation VARCHAR NOT NULL
)"""


def duckdb_work_table_statements(
    model: TableModel, options: MergeOptions, roles: Iterable[str] = ("pending", "changes")
) -> list[str]:
    """Recreate work tables (empty between merges: the pending rows, CHANGES) for a shape."""
    wanted = set(roles)
    return [
        d.sql.replace("CREATE TABLE IF NOT EXISTS", "CREATE OR REPLACE TABLE", 1)
        for d in table_definitions(model, DUCKDB, options)
        if d.role in wanted
    ]


def renamed_columns(previous: TableSchema, current: TableSchema) -> dict[str, str]:
    """Columns renamed between two versions of a table's relation: ``{old: new}``.

    Relation messages name the columns but do not number them, so a rename is recognized by
    place: same position in the column list, same type and typmod, the old name gone and the new
    name new. (Dropping the last column and adding one of the same type, with no change of the
    table in between, looks the same and is taken for a rename.)
    """
    before = {c.name for c in previous.columns}
    after = {c.name for c in current.columns}
    out = {}
    for old, new in zip(previous.columns, current.columns, strict=False):
        if (
            old.name != new.name
            and old.name not in after
            and new.name not in before
            and (old.type_oid, old.typmod) == (new.type_oid, new.typmod)
        ):
            out[old.name] = new.name
    return out


def duckdb_evolve_statements(
    model: TableModel,
    options: MergeOptions,
    previous: TableSchema | None,
    existing: Mapping[str, Mapping[str, str]],
    canonical_type: Callable[[str], str],
) -> list[str]:
    """ALTERs that bring the local warehouse's tables to a newer shape of the source table.

    ``existing`` maps a table role (final, staging, tombstones) to its columns as the catalog
    reports them (name -> type); ``canonical_type`` spells a type the way the catalog does.
    Renamed columns are renamed (:func:`renamed_columns`), new ones added, changed types
    converted. FINAL mirrors the source, so columns the source dropped are dropped from FINAL;
    STAGING keeps every column it ever had (files of older shapes may still arrive).
    """
    renames = renamed_columns(previous, model.schema) if previous is not None else {}
    out: list[str] = []
    for d in table_definitions(model, DUCKDB, options):
        have_columns = existing.get(d.role)
        if have_columns is None or d.role not in ("final", "staging", "tombstones"):
            continue
        have = {DUCKDB.name_key(n): (n, t) for n, t in have_columns.items()}
        for old, new in renames.items():
            if DUCKDB.name_key(old) in have and DUCKDB.name_key(new) not in have:
                out.append(
                    f"ALTER TABLE {d.name} RENAME COLUMN {DUCKDB.ident(old)} TO {DUCKDB.ident(new)}"
                )
                have[DUCKDB.name_key(new)] = (new, have.pop(DUCKDB.name_key(old))[1])
        wanted = set()
        for name, typ in d.columns:
            k = DUCKDB.name_key(DUCKDB.reported_name(name))
            wanted.add(k)
            if k not in have:
                out.append(f"ALTER TABLE {d.name} ADD COLUMN {name} {typ}")
            elif canonical_type(typ) != have[k][1]:
                out.append(f"ALTER TABLE {d.name} ALTER COLUMN {name} TYPE {typ}")
        if d.role == "final":
            out += [
                f"ALTER TABLE {d.name} DROP COLUMN {DUCKDB.ident(name)}"
                for k, (name, _) in have.items()
                if k not in wanted
            ]
    return out
