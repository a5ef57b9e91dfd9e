"""Initial load and table reload: tables copied from a snapshot that meets the slot's stream.

DMS users run "full load + CDC" and reload single tables; walstream does both without losing
or repeating a change around the snapshot point. The snapshot is exported by a replication
slot (:mod:`.exported`), so the loaded rows are exactly the state at the slot's consistent point
and the stream carries exactly the transactions after it. Files land next to the change files
in the DMS ``LOAD`` layout (:mod:`.writer`), with a ``T`` marker that makes a reload remove
what the source no longer has.

Modules, in the order the data flows:

- :mod:`.exported`: the slot and its exported snapshot, held while workers use it;
- :mod:`.tables`: which tables, checked, described as the stream describes them, split in ctid
  chunks (partition by partition for a partitioned root);
- :mod:`.plan`: the load's plan and its chunks' done records on DEST, which workers share;
- :mod:`.claims`: which worker reads which chunk (advisory locks on the source);
- :mod:`.worker`: a worker's loop: import the snapshot, claim, read, store, record done;
- :mod:`.reader`: a worker's connection in the snapshot, COPY of a chunk into raw columns;
- :mod:`.writer`: raw columns -> LOAD rows -> Parquet row groups -> durable files;
- :mod:`.load`: the coordinator (plan, local workers, manifests, the per-table state in the
  checkpoint) and ``--join``;
- :mod:`.progress`: a progress bar or log lines; :mod:`.commands`: ``walstream snapshot``.
"""

from .exported import ExportedSnapshot
from .load import (
    LOADED,
    LOADING,
    NOT_STARTED,
    SnapshotConfig,
    SnapshotSummary,
    TableResult,
    initial_load,
    join_load,
    run_snapshot,
)

__all__ = [
    "LOADED",
    "LOADING",
    "NOT_STARTED",
    "ExportedSnapshot",
    "SnapshotConfig",
    "SnapshotSummary",
    "TableResult",
    "initial_load",
    "join_load",
    "run_snapshot",
]
