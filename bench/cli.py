"""``python -m bench`` (and ``walstream bench``): run the suite and write its reports.

``--smoke`` is the ~30-second version CI runs (tiny sizes, a short latency run): it proves the
suite still runs end to end and that walstream's row counts match, and asserts no timing.
"""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import sys
from pathlib import Path

import click

# Names only: this module stays cheap to import (``walstream bench`` registers it), the suite's
# modules (psycopg, pyarrow, moto, matplotlib) load when the command runs. tests/
# test_bench_smoke.py checks these lists against the registries in workloads.py/consumers.py.
WORKLOAD_NAMES = (
    "narrow-insert",
    "wide-update",
    "toast",
    "mixed-oltp",
    "very-wide-row",
    "many-tables",
    "big-txn",
)
CONSUMER_NAMES = (
    "pg_recvlogical",
    "walstream-binary-local",
    "walstream-binary-local-pyloop",
    "walstream-text-local",
    "walstream-binary-s3",
    "walstream-text-s3",
    "python-peer",
    "node-peer",
)
SMOKE_SCALE = 0.004
#: The smoke run covers both value formats and both sinks with two walstream runs, not four.
SMOKE_CONSUMERS = (
    "pg_recvlogical",
    "walstream-binary-local",
    "walstream-text-s3",
    "python-peer",
    "node-peer",
)


@click.command("bench", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--smoke", is_flag=True, help=f"tiny sizes (scale {SMOKE_SCALE}), 5 s of latency")
@click.option("--scale", type=float, default=None, help="fraction of the issue's sizes [1.0]")
@click.option(
    "--workload",
    "workloads",
    multiple=True,
    type=click.Choice(WORKLOAD_NAMES),
    help="run only these workloads (repeatable) [all]",
)
@click.option(
    "--consumer",
    "consumers",
    multiple=True,
    type=click.Choice(CONSUMER_NAMES),
    help="run only these consumers (repeatable) [all; smoke: pg_recvlogical, walstream "
    "binary-local and text-s3, the peers]",
)
@click.option(
    "--latency-seconds",
    type=float,
    default=None,
    help="length of the steady-load latency run; 0 skips it [30, smoke 5]",
)
@click.option("--latency-rate", type=int, default=5000, show_default=True, help="changes/s")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(__file__).resolve().parent / "results",
    show_default="bench/results",
    help="where the JSON, markdown and PNG files go",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="runs of each consumer on each workload (own slots, round-robin); the table shows the "
    "run with the median wall time and the highest peak RSS",
)
@click.option("--keep-workdir", is_flag=True, help="keep the server, logs and sinks for a look")
def bench_command(
    smoke: bool,
    scale: float | None,
    workloads: tuple[str, ...],
    consumers: tuple[str, ...],
    latency_seconds: float | None,
    latency_rate: int,
    out: Path,
    repeat: int,
    keep_workdir: bool,
) -> None:
    """Benchmark walstream against pg_recvlogical and its peers on the same slots."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S"
    )
    for noisy in ("botocore", "boto3", "urllib3", "matplotlib", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from .report import write_reports
    from .suite import SuiteConfig, run_suite

    cfg = SuiteConfig(
        scale=scale if scale is not None else (SMOKE_SCALE if smoke else 1.0),
        smoke=smoke,
        workloads=workloads or WORKLOAD_NAMES,
        consumers=consumers or (SMOKE_CONSUMERS if smoke else CONSUMER_NAMES),
        out_dir=out,
        latency_seconds=latency_seconds if latency_seconds is not None else (5 if smoke else 30),
        latency_rate=latency_rate,
        keep_workdir=keep_workdir,
        repeat=repeat,
        command=shlex.join(["python", "-m", "bench", *sys.argv[1:]]),
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    doc = run_suite(cfg)
    path = write_reports(doc, out, stamp)
    click.echo(f"bench: results in {path} and {path.with_suffix('.md')}", err=True)
    for t in doc["targets"]:
        met = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        click.echo(f"  {t['target']} [{t['workload']}]: {t['measured']} ({t['limit']}) {met}")


def main() -> None:
    bench_command()
