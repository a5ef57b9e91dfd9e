"""Snowflake credentials for ``walstream snowflake apply``: password, key pair, or a secret store.

Secrets never come from a flag's default or a log line. A password is given directly (usually
through ``WALSTREAM_SNOWFLAKE_PASSWORD``) or as a reference resolved at connect time:

- ``env:NAME`` - the environment variable NAME;
- ``vault:PATH#FIELD`` - HashiCorp Vault KV version 2 (``hvac``, with ``VAULT_ADDR`` and
  ``VAULT_TOKEN`` or the usual hvac environment), mount point ``secret`` unless PATH names it
  as ``mount/path``;
- ``aws-secretsmanager:SECRET_ID#FIELD`` - AWS Secrets Manager through boto3 and the standard
  AWS settings; FIELD picks a key of a JSON secret, no FIELD takes the whole string.

Key-pair authentication reads a PEM private key (optionally encrypted; the passphrase may be a
reference too) and hands the connector the DER bytes it expects.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError

_SCHEMES = ("env", "vault", "aws-secretsmanager")


def resolve_secret(ref: str) -> str:
    """The secret ``ref`` points to (see the module docstring for the forms)."""
    scheme, sep, rest = ref.partition(":")
    if not sep or scheme not in _SCHEMES:
        raise ConfigError(
            f"secret reference must start with one of {', '.join(s + ':' for s in _SCHEMES)} "
            "(e.g. vault:snowflake/walstream#password); got a reference of another form"
        )
    path, _, field = rest.partition("#")
    if scheme == "env":
        value = os.environ.get(path)
        if value is None:
            raise ConfigError(f"environment variable {path} (secret reference env:{path}) is unset")
        return value
    if scheme == "vault":
        return _from_vault(path, field)
    return _from_aws(path, field)


def _from_vault(path: str, field: str) -> str:
    try:
        import hvac  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise ConfigError(
            "vault: secret references need the hvac package: pip install hvac"
        ) from None
    mount, _, secret_path = path.partition("/")
    if not secret_path:
        mount, secret_path = "secret", path
    try:
        client = hvac.Client(url=os.environ.get("VAULT_ADDR"), token=os.environ.get("VAULT_TOKEN"))
        response = client.secrets.kv.v2.read_secret_version(path=secret_path, mount_point=mount)
        data: dict[str, Any] = response["data"]["data"]
    except Exception as exc:  # hvac raises many types; all mean "cannot read the secret"
        raise ConfigError(f"cannot read Vault secret {path!r}: {type(exc).__name__}") from None
    if not field:
        raise ConfigError(f"vault:{path} needs #FIELD, one of: {', '.join(sorted(data))}")
    if field not in data:
        raise ConfigError(f"Vault secret {path!r} has no field {field!r}")
    return str(data[field])


def _from_aws(secret_id: str, field: str) -> str:
    import boto3
    import botocore.exceptions

    try:
        response = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise ConfigError(
            f"cannot read AWS Secrets Manager secret {secret_id!r}: {type(exc).__name__}; "
            "check AWS_REGION, the credentials and secretsmanager:GetSecretValue"
        ) from None
    text = str(response.get("SecretString") or "")
    if not field:
        return text
    try:
        doc = json.loads(text)
    except ValueError:
        raise ConfigError(f"secret {secret_id!r} is not JSON, so #{field} cannot be read") from None
    if not isinstance(doc, dict) or field not in doc:
        raise ConfigError(f"secret {secret_id!r} has no field {field!r}")
    return str(doc[field])


def load_private_key(path: str, passphrase: str | None) -> bytes:
    """A PEM private key file as the DER (PKCS#8) bytes snowflake-connector-python takes."""
    from cryptography.hazmat.primitives import serialization

    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read private key file {path!r}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(
            pem, password=passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"cannot load private key {path!r}: {exc} (wrong or missing passphrase?)"
        ) from None
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
