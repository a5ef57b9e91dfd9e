"""The consumers measured side by side, and how each one is started on a workload's slot.

- ``pg_recvlogical``: PostgreSQL's C client receiving pgoutput (the options walstream binary
  uses) into /dev/null: the ceiling;
- ``walstream-{binary,text}-{local,s3}``: ``walstream run --until-lsn END``: decodes, builds
  Parquet, stores it durably, acks; ``walstream-binary-local-pyloop`` is the same without the
  C part of the read loop (``WALSTREAM_ACCEL=0``);
- ``python-peer``: psycopg2 + ``pypgoutput`` decoding every value to Python
  (peers/python_peer.py);
- ``node-peer``: ``pg-logical-replication`` + its pgoutput plugin decoding every value
  (peers/node_peer.js).

Each consumer gets its own slot (created before the workload, see server.py), runs alone while
it is measured, and stops at the workload's end LSN. A consumer that cannot run here (a missing
package, npm failing) is *skipped* with the reason; one that fails is reported with its error.
Neither stops the suite.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from walstream.lsn import format_lsn
from walstream.sink import open_sink

from .measure import ChildRun, run_child
from .s3 import MotoS3
from .server import BenchServer, pg_tool

log = logging.getLogger("bench.consumers")

BENCH_DIR = Path(__file__).resolve().parent
NODE_DIR = BENCH_DIR / ".node"
REPO_ROOT = BENCH_DIR.parent


@dataclass
class Result:
    """One consumer on one workload (the JSON record of the results file)."""

    workload: str
    consumer: str
    status: str  # ok | skipped | failed
    reason: str = ""
    changes: int = 0
    wal_bytes: int = 0
    wall_s: float | None = None
    cpu_user_s: float | None = None
    cpu_sys_s: float | None = None
    peak_rss_mb: float | None = None
    changes_per_s: float | None = None
    wal_mb_per_s: float | None = None
    cpu_s_per_million: float | None = None
    rows_written: int | None = None  # walstream: rows in the files it stored for the workload
    changes_seen: int | None = None  # peers: changes they decoded
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunContext:
    """What consumers share during one suite run."""

    server: BenchServer
    workdir: Path
    s3: MotoS3 | None  # the moto server, if moto is installed
    node_reason: str | None  # why the Node peer cannot run, None when it can
    timeout: float


@dataclass(frozen=True)
class Job:
    """One workload's stream, as one consumer sees it."""

    workload: str
    tables: tuple[str, ...]
    publication: str
    slot: str
    start_lsn: int
    end_lsn: int
    changes: int


@dataclass(frozen=True)
class Consumer:
    name: str
    #: None when it can run here, else the reason it is skipped.
    unavailable: Callable[[RunContext], str | None]
    run: Callable[[RunContext, Job], Result]


# -- helpers ------------------------------------------------------------------------------------
def _result_from_child(job: Job, consumer: str, child: ChildRun) -> Result:
    res = Result(job.workload, consumer, "ok", changes=job.changes)
    res.wal_bytes = job.end_lsn - job.start_lsn
    res.wall_s = round(child.wall_s, 3)
    res.cpu_user_s = round(child.user_s, 3)
    res.cpu_sys_s = round(child.sys_s, 3)
    res.peak_rss_mb = round(child.peak_rss_bytes / 2**20, 1)
    if child.wall_s > 0:
        res.changes_per_s = round(job.changes / child.wall_s, 1)
        res.wal_mb_per_s = round(res.wal_bytes / 2**20 / child.wall_s, 2)
    if job.changes:
        res.cpu_s_per_million = round(child.cpu_s / job.changes * 1e6, 3)
    if child.timed_out:
        res.status, res.reason = "failed", f"timed out after {child.wall_s:.0f}s"
    elif child.returncode != 0:
        last = child.stderr_tail.splitlines()[-1:] or ["(no output)"]
        res.status, res.reason = "failed", f"exit {child.returncode}: {last[0][:300]}"
    return res


def _log_prefix(ctx: RunContext, job: Job, consumer: str) -> Path:
    logs = ctx.workdir / "logs"
    logs.mkdir(exist_ok=True)
    return logs / f"{job.workload}.{consumer}"


def _conn_parts(ctx: RunContext) -> tuple[str, str, str, str]:
    return ("127.0.0.1", str(ctx.server.port), "postgres", "bench")


# -- pg_recvlogical -----------------------------------------------------------------------------
def _recvlogical_unavailable(ctx: RunContext) -> str | None:
    return None if pg_tool("pg_recvlogical").exists() else "pg_recvlogical not found"


def _recvlogical_run(ctx: RunContext, job: Job) -> Result:
    argv = [
        str(pg_tool("pg_recvlogical")),
        "-d",
        ctx.server.dsn,
        "-S",
        job.slot,
        "--start",
        "-f",
        "/dev/null",
        "-o",
        "proto_version=4",
        "-o",
        f"publication_names={job.publication}",
        "-o",
        "binary=true",
        "-o",
        "streaming=on",
        "-E",
        format_lsn(job.end_lsn),
        "--no-loop",
    ]
    child = run_child(argv, _log_prefix(ctx, job, "pg_recvlogical"), ctx.timeout)
    return _result_from_child(job, "pg_recvlogical", child)


# -- walstream ----------------------------------------------------------------------------------
def walstream_argv(ctx: RunContext, job: Job, dest: str, binary: bool, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "walstream",
        "--log-format",
        "json",
        "run",
        "--dsn",
        ctx.server.dsn,
        "--slot",
        job.slot,
        "--publication",
        job.publication,
        "--dest",
        dest,
        "--binary",
        "on" if binary else "off",
        "--until-lsn",
        format_lsn(job.end_lsn),
        *extra,
    ]


