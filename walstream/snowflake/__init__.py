"""The Snowflake side of the pipeline, generated from the source tables' schemas (DESIGN.md §3).

- :mod:`.model`: a source table as the warehouse sees it (columns, key, Arrow and warehouse types);
- every warehouse statement, for Snowflake and for the local DuckDB warehouse, one concern per
  module: :mod:`.dialects` (what differs between the engines), :mod:`.options`, :mod:`.ddl`
  (tables), :mod:`.merge` (one MERGE run), :mod:`.watermark` (how far a run may merge, and its
  bookkeeping), :mod:`.objects` (stage, pipes, streams, procedures, tasks; the script);
- :mod:`.discover`: where models come from (change files under DEST, or the source catalog);
- :mod:`.apply`: runs the script on an account, idempotently, never dropping a pipe;
- :mod:`.commands`: the ``walstream snowflake`` and ``walstream warehouse`` commands.
"""
