"""``walstream snowflake pause|resume --table``: a table's pipe and MERGE task together.

Pipes and tasks do not run on fakesnow, so their state is emulated here from Snowflake's
documentation (ALTER PIPE ... SET PIPE_EXECUTION_PAUSED, ALTER PIPE ... REFRESH, ALTER TASK
... SUSPEND | RESUME, EXECUTE TASK, and a pipe paused for more than 14 days becoming stale,
which refuses to resume until SYSTEM$PIPE_FORCE_RESUME). The emulation refuses what Snowflake
refuses: an unknown object, a stale pipe's resume, a refresh of a paused pipe. Every statement
the commands send parses with sqlglot's Snowflake dialect.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from click.testing import CliRunner

from tests.snowflake_parse import parse_snowflake
from walstream.commands.snowflake import snowflake as snowflake_group
from walstream.errors import ConfigError
from walstream.snowflake.apply import SnowflakeError, run_statements
from walstream.snowflake.discover import models_from_dest
from walstream.snowflake.objects import pause_statements, resume_statements
from walstream.snowflake.options import SnowflakeOptions


class Account:
    """One table's pipe and task as Snowflake documents their states."""

    def __init__(self, pipe: str, task: str) -> None:
        self.pipe, self.task = pipe, task
        self.pipe_paused = False
        self.pipe_stale = False  # paused for more than 14 days
        self.task_state = "started"
        self.refreshes = 0
        self.runs = 0
        self.sent: list[str] = []

    def cursor(self) -> Account:
        return self

    def execute(self, sql: str) -> None:
        parse_snowflake(sql)
        self.sent.append(sql)
        m = re.fullmatch(r"ALTER PIPE (\S+) SET PIPE_EXECUTION_PAUSED = (TRUE|FALSE)", sql)
        if m:
            self._known(m[1], self.pipe)
            if m[2] == "FALSE" and self.pipe_stale:
                raise RuntimeError(
                    f"Pipe {m[1]} is stale: it was paused for longer than the retention "
                    "period. Use SYSTEM$PIPE_FORCE_RESUME with STALENESS_CHECK_OVERRIDE."
                )
            self.pipe_paused = m[2] == "TRUE"
            return
        m = re.fullmatch(r"ALTER PIPE (\S+) REFRESH", sql)
        if m:
            self._known(m[1], self.pipe)
            if self.pipe_paused:
                raise RuntimeError(f"Pipe {m[1]} is paused: it cannot be refreshed")
            self.refreshes += 1
            return
        m = re.fullmatch(r"ALTER TASK (\S+) (SUSPEND|RESUME)", sql)
        if m:
            self._known(m[1], self.task)
            self.task_state = "suspended" if m[2] == "SUSPEND" else "started"
            return
        m = re.fullmatch(r"EXECUTE TASK (\S+)", sql)
        if m:
            self._known(m[1], self.task)
            self.runs += 1
            return
        raise AssertionError(f"the emulation does not know {sql!r}")

    @staticmethod
    def _known(name: str, expected: str) -> None:
        if name != expected:
            raise RuntimeError(f"Object '{name}' does not exist or not authorized.")


def account_for(dest: str) -> tuple[Account, Any, SnowflakeOptions]:
    (model,) = models_from_dest(dest)
    options = SnowflakeOptions(dest=dest, database="RAW", schema="APP")
    names = options.dialect.names(model)
    return Account(names.pipe, names.task), model, options


def test_pause_stops_the_task_then_the_pipe_and_resume_catches_up(sim_dest: str) -> None:
    account, model, options = account_for(sim_dest)
    run_statements(account.cursor(), pause_statements(model, options))
    assert (account.pipe_paused, account.task_state) == (True, "suspended")
    assert account.sent[0].startswith("ALTER TASK RAW.APP.")  # FINAL stops changing first
    run_statements(account.cursor(), resume_statements(model, options))
    assert (account.pipe_paused, account.task_state) == (False, "started")
    # the files that arrived while paused are loaded, and FINAL follows now, not at the schedule
    assert (account.refreshes, account.runs) == (1, 1)


def test_a_dry_run_sends_nothing(sim_dest: str) -> None:
    account, model, options = account_for(sim_dest)
    run_statements(account.cursor(), pause_statements(model, options), dry_run=True)
    assert account.sent == [] and not account.pipe_paused


def test_a_stale_pipe_is_one_error_with_the_way_out(sim_dest: str) -> None:
    account, model, options = account_for(sim_dest)
    run_statements(account.cursor(), pause_statements(model, options))
    account.pipe_stale = True
    with pytest.raises(SnowflakeError) as caught:
        run_statements(account.cursor(), resume_statements(model, options))
    message = str(caught.value)
    assert "\n" not in message
    assert "is stale" in message and "ran before it: nothing" in message
    assert f"SYSTEM$PIPE_FORCE_RESUME('{account.pipe}', 'STALENESS_CHECK_OVERRIDE')" in message
    assert "reload the table" in message
    assert account.task_state == "suspended"  # nothing after the failure ran


def test_the_commands_print_what_they_run_and_need_a_table(sim_dest: str) -> None:
    base = ["--dest", sim_dest, "--account", "acme", "--user", "cdc"]
    base += ["--database", "RAW", "--schema", "APP", "--dry-run"]
    paused = CliRunner().invoke(snowflake_group, ["pause", *base, "--table", "public.sim"])
    assert paused.exit_code == 0, paused.output
    lines = paused.output.splitlines()
    assert lines == [
        'would run ALTER TASK RAW.APP."MERGE_SIM" SUSPEND',
        'would run ALTER PIPE RAW.APP."STAGING_SIM_PIPE" SET PIPE_EXECUTION_PAUSED = TRUE',
    ]
    resumed = CliRunner().invoke(snowflake_group, ["resume", *base, "--table", "public.sim"])
    assert resumed.exit_code == 0, resumed.output
    assert len(resumed.output.splitlines()) == 4
    everything = CliRunner().invoke(snowflake_group, ["pause", *base])
    assert isinstance(everything.exception, ConfigError)
    assert "--table" in str(everything.exception)
