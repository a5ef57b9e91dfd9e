"""The MERGE run: staged changes of one table applied to FINAL, in both dialects.

One MERGE run (:func:`merge_statements`) applies a set of staged rows, in a single transaction.
Which rows is decided by :mod:`.watermark`: the rows in ``(previous, new merged watermark]``,
a gap-free stretch of the table's changes, so the rules below see every change of that stretch
and nothing after it; they are exact in that setting whatever order the files arrived in.

1. Truncates. The newest ``T`` row of the batch becomes the table's truncate watermark (kept in
   ``TRUNCATES_<T>``) if it is newer than the current one; FINAL rows and tombstones ordered
   before it are removed; staged rows ordered before the watermark are ignored from then on.
2. Changes (``CHANGES_<T>``). Staged rows are deduplicated by position (a replay repeats a
   position with the same content). Per key the row with the greatest position wins. Columns a
   winner left unchanged (unchanged TOAST) take the latest earlier value of the same row in the
   batch, following the row across key changes (the ``D`` and ``U`` rows both marked
   ``_walstream_key_change``, DESIGN §2), else the FINAL value. The winner is kept only if it is
   after the key's FINAL row and its tombstone.
3. ``MERGE`` into FINAL: ``D`` deletes (or marks ``_walstream_deleted``), ``I``/``U`` upsert.
4. Tombstones: a key deleted by a winning ``D`` gets a tombstone with the delete's position, so a
   late-arriving older change (a replayed file with a new name) cannot resurrect it; tombstones
   older than the retention window are pruned; tombstones of re-inserted keys are dropped.

Following a row across key changes needs the root of a chain of key changes. Recursive CTEs have
an iteration cap in Snowflake, so the chain is resolved by pointer jumping: each of
:data:`POINTER_JUMPS` rounds doubles the distance followed, so chains of up to 2**POINTER_JUMPS
key changes of one row within one batch resolve exactly.

Tables without a key are append-only: FINAL is the change log (every change row once, with
``_walstream_op``), never merged by a guessed key.

The ``D`` and ``U`` of a key change are in one file (the pipeline cuts files between messages,
never inside one UPDATE), so they are always merged in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ddl import changes_columns, check_names
from .dialects import Dialect, indent, join_lines
from .model import ColumnModel, TableModel
from .options import MergeOptions

#: Rounds of pointer jumping when following a row across key changes (see module docstring).
POINTER_JUMPS = 16


def _after(a: str, b: str) -> str:
    """True when the position of ``a`` is after the position of ``b``."""
    return (
        f"({a}._walstream_lsn > {b}._walstream_lsn OR ({a}._walstream_lsn = {b}._walstream_lsn "
        f"AND {a}._walstream_seq > {b}._walstream_seq))"
    )


def _key_eq(a: str, b: str, key: Sequence[str]) -> str:
    return " AND ".join(f"{a}.{k} = {b}.{k}" for k in key)


def _latest(relation: str, where: str = "", extra: str = "") -> str:
    """The row of ``relation`` with the greatest position (a subquery of at most one row)."""
    cols = "_walstream_lsn, _walstream_seq" + (f", {extra}" if extra else "")
    cond = f" WHERE {where}" if where else ""
    return (
        f"(SELECT {cols} FROM {relation}{cond} "
        "ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1)"
    )


# -- the MERGE run ------------------------------------------------------------------------------
def merge_statements(
    model: TableModel, dialect: Dialect, source: str, options: MergeOptions
) -> list[str]:
    """The statements of one MERGE run over the staged rows in ``source``, in order.

    ``source`` has STAGING's columns and holds the rows not merged yet: the stream on STAGING
    in Snowflake, the rows of the files being loaded in the local warehouse. Run them in one
    transaction. Running them again over the same rows changes nothing.
    """
    check_names([model], dialect)
    if not model.has_key:
        return [_append_only(model, dialect, source)]
    n = dialect.names(model)
    soft = options.soft_delete
    newest_truncate = _latest(source, "_walstream_op = 'T'", "_walstream_commit_ts")
    statements = [
        # 1. the newest truncate of the batch becomes the watermark, if it is newer
        f"INSERT INTO {n.truncates} "
        "(_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)\n"
        "SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, "
        f"{dialect.now()}\n"
        f"FROM {newest_truncate} AS t\n"
        f"LEFT JOIN {_latest(n.truncates)} AS w ON TRUE\n"
        f"WHERE w._walstream_lsn IS NULL OR {_after('t', 'w')}",
        # only the watermark matters: forget the truncates it supersedes
        f"DELETE FROM {n.truncates}\n"
        f"USING {_latest(n.truncates)} AS _walstream_watermark\n"
        f"WHERE {_after('_walstream_watermark', n.truncates)}",
    ]
    if soft:
        statements.append(
            f"UPDATE {n.final}\n"
            "SET _walstream_deleted = TRUE,\n"
            "    _walstream_lsn = _walstream_truncate._walstream_lsn,\n"
            "    _walstream_seq = _walstream_truncate._walstream_seq,\n"
            "    _walstream_commit_ts = _walstream_truncate._walstream_commit_ts\n"
            f"FROM {newest_truncate} AS _walstream_truncate\n"
            f"WHERE {_after('_walstream_truncate', n.final)}"
        )
    else:
        statements += [
            f"DELETE FROM {n.final}\n"
            f"USING {newest_truncate} AS _walstream_truncate\n"
            f"WHERE {_after('_walstream_truncate', n.final)}",
            f"DELETE FROM {n.tombstones}\n"
            f"USING {newest_truncate} AS _walstream_truncate\n"
            f"WHERE {_after('_walstream_truncate', n.tombstones)}",
        ]
    changes = [c for c, _ in changes_columns(model, dialect)]
    statements.append(
        f"INSERT INTO {n.changes} ({', '.join(changes)})\n"
        + _changes_query(model, dialect, source, soft)
    )
    statements.append(_merge_final(model, dialect, soft))
    if not soft:
        statements += _tombstone_statements(model, dialect, options)
    statements.append(f"DELETE FROM {n.changes}")
    return statements


Cte = tuple[str, str]  # (name, body) of one common table expression
_POSITION = "_walstream_lsn, _walstream_seq"


def _changes_query(model: TableModel, dialect: Dialect, source: str, soft: bool) -> str:
    """WITH ... SELECT: per key, the winning staged change, resolved and still applicable.

    The CTEs build on each other in four steps: the batch (deduplicated, after the truncate
    watermark, numbered in stream order, cut into lives), the lineage of each life across key
    changes, the latest carried value of each column that may be unchanged TOAST, and the winner
    of each key.
    """
    key = [dialect.ident(c.name) for c in model.key]
    resolvable = [c for c in model.values if soft or c.may_be_unchanged]
    ctes = _batch_ctes(model, dialect, source)
    ctes += _lineage_ctes(model, dialect, soft)
    last = "_walstream_lineaged"
    if resolvable:
        ctes += _carried_ctes(dialect, resolvable)
        last = "_walstream_sources"
    ctes.append(
        (
            "_walstream_winners",
            f"SELECT *\nFROM {last}\n"
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {', '.join(key)} "
            "ORDER BY _walstream_ord DESC) = 1",
        )
    )
    with_clause = "WITH " + ",\n".join(f"{name} AS (\n{indent(body)}\n)" for name, body in ctes)
    return f"{with_clause}\n{_winner_select(model, dialect, resolvable, soft)}"


def _batch_ctes(model: TableModel, dialect: Dialect, source: str) -> list[Cte]:
    """The staged rows to merge: one copy per position, after the watermark, in lives.

    ``_walstream_lossy`` is carried only for a table with a column that may be lossy: a list
    column in every window's rows costs ~10% of a large load's MERGE (bench/README.md).
    """
    n = dialect.names(model)
    lossy = any(c.may_be_lossy for c in model.columns)
    key = [dialect.ident(c.name) for c in model.key]
    data = [dialect.ident(c.name) for c in model.columns]
    staged_cols = [
        "_walstream_op",
        *data,
        "_walstream_lsn",
        "_walstream_seq",
        "_walstream_commit_ts",
        "_walstream_unchanged",
        *(["_walstream_lossy"] if lossy else []),
        "_walstream_key_change",
    ]
    incoming = [
        "COALESCE(s._walstream_op, 'I') AS _walstream_op",
        *(f"s.{c}" for c in data),
        "COALESCE(s._walstream_lsn, 0) AS _walstream_lsn",
        "COALESCE(s._walstream_seq, 0) AS _walstream_seq",
        "s._walstream_commit_ts",
        "s._walstream_unchanged",
        *(["s._walstream_lossy"] if lossy else []),
        "s._walstream_key_change",
        # a replay repeats positions with the same content: keep one copy; rows of files
        # without positions (DMS full load) are all distinct
        "ROW_NUMBER() OVER (\n"
        "    PARTITION BY s._walstream_lsn, s._walstream_seq,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END\n"
        "    ORDER BY s._walstream_file, s._walstream_file_row\n"
        ") AS _walstream_copy",
    ]
    numbered = [
        *(f"st.{c}" for c in staged_cols),
        f"ROW_NUMBER() OVER (ORDER BY {_POSITION}) AS _walstream_ord",
        # lives: a D ends the key's current life; the next row starts a new one (the D's
        # before this row, counted with a cumulative frame)
        "SUM(CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END) OVER (\n"
        f"    PARTITION BY {', '.join(key)} ORDER BY {_POSITION}\n"
        "    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n"
        ") - CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END AS _walstream_life_no",
    ]
    return [
        (
            "_walstream_watermark",
            f"SELECT {_POSITION}\nFROM {n.truncates}\nORDER BY {_desc(_POSITION)}\nLIMIT 1",
        ),
        ("_walstream_incoming", f"SELECT\n{indent(join_lines(incoming))}\nFROM {source} AS s"),
        (
            "_walstream_staged",
            f"SELECT {', '.join(f'i.{c}' for c in staged_cols)}\n"
            "FROM _walstream_incoming AS i\n"
            "LEFT JOIN _walstream_watermark AS w ON TRUE\n"
            "WHERE i._walstream_copy = 1\n"
            "    AND i._walstream_op <> 'T'\n"
            f"    AND (w._walstream_lsn IS NULL OR {_after('i', 'w')})",
        ),
        (
            "_walstream_numbered",
            f"SELECT\n{indent(join_lines(numbered))}\nFROM _walstream_staged AS st",
        ),
        (
            "_walstream_lived",
            "SELECT n.*, MIN(n._walstream_ord) OVER (\n"
            f"    PARTITION BY {', '.join(f'n.{k}' for k in key)}, n._walstream_life_no\n"
            ") AS _walstream_life\n"
            "FROM _walstream_numbered AS n",
        ),
    ]


def _lineage_ctes(model: TableModel, dialect: Dialect, soft: bool) -> list[Cte]:
    """Each life's lineage: the first life of the chain of key changes it continues."""
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    # COALESCE: rows FINAL held before soft delete was switched on have it NULL (live)
    live = " AND NOT COALESCE(f._walstream_deleted, FALSE)" if soft else ""
    starts = [
        "l._walstream_life",
        *(f"l.{k}" for k in key),
        "l._walstream_op",
        "l._walstream_lsn",
        "l._walstream_seq",
        "l._walstream_key_change",
        # the first life of a key continues its FINAL row, if that is older
        f"(l._walstream_life_no = 0 AND f.{key[0]} IS NOT NULL{live}\n"
        f"    AND {_after('l', 'f')}) AS _walstream_continues",
    ]
    ctes = [
        (
            "_walstream_starts",
            f"SELECT\n{indent(join_lines(starts))}\n"
            "FROM _walstream_lived AS l\n"
            f"LEFT JOIN {n.final} AS f ON {_key_eq('f', 'l', key)}\n"
            "WHERE l._walstream_ord = l._walstream_life",
        ),
        (
            "_walstream_links",
            # a life that starts with the U of a key change continues the life that the D
            # just before it ended; the files mark both rows (never inferred from liveness)
            "SELECT s._walstream_life, d._walstream_life AS _walstream_root\n"
            "FROM _walstream_starts AS s\n"
            "JOIN _walstream_lived AS d\n"
            "    ON d._walstream_lsn = s._walstream_lsn\n"
            "    AND d._walstream_seq = s._walstream_seq - 1\n"
            "WHERE s._walstream_op = 'U' AND d._walstream_op = 'D'\n"
            "    AND s._walstream_key_change AND d._walstream_key_change",
        ),
    ]
    previous = "_walstream_links"
    for i in range(1, POINTER_JUMPS + 1):  # each round doubles the distance followed
        ctes.append(
            (
                f"_walstream_hops_{i}",
                "SELECT a._walstream_life, "
                "COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root\n"
                f"FROM {previous} AS a\n"
                f"LEFT JOIN {previous} AS b ON b._walstream_life = a._walstream_root",
            )
        )
        previous = f"_walstream_hops_{i}"
    ctes.append(
        (
            "_walstream_lineaged",
            "SELECT l.*, COALESCE(h._walstream_root, l._walstream_life) AS _walstream_lineage\n"
            "FROM _walstream_lived AS l\n"
            f"LEFT JOIN {previous} AS h ON h._walstream_life = l._walstream_life",
        )
    )
    return ctes


