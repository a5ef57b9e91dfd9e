"""Where the source's password (or whole DSN) comes from, and keeping it out of every log line.

``walstream run`` connects several times over its life (pre-flight, replication stream,
heartbeat, every reconnect), and some credentials do not last: an RDS IAM auth token lives 15
minutes, a Secrets Manager password may be rotated. So a :class:`DsnSource` is asked for the
DSN again before every connection; each call fetches fresh credentials. Sources, chosen by
``--password-from``:

================================  ===============================================================
(none)                            the ``--dsn`` as given (libpq also reads ``PGPASSWORD``)
``env:NAME``                      the password is in environment variable ``NAME``
``vault:MOUNT/PATH[#FIELD]``      HashiCorp Vault KV (v1 or v2, ``--vault-kv-version``) via hvac;
                                  auth by token, AppRole or AWS IAM (``--vault-auth``)
``aws-secrets:SECRET_ID``         AWS Secrets Manager, the RDS secret JSON shape
                                  (``username``, ``password``, ``host``, ``port``, ``dbname``)
``rds-iam``                       an RDS IAM auth token from boto3 ``generate_db_auth_token``;
                                  TLS is required (``sslmode`` at least ``require``)
================================  ===============================================================

A secret that is a JSON object (Vault or Secrets Manager) fills in the connection parameters the
``--dsn`` leaves out (a ``dsn`` key may hold a whole connection string); what ``--dsn`` says
explicitly wins, except the password, which always comes from the secret. ``#FIELD`` picks one
field of a Vault secret as the password. ``sslmode``/``sslrootcert`` pass through untouched, so
``sslmode=verify-full sslrootcert=/path/global-bundle.pem`` (the RDS CA bundle) works with every
source.

Every secret value fetched is registered with :func:`register_secret`; the
:class:`RedactingFilter` (installed on the log handlers by :func:`install_log_redaction`) blanks
registered values, ``password=`` pairs and URI passwords in any log line, as a second line of
defence behind "never pass a DSN to a log call".
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .errors import ConfigError, SourceError

log = logging.getLogger("walstream.secrets")

REDACTED = "***"

#: The connection parameters an RDS secret (or a Vault secret of the same shape) may carry.
_SECRET_KEYS = {
    "username": "user",
    "user": "user",
    "host": "host",
    "port": "port",
    "dbname": "dbname",
    "database": "dbname",
}

_WEAK_SSLMODES = {"disable", "allow", "prefer"}

TokenGenerator = Callable[[str, int, str, str], str]  # (host, port, user, region) -> token


# -- redaction -------------------------------------------------------------------------------
_known_secrets: set[str] = set()
_secrets_lock = threading.Lock()

_PASSWORD_PAIR = re.compile(
    r"(?i)\b(password|passwd|pwd|pgpassword|token|secret_id|secret|vault_token|passphrase"
    r"|private_key_passphrase|aws_secret_access_key|secret_access_key|session_token)(\s*[=:]\s*)"
    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,;&'\"]+)"
)
_URI_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):([^@\s/]*)@")
_RDS_TOKEN = re.compile(r"X-Amz-Signature=[0-9a-f]+|X-Amz-Security-Token=[^&\s]+")
_BEARER = re.compile(r"(?i)\b(Bearer\s+)[A-Za-z0-9._~+/=-]+")


def register_secret(value: str | None) -> None:
    """Remember a secret value so that log redaction blanks it wherever it appears."""
    if value and len(value) >= 4:
        with _secrets_lock:
            _known_secrets.add(value)


def redact_text(text: str) -> str:
    """``text`` with registered secrets, ``password=...`` pairs and URI passwords blanked."""
    with _secrets_lock:
        known = sorted(_known_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _PASSWORD_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _URI_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _RDS_TOKEN.sub(lambda m: m.group(0).split("=", 1)[0] + "=" + REDACTED, text)


def redact_dsn(dsn: str) -> str:
    """A DSN (key=value or URI) that is safe to print: the password replaced by ``***``."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return redact_text(dsn)
    if "password" in params:
        params["password"] = REDACTED
    if dsn.strip().lower().startswith(("postgres://", "postgresql://")):
        parts = urlsplit(dsn.strip())
        if parts.password is not None:
            return redact_text(dsn)
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


