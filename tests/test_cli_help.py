"""``walstream run --help`` lists its options under headings, source and destination first,
and every option under a named heading (a new option must be placed, not left in "Other")."""

from __future__ import annotations

import re

import click
from click.testing import CliRunner

from walstream.cli import RUN_SECTIONS, main


def test_every_run_option_is_in_exactly_one_section() -> None:
    run = main.commands["run"]
    names = [p.name for p in run.get_params(click.Context(run)) if p.name]
    listed = [n for _, section in RUN_SECTIONS for n in section]
    assert len(listed) == len(set(listed)), "an option listed twice"
    help_name = run.get_help_option(click.Context(run)).name  # type: ignore[union-attr]
    assert set(listed) == {"help" if n == help_name else n for n in names}


def test_run_help_shows_the_sections_in_order_source_first() -> None:
    result = CliRunner().invoke(main, ["run", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    headings = re.findall(r"^(\S[^\n]*):$", result.output, re.M)
    assert headings == [heading for heading, _ in RUN_SECTIONS]
    assert "Other options" not in result.output
    assert result.output.index("--dsn") < result.output.index("--dest")
    assert result.output.index("--dest") < result.output.index("--vault-addr")
