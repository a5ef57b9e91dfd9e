"""``walstream verify``: reconcile the source with FINAL in the local DuckDB warehouse.

Did anything get lost? The answer compares, per table, the rows the source has *at a known LSN*
with the rows FINAL holds, and points at the first key ranges where they differ.

How:

1. One REPEATABLE READ transaction on the source; its first statement reads
   ``pg_current_wal_lsn()``: the snapshot LSN ``S``. Every transaction the snapshot sees
   committed before ``S``.
2. With ``--slot``, wait (``--wait`` seconds) until the slot's ``confirmed_flush_lsn`` reaches
   ``S``: walstream acknowledges only what is durable, so every change up to ``S`` is then in
   change files. When no consumer is attached, the slot is peeked instead (nothing consumed):
   no pending row change of the publication before ``S`` means the same. With ``--dest``,
   every change file there must also be loaded into the warehouse (``--load`` loads them
   first, as ``walstream warehouse load`` would). If FINAL cannot be shown to have caught up,
   the result is *behind* (inconclusive), never a false "differs".
3. The source rows are read in key order as the text of each type's output function (what
   pgoutput sends in text mode, through a server-side cursor, never as Python objects: a
   ``::text`` cast is not the output function for bool, inet, char(n)...), converted by the
   pipeline's own column converters (the values walstream would write to a file, lossy marks
   included), cast to FINAL's column types exactly as the MERGE does, and hashed per row;
   FINAL rows (live ones: soft-deleted rows excluded) are hashed the same way. Both sides go
   into DuckDB temp tables.
4. Keys are cut into ranges of ``--chunk-rows`` consecutive keys; each range gets a row count
   and a checksum (sum of row hashes) per side. Ranges whose counts or checksums differ are
   the differing ranges; within them every key is classified *missing* (source only),
   *extra* (FINAL only) or *changed* (both, different values), and the first keys listed come
   with their values: the differing columns on both sides for a changed key, the row for a
   missing or extra one.
5. A key FINAL changed after ``S`` (its position, its tombstone or a truncate watermark is
   past ``S``) is *in flux*, not a difference: the pipeline is ahead of the snapshot there.

Tables without a key are skipped: their FINAL is append-only (DESIGN.md §3), so it is a log
of changes, not a copy of the table. Exit codes: 0 every table matches, 1 a difference was
found, 2 inconclusive (FINAL behind the snapshot). Snowflake FINAL is not verified by this
module yet.

Cost: every source row passes through Python once (the pipeline's converters); that is the
price of comparing exactly the values walstream writes. Memory stays bounded: rows are read
``chunk_rows`` at a time and DuckDB spills its temp tables.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from .capture.batch import ChangeBatch
from .convert import converter_for
from .errors import ConfigError, SourceError
from .extras import missing_extra
from .lsn import format_lsn, parse_lsn
from .pg import source
from .pg.types import resolve_catalog_type
from .pg.wire import KIND_NULL, KIND_TEXT
from .schema import ColumnSchema, TableSchema

try:
    import duckdb
except ImportError as exc:  # the runtime install has no DuckDB: walstream[local]
    raise missing_extra("duckdb", "local") from exc

log = logging.getLogger("walstream.verify")

MATCH, DIFFERS, BEHIND, SKIPPED = "match", "differs", "behind", "skipped"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class KeyDiff:
    kind: str  # missing | extra | changed
    key: list[Any]
    # column -> {"source": value, "final": value}: the differing columns of a changed key,
    # every column of a missing (source only) or extra (FINAL only) one
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for people: ``changed [7]: name 'a' -> 'b'`` (source -> FINAL)."""
        if self.kind == "changed":
            parts = [
                f"{c} {v.get('source')!r} -> {v.get('final')!r}" for c, v in self.values.items()
            ]
        else:
            side = "source" if self.kind == "missing" else "final"
            parts = [f"{c}={v.get(side)!r}" for c, v in self.values.items()]
        return f"{self.kind} {self.key}" + (f": {', '.join(parts)}" if parts else "")


