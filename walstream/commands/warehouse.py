"""``walstream warehouse``: the local DuckDB warehouse, the Snowflake MERGE on one machine."""

from __future__ import annotations

import click

from ..snowflake.options import MergeOptions
from .options import envopt
from .snowflake_options import merge_options


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

            write_metrics_file(metrics_file, wh.watermarks(), flow=wh.file_flow())
    tables = " ".join(f"{t}={n}" for t, n in sorted(report.tables.items()))
    click.echo(
        f"walstream: loaded files={report.files} rows={report.rows} "
        f"skipped={report.skipped} {tables}".rstrip(),
        err=True,
    )
