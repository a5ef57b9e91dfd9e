"""What ``walstream run`` starts next to the stream: metrics server, heartbeat, systemd hooks.

The runner calls :meth:`RunServices.start` once the destination and source checks passed and
:meth:`RunServices.close` when it stops, and otherwise only reports to
:data:`walstream.metrics.METRICS`. Settings are read from the run configuration by name
(``metrics_port``, ``metrics_host``, ``heartbeat_interval``, ``status_interval``) with defaults
that start nothing, so a configuration without them behaves as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from ..heartbeat import Heartbeat
from ..metrics import METRICS, Metrics, MetricsServer, RunTotals, SystemdNotifier, Watchdog

log = logging.getLogger("walstream.run")


class SummaryLike(Protocol):
    """The runner's counters (``RunSummary``): read at scrape time, never copied per change."""

    changes: int
    transactions: int


class RunServices:
    """The running side services of one ``walstream run``; see the module docstring."""

    def __init__(
        self,
        metrics: Metrics,
        server: MetricsServer | None,
        heartbeat: Heartbeat | None,
        notifier: SystemdNotifier,
        watchdog: Watchdog,
    ) -> None:
        self.metrics = metrics
        self.server = server
        self.heartbeat = heartbeat
        self.notifier = notifier
        self.watchdog = watchdog

    @classmethod
    def start(
        cls,
        cfg: object,
        summary: SummaryLike,
        dsn: Callable[[], str],
        metrics: Metrics = METRICS,
    ) -> RunServices:
        status_interval = float(getattr(cfg, "status_interval", 10.0))
        metrics.reset_health()
        metrics.stall_seconds = max(60.0, 6 * status_interval)
        metrics.watch_totals(
            lambda: RunTotals(
                summary.changes, summary.transactions, int(getattr(summary, "bytes_received", 0))
            )
        )
        notifier = SystemdNotifier()
        if notifier.enabled:

            def ready() -> None:
                notifier.notify("READY=1", "STATUS=streaming")

            metrics.on_streaming(ready)
        server: MetricsServer | None = None
        heartbeat: Heartbeat | None = None
        try:
            port = getattr(cfg, "metrics_port", None)
            if port is not None:
                host = str(getattr(cfg, "metrics_host", None) or "127.0.0.1")
                token = getattr(cfg, "metrics_token", None)
                server = MetricsServer(metrics, int(port), host, token).start()
            interval = getattr(cfg, "heartbeat_interval", None)
            if interval:
                from ..pg import source

                heartbeat = Heartbeat(
                    lambda: source.connect(dsn()), float(interval), metrics=metrics
                ).start()
        except BaseException:
            if server is not None:
                server.close()
            metrics.watch_totals(None)
            raise
        return cls(metrics, server, heartbeat, notifier, Watchdog(metrics, notifier).start())

    @property
    def metrics_port(self) -> int | None:
        return None if self.server is None else self.server.port

    def close(self) -> None:
        self.notifier.notify("STOPPING=1")
        self.watchdog.close()
        if self.heartbeat is not None:
            self.heartbeat.close()
        self.metrics.set_streaming(False)
        self.metrics.watch_totals(None)
        if self.server is not None:
            self.server.close()
