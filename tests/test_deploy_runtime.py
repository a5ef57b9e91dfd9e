"""deploy/ checked by running it: the container entrypoint, the systemd unit, the example
configuration and the Prometheus rules, against real PostgreSQL and real HTTP where they matter.

No Docker engine runs here, so the image's entrypoint script is run directly with walstream's
venv on PATH, as the image's ENTRYPOINT would run it. No systemd runs as PID 1 either: the unit is
checked by ``systemd-analyze verify`` and ``systemd-analyze security --offline`` (when the binary
exists), and its notify contract (READY=1, WATCHDOG=1, STOPPING=1, exit 0 on SIGTERM) is proven by
running the unit's ExecStart with the example environment file and a NOTIFY_SOCKET we listen on,
exactly what systemd hands the service.
"""

from __future__ import annotations

import configparser
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import yaml
from pytest_httpserver import HTTPServer

from tests.conftest import PgDatabase
from tests.waiting import wait_for
from walstream.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
UNIT = DEPLOY / "systemd" / "walstream@.service"
ENV_EXAMPLE = DEPLOY / "walstream.env.example"
VENV_BIN = Path(sys.executable).parent


def _settings_of(commands: object) -> set[str]:
    names: set[str] = set()
    stack = list(commands) if isinstance(commands, (list, tuple)) else [commands]
    while stack:
        command = stack.pop()
        if isinstance(command, click.Group):
            stack.extend(command.commands.values())
        for param in getattr(command, "params", []):
            if isinstance(param, click.Option) and param.envvar:
                envvars = [param.envvar] if isinstance(param.envvar, str) else param.envvar
                names |= {e for e in envvars if e.startswith("WALSTREAM_")}
    return names


def _planned_settings() -> dict[str, str]:
    """Settings the deployment files may use before `walstream run` has them, by issue.

    Older walstream versions ignore unknown WALSTREAM_* variables, so the files may name them;
    they must say "planned (issue N)"."""
    planned = {
        "WALSTREAM_METRICS_PORT": "issue 5",
        "WALSTREAM_HEARTBEAT_INTERVAL": "issue 5",
        "WALSTREAM_PASSWORD_FROM": "issue 5",
        "WALSTREAM_CONFIG": "issue 5",
    }
    with contextlib.suppress(ImportError):
        from walstream.commands.ops import COMMANDS

        planned.update(dict.fromkeys(_settings_of(COMMANDS), "issue 5"))
    with contextlib.suppress(ImportError):
        from walstream.commands.snapshot import snapshot

        planned.update(dict.fromkeys(_settings_of(snapshot), "issue 4"))
    with contextlib.suppress(ImportError):
        from walstream.commands.snowflake import snowflake
        from walstream.commands.warehouse import warehouse

        planned.update(dict.fromkeys(_settings_of([snowflake, warehouse]), "issue 3"))
    return planned


PLANNED_SETTINGS = _planned_settings()

#: What every example environment must set or show: the settings a service cannot do without.
CORE_SETTINGS = {
    "WALSTREAM_DSN",
    "WALSTREAM_SLOT",
    "WALSTREAM_PUBLICATION",
    "WALSTREAM_DEST",
    "WALSTREAM_FLUSH_INTERVAL",
    "WALSTREAM_FLUSH_BYTES",
    "WALSTREAM_RECONNECT_ATTEMPTS",
    "WALSTREAM_LOG_FORMAT",
    "WALSTREAM_METRICS_PORT",
}

#: Metric names the alert rules, the CloudWatch agent and the alarms use that walstream does not
#: export yet, with the reason. The contract test fails when one of them appears, so that this
#: list only ever names what is really missing.
PENDING_METRICS = {
    "walstream_last_commit_timestamp_seconds": "freshness: commit time of the newest stored "
    "and acknowledged transaction (requested from issue 5)",
    "walstream_slot_wal_status": "pg_replication_slots.wal_status of the slot, one series per "
    "status with value 1 for the current one (requested from issue 5)",
}