def count_rows(dest: str, tables: tuple[str, ...]) -> int:
    """Rows in every change file of ``tables`` (``public.<table>``) under ``dest``."""
    sink = open_sink(dest)
    total = 0
    for table in tables:
        for key in sink.list(f"public/{table}/"):
            if not key.endswith(".parquet"):
                continue
            data = sink.get(key)
            assert data is not None, f"{key} listed but not readable"
            total += pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
    return total


def _walstream(binary: bool, s3: bool, python_loop: bool = False) -> Consumer:
    """``python_loop``: with ``WALSTREAM_ACCEL=0``, the read loop without its C part."""
    name = f"walstream-{'binary' if binary else 'text'}-{'s3' if s3 else 'local'}"
    name += "-pyloop" if python_loop else ""

    def unavailable(ctx: RunContext) -> str | None:
        if s3 and ctx.s3 is None:
            return "moto is not installed (pip install -e '.[test]'): no S3 API to write to"
        return None

    def run(ctx: RunContext, job: Job) -> Result:
        env = {**os.environ, **(ctx.s3.env if ctx.s3 else {})}
        if python_loop:
            env["WALSTREAM_ACCEL"] = "0"
        if s3:
            assert ctx.s3 is not None
            dest = f"s3://{ctx.s3.new_bucket()}/dms"
        else:
            dest = (ctx.workdir / "sinks" / f"{job.workload}-{name}").as_uri()
        argv = walstream_argv(ctx, job, dest, binary)
        child = run_child(argv, _log_prefix(ctx, job, name), ctx.timeout, env=env, cwd=REPO_ROOT)
        res = _result_from_child(job, name, child)
        if res.status == "ok":
            res.rows_written = count_rows(dest, job.tables)
            if res.rows_written != job.changes:
                res.status = "failed"
                res.reason = f"wrote {res.rows_written} rows for {job.changes} changes"
        # Free the disk (local) or the moto server's memory (S3) the run filled.
        if ctx.s3 is not None and s3:
            ctx.s3.reset()
        else:
            shutil.rmtree(dest.removeprefix("file://"), ignore_errors=True)
        return res

    return Consumer(name, unavailable, run)


# -- peers --------------------------------------------------------------------------------------
def _python_unavailable(ctx: RunContext) -> str | None:
    missing = [m for m in ("psycopg2", "pypgoutput") if importlib.util.find_spec(m) is None]
    if missing:
        return f"{', '.join(missing)} not installed (pip install -e '.[bench]')"
    return None


def _peer_result(job: Job, name: str, child: ChildRun) -> Result:
    res = _result_from_child(job, name, child)
    if res.status != "ok":
        return res
    try:
        res.changes_seen = int(json.loads(child.stdout.strip().splitlines()[-1])["changes"])
    except (ValueError, KeyError, IndexError):
        res.status, res.reason = "failed", f"no summary line on stdout: {child.stdout[-200:]!r}"
        return res
    if res.changes_seen != job.changes:
        res.status = "failed"
        res.reason = f"decoded {res.changes_seen} changes for {job.changes}"
    return res


def _python_run(ctx: RunContext, job: Job) -> Result:
    argv = [
        sys.executable,
        "-m",
        "bench.peers.python_peer",
        "--dsn",
        ctx.server.dsn,
        "--slot",
        job.slot,
        "--publication",
        job.publication,
        "--end-lsn",
        format_lsn(job.end_lsn),
    ]
    child = run_child(argv, _log_prefix(ctx, job, "python-peer"), ctx.timeout, cwd=REPO_ROOT)
    return _peer_result(job, "python-peer", child)


def _node_unavailable(ctx: RunContext) -> str | None:
    return ctx.node_reason


def _node_run(ctx: RunContext, job: Job) -> Result:
    host, port, user, db = _conn_parts(ctx)
    argv = [
        shutil.which("node") or "node",
        str(BENCH_DIR / "peers" / "node_peer.js"),
        host,
        port,
        user,
        db,
        job.slot,
        job.publication,
        format_lsn(job.end_lsn),
    ]
    env = {**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")}
    child = run_child(argv, _log_prefix(ctx, job, "node-peer"), ctx.timeout, env=env)
    return _peer_result(job, "node-peer", child)


def install_node_peer(timeout: float = 300) -> str | None:
    """npm-install the Node peer into bench/.node/; None when ready, else why it cannot run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node/npm not found on PATH"
    wanted = json.loads((BENCH_DIR / "peers" / "package.json").read_text())["dependencies"]
    installed = NODE_DIR / "node_modules" / "pg-logical-replication" / "package.json"
    if installed.exists():
        version = json.loads(installed.read_text()).get("version")
        if version == wanted["pg-logical-replication"]:
            return None
    NODE_DIR.mkdir(exist_ok=True)
    shutil.copy(BENCH_DIR / "peers" / "package.json", NODE_DIR / "package.json")
    try:
        proc = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--omit=dev", "--prefix", str(NODE_DIR)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"npm install timed out after {timeout:.0f}s"
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if "ERR" in ln] or proc.stderr.splitlines()
        return f"npm install failed: {' '.join(lines[-2:])[:300]}"
    log.info("event=node_peer_installed dir=%s", NODE_DIR)
    return None


CONSUMERS: dict[str, Consumer] = {
    c.name: c
    for c in (
        Consumer("pg_recvlogical", _recvlogical_unavailable, _recvlogical_run),
        _walstream(binary=True, s3=False),
        _walstream(binary=True, s3=False, python_loop=True),
        _walstream(binary=False, s3=False),
        _walstream(binary=True, s3=True),
        _walstream(binary=False, s3=True),
        Consumer("python-peer", _python_unavailable, _python_run),
        Consumer("node-peer", _node_unavailable, _node_run),
    )
}
