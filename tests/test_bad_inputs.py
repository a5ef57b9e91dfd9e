"""Every bad setting gets one line and exit 2, never a traceback (DESIGN.md §1 guarantee 9).

A table of bad inputs, given as flags, as ``WALSTREAM_*`` variables and in a TOML config file,
to ``walstream`` as a user runs it (a child process). Each must be refused where it is parsed,
before anything connects or is acknowledged: exit 2, exactly one ``walstream: error:`` line that
names the setting, and no traceback. The DSN points at a closed port, so a setting that slipped
through would show up as exit 3 ("cannot connect"), not 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_run import walstream

DSN = "host=127.0.0.1 port=1 connect_timeout=2"


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    names: str  # what the error line must mention
    env: dict[str, str] = field(default_factory=dict)
    toml: str | bytes | None = None
    command: tuple[str, ...] = ("run", "--dsn", DSN, "--dest", "file:///nonexistent-dest")

    @property
    def id(self) -> str:
        parts = [*self.args, *(f"{k}={v}" for k, v in self.env.items())]
        if self.toml is not None:
            parts.append("toml:" + (self.toml if isinstance(self.toml, str) else repr(self.toml)))
        return " ".join(parts)[:60] or self.names


def flag(option: str, value: str, names: str | None = None) -> Bad:
    return Bad((option, value), names or option)


def env(name: str, value: str, names: str) -> Bad:
    return Bad((), names, env={f"WALSTREAM_{name}": value})


def toml(text: str | bytes, names: str) -> Bad:
    return Bad((), names, toml=text)


STATUS = ("status", "--dsn", DSN)
SNAPSHOT = ("snapshot", "--dsn", DSN, "--dest", "file:///nonexistent-dest")
SQL = ("snowflake", "sql", "--dest", "s3://bucket/dms")

BAD: list[Bad] = [
    # flags of walstream run
    flag("--flush-rows", "0"),
    flag("--flush-rows", "-5"),
    flag("--flush-rows", "abc"),
    flag("--flush-rows", "1.5"),
    flag("--flush-bytes", "0"),
    flag("--flush-bytes", "-1MB"),
    flag("--flush-bytes", "10XB"),
    flag("--flush-bytes", "1KB"),
    flag("--flush-interval", "0"),
    flag("--flush-interval", "nan"),
    flag("--flush-interval", "-1"),
    flag("--flush-interval", "inf"),
    flag("--flush-interval", "5parsecs"),
    flag("--flush-interval", "1e400"),
    flag("--status-interval", "0"),
    flag("--status-interval", "-2s"),
    flag("--max-in-flight", "0"),
    flag("--max-in-flight", "-1"),
    flag("--max-in-flight", "1000"),
    flag("--upload-workers", "0"),
    flag("--upload-workers", "100000000"),
    flag("--metrics-port", "99999"),
    flag("--metrics-port", "-1"),
    flag("--metrics-port", "http"),
    flag("--heartbeat-interval", "-1"),
    flag("--heartbeat-interval", "0"),
    flag("--exit-when-idle", "-3"),
    flag("--exit-when-idle", "0"),
    flag("--reconnect-attempts", "-1"),
    flag("--spill-budget", "-1GB"),
    flag("--spill-budget", "0"),
    flag("--max-value-size", "0"),
    flag("--max-value-size", "10"),
    flag("--oversized-values", "maybe"),
    flag("--binary", "yes"),
    flag("--streaming", "maybe"),
    flag("--snapshot", "always"),
    flag("--snapshot-workers", "0"),
    flag("--snapshot-memory-budget", "1KB"),
    flag("--s3-multipart-threshold", "1MB"),
    flag("--until-lsn", "nonsense"),
    flag("--until-lsn", "1/2/3"),
    flag("--on-lossy", "ignore"),
    flag("--as-text", "numerics"),
    flag("--as-text", "orders.total"),
    flag("--spill-dir", "/proc/nope/spill", "--spill-dir"),
    flag("--dest", "ftp://host/x", "ftp://"),
    flag("--dsn", "x", "--dsn"),
    Bad(("--flush-rowz", "5"), "--flush-rowz"),
    Bad((), "--dest", command=("run", "--dsn", DSN)),
    Bad((), "--log-level", command=("--log-level", "loud", "run")),
    Bad((), "--log-format", command=("--log-format", "xml", "run")),
    Bad((), "nosuch", command=("nosuch",)),
    # the same through the environment
    env("FLUSH_ROWS", "0", "--flush-rows"),
    env("FLUSH_INTERVAL", "nan", "--flush-interval"),
    env("HEARTBEAT_INTERVAL", "-1", "--heartbeat-interval"),
    env("SPILL_DIR", "/proc/nope", "--spill-dir"),
    env("METRICS_PORT", "70000", "--metrics-port"),
    env("UPLOAD_WORKERS", "0", "--upload-workers"),
    env("MAX_IN_FLIGHT", "0", "--max-in-flight"),
    env("ON_LOSSY", "drop", "--on-lossy"),
    env("AS_TEXT", "bad", "--as-text"),
    env("STATUS_INTERVAL", "0", "--status-interval"),
    env("FLUSH_BYTES", "abc", "--flush-bytes"),
    env("SPILL_BUDGET", "-5", "--spill-budget"),
    env("EXIT_WHEN_IDLE", "-1", "--exit-when-idle"),
    env("CONFIG", "/nonexistent/walstream.toml", "walstream.toml"),
    # and in a config file
    toml("flush_interval = 1e400\n", "flush_interval"),
    toml("[run]\nflush_rows = {a = 1}\n", "flush_rows"),
    toml("flush_rows = 1979-05-27\n", "flush_rows"),
    toml(b"\xff\xfe = 1\n", "UTF-8"),
    toml("flush_rows = [1, 2]\n", "flush_rows"),
    toml("flush_rowz = 5\n", "flush_rowz"),
    toml("flush_rows = \n", "TOML"),
    toml("flush_rows = 0\n", "--flush-rows"),
    toml('flush_interval = "nan"\n', "--flush-interval"),
    toml("upload_workers = true\n", "upload_workers"),
    toml("[nosuchcommand]\nx = 1\n", "nosuchcommand"),
    toml('as_text = ["numeric", "nope"]\n', "--as-text"),
    toml("max_in_flight = -1\n", "--max-in-flight"),
    # other commands
    Bad(("--max-lag-seconds", "-1"), "--max-lag-seconds", command=STATUS),
    Bad(("--max-lag-bytes", "abc"), "--max-lag-bytes", command=STATUS),
    Bad(("--max-waiting", "nan"), "--max-waiting", command=STATUS),
    Bad(("--warn-waiting", "-5"), "--warn-waiting", command=STATUS),
    Bad(("--workers", "-1"), "--workers", command=SNAPSHOT),
    Bad(("--chunk-size", "1KB"), "--chunk-size", command=SNAPSHOT),
    Bad(("--join-wait", "-3"), "--join-wait", command=SNAPSHOT),
    Bad(("--metrics-port", "70000"), "--metrics-port", command=SNAPSHOT),
    Bad(("--memory-budget", "1KB"), "--memory-budget", command=SNAPSHOT),
    Bad(("--progress-interval", "nan"), "--progress-interval", command=SNAPSHOT),
    Bad(("--chunk-rows", "0"), "--chunk-rows", command=("verify", "--dsn", DSN)),
    Bad(("--tombstone-retention-days", "0"), "--tombstone-retention-days", command=SQL),
    Bad(("--load-slice-rows", "0"), "--load-slice-rows", command=SQL),
    Bad(("--as-text", "x"), "--as-text", command=SQL),
    # the switches of the C parts and the replication socket
    flag("--socket-rcvbuf", "-1"),
    flag("--socket-rcvbuf", "lots"),
    env("SOCKET_RCVBUF", "1.5", "WALSTREAM_SOCKET_RCVBUF"),
    env("ACCEL", "maybe", "WALSTREAM_ACCEL"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_a_bad_input_is_one_line_and_exit_2(bad: Bad, tmp_path: Path) -> None:
    variables = dict(bad.env)
    if bad.toml is not None:
        config = tmp_path / "walstream.toml"
        if isinstance(bad.toml, bytes):
            config.write_bytes(bad.toml)
        else:
            config.write_text(bad.toml)
        variables["WALSTREAM_CONFIG"] = str(config)
    result = walstream(*bad.command, *bad.args, env=variables, timeout=60)
    errors = [line for line in result.stderr.splitlines() if line.startswith("walstream: error:")]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(errors) == 1, result.stderr
    assert bad.names in errors[0], result.stderr
    assert result.stdout == "", result.stdout


def test_the_table_is_as_large_as_promised() -> None:
    assert len(BAD) >= 80


def test_config_show_reaches_the_lazily_loaded_commands_and_redacts_their_secrets() -> None:
    result = walstream(
        "config",
        "show",
        "--json",
        "snowflake",
        "apply",
        env={"WALSTREAM_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE": "topsecret-passphrase"},
    )
    assert result.returncode == 0, result.stderr
    assert "topsecret-passphrase" not in result.stdout
    assert '"private_key_passphrase"' in result.stdout


def test_a_secret_given_as_a_flag_is_warned_about_and_never_printed() -> None:
    result = walstream(
        "run",
        "--dsn",
        DSN,
        "--dest",
        "file:///nonexistent-dest",
        "--metrics-token",
        "flag-secret-value",
        "--flush-rows",
        "0",
    )
    assert "event=secret_on_command_line option=--metrics-token" in result.stderr
    assert "WALSTREAM_METRICS_TOKEN" in result.stderr
    assert "flag-secret-value" not in result.stderr + result.stdout
