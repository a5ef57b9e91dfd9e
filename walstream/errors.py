"""The one error hierarchy of walstream.

Every expected failure is a ``WalstreamError`` whose message says what failed, with what value,
and what to do about it. The CLI maps the subclasses to exit codes and prints the message on
one line, never a traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (drivers' messages span lines: LINE, HINT, the query)."""
    return " ".join(str(exc).split())


class WalstreamError(Exception):
    """Base of all expected failures; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(WalstreamError):
    """The user's configuration is wrong (flags, env, DSN, destination URL)."""

    exit_code = 2


class SourceError(WalstreamError):
    """PostgreSQL refused or lacks something we need (slot, publication, wal_level, rights)."""

    exit_code = 3


class SinkError(WalstreamError):
    """The destination cannot store data (bucket missing or forbidden, disk full)."""

    exit_code = 4


class TransientSinkError(SinkError):
    """The destination kept failing in a way that may pass (5xx, throttling, timeouts)."""


class ResourceError(WalstreamError):
    """A local budget (spill disk, memory) is exhausted; the message says which knob to turn."""

    exit_code = 6


class ProtocolError(WalstreamError):
    """Bytes from the server do not follow the pgoutput / replication protocol."""

    exit_code = 5


class TypeConversionError(WalstreamError):
    """A column value cannot be converted to its Arrow type without changing it."""

    exit_code = 5
