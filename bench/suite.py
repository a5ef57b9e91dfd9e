"""One run of the suite: every selected workload, read by every selected consumer, then latency.

Order of a workload: ``prepare`` (tables, initial rows) -> one slot per runnable consumer ->
``generate`` (the measured changes) -> fence the end LSN -> each consumer in turn reads its
slot to the end LSN while nothing else runs -> its slot is dropped. Consumers run one at a
time, so none competes with another for the two cores; the walsender decoding for a consumer
does run alongside it, as it does in production.

The results (``Result`` records, the workloads' sizes, the latency record, the machine) go to
``<out>/<timestamp>.json``; report.py turns them into the markdown table and the plots.
"""

from __future__ import annotations

import compileall
import dataclasses
import datetime as dt
import logging
import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import walstream
from walstream.lsn import format_lsn

from .consumers import CONSUMERS, Job, Result, RunContext, install_node_peer
from .latency import measure_latency
from .s3 import MotoS3
from .server import BenchServer, bench_workdir
from .workloads import WORKLOADS

log = logging.getLogger("bench.suite")


@dataclass
class SuiteConfig:
    scale: float = 1.0
    smoke: bool = False
    workloads: tuple[str, ...] = tuple(WORKLOADS)
    consumers: tuple[str, ...] = tuple(CONSUMERS)
    out_dir: Path = Path(__file__).resolve().parent / "results"
    latency_seconds: float = 30.0
    latency_rate: int = 5000
    keep_workdir: bool = False
    repeat: int = 1  # runs of each consumer per workload, each on its own slot, interleaved
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def timeout(self) -> float:
        """Deadline of one consumer on one workload (the slowest peer at full size fits)."""
        return 180 + 1800 * self.scale


def _slot_name(workload: str, consumer: str, run: int = 0) -> str:
    suffix = f"_{run}" if run else ""
    return (
        re.sub(r"[^a-z0-9_]", "_", f"b_{workload}_{consumer}".lower())[: 63 - len(suffix)] + suffix
    )


