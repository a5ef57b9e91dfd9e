"""``walstream snowflake apply``: bring an account to the generated script, idempotently.

The script of :mod:`.objects` is already safe to rerun (``IF NOT EXISTS`` everywhere it matters).
Applying adds what a rerun cannot do on its own and says what it does before doing it:

- it looks at what exists (``SHOW`` and ``INFORMATION_SCHEMA``) and plans one action per
  statement: create, add missing columns, replace and resume a task, or nothing;
- it never drops or replaces a pipe: a recreated pipe forgets the files it loaded and Snowpipe
  would load them all again. A pipe whose COPY no longer matches (a column was added) is
  reported with the steps to recreate it safely, and left alone;
- a task whose definition is unchanged is only resumed if it is suspended;
- ``--dry-run`` prints the plan and changes nothing.

The connection uses snowflake-connector-python; statements are unqualified and run in the
connection's database and schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigError, SinkError
from .credentials import load_private_key, resolve_secret
from .ddl import add_column_statements, table_definitions
from .dialects import SNOWFLAKE
from .model import TableModel
from .objects import (
    MANIFEST_PIPE,
    Statement,
    copy_statement,
    manifest_copy_statement,
    snowflake_statements,
)
from .options import SnowflakeOptions

log = logging.getLogger("walstream.snowflake")


class SnowflakeError(SinkError):
    """Snowflake refused a statement or the connection (the warehouse side of the sink)."""


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Where and as whom to connect; secrets are references or values, never logged."""

    account: str
    user: str
    database: str
    schema: str
    role: str | None = None
    warehouse: str | None = None
    password: str | None = None
    password_secret: str | None = None
    private_key_file: str | None = None
    private_key_passphrase: str | None = None
    authenticator: str | None = None

    def connect_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "database": self.database,
            "schema": self.schema,
            "application": "walstream",
        }
        if self.role:
            args["role"] = self.role
        if self.warehouse:
            args["warehouse"] = self.warehouse
        if self.authenticator:
            args["authenticator"] = self.authenticator
        if self.private_key_file:
            passphrase = self.private_key_passphrase
            if (
                passphrase
                and ":" in passphrase
                and passphrase.split(":", 1)[0]
                in (
                    "env",
                    "vault",
                    "aws-secretsmanager",
                )
            ):
                passphrase = resolve_secret(passphrase)
            args["private_key"] = load_private_key(self.private_key_file, passphrase)
        elif self.password_secret:
            args["password"] = resolve_secret(self.password_secret)
        elif self.password:
            args["password"] = self.password
        elif not self.authenticator:
            raise ConfigError(
                "no Snowflake credentials: give --password (WALSTREAM_SNOWFLAKE_PASSWORD), "
                "--password-secret (vault:/aws-secretsmanager:/env: reference), "
                "--private-key-file, or --authenticator"
            )
        return args


def connect(settings: ConnectionSettings, **options: Any) -> Any:
    """A connection in the settings' database and schema; ``options`` go to the connector
    (``login_timeout``, ``network_timeout``, ...)."""
    import snowflake.connector

    try:
        return snowflake.connector.connect(**settings.connect_args(), **options)
    except snowflake.connector.errors.Error as exc:
        raise SnowflakeError(
            f"cannot connect to Snowflake account {settings.account!r} as {settings.user!r}: "
            f"{_message(exc)}"
        ) from None


def _message(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "msg", None) or exc).split())


@dataclass(frozen=True, slots=True)
class Action:
    """One planned step: ``sql`` is None for a step that needs nothing or a person."""

    verb: str  # create | alter | replace | suspend | merge | resume | refresh | keep | attention
    what: str
    sql: str | None = None
    note: str = ""

    def describe(self) -> str:
        text = f"{self.verb:<9} {self.what}"
        return f"{text}  -- {self.note}" if self.note else text


@dataclass
class Existing:
    """What the schema holds, by object kind: unquoted name -> SHOW row (as a dict)."""

    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    columns: dict[str, set[str]] = field(default_factory=dict)  # table -> column names
    # table -> column -> (DATA_TYPE, CHARACTER_MAXIMUM_LENGTH) of its text and binary columns
    lengths: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)

    def get(self, kind: str, quoted: str) -> dict[str, Any] | None:
        return self.objects.get(kind, {}).get(SNOWFLAKE.reported_name(quoted))


_SHOW = {
    "integration": "SHOW INTEGRATIONS",
    "file_format": "SHOW FILE FORMATS IN SCHEMA",
    "stage": "SHOW STAGES IN SCHEMA",
    "table": "SHOW TABLES IN SCHEMA",
    "stream": "SHOW STREAMS IN SCHEMA",
    "pipe": "SHOW PIPES IN SCHEMA",
    "task": "SHOW TASKS IN SCHEMA",
}


