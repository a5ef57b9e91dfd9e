"""The changes read since the last flush: whole transactions, plus the one in progress.

Normally a flush takes whole transactions. A transaction too large for the memory budget is
cut: the flush takes what is buffered so far and the rest follows in later flushes. Files of a
cut transaction say so in their names (see :func:`walstream.layout.change_file_key`),
and the acknowledged LSN never moves past the last *complete* transaction, so a crash between
the pieces makes the slot send the whole transaction again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..pg.relations import CachedRelation
from .batch import ChangeBatch, TableEntry, Target, Txn

if TYPE_CHECKING:
    from .._accel import Handoff


@dataclass
class FlushJob:
    """What one flush stores: whole batches, and the ack it earns once they are durable."""

    batches: list[ChangeBatch]
    end_lsn: int  # end LSN of the last transaction in the job: the ack once it is durable
    rows: int
    nbytes: int
    created: float = field(default_factory=time.monotonic)
    seq: int = 0


class ChangeBuffer:
    def __init__(self) -> None:
        self.current: dict[int, ChangeBatch] = {}
        self.sealed: list[ChangeBatch] = []
        self.rows = 0
        self.end_lsn = 0  # end LSN of the last complete transaction buffered
        self.first_change_at: float | None = None
        # batches the transaction in progress added rows to: id -> (batch, its length before)
        self._marks: dict[int, tuple[ChangeBatch, int]] = {}
        self._rows_at_begin = 0
        # tables of the transaction in progress whose earlier rows are in another batch
        self._split_tables: set[int] = set()
        # relation OID -> its batch's buffers, for the C read loop (walstream.capture.fastpath):
        # only tables already marked in the transaction in progress, so it is emptied whenever
        # the marks are and whenever a table gets a new batch
        self.fast: dict[int, Target] = {}
        # relation OID -> its batch, for whole transactions in C (drain_txns): every table
        # appended to since the last take, so it is emptied whenever a table gets a new batch,
        # at take and rollback (and by the pipeline at schema changes and streams), but not at
        # transaction boundaries
        self.tables: dict[int, TableEntry] = {}

    def empty(self) -> bool:
        return self.rows == 0

    def batch_for(self, rel: CachedRelation) -> ChangeBatch:
        """The batch this table's next change goes to (a new one when its shape changed)."""
        batch = self.current.get(rel.table.oid)
        if batch is None or batch.table is not rel.table:
            if batch is not None:
                self.sealed.append(batch)
                if id(batch) in self._marks:  # shape changed inside the transaction
                    batch.ends_mid_txn = True
                    self._split_tables.add(rel.table.oid)
            batch = ChangeBatch(rel.table, rel.converters)
            batch.starts_mid_txn = rel.table.oid in self._split_tables
            self.fast.clear()
            self.tables.pop(rel.table.oid, None)  # the others' batches stay as they are
            self.current[rel.table.oid] = batch
        if id(batch) not in self._marks:
            self._marks[id(batch)] = (batch, len(batch))
        if self.first_change_at is None:
            self.first_change_at = time.monotonic()
        return batch

    def begin(self) -> None:
        self.fast.clear()
        self._marks.clear()
        self._split_tables.clear()
        self._rows_at_begin = self.rows

    def commit(self, end_lsn: int) -> None:
        self.fast.clear()
        self._marks.clear()
        self._split_tables.clear()
        if self.rows:
            self.end_lsn = end_lsn

    def committed(self, transactions: int, end_lsn: int) -> None:
        """Whole transactions the C loop appended and committed (all had rows)."""
        if transactions:
            self.end_lsn = end_lsn

    def adopt(self, txn: Txn, handoff: Handoff) -> None:
        """Take over the transaction the C loop began and stopped inside, as if :meth:`begin`
        and :meth:`batch_for` had seen it: the rollback marks of the batches it touched, the
        row count before it, and its runs (already recorded by C) continued by ``txn``."""
        self.begin()
        self._rows_at_begin = self.rows - handoff.rows
        for mark in handoff.marks:
            batch: ChangeBatch = mark.entry.batch
            self._marks[id(batch)] = (batch, mark.rows_before)
            batch.continue_run(txn)
            self.fast[mark.oid] = batch.storage

    def rollback(self) -> None:
        """Drop the buffered rows of the transaction in progress (it will be streamed again)."""
        self.fast.clear()
        self.tables.clear()
        for batch, length in self._marks.values():
            batch.truncate(length)
        self.sealed = [b for b in self.sealed if len(b)]
        self.current = {oid: b for oid, b in self.current.items() if len(b)}
        self._marks.clear()
        self._split_tables.clear()
        self.rows = self._rows_at_begin
        if not self.rows:
            self.first_change_at = None

    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.sealed) + sum(b.nbytes for b in self.current.values())

    def take(self) -> FlushJob:
        """Hand everything buffered over as one flush job and start empty.

        Called between transactions, or inside one to cut it: then the batches it touched end
        mid-transaction, and its next rows of those tables start a new batch that says so.
        """
        self.fast.clear()
        self.tables.clear()
        for batch, _ in self._marks.values():
            batch.ends_mid_txn = True
            self._split_tables.add(batch.table.oid)
        batches = [*self.sealed, *self.current.values()]
        job = FlushJob(batches, self.end_lsn, self.rows, self.nbytes())
        self.current, self.sealed, self.rows, self.first_change_at = {}, [], 0, None
        self._marks.clear()
        self._rows_at_begin = 0
        return job
