"""Read-loop micro-benchmark: capture's Python loop over synthetic frames, in-process.

``python -m bench.loop_bench`` prints the best-of-N CPU time per frame of
:meth:`walstream.capture.capture.Capture.read` (with :func:`walstream.capture.frames.frames`)
over 1000-row transactions of narrow inserts (6 columns, text format), fed by a stand-in for
libpq's ``get_copy_data``: no server, no network, no flush. It isolates the per-frame Python
cost (the path ``--no-accel`` runs, and the one every frame the C loop hands back takes), which
the suite (``python -m bench``) measures only through the noise of the walsender sharing the
machine. Compare two checkouts by running it in each (bench/README.md, "Restructuring").
"""

from __future__ import annotations

import argparse
import statistics
import struct
import tempfile
import time
from typing import Any, NoReturn, cast

from walstream.capture import switch
from walstream.capture.capture import Capture, CaptureSettings
from walstream.capture.frames import frames
from walstream.capture.spill import SpillStore
from walstream.convert import PgType, builtin_type
from walstream.pg.relations import RelationCache
from walstream.pg.replication import ConnectionLost

OID = 16384
COLUMNS = [("id", 20, 1), ("name", 25, 0), ("amount", 1700, 0), ("at", 1184, 0)]
COLUMNS += [("flag", 16, 0), ("doc", 3802, 0)]
HEADER = struct.Struct("!cQQQ")


def xlog(message: bytes, end: int = 0x1000) -> bytes:
    return HEADER.pack(b"w", 0x10, end, 0) + message


def tuple_data(*values: str) -> bytes:
    out = len(values).to_bytes(2, "big")
    for value in values:
        raw = value.encode()
        out += b"t" + len(raw).to_bytes(4, "big") + raw
    return out


def workload(changes: int) -> list[bytes]:
    rel = b"R" + OID.to_bytes(4, "big") + b"public\0t\0d" + len(COLUMNS).to_bytes(2, "big")
    for name, type_oid, key in COLUMNS:
        rel += bytes([key]) + name.encode() + b"\0" + struct.pack("!Ii", type_oid, -1)
    out = [xlog(rel)]
    lsn = 0x100000
    for t in range(changes // 1000):
        lsn += 0x10000
        out.append(xlog(struct.pack("!cQqI", b"B", lsn, 5, 1000 + t)))
        for i in range(1000):
            k = str(t * 1000 + i)
            row = tuple_data(k, f"name {k}", "123.45", "2026-01-01 00:00:00+00", "t", '{"a": 1}')
            out.append(xlog(b"I" + OID.to_bytes(4, "big") + b"N" + row))
        out.append(xlog(struct.pack("!cBQQq", b"C", 0, lsn, lsn + 0x10, 5), end=lsn + 0x10))
    return out


class Stream:
    """What frames() reads of a ReplicationStream: libpq's get_copy_data over a list."""

    def __init__(self, data: list[bytes]) -> None:
        self.data = data
        self.at = 0
        self.conn = self
        self.pgconn_ptr = 0

    def get_copy_data(self, _async: int) -> tuple[int, memoryview | None]:
        if self.at == len(self.data):
            return 0, None
        frame = self.data[self.at]
        self.at += 1
        return len(frame), memoryview(frame)

    def wait_for_input(self, waited: bool, timeout: float, got: bool) -> bool:
        return False

    def raise_stream_end(self) -> NoReturn:
        raise ConnectionLost("end")


class Pipe:
    def transaction_done(self) -> None: ...
    def cut_transaction(self) -> None: ...
    def reply_requested(self) -> None: ...
    def has_capacity(self) -> bool:
        return True


def lookup_type(oid: int, typmod: int) -> PgType:
    found = builtin_type(oid, typmod)
    assert found is not None
    return found


def one_run(data: list[bytes]) -> float:
    relations = RelationCache(lambda relid: ["id"], lookup_type)
    spill = SpillStore(tempfile.mkdtemp(prefix="walstream-bench-"), 1 << 30)
    capture = Capture(CaptureSettings(10**9, 1 << 40, 1 << 27), relations, spill, Pipe())
    capture.start(2, None, 0)
    stream = Stream(data)
    started = time.process_time()
    while stream.at < len(data):
        capture.read(frames(cast(Any, stream), 0.0, None))
    seconds = time.process_time() - started
    assert capture.counts.changes == len(data) - 1 - 2 * (len(data) // 1002)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    switch.configure(use_c=False)
    data = workload(args.changes)
    runs = [one_run(data) * 1e6 / len(data) for _ in range(args.repeat)]
    print(
        f"capture Python loop, {len(data):,} frames: best {min(runs):.3f} us/frame, "
        f"median {statistics.median(runs):.3f} (runs: {', '.join(f'{r:.3f}' for r in runs)})"
    )


if __name__ == "__main__":
    main()
