"""Profile walstream's hot path: ``python -m bench.profile [--scale 0.2] [--text] [--s3]``.

Generates the narrow-insert workload (or ``--workload``) on a fresh embedded PostgreSQL, then
runs ``walstream run --until-lsn END`` under ``py-spy record`` (all threads, native frames off,
idle time excluded), and writes to ``--out``:

- ``profile-<stamp>-<workload>.txt``: the top functions by own ("self") samples and by
  inclusive samples, and the top call stacks: what to optimise first;
- ``profile-<stamp>-<workload>.speedscope.json``: the whole profile for https://speedscope.app
  (open the file locally; nothing is uploaded).

Without py-spy (or when ptrace is not allowed), it falls back to pyinstrument (main thread
only). Both come with ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click

from .consumers import REPO_ROOT, Job, RunContext, count_rows, walstream_argv
from .server import BenchServer, bench_workdir
from .workloads import WORKLOADS

log = logging.getLogger("bench.profile")

_LINE = re.compile(r":\d+\)$")


def summarize_collapsed(text: str, top: int = 25) -> str:
    """Top self / inclusive functions and stacks from py-spy's collapsed ("raw") output.

    Samples taken while modules are imported are left out: start-up is a fixed cost (the
    suite reports it separately), not the per-change hot path this summary is for.
    """
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    stacks: collections.Counter[str] = collections.Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames or any("importlib._bootstrap" in f for f in frames):
            continue  # start-up imports: a fixed cost, reported by the suite, not the hot path
        frames = [_LINE.sub(")", f) for f in frames]  # per function, not per line
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        stacks[" <- ".join(reversed(frames[-4:]))] += count
    if not total:
        return "no samples\n"

    def table(title: str, counter: collections.Counter[str]) -> list[str]:
        rows = [f"## {title} ({total} samples)", ""]
        for frame, n in counter.most_common(top):
            rows.append(f"{100 * n / total:6.1f}%  {frame}")
        return [*rows, ""]

    return "\n".join(
        table("self time", own)
        + table("inclusive time", inclusive)
        + table("hottest stacks (leaf first, 4 frames)", stacks)
    )


@click.command("profile")
@click.option("--workload", type=click.Choice(list(WORKLOADS)), default="narrow-insert")
@click.option("--scale", type=float, default=0.2, show_default=True)
@click.option("--text", "text_mode", is_flag=True, help="text value format (default: binary)")
@click.option("--rate", type=int, default=250, show_default=True, help="py-spy samples/s")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(__file__).resolve().parent / "results",
    show_default="bench/results",
)
def profile_command(workload: str, scale: float, text_mode: bool, rate: int, out: Path) -> None:
    """Run walstream on one workload under a sampling profiler and summarise the hot path."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = out / f"profile-{stamp}-{workload}{'-text' if text_mode else ''}"
    w = WORKLOADS[workload]
    with bench_workdir(keep=False) as workdir:
        server = BenchServer(workdir / "server")
        server.start()
        try:
            w.prepare(server, scale)
            server.set_decoding_work_mem(w.decoding_work_mem(scale))
            server.create_publication("pub_profile", w.tables)
            start = server.create_slots(["profile", "profile_speedscope"])
            changes = w.generate(server, scale)
            end = server.fence()
            job = Job(workload, w.tables, "pub_profile", "profile", start, end, changes)
            ctx = RunContext(server, workdir, None, "not used", 3600)
            dest = (workdir / "sink").as_uri()
            argv = walstream_argv(ctx, job, dest, not text_mode)
            pyspy = shutil.which("py-spy")
            if pyspy:
                raw = base.with_suffix(".collapsed.txt")
                cmd = [pyspy, "record", "--nonblocking", "--rate", str(rate), "--format", "raw"]
                cmd += ["-o", str(raw)]
                subprocess.run([*cmd, "--", *argv], cwd=REPO_ROOT, check=True)
                # The same stream again (a second slot) for the speedscope file.
                job2 = Job(workload, w.tables, "pub_profile", "profile_speedscope", start, end, 0)
                argv2 = walstream_argv(ctx, job2, (workdir / "sink2").as_uri(), not text_mode)
                subprocess.run(
                    [pyspy, "record", "--nonblocking", "--rate", "50", "--format",
                     "speedscope", "-o", str(base.with_suffix(".speedscope.json")), "--", *argv2],
                    cwd=REPO_ROOT, check=False, capture_output=True,
                )  # fmt: skip
                summary = summarize_collapsed(raw.read_text())
            else:
                report = base.with_suffix(".pyinstrument.txt")
                subprocess.run(
                    [sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(report),
                     "-m", *argv[2:]],
                    cwd=REPO_ROOT, check=True, env={**os.environ},
                )  # fmt: skip
                summary = report.read_text()
            rows = count_rows(dest, w.tables)
        finally:
            server.stop()
    header = (
        f"# walstream profile: {workload}, scale {scale}, {changes:,} changes, "
        f"{'text' if text_mode else 'binary'} mode, local sink; rows written {rows:,}\n\n"
    )
    base.with_suffix(".txt").write_text(header + summary)
    click.echo(header + summary)


if __name__ == "__main__":
    profile_command()
