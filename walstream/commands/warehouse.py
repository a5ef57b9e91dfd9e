"""``walstream warehouse``: the local DuckDB warehouse, the Snowflake MERGE on one machine."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..snowflake.options import MergeOptions
from .options import envopt
from .snowflake_options import merge_options

if TYPE_CHECKING:
    from ..warehouse.local import LoadReport


@click.group()
def warehouse() -> None:
    """The local DuckDB warehouse: the Snowflake MERGE on one machine."""


@warehouse.command("load")
@envopt("--dest", env="DEST", required=True, help="s3://bucket/prefix or file:///path")
@envopt(
    "--db",
    env="WAREHOUSE_DB",
    required=True,
    type=click.Path(dir_okay=False),
    help="the DuckDB file (created if missing)",
)
@envopt(
    "--files-per-batch",
    env="WAREHOUSE_FILES_PER_BATCH",
    type=click.IntRange(min=1),
    default=None,
    help="merge this many files of a table at a time (default: all new files at once)",
)
@envopt(
    "--metrics-file",
    env="WAREHOUSE_METRICS_FILE",
    default=None,
    help="after the load, write each table's watermark and wait here (Prometheus text, for "
    "node_exporter's textfile collector)",
)
@merge_options
def load_command(
    dest: str,
    db: str,
    files_per_batch: int | None,
    metrics_file: str | None,
    soft_delete: bool,
    tombstone_retention_days: int,
    load_slice_rows: int,
) -> None:
    """Load the files not loaded yet and merge them into FINAL tables."""
    from ..warehouse import LocalWarehouse  # DuckDB: imported when the command runs

    options = MergeOptions(soft_delete, tombstone_retention_days, load_slice_rows)
    with LocalWarehouse(db, options) as wh:
        report = wh.load(dest, files_per_batch=files_per_batch)
        if metrics_file:
            from ..warehouse.report import write_metrics_file

            write_metrics_file(metrics_file, wh.reading())
    _summary(report)


def _summary(report: LoadReport) -> None:
    """One line of what was loaded, then one per file that failed; exit 1 if any did (a
    failed file holds its table's watermark: loud, with the way out)."""
    tables = " ".join(f"{t}={n}" for t, n in sorted(report.tables.items()))
    click.echo(
        f"walstream: loaded files={report.files} rows={report.rows} "
        f"skipped={report.skipped} {tables}".rstrip(),
        err=True,
    )
    for url, error in report.failed:
        click.echo(f"walstream: FAILED to load {url}: {error}", err=True)
    if report.failed:
        click.echo(
            f"walstream: {len(report.failed)} file(s) failed to load and will not be tried "
            "again by themselves: their tables' FINAL waits for them. Fix or replace the "
            "files, then run `walstream warehouse reload-failed` (see docs/operations.md"
            "#files-that-failed-to-load)",
            err=True,
        )
        raise SystemExit(1)


@warehouse.command("reload-failed")
@envopt("--dest", env="DEST", required=True, help="s3://bucket/prefix or file:///path")
@envopt(
    "--db",
    env="WAREHOUSE_DB",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="the DuckDB file",
)
@click.option("--table", "tables", multiple=True, help="schema.table (default: every table)")
@click.option("--dry-run", is_flag=True, help="list the files, load nothing")
@merge_options
def reload_failed_command(
    dest: str,
    db: str,
    tables: tuple[str, ...],
    dry_run: bool,
    soft_delete: bool,
    tombstone_retention_days: int,
    load_slice_rows: int,
) -> None:
    """Load again the files that failed to load, once their cause is fixed (no duplicate,
    no gap: the MERGE is exact per position)."""
    from ..warehouse import LocalWarehouse

    options = MergeOptions(soft_delete, tombstone_retention_days, load_slice_rows)
    with LocalWarehouse(db, options) as wh:
        keys, report = wh.reload_failed(dest, tables, dry_run=dry_run)
    for key in keys:
        click.echo(key)
    if not keys:
        click.echo("walstream: no failed file to load again", err=True)
    elif report is None:
        click.echo(f"walstream: {len(keys)} failed file(s) would be loaded again", err=True)
    else:
        _summary(report)
