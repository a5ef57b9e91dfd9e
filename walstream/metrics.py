"""Metrics and health of ``walstream run``: Prometheus, ``/healthz``, ``/readyz``, systemd.

DESIGN.md §1.5 promises that slot lag is observable. The read loop and the flusher report what
happens to one :class:`Metrics` object (the process-wide :data:`METRICS`), and
:class:`MetricsServer` serves it over HTTP for Prometheus and for ECS/Kubernetes probes:

- ``/metrics``: the Prometheus text format (every series is listed in :class:`Metrics`);
- ``/healthz``: 200 while the process is alive and its read loop reports progress (it ticks at
  least every status interval, also while uploads run); 503 once it stalls or has failed;
- ``/readyz``: 200 while the replication stream is connected and streaming; 503 while starting,
  reconnecting or stopping.

Under systemd (``NOTIFY_SOCKET`` set) :class:`SystemdNotifier` sends ``READY=1`` when streaming
starts and ``WATCHDOG=1`` every half ``WatchdogSec`` while ``/healthz`` would say healthy, so a
stalled consumer is restarted by systemd. It is written against the datagram protocol directly;
no extra dependency.

Cost: nothing here runs per change. Counts that grow per change (changes decoded, bytes
received, transactions) are plain integers the read loop already keeps; they are read at scrape
time through :meth:`Metrics.watch_totals`. Everything else is updated per flush or per status
update. LSN gauges are floats: exact up to 2**53 bytes of WAL (8 PiB).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import socket
import threading
import time
from collections import Counter as CountOf
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from .errors import ConfigError

log = logging.getLogger("walstream.metrics")

# ``*_created`` series double the output and tell an operator nothing here.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Seconds. Flushes take from milliseconds (local) to minutes (a large S3 multipart upload).
FLUSH_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# Commit on the source -> durable in DEST: dominated by the flush interval (default 60 s).
LATENCY_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 90, 120, 300, 600, 1800, 3600)


@dataclass(frozen=True, slots=True)
class RunTotals:
    """Counts the read loop keeps as plain integers (read at scrape time, never per change)."""

    changes_decoded: int
    transactions: int
    bytes_received: int


class StoredFileLike(Protocol):
    @property
    def table(self) -> str: ...
    @property
    def size(self) -> int: ...


class BatchLike(Protocol):
    @property
    def table(self) -> object: ...  # a TableSchema: has qualified_name
    @property
    def ops(self) -> Sequence[str]: ...
    @property
    def first_commit_ts_us(self) -> int: ...


class _TotalsCollector(Collector):
    """Exports :class:`RunTotals` from a callback of the running pipeline."""

    def __init__(self) -> None:
        self.source: Callable[[], RunTotals] | None = None
        self._base = RunTotals(0, 0, 0)  # totals of earlier runs in this process

    def collect(self) -> Iterable[Metric]:
        totals = self.current()
        yield CounterMetricFamily(
            "walstream_changes_decoded",
            "Change rows decoded from the replication stream (buffered or stored)",
            value=totals.changes_decoded,
        )
        yield CounterMetricFamily(
            "walstream_transactions",
            "Source transactions received (committed)",
            value=totals.transactions,
        )
        yield CounterMetricFamily(
            "walstream_received_bytes",
            "Bytes of pgoutput messages received from the replication stream",
            value=totals.bytes_received,
        )

    def current(self) -> RunTotals:
        base, source = self._base, self.source
        if source is None:
            return base
        now = source()
        return RunTotals(
            base.changes_decoded + now.changes_decoded,
            base.transactions + now.transactions,
            base.bytes_received + now.bytes_received,
        )

    def detach(self) -> None:
        self._base = self.current()
        self.source = None


class Metrics:
    """Every series walstream exports, plus the state behind ``/healthz`` and ``/readyz``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.changes = Counter(
            "walstream_changes",
            "Change rows stored durably, by table and op (I, U, D, T)",
            ["table", "op"],
            registry=r,
        )
        self.files = Counter(
            "walstream_files_written", "Change files stored durably", ["table"], registry=r
        )
        self.written_bytes = Counter(
            "walstream_written_bytes", "Bytes of change files stored", ["table"], registry=r
        )
        self.flushes = Counter("walstream_flushes", "Flushes that became durable", registry=r)
        self.flush_seconds = Histogram(
            "walstream_flush_duration_seconds",
            "Encode + store + checkpoint time of one flush",
            buckets=FLUSH_BUCKETS,
            registry=r,
        )
        self.commit_to_durable = Histogram(
            "walstream_commit_to_durable_seconds",
            "From the source commit of the oldest change in a flush until that flush is durable",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "walstream_flushes_in_flight", "Flushes encoding or uploading now", registry=r
        )
        self.buffered_bytes = Gauge(
            "walstream_buffered_bytes", "Raw value bytes buffered, not yet flushed", registry=r
        )
        self.buffered_rows = Gauge(
            "walstream_buffered_rows", "Change rows buffered, not yet flushed", registry=r
        )
        self.acked_lsn = Gauge(
            "walstream_acked_lsn", "LSN confirmed to the slot (confirmed_flush_lsn)", registry=r
        )
        self.received_lsn = Gauge(
            "walstream_received_lsn", "Highest WAL position received", registry=r
        )
        self.server_wal_end = Gauge(
            "walstream_server_wal_end_lsn",
            "The server's WAL end as of its last message or keepalive",
            registry=r,
        )
        self.lag_bytes = Gauge(
            "walstream_lag_bytes",
            "Server WAL end minus acked LSN: WAL not yet confirmed by this consumer",
            registry=r,
        )
        self.retries = Counter(
            "walstream_retries", "Operations retried, by kind", ["kind"], registry=r
        )
        self.errors = Counter("walstream_errors", "Errors, by kind", ["kind"], registry=r)
        self.lossy_values = Counter(
            "walstream_lossy_values",
            "Values stored inexactly and marked in _walstream_lossy, by table, column and kind",
            ["table", "column", "kind"],
            registry=r,
        )
        self.reconnects = Counter(
            "walstream_reconnects", "Replication connections re-established", registry=r
        )
        self.heartbeats = Counter(
            "walstream_heartbeats", "Heartbeat messages emitted, by result", ["result"], registry=r
        )
        self.streaming = Gauge(
            "walstream_streaming", "1 while the replication stream is connected", registry=r
        )
        self.last_progress = Gauge(
            "walstream_last_progress_timestamp_seconds",
            "Unix time of the read loop's last progress report",
            registry=r,
        )
        self._totals = _TotalsCollector()
        r.register(self._totals)
        self._lock = threading.Lock()
        self._progress_at = time.monotonic()
        # the last time a flush completed, or nothing was in flight (see health)
        self._flushed_at = time.monotonic()
        self._last_acked = 0
        self._is_streaming = False
        self._failed: str | None = None
        self.stall_seconds = 120.0
        self._on_ready: list[Callable[[], None]] = []

    # -- reports from the pipeline (none of these is called per change) --------------------
    def watch_totals(self, source: Callable[[], RunTotals] | None) -> None:
        """Read per-change counts from ``source`` at scrape time; ``None`` detaches."""
        if source is None:
            self._totals.detach()
        else:
            self._totals.source = source

    def totals(self) -> RunTotals:
        return self._totals.current()

    def observe_flush(
        self,
        seconds: float,
        files: Sequence[StoredFileLike],
        batches: Sequence[BatchLike],
        now_us: int | None = None,
    ) -> None:
        """A flush became durable: its files, its changes by op, its duration and latency."""
        self.flushes.inc()
        self.flush_seconds.observe(seconds)
        for f in files:
            self.files.labels(f.table).inc()
            self.written_bytes.labels(f.table).inc(f.size)
        oldest: int | None = None
        for batch in batches:
            if not batch.ops:
                continue
            table = str(getattr(batch.table, "qualified_name", batch.table))
            for op, count in CountOf(batch.ops).items():
                self.changes.labels(table, op).inc(count)
            ts = batch.first_commit_ts_us
            oldest = ts if oldest is None else min(oldest, ts)
        if oldest is not None:
            now = time.time_ns() // 1000 if now_us is None else now_us
            self.commit_to_durable.observe(max(0.0, (now - oldest) / 1e6))

    def progress(
        self,
        *,
        acked_lsn: int,
        received_lsn: int,
        server_wal_end: int,
        buffered_bytes: int = 0,
        buffered_rows: int = 0,
        in_flight: int = 0,
    ) -> None:
        """The read loop's periodic report (each status update): positions and buffers."""
        self.acked_lsn.set(acked_lsn)
        self.received_lsn.set(received_lsn)
        wal_end = max(server_wal_end, received_lsn, acked_lsn)
        self.server_wal_end.set(wal_end)
        self.lag_bytes.set(max(0, wal_end - acked_lsn))
        self.buffered_bytes.set(buffered_bytes)
        self.buffered_rows.set(buffered_rows)
        self.in_flight.set(in_flight)
        self.last_progress.set(time.time())
        with self._lock:
            now = time.monotonic()
            self._progress_at = now
            if in_flight == 0 or acked_lsn > self._last_acked:
                self._flushed_at = now
            self._last_acked = max(self._last_acked, acked_lsn)

    def set_streaming(self, streaming: bool) -> None:
        """The replication stream is connected and streaming (True) or not (False)."""
        with self._lock:
            first = streaming and not self._is_streaming
            self._is_streaming = streaming
            self._progress_at = time.monotonic()
            callbacks = list(self._on_ready) if first else []
        self.streaming.set(1 if streaming else 0)
        for callback in callbacks:
            callback()

    def on_streaming(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time streaming (re)starts (used for systemd READY=1)."""
        with self._lock:
            self._on_ready.append(callback)

    def failed(self, reason: str) -> None:
        """The run failed for good: ``/healthz`` turns 503 until the process exits."""
        with self._lock:
            self._failed = reason
            self._is_streaming = False
        self.streaming.set(0)

    def reset_health(self) -> None:
        """A new run starts (tests run several in one process)."""
        with self._lock:
            self._failed = None
            self._is_streaming = False
            self._progress_at = self._flushed_at = time.monotonic()
            self._last_acked = 0
            self._on_ready.clear()

    # -- health -----------------------------------------------------------------------------
    def health(self) -> tuple[bool, dict[str, object]]:
        """(healthy, details) for ``/healthz``: alive, not failed, the read loop reported
        recently, and a flush in flight completed recently. A loop that ticks while its flushes
        cannot complete (a destination outage) is not progress: it reads nothing, the slot
        keeps WAL, and after ``stall_seconds`` the health check (and the systemd watchdog) says
        so."""
        with self._lock:
            now = time.monotonic()
            idle = now - self._progress_at
            flush_stalled = now - self._flushed_at
            failed = self._failed
            streaming = self._is_streaming
        ok = failed is None and idle <= self.stall_seconds and flush_stalled <= self.stall_seconds
        detail: dict[str, object] = {
            "status": "ok" if ok else "unhealthy",
            "seconds_since_progress": round(idle, 3),
            "seconds_since_flush": round(flush_stalled, 3),
            "stall_seconds": self.stall_seconds,
            "streaming": streaming,
        }
        if failed is not None:
            detail["failed"] = failed
        return ok, detail

    def readiness(self) -> tuple[bool, dict[str, object]]:
        """(ready, details) for ``/readyz``: the replication stream is connected."""
        healthy, detail = self.health()
        ready = healthy and bool(detail["streaming"])
        return ready, {**detail, "status": "ready" if ready else "not ready"}

    def scrape(self) -> bytes:
        return generate_latest(self.registry)


#: The process-wide metrics that ``walstream run`` reports to.
METRICS = Metrics()


#: Seconds a client may take to send its request (a half-open or idle connection is dropped).
REQUEST_TIMEOUT = 10.0
#: Connections served at once; more are closed at once (a scraper needs one or two).
MAX_CONNECTIONS = 16


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = REQUEST_TIMEOUT

    def do_GET(self) -> None:
        metrics = self.server.metrics
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            token = self.server.token
            if token and not hmac.compare_digest(
                self.headers.get("Authorization", ""), f"Bearer {token}"
            ):
                self._send(401, b"unauthorized: send Authorization: Bearer <token>\n", "text/plain")
                return
            self._send(200, metrics.scrape(), CONTENT_TYPE_LATEST)
        elif path in ("/healthz", "/readyz"):
            ok, detail = metrics.health() if path == "/healthz" else metrics.readiness()
            body = json.dumps(detail, sort_keys=True).encode() + b"\n"
            self._send(200 if ok else 503, body, "application/json")
        else:
            self._send(404, b"not found: try /metrics, /healthz or /readyz\n", "text/plain")

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # scrapes every few seconds would drown the event log


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most :data:`MAX_CONNECTIONS` of them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: Metrics, token: str | None) -> None:
        self.metrics = metrics
        self.token = token
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # over the cap: closed, never a thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class MetricsServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` in a daemon thread.

    Safe by default: it listens on 127.0.0.1 unless told otherwise (a container that is scraped
    from outside sets ``--metrics-host 0.0.0.0``), drops a client that sends no request within
    :data:`REQUEST_TIMEOUT`, serves at most :data:`MAX_CONNECTIONS` at once, and with a
    ``token`` answers ``/metrics`` only to ``Authorization: Bearer <token>`` (the health
    endpoints stay open for load balancers and the container's health check).
    """

    def __init__(
        self, metrics: Metrics, port: int, host: str = "127.0.0.1", token: str | None = None
    ) -> None:
        try:
            self._server = _Server((host, port), metrics, token or None)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}; choose another "
                "--metrics-port (0 picks a free one)"
            ) from None
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="walstream-metrics",
            daemon=True,
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        log.info("event=metrics_listening host=%s port=%d", self.host, self.port)
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class SystemdNotifier:
    """sd_notify(3) over the ``NOTIFY_SOCKET`` datagram socket; a no-op when it is unset."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        path = env.get("NOTIFY_SOCKET", "")
        if path.startswith("@"):  # abstract namespace socket
            path = "\0" + path[1:]
        self._address = path
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_interval: float | None = int(usec) / 2e6 if usec.isdigit() else None
        watchdog_pid = env.get("WATCHDOG_PID", "")
        if watchdog_pid.isdigit() and int(watchdog_pid) != os.getpid():
            self.watchdog_interval = None  # the watchdog is meant for another process

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, *fields: str) -> bool:
        """Send ``KEY=VALUE`` lines; True when sent. Failures are logged, never raised."""
        if not self._address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto("\n".join(fields).encode(), self._address)
        except OSError as exc:
            log.warning("event=sd_notify_failed error=%s", exc.strerror or exc)
            return False
        return True


class Watchdog:
    """Pings systemd's watchdog every half ``WatchdogSec`` while the run is healthy."""

    def __init__(self, metrics: Metrics, notifier: SystemdNotifier) -> None:
        self._metrics = metrics
        self._notifier = notifier
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Watchdog:
        if self._notifier.enabled and self._notifier.watchdog_interval:
            self._thread = threading.Thread(
                target=self._run, name="walstream-watchdog", daemon=True
            )
            self._thread.start()
        return self

    def _run(self) -> None:
        interval = self._notifier.watchdog_interval or 1.0
        while not self._stop.wait(interval):
            healthy, _ = self._metrics.health()
            if healthy:
                self._notifier.notify("WATCHDOG=1")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def parse_exposition(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of each sample in Prometheus text output (for tests and tools)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, dict(sample.labels), float(sample.value)
