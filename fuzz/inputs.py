"""How one fuzz input (a flat byte string) is cut into the several messages or values a harness
feeds to walstream.

libFuzzer and atheris mutate a single ``bytes``; the code under test wants a *sequence* (a
stream of pgoutput messages, a column of values). Every harness reads its input the same way so
that a crashing input is easy to read and the seed writer (:mod:`fuzz.seeds`) can build inputs:

- a chunk is a length byte ``L`` then ``L`` bytes, for ``L`` in 0..253;
- ``L == 0xFE``: a two-byte big-endian length follows (values up to 64 KiB);
- ``L == 0xFF``: the chunk is ``None`` (an SQL NULL for the converter harness);
- a chunk whose declared length runs past the end takes what is left: every input decodes,
  so the fuzzer never wastes executions on inputs the harness itself rejects.

The same functions serve the fuzzers, the seed writer and ``tests/test_fuzz_harness.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

NULL = 0xFF
LONG = 0xFE


def split_chunks(data: bytes) -> Iterator[bytes | None]:
    """The chunks of ``data`` (see the module docstring), in order."""
    pos = 0
    end = len(data)
    while pos < end:
        length = data[pos]
        pos += 1
        if length == NULL:
            yield None
            continue
        if length == LONG:
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        yield data[pos : pos + length]
        pos += length


def join_chunks(chunks: Iterable[bytes | None]) -> bytes:
    """The inverse of :func:`split_chunks`: ``split_chunks(join_chunks(c)) == c``."""
    out = bytearray()
    for chunk in chunks:
        if chunk is None:
            out.append(NULL)
        elif len(chunk) < LONG:
            out.append(len(chunk))
            out += chunk
        else:
            if len(chunk) > 0xFFFF:
                raise ValueError(f"a chunk holds at most 65535 bytes, not {len(chunk)}")
            out.append(LONG)
            out += len(chunk).to_bytes(2, "big")
            out += chunk
    return bytes(out)
