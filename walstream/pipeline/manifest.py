"""Flush and load manifests: what a warehouse needs to merge exactly, whatever Snowpipe does.

Snowpipe loads files in any order, late, and again under new names (DESIGN.md §1 guarantee 6).
A warehouse that merged whatever had arrived could show a state the source never had, so after
a flush's files are stored and before its ack, walstream writes a *manifest* of the flush:

- its interval ``(start_lsn, end_lsn]``: every change of a published table whose commit LSN
  lies in it is in one of the files listed (a transaction's rows carry its commit LSN, which is
  after the previous transaction's end LSN and before its own; ``end_lsn`` is the end LSN of
  the last whole transaction, the position the flush acknowledges);
- per file: its table, its key and its row count, so a warehouse can tell that the file has
  arrived whole.

A warehouse merges a table only up to the highest LSN to which a chain of manifests, each with
all of the table's files loaded, reaches without a gap (its *merged watermark*); later rows wait
staged. Consecutive manifests of one process chain by construction (each starts where the one
before ended). A restart starts at the last manifest's end recorded in the checkpoint; with no
checkpoint the first manifest is an *origin*: nothing of the slot comes before it. After a crash
the replayed range is covered again by new manifests whose intervals overlap older ones; the
positions repeat with the same content, so either copy completes the chain.

A file whose rows go past ``end_lsn`` (the first part of a transaction cut across flushes) is
listed again in the next manifest, which covers the rest of that transaction.

A full load writes a ``load`` manifest per table when all its files are stored: the table's
``LOAD`` files (and its ``T`` marker) at the snapshot position. A load that ``walstream run
--snapshot initial`` makes before it streams is also the origin of the chain.

The first manifest of a chain (the origin) also names the full loads the checkpoint knows of
(``loads``: table and snapshot position): Snowpipe may deliver a load's own manifest after the
stream's, and a table whose initial load has not arrived must not be merged past it (its
unchanged TOAST values would have nothing to come from). The warehouse holds such a table before
the load, and says it waits for the load's manifest.

Manifests live under ``DEST/_walstream/<slot>/manifests/``, outside every table's pipe prefix.
Their keys are unique per content (a digest of the body is part of the name), because Snowpipe
skips a name it has loaded before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..layout import manifest_key
from ..sink import DurableSink

MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class ManifestFile:
    """One file a manifest lists: its table (``schema.table``), key, rows and last commit LSN."""

    table: str
    key: str
    rows: int
    last_lsn: int = 0


@dataclass(frozen=True, slots=True)
class LoadRef:
    """A full load an origin manifest names: its table (``schema.table``) and snapshot LSN."""

    table: str
    lsn: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """One manifest: ``kind`` is ``flush`` or ``load``; see the module docstring."""

    slot: str
    kind: str
    start_lsn: int
    end_lsn: int
    origin: bool
    files: tuple[ManifestFile, ...]
    loads: tuple[LoadRef, ...] = ()
    #: commit time (Unix microseconds) of the last transaction at or before ``end_lsn``: the
    #: source's time FINAL reaches when its watermark gets here (FINAL freshness); 0 unknown
    end_time_us: int = 0

    def body(self) -> bytes:
        doc = {
            "version": MANIFEST_VERSION,
            "slot": self.slot,
            "kind": self.kind,
            "origin": self.origin,
            "start_lsn": self.start_lsn,
            "end_lsn": self.end_lsn,
            "files": [{"table": f.table, "key": f.key, "rows": f.rows} for f in self.files],
        }
        if self.loads:
            doc["loads"] = [{"table": ld.table, "lsn": ld.lsn} for ld in self.loads]
        if self.end_time_us:
            doc["end_time_us"] = self.end_time_us
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()

    @property
    def key(self) -> str:
        """``_walstream/<slot>/manifests/<end:016X>-<start:016X>-<kind>-<digest>.json``."""
        digest = hashlib.sha256(self.body()).hexdigest()[:16]
        return manifest_key(self.slot, self.end_lsn, self.start_lsn, self.kind, digest)

    def write(self, sink: DurableSink) -> str:
        key = self.key
        sink.put(key, self.body())
        return key


def parse_manifest(data: bytes) -> Manifest:
    """A stored manifest; ``ValueError`` when it is not one."""
    try:
        doc = json.loads(data)
        files = tuple(
            ManifestFile(str(f["table"]), str(f["key"]), int(f["rows"])) for f in doc["files"]
        )
        loads = tuple(LoadRef(str(ld["table"]), int(ld["lsn"])) for ld in doc.get("loads", ()))
        return Manifest(
            str(doc["slot"]),
            str(doc["kind"]),
            int(doc["start_lsn"]),
            int(doc["end_lsn"]),
            bool(doc["origin"]),
            files,
            loads,
            int(doc.get("end_time_us") or 0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a walstream manifest: {exc}") from None


@dataclass
class ManifestChain:
    """The flusher's side: the next manifest's start, and files carried over to it."""

    slot: str
    start_lsn: int
    origin: bool
    carried: list[ManifestFile] = field(default_factory=list)
    loads: tuple[LoadRef, ...] = ()  # named by the origin manifest
    end_time_us: int = 0  # the latest commit time seen since the last manifest

    def next_manifest(
        self, end_lsn: int, files: Iterable[ManifestFile], end_time_us: int = 0
    ) -> Manifest | None:
        """The manifest of a flush that acknowledges ``end_lsn`` and stored ``files`` (the
        latest commit time among them: ``end_time_us``); None when the flush completed no
        transaction (its files wait for the next manifest)."""
        listed = [*self.carried, *files]
        self.end_time_us = max(self.end_time_us, end_time_us)
        if end_lsn <= self.start_lsn:
            self.carried = listed
            return None
        manifest = Manifest(
            self.slot,
            "flush",
            self.start_lsn,
            end_lsn,
            self.origin,
            tuple(_unique(listed)),
            self.loads if self.origin else (),
            self.end_time_us,
        )
        self.end_time_us = 0
        self.carried = [f for f in listed if f.last_lsn > end_lsn]
        self.start_lsn = end_lsn
        self.origin = False
        return manifest


def load_manifest(
    slot: str, snapshot_lsn: int, files: Sequence[ManifestFile], *, origin: bool, end_lsn: int = 0
) -> Manifest:
    """The manifest of a full load: its rows sit at ``snapshot_lsn`` (``end_lsn``: where the
    stream starts, for the load that is the origin of the chain)."""
    # up to the consistent point (snapshot_lsn + 1), where the stream's chain starts: no
    # transaction with rows commits exactly there (its row records come before its commit)
    return Manifest(
        slot,
        "load",
        snapshot_lsn - 1,
        max(end_lsn, snapshot_lsn + 1),
        origin,
        tuple(_unique(files)),
    )


def _unique(files: Iterable[ManifestFile]) -> list[ManifestFile]:
    seen: dict[str, ManifestFile] = {}
    for f in files:
        seen.setdefault(f.key, f)
    return list(seen.values())
