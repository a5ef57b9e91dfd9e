"""Structured logging: one event per line, ``key=value`` for people, JSON for machines.

Messages are written as ``event=name key=value ...``; the JSON formatter keeps that text in
``msg`` and adds time, level and logger. DSNs and passwords are never passed to a log call.
"""

from __future__ import annotations

import json
import logging
import sys
import time


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def setup_logging(level: str = "info", fmt: str = "auto") -> None:
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%H:%M:%S")
        )
    from .secrets import RedactingFilter  # a second line of defence: no secret ever logged

    handler.addFilter(RedactingFilter())
    root = logging.getLogger("walstream")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