def inspect(cursor: Any, kinds: set[str] | None = None) -> Existing:
    """Read what exists in the connection's schema (objects of ``kinds``, default all)."""
    existing = Existing()
    for kind, sql in _SHOW.items():
        if kinds is not None and kind not in kinds:
            continue
        existing.objects[kind] = {}
        try:
            cursor.execute(sql)
        except Exception as exc:
            raise SnowflakeError(
                f"{sql} failed: {_message(exc)}; check the role's grants"
            ) from None
        names = [d[0].lower() for d in cursor.description or []]
        if "name" not in names:
            continue
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=False))
            existing.objects[kind][str(record["name"])] = record
    cursor.execute(
        "SELECT table_name, column_name, data_type, character_maximum_length "
        "FROM information_schema.columns WHERE table_schema = CURRENT_SCHEMA()"
    )
    for table, column, data_type, length in cursor.fetchall():
        existing.columns.setdefault(str(table), set()).add(str(column))
        if length is not None:
            sized = existing.lengths.setdefault(str(table), {})
            sized[str(column)] = (str(data_type).upper(), int(length))
    return existing


_SIZED = re.compile(r"(VARCHAR|BINARY)\((\d+)\)")


def _widen_actions(definition: Any, sizes: dict[str, tuple[str, int]], what: str) -> list[Action]:
    """Text columns created shorter than the generated size (before walstream declared
    Snowflake's maximum, DESIGN.md §4) are widened in place; a BINARY cannot be, so it is
    pointed out with the way to do it."""
    actions = []
    for name, typ in definition.columns:
        wanted = _SIZED.fullmatch(typ)
        have = sizes.get(SNOWFLAKE.reported_name(name))
        if wanted is None or have is None or have[1] >= int(wanted.group(2)):
            continue
        if wanted.group(1) == "VARCHAR":
            sql = f"ALTER TABLE {definition.name} ALTER COLUMN {name} SET DATA TYPE {typ}"
            actions.append(Action("alter", what, sql, f"widen {name} to {typ}"))
        else:
            actions.append(
                Action(
                    "attention",
                    what,
                    None,
                    f"{name} is {have[0]}({have[1]}): a longer value fails to load and "
                    f"Snowflake cannot widen a BINARY; recreate it as {typ} "
                    "(docs/operations.md#widening-text-and-binary-columns)",
                )
            )
    return actions


def _same_sql(a: str, b: str) -> bool:
    return " ".join(a.split()).rstrip(";").upper() == " ".join(b.split()).rstrip(";").upper()


def plan(
    models: Sequence[TableModel], options: SnowflakeOptions, existing: Existing
) -> list[Action]:
    """The actions that bring the schema to the generated script (see the module docstring)."""
    actions: list[Action] = []
    created_pipes: set[str] = set()
    replaced_tasks: set[str] = set()
    definitions = {
        d.name: d for m in models for d in table_definitions(m, options.dialect, options.merge)
    }
    # a pipe created unqualified (before names were qualified) with the same COPY is the same
    bare = replace(options, database=None, schema=None)
    copies = {
        options.dialect.names(m).pipe: [copy_statement(m, options), copy_statement(m, bare)]
        for m in models
    }
    manifest_pipe = options.dialect.object(MANIFEST_PIPE)
    copies[manifest_pipe] = [manifest_copy_statement(options), manifest_copy_statement(bare)]
    for statement in snowflake_statements(models, options):
        actions += _plan_one(
            statement, existing, definitions, copies, created_pipes, replaced_tasks
        )
    return actions


