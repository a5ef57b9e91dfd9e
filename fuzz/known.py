"""Fuzz findings that are recorded but not fixed yet, so a long run can go past them.

libFuzzer stops at the first crash, and atheris cannot fork-and-continue. Once a finding is
written down (its input in ``fuzz/findings/HARNESS/NAME``, an xfail test in
``tests/test_fuzz_harness.py``, the reproducer in ``fuzz/README.md``), a run started with
``python -m fuzz run HARNESS --ignore-known ...`` treats any failure matching the finding's
signature (exception type and message pattern) as already reported and keeps searching for new
ones. The harnesses themselves stay strict, and so do ``python -m fuzz replay`` and the corpus
tests; ``tests/test_fuzz_harness.py`` ignores the signatures only for its random mutants, and
runs each finding's input as an xfail test.

Remove an entry when its bug is fixed (and move its input to ``fuzz/corpus/HARNESS/`` as a
``regress-*`` seed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    harness: str
    exception: str  # the class name of the exception the harness lets escape
    pattern: str  # a regular expression its message matches
    summary: str  # one line: what is wrong, where

    def matches(self, harness: str, exc: BaseException) -> bool:
        return (
            harness == self.harness
            and type(exc).__name__ == self.exception
            and re.search(self.pattern, str(exc)) is not None
        )


# name (= file name in fuzz/findings/HARNESS/) -> finding
OPEN: dict[str, Finding] = {
    "binary-time-negative": Finding(
        "convert",
        "ArrowInvalid",
        r"^time64\[us\] -\d+ is not within the acceptable range",
        "walstream/convert/binary.py time(): a negative binary time (int64 microseconds) "
        "becomes an out-of-range time64 value (an invalid Arrow array) instead of a "
        "TypeConversionError; only values past 24:00 are checked",
    ),
    "binary-time-past-midnight": Finding(
        "convert",
        "AssertionError",
        r"^ColumnConverter\(time -> .*binary values convert but their text .*invalid time",
        "walstream/convert/binary.py time(): a binary time past 24:00:00 (e.g. 166:53:07) is "
        "clamped to 23:59:59.999999 and counted as a 24:00:00 clamp, while the text decoder "
        "rejects the same value; PostgreSQL never sends it, so it should be a "
        "TypeConversionError",
    ),
    "text-date-beyond-int32": Finding(
        "convert",
        "OverflowError",
        r"out of bounds for int32",
        "walstream/convert/text.py date() / datetimes.parse_date(): a text date whose day "
        "count does not fit int32 (e.g. '7874897-12-31', past PostgreSQL's 5874897 AD) "
        "escapes as OverflowError from _patch instead of a TypeConversionError",
    ),
    "zero-columns-trailing-bytes": Finding(
        "tuples",
        "AssertionError",
        r"accepted a row that the message decoder rejects \(relation of 0 columns\)",
        "walstream/pg/tuples.py TupleColumns: for a relation of 0 columns the trailing-bytes "
        "check (done after the last column) never runs, so a row b'\\x00\\x00junk' is "
        "accepted; the message decoder rejects it",
    ),
}


def known(harness: str, exc: BaseException) -> str | None:
    """The name of the open finding ``exc`` is an instance of, if any."""
    for name, finding in OPEN.items():
        if finding.matches(harness, exc):
            return name
    return None
