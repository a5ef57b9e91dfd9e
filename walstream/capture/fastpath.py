"""The C read loop's side of capture: the state it needs, the records it returns, one call.

Why: the read loop is walstream's one per-change Python cost (see walstream/_accel.c). The C
loop (chosen in :mod:`.switch`) appends runs of changes to their batches straight from libpq;
:class:`FastPath` holds what it needs to know (whose rows go where, the transaction, the room
left in the flush budget) and :meth:`FastPath.read` makes the one call that fits the moment:
``spill`` inside a stream block, ``drain`` inside a transaction Python began, ``drain_txns``
between transactions. What it took comes back as one :class:`Drained`.

The records crossing the boundary are named: :class:`~.batch.Target` and
:class:`~.batch.TableEntry` (named tuples the C code reads by position, so their field order is
the contract), and the C side's ``Run``, ``Handoff``, ``Mark`` and ``Replayed`` struct
sequences, read here by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .batch import TableEntry, Target, Txn

if TYPE_CHECKING:
    from .._accel import Handoff

# frames per drain() call: the read loop looks at its memory budget between calls
DRAIN_FRAMES = 256
# bytes of stream-block messages spill() gathers before the pipeline writes them to disk
SPILL_BLOCK = 1 << 20


@dataclass(slots=True)
class Drained:
    """What one C call took: ``count`` changes, their pgoutput bytes, the last WAL end.

    From drain_txns() also: ``commits`` whole transactions committed, the last ending at
    ``commit_end``; ``handoff``: the transaction it stopped inside, for Python to adopt. From
    spill(): ``spilled`` stream-block messages in ``FastPath.spill`` (``count`` is 0: they are
    changes only once their transaction commits).

    ``frame``: the frame that ended the run, which the C loop did not take (an XLogData
    ``memoryview`` or a ``Keepalive``), to be handled right after the run. ``may_stop``: the
    reader may stop reading after this run (to look at its budget); false when the run ended
    at the end of the stream, which the reader must go on to see.
    """

    count: int
    payload_bytes: int
    wal_end: int
    frame: Any = None
    may_stop: bool = False
    commits: int = 0
    commit_end: int = 0
    handoff: Handoff | None = None
    spilled: int = 0


class FastPath:
    """The read loop's state the C loop needs: the extension, whose rows go where, and the
    transaction.

    Inside a transaction Python has begun (``txn`` set), ``targets`` maps a relation OID to
    its batch's :class:`Target`; capture fills it when the first change of a table in the
    transaction has gone through Python (so the batch is marked for rollback and the
    transaction's run is recorded) and empties it at every transaction boundary, flush cut,
    schema change and stream. Only what is in it is taken by C (``drain``). Whether C may take
    the next frames at all is decided in :func:`walstream.capture.frames.frames`.

    Between transactions (``txn`` None), ``tables`` maps a relation OID to its batch's
    :class:`TableEntry`: every table capture has appended to since its last flush, schema
    change or stream, which C may take whole transactions for (``drain_txns``), within
    ``row_room`` rows and ``byte_room`` bytes of the flush budget.

    Inside a stream block, ``spill`` is the buffer the messages gather in on their way to the
    transaction's spill file (``spill``); None elsewhere.
    """

    __slots__ = (
        "accel",
        "byte_room",
        "end",
        "row_room",
        "spill",
        "tables",
        "targets",
        "txn",
        "value_limit",
    )

    def __init__(
        self,
        accel: ModuleType,
        targets: dict[int, Target],
        value_limit: int,
        tables: dict[int, TableEntry] | None = None,
    ) -> None:
        self.accel: Any = accel  # walstream._accel, initialised by switch.read_loop()
        self.end: int = accel.DRAIN_END
        self.targets = targets
        self.tables: dict[int, TableEntry] = {} if tables is None else tables
        self.txn: Txn | None = None
        self.value_limit = value_limit
        self.row_room = 0
        self.byte_room = 0
        self.spill: bytearray | None = None

    def read(self, pgconn: int) -> tuple[int, bytes | None, Drained | None]:
        """One C call on libpq's connection: (its DRAIN_* status, the frame it stopped at and
        did not take, what it took or None when it took nothing)."""
        accel = self.accel
        if self.spill is not None:  # inside a stream block: to the spill file
            run = accel.spill(pgconn, DRAIN_FRAMES, self.spill, SPILL_BLOCK)
            if not run.payload_bytes:
                return run.status, run.frame, None
            taken = Drained(0, run.payload_bytes, run.wal_end, spilled=run.taken)
        else:
            if self.txn is not None:  # inside a transaction Python began
                run = accel.drain(pgconn, DRAIN_FRAMES, self.value_limit, self.targets, self.txn)
            else:  # between transactions: whole ones in C
                run = accel.drain_txns(
                    pgconn,
                    DRAIN_FRAMES,
                    self.value_limit,
                    self.tables,
                    self.row_room,
                    self.byte_room,
                )
            if not run.payload_bytes:
                return run.status, run.frame, None
            taken = Drained(
                run.taken,
                run.payload_bytes,
                run.wal_end,
                None,
                False,
                run.commits,
                run.commit_end,
                run.handoff,
            )
        taken.may_stop = run.status != self.end
        return run.status, run.frame, taken
