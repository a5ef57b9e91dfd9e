"""Running one consumer as a child process and measuring what it cost.

Every consumer (``pg_recvlogical``, ``walstream run``, the Python and Node peers) is a child
process started the same way, so the figures compare like with like:

- wall time: from ``Popen`` to the child's exit (process start and connection included);
- CPU: ``ru_utime + ru_stime`` of that child (and any children it waited for), from
  ``os.wait4``, which reports the rusage of exactly that pid (``RUSAGE_CHILDREN`` would mix all
  children of the driver);
- peak RSS: the kernel's high-water mark of the child's resident memory (``VmHWM`` in
  ``/proc/<pid>/status``), read every 20 ms while it runs; the last reading before exit is the
  peak (it only grows). Not ``ru_maxrss``: Linux carries the *parent's* high-water mark into a
  child across ``fork``/``exec``, so every child of this (large) driver would report at least
  the driver's own RSS.

A child that outlives its deadline is killed and reported as failed with the reason; the suite
goes on.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChildRun:
    """What one child process did and cost."""

    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_bytes: int
    timed_out: bool
    stdout: str
    stderr_tail: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


class Child:
    """A started child process whose rusage is collected by ``wait4`` when it exits."""

    def __init__(
        self,
        argv: Sequence[str],
        log_prefix: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        # not with_suffix: "narrow-insert.walstream-binary-local" would lose its consumer name
        self._out_path = log_prefix.with_name(log_prefix.name + ".out")
        self._err_path = log_prefix.with_name(log_prefix.name + ".err")
        self._out = open(self._out_path, "wb")  # noqa: SIM115 - closed in wait()
        self._err = open(self._err_path, "wb")  # noqa: SIM115
        self.started = time.monotonic()
        self._proc = subprocess.Popen(
            list(argv),
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
        )
        self.pid = self._proc.pid
        self._status: tuple[int, int, resource.struct_rusage] | None = None
        self._ended = 0.0
        self.peak_rss_bytes = 0
        self._reaper = threading.Thread(target=self._reap, name=f"wait4-{self.pid}", daemon=True)
        self._reaper.start()
        self._sampler = threading.Thread(target=self._sample, name=f"rss-{self.pid}", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        path = f"/proc/{self.pid}/status"
        while self._reaper.is_alive():
            try:
                with open(path, "rb") as fh:
                    for line in fh:
                        if line.startswith(b"VmHWM:"):
                            kib = int(line.split()[1])
                            self.peak_rss_bytes = max(self.peak_rss_bytes, kib * 1024)
                            break
            except (OSError, ValueError):
                return  # exited (or not Linux): keep the last reading
            self._reaper.join(0.02)

    def _reap(self) -> None:
        _pid, status, usage = os.wait4(self.pid, 0)
        self._ended = time.monotonic()
        self._status = (_pid, status, usage)

    def running(self) -> bool:
        return self._reaper.is_alive()

    def signal(self, signum: int) -> None:
        if self.running():
            os.kill(self.pid, signum)

    def wait(self, timeout: float) -> ChildRun:
        self._reaper.join(timeout)
        timed_out = self._reaper.is_alive()
        if timed_out:
            self.signal(signal.SIGKILL)
            self._reaper.join(30)
        self._sampler.join(5)
        self._proc.returncode = 0  # reaped by wait4; keep Popen from waiting again
        self._out.close()
        self._err.close()
        assert self._status is not None, f"child {self.pid} could not be reaped"
        _pid, status, usage = self._status
        code = os.waitstatus_to_exitcode(status)
        return ChildRun(
            returncode=code,
            wall_s=self._ended - self.started,
            user_s=usage.ru_utime,
            sys_s=usage.ru_stime,
            peak_rss_bytes=self.peak_rss_bytes,
            timed_out=timed_out,
            stdout=self._out_path.read_text(errors="replace"),
            stderr_tail=_tail(self._err_path),
        )


def run_child(
    argv: Sequence[str],
    log_prefix: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ChildRun:
    return Child(argv, log_prefix, env, cwd).wait(timeout)


def _tail(path: Path, limit: int = 1500) -> str:
    data = path.read_bytes()[-limit:].decode(errors="replace")
    return data.strip()
