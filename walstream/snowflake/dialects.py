"""The two SQL dialects walstream renders: Snowflake, and DuckDB for the local warehouse.

Everything that differs between the engines lives here (identifier case and quoting, type
names, how to unnest ``_walstream_unchanged``, the spelling of ``IGNORE NULLS``, object names);
the logic that uses them is written once, in :mod:`.ddl` (tables), :mod:`.merge` (the MERGE
run), :mod:`.watermark` (how far a run may merge) and :mod:`.objects` (Snowflake's stage, pipes,
streams, procedures and tasks).
"""

from __future__ import annotations

import re
import textwrap
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import (
    ColumnModel,
    TableModel,
    duckdb_staging_type,
    duckdb_type,
    snowflake_staging_type,
    snowflake_type,
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
    manifest_stream: str = ""  # Snowflake: wakes the task when a manifest arrives
    procedure: str = ""  # Snowflake: the task run (the task only CALLs it)

    def all(self) -> set[str]:
        """Every object name (empty ones, for objects a dialect does not have, left out)."""
        names = (self.final, self.staging, self.stream, self.pipe, self.task)
        helpers = (self.changes, self.tombstones, self.truncates, self.manifest_stream)
        return {n for n in (*names, *helpers, self.procedure) if n}


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
    def list_has(self, names: str, name: str) -> str:
        """True when the name list ``names`` (``_walstream_lossy``) holds ``name``; false when
        it does not or is null."""

    @abstractmethod
    def name_list(self, named: Sequence[tuple[str, str]]) -> str:
        """The list of the names of ``(condition, name)`` whose condition holds, in order;
        null when none does (``_walstream_lossy`` of a FINAL row)."""

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
_LAST_PART = re.compile(r'(?:^|\.)("(?:[^"]|"")*"|[^."]+)$')
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def object_name(name: str) -> str:
    """An account object named by the user (stage, warehouse, ...): bare if it can be, else quoted.

    Bare names follow Snowflake's usual rules (``my_stage`` is ``MY_STAGE``) and may be qualified
    (``db.schema.stage``); anything else is taken literally.
    """
    return name if _BARE_NAME.fullmatch(name) else quote(name)


class SnowflakeDialect(Dialect):
    """Snowflake: simple lower-case source names become upper case, the rest keep their case.

    ``orders.customer_id`` becomes ``"ORDERS"."CUSTOMER_ID"``, which users can write unquoted
    (``orders.customer_id``) as usual in Snowflake; ``"OrderLines"`` or ``"unit price"`` keep
    their exact spelling and must be quoted, as in PostgreSQL. With ``qualifier`` (the quoted
    ``database.schema``, as ``snowflake apply`` knows it) every object name is qualified, so the
    bodies of pipes, procedures and tasks never depend on a session's current schema.
    """

    name = "snowflake"
    declares_primary_key = True
    pending_is_table = False
    position_type = "NUMBER(19,0)"
    commit_ts_type = "TIMESTAMP_TZ(6)"
    text_list_type = "ARRAY"
    boolean_type = "BOOLEAN"
    text_type = "VARCHAR"

    def __init__(self, prefix_schema: bool = False, qualifier: str = "") -> None:
        self.prefix_schema = prefix_schema
        self.qualifier = qualifier

    def object(self, name: str) -> str:
        """The quoted name of one of walstream's objects, qualified when a qualifier is set."""
        return f"{self.qualifier}.{quote(name)}" if self.qualifier else quote(name)

    @staticmethod
    def normalize(name: str) -> str:
        return name.upper() if _SIMPLE_LOWER.fullmatch(name) else name

    def ident(self, name: str) -> str:
        return quote(self.normalize(name))

    def base_name(self, model: TableModel) -> str:
        return self.base_of(model.namespace, model.name)

    def base_of(self, namespace: str, name: str) -> str:
        """The base of the object names of source table ``namespace.name`` (unquoted)."""
        if self.prefix_schema:
            return self.normalize(f"{namespace}_{name}")
        return self.normalize(name)

    def names(self, model: TableModel) -> TableNames:
        return self.names_of(model.namespace, model.name)

    def names_of(self, namespace: str, name: str) -> TableNames:
        """:meth:`names` from the source table's schema and name alone (what the watermark
        table records), for the commands that read a deployment without its files."""
        base = self.base_of(namespace, name)
        q = self.object
        return TableNames(
            final=q(base),
            staging=q(f"STAGING_{base}"),
            stream=q(f"STAGING_{base}_STREAM"),
            pipe=q(f"STAGING_{base}_PIPE"),
            task=q(f"MERGE_{base}"),
            changes=q(f"CHANGES_{base}"),
            tombstones=q(f"TOMBSTONES_{base}"),
            truncates=q(f"TRUNCATES_{base}"),
            manifest_stream=q(f"MANIFESTS_{base}_STREAM"),
            procedure=q(f"MERGE_{base}_RUN"),
        )

    def final_type(self, column: ColumnModel) -> str:
        return snowflake_type(column)

    def staging_type(self, column: ColumnModel) -> str:
        return snowflake_staging_type(column)

    def parse_json(self, expr: str) -> str:
        # 'd': allow duplicate object keys (the last wins), which PostgreSQL's json keeps; the
        # default fails the whole MERGE on such a value. The files mark the row lossy.
        return f"PARSE_JSON({expr}, 'd')"

    def unchanged_names(self, rows: str) -> str:
        return (
            "SELECT n._walstream_ord, u.value::VARCHAR AS _walstream_column\n"
            f"FROM {rows} AS n, LATERAL FLATTEN(INPUT => n._walstream_unchanged) AS u"
        )

    def last_value_ignore_nulls(self, expr: str, window: str) -> str:
        return f"LAST_VALUE({expr}) IGNORE NULLS OVER ({window})"

    def list_has(self, names: str, name: str) -> str:
        return f"COALESCE(ARRAY_CONTAINS({self.literal(name)}::VARIANT, {names}), FALSE)"

    def name_list(self, named: Sequence[tuple[str, str]]) -> str:
        if not named:
            return "CAST(NULL AS ARRAY)"
        items = ", ".join(f"IFF({cond}, {self.literal(name)}, NULL)" for cond, name in named)
        # NULL rather than an empty ARRAY when no condition holds (no ARRAY comparison needed)
        anyone = " OR ".join(f"({cond})" for cond, _ in named)
        return f"CASE WHEN {anyone} THEN ARRAY_CONSTRUCT_COMPACT({items}) END"

    def literal(self, text: str) -> str:
        # Snowflake string literals treat the backslash as an escape character
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    def reported_name(self, name: str) -> str:
        last = _LAST_PART.search(name)  # SHOW ... IN SCHEMA reports names unqualified
        name = last.group(1) if last else name
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
        return quote(name)

    def names(self, model: TableModel) -> TableNames:
        schema = quote(model.namespace)

        def q(name: str) -> str:
            return f"{schema}.{quote(name)}"

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

    def list_has(self, names: str, name: str) -> str:
        return f"COALESCE(list_contains({names}, {self.literal(name)}), FALSE)"

    def name_list(self, named: Sequence[tuple[str, str]]) -> str:
        if not named:
            return "CAST(NULL AS VARCHAR[])"
        items = ", ".join(f"CASE WHEN {cond} THEN {self.literal(name)} END" for cond, name in named)
        # a list comprehension: DuckDB's lambda syntax changed between versions, this did not
        return f"NULLIF([x FOR x IN [{items}] IF x IS NOT NULL], [])"

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


# -- small SQL text builders ----------------------------------------------------------------------
def join_lines(items: Iterable[str], sep: str = ",") -> str:
    items = list(items)
    return "\n".join(item + (sep if i < len(items) - 1 else "") for i, item in enumerate(items))


def indent(text: str, spaces: int = 4) -> str:
    return textwrap.indent(text, " " * spaces)
