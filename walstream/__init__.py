"""walstream: PostgreSQL logical replication (pgoutput) to Parquet on S3 in the AWS DMS layout.

The flow, one process per replication slot::

    pg.replication (COPY BOTH) -> pg.pgoutput (pure decoder) -> batch (columnar, per table)
        -> sink (Parquet, durable put) -> checkpoint -> ack (confirmed_flush_lsn)

``pipeline`` wires these together; ``cli`` is the user's entry point.
"""

import os

# Arrow's allocator (mimalloc) keeps freed pages for a while before it returns them to the OS.
# The flusher converts two batches at once, and that retention alone added ~50 MB to the peak
# RSS of a large transaction (bench big-txn: 309 -> 262 MB with it off). Set before pyarrow is
# first used, which is why it is here; a value the user set wins.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")

__version__ = "0.1.0"
