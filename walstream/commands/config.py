"""Settings from a TOML file, and the click options that several commands share.

Every ``walstream`` option already has a flag, a ``WALSTREAM_*`` variable and a default. A
config file (``--config PATH`` or ``WALSTREAM_CONFIG``) adds one more layer through click's
``default_map``, so the precedence is click's own: **flag > environment > file > default**.
Nothing else needs to know the file exists: commands see ordinary parameter values.

The file's keys are option names (``flush_interval`` or ``flush-interval``). Top-level keys
apply to every command that has that option; a table applies to one command
(``[run]``, ``[status]``; a subcommand by its quoted path, ``["slot create"]``, because ``slot``
and ``publication`` are settings too)::

    dsn = "host=db.internal dbname=app user=cdc sslmode=verify-full sslrootcert=/etc/rds-ca.pem"
    slot = "sf_sync"
    dest = "s3://my-bucket/dms"
    password_from = "aws-secrets:prod/app/cdc"

    [run]
    flush_interval = 30
    metrics_port = 9187

    [status]
    max_lag_bytes = "2GB"

    ["slot create"]
    slot = "sf_sync_2"

A key that no command knows is an error (a typo must not be silently ignored).
``walstream config show`` prints the effective settings of a command and where each came from,
with secrets redacted.

Use: ``@config_option`` on the root group (and, optionally, on a single command), and
``@secret_options`` on each command that connects to the source: it adds the
``--password-from`` / Vault / AWS options and hands the command a ``dsn_provider`` (a
:class:`walstream.secrets.DsnSource`) instead of them.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Iterator, Mapping
from typing import Any

import click
from click.core import ParameterSource

from ..errors import ConfigError
from ..secrets import REDACTED, DsnSource, SecretSettings, VaultSettings, redact_dsn
from .options import F, envopt, is_secret_param

CONFIG_ENV = "WALSTREAM_CONFIG"
_META_PATH = "walstream.config_path"


def read_config(path: str) -> dict[str, Any]:
    """The TOML document at ``path``."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path!r} does not exist (check --config / {CONFIG_ENV})"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path!r} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path!r} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path!r}: {exc.strerror or exc}") from None


def _commands(
    group: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from _commands(command, (*path, name))


def _param_names(command: click.Command) -> set[str]:
    return {p.name for p in command.params if p.name and p.expose_value}


def _norm(key: str) -> str:
    return key.replace("-", "_")


def _scalar_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a setting's value, or None (TOML gives tables, dates, arrays,
    and floats such as 1e400 = inf that no option takes)."""
    if isinstance(value, bool | str | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, dict):
        kind = "a table"
    elif isinstance(value, list):
        kind = "an array"
    else:
        kind = type(value).__name__
    return f"{kind} is not a value this setting takes"


def _check_value(command: click.Command, key: str, value: Any, where: str, section: str) -> None:
    """A config value must have a shape the option can take; its range and units are checked
    by the option's own type when click converts it."""
    param = next(p for p in command.params if p.name == key)
    values = value if isinstance(value, list) and getattr(param, "multiple", False) else [value]
    for item in values:
        problem = _scalar_problem(item)
        if problem is None and isinstance(item, bool) and not getattr(param, "is_flag", False):
            problem = f"{str(item).lower()} is not a value this setting takes"
        if problem is not None:
            wanted = "true or false" if getattr(param, "is_flag", False) else "a string or a number"
            many = "a list of them, or " if getattr(param, "multiple", False) else ""
            raise ConfigError(
                f"{where}: setting {key!r} in [{section}]: {problem} (give {many}{wanted}, as "
                "for --" + key.replace("_", "-") + ")"
            )


