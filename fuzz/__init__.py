"""Coverage-guided fuzzing of walstream's hostile-input boundaries (atheris / libFuzzer).

walstream parses bytes it does not control: the replication stream's frames, the pgoutput
messages inside them, and the column values inside those. Each boundary has a harness here
whose ``TestOneInput(data: bytes)`` feeds one fuzz input to the real code and lets only
walstream's own typed errors (``WalstreamError`` subclasses) pass; any other exception, or a
broken invariant of the result, is a finding:

- :mod:`fuzz.fuzz_pgoutput`: ``PgOutputDecoder.decode`` over message sequences, v1 to v4;
- :mod:`fuzz.fuzz_convert`: ``ColumnConverter`` of every mapped type, text and binary;
- :mod:`fuzz.fuzz_replication`: the read loop's ``frames()`` (XLogData / keepalive framing);
- :mod:`fuzz.fuzz_tuples`: ``TupleColumns``, the columnar TupleData parser of a batch, against
  the message decoder.

``python -m fuzz`` runs them under atheris (``pip install -e '.[fuzz]'``), regenerates the
seed corpus and replays inputs; ``tests/test_fuzz_harness.py`` runs the harnesses without
atheris over the corpus and random inputs so they keep working. See ``fuzz/README.md``.
"""

HARNESSES = ("pgoutput", "convert", "replication", "tuples")
