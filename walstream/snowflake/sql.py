"""Every warehouse statement walstream runs, generated from the table model in this one module.

Nothing else in walstream writes SQL for a warehouse: ``walstream snowflake sql`` prints what this
module returns, ``walstream snowflake apply`` runs it, and the local DuckDB warehouse
(:mod:`walstream.warehouse`) runs the very same MERGE logic rendered for DuckDB. The two
renderings differ only where the engines' SQL does (identifier case, type names, how to unnest
``_walstream_unchanged``, the spelling of ``IGNORE NULLS``); those differences live in the two
:class:`Dialect` classes, the logic lives once in the functions below.

Objects per source table (Snowflake names; DESIGN.md §3)::

    @WALSTREAM_STAGE/<schema>/<table>/ --PIPE STAGING_<T>_PIPE--> STAGING_<T> --> STAGING_<T>_STREAM
        --TASK MERGE_<T>--> <T> (FINAL), TOMBSTONES_<T>, TRUNCATES_<T>, CHANGES_<T> (work table)

One MERGE run (:func:`merge_statements`, the body of the task) applies the staged rows it has not
merged yet, in a single transaction:

1. Truncates. The newest ``T`` row of the batch becomes the table's truncate watermark (kept in
   ``TRUNCATES_<T>``) if it is newer than the current one; FINAL rows and tombstones ordered
   before it are removed; staged rows ordered before the watermark are ignored from then on.
2. Changes (``CHANGES_<T>``). Staged rows are deduplicated by position (a replay repeats a
   position with the same content). Per key the row with the greatest position wins. Columns a
   winner left unchanged (unchanged TOAST) take the latest earlier value of the same row in the
   batch, following the row across key changes (a ``D`` of the old key directly followed by a
   ``U`` of a key that was not live), else the FINAL value. The winner is kept only if it is
   after the key's FINAL row and its tombstone.
3. ``MERGE`` into FINAL: ``D`` deletes (or marks ``_walstream_deleted``), ``I``/``U`` upsert.
4. Tombstones: a key deleted by a winning ``D`` gets a tombstone with the delete's position, so a
   late-arriving older change (a replayed file with a new name) cannot resurrect it; tombstones
   older than the retention window are pruned; tombstones of re-inserted keys are dropped.

Following a row across key changes needs the root of a chain of key changes. Recursive CTEs have
an iteration cap in Snowflake, so the chain is resolved by pointer jumping: each of
:data:`POINTER_JUMPS` rounds doubles the distance followed, so chains of up to 2**POINTER_JUMPS
key changes of one row within one batch resolve exactly.

Tables without a key are append-only: FINAL is the change log (every change row once, with
``_walstream_op``), never merged by a guessed key.

What the MERGE relies on, and its one limit:

- The ``D`` and ``U`` of a key change are in one file (the pipeline cuts files between
  messages, never inside one UPDATE), so they are always merged in the same run.
- ``D(k1)`` directly followed by ``U(k2)`` in one transaction is either a key change or a
  delete of k1 followed by an update of another, live key k2; the files do not say which.
  Whether k2 was live just before (in the batch, else in FINAL) decides: a key cannot change to
  a key that exists.
- Unchanged TOAST is resolved from the rows merged so far. Any order of files gives the same
  FINAL for every other column (tombstones and the watermark keep late changes out), but if a
  later file that left a TOASTed column unchanged is merged in an earlier run than the file
  that changed that column, the new value is not known when the later change is applied, and
  it is not applied later either (its change is older than FINAL's). Snowpipe loads files
  roughly in arrival order and a task run merges everything loaded so far, so this needs a
  reordering across two task runs; the local warehouse merges in stream order.
"""

from __future__ import annotations

import re
import textwrap
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..pipeline.files import key_segment
from ..schema import TableSchema
from .evolve_options import DEFAULT_TOMBSTONE_RETENTION_DAYS as DEFAULT_TOMBSTONE_RETENTION_DAYS
from .model import (
    ColumnModel,
    TableModel,
    duckdb_staging_type,
    duckdb_type,
    snowflake_staging_type,
    snowflake_type,
)

#: Rounds of pointer jumping when following a row across key changes (see module docstring).
POINTER_JUMPS = 16


@dataclass(frozen=True, slots=True)
class MergeOptions:
    """What the MERGE does with deletes and how long tombstones live."""

    soft_delete: bool = False
    tombstone_retention_days: int = DEFAULT_TOMBSTONE_RETENTION_DAYS

    def __post_init__(self) -> None:
        if self.tombstone_retention_days < 1:
            raise ConfigError(
                f"tombstone retention of {self.tombstone_retention_days} days is too short: "
                "it must outlast any replay (crash recovery) of the pipeline; use at least 1"
            )


@dataclass(frozen=True, slots=True)
class TableNames:
    """The (quoted, ready to paste) names of one source table's warehouse objects."""

    final: str
    staging: str
    stream: str
    pipe: str
    task: str
    changes: str
    tombstones: str
    truncates: str

    def all(self) -> set[str]:
        """Every object name (empty ones, for objects a dialect does not have, left out)."""
        names = (self.final, self.staging, self.stream, self.pipe, self.task)
        return {n for n in (*names, self.changes, self.tombstones, self.truncates) if n}


