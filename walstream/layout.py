"""Where everything lives under DEST (DESIGN.md §2): every key walstream writes or reads.

One module for the layout, so that every writer (the stream's flusher, the initial load, the
checkpoint and the manifests) and every reader (the local warehouse, discovery, status, the
Snowflake stage patterns) agree by construction::

    <schema>/<table>/<YYYYMMDD-HHMMSSmmm>-<first_lsn>-<last_lsn>[.<seq>_<seq>][-<slot>].parquet
    <schema>/<table>/LOAD<number>-<snapshot_lsn>.parquet
    _walstream/<slot>/checkpoint.json
    _walstream/<slot>/manifests/<end_lsn>-<start_lsn>-<kind>-<digest>.json
    _walstream/<slot>/snapshot/plan.json
    _walstream/<slot>/snapshot/<snapshot_lsn>/done/<chunk ordinal>.json

A key is never reused for different content, because Snowpipe skips a file name it has already
loaded. Change-file keys are built from the commit LSNs of the first and last transaction in the
file; a batch holds one contiguous stretch of the stream, so a file of whole transactions is
fully determined by that range. When a transaction is cut across files the file's exact position
range is added (``.<first_seq>_<last_seq>``), and the slot that wrote it ends the name: two
slots writing one DEST never collide (guarantee 8).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import unquote

#: walstream's own objects (checkpoints, manifests, probes), outside every table's pipe prefix
INTERNAL_PREFIX = "_walstream/"

#: Column names walstream uses in every file and warehouse table; no source column may start
#: with it.
RESERVED_PREFIX = "_walstream_"

#: A change file's columns besides the data columns, in file order (DESIGN.md §2): ``Op``
#: first, then these after the data columns. Their Arrow types are
#: :data:`walstream.capture.batch.META_COLUMNS`.
OP_COLUMN = "Op"
META_COLUMN_NAMES = (
    "_walstream_commit_ts",
    "_walstream_lsn",
    "_walstream_seq",
    "_walstream_xid",
    "_walstream_unchanged",
    "_walstream_lossy",
    "_walstream_key_change",
)

#: a manifest key anywhere under a stage (a regular expression for Snowflake's PATTERN)
MANIFEST_PATTERN = r"^(.*/)?_walstream/[^/]+/manifests/[^/]+[.]json$"

CHANGE_FILE = re.compile(
    r"\d{8}-\d{9}-(?P<first>[0-9A-F]{16})-[0-9A-F]{16}(?:\.(?P<seq>\d+)_\d+)?"
    r"(?:-[a-z0-9_]+)?\.parquet"
)
LOAD_FILE = re.compile(r"LOAD(?P<number>[0-9A-F]{8})-(?P<lsn>[0-9A-F]{16})\.parquet")


def key_segment(name: str) -> str:
    """A schema or table name as one path segment of a key, unchanged unless it must not be.

    PostgreSQL allows any character in a quoted identifier; a ``/`` would add a level to the
    DMS layout and ``.``/``..`` would walk out of it, so those (and ``%``, which escapes them,
    and control characters) are percent-encoded. Ordinary names, unicode included, stay as
    they are so existing Snowpipe paths keep matching.
    """
    if name in (".", ".."):
        return name.replace(".", "%2E")
    if not any(c in name for c in "/%") and name.isprintable():
        return name
    return "".join(
        f"%{ord(c):02X}" if c in "/%" or (not c.isprintable() and ord(c) < 128) else c for c in name
    )


def table_folder(namespace: str, table: str) -> str:
    """``<schema>/<table>``: the folder of a table's files, and its pipe's prefix."""
    return f"{key_segment(namespace)}/{key_segment(table)}"


def table_of(key: str) -> str:
    """``schema.table`` of a data file's key (the inverse of :func:`key_segment`)."""
    schema, table, _ = key.split("/", 2)
    return f"{unquote(schema)}.{unquote(table)}"


def load_file_key(namespace: str, table: str, number: int, snapshot_lsn: int) -> str:
    """``<schema>/<table>/LOAD<number:08X>-<snapshot_lsn:016X>.parquet``: a full load's files sit
    under the same folder as the table's change files, so the table's one pipe loads both."""
    return f"{table_folder(namespace, table)}/LOAD{number:08X}-{snapshot_lsn:016X}.parquet"