def build_default_map(root: click.Command, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    """click ``default_map`` for ``root`` and its subcommands from a config document."""
    commands = dict(_commands(root))
    default_map: dict[str, Any] = {}

    def node(path: tuple[str, ...]) -> dict[str, Any]:
        current = default_map
        for name in path:
            current = current.setdefault(name, {})
        return current

    def put(path: tuple[str, ...], key: str, value: Any, section: str) -> None:
        command = commands[path]
        if key not in _param_names(command):
            known = ", ".join(sorted(_param_names(command))) or "none"
            raise ConfigError(
                f"{where}: unknown setting {key!r} in [{section}] ({'walstream ' + ' '.join(path)}"
                f" takes: {known})"
            )
        _check_value(command, key, value, where, section)
        node(path)[key] = value

    def walk_section(path: tuple[str, ...], table: Mapping[str, Any]) -> None:
        section = " ".join(path)
        for raw_key, value in table.items():
            key = _norm(raw_key)
            sub = (*path, raw_key)
            if isinstance(value, dict) and sub in commands:
                walk_section(sub, value)
            else:
                put(path, key, value, section)

    all_params = {name for _, cmd in commands.items() for name in _param_names(cmd)}
    for raw_key, value in doc.items():
        key = _norm(raw_key)
        path = tuple(raw_key.split())
        if isinstance(value, dict) and path in commands:
            walk_section(path, value)
            continue
        if key not in all_params:
            raise ConfigError(
                f"{where}: unknown setting {raw_key!r}: no walstream command has an option "
                f"--{key.replace('_', '-')} (sections: "
                + ", ".join(f"[{' '.join(p)}]" for p in commands if p)
                + ")"
            )
        for path, command in commands.items():
            if key in _param_names(command):
                _check_value(command, key, value, where, "top level")
                target = node(path)
                target.setdefault(key, value)  # a command's own section wins over top level
    return default_map


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if not value:
        return
    root = ctx.find_root()
    full = build_default_map(root.command, read_config(value), value)
    path: list[str] = []
    current = ctx
    while current.parent is not None:
        path.insert(0, current.info_name or "")
        current = current.parent
    subtree: Any = full
    for name in path:  # --config given to a subcommand: its part of the file
        subtree = subtree.get(name, {}) if isinstance(subtree, dict) else {}
    ctx.default_map = _merge(ctx.default_map or {}, subtree)
    root.meta[_META_PATH] = value


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def config_option(f: F) -> F:
    """``--config PATH`` (``WALSTREAM_CONFIG``): load a TOML file into click's default_map."""
    return click.option(
        "--config",
        "config_path",
        envvar=CONFIG_ENV,
        show_envvar=True,
        type=click.Path(dir_okay=False),
        is_eager=True,
        expose_value=False,
        callback=_load_config,
        help="TOML file with settings (flag > env > file > default)",
    )(f)


# -- shared options -------------------------------------------------------------------------
_SECRET_PARAMS = (
    "password_from",
    "vault_addr",
    "vault_auth",
    "vault_token",
    "vault_role_id",
    "vault_secret_id",
    "vault_aws_role",
    "vault_aws_header",
    "vault_kv_version",
    "vault_namespace",
    "vault_ca_cert",
    "aws_region",
)


def secret_options(f: F) -> F:
    """Add the credential-source options; the command receives ``dsn_provider`` instead.

    The wrapped command must take ``dsn`` and ``dsn_provider`` keyword arguments.
    """
    options = [
        envopt(
            "--password-from",
            env="PASSWORD_FROM",
            default=None,
            help="env:NAME | vault:MOUNT/PATH[#FIELD] | aws-secrets:SECRET_ID | rds-iam",
        ),
        envopt("--vault-addr", env="VAULT_ADDR", also_env="VAULT_ADDR", default=None),
        envopt(
            "--vault-auth",
            env="VAULT_AUTH",
            default="token",
            show_default=True,
            type=click.Choice(["token", "approle", "aws"]),
        ),
        envopt("--vault-token", env="VAULT_TOKEN", also_env="VAULT_TOKEN", default=None),
        envopt("--vault-role-id", env="VAULT_ROLE_ID", also_env="VAULT_ROLE_ID", default=None),
        envopt(
            "--vault-secret-id", env="VAULT_SECRET_ID", also_env="VAULT_SECRET_ID", default=None
        ),
        envopt("--vault-aws-role", env="VAULT_AWS_ROLE", default=None),
        envopt("--vault-aws-header", env="VAULT_AWS_HEADER", default=None),
        envopt(
            "--vault-kv-version",
            env="VAULT_KV_VERSION",
            default=2,
            show_default=True,
            type=click.Choice(["1", "2"]),
        ),
        envopt(
            "--vault-namespace", env="VAULT_NAMESPACE", also_env="VAULT_NAMESPACE", default=None
        ),
        envopt("--vault-ca-cert", env="VAULT_CACERT", also_env="VAULT_CACERT", default=None),
        envopt("--aws-region", env="AWS_REGION", also_env="AWS_REGION", default=None),
    ]

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["dsn_provider"] = dsn_source_from(kwargs)
        return f(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


def dsn_source_from(kwargs: dict[str, Any]) -> DsnSource:
    """Pop the credential options out of a command's ``kwargs`` into a :class:`DsnSource`."""
    values = {name: kwargs.pop(name, None) for name in _SECRET_PARAMS}
    vault = VaultSettings(
        addr=values["vault_addr"],
        auth=values["vault_auth"] or "token",
        token=values["vault_token"],
        role_id=values["vault_role_id"],
        secret_id=values["vault_secret_id"],
        aws_role=values["vault_aws_role"],
        aws_header=values["vault_aws_header"],
        kv_version=int(values["vault_kv_version"] or 2),
        namespace=values["vault_namespace"],
        ca_cert=values["vault_ca_cert"],
    )
    settings = SecretSettings(values["password_from"], vault, values["aws_region"])
    return DsnSource(str(kwargs.get("dsn") or ""), settings)


# -- config show ----------------------------------------------------------------------------
_SOURCE_NAMES = {
    ParameterSource.COMMANDLINE: "flag",
    ParameterSource.ENVIRONMENT: "env",
    ParameterSource.DEFAULT_MAP: "file",
    ParameterSource.DEFAULT: "default",
    ParameterSource.PROMPT: "prompt",
}


def display_value(name: str, value: Any) -> Any:
    """``value`` as ``config show`` prints it: secrets redacted, tuples as lists."""
    if value is None:
        return None
    if name == "dsn":
        return redact_dsn(str(value)) if value else value
    if is_secret_param(name):
        return REDACTED
    if isinstance(value, tuple):
        return list(value)
    return value


def effective_settings(ctx: click.Context, path: tuple[str, ...]) -> list[dict[str, Any]]:
    """[{name, value, source}] of command ``path`` as it would run now (no flags given)."""
    root = ctx.find_root()
    command: click.Command = root.command
    parent = root
    for name in path:
        # get_command, not .commands: the heavier commands are added when first asked for
        found = command.get_command(parent, name) if isinstance(command, click.Group) else None
        if found is None:
            raise ConfigError(f"no command 'walstream {' '.join(path)}'")
        command = found
        sub = command.make_context(name, [], parent=parent, resilient_parsing=True)
        parent = sub
    out = []
    for param in command.params:
        if not param.name or not param.expose_value or param.name == "help":
            continue
        source = parent.get_parameter_source(param.name)
        value = parent.params.get(param.name)
        out.append(
            {
                "name": param.name,
                "value": display_value(param.name, value),
                "source": _SOURCE_NAMES.get(source, "default") if source else "default",
                "env": _envvar(param),
            }
        )
    return out


def _envvar(param: click.Parameter) -> str | None:
    env = getattr(param, "envvar", None)
    if isinstance(env, list | tuple):
        return str(env[0]) if env else None
    return str(env) if env else None


def config_path(ctx: click.Context) -> str | None:
    value = ctx.find_root().meta.get(_META_PATH)
    return None if value is None else str(value)
