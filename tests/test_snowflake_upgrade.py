"""``snowflake apply`` upgrades an installation made before manifests, in place (runbook:
"Upgrading to manifests and the merged watermark").

The objects the previous release generated for ``public.sim`` (tests/golden/
sim.before_manifests.snowflake.sql, produced by that release) run on fakesnow with the Snowflake
stand-in of tests/test_snowflake_evolve.py. The old walstream's files (no manifests, no
``_walstream_key_change``) are loaded by the old pipe; its task merges some of them, and the
rest are still in the stream when walstream is stopped. Then ``apply`` of the new objects, the
pipe recreated as the runbook says (walstream stopped, nothing pending, no REFRESH), the new
walstream's files and manifests delivered out of order, and the new task's runs: FINAL equals
the source, and no file was loaded twice.
"""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path
from typing import Any

from tests.simulated_source import SimSource, SimTable
from tests.test_snowflake_evolve import (
    SnowflakeStandIn,
    manifest_pipe_copy,
    parquet_columns,
    run_procedure,
    snowpipe_copy,
)
from tests.test_snowflake_evolve import stand_in as stand_in  # the fixture
from walstream.pipeline.parquet import decode_parquet, encode_parquet
from walstream.sink import open_sink
from walstream.snowflake.apply import apply
from walstream.snowflake.dialects import SNOWFLAKE
from walstream.snowflake.discover import models_from_dest
from walstream.snowflake.objects import copy_statement
from walstream.snowflake.options import SnowflakeOptions
from walstream.snowflake.watermark import bookkeeping

GOLDEN = Path(__file__).parent / "golden" / "sim.before_manifests.snowflake.sql"
COLUMNS = ["id", "label", "n", "big", "doc"]


def run_old_block(cursor: Any, block: str, consumed: set[str]) -> None:
    """A pre-manifest task run: its MERGE over the stream, i.e. the staged rows of files it
    had not consumed yet; then those files are consumed (the stream's offset moves)."""
    inner = block.split("BEGIN TRANSACTION;", 1)[1].rsplit("COMMIT;", 1)[0]
    cursor.execute('SELECT DISTINCT _walstream_file FROM "STAGING_SIM"')
    files = {str(r[0]) for r in cursor.fetchall()}
    pending = sorted(files - consumed)
    listed = ", ".join(SNOWFLAKE.literal(f) for f in pending) or "NULL"
    stream = f'(SELECT * FROM "STAGING_SIM" WHERE _walstream_file IN ({listed}))'
    for sql in inner.split(";\n"):
        sql = textwrap.dedent(sql).strip()
        if sql:
            cursor.execute(sql.replace('FROM "STAGING_SIM_STREAM"', f"FROM {stream}"))
    consumed.update(pending)


def final(cursor: Any) -> dict[int, tuple[Any, ...]]:
    cursor.execute('SELECT "ID", "LABEL", "N", "BIG", "DOC" FROM "SIM"')
    return {int(r[0]): (r[1], int(r[2]), r[3], _json(r[4])) for r in cursor.fetchall()}


def _json(value: Any) -> Any:
    """fakesnow returns VARIANT as JSON text (a JSON string of a document: twice)."""
    while isinstance(value, str):
        value = json.loads(value)
    return value


