"""PostgreSQL side of walstream: the replication connection and the pgoutput decoder."""
