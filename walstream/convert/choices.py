"""The user's choices for values the files cannot hold exactly (DESIGN.md §4, guarantee 7).

Two settings, given to ``walstream run`` (flags, ``WALSTREAM_*`` variables, TOML), to
``walstream snapshot`` and to the Snowflake commands so that every side types a column alike:

- ``--as-text SPEC`` (repeatable, or comma-separated): type these columns as PostgreSQL's text
  output (the lossless choice, like Debezium's ``decimal.handling.mode=string`` or a DMS
  type-override rule). ``SPEC`` is ``schema.table.column`` (``*`` and ``?`` match as in shell
  patterns, so ``public.orders.*`` is every column of a table) or a kind:

  ============ ==================================================================
  ``numeric``  constrained numeric(p,s) columns (NaN stays ``NaN``)
  ``temporal`` date, time, timestamp, timestamptz (infinity, BC, year 10000+)
  ``array``    every array column (dimensions and lower bounds kept: ``[0:1]={1,2}``)
  ``json``     json columns (duplicate object keys kept; VARCHAR instead of VARIANT)
  ============ ==================================================================

  Arrays of a numeric or temporal type count as that kind too. The column is then a string in
  the files and VARCHAR in Snowflake; the choice is recorded per column in the files' relation
  metadata, so changing it for a live table cuts files and evolves the Snowflake side like any
  other schema change.

- ``--on-lossy mark|fail``: ``mark`` (default) stores the nearest value and names the column in
  ``_walstream_lossy``; ``fail`` stops with exit 5 before the value is stored or acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ..errors import ConfigError
from .catalog import PG_CATALOG, PgType
from .context import ON_LOSSY_CHOICES

_TEMPORAL = frozenset({"date", "time", "timestamp", "timestamptz"})
AS_TEXT_KINDS = ("numeric", "temporal", "array", "json")


def _kind_of(pg_type: PgType) -> set[str]:
    """The ``--as-text`` kinds a column of ``pg_type`` belongs to."""
    t = pg_type.base
    kinds = set()
    if t.kind == "array":
        kinds.add("array")
        if t.element is None:
            return kinds
        t = t.element.base
    if t.kind == "base" and t.namespace == PG_CATALOG:
        if t.name == "numeric" and t.typmod >= 4:
            kinds.add("numeric")
        elif t.name in _TEMPORAL:
            kinds.add("temporal")
        elif t.name == "json":
            kinds.add("json")
    return kinds


@dataclass(frozen=True, slots=True)
class TypeChoices:
    """Which columns are typed as text, and what a lossy value does; see the module docstring."""

    kinds: frozenset[str] = frozenset()
    columns: tuple[str, ...] = ()  # schema.table.column patterns
    on_lossy: str = "mark"

    @classmethod
    def parse(cls, as_text: Iterable[str] = (), on_lossy: str = "mark") -> TypeChoices:
        """From the settings' values; a bad one is a ConfigError naming it and the forms."""
        if on_lossy not in ON_LOSSY_CHOICES:
            raise ConfigError(
                f"--on-lossy {on_lossy!r}: expected one of {', '.join(ON_LOSSY_CHOICES)}"
            )
        kinds: set[str] = set()
        columns: list[str] = []
        for item in as_text:
            for spec in (s.strip() for s in str(item).split(",")):
                if not spec:
                    continue
                if spec in AS_TEXT_KINDS:
                    kinds.add(spec)
                elif spec.count(".") >= 2 and all(spec.split(".")):
                    columns.append(spec)
                else:
                    raise ConfigError(
                        f"--as-text {spec!r}: expected schema.table.column (shell patterns "
                        f"allowed, e.g. public.orders.*) or a kind ({', '.join(AS_TEXT_KINDS)})"
                    )
        return cls(frozenset(kinds), tuple(columns), on_lossy)

    def as_text(self, namespace: str, table: str, column: str, pg_type: PgType) -> bool:
        """True when this column is typed as PostgreSQL's text output."""
        if self.kinds & _kind_of(pg_type):
            return True
        name = f"{namespace}.{table}.{column}"
        return any(fnmatchcase(name, pattern) for pattern in self.columns)

    def describe(self) -> str:
        """For logs: what ``--as-text`` chose (``-``: nothing)."""
        return ",".join(sorted(self.kinds) + list(self.columns)) or "-"


DEFAULT_CHOICES = TypeChoices()
