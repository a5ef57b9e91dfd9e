"""The benchmark suite still runs: ``python -m bench --smoke`` end to end (issue 7).

It asserts no timing (the machine is shared; performance is read from bench/results, never
asserted). It proves that the suite produced a result for every consumer of every workload,
that no consumer that could run failed, that walstream's stored row counts equal the changes
each workload wrote, and that the JSON, markdown and latency records are there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(420)
def test_bench_smoke_produces_results_for_every_consumer_and_matching_row_counts(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=400,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    [path] = tmp_path.glob("*.json")
    doc = json.loads(path.read_text())
    assert path.with_suffix(".md").exists()

    from bench.cli import CONSUMER_NAMES, SMOKE_CONSUMERS, WORKLOAD_NAMES
    from bench.consumers import CONSUMERS
    from bench.workloads import WORKLOADS

    assert (set(WORKLOAD_NAMES), set(CONSUMER_NAMES)) == (set(WORKLOADS), set(CONSUMERS))

    changes = {w["name"]: w["changes"] for w in doc["workloads"]}
    assert set(changes) == set(WORKLOADS)
    assert all(n > 0 for n in changes.values())
    seen = {(r["workload"], r["consumer"]): r for r in doc["results"]}
    for workload in WORKLOADS:
        for consumer in SMOKE_CONSUMERS:
            result = seen[(workload, consumer)]
            assert result["status"] in ("ok", "skipped"), result
            if result["status"] == "skipped":
                assert result["reason"], result
                assert not consumer.startswith(("walstream", "pg_recvlogical")), result
                continue
            assert result["wall_s"] is not None and result["cpu_user_s"] is not None, result
            if consumer.startswith("walstream"):
                assert result["rows_written"] == changes[workload], result
            if consumer.endswith("-peer"):
                assert result["changes_seen"] == changes[workload], result
    latency = doc["latency"]
    assert latency["status"] == "ok", latency
    assert latency["rows_written"] == latency["changes"] > 0
    assert latency["p50_s"] <= latency["p99_s"]
    assert {t["target"] for t in doc["targets"]} >= {"CPU s per million changes"}