def _carried_ctes(dialect: Dialect, resolvable: Sequence[ColumnModel]) -> list[Cte]:
    """Per row and resolvable column: the latest row of its lineage that carried the column
    (``_walstream_source_<i>``), whether that value is not null, the value itself, and (for a
    column that may be lossy) whether that row's ``_walstream_lossy`` named it."""
    flags = [
        f"MAX(CASE WHEN _walstream_column = {dialect.literal(c.name)} THEN 1 ELSE 0 END) "
        f"AS _walstream_unchanged_{i}"
        for i, c in enumerate(resolvable)
    ]
    window = (
        "PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    )
    carried: list[str] = []
    for i, c in enumerate(resolvable):
        carries = f"lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_{i}, 0) = 0"
        col = dialect.ident(c.name)
        carried += [
            f"MAX(CASE WHEN {carries} THEN lg._walstream_ord END) OVER (\n"
            f"    {window}\n) AS _walstream_source_{i}",
            f"MAX(CASE WHEN {carries} AND lg.{col} IS NOT NULL THEN lg._walstream_ord END) "
            f"OVER (\n    {window}\n) AS _walstream_nonnull_{i}",
            dialect.last_value_ignore_nulls(f"CASE WHEN {carries} THEN lg.{col} END", window)
            + f" AS _walstream_value_{i}",
        ]
        if c.may_be_lossy:
            lossy = dialect.list_has("lg._walstream_lossy", c.name)
            carried.append(
                dialect.last_value_ignore_nulls(f"CASE WHEN {carries} THEN {lossy} END", window)
                + f" AS _walstream_lossy_{i}"
            )
    return [
        ("_walstream_unchanged_names", dialect.unchanged_names("_walstream_numbered")),
        (
            "_walstream_flags",
            f"SELECT\n{indent(join_lines(['_walstream_ord', *flags]))}\n"
            "FROM _walstream_unchanged_names\nGROUP BY _walstream_ord",
        ),
        (
            "_walstream_sources",
            f"SELECT\n{indent(join_lines(['lg.*', *carried]))}\n"
            "FROM _walstream_lineaged AS lg\n"
            "LEFT JOIN _walstream_flags AS fl ON fl._walstream_ord = lg._walstream_ord",
        ),
    ]


def _winner_select(
    model: TableModel, dialect: Dialect, resolvable: Sequence[ColumnModel], soft: bool
) -> str:
    """The winners, unchanged columns filled in (from the lineage, else the FINAL row the
    lineage continues), kept only if after the key's FINAL row and tombstone."""
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    index = {c.name: i for i, c in enumerate(resolvable)}
    select = ["w._walstream_op", *(f"w.{k}" for k in key)]
    # _walstream_lossy of the FINAL row: a column is lossy when the change its value comes from
    # named it (the winner, the lineage row that carried it, or the FINAL row it continues)
    lossy = [
        (dialect.list_has("w._walstream_lossy", c.name), c.name)
        for c in model.key
        if c.may_be_lossy
    ]
    for c in model.values:
        if not c.may_be_lossy:
            continue
        if c.name in index:
            i = index[c.name]
            lossy.append(
                (
                    f"CASE WHEN w._walstream_source_{i} IS NULL "
                    f"THEN {dialect.list_has('b._walstream_lossy', c.name)} "
                    f"ELSE w._walstream_lossy_{i} END",
                    c.name,
                )
            )
        else:
            lossy.append((dialect.list_has("w._walstream_lossy", c.name), c.name))
    for c in model.values:
        col = dialect.ident(c.name)
        if c.name in index:
            i = index[c.name]
            value = f"w._walstream_value_{i}"
            if c.is_json:
                value = dialect.parse_json(value)
            select.append(
                f"CASE WHEN w._walstream_source_{i} IS NULL THEN b.{col}\n"
                f"    WHEN w._walstream_nonnull_{i} = w._walstream_source_{i} THEN {value}\n"
                f"END AS {col}"
            )
        else:
            value = f"w.{col}"
            select.append(f"{dialect.parse_json(value)} AS {col}" if c.is_json else value)
    select.append(f"{dialect.name_list(lossy)} AS _walstream_lossy")
    select += ["w._walstream_lsn", "w._walstream_seq", "w._walstream_commit_ts"]
    where = [f"(f.{key[0]} IS NULL OR {_after('w', 'f')})"]
    joins = [
        "JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage",
        f"LEFT JOIN {n.final} AS b ON r._walstream_continues AND {_key_eq('b', 'r', key)}",
        f"LEFT JOIN {n.final} AS f ON {_key_eq('f', 'w', key)}",
    ]
    if not soft:
        joins.append(f"LEFT JOIN {n.tombstones} AS t ON {_key_eq('t', 'w', key)}")
        where.append(f"(t.{key[0]} IS NULL OR {_after('w', 't')})")
    return (
        f"SELECT\n{indent(join_lines(select))}\nFROM _walstream_winners AS w\n"
        + "\n".join(joins)
        + "\nWHERE "
        + "\n    AND ".join(where)
    )


def _desc(pos: str) -> str:
    return ", ".join(f"{p.strip()} DESC" for p in pos.split(","))


def _merge_final(model: TableModel, dialect: Dialect, soft: bool) -> str:
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    values = [dialect.ident(c.name) for c in model.values]
    meta = ["_walstream_lossy", "_walstream_lsn", "_walstream_seq", "_walstream_commit_ts"]
    sets = [f"{c} = c.{c}" for c in [*values, *meta]]
    inserts = [*key, *values, *meta]
    insert_values = [f"c.{c}" for c in inserts]
    if soft:
        sets.append("_walstream_deleted = (c._walstream_op = 'D')")
        inserts.append("_walstream_deleted")
        insert_values.append("(c._walstream_op = 'D')")
    head = f"MERGE INTO {n.final} AS f\nUSING {n.changes} AS c\nON {_key_eq('f', 'c', key)}\n"
    update = f"THEN UPDATE SET\n{indent(join_lines(sets))}\n"
    insert = f"INSERT ({', '.join(inserts)})\nVALUES ({', '.join(insert_values)})"
    after = _after("c", "f")
    if soft:
        return head + f"WHEN MATCHED AND {after} " + update + f"WHEN NOT MATCHED THEN {insert}"
    return (
        head
        + f"WHEN MATCHED AND c._walstream_op = 'D' AND {after} THEN DELETE\n"
        + f"WHEN MATCHED AND c._walstream_op <> 'D' AND {after} "
        + update
        + f"WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN {insert}"
    )


def _tombstone_statements(model: TableModel, dialect: Dialect, options: MergeOptions) -> list[str]:
    n = dialect.names(model)
    key = [dialect.ident(c.name) for c in model.key]
    cols = [*key, "_walstream_lsn", "_walstream_seq", "_walstream_commit_ts"]
    return [
        f"MERGE INTO {n.tombstones} AS t\n"
        f"USING (SELECT {', '.join(cols)} FROM {n.changes} WHERE _walstream_op = 'D') AS c\n"
        f"ON {_key_eq('t', 'c', key)}\n"
        f"WHEN MATCHED AND {_after('c', 't')} THEN UPDATE SET\n"
        "    _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,\n"
        "    _walstream_commit_ts = c._walstream_commit_ts, "
        f"_walstream_merged_at = {dialect.now()}\n"
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(cols)}, _walstream_merged_at)\n"
        f"VALUES ({', '.join(f'c.{c}' for c in cols)}, {dialect.now()})",
        # a key that is live again needs no tombstone: its FINAL row carries a newer position
        f"DELETE FROM {n.tombstones}\n"
        f"USING {n.changes} AS c\n"
        f"WHERE c._walstream_op <> 'D' AND {_key_eq(n.tombstones, 'c', key)}",
        f"DELETE FROM {n.tombstones}\n"
        f"WHERE _walstream_merged_at < {dialect.days_ago(options.tombstone_retention_days)}",
    ]


