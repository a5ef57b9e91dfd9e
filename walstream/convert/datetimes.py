"""Dates and times the way PostgreSQL counts and prints them, beyond Python's ``datetime``.

PostgreSQL's date/time values span 4713 BC to 294276 AD (dates to 5874897 AD) and include
``infinity``; Python's ``datetime`` stops at 1..9999. So the calendar here is integer
arithmetic on the proleptic Gregorian calendar with astronomical year numbering (year 0 is
1 BC, which PostgreSQL prints as ``0001 BC``).

Two directions:

- text -> Arrow integers for the values the vectorized text path leaves over (BC, years past
  9999, ``infinity``): :func:`parse_date`, :func:`parse_timestamp`;
- binary -> PostgreSQL's text output, for types that are strings in Arrow (``timetz``,
  ``interval``) and for range bounds: :func:`date_text`, :func:`timestamp_text`, ...

Text formats assume the session settings of the replication connection: ``DateStyle=ISO``,
``IntervalStyle=postgres``, ``TimeZone=UTC``.

The storable range: Arrow has no infinite date or timestamp and Snowflake none either, and
Snowflake supports years 0001 to 9999 (it recommends 1582 and later for its own calendar
functions; the values themselves are proleptic Gregorian in PostgreSQL, Parquet and Snowflake
alike, so earlier years are still exact). So ``infinity`` / ``-infinity`` and every value
outside 0001-01-01 .. 9999-12-31 23:59:59.999999 (BC dates, years past 9999) become the nearest
end of that range, and the parsers say which kind of loss it was (the caller marks the row).
"""

from __future__ import annotations

import re

from .context import LOSSY_INFINITY, LOSSY_OUT_OF_RANGE

USECS_PER_SEC = 1_000_000
USECS_PER_MINUTE = 60 * USECS_PER_SEC
USECS_PER_HOUR = 60 * USECS_PER_MINUTE
USECS_PER_DAY = 24 * USECS_PER_HOUR

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (astronomical year)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day count since 1970-01-01 (astronomical year)."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


# PostgreSQL counts from 2000-01-01 (binary format), Arrow from 1970-01-01.
PG_EPOCH_DAYS = days_from_civil(2000, 1, 1)  # 10957
PG_EPOCH_US = PG_EPOCH_DAYS * USECS_PER_DAY

# The storable range and where infinity goes (see the module docstring), in Arrow units.
DATE_MAX_DAYS = days_from_civil(9999, 12, 31)
DATE_MIN_DAYS = days_from_civil(1, 1, 1)
TIMESTAMP_MAX_US = DATE_MAX_DAYS * USECS_PER_DAY + USECS_PER_DAY - 1
TIMESTAMP_MIN_US = DATE_MIN_DAYS * USECS_PER_DAY

# Binary sentinels (DATEVAL_NOBEGIN/NOEND, DT_NOBEGIN/NOEND)
DATE_NEG_INFINITY, DATE_POS_INFINITY = INT32_MIN, INT32_MAX
TIMESTAMP_NEG_INFINITY, TIMESTAMP_POS_INFINITY = INT64_MIN, INT64_MAX


# -- text -> Arrow integers (the slow path for irregular values) -------------------------------

