"""Local spill files for transactions the server streams before they commit.

With pgoutput's ``streaming 'on'`` (protocol v2+, PostgreSQL 14+), a transaction larger than
``logical_decoding_work_mem`` arrives in chunks long before its commit, possibly interleaved
with other transactions, and may still abort. Holding the chunks in memory would make memory
grow with transaction size (DESIGN §1.4), so each in-progress transaction's raw pgoutput
messages are appended to a file under ``spill_dir``; at Stream Commit the file is replayed in
order, at Stream Abort it is deleted (or, for an aborted subtransaction, the subtransaction's
xid is remembered and its messages are skipped at replay).

Spill files only ever hold what the slot will send again after a restart, so they are deleted
at start-up and on reconnect; they are never needed for correctness after a crash. The spill
directories of walstream processes that no longer run (killed, or on a reused disk) are swept
at start-up too. A directory that cannot be used is a ConfigError (exit 2); a disk that fills up
while spilling is a ResourceError (exit 6), like the budget: the spill files are removed first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import BinaryIO, NoReturn

from ..errors import ConfigError, ResourceError

LENGTH = struct.Struct("!I")  # before each message in a spill file (big-endian, as C writes it)


class SpilledTransaction:
    """The raw messages of one streamed top-level transaction, in arrival order."""

    def __init__(self, xid: int, path: Path) -> None:
        self.xid = xid
        self.path = path
        self.size = 0
        self.messages = 0
        self.aborted_subxids: set[int] = set()
        self._file = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 - closed in close()

    def append(self, payload: bytes | memoryview) -> int:
        """Append one message; returns the bytes written."""
        self._file.write(LENGTH.pack(len(payload)))
        self._file.write(payload)
        written = 4 + len(payload)
        self.size += written
        self.messages += 1
        return written

    def append_block(self, block: bytes | bytearray, messages: int) -> int:
        """Append ``messages`` messages already framed as in the file (the C read loop's
        ``spill``); returns the bytes written."""
        self._file.write(block)
        self.size += len(block)
        self.messages += messages
        return len(block)

    def reader(self) -> BinaryIO:
        """The file from its start, for a replay in blocks (the write side is closed first);
        the caller closes it."""
        self._file.close()
        return open(self.path, "rb", buffering=0)

    def close(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class SpillStore:
    """All spilled transactions of one session, within a disk budget."""

    def __init__(self, spill_dir: str | None, budget_bytes: int) -> None:
        base = Path(spill_dir) if spill_dir else Path(tempfile.gettempdir()) / "walstream-spill"
        self.base = base
        self.dir = base / f"pid-{os.getpid()}"
        self.budget = budget_bytes
        self.used = 0
        self._open: dict[int, SpilledTransaction] = {}

    def check(self) -> None:
        """The directory can be created and written (at start, before anything connects);
        the spill directories of dead walstream processes are removed."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            probe = self.dir / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"--spill-dir {str(self.base)!r} cannot be used: {exc.strerror or exc}; point "
                "--spill-dir (WALSTREAM_SPILL_DIR) at a writable local directory"
            ) from None
        for stale in self.base.glob("pid-*"):
            pid = stale.name[4:]
            if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)

    def start(self) -> None:
        """Start empty: anything spilled before is streamed again by the slot."""
        self.clear()
        self.check()

    def append(self, xid: int, payload: bytes | memoryview) -> None:
        try:
            txn = self._transaction(xid)
            self.used += txn.append(payload)
        except OSError as exc:
            self._disk_failed(exc)
        self._check_budget(txn)

    def append_block(self, xid: int, block: bytes | bytearray, messages: int) -> None:
        """Messages framed as in the file, in one write (see SpilledTransaction.append_block)."""
        try:
            txn = self._transaction(xid)
            self.used += txn.append_block(block, messages)
        except OSError as exc:
            self._disk_failed(exc)
        self._check_budget(txn)

    def _disk_failed(self, exc: OSError) -> NoReturn:
        self.clear()
        raise ResourceError(
            f"cannot write a streamed transaction to {self.dir}: {exc.strerror or exc} (after "
            f"{self.used} bytes); free space or point --spill-dir at a larger disk; the spill "
            "files were removed and nothing was acknowledged"
        ) from None

    def _transaction(self, xid: int) -> SpilledTransaction:
        txn = self._open.get(xid)
        if txn is None:
            txn = self._open[xid] = SpilledTransaction(xid, self.dir / f"xid-{xid}.spill")
        return txn

    def _check_budget(self, txn: SpilledTransaction) -> None:
        xid = txn.xid
        if self.used > self.budget:
            raise ResourceError(
                f"streamed transactions need more than --spill-budget={self.budget} bytes of "
                f"local disk in {self.dir} (transaction {xid} alone has {txn.size}): raise "
                "--spill-budget or point --spill-dir at a larger disk; nothing was acknowledged"
            )

    def abort(self, xid: int, subxid: int) -> None:
        txn = self._open.get(xid)
        if txn is None:
            return  # nothing of it was streamed in this session
        if subxid == xid:
            self._discard(xid)
        else:
            txn.aborted_subxids.add(subxid)

    def take(self, xid: int) -> SpilledTransaction | None:
        """The transaction to replay at its Stream Commit; the caller closes it after replay."""
        txn = self._open.pop(xid, None)
        if txn is not None:
            self.used -= txn.size
        return txn

    def _discard(self, xid: int) -> None:
        txn = self._open.pop(xid)
        self.used -= txn.size
        txn.close()

    @property
    def open_transactions(self) -> int:
        return len(self._open)

    def clear(self) -> None:
        for xid in list(self._open):
            # a full disk can fail the close's flush; the directory goes below anyway
            with contextlib.suppress(OSError):
                self._discard(xid)
        self._open.clear()
        self.used = 0
        shutil.rmtree(self.dir, ignore_errors=True)


def _running(pid: int) -> bool:
    """True when a process ``pid`` exists (it may be another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
