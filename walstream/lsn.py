"""PostgreSQL log sequence numbers: parse ``'16/B374D848'`` and format them back.

An LSN is a 64-bit byte position in the WAL; we keep it as ``int`` everywhere and only turn it
into text at the edges (SQL, logs, file names).
"""

from __future__ import annotations

from .errors import ConfigError

MAX_LSN = (1 << 64) - 1


def parse_lsn(text: str) -> int:
    """Parse PostgreSQL's ``X/Y`` LSN notation into an int."""
    try:
        hi, lo = text.strip().split("/")
        value = (int(hi, 16) << 32) | int(lo, 16)
    except ValueError:
        raise ConfigError(f"invalid LSN {text!r}: expected the form 16/B374D848") from None
    if not 0 <= value <= MAX_LSN:
        raise ConfigError(f"invalid LSN {text!r}: out of range")
    return value


def format_lsn(value: int) -> str:
    """Format an int LSN as PostgreSQL does (``16/B374D848``)."""
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
