"""Local MERGE throughput: change rows merged per second by the DuckDB warehouse.

    python -m bench.merge_bench [--rows 200000] [--repeat 3] [--file-rows 2000]
                                [--batch-files 10] [--workload insert] [--json]

Writes change files (zstd Parquet, named and cut like the pipeline's: whole transactions per
file) into a ``file://`` sink in a temporary directory, each file with its flush manifest when
the walstream being measured has manifests, then times ``LocalWarehouse(path).load(sink)`` on
a fresh DuckDB file per run:

- ``all``: every file in one ``load`` (one Snowpipe backlog, one task run);
- ``batches``: ``--batch-files`` files (and their manifests) per ``load(sink, keys=...)``, one
  call after another: each call is one task run on what arrived since the last.

Workloads (``--rows`` change rows each; one table: int4 key, text, int8, text, jsonb):

- ``insert``: 90% inserts of new keys, 8% updates (every column sent), 2% deletes;
- ``update-toast``: a tenth of ``--rows`` inserted first, then 76% updates, 12% deletes, 12%
  inserts over those keys. The two long columns (~1.5 KB text, ~0.7 KB jsonb) are out of
  line: an update changes each with probability 0.2 and otherwise sends it as unchanged TOAST
  (null, listed in ``_walstream_unchanged``), which the MERGE fills from FINAL or from an
  earlier change of the key.

After every run FINAL is checked against the generator's own state (row count, sum of ``n``,
total length of the long columns); a mismatch fails the bench. rows/s = change rows / the
median wall time of ``--repeat`` runs; the range of all runs is shown, and the median CPU
time of the process (DuckDB's threads included), which a busy machine disturbs less.

The data comes from a seeded generator of its own, not tests/simulated_source.py (which
needs flush manifests and the key-change column, and copies its whole state per
transaction): it needs only what every walstream version has, so the same module measures an
older checkout too. Run it from that checkout's directory (``python -m`` puts the current
directory first on ``sys.path``; see bench/README.md, "Local MERGE throughput").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

import walstream
from walstream.capture.batch import META_COLUMNS
from walstream.layout import change_file_key
from walstream.pipeline.parquet import encode_parquet
from walstream.schema import METADATA_KEY, ColumnSchema, TableSchema
from walstream.sink import DurableSink, open_sink
from walstream.warehouse import LocalWarehouse

try:  # flush manifests (walstream/pipeline/manifest.py) are newer than the first warehouse
    from walstream.pipeline import manifest as _manifest
except ImportError:  # pragma: no cover - an older checkout: files are merged as they arrive
    _manifest = None  # type: ignore[assignment]

NAMESPACE = "public"
TABLE = "bench_merge"
SLOT = "bench_merge"
EPOCH_US = 1_700_000_000_000_000  # commit times: this + the commit LSN, in microseconds
TOAST_THRESHOLD = 100  # a value at least this long is "stored out of line"
POOL = 256  # distinct long values each workload draws from (with a unique prefix per value)

SCHEMA = TableSchema(
    oid=16384,
    namespace=NAMESPACE,
    name=TABLE,
    columns=(
        ColumnSchema("id", 23, "int4", -1, True),
        ColumnSchema("label", 25, "text", -1, False),
        ColumnSchema("n", 20, "int8", -1, False),
        ColumnSchema("big", 25, "text", -1, False),
        ColumnSchema("doc", 3802, "jsonb", -1, False),
    ),
    replica_identity="d",
)
DATA_TYPES: dict[str, pa.DataType] = {
    "id": pa.int32(),
    "label": pa.string(),
    "n": pa.int64(),
    "big": pa.string(),
    "doc": pa.string(),
}


@dataclass(frozen=True)
class Workload:
    name: str
    insert: float  # share of inserts (of new keys) once ``prefill`` keys exist
    delete: float  # share of deletes; the rest are updates
    prefill: float  # first insert this share of --rows as new keys
    toast: bool  # an update sends a long value it leaves unchanged as unchanged TOAST
    big_len: int
    doc_len: int
    change_long: float  # chance that an update changes each long column


WORKLOADS = {
    "insert": Workload("insert", 0.90, 0.02, 0.0, False, 24, 16, 1.0),
    "update-toast": Workload("update-toast", 0.12, 0.12, 0.1, True, 1500, 700, 0.2),
}


@dataclass
class Expected:
    """What FINAL must hold after every file is merged."""

    rows: int = 0
    n_sum: int = 0
    big_chars: int = 0
    doc_chars: int = 0


@dataclass
class Flush:
    """One stored file and the keys a delivery of it carries (the file, then its manifest)."""

    rows: int
    keys: list[str]


@dataclass
class Generated:
    workload: str
    change_rows: int
    transactions: int
    flushes: list[Flush]
    parquet_bytes: int
    expected: Expected
    seconds: float


@dataclass
class _FileBuffer:
    columns: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0

    def __post_init__(self) -> None:
        names = ["Op", *DATA_TYPES, *(name for name, _ in META_COLUMNS)]
        self.columns = {name: [] for name in names}


class Generator:
    """Random transactions of one workload, written as the pipeline writes change files."""

    def __init__(self, workload: Workload, rows: int, seed: int) -> None:
        self.w = workload
        self.rows = rows
        self.rng = random.Random(seed)
        self.state: dict[int, tuple[str | None, int, str | None, str | None]] = {}
        self.live: list[int] = []
        self.position: dict[int, int] = {}  # key -> index in live
        self.next_key = 0
        self.version = 0
        letters = "abcdefghijklmnopqrstuvwxyz0123456789 "
        r = self.rng
        self.big_pool = ["".join(r.choices(letters, k=workload.big_len)) for _ in range(POOL)]
        self.doc_pool = ["".join(r.choices(letters, k=workload.doc_len)) for _ in range(POOL)]

    # -- values -----------------------------------------------------------------------------
    def _big(self, key: int) -> str | None:
        if self.rng.random() < 0.1:
            return None
        self.version += 1
        return f"{key}:{self.version}:{self.big_pool[self.rng.randrange(POOL)]}"

    def _doc(self, key: int) -> str | None:
        if self.rng.random() < 0.1:
            return None
        self.version += 1
        text = self.doc_pool[self.rng.randrange(POOL)]
        return json.dumps({"key": key, "v": self.version, "text": text})

    def _label(self) -> str | None:
        return None if self.rng.random() < 0.05 else f"label-{self.rng.randrange(10**6)}"

    def _n(self) -> int:
        return self.rng.randint(-(10**12), 10**12)

    # -- changes ----------------------------------------------------------------------------
    def _insert(self) -> tuple[str, dict[str, Any], list[str] | None]:
        self.next_key += 1
        key = self.next_key
        row = (self._label(), self._n(), self._big(key), self._doc(key))
        self.state[key] = row
        self.position[key] = len(self.live)
        self.live.append(key)
        label, n, big, doc = row
        return "I", {"id": key, "label": label, "n": n, "big": big, "doc": doc}, None

    def _delete(self, key: int) -> tuple[str, dict[str, Any], list[str] | None]:
        del self.state[key]
        index = self.position.pop(key)
        last = self.live.pop()
        if last != key:
            self.live[index] = last
            self.position[last] = index
        return "D", {"id": key}, None

    def _update(self, key: int) -> tuple[str, dict[str, Any], list[str] | None]:
        _, _, old_big, old_doc = self.state[key]
        label, n = self._label(), self._n()
        sent: dict[str, Any] = {"id": key, "label": label, "n": n}
        unchanged: list[str] = []
        new: dict[str, str | None] = {}
        for column, old, fresh in (("big", old_big, self._big), ("doc", old_doc, self._doc)):
            if self.rng.random() < self.w.change_long:
                new[column] = sent[column] = fresh(key)
                continue
            new[column] = old
            if self.w.toast and old is not None and len(old) >= TOAST_THRESHOLD:
                unchanged.append(column)
                sent[column] = None
            else:
                sent[column] = old
        self.state[key] = (label, n, new["big"], new["doc"])
        return "U", sent, unchanged or None

    def _change(self) -> tuple[str, dict[str, Any], list[str] | None]:
        if not self.live or self.next_key < self.w.prefill * self.rows:
            return self._insert()
        draw = self.rng.random()
        if draw < self.w.insert:
            return self._insert()
        key = self.live[self.rng.randrange(len(self.live))]
        if draw < self.w.insert + self.w.delete:
            return self._delete(key)
        return self._update(key)

    # -- files ------------------------------------------------------------------------------
    def write(self, sink: DurableSink, file_rows: int) -> Generated:
        """Write ``self.rows`` change rows in files of whole transactions of about
        ``file_rows`` rows, each followed by its flush manifest when manifests exist."""
        started = time.perf_counter()
        r = self.rng
        lsn = 0x1000000
        chain_end = 0  # the last manifest's end: the next one starts there
        buffer = _FileBuffer()
        flushes: list[Flush] = []
        parquet_bytes = 0
        emitted = transactions = 0
        while emitted < self.rows:
            lsn += r.randint(0x40, 0x4000)
            transactions += 1
            size = min(r.randint(1, 19), self.rows - emitted)
            for seq in range(size):
                op, values, unchanged = self._change()
                cols = buffer.columns
                cols["Op"].append(op)
                for name in DATA_TYPES:
                    cols[name].append(values.get(name))
                cols["_walstream_commit_ts"].append(EPOCH_US + lsn)
                cols["_walstream_lsn"].append(lsn)
                cols["_walstream_seq"].append(seq)
                cols["_walstream_xid"].append(transactions)
                cols["_walstream_unchanged"].append(unchanged)
                buffer.rows += 1
            emitted += size
            if buffer.rows >= file_rows or emitted >= self.rows:
                flush, size_bytes = self._store(sink, buffer, chain_end, lsn)
                flushes.append(flush)
                parquet_bytes += size_bytes
                chain_end = lsn
                buffer = _FileBuffer()
        expected = Expected(rows=len(self.state))
        for _, n, big, doc in self.state.values():
            expected.n_sum += n
            expected.big_chars += len(big or "")
            expected.doc_chars += len(doc or "")
        return Generated(
            self.w.name,
            emitted,
            transactions,
            flushes,
            parquet_bytes,
            expected,
            time.perf_counter() - started,
        )

    def _store(
        self, sink: DurableSink, buffer: _FileBuffer, start_lsn: int, end_lsn: int
    ) -> tuple[Flush, int]:
        cols = buffer.columns
        fields = [pa.field("Op", pa.string())]
        fields += [pa.field(name, typ) for name, typ in DATA_TYPES.items()]
        fields += [pa.field(name, typ) for name, typ in META_COLUMNS]
        schema = pa.schema(fields, metadata={METADATA_KEY: SCHEMA.to_json().encode()})
        arrays = [
            pa.array(cols[f.name], f.type) if cols[f.name] else pa.nulls(buffer.rows, f.type)
            for f in fields
        ]
        data = encode_parquet(pa.Table.from_arrays(arrays, schema=schema))
        first_lsn = cols["_walstream_lsn"][0]
        key = change_file_key(NAMESPACE, TABLE, EPOCH_US + first_lsn, first_lsn, end_lsn)
        sink.put(key, data)
        keys = [key]
        if _manifest is not None:
            files = (_manifest.ManifestFile(f"{NAMESPACE}.{TABLE}", key, buffer.rows),)
            manifest = _manifest.Manifest(SLOT, "flush", start_lsn, end_lsn, start_lsn == 0, files)
            keys.append(manifest.write(sink))
        return Flush(buffer.rows, keys), len(data)


# -- timing ---------------------------------------------------------------------------------
@dataclass
class Timing:
    workload: str
    mode: str
    loads: int
    change_rows: int
    runs: list[float]  # wall seconds of each run
    cpu: list[float]  # CPU seconds (user + system, every thread) of each run

    @property
    def seconds(self) -> float:
        return statistics.median_low(self.runs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "mode": self.mode,
            "loads": self.loads,
            "change_rows": self.change_rows,
            "seconds": round(self.seconds, 3),
            "rows_per_s": round(self.change_rows / self.seconds),
            "runs_s": [round(s, 3) for s in self.runs],
            "cpu_s": round(statistics.median_low(self.cpu), 3),
            "cpu_runs_s": [round(s, 3) for s in self.cpu],
        }


def deliveries(data: Generated, mode: str, batch_files: int) -> list[list[str] | None]:
    """The ``keys`` of each ``load`` call of a run: None (everything listed) for ``all``."""
    if mode == "all":
        return [None]
    return [
        [key for flush in data.flushes[start : start + batch_files] for key in flush.keys]
        for start in range(0, len(data.flushes), batch_files)
    ]


def check_final(wh: LocalWarehouse, data: Generated) -> None:
    """FINAL holds exactly the generator's rows (count, sum of n, long-value lengths)."""
    [(schema, table)] = wh.final_tables()
    row = wh.conn.execute(
        f'SELECT count(*), coalesce(sum("n"), 0), coalesce(sum(length("big")), 0), '
        f'coalesce(sum(length("doc")), 0) FROM "{schema}"."{table}"'
    ).fetchone()
    assert row is not None
    got = Expected(int(row[0]), int(row[1]), int(row[2]), int(row[3]))
    if got != data.expected:
        raise SystemExit(f"{data.workload}: FINAL holds {got}, the source {data.expected}")
    loaded = len(wh.loaded_files())
    files = sum(len(flush.keys) for flush in data.flushes)
    if loaded != files:
        raise SystemExit(f"{data.workload}: {loaded} files recorded as loaded of {files}")


