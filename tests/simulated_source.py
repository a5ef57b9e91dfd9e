"""A simulated source table that emits change rows exactly as walstream writes them (DESIGN §2).

The warehouse tests use it to produce many random histories in milliseconds: inserts, updates
of key and non-key columns, deletes, re-inserts, truncates, several changes of one key in one
transaction, and large values that later updates leave unchanged (listed in
``_walstream_unchanged`` and null in the row, as PostgreSQL sends unchanged TOAST). The table's
true state is kept alongside, so FINAL can be compared with it. Files are written the way the
pipeline cuts them (whole transactions, named by their LSN range), or overlapping, as a replay
after a crash does.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote

import pyarrow as pa

from walstream.capture.batch import META_COLUMNS
from walstream.layout import change_file_key, load_file_key
from walstream.pipeline.manifest import LoadRef, Manifest, ManifestFile, load_manifest
from walstream.pipeline.parquet import decode_parquet, encode_parquet
from walstream.schema import METADATA_KEY, ColumnSchema, TableSchema
from walstream.sink import DurableSink

TOAST_THRESHOLD = 100  # values at least this long are "stored out of line"
EPOCH_US = 1_700_000_000_000_000


@dataclass
class SimTable:
    """One table: key ``id``, a short text, a number, and two TOAST-able columns."""

    name: str = "sim"
    keyless: bool = False
    toast: bool = True  # False: updates always send every column
    keys: int = 40  # key space: small means many changes per key
    rng: random.Random = field(default_factory=random.Random)
    state: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def schema(self) -> TableSchema:
        return TableSchema(
            oid=16384,
            namespace="public",
            name=self.name,
            replica_identity="f" if self.keyless else "d",
            columns=(
                ColumnSchema("id", 23, "int4", -1, not self.keyless),
                ColumnSchema("label", 25, "text", -1, False),
                ColumnSchema("n", 20, "int8", -1, False),
                ColumnSchema("big", 25, "text", -1, False),
                ColumnSchema("doc", 3802, "jsonb", -1, False),
            ),
        )

    arrow_types: ClassVar[dict[str, pa.DataType]] = {
        "id": pa.int32(),
        "label": pa.string(),
        "n": pa.int64(),
        "big": pa.string(),
        "doc": pa.string(),
    }

    def random_values(self) -> dict[str, Any]:
        r = self.rng
        big = None if r.random() < 0.15 else _text(r, r.choice([5, 300]))
        doc = None if r.random() < 0.15 else json.dumps({"k": _text(r, r.choice([3, 200]))})
        label = None if r.random() < 0.1 else _text(r, 6)
        return {"label": label, "n": r.randint(-(10**12), 10**12), "big": big, "doc": doc}


@dataclass
class Change:
    op: str
    values: dict[str, Any]
    unchanged: list[str] | None = None
    key_change: bool | None = None  # true on both rows of an UPDATE that changed the key


class SimSource:
    """Transactions over several SimTables; every change gets its (lsn, seq)."""

    def __init__(self, seed: int, tables: list[SimTable]) -> None:
        self.rng = random.Random(seed)
        self.tables = {t.name: t for t in tables}
        for t in tables:
            t.rng = self.rng
        self.lsn = 0x1000000
        self.rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in tables}
        self.txns: list[int] = []  # commit LSNs in order
        self.manifests = True  # write a flush manifest with every file, as walstream does
        # per table, its state after each transaction: (commit LSN, rows by key)
        self.history: dict[str, list[tuple[int, dict[int, dict[str, Any]]]]] = {
            t.name: [] for t in tables
        }

    def transaction(self, changes: int) -> None:
        """One random transaction of about ``changes`` changes across the tables."""
        self.lsn += self.rng.randint(0x40, 0x4000)
        lsn = self.lsn
        ts = EPOCH_US + lsn
        seq = 0
        for _ in range(changes):
            table = self.rng.choice(list(self.tables.values()))
            for change in self._random_change(table):
                row = {"Op": change.op, **{c: change.values.get(c) for c in table.arrow_types}}
                row.update(
                    _walstream_commit_ts=dt.datetime.fromtimestamp(ts / 1e6, dt.UTC),
                    _walstream_lsn=lsn,
                    _walstream_seq=seq,
                    _walstream_xid=lsn // 16,
                    _walstream_unchanged=change.unchanged,
                    _walstream_key_change=change.key_change,
                )
                self.rows[table.name].append(row)
                seq += 1
        self.txns.append(lsn)
        for name, t in self.tables.items():
            self.history[name].append((lsn, {k: dict(v) for k, v in t.state.items()}))

    def state_as_of(self, name: str, lsn: int) -> dict[int, dict[str, Any]]:
        """``name``'s rows after the last transaction committed at or before ``lsn``."""
        state: dict[int, dict[str, Any]] = {}
        for commit, rows in self.history[name]:
            if commit > lsn:
                break
            state = rows
        return state

    def _random_change(self, t: SimTable) -> list[Change]:
        r = self.rng
        live = sorted(t.state)
        action = r.random()
        if action < 0.01:
            t.state.clear()
            return [Change("T", {})]
        if not live or action < 0.3:
            key = r.randint(1, t.keys)
            if key in t.state:
                return self._update(t, key, key)
            t.state[key] = {"id": key, **t.random_values()}
            return [Change("I", dict(t.state[key]))]
        key = r.choice(live)
        if action < 0.45:
            old = t.state.pop(key)
            if t.keyless:
                return [Change("D", dict(old))]
            return [Change("D", {"id": key})]
        if action < 0.6 and not t.keyless:
            new_key = r.randint(1, t.keys)
            if new_key not in t.state:
                return self._update(t, key, new_key)
        return self._update(t, key, key)

    def _update(self, t: SimTable, key: int, new_key: int) -> list[Change]:
        r = self.rng
        old = t.state.pop(key)
        fresh = t.random_values()
        new = {"id": new_key}
        sent: dict[str, Any] = {"id": new_key}
        unchanged = []
        for col in ("label", "n", "big", "doc"):
            if r.random() < 0.5:
                new[col] = fresh[col]
                sent[col] = fresh[col]
            else:
                new[col] = old[col]
                toasted = isinstance(old[col], str) and len(old[col]) >= TOAST_THRESHOLD
                if toasted and t.toast and not t.keyless:
                    unchanged.append(col)
                    sent[col] = None
                else:
                    sent[col] = old[col]
        t.state[new_key] = new
        out = []
        moved = True if new_key != key else None
        if moved:
            out.append(Change("D", {"id": key}, key_change=True))
        out.append(Change("U", sent, sorted(unchanged) or None, key_change=moved))
        return out

    # -- files ------------------------------------------------------------------------------
    def table_rows(self, name: str) -> list[dict[str, Any]]:
        return self.rows[name]

    def write_files(self, sink: DurableSink, name: str, cuts: list[int]) -> list[str]:
        """Write ``name``'s rows in files that end after the transactions at indexes ``cuts``.

        Like the pipeline, a file holds whole transactions of a contiguous stretch; its name
        comes from its first and last LSN, so the same stretch gives the same name.
        """
        keys = []
        start = 0
        for end in [*sorted(set(cuts)), len(self.txns) - 1]:
            if end < start:
                continue
            keys += self.write_range(sink, name, self.txns[start], self.txns[end])
            start = end + 1
        return keys

    def write_range(
        self,
        sink: DurableSink,
        name: str,
        first_lsn: int,
        last_lsn: int,
        origin: bool | None = None,
        loads: tuple[LoadRef, ...] = (),
    ) -> list[str]:
        """Write one file with ``name``'s rows of the transactions in [first_lsn, last_lsn],
        and its flush manifest (``manifests=False``: the file alone; ``origin``: whether the
        manifest starts a chain, by default only before the first transaction; ``loads``: the
        full loads an origin manifest names, as the pipeline's first manifest does)."""
        rows = [r for r in self.rows[name] if first_lsn <= r["_walstream_lsn"] <= last_lsn]
        keys: list[str] = []
        files: list[ManifestFile] = []
        if rows:
            table = self.tables[name]
            key = change_file_key(
                "public",
                name,
                EPOCH_US + rows[0]["_walstream_lsn"],
                rows[0]["_walstream_lsn"],
                rows[-1]["_walstream_lsn"],
            )
            sink.put(key, encode_parquet(to_arrow(table.schema, table.arrow_types, rows)))
            keys.append(key)
            files.append(ManifestFile(f"public.{name}", key, len(rows)))
        if self.manifests:
            # each table streams through a slot of its own, so one table's manifests never
            # speak for another's files; the chain starts (origin) before the first transaction
            before = [lsn for lsn in self.txns if lsn < first_lsn]
            start = before[-1] if before else 0
            starts = not before if origin is None else origin
            manifest = Manifest(
                f"sim_{name}", "flush", start, last_lsn, starts, tuple(files), loads
            )
            keys.append(manifest.write(sink))
        return keys


