"""The generated SQL: golden files, type mapping, identifiers, models, apply's plan, commands.

Golden files (tests/golden/) hold the complete Snowflake script and the DuckDB statements for
four tables: every type of DESIGN.md §4, a composite key, quoted mixed-case names (and a reserved
word, a space, quotes), and a keyless table. A change to the generated SQL shows up as a diff to
review; regenerate with ``WALSTREAM_UPDATE_GOLDEN=1 pytest tests/test_snowflake_sql.py``.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import fakesnow
import pyarrow as pa
import pytest
import snowflake.connector
from click.testing import CliRunner

from tests.conftest import PgDatabase
from tests.oracle_workload import setup_source
from tests.snowflake_parse import parse_snowflake
from tests.test_oracle import stream
from walstream.commands.snowflake import snowflake as snowflake_group
from walstream.commands.warehouse import warehouse as warehouse_group
from walstream.convert import arrow_type_for, builtin_type
from walstream.errors import ConfigError
from walstream.schema import ColumnSchema, TableSchema
from walstream.snowflake.apply import ConnectionSettings, Existing, plan
from walstream.snowflake.credentials import load_private_key, resolve_secret
from walstream.snowflake.ddl import renamed_columns, table_definitions
from walstream.snowflake.dialects import DUCKDB, SNOWFLAKE
from walstream.snowflake.discover import models_from_dest, models_from_source
from walstream.snowflake.merge import merge_statements
from walstream.snowflake.model import TableModel, snowflake_type
from walstream.snowflake.objects import (
    copy_statement,
    snowflake_script,
    snowflake_statements,
    table_statements,
)
from walstream.snowflake.options import MergeOptions, SnowflakeOptions

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("WALSTREAM_UPDATE_GOLDEN") == "1"
OPTIONS = SnowflakeOptions(
    dest="s3://example-bucket/dms",
    aws_role_arn="arn:aws:iam::123456789012:role/walstream-snowflake",
    task_warehouse="CDC_WH",
)

# what fakesnow cannot run of a task's objects (parsed with sqlglot elsewhere)
NOT_IN_FAKESNOW_TASKS = ["^CREATE OR ALTER TASK", "^ALTER TASK", "^CREATE OR REPLACE PROCEDURE"]


def numeric(precision: int, scale: int) -> int:
    return ((precision << 16) | scale) + 4


# (name, type oid, typmod, Snowflake type) for every row of DESIGN.md §4
TYPE_ZOO = [
    ("id", 20, -1, "NUMBER(19,0)"),
    ("flag", 16, -1, "BOOLEAN"),
    ("small", 21, -1, "NUMBER(5,0)"),
    ("medium", 23, -1, "NUMBER(10,0)"),
    ("object_id", 26, -1, "NUMBER(19,0)"),
    ("real_value", 700, -1, "FLOAT"),
    ("double_value", 701, -1, "FLOAT"),
    ("price", 1700, numeric(10, 2), "NUMBER(10,2)"),
    ("widest", 1700, numeric(38, 0), "NUMBER(38,0)"),
    ("any_numeric", 1700, -1, "VARCHAR(134217728)"),
    ("huge_numeric", 1700, numeric(50, 5), "VARCHAR(134217728)"),
    ("cash", 790, -1, "NUMBER(38,2)"),
    ("body", 25, -1, "VARCHAR(134217728)"),
    ("code", 1043, 24, "VARCHAR(134217728)"),
    ("fixed", 1042, 7, "VARCHAR(134217728)"),
    ("handle", 19, -1, "VARCHAR(134217728)"),
    ("address", 869, -1, "VARCHAR(134217728)"),
    ("network", 650, -1, "VARCHAR(134217728)"),
    ("mac", 829, -1, "VARCHAR(134217728)"),
    ("duration", 1186, -1, "VARCHAR(134217728)"),
    ("period", 3908, -1, "VARCHAR(134217728)"),
    ("markup", 142, -1, "VARCHAR(134217728)"),
    ("search", 3614, -1, "VARCHAR(134217728)"),
    ("bits", 1560, 3, "VARCHAR(134217728)"),
    ("uid", 2950, -1, "VARCHAR(36)"),
    ("document", 114, -1, "VARIANT"),
    ("binary_document", 3802, -1, "VARIANT"),
    ("payload", 17, -1, "BINARY(67108864)"),
    ("day", 1082, -1, "DATE"),
    ("clock", 1083, -1, "TIME(6)"),
    ("clock_tz", 1266, -1, "VARCHAR(134217728)"),
    ("local_ts", 1114, -1, "TIMESTAMP_NTZ(6)"),
    ("instant", 1184, -1, "TIMESTAMP_TZ(6)"),
    ("numbers", 1007, -1, "ARRAY"),
    ("labels", 1009, -1, "ARRAY"),
    ("prices", 1231, numeric(5, 1), "ARRAY"),
    ("documents", 3807, -1, "ARRAY"),
    ("instants", 1185, -1, "ARRAY"),
]


def model(
    namespace: str,
    name: str,
    columns: list[tuple[str, int, int, bool]],
    replica_identity: str = "d",
    extra: dict[str, tuple[str, pa.DataType]] | None = None,
) -> TableModel:
    """A model the way the pipeline builds one: built-in types through convert's mapping."""
    extra = extra or {}
    schema_columns = []
    types = {}
    for col, oid, typmod, key in columns:
        if col in extra:
            type_name, arrow_type = extra[col]
        else:
            pg_type = builtin_type(oid, typmod)
            assert pg_type is not None, oid
            type_name, arrow_type = pg_type.name, arrow_type_for(pg_type)
        schema_columns.append(ColumnSchema(col, oid, type_name, typmod, key))
        types[col] = arrow_type
    schema = TableSchema(16400, namespace, name, tuple(schema_columns), replica_identity)
    return TableModel.from_schema(schema, types)


