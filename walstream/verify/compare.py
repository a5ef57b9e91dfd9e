"""One table, source against FINAL: the rows as pgoutput would send them, through the
pipeline's converters, hashed per key range in DuckDB; the first differing keys with their
values (the steps 3 to 5 of :mod:`walstream.verify`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import pyarrow as pa
from psycopg import sql

from ..capture.batch import ChangeBatch
from ..convert import converter_for
from ..errors import ConfigError, SourceError
from ..extras import missing_extra
from ..pg import source
from ..pg.types import resolve_catalog_type
from ..pg.wire import KIND_NULL, KIND_TEXT
from ..schema import ColumnSchema, TableSchema
from .report import DIFFERS, MATCH, SKIPPED, KeyDiff, RangeReport, TableReport, VerifyOptions

try:
    import duckdb
except ImportError as exc:  # the runtime install has no DuckDB: walstream[local]
    raise missing_extra("duckdb", "local") from exc


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _live(final_cols: dict[str, str]) -> str:
    """The condition for FINAL's live rows (soft-deleted ones, with --soft-delete, excluded)."""
    return (
        "NOT coalesce(_walstream_deleted, false)" if "_walstream_deleted" in final_cols else "TRUE"
    )


def open_warehouse(path: str) -> duckdb.DuckDBPyConnection:
    """The local warehouse FINAL is read from, opened read-only."""
    try:
        return duckdb.connect(path, read_only=True)
    except duckdb.Error as exc:
        raise ConfigError(f"cannot open the warehouse {path!r}: {exc}") from None


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
        self.wh.execute("DROP TABLE IF EXISTS _verify_final")
        self.wh.execute(
            f"CREATE TEMP TABLE _verify_final AS SELECT {keys}, "
            f"{self._hash_expr(data_cols)} AS _h, _walstream_lsn AS _lsn "
            f"FROM {_q(schema)}.{_q(name)} WHERE {_live(final_cols)}"
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
        on = " AND ".join(f"{_q(k)} IS NOT DISTINCT FROM ?" for k in shape.key)
        live = _live(shape.final_types)
        for diff in diffs:
            final = self.wh.execute(
                f"SELECT {cols} FROM {shape.final} WHERE {live} AND {on} LIMIT 1", diff.key
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
