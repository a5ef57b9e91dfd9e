"""What the flush path may assume about a destination: the ``DurableSink`` contract.

The pipeline acknowledges a WAL position to PostgreSQL only after every file holding changes up
to it is stored (DESIGN §1.1). That decision rests on one promise, stated here once and kept by
each implementation (``local.LocalSink``, ``s3.S3Sink``): when ``put()`` returns, the object is
durable; when it raises, no partial object is visible under the key. Everything else a sink does
(listing, reading back the checkpoint, the startup probe) serves status reporting and early,
actionable failure.

Keys are relative to the sink's root and always ``/``-separated, whatever the backend, so the
same key names a file in S3 and on disk (DESIGN §2). They are checked here, once, so that no key
can escape the root (``..``) or name a directory.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..errors import SinkError

#: Keys under this top-level folder belong to walstream itself (checkpoints, probes).


@runtime_checkable
class DurableSink(Protocol):
    """A destination root that stores whole objects durably, or not at all.

    Guarantee: ``put()`` returns only after the object is durable (S3 acknowledged it with a
    verified checksum; a local file was fsync'd, renamed into place and its directory fsync'd).
    If ``put()`` raises, nothing partial is visible under the key: readers see the previous
    object under that key, or none. Writes to one key are atomic replacements, never appends.

    A sink knows nothing about PostgreSQL; it stores bytes under keys. Failures it cannot
    recover from (after its own retries) are ``SinkError`` with a message that names the object
    and says what to do.
    """

    url: str
    """The destination root as the user gave it, e.g. ``s3://bucket/prefix`` or ``file:///p``."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; return only once it is durable."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes stored under ``key``, or ``None`` if there is no such object."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys (relative to the root) that start with ``prefix``, sorted."""
        ...

    def check(self) -> None:
        """Startup probe: the root is reachable and writable, else ``SinkError``."""
        ...

    def describe(self, key: str) -> str:
        """The full URL of ``key``, for logs and messages."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it names an object inside the root, else raise ``SinkError``.

    A key is ``/``-separated segments, none empty, ``.`` or ``..``: no leading or trailing
    slash, no way to climb out of the root, the same meaning on S3 and on a filesystem.
    """
    if not isinstance(key, str) or not key:
        raise SinkError(f"invalid object key {key!r}: a key must be a non-empty string")
    if "\x00" in key:
        raise SinkError(f"invalid object key {key!r}: a key must not contain NUL")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise SinkError(
                f"invalid object key {key!r}: keys are relative, '/'-separated names without "
                "empty, '.' or '..' segments"
            )
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a valid listing prefix, else raise ``SinkError``.

    A prefix is a key prefix in the S3 sense (``public/ord`` matches ``public/orders/x``), so it
    may be empty or end with ``/``; its complete segments obey the key rules.
    """
    if not isinstance(prefix, str):
        raise SinkError(f"invalid key prefix {prefix!r}: a prefix must be a string")
    if prefix:
        whole = prefix[:-1] if prefix.endswith("/") else prefix
        # The last segment may be partial ("public/ord"); a lone "." or ".." is still refused.
        validate_key(whole)
    return prefix
