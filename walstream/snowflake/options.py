"""What the generated SQL depends on besides the table models: MERGE and Snowflake options.

Kept apart from the click options (:mod:`walstream.commands.snowflake_options`), which import
the defaults from here: the SQL generator never imports the command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .dialects import SnowflakeDialect, object_name

#: How long a tombstone outlives its delete (days): longer than any replay of the pipeline.
DEFAULT_TOMBSTONE_RETENTION_DAYS = 7

#: Rows of a full load merged per task run (bounded work; a bigger load takes several runs).
DEFAULT_LOAD_SLICE_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class MergeOptions:
    """What the MERGE does with deletes and how long tombstones live."""

    soft_delete: bool = False
    tombstone_retention_days: int = DEFAULT_TOMBSTONE_RETENTION_DAYS
    #: a full load with more rows is merged over several task runs, this many rows per run
    load_slice_rows: int = DEFAULT_LOAD_SLICE_ROWS

    def __post_init__(self) -> None:
        if self.load_slice_rows < 1:
            raise ConfigError(f"load slices of {self.load_slice_rows} rows: use at least 1")
        if self.tombstone_retention_days < 1:
            raise ConfigError(
                f"tombstone retention of {self.tombstone_retention_days} days is too short: "
                "it must outlast any replay (crash recovery) of the pipeline; use at least 1"
            )


@dataclass(frozen=True, slots=True)
class SnowflakeOptions:
    """Everything the generated Snowflake objects depend on besides the table models."""

    dest: str
    stage: str = "WALSTREAM_STAGE"
    file_format: str = "WALSTREAM_PARQUET"
    storage_integration: str | None = "WALSTREAM_S3"
    aws_role_arn: str | None = None
    task_warehouse: str | None = None  # None: serverless task
    schedule: str = "1 MINUTE"  # ignored by a triggered task
    prefix_schema: bool = False
    merge: MergeOptions = MergeOptions()
    database: str | None = None  # both given: every object name is qualified with them
    schema: str | None = None
    triggered: bool = False  # tasks run when a stream has data, not on a schedule
    # a notification integration for the pipes' load errors (Snowpipe skips a whole file on an
    # error; this pushes each one to SNS / Pub/Sub / Event Grid)
    error_integration: str | None = None
    # a stage Snowflake keeps itself (files arrive by PUT) in place of DEST's external stage:
    # for ``walstream snowflake selftest``, which needs no bucket; no storage integration
    internal_stage: bool = False

    @property
    def qualifier(self) -> str:
        if self.database and self.schema:
            return f"{object_name(self.database)}.{object_name(self.schema)}"
        return ""

    @property
    def dialect(self) -> SnowflakeDialect:
        return SnowflakeDialect(prefix_schema=self.prefix_schema, qualifier=self.qualifier)

    @property
    def stage_url(self) -> str:
        return self.dest.rstrip("/") + "/"
