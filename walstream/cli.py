"""The ``walstream`` command line.

Every option has a ``WALSTREAM_*`` environment variable (flags win over the environment).
Expected failures (:class:`WalstreamError`) print one line and exit with the error's code;
nothing is acknowledged that is not stored.
"""

from __future__ import annotations

import gc
import importlib
import sys
from typing import Any

import click

from . import __version__
from .commands.config import config_option, secret_options
from .commands.options import (
    DurationType,
    LsnType,
    SectionedCommand,
    SizeType,
    envopt,
    type_choice_options,
)
from .commands.snowflake_options import snowflake_evolve_options
from .errors import WalstreamError
from .logs import setup_logging
from .lsn import format_lsn


class LazyGroup(click.Group):
    """A group whose heavier subcommands are imported only when they are used (or listed).

    Why: ``walstream run`` is restarted by supervisors and timed by the benchmark; importing
    the snapshot, Snowflake and warehouse commands (and what they import) cost every run
    ~0.05 s of start-up for commands it never calls.
    """

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.pop(cmd_name, None)
        if target is not None:
            module, _, attribute = target.partition(":")
            try:
                self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
            except ImportError:
                if not module.startswith("bench."):
                    raise
                # the benchmark suite lives in the source checkout (bench/), not in the wheel
                self.add_command(_not_installed(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


def _not_installed(name: str) -> click.Command:
    """A stand-in for a command that lives in the source checkout only: it says where to run it."""

    def explain(**_: Any) -> None:
        raise click.UsageError(
            f"the benchmark suite is not installed, it lives in a source checkout of walstream: "
            f"run python -m walstream {name} (or python -m bench) in its root"
        )

    return click.Command(
        name,
        callback=explain,
        help="Benchmarks (from a source checkout).",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


@click.group(
    cls=LazyGroup,
    lazy={
        "snapshot": "walstream.commands.snapshot:snapshot",
        "snowflake": "walstream.commands.snowflake:snowflake",
        "warehouse": "walstream.commands.warehouse:warehouse",
        "bench": "bench.cli:bench_command",
    },
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="walstream")
@config_option
@envopt(
    "--log-level",
    env="LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@envopt(
    "--accel/--no-accel",
    env="ACCEL",
    default=True,
    show_default=True,
    help="use walstream's C parts where they were built (--no-accel: their Python twins)",
)
@envopt(
    "--log-format",
    env="LOG_FORMAT",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "text", "json"]),
    help="auto: text on a terminal, JSON lines otherwise",
)
@click.pass_context
def main(ctx: click.Context, log_level: str, log_format: str, accel: bool) -> None:
    """walstream: PostgreSQL logical replication to Parquet on S3 (AWS DMS layout)."""
    setup_logging(log_level, log_format)
    if not accel:
        from .capture import switch

        switch.configure(use_c=False)
    if ctx.invoked_subcommand != "run":  # run imports the pipeline first
        imports_done()


def imports_done() -> None:
    """Start-up is over: turn the cyclic GC back on if walstream/__main__.py turned it off,
    freezing what the imports created out of its collections. A no-op when the GC is on (the
    CLI called from Python, e.g. the tests)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


#: ``walstream run --help``: the options people look for first come first
RUN_SECTIONS = [
    (heading, names.split())
    for heading, names in [
        (
            "Source",
            "dsn slot publication create_slot tables accept_gap binary streaming "
            "decoding_work_mem heartbeat_interval reconnect_attempts socket_rcvbuf",
        ),
        ("Destination", "dest s3_multipart_threshold upload_workers"),
        (
            "Flushing and memory",
            "flush_interval flush_bytes flush_rows max_in_flight spill_dir spill_budget "
            "status_interval",
        ),
        ("Values and types", "as_text on_lossy max_value_size oversized_values"),
        ("Initial load", "snapshot_mode snapshot_workers snapshot_memory_budget"),
        ("Operations", "metrics_port metrics_host metrics_token until_lsn exit_when_idle help"),
        (
            "Snowflake (--snowflake-evolve)",
            "snowflake_evolve snowflake_monitor_interval account user role warehouse database "
            "schema password "
            "password_secret private_key_file private_key_passphrase authenticator stage "
            "file_format storage_integration aws_role_arn task_warehouse schedule prefix_schema "
            "error_integration soft_delete tombstone_retention_days",
        ),
        (
            "Secrets (the source's password)",
            "password_from vault_addr vault_auth vault_token vault_role_id vault_secret_id "
            "vault_aws_role vault_aws_header vault_kv_version vault_namespace vault_ca_cert "
            "aws_region",
        ),
    ]
]


@main.command(cls=SectionedCommand, sections=RUN_SECTIONS)
@secret_options
@snowflake_evolve_options
@envopt("--dsn", env="DSN", required=True, help="libpq connection string or URI of the source")
@envopt("--slot", env="SLOT", default="sf_sync", show_default=True, help="logical replication slot")
@envopt("--publication", env="PUBLICATION", default="walstream", show_default=True)
@envopt("--dest", env="DEST", required=True, help="s3://bucket/prefix or file:///path")
@envopt(
    "--create-slot",
    env="CREATE_SLOT",
    is_flag=True,
    help="create the slot (pgoutput) and, if missing, the publication",
)
@envopt(
    "--accept-gap",
    env="ACCEPT_GAP",
    is_flag=True,
    help="go on from a slot that is ahead of what walstream stored (dropped and recreated, or "
    "advanced by hand), leaving the changes in between out of FINAL; logged as event=gap_accepted",
)
@envopt(
    "--tables",
    env="TABLES",
    multiple=True,
    help="schema.table for a publication created by --create-slot (default: all tables)",
)
@envopt(
    "--binary",
    env="BINARY",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "on", "off"]),
    help="binary value format (auto: on when every published column type decodes in binary)",
)
@envopt(
    "--metrics-port",
    env="METRICS_PORT",
    type=click.IntRange(0, 65535),
    default=None,
    help="serve /metrics, /healthz and /readyz on this port (0: any free port)",
)
@envopt(
    "--metrics-host",
    env="METRICS_HOST",
    default="127.0.0.1",
    show_default=True,
    help="address of the metrics server; 0.0.0.0 where Prometheus scrapes from outside "
    "(a container)",
)
@envopt(
    "--metrics-token",
    env="METRICS_TOKEN",
    default=None,
    help="serve /metrics only with Authorization: Bearer <token> (/healthz, /readyz stay open)",
)
@envopt(
    "--heartbeat-interval",
    env="HEARTBEAT_INTERVAL",
    type=DurationType(),
    default=None,
    help="seconds between pg_logical_emit_message heartbeats (keeps restart_lsn moving)",
)
@envopt(
    "--snapshot",
    "snapshot_mode",
    env="SNAPSHOT",
    default="never",
    show_default=True,
    type=click.Choice(["never", "initial"]),
    help="initial: first load every published table not loaded yet, then stream",
)
@envopt(
    "--snapshot-workers",
    env="SNAPSHOT_WORKERS",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
)
@envopt(
    "--snapshot-memory-budget",
    env="SNAPSHOT_MEMORY_BUDGET",
    default="256MB",
    show_default=True,
    type=SizeType(minimum=1024**2),
)
@envopt(
    "--s3-multipart-threshold",
    env="S3_MULTIPART_THRESHOLD",
    default="64MB",
    show_default=True,
    type=SizeType(minimum=5 * 1024**2),
    help="files larger than this are uploaded to S3 in parts (at least 5MB)",
)
@envopt(
    "--streaming",
    env="STREAMING",
    default="on",
    show_default=True,
    type=click.Choice(["on", "off"]),
    help="let the server stream large transactions before they commit (PostgreSQL 14+)",
)
@envopt(
    "--spill-dir",
    env="SPILL_DIR",
    default=None,
    help="where streamed transactions wait for their commit (default: the temp directory)",
)
@envopt(
    "--spill-budget",
    env="SPILL_BUDGET",
    default="20GB",
    show_default=True,
    type=SizeType(minimum=1024**2),
    help="local disk streamed transactions may use before walstream stops with an error",
)
@envopt(
    "--decoding-work-mem",
    env="DECODING_WORK_MEM",
    default=None,
    help="the walsender's logical_decoding_work_mem for this session (e.g. 64MB)",
)
@envopt(
    "--flush-interval",
    env="FLUSH_INTERVAL",
    default=60.0,
    show_default=True,
    type=DurationType(),
    help="seconds from the first buffered change to its flush",
)
@envopt(
    "--socket-rcvbuf",
    env="SOCKET_RCVBUF",
    default="128KiB",
    show_default=True,
    type=SizeType(minimum=0),
    help="the replication socket's receive buffer; 0: the kernel sizes it (far from the "
    "database, where 256 KiB per round trip is too small)",
)
@envopt(
    "--max-value-size",
    env="MAX_VALUE_SIZE",
    default="128MB",
    show_default=True,
    type=SizeType(minimum=1024),
    help="largest single value written (Snowflake loads at most 128 MB per value; "
    "PostgreSQL allows 1 GB)",
)
@type_choice_options
@envopt(
    "--oversized-values",
    env="OVERSIZED_VALUES",
    default="fail",
    show_default=True,
    type=click.Choice(["fail", "null"]),
    help="a value over --max-value-size: stop with an error (nothing acknowledged), or "
    "write NULL and log event=value_nulled",
)
@envopt(
    "--flush-bytes",
    env="FLUSH_BYTES",
    default="32MB",
    show_default=True,
    type=SizeType(minimum=64 * 1024),
)
@envopt(
    "--flush-rows",
    env="FLUSH_ROWS",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(min=1),
)
@envopt(
    "--status-interval",
    env="STATUS_INTERVAL",
    default=10.0,
    show_default=True,
    type=DurationType(),
    help="seconds between standby status updates",
)
@envopt(
    "--max-in-flight",
    env="MAX_IN_FLIGHT",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="flushes encoding/uploading at once before reading pauses",
)
@envopt(
    "--upload-workers",
    env="UPLOAD_WORKERS",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
)
@envopt(
    "--reconnect-attempts",
    env="RECONNECT_ATTEMPTS",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="give up after this many failed reconnects (0: never)",
)
@envopt(
    "--until-lsn",
    env="UNTIL_LSN",
    type=LsnType(),
    default=None,
    help="exit 0 once everything up to this LSN is stored and acknowledged",
)
@envopt(
    "--exit-when-idle",
    env="EXIT_WHEN_IDLE",
    type=DurationType(),
    default=None,
    help="exit 0 after this many seconds with nothing buffered and nothing received",
)
def run(**kwargs: Any) -> None:
    """Stream a replication slot to Parquet files; acknowledge only what is durable."""
    from .pipeline.runner import RunConfig, Runner

    imports_done()
    kwargs["tables"] = tuple(t for item in kwargs["tables"] for t in item.split(",") if t)
    threshold = kwargs.pop("s3_multipart_threshold")
    if str(kwargs["dest"]).startswith("s3://"):
        kwargs["sink_options"] = {"multipart_threshold": threshold}
    snapshot_mode = kwargs.pop("snapshot_mode")
    snapshot_workers = kwargs.pop("snapshot_workers")
    snapshot_budget = kwargs.pop("snapshot_memory_budget")
    config = RunConfig(**kwargs)
    if snapshot_mode == "initial":
        from .snapshot import initial_load

        initial_load(config, workers=snapshot_workers, memory_budget=snapshot_budget)
    runner = Runner(config)
    runner.install_signal_handlers()
    summary = runner.run()
    click.echo(
        f"walstream: stopped; acked_lsn={format_lsn(summary.acked_lsn)} "
        f"transactions={summary.transactions} changes={summary.changes} "
        f"files={len(summary.files)} reconnects={summary.reconnects}",
        err=True,
    )


@main.command()
@envopt(
    "--workdir",
    env="DEMO_DIR",
    default="./walstream-demo",
    show_default=True,
    type=click.Path(file_okay=False),
    help="where the demo keeps its database and files",
)
@envopt("--transactions", env="DEMO_TRANSACTIONS", default=200, show_default=True, type=int)
@envopt("--seed", env="DEMO_SEED", default=1, show_default=True, type=int)
def demo(workdir: str, transactions: int, seed: int) -> None:
    """Everything local: embedded PostgreSQL, a workload, walstream run to file://, a report,
    and `walstream status` of the whole path (slot, files, warehouse)."""
    from .demo import run_demo

    def status(dsn: str, slot: str, dest: str, warehouse: str) -> None:
        from .ops.status import collect_status
        from .ops.status_render import render
        from .pg import source
        from .sink import open_sink

        click.echo("")
        click.echo(
            f"walstream demo: walstream status --slot {slot} --dest {dest} --warehouse {warehouse}"
        )
        with source.connect(dsn) as conn:
            render(collect_status(conn, slot, open_sink(dest), warehouse=warehouse))

    run_demo(workdir, transactions=transactions, seed=seed, then=status)


def _register() -> None:
    """The ops commands (light; the heavier ones are LazyGroup's)."""
    from .commands.ops import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_register()


def _command_of(ctx: click.Context | None) -> str:
    """``walstream snowflake apply``, however the program was started."""
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["walstream", *names])


def cli() -> None:
    """Entry point with the error contract: one line, an exit code, no traceback."""
    try:
        code = main.main(standalone_mode=False)
        if isinstance(code, int) and code:  # a command that ended with ctx.exit(code)
            sys.exit(code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.UsageError as exc:
        # one line, like every other error: what is wrong and with which setting
        message = " ".join(exc.format_message().split())
        click.echo(f"walstream: error: {message} (see {_command_of(exc.ctx)} --help)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except WalstreamError as exc:
        click.echo(f"walstream: error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    cli()
