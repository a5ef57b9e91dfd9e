"""``--snowflake-evolve`` and its Snowflake settings, as options of ``walstream run``.

Apart from :mod:`walstream.snowflake.evolve` so that ``walstream run`` does not import the
Snowflake machinery (the connector, the SQL generator) unless the flag is given: start-up time
counts in every short run.

The connection settings (``--snowflake-account`` ... ``--snowflake-authenticator``,
:func:`connection_options`) are defined here once; ``walstream status --snowflake`` has the same
flags and environment variables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from ..errors import ConfigError
from ..snowflake.options import DEFAULT_TOMBSTONE_RETENTION_DAYS
from .options import F, envopt

if TYPE_CHECKING:
    from ..snowflake.apply import ConnectionSettings
    from ..snowflake.evolve import SnowflakeEvolver

#: An option: a decorator of a click command.
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

REQUIRED = (
    ("account", "--snowflake-account", "SNOWFLAKE_ACCOUNT"),
    ("user", "--snowflake-user", "SNOWFLAKE_USER"),
    ("database", "--snowflake-database", "SNOWFLAKE_DATABASE"),
    ("schema", "--snowflake-schema", "SNOWFLAKE_SCHEMA"),
)

#: The parameters of :func:`connection_options`: the fields of
#: :class:`~walstream.snowflake.apply.ConnectionSettings`.
CONNECTION = (
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
)

#: The credential settings, one of which a connection needs (flag, environment variable).
CREDENTIALS = (
    ("password", "--snowflake-password", "SNOWFLAKE_PASSWORD"),
    ("password_secret", "--snowflake-password-secret", "SNOWFLAKE_PASSWORD_SECRET"),
    ("private_key_file", "--snowflake-private-key-file", "SNOWFLAKE_PRIVATE_KEY_FILE"),
    ("authenticator", "--snowflake-authenticator", "SNOWFLAKE_AUTHENTICATOR"),
)

PARAMS = (
    "snowflake_evolve",
    *CONNECTION,
    "stage",
    "file_format",
    "storage_integration",
    "aws_role_arn",
    "task_warehouse",
    "schedule",
    "prefix_schema",
    "error_integration",
    "soft_delete",
    "tombstone_retention_days",
)


def connection_options(prefix: str = "") -> list[Decorator]:
    """The ``--snowflake-*`` connection options, with the environment variables (and config
    keys) of ``walstream snowflake apply``; each parameter is named ``prefix`` + its name in
    :data:`CONNECTION` (a prefix keeps ``--snowflake-warehouse`` apart from a command's own
    ``--warehouse``)."""

    def option(name: str, env: str, **kwargs: Any) -> Decorator:
        flag = "--snowflake-" + name.replace("_", "-")
        return envopt(flag, prefix + name, env=env, **kwargs)

    return [
        option("account", "SNOWFLAKE_ACCOUNT", help="Snowflake account identifier"),
        option("user", "SNOWFLAKE_USER"),
        option("role", "SNOWFLAKE_ROLE"),
        option("warehouse", "SNOWFLAKE_WAREHOUSE", help="Snowflake warehouse of the session"),
        option("database", "SNOWFLAKE_DATABASE", help="database of the walstream objects"),
        option("schema", "SNOWFLAKE_SCHEMA", help="schema of the walstream objects"),
        option("password", "SNOWFLAKE_PASSWORD", help="prefer the environment variable"),
        option(
            "password_secret",
            "SNOWFLAKE_PASSWORD_SECRET",
            help="vault:PATH#FIELD, aws-secretsmanager:ID#FIELD or env:NAME",
        ),
        option("private_key_file", "SNOWFLAKE_PRIVATE_KEY_FILE", help="PEM key, key-pair auth"),
        option("private_key_passphrase", "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"),
        option("authenticator", "SNOWFLAKE_AUTHENTICATOR", help="e.g. externalbrowser"),
    ]


def connection_values(kwargs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Pop :func:`connection_options`'s parameters out of ``kwargs``, by their names in
    :data:`CONNECTION`."""
    return {name: kwargs.pop(prefix + name, None) for name in CONNECTION}


