"""Where change files are stored: durable sinks behind one small contract.

The flush path hands a sink finished Parquet files (and the checkpoint) as bytes under keys
relative to the destination root (DESIGN §2); the ack to PostgreSQL waits for ``put()`` to
return, so everything rests on the guarantee stated in ``base.DurableSink``. ``open_sink`` turns
the user's ``--dest`` into a sink:

- ``s3://bucket[/prefix]`` -> ``S3Sink`` (production; moto in tests)
- ``file:///abs/path`` or a plain filesystem path -> ``LocalSink`` (the demo and local runs)

This package knows nothing about PostgreSQL or Parquet; it stores bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError
from .base import DurableSink, validate_key, validate_prefix
from .local import LocalSink

if TYPE_CHECKING:
    from .s3 import RetryPolicy, S3Sink


def __getattr__(name: str) -> Any:
    """``S3Sink`` and ``RetryPolicy`` on first use: boto3 costs a tenth of a second to import,
    which a local destination (and every short command) should not pay."""
    if name in ("S3Sink", "RetryPolicy"):
        from . import s3

        return getattr(s3, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DurableSink",
    "LocalSink",
    "RetryPolicy",
    "S3Sink",
    "open_sink",
    "validate_key",
    "validate_prefix",
]

_ACCEPTED = "accepted: s3://bucket[/prefix], file:///absolute/path, or a filesystem path"


def _local_root(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ConfigError(
            f"invalid destination {url!r}: a file URL needs an absolute path with three "
            f"slashes, e.g. file:///data/dms (host {parts.netloc!r} is not supported); {_ACCEPTED}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"invalid destination {url!r}: '?' and '#' are not allowed; {_ACCEPTED}")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise ConfigError(
            f"invalid destination {url!r}: a file URL needs an absolute path, e.g. "
            f"file:///data/dms; {_ACCEPTED}"
        )
    return path


def open_sink(url: str, **options: Any) -> DurableSink:
    """The sink for destination ``url``; ``options`` go to the sink (see ``S3Sink``).

    Options whose value is ``None`` are dropped, so a caller can pass unset settings through.
    A local sink takes no options; passing one is a ``ConfigError`` rather than silently
    ignoring, say, an endpoint meant for S3.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"no destination given ({url!r}); {_ACCEPTED}")
    options = {name: value for name, value in options.items() if value is not None}
    scheme = urlsplit(url).scheme.lower()
    if scheme == "s3":
        from .s3 import S3Sink

        try:
            return S3Sink(url, **options)
        except TypeError as exc:  # an unknown option name
            raise ConfigError(f"invalid S3 sink option for {url!r}: {exc}") from exc
    if scheme == "file":
        root = _local_root(url)
    elif scheme == "":
        root = url  # a plain path, relative to the working directory if not absolute
    else:
        raise ConfigError(f"unsupported destination {url!r}: {_ACCEPTED}")
    if options:
        raise ConfigError(
            f"options {sorted(options)} do not apply to the local destination {url!r}; "
            "remove them or use an s3:// destination"
        )
    return LocalSink(url, root)
