"""walstream: PostgreSQL logical replication (pgoutput) to Parquet on S3 in the AWS DMS layout.

The flow, one process per replication slot::

    pg.replication (COPY BOTH) -> pg.pgoutput (pure decoder) -> batch (columnar, per table)
        -> sink (Parquet, durable put) -> checkpoint -> ack (confirmed_flush_lsn)

``pipeline`` wires these together; ``cli`` is the user's entry point.
"""

__version__ = "0.1.0"
