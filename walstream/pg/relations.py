"""The relation cache: pgoutput Relation messages turned into table schemas with converters.

pgoutput sends a Relation message before the first change of a table in a session and again
whenever the table's definition changes. It names columns and type OIDs but not the primary key
(under REPLICA IDENTITY FULL every column is flagged as identity) nor the names of non-built-in
types, so both come from the catalog through an ordinary SQL connection, looked up once per
Relation message (rare) and never per change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..convert import ColumnConverter, PgType, builtin_type, converter_for
from ..convert.choices import DEFAULT_CHOICES, TypeChoices
from ..errors import SourceError
from ..schema import ColumnSchema, TableSchema
from .pgoutput import Relation, TypeInfo

PrimaryKeyLookup = Callable[[int], Sequence[str] | None]
TypeLookup = Callable[[int, int], PgType]


@dataclass(frozen=True, slots=True)
class CachedRelation:
    table: TableSchema
    converters: tuple[ColumnConverter, ...]
    key_indexes: tuple[int, ...]


class RelationCache:
    """Relation OID -> the table's current schema and column converters."""

    def __init__(
        self,
        primary_key: PrimaryKeyLookup,
        resolve_type: TypeLookup,
        choices: TypeChoices = DEFAULT_CHOICES,
    ) -> None:
        self._primary_key = primary_key
        self._resolve_type = resolve_type
        self._choices = choices
        self._relations: dict[int, CachedRelation] = {}
        self._type_names: dict[int, str] = {}

    def __getitem__(self, oid: int) -> CachedRelation:
        try:
            return self._relations[oid]
        except KeyError:
            raise SourceError(
                f"change for relation OID {oid} arrived before its Relation message"
            ) from None

    def note_type(self, msg: TypeInfo) -> None:
        self._type_names[msg.oid] = f"{msg.namespace}.{msg.name}"

    def update(self, msg: Relation) -> CachedRelation:
        pk = self._primary_key(msg.oid)
        if pk:
            keys = set(pk)
        elif msg.replica_identity in ("d", "i"):
            # no primary key: the identity index is the best key we have
            keys = {c.name for c in msg.columns if c.flags & 1}
        else:
            keys = set()  # FULL or NOTHING without a primary key: append-only downstream
        columns = []
        converters = []
        for col in msg.columns:
            pg_type = builtin_type(col.type_oid, col.typmod) or self._resolve_type(
                col.type_oid, col.typmod
            )
            as_text = self._choices.as_text(msg.namespace, msg.name, col.name, pg_type)
            columns.append(
                ColumnSchema(
                    col.name, col.type_oid, pg_type.name, col.typmod, col.name in keys, as_text
                )
            )
            converters.append(
                converter_for(pg_type, col.name, as_text=as_text, on_lossy=self._choices.on_lossy)
            )
        table = TableSchema(
            oid=msg.oid,
            namespace=msg.namespace,
            name=msg.name,
            columns=tuple(columns),
            replica_identity=msg.replica_identity,
        )
        previous = self._relations.get(msg.oid)
        if previous is not None and previous.table == table:
            return previous  # resent unchanged (e.g. new session, TRUNCATE): same batch goes on
        key_indexes = tuple(i for i, c in enumerate(columns) if c.is_key)
        cached = CachedRelation(table, tuple(converters), key_indexes)
        self._relations[msg.oid] = cached
        return cached
