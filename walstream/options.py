"""Click building blocks every walstream command shares: env-backed options, sizes, LSNs.

One place so that every command spells a setting the same way: ``--flag`` with a
``WALSTREAM_<NAME>`` variable (shown in ``--help``), sizes as ``64MB`` / ``1GiB`` / bytes, LSNs
as PostgreSQL writes them (``16/B374D848``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from .errors import WalstreamError
from .lsn import parse_lsn

F = TypeVar("F", bound=Callable[..., Any])

_UNITS = (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024), ("B", 1))


def envopt(*names: str, env: str, also_env: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """``click.option`` read from ``WALSTREAM_<env>``, then from ``also_env`` if given.

    ``also_env`` is for settings that have a well-known variable of their own (``VAULT_ADDR``).
    """
    ours = f"WALSTREAM_{env}"
    envvar: str | list[str] = [ours, also_env] if also_env else ours
    return click.option(*names, envvar=envvar, show_envvar=True, **kwargs)


def parse_size(value: str | int) -> int:
    """'64MB', '512KiB', '1GB', '2TB' or a plain byte count, in bytes."""
    if isinstance(value, int):
        return value
    text = value.strip().upper().replace("IB", "B")
    for suffix, mult in _UNITS:
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * mult)
    return int(text)


class SizeType(click.ParamType):  # type: ignore[type-arg]
    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return parse_size(value)
        except ValueError:
            self.fail(f"{value!r} is not a size (e.g. 64MB, 2GB, 1048576)", param, ctx)


class LsnType(click.ParamType):  # type: ignore[type-arg]
    name = "lsn"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_lsn(str(value))
        except WalstreamError as exc:
            self.fail(str(exc), param, ctx)


def type_choice_options(func: F) -> F:
    """``--as-text`` and ``--on-lossy`` (walstream.convert.choices): every command that types
    columns (run, snapshot, the Snowflake commands) takes them, so all sides agree."""
    func = envopt(
        "--on-lossy",
        env="ON_LOSSY",
        default="mark",
        show_default=True,
        type=click.Choice(["mark", "fail"]),
        help="a value the files cannot hold exactly (infinity, NaN in numeric(p,s), years "
        "outside 0001-9999, time 24:00, reshaped arrays): mark stores the nearest value and "
        "names the column in _walstream_lossy; fail stops (exit 5), nothing acknowledged",
    )(func)
    func = envopt(
        "--as-text",
        env="AS_TEXT",
        multiple=True,
        help="type these columns as PostgreSQL's text output, exactly: schema.table.column "
        "(shell patterns allowed) or a kind: numeric, temporal, array, json (repeat or "
        "separate with commas)",
    )(func)
    return func
