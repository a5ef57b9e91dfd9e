"""Structured logs: JSON mode writes each field as its own key (numbers as numbers), text mode
quotes values that need it, redaction still holds, and docs/operations.md lists every event."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from walstream.logs import event_fields
from walstream.logs import setup_logging as start_logging
from walstream.secrets import register_secret

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def capture() -> Iterator[tuple[io.StringIO, logging.Logger]]:
    yield io.StringIO(), logging.getLogger("walstream.test")
    logging.getLogger("walstream").handlers[:] = []


def setup_logging(level: str, fmt: str, stream: io.StringIO) -> None:
    """walstream's logging, its handler writing to ``stream`` instead of stderr."""
    start_logging(level, fmt)
    handler = logging.getLogger("walstream").handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_mode_writes_each_field_with_its_type(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    setup_logging("debug", "json", stream)
    log.warning(
        "event=s3_retry operation=%s attempt=%d delay_s=%.3f error=%s table=%s.%s lsn=%X ok=%s",
        "PutObject", 2, 0.12345, 'SlowDown: "reduce" rate=1', "public", "my table", 255, True,
    )  # fmt: skip
    doc = json.loads(lines(stream)[0])
    assert doc["level"] == "warning" and doc["logger"] == "walstream.test"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", doc["ts"])
    fields = {k: v for k, v in doc.items() if k not in ("ts", "level", "logger")}
    assert fields == {
        "event": "s3_retry",
        "operation": "PutObject",
        "attempt": 2,
        "delay_s": 0.123,
        "error": 'SlowDown: "reduce" rate=1',  # spaces, quotes and = stay inside the field
        "table": "public.my table",
        "lsn": "FF",
        "ok": True,
    }


def test_text_mode_quotes_values_that_would_not_read_back(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    setup_logging("info", "text", stream)
    log.info("event=x error=%s table=%s empty=%s rows=%d", 'a "b" c=d', "public.t", "", 5)
    line = lines(stream)[0]
    assert line.endswith(' event=x error="a \\"b\\" c=d" table=public.t empty="" rows=5')


def test_hint_runs_to_the_end_of_the_line(capture: tuple[io.StringIO, logging.Logger]) -> None:
    stream, log = capture
    setup_logging("info", "json", stream)
    log.warning("event=y option=%s hint=set %s in the environment instead", "--x", "WALSTREAM_X")
    doc = json.loads(lines(stream)[0])
    assert doc["option"] == "--x"
    assert doc["hint"] == "set WALSTREAM_X in the environment instead"


def test_a_message_that_is_not_key_value_is_kept_whole(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    setup_logging("info", "json", stream)
    log.info("plain words %s and 100%% done", "with spaces")
    log.info("event=z a=%s", "one", "surplus")  # arguments that do not fit: logged, not raised
    first, second = (json.loads(line) for line in lines(stream))
    assert first["msg"] == "plain words with spaces and 100% done"
    assert second["msg"] == "event=z a=%s ('one', 'surplus')"


def test_reserved_names_do_not_overwrite_the_envelope(
    capture: tuple[io.StringIO, logging.Logger],
) -> None:
    stream, log = capture
    setup_logging("info", "json", stream)
    log.info("event=w level=%s msg=%s", "high", "hello")
    doc = json.loads(lines(stream)[0])
    assert doc["level"] == "info" and doc["field_level"] == "high" and doc["field_msg"] == "hello"


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_secrets_are_redacted_in_fields_and_in_collapsed_records(
    capture: tuple[io.StringIO, logging.Logger], fmt: str
) -> None:
    stream, log = capture
    register_secret("tok-3f9a2b7c1d")
    setup_logging("info", fmt, stream)
    log.info("event=a dsn=%s token=%s", "host=h password=pw-0451", "tok-3f9a2b7c1d")
    log.info("event=b password=%s", "pw-0451")  # only the rendered line shows it is one
    out = stream.getvalue()
    assert "pw-0451" not in out and "tok-3f9a2b7c1d" not in out
    assert out.count("***") >= 3
    if fmt == "json":
        first = json.loads(lines(stream)[0])
        assert first["event"] == "a" and first["token"] == "***"


def test_event_fields_pairs_placeholders_with_arguments() -> None:
    record = logging.LogRecord(
        "walstream.x", 20, __file__, 1, "event=e a=%s b=%d%%", ("x", 5), None
    )
    assert event_fields(record) == ({"event": "e", "a": "x", "b": "5%"}, "")
    record = logging.LogRecord("walstream.x", 20, __file__, 1, "event=e a=%s", ("x", 5), None)
    assert event_fields(record) is None


def events_in_code() -> set[str]:
    found = set()
    for path in (ROOT / "walstream").rglob("*.py"):
        found |= set(re.findall(r'"event=([a-z0-9_]+)', path.read_text()))
    return found - {"name"}  # logs.py's docstring example


def test_docs_list_every_event_and_no_other() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("## Log events", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, re.M))
    assert documented == events_in_code()
