"""Where fakesnow's translation of Snowflake SQL falls short of Snowflake, for the generated SQL.

Snowflake accepts ``BINARY(67108864)`` (the documented maximum, 64 MB; DESIGN.md §4 declares
every BINARY column with it), but fakesnow turns it into DuckDB's ``BLOB(67108864)``, which
DuckDB refuses ("BLOB does not take any type parameters"). DuckDB's BLOB has no length limit, so
dropping the length here changes nothing the tests can observe.

``ARRAY_CONTAINS('name'::VARIANT, arr)`` (Snowflake: true when the ARRAY holds the value) fails
in fakesnow, which keeps ARRAY columns as DuckDB JSON and binds list functions to them; the
same test is DuckDB's ``JSON_CONTAINS(arr, '"name"')`` (the JSON array holds that JSON string),
which is what Snowflake's documentation says ARRAY_CONTAINS does.

Installed once, from conftest.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

_BINARY_LENGTH = re.compile(r"\bBINARY\s*\(\s*\d+\s*\)", re.IGNORECASE)
_ARRAY_CONTAINS = re.compile(
    r"ARRAY_CONTAINS\('((?:[^'\\]|''|\\.)*)'::VARIANT, ([A-Za-z0-9_.\"]+)\)"
)


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


def _json_contains(m: re.Match[str]) -> str:
    name = re.sub(r"''|\\(.)", lambda e: "'" if e[0] == "''" else e[1], m[1])
    return f"JSON_CONTAINS({m[2]}, {_literal(json.dumps(name, ensure_ascii=False))})"


def translate(command: str) -> str:
    """The Snowflake ``command`` as fakesnow can run it (see the module docstring)."""
    return _ARRAY_CONTAINS.sub(_json_contains, _BINARY_LENGTH.sub("BINARY", command))


def install() -> None:
    from fakesnow.cursor import FakeSnowflakeCursor

    execute = FakeSnowflakeCursor.execute
    if getattr(execute, "_walstream_compat", False):
        return

    @functools.wraps(execute)
    def patched(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        return execute(self, translate(command), *args, **kwargs)

    patched._walstream_compat = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = patched  # type: ignore[method-assign]
