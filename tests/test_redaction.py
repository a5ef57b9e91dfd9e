"""No secret is ever logged or printed: a whole run (credentials from a Vault stand-in, DSN
password, heartbeat, metrics, reconnect) and the operator commands, every line checked."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from tests.conftest import PgDatabase
from tests.waiting import wait_for
from walstream.commands.config import config_option
from walstream.commands.ops import COMMANDS
from walstream.errors import SourceError
from walstream.lsn import parse_lsn
from walstream.pg import source
from walstream.pipeline.runner import RunConfig, Runner
from walstream.secrets import (
    DsnSource,
    RedactingFilter,
    SecretSettings,
    VaultSettings,
    redact_text,
    register_secret,
)

DSN_PASSWORD = "Pg-Secret-Pw-4711"
VAULT_TOKEN = "hvs.REDACT-ME-token-99"
VAULT_PASSWORD = "vault-pw-REDACT-42"
SECRETS = (DSN_PASSWORD, VAULT_TOKEN, VAULT_PASSWORD)


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every record of the ``walstream`` loggers at DEBUG, formatted, without any filter."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("walstream")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def assert_clean(text: str, what: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{what} contains a secret:\n{text}"


def vault_source(httpserver: HTTPServer, db: PgDatabase) -> DsnSource:
    httpserver.expect_request(
        "/v1/secret/data/walstream", headers={"X-Vault-Token": VAULT_TOKEN}
    ).respond_with_json(
        {"data": {"data": {"password": VAULT_PASSWORD}, "metadata": {"deletion_time": ""}}}
    )
    settings = SecretSettings(
        "vault:secret/walstream",
        VaultSettings(addr=httpserver.url_for("/").rstrip("/"), token=VAULT_TOKEN),
    )
    return DsnSource(f"{db.dsn} password={DSN_PASSWORD}", settings, environ={})


def test_no_secret_in_any_log_line_of_a_run(
    db: PgDatabase, tmp_path: Path, httpserver: HTTPServer, log_lines: io.StringIO
) -> None:
    db.execute(
        "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION walstream FOR TABLE t"
    )
    db.create_slot()
    dsn = vault_source(httpserver, db)
    runner = Runner(
        RunConfig(
            dsn.redacted(),
            "sf_sync",
            "walstream",
            f"file://{tmp_path}/dest",
            dsn_provider=dsn,
            flush_interval=0.1,
            status_interval=0.2,
            heartbeat_interval=0.1,
            metrics_port=0,
            metrics_host="127.0.0.1",
            reconnect_backoff_max=0.2,
        )
    )
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    try:
        db.execute("INSERT INTO t SELECT g, 'v' FROM generate_series(1, 50) g")
        wait_for(lambda: runner.acked_lsn >= parse_lsn(db.current_lsn()), what="first ack")
        # a lost connection: the runner logs the error and reconnects with fresh credentials
        db.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
            "WHERE slot_name = 'sf_sync'"
        )
        wait_for(lambda: runner.summary.reconnects >= 1, what="a reconnect")
        db.execute("UPDATE t SET v = 'w' WHERE id < 10")
        wait_for(lambda: runner.acked_lsn >= parse_lsn(db.current_lsn()), what="ack after it")
    finally:
        runner.request_stop()
        thread.join(timeout=60)
    text = log_lines.getvalue()
    assert "event=reconnect" in text and "event=flush_durable" in text  # the run was logged
    assert "event=heartbeat" in text and "event=metrics_listening" in text
    assert_clean(text, "the run's log")


def test_operator_commands_print_and_log_no_secret(
    db: PgDatabase, tmp_path: Path, httpserver: HTTPServer, log_lines: io.StringIO
) -> None:
    db.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()
    vault_source(httpserver, db)  # the stand-in's route

    @click.group()
    @config_option
    def root() -> None:
        pass

    for command in COMMANDS:
        root.add_command(command)
    env = {
        "WALSTREAM_DSN": f"{db.dsn} password={DSN_PASSWORD}",
        "WALSTREAM_PASSWORD_FROM": "vault:secret/walstream",
        "VAULT_ADDR": httpserver.url_for("/").rstrip("/"),
        "VAULT_TOKEN": VAULT_TOKEN,
    }
    config = tmp_path / "walstream.toml"
    config.write_text(f'dsn = "{db.dsn} password={DSN_PASSWORD}"\nvault_token = "{VAULT_TOKEN}"\n')
    for args in (
        ["status", "--json"],
        ["status"],
        ["doctor"],
        ["publication", "show"],
        ["--config", str(config), "config", "show", "--json"],
        ["--config", str(config), "config", "show", "status"],
        [
            "status",
            "--dsn",
            f"host=127.0.0.1 port=1 password={DSN_PASSWORD}",
            "--password-from",
            "",
        ],
    ):
        result = CliRunner().invoke(root, args, env=env)
        assert result.exit_code in (0, 1, 2, 3), (args, result.output)
        assert_clean(result.output + str(result.exception or ""), f"walstream {' '.join(args)}")
    assert_clean(log_lines.getvalue(), "the commands' log")


def test_connection_errors_do_not_echo_the_password() -> None:
    with pytest.raises(SourceError) as info:
        source.connect(f"host=127.0.0.1 port=1 user=u password={DSN_PASSWORD} connect_timeout=2")
    assert DSN_PASSWORD not in str(info.value)


def test_filter_blanks_secrets_that_reach_a_log_call_anyway() -> None:
    register_secret(VAULT_TOKEN)
    record = logging.LogRecord(
        "walstream.x",
        logging.INFO,
        __file__,
        1,
        "event=oops dsn=%s token=%s uri=%s",
        (f"host=h password={DSN_PASSWORD}", VAULT_TOKEN, f"postgresql://u:{DSN_PASSWORD}@h/db"),
        None,
    )
    assert RedactingFilter().filter(record)
    assert_clean(record.getMessage(), "a filtered record")
    assert "event=oops" in record.getMessage()
    assert (
        redact_text("Action=connect&X-Amz-Signature=abc123") == "Action=connect&X-Amz-Signature=***"
    )


def test_other_secret_spellings_are_redacted_in_text() -> None:
    from walstream.secrets import redact_text

    text = redact_text(
        "PGPASSWORD=hunter22 aws_secret_access_key=AbCdEf123 "
        "Authorization: Bearer eyJhbGciOi.payload.sig private_key_passphrase=pass1234"
    )
    for secret in ("hunter22", "AbCdEf123", "eyJhbGciOi.payload.sig", "pass1234"):
        assert secret not in text, text
