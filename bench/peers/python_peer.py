"""The Python peer: psycopg2's ``LogicalReplicationConnection`` decoding with ``pypgoutput``.

What a Python team would write without walstream: psycopg2 reads the slot (pgoutput protocol
v1, text values, which is what ``pypgoutput`` understands), ``pypgoutput.decoders`` parses each
message, and every column value of every change is turned into a Python value by its type
(int, Decimal, float, bool, date/datetime, parsed JSON, str). Nothing is written anywhere: this
peer does strictly less work than walstream, which also builds Parquet and stores it.

We do not use ``pypgoutput.LogicalReplicationReader`` itself: it ships every message through a
``multiprocessing`` pipe with a round trip per message and validates rows with pydantic, which
would make the peer a strawman; it also never stops by itself.

Run as ``python -m bench.peers.python_peer --dsn ... --slot ... --publication ... --end-lsn
X/Y``. It stops once the server reports a WAL position at or past ``--end-lsn`` and prints one
JSON line: ``{"changes": N, "transactions": T, "values": V}``.
"""

from __future__ import annotations

import argparse
import json
import select
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg2  # type: ignore[import-untyped]
import psycopg2.extras  # type: ignore[import-untyped]
from pypgoutput import decoders  # type: ignore[import-untyped]


def _bool(text: str) -> bool:
    return text == "t"


CONVERTERS: dict[int, Callable[[str], Any]] = {
    16: _bool,
    20: int,
    21: int,
    23: int,
    26: int,
    700: float,
    701: float,
    1700: Decimal,
    1082: date.fromisoformat,
    1114: datetime.fromisoformat,
    1184: datetime.fromisoformat,
    114: json.loads,
    3802: json.loads,
}


def _parse_lsn(text: str) -> int:
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


class Peer:
    def __init__(self) -> None:
        self.columns: dict[int, list[Callable[[str], Any]]] = {}
        self.changes = 0
        self.transactions = 0
        self.values = 0

    def row(self, relid: int, tuple_data: Any) -> dict[int, Any]:
        convert = self.columns[relid]
        out: dict[int, Any] = {}
        for i, col in enumerate(tuple_data.column_data):
            if col.col_data_category == "t":
                out[i] = convert[i](col.col_data)
                self.values += 1
            else:
                out[i] = None
        return out

    def handle(self, payload: bytes) -> None:
        kind = payload[:1]
        if kind == b"I":
            msg = decoders.Insert(payload)
            self.row(msg.relation_id, msg.new_tuple)
            self.changes += 1
        elif kind == b"U":
            msg = decoders.Update(payload)
            if msg.old_tuple is not None:
                self.row(msg.relation_id, msg.old_tuple)
            self.row(msg.relation_id, msg.new_tuple)
            self.changes += 1
        elif kind == b"D":
            msg = decoders.Delete(payload)
            self.row(msg.relation_id, msg.old_tuple)
            self.changes += 1
        elif kind == b"R":
            rel = decoders.Relation(payload)
            self.columns[rel.relation_id] = [CONVERTERS.get(c.type_id, str) for c in rel.columns]
        elif kind == b"C":
            decoders.Commit(payload)
            self.transactions += 1
        elif kind == b"B":
            decoders.Begin(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--slot", required=True)
    parser.add_argument("--publication", required=True)
    parser.add_argument("--end-lsn", required=True)
    args = parser.parse_args(argv)
    end = _parse_lsn(args.end_lsn)

    conn = psycopg2.connect(
        args.dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection
    )
    cur = conn.cursor()
    cur.start_replication(
        slot_name=args.slot,
        decode=False,
        options={"proto_version": "1", "publication_names": args.publication},
    )
    peer = Peer()
    last_feedback = time.monotonic()
    position = 0
    while True:
        msg = cur.read_message()
        if msg is not None:
            peer.handle(msg.payload)
            position = max(position, msg.data_start)
            continue
        if cur.wal_end >= end:
            break
        now = time.monotonic()
        if now - last_feedback >= 5:
            cur.send_feedback(write_lsn=position, flush_lsn=position)
            last_feedback = now
        select.select([cur], [], [], 1.0)
    cur.send_feedback(write_lsn=end, flush_lsn=end)
    conn.close()
    out = {"changes": peer.changes, "transactions": peer.transactions, "values": peer.values}
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
