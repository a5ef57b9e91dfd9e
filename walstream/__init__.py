"""walstream: PostgreSQL logical replication (pgoutput) to Parquet on S3 in the AWS DMS layout.

The flow, one process per replication slot::

    pg.replication (COPY BOTH) -> pg.pgoutput (pure decoder) -> batch (columnar, per table)
        -> sink (Parquet, durable put) -> checkpoint -> ack (confirmed_flush_lsn)

``pipeline`` wires these together; ``cli`` is the user's entry point.
"""

import os

# numpy's OpenBLAS starts a pool of threads that spin after any call into it; walstream does no
# linear algebra, and on a small machine those spins take CPU from the walsender. Set before
# numpy is first imported, which is why it is here; a value the user set wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Arrow's allocator: jemalloc, not the wheel's default mimalloc. The flusher converts batches
# in two threads at once; mimalloc keeps each thread's freed pages, which took the peak RSS of
# a 2M-row transaction past 300 MB (bench big-txn: 299-309 MB, jemalloc 238-259 MB), and
# having it return them at once costs a page fault per page reused (toast: +1 s of system
# CPU). Read when Arrow first allocates; a value the user set wins, and a build without
# jemalloc falls back to its default.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
# ...and jemalloc keeps freed pages for 5 s before it returns them: every flush allocates the
# same few tens of MB again, and pages it gets back from the OS are zeroed page by page (toast:
# ~0.3 s less system CPU; big-txn ~0.5 s less CPU, peak RSS unchanged).
os.environ.setdefault("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:5000")

__version__ = "0.1.0"
