"""Named fault points, so tests can crash the process at exact places in the flow.

A fault point is a call ``fault_point("after_upload")`` placed where a crash matters for the
guarantees (data stored but not yet acknowledged, and so on). Nothing happens unless the point
is armed, either in-process with :func:`arm` or, for a child process, through the environment::

    WALSTREAM_FAULTS="after_upload=kill"            # os._exit(137) the first time it is reached
    WALSTREAM_FAULTS="after_encode=raise@3"         # raise InjectedFault the third time

Points in use (grep for ``fault_point(`` to see where): ``after_decode``, ``after_encode``,
``after_upload`` (files durable, manifest not written), ``after_manifest`` (manifest written,
checkpoint not written), ``after_checkpoint`` (checkpoint
written, LSN not acknowledged), ``sink.mid_multipart`` (between the parts of a multipart
upload), ``during_snapshot``.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

KILL_EXIT_CODE = 137


class InjectedFault(RuntimeError):
    """Raised by a fault point armed with ``raise``; deliberately not a WalstreamError."""


@dataclass
class _Armed:
    action: str  # "kill" or "raise"
    at_hit: int
    hits: int = 0


_lock = threading.Lock()
_armed: dict[str, _Armed] = {}


def _parse(spec: str) -> dict[str, _Armed]:
    armed: dict[str, _Armed] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, rest = item.partition("=")
        action, _, count = (rest or "kill").partition("@")
        if action not in ("kill", "raise"):
            raise ValueError(f"WALSTREAM_FAULTS: unknown action {action!r} for {name!r}")
        armed[name] = _Armed(action, int(count or "1"))
    return armed


def arm(name: str, action: str = "raise", at_hit: int = 1) -> None:
    """Arm a fault point in this process (tests)."""
    with _lock:
        _armed[name] = _Armed(action, at_hit)


def disarm_all() -> None:
    with _lock:
        _armed.clear()


_armed.update(_parse(os.environ.get("WALSTREAM_FAULTS", "")))


def any_armed() -> bool:
    """True when any fault point is armed (the C read loop then leaves transaction boundaries,
    where ``after_decode`` counts, to Python)."""
    return bool(_armed)


def fault_point(name: str) -> None:
    """Crash here if this point is armed and its hit count is reached; else do nothing."""
    if not _armed:  # hot path: one dict truth test when nothing is armed
        return
    with _lock:
        armed = _armed.get(name)
        if armed is None:
            return
        armed.hits += 1
        if armed.hits != armed.at_hit:
            return
        action = armed.action
    if action == "kill":
        sys.stderr.write(f"walstream: fault point {name} reached: killing the process\n")
        sys.stderr.flush()
        os._exit(KILL_EXIT_CODE)
    raise InjectedFault(f"fault point {name} reached")
