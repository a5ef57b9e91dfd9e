"""The operator's commands: ``status``, ``doctor``, ``slot``, ``publication``, ``config``,
``verify``.

Each is a thin click layer over a module that does the work and is tested on its own
(:mod:`.status`, :mod:`walstream.pg.admin`, :mod:`walstream.config`, :mod:`walstream.verify`).
They connect with the same credential sources as ``walstream run`` (``--password-from``, see
:mod:`walstream.secrets`) and read the same config file. Commands meant for monitoring exit
0 ok / 1 warning / 2 critical; they exit with ``SystemExit`` because the CLI runs click with
``standalone_mode=False``, which would swallow ``ctx.exit(code)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from ..errors import ConfigError
from ..secrets import DsnSource
from .config import (
    config_option,
    config_path,
    effective_settings,
    secret_options,
)
from .options import DurationType, F, SizeType, envopt, type_choice_options
from .snowflake_options import (
    OBJECT_SETTINGS,
    connection_options,
    connection_settings,
    connection_values,
)

#: The parameters of status's ``--snowflake-*`` options: ``snowflake_`` + the setting, apart
#: from its ``--warehouse`` (the DuckDB file).
_SNOWFLAKE = "snowflake_"


def _snowflake_options(f: F) -> F:
    command: Callable[..., Any] = f
    for option in reversed(connection_options(_SNOWFLAKE)):
        command = option(command)
    return command  # type: ignore[return-value]


#: ``--snowflake-prefix-schema``: the objects' naming, the setting `snowflake apply` and
#: ``run --snowflake-evolve`` have (same flag and variable).
_prefix_schema_option = next(s for s in OBJECT_SETTINGS if s.name == "prefix_schema").option(
    "snowflake-"
)


def _dsn_option(required: bool = True) -> Callable[[F], F]:
    return envopt(
        "--dsn",
        env="DSN",
        required=required,
        default=None,
        help="libpq connection string or URI of the source",
    )


def _connect(dsn_provider: DsnSource) -> Any:
    from ..pg import source

    if not dsn_provider.dsn and not dsn_provider.kind:
        raise ConfigError("--dsn (or WALSTREAM_DSN) is required")
    return source.connect(dsn_provider())


def _exit(code: int) -> None:
    sys.stdout.flush()
    raise SystemExit(code)


# -- status ----------------------------------------------------------------------------------
@click.command()
@config_option
@_dsn_option(required=False)
@envopt("--slot", env="SLOT", default="sf_sync", show_default=True)
@envopt("--dest", env="DEST", default=None, help="read the checkpoint under this destination")
@click.option("--json", "as_json", is_flag=True, help="one JSON object (see --json-schema)")
@click.option("--json-schema", is_flag=True, help="print the JSON Schema of --json and exit")
@envopt(
    "--max-lag-bytes", env="MAX_LAG_BYTES", type=SizeType(), default=None, help="critical above"
)
@envopt(
    "--max-lag-seconds",
    env="MAX_LAG_SECONDS",
    type=DurationType(zero_ok=True),
    default=None,
    help="critical above",
)
@envopt(
    "--warn-lag-bytes", env="WARN_LAG_BYTES", type=SizeType(), default=None, help="warning above"
)
@envopt(
    "--warn-lag-seconds",
    env="WARN_LAG_SECONDS",
    type=DurationType(zero_ok=True),
    default=None,
    help="warning above",
)
@envopt(
    "--warehouse",
    env="WAREHOUSE",
    default=None,
    help="the local DuckDB warehouse file (read-only): each table's merged watermark and the "
    "file it waits for",
)
@envopt(
    "--max-waiting",
    env="MAX_WAITING",
    type=DurationType(zero_ok=True),
    default=900.0,
    show_default=True,
    help="critical when a table's watermark has waited longer for a file (seconds)",
)
@envopt(
    "--warn-waiting",
    env="WARN_WAITING",
    type=DurationType(zero_ok=True),
    default=None,
    help="warning above",
)
@envopt(
    "--max-unloaded-age",
    env="MAX_UNLOADED_AGE",
    type=DurationType(zero_ok=True),
    default=None,
    help="critical when a file listed in a manifest has not reached STAGING for longer",
)
@envopt(
    "--warn-unloaded-age",
    env="WARN_UNLOADED_AGE",
    type=DurationType(zero_ok=True),
    default=None,
    help="warning above",
)
@envopt(
    "--max-freshness",
    env="MAX_FRESHNESS",
    type=DurationType(zero_ok=True),
    default=None,
    help="critical when a table's FINAL reflects a source commit older than this (seconds)",
)
@envopt(
    "--warn-freshness",
    env="WARN_FRESHNESS",
    type=DurationType(zero_ok=True),
    default=None,
    help="warning above",
)
@envopt(
    "--snowflake",
    env="STATUS_SNOWFLAKE",
    is_flag=True,
    help="read the same from Snowflake: WALSTREAM_WATERMARKS in --snowflake-database/"
    "--snowflake-schema (where `walstream snowflake apply` created the objects)",
)
@_snowflake_options
@_prefix_schema_option
@secret_options
def status(
    dsn: str | None,
    dsn_provider: DsnSource,
    slot: str,
    dest: str | None,
    as_json: bool,
    json_schema: bool,
    max_lag_bytes: int | None,
    max_lag_seconds: float | None,
    warn_lag_bytes: int | None,
    warn_lag_seconds: float | None,
    warehouse: str | None,
    max_waiting: float | None,
    warn_waiting: float | None,
    max_unloaded_age: float | None,
    warn_unloaded_age: float | None,
    max_freshness: float | None,
    warn_freshness: float | None,
    snowflake: bool,
    prefix_schema: bool,
    **connection: Any,
) -> None:
    """Slot lag, WAL retention, consumer progress and, with --warehouse or --snowflake, the
    tables waiting for a file; exit 0 ok, 1 warning, 2 critical. Without --dsn, only the
    warehouse (and --dest) are read."""
    from ..ops.status import Thresholds, collect_status
    from ..ops.status_render import render
    from ..ops.status_schema import STATUS_SCHEMA
    from ..sink import open_sink

    if json_schema:
        click.echo(json.dumps(STATUS_SCHEMA, indent=2))
        return
    thresholds = Thresholds(
        max_lag_bytes,
        max_lag_seconds,
        warn_lag_bytes,
        warn_lag_seconds,
        max_waiting,
        warn_waiting,
        max_unloaded_age,
        warn_unloaded_age,
        max_freshness,
        warn_freshness,
    )
    values = connection_values(connection, _SNOWFLAKE)
    if warehouse and snowflake:
        raise ConfigError("give --warehouse (a DuckDB file) or --snowflake, not both")
    settings = connection_settings(values, "--snowflake", credentials=True) if snowflake else None
    sink = open_sink(dest) if dest else None
    if not dsn_provider.dsn and not dsn_provider.kind:
        if not warehouse and not snowflake:
            raise ConfigError(
                "--dsn (or WALSTREAM_DSN) is required, unless --warehouse or --snowflake is given"
            )
        doc = collect_status(
            None,
            slot,
            sink,
            thresholds,
            warehouse=warehouse,
            snowflake=settings,
            prefix_schema=prefix_schema,
        )
    else:
        with _connect(dsn_provider) as conn:
            doc = collect_status(
                conn,
                slot,
                sink,
                thresholds,
                warehouse=warehouse,
                snowflake=settings,
                prefix_schema=prefix_schema,
            )
    if as_json:
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
    else:
        render(doc)
    _exit(int(doc["exit_code"]))


# -- doctor ----------------------------------------------------------------------------------
@click.command()
@config_option
@_dsn_option(required=False)
@envopt("--slot", env="SLOT", default="sf_sync", show_default=True)
@envopt("--publication", env="PUBLICATION", default="walstream", show_default=True)
@click.option("--json", "as_json", is_flag=True)
@secret_options
def doctor(
    dsn: str | None, dsn_provider: DsnSource, slot: str, publication: str, as_json: bool
) -> None:
    """Check everything the source needs and print the fix for each problem."""
    from ..pg.admin import FAIL, WARN, run_checks

    with _connect(dsn_provider) as conn:
        checks = run_checks(conn, slot=slot, publication=publication)
    code = (
        2
        if any(c.status == FAIL for c in checks)
        else 1
        if any(c.status == WARN for c in checks)
        else 0
    )
    if as_json:
        click.echo(
            json.dumps({"exit_code": code, "checks": [c.as_dict() for c in checks]}, indent=2)
        )
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="walstream doctor", title_justify="left")
        for column in ("", "check", "finding", "fix"):
            table.add_column(column)
        marks = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]"}
        for c in checks:
            table.add_row(marks[c.status], c.name, c.detail, c.fix)
        Console().print(table)
    _exit(code)


# -- slot ------------------------------------------------------------------------------------
@click.group()
@config_option
def slot() -> None:
    """Create, drop or advance the replication slot."""


def _slot_command(f: F) -> F:
    f = secret_options(f)
    f = envopt("--slot", env="SLOT", default="sf_sync", show_default=True)(f)
    f = _dsn_option(required=False)(f)
    return config_option(f)


@slot.command("create")
@_slot_command
def slot_create(dsn: str | None, dsn_provider: DsnSource, slot: str) -> None:
    """Create a pgoutput logical replication slot."""
    from ..pg.admin import create_slot

    with _connect(dsn_provider) as conn:
        lsn = create_slot(conn, slot)
    click.echo(f"created slot {slot} (pgoutput) at {lsn}")


@slot.command("drop")
@_slot_command
@click.option("--force", is_flag=True, help="terminate the consumer holding the slot first")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def slot_drop(dsn: str | None, dsn_provider: DsnSource, slot: str, force: bool, yes: bool) -> None:
    """Drop the slot (the server frees the WAL it retained; changes not consumed are lost)."""
    from ..pg.admin import drop_slot

    if not yes:
        click.confirm(
            f"Drop slot {slot}? Changes it has not delivered are lost to FINAL", abort=True
        )
    with _connect(dsn_provider) as conn:
        drop_slot(conn, slot, force=force)
    click.echo(f"dropped slot {slot}")


@slot.command("advance")
@_slot_command
@click.option("--to", "to_lsn", default=None, help="target LSN (default: the current WAL end)")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def slot_advance(
    dsn: str | None, dsn_provider: DsnSource, slot: str, to_lsn: str | None, yes: bool
) -> None:
    """Skip the slot forward; the changes skipped never reach FINAL (re-snapshot after)."""
    from ..pg.admin import advance_slot

    if not yes:
        click.confirm(
            f"Advance slot {slot}? Changes it skips are never delivered (re-snapshot after)",
            abort=True,
        )
    with _connect(dsn_provider) as conn:
        before, after = advance_slot(conn, slot, to_lsn)
    click.echo(f"advanced slot {slot} from {before} to {after}")


# -- publication -----------------------------------------------------------------------------
@click.group()
@config_option
def publication() -> None:
    """Create, extend or show the publication."""


def _pub_command(f: F) -> F:
    f = secret_options(f)
    f = envopt("--publication", env="PUBLICATION", default="walstream", show_default=True)(f)
    f = _dsn_option(required=False)(f)
    return config_option(f)


def _tables(tables: tuple[str, ...]) -> list[str]:
    return [t.strip() for item in tables for t in item.split(",") if t.strip()]


@publication.command("create")
@_pub_command
@click.option("--table", "tables", multiple=True, help="schema.table (default: all tables)")
def publication_create(
    dsn: str | None, dsn_provider: DsnSource, publication: str, tables: tuple[str, ...]
) -> None:
    """CREATE PUBLICATION for the given tables (or FOR ALL TABLES)."""
    from ..pg.admin import create_publication_for

    names = _tables(tables)
    with _connect(dsn_provider) as conn:
        create_publication_for(conn, publication, names)
    click.echo(f"created publication {publication} for {', '.join(names) or 'all tables'}")


@publication.command("add-table")
@_pub_command
@click.option("--table", "tables", multiple=True, required=True, help="schema.table")
def publication_add_table(
    dsn: str | None, dsn_provider: DsnSource, publication: str, tables: tuple[str, ...]
) -> None:
    """ALTER PUBLICATION ... ADD TABLE (snapshot the new tables afterwards)."""
    from ..pg.admin import add_tables

    names = _tables(tables)
    with _connect(dsn_provider) as conn:
        add_tables(conn, publication, names)
    click.echo(f"added {', '.join(names)} to publication {publication}")


@publication.command("show")
@_pub_command
@click.option("--json", "as_json", is_flag=True)
def publication_show(
    dsn: str | None, dsn_provider: DsnSource, publication: str, as_json: bool
) -> None:
    """The publication's tables with their key and REPLICA IDENTITY, and what to fix."""
    from ..pg.admin import check_table, publication_info

    with _connect(dsn_provider) as conn:
        info = publication_info(conn, publication)
    if info is None:
        raise ConfigError(
            f"publication {publication!r} does not exist: walstream publication create"
        )
    rows: list[dict[str, Any]] = []
    for t in info.tables:
        check = check_table(t)
        rows.append(
            {
                "table": t.qualified_name,
                "primary_key": list(t.primary_key),
                "replica_identity": t.identity,
                "identity_index": t.identity_index,
                "status": check.status,
                "detail": check.detail,
                "fix": check.fix,
            }
        )
    if as_json:
        doc = {
            "publication": info.name,
            "all_tables": info.all_tables,
            "operations": list(info.operations),
            "tables": rows,
        }
        click.echo(json.dumps(doc, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    scope = "FOR ALL TABLES" if info.all_tables else "FOR TABLE ..."
    table = Table(
        title=f"publication {info.name} ({scope}; {', '.join(info.operations)})",
        title_justify="left",
    )
    for column in ("table", "key", "replica identity", "status", "fix"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["table"]),
            ", ".join(row["primary_key"]) or str(row["identity_index"] or "-"),
            str(row["replica_identity"]),
            str(row["status"]),
            str(row["fix"]),
        )
    Console().print(table)


# -- config ----------------------------------------------------------------------------------
@click.group("config")
def config_group() -> None:
    """The effective configuration (flag > env > file > default)."""


@config_group.command("show")
@click.argument("command", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def config_show(ctx: click.Context, command: tuple[str, ...], as_json: bool) -> None:
    """Settings COMMAND (default: run) would use now, and where each came from; secrets
    redacted. Give the file with `walstream --config FILE config show` or WALSTREAM_CONFIG."""
    path = command or ("run",)
    settings = effective_settings(ctx, path)
    if as_json:
        click.echo(
            json.dumps(
                {"command": " ".join(path), "config_file": config_path(ctx), "settings": settings},
                indent=2,
                default=str,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"walstream {' '.join(path)} (config file: {config_path(ctx) or 'none'})",
        title_justify="left",
    )
    for column in ("setting", "value", "from", "env"):
        table.add_column(column, overflow="fold")
    for s in settings:
        table.add_row(
            s["name"], "-" if s["value"] is None else str(s["value"]), s["source"], s["env"] or ""
        )
    Console().print(table)


# -- verify ----------------------------------------------------------------------------------
@click.command()
@config_option
@_dsn_option(required=False)
@envopt("--warehouse", env="WAREHOUSE", default=None, help="the local DuckDB warehouse file")
@envopt(
    "--snowflake",
    env="VERIFY_SNOWFLAKE",
    is_flag=True,
    help="compare with FINAL in Snowflake (--snowflake-* settings, as status): checksums "
    "computed in PostgreSQL and in Snowflake",
)
@_snowflake_options
@_prefix_schema_option
@click.option(
    "--method",
    type=click.Choice(["rows", "checksums"]),
    default=None,
    help="rows: every source row through walstream's converters, compared in DuckDB (exact on "
    "every value; the local warehouse's default); checksums: counts and checksums computed in "
    "each engine, nothing pulled whole (--snowflake's only method)",
)
@type_choice_options
@envopt("--slot", env="SLOT", default=None, help="wait until this slot has acked the snapshot")
@envopt("--publication", env="PUBLICATION", default="walstream", show_default=True)
@click.option("--table", "tables", multiple=True, help="schema.table (default: the publication's)")
@envopt("--dest", env="DEST", default=None, help="check every change file there is loaded")
@click.option("--load", is_flag=True, help="load new change files from --dest first")
@click.option(
    "--wait",
    "wait_seconds",
    type=DurationType(zero_ok=True),
    default=60.0,
    show_default=True,
    help="seconds to wait for the slot to ack the snapshot LSN",
)
@click.option(
    "--chunk-rows",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="keys per range",
)
@click.option(
    "--max-ranges",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="ranges to detail",
)
@click.option("--json", "as_json", is_flag=True)
@secret_options
def verify(
    dsn: str | None,
    dsn_provider: DsnSource,
    warehouse: str | None,
    snowflake: bool,
    prefix_schema: bool,
    method: str | None,
    as_text: tuple[str, ...],
    on_lossy: str,
    slot: str | None,
    publication: str,
    tables: tuple[str, ...],
    dest: str | None,
    load: bool,
    wait_seconds: float,
    chunk_rows: int,
    max_ranges: int,
    as_json: bool,
    **connection: Any,
) -> None:
    """Reconcile source tables with FINAL: counts and per-key-range checksums at one LSN.
    Exit 0 match, 1 differences, 2 inconclusive (FINAL behind the snapshot)."""
    from ..verify import VerifyOptions
    from ..verify import verify as run_verify

    if not dsn_provider.dsn and not dsn_provider.kind:
        raise ConfigError("--dsn (or WALSTREAM_DSN) is required")
    if bool(warehouse) == snowflake:
        raise ConfigError("give --warehouse (the local DuckDB file) or --snowflake, one of them")
    if snowflake and method == "rows":
        raise ConfigError("--snowflake compares with --method checksums only")
    settings = None
    if snowflake:
        values = connection_values(connection, _SNOWFLAKE)
        settings = connection_settings(values, "--snowflake", credentials=True)
    options = VerifyOptions(
        tables=tuple(_tables(tables)),
        publication=publication,
        slot=slot,
        wait_seconds=wait_seconds,
        chunk_rows=chunk_rows,
        max_ranges=max_ranges,
    )
    if settings is not None or method == "checksums":
        from ..verify.pushdown import verify_with_checksums

        report = verify_with_checksums(
            dsn_provider(),
            options,
            warehouse=warehouse,
            snowflake=settings,
            prefix_schema=prefix_schema,
            dest=dest,
            load=load,
            choices=(as_text, on_lossy),
        )
    else:
        assert warehouse is not None
        report = run_verify(dsn_provider(), warehouse, options, dest=dest, load=load)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        from rich.console import Console
        from rich.table import Table

        console = Console()
        console.print(
            f"verify at snapshot LSN {report.snapshot_lsn}: [bold]{report.status}[/]"
            + (f" ({report.note})" if report.note else "")
        )
        table = Table(title_justify="left")
        for column in (
            "table",
            "status",
            "source rows",
            "FINAL rows",
            "missing",
            "extra",
            "changed",
            "in flux",
            "differing ranges",
        ):
            table.add_column(column)
        for t in report.tables:
            table.add_row(
                t.table,
                t.status + (f" ({t.note})" if t.note else ""),
                str(t.source_rows),
                str(t.final_rows),
                str(t.missing),
                str(t.extra),
                str(t.changed),
                str(t.in_flux),
                f"{t.differing_ranges}/{t.ranges}",
            )
        console.print(table)
        for t in report.tables:
            for r in t.first_differences:
                where = f"bucket {r.bucket}" if r.bucket else f"keys {r.first_key}..{r.last_key}"
                console.print(
                    f"{t.table} range {r.index} {where}: source "
                    f"{r.source_rows} rows, FINAL {r.final_rows} rows; "
                    + "; ".join(d.describe() for d in r.differences)
                )
    _exit(report.exit_code)


#: Every command of this module, for the CLI to register: ``main.add_command(c)``.
COMMANDS = (status, doctor, slot, publication, config_group, verify)
