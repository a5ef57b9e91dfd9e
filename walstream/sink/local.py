"""A ``DurableSink`` on the local filesystem: the default destination, the demo's, the tests'.

Durability on a POSIX filesystem takes more than ``write()``: the bytes go to a hidden temp file
in the target directory (``.<name>.<random>.tmp``, so no reader or listing picks it up), are
fsync'd, renamed over the final name with ``os.replace`` (atomic within one filesystem), and the
directory is fsync'd so the rename itself survives a power loss. Directories created on the way
are fsync'd into their parents for the same reason. A failure at any step removes the temp file,
so a key shows either its previous content or the new content in full, never a prefix of it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import time
from pathlib import Path

from ..errors import SinkError
from ..layout import probe_key as make_probe_key
from .base import validate_key, validate_prefix

log = logging.getLogger(__name__)

_TMP_SUFFIX = ".tmp"
#: A temp file this old is a dead writer's (sweep): a write takes a moment, not minutes.
STALE_SECONDS = 900.0


def _is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(_TMP_SUFFIX)


def _os_error_text(exc: OSError) -> str:
    code = errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno is not None else "?"
    return f"{exc.strerror or exc} ({code})"


def _os_error_hint(exc: OSError, root: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"free space on the filesystem holding {root} or choose another --dest"
    if exc.errno == errno.EDQUOT:
        return f"raise the disk quota for the filesystem holding {root} or choose another --dest"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"give the walstream user write access to {root} or choose another --dest"
    if exc.errno == errno.EROFS:
        return (
            f"the filesystem holding {root} is read-only: remount it read-write or choose "
            "another --dest"
        )
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return f"a path component of {root} is a file, not a directory: fix --dest"
    return f"check the destination directory {root} or choose another --dest"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs_durable(path: Path) -> None:
    """Create ``path`` and missing parents; fsync each new directory's parent once."""
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue  # created concurrently by another flush: its creator fsyncs the parent
        _fsync_dir(directory.parent)


class LocalSink:
    """Objects as files under a root directory, written atomically and fsync'd.

    ``url`` is kept as given (``file:///data/dms`` or ``/data/dms``); ``root`` is the absolute
    directory it names.
    """

    def __init__(self, url: str, root: str | os.PathLike[str]) -> None:
        self.url = url
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"LocalSink({self.url!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def describe(self, key: str) -> str:
        return self._path(key).as_uri()

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{_TMP_SUFFIX}")
        fd = -1
        try:
            _make_dirs_durable(path.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            # Forget the descriptor before closing: a failed close must not be retried on a
            # number another thread may already have been given.
            closing, fd = fd, -1
            os.close(closing)
            os.replace(tmp, path)
        except OSError as exc:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
            # The temp file may not exist (open failed); if it does, it must not stay behind.
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise SinkError(
                f"cannot write {path}: {_os_error_text(exc)}: {_os_error_hint(exc, self.root)}"
            ) from exc
        try:
            _fsync_dir(path.parent)
        except OSError as exc:
            # The file is complete and in place, but the rename may not survive a crash; the
            # caller must not count it as durable (it will put the same bytes again).
            raise SinkError(
                f"wrote {path} but could not fsync its directory: {_os_error_text(exc)}: "
                f"{_os_error_hint(exc, self.root)}"
            ) from exc

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SinkError(
                f"cannot read {path}: {_os_error_text(exc)}: {_os_error_hint(exc, self.root)}"
            ) from exc

    def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        # Walk only the deepest directory the prefix fully names; filter the rest by string,
        # which gives S3's prefix semantics ("public/ord" matches "public/orders/...").
        base_dir = prefix.rpartition("/")[0]
        top = self.root.joinpath(*base_dir.split("/")) if base_dir else self.root
        keys: list[str] = []

        def fail(exc: OSError) -> None:
            if isinstance(exc, FileNotFoundError | NotADirectoryError) and exc.filename == str(top):
                return  # nothing stored under this prefix yet
            raise SinkError(
                f"cannot list {exc.filename}: {_os_error_text(exc)}: "
                f"{_os_error_hint(exc, self.root)}"
            ) from exc

        for dirpath, _dirnames, filenames in os.walk(top, onerror=fail):
            rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            for name in filenames:
                if _is_temp_name(name):
                    continue
                key = name if rel_dir == "." else f"{rel_dir}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        keys.sort()
        return keys

    def sweep(self, older_than: float = STALE_SECONDS) -> int:
        """Remove the temp files a killed writer left (``.<name>.<random>.tmp``), older than
        ``older_than`` seconds (a live writer's exist for a moment only, but another process
        may share the destination); returns how many were removed."""
        removed = 0
        cutoff = time.time() - older_than
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                if not _is_temp_name(name):
                    continue
                path = Path(dirpath) / name
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
        if removed:
            log.info("event=sink_swept temp_files=%d sink=%s", removed, self.url)
        return removed

    def check(self) -> None:
        try:
            _make_dirs_durable(self.root)
        except OSError as exc:
            raise SinkError(
                f"cannot create destination directory {self.root}: {_os_error_text(exc)}: "
                f"{_os_error_hint(exc, self.root)}"
            ) from exc
        probe_key = make_probe_key(secrets.token_hex(8))
        self.put(probe_key, b"walstream write probe\n")
        probe = self._path(probe_key)
        try:
            os.unlink(probe)
            _fsync_dir(probe.parent)
        except OSError as exc:
            raise SinkError(
                f"cannot remove write probe {probe}: {_os_error_text(exc)}: "
                f"{_os_error_hint(exc, self.root)}"
            ) from exc
        log.debug("event=sink_check_ok sink=%s", self.url)
