"""Snapshot throughput against PostgreSQL's own floor: ``COPY ... TO STDOUT`` into /dev/null.

    python -m bench.snapshot_bench --rows 200000 [--shapes bench wide toast] [--workers 1 2]
        [--repeat 3] [--dsn DSN]

Builds one table per ``--shapes`` (default ``bench``), then times, on each table:

- ``bench``: ``--rows`` rows of mixed types (int, text, numeric, timestamptz, bool, int8, a
  100-character payload);
- ``wide``: ``--rows`` rows of 40 columns (the key and 39 of int4, int8, text, numeric,
  timestamptz, bool, float8, date, uuid in turn), as ERP tables have;
- ``toast``: ``--rows`` / 20 rows, each with an 8 KB text that PostgreSQL keeps out of line
  (TOAST): few rows, many bytes.

On each table:

- ``copy``: ``psql -c "COPY t TO STDOUT"`` with its output sent to /dev/null (psycopg's COPY
  when psql is not found): reading the table and printing it, nothing else;
- ``copy binary``: the same with ``(FORMAT binary)``, the form the snapshot reads (for
  information: the floor, and every ratio, is the text COPY's);
- ``snapshot``: ``walstream snapshot`` of the table (exported snapshot, COPY, conversion to
  Arrow, zstd Parquet, durable local files), once per ``--workers`` value.

Rows/s and MB/s use the same numerator for every line (rows, and the COPY text size of the
table), so ``ratio`` = snapshot time / copy time is how many times slower than the floor the
full pipeline is; ``cpu s`` is the user + system time of the bench process during that run
(the snapshot's threads; psql and the server are other processes, so the ``copy`` line shows
about nothing). The best of ``--repeat`` runs is reported. Without ``--dsn`` an embedded
PostgreSQL 18 is started in a temporary directory. Keep ``--rows`` small on shared machines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.server import given_or_embedded
from walstream.embedded import bin_dir
from walstream.snapshot import SnapshotConfig, run_snapshot

TABLE = "bench_snapshot"
MB = 1_000_000


#: The column types of the wide table, in turn (with the SQL of a value from ``g``).
_WIDE = (
    ("int4", "g + {i}"),
    ("int8", "g::int8 * {i}"),
    ("text", "'v' || g || '-{i}'"),
    ("numeric(14,2)", "g * 1.25 + {i}"),
    ("timestamptz", "timestamptz '2024-01-01 00:00:00+00' + (g + {i}) * interval '1 second'"),
    ("bool", "(g + {i}) % 3 = 0"),
    ("float8", "g / 7.0 + {i}"),
    ("date", "date '2024-01-01' + (g + {i}) % 3650"),
    ("uuid", "md5((g + {i})::text)::uuid"),
)

#: Each shape's columns (after ``id int PRIMARY KEY``) and the SELECT of its rows from ``g``.
SHAPES: dict[str, tuple[str, str]] = {
    "bench": (
        "name text, amount numeric(12,2), at timestamptz, flag bool, n int8, payload text",
        "SELECT g, 'name ' || g, g * 1.25, "
        "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 3 = 0, "
        "g::int8 * 1000003, repeat(md5(g::text), 3) || md5((g * 7)::text)",
    ),
    "wide": (
        ", ".join(f"c{i} {_WIDE[i % len(_WIDE)][0]}" for i in range(1, 40)),
        "SELECT g, " + ", ".join(_WIDE[i % len(_WIDE)][1].format(i=i) for i in range(1, 40)),
    ),
    # 250 md5 digests: 8,000 characters that compress only to about half (hex), so the value
    # goes out of line
    "toast": (
        "note text, doc text",
        "SELECT g, 'row ' || g, (SELECT string_agg(md5((g * 1000 + i)::text), '') "
        "FROM generate_series(1, 250) i)",
    ),
}


def create_table(dsn: str, rows: int, shape: str = "bench") -> int:
    """The bench table of ``shape`` (:data:`SHAPES`) with ``rows`` rows, its publication and
    slot; returns its COPY size."""
    columns, select = SHAPES[shape]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP PUBLICATION IF EXISTS {TABLE}")
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (TABLE,),
        )
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, {columns})")
        conn.execute(
            f"INSERT INTO {TABLE} {select.replace('%', '%%')} FROM generate_series(1, %s) g",
            (rows,),
        )
        conn.execute(f"VACUUM ANALYZE {TABLE}")
        conn.execute(f"CREATE PUBLICATION {TABLE} FOR TABLE {TABLE}")
        conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (TABLE,))
        size = 0
        with conn.cursor().copy(f"COPY {TABLE} TO STDOUT") as copy:
            for block in copy:
                size += len(block)
        return size


def copy_to_devnull(dsn: str, binary: bool = False) -> Callable[[], None]:
    """The floor: the table's text COPY (binary with ``binary``) printed into /dev/null."""
    command = f"COPY {TABLE} TO STDOUT" + (" (FORMAT binary)" if binary else "")
    psql = bin_dir() / "psql"
    if psql.exists():

        def with_psql() -> None:
            with open("/dev/null", "wb") as devnull:
                subprocess.run(
                    [str(psql), "-X", "-q", "-d", dsn, "-c", command],
                    stdout=devnull,
                    check=True,
                )

        return with_psql

    def with_psycopg() -> None:
        with psycopg.connect(dsn) as conn, conn.cursor().copy(command) as copy:
            for _ in copy:
                pass

    return with_psycopg


