"""From a results document to what people read: targets, a markdown table, PNG plots.

The targets are issue 7's, evaluated on the figures of one run (ratios are taken within the run,
so a loaded machine slows both sides of a ratio alike, roughly). A target whose figures are
missing (a consumer skipped or failed) is reported as "not measured", never as met.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("bench.report")

WALSTREAM = "walstream-binary-local"
RATIO_WORKLOADS = ("narrow-insert", "wide-update", "toast")


def _index(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["workload"], r["consumer"]): r for r in doc["results"] if r["status"] == "ok"}


def evaluate_targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    ok = _index(doc)
    workloads = [w["name"] for w in doc["workloads"]]
    targets: list[dict[str, Any]] = []

    def add(name: str, workload: str, value: float | None, limit: float, le: bool) -> None:
        met = None if value is None else (value <= limit if le else value >= limit)
        targets.append(
            {
                "target": name,
                "workload": workload,
                "measured": None if value is None else round(value, 3),
                "limit": f"{'<=' if le else '>='} {limit:g}",
                "met": met,
            }
        )

    for w in RATIO_WORKLOADS:
        if w not in workloads:
            continue
        ws, pg = ok.get((w, WALSTREAM)), ok.get((w, "pg_recvlogical"))
        ratio = ws["wall_s"] / pg["wall_s"] if ws and pg and pg["wall_s"] else None
        add("wall time / pg_recvlogical", w, ratio, 1.15, le=True)
    if "narrow-insert" in workloads:
        ws = ok.get(("narrow-insert", WALSTREAM))
        cpu = ws["cpu_s_per_million"] if ws else None
        add("CPU s per million changes", "narrow-insert", cpu, 4, True)
        net = net_cpu_per_million(doc, ws) if ws else None
        add("CPU s per million changes, start-up excluded", "narrow-insert", net, 4, True)
    for w in workloads:
        ws = ok.get((w, WALSTREAM))
        for peer, factor in (("python-peer", 3.0), ("node-peer", 1.0)):
            other = ok.get((w, peer))
            speedup = (
                ws["changes_per_s"] / other["changes_per_s"]
                if ws and other and other["changes_per_s"]
                else None
            )
            add(f"changes/s vs {peer}", w, speedup, factor, le=False)
    for w in workloads:
        rss = [
            r["peak_rss_mb"]
            for (wl, c), r in ok.items()
            if wl == w and c.startswith("walstream-") and r["peak_rss_mb"] is not None
        ]
        add("peak RSS MB (max of walstream runs)", w, max(rss) if rss else None, 300, True)
    lat = doc.get("latency")
    p99 = lat.get("p99_s") if lat and lat.get("status") == "ok" else None
    add(f"latency p99 s at {lat['target_rate'] if lat else 5000}/s", "latency", p99, 2.5, True)
    return targets


def net_cpu_per_million(doc: dict[str, Any], result: dict[str, Any]) -> float | None:
    """A walstream run's CPU per million changes without its fixed start-up/stop cost.

    The fixed cost (imports, connections, pre-flight, stop) is measured once per suite on an
    empty slot; at small scales it dominates the gross figure.
    """
    fixed = doc.get("walstream_fixed_cost") or {}
    if (
        not result["consumer"].startswith("walstream-")
        or fixed.get("status") != "ok"
        or result["cpu_user_s"] is None
        or not result["changes"]
    ):
        return None
    cpu = float(result["cpu_user_s"] + result["cpu_sys_s"] - fixed["cpu_s"])
    changes = int(result["changes"])
    return round(max(cpu, 0.0) / changes * 1e6, 3)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _fixed_cost_line(doc: dict[str, Any]) -> list[str]:
    fixed = doc.get("walstream_fixed_cost")
    if not fixed or fixed.get("status") != "ok":
        return []
    return [
        f"- walstream's fixed cost (start, connect, pre-flight, stop on an empty slot): "
        f"{fixed['wall_s']} s wall, {fixed['cpu_s']} s CPU, {fixed['peak_rss_mb']} MB peak "
        "RSS; it is included in every walstream figure below"
    ]


def _repeat_line(doc: dict[str, Any]) -> list[str]:
    repeat = doc.get("repeat", 1)
    if repeat <= 1:
        return []
    return [
        f"- each consumer ran {repeat} times per workload, each run on its own slot of the same "
        "changes, round-robin with the other consumers; a row is the run with the median wall "
        "time (the range of all runs in brackets), with the highest peak RSS of any run"
    ]


def _wall(result: dict[str, Any]) -> str:
    """The wall time, with the range over ``--repeat`` runs when there were several."""
    walls = [r["wall_s"] for r in result.get("extra", {}).get("runs", []) if r["wall_s"]]
    if len(walls) < 2:
        return _fmt(result["wall_s"], 2)
    return f"{_fmt(result['wall_s'], 2)} ({min(walls):.2f}–{max(walls):.2f})"


def markdown(doc: dict[str, Any], stamp: str, plots: list[str]) -> str:
    m = doc["machine"]
    lines = [
        f"# walstream benchmark {stamp}",
        "",
        f"- command: `{doc['command']}`",
        f"- scale: {doc['scale']} of the issue's sizes{' (smoke)' if doc['smoke'] else ''}; "
        f"PostgreSQL {doc.get('postgres', '?')}; {m['cpus']} CPUs; load average "
        f"{m['loadavg_start']} at start, {m.get('loadavg_end')} at end",
        f"- duration: {doc.get('duration_s')} s",
        *_fixed_cost_line(doc),
        "- wall time includes process start and connection for every consumer; CPU and peak "
        "RSS are the consumer process's own (os.wait4); WAL MB/s is the slot's WAL span over "
        "the wall time",
        *_repeat_line(doc),
        "",
        "## Targets",
        "",
        "| target | workload | measured | limit | met |",
        "|---|---|---:|---|---|",
    ]
    for t in doc["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        lines.append(
            f"| {t['target']} | {t['workload']} | {_fmt(t['measured'], 2)} | {t['limit']} | {met} |"
        )
    by_workload: dict[str, list[dict[str, Any]]] = {}
    for r in doc["results"]:
        by_workload.setdefault(r["workload"], []).append(r)
    for w in doc["workloads"]:
        lines += [
            "",
            f"## {w['name']}",
            "",
            f"{w['shape']}. Changes: {w['changes']:,}; WAL: {w['wal_bytes'] / 2**20:,.1f} MB "
            f"({w['start_lsn']} .. {w['end_lsn']}); generated in {w['generate_s']} s.",
            "",
            "| consumer | status | wall s | changes/s | WAL MB/s | CPU s | CPU s / M changes "
            "| same, start-up excluded | peak RSS MB | rows check |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in by_workload.get(w["name"], []):
            cpu = None
            if r["cpu_user_s"] is not None:
                cpu = r["cpu_user_s"] + r["cpu_sys_s"]
            check = "–"
            if r["rows_written"] is not None:
                check = f"{r['rows_written']:,} rows"
            elif r["changes_seen"] is not None:
                check = f"{r['changes_seen']:,} decoded"
            status = r["status"] if not r["reason"] else f"{r['status']}: {r['reason']}"
            lines.append(
                f"| {r['consumer']} | {status} | {_wall(r)} | "
                f"{_fmt(r['changes_per_s'], 0)} | {_fmt(r['wal_mb_per_s'], 1)} | {_fmt(cpu, 2)} | "
                f"{_fmt(r['cpu_s_per_million'], 2)} | {_fmt(net_cpu_per_million(doc, r), 2)} | "
                f"{_fmt(r['peak_rss_mb'], 0)} | {check} |"
            )
    # Workloads that never got generated (an error before) still show their skipped consumers.
    lat = doc.get("latency")
    if lat:
        lines += ["", "## Commit-to-durable latency (walstream, local sink)", ""]
        if lat.get("status") == "ok":
            lines += [
                f"{lat['transactions']:,} transactions of {lat['per_txn']} inserts over "
                f"{lat['seconds']} s: {_fmt(lat['achieved_rate'], 0)} changes/s achieved "
                f"(target {lat['target_rate']:,}); flush interval {lat['flush_interval_s']} s; "
                f"{lat['files']} files.",
                "",
                "| p50 s | p99 s | max s | p50 s (mtime) | p99 s (mtime) | CPU s | peak RSS MB |",
                "|---:|---:|---:|---:|---:|---:|---:|",
                f"| {lat['p50_s']} | {lat['p99_s']} | {lat['max_s']} | {lat['p50_mtime_s']} | "
                f"{lat['p99_mtime_s']} | {lat['cpu_s']} | {lat['peak_rss_mb']} |",
                "",
                "Latency = time the file holding the transaction was first seen under its final "
                "name (polled every 10 ms) minus the transaction's source commit time; the mtime "
                "columns use the file's mtime instead (a lower bound). See bench/latency.py.",
            ]
        else:
            lines.append(f"failed: {lat.get('reason')}")
    if plots:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def plot(doc: dict[str, Any], out_dir: Path, stamp: str) -> list[str]:
    """PNG plots next to the results; returns their file names (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("event=plots_skipped reason=matplotlib_not_installed")
        return []
    ok = [r for r in doc["results"] if r["status"] == "ok"]
    workloads = [w["name"] for w in doc["workloads"]]
    consumers = sorted({r["consumer"] for r in ok}, key=lambda c: (not c.startswith("pg"), c))
    names: list[str] = []
    metrics = (
        ("changes_per_s", "changes / s (higher is better)", True),
        ("cpu_s_per_million", "consumer CPU s per million changes (lower is better)", True),
        ("peak_rss_mb", "peak RSS MB (lower is better)", False),
    )
    if ok and workloads:
        height_in = min(16.0, 2.5 + 0.25 * len(workloads) * len(consumers))
        fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), height_in))
        for ax, (key, title, log_scale) in zip(axes, metrics, strict=True):
            height = 0.8 / max(len(consumers), 1)
            for i, consumer in enumerate(consumers):
                values = []
                for w in workloads:
                    match = [r for r in ok if r["workload"] == w and r["consumer"] == consumer]
                    values.append(match[0][key] or 0 if match else 0)
                ys = [j + i * height for j in range(len(workloads))]
                ax.barh(ys, values, height=height, label=consumer)
            ax.set_yticks([j + 0.4 - height / 2 for j in range(len(workloads))], workloads)
            ax.invert_yaxis()
            ax.set_title(title, fontsize=10)
            if log_scale:
                ax.set_xscale("log")
            if key == "peak_rss_mb":
                ax.axvline(300, color="red", alpha=0.4)  # issue 7's limit for walstream
            ax.grid(axis="x", alpha=0.3)
        axes[0].legend(fontsize=8, loc="lower right")
        fig.suptitle(f"walstream benchmark {stamp} (scale {doc['scale']})")
        fig.tight_layout()
        name = f"{stamp}-throughput.png"
        fig.savefig(out_dir / name, dpi=110)
        plt.close(fig)
        names.append(name)
    lat = doc.get("latency")
    if lat and lat.get("status") == "ok" and lat.get("latencies_s"):
        values = lat["latencies_s"]
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(values, [(i + 1) / len(values) for i in range(len(values))])
        for q, label in ((lat["p50_s"], "p50"), (lat["p99_s"], "p99")):
            ax.axvline(q, linestyle="--", alpha=0.5)
            ax.text(q, 0.05, f" {label} {q:.2f}s", fontsize=8)
        ax.axvline(2.5, color="red", alpha=0.4)
        ax.set_xlabel("commit-to-durable latency, s")
        ax.set_ylabel("fraction of transactions")
        ax.set_title(
            f"walstream latency at {_fmt(lat['achieved_rate'], 0)} changes/s, "
            f"flush interval {lat['flush_interval_s']} s"
        )
        ax.grid(alpha=0.3)
        fig.tight_layout()
        name = f"{stamp}-latency.png"
        fig.savefig(out_dir / name, dpi=110)
        plt.close(fig)
        names.append(name)
    return names


def write_reports(doc: dict[str, Any], out_dir: Path, stamp: str) -> Path:
    """Write ``<stamp>.json``, ``<stamp>.md`` and the plots; returns the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    doc["targets"] = evaluate_targets(doc)
    plots = plot(doc, out_dir, stamp)
    doc["plots"] = plots
    path = out_dir / f"{stamp}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)
    (out_dir / f"{stamp}.md").write_text(markdown(doc, stamp, plots))
    return path
