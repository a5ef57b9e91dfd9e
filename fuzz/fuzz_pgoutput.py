"""Fuzz harness: :class:`walstream.pg.pgoutput.PgOutputDecoder` on hostile message streams.

The decoder is the first code that touches bytes from the server. Its contract (module
docstring of :mod:`walstream.pg.pgoutput`) is that any input either decodes to a message or
raises :class:`~walstream.errors.ProtocolError`. This harness holds it to that over *sequences*
of messages, because the decoder has state (inside a Stream Start..Stop block a change carries
a leading xid), and checks what a decoded message promises:

- the message class matches the type byte, and the type exists in the protocol version;
- Stream Start enters a stream block, Stream Stop leaves it, nothing else (and no failed
  message) changes the state;
- a change or Relation/Type/Truncate/Message carries an xid exactly inside a stream block;
- a TupleData has one kind per value, kinds are ``n``/``u``/``t``/``b``, and only ``t``/``b``
  have a value.

Input layout: byte 0 picks the protocol version (``1 + (b & 3)``); the rest is chunks
(:mod:`fuzz.inputs`), each one pgoutput message; a NULL chunk calls ``reset()`` (what the
runner does after a reconnect). Anything else escaping is a finding.

Run: ``python -m fuzz run pgoutput`` (atheris) or import :func:`TestOneInput` (tests).
"""

from __future__ import annotations

import itertools

from walstream.errors import ProtocolError
from walstream.pg import pgoutput as po

from .inputs import split_chunks

MAX_MESSAGES = 64

_CLASS_OF_TYPE: dict[int, tuple[type[po.Message], ...]] = {
    ord("B"): (po.Begin,),
    ord("C"): (po.Commit,),
    ord("O"): (po.Origin,),
    ord("R"): (po.Relation,),
    ord("Y"): (po.TypeInfo,),
    ord("I"): (po.Insert,),
    ord("U"): (po.Update,),
    ord("D"): (po.Delete,),
    ord("T"): (po.Truncate,),
    ord("M"): (po.LogicalMessage,),
    ord("S"): (po.StreamStart,),
    ord("E"): (po.StreamStop,),
    ord("c"): (po.StreamCommit,),
    ord("A"): (po.StreamAbort,),
    ord("b"): (po.BeginPrepare,),
    ord("P"): (po.Prepare,),
    ord("K"): (po.CommitPrepared,),
    ord("r"): (po.RollbackPrepared,),
    ord("p"): (po.StreamPrepare,),
}
_SINCE = {ord(c): 2 for c in "SEcA"} | {ord(c): 3 for c in "bPKrp"}
_XID_CARRIERS = (
    po.Relation,
    po.TypeInfo,
    po.Insert,
    po.Update,
    po.Delete,
    po.Truncate,
    po.LogicalMessage,
)
_KINDS = frozenset(b"ntub")


def _check_tuple(tup: po.TupleData) -> None:
    assert len(tup.kinds) == len(tup.values), "one kind per value"
    for kind, value in zip(tup.kinds, tup.values, strict=True):
        assert kind in _KINDS, f"unknown tuple kind {kind!r} decoded"
        assert (value is not None) == (kind in b"tb"), "only 't'/'b' columns carry a value"


def _check(message: po.Message, data: bytes, proto: int, was_in_stream: bool) -> None:
    code = data[0]
    assert isinstance(message, _CLASS_OF_TYPE[code]), f"{code:#x} decoded as {message!r}"
    assert _SINCE.get(code, 1) <= proto, f"{code:#x} decoded under proto_version {proto}"
    if isinstance(message, _XID_CARRIERS):
        assert (message.xid is not None) == was_in_stream, "xid present iff in a stream block"
    if isinstance(message, po.Insert):
        _check_tuple(message.new)
    elif isinstance(message, po.Update):
        _check_tuple(message.new)
        assert (message.old is None) == (message.old_kind is None)
        if message.old is not None:
            _check_tuple(message.old)
    elif isinstance(message, po.Delete):
        _check_tuple(message.old)
        assert message.old_kind in ("K", "O")
    elif isinstance(message, po.Relation):
        assert message.replica_identity in ("d", "n", "f", "i")
    elif isinstance(message, po.StreamAbort) and proto < 4:
        assert message.abort_lsn is None and message.abort_ts_us is None


def TestOneInput(data: bytes) -> None:
    """One fuzz input: decode its messages in order; only ProtocolError may escape decode()."""
    if not data:
        return
    proto = 1 + (data[0] & 3)
    decoder = po.PgOutputDecoder(proto_version=proto)
    for chunk in itertools.islice(split_chunks(data[1:]), MAX_MESSAGES):
        if chunk is None:
            decoder.reset()
            assert not decoder.in_stream
            continue
        was_in_stream = decoder.in_stream
        try:
            message = decoder.decode(chunk)
        except ProtocolError:
            assert decoder.in_stream == was_in_stream, "a rejected message changed the state"
            continue
        _check(message, chunk, proto, was_in_stream)
        if isinstance(message, po.StreamStart):
            assert decoder.in_stream, "Stream Start did not enter the stream block"
        elif isinstance(message, po.StreamStop):
            assert not decoder.in_stream, "Stream Stop did not leave the stream block"
        else:
            assert decoder.in_stream == was_in_stream, f"{message!r} changed the stream state"
        # The memoryview path of decode() (what the replication stream hands over) must agree.
        if not isinstance(message, po.StreamStart | po.StreamStop):
            assert decoder.decode(memoryview(chunk)) == message
