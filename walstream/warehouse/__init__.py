"""The local warehouse: the Snowflake side of DESIGN.md §3 in one DuckDB file (:mod:`.local`)."""

from .local import LoadReport, LocalWarehouse, change_file_keys

__all__ = ["LoadReport", "LocalWarehouse", "change_file_keys"]
