"""``--snowflake-evolve`` and its Snowflake settings, as options of ``walstream run``.

Apart from :mod:`walstream.snowflake.evolve` so that ``walstream run`` does not import the
Snowflake machinery (the connector, the SQL generator) unless the flag is given: start-up time
counts in every short run.

The connection settings (``--snowflake-account`` ... ``--snowflake-authenticator``,
:func:`connection_options`) are defined here once; ``walstream status --snowflake`` has the same
flags and environment variables.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click

from ..errors import ConfigError
from ..snowflake.options import DEFAULT_LOAD_SLICE_ROWS, MergeOptions, SnowflakeOptions
from .options import DurationType, F, envopt

if TYPE_CHECKING:
    from ..snowflake.apply import ConnectionSettings
    from ..snowflake.evolve import SnowflakeEvolver

#: An option: a decorator of a click command.
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


@dataclasses.dataclass(frozen=True)
class ObjectSetting:
    """One setting of the generated Snowflake objects, declared once for ``snowflake sql`` /
    ``apply`` (flag ``--<name>``) and ``run --snowflake-evolve`` (``--snowflake-<name>``), with
    the same environment variable; its default is the field's in :class:`SnowflakeOptions` (or
    :class:`MergeOptions`), so the SQL generator and every command agree."""

    name: str  # the field, and the click parameter
    env: str  # after WALSTREAM_
    help: str | None = None
    flag: bool = False
    merge: bool = False  # a field of MergeOptions

    def default(self) -> Any:
        owner = MergeOptions if self.merge else SnowflakeOptions
        (found,) = [f for f in dataclasses.fields(owner) if f.name == self.name]
        return found.default

    def option(self, flag_prefix: str = "") -> Decorator:
        flag = f"--{flag_prefix}{self.name.replace('_', '-')}"
        if self.flag:
            return envopt(flag, self.name, env=self.env, is_flag=True, help=self.help)
        default = self.default()
        extra: dict[str, Any] = {"default": default, "show_default": default is not None}
        if isinstance(default, int):
            extra["type"] = click.IntRange(min=1)
        return envopt(flag, self.name, env=self.env, help=self.help, **extra)


OBJECT_SETTINGS = (
    ObjectSetting("stage", "SNOWFLAKE_STAGE", "the external stage of DEST"),
    ObjectSetting("file_format", "SNOWFLAKE_FILE_FORMAT", "the Parquet file format"),
    ObjectSetting(
        "storage_integration",
        "SNOWFLAKE_STORAGE_INTEGRATION",
        "storage integration of the stage ('' for none)",
    ),
    ObjectSetting(
        "aws_role_arn",
        "SNOWFLAKE_AWS_ROLE_ARN",
        "create the storage integration with this IAM role",
    ),
    ObjectSetting(
        "task_warehouse",
        "SNOWFLAKE_TASK_WAREHOUSE",
        "warehouse of the MERGE tasks (default: serverless tasks)",
    ),
    ObjectSetting("schedule", "SNOWFLAKE_SCHEDULE", "how often a task checks its streams"),
    ObjectSetting(
        "error_integration",
        "SNOWFLAKE_ERROR_INTEGRATION",
        "notification integration (SNS, Pub/Sub, Event Grid) the pipes push load errors to: "
        "Snowpipe skips a whole file on an error",
    ),
    ObjectSetting(
        "prefix_schema",
        "SNOWFLAKE_PREFIX_SCHEMA",
        "name FINAL tables <schema>_<table> (when two schemas share table names)",
        flag=True,
    ),
    ObjectSetting(
        "soft_delete",
        "SOFT_DELETE",
        "keep deleted rows in FINAL with _walstream_deleted = TRUE",
        flag=True,
        merge=True,
    ),
    ObjectSetting(
        "tombstone_retention_days",
        "TOMBSTONE_RETENTION_DAYS",
        "keep delete tombstones this long (longer than any replay)",
        merge=True,
    ),
)

#: The MERGE's own settings (the local warehouse has only these).
MERGE_SETTINGS = tuple(s for s in OBJECT_SETTINGS if s.merge)


def load_slice_rows_option() -> Decorator:
    return envopt(
        "--load-slice-rows",
        env="LOAD_SLICE_ROWS",
        type=click.IntRange(min=1),
        default=DEFAULT_LOAD_SLICE_ROWS,
        show_default=True,
        help="merge a larger full load over several task runs, this many rows per run",
    )


def merge_options(f: F) -> F:
    """The MERGE settings shared by the Snowflake objects and the local warehouse."""
    command: Callable[..., Any] = f
    for option in reversed([*(s.option() for s in MERGE_SETTINGS), load_slice_rows_option()]):
        command = option(command)
    return command  # type: ignore[return-value]


def _value(values: Mapping[str, Any], setting: ObjectSetting) -> Any:
    """The parsed value, or the setting's default where none was given (None)."""
    value = values.get(setting.name)
    return setting.default() if value is None else value


