"""The warehouse monitor of ``walstream run --snowflake-monitor-interval SECONDS``.

``walstream status --snowflake`` answers when someone asks; an alarm needs the answer all the
time. With the option, ``walstream run`` reads the Snowflake half every SECONDS in a thread of
its own, exactly as the status does (:func:`~.report.read_snowflake_warehouse`: the merged
watermarks, the file flow, ``COPY_HISTORY``, ``TASK_HISTORY``, ``SYSTEM$PIPE_STATUS``), and
serves what it found on its ``/metrics`` with the status's metric names
(:data:`~.report.GAUGES`), per table:

- files written but not loaded, and the age of the oldest (``walstream_warehouse_unloaded_*``);
- rows written and rows loaded (``walstream_warehouse_rows_*``);
- files that failed to load and failed task runs (``walstream_warehouse_failed_*``);
- the merged watermark, FINAL freshness (seconds) and how far the watermark is behind what this
  process has acknowledged (bytes): ``walstream_warehouse_watermark_lsn``,
  ``..._freshness_seconds``, ``..._watermark_lag_bytes``;

and ``walstream_warehouse_monitor_up`` (1 when the last read succeeded) with
``walstream_warehouse_monitor_last_success_timestamp_seconds``. A read that fails is logged
(``event=warehouse_monitor_failed``) and turns ``monitor_up`` to 0 while the last samples
stay: the alarm on ``monitor_up`` says the numbers are getting old. The monitor never touches
the stream: it only reads Snowflake, on its own connection, and a slow Snowflake only delays
its next read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from ..errors import one_line
from .report import GAUGES

if TYPE_CHECKING:
    from ..snowflake.apply import ConnectionSettings

log = logging.getLogger("walstream.monitor")

MONITOR_UP = "walstream_warehouse_monitor_up"
LAST_SUCCESS = "walstream_warehouse_monitor_last_success_timestamp_seconds"

#: Reads the warehouse: (now, each slot's acknowledged LSN) -> the status's warehouse section.
Reader = Callable[[dt.datetime, Mapping[str, int]], dict[str, Any]]


@dataclass(frozen=True)
class MonitorSettings:
    """Where and how often the monitor reads Snowflake (``--snowflake-monitor-interval`` and
    the ``--snowflake-*`` settings of ``--snowflake-evolve``)."""

    interval: float
    connection: ConnectionSettings
    prefix_schema: bool = False

    def reader(self) -> Reader:
        """Read Snowflake as ``walstream status --snowflake`` does."""
        from .report import read_snowflake_warehouse

        def read(now: dt.datetime, slot_lsns: Mapping[str, int]) -> dict[str, Any]:
            return read_snowflake_warehouse(
                self.connection, now, slot_lsns=slot_lsns, prefix_schema=self.prefix_schema
            )

        return read


class WarehouseMonitor(Collector):
    """Reads the warehouse every ``interval`` seconds and serves the last reading as gauges in
    ``registry`` (see the module docstring). ``acked`` gives this process's acknowledged LSN,
    the slot position each watermark is measured against."""

    def __init__(
        self,
        read: Reader,
        interval: float,
        slot: str,
        acked: Callable[[], int],
        registry: CollectorRegistry,
    ) -> None:
        self._read = read
        self.interval = interval
        self.slot = slot
        self._acked = acked
        self._registry = registry
        self._lock = threading.Lock()
        self._samples: list[dict[str, Any]] = []
        self._up = 0.0
        self._last_success: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reads = 0  # readings attempted (for tests and logs)

    def start(self) -> WarehouseMonitor:
        self._registry.register(self)
        self._thread = threading.Thread(target=self._loop, name="walstream-monitor", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with contextlib.suppress(KeyError):  # never registered: start() failed early
            self._registry.unregister(self)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def poll(self) -> bool:
        """One reading; True when it succeeded."""
        self.reads += 1
        now = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        try:
            section = self._read(now, {self.slot: self._acked()})
        except Exception as exc:  # a monitor that stops watching must say so, not die
            with self._lock:
                self._up = 0.0
            log.warning("event=warehouse_monitor_failed error=%s", one_line(exc)[:500])
            return False
        with self._lock:
            self._samples = list(section.get("metrics", []))
            self._up = 1.0
            self._last_success = now.timestamp()
        log.debug(
            "event=warehouse_monitor_read tables=%d seconds=%.3f",
            len(section.get("tables", {})),
            time.monotonic() - started,
        )
        return True

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            samples, up, last = list(self._samples), self._up, self._last_success
        yield GaugeMetricFamily(
            MONITOR_UP, "1 when the monitor's last read of the warehouse succeeded", value=up
        )
        if last is not None:
            yield GaugeMetricFamily(
                LAST_SUCCESS, "Unix time of the monitor's last successful read", value=last
            )
        families: dict[str, GaugeMetricFamily] = {}
        for name, (text, labels) in GAUGES.items():
            families[name] = GaugeMetricFamily(name, text, labels=list(labels))
        for sample in samples:
            family = families.get(sample["name"])
            if family is None:
                continue
            _, labels = GAUGES[sample["name"]]
            family.add_metric([str(sample["labels"].get(k, "")) for k in labels], sample["value"])
        for family in families.values():
            if family.samples:
                yield family


__all__ = ["LAST_SUCCESS", "MONITOR_UP", "MonitorSettings", "WarehouseMonitor"]