class Dialect(ABC):
    """What differs between the engines; the MERGE logic itself is in the functions below."""

    name: str
    position_type: str
    commit_ts_type: str
    #: whether FINAL and TOMBSTONES declare their key (informational in Snowflake; DuckDB would
    #: enforce it eagerly and reject re-inserting a key deleted earlier in the same transaction)
    declares_primary_key: bool
    #: True where no streams exist and the rows to merge are kept in a table (DuckDB)
    pending_is_table: bool
    text_list_type: str
    boolean_type: str
    text_type: str

    @abstractmethod
    def ident(self, name: str) -> str:
        """A quoted identifier for the source name ``name``."""

    @abstractmethod
    def names(self, model: TableModel) -> TableNames: ...

    @abstractmethod
    def final_type(self, column: ColumnModel) -> str: ...

    @abstractmethod
    def staging_type(self, column: ColumnModel) -> str: ...

    @abstractmethod
    def parse_json(self, expr: str) -> str: ...

    @abstractmethod
    def unchanged_names(self, rows: str) -> str:
        """A query of (``_walstream_ord``, ``_walstream_column``): one row per name listed in
        ``_walstream_unchanged`` of relation ``rows``."""

    @abstractmethod
    def last_value_ignore_nulls(self, expr: str, window: str) -> str: ...

    @abstractmethod
    def literal(self, text: str) -> str:
        """A string literal holding exactly ``text``."""

    @abstractmethod
    def reported_name(self, name: str) -> str:
        """How the catalog (SHOW, INFORMATION_SCHEMA) reports ``name`` as we write it."""

    def name_key(self, reported: str) -> str:
        """Reported names that are the same identifier have the same key."""
        return reported

    @abstractmethod
    def now(self) -> str: ...

    @abstractmethod
    def days_ago(self, days: int) -> str: ...


_SIMPLE_LOWER = re.compile(r"[a-z_][a-z0-9_$]*")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SnowflakeDialect(Dialect):
    """Snowflake: simple lower-case source names become upper case, the rest keep their case.

    ``orders.customer_id`` becomes ``"ORDERS"."CUSTOMER_ID"``, which users can write unquoted
    (``orders.customer_id``) as usual in Snowflake; ``"OrderLines"`` or ``"unit price"`` keep
    their exact spelling and must be quoted, as in PostgreSQL. Object names are unqualified:
    they resolve in the current (or the task's / pipe's) database and schema.
    """

    name = "snowflake"
    declares_primary_key = True
    pending_is_table = False
    position_type = "NUMBER(19,0)"
    commit_ts_type = "TIMESTAMP_TZ(6)"
    text_list_type = "ARRAY"
    boolean_type = "BOOLEAN"
    text_type = "VARCHAR"

    def __init__(self, prefix_schema: bool = False) -> None:
        self.prefix_schema = prefix_schema

    @staticmethod
    def normalize(name: str) -> str:
        return name.upper() if _SIMPLE_LOWER.fullmatch(name) else name

    def ident(self, name: str) -> str:
        return _quote(self.normalize(name))

    def base_name(self, model: TableModel) -> str:
        if self.prefix_schema:
            return self.normalize(f"{model.namespace}_{model.name}")
        return self.normalize(model.name)

    def names(self, model: TableModel) -> TableNames:
        base = self.base_name(model)
        return TableNames(
            final=_quote(base),
            staging=_quote(f"STAGING_{base}"),
            stream=_quote(f"STAGING_{base}_STREAM"),
            pipe=_quote(f"STAGING_{base}_PIPE"),
            task=_quote(f"MERGE_{base}"),
            changes=_quote(f"CHANGES_{base}"),
            tombstones=_quote(f"TOMBSTONES_{base}"),
            truncates=_quote(f"TRUNCATES_{base}"),
        )

    def final_type(self, column: ColumnModel) -> str:
        return snowflake_type(column)

    def staging_type(self, column: ColumnModel) -> str:
        return snowflake_staging_type(column)

    def parse_json(self, expr: str) -> str:
        return f"PARSE_JSON({expr})"

    def unchanged_names(self, rows: str) -> str:
        return (
            "SELECT n._walstream_ord, u.value::VARCHAR AS _walstream_column\n"
            f"FROM {rows} AS n, LATERAL FLATTEN(INPUT => n._walstream_unchanged) AS u"
        )

    def last_value_ignore_nulls(self, expr: str, window: str) -> str:
        return f"LAST_VALUE({expr}) IGNORE NULLS OVER ({window})"

    def literal(self, text: str) -> str:
        # Snowflake string literals treat the backslash as an escape character
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    def reported_name(self, name: str) -> str:
        if name.startswith('"') and name.endswith('"') and len(name) > 1:
            return name[1:-1].replace('""', '"')
        return name.upper()  # a bare identifier resolves upper case

    def now(self) -> str:
        return "CURRENT_TIMESTAMP()"

    def days_ago(self, days: int) -> str:
        return f"DATEADD(DAY, -{int(days)}, CURRENT_TIMESTAMP())"


