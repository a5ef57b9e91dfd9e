"""Config file: flag > env > file > default, sections per command, typos rejected, and
``config show`` prints the effective settings with secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from walstream.commands.config import build_default_map, config_option, read_config
from walstream.commands.ops import COMMANDS
from walstream.errors import ConfigError


def make_cli(seen: dict[str, Any]) -> click.Group:
    """The real operator commands plus a stand-in ``run`` with options shaped like the real one."""

    @click.group()
    @config_option
    @click.option("--log-level", envvar="WALSTREAM_LOG_LEVEL", default="info")
    def root(log_level: str) -> None:
        seen["log_level"] = log_level

    @root.command()
    @click.option("--dsn", envvar="WALSTREAM_DSN", required=True)
    @click.option("--slot", envvar="WALSTREAM_SLOT", default="sf_sync")
    @click.option("--flush-interval", envvar="WALSTREAM_FLUSH_INTERVAL", type=float, default=60.0)
    @click.option("--flush-rows", envvar="WALSTREAM_FLUSH_ROWS", type=int, default=1_000_000)
    @click.option("--tables", envvar="WALSTREAM_TABLES", multiple=True)
    @click.option("--vault-token", envvar="VAULT_TOKEN", default=None)
    def run(**kwargs: Any) -> None:
        seen.update(kwargs)

    for command in COMMANDS:
        root.add_command(command)
    return root


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "walstream.toml"
    path.write_text(text)
    return str(path)


CONFIG = """
dsn = "host=db.internal dbname=app user=cdc password=s3cret-pw"
slot = "from_file"
flush_interval = 30
log-level = "warning"

[run]
flush_rows = 5000
tables = ["public.a", "public.b"]

[status]
max_lag_bytes = "2GB"

["slot create"]
slot = "created_from_file"
"""


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[Any, dict[str, Any]]:
    seen: dict[str, Any] = {}
    result = CliRunner().invoke(make_cli(seen), args, env=env or {}, catch_exceptions=False)
    return result, seen


def test_precedence_is_flag_then_env_then_file_then_default(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    result, seen = invoke(["--config", path, "run"])
    assert result.exit_code == 0, result.output
    assert seen["slot"] == "from_file"  # file over default
    assert seen["flush_interval"] == 30.0  # top-level key applies to run
    assert seen["flush_rows"] == 5000  # [run] section
    assert seen["tables"] == ("public.a", "public.b")
    assert seen["dsn"].startswith("host=db.internal")
    assert seen["log_level"] == "warning"  # root group options come from the file too

    result, seen = invoke(
        ["--config", path, "run"], env={"WALSTREAM_SLOT": "from_env", "WALSTREAM_FLUSH_ROWS": "7"}
    )
    assert (seen["slot"], seen["flush_rows"]) == ("from_env", 7)  # env over file

    result, seen = invoke(
        ["--config", path, "run", "--slot", "from_flag"], env={"WALSTREAM_SLOT": "from_env"}
    )
    assert seen["slot"] == "from_flag"  # flag over env

    result, seen = invoke(["run", "--dsn", "x"])
    assert (seen["slot"], seen["flush_interval"]) == ("sf_sync", 60.0)  # defaults without a file


def test_config_path_from_environment_and_per_command(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    result, seen = invoke(["run"], env={"WALSTREAM_CONFIG": path})
    assert result.exit_code == 0 and seen["slot"] == "from_file"


def test_sections_win_over_top_level_keys_whatever_their_order(tmp_path: Path) -> None:
    root = make_cli({})
    doc = read_config(write(tmp_path, CONFIG))
    default_map = build_default_map(root, doc, "f.toml")
    assert default_map["slot"]["create"]["slot"] == "created_from_file"
    assert default_map["slot"]["drop"]["slot"] == "from_file"
    assert default_map["status"]["max_lag_bytes"] == "2GB"
    assert default_map["status"]["slot"] == "from_file"
    reordered = {"run": {"flush_rows": 1}, "flush_rows": 2}
    assert build_default_map(root, reordered, "f.toml")["run"]["flush_rows"] == 1


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("flush_intervall = 3\n", "unknown setting 'flush_intervall'"),
        ("[run]\nmax_lag_bytes = 1\n", "unknown setting 'max_lag_bytes' in [run]"),
        ("slot = \n", "not valid TOML"),
    ],
)
def test_config_mistakes_are_one_line_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=None) as info:
        invoke(["--config", path, "run", "--dsn", "x"])
    assert needle in str(info.value)
    with pytest.raises(ConfigError, match="does not exist"):
        invoke(["--config", str(tmp_path / "missing.toml"), "run", "--dsn", "x"])


def test_config_show_prints_effective_settings_sources_and_redacts_secrets(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, CONFIG)
    env = {"WALSTREAM_FLUSH_ROWS": "9", "VAULT_TOKEN": "hvs.sup3r-s3cret-token"}
    result, _ = invoke(["--config", path, "config", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "run" and doc["config_file"] == path
    settings = {s["name"]: s for s in doc["settings"]}
    assert settings["slot"] == {
        "name": "slot",
        "value": "from_file",
        "source": "file",
        "env": "WALSTREAM_SLOT",
    }
    assert (settings["flush_rows"]["value"], settings["flush_rows"]["source"]) == (9, "env")
    assert settings["flush_interval"]["source"] == "file"
    assert settings["vault_token"]["value"] == "***"
    assert (
        "password='***'" in settings["dsn"]["value"] or "password=***" in settings["dsn"]["value"]
    )
    assert "s3cret-pw" not in result.stdout and "sup3r-s3cret" not in result.stdout

    result, _ = invoke(["--config", path, "config", "show", "status"], env=env)
    assert result.exit_code == 0, result.output
    for needle in ("max_lag_bytes", "2147483648", "file", "password_from"):
        assert needle in result.stdout
    assert "s3cret-pw" not in result.stdout

    result, _ = invoke(["--config", path, "config", "show", "slot", "create", "--json"])
    settings = {s["name"]: s for s in json.loads(result.stdout)["settings"]}
    assert settings["slot"]["value"] == "created_from_file"