#: The warehouse gauges (``walstream_warehouse_*``) come from the Snowflake half, not from the
#: stream: ``walstream run`` exports them only with its warehouse monitor on
#: (``--snowflake-monitor-interval``, which reads a Snowflake account), and ``walstream warehouse
#: load --metrics-file`` writes them for the local warehouse. The running walstream below has
#: neither, so they are checked against the package instead: each must be declared there (as the
#: string literal the monitor or the metrics file exports it under) or be listed here, with the
#: reason, until it is. The check fails when one of these appears, as for PENDING_METRICS.
WAREHOUSE_METRIC_PREFIX = "walstream_warehouse_"
PENDING_WAREHOUSE_METRICS: dict[str, str] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    """The caller's environment without WALSTREAM_* settings, walstream's venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALSTREAM_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def entrypoint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        env=base_env(**env),
        timeout=60,
        check=False,
    )


# ---------------------------------------------------------------------------------------------
# Container entrypoint
# ---------------------------------------------------------------------------------------------


def test_entrypoint_runs_walstream_version() -> None:
    result = entrypoint("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("walstream, version ")


def test_entrypoint_runs_walstream_run_help() -> None:
    result = entrypoint("run", "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: walstream run" in result.stdout and "--dsn" in result.stdout


def test_entrypoint_without_arguments_is_walstream_run_configured_from_the_environment() -> None:
    result = entrypoint()
    assert result.returncode == 2  # click: missing required option
    assert "walstream run" in result.stderr and "--dsn" in result.stderr


def test_entrypoint_passes_other_programs_through_for_debugging() -> None:
    result = entrypoint("sh", "-c", "echo passthrough $0", "ok")
    assert (result.returncode, result.stdout) == (0, "passthrough ok\n")


@pytest.mark.parametrize(("status", "expected"), [(200, 0), (503, 1)], ids=["healthy", "unhealthy"])
def test_entrypoint_healthcheck_reflects_healthz(
    httpserver: HTTPServer, status: int, expected: int
) -> None:
    httpserver.expect_request("/healthz").respond_with_json({"status": "x"}, status=status)
    result = entrypoint("healthcheck", WALSTREAM_METRICS_PORT=str(httpserver.port))
    assert result.returncode == expected, result.stderr
    assert len(httpserver.log) == 1


def test_entrypoint_healthcheck_fails_when_nothing_listens() -> None:
    result = entrypoint("healthcheck", WALSTREAM_METRICS_PORT=str(free_port()))
    assert result.returncode == 1
    assert "event=healthcheck_failed" in result.stderr


def test_dockerfile_final_stage_is_slim_unprivileged_and_uses_the_entrypoint() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2, "a build stage and a final stage"
    final = stages[-1]
    assert final.startswith("${PYTHON_IMAGE}\n")
    assert re.search(r"^USER 10001:10001$", final, re.M)
    assert not re.search(r"apt-get|gcc|build-essential|pip install", final)
    assert 'ENTRYPOINT ["/usr/local/bin/walstream-entrypoint"]' in final
    assert "HEALTHCHECK" in final and "EXPOSE 9187" in final
    for source in re.findall(r"^COPY (?:--chmod=\S+ )?(?!--from)(\S+) ", text, re.M):
        assert (ROOT / source).exists(), f"COPY source {source} does not exist"


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (DEPLOY / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.split(r"\n(?=[A-Z]+ )", "\n".join(lines).replace("\\\n", " "))]


def test_dockerfile_pins_the_base_image_by_digest_and_installs_only_hashed_packages() -> None:
    instructions = dockerfile_instructions()
    image = next(i for i in instructions if i.startswith("ARG PYTHON_IMAGE="))
    assert re.fullmatch(
        r"ARG PYTHON_IMAGE=docker\.io/library/python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}",
        image,
    )
    froms = [i for i in instructions if i.startswith("FROM ")]
    assert froms == ["FROM ${PYTHON_IMAGE} AS build", "FROM ${PYTHON_IMAGE}"]
    installs = [
        part.strip()
        for i in instructions
        for part in i.split("&&")
        if re.search(r"pip install", part)
    ]
    assert installs[0].endswith("pip install --require-hashes -r requirements/runtime.txt")
    assert all("--no-deps" in i for i in installs[1:]), installs


def _ca_bundle_step() -> str:
    """The shell of the RUN that fetches and checks the RDS CA bundle, for ``sh -c``."""
    run = next(
        i for i in dockerfile_instructions() if i.startswith("RUN") and "RDS_CA_BUNDLE_URL" in i
    )
    return run.removeprefix("RUN ")


@pytest.mark.parametrize("tampered", [False, True])
def test_dockerfile_refuses_an_rds_ca_bundle_whose_checksum_is_not_the_pinned_one(
    tmp_path: Path, tampered: bool
) -> None:
    """Runs the image's own download-and-check step against a local file (file:// URL) in a
    shell, the way docker build would with the ARGs in the environment."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    pinned = hashlib.sha256(bundle.read_bytes()).hexdigest()
    if tampered:
        bundle.write_bytes(bundle.read_bytes() + b"# one more certificate\n")
    step = _ca_bundle_step().replace("/tmp/rds-global-bundle.pem", str(tmp_path / "out.pem"))
    env = {
        **os.environ,
        "RDS_CA_BUNDLE_URL": bundle.as_uri(),
        "RDS_CA_BUNDLE_SHA256": pinned,
    }
    result = subprocess.run(["sh", "-c", step], env=env, capture_output=True, text=True)
    if tampered:
        assert result.returncode == 1
        found = hashlib.sha256(bundle.read_bytes()).hexdigest()
        assert f"SHA-256 is {found}, not the pinned {pinned}" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "out.pem").read_bytes() == bundle.read_bytes()
    default = next(
        i for i in dockerfile_instructions() if i.startswith("ARG RDS_CA_BUNDLE_SHA256=")
    )
    assert re.fullmatch(r"ARG RDS_CA_BUNDLE_SHA256=[0-9a-f]{64}", default)