_DATE_RE = re.compile(r"(\d{4,})-(\d\d)-(\d\d)( BC)?")
_TIMESTAMP_RE = re.compile(
    r"(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r"(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?( BC)?"
)


def _year(digits: str, bc: str | None) -> int:
    year = int(digits)
    return 1 - year if bc else year


def clamp(value: int, low: int, high: int) -> tuple[int, str | None]:
    """``value`` within [low, high], and LOSSY_OUT_OF_RANGE when it had to move."""
    if value < low:
        return low, LOSSY_OUT_OF_RANGE
    if value > high:
        return high, LOSSY_OUT_OF_RANGE
    return value, None


def parse_date(text: str) -> tuple[int, str | None]:
    """(days since 1970, kind of loss or None) of PostgreSQL's ISO date output, within the
    storable range; ValueError if malformed."""
    if text == "infinity":
        return DATE_MAX_DAYS, LOSSY_INFINITY
    if text == "-infinity":
        return DATE_MIN_DAYS, LOSSY_INFINITY
    m = _DATE_RE.fullmatch(text)
    if m is None:
        raise ValueError("not an ISO date")
    days = days_from_civil(_year(m[1], m[4]), int(m[2]), int(m[3]))
    return clamp(days, DATE_MIN_DAYS, DATE_MAX_DAYS)


def parse_timestamp(text: str) -> tuple[int, str | None]:
    """(microseconds since 1970 UTC, kind of loss or None) of ISO timestamp[tz] output, within
    the storable range; ValueError if malformed."""
    if text == "infinity":
        return TIMESTAMP_MAX_US, LOSSY_INFINITY
    if text == "-infinity":
        return TIMESTAMP_MIN_US, LOSSY_INFINITY
    m = _TIMESTAMP_RE.fullmatch(text)
    if m is None:
        raise ValueError("not an ISO timestamp")
    days = days_from_civil(_year(m[1], m[12]), int(m[2]), int(m[3]))
    seconds = int(m[4]) * 3600 + int(m[5]) * 60 + int(m[6])
    fraction = int((m[7] or "").ljust(6, "0"))
    us = days * USECS_PER_DAY + seconds * USECS_PER_SEC + fraction
    if m[8]:
        offset = int(m[9]) * 3600 + int(m[10] or 0) * 60 + int(m[11] or 0)
        us -= (offset if m[8] == "+" else -offset) * USECS_PER_SEC
    return clamp(us, TIMESTAMP_MIN_US, TIMESTAMP_MAX_US)


# -- binary -> PostgreSQL text --------------------------------------------------------------


def _ymd(days_since_1970: int) -> tuple[str, bool]:
    year, month, day = civil_from_days(days_since_1970)
    bc = year <= 0
    return f"{1 - year if bc else year:04d}-{month:02d}-{day:02d}", bc


def seconds_text(seconds: int, usec: int) -> str:
    """PostgreSQL's AppendSeconds: two digits, then the fraction without trailing zeros."""
    if usec:
        return f"{seconds:02d}." + f"{usec:06d}".rstrip("0")
    return f"{seconds:02d}"


def date_text(pg_days: int) -> str:
    """date_out of a binary date (days since 2000-01-01)."""
    if pg_days == DATE_POS_INFINITY:
        return "infinity"
    if pg_days == DATE_NEG_INFINITY:
        return "-infinity"
    ymd, bc = _ymd(pg_days + PG_EPOCH_DAYS)
    return ymd + " BC" if bc else ymd


def time_text(us: int) -> str:
    """time_out of microseconds since midnight (24:00:00 allowed)."""
    hours, rest = divmod(us, USECS_PER_HOUR)
    minutes, rest = divmod(rest, USECS_PER_MINUTE)
    seconds, usec = divmod(rest, USECS_PER_SEC)
    return f"{hours:02d}:{minutes:02d}:" + seconds_text(seconds, usec)


def zone_text(seconds_west: int) -> str:
    """EncodeTimezone: ``+05:30``, ``-03``, ``+05:30:17`` (the stored zone is seconds west)."""
    sign = "+" if seconds_west <= 0 else "-"
    minutes, seconds = divmod(abs(seconds_west), 60)
    hours, minutes = divmod(minutes, 60)
    if seconds:
        return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
    if minutes:
        return f"{sign}{hours:02d}:{minutes:02d}"
    return f"{sign}{hours:02d}"


def timetz_text(us: int, seconds_west: int) -> str:
    return time_text(us) + zone_text(seconds_west)


def timestamp_text(pg_us: int, with_zone: bool) -> str:
    """timestamp_out / timestamptz_out (TimeZone=UTC) of microseconds since 2000-01-01."""
    if pg_us == TIMESTAMP_POS_INFINITY:
        return "infinity"
    if pg_us == TIMESTAMP_NEG_INFINITY:
        return "-infinity"
    days, us = divmod(pg_us, USECS_PER_DAY)
    ymd, bc = _ymd(days + PG_EPOCH_DAYS)
    text = f"{ymd} {time_text(us)}"
    if with_zone:
        text += "+00"
    return text + " BC" if bc else text


def _c_divmod(value: int, divisor: int) -> tuple[int, int]:
    """C integer division: the quotient truncates toward zero, the remainder takes the sign."""
    quotient = abs(value) // divisor
    if value < 0:
        quotient = -quotient
    return quotient, value - quotient * divisor


def interval_text(us: int, days: int, months: int) -> str:
    """interval_out with IntervalStyle=postgres, e.g. ``1 year 2 mons 3 days 04:05:06.789``."""
    if us == INT64_MAX and days == INT32_MAX and months == INT32_MAX:
        return "infinity"
    if us == INT64_MIN and days == INT32_MIN and months == INT32_MIN:
        return "-infinity"
    years, months = _c_divmod(months, 12)
    hours, rest = _c_divmod(us, USECS_PER_HOUR)
    minutes, rest = _c_divmod(rest, USECS_PER_MINUTE)
    seconds, usec = _c_divmod(rest, USECS_PER_SEC)

    parts: list[str] = []
    is_before = False  # the previous field was negative: a positive one gets a '+'
    for value, unit in ((years, "year"), (months, "mon"), (days, "day")):
        if value == 0:
            continue
        plus = "+" if is_before and value > 0 else ""
        parts.append(f"{plus}{value} {unit}{'' if value == 1 else 's'}")
        is_before = value < 0
    if not parts or hours or minutes or seconds or usec:
        minus = hours < 0 or minutes < 0 or seconds < 0 or usec < 0
        sign = "-" if minus else ("+" if is_before else "")
        parts.append(
            f"{sign}{abs(hours):02d}:{abs(minutes):02d}:" + seconds_text(abs(seconds), abs(usec))
        )
    return " ".join(parts)
