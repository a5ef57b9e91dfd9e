"""Where fakesnow's translation of Snowflake SQL falls short of Snowflake, for the generated SQL.

Snowflake accepts ``BINARY(67108864)`` (the documented maximum, 64 MB; DESIGN.md §4 declares
every BINARY column with it), but fakesnow turns it into DuckDB's ``BLOB(67108864)``, which
DuckDB refuses ("BLOB does not take any type parameters"). DuckDB's BLOB has no length limit, so
dropping the length here changes nothing the tests can observe.

``ARRAY_CONTAINS('name'::VARIANT, arr)`` (Snowflake: true when the ARRAY holds the value) fails
in fakesnow, which keeps ARRAY columns as DuckDB JSON and binds list functions to them; the
same test is DuckDB's ``JSON_CONTAINS(arr, '"name"')`` (the JSON array holds that JSON string),
which is what Snowflake's documentation says ARRAY_CONTAINS does.

The checksums of ``walstream verify`` (walstream/verify/checksum.py) use Snowflake functions
fakesnow lacks or translates differently from Snowflake's documentation. Each is renamed here to
a ``WALSTREAM_*`` DuckDB macro that does what the documentation says, created on fakesnow's
DuckDB connection before the statement that uses it:

- ``MD5_NUMBER_UPPER64(msg)``: "the upper 64 bits of the [MD5] number as an unsigned integer",
  the digest read as a big-endian number (documented example: 'Snowflake' ->
  17145559544104499780, the first 16 hex digits of its MD5); fakesnow has no such function.
- ``TRANSFORM(array, lambda)`` on a semi-structured ARRAY column: "if the input array is
  semi-structured, the data type of the lambda argument is VARIANT"; fakesnow keeps ARRAY
  columns as DuckDB JSON, which DuckDB's list_transform refuses, so the column is read as a
  list of JSON values first.
- ``IS_OBJECT``, ``IS_VARCHAR``, ``IS_BOOLEAN`` ("true if the VARIANT holds an OBJECT / a string
  / a BOOLEAN") and ``AS_VARCHAR`` ("the string the VARIANT holds, else NULL", unquoted):
  missing from fakesnow.
- ``SUM`` of MD5 numbers: Snowflake sums NUMBER exactly (NUMBER(38,0)); fakesnow casts every
  SUM argument that is not a cast to DOUBLE (for VARCHAR arguments), which rounds 64-bit hashes.
  In a statement that hashes with MD5_NUMBER_UPPER64, a summed column is cast to NUMBER(20,0)
  (it holds any 64-bit hash; fakesnow would turn NUMBER(38,0) into a 64-bit signed BIGINT).
- ``<variant>::DATE`` (TIME, TIMESTAMP_NTZ, TIMESTAMP_TZ) of an ARRAY element: Snowflake casts a
  VARIANT holding a date or timestamp string to the type; fakesnow's DuckDB casts the JSON text,
  quotes included, and fails. The string is taken out of the element first.
- ``::NUMBER(38,0)``: 38 digits in Snowflake ("NUMBER ... up to 38 digits"); fakesnow narrows it
  to DuckDB's 64-bit BIGINT. Spelled ``NUMBER(38,00)``, which fakesnow leaves a DECIMAL(38,0).
- ``OBJECT_KEYS``: a VARIANT object never holds a key twice (PARSE_JSON with 'd' keeps "the last
  value" of a repeated key), but fakesnow stores the JSON text as written, repeats included; the
  keys are listed once each, as Snowflake lists them.

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


# name -> (DuckDB macro arguments, body): what each renamed function does (module docstring)
_MACROS = {
    "WALSTREAM_MD5_NUMBER_UPPER64": ("msg", "CAST('0x' || substr(md5(msg), 1, 16) AS UBIGINT)"),
    "WALSTREAM_JSON_LIST": ("arr", "CAST(arr AS JSON[])"),
    "WALSTREAM_IS_OBJECT": ("v", "json_type(v) = 'OBJECT'"),
    "WALSTREAM_IS_VARCHAR": ("v", "json_type(v) = 'VARCHAR'"),
    "WALSTREAM_IS_BOOLEAN": ("v", "json_type(v) = 'BOOLEAN'"),
    "WALSTREAM_AS_VARCHAR": (
        "v",
        "CASE WHEN json_type(v) = 'VARCHAR' THEN json_extract_string(v, '$') END",
    ),
    "WALSTREAM_OBJECT_KEYS": ("v", "to_json(list_distinct(json_keys(v)))"),
}
_RENAMED = re.compile(
    r"\b(MD5_NUMBER_UPPER64|IS_OBJECT|IS_VARCHAR|IS_BOOLEAN|AS_VARCHAR|OBJECT_KEYS)\(",
    re.IGNORECASE,
)
# the array of TRANSFORM is a (quoted) column name in the generated SQL
_TRANSFORM_COLUMN = re.compile(r'\bTRANSFORM\(((?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)), ')


# the lambda argument of the checksums' TRANSFORM (walstream/verify/checksum.py)
_ELEMENT_TO_TEMPORAL = re.compile(
    r"\b(walstream_e)::(DATE|TIME\(\d\)|TIMESTAMP_NTZ\(\d\)|TIMESTAMP_TZ\(\d\))"
)
_SUM_OF_COLUMN = re.compile(r"\bSUM\(([A-Za-z_][A-Za-z0-9_.]*)\)")


def translate(command: str) -> str:
    """The Snowflake ``command`` as fakesnow can run it (see the module docstring)."""
    command = _ARRAY_CONTAINS.sub(_json_contains, _BINARY_LENGTH.sub("BINARY", command))
    if "MD5_NUMBER_UPPER64(" in command:
        command = _SUM_OF_COLUMN.sub(r"SUM(\1::NUMBER(20,0))", command)
    command = command.replace("::NUMBER(38,0)", "::NUMBER(38,00)")
    command = _ELEMENT_TO_TEMPORAL.sub(r"AS_VARCHAR(\1)::\2", command)
    command = _RENAMED.sub(lambda m: f"WALSTREAM_{m[1].upper()}(", command)
    return _TRANSFORM_COLUMN.sub(r"TRANSFORM(WALSTREAM_JSON_LIST(\1), ", command)


def _create_macros(duck: Any, command: str) -> None:
    for name, (args, body) in _MACROS.items():
        if name in command:
            duck.execute(f"CREATE OR REPLACE TEMP MACRO {name}({args}) AS ({body})")


def install() -> None:
    from fakesnow.cursor import FakeSnowflakeCursor

    execute = FakeSnowflakeCursor.execute
    if getattr(execute, "_walstream_compat", False):
        return

    @functools.wraps(execute)
    def patched(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        command = translate(command)
        _create_macros(self._duck_conn, command)
        return execute(self, command, *args, **kwargs)

    patched._walstream_compat = True  # type: ignore[attr-defined]
    FakeSnowflakeCursor.execute = patched  # type: ignore[method-assign]