class DuckDBDialect(Dialect):
    """The local warehouse: source names as they are, one DuckDB schema per source schema.

    Helper tables sit next to FINAL with a ``_walstream_`` prefix, so they never collide with a
    source table's name (DuckDB identifiers are case-insensitive).
    """

    name = "duckdb"
    declares_primary_key = False
    pending_is_table = True
    position_type = "BIGINT"
    commit_ts_type = "TIMESTAMPTZ"
    text_list_type = "VARCHAR[]"
    boolean_type = "BOOLEAN"
    text_type = "VARCHAR"

    def ident(self, name: str) -> str:
        return _quote(name)

    def names(self, model: TableModel) -> TableNames:
        schema = _quote(model.namespace)

        def q(name: str) -> str:
            return f"{schema}.{_quote(name)}"

        return TableNames(
            final=q(model.name),
            staging=q(f"_walstream_staging_{model.name}"),
            stream=q(f"_walstream_pending_{model.name}"),  # stands in for the stream
            pipe="",  # no pipes: the warehouse loads files itself
            task="",
            changes=q(f"_walstream_changes_{model.name}"),
            tombstones=q(f"_walstream_tombstones_{model.name}"),
            truncates=q(f"_walstream_truncates_{model.name}"),
        )

    def final_type(self, column: ColumnModel) -> str:
        return duckdb_type(column)

    def staging_type(self, column: ColumnModel) -> str:
        return duckdb_staging_type(column)

    def parse_json(self, expr: str) -> str:
        return f"CAST({expr} AS JSON)"

    def unchanged_names(self, rows: str) -> str:
        return (
            "SELECT n._walstream_ord, UNNEST(n._walstream_unchanged) AS _walstream_column\n"
            f"FROM {rows} AS n"
        )

    def last_value_ignore_nulls(self, expr: str, window: str) -> str:
        return f"LAST_VALUE({expr} IGNORE NULLS) OVER ({window})"

    def literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def reported_name(self, name: str) -> str:
        if name.startswith('"') and name.endswith('"') and len(name) > 1:
            return name[1:-1].replace('""', '"')
        return name

    def name_key(self, reported: str) -> str:
        return reported.lower()  # DuckDB identifiers are case-insensitive

    def now(self) -> str:
        return "CURRENT_TIMESTAMP"

    def days_ago(self, days: int) -> str:
        return f"CURRENT_TIMESTAMP - INTERVAL {int(days)} DAY"


SNOWFLAKE = SnowflakeDialect()
DUCKDB = DuckDBDialect()


# -- small SQL builders ---------------------------------------------------------------------------
def _lines(items: Iterable[str], sep: str = ",") -> str:
    items = list(items)
    return "\n".join(item + (sep if i < len(items) - 1 else "") for i, item in enumerate(items))


def _indent(text: str, spaces: int = 4) -> str:
    return textwrap.indent(text, " " * spaces)


def _after(a: str, b: str) -> str:
    """True when the position of ``a`` is after the position of ``b``."""
    return (
        f"({a}._walstream_lsn > {b}._walstream_lsn OR ({a}._walstream_lsn = {b}._walstream_lsn "
        f"AND {a}._walstream_seq > {b}._walstream_seq))"
    )


def _key_eq(a: str, b: str, key: Sequence[str]) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in key)


def _latest(relation: str, where: str = "", extra: str = "") -> str:
    """The row of ``relation`` with the greatest position (a subquery of at most one row)."""
    cols = "_walstream_lsn, _walstream_seq" + (f", {extra}" if extra else "")
    cond = f" WHERE {where}" if where else ""
    return (
        f"(SELECT {cols} FROM {relation}{cond} "
        "ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1)"
    )


def _check_names(models: Sequence[TableModel], dialect: Dialect) -> None:
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
        ("_walstream_key_change", dialect.boolean_type),
        ("_walstream_file", dialect.text_type),
        ("_walstream_file_row", dialect.position_type),
    ]
    return cols


def final_columns(
    model: TableModel, dialect: Dialect, options: MergeOptions
) -> list[tuple[str, str]]:
    """(name, type) of FINAL: the source columns and the position of the change each row shows."""
    cols = [(dialect.ident(c.name), dialect.final_type(c)) for c in model.columns]
    if not model.has_key:
        cols += [
            ("_walstream_op", dialect.text_type),
            ("_walstream_unchanged", dialect.text_list_type),
        ]
    cols += [
        ("_walstream_lsn", dialect.position_type),
        ("_walstream_seq", dialect.position_type),
        ("_walstream_commit_ts", dialect.commit_ts_type),
    ]
    if options.soft_delete and model.has_key:
        cols.append(("_walstream_deleted", dialect.boolean_type))
    return cols


