"""``walstream snapshot``: load (or reload) tables from a snapshot consistent with the slot.

Registered on the main group by :mod:`walstream.cli`. Every option has a ``WALSTREAM_*``
environment variable; errors are :class:`~walstream.errors.WalstreamError` and leave through
the CLI's one-line error contract.
"""

from __future__ import annotations

import logging

import click

from ..convert.choices import TypeChoices
from ..logs import setup_logging
from ..lsn import format_lsn
from ..metrics import Metrics, MetricsServer
from ..snapshot.load import SnapshotConfig, join_load, run_snapshot
from ..snapshot.progress import Progress, ProgressCollector, make_progress
from .options import DurationType, LsnType, SizeType, envopt, type_choice_options


@click.command()
@envopt("--dsn", env="DSN", required=True, help="libpq connection string or URI of the source")
@envopt("--slot", env="SLOT", default="sf_sync", show_default=True, help="the pipeline's slot")
@envopt("--publication", env="PUBLICATION", default="walstream", show_default=True)
@envopt("--dest", env="DEST", required=True, help="s3://bucket/prefix or file:///path")
@envopt(
    "--table",
    "tables",
    env="SNAPSHOT_TABLES",
    multiple=True,
    help="schema.table to load (repeatable or comma-separated; default: every published table)",
)
@envopt(
    "--workers",
    env="SNAPSHOT_WORKERS",
    default=4,
    show_default=True,
    type=click.IntRange(0, 64),
    help="worker threads reading chunks here (0: only coordinate; workers join with --join)",
)
@envopt(
    "--chunk-size",
    env="SNAPSHOT_CHUNK_SIZE",
    default="1GB",
    show_default=True,
    type=SizeType(minimum=64 * 1024),
    help="the most table bytes (heap and TOAST) per chunk: what a killed worker reads again",
)
@envopt(
    "--join",
    env="SNAPSHOT_JOIN",
    is_flag=True,
    help="work on the running load of --slot (its plan on --dest) instead of starting one",
)
@envopt(
    "--join-wait",
    env="SNAPSHOT_JOIN_WAIT",
    default=120.0,
    show_default=True,
    type=DurationType(zero_ok=True),
    help="with --join: how long to wait for a load to start",
)
@envopt(
    "--memory-budget",
    env="SNAPSHOT_MEMORY_BUDGET",
    default="256MB",
    show_default=True,
    type=SizeType(minimum=1024**2),
    help="memory for buffered rows and files, shared by the workers",
)
@envopt(
    "--create-slot",
    env="CREATE_SLOT",
    is_flag=True,
    help="create the slot with this snapshot if it does not exist (initial load)",
)
@envopt(
    "--resume",
    env="SNAPSHOT_RESUME",
    is_flag=True,
    help="skip tables already loaded (finish an interrupted snapshot)",
)
@envopt(
    "--use-snapshot",
    env="SNAPSHOT_NAME",
    default=None,
    help="load from this exported snapshot (held open by you) instead of creating one",
)
@envopt(
    "--snapshot-lsn",
    env="SNAPSHOT_LSN",
    type=LsnType(),
    default=None,
    help="consistent point of the slot that exported --use-snapshot",
)
@envopt(
    "--json",
    "json_logs",
    env="SNAPSHOT_JSON",
    is_flag=True,
    help="JSON progress log lines instead of a progress bar (the default without a terminal)",
)
@envopt(
    "--progress-interval",
    env="SNAPSHOT_PROGRESS_INTERVAL",
    default=10.0,
    show_default=True,
    type=DurationType(),
    help="seconds between progress log lines",
)
@envopt(
    "--metrics-port",
    env="METRICS_PORT",
    type=click.IntRange(0, 65535),
    default=None,
    help="serve the load's progress as Prometheus gauges on this port (/metrics)",
)
@envopt(
    "--metrics-host",
    env="METRICS_HOST",
    default="127.0.0.1",
    show_default=True,
    help="address the metrics server listens on",
)
@type_choice_options
def snapshot(
    dsn: str,
    slot: str,
    publication: str,
    dest: str,
    tables: tuple[str, ...],
    workers: int,
    chunk_size: int,
    join: bool,
    join_wait: float,
    memory_budget: int,
    create_slot: bool,
    resume: bool,
    use_snapshot: str | None,
    snapshot_lsn: int | None,
    json_logs: bool,
    progress_interval: float,
    metrics_port: int | None,
    metrics_host: str,
    as_text: tuple[str, ...],
    on_lossy: str,
) -> None:
    """Load tables from a snapshot consistent with the slot (initial load or reload).

    With no slot yet (and --create-slot), the slot is created with the snapshot and the stream
    continues exactly after the loaded rows. With a slot, a temporary slot provides the
    snapshot and each table's LOAD files start with a T marker, so FINAL ends up equal to the
    source, rows deleted before the reload included, while `walstream run` keeps streaming.

    This process coordinates the load (it holds the snapshot) and reads chunks with --workers
    threads; `walstream snapshot --join` on other machines adds workers. A worker killed loses
    only its chunk; the same command started again reads only the chunks not done.
    """
    if json_logs:
        level = logging.getLevelName(logging.getLogger("walstream").getEffectiveLevel())
        setup_logging(str(level).lower(), "json")
    config = SnapshotConfig(
        dsn=dsn,
        slot=slot,
        publication=publication,
        dest=dest,
        tables=tuple(t for item in tables for t in item.split(",") if t.strip()),
        workers=workers,
        memory_budget=memory_budget,
        chunk_bytes=chunk_size,
        resume=resume,
        create_slot=create_slot,
        use_snapshot=use_snapshot,
        consistent_point=snapshot_lsn,
        progress="log" if json_logs else "auto",
        progress_interval=progress_interval,
        choices=TypeChoices.parse(as_text, on_lossy),
    )
    progress = make_progress(config.progress, config.progress_interval)
    server = None if metrics_port is None else _serve_progress(progress, metrics_port, metrics_host)
    try:
        if join:
            chunks = join_load(config, progress=progress, wait_seconds=join_wait)
            click.echo(f"walstream: snapshot --join done; chunks read here={chunks}", err=True)
            return
        summary = run_snapshot(config, progress=progress)
    finally:
        if server is not None:
            server.close()
    if not summary.tables:
        click.echo(
            f"walstream: snapshot: nothing to load; {len(summary.skipped)} tables already loaded",
            err=True,
        )
        return
    click.echo(
        f"walstream: snapshot done; tables={len(summary.tables)} rows={summary.rows} "
        f"files={summary.files} snapshot_lsn={format_lsn(summary.snapshot_lsn)} "
        f"consistent_point={format_lsn(summary.consistent_point)} "
        f"slot={summary.slot or '-'}{' (created)' if summary.created_slot else ''}",
        err=True,
    )


def _serve_progress(progress: Progress, port: int, host: str) -> MetricsServer:
    """``/metrics`` with the load's gauges; ``/healthz`` is 200 while the process runs (a load
    has no read loop to stall: ``snapshot_stalled`` says when no chunk finishes)."""
    metrics = Metrics()
    metrics.stall_seconds = float("inf")
    metrics.registry.register(ProgressCollector(progress))
    return MetricsServer(metrics, port, host).start()
