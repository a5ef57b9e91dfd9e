"""Oracle expressions over ``x`` (a value, or each element of an array), computed by PostgreSQL:
what the Arrow (and FINAL) value must equal. The infinity, out-of-range and 24:00 cases spell
out the documented nearest value (DESIGN.md §4). Shared by the converter and type zoo tests.
"""

from __future__ import annotations

from walstream.convert.datetimes import (
    DATE_MAX_DAYS,
    DATE_MIN_DAYS,
    TIMESTAMP_MAX_US,
    TIMESTAMP_MIN_US,
    USECS_PER_DAY,
)

NATIVE = "x"
FLOAT = "x::float8"
# dates and timestamps outside 0001-01-01 .. 9999-12-31 (and infinity) go to the nearest end
DATE_DAYS = (
    f"CASE WHEN x = 'infinity' THEN {DATE_MAX_DAYS} WHEN x = '-infinity' THEN {DATE_MIN_DAYS}"
    f" WHEN x IS NOT NULL THEN LEAST(GREATEST(x - date '1970-01-01', {DATE_MIN_DAYS}),"
    f" {DATE_MAX_DAYS}) END"
)
TS_US = (
    f"CASE WHEN x = 'infinity' THEN {TIMESTAMP_MAX_US} WHEN x = '-infinity' THEN"
    f" {TIMESTAMP_MIN_US} WHEN x IS NOT NULL THEN LEAST(GREATEST(extract(epoch FROM x) * 1000000,"
    f" {TIMESTAMP_MIN_US}), {TIMESTAMP_MAX_US})::int8 END"
)
TIME_US = (
    "CASE WHEN x IS NOT NULL THEN"
    f" LEAST((extract(epoch FROM x) * 1000000)::int8, {USECS_PER_DAY - 1}) END"
)