def _changes_columns(model: TableModel, dialect: Dialect) -> list[tuple[str, str]]:
    cols = [("_walstream_op", dialect.text_type)]
    cols += [(dialect.ident(c.name), dialect.final_type(c)) for c in model.columns]
    cols += [
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
    return f"CREATE {kind} IF NOT EXISTS {name} (\n{_indent(_lines(body))}\n)"


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
    _check_names([model], dialect)
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
        changes = _changes_columns(model, dialect)
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


# -- the MERGE run ------------------------------------------------------------------------------
def merge_statements(
    model: TableModel, dialect: Dialect, source: str, options: MergeOptions
) -> list[str]:
    """The statements of one MERGE run over the staged rows in ``source``, in order.

    ``source`` has STAGING's columns and holds the rows not merged yet: the stream on STAGING
    in Snowflake, the rows of the files being loaded in the local warehouse. Run them in one
    transaction. Running them again over the same rows changes nothing.
    """
    _check_names([model], dialect)
    if not model.has_key:
        return [_append_only(model, dialect, source)]
    n = dialect.names(model)
    soft = options.soft_delete
    newest_truncate = _latest(source, "_walstream_op = 'T'", "_walstream_commit_ts")
    statements = [
        # 1. the newest truncate of the batch becomes the watermark, if it is newer
        f"INSERT INTO {n.truncates} "
        "(_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)\n"
        "SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, "
        f"{dialect.now()}\n"
        f"FROM {newest_truncate} AS t\n"
        f"LEFT JOIN {_latest(n.truncates)} AS w ON TRUE\n"
        f"WHERE w._walstream_lsn IS NULL OR {_after('t', 'w')}",
        # only the watermark matters: forget the truncates it supersedes
        f"DELETE FROM {n.truncates}\n"
        f"USING {_latest(n.truncates)} AS _walstream_watermark\n"
        f"WHERE {_after('_walstream_watermark', n.truncates)}",
    ]
    if soft:
        statements.append(
            f"UPDATE {n.final}\n"
            "SET _walstream_deleted = TRUE,\n"
            "    _walstream_lsn = _walstream_truncate._walstream_lsn,\n"
            "    _walstream_seq = _walstream_truncate._walstream_seq,\n"
            "    _walstream_commit_ts = _walstream_truncate._walstream_commit_ts\n"
            f"FROM {newest_truncate} AS _walstream_truncate\n"
            f"WHERE {_after('_walstream_truncate', n.final)}"
        )
    else:
        statements += [
            f"DELETE FROM {n.final}\n"
            f"USING {newest_truncate} AS _walstream_truncate\n"
            f"WHERE {_after('_walstream_truncate', n.final)}",
            f"DELETE FROM {n.tombstones}\n"
            f"USING {newest_truncate} AS _walstream_truncate\n"
            f"WHERE {_after('_walstream_truncate', n.tombstones)}",
        ]
    changes = [c for c, _ in _changes_columns(model, dialect)]
    statements.append(
        f"INSERT INTO {n.changes} ({', '.join(changes)})\n"
        + _changes_query(model, dialect, source, soft)
    )
    statements.append(_merge_final(model, dialect, soft))
    if not soft:
        statements += _tombstone_statements(model, dialect, options)
    statements.append(f"DELETE FROM {n.changes}")
    return statements


Cte = tuple[str, str]  # (name, body) of one common table expression
_POSITION = "_walstream_lsn, _walstream_seq"


def _changes_query(model: TableModel, dialect: Dialect, source: str, soft: bool) -> str:
    """WITH ... SELECT: per key, the winning staged change, resolved and still applicable.

    The CTEs build on each other in four steps: the batch (deduplicated, after the truncate
    watermark, numbered in stream order, cut into lives), the lineage of each life across key
    changes, the latest carried value of each column that may be unchanged TOAST, and the winner
    of each key.
    """
    key = [dialect.ident(c.name) for c in model.key]
    resolvable = [c for c in model.values if soft or c.may_be_unchanged]
    ctes = _batch_ctes(model, dialect, source)
    ctes += _lineage_ctes(model, dialect, soft)
    last = "_walstream_lineaged"
    if resolvable:
        ctes += _carried_ctes(dialect, resolvable)
        last = "_walstream_sources"
    ctes.append(
        (
            "_walstream_winners",
            f"SELECT *\nFROM {last}\n"
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {', '.join(key)} "
            "ORDER BY _walstream_ord DESC) = 1",
        )
    )
    with_clause = "WITH " + ",\n".join(f"{name} AS (\n{_indent(body)}\n)" for name, body in ctes)
    return f"{with_clause}\n{_winner_select(model, dialect, resolvable, soft)}"


def _batch_ctes(model: TableModel, dialect: Dialect, source: str) -> list[Cte]:
    """The staged rows to merge: one copy per position, after the watermark, in lives."""
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    data = [dialect.ident(c.name) for c in model.columns]
    staged_cols = [
        "_walstream_op",
        *data,
        "_walstream_lsn",
        "_walstream_seq",
        "_walstream_commit_ts",
        "_walstream_unchanged",
        "_walstream_key_change",
    ]
    incoming = [
        "COALESCE(s._walstream_op, 'I') AS _walstream_op",
        *(f"s.{c}" for c in data),
        "COALESCE(s._walstream_lsn, 0) AS _walstream_lsn",
        "COALESCE(s._walstream_seq, 0) AS _walstream_seq",
        "s._walstream_commit_ts",
        "s._walstream_unchanged",
        "s._walstream_key_change",
        # a replay repeats positions with the same content: keep one copy; rows of files
        # without positions (DMS full load) are all distinct
        "ROW_NUMBER() OVER (\n"
        "    PARTITION BY s._walstream_lsn, s._walstream_seq,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END\n"
        "    ORDER BY s._walstream_file, s._walstream_file_row\n"
        ") AS _walstream_copy",
    ]
    numbered = [
        *(f"st.{c}" for c in staged_cols),
        f"ROW_NUMBER() OVER (ORDER BY {_POSITION}) AS _walstream_ord",
        # lives: a D ends the key's current life; the next row starts a new one (the D's
        # before this row, counted with a cumulative frame)
        "SUM(CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END) OVER (\n"
        f"    PARTITION BY {', '.join(key)} ORDER BY {_POSITION}\n"
        "    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n"
        ") - CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END AS _walstream_life_no",
    ]
    return [
        (
            "_walstream_watermark",
            f"SELECT {_POSITION}\nFROM {n.truncates}\nORDER BY {_desc(_POSITION)}\nLIMIT 1",
        ),
        ("_walstream_incoming", f"SELECT\n{_indent(_lines(incoming))}\nFROM {source} AS s"),
        (
            "_walstream_staged",
            f"SELECT {', '.join(f'i.{c}' for c in staged_cols)}\n"
            "FROM _walstream_incoming AS i\n"
            "LEFT JOIN _walstream_watermark AS w ON TRUE\n"
            "WHERE i._walstream_copy = 1\n"
            "    AND i._walstream_op <> 'T'\n"
            f"    AND (w._walstream_lsn IS NULL OR {_after('i', 'w')})",
        ),
        (
            "_walstream_numbered",
            f"SELECT\n{_indent(_lines(numbered))}\nFROM _walstream_staged AS st",
        ),
        (
            "_walstream_lived",
            "SELECT n.*, MIN(n._walstream_ord) OVER (\n"
            f"    PARTITION BY {', '.join(f'n.{k}' for k in key)}, n._walstream_life_no\n"
            ") AS _walstream_life\n"
            "FROM _walstream_numbered AS n",
        ),
    ]


def _lineage_ctes(model: TableModel, dialect: Dialect, soft: bool) -> list[Cte]:
    """Each life's lineage: the first life of the chain of key changes it continues."""
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    live = " AND NOT f._walstream_deleted" if soft else ""
    starts = [
        "l._walstream_life",
        *(f"l.{k}" for k in key),
        "l._walstream_op",
        "l._walstream_lsn",
        "l._walstream_seq",
        "l._walstream_key_change",
        # the first life of a key continues its FINAL row, if that is older
        f"(l._walstream_life_no = 0 AND f.{key[0]} IS NOT NULL{live}\n"
        f"    AND {_after('l', 'f')}) AS _walstream_continues",
    ]
    ctes = [
        (
            "_walstream_starts",
            f"SELECT\n{_indent(_lines(starts))}\n"
            "FROM _walstream_lived AS l\n"
            f"LEFT JOIN {n.final} AS f ON {_key_eq('f', 'l', key)}\n"
            "WHERE l._walstream_ord = l._walstream_life",
        ),
        (
            "_walstream_links",
            # a life that starts with the U of a key change continues the life that the D
            # just before it ended; the files mark both rows (never inferred from liveness)
            "SELECT s._walstream_life, d._walstream_life AS _walstream_root\n"
            "FROM _walstream_starts AS s\n"
            "JOIN _walstream_lived AS d\n"
            "    ON d._walstream_lsn = s._walstream_lsn\n"
            "    AND d._walstream_seq = s._walstream_seq - 1\n"
            "WHERE s._walstream_op = 'U' AND d._walstream_op = 'D'\n"
            "    AND s._walstream_key_change AND d._walstream_key_change",
        ),
    ]
    previous = "_walstream_links"
    for i in range(1, POINTER_JUMPS + 1):  # each round doubles the distance followed
        ctes.append(
            (
                f"_walstream_hops_{i}",
                "SELECT a._walstream_life, "
                "COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root\n"
                f"FROM {previous} AS a\n"
                f"LEFT JOIN {previous} AS b ON b._walstream_life = a._walstream_root",
            )
        )
        previous = f"_walstream_hops_{i}"
    ctes.append(
        (
            "_walstream_lineaged",
            "SELECT l.*, COALESCE(h._walstream_root, l._walstream_life) AS _walstream_lineage\n"
            "FROM _walstream_lived AS l\n"
            f"LEFT JOIN {previous} AS h ON h._walstream_life = l._walstream_life",
        )
    )
    return ctes


def _carried_ctes(dialect: Dialect, resolvable: Sequence[ColumnModel]) -> list[Cte]:
    """Per row and resolvable column: the latest row of its lineage that carried the column
    (``_walstream_source_<i>``), whether that value is not null, and the value itself."""
    flags = [
        f"MAX(CASE WHEN _walstream_column = {dialect.literal(c.name)} THEN 1 ELSE 0 END) "
        f"AS _walstream_unchanged_{i}"
        for i, c in enumerate(resolvable)
    ]
    window = (
        "PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    )
    carried: list[str] = []
    for i, c in enumerate(resolvable):
        carries = f"lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_{i}, 0) = 0"
        col = dialect.ident(c.name)
        carried += [
            f"MAX(CASE WHEN {carries} THEN lg._walstream_ord END) OVER (\n"
            f"    {window}\n) AS _walstream_source_{i}",
            f"MAX(CASE WHEN {carries} AND lg.{col} IS NOT NULL THEN lg._walstream_ord END) "
            f"OVER (\n    {window}\n) AS _walstream_nonnull_{i}",
            dialect.last_value_ignore_nulls(f"CASE WHEN {carries} THEN lg.{col} END", window)
            + f" AS _walstream_value_{i}",
        ]
    return [
        ("_walstream_unchanged_names", dialect.unchanged_names("_walstream_numbered")),
        (
            "_walstream_flags",
            f"SELECT\n{_indent(_lines(['_walstream_ord', *flags]))}\n"
            "FROM _walstream_unchanged_names\nGROUP BY _walstream_ord",
        ),
        (
            "_walstream_sources",
            f"SELECT\n{_indent(_lines(['lg.*', *carried]))}\n"
            "FROM _walstream_lineaged AS lg\n"
            "LEFT JOIN _walstream_flags AS fl ON fl._walstream_ord = lg._walstream_ord",
        ),
    ]


def _winner_select(
    model: TableModel, dialect: Dialect, resolvable: Sequence[ColumnModel], soft: bool
) -> str:
    """The winners, unchanged columns filled in (from the lineage, else the FINAL row the
    lineage continues), kept only if after the key's FINAL row and tombstone."""
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    index = {c.name: i for i, c in enumerate(resolvable)}
    select = ["w._walstream_op", *(f"w.{k}" for k in key)]
    for c in model.values:
        col = dialect.ident(c.name)
        if c.name in index:
            i = index[c.name]
            value = f"w._walstream_value_{i}"
            if c.is_json:
                value = dialect.parse_json(value)
            select.append(
                f"CASE WHEN w._walstream_source_{i} IS NULL THEN b.{col}\n"
                f"    WHEN w._walstream_nonnull_{i} = w._walstream_source_{i} THEN {value}\n"
                f"END AS {col}"
            )
        else:
            value = f"w.{col}"
            select.append(f"{dialect.parse_json(value)} AS {col}" if c.is_json else value)
    select += ["w._walstream_lsn", "w._walstream_seq", "w._walstream_commit_ts"]
    where = [f"(f.{key[0]} IS NULL OR {_after('w', 'f')})"]
    joins = [
        "JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage",
        f"LEFT JOIN {n.final} AS b ON r._walstream_continues AND {_key_eq('b', 'r', key)}",
        f"LEFT JOIN {n.final} AS f ON {_key_eq('f', 'w', key)}",
    ]
    if not soft:
        joins.append(f"LEFT JOIN {n.tombstones} AS t ON {_key_eq('t', 'w', key)}")
        where.append(f"(t.{key[0]} IS NULL OR {_after('w', 't')})")
    return (
        f"SELECT\n{_indent(_lines(select))}\nFROM _walstream_winners AS w\n"
        + "\n".join(joins)
        + "\nWHERE "
        + "\n    AND ".join(where)
    )


def _desc(pos: str) -> str:
    return ", ".join(f"{p.strip()} DESC" for p in pos.split(","))


def _merge_final(model: TableModel, dialect: Dialect, soft: bool) -> str:
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    values = [dialect.ident(c.name) for c in model.values]
    meta = ["_walstream_lsn", "_walstream_seq", "_walstream_commit_ts"]
    sets = [f"{c} = c.{c}" for c in [*values, *meta]]
    inserts = [*key, *values, *meta]
    insert_values = [f"c.{c}" for c in inserts]
    if soft:
        sets.append("_walstream_deleted = (c._walstream_op = 'D')")
        inserts.append("_walstream_deleted")
        insert_values.append("(c._walstream_op = 'D')")
    head = f"MERGE INTO {n.final} AS f\nUSING {n.changes} AS c\nON {_key_eq('f', 'c', key)}\n"
    update = f"THEN UPDATE SET\n{_indent(_lines(sets))}\n"
    insert = f"INSERT ({', '.join(inserts)})\nVALUES ({', '.join(insert_values)})"
    after = _after("c", "f")
    if soft:
        return head + f"WHEN MATCHED AND {after} " + update + f"WHEN NOT MATCHED THEN {insert}"
    return (
        head
        + f"WHEN MATCHED AND c._walstream_op = 'D' AND {after} THEN DELETE\n"
        + f"WHEN MATCHED AND c._walstream_op <> 'D' AND {after} "
        + update
        + f"WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN {insert}"
    )


def _tombstone_statements(model: TableModel, dialect: Dialect, options: MergeOptions) -> list[str]:
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    cols = [*key, "_walstream_lsn", "_walstream_seq", "_walstream_commit_ts"]
    return [
        f"MERGE INTO {n.tombstones} AS t\n"
        f"USING (SELECT {', '.join(cols)} FROM {n.changes} WHERE _walstream_op = 'D') AS c\n"
        f"ON {_key_eq('t', 'c', key)}\n"
        f"WHEN MATCHED AND {_after('c', 't')} THEN UPDATE SET\n"
        "    _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,\n"
        "    _walstream_commit_ts = c._walstream_commit_ts, "
        f"_walstream_merged_at = {dialect.now()}\n"
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(cols)}, _walstream_merged_at)\n"
        f"VALUES ({', '.join(f'c.{c}' for c in cols)}, {dialect.now()})",
        # a key that is live again needs no tombstone: its FINAL row carries a newer position
        f"DELETE FROM {n.tombstones}\n"
        f"USING {n.changes} AS c\n"
        f"WHERE c._walstream_op <> 'D' AND {_key_eq(n.tombstones, 'c', key)}",
        f"DELETE FROM {n.tombstones}\n"
        f"WHERE _walstream_merged_at < {dialect.days_ago(options.tombstone_retention_days)}",
    ]


