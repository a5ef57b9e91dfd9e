"""The warehouse side: the local warehouse (the Snowflake side of DESIGN.md §3 in one DuckDB
file, :mod:`.local`), what either warehouse reports (:mod:`.report`) and the monitor of
``walstream run`` (:mod:`.monitor`).

Only :mod:`.local` needs DuckDB (the ``local`` extra): it is imported when one of its names is
first used, so the runtime image reads Snowflake's side without DuckDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .local import LoadReport, LocalWarehouse, change_file_keys

__all__ = ["LoadReport", "LocalWarehouse", "change_file_keys"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import local

        return getattr(local, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
