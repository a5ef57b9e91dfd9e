"""Capture: pgoutput bytes in, per-table change batches out.

Everything between the replication stream and a flush lives here: the frames read from the
stream (:mod:`.frames`, in C or Python per :mod:`.switch`, the one place that decides), the
message dispatch that turns them into rows (:mod:`.capture`), the C loop's state and named
records (:mod:`.fastpath`), the batches and the buffer of the flush to come (:mod:`.batch`,
:mod:`.buffer`), the columnar parse of the rows at flush (:mod:`.columns`) and the spill files
of streamed transactions (:mod:`.spill`). The pipeline above it keeps sessions, the flush policy
and the acknowledgement.
"""
