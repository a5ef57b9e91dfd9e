"""What ``walstream run`` starts next to the stream: metrics server, heartbeat, systemd hooks.

The runner calls :meth:`RunServices.start` once the destination and source checks passed and
:meth:`RunServices.close` when it stops, and otherwise only reports to
:data:`walstream.metrics.METRICS`. What to start comes as typed :class:`ServiceSettings`, whose
defaults start nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..heartbeat import Heartbeat
from ..metrics import METRICS, Metrics, MetricsServer, RunTotals, SystemdNotifier, Watchdog

log = logging.getLogger("walstream.run")


@dataclass(frozen=True)
class ServiceSettings:
    """What ``walstream run`` serves beside the stream (the run's own settings of these names)."""

    status_interval: float = 10.0  # the stall threshold is 6 of these (at least 60 s)
    metrics_port: int | None = None  # None: no server; 0: any free port
    metrics_host: str = "127.0.0.1"
    metrics_token: str | None = None
    heartbeat_interval: float | None = None  # None or 0: no heartbeat
    # --snowflake-monitor-interval: starts the warehouse monitor with a getter of the acked
    # LSN and the metrics registry; returns what to close (walstream.warehouse.monitor)
    warehouse_monitor: Callable[[Callable[[], int], Any], Closeable] | None = None


class Closeable(Protocol):
    def close(self) -> None: ...


class SummaryLike(Protocol):
    """The runner's counters (``RunSummary``): read at scrape time, never copied per change."""

    @property
    def changes(self) -> int: ...

    @property
    def transactions(self) -> int: ...

    @property
    def bytes_received(self) -> int: ...


class RunServices:
    """The running side services of one ``walstream run``; see the module docstring."""

    def __init__(
        self,
        metrics: Metrics,
        server: MetricsServer | None,
        heartbeat: Heartbeat | None,
        notifier: SystemdNotifier,
        watchdog: Watchdog,
        monitor: Closeable | None = None,
    ) -> None:
        self.metrics = metrics
        self.server = server
        self.heartbeat = heartbeat
        self.notifier = notifier
        self.watchdog = watchdog
        self.monitor = monitor

    @classmethod
    def start(
        cls,
        settings: ServiceSettings,
        summary: SummaryLike,
        dsn: Callable[[], str],
        metrics: Metrics = METRICS,
        acked: Callable[[], int] = lambda: 0,
    ) -> RunServices:
        metrics.reset_health()
        metrics.stall_seconds = max(60.0, 6 * settings.status_interval)
        metrics.watch_totals(
            lambda: RunTotals(summary.changes, summary.transactions, summary.bytes_received)
        )
        notifier = SystemdNotifier()
        if notifier.enabled:

            def ready() -> None:
                notifier.notify("READY=1", "STATUS=streaming")

            metrics.on_streaming(ready)
        server: MetricsServer | None = None
        heartbeat: Heartbeat | None = None
        monitor: Closeable | None = None
        try:
            if settings.metrics_port is not None:
                server = MetricsServer(
                    metrics, settings.metrics_port, settings.metrics_host, settings.metrics_token
                ).start()
            interval = settings.heartbeat_interval
            if interval:
                from ..pg import source

                heartbeat = Heartbeat(
                    lambda: source.connect(dsn()), float(interval), metrics=metrics
                ).start()
            if settings.warehouse_monitor is not None:
                monitor = settings.warehouse_monitor(acked, metrics.registry)
        except BaseException:
            if heartbeat is not None:
                heartbeat.close()
            if server is not None:
                server.close()
            metrics.watch_totals(None)
            raise
        watchdog = Watchdog(metrics, notifier).start()
        return cls(metrics, server, heartbeat, notifier, watchdog, monitor)

    @property
    def metrics_port(self) -> int | None:
        return None if self.server is None else self.server.port

    def close(self) -> None:
        self.notifier.notify("STOPPING=1")
        self.watchdog.close()
        if self.monitor is not None:
            self.monitor.close()
        if self.heartbeat is not None:
            self.heartbeat.close()
        self.metrics.set_streaming(False)
        self.metrics.watch_totals(None)
        if self.server is not None:
            self.server.close()
