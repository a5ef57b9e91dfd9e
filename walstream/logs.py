"""Structured logging: one event per line, ``key=value`` for people, JSON fields for machines.

Every log call is written as ``log.info("event=name key=%s other=%d", a, b)``. The format string
is the schema: :func:`event_fields` pairs each ``key=`` with the argument its placeholder takes,
before the arguments are rendered. So the JSON formatter writes ``{"event": "name", "key": ...,
"other": 3}`` with numbers as numbers (CloudWatch Logs Insights and Loki filter on them), and the
text formatter quotes a value that holds spaces, quotes or ``=`` (an error message, a table
name), which a plain ``%s`` would have run into the next field. ``hint=`` and ``note=`` come last
and run to the end of the line: they are sentences for the operator. The event names are listed in
docs/operations.md ("Log events"); tests/test_logs.py keeps that list complete.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

#: one printf placeholder (``%%`` is not one: it is matched so that it can be skipped)
_PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])"
)
_KEY = re.compile(r"([A-Za-z_][\w.]*)=(.*)", re.S)
_RESERVED = frozenset({"ts", "level", "logger", "msg", "exc"})
_SENTENCES = ("hint=", "note=")
_NEEDS_QUOTES = re.compile(r"[\s\"'=]|^$")


def _placeholders(token: str) -> list[str]:
    """The conversion letters of ``token``'s placeholders, ``%%`` left out."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(token) if m.group(1) != "%"]


def _value(token: str, conversions: list[str], args: tuple[Any, ...]) -> Any:
    """What ``token`` (the part after ``key=``) becomes with its ``args``: the argument itself
    when the token is one placeholder of a number or a plain string, else the rendered text."""
    if len(conversions) == 1 and _PLACEHOLDER.fullmatch(token):
        arg = args[0]
        if isinstance(arg, bool) or arg is None:
            return arg
        if conversions[0] in "diouxX" and isinstance(arg, int):
            return arg if conversions[0] in "diu" else token % arg
        if conversions[0] in "eEfFgG" and isinstance(arg, int | float):
            return float(token % arg)
        if conversions[0] == "s" and isinstance(arg, int | float | str):
            return arg
    return token % args if conversions else token.replace("%%", "%")


def event_fields(record: logging.LogRecord) -> tuple[dict[str, Any], str] | None:
    """``(fields, free_text)`` of a ``key=value`` record, in the order written; None when its
    format string and arguments do not pair up (it is then logged as its plain message)."""
    if not isinstance(record.msg, str) or isinstance(record.args, dict):
        return None
    args = tuple(record.args or ())
    fields: dict[str, Any] = {}
    text: list[str] = []
    used = 0
    tokens = record.msg.split()
    for at, token in enumerate(tokens):
        if token.startswith(_SENTENCES):  # the rest of the line is its value
            tokens[at:] = [" ".join(tokens[at:])]
            break
    try:
        for token in tokens:
            conversions = _placeholders(token)
            taken = args[used : used + len(conversions)]
            if len(taken) != len(conversions):
                return None
            used += len(conversions)
            key = _KEY.fullmatch(token)
            if key is None:
                text.append(token % taken if conversions else token.replace("%%", "%"))
                continue
            name = key.group(1)
            fields[f"field_{name}" if name in _RESERVED else name] = _value(
                key.group(2), conversions, taken
            )
    except (TypeError, ValueError):
        return None
    if used != len(args):
        return None
    return fields, " ".join(text)


def _text_value(value: Any) -> str:
    """A value as text, quoted (JSON string syntax) when it would not read back as one."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if _NEEDS_QUOTES.search(text) else text


def render_text(record: logging.LogRecord) -> str:
    """The record's message as ``key=value`` text with values quoted where they need it."""
    parsed = event_fields(record)
    if parsed is None:
        return record.getMessage()
    fields, free = parsed
    parts = [f"{name}={_text_value(value)}" for name, value in fields.items()]
    return " ".join([*parts, free] if free else parts)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        parsed = event_fields(record)
        if parsed is not None:
            fields, free = parsed
            doc.update(fields)
            if free:
                doc["msg"] = free
        else:
            doc["msg"] = record.getMessage()
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = render_text(record)
        return super().formatMessage(record)


def setup_logging(level: str = "info", fmt: str = "auto") -> None:
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            _TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", "%H:%M:%S")
        )
    from .secrets import RedactingFilter  # a second line of defence: no secret ever logged

    handler.addFilter(RedactingFilter())
    root = logging.getLogger("walstream")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
