"""The one polling helper of the test suite: wait until a condition holds, or fail saying what
was awaited (and re-raise at once the error of a background worker that died meanwhile)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Failing(Protocol):
    """A background worker that records the exception it died of (tests.streaming)."""

    error: BaseException | None


def wait_for(
    condition: Callable[[], bool],
    timeout: float = 30.0,
    what: str = "condition",
    bg: Failing | None = None,
    interval: float = 0.05,
) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` or as soon as ``bg`` failed."""
    deadline = time.monotonic() + timeout
    while not condition():
        if bg is not None and bg.error is not None:
            raise bg.error
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