def connection_settings(
    values: Mapping[str, Any], needed_by: str, credentials: bool = False
) -> ConnectionSettings:
    """The :class:`~walstream.snowflake.apply.ConnectionSettings` of ``values`` (by the names
    in :data:`CONNECTION`); a :class:`ConfigError` naming the flags ``needed_by`` lacks: the
    :data:`REQUIRED` ones, and with ``credentials`` one of :data:`CREDENTIALS`."""
    from ..snowflake.apply import ConnectionSettings

    missing = [f"{flag} (WALSTREAM_{env})" for name, flag, env in REQUIRED if not values[name]]
    if missing:
        raise ConfigError(f"{needed_by} needs {', '.join(missing)}")
    if credentials and not any(values[name] for name, _, _ in CREDENTIALS):
        given = ", ".join(f"{flag} (WALSTREAM_{env})" for _, flag, env in CREDENTIALS)
        raise ConfigError(f"{needed_by} needs Snowflake credentials: one of {given}")
    return ConnectionSettings(**{name: values[name] for name in CONNECTION})


def snowflake_evolve_options(f: F) -> F:
    """Add ``--snowflake-evolve`` and its Snowflake settings; the command gets ``before_write``.

    The settings have the environment variables (and config keys) of ``walstream snowflake
    apply``, so one environment generates and evolves the same objects. The wrapped command
    receives ``before_write`` (a :class:`SnowflakeEvolver`, or None without the flag) in
    place of these options, ready for :class:`~walstream.pipeline.runner.RunConfig`; it must
    take a ``dest`` keyword argument (the stage's URL).
    """
    options: list[Decorator] = [
        envopt(
            "--snowflake-evolve",
            env="SNOWFLAKE_EVOLVE",
            is_flag=True,
            help="before writing a file with a new column or table, add it in Snowflake "
            "(STAGING, FINAL, pipe COPY, MERGE task); drops, renames and type changes are "
            "logged for a human",
        ),
        *connection_options(),
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
        envopt(
            "--snowflake-error-integration",
            "error_integration",
            env="SNOWFLAKE_ERROR_INTEGRATION",
            help="notification integration the pipes push load errors to",
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
            kwargs["before_write"] = evolver_from(kwargs)
        else:
            for name in PARAMS:
                kwargs.pop(name, None)
            kwargs["before_write"] = None
        return f(*args, **kwargs)

    command: Callable[..., Any] = wrapper
    for option in reversed(options):
        command = option(command)
    return command  # type: ignore[return-value]


def evolver_from(kwargs: dict[str, Any]) -> SnowflakeEvolver | None:
    """Pop :func:`snowflake_evolve_options`'s options out of ``kwargs``: the evolver, or None."""
    # the Snowflake machinery is imported only when asked for
    from ..snowflake.evolve import SnowflakeEvolver
    from ..snowflake.options import MergeOptions, SnowflakeOptions

    values = {name: kwargs.pop(name, None) for name in PARAMS}
    if not values["snowflake_evolve"]:
        return None
    settings = connection_settings(values, "--snowflake-evolve")
    options = SnowflakeOptions(
        dest=str(kwargs["dest"]),
        stage=values["stage"] or "WALSTREAM_STAGE",
        file_format=values["file_format"] or "WALSTREAM_PARQUET",
        storage_integration=values["storage_integration"] or None,
        aws_role_arn=values["aws_role_arn"],
        task_warehouse=values["task_warehouse"],
        schedule=values["schedule"] or "1 MINUTE",
        prefix_schema=bool(values["prefix_schema"]),
        database=values["database"],
        schema=values["schema"],
        error_integration=values["error_integration"] or None,
        merge=MergeOptions(
            bool(values["soft_delete"]),
            int(values["tombstone_retention_days"] or DEFAULT_TOMBSTONE_RETENTION_DAYS),
        ),
    )
    return SnowflakeEvolver.from_settings(settings, options)