def merge_from(values: Mapping[str, Any]) -> MergeOptions:
    """The :class:`MergeOptions` of the parsed :data:`MERGE_SETTINGS` (and load slices)."""
    merge = {s.name: _value(values, s) for s in MERGE_SETTINGS}
    return MergeOptions(
        bool(merge["soft_delete"]),
        int(merge["tombstone_retention_days"]),
        int(values.get("load_slice_rows") or DEFAULT_LOAD_SLICE_ROWS),
    )


def objects_from(values: Mapping[str, Any], dest: str, **more: Any) -> SnowflakeOptions:
    """The :class:`SnowflakeOptions` of the parsed :data:`OBJECT_SETTINGS` (``more``: the
    fields that only some commands have, e.g. ``triggered``, ``database``)."""
    fields = {s.name: _value(values, s) for s in OBJECT_SETTINGS if not s.merge}
    fields["storage_integration"] = fields["storage_integration"] or None
    fields["error_integration"] = fields["error_integration"] or None
    fields["prefix_schema"] = bool(fields["prefix_schema"])
    return SnowflakeOptions(dest=dest, merge=merge_from(values), **fields, **more)


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

PARAMS = ("snowflake_evolve", *CONNECTION, *(s.name for s in OBJECT_SETTINGS))


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
    receives ``before_write`` (a :class:`SnowflakeEvolver`, or None without the flag) and
    ``warehouse_monitor`` (what starts the monitor of ``--snowflake-monitor-interval``, or
    None) in place of these options, ready for :class:`~walstream.pipeline.runner.RunConfig`;
    it must take a ``dest`` keyword argument (the stage's URL) and, for the monitor, ``slot``.
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
        envopt(
            "--snowflake-monitor-interval",
            env="SNOWFLAKE_MONITOR_INTERVAL",
            type=DurationType(),
            default=None,
            help="every this many seconds, read the Snowflake half as `status --snowflake` "
            "does and serve it on /metrics (walstream_warehouse_*); off by default",
        ),
        *connection_options(),
        *(setting.option("snowflake-") for setting in OBJECT_SETTINGS),
    ]

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        interval = kwargs.pop("snowflake_monitor_interval", None)
        values = {name: kwargs.pop(name, None) for name in PARAMS}
        kwargs["before_write"] = evolver_from(values, str(kwargs["dest"]))
        kwargs["warehouse_monitor"] = monitor_from(values, interval, str(kwargs.get("slot")))
        if kwargs["warehouse_monitor"] is not None and kwargs.get("metrics_port") is None:
            raise ConfigError(
                "--snowflake-monitor-interval serves what it reads on /metrics: give "
                "--metrics-port (WALSTREAM_METRICS_PORT) too"
            )
        return f(*args, **kwargs)

    command: Callable[..., Any] = wrapper
    for option in reversed(options):
        command = option(command)
    return command  # type: ignore[return-value]


def evolver_from(values: dict[str, Any], dest: str) -> SnowflakeEvolver | None:
    """The evolver of :func:`snowflake_evolve_options`'s parsed options, or None without
    ``--snowflake-evolve``."""
    if not values["snowflake_evolve"]:
        return None
    from ..snowflake.evolve import SnowflakeEvolver  # the machinery: only when asked for

    settings = connection_settings(values, "--snowflake-evolve")
    options = objects_from(values, dest, database=values["database"], schema=values["schema"])
    return SnowflakeEvolver.from_settings(settings, options)


def monitor_from(
    values: dict[str, Any], interval: float | None, slot: str
) -> Callable[[Callable[[], int], Any], Any] | None:
    """What starts the warehouse monitor (walstream.warehouse.monitor) of ``run`` with the
    ``--snowflake-*`` settings, or None without ``--snowflake-monitor-interval``. The
    settings are checked now: a bad one stops ``run`` before it streams."""
    if not interval:
        return None
    from ..warehouse.monitor import MonitorSettings, WarehouseMonitor

    settings = MonitorSettings(
        float(interval),
        connection_settings(values, "--snowflake-monitor-interval", credentials=True),
        bool(values.get("prefix_schema")),
    )

    def start(acked: Callable[[], int], registry: Any) -> WarehouseMonitor:
        return WarehouseMonitor(settings.reader(), settings.interval, slot, acked, registry).start()

    return start
