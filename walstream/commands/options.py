"""Click building blocks every walstream command shares: env-backed options, sizes, LSNs.

One place so that every command spells a setting the same way: ``--flag`` with a
``WALSTREAM_<NAME>`` variable (shown in ``--help``), sizes as ``64MB`` / ``1GiB`` / bytes,
durations as ``500ms`` / ``30s`` / ``2m`` / bare seconds, LSNs as PostgreSQL writes them
(``16/B374D848``). Each type checks its range where it parses, so a bad value, from a flag, the
environment or a config file, is one line and exit 2 (DESIGN.md §1 guarantee 9).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from ..convert.context import ON_LOSSY_CHOICES
from ..errors import WalstreamError
from ..lsn import parse_lsn

log = logging.getLogger("walstream")

F = TypeVar("F", bound=Callable[..., Any])

_UNITS = (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024), ("B", 1))


#: Parameters whose value is a secret (``config show`` and the logs print ``***``).
SECRET_WORDS = ("password", "passphrase", "token", "secret")
SECRET_EXCEPTIONS = frozenset({"password_from"})  # a reference to a secret, not one


def is_secret_param(name: str) -> bool:
    return name not in SECRET_EXCEPTIONS and any(word in name for word in SECRET_WORDS)


def _warn_secret_flag(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A secret given as a flag is visible to every user of the machine (``ps``): say so."""
    name = param.name or ""
    if value and ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE:
        flag = param.opts[0] if param.opts else name
        envvar = param.envvar[0] if isinstance(param.envvar, list | tuple) else param.envvar
        log.warning(
            "event=secret_on_command_line option=%s hint=other users can read it with ps; "
            "set %s in the environment (or a file only you can read) instead",
            flag,
            envvar,
        )
    return value


def envopt(*names: str, env: str, also_env: str | None = None, **kwargs: Any) -> Callable[[F], F]:
    """``click.option`` read from ``WALSTREAM_<env>``, then from ``also_env`` if given.

    ``also_env`` is for settings that have a well-known variable of their own (``VAULT_ADDR``).
    A secret option (:func:`is_secret_param`) warns when it is given as a flag.
    """
    ours = f"WALSTREAM_{env}"
    envvar: str | list[str] = [ours, also_env] if also_env else ours
    declared = [n for n in names if not n.startswith("-")]
    name = declared[0] if declared else names[0].lstrip("-").replace("-", "_")
    if is_secret_param(name):
        kwargs.setdefault("callback", _warn_secret_flag)
    return click.option(*names, envvar=envvar, show_envvar=True, **kwargs)


def parse_size(value: str | int) -> int:
    """'64MB', '512KiB', '1GB', '2TB' or a plain byte count, in bytes."""
    if isinstance(value, bool):
        raise ValueError("not a size")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError("not a size")
        return int(value)
    if not isinstance(value, str):
        raise ValueError("not a size")
    text = value.strip().upper().replace("IB", "B")
    for suffix, mult in _UNITS:
        if text.endswith(suffix):
            number = float(text[: -len(suffix)])
            if not math.isfinite(number):
                raise ValueError("not a size")
            return int(number * mult)
    return int(text)


class SizeType(click.ParamType):  # type: ignore[type-arg]
    """A size in bytes (``64MB``, ``1GiB``, ``1048576``), at least ``minimum``."""

    name = "size"

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            size = parse_size(value)
        except (ValueError, OverflowError):
            self.fail(f"{value!r} is not a size (e.g. 64MB, 2GB, 1048576)", param, ctx)
        if size < self.minimum:
            self.fail(f"{value!r} is less than the minimum, {_size_text(self.minimum)}", param, ctx)
        return size


def _size_text(size: int) -> str:
    for suffix, mult in _UNITS:
        if size >= mult and size % mult == 0:
            return f"{size // mult}{suffix}"
    return f"{size}B"


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s|m|h|d)?\s*")


def parse_duration(value: str | float | int) -> float:
    """'500ms', '1s', '2m', '1h', '1d' or bare seconds ('1.5', 30), in seconds; ValueError if
    it is not one, or not finite."""
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        m = _DURATION.fullmatch(value.lower())
        if m is None:
            raise ValueError("not a duration")
        seconds = float(m[1]) * _DURATION_UNITS[m[2] or "s"]
    else:
        raise ValueError("not a duration")
    if not math.isfinite(seconds):
        raise ValueError("not a finite duration")
    return seconds


class DurationType(click.ParamType):  # type: ignore[type-arg]
    """A duration in seconds (``500ms``, ``30s``, ``2m``, ``1h`` or bare seconds), more than
    zero unless ``zero_ok``, at most ``maximum``."""

    name = "duration"

    def __init__(self, zero_ok: bool = False, maximum: float = 366 * 86400.0) -> None:
        self.zero_ok = zero_ok
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = parse_duration(value)
        except (ValueError, OverflowError):
            self.fail(f"{value!r} is not a duration (e.g. 500ms, 30s, 2m, 1h, 1.5)", param, ctx)
        if seconds < 0 or (seconds == 0 and not self.zero_ok):
            self.fail(
                f"{value!r}: must be more than {'or equal to ' if self.zero_ok else ''}0",
                param,
                ctx,
            )
        if seconds > self.maximum:
            self.fail(f"{value!r} is longer than {self.maximum:g} s", param, ctx)
        return seconds


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
        type=click.Choice(ON_LOSSY_CHOICES),
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


class SectionedCommand(click.Command):
    """A command whose ``--help`` lists its options under headings, in the order given.

    Why: ``walstream run`` has some 70 options; listed as declared, twelve Vault settings came
    before ``--dsn``. ``sections`` is ``[(heading, [param names])]``; an option in no section is
    listed last under "Other options", and tests/test_cli_help.py keeps that list to ``--help``.
    """

    def __init__(
        self, *args: Any, sections: list[tuple[str, list[str]]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sections = list(sections or [])

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = {}
        help_option = self.get_help_option(ctx)
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and param.name is not None:
                records["help" if param is help_option else param.name] = record
        placed: set[str] = set()
        for heading, names in [*self.sections, ("Other options", list(records))]:
            rows = [records[n] for n in names if n in records and n not in placed]
            placed.update(names)
            if rows:
                with formatter.section(heading):
                    formatter.write_dl(rows)