def _plan_one(
    statement: Statement,
    existing: Existing,
    definitions: dict[str, Any],
    copies: dict[str, list[str]],
    created_pipes: set[str],
    replaced_tasks: set[str],
) -> list[Action]:
    kind, name = statement.kind, statement.name
    what = f"{kind.replace('_', ' ')} {name}"
    if kind in ("view", "procedure"):  # stateless: always brought to the generated text
        return [Action("replace", what, statement.sql)]
    if kind == "bookkeeping":
        found = existing.get("table", name)
        return [Action("keep", what)] if found else [Action("create", what, statement.sql)]
    if kind == "pipe_errors":
        pipe = existing.get("pipe", name)
        wanted = statement.sql.rsplit("= ", 1)[1]
        if name in created_pipes or (
            pipe is not None
            and SNOWFLAKE.reported_name(str(pipe.get("error_integration") or "")).upper()
            == SNOWFLAKE.reported_name(wanted).upper()
        ):
            return []
        return [Action("alter", f"pipe {name}", statement.sql, "send load errors")]
    if kind == "pipe_refresh":
        if name in created_pipes:
            return [Action("refresh", f"pipe {name}", statement.sql, "load files already staged")]
        return []
    if kind == "task_resume":
        task = existing.get("task", name)
        if (
            name in replaced_tasks
            or task is None
            or str(task.get("state", "")).lower() != "started"
        ):
            return [Action("resume", f"task {name}", statement.sql)]
        return [Action("keep", f"task {name}", None, "running")]
    found = existing.get(kind, name)
    if found is None:
        if kind == "pipe":
            created_pipes.add(name)
        if kind == "task":
            replaced_tasks.add(name)
        return [Action("create", what, statement.sql)]
    if kind == "table":
        definition = definitions[name]
        reported = SNOWFLAKE.reported_name(name)
        have = existing.columns.get(reported, set())
        alters = [
            Action("alter", what, sql, "add column")
            for sql in add_column_statements(definition, have, SNOWFLAKE)
        ]
        alters += _widen_actions(definition, existing.lengths.get(reported, {}), what)
        return alters or [Action("keep", what)]
    if kind == "pipe":
        definition = str(found.get("definition") or "")
        if definition and not any(_same_sql(definition, c) for c in copies[name]):
            return [
                Action(
                    "attention",
                    what,
                    None,
                    "its COPY differs from the generated one (did the table gain a column?). "
                    "walstream never replaces a pipe: a new pipe loads every file again. To "
                    "change it: ALTER PIPE ... SET PIPE_EXECUTION_PAUSED = TRUE; wait for "
                    "SYSTEM$PIPE_STATUS to show no pending files; CREATE OR REPLACE PIPE with "
                    "the COPY from `walstream snowflake sql`; ALTER PIPE ... REFRESH "
                    "MODIFIED_AFTER = <time of the pause>",
                )
            ]
        return [Action("keep", what)]
    if kind == "task":
        definition = str(found.get("definition") or "")
        body = statement.sql[statement.sql.index("\nAS\n") + 4 :]
        if definition and _same_sql(definition, body):
            return [Action("keep", what, None, "definition unchanged")]
        replaced_tasks.add(name)
        steps = [Action("suspend", f"task {name}", f"ALTER TASK {name} SUSPEND")]
        if definition.strip().upper().startswith("EXECUTE IMMEDIATE"):
            # a task from before manifests merged its stream directly: run its own definition
            # once more, so what the stream still holds is merged exactly as it would have been
            steps.append(
                Action("merge", f"stream of {name}", definition, "rows staged before upgrade")
            )
        return [*steps, Action("replace", what, statement.sql)]
    if kind == "stream" and str(found.get("stale", "")).lower() == "true":
        return [
            Action(
                "attention",
                what,
                None,
                "stream is stale: staged rows it missed are not merged; recreate the stream and "
                "merge STAGING once by hand",
            )
        ]
    return [Action("keep", what)]


def apply(
    cursor: Any,
    models: Sequence[TableModel],
    options: SnowflakeOptions,
    dry_run: bool = False,
) -> list[Action]:
    """Plan, and unless ``dry_run`` run the planned statements in order; returns the plan."""
    kinds = {statement.kind for statement in snowflake_statements(models, options)}
    kinds = {"table" if kind == "bookkeeping" else kind for kind in kinds}
    kinds = {"pipe" if kind == "pipe_errors" else kind for kind in kinds}
    actions = plan(models, options, inspect(cursor, kinds))
    if dry_run:
        return actions
    for action in actions:
        if action.sql is None:
            continue
        log.info("event=snowflake_apply action=%s object=%s", action.verb, _one_line(action.what))
        try:
            cursor.execute(action.sql)
        except Exception as exc:
            raise SnowflakeError(
                f"{action.verb} {action.what} failed: {_message(exc)}; nothing after it ran, "
                "and everything before it is in place: fix the cause and apply again"
            ) from None
    return actions


#: what a failed resume step most likely means, and the way out
_STALE_PIPE = (
    "; a pipe paused for more than 14 days is stale: resume it with SELECT "
    "SYSTEM$PIPE_FORCE_RESUME('<pipe>', 'STALENESS_CHECK_OVERRIDE'), run walstream snowflake "
    "resume again, then reload the table (docs/operations.md, 'Pausing and resuming a table')"
)


def run_statements(cursor: Any, statements: Sequence[Statement], dry_run: bool = False) -> None:
    """Run ``statements`` in order (unless ``dry_run``), stopping at the first that fails with
    one line that says which, what ran before it and, for a pipe that will not resume, why."""
    if dry_run:
        return
    for i, statement in enumerate(statements):
        log.info("event=snowflake_statement kind=%s object=%s", statement.kind, statement.name)
        try:
            cursor.execute(statement.sql)
        except Exception as exc:
            done = ", ".join(s.sql for s in statements[:i]) or "nothing"
            hint = (
                _STALE_PIPE.replace("<pipe>", statement.name)
                if (statement.kind == "pipe_resume")
                else ""
            )
            raise SnowflakeError(
                f"{statement.sql} failed: {_message(exc)}; ran before it: {done}{hint}"
            ) from None


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)