def type_zoo() -> TableModel:
    columns = [(n, oid, typmod, n == "id") for n, oid, typmod, _ in TYPE_ZOO]
    columns.append(("mood", 90001, -1, False))  # an enum: not built in, text in the files
    return model("public", "type_zoo", columns, extra={"mood": ("mood", pa.string())})


def composite_key() -> TableModel:
    return model(
        "public",
        "order_lines",
        [
            ("order_id", 20, -1, True),
            ("line_no", 23, -1, True),
            ("sku", 25, -1, False),
            ("qty", 23, -1, False),
            ("note", 25, -1, False),
        ],
    )


def mixed_case() -> TableModel:
    return model(
        "Sales",
        "Order Lines",
        [
            ("Id", 23, -1, True),
            ("Unit Price", 1700, numeric(12, 2), False),
            ("select", 25, -1, False),
            ('say "hi"', 25, -1, False),
            ("it's", 3802, -1, False),
            ("lower_case", 25, -1, False),
        ],
    )


def keyless() -> TableModel:
    return model(
        "public",
        "events",
        [("kind", 25, -1, False), ("payload", 3802, -1, False), ("at", 1114, -1, False)],
        replica_identity="f",
    )


MODELS = {
    "type_zoo": type_zoo,
    "composite_key": composite_key,
    "mixed_case": mixed_case,
    "keyless": keyless,
}


