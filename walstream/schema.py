"""The table schema model: one description of a source table that every stage shares.

Built from pgoutput Relation messages (plus the catalog for primary keys and type names),
stored in each Parquet file's metadata, and read back by the warehouse side to generate SQL.
It knows nothing about PostgreSQL connections or Arrow conversion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

METADATA_KEY = b"walstream.relation"


@dataclass(frozen=True, slots=True)
class ColumnSchema:
    name: str
    type_oid: int
    type_name: str
    typmod: int
    is_key: bool
    # typed as PostgreSQL's text output by the user's choice (--as-text, DESIGN.md §4): a
    # string in the files whatever the type, so changing it changes the table's shape
    as_text: bool = False


@dataclass(frozen=True, slots=True)
class TableSchema:
    """A published table at one point of its history (a Relation message starts a new one)."""

    oid: int
    namespace: str
    name: str
    columns: tuple[ColumnSchema, ...]
    replica_identity: str  # 'd' default, 'n' nothing, 'f' full, 'i' index

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.is_key)

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    def same_shape(self, other: TableSchema) -> bool:
        """True when files of both can share one Arrow schema (and so one batch)."""
        return (
            self.namespace == other.namespace
            and self.name == other.name
            and self.columns == other.columns
            and self.replica_identity == other.replica_identity
        )

    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "oid": self.oid,
            "schema": self.namespace,
            "table": self.name,
            "replica_identity": self.replica_identity,
            "key_columns": list(self.key_columns),
            "columns": [
                {
                    "name": c.name,
                    "type_oid": c.type_oid,
                    "type": c.type_name,
                    "typmod": c.typmod,
                    "key": c.is_key,
                    **({"as_text": True} if c.as_text else {}),
                }
                for c in self.columns
            ],
        }
        return json.dumps(doc, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> TableSchema:
        doc = json.loads(text)
        return cls(
            oid=int(doc["oid"]),
            namespace=doc["schema"],
            name=doc["table"],
            replica_identity=doc["replica_identity"],
            columns=tuple(
                ColumnSchema(
                    c["name"],
                    int(c["type_oid"]),
                    c["type"],
                    int(c["typmod"]),
                    c["key"],
                    bool(c.get("as_text", False)),
                )
                for c in doc["columns"]
            ),
        )