def _append_only(model: TableModel, dialect: Dialect, source: str) -> str:
    """Keyless tables: every change row once, in FINAL as a change log (never merged by key)."""
    n = dialect.names(model)
    data = [dialect.ident(c.name) for c in model.columns]
    cols = [
        *data,
        "_walstream_op",
        "_walstream_unchanged",
        "_walstream_lsn",
        "_walstream_seq",
        "_walstream_commit_ts",
    ]
    values = [
        *(
            dialect.parse_json(f"s.{dialect.ident(c.name)}")
            if c.is_json
            else f"s.{dialect.ident(c.name)}"
            for c in model.columns
        ),
        "COALESCE(s._walstream_op, 'I')",
        "s._walstream_unchanged",
        "s._walstream_lsn",
        "s._walstream_seq",
        "s._walstream_commit_ts",
    ]
    return (
        f"INSERT INTO {n.final} ({', '.join(cols)})\n"
        f"SELECT\n{_indent(_lines(values))}\n"
        f"FROM {source} AS s\n"
        f"LEFT JOIN {n.final} AS f\n"
        "    ON f._walstream_lsn = s._walstream_lsn AND f._walstream_seq = s._walstream_seq\n"
        "WHERE f._walstream_lsn IS NULL\n"
        "QUALIFY ROW_NUMBER() OVER (\n"
        "    PARTITION BY s._walstream_lsn, s._walstream_seq,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END\n"
        "    ORDER BY s._walstream_file, s._walstream_file_row\n"
        ") = 1"
    )


