"""What ``walstream verify`` costs on a big table: time and peak memory of each method.

    python -m bench.verify_bench --rows 10000000 [--methods checksums rows] [--dsn DSN]

Builds the snapshot bench's table (:mod:`bench.snapshot_bench`: int key, text, numeric,
timestamptz, bool, int8, a 100-character payload) with ``--rows`` rows, loads it the way a
deployment does (``walstream snapshot`` to ``file://``, then ``walstream warehouse load`` into
a DuckDB FINAL), then runs ``walstream verify --json`` as a child process per method and reports
its wall time, CPU and peak RSS (``bench.measure``: ``VmHWM`` of that process, so what the
verify process itself holds; PostgreSQL's and DuckDB's own work is in the wall time):

- ``checksums``: counts and sums of row hashes per bucket of keys computed inside PostgreSQL
  and inside DuckDB (the method of ``verify --snowflake``, which runs the same queries in
  Snowflake); memory: one row per bucket;
- ``rows``: every source row through walstream's converters into DuckDB (the exact method).

Both must report ``match``. Without ``--dsn`` an embedded PostgreSQL 18 is started in a
temporary directory (fsync off).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import run_child
from bench.server import given_or_embedded
from bench.snapshot_bench import TABLE, create_table
from walstream.snapshot import SnapshotConfig, run_snapshot
from walstream.warehouse import LocalWarehouse

MB = 1024 * 1024


def build_final(dsn: str, rows: int, workdir: Path) -> tuple[str, str, dict[str, float]]:
    """The table in PostgreSQL and its FINAL in a DuckDB file; returns (dest, warehouse,
    seconds per step)."""
    took: dict[str, float] = {}
    started = time.perf_counter()
    create_table(dsn, rows)
    took["create"] = time.perf_counter() - started
    dest = workdir / "dest"
    shutil.rmtree(dest, ignore_errors=True)
    started = time.perf_counter()
    run_snapshot(
        SnapshotConfig(
            dsn, TABLE, TABLE, f"file://{dest}", tables=(f"public.{TABLE}",), progress="none"
        )
    )
    took["snapshot"] = time.perf_counter() - started
    warehouse = str(workdir / "final.duckdb")
    started = time.perf_counter()
    with LocalWarehouse(warehouse) as wh:
        wh.load(f"file://{dest}")
        # a full load is merged in slices (--load-slice-rows): one task run each
        while any(row.get("load_lsn") is not None for row in wh.watermarks()):
            wh.load(f"file://{dest}")
    took["warehouse_load"] = time.perf_counter() - started
    return f"file://{dest}", warehouse, took


def verify_child(
    dsn: str, warehouse: str, method: str, chunk_rows: int, workdir: Path, timeout: float
) -> dict[str, Any]:
    argv = [sys.executable, "-m", "walstream", "verify", "--json", "--dsn", dsn]
    argv += ["--warehouse", warehouse, "--publication", TABLE, "--table", f"public.{TABLE}"]
    argv += ["--method", method, "--chunk-rows", str(chunk_rows)]
    run = run_child(argv, workdir / f"verify-{method}", timeout)
    if run.returncode != 0:
        raise SystemExit(f"verify --method {method} exited {run.returncode}: {run.stderr_tail}")
    doc = json.loads(run.stdout)
    (table,) = doc["tables"]
    assert doc["status"] == "match" and table["source_rows"] == table["final_rows"], doc
    return {
        "method": method,
        "status": doc["status"],
        "rows": table["source_rows"],
        "buckets_or_ranges": table["ranges"],
        "wall_s": round(run.wall_s, 2),
        "cpu_s": round(run.cpu_s, 2),
        "peak_rss_mb": round(run.peak_rss_bytes / MB, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--methods", nargs="+", default=["checksums"])
    parser.add_argument("--chunk-rows", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--dsn", help="use this server instead of an embedded one")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="walstream-verify-bench-") as tmp,
        given_or_embedded(args.dsn, Path(tmp)) as dsn,
    ):
        workdir = Path(tmp)
        _, warehouse, took = build_final(dsn, args.rows, workdir)
        results = [
            verify_child(dsn, warehouse, m, args.chunk_rows, workdir, args.timeout)
            for m in args.methods
        ]
    if args.json:
        print(json.dumps({"rows": args.rows, "setup_s": took, "verify": results}, indent=2))
        return
    print(
        f"{args.rows} rows; setup: create {took['create']:.1f} s, snapshot "
        f"{took['snapshot']:.1f} s, warehouse load {took['warehouse_load']:.1f} s"
    )
    print(
        f"{'method':<10} {'rows':>10} {'buckets':>8} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12}"
    )
    for r in results:
        print(
            f"{r['method']:<10} {r['rows']:>10} {r['buckets_or_ranges']:>8} {r['wall_s']:>8} "
            f"{r['cpu_s']:>8} {r['peak_rss_mb']:>12}"
        )


if __name__ == "__main__":
    main()
