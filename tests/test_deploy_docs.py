"""The runbook (docs/operations.md) is checked against the code it tells operators to run.

A runbook that names a flag walstream does not have fails at 3 a.m., so every ``walstream ...``
invocation in it is resolved against the CLI: a command or flag the current CLI lacks must be
marked ``planned: issue N`` with the issue that brings it, and when that issue's command module
already exists, its flags are checked there too. Every operation of issue 8 has its section,
and every runbook link from the alarms and alert rules lands on a heading.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import click
import pytest

from tests.test_deploy_runtime import PLANNED_SETTINGS, walstream_run_settings
from walstream.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
RUNBOOK = ROOT / "docs" / "operations.md"

REQUIRED_SECTIONS = [
    "first-deployment",
    "pausing-and-resuming-a-table",
    "reloading-a-table",
    "schema-changes",
    "aurora-failover",
    "slot-lost-or-invalidated",
    "wal-growing-alarm",
    "rotating-credentials",
    "upgrading-walstream",
    "migrating-from-aws-dms",
    "walstream-is-down",
    "freshness-alarm",
    "errors-alarm",
]

#: Flags of `walstream run` planned by other issues.
PLANNED_RUN_FLAGS = {
    "--metrics-port": "5",
    "--heartbeat-interval": "5",
    "--password-from": "5",
    "--snapshot": "4",
}


def planned_commands() -> dict[str, tuple[str, click.Command | None]]:
    """Top-level commands other issues bring: name -> (issue, their click command if written)."""
    found: dict[str, tuple[str, click.Command | None]] = {
        "snowflake": ("3", None),
        "warehouse": ("3", None),
        "snapshot": ("4", None),
    }
    for name in ("status", "doctor", "slot", "publication", "config", "verify"):
        found[name] = ("5", None)
    try:
        from walstream.commands.ops import COMMANDS

        for command in COMMANDS:
            assert command.name is not None
            found[command.name] = ("5", command)
    except ImportError:
        pass
    try:
        from walstream.commands.snapshot import snapshot

        found["snapshot"] = ("4", snapshot)
    except ImportError:
        pass
    try:
        from walstream.commands.snowflake import snowflake
        from walstream.commands.warehouse import warehouse

        found["snowflake"] = ("3", snowflake)
        found["warehouse"] = ("3", warehouse)
    except ImportError:
        pass
    return found


def anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def runbook_anchors() -> set[str]:
    return {anchor(h) for h in re.findall(r"^#{1,6} (.+)$", RUNBOOK.read_text(), re.M)}


def invocations() -> list[tuple[str, str]]:
    """(command line after `walstream`, its context) for every walstream call in the runbook.

    Context is the code line (with its trailing comment) or the paragraph of an inline span."""
    text = RUNBOOK.read_text()
    found: list[tuple[str, str]] = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S):
        for line in block.splitlines():
            m = re.search(r"(?:^|\s|`)walstream ((?:run|[a-z][a-z-]+)(?: .*)?)$", line.strip())
            if m and not line.strip().startswith(("--", "SELECT", "#")):
                found.append((m.group(1), line))
    prose = re.sub(r"^```[a-z]*\n.*?^```", "", text, flags=re.M | re.S)
    for paragraph in re.split(r"\n\s*\n", prose):
        # A table row is its own context; a paragraph's lines are one.
        rows = [ln for ln in paragraph.splitlines() if ln.startswith("|")]
        contexts = rows if rows else [paragraph]
        for context in contexts:
            for span in re.findall(r"`walstream ([^`]+)`", context):
                found.append((" ".join(span.split()), context))
    return found


def _options(command: click.Command) -> set[str]:
    opts = {"--help", "-h"}
    for param in command.params:
        if isinstance(param, click.Option):
            opts |= set(param.opts) | set(param.secondary_opts)
    return opts


def _marked(context: str, issue: str) -> bool:
    """The context says which issue brings it: "planned: issue N", or a row of the legend table."""
    flat = " ".join(context.split())
    return f"planned: issue {issue}" in flat or flat.startswith(f"| issue {issue} |")


def _load_lazy_commands() -> None:
    """The CLI imports its heavier commands when they are used (walstream.cli.LazyGroup);
    this check walks ``.commands``, so load them all first."""
    ctx = click.Context(cli_main)
    for name in cli_main.list_commands(ctx):
        cli_main.get_command(ctx, name)


def check_invocation(line: str, context: str) -> list[str]:
    _load_lazy_commands()
    code = line.split(" #", 1)[0]
    try:
        tokens = shlex.split(code)
    except ValueError:
        tokens = code.split()
    problems: list[str] = []
    command: click.Command = cli_main
    planned_issue: str | None = None
    i = 0
    while i < len(tokens) and isinstance(command, click.Group) and not tokens[i].startswith("-"):
        name = tokens[i]
        if name in command.commands and planned_issue is None:
            command = command.commands[name]
        elif command is cli_main and name in planned_commands():
            planned_issue, definition = planned_commands()[name]
            if not _marked(context, planned_issue):
                problems.append(
                    f"`walstream {line}`: {name} needs 'planned: issue {planned_issue}'"
                )
            if definition is None:
                return problems  # not written yet: nothing more to check
            command = definition
        elif isinstance(command, click.Group) and name in command.commands:
            command = command.commands[name]
        elif name in ("create", "drop", "advance", "add-table", "show", "sql", "apply", "load"):
            problems.append(f"`walstream {line}`: unknown subcommand {name}")
            return problems
        else:
            break
        i += 1
    known = _options(command)
    for token in tokens[i:]:
        if not token.startswith("--"):
            continue
        flag = token.split("=", 1)[0]
        if flag in known:
            continue
        issue = PLANNED_RUN_FLAGS.get(flag) if command.name == "run" else None
        if issue is None:
            problems.append(f"`walstream {line}`: {command.name} has no option {flag}")
        elif not _marked(context, issue):
            problems.append(f"`walstream {line}`: {flag} needs 'planned: issue {issue}'")
    return problems


def test_runbook_has_a_section_for_every_operation_of_the_issue() -> None:
    missing = [s for s in REQUIRED_SECTIONS if s not in runbook_anchors()]
    assert missing == []


def test_every_runbook_link_in_the_repository_lands_on_a_heading() -> None:
    anchors = runbook_anchors()
    sources = [RUNBOOK, *ROOT.glob("deploy/**/*"), *ROOT.glob("terraform/**/*")]
    broken = []
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text()
        links = re.findall(r"operations\.md#([\w-]+)", text)
        if path == RUNBOOK:
            links += re.findall(r"\]\(#([\w-]+)\)", text)
        broken += [f"{path.relative_to(ROOT)}: #{link}" for link in links if link not in anchors]
    assert broken == []


def test_runbook_walstream_commands_exist_or_are_marked_planned_with_their_issue() -> None:
    calls = invocations()
    assert len(calls) >= 25, "the runbook should show the commands, not describe them"
    problems = [p for line, context in calls for p in check_invocation(line, context)]
    assert problems == []


def test_runbook_check_rejects_an_unknown_flag_and_an_unmarked_planned_command() -> None:
    assert check_invocation("run --no-such-flag", "") == [
        "`walstream run --no-such-flag`: run has no option --no-such-flag"
    ]
    assert check_invocation("run --metrics-port 9187", "planned: issue 5") == []
    assert check_invocation("snowflake apply --no-such-flag", "") == [
        "`walstream snowflake apply --no-such-flag`: apply has no option --no-such-flag"
    ]
    assert check_invocation("--version", "") == []


def _snowflake_objects() -> set[str]:
    from walstream.snowflake.dialects import SNOWFLAKE
    from walstream.snowflake.objects import MANIFEST_PIPE
    from walstream.snowflake.watermark import bookkeeping

    names = {SNOWFLAKE.reported_name(n) for n in dataclasses.astuple(bookkeeping(SNOWFLAKE)) if n}
    return names | {MANIFEST_PIPE, "WALSTREAM_STAGE", "WALSTREAM_PARQUET", "WALSTREAM_S3"}


SNOWFLAKE_OBJECTS = _snowflake_objects()


@pytest.mark.parametrize(
    "name", sorted(set(re.findall(r"\bWALSTREAM_[A-Z_]+\b", RUNBOOK.read_text())))
)
def test_runbook_settings_are_walstream_run_settings_or_planned(name: str) -> None:
    if name in SNOWFLAKE_OBJECTS:
        return  # a Snowflake object walstream generates, not a setting
    if name not in walstream_run_settings():
        assert name in PLANNED_SETTINGS, f"{name} is not a setting of walstream run"
