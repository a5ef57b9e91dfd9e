"""``walstream snapshot``: load (or reload) tables from a snapshot consistent with the slot.

Registered on the main group by :mod:`walstream.cli`. Every option has a ``WALSTREAM_*``
environment variable; errors are :class:`~walstream.errors.WalstreamError` and leave through
the CLI's one-line error contract.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import WalstreamError
from ..logs import setup_logging
from ..lsn import format_lsn, parse_lsn
from .load import SnapshotConfig, run_snapshot

F = TypeVar("F", bound=Callable[..., Any])


def _opt(*names: str, env: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*names, envvar=f"WALSTREAM_{env}", show_envvar=True, **kwargs)


def _size(text: str) -> int:
    value = text.strip().upper().replace("IB", "B")
    for suffix, mult in (("KB", 1024), ("MB", 1024**2), ("GB", 1024**3), ("B", 1)):
        if value.endswith(suffix):
            return int(float(value[: -len(suffix)]) * mult)
    return int(value)


class _Size(click.ParamType):  # type: ignore[type-arg]
    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return _size(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a size (e.g. 256MB, 1GB)", param, ctx)


class _Lsn(click.ParamType):  # type: ignore[type-arg]
    name = "lsn"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_lsn(str(value))
        except WalstreamError as exc:
            self.fail(str(exc), param, ctx)


@click.command()
@_opt("--dsn", env="DSN", required=True, help="libpq connection string or URI of the source")
@_opt("--slot", env="SLOT", default="sf_sync", show_default=True, help="the pipeline's slot")
@_opt("--publication", env="PUBLICATION", default="walstream", show_default=True)
@_opt("--dest", env="DEST", required=True, help="s3://bucket/prefix or file:///path")
@_opt(
    "--table",
    "tables",
    env="SNAPSHOT_TABLES",
    multiple=True,
    help="schema.table to load (repeatable or comma-separated; default: every published table)",
)
@_opt(
    "--workers",
    env="SNAPSHOT_WORKERS",
    default=4,
    show_default=True,
    type=int,
    help="connections reading ctid ranges in parallel",
)
@_opt(
    "--memory-budget",
    env="SNAPSHOT_MEMORY_BUDGET",
    default="256MB",
    show_default=True,
    type=_Size(),
    help="memory for buffered rows and files, shared by the workers",
)
@_opt(
    "--create-slot",
    env="CREATE_SLOT",
    is_flag=True,
    help="create the slot with this snapshot if it does not exist (initial load)",
)
@_opt(
    "--resume",
    env="SNAPSHOT_RESUME",
    is_flag=True,
    help="skip tables already loaded (finish an interrupted snapshot)",
)
@_opt(
    "--use-snapshot",
    env="SNAPSHOT_NAME",
    default=None,
    help="load from this exported snapshot (held open by you) instead of creating one",
)
@_opt(
    "--snapshot-lsn",
    env="SNAPSHOT_LSN",
    type=_Lsn(),
    default=None,
    help="consistent point of the slot that exported --use-snapshot",
)
@_opt(
    "--json",
    "json_logs",
    env="SNAPSHOT_JSON",
    is_flag=True,
    help="JSON progress log lines instead of a progress bar (the default without a terminal)",
)
@_opt(
    "--progress-interval",
    env="SNAPSHOT_PROGRESS_INTERVAL",
    default=10.0,
    show_default=True,
    type=float,
    help="seconds between progress log lines",
)
def snapshot(
    dsn: str,
    slot: str,
    publication: str,
    dest: str,
    tables: tuple[str, ...],
    workers: int,
    memory_budget: int,
    create_slot: bool,
    resume: bool,
    use_snapshot: str | None,
    snapshot_lsn: int | None,
    json_logs: bool,
    progress_interval: float,
) -> None:
    """Load tables from a snapshot consistent with the slot (initial load or reload).

    With no slot yet (and --create-slot), the slot is created with the snapshot and the stream
    continues exactly after the loaded rows. With a slot, a temporary slot provides the
    snapshot and each table's LOAD files start with a T marker, so FINAL ends up equal to the
    source, rows deleted before the reload included, while `walstream run` keeps streaming.
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
        resume=resume,
        create_slot=create_slot,
        use_snapshot=use_snapshot,
        consistent_point=snapshot_lsn,
        progress="log" if json_logs else "auto",
        progress_interval=progress_interval,
    )
    summary = run_snapshot(config)
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