def median_run(runs: list[Result]) -> Result:
    """One consumer's figure for a workload from its ``--repeat`` runs.

    The run with the median wall time stands for all (its CPU and rates go with it, so the
    row is one real run), except that peak RSS is the highest of any run, since that limit
    must hold every time. Every run's wall, CPU and RSS is kept in ``extra["runs"]``. A failed
    run makes the whole result the first failure: a consumer that fails sometimes fails.
    """
    if len(runs) == 1:
        return runs[0]
    failed = [r for r in runs if r.status != "ok"]
    chosen = (
        failed[0] if failed else sorted(runs, key=lambda r: r.wall_s or 0.0)[(len(runs) - 1) // 2]
    )
    result = dataclasses.replace(chosen, extra=dict(chosen.extra))
    if not failed:
        result.peak_rss_mb = max(r.peak_rss_mb or 0.0 for r in runs)
    result.extra["runs"] = [
        {
            "status": r.status,
            "wall_s": r.wall_s,
            "cpu_s": None if r.cpu_user_s is None else round(r.cpu_user_s + (r.cpu_sys_s or 0), 3),
            "peak_rss_mb": r.peak_rss_mb,
        }
        for r in runs
    ]
    return result


def compile_walstream() -> None:
    """Measure walstream as it runs once installed: ``pip install`` compiles a wheel's modules
    to bytecode, and a checkout writes it on first import, but a shell with
    PYTHONDONTWRITEBYTECODE set (as on CI machines) recompiles all ~70 modules at every start,
    ~40 ms of fixed cost that a deployed walstream never pays. Stale files are harmless:
    Python checks each against its source."""
    compileall.compile_dir(Path(walstream.__file__).parent, quiet=1)


def run_suite(cfg: SuiteConfig) -> dict[str, Any]:
    """Run everything ``cfg`` selects; returns the results document (also written as JSON)."""
    started = dt.datetime.now(dt.UTC)
    doc: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "command": cfg.command,
        "scale": cfg.scale,
        "smoke": cfg.smoke,
        "repeat": cfg.repeat,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        },
        "workloads": [],
        "results": [],
        "latency": None,
    }
    compile_walstream()
    node_reason = "not selected"
    if "node-peer" in cfg.consumers:
        node_reason = install_node_peer() or ""
    s3: MotoS3 | None = None
    if any(c.endswith("-s3") for c in cfg.consumers):
        try:
            s3 = MotoS3()
        except ImportError as exc:
            log.warning("event=s3_unavailable error=%s", exc)
    try:
        with bench_workdir(cfg.keep_workdir) as workdir:
            server = BenchServer(workdir / "server", keep=cfg.keep_workdir)
            server.start()
            try:
                doc["postgres"] = server.version()
                ctx = RunContext(server, workdir, s3, node_reason or None, cfg.timeout())
                if "walstream-binary-local" in cfg.consumers:
                    doc["walstream_fixed_cost"] = _fixed_cost(ctx, cfg.repeat)
                for name in cfg.workloads:
                    _run_workload(cfg, ctx, name, doc)
                if cfg.latency_seconds > 0:
                    log.info("event=latency_start seconds=%s", cfg.latency_seconds)
                    doc["latency"] = measure_latency(
                        server, workdir, cfg.latency_seconds, rate=cfg.latency_rate
                    )
            finally:
                server.stop()
    finally:
        if s3 is not None:
            s3.stop()
    doc["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    doc["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    doc["duration_s"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    return doc


def _fixed_cost(ctx: RunContext, repeat: int) -> dict[str, Any]:
    """walstream's start-up and shutdown on a slot with nothing to read (context for small runs).

    The median of ``repeat`` runs, each on a fresh slot."""
    server = ctx.server
    server.execute("CREATE TABLE IF NOT EXISTS bench_empty (id int8 PRIMARY KEY)")
    server.create_publication("pub_empty", ["bench_empty"])
    runs: list[Result] = []
    for i in range(repeat):
        slot = _slot_name("empty", "walstream", i)
        start = server.create_slots([slot])
        end = server.fence()
        job = Job("empty", ("bench_empty",), "pub_empty", slot, start, end, 0)
        try:
            runs.append(CONSUMERS["walstream-binary-local"].run(ctx, job))
        finally:
            server.drop_slot(slot)
    res = median_run(runs)
    log.info("event=fixed_cost wall_s=%s status=%s", res.wall_s, res.status)
    return {
        "status": res.status,
        "reason": res.reason,
        "wall_s": res.wall_s,
        "cpu_s": None
        if res.cpu_user_s is None
        else round(res.cpu_user_s + (res.cpu_sys_s or 0), 3),
        "peak_rss_mb": res.peak_rss_mb,
    }


def _run_workload(cfg: SuiteConfig, ctx: RunContext, name: str, doc: dict[str, Any]) -> None:
    workload = WORKLOADS[name]
    server = ctx.server
    runnable: list[str] = []
    for consumer in cfg.consumers:
        reason = CONSUMERS[consumer].unavailable(ctx)
        if reason:
            doc["results"].append(Result(name, consumer, "skipped", reason).as_dict())
        else:
            runnable.append(consumer)
    log.info("event=workload_prepare name=%s consumers=%s", name, ",".join(runnable))
    workload.prepare(server, cfg.scale)
    server.set_decoding_work_mem(workload.decoding_work_mem(cfg.scale))
    publication = "pub_" + name.replace("-", "_")
    server.create_publication(publication, workload.tables)
    runs = range(cfg.repeat)
    slots = {(c, i): _slot_name(name, c, i) for i in runs for c in runnable}
    start = server.create_slots(slots.values())
    t0 = time.monotonic()
    changes = workload.generate(server, cfg.scale)
    generate_s = time.monotonic() - t0
    end = server.fence()
    doc["workloads"].append(
        {
            "name": name,
            "shape": workload.shape,
            "changes": changes,
            "wal_bytes": end - start,
            "start_lsn": format_lsn(start),
            "end_lsn": format_lsn(end),
            "generate_s": round(generate_s, 2),
            "decoding_work_mem": workload.decoding_work_mem(cfg.scale),
        }
    )
    log.info(
        "event=workload_generated name=%s changes=%d wal_mb=%.1f seconds=%.1f",
        name, changes, (end - start) / 2**20, generate_s,
    )  # fmt: skip
    results: dict[str, list[Result]] = {c: [] for c in runnable}
    for i in runs:  # round-robin: a slow spell of the host hits every consumer alike
        for consumer in runnable:
            slot = slots[(consumer, i)]
            job = Job(name, workload.tables, publication, slot, start, end, changes)
            try:
                result = CONSUMERS[consumer].run(ctx, job)
            except Exception as exc:  # one consumer's failure never stops the suite
                log.exception("event=consumer_error workload=%s consumer=%s", name, consumer)
                result = Result(name, consumer, "failed", f"{type(exc).__name__}: {exc}"[:300])
            finally:
                server.drop_slot(slot)
            results[consumer].append(result)
            log.info(
                "event=consumer_done workload=%s consumer=%s run=%d status=%s wall_s=%s "
                "changes_per_s=%s cpu_s_per_million=%s peak_rss_mb=%s reason=%s",
                name, consumer, i + 1, result.status, result.wall_s, result.changes_per_s,
                result.cpu_s_per_million, result.peak_rss_mb, result.reason or "-",
            )  # fmt: skip
    for consumer in runnable:
        doc["results"].append(median_run(results[consumer]).as_dict())
    server.set_decoding_work_mem("64MB")
    for table in workload.tables:
        server.execute(f"DROP TABLE IF EXISTS {table}")