def test_apply_upgrades_a_pre_manifest_installation_in_place(
    stand_in: SnowflakeStandIn, tmp_path: Path
) -> None:
    rng = random.Random(5)
    dest = f"file://{tmp_path}/dest"
    sink = open_sink(dest)
    table = SimTable("sim", keys=12)
    source = SimSource(5, [table])
    for _ in range(40):
        source.transaction(rng.randint(1, 4))
    t = source.txns

    # -- before: the old release's objects and files ----------------------------------------
    cursor = stand_in.connect().cursor()
    for statement in GOLDEN.read_text().split("\n\n-- kind: ")[1:]:
        cursor.execute(
            statement.split("\n", 1)[1].replace("file:///DEST/", dest + "/").strip().rstrip(";")
        )
    source.manifests = False
    old_files: list[str] = []
    for lo, hi in ((0, 6), (7, 12), (13, 19), (20, 24)):
        (key,) = source.write_range(sink, "sim", t[lo], t[hi])
        data = sink.get(key)
        assert data is not None
        old = decode_parquet(data)
        old = old.drop_columns(["_walstream_key_change"])  # the old files lack the mark
        sink.put(key, encode_parquet(old))
        old_files.append(key)
    old_copy = stand_in.pipes['"STAGING_SIM_PIPE"'].copy
    consumed: set[str] = set()
    old_task = stand_in.tasks['"MERGE_SIM"'][0]
    for key in old_files[:2]:
        snowpipe_copy(cursor, old_copy, key, _columns(sink, key))
    run_old_block(cursor, old_task, consumed)
    for key in old_files[2:]:  # loaded, not merged yet when walstream is stopped
        snowpipe_copy(cursor, old_copy, key, _columns(sink, key))

    # -- the upgrade: apply (suspend, drain the old stream, procedure, CALL) ----------------
    options = SnowflakeOptions(dest=dest, storage_integration=None)
    models = models_from_dest(dest)
    stand_in.events.clear()
    actions = apply(cursor, models, options)
    verbs = [(a.verb, a.what) for a in actions if a.verb != "keep"]
    assert ("suspend", 'task "MERGE_SIM"') in verbs and ("merge", 'stream of "MERGE_SIM"') in verbs
    assert ("attention", 'pipe "STAGING_SIM_PIPE"') in verbs  # its COPY lacks the new column
    assert len(stand_in.blocks) == 1
    run_old_block(cursor, stand_in.blocks[0], consumed)  # the drain, in apply's order
    assert consumed == set(old_files)
    assert final(cursor) == _expected(source.state_as_of("sim", t[24]))
    # the runbook's recreation of the pipe: walstream is stopped and nothing is pending, so a
    # new pipe with the new COPY, and no REFRESH (every file was loaded by the old pipe)
    new_copy = copy_statement(models[0], options)
    cursor.execute(
        f'CREATE OR REPLACE PIPE "STAGING_SIM_PIPE"\n    AUTO_INGEST = TRUE\n'
        f"    COMMENT = 'recreated for the upgrade'\nAS\n{new_copy}"
    )

    # -- after: the new walstream, its manifests, files delivered out of order ---------------
    source.manifests = True
    new_keys: list[str] = []
    at = 25
    for end in (28, 31, 35, 39):
        new_keys += source.write_range(sink, "sim", t[at], t[end], origin=at == 25)
        at = end + 1
    rng.shuffle(new_keys)
    procedure = stand_in.procedures['"MERGE_SIM_RUN"']
    model = models[0]
    loaded = list(old_files)
    for i in range(0, len(new_keys), 2):
        for key in new_keys[i : i + 2]:
            if key.endswith(".json"):
                manifest_pipe_copy(cursor, key, sink.get(key) or b"")
            else:
                pipe = stand_in.pipes['"STAGING_SIM_PIPE"'].copy
                snowpipe_copy(cursor, pipe, key, _columns(sink, key))
                loaded.append(key)
        run_procedure(cursor, procedure, model)
    assert final(cursor) == _expected(table.state)
    assert len(loaded) == len(set(loaded))  # no file loaded twice
    assert not [e for e in stand_in.events if e.startswith('ALTER PIPE "STAGING_SIM_PIPE" REFRESH')]
    cursor.execute(f"SELECT lsn FROM {bookkeeping(SNOWFLAKE).watermarks}")
    assert cursor.fetchall() == [(t[-1],)]
    cursor.execute('SELECT COUNT(*) FROM "STAGING_SIM"')
    assert cursor.fetchall() == [(0,)]  # pruned, the rows from before the upgrade too


def _columns(sink: Any, key: str) -> set[str]:
    data = sink.get(key)
    assert data is not None
    return parquet_columns(data)


def _expected(state: dict[int, dict[str, Any]]) -> dict[int, tuple[Any, ...]]:
    return {
        k: (v["label"], v["n"], v["big"], None if v["doc"] is None else json.loads(v["doc"]))
        for k, v in state.items()
    }