def snapshot_once(dsn: str, workers: int, workdir: Path) -> Callable[[], None]:
    def run() -> None:
        dest = workdir / "dest"
        shutil.rmtree(dest, ignore_errors=True)
        run_snapshot(
            SnapshotConfig(
                dsn,
                TABLE,
                TABLE,
                f"file://{dest}",
                tables=(f"public.{TABLE}",),
                workers=workers,
                progress="none",
            )
        )

    return run


def best_of(repeat: int, action: Callable[[], None]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB of this process) of the fastest of ``repeat`` runs.

    The CPU is user + system time of this process (all its threads; psql and the server are
    other processes): what one worker costs when its table runs alone, the figure that stays
    when workers become processes of their own. The peak RSS is the highest of the runs, each
    measured from a reset of the kernel's high-water mark (Linux ``clear_refs``), so it is the
    load's own peak (imports and the bench's state included), not an earlier table's.
    """
    runs = []
    peak = 0.0
    for _ in range(repeat):
        _reset_peak_rss()
        started, cpu = time.perf_counter(), _cpu_seconds()
        action()
        runs.append((time.perf_counter() - started, _cpu_seconds() - cpu))
        peak = max(peak, _peak_rss_mb())
    wall, cpu = min(runs)
    return wall, cpu, peak


def _reset_peak_rss() -> None:
    # not Linux: the peak is the process's since it started
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shapes", nargs="+", choices=sorted(SHAPES), default=["bench"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", help="use this server instead of an embedded one")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()

    shapes: list[tuple[str, int, float, list[dict[str, Any]]]] = []
    with (
        tempfile.TemporaryDirectory(prefix="walstream-bench-") as tmp,
        given_or_embedded(args.dsn, Path(tmp)) as dsn,
    ):
        workdir = Path(tmp)
        for shape in args.shapes:
            rows = args.rows // 20 if shape == "toast" else args.rows
            copy_bytes = create_table(dsn, rows, shape)
            results = [("copy", *best_of(args.repeat, copy_to_devnull(dsn)))]
            binary = best_of(args.repeat, copy_to_devnull(dsn, binary=True))
            results.append(("copy binary", *binary))
            for workers in args.workers:
                action = snapshot_once(dsn, workers, workdir)
                results.append((f"snapshot workers={workers}", *best_of(args.repeat, action)))
            floor = results[0][1]
            report = [
                {
                    "what": what,
                    "seconds": round(seconds, 3),
                    "rows_per_s": round(rows / seconds),
                    "mb_per_s": round(copy_bytes / MB / seconds, 1),
                    "ratio": round(seconds / floor, 2),
                    "cpu_s": round(cpu, 3),
                    "peak_rss_mb": round(rss),
                }
                for what, seconds, cpu, rss in results
            ]
            shapes.append((shape, rows, copy_bytes / MB, report))

    if args.json:
        doc = [
            {"shape": shape, "rows": rows, "copy_mb": mb, "results": report}
            for shape, rows, mb, report in shapes
        ]
        print(json.dumps({"shapes": doc}))
        return
    for shape, rows, mb, report in shapes:
        print(f"table {shape}: {rows} rows, COPY text {mb:.1f} MB")
        print(
            f"{'what':<22}{'seconds':>9}{'rows/s':>12}{'MB/s':>8}{'ratio':>7}{'cpu s':>8}"
            f"{'RSS MB':>8}"
        )
        for line in report:
            print(
                f"{line['what']:<22}{line['seconds']:>9.3f}{line['rows_per_s']:>12,}"
                f"{line['mb_per_s']:>8.1f}{line['ratio']:>7.2f}{line['cpu_s']:>8.3f}"
                f"{line['peak_rss_mb']:>8}"
            )


if __name__ == "__main__":
    main()
