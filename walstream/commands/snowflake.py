"""``walstream snowflake sql|apply`` and ``walstream warehouse load``.

Two click groups, registered by :mod:`walstream.cli`. Every option has a ``WALSTREAM_*``
environment variable; ``--dest``, ``--dsn`` and ``--publication`` share theirs with
``walstream run``, so one environment configures the whole pipeline. Table models come from
the source's publication when ``--dsn`` is given, else from the newest walstream file of each
table under ``--dest``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from ..convert.choices import TypeChoices
from ..errors import ConfigError
from ..snowflake.model import TableModel
from ..snowflake.options import SnowflakeOptions
from .options import F, envopt, type_choice_options
from .snowflake_options import OBJECT_SETTINGS, merge_options, objects_from


def _script_options(f: F) -> F:
    decorators: list[Callable[[Any], Any]] = [
        envopt("--dest", env="DEST", required=True, help="s3://bucket/prefix the stage points at"),
        envopt("--dsn", env="DSN", help="read the tables from the source (else from DEST's files)"),
        envopt("--publication", env="PUBLICATION", default="walstream", show_default=True),
        envopt(
            "--table",
            "tables",
            env="TABLES",
            multiple=True,
            help="schema.table to include (repeatable or comma-separated; default all)",
        ),
        *(s.option() for s in OBJECT_SETTINGS if not s.merge),
        envopt(
            "--triggered",
            env="SNOWFLAKE_TRIGGERED",
            is_flag=True,
            help="triggered tasks: run as soon as a stream has data, no --schedule",
        ),
        merge_options,
        type_choice_options,  # --as-text must match the stream's, for tables read from --dsn
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def _tables(values: tuple[str, ...]) -> list[str]:
    return [t.strip() for item in values for t in item.split(",") if t.strip()]


def _models(kw: dict[str, Any]) -> list[TableModel]:
    """The tables: from the source (``--dsn``, typed with ``--as-text`` as the stream types
    them) or from the files under ``--dest`` (which record how they were typed)."""
    from ..snowflake.discover import models_from_dest, models_from_source

    dest, dsn, publication = kw["dest"], kw["dsn"], kw["publication"]
    tables = _tables(kw["tables"])
    choices = TypeChoices.parse(kw["as_text"], kw["on_lossy"])
    models = (
        models_from_source(dsn, publication, tables, choices)
        if dsn
        else models_from_dest(dest, tables)
    )
    if not models:
        raise ConfigError(
            f"no tables found under {dest}: stream some changes first, or pass --dsn to read "
            "the tables from the source's publication"
        )
    return models


def _options(kw: dict[str, Any]) -> SnowflakeOptions:
    return objects_from(
        kw,
        kw["dest"],
        # apply knows where it creates the objects: every name in them is qualified
        database=kw.get("database"),
        schema=kw.get("schema"),
        triggered=bool(kw.get("triggered")),
    )


@click.group()
def snowflake() -> None:
    """Snowflake objects and MERGE tasks generated from the source tables."""


@snowflake.command("sql")
@_script_options
@click.option(
    "--output", "-o", type=click.File("w"), default="-", help="write the script here (default -)"
)
def sql_command(output: Any, **kw: Any) -> None:
    """Print the whole Snowflake script: stage, tables, streams, pipes, MERGE tasks."""
    from ..snowflake.objects import snowflake_script

    models = _models(kw)
    output.write(snowflake_script(models, _options(kw)))


def _connection_options(f: F) -> F:
    """Where the objects are and how to log in (``apply``, ``pause``, ``resume``)."""
    decorators: list[Callable[[Any], Any]] = [
        envopt("--account", env="SNOWFLAKE_ACCOUNT", required=True, help="account identifier"),
        envopt("--user", env="SNOWFLAKE_USER", required=True),
        envopt("--role", env="SNOWFLAKE_ROLE"),
        envopt("--warehouse", env="SNOWFLAKE_WAREHOUSE", help="warehouse of this session"),
        envopt(
            "--database", env="SNOWFLAKE_DATABASE", required=True, help="database of the objects"
        ),
        envopt("--schema", env="SNOWFLAKE_SCHEMA", required=True, help="schema of the objects"),
        envopt("--password", env="SNOWFLAKE_PASSWORD", help="prefer the environment variable"),
        envopt(
            "--password-secret",
            env="SNOWFLAKE_PASSWORD_SECRET",
            help="vault:PATH#FIELD, aws-secretsmanager:ID#FIELD or env:NAME",
        ),
        envopt(
            "--private-key-file",
            env="SNOWFLAKE_PRIVATE_KEY_FILE",
            help="PEM key for key-pair auth",
        ),
        envopt("--private-key-passphrase", env="SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"),
        envopt("--authenticator", env="SNOWFLAKE_AUTHENTICATOR", help="e.g. externalbrowser"),
        envopt(
            "--dry-run", env="DRY_RUN", is_flag=True, help="show what would change, change nothing"
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def _connect(kw: dict[str, Any]) -> Any:
    from ..snowflake.apply import ConnectionSettings, connect

    settings = ConnectionSettings(
        account=kw["account"],
        user=kw["user"],
        database=kw["database"],
        schema=kw["schema"],
        role=kw["role"],
        warehouse=kw["warehouse"],
        password=kw["password"],
        password_secret=kw["password_secret"],
        private_key_file=kw["private_key_file"],
        private_key_passphrase=kw["private_key_passphrase"],
        authenticator=kw["authenticator"],
    )
    return connect(settings)


@snowflake.command("apply")
@_script_options
@_connection_options
def apply_command(**kw: Any) -> None:
    """Create or update the Snowflake objects; never drops a pipe; resumes the tasks."""
    from ..snowflake.apply import apply

    models = _models(kw)
    conn = _connect(kw)
    try:
        actions = apply(conn.cursor(), models, _options(kw), dry_run=kw["dry_run"])
    finally:
        conn.close()
    prefix = "would " if kw["dry_run"] else ""
    for action in actions:
        if action.verb != "keep" or not kw["dry_run"]:
            click.echo(f"{prefix}{action.describe()}")
    attention = [a for a in actions if a.verb == "attention"]
    if attention:
        click.echo(f"walstream: {len(attention)} object(s) need attention (see above)", err=True)
        sys.exit(1)


def _pause_or_resume(kw: dict[str, Any], pause: bool) -> None:
    from ..snowflake.apply import run_statements
    from ..snowflake.objects import pause_statements, resume_statements

    if not _tables(kw["tables"]):
        raise ConfigError(
            "name the tables to "
            + ("pause" if pause else "resume")
            + " with --table schema.table (every table at once is not a pause, it is a stop)"
        )
    options = _options(kw)
    make = pause_statements if pause else resume_statements
    statements = [s for model in _models(kw) for s in make(model, options)]
    if not kw["dry_run"]:
        conn = _connect(kw)
        try:
            run_statements(conn.cursor(), statements)
        finally:
            conn.close()
    prefix = "would run " if kw["dry_run"] else "ran "
    for statement in statements:
        click.echo(f"{prefix}{statement.sql}")


@snowflake.command("pause")
@_script_options
@_connection_options
def pause_command(**kw: Any) -> None:
    """Pause tables: their MERGE task and pipe stop, FINAL stays as it is; walstream keeps
    writing their files, which load when the tables are resumed."""
    _pause_or_resume(kw, pause=True)


@snowflake.command("resume")
@_script_options
@_connection_options
def resume_command(**kw: Any) -> None:
    """Resume paused tables: the pipe loads what arrived meanwhile, the MERGE runs now."""
    _pause_or_resume(kw, pause=False)


@snowflake.command("reload-failed")
@_script_options
@_connection_options
def reload_failed_command(**kw: Any) -> None:
    """Load again the files the tables' pipes failed to load (COPY_HISTORY, last 14 days),
    once their cause is fixed: the pipe's own COPY limited to those files, then the MERGE.
    Safe to repeat: a file loaded twice changes nothing in FINAL."""
    from ..snowflake.apply import run_statements
    from ..snowflake.history import copy_history_query
    from ..snowflake.repair import reload_statements

    if not _tables(kw["tables"]):
        raise ConfigError(
            "name the tables whose failed files to load again with --table schema.table "
            "(`walstream status --snowflake` lists them)"
        )
    options = _options(kw)
    models = _models(kw)
    conn = _connect(kw)
    try:
        cur = conn.cursor()
        total = 0
        for model in models:
            try:
                cur.execute(
                    copy_history_query(options.dialect, kw["database"], model.qualified_name)
                )
                failed = [str(row[0]) for row in cur.fetchall()]
            except Exception as exc:
                raise ConfigError(
                    f"cannot read the load history of {model.qualified_name} (COPY_HISTORY): "
                    f"{' '.join(str(exc).split())}; the role needs MONITOR on the pipe or "
                    "OWNERSHIP of the table"
                ) from None
            statements = reload_statements(model, options, failed)
            if not statements:
                click.echo(f"{model.qualified_name}: no failed file to load again")
                continue
            total += len(failed)
            for name in failed:
                click.echo(
                    f"{model.qualified_name}: {'would load' if kw['dry_run'] else 'loading'} {name}"
                )
            if not kw["dry_run"]:
                run_statements(cur, statements)
            prefix = "would run " if kw["dry_run"] else "ran "
            for statement in statements:
                click.echo(f"{prefix}{statement.sql}")
    finally:
        conn.close()
    if total and not kw["dry_run"]:
        click.echo(
            f"walstream: {total} file(s) loaded again; `walstream status --snowflake` shows "
            "the tables' watermarks moving on",
            err=True,
        )


@snowflake.command("selftest")
@_connection_options
@next(s for s in OBJECT_SETTINGS if s.name == "task_warehouse").option()
@click.option("--keep", is_flag=True, help="keep the scratch schema (to look at it)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object")
def selftest_command(**kw: Any) -> None:
    """Prove the generated objects, COPY and MERGE on this account, in a scratch schema.

    Creates WALSTREAM_SELFTEST_<random> in --database, the objects of a sample table with
    every type family, PUTs sample change files and manifests to an internal stage, loads them
    with the pipes' COPY (one file late), runs the task's body, checks FINAL and the watermark
    row by row, and drops the schema. Exit 0 when every step passes, 1 when one fails.
    --dry-run prints the statements and connects to nothing.
    """
    import json
    import tempfile
    from pathlib import Path

    from ..snowflake.selftest import print_report, run_selftest, selftest_plan

    conn = None if kw["dry_run"] else _connect(kw)  # bad settings fail before any work
    try:
        with tempfile.TemporaryDirectory(prefix="walstream-selftest-") as workdir:
            plan = selftest_plan(kw["database"], Path(workdir), task_warehouse=kw["task_warehouse"])
            if conn is None:
                click.echo(plan.script(), nl=False)
                return
            report = run_selftest(conn.cursor(), plan, keep=kw["keep"])
    finally:
        if conn is not None:
            conn.close()
    if kw["as_json"]:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        from rich.console import Console

        print_report(report, Console())
    sys.exit(0 if report.ok else 1)