class RedactingFilter(logging.Filter):
    """Rewrites every record through :func:`redact_text` (never drops a record).

    Each string argument is redacted in place, so that the record keeps its format string and
    the log formatters can still write its fields one by one. Should a secret only show in the
    rendered message (a ``password=%s`` format, say), the record is collapsed to its redacted
    message instead: a field is never worth a leak."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a log call whose arguments do not fit its format:
            message = f"{record.msg} {record.args!r}"  # logged as it is, never raised
            record.msg, record.args = message, None
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction(logger_name: str = "walstream") -> None:
    """Add a :class:`RedactingFilter` to each handler of ``logger_name`` (idempotent)."""
    for handler in logging.getLogger(logger_name).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


# -- sources ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class VaultSettings:
    addr: str | None = None
    auth: str = "token"  # token | approle | aws
    token: str | None = None
    role_id: str | None = None
    secret_id: str | None = None
    aws_role: str | None = None
    aws_header: str | None = None  # X-Vault-AWS-IAM-Server-ID, when the Vault role wants one
    kv_version: int = 2
    namespace: str | None = None
    ca_cert: str | None = None


@dataclass(frozen=True)
class SecretSettings:
    """Everything ``--password-from`` needs besides the DSN."""

    password_from: str | None = None
    vault: VaultSettings = field(default_factory=VaultSettings)
    aws_region: str | None = None


class DsnSource:
    """Callable returning the DSN to connect with, fetching fresh credentials on each call."""

    def __init__(
        self,
        dsn: str,
        settings: SecretSettings | None = None,
        *,
        token_generator: TokenGenerator | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.dsn = dsn
        self.settings = settings or SecretSettings()
        self._token_generator = token_generator
        self._environ = os.environ if environ is None else environ
        self.kind, _, self.ref = (self.settings.password_from or "").partition(":")
        self.kind = self.kind.strip().lower()
        if self.kind not in ("", "env", "vault", "aws-secrets", "rds-iam"):
            raise ConfigError(
                f"unknown --password-from {self.settings.password_from!r}: use env:NAME, "
                "vault:MOUNT/PATH[#FIELD], aws-secrets:SECRET_ID or rds-iam"
            )
        if self.kind in ("env", "vault", "aws-secrets") and not self.ref.strip():
            raise ConfigError(
                f"--password-from {self.kind}: needs a reference after the colon, e.g. "
                + {
                    "env": "env:PGPASSWORD_PROD",
                    "vault": "vault:secret/walstream/prod",
                    "aws-secrets": "aws-secrets:prod/app/cdc",
                }[self.kind]
            )
        self._params = _parse(dsn)

    def __call__(self) -> str:
        if self.kind == "":
            return self.dsn
        if self.kind == "env":
            name = self.ref.strip()
            password = self._environ.get(name)
            if password is None:
                raise ConfigError(
                    f"--password-from env:{name}: environment variable {name} is not set"
                )
            register_secret(password)
            return _with(self._params, {"password": password})
        if self.kind == "vault":
            return _merge_secret(self._params, self._read_vault(), self.ref)
        if self.kind == "aws-secrets":
            return _merge_secret(self._params, self._read_aws_secret(), self.ref)
        return self._rds_iam()

    def describe(self) -> str:
        """Where credentials come from, safe to log."""
        source = self.kind or "dsn"
        return f"{source}:{self.ref}" if self.ref and self.kind != "rds-iam" else source

    def redacted(self) -> str:
        return redact_dsn(self.dsn)

    # -- Vault ------------------------------------------------------------------------------
    def _vault_client(self) -> Any:
        import hvac  # type: ignore[import-untyped]

        v = self.settings.vault
        addr = v.addr or self._environ.get("VAULT_ADDR")
        if not addr:
            raise ConfigError("--password-from vault: needs --vault-addr (or VAULT_ADDR)")
        verify: bool | str = v.ca_cert or self._environ.get("VAULT_CACERT") or True
        namespace = v.namespace or self._environ.get("VAULT_NAMESPACE")
        client = hvac.Client(url=addr, namespace=namespace, verify=verify, timeout=10)
        auth = (v.auth or "token").lower()
        try:
            if auth == "token":
                token = v.token or self._environ.get("VAULT_TOKEN")
                if not token:
                    raise ConfigError("--vault-auth token: needs --vault-token (or VAULT_TOKEN)")
                register_secret(token)
                client.token = token
            elif auth == "approle":
                role_id = v.role_id or self._environ.get("VAULT_ROLE_ID")
                secret_id = v.secret_id or self._environ.get("VAULT_SECRET_ID")
                if not role_id or not secret_id:
                    raise ConfigError(
                        "--vault-auth approle: needs --vault-role-id and --vault-secret-id "
                        "(or VAULT_ROLE_ID / VAULT_SECRET_ID)"
                    )
                register_secret(secret_id)
                client.auth.approle.login(role_id=role_id, secret_id=secret_id)
            elif auth == "aws":
                import boto3

                creds = boto3.session.Session().get_credentials()
                if creds is None:
                    raise ConfigError(
                        "--vault-auth aws: no AWS credentials found (instance role, "
                        "AWS_ACCESS_KEY_ID, or a profile)"
                    )
                frozen = creds.get_frozen_credentials()
                client.auth.aws.iam_login(
                    frozen.access_key,
                    frozen.secret_key,
                    frozen.token,
                    header_value=v.aws_header,
                    role=v.aws_role,
                    region=self._region() or "us-east-1",
                )
            else:
                raise ConfigError(f"unknown --vault-auth {v.auth!r}: use token, approle or aws")
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"Vault login ({auth}) at {addr} failed: {_vault_error(exc)}; check the "
                "credentials and the auth method's role"
            ) from None
        if client.token:
            register_secret(str(client.token))
        return client

    def _read_vault(self) -> dict[str, Any] | str:
        ref, _, field_name = self.ref.partition("#")
        mount, _, path = ref.strip().strip("/").partition("/")
        if not mount or not path:
            raise ConfigError(
                f"--password-from vault:{self.ref}: expected vault:MOUNT/PATH[#FIELD], "
                "e.g. vault:secret/walstream/prod#password"
            )
        client = self._vault_client()
        version = self.settings.vault.kv_version
        try:
            if version == 2:
                response = client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True
                )
                data = response["data"]["data"]
            elif version == 1:
                data = client.secrets.kv.v1.read_secret(path=path, mount_point=mount)["data"]
            else:
                raise ConfigError(f"--vault-kv-version must be 1 or 2, not {version}")
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"cannot read Vault secret {mount}/{path} (KV v{version}): {_vault_error(exc)}"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"Vault secret {mount}/{path} is not a key/value object")
        if field_name:
            if field_name not in data:
                raise ConfigError(
                    f"Vault secret {mount}/{path} has no field {field_name!r}; fields: "
                    + ", ".join(sorted(data))
                )
            return str(data[field_name])
        return data

    # -- AWS --------------------------------------------------------------------------------
    def _region(self) -> str | None:
        region = self.settings.aws_region or self._environ.get("AWS_REGION")
        region = region or self._environ.get("AWS_DEFAULT_REGION")
        if region:
            return region
        host = str(self._params.get("host") or "")
        match = re.search(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.rds\.amazonaws\.com", host)
        return match.group(1) if match else None

    def _read_aws_secret(self) -> dict[str, Any] | str:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        secret_id = self.ref.strip()
        try:
            client = boto3.session.Session().client("secretsmanager", region_name=self._region())
            value = client.get_secret_value(SecretId=secret_id)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise ConfigError(
                f"cannot read AWS secret {secret_id!r}: {code or exc}; check the secret id, "
                "the region (--aws-region) and secretsmanager:GetSecretValue permission"
            ) from None
        except BotoCoreError as exc:
            raise ConfigError(f"cannot read AWS secret {secret_id!r}: {exc}") from None
        text = value.get("SecretString")
        if text is None:
            raise ConfigError(f"AWS secret {secret_id!r} is binary; walstream needs a string")
        try:
            doc = json.loads(text)
        except ValueError:
            register_secret(text)
            return str(text)  # a plain string secret: the password itself
        if not isinstance(doc, dict):
            raise ConfigError(f"AWS secret {secret_id!r} is JSON but not an object")
        return doc

    def _rds_iam(self) -> str:
        params = dict(self._params)
        host, user = str(params.get("host") or ""), str(params.get("user") or "")
        if not host or not user:
            raise ConfigError(
                "--password-from rds-iam: the --dsn must name host and user (the database "
                "user that has rds_iam granted)"
            )
        port = int(str(params.get("port") or 5432))
        sslmode = str(params.get("sslmode") or "")
        if sslmode == "disable":
            raise ConfigError(
                "--password-from rds-iam: RDS IAM authentication needs TLS, but the DSN says "
                "sslmode=disable; use sslmode=verify-full sslrootcert=<RDS CA bundle>"
            )
        _secure_transport(params, "--password-from rds-iam")
        region = self._region()
        if not region:
            raise ConfigError(
                "--password-from rds-iam: cannot tell the AWS region; pass --aws-region"
            )
        generate = self._token_generator or _boto3_auth_token
        try:
            token = generate(host, port, user, region)
        except ConfigError:
            raise
        except Exception as exc:
            raise SourceError(
                f"cannot generate an RDS IAM auth token for {user}@{host}: {exc}"
            ) from None
        register_secret(token)
        params["password"] = token
        return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


#: Where the walstream image keeps Amazon's RDS CA bundle (deploy/Dockerfile).
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"


def _secure_transport(params: dict[str, Any], what: str) -> None:
    """A token or password is about to be sent: without an ``sslmode`` of the user's, verify
    the server's certificate and name (``verify-full``, with the image's RDS CA bundle when
    no ``sslrootcert`` is given); a weaker mode is raised to ``require`` and warned about, so
    the secret never goes out in clear or to a server nobody checked without a word."""
    sslmode = str(params.get("sslmode") or "")
    if not sslmode:
        params["sslmode"] = "verify-full"
        if not params.get("sslrootcert") and os.path.exists(RDS_CA_BUNDLE):
            params["sslrootcert"] = RDS_CA_BUNDLE
        return
    if sslmode in ("verify-full", "verify-ca"):
        return
    if sslmode in _WEAK_SSLMODES:
        params["sslmode"] = "require"
    log.warning(
        "event=tls_unverified what=%s sslmode=%s hint=the server's certificate is not checked; "
        "use sslmode=verify-full sslrootcert=<CA bundle> (the RDS bundle: %s)",
        what,
        params["sslmode"],
        RDS_CA_BUNDLE,
    )


def _boto3_auth_token(host: str, port: int, user: str, region: str) -> str:
    import boto3

    client = boto3.session.Session().client("rds", region_name=region)
    return str(
        client.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
    )


def _vault_error(exc: Exception) -> str:
    name = type(exc).__name__
    text = " ".join(str(exc).split())[:200]
    return f"{name}: {redact_text(text)}" if text else name


def _parse(dsn: str) -> dict[str, Any]:
    try:
        return dict(conninfo_to_dict(dsn))
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid --dsn: {redact_text(str(exc))}") from None


def _with(params: Mapping[str, Any], extra: Mapping[str, Any]) -> str:
    merged = {**params, **extra}
    return make_conninfo("", **{k: v for k, v in merged.items() if v is not None})


def _merge_secret(params: Mapping[str, Any], secret: Mapping[str, Any] | str, where: str) -> str:
    """The DSN from the user's parameters and a secret (see the module docstring)."""
    if isinstance(secret, str):
        register_secret(secret)
        return _with(params, {"password": secret})
    base: dict[str, Any] = {}
    inner = secret.get("dsn") or secret.get("uri") or secret.get("url")
    if inner:
        register_secret(str(inner))
        base = _parse(str(inner))
        if base.get("password"):
            register_secret(str(base["password"]))
    for key, param in _SECRET_KEYS.items():
        if secret.get(key) not in (None, ""):
            base[param] = str(secret[key])
    password = secret.get("password")
    if password is not None:
        register_secret(str(password))
        base["password"] = str(password)
    if not base.get("password"):
        raise ConfigError(
            f"the secret {where!r} has no password (expected a 'password' field or a 'dsn')"
        )
    merged = {**base, **{k: v for k, v in params.items() if k != "password"}}
    merged["password"] = base["password"]
    return make_conninfo("", **{k: v for k, v in merged.items() if v is not None})