# ---------------------------------------------------------------------------------------------
# Settings used by the deployment files exist in walstream (or are planned, and say so)
# ---------------------------------------------------------------------------------------------


def walstream_run_settings() -> set[str]:
    run = cli_main.commands["run"]
    return _settings_of([click.Command("main", params=cli_main.params), run])


def env_file_settings(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an environment file, commented-out examples included."""
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def test_env_example_names_only_settings_walstream_run_knows_or_marks_them_planned() -> None:
    known = walstream_run_settings()
    text = ENV_EXAMPLE.read_text()
    used = {k for k in env_file_settings(ENV_EXAMPLE) if k.startswith("WALSTREAM_")}
    assert used >= CORE_SETTINGS
    for name in used - known:
        assert name in PLANNED_SETTINGS, f"{name} is neither a walstream run setting nor planned"
        block = text.split(f"{name}=", 1)[0].rsplit("\n\n", 1)[-1]
        assert f"planned ({PLANNED_SETTINGS[name]})" in block, f"{name}: say it is planned"


def test_ecs_task_definition_sets_only_known_or_planned_settings() -> None:
    import json

    deploy = json.loads((DEPLOY / "ecs-task-definition.json").read_text())
    names = {e["name"] for c in deploy["containerDefinitions"] for e in c["environment"]}
    unknown = {n for n in names if n.startswith("WALSTREAM_")} - walstream_run_settings()
    assert unknown <= set(PLANNED_SETTINGS)


# ---------------------------------------------------------------------------------------------
# systemd unit
# ---------------------------------------------------------------------------------------------


def unit_sections() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_systemd_unit_has_notify_watchdog_restart_and_hardening() -> None:
    service = unit_sections()["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "always"
    assert service["WatchdogSec"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["DynamicUser"] == "yes"
    for key in (
        "NoNewPrivileges",
        "PrivateTmp",
        "ProtectHome",
        "PrivateDevices",
        "RestrictSUIDSGID",
    ):
        assert service[key] == "yes", key
    assert service["ProtectSystem"] == "strict"
    assert service["CapabilityBoundingSet"] == ""
    assert service["ExecStart"] == "/opt/walstream/bin/walstream run"
    assert service["EnvironmentFile"] == "/etc/walstream/%i.env"


def _unit_for_this_machine(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this venv (verify checks the binary exists)."""
    text = UNIT.read_text().replace("/opt/walstream/bin/walstream", str(VENV_BIN / "walstream"))
    path = tmp_path / "walstream@sf_sync.service"
    path.write_text(text)
    return path


def _systemd_analyze() -> str:
    binary = shutil.which("systemd-analyze")
    if binary is None:
        pytest.skip(
            "systemd-analyze is not installed (apt-get install systemd): only the unit's keys "
            "are checked"
        )
    return binary


def test_systemd_unit_passes_systemd_analyze_verify_without_warnings(tmp_path: Path) -> None:
    result = subprocess.run(
        [_systemd_analyze(), "verify", str(_unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # verify exits 0 on unknown keys and bad values; they appear as warnings.
    assert result.stdout + result.stderr == ""


def test_systemd_unit_exposure_is_ok_by_systemd_analyze_security(tmp_path: Path) -> None:
    result = subprocess.run(
        [_systemd_analyze(), "security", "--offline=yes", str(_unit_for_this_machine(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
    assert m, result.stdout[-2000:] + result.stderr[-2000:]
    assert float(m.group(1)) <= 2.0


def systemd_environment(unit_env: str, env_file: Path) -> dict[str, str]:
    """What systemd passes the service: Environment= assignments, then the EnvironmentFile."""
    env = dict(item.split("=", 1) for item in unit_env.split())
    for line in env_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


@contextlib.contextmanager
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    try:
        yield path, sock
    finally:
        sock.close()


def test_unit_execstart_with_the_example_env_file_speaks_the_notify_protocol(
    db: PgDatabase, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE orders")
    db.create_slot("sf_sync")
    service = unit_sections()["Service"]
    env = systemd_environment(service["Environment"].replace("%i", "sf_sync"), ENV_EXAMPLE)
    assert env["WALSTREAM_SLOT"] == "sf_sync" and env["WALSTREAM_PUBLICATION"] == "walstream"
    # This machine's database, bucket and a free port instead of the example's.
    env.update(
        WALSTREAM_DSN=db.dsn,
        WALSTREAM_DEST=(tmp_path / "dest").as_uri(),
        WALSTREAM_METRICS_PORT=str(free_port()),
        WALSTREAM_FLUSH_INTERVAL="0.2",
        WALSTREAM_STATUS_INTERVAL="0.5",
    )
    argv = service["ExecStart"].replace("/opt/walstream/bin/walstream", str(VENV_BIN / "walstream"))
    messages: list[str] = []
    with notify_socket(tmp_path) as (path, sock):
        proc = subprocess.Popen(
            argv.split(),
            env={**base_env(), **env, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:

            def received(wanted: str) -> bool:
                with contextlib.suppress(TimeoutError):
                    messages.extend(sock.recv(4096).decode().splitlines())
                assert proc.poll() is None, proc.communicate()[1][-3000:]
                return wanted in messages

            wait_for(lambda: received("READY=1"), 60, "READY=1")
            db.execute("INSERT INTO orders VALUES (1, 'after ready')")
            wait_for(lambda: received("WATCHDOG=1"), 30, "WATCHDOG=1")
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        with contextlib.suppress(TimeoutError):
            while True:
                messages.extend(sock.recv(4096).decode().splitlines())
    assert proc.returncode == 0, stderr[-3000:]
    assert "STOPPING=1" in messages
    # The change made after READY=1 was stored before the process exited.
    assert list((tmp_path / "dest" / "public" / "orders").glob("*.parquet"))


# ---------------------------------------------------------------------------------------------
# Prometheus rules and the metrics they rely on
# ---------------------------------------------------------------------------------------------


def _promtool() -> str:
    result = subprocess.run(
        [str(DEPLOY / "ci-tools.sh"), "promtool"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"promtool is not available here: {result.stderr.strip()[-300:]}")
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", "alerts.yml"],
        ["check", "config", "scrape.yml"],
        ["test", "rules", "alerts.test.yml"],
    ],
    ids=["rules-valid", "scrape-config-valid", "alert-unit-tests"],
)
def test_prometheus_files_pass_promtool(args: list[str]) -> None:
    result = subprocess.run(
        [_promtool(), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=DEPLOY / "prometheus",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_links_to_a_runbook_section_and_has_a_severity() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    names = {a["alert"] for a in alerts}
    assert {
        "WalstreamDown",
        "WalstreamSlotLagHigh",
        "WalstreamNotFresh",
        "WalstreamSlotLost",
        "WalstreamErrors",
        "WalstreamFilesFailedToLoad",
        "WalstreamMergeTaskFailed",
        "WalstreamFinalNotFresh",
        "WalstreamFilesNotLoaded",
        "WalstreamWarehouseMonitorDown",
    } <= names
    for alert in alerts:
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert "docs/operations.md#" in alert["annotations"]["description"]


def metric_names_used_by_the_deployment() -> set[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            names |= set(re.findall(r"\b(walstream_[a-z_]+)", rule["expr"]))
    terraform = ROOT / "terraform" / "modules"
    for path in (
        terraform / "ecs_service" / "main.tf",
        terraform / "alarms" / "main.tf",
        terraform / "alarms" / "warehouse.tf",
        terraform / "dashboard" / "widgets.tf",
    ):
        # Metric names appear as quoted strings there ("walstream_x", or "^walstream_x$"), or
        # inside a SEARCH expression (MetricName=\"walstream_x\").
        names |= set(re.findall(r'\\?"\^?(walstream_[a-z_]+)\$?\\?"', path.read_text()))
    for path in sorted((DEPLOY / "grafana").glob("*.json")):
        names |= set(re.findall(r"\b(walstream_[a-z_]+)", path.read_text()))
    return names


def metric_names_declared_by_the_package() -> set[str]:
    """walstream_* names spelled as string literals in walstream/ (where metrics are named)."""
    names: set[str] = set()
    for path in (ROOT / "walstream").rglob("*.py"):
        names |= set(re.findall(r"""["'](walstream_[a-z_]+)["']""", path.read_text()))
    return names


def test_warehouse_metrics_the_deployment_uses_are_declared_by_walstream() -> None:
    used = {
        n for n in metric_names_used_by_the_deployment() if n.startswith(WAREHOUSE_METRIC_PREFIX)
    }
    assert used, "the deployment watches the warehouse"
    declared = metric_names_declared_by_the_package()
    missing = used - declared - set(PENDING_WAREHOUSE_METRICS)
    assert missing == set(), f"the deployment uses warehouse metrics walstream lacks: {missing}"
    arrived = set(PENDING_WAREHOUSE_METRICS) & declared
    assert arrived == set(), f"now declared, remove from PENDING_WAREHOUSE_METRICS: {arrived}"
    assert set(PENDING_WAREHOUSE_METRICS) <= used


def scrape(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()
    except OSError:
        return 0, ""


RUN_WITH_METRICS = """
import sys
from walstream.logs import setup_logging
from walstream.pipeline.runner import RunConfig, Runner
setup_logging("info", "text")
runner = Runner(RunConfig(dsn=sys.argv[1], slot="sf_sync", publication="walstream",
                          dest=sys.argv[2], metrics_port=int(sys.argv[3]),
                          metrics_host="127.0.0.1", flush_interval=0.2, status_interval=0.2))
runner.install_signal_handlers()
runner.run()
"""


def test_metrics_the_alerts_use_are_exported_by_a_running_walstream(
    db: PgDatabase, tmp_path: Path
) -> None:
    db.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
    db.execute("CREATE PUBLICATION walstream FOR TABLE orders")
    db.create_slot("sf_sync")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN_WITH_METRICS, db.dsn, (tmp_path / "d").as_uri(), str(port)],
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: scrape(port, "/readyz")[0] == 200, 60, "/readyz to answer 200")
        db.execute("INSERT INTO orders VALUES (1, 'x')")
        text = ""

        def flushed() -> bool:
            nonlocal text
            text = scrape(port, "/metrics")[1]
            return 'walstream_changes_total{op="I",table="public.orders"} 1.0' in text

        wait_for(flushed, 60, "the insert to be counted as stored")
        # The container health check, against the real /healthz.
        health = subprocess.run(
            [str(ENTRYPOINT), "healthcheck"],
            env=base_env(WALSTREAM_METRICS_PORT=str(port)),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert health.returncode == 0, health.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-3000:]
    # Declared families count even before their first sample (a labelled counter with no
    # error yet has no series); counters are scraped with the _total suffix.
    exported = set(re.findall(r"^([a-z_]+)(?:\{| )", text, re.M))
    for name, kind in re.findall(r"^# TYPE ([a-z_]+) ([a-z]+)$", text, re.M):
        exported |= {name, f"{name}_total"} if kind == "counter" else {name}
    # The warehouse gauges need a warehouse (WAREHOUSE_METRIC_PREFIX): checked apart.
    used = {
        n
        for n in metric_names_used_by_the_deployment()
        if not n.startswith(WAREHOUSE_METRIC_PREFIX)
    }
    missing = used - exported - set(PENDING_METRICS)
    assert missing == set(), f"the deployment uses metrics walstream does not export: {missing}"
    arrived = set(PENDING_METRICS) & exported
    assert arrived == set(), f"now exported, remove from PENDING_METRICS: {arrived}"
    assert set(PENDING_METRICS) <= used


def test_pending_metrics_are_documented_in_the_alert_rules_and_runbook() -> None:
    alerts = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    runbook = (ROOT / "docs" / "operations.md").read_text()
    for name in PENDING_METRICS:
        assert name in alerts
        assert name in runbook
