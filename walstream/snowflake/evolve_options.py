"""``--snowflake-evolve`` and its Snowflake settings, as options of ``walstream run``.

Apart from :mod:`walstream.snowflake.evolve` so that ``walstream run`` does not import the
Snowflake machinery (the connector, the SQL generator) unless the flag is given: start-up time
counts in every short run.
"""

from __future__ import annotations

import functools
from typing import Any

import click

from ..options import F, envopt
from .options import DEFAULT_TOMBSTONE_RETENTION_DAYS

REQUIRED = (
    ("account", "--snowflake-account", "SNOWFLAKE_ACCOUNT"),
    ("user", "--snowflake-user", "SNOWFLAKE_USER"),
    ("database", "--snowflake-database", "SNOWFLAKE_DATABASE"),
    ("schema", "--snowflake-schema", "SNOWFLAKE_SCHEMA"),
)

PARAMS = (
    "snowflake_evolve",
    "account",
    "user",
    "role",
    "warehouse",
    "database",
    "schema",
    "password",
    "password_secret",
    "private_key_file",
    "private_key_passphrase",
    "authenticator",
    "stage",
    "file_format",
    "storage_integration",
    "aws_role_arn",
    "task_warehouse",
    "schedule",
    "prefix_schema",
    "soft_delete",
    "tombstone_retention_days",
)


def snowflake_evolve_options(f: F) -> F:
    """Add ``--snowflake-evolve`` and its Snowflake settings; the command gets ``before_write``.

    The settings have the environment variables (and config keys) of ``walstream snowflake
    apply``, so one environment generates and evolves the same objects. The wrapped command
    receives ``before_write`` (a :class:`SnowflakeEvolver`, or None without the flag) in
    place of these options, ready for :class:`~walstream.pipeline.runner.RunConfig`; it must
    take a ``dest`` keyword argument (the stage's URL).
    """
    options = [
        envopt(
            "--snowflake-evolve",
            env="SNOWFLAKE_EVOLVE",
            is_flag=True,
            help="before writing a file with a new column or table, add it in Snowflake "
            "(STAGING, FINAL, pipe COPY, MERGE task); drops, renames and type changes are "
            "logged for a human",
        ),
        envopt("--snowflake-account", "account", env="SNOWFLAKE_ACCOUNT"),
        envopt("--snowflake-user", "user", env="SNOWFLAKE_USER"),
        envopt("--snowflake-role", "role", env="SNOWFLAKE_ROLE"),
        envopt("--snowflake-warehouse", "warehouse", env="SNOWFLAKE_WAREHOUSE"),
        envopt("--snowflake-database", "database", env="SNOWFLAKE_DATABASE"),
        envopt("--snowflake-schema", "schema", env="SNOWFLAKE_SCHEMA"),
        envopt(
            "--snowflake-password",
            "password",
            env="SNOWFLAKE_PASSWORD",
            help="prefer the environment variable",
        ),
        envopt(
            "--snowflake-password-secret",
            "password_secret",
            env="SNOWFLAKE_PASSWORD_SECRET",
            help="vault:PATH#FIELD, aws-secretsmanager:ID#FIELD or env:NAME",
        ),
        envopt(
            "--snowflake-private-key-file", "private_key_file", env="SNOWFLAKE_PRIVATE_KEY_FILE"
        ),
        envopt(
            "--snowflake-private-key-passphrase",
            "private_key_passphrase",
            env="SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
        ),
        envopt("--snowflake-authenticator", "authenticator", env="SNOWFLAKE_AUTHENTICATOR"),
        envopt(
            "--snowflake-stage",
            "stage",
            env="SNOWFLAKE_STAGE",
            default="WALSTREAM_STAGE",
            show_default=True,
        ),
        envopt(
            "--snowflake-file-format",
            "file_format",
            env="SNOWFLAKE_FILE_FORMAT",
            default="WALSTREAM_PARQUET",
            show_default=True,
        ),
        envopt(
            "--snowflake-storage-integration",
            "storage_integration",
            env="SNOWFLAKE_STORAGE_INTEGRATION",
            default="WALSTREAM_S3",
            show_default=True,
        ),
        envopt("--snowflake-aws-role-arn", "aws_role_arn", env="SNOWFLAKE_AWS_ROLE_ARN"),
        envopt("--snowflake-task-warehouse", "task_warehouse", env="SNOWFLAKE_TASK_WAREHOUSE"),
        envopt(
            "--snowflake-schedule",
            "schedule",
            env="SNOWFLAKE_SCHEDULE",
            default="1 MINUTE",
            show_default=True,
        ),
        envopt(
            "--snowflake-prefix-schema",
            "prefix_schema",
            env="SNOWFLAKE_PREFIX_SCHEMA",
            is_flag=True,
        ),
        envopt("--snowflake-soft-delete", "soft_delete", env="SOFT_DELETE", is_flag=True),
        envopt(
            "--snowflake-tombstone-retention-days",
            "tombstone_retention_days",
            env="TOMBSTONE_RETENTION_DAYS",
            type=click.IntRange(min=1),
            default=DEFAULT_TOMBSTONE_RETENTION_DAYS,
            show_default=True,
        ),
    ]

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("snowflake_evolve"):
            from .evolve import evolver_from  # the Snowflake machinery: only when asked for

            kwargs["before_write"] = evolver_from(kwargs)
        else:
            for name in PARAMS:
                kwargs.pop(name, None)
            kwargs["before_write"] = None
        return f(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]