def change_file_key(
    namespace: str,
    table: str,
    first_commit_ts_us: int,
    first_lsn: int,
    last_lsn: int,
    split_seqs: tuple[int, int] | None = None,
    writer: str | None = None,
) -> str:
    """``<schema>/<table>/<YYYYMMDD-HHMMSSmmm>-<first_lsn:016X>-<last_lsn:016X>[-<slot>].parquet``.

    ``split_seqs`` (first and last ``_walstream_seq``) is given for a file whose first or last
    transaction is cut, and appears as ``.<first_seq>_<last_seq>`` before ``.parquet``.
    ``writer`` is the slot that wrote the file: two slots that write the same DEST (a
    blue/green move, tables split over slots with row filters) store the same table at the same
    LSNs, and without it one file would replace the other (guarantee 8). Slot names are
    ``[a-z0-9_]``, so it needs no escaping; names sort by commit time as before.
    """
    ts = dt.datetime.fromtimestamp(first_commit_ts_us / 1_000_000, tz=dt.UTC)
    stamp = ts.strftime("%Y%m%d-%H%M%S") + f"{ts.microsecond // 1000:03d}"
    suffix = f".{split_seqs[0]}_{split_seqs[1]}" if split_seqs else ""
    by = f"-{writer}" if writer else ""
    return (
        f"{table_folder(namespace, table)}/"
        f"{stamp}-{first_lsn:016X}-{last_lsn:016X}{suffix}{by}.parquet"
    )


def is_data_key(key: str) -> bool:
    """A change or full-load file (not walstream's own objects)."""
    return not key.startswith(INTERNAL_PREFIX) and key.endswith(".parquet") and key.count("/") >= 2


def arrival_order(key: str) -> tuple[str, int, int, int, str]:
    """Sort key that merges a table's files in stream order: full-load files (at their
    snapshot LSN, the T marker first), then change files by first LSN and first seq."""
    folder, _, name = key.rpartition("/")
    load = LOAD_FILE.fullmatch(name)
    if load:
        return (folder, int(load["lsn"], 16), 0, int(load["number"], 16), name)
    change = CHANGE_FILE.fullmatch(name)
    if change:
        return (folder, int(change["first"], 16), 1, int(change["seq"] or 0), name)
    return (folder, 0, 2, 0, name)


def snapshot_plan_key(slot: str) -> str:
    """``_walstream/<slot>/snapshot/plan.json``: the slot's current full load, for its workers."""
    return f"{slot_prefix(slot)}snapshot/plan.json"


def snapshot_done_prefix(slot: str, snapshot_lsn: int) -> str:
    """Where the done records of one snapshot's chunks sit (one listing reads them all)."""
    return f"{slot_prefix(slot)}snapshot/{snapshot_lsn:016X}/done/"


def snapshot_done_key(slot: str, snapshot_lsn: int, ordinal: int) -> str:
    """The done record of chunk ``ordinal`` (its place in the plan, over all tables)."""
    return f"{snapshot_done_prefix(slot, snapshot_lsn)}{ordinal:08X}.json"


def slot_prefix(slot: str) -> str:
    """``_walstream/<slot>/``: one slot's checkpoint and manifests."""
    return f"{INTERNAL_PREFIX}{slot}/"


def checkpoint_key(slot: str) -> str:
    return f"{slot_prefix(slot)}checkpoint.json"


def manifest_prefix(slot: str) -> str:
    return f"{slot_prefix(slot)}manifests/"


def manifest_key(slot: str, end_lsn: int, start_lsn: int, kind: str, digest: str) -> str:
    """``_walstream/<slot>/manifests/<end:016X>-<start:016X>-<kind>-<digest>.json``: names sort
    by end position, and the digest makes a rewrite of the same range a new object."""
    return f"{manifest_prefix(slot)}{end_lsn:016X}-{start_lsn:016X}-{kind}-{digest}.json"


def is_manifest_key(key: str) -> bool:
    return key.startswith(INTERNAL_PREFIX) and "/manifests/" in key and key.endswith(".json")


def probe_key(token: str) -> str:
    """A start-up write probe's key (deleted again at once)."""
    return f"{INTERNAL_PREFIX}probe-{token}"
