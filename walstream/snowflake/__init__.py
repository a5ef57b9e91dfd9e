"""The Snowflake side of the pipeline, generated from the source tables' schemas (DESIGN.md §3).

- :mod:`.model`: a source table as the warehouse sees it (columns, key, Arrow and warehouse types);
- :mod:`.sql`: every warehouse statement, for Snowflake and for the local DuckDB warehouse;
- :mod:`.discover`: where models come from (change files under DEST, or the source catalog);
- :mod:`.apply`: runs the script on an account, idempotently, never dropping a pipe;
- :mod:`.commands`: the ``walstream snowflake`` and ``walstream warehouse`` commands.
"""
