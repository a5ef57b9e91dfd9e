"""A full load's plan and its done chunks, on DEST: what lets many workers share one load and a
killed worker lose only the chunk it held.

The coordinator (:mod:`.load`) writes the plan once it holds the exported snapshot and has split
the tables: the snapshot's name and identity, the LSN and time every row gets, the coordinator's
block and file sizes (a ``--join`` worker sizes its own from its ``--memory-budget``),
and every table's chunks in order (a chunk's *ordinal* is its place in that order, over all
tables). Each worker, wherever it runs (a thread of the coordinator, ``walstream snapshot
--join`` on another machine), reads the plan, imports the snapshot, claims chunks
(:mod:`.claims`) and, once a chunk's files are durable, writes its done record, which lists
them. The coordinator merges the done records into each table's load manifest.

Why this is exact after any crash:

- A chunk's files have names fixed by the plan (:mod:`.writer`: the chunk index and a part
  number) and rows with positions fixed by their heap block, so reading a chunk again writes the
  same names with the same rows (and the same cuts, with the same sizes); a file left by a
  worker killed mid-chunk is rewritten, or holds rows that a complete copy of the chunk also
  holds at the same positions, which the MERGE treats as one row (as it does a file Snowpipe
  loads twice; every loaded table has a key).
- A done record is written only after every file it lists is durable, and a chunk is read only
  by the worker holding its claim, which re-checks the record after claiming.
- Every reader checks the snapshot it imported is the plan's (:attr:`LoadPlan.identity`, the
  xmin/xmax/xip of ``pg_current_snapshot()``): a snapshot name reused by a later transaction
  never passes, so no load ever mixes two snapshots. When the coordinator is gone, so is its
  snapshot, and what was not loaded is loaded again, whole, from a new one.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..convert.choices import TypeChoices
from ..errors import SinkError
from ..layout import snapshot_done_key, snapshot_done_prefix, snapshot_plan_key
from ..lsn import format_lsn, parse_lsn
from ..sink import DurableSink
from .tables import Chunk, Partition

VERSION = 1


def whoami() -> str:
    """``host:pid``: which process planned a load or did a chunk, for the messages."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class PlanTable:
    namespace: str
    relname: str
    chunks: tuple[Chunk, ...]
    first_ordinal: int  # the ordinal of its chunk 0

    @property
    def name(self) -> str:
        """``schema.table``, as the checkpoint and manifests name it."""
        return f"{self.namespace}.{self.relname}"

    @property
    def blocks(self) -> int:
        return sum(c.blocks for c in self.chunks)