def time_mode(
    sink: DurableSink,
    data: Generated,
    mode: str,
    batch_files: int,
    repeat: int,
    workdir: Path,
) -> Timing:
    calls = deliveries(data, mode, batch_files)
    runs: list[float] = []
    cpu: list[float] = []
    for number in range(repeat):
        path = workdir / f"wh-{data.workload}-{mode}-{number}.duckdb"
        wh = LocalWarehouse(str(path))
        try:
            started, cpu_started = time.perf_counter(), time.process_time()
            for keys in calls:
                wh.load(sink, keys=keys)
            runs.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            check_final(wh, data)
        finally:
            wh.close()
        for leftover in workdir.glob(f"{path.name}*"):  # the database and its WAL
            leftover.unlink()
    return Timing(data.workload, mode, len(calls), data.change_rows, runs, cpu)


def describe_walstream() -> dict[str, Any]:
    """Which walstream is measured: its directory and, in a git checkout, its commit."""
    where = Path(walstream.__file__).resolve().parent
    commit = subprocess.run(
        ["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(where), "status", "--porcelain", "--", "."],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "path": str(where),
        "commit": (commit + ("+changes" if dirty else "")) or None,
        "manifests": _manifest is not None,
    }


def run(args: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    results: list[Timing] = []
    generated: list[Generated] = []
    with tempfile.TemporaryDirectory(prefix="walstream-merge-bench-") as tmp:
        workdir = Path(tmp)
        for number, name in enumerate(args.workload):
            sink = open_sink(f"file://{workdir / name}")
            data = Generator(WORKLOADS[name], args.rows, args.seed + number).write(
                sink, args.file_rows
            )
            generated.append(data)
            progress(
                f"{name}: {data.change_rows:,} change rows, {len(data.flushes)} files, "
                f"{data.parquet_bytes / 1e6:.1f} MB, written in {data.seconds:.1f} s"
            )
            for mode in args.mode:
                timing = time_mode(sink, data, mode, args.batch_files, args.repeat, workdir)
                results.append(timing)
                progress(f"  {mode}: {', '.join(f'{s:.2f}' for s in timing.runs)} s")
    return {
        "walstream": describe_walstream(),
        "rows": args.rows,
        "file_rows": args.file_rows,
        "batch_files": args.batch_files,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "workloads": [
            {
                "name": g.workload,
                "change_rows": g.change_rows,
                "transactions": g.transactions,
                "files": len(g.flushes),
                "parquet_mb": round(g.parquet_bytes / 1e6, 1),
                "final_rows": g.expected.rows,
            }
            for g in generated
        ],
        "results": [t.as_dict() for t in results],
    }


def print_report(doc: dict[str, Any]) -> None:
    ws = doc["walstream"]
    print(f"walstream {ws['commit'] or '?'} ({ws['path']}), manifests: {ws['manifests']}")
    for w in doc["workloads"]:
        print(
            f"{w['name']}: {w['change_rows']:,} change rows in {w['transactions']:,} "
            f"transactions, {w['files']} files ({w['parquet_mb']} MB), FINAL {w['final_rows']:,}"
        )
    print(
        f"{'workload':<14}{'mode':<16}{'loads':>6}{'wall s':>8}{'range':>13}{'CPU s':>7}"
        f"{'rows/s':>10}"
    )
    for r in doc["results"]:
        mode = r["mode"] if r["mode"] == "all" else f"batches of {doc['batch_files']}"
        spread = f"{min(r['runs_s']):.2f}-{max(r['runs_s']):.2f}"
        print(
            f"{r['workload']:<14}{mode:<16}{r['loads']:>6}{r['seconds']:>8.2f}{spread:>13}"
            f"{r['cpu_s']:>7.2f}{r['rows_per_s']:>10,}"
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="change rows per workload")
    parser.add_argument("--repeat", type=int, default=3, help="runs per line (median shown)")
    parser.add_argument("--file-rows", type=int, default=2000, help="rows per change file")
    parser.add_argument(
        "--batch-files", type=int, default=10, help="files per load in the batches mode"
    )
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--mode", action="append", choices=["all", "batches"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    args.workload = args.workload or list(WORKLOADS)
    args.mode = args.mode or ["all", "batches"]
    if min(args.rows, args.repeat, args.file_rows, args.batch_files) < 1:
        parser.error("--rows, --repeat, --file-rows and --batch-files must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    doc = run(args, progress)
    if args.json:
        print(json.dumps(doc))
    else:
        print_report(doc)


if __name__ == "__main__":
    main()