# -- Snowflake objects: stage, pipe, stream, task -----------------------------------------------
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*")
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")


def object_name(name: str) -> str:
    """An account object named by the user (stage, warehouse, ...): bare if it can be, else quoted.

    Bare names follow Snowflake's usual rules (``my_stage`` is ``MY_STAGE``) and may be qualified
    (``db.schema.stage``); anything else is taken literally.
    """
    return name if _BARE_NAME.fullmatch(name) else _quote(name)


@dataclass(frozen=True, slots=True)
class SnowflakeOptions:
    """Everything the generated Snowflake objects depend on besides the table models."""

    dest: str
    stage: str = "WALSTREAM_STAGE"
    file_format: str = "WALSTREAM_PARQUET"
    storage_integration: str | None = "WALSTREAM_S3"
    aws_role_arn: str | None = None
    task_warehouse: str | None = None  # None: serverless task
    schedule: str = "1 MINUTE"
    prefix_schema: bool = False
    merge: MergeOptions = MergeOptions()

    @property
    def dialect(self) -> SnowflakeDialect:
        return SnowflakeDialect(prefix_schema=self.prefix_schema)

    @property
    def stage_url(self) -> str:
        return self.dest.rstrip("/") + "/"


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of the script; ``kind`` and ``name`` let ``apply`` decide what to run.

    Kinds: ``integration``, ``file_format``, ``stage``, ``table``, ``stream``, ``pipe``,
    ``pipe_refresh``, ``task``, ``task_resume``.
    """

    kind: str
    name: str
    sql: str
    table: str | None = None  # qualified source table, for per-table statements
    role: str | None = None  # final | staging | ... for tables


def account_statements(options: SnowflakeOptions) -> list[Statement]:
    """The storage integration (when a role ARN is given), the file format and the stage."""
    out: list[Statement] = []
    if options.storage_integration and options.aws_role_arn:
        integration = object_name(options.storage_integration)
        out.append(
            Statement(
                "integration",
                integration,
                f"CREATE STORAGE INTEGRATION IF NOT EXISTS {integration}\n"
                "    TYPE = EXTERNAL_STAGE\n"
                "    STORAGE_PROVIDER = 'S3'\n"
                "    ENABLED = TRUE\n"
                f"    STORAGE_AWS_ROLE_ARN = {SNOWFLAKE.literal(options.aws_role_arn)}\n"
                f"    STORAGE_ALLOWED_LOCATIONS = ({SNOWFLAKE.literal(options.stage_url)})",
            )
        )
    file_format = object_name(options.file_format)
    out.append(
        Statement(
            "file_format",
            file_format,
            # USE_LOGICAL_TYPE: read decimals, dates, times and timestamps as what they are;
            # BINARY_AS_TEXT = FALSE: bytea stays binary (strings are annotated as such);
            # the vectorized scanner reads Parquet LISTs as plain arrays
            f"CREATE FILE FORMAT IF NOT EXISTS {file_format}\n"
            "    TYPE = PARQUET\n"
            "    BINARY_AS_TEXT = FALSE\n"
            "    USE_LOGICAL_TYPE = TRUE\n"
            "    USE_VECTORIZED_SCANNER = TRUE",
        )
    )
    stage = object_name(options.stage)
    integration_clause = (
        f"\n    STORAGE_INTEGRATION = {object_name(options.storage_integration)}"
        if options.storage_integration
        else ""
    )
    out.append(
        Statement(
            "stage",
            stage,
            f"CREATE STAGE IF NOT EXISTS {stage}\n"
            f"    URL = {SNOWFLAKE.literal(options.stage_url)}"
            f"{integration_clause}\n"
            f"    FILE_FORMAT = (FORMAT_NAME = {SNOWFLAKE.literal(options.file_format)})",
        )
    )
    return out


def copy_statement(model: TableModel, options: SnowflakeOptions) -> str:
    """The pipe's COPY: every file column cast explicitly, plus where each row came from."""
    dialect = options.dialect
    n = dialect.names(model)
    targets = [c for c, _ in staging_columns(model, dialect)]
    casts = [f"$1:{_quote('Op')}::{dialect.text_type}"]
    casts += [f"$1:{_quote(c.name)}::{dialect.staging_type(c)}" for c in model.columns]
    casts += [
        f"$1:{_quote('_walstream_commit_ts')}::{dialect.commit_ts_type}",
        f"$1:{_quote('_walstream_lsn')}::{dialect.position_type}",
        f"$1:{_quote('_walstream_seq')}::{dialect.position_type}",
        f"$1:{_quote('_walstream_xid')}::{dialect.position_type}",
        f"$1:{_quote('_walstream_unchanged')}::{dialect.text_list_type}",
        f"$1:{_quote('_walstream_key_change')}::{dialect.boolean_type}",
        "METADATA$FILENAME",
        "METADATA$FILE_ROW_NUMBER",
    ]
    # a stage path cannot spell every folder name (spaces, quotes, ...): the path goes as far
    # as it can, and a PATTERN picks the table's files below it
    prefix = ""
    pattern = ""
    folders = [key_segment(model.namespace), key_segment(model.name)]  # as the files are stored
    for i, segment in enumerate(folders):
        if not _SAFE_SEGMENT.fullmatch(segment):
            rest = folders[i:]
            pattern = ".*" + "".join(_regex_escape(p) + "/" for p in rest) + r"[^/]*[.]parquet"
            break
        prefix += segment + "/"
    location = f"@{object_name(options.stage)}/{prefix}"
    pattern_clause = f"PATTERN = {SNOWFLAKE.literal(pattern)}\n" if pattern else ""
    return (
        f"COPY INTO {n.staging} (\n{_indent(_lines(targets))}\n)\n"
        f"FROM (\n    SELECT\n{_indent(_lines(casts), 8)}\n    FROM {location}\n)\n"
        f"{pattern_clause}"
        f"FILE_FORMAT = (FORMAT_NAME = {SNOWFLAKE.literal(options.file_format)})"
    )


