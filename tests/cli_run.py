"""Running ``walstream`` as a child process, the way users and crash tests do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def walstream(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "WALSTREAM_LOG_FORMAT": "text", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "walstream", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
