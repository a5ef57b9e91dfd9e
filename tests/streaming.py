"""Running the real pipeline from a test: to the source's current position, or in the background."""

from __future__ import annotations

import threading
from typing import Any

from tests.conftest import PgDatabase
from tests.waiting import wait_for
from walstream.lsn import parse_lsn
from walstream.pipeline.runner import RunConfig, Runner

__all__ = ["BackgroundRunner", "run_config", "run_to_current", "wait_for"]


def run_config(
    db: PgDatabase,
    dest: str,
    *,
    slot: str = "sf_sync",
    publication: str = "walstream",
    **overrides: Any,
) -> RunConfig:
    """A test's RunConfig: short flush and status intervals, then the test's own settings."""
    cfg = RunConfig(
        dsn=db.dsn,
        slot=slot,
        publication=publication,
        dest=dest,
        flush_interval=0.3,
        status_interval=0.3,
    )
    for name, value in overrides.items():
        if not hasattr(cfg, name):
            raise TypeError(f"RunConfig has no setting {name!r}")
        setattr(cfg, name, value)
    return cfg


def run_to_current(db: PgDatabase, dest: str, **settings: Any) -> Runner:
    """Stream the slot until everything written so far is stored and acknowledged."""
    runner = Runner(run_config(db, dest, until_lsn=parse_lsn(db.current_lsn()), **settings))
    runner.run()
    return runner


class BackgroundRunner:
    """A Runner in a thread; :meth:`join` re-raises its error."""

    @classmethod
    def start(cls, db: PgDatabase, dest: str, **settings: Any) -> BackgroundRunner:
        """Stream in the background with :func:`run_config` settings (stop it, or set
        ``runner.cfg.until_lsn`` and join)."""
        return cls(Runner(run_config(db, dest, **settings)))

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.runner.run()
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = 120) -> None:
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.runner.request_stop()
            self.thread.join(30)
            raise AssertionError("runner did not finish in time")
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self.runner.request_stop()
        self.thread.join(30)