def to_arrow(
    schema: TableSchema, types: dict[str, pa.DataType], rows: list[dict[str, Any]]
) -> pa.Table:
    """Change rows as a change file's Arrow table (columns, order and metadata of DESIGN §2)."""
    fields = [pa.field("Op", pa.string())]
    fields += [pa.field(c.name, types[c.name]) for c in schema.columns]
    fields += [pa.field(name, typ) for name, typ in META_COLUMNS]
    arrow_schema = pa.schema(fields, metadata={METADATA_KEY: schema.to_json().encode()})
    arrays = [pa.array([r.get(f.name) for r in rows], f.type) for f in fields]
    return pa.Table.from_arrays(arrays, schema=arrow_schema)


def _text(r: random.Random, length: int) -> str:
    return "".join(r.choice("abcdefghijklmnopqrstuvwxyz0123456789 ") for _ in range(length))


def cover_with_a_manifest(sink: DurableSink, slot: str = "handmade") -> str:
    """One origin flush manifest listing every change file under ``sink`` (each with its row
    count), for tests that write files by hand: walstream writes one with every flush."""
    files = []
    end = 0
    for key in sorted(sink.list("")):
        if key.startswith("_walstream/") or not key.endswith(".parquet"):
            continue
        data = sink.get(key)
        assert data is not None
        table = decode_parquet(data)
        schema, name = key.split("/")[:2]
        files.append(ManifestFile(f"{unquote(schema)}.{unquote(name)}", key, table.num_rows))
        lsns = [v for v in table.column("_walstream_lsn").to_pylist() if v is not None]
        end = max([end, *lsns])
    return Manifest(slot, "flush", 0, end, True, tuple(files)).write(sink)