@dataclass
class RangeReport:
    index: int
    first_key: list[Any]
    last_key: list[Any]
    source_rows: int
    final_rows: int
    source_checksum: str
    final_checksum: str
    differences: list[KeyDiff] = field(default_factory=list)


@dataclass
class TableReport:
    table: str
    status: str
    key: list[str] = field(default_factory=list)
    source_rows: int = 0
    final_rows: int = 0
    ranges: int = 0
    differing_ranges: int = 0
    missing: int = 0
    extra: int = 0
    changed: int = 0
    in_flux: int = 0
    first_differences: list[RangeReport] = field(default_factory=list)
    note: str = ""


@dataclass
class VerifyReport:
    snapshot_lsn: str
    status: str
    confirmed_flush_lsn: str | None = None
    pending_changes: int | None = None
    unloaded_files: int | None = None
    tables: list[TableReport] = field(default_factory=list)
    note: str = ""

    @property
    def exit_code(self) -> int:
        return {MATCH: 0, DIFFERS: 1, BEHIND: 2}.get(self.status, 0)

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["exit_code"] = self.exit_code
        return doc


@dataclass(frozen=True)
class VerifyOptions:
    tables: tuple[str, ...] = ()
    publication: str | None = None
    slot: str | None = None
    wait_seconds: float = 0.0
    chunk_rows: int = 10_000
    max_ranges: int = 5
    max_keys_per_range: int = 10


@dataclass(frozen=True)
class _Shape:
    """One table as verify compares it: its key, its data columns in source order, the
    pipeline's converters for them and FINAL's type of each."""

    schema: str
    name: str
    key: tuple[str, ...]
    ordered: tuple[str, ...]
    table: TableSchema
    converters: tuple[Any, ...]
    final_types: dict[str, str]

    @property
    def final(self) -> str:
        return f"{_q(self.schema)}.{_q(self.name)}"

    def casts(self, alias: str) -> str:
        """The converted source columns cast to FINAL's types (as the MERGE casts them)."""
        return ", ".join(
            f"CAST({alias}.{_q(c)} AS {self.final_types[c]}) AS {_q(c)}" for c in self.ordered
        )