def duckdb_text(m: TableModel, options: MergeOptions) -> str:
    ddl = [d.sql for d in table_definitions(m, DUCKDB, options)]
    merge = merge_statements(m, DUCKDB, DUCKDB.names(m).stream, options)
    return "\n\n".join(s + ";" for s in [*ddl, *merge]) + "\n"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} is missing: run WALSTREAM_UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(), (
        f"generated SQL differs from {path}: review the change, then regenerate with "
        f"WALSTREAM_UPDATE_GOLDEN=1 pytest {__file__}"
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_generated_snowflake_script_matches_golden_file(name: str) -> None:
    check_golden(f"{name}.snowflake.sql", snowflake_script([MODELS[name]()], OPTIONS))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_generated_duckdb_statements_match_golden_file(name: str) -> None:
    check_golden(f"{name}.duckdb.sql", duckdb_text(MODELS[name](), MergeOptions()))


def test_soft_delete_variant_matches_golden_file() -> None:
    soft = SnowflakeOptions(dest=OPTIONS.dest, merge=MergeOptions(soft_delete=True))
    check_golden(
        "composite_key.soft_delete.snowflake.sql", snowflake_script([composite_key()], soft)
    )


@pytest.mark.parametrize("soft_delete", [False, True])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_generated_snowflake_statement_parses(name: str, soft_delete: bool) -> None:
    options = SnowflakeOptions(dest=OPTIONS.dest, merge=MergeOptions(soft_delete=soft_delete))
    for statement in snowflake_statements([MODELS[name]()], options):
        parse_snowflake(statement.sql)


def test_snowflake_types_follow_the_design_table() -> None:
    zoo = type_zoo()
    got = {c.name: snowflake_type(c) for c in zoo.columns}
    assert got == {**{n: t for n, _, _, t in TYPE_ZOO}, "mood": "VARCHAR(134217728)"}
    staged = dict((c, t) for c, t in table_definitions(zoo, SNOWFLAKE, MergeOptions())[1].columns)
    # JSON stays text until the MERGE parses it
    assert staged['"DOCUMENT"'] == "VARCHAR(134217728)"
    script = snowflake_script([zoo], OPTIONS)
    assert "PARSE_JSON(w._walstream_value_" in script
    assert '$1:"binary_document"::VARCHAR(134217728)' in copy_statement(zoo, OPTIONS)


def test_text_and_binary_columns_are_declared_with_snowflakes_maximum_sizes() -> None:
    """DESIGN §4: without a length Snowflake gives VARCHAR 16 MB and BINARY 8 MB, and a longer
    value makes Snowpipe skip its whole file; the documented maxima are 128 MB and 64 MB."""
    zoo = type_zoo()
    for definition in table_definitions(zoo, SNOWFLAKE, MergeOptions()):
        for name, typ in definition.columns:
            if typ.startswith(("VARCHAR", "BINARY")) and not name.startswith("_walstream"):
                assert typ in ("VARCHAR(134217728)", "BINARY(67108864)", "VARCHAR(36)"), name


def test_identifiers_are_upper_case_when_plain_and_exact_when_quoted() -> None:
    script = snowflake_script([mixed_case()], OPTIONS)
    assert 'CREATE TABLE IF NOT EXISTS "Order Lines" (' in script
    assert '"STAGING_Order Lines"' in script
    for ident in ['"Id"', '"Unit Price"', '"SELECT"', '"say ""hi"""', '"it\'s"', '"LOWER_CASE"']:
        assert ident in script, ident
    assert "'it''s'" in script  # the unchanged-column flag compares a string literal
    assert '$1:"say ""hi"""::VARCHAR' in script and '$1:"lower_case"::VARCHAR' in script
    # a folder name a stage path cannot spell is matched by a pattern below the schema
    copy = copy_statement(mixed_case(), OPTIONS)
    assert "FROM @WALSTREAM_STAGE/Sales/\n" in copy
    assert "PATTERN = '^(.*/)?Order Lines/[^/]*[.]parquet$'" in copy


def test_the_pipe_reads_the_folder_the_pipeline_writes_for_odd_table_names() -> None:
    """Keys percent-encode '/', '%' and control characters of names (walstream/layout.py)."""
    odd = model("public", "a/b%c", [("id", 23, -1, True)])
    copy = copy_statement(odd, OPTIONS)
    assert "FROM @WALSTREAM_STAGE/public/\n" in copy
    assert "PATTERN = '^(.*/)?a%2Fb%25c/[^/]*[.]parquet$'" in copy
    plain = copy_statement(composite_key(), OPTIONS)
    assert "FROM @WALSTREAM_STAGE/public/order_lines/\n" in plain and "PATTERN" not in plain


def test_each_pipe_pattern_matches_only_its_own_tables_files() -> None:
    """Snowpipe matches PATTERN against the path after the stage (and a COPY against the path
    after its FROM location): 'Order Lines/' must not pick up 'Big Order Lines/' files."""
    cols = [("id", 23, -1, True)]
    tables = {name: model("public", name, cols) for name in ("Order Lines", "Big Order Lines")}
    listing = [
        f"public/{name}/20261207-071500000-0000000001000000-0000000001000100.parquet"
        for name in tables
    ] + [f"public/{name}/LOAD00000001-0000000001000000.parquet" for name in tables]
    for name, m in tables.items():
        copy = copy_statement(m, OPTIONS)
        found = re.search(r"FROM @WALSTREAM_STAGE/(\S*)\n\)\nPATTERN = '((?:[^']|'')*)'", copy)
        assert found is not None, copy
        location, pattern = found.group(1), found.group(2).replace("''", "'")
        pattern = pattern.replace("\\\\", "\\")  # the literal's backslash escapes
        for path in listing:
            own = path.startswith(f"public/{name}/")
            after_location = path[len(location) :] if path.startswith(location) else None
            for candidate in (path, after_location):
                if candidate is not None:
                    assert bool(re.fullmatch(pattern, candidate)) == own, (name, candidate)
                    assert bool(re.search(pattern, candidate)) == own, (name, candidate)


def test_a_wide_tables_task_definition_is_one_call() -> None:
    """The task's definition stays small whatever the width (large task definitions fail in
    Snowflake); the MERGE lives in the procedure."""
    wide = model(
        "public",
        "erp_wide",
        [("id", 23, -1, True)] + [(f"c{i:03}", 25, -1, False) for i in range(200)],
    )
    statements = {s.kind: s for s in table_statements(wide, OPTIONS)}
    task = statements["task"].sql
    assert len(task) < 1024, len(task)  # stated bound: 1 KiB for any table
    assert task.endswith('AS\nCALL "MERGE_ERP_WIDE_RUN"()')
    assert "CREATE OR ALTER TASK" in task and "SCHEDULE" in task
    assert '"C199"' in statements["procedure"].sql
    triggered = replace(OPTIONS, triggered=True)
    task = next(s for s in table_statements(wide, triggered) if s.kind == "task").sql
    assert "SCHEDULE" not in task and "WAREHOUSE = CDC_WH" in task
    serverless = replace(triggered, task_warehouse=None)
    task = next(s for s in table_statements(wide, serverless) if s.kind == "task").sql
    assert "SCHEDULE" not in task and "TARGET_COMPLETION_INTERVAL = '1 MINUTE'" in task


def test_names_are_qualified_with_the_database_and_schema_apply_uses() -> None:
    qualified = replace(OPTIONS, database="ANALYTICS", schema="CDC")
    statements = table_statements(composite_key(), qualified)
    pipe = next(s for s in statements if s.kind == "pipe").sql
    assert 'COPY INTO ANALYTICS.CDC."STAGING_ORDER_LINES"' in pipe
    assert "FROM @ANALYTICS.CDC.WALSTREAM_STAGE/public/order_lines/" in pipe
    body = next(s for s in statements if s.kind == "procedure").sql
    assert 'MERGE INTO ANALYTICS.CDC."ORDER_LINES"' in body
    assert 'ANALYTICS.CDC."WALSTREAM_WATERMARKS"' in body
    assert not re.search(r'(?<![.\w])"(ORDER_LINES|STAGING_ORDER_LINES|WALSTREAM_\w+)"', body)


def test_apply_upgrades_a_task_that_merged_its_stream_directly() -> None:
    """An installation made before manifests: its task ran the MERGE over the stream. Apply
    suspends it, runs its own definition once more (what the stream still holds), makes it a
    CALL of the new procedure and resumes it; pipes and tables are kept, nothing reloads."""
    models = [composite_key()]
    existing = _existing(models, OPTIONS)
    for record in existing.objects["task"].values():
        record["definition"] = "EXECUTE IMMEDIATE $$\nBEGIN ... END;\n$$"
    actions = plan(models, OPTIONS, existing)
    task = [(a.verb, a.what) for a in actions if "MERGE_ORDER_LINES" in a.what]
    assert [verb for verb, _ in task] == ["replace", "suspend", "merge", "replace", "resume"]
    drain = next(a for a in actions if a.verb == "merge")
    assert drain.sql == "EXECUTE IMMEDIATE $$\nBEGIN ... END;\n$$"  # the old task's own body
    assert all(a.verb in ("keep", "replace") for a in actions if a.what.startswith("pipe "))


def test_keyless_table_is_an_append_only_change_log() -> None:
    m = keyless()
    statements = merge_statements(m, SNOWFLAKE, '"STAGING_EVENTS_STREAM"', MergeOptions())
    assert len(statements) == 1 and statements[0].startswith('INSERT INTO "EVENTS"')
    assert "MERGE" not in statements[0]
    roles = [d.role for d in table_definitions(m, SNOWFLAKE, MergeOptions())]
    assert roles == ["final", "staging"]
    assert "no key: FINAL is an append-only change log" in snowflake_script([m], OPTIONS)


def test_pipes_are_never_replaced_and_nothing_is_dropped() -> None:
    statements = snowflake_statements(list(m() for m in MODELS.values()), OPTIONS)
    for statement in statements:
        assert "DROP " not in statement.sql.upper()
        if statement.kind == "pipe":
            assert statement.sql.startswith("CREATE PIPE IF NOT EXISTS")
        if statement.kind in ("table", "stream", "stage", "file_format", "integration"):
            assert " IF NOT EXISTS " in statement.sql


@pytest.mark.parametrize("soft_delete", [False, True])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_duckdb_statements_run_on_an_empty_warehouse(name: str, soft_delete: bool) -> None:
    m = MODELS[name]()
    conn = duckdb.connect()
    conn.execute(f"CREATE SCHEMA {DUCKDB.ident(m.namespace)}")
    for sql in duckdb_text(m, MergeOptions(soft_delete=soft_delete)).split(";\n\n"):
        conn.execute(sql)


@pytest.mark.parametrize("name", ["type_zoo", "keyless"])
def test_generated_ddl_and_merge_run_on_fakesnow(name: str) -> None:
    m = MODELS[name]()
    nops = ["^CREATE STORAGE", "^CREATE STREAM", "^CREATE PIPE", "^ALTER PIPE"]
    with fakesnow.patch(nop_regexes=[*nops, *NOT_IN_FAKESNOW_TASKS]):
        conn = snowflake.connector.connect(database="ANALYTICS", schema="CDC")
        cursor = conn.cursor()
        for statement in table_statements(m, OPTIONS):
            cursor.execute(statement.sql)
        names = SNOWFLAKE.names(m)
        if not m.has_key:  # one staged change; merging it twice keeps one copy
            cursor.execute(
                f'INSERT INTO {names.staging} (_walstream_op, "KIND", _walstream_lsn, '
                "_walstream_seq) VALUES ('I', 'k', 16, 0)"
            )
        for _ in range(2):
            for sql in merge_statements(m, SNOWFLAKE, names.staging, MergeOptions()):
                cursor.execute(sql)
        cursor.execute(f"SELECT COUNT(*) FROM {names.final}")
        assert cursor.fetchall() == [(0 if m.has_key else 1,)]
        conn.close()


def test_name_collisions_and_reserved_names_are_refused_with_a_clear_error() -> None:
    a = model("public", "orders", [("id", 23, -1, True)])
    b = model("sales", "orders", [("id", 23, -1, True)])
    with pytest.raises(ConfigError, match="--prefix-schema"):
        snowflake_statements([a, b], OPTIONS)
    prefixed = SnowflakeOptions(dest=OPTIONS.dest, prefix_schema=True)
    assert {prefixed.dialect.names(m).final for m in (a, b)} == {
        '"PUBLIC_ORDERS"',
        '"SALES_ORDERS"',
    }
    assert len(snowflake_statements([a, b], prefixed)) > 0
    with pytest.raises(ConfigError, match="both map to"):
        snowflake_statements(
            [model("public", "t", [("id", 23, -1, True), ("ID", 23, -1, False)])], OPTIONS
        )
    helper_clash = model("public", "staging_orders", [("id", 23, -1, True)])
    with pytest.raises(ConfigError, match='"STAGING_ORDERS"'):
        snowflake_statements([a, helper_clash], OPTIONS)
    with pytest.raises(ConfigError, match="reserves"):
        model("public", "t", [("id", 23, -1, True), ("_walstream_lsn", 20, -1, False)])
    with pytest.raises(ConfigError, match="retention"):
        MergeOptions(tombstone_retention_days=0)


def test_models_read_from_the_source_equal_models_read_from_the_files(
    db: PgDatabase, tmp_path: Path
) -> None:
    setup_source(db)
    db.execute(
        "INSERT INTO accounts (id) VALUES (1); INSERT INTO lines (order_id, line) VALUES (1, 1);"
        "INSERT INTO \"Mixed Case\" VALUES (1); INSERT INTO events VALUES ('k')"
    )
    dest = f"file://{tmp_path}/dest"
    stream(db, dest, flush_rows=1000)
    from_files = models_from_dest(dest)
    from_source = models_from_source(db.dsn, "walstream")
    assert [m.qualified_name for m in from_files] == [
        "public.Mixed Case",
        "public.accounts",
        "public.events",
        "public.lines",
    ]
    assert from_source == from_files
    assert models_from_source(db.dsn, "walstream", ["public.lines"]) == [from_files[3]]
    with pytest.raises(ConfigError, match="does not exist"):
        models_from_source(db.dsn, "nope")


# -- apply's plan ---------------------------------------------------------------------------------
def _unquote(name: str) -> str:
    """A name as SHOW and INFORMATION_SCHEMA report it."""
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.upper()


def _existing(models: list[TableModel], options: SnowflakeOptions) -> Existing:
    """Everything already created, as SHOW would report it."""
    existing = Existing()
    for statement in snowflake_statements(models, options):
        name = _unquote(statement.name)
        record: dict[str, Any] = {"name": name}
        if statement.kind == "pipe":
            record["definition"] = statement.sql[statement.sql.index("\nAS\n") + 4 :]
        if statement.kind == "task":
            record["definition"] = statement.sql[statement.sql.index("\nAS\n") + 4 :]
            record["state"] = "started"
        if statement.kind in ("view", "procedure"):
            continue  # SHOW PROCEDURES does not give the body: always brought up to date
        kind = "table" if statement.kind == "bookkeeping" else statement.kind
        existing.objects.setdefault(kind, {})[name] = record
    for m in models:
        for d in table_definitions(m, options.dialect, options.merge):
            cols = {_unquote(c) for c, _ in d.columns}
            existing.columns[_unquote(d.name)] = cols
    return existing


def test_apply_plans_everything_on_an_empty_schema_and_nothing_when_up_to_date() -> None:
    models = [composite_key(), mixed_case()]
    fresh = plan(models, OPTIONS, Existing())
    verbs = {(a.verb, a.what.split()[0]) for a in fresh}
    assert ("create", "pipe") in verbs and ("refresh", "pipe") in verbs
    assert ("create", "task") in verbs and ("resume", "task") in verbs
    again = plan(models, OPTIONS, _existing(models, OPTIONS))
    assert {a.verb for a in again if not a.what.startswith(("view ", "procedure "))} == {"keep"}
    # stateless objects are brought to the generated text every time
    assert {a.verb for a in again if a.what.startswith(("view ", "procedure "))} == {"replace"}


def test_apply_adds_new_columns_and_never_replaces_a_changed_pipe() -> None:
    old = composite_key()
    existing = _existing([old], OPTIONS)
    wider = model(
        "public",
        "order_lines",
        [(c.name, 23 if c.name != "sku" else 25, -1, c.is_key) for c in old.schema.columns]
        + [("discount", 1700, numeric(5, 2), False)],
    )
    actions = plan([wider], OPTIONS, existing)
    alters = [a.sql for a in actions if a.verb == "alter"]
    assert 'ALTER TABLE "ORDER_LINES" ADD COLUMN "DISCOUNT" NUMBER(5,2)' in alters
    assert 'ALTER TABLE "STAGING_ORDER_LINES" ADD COLUMN "DISCOUNT" NUMBER(5,2)' in alters
    pipe = [a for a in actions if a.what == 'pipe "STAGING_ORDER_LINES_PIPE"']
    assert [a.verb for a in pipe] == ["attention"] and pipe[0].sql is None
    assert "never replaces a pipe" in pipe[0].note
    task = [a for a in actions if a.what.startswith("task ")]
    assert [a.verb for a in task] == ["keep", "keep"]  # the task only CALLs the procedure
    procedure = [a for a in actions if a.what.startswith("procedure ")]
    assert [a.verb for a in procedure] == ["replace"] and '"DISCOUNT"' in str(procedure[0].sql)


def test_apply_widens_text_columns_created_shorter_and_points_out_binary_ones() -> None:
    """Tables created before walstream declared Snowflake's maximum sizes hold VARCHAR(16 MB)
    and BINARY(8 MB): a longer value would make Snowpipe skip its file."""
    zoo = type_zoo()
    existing = _existing([zoo], OPTIONS)
    for d in table_definitions(zoo, SNOWFLAKE, MergeOptions()):
        sizes = existing.lengths.setdefault(_unquote(d.name), {})
        for column, typ in d.columns:
            if typ.startswith("VARCHAR(134217728)"):
                sizes[_unquote(column)] = ("TEXT", 16_777_216)
            elif typ.startswith("BINARY"):
                sizes[_unquote(column)] = ("BINARY", 8_388_608)
            elif typ == "VARCHAR(36)":
                sizes[_unquote(column)] = ("TEXT", 36)
    actions = plan([zoo], OPTIONS, existing)
    alters = [a.sql for a in actions if a.verb == "alter"]
    assert 'ALTER TABLE "TYPE_ZOO" ALTER COLUMN "BODY" SET DATA TYPE VARCHAR(134217728)' in alters
    assert not [a for a in alters if a and '"UID"' in a]  # already at its generated size
    binary = [a for a in actions if a.verb == "attention" and '"PAYLOAD"' in a.note]
    assert binary and "cannot widen a BINARY" in binary[0].note and binary[0].sql is None
    # nothing when the sizes are unknown (or already the maximum)
    current = plan([zoo], OPTIONS, _existing([zoo], OPTIONS))
    assert {a.verb for a in current if a.what.startswith("table ")} == {"keep"}


def test_apply_resumes_a_suspended_task_without_replacing_it() -> None:
    models = [composite_key()]
    existing = _existing(models, OPTIONS)
    for record in existing.objects["task"].values():
        record["state"] = "suspended"
    actions = [a for a in plan(models, OPTIONS, existing) if a.verb not in ("keep", "replace")]
    assert [(a.verb, a.sql) for a in actions] == [
        ("resume", 'ALTER TASK "MERGE_ORDER_LINES" RESUME')
    ]


# -- commands -------------------------------------------------------------------------------------
def test_snowflake_sql_command_prints_the_script_for_the_tables_under_dest(sim_dest: str) -> None:
    result = CliRunner().invoke(snowflake_group, ["sql", "--dest", sim_dest, "--soft-delete"])
    assert result.exit_code == 0, result.output
    models = models_from_dest(sim_dest)
    options = SnowflakeOptions(dest=sim_dest, merge=MergeOptions(soft_delete=True))
    assert result.output == snowflake_script(models, options)


def test_warehouse_load_command_loads_new_files_once(sim_dest: str, tmp_path: Path) -> None:
    db = str(tmp_path / "wh.duckdb")
    runner = CliRunner()
    first = runner.invoke(warehouse_group, ["load", "--dest", sim_dest, "--db", db])
    assert first.exit_code == 0, first.output
    assert "loaded files=3" in first.output and "public.sim=3" in first.output
    again = runner.invoke(warehouse_group, ["load", "--dest", sim_dest, "--db", db])
    # the three files and their three flush manifests, all known already
    assert "loaded files=0" in again.output and "skipped=6" in again.output


def test_snowflake_apply_command_dry_run_then_apply_on_fakesnow(sim_dest: str) -> None:
    args = ["apply", "--dest", sim_dest, "--account", "acme", "--user", "cdc"]
    args += ["--database", "ANALYTICS", "--schema", "CDC", "--storage-integration", ""]
    env = {"WALSTREAM_SNOWFLAKE_PASSWORD": "not-a-real-password"}
    nops = [
        r"^SHOW (STREAMS|PIPES|TASKS|INTEGRATIONS)",
        "^CREATE STREAM",
        "^CREATE PIPE",
        "^ALTER PIPE",
        *NOT_IN_FAKESNOW_TASKS,
    ]
    with fakesnow.patch(nop_regexes=nops):
        dry = CliRunner().invoke(snowflake_group, [*args, "--dry-run"], env=env)
        assert dry.exit_code == 0, dry.output
        assert 'would create    table ANALYTICS.CDC."SIM"' in dry.output
        assert "would create    pipe" in dry.output
        applied = CliRunner().invoke(snowflake_group, args, env=env)
        assert applied.exit_code == 0, applied.output
        again = CliRunner().invoke(snowflake_group, [*args, "--dry-run"], env=env)
        assert 'create    table ANALYTICS.CDC."SIM"' not in again.output  # exists now
    missing = CliRunner().invoke(snowflake_group, args, env={})
    assert missing.exit_code != 0 and "no Snowflake credentials" in str(
        missing.exception or missing.output
    )


# -- credentials ----------------------------------------------------------------------------------
def test_passwords_resolve_from_env_aws_secrets_manager_and_vault(
    s3_dest: str, monkeypatch: pytest.MonkeyPatch, httpserver: Any
) -> None:
    import boto3

    monkeypatch.setenv("SF_PASSWORD", "from-env")
    assert resolve_secret("env:SF_PASSWORD") == "from-env"

    # s3_dest points the AWS environment (AWS_ENDPOINT_URL) at the moto server
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name="walstream/snowflake", SecretString='{"password": "from-aws"}')
    assert resolve_secret("aws-secretsmanager:walstream/snowflake#password") == "from-aws"
    assert "from-aws" in resolve_secret("aws-secretsmanager:walstream/snowflake")
    with pytest.raises(ConfigError, match="no field 'nope'"):
        resolve_secret("aws-secretsmanager:walstream/snowflake#nope")

    httpserver.expect_request("/v1/secret/data/snowflake/walstream").respond_with_json(
        {"data": {"data": {"password": "from-vault"}, "metadata": {"version": 1}}}
    )
    monkeypatch.setenv("VAULT_ADDR", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("VAULT_TOKEN", "test-token")
    assert resolve_secret("vault:secret/snowflake/walstream#password") == "from-vault"
    with pytest.raises(ConfigError, match="must start with one of"):
        resolve_secret("plain-password")


def test_key_pair_auth_loads_an_encrypted_pem_key_as_der(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"s3cret"),
    )
    path = tmp_path / "rsa_key.p8"
    path.write_bytes(pem)
    der = load_private_key(str(path), "s3cret")
    assert der == key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ConfigError, match="passphrase"):
        load_private_key(str(path), "wrong")
    settings = ConnectionSettings("acme", "cdc", "DB", "S", private_key_file=str(path))
    with pytest.raises(ConfigError, match="passphrase"):
        settings.connect_args()
    args = ConnectionSettings(
        "acme", "cdc", "DB", "S", private_key_file=str(path), private_key_passphrase="s3cret"
    ).connect_args()
    assert args["private_key"] == der and "password" not in args


