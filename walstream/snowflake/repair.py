"""Loading again the files a pipe failed to load, once their cause is fixed.

Snowpipe skips a whole file on an error and never tries that name again by itself (its load
metadata remembers it), so a fixed file needs a load of its own. ``walstream snowflake
reload-failed --table T`` runs, for the table's failed files (:mod:`.history`, from
``COPY_HISTORY``):

1. the table's own pipe COPY (:func:`~.objects.copy_statement`: the same columns, casts and
   file format), limited with ``FILES = (...)`` to exactly those files. A bulk COPY keeps load
   metadata apart from the pipe's, so it loads them; its ``ON_ERROR`` stays the default
   (``ABORT_STATEMENT``): a file that still fails fails the command, with Snowflake's error;
2. ``EXECUTE TASK``: the MERGE runs now rather than at its next schedule.

Neither a duplicate nor a gap can come of it: a file's rows carry their positions, and the
MERGE applies each position once (DESIGN.md §3, guarantee 6), so a file loaded twice (the
pipe catching up on it too) changes nothing, and the watermark that waited for the file moves
on as soon as it is staged.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..layout import table_folder
from .model import TableModel
from .objects import Statement, copy_statement
from .options import SnowflakeOptions


def file_key(file_name: str) -> str:
    """The key under DEST (``<schema>/<table>/<file>``) of a file as ``COPY_HISTORY`` names it
    (its path below the stage's location, which may start with more folders)."""
    return "/".join(file_name.strip("/").split("/")[-3:])


def reload_statements(
    model: TableModel, options: SnowflakeOptions, file_names: Sequence[str]
) -> list[Statement]:
    """The table's pipe COPY limited to ``file_names`` (as ``COPY_HISTORY`` names them), then
    a run of its task. Empty when there is nothing to load."""
    if not file_names:
        return []
    folder = table_folder(model.namespace, model.name) + "/"
    keys = sorted({file_key(name) for name in file_names})
    for key in keys:
        if not key.startswith(folder):
            raise ValueError(f"{key!r} is not a file of {model.qualified_name}")
    n = options.dialect.names(model)
    table = model.qualified_name
    # COPY takes at most 1,000 FILES: one COPY per thousand
    copies = [
        Statement(
            "copy_failed",
            n.staging,
            copy_statement(model, options, files=keys[start : start + MAX_FILES_PER_COPY]),
            table,
        )
        for start in range(0, len(keys), MAX_FILES_PER_COPY)
    ]
    return [*copies, Statement("task_execute", n.task, f"EXECUTE TASK {n.task}", table)]


#: Snowflake's limit on the FILES of one COPY.
MAX_FILES_PER_COPY = 1000


__all__ = ["file_key", "reload_statements"]