class Verifier:
    """Compares source tables with FINAL tables of a DuckDB warehouse; see module docstring."""

    def __init__(
        self,
        conn: psycopg.Connection[tuple[object, ...]],
        warehouse: duckdb.DuckDBPyConnection,
        options: VerifyOptions,
    ) -> None:
        if options.chunk_rows < 1:
            raise ConfigError(f"--chunk-rows must be at least 1, not {options.chunk_rows}")
        self.conn = conn
        self.wh = warehouse
        self.options = options

    def tables(self) -> list[str]:
        if self.options.tables:
            return list(self.options.tables)
        publication = self.options.publication
        if not publication:
            raise ConfigError("walstream verify needs --table or --publication")
        rows = self.conn.execute(
            "SELECT schemaname::text || '.' || tablename::text FROM pg_publication_tables "
            "WHERE pubname = %s ORDER BY 1",
            (publication,),
        ).fetchall()
        if not rows:
            raise SourceError(f"publication {publication!r} has no tables (or does not exist)")
        return [str(r[0]) for r in rows]

    # -- one table ---------------------------------------------------------------------------
    def verify_table(self, qualified: str, snapshot: int) -> TableReport:
        schema, _, name = qualified.partition(".")
        if not name:
            schema, name = "public", qualified
        report = TableReport(f"{schema}.{name}", MATCH)
        relid, columns = self._source_columns(schema, name)
        key = source.primary_key_columns(self.conn, relid) or self._identity_columns(relid)
        if not key:
            report.status, report.note = SKIPPED, "no key: FINAL is append-only"
            return report
        report.key = list(key)
        final_cols = self._final_columns(schema, name)
        src_rows = self._count_source(schema, name)
        if final_cols is None:
            report.source_rows = src_rows
            if src_rows:
                report.status, report.note = DIFFERS, "no FINAL table in the warehouse"
                report.missing = src_rows
            else:
                report.note = "no FINAL table (and no source rows)"
            return report
        data_cols = [c for c in final_cols if not c.startswith("_walstream_")]
        unknown = [c for c in data_cols if c not in columns]
        if unknown:
            raise ConfigError(
                f"{qualified}: FINAL has columns the source table lacks ({', '.join(unknown)}): "
                "the table changed shape; load the newest files first"
            )
        self._load_final(schema, name, key, data_cols, final_cols)
        shape = self._shape(schema, name, key, data_cols, columns, final_cols)
        self._load_source(shape)
        self._compare(report, shape, snapshot)
        return report

    def _source_columns(
        self, schema: str, name: str
    ) -> tuple[int, dict[str, tuple[int, int, int]]]:
        rows = self.conn.execute(
            "SELECT c.oid::int8, a.attname::text, a.atttypid::int8, a.atttypmod, a.attnum "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = %s AND c.relname = %s ORDER BY a.attnum",
            (schema, name),
        ).fetchall()
        if not rows:
            raise SourceError(f"table {schema}.{name} does not exist in the source database")
        relid = int(str(rows[0][0]))
        return relid, {str(r[1]): (int(str(r[2])), int(str(r[3])), int(str(r[4]))) for r in rows}

    def _identity_columns(self, relid: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT a.attname::text FROM pg_index i "
            "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indrelid = %s AND i.indisreplident ORDER BY k.ord",
            (relid,),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _count_source(self, schema: str, name: str) -> int:
        row = self.conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
        ).fetchone()
        return int(str(row[0])) if row else 0

    def _final_columns(self, schema: str, name: str) -> dict[str, str] | None:
        rows = self.wh.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows} if rows else None

    def _hash_expr(self, data_cols: Sequence[str], prefix: str = "") -> str:
        fields = ", ".join(f"{_q(c)} := {prefix}{_q(c)}" for c in data_cols)
        return f"hash(struct_pack({fields}))"

    def _load_final(
        self,
        schema: str,
        name: str,
        key: Sequence[str],
        data_cols: Sequence[str],
        final_cols: dict[str, str],
    ) -> None:
        keys = ", ".join(_q(k) for k in key)
        live = (
            "WHERE NOT coalesce(_walstream_deleted, false)"
            if "_walstream_deleted" in final_cols
            else ""
        )
        self.wh.execute("DROP TABLE IF EXISTS _verify_final")
        self.wh.execute(
            f"CREATE TEMP TABLE _verify_final AS SELECT {keys}, "
            f"{self._hash_expr(data_cols)} AS _h, _walstream_lsn AS _lsn "
            f"FROM {_q(schema)}.{_q(name)} {live}"
        )

    def _shape(
        self,
        schema: str,
        name: str,
        key: Sequence[str],
        data_cols: Sequence[str],
        columns: dict[str, tuple[int, int, int]],
        final_cols: dict[str, str],
    ) -> _Shape:
        ordered = tuple(sorted(data_cols, key=lambda c: columns[c][2]))
        table = TableSchema(
            oid=0,
            namespace=schema,
            name=name,
            columns=tuple(
                ColumnSchema(c, columns[c][0], "", columns[c][1], c in key) for c in ordered
            ),
            replica_identity="d",
        )
        converters = tuple(
            converter_for(resolve_catalog_type(self.conn, columns[c][0], columns[c][1]), c)
            for c in ordered
        )
        return _Shape(schema, name, tuple(key), ordered, table, converters, final_cols)

    def _select(self, shape: _Shape) -> sql.Composed:
        """The data columns, as their output functions write them (no cast: see step 3)."""
        return sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in shape.ordered),
            sql.Identifier(shape.schema, shape.name),
        )

    def _converted(self, shape: _Shape, rows: list[list[bytes | None]]) -> pa.Table:
        """Rows of output-function text -> the values walstream writes (one Arrow table)."""
        batch = ChangeBatch(shape.table, shape.converters)
        for values in rows:
            kinds = bytes(KIND_NULL if v is None else KIND_TEXT for v in values)
            batch.add("I", kinds, values, 0, 0, None, 0)
        return batch.to_arrow(release=True).select(list(shape.ordered))

    def _load_source(self, shape: _Shape) -> None:
        """Source rows -> pipeline converters -> FINAL types -> (key, hash) temp table."""
        keys = ", ".join(_q(k) for k in shape.key)
        self.wh.execute("DROP TABLE IF EXISTS _verify_source")
        self.wh.execute(
            f"CREATE TEMP TABLE _verify_source AS SELECT {keys}, 0::UBIGINT AS _h "
            f"FROM _verify_final WHERE false"
        )
        select = sql.SQL("{} ORDER BY {}").format(
            self._select(shape), sql.SQL(", ").join(sql.Identifier(k) for k in shape.key)
        )
        with self.conn.cursor() as cur:
            cur.execute(sql.SQL("DECLARE walstream_verify NO SCROLL CURSOR FOR {}").format(select))
            fetch = f"FETCH FORWARD {int(self.options.chunk_rows)} FROM walstream_verify"
            while True:
                rows = _raw_rows(cur, fetch)
                if not rows:
                    break
                self._insert_source_chunk(shape, self._converted(shape, rows), keys)
            cur.execute("CLOSE walstream_verify")

    def _insert_source_chunk(self, shape: _Shape, arrow: pa.Table, keys: str) -> None:
        self.wh.register("_verify_chunk", arrow)
        try:
            self.wh.execute(
                f"INSERT INTO _verify_source SELECT {keys}, {self._hash_expr(shape.ordered)} "
                f"FROM (SELECT {shape.casts('s')} FROM _verify_chunk AS s)"
            )
        finally:
            self.wh.unregister("_verify_chunk")

    def _compare(self, report: TableReport, shape: _Shape, snapshot: int) -> None:
        schema, name, key = shape.schema, shape.name, shape.key
        k = [_q(c) for c in key]
        on = " AND ".join(f"s.{c} IS NOT DISTINCT FROM f.{c}" for c in k)
        coalesced = ", ".join(f"coalesce(s.{c}, f.{c}) AS {c}" for c in k)
        flux = self._in_flux_sql(schema, name, key, snapshot)
        self.wh.execute("DROP TABLE IF EXISTS _verify_joined")
        self.wh.execute(
            f"CREATE TEMP TABLE _verify_joined AS "
            f"SELECT {coalesced}, s._h AS sh, f._h AS fh, f._lsn AS flsn, "
            f"(s._h IS NOT NULL) AS in_source, (f._h IS NOT NULL) AS in_final "
            f"FROM _verify_source AS s FULL OUTER JOIN _verify_final AS f ON {on}"
        )
        self.wh.execute(
            "CREATE OR REPLACE TEMP TABLE _verify_keys AS SELECT *, "
            f"(row_number() OVER (ORDER BY {', '.join(k)}) - 1) // {self.options.chunk_rows} "
            f"AS _range, CASE WHEN NOT in_final THEN 'missing' WHEN NOT in_source THEN 'extra' "
            f"WHEN sh <> fh THEN 'changed' END AS _kind, ({flux}) AS _flux "
            "FROM _verify_joined AS j"
        )
        totals = self.wh.execute(
            "SELECT count(*) FILTER (WHERE in_source), count(*) FILTER (WHERE in_final), "
            "coalesce(max(_range) + 1, 0), "
            "count(*) FILTER (WHERE _kind = 'missing' AND NOT _flux), "
            "count(*) FILTER (WHERE _kind = 'extra' AND NOT _flux), "
            "count(*) FILTER (WHERE _kind = 'changed' AND NOT _flux), "
            "count(*) FILTER (WHERE _kind IS NOT NULL AND _flux) FROM _verify_keys"
        ).fetchone()
        assert totals is not None
        (
            report.source_rows,
            report.final_rows,
            report.ranges,
            report.missing,
            report.extra,
            report.changed,
            report.in_flux,
        ) = (int(v) for v in totals)
        ranges = self.wh.execute(
            f"SELECT _range, min(({', '.join(k)})), max(({', '.join(k)})), "
            "count(*) FILTER (WHERE in_source), count(*) FILTER (WHERE in_final), "
            "coalesce(sum(sh) FILTER (WHERE in_source AND NOT _flux), 0)::VARCHAR, "
            "coalesce(sum(fh) FILTER (WHERE in_final AND NOT _flux), 0)::VARCHAR "
            "FROM _verify_keys GROUP BY _range "
            "HAVING count(*) FILTER (WHERE _kind IS NOT NULL AND NOT _flux) > 0 "
            "ORDER BY _range"
        ).fetchall()
        report.differing_ranges = len(ranges)
        for idx, lo, hi, ns, nf, cs, cf in ranges[: self.options.max_ranges]:
            diffs = self.wh.execute(
                f"SELECT _kind, {', '.join(k)} FROM _verify_keys "
                "WHERE _range = ? AND _kind IS NOT NULL AND NOT _flux "
                f"ORDER BY {', '.join(k)} LIMIT ?",
                [idx, self.options.max_keys_per_range],
            ).fetchall()
            report.first_differences.append(
                RangeReport(
                    int(idx),
                    _key_list(lo),
                    _key_list(hi),
                    int(ns),
                    int(nf),
                    str(cs),
                    str(cf),
                    [KeyDiff(str(d[0]), [_plain(v) for v in d[1:]]) for d in diffs],
                )
            )
        listed = [d for r in report.first_differences for d in r.differences]
        if listed:
            self._add_values(shape, listed)
        if report.missing or report.extra or report.changed:
            report.status = DIFFERS
        for temp in ("_verify_keys", "_verify_joined", "_verify_source", "_verify_final"):
            self.wh.execute(f"DROP TABLE IF EXISTS {temp}")

    def _add_values(self, shape: _Shape, diffs: list[KeyDiff]) -> None:
        """Give each listed difference its values, from the source (in the snapshot, converted
        and cast as above) and from FINAL's live row."""
        match = sql.SQL(" AND ").join(
            sql.SQL("{} = %s").format(sql.Identifier(k)) for k in shape.key
        )
        select = sql.SQL("{} WHERE {}").format(self._select(shape), match)
        source_rows: list[list[bytes | None]] = []
        with self.conn.cursor() as cur:
            for diff in diffs:
                if diff.kind != "extra":
                    source_rows += _raw_rows(cur, select, diff.key)
        keys = ", ".join(_q(k) for k in shape.key)
        cols = ", ".join(_q(c) for c in shape.ordered)
        self.wh.register("_verify_chunk", self._converted(shape, source_rows))
        try:
            source = {
                tuple(row[: len(shape.key)]): row[len(shape.key) :]
                for row in self.wh.execute(
                    f"SELECT {keys}, {cols} FROM (SELECT {shape.casts('s')} FROM _verify_chunk s)"
                ).fetchall()
            }
        finally:
            self.wh.unregister("_verify_chunk")
        live = (
            "NOT coalesce(_walstream_deleted, false) AND "
            if ("_walstream_deleted" in shape.final_types)
            else ""
        )
        on = " AND ".join(f"{_q(k)} IS NOT DISTINCT FROM ?" for k in shape.key)
        for diff in diffs:
            final = self.wh.execute(
                f"SELECT {cols} FROM {shape.final} WHERE {live}{on} LIMIT 1", diff.key
            ).fetchone()
            mine = source.get(tuple(diff.key))
            for i, column in enumerate(shape.ordered):
                s_value = None if mine is None else mine[i]
                f_value = None if final is None else final[i]
                if diff.kind == "changed" and _same(s_value, f_value):
                    continue
                entry = diff.values.setdefault(column, {})
                if mine is not None:
                    entry["source"] = _plain(s_value)
                if final is not None:
                    entry["final"] = _plain(f_value)

    def _in_flux_sql(self, schema: str, name: str, key: Sequence[str], snapshot: int) -> str:
        """SQL (over alias j) true when FINAL changed the key after the snapshot LSN."""
        terms = [f"coalesce(j.flsn > {snapshot}, false)"]
        existing = {
            str(r[0])
            for r in self.wh.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                [schema],
            ).fetchall()
        }
        tomb, trunc = f"_walstream_tombstones_{name}", f"_walstream_truncates_{name}"
        if tomb in existing:
            match = " AND ".join(f"t.{_q(c)} = j.{_q(c)}" for c in key)
            terms.append(
                f"EXISTS (SELECT 1 FROM {_q(schema)}.{_q(tomb)} AS t WHERE {match} "
                f"AND t._walstream_lsn > {snapshot})"
            )
        if trunc in existing:
            terms.append(
                f"EXISTS (SELECT 1 FROM {_q(schema)}.{_q(trunc)} AS w "
                f"WHERE w._walstream_lsn > {snapshot})"
            )
        return " OR ".join(terms)