def _regex_escape(text: str) -> str:
    """``text`` as a literal in a Snowflake (POSIX extended) regular expression."""
    return "".join("\\" + ch if ch in r".^$*+?()[]{}|\\" else ch for ch in text)


def task_body(model: TableModel, options: SnowflakeOptions) -> str:
    """The Snowflake Scripting block the task runs: one transaction over the stream's rows.

    The stream's offset moves only when the transaction that read it commits, so a failed run
    leaves the rows in the stream and the next run merges them (the MERGE is idempotent).
    """
    dialect = options.dialect
    n = dialect.names(model)
    statements = merge_statements(model, dialect, n.stream, options.merge)
    body = "\n".join(s + ";" for s in statements)
    return (
        "BEGIN\n"
        "    BEGIN TRANSACTION;\n"
        f"{_indent(body)}\n"
        "    COMMIT;\n"
        "EXCEPTION\n"
        "    WHEN OTHER THEN\n"
        "        ROLLBACK;\n"
        "        RAISE;\n"
        "END;"
    )


def table_statements(model: TableModel, options: SnowflakeOptions) -> list[Statement]:
    """Per table: FINAL, STAGING and helper tables, the stream, the pipe, the task."""
    dialect = options.dialect
    n = dialect.names(model)
    table = model.qualified_name
    out = [
        Statement("table", d.name, d.sql, table, d.role)
        for d in table_definitions(model, dialect, options.merge)
    ]
    out.append(
        Statement(
            "stream",
            n.stream,
            f"CREATE STREAM IF NOT EXISTS {n.stream}\n"
            f"    ON TABLE {n.staging}\n"
            "    APPEND_ONLY = TRUE",
            table,
        )
    )
    # never OR REPLACE: a recreated pipe forgets which files it loaded and loads them again
    out.append(
        Statement(
            "pipe",
            n.pipe,
            f"CREATE PIPE IF NOT EXISTS {n.pipe}\n"
            "    AUTO_INGEST = TRUE\n"
            f"AS\n{copy_statement(model, options)}",
            table,
        )
    )
    out.append(Statement("pipe_refresh", n.pipe, f"ALTER PIPE {n.pipe} REFRESH", table))
    body = task_body(model, options)
    if "$$" in body:
        raise ConfigError(
            f"{table}: a name contains '$$', which cannot appear in a task body; rename it"
        )
    compute = (
        f"WAREHOUSE = {object_name(options.task_warehouse)}"
        if options.task_warehouse
        else "USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'"
    )
    stream_arg = SNOWFLAKE.literal(n.stream)
    out.append(
        Statement(
            "task",
            n.task,
            # a task has no history worth keeping: replacing it is safe (it is resumed below)
            f"CREATE OR REPLACE TASK {n.task}\n"
            f"    {compute}\n"
            f"    SCHEDULE = {SNOWFLAKE.literal(options.schedule)}\n"
            f"    WHEN SYSTEM$STREAM_HAS_DATA({stream_arg})\n"
            f"AS\nEXECUTE IMMEDIATE $$\n{body}\n$$",
            table,
        )
    )
    out.append(Statement("task_resume", n.task, f"ALTER TASK {n.task} RESUME", table))
    return out