def _append_only(model: TableModel, dialect: Dialect, source: str) -> str:
    """Keyless tables: every change row once, in FINAL as a change log (never merged by key)."""
    n = dialect.names(model)
    data = [dialect.ident(c.name) for c in model.columns]
    cols = [
        *data,
        "_walstream_op",
        "_walstream_unchanged",
        "_walstream_lossy",
        "_walstream_lsn",
        "_walstream_seq",
        "_walstream_commit_ts",
    ]
    values = [
        *(
            dialect.parse_json(f"s.{dialect.ident(c.name)}")
            if c.is_json
            else f"s.{dialect.ident(c.name)}"
            for c in model.columns
        ),
        "COALESCE(s._walstream_op, 'I')",
        "s._walstream_unchanged",
        "s._walstream_lossy",
        "s._walstream_lsn",
        "s._walstream_seq",
        "s._walstream_commit_ts",
    ]
    return (
        f"INSERT INTO {n.final} ({', '.join(cols)})\n"
        f"SELECT\n{indent(join_lines(values))}\n"
        f"FROM {source} AS s\n"
        f"LEFT JOIN {n.final} AS f\n"
        "    ON f._walstream_lsn = s._walstream_lsn AND f._walstream_seq = s._walstream_seq\n"
        "WHERE f._walstream_lsn IS NULL\n"
        "QUALIFY ROW_NUMBER() OVER (\n"
        "    PARTITION BY s._walstream_lsn, s._walstream_seq,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,\n"
        "        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END\n"
        "    ORDER BY s._walstream_file, s._walstream_file_row\n"
        ") = 1"
    )
