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
    "numeric-int64-path-ignores-dscale": Finding(
        "convert",
        "AssertionError",
        r"^ColumnConverter\((numeric\(\d+,-?\d+\)|public\.price) -> decimal128"
        r".*(binary and text differ|binary values convert but their text)",
        "walstream/convert/binary.py numeric(): the vectorised int64 path for numeric(p<=18,s) "
        "ignores the value's display scale (dscale), which the per-value path and PostgreSQL's "
        "numeric_out honour: digits past dscale are kept (numeric(2,5) digits 0.00099 sent with "
        "dscale 4 give 0.00099; the text of the same value, '0.0009', gives 0.00090) and a "
        "dscale past s is accepted where the other paths refuse it",
    ),
}
# Fixed (inputs now in fuzz/corpus/*/regress-*, see fuzz/README.md): convert
# binary-time-negative, binary-time-past-midnight, text-date-beyond-int32, float-text-drops-sign,
# binary-date-wraps, numeric-long-text; tuples zero-columns-trailing-bytes; replication
# truncated frames.


def known(harness: str, exc: BaseException) -> str | None:
    """The name of the open finding ``exc`` is an instance of, if any."""
    for name, finding in OPEN.items():
        if finding.matches(harness, exc):
            return name
    return None