@dataclass(frozen=True)
class LoadPlan:
    """One snapshot's load as its workers need it; see the module docstring."""

    slot: str
    publication: str
    snapshot_name: str
    identity: str  # pg_current_snapshot() inside the snapshot
    consistent_point: int
    snapshot_lsn: int
    snapshot_ts_us: int
    block_bytes: int
    file_bytes: int
    as_text: tuple[str, ...]
    on_lossy: str
    tables: tuple[PlanTable, ...]
    planned_by: str = field(default_factory=whoami)
    planned_at: float = field(default_factory=time.time)
    finished: bool = False

    @property
    def choices(self) -> TypeChoices:
        return TypeChoices.parse(self.as_text, self.on_lossy)

    @property
    def chunk_count(self) -> int:
        return sum(len(t.chunks) for t in self.tables)

    def chunks(self) -> Iterator[tuple[int, PlanTable, Chunk]]:
        """(ordinal, table, chunk) of every chunk, in plan order."""
        for table in self.tables:
            for chunk in table.chunks:
                yield table.first_ordinal + chunk.index, table, chunk

    def chunk_at(self, ordinal: int) -> tuple[PlanTable, Chunk]:
        """The table and chunk of ``ordinal``: one lookup, a plan may have 10^5 chunks."""
        return self._by_ordinal[ordinal]

    def table(self, name: str) -> PlanTable:
        return self._by_name[name]

    @cached_property
    def _by_ordinal(self) -> dict[int, tuple[PlanTable, Chunk]]:
        return {ordinal: (table, chunk) for ordinal, table, chunk in self.chunks()}

    @cached_property
    def _by_name(self) -> dict[str, PlanTable]:
        return {t.name: t for t in self.tables}

    def describe(self) -> str:
        """For messages: which load this is."""
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.planned_at))
        return (
            f"the load of snapshot {self.snapshot_name!r} (snapshot LSN "
            f"{format_lsn(self.snapshot_lsn)}, planned by {self.planned_by} at {when})"
        )

    # -- on DEST -----------------------------------------------------------------------------
    def to_json(self) -> bytes:
        doc: dict[str, Any] = {
            "version": VERSION,
            "slot": self.slot,
            "publication": self.publication,
            "snapshot_name": self.snapshot_name,
            "identity": self.identity,
            "consistent_point": format_lsn(self.consistent_point),
            "snapshot_lsn": format_lsn(self.snapshot_lsn),
            "snapshot_ts_us": self.snapshot_ts_us,
            "block_bytes": self.block_bytes,
            "file_bytes": self.file_bytes,
            "as_text": list(self.as_text),
            "on_lossy": self.on_lossy,
            "planned_by": self.planned_by,
            "planned_at": self.planned_at,
            "finished": self.finished,
            "tables": [
                {
                    "namespace": t.namespace,
                    "name": t.relname,
                    "chunks": [_chunk_doc(c) for c in t.chunks],
                }
                for t in self.tables
            ],
        }
        return json.dumps(doc, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> LoadPlan:
        fix = "if no load is running for this slot, delete it and start the load again"
        with _readable(f"the snapshot plan {where}", fix):
            doc = json.loads(data)
            if doc.get("version") != VERSION:
                raise ValueError(f"version {doc.get('version')!r}, expected {VERSION}")
            tables: list[PlanTable] = []
            ordinal = 0
            for t in doc["tables"]:
                chunks = tuple(_chunk_of(i, c) for i, c in enumerate(t["chunks"]))
                tables.append(PlanTable(str(t["namespace"]), str(t["name"]), chunks, ordinal))
                ordinal += len(chunks)
            return cls(
                slot=str(doc["slot"]),
                publication=str(doc["publication"]),
                snapshot_name=str(doc["snapshot_name"]),
                identity=str(doc["identity"]),
                consistent_point=parse_lsn(doc["consistent_point"]),
                snapshot_lsn=parse_lsn(doc["snapshot_lsn"]),
                snapshot_ts_us=int(doc["snapshot_ts_us"]),
                block_bytes=int(doc["block_bytes"]),
                file_bytes=int(doc["file_bytes"]),
                as_text=tuple(str(a) for a in doc["as_text"]),
                on_lossy=str(doc["on_lossy"]),
                tables=tuple(tables),
                planned_by=str(doc["planned_by"]),
                planned_at=float(doc["planned_at"]),
                finished=bool(doc["finished"]),
            )

    def write(self, sink: DurableSink) -> None:
        sink.put(snapshot_plan_key(self.slot), self.to_json())

    @property
    def done_prefix(self) -> str:
        return snapshot_done_prefix(self.slot, self.snapshot_lsn)

    def done_ordinals(self, sink: DurableSink) -> set[int]:
        """The ordinals of the chunks with a done record (one listing)."""
        prefix = self.done_prefix
        out: set[int] = set()
        for key in sink.list(prefix):
            try:
                out.add(int(key[len(prefix) :].removesuffix(".json"), 16))
            except ValueError:
                continue
        return out

    def done(self, sink: DurableSink, known: dict[int, ChunkDone]) -> dict[int, ChunkDone]:
        """The done records not in ``known``, by ordinal (each read once)."""
        out: dict[int, ChunkDone] = {}
        for ordinal in sorted(self.done_ordinals(sink) - set(known)):
            key = snapshot_done_key(self.slot, self.snapshot_lsn, ordinal)
            data = sink.get(key)
            if data is not None:
                out[ordinal] = ChunkDone.from_json(data, sink.describe(key))
        return out

    def is_done(self, sink: DurableSink, ordinal: int) -> bool:
        return sink.get(snapshot_done_key(self.slot, self.snapshot_lsn, ordinal)) is not None


def read_plan(sink: DurableSink, slot: str) -> LoadPlan | None:
    """The slot's current plan, or None when no load was ever planned on this DEST."""
    key = snapshot_plan_key(slot)
    data = sink.get(key)
    return None if data is None else LoadPlan.from_json(data, sink.describe(key))


@dataclass(frozen=True)
class ChunkDone:
    """A chunk whose files are all durable: what they are, and who read it."""

    table: str
    chunk: int
    rows: int
    nbytes: int  # COPY bytes read
    files: tuple[tuple[str, int], ...]  # (key, rows)
    worker: str = field(default_factory=whoami)
    seconds: float = 0.0

    def write(self, sink: DurableSink, plan: LoadPlan, ordinal: int) -> None:
        doc = {
            "table": self.table,
            "chunk": self.chunk,
            "rows": self.rows,
            "bytes": self.nbytes,
            "files": [list(f) for f in self.files],
            "worker": self.worker,
            "seconds": round(self.seconds, 3),
        }
        sink.put(snapshot_done_key(plan.slot, plan.snapshot_lsn, ordinal), json.dumps(doc).encode())

    @classmethod
    def from_json(cls, data: bytes, where: str) -> ChunkDone:
        with _readable(f"the chunk record {where}", "delete it so that the chunk is read again"):
            doc = json.loads(data)
            return cls(
                table=str(doc["table"]),
                chunk=int(doc["chunk"]),
                rows=int(doc["rows"]),
                nbytes=int(doc["bytes"]),
                files=tuple((str(k), int(r)) for k, r in doc["files"]),
                worker=str(doc["worker"]),
                seconds=float(doc["seconds"]),
            )


@contextmanager
def _readable(what: str, fix: str) -> Iterator[None]:
    """A JSON document that does not parse as expected is a SinkError naming it and the fix."""
    try:
        yield
    except (ValueError, KeyError, TypeError) as exc:
        raise SinkError(f"{what} is unreadable ({exc}); {fix}") from None


def _chunk_doc(chunk: Chunk) -> list[Any]:
    part = chunk.partition
    where = None
    if part is not None:
        where = [part.namespace, part.name, part.relkind, part.blocks, part.nbytes, part.ordinal]
    return [chunk.first_block, chunk.end_block, chunk.blocks, where]


def _chunk_of(index: int, doc: list[Any]) -> Chunk:
    first, end, blocks, where = doc
    part = None
    if where is not None:
        ns, name, kind, pblocks, pbytes, ordinal = where
        part = Partition(str(ns), str(name), str(kind), int(pblocks), int(pbytes), int(ordinal))
    return Chunk(index, int(first), None if end is None else int(end), int(blocks), part)
