"""``DEST/_walstream/<slot>/checkpoint.json``: what is stored, written before each ack.

It is the consumer's account of its progress for ``walstream status`` and for humans; the slot,
not this file, decides where a restart resumes. It is also the record that makes a gap loud
(DESIGN.md §1 guarantee 8): walstream confirms nothing to the slot that the checkpoint does not
record as stored, idle positions included (version 2), so a slot found ahead of the record at
start-up was dropped and recreated, or advanced by hand, and the changes in between were never
stored: :func:`check_continuity` refuses to run (exit 3) unless told to accept the gap. A
checkpoint that cannot be read is kept aside (``checkpoint.json.corrupt-<time>``), reported,
and treated as no record at all, which the same check refuses.

Each table entry may also hold a ``snapshot`` section, written by :mod:`walstream.snapshot`:
``state`` (``not_started``, ``loading``, ``loaded``), ``snapshot_lsn``, ``files`` and ``rows``.
A table whose last snapshot is not ``loaded`` is loaded again (with a newer snapshot) by
``walstream run --snapshot initial``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError
from ..layout import checkpoint_key
from ..lsn import format_lsn, parse_lsn
from ..sink import DurableSink

log = logging.getLogger("walstream.checkpoint")

#: Version 2: every position confirmed to the slot was recorded here first (idle ones too).
VERSION = 2


def _iso_us(ts_us: int) -> str:
    return dt.datetime.fromtimestamp(ts_us / 1_000_000, tz=dt.UTC).isoformat()


@dataclass
class Checkpoint:
    slot: str
    acked_lsn: int = 0
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: end of the last flush manifest written (walstream.pipeline.manifest): the next one's start
    manifest_end_lsn: int | None = None
    #: how the stored checkpoint was found: ``new`` (none stored), ``ok``, ``corrupt``
    found: str = "new"
    #: the stored checkpoint's version (2: it records every confirmed position)
    version: int = VERSION

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
            "version": VERSION,
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
    def parse(cls, raw: bytes, slot: str) -> Checkpoint:
        """A stored checkpoint's bytes (no side effects); ValueError when they are not one."""
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("slot", slot) != slot:
                raise ValueError("not this slot's checkpoint")
            tables = doc.get("tables", {})
            if not isinstance(tables, dict):
                raise ValueError("tables is not an object")
            end = doc.get("manifest_end_lsn")
            return cls(
                slot,
                parse_lsn(str(doc["acked_lsn"])),
                dict(tables),
                None if end is None else parse_lsn(str(end)),
                found="ok",
                version=int(doc.get("version", 1)),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"missing or malformed field: {exc}") from None

    def recorded_lsn(self) -> int | None:
        """How far this record says the slot may be (see :func:`check_continuity`): the acked
        position, or with no stream yet the earliest full load's; None when nothing is
        recorded."""
        if self.found != "ok":
            return None
        if self.acked_lsn:
            return self.acked_lsn
        loads = [lsn + 1 for _, lsn in self.snapshot_positions()]
        return min(loads) if loads else None

    @classmethod
    def load(cls, sink: DurableSink, slot: str) -> Checkpoint:
        """The stored checkpoint (per-table counters continue across runs); an empty one with
        ``found="new"`` when there is none, or ``"corrupt"`` when it cannot be read (the bytes
        are kept aside next to it and the problem logged)."""
        key = checkpoint_key(slot)
        raw = sink.get(key)
        if raw is None:
            return cls(slot)
        try:
            return cls.parse(raw, slot)
        except ValueError as exc:
            aside = f"{key}.corrupt-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}"
            sink.put(aside, raw)
            log.error(
                "event=checkpoint_corrupt key=%s kept_as=%s error=%s",
                sink.describe(key),
                sink.describe(aside),
                " ".join(str(exc).split()) or type(exc).__name__,
            )
            return cls(slot, found="corrupt")


def check_continuity(
    checkpoint: Checkpoint, slot_lsn: int, where: str, accept_gap: bool = False
) -> None:
    """Refuse (SourceError, exit 3) a slot whose confirmed position is past what walstream
    recorded as stored: the changes in between were never stored (module docstring).

    ``where`` names the checkpoint for the message. With ``accept_gap`` the gap is logged and
    accepted. A first run (no checkpoint) has nothing to compare; a version-1 checkpoint did
    not record idle positions, so a slot ahead of it is only warned about.
    """
    if checkpoint.found == "new":
        return
    # with no stream yet, each full load stands for its table up to its snapshot
    recorded = checkpoint.recorded_lsn()
    if checkpoint.found == "ok" and (recorded is None or slot_lsn <= recorded):
        return  # nothing recorded at all (a first run), or no gap
    recorded = recorded or 0
    if checkpoint.found == "corrupt":
        problem = (
            f"the checkpoint {where} could not be read (kept aside, see event=checkpoint_corrupt), "
            f"so nothing shows what was stored before the slot's position {format_lsn(slot_lsn)}"
        )
    else:
        problem = (
            f"slot {checkpoint.slot!r} is at {format_lsn(slot_lsn)} but walstream recorded "
            f"changes as stored only up to {format_lsn(recorded)} ({where}): the changes in "
            "between were never stored (the slot was dropped and recreated, or advanced by hand)"
        )
    if accept_gap:
        log.warning("event=gap_accepted slot=%s problem=%s", checkpoint.slot, problem)
        return
    if checkpoint.found == "ok" and checkpoint.version < VERSION:
        log.warning(
            "event=gap_possible slot=%s problem=%s note=the checkpoint was written by a version "
            "that did not record idle positions; from now on such a gap stops walstream",
            checkpoint.slot,
            problem,
        )
        return
    raise SourceError(
        f"{problem}. Re-load the published tables from a snapshot (walstream snapshot ... "
        "--create-slot with a new slot, see docs/operations.md#slot-lost-or-invalidated), or run "
        "with --accept-gap to go on from the slot's position and leave the gap in FINAL"
    )
