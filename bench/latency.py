"""Commit-to-durable latency of walstream under a steady load (issue 7: p99 <= 2.5 s at 5k/s).

Method:

1. A ``latency_probe`` table (the narrow-insert shape), its publication and a slot.
2. ``walstream run --flush-interval 1`` to a local ``file://`` sink starts first; the load
   starts once the slot is active, so walstream's start-up is not counted as latency.
3. The load: transactions of ``per_txn`` inserts, paced on a fixed schedule (``rate`` changes
   per second in total, 5000 by default), for ``seconds``. The achieved rate is recorded.
4. While it runs, a poller lists the sink's table directory every 10 ms and records, for each
   new Parquet file, the wall-clock time it first saw it. The local sink writes a temp file,
   fsyncs it, renames it into place and fsyncs the directory, so a file that is *visible* under
   its final name is durable (or milliseconds from it): that first-seen time is the durable time
   (an upper bound, by at most the poll interval). The file's mtime (the last write before the
   fsync and rename, a lower bound) is reported alongside.
5. After the load, the end LSN is fenced and, once the slot's ``confirmed_flush_lsn`` reaches
   it, walstream is stopped with SIGTERM.
6. Each transaction's latency is ``first_seen(file holding it) - _walstream_commit_ts`` (the
   source's commit time, written into every row). Both clocks are this machine's wall clock.
   p50/p99/max are over transactions.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from .measure import Child
from .server import BenchServer
from .workloads import NARROW_COLUMNS, NARROW_SELECT

log = logging.getLogger("bench.latency")

SLOT = "bench_latency"
PUBLICATION = "pub_latency"


@dataclass
class _Poller:
    """Records when each Parquet file first becomes visible in ``directory``."""

    directory: Path
    seen: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (seen, mtime)
    _stop: threading.Event = field(default_factory=threading.Event)

    def scan(self) -> None:
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return
        now = time.time()
        for entry in entries:
            name = entry.name
            if name in self.seen or name.startswith(".") or not name.endswith(".parquet"):
                continue
            self.seen[name] = (now, entry.stat().st_mtime)

    def run(self) -> None:
        while not self._stop.wait(0.01):
            self.scan()

    def stop(self) -> None:
        self._stop.set()


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:.0f}s")
        time.sleep(0.05)


def measure_latency(
    server: BenchServer,
    workdir: Path,
    seconds: float,
    rate: int = 5000,
    per_txn: int = 50,
    flush_interval: float = 1.0,
) -> dict[str, Any]:
    """Run the steady-load latency measurement; returns the JSON record (see module docstring)."""
    server.execute("DROP TABLE IF EXISTS latency_probe")
    server.execute(f"CREATE TABLE latency_probe ({NARROW_COLUMNS})")
    server.create_publication(PUBLICATION, ["latency_probe"])
    server.create_slots([SLOT])
    dest = workdir / "sinks" / "latency"
    poller = _Poller(dest / "public" / "latency_probe")
    argv = [
        sys.executable, "-m", "walstream", "--log-format", "json", "run",
        "--dsn", server.dsn, "--slot", SLOT, "--publication", PUBLICATION,
        "--dest", dest.as_uri(), "--flush-interval", str(flush_interval),
    ]  # fmt: skip
    (workdir / "logs").mkdir(exist_ok=True)
    child = Child(argv, workdir / "logs" / "latency.walstream")
    record: dict[str, Any] = {
        "consumer": "walstream-binary-local",
        "target_rate": rate,
        "per_txn": per_txn,
        "flush_interval_s": flush_interval,
        "seconds": seconds,
    }
    thread = threading.Thread(target=poller.run, name="latency-poller", daemon=True)
    try:
        _wait_for(lambda: server.slot_active(SLOT) or not child.running(), 60, "walstream start")
        thread.start()
        interval = per_txn / rate
        sent = 0
        with server.connect() as conn:
            t0 = time.monotonic()
            while (now := time.monotonic()) - t0 < seconds and child.running():
                target = t0 + sent * interval
                if target > now:
                    time.sleep(target - now)  # pacing the load, not synchronising
                first = sent * per_txn + 1
                conn.execute(
                    f"INSERT INTO latency_probe {NARROW_SELECT} "
                    f"FROM generate_series({first}, {first + per_txn - 1}) g"
                )
                sent += 1
            elapsed = time.monotonic() - t0
        end = server.fence()
        _wait_for(
            lambda: server.confirmed_flush_lsn(SLOT) >= end or not child.running(),
            120,
            "walstream to acknowledge the end of the load",
        )
    except Exception as exc:
        child.signal(signal.SIGKILL)
        child.wait(30)
        poller.stop()
        return {**record, "status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    child.signal(signal.SIGTERM)
    run = child.wait(60)
    poller.stop()
    thread.join(5)
    poller.scan()
    server.drop_slot(SLOT)

    changes = sent * per_txn
    record.update(
        transactions=sent,
        changes=changes,
        achieved_rate=round(changes / elapsed, 1) if elapsed else None,
        cpu_s=round(run.cpu_s, 3),
        peak_rss_mb=round(run.peak_rss_bytes / 2**20, 1),
        files=len(poller.seen),
    )
    if run.returncode != 0:
        return {**record, "status": "failed", "reason": f"walstream exit {run.returncode}: "
                + (run.stderr_tail.splitlines() or [""])[-1][:300]}  # fmt: skip

    seen_lat: list[float] = []
    mtime_lat: list[float] = []
    rows = 0
    for name, (seen_at, mtime) in poller.seen.items():
        table = pq.read_table(
            poller.directory / name, columns=["_walstream_lsn", "_walstream_commit_ts"]
        )
        rows += table.num_rows
        lsns = table.column("_walstream_lsn").to_numpy()
        commit_us = table.column("_walstream_commit_ts").cast("int64").to_numpy()
        _, first_idx = np.unique(lsns, return_index=True)
        commits = commit_us[first_idx] / 1e6
        seen_lat.extend((seen_at - commits).tolist())
        mtime_lat.extend((mtime - commits).tolist())
    record["rows_written"] = rows
    if not seen_lat:
        return {**record, "status": "failed", "reason": "walstream wrote no file"}
    seen = np.array(seen_lat)
    mt = np.array(mtime_lat)
    record.update(
        status="ok" if rows == changes else "failed",
        reason="" if rows == changes else f"wrote {rows} rows for {changes} changes",
        p50_s=round(float(np.percentile(seen, 50)), 3),
        p99_s=round(float(np.percentile(seen, 99)), 3),
        max_s=round(float(seen.max()), 3),
        p50_mtime_s=round(float(np.percentile(mt, 50)), 3),
        p99_mtime_s=round(float(np.percentile(mt, 99)), 3),
        latencies_s=[round(x, 4) for x in sorted(seen_lat)],
    )
    log.info(
        "event=latency_measured rate=%s p50_s=%s p99_s=%s files=%d",
        record["achieved_rate"], record["p50_s"], record["p99_s"], len(poller.seen),
    )  # fmt: skip
    return record