def full_load(source: SimSource, sink: DurableSink, name: str, after: int) -> list[str]:
    """A full load of ``name`` as the snapshot saw it after transaction ``after``: its files
    (the ``T`` marker, then the rows) and its load manifest, as ``walstream snapshot`` writes
    them (DESIGN §2). The snapshot sits between two transactions: no commit at its LSN."""
    table = source.tables[name]
    snapshot_lsn = source.txns[after] + 1
    ts = dt.datetime.fromtimestamp((EPOCH_US + snapshot_lsn) / 1e6, dt.UTC)
    rows = source.state_as_of(name, source.txns[after])
    marker = {"Op": "T", "_walstream_seq": 0}
    parts = [[marker], [{"Op": "I", **row, "_walstream_seq": n} for n, row in enumerate(
        [rows[k] for k in sorted(rows)], start=1)]]  # fmt: skip
    keys: list[str] = []
    files: list[ManifestFile] = []
    for number, part in enumerate(parts):
        if not part:
            continue
        full = [
            {
                **{c: r.get(c) for c in ["Op", *table.arrow_types]},
                "_walstream_commit_ts": ts,
                "_walstream_lsn": snapshot_lsn,
                "_walstream_seq": r["_walstream_seq"],
            }
            for r in part
        ]
        key = load_file_key("public", name, number, snapshot_lsn)
        sink.put(key, encode_parquet(to_arrow(table.schema, table.arrow_types, full)))
        keys.append(key)
        files.append(ManifestFile(f"public.{name}", key, len(full)))
    keys.append(load_manifest(f"sim_{name}", snapshot_lsn, files, origin=True).write(sink))
    return keys
