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
    "binary-date-wraps": Finding(
        "convert",
        "AssertionError",
        r"^ColumnConverter\(date -> .*binary values convert but their text .*outside the range",
        "walstream/convert/binary.py date(): a binary date past date32 (e.g. 0x7fffefff days "
        "after 2000-01-01, i.e. 5881599-04-24) wraps around in astype(int32) and is written as "
        "a date millions of years BC, while the text decoder rejects the same date",
    ),
    "float-text-drops-sign": Finding(
        "convert",
        "AssertionError",
        r"^ColumnConverter\(float[48] -> .*binary and text differ",
        "walstream/convert/formats.py _float_text(): the sign is read from "
        "Decimal(repr(abs(value))), so every negative float4/float8 prints without its '-'; "
        "silent data change wherever the binary format goes through the printer: bounds of "
        "binary ranges over float types ([-1.5,2.5) is written as [1.5,2.5))",
    ),
    "numeric-long-fraction-becomes-zero": Finding(
        "convert",
        "AssertionError",
        r"^ColumnConverter\((numeric\(\d+,-?\d+\)|public\.price) -> decimal128"
        r".*(binary and text differ|binary values convert but their text|: text b'.*' became)",
        "walstream/convert/text.py decimal(): pyarrow 26's string -> decimal128 cast turns a "
        "value with more than 38 digits (e.g. numeric(10,2) '12345678.9' + 40 zeros, or a "
        "binary numeric with a large display scale) into 0.00 without an error (sometimes "
        "'Rescaling ... data loss'); the text is not checked against numeric(p,s)'s shape "
        "first",
    ),
}
# Fixed (inputs now in fuzz/corpus/*/regress-*, see fuzz/README.md): convert
# binary-time-negative, binary-time-past-midnight, text-date-beyond-int32; tuples
# zero-columns-trailing-bytes; replication truncated frames.


def known(harness: str, exc: BaseException) -> str | None:
    """The name of the open finding ``exc`` is an instance of, if any."""
    for name, finding in OPEN.items():
        if finding.matches(harness, exc):
            return name
    return None