def snowflake_statements(
    models: Sequence[TableModel], options: SnowflakeOptions
) -> list[Statement]:
    """Everything, in the order it must run."""
    dialect = options.dialect
    _check_names(models, dialect)
    out = account_statements(options)
    for model in sorted(models, key=lambda m: m.qualified_name):
        out += table_statements(model, options)
    return out


def snowflake_script(models: Sequence[TableModel], options: SnowflakeOptions) -> str:
    """The whole script as text, ready to review and run (``walstream snowflake sql``)."""
    parts = [
        "-- walstream: Snowflake objects generated from the source table schemas.\n"
        "-- Safe to run again: nothing is dropped; pipes are never replaced (a new pipe would\n"
        "-- load every file again). Tasks are replaced and resumed."
    ]
    if not options.aws_role_arn and options.storage_integration:
        parts.append(
            f"-- storage integration {object_name(options.storage_integration)} must exist "
            "(pass --aws-role-arn to create it here)"
        )
    current: str | None = None
    for statement in snowflake_statements(models, options):
        if statement.table != current and statement.table is not None:
            current = statement.table
            model = next(m for m in models if m.qualified_name == current)
            note = "" if model.has_key else " (no key: FINAL is an append-only change log)"
            parts.append(f"\n-- {current}{note}")
        parts.append(statement.sql + ";")
    return "\n".join(parts) + "\n"


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
