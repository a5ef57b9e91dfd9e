"""What ``walstream verify`` found: per table, per key range, per key (with its values)."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger("walstream.verify")

MATCH, DIFFERS, BEHIND, SKIPPED = "match", "differs", "behind", "skipped"


@dataclass
class KeyDiff:
    kind: str  # missing | extra | changed
    key: list[Any]
    # column -> {"source": value, "final": value}: the differing columns of a changed key,
    # every column of a missing (source only) or extra (FINAL only) one
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for people: ``changed [7]: name 'a' -> 'b'`` (source -> FINAL)."""
        if self.kind == "changed":
            parts = [
                f"{c} {v.get('source')!r} -> {v.get('final')!r}" for c, v in self.values.items()
            ]
        else:
            side = "source" if self.kind == "missing" else "final"
            parts = [f"{c}={v.get(side)!r}" for c, v in self.values.items()]
        return f"{self.kind} {self.key}" + (f": {', '.join(parts)}" if parts else "")


@dataclass
class RangeReport:
    index: int
    first_key: list[Any]
    last_key: list[Any]
    source_rows: int
    final_rows: int
    source_checksum: str
    final_checksum: str
    differences: list[KeyDiff] = field(default_factory=list)
    # with checksums pushed down (verify --snowflake): the keys whose hash modulo m is r,
    # "r/m", instead of a key range (first_key and last_key then empty)
    bucket: str | None = None


@dataclass
class TableReport:
    table: str
    status: str
    key: list[str] = field(default_factory=list)
    source_rows: int = 0
    final_rows: int = 0
    ranges: int = 0
    differing_ranges: int = 0
    missing: int = 0
    extra: int = 0
    changed: int = 0
    in_flux: int = 0
    first_differences: list[RangeReport] = field(default_factory=list)
    note: str = ""


@dataclass
class VerifyReport:
    snapshot_lsn: str
    status: str
    confirmed_flush_lsn: str | None = None
    pending_changes: int | None = None
    unloaded_files: int | None = None
    tables: list[TableReport] = field(default_factory=list)
    note: str = ""

    @property
    def exit_code(self) -> int:
        return {MATCH: 0, DIFFERS: 1, BEHIND: 2}.get(self.status, 0)

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["exit_code"] = self.exit_code
        return doc


@dataclass(frozen=True)
class VerifyOptions:
    tables: tuple[str, ...] = ()
    publication: str | None = None
    slot: str | None = None
    wait_seconds: float = 0.0
    chunk_rows: int = 10_000
    max_ranges: int = 5
    max_keys_per_range: int = 10


def log_table(report: TableReport) -> None:
    """One ``verify_table`` event per table compared."""
    log.info(
        "event=verify_table table=%s status=%s source_rows=%d final_rows=%d "
        "missing=%d extra=%d changed=%d in_flux=%d",
        report.table,
        report.status,
        report.source_rows,
        report.final_rows,
        report.missing,
        report.extra,
        report.changed,
        report.in_flux,
    )
