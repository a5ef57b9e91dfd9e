"""Credential sources: environment, Vault KV v1/v2 over real HTTP (token, AppRole, AWS IAM
auth), AWS Secrets Manager through the moto server, RDS IAM tokens from a stubbed generator,
and a fresh DSN for every connection the runner opens."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import PgDatabase
from tests.s3server import MOTO_ENV_UNSET, MotoServer, moto_env
from walstream.errors import ConfigError
from walstream.lsn import parse_lsn
from walstream.pipeline.runner import RunConfig, Runner
from walstream.secrets import DsnSource, SecretSettings, VaultSettings, redact_dsn


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    return ("127.0.0.1", 0)


def kv2_response(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": "r1",
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": {
            "data": data,
            "metadata": {
                "created_time": "2026-01-01T00:00:00Z",
                "deletion_time": "",
                "destroyed": False,
                "version": 3,
            },
        },
    }


def server_params(db: PgDatabase) -> dict[str, str]:
    return {k: str(v) for k, v in conninfo_to_dict(db.dsn).items() if v is not None}


def vault(httpserver: HTTPServer, **kwargs: Any) -> VaultSettings:
    return VaultSettings(addr=httpserver.url_for("/").rstrip("/"), **kwargs)


def test_env_source_takes_the_password_from_the_named_variable() -> None:
    source = DsnSource(
        "host=h dbname=app user=cdc",
        SecretSettings("env:PROD_DB_PASSWORD"),
        environ={"PROD_DB_PASSWORD": "pw from env"},
    )
    assert conninfo_to_dict(source())["password"] == "pw from env"
    missing = DsnSource("host=h", SecretSettings("env:NOPE"), environ={})
    with pytest.raises(ConfigError, match="NOPE is not set"):
        missing()
    with pytest.raises(ConfigError, match="unknown --password-from"):
        DsnSource("host=h", SecretSettings("keychain:x"))


def test_vault_kv2_token_auth_supplies_the_rds_shaped_secret_and_it_connects(
    httpserver: HTTPServer, db: PgDatabase
) -> None:
    params = server_params(db)
    secret = {
        "username": params["user"],
        "password": "vault-pw-1",
        "host": params["host"],
        "port": int(params["port"]),
        "dbname": db.name,
        "engine": "postgres",
    }
    httpserver.expect_request(
        "/v1/secret/data/walstream/prod",
        method="GET",
        headers={"X-Vault-Token": "hvs.test-token"},
    ).respond_with_json(kv2_response(secret))
    source = DsnSource(
        "application_name=walstream-vault connect_timeout=5",
        SecretSettings("vault:secret/walstream/prod", vault(httpserver, token="hvs.test-token")),
        environ={},
    )
    dsn = source()
    got = conninfo_to_dict(dsn)
    assert got["password"] == "vault-pw-1" and got["dbname"] == db.name
    assert got["application_name"] == "walstream-vault"  # the --dsn's own settings kept
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (db.name,)
    httpserver.check_assertions()


def test_vault_kv1_field_with_approle_login(httpserver: HTTPServer) -> None:
    logins: list[dict[str, Any]] = []

    def login(request: Request) -> Response:
        logins.append(json.loads(request.data))
        body = {"auth": {"client_token": "hvs.approle-token", "lease_duration": 60}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/auth/approle/login", method="POST").respond_with_handler(login)
    httpserver.expect_request(
        "/v1/kv/db/cdc", method="GET", headers={"X-Vault-Token": "hvs.approle-token"}
    ).respond_with_json({"data": {"pw": "kv1-password", "other": "x"}})
    settings = SecretSettings(
        "vault:kv/db/cdc#pw",
        vault(httpserver, auth="approle", role_id="role-1", secret_id="sid-1", kv_version=1),
    )
    dsn = DsnSource("host=db.internal user=cdc dbname=app", settings, environ={})()
    assert conninfo_to_dict(dsn)["password"] == "kv1-password"
    assert conninfo_to_dict(dsn)["host"] == "db.internal"
    assert logins == [{"role_id": "role-1", "secret_id": "sid-1"}]


def test_vault_aws_iam_login_sends_a_signed_sts_request(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in MOTO_ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    seen: list[dict[str, Any]] = []

    def login(request: Request) -> Response:
        seen.append(json.loads(request.data))
        return Response(
            json.dumps({"auth": {"client_token": "hvs.iam-token"}}),
            content_type="application/json",
        )

    httpserver.expect_request("/v1/auth/aws/login", method="POST").respond_with_handler(login)
    httpserver.expect_request(
        "/v1/secret/data/cdc", headers={"X-Vault-Token": "hvs.iam-token"}
    ).respond_with_json(kv2_response({"password": "iam-auth-pw"}))
    settings = SecretSettings(
        "vault:secret/cdc",
        vault(httpserver, auth="aws", aws_role="walstream", aws_header="vault.example"),
        aws_region="eu-west-1",
    )
    dsn = DsnSource("host=h user=u", settings, environ={})()
    assert conninfo_to_dict(dsn)["password"] == "iam-auth-pw"
    (body,) = seen
    assert body["role"] == "walstream" and body["iam_http_request_method"] == "POST"
    headers = json.loads(base64.b64decode(body["iam_request_headers"]))
    assert "AKIDTEST" in str(headers["Authorization"])  # signed with the instance credentials
    assert headers["X-Vault-AWS-IAM-Server-ID"] in (["vault.example"], "vault.example")


def test_vault_failures_are_one_line_config_errors(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/secret/data/denied").respond_with_json(
        {"errors": ["permission denied"]}, status=403
    )
    httpserver.expect_request("/v1/secret/data/absent").respond_with_json(
        {"errors": []}, status=404
    )
    for path, needle in (("denied", "Forbidden"), ("absent", "InvalidPath")):
        settings = SecretSettings(f"vault:secret/{path}", vault(httpserver, token="hvs.t0ken"))
        with pytest.raises(ConfigError) as info:
            DsnSource("host=h", settings, environ={})()
        message = str(info.value)
        assert needle in message and f"secret/{path}" in message and "\n" not in message
        assert "hvs.t0ken" not in message
    with pytest.raises(ConfigError, match="VAULT_TOKEN"):
        DsnSource("host=h", SecretSettings("vault:secret/x", vault(httpserver)), environ={})()


def test_secrets_manager_rds_secret_through_moto(
    moto_server: MotoServer, db: PgDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in MOTO_ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_env(moto_server.endpoint_url).items():
        monkeypatch.setenv(name, value)
    import boto3

    params = server_params(db)
    rds_secret = {
        "username": params["user"],
        "password": "sm-password",
        "engine": "postgres",
        "host": params["host"],
        "port": int(params["port"]),
        "dbname": db.name,
        "dbInstanceIdentifier": "app-db",
    }
    client = boto3.session.Session().client("secretsmanager", region_name="us-east-1")
    client.create_secret(Name="prod/app/cdc", SecretString=json.dumps(rds_secret))
    source = DsnSource("connect_timeout=5", SecretSettings("aws-secrets:prod/app/cdc"))
    dsn = source()
    assert conninfo_to_dict(dsn)["password"] == "sm-password"
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (params["user"],)
    # rotation: the next connection reads the new value
    client.put_secret_value(
        SecretId="prod/app/cdc", SecretString=json.dumps({**rds_secret, "password": "rotated"})
    )
    assert conninfo_to_dict(source())["password"] == "rotated"
    with pytest.raises(ConfigError, match="ResourceNotFoundException"):
        DsnSource("", SecretSettings("aws-secrets:missing"))()


def test_rds_iam_token_is_fresh_per_connection_and_requires_tls() -> None:
    calls: list[tuple[str, int, str, str]] = []

    def generate(host: str, port: int, user: str, region: str) -> str:
        calls.append((host, port, user, region))
        return f"{host}:{port}/?Action=connect&DBUser={user}&X-Amz-Signature={len(calls):064x}"

    host = "app.cluster-abc.eu-central-1.rds.amazonaws.com"
    source = DsnSource(
        f"host={host} port=5432 user=cdc dbname=app",
        SecretSettings("rds-iam"),
        token_generator=generate,
        environ={},
    )
    first, second = conninfo_to_dict(source()), conninfo_to_dict(source())
    assert first["password"] != second["password"]  # a new token each connection
    assert calls == [(host, 5432, "cdc", "eu-central-1")] * 2  # region read from the host
    # no sslmode of the user's: the token only goes to a server whose certificate is checked
    assert first["sslmode"] == "verify-full"
    prefer = DsnSource(
        f"host={host} user=cdc sslmode=prefer",
        SecretSettings("rds-iam", aws_region="eu-central-1"),
        token_generator=generate,
        environ={},
    )()
    assert conninfo_to_dict(prefer)["sslmode"] == "require"  # never in clear (and warned)
    verify_full = DsnSource(
        f"host={host} user=cdc sslmode=verify-full sslrootcert=/etc/rds/global-bundle.pem",
        SecretSettings("rds-iam", aws_region="eu-central-1"),
        token_generator=generate,
        environ={},
    )()
    got = conninfo_to_dict(verify_full)
    assert (got["sslmode"], got["sslrootcert"]) == ("verify-full", "/etc/rds/global-bundle.pem")
    with pytest.raises(ConfigError, match="needs TLS"):
        DsnSource(
            f"host={host} user=cdc sslmode=disable",
            SecretSettings("rds-iam"),
            token_generator=generate,
        )()
    shown = redact_dsn(verify_full)
    assert "X-Amz-Signature" not in shown and "password=***" in shown.replace("'", "")


def test_runner_asks_for_a_fresh_dsn_for_every_connection(db: PgDatabase, tmp_path: Path) -> None:
    db.execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION walstream FOR TABLE t")
    db.create_slot()
    db.execute("INSERT INTO t VALUES (1)")
    issued: list[str] = []

    def provider() -> str:
        issued.append(f"token-{len(issued)}")
        return f"{db.dsn} password={issued[-1]}"  # trust auth: any password works

    cfg = RunConfig(
        "(unused)",
        "sf_sync",
        "walstream",
        f"file://{tmp_path}",
        dsn_provider=provider,
        flush_interval=0.1,
        until_lsn=parse_lsn(db.current_lsn()),
    )
    Runner(cfg).run()
    assert len(issued) >= 2  # the SQL connection and the replication connection
    assert len(set(issued)) == len(issued)


def test_dsn_redaction_for_key_value_and_uri_forms() -> None:
    assert "hunter2" not in redact_dsn("host=h user=u password=hunter2 dbname=d")
    assert "hunter2" not in redact_dsn("postgresql://u:hunter2@h:5432/d?sslmode=require")
    assert "hun ter2" not in redact_dsn("host=h password='hun ter2' user=u")
    assert "user=u" in redact_dsn("host=h user=u password=x")