def test_renames_are_recognized_by_place_and_type_not_by_a_dropped_column_in_the_middle() -> None:
    def schema(*columns: tuple[str, int]) -> TableSchema:
        cols = tuple(ColumnSchema(n, oid, "t", -1, n == "id") for n, oid in columns)
        return TableSchema(1, "public", "t", cols, "d")

    before = schema(("id", 23), ("name", 25), ("qty", 23), ("note", 25))
    assert renamed_columns(
        before, schema(("id", 23), ("title", 25), ("qty", 23), ("note", 25))
    ) == {"name": "title"}
    # name dropped: the others move up, nothing is renamed
    assert renamed_columns(before, schema(("id", 23), ("qty", 23), ("note", 25))) == {}
    # a new name at the place of a column of another type: a drop and an add
    assert renamed_columns(before, schema(("id", 23), ("price", 1700), ("qty", 23))) == {}


def test_pipes_push_load_errors_to_a_notification_integration_when_given_one() -> None:
    """Snowpipe skips a whole file on an error (DESIGN §4): with --error-integration every pipe
    reports it; an existing pipe gets it by ALTER PIPE, once."""
    options = SnowflakeOptions(dest=OPTIONS.dest, error_integration="cdc_errors")
    statements = snowflake_statements([composite_key()], options)
    pipes = [s for s in statements if s.kind == "pipe"]
    assert len(pipes) == 2 and all("ERROR_INTEGRATION = cdc_errors\nAS\n" in s.sql for s in pipes)
    for statement in statements:
        parse_snowflake(statement.sql)
    existing = _existing([composite_key()], OPTIONS)  # pipes created without it
    alters = [a.sql for a in plan([composite_key()], options, existing) if a.verb == "alter"]
    assert 'ALTER PIPE "STAGING_ORDER_LINES_PIPE" SET ERROR_INTEGRATION = cdc_errors' in alters
    for pipe in existing.objects["pipe"].values():
        pipe["error_integration"] = "CDC_ERRORS"
    again = plan([composite_key()], options, existing)
    assert not [a for a in again if "ERROR_INTEGRATION" in (a.sql or "")]
    assert "ERROR_INTEGRATION" not in snowflake_script([composite_key()], OPTIONS)