def _raw_rows(
    cur: psycopg.Cursor[Any], query: sql.Composed | str, params: Sequence[Any] | None = None
) -> list[list[bytes | None]]:
    """The rows of ``query`` as the server sent them: each value the text of its type's output
    function (what pgoutput sends in text mode), None for NULL; psycopg's loaders never run
    (the rows are read from the result itself, not fetched)."""
    cur.execute(query, params)
    res = cur.pgresult
    if res is None:
        return []
    width = res.nfields
    return [
        [None if (v := res.get_value(r, c)) is None else bytes(v) for c in range(width)]
        for r in range(res.ntuples)
    ]


def _same(a: Any, b: Any) -> bool:
    """Equal as verify compares values (NaN equals NaN, as in DuckDB's hash)."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(a == b)


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def _key_list(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [_plain(v) for v in value.values()]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return [_plain(value)]


def open_snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """Start the REPEATABLE READ read-only snapshot on ``conn``; returns its LSN ``S``."""
    conn.autocommit = False
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    return parse_lsn(str(row[0]))


_PEEK_PENDING = """
SELECT count(*) FROM pg_logical_slot_peek_binary_changes(
    %s, %s::pg_lsn, NULL, 'proto_version', '1', 'publication_names', %s)
WHERE get_byte(data, 0) IN (73, 85, 68, 84)  -- pgoutput Insert, Update, Delete, Truncate
"""


def pending_changes(
    conn: psycopg.Connection[tuple[object, ...]], slot: str, publication: str, upto: int
) -> int:
    """Row changes of ``publication`` the (inactive) slot holds for commits before ``upto``.

    Peeking decodes without consuming: the slot does not move. A stopped consumer on a busy
    cluster is always behind the current WAL LSN, yet has nothing to deliver when all that
    WAL is other databases' or other tables' traffic; this tells the two apart.
    """
    try:
        row = conn.execute(_PEEK_PENDING, (slot, format_lsn(upto), publication)).fetchone()
    except psycopg.Error as exc:
        raise SourceError(
            f"cannot peek slot {slot!r} for pending changes: {' '.join(str(exc).split())}"
        ) from None
    return int(str(row[0])) if row else 0


def wait_until_delivered(
    conn: psycopg.Connection[tuple[object, ...]],
    slot: str,
    publication: str | None,
    target: int,
    timeout: float,
) -> tuple[int | None, int | None]:
    """Wait until every change committed before ``target`` is stored (or ``timeout``).

    Returns (confirmed_flush_lsn, pending changes: 0 when delivered, None when unknown). With a
    consumer attached, delivered means confirmed_flush_lsn >= target (walstream acknowledges
    only what is stored, and acknowledges keepalives when idle). Without one, the slot is
    peeked: no pending row change of the publication before ``target`` also means delivered.
    """
    deadline = time.monotonic() + timeout
    pending: int | None = None
    peeked = False
    while True:
        row = conn.execute(
            "SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (slot,),
        ).fetchone()
        if row is None:
            raise SourceError(f"replication slot {slot!r} does not exist")
        confirmed = None if row[0] is None else parse_lsn(str(row[0]))
        if confirmed is not None and confirmed >= target:
            return confirmed, 0
        if not row[1] and publication and not peeked:
            peeked = True
            pending = pending_changes(conn, slot, publication, target)
            if pending == 0:
                return confirmed, 0
        if time.monotonic() >= deadline:
            return confirmed, pending
        time.sleep(0.2)


def verify(
    dsn: str,
    warehouse_path: str,
    options: VerifyOptions,
    *,
    dest: str | None = None,
    load: bool = False,
) -> VerifyReport:
    """Run the whole reconciliation (see the module docstring)."""
    snap_conn = source.connect(dsn)
    try:
        snapshot = open_snapshot(snap_conn)
        report = VerifyReport(format_lsn(snapshot), MATCH)
        if options.slot:
            with source.connect(dsn) as poll:
                confirmed, pending = wait_until_delivered(
                    poll, options.slot, options.publication, snapshot, options.wait_seconds
                )
            report.confirmed_flush_lsn = None if confirmed is None else format_lsn(confirmed)
            report.pending_changes = pending
            if pending != 0:
                report.status = BEHIND
                known = "" if pending is None else f" ({pending} row changes pending)"
                report.note = (
                    f"the slot has confirmed {report.confirmed_flush_lsn} < snapshot "
                    f"{report.snapshot_lsn}{known}: walstream has not stored everything yet; "
                    "run again with --wait, or check walstream status"
                )
                return report
        else:
            report.note = "no --slot: assumed the pipeline has caught up with the source"
        if dest:
            report.unloaded_files = _sync_warehouse(warehouse_path, dest, load)
            if report.unloaded_files:
                report.status = BEHIND
                report.note = (
                    f"{report.unloaded_files} change files under {dest} are not loaded into "
                    "the warehouse: pass --load (or run walstream warehouse load) and retry"
                )
                return report
        try:
            wh_conn = duckdb.connect(warehouse_path, read_only=True)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot open the warehouse {warehouse_path!r}: {exc}") from None
        verifier = Verifier(snap_conn, wh_conn, options)
        try:
            for table in verifier.tables():
                table_report = verifier.verify_table(table, snapshot)
                report.tables.append(table_report)
                log.info(
                    "event=verify_table table=%s status=%s source_rows=%d final_rows=%d "
                    "missing=%d extra=%d changed=%d in_flux=%d",
                    table_report.table,
                    table_report.status,
                    table_report.source_rows,
                    table_report.final_rows,
                    table_report.missing,
                    table_report.extra,
                    table_report.changed,
                    table_report.in_flux,
                )
        finally:
            wh_conn.close()
        if any(t.status == DIFFERS for t in report.tables):
            report.status = DIFFERS
        return report
    finally:
        snap_conn.close()


def _sync_warehouse(path: str, dest: str, load: bool) -> int:
    """Load new files of ``dest`` (with ``load``); return how many remain unloaded."""
    from .sink import open_sink
    from .warehouse import LocalWarehouse, change_file_keys

    sink = open_sink(dest)
    with LocalWarehouse(path) as wh:
        if load:
            wh.load(sink)
        loaded = wh.loaded_files()
        return sum(1 for key in change_file_keys(sink) if sink.describe(key) not in loaded)
