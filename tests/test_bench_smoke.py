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
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run_bench(args: list[str], out: Path, timeout: float) -> tuple[Path, dict[str, Any]]:
    """``python -m bench ARGS --out OUT`` from the checkout; its results file and document."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    [path] = out.glob("*.json")
    return path, json.loads(path.read_text())


@pytest.mark.timeout(420)
def test_bench_smoke_produces_results_for_every_consumer_and_matching_row_counts(
    tmp_path: Path,
) -> None:
    path, doc = _run_bench(["--smoke"], tmp_path, timeout=400)
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


@pytest.mark.timeout(300)
def test_bench_repeat_runs_each_consumer_on_its_own_slot_and_reports_the_median(
    tmp_path: Path,
) -> None:
    consumers = ["pg_recvlogical", "walstream-binary-local"]
    args = ["--smoke", "--workload", "narrow-insert", "--repeat", "3", "--latency-seconds", "0"]
    path, doc = _run_bench(args + [a for c in consumers for a in ("--consumer", c)], tmp_path, 280)
    assert doc["repeat"] == 3
    assert [r["consumer"] for r in doc["results"]] == consumers  # one row per consumer
    for result in doc["results"]:
        runs = result["extra"]["runs"]
        assert len(runs) == 3 and all(r["status"] == "ok" for r in runs), result
        walls = sorted(r["wall_s"] for r in runs)
        assert result["wall_s"] == walls[1], result  # the median run stands for all three
        assert result["peak_rss_mb"] == max(r["peak_rss_mb"] for r in runs), result
        if result["consumer"].startswith("walstream"):
            assert result["rows_written"] == doc["workloads"][0]["changes"], result
    assert "ran 3 times" in path.with_suffix(".md").read_text()


def test_median_run_keeps_one_real_run_and_the_worst_rss() -> None:
    from bench.consumers import Result
    from bench.suite import median_run

    def run(wall: float, rss: float, status: str = "ok") -> Result:
        return Result("w", "c", status, wall_s=wall, cpu_user_s=wall / 2, cpu_sys_s=0.0,
                      peak_rss_mb=rss)  # fmt: skip

    picked = median_run([run(3.0, 100), run(1.0, 300), run(2.0, 200)])
    assert (picked.wall_s, picked.cpu_user_s, picked.peak_rss_mb) == (2.0, 1.0, 300)
    assert [r["wall_s"] for r in picked.extra["runs"]] == [3.0, 1.0, 2.0]
    assert median_run([run(1.0, 10), run(2.0, 20)]).wall_s == 1.0  # even: the lower median
    failed = median_run([run(1.0, 10), run(9.0, 10, "failed"), run(2.0, 10)])
    assert failed.status == "failed" and failed.wall_s == 9.0
    single = run(1.0, 10)
    assert median_run([single]) is single


@pytest.mark.timeout(120)
def test_merge_bench_times_every_workload_and_delivery_and_checks_final() -> None:
    args = ["--rows", "3000", "--repeat", "2", "--file-rows", "200", "--batch-files", "4"]
    proc = subprocess.run(
        [sys.executable, "-m", "bench.merge_bench", *args, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]  # FINAL is checked after every run
    doc = json.loads(proc.stdout)
    from bench.merge_bench import WORKLOADS

    assert doc["walstream"]["manifests"] is True
    assert {w["name"]: w["change_rows"] for w in doc["workloads"]} == dict.fromkeys(WORKLOADS, 3000)
    assert all(w["files"] >= 15 for w in doc["workloads"])
    lines = {(r["workload"], r["mode"]): r for r in doc["results"]}
    assert set(lines) == {(w, m) for w in WORKLOADS for m in ("all", "batches")}
    for (workload, mode), line in lines.items():
        files = next(w["files"] for w in doc["workloads"] if w["name"] == workload)
        assert line["loads"] == (1 if mode == "all" else -(-files // 4)), line
        assert len(line["runs_s"]) == 2 and line["seconds"] in line["runs_s"], line
        assert line["rows_per_s"] > 0, line
