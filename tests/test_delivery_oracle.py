"""The delivery oracle (DESIGN §7): FINAL is exact whatever Snowpipe does.

Snowpipe loads files in any order, late, and again under new names after a replay; a task run
merges whatever has been loaded. Hypothesis chooses the delivery of a seeded workload's files
and manifests: their order, their grouping into task runs, files held back for several runs,
replayed ranges re-cut into files of other names, files stored without a manifest (a crash
before the manifest was written). After every run each FINAL table must equal its source table
as of the table's recorded merged watermark (guarantee 6), and at the end the source itself.

The workload (tests/simulated_source.py) has TOASTed values set and then left unchanged across
files, key changes, a delete and an update of another key in one transaction, deletes and
re-inserts, truncates, and a full load of one table followed by its stream.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.simulated_source import SimSource, SimTable, full_load
from walstream.pipeline.manifest import LoadRef
from walstream.sink import DurableSink, open_sink
from walstream.snowflake.options import MergeOptions
from walstream.warehouse import LocalWarehouse

COLUMNS = ["id", "label", "n", "big", "doc"]
TRANSACTIONS = 24
STATS = {"deliveries": 0, "runs": 0, "rows": 0, "mismatches": 0}


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print(
        "\ndelivery oracle: {deliveries} deliveries, {runs} task runs, {rows} FINAL rows "
        "compared, {mismatches} mismatches".format(**STATS)
    )


def final_rows(wh: LocalWarehouse, table: str) -> dict[int, dict[str, Any]]:
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    exists = wh.conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_name = ?",
        [table],
    ).fetchall()
    if not exists[0][0]:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for row in wh.conn.execute(f'SELECT {cols} FROM public."{table}"').fetchall():
        record = dict(zip(COLUMNS, row, strict=True))
        record["doc"] = None if record["doc"] is None else json.loads(record["doc"])
        assert record["id"] not in out, f"key {record['id']} twice in FINAL {table}"
        out[record["id"]] = record
    return out


def as_final(rows: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {
        k: {**v, "doc": None if v["doc"] is None else json.loads(v["doc"])} for k, v in rows.items()
    }


def write_workload(
    data: st.DataObject, seed: int, sink: DurableSink
) -> tuple[SimSource, dict[str, int]]:
    """The source's history, its files as the pipeline cut them, replays and orphans."""
    tables = [SimTable("a", keys=10), SimTable("b", keys=10)]
    source = SimSource(seed, tables)
    for _ in range(TRANSACTIONS):
        source.transaction(source.rng.randint(1, 5))
    n = len(source.txns)
    loaded_after = data.draw(st.integers(0, n // 2), label="full load of b after txn")
    full_load(source, sink, "b", loaded_after)
    first = {"a": 0, "b": loaded_after + 1}
    for name, start in first.items():
        cuts = data.draw(st.lists(st.integers(start, n - 1), max_size=8), label=f"cuts {name}")
        at = start
        for end in [*sorted(set(cuts)), n - 1]:
            if end >= at:
                # like the pipeline after a full load: the stream's first manifest is an origin
                # that names the load (whose own manifest may arrive after it)
                first_of_b = name == "b" and at == start
                loads = (LoadRef("public.b", source.txns[loaded_after] + 1),) if first_of_b else ()
                source.write_range(
                    sink, name, source.txns[at], source.txns[end], origin=first_of_b or None,
                    loads=loads,
                )  # fmt: skip
                at = end + 1
        replays = data.draw(st.integers(0, 2), label=f"replays {name}")
        for _ in range(replays):  # a crash replays from an earlier ack: new cuts, new names
            lo = data.draw(st.integers(start, n - 1))
            hi = data.draw(st.integers(lo, min(n - 1, lo + 6)))
            source.write_range(sink, name, source.txns[lo], source.txns[hi])
        if data.draw(st.booleans(), label=f"orphan {name}"):  # stored, then killed before
            lo = data.draw(st.integers(start, n - 1))  # its manifest
            source.manifests = False
            source.write_range(sink, name, source.txns[lo], source.txns[min(n - 1, lo + 3)])
            source.manifests = True
    return source, first


def check(wh: LocalWarehouse, source: SimSource) -> None:
    """Every FINAL table equals its source as of its recorded watermark."""
    marks = {str(w["table_name"]): w for w in wh.watermarks()}
    STATS["runs"] += 1
    for name in source.tables:
        mark = marks.get(f"public.{name}", {})
        lsn = mark.get("lsn")
        if lsn is None and mark.get("load_lsn") is not None:
            continue  # a full load merged in slices: no watermark, so no claim to check
        want = {} if lsn is None else as_final(source.state_as_of(name, int(lsn)))  # type: ignore[call-overload]
        got = final_rows(wh, name)
        STATS["rows"] += len(got)
        if got != want:
            STATS["mismatches"] += 1
        assert got == want, f"FINAL {name} is not the source as of its watermark {lsn}"


@settings(
    # more in a long run: WALSTREAM_DELIVERY_EXAMPLES=1000 pytest tests/test_delivery_oracle.py
    # (hypothesis draws new deliveries on every run, so the suite's runs add up)
    max_examples=int(os.environ.get("WALSTREAM_DELIVERY_EXAMPLES", "12")),
    deadline=None,
    # no shrinking: a failing delivery is printed draw by draw, and shrinking one takes minutes
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), seed=st.integers(0, 2**16))
def test_final_is_the_source_as_of_its_watermark_after_every_run_of_any_delivery(
    data: st.DataObject, seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root: Path = tmp_path_factory.mktemp("delivery")
    sink = open_sink(f"file://{root}/dest")
    source, _ = write_workload(data, seed, sink)
    keys = sorted(k for k in sink.list("") if k.endswith((".parquet", ".json")))
    order = data.draw(st.permutations(keys), label="arrival order")
    held = data.draw(st.sets(st.sampled_from(keys), max_size=3), label="held back")
    order = [k for k in order if k not in held] + [k for k in order if k in held]
    STATS["deliveries"] += 1
    slice_rows = data.draw(st.sampled_from([1, 2, 3, 1_000_000]), label="load slice rows")
    with LocalWarehouse(str(root / "wh.duckdb"), MergeOptions(load_slice_rows=slice_rows)) as wh:
        while order:
            take = data.draw(st.integers(1, 4), label="files in this run")
            wh.load(sink, keys=order[:take])
            order = order[take:]
            check(wh, source)
        for _ in range(TRANSACTIONS * 10 + 2):  # a slice of one row per run: one run a row
            if all(w["load_lsn"] is None for w in wh.watermarks()):
                break
            wh.load(sink)  # task runs with nothing new: a load merged in slices finishes
        for name, table in source.tables.items():
            assert final_rows(wh, name) == as_final(table.state), f"FINAL {name} != source"
        marks = {str(w["table_name"]): w for w in wh.watermarks()}
        for name in source.tables:
            assert marks[f"public.{name}"]["lsn"] == source.txns[-1]
            assert marks[f"public.{name}"]["waiting_for"] is None


def test_a_missing_manifest_is_named_by_its_interval_and_the_table_waits_only_for_it(
    tmp_path: Path,
) -> None:
    sink = open_sink(f"file://{tmp_path}/dest")
    source = SimSource(3, [SimTable("a"), SimTable("b")])
    for _ in range(6):
        source.transaction(2)
    t = source.txns
    first, middle, last = (
        source.write_range(sink, "a", t[i], t[j]) for i, j in ((0, 1), (2, 3), (4, 5))
    )
    other = source.write_range(sink, "b", t[0], t[5])
    with LocalWarehouse(str(tmp_path / "wh.duckdb")) as wh:
        wh.load(sink, keys=[*first, *last, middle[0], *other])  # the middle manifest is late
        marks = {str(w["table_name"]): w for w in wh.watermarks()}
        assert marks["public.a"]["lsn"] == t[1]
        # no manifest covers (t1, t3] yet: the next one present starts at t3
        assert marks["public.a"]["waiting_for"] == f"manifest of sim_a ({t[1]}, {t[3]}]"
        assert marks["public.b"]["lsn"] == t[5] and marks["public.b"]["waiting_for"] is None
        assert final_rows(wh, "a") == as_final(source.state_as_of("a", t[1]))
        wh.load(sink, keys=[middle[1]])
        marks = {str(w["table_name"]): w for w in wh.watermarks()}
        assert marks["public.a"]["lsn"] == t[5] and marks["public.a"]["waiting_for"] is None
        assert final_rows(wh, "a") == as_final(source.tables["a"].state)
