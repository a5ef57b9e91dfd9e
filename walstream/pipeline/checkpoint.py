"""``DEST/_walstream/<slot>/checkpoint.json``: what is stored, written before each ack.

It is the consumer's account of its progress for ``walstream status`` and for humans; the slot,
not this file, decides where a restart resumes, so a stale or missing checkpoint is harmless.

Each table entry may also hold a ``snapshot`` section, written by :mod:`walstream.snapshot`:
``state`` (``not_started``, ``loading``, ``loaded``), ``snapshot_lsn``, ``files`` and ``rows``.
A table whose last snapshot is not ``loaded`` is loaded again (with a newer snapshot) by
``walstream run --snapshot initial``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from ..lsn import format_lsn
from ..sink import DurableSink


def checkpoint_key(slot: str) -> str:
    return f"_walstream/{slot}/checkpoint.json"


def _iso_us(ts_us: int) -> str:
    return dt.datetime.fromtimestamp(ts_us / 1_000_000, tz=dt.UTC).isoformat()


@dataclass
class Checkpoint:
    slot: str
    acked_lsn: int = 0
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: end of the last flush manifest written (walstream.pipeline.manifest): the next one's start
    manifest_end_lsn: int | None = None

    def record_file(
        self,
        qualified_table: str,
        key: str,
        first_lsn: int,
        last_lsn: int,
        rows: int,
        last_commit_ts_us: int,
    ) -> None:
        entry = self.tables.setdefault(qualified_table, {"files": 0, "rows": 0})
        entry.update(
            last_file=key,
            first_lsn=format_lsn(first_lsn),
            last_lsn=format_lsn(last_lsn),
            last_file_rows=rows,
            last_commit_time=_iso_us(last_commit_ts_us),
        )
        entry["files"] += 1
        entry["rows"] += rows

    def snapshot_state(self, qualified_table: str) -> dict[str, Any] | None:
        """The table's ``snapshot`` section, or None if it was never snapshotted."""
        section = self.tables.get(qualified_table, {}).get("snapshot")
        return dict(section) if isinstance(section, dict) else None

    def snapshot_positions(self) -> list[tuple[str, int]]:
        """(table, snapshot LSN) of every table whose full load started or finished: the loads a
        new chain of manifests names (walstream.pipeline.manifest)."""
        from ..lsn import parse_lsn

        out = []
        for table in sorted(self.tables):
            section = self.snapshot_state(table)
            if section and section.get("state") in ("loading", "loaded"):
                out.append((table, parse_lsn(str(section["snapshot_lsn"]))))
        return out

    def record_snapshot(
        self, qualified_table: str, state: str, snapshot_lsn: int, files: int, rows: int
    ) -> None:
        """Set the table's ``snapshot`` section (state: not_started, loading or loaded)."""
        entry = self.tables.setdefault(qualified_table, {"files": 0, "rows": 0})
        entry["snapshot"] = {
            "state": state,
            "snapshot_lsn": format_lsn(snapshot_lsn),
            "files": files,
            "rows": rows,
            "updated_at": dt.datetime.now(dt.UTC).isoformat(),
        }

    def to_json(self) -> bytes:
        doc = {
            "version": 1,
            "slot": self.slot,
            "acked_lsn": format_lsn(self.acked_lsn),
            "written_at": dt.datetime.now(dt.UTC).isoformat(),
            "tables": self.tables,
        }
        if self.manifest_end_lsn is not None:
            doc["manifest_end_lsn"] = format_lsn(self.manifest_end_lsn)
        return json.dumps(doc, indent=2, sort_keys=True).encode()

    def write(self, sink: DurableSink) -> None:
        sink.put(checkpoint_key(self.slot), self.to_json())

    @classmethod
    def load(cls, sink: DurableSink, slot: str) -> Checkpoint:
        """The stored checkpoint, or an empty one (per-table counters continue across runs)."""
        raw = sink.get(checkpoint_key(slot))
        if raw is None:
            return cls(slot)
        try:
            doc = json.loads(raw)
            from ..lsn import parse_lsn

            end = doc.get("manifest_end_lsn")
            return cls(
                slot,
                parse_lsn(doc["acked_lsn"]),
                dict(doc.get("tables", {})),
                None if end is None else parse_lsn(end),
            )
        except (ValueError, KeyError, TypeError):
            return cls(slot)
