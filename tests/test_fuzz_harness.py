"""The atheris fuzz harnesses of ``fuzz/`` run without atheris, so they cannot rot in CI.

Each harness's ``TestOneInput`` is called directly on its committed corpus (real pgoutput
messages, frames and column values from PostgreSQL, plus the inputs of fixed findings) and on a
few thousand inputs derived from it by cheap deterministic mutations (byte flips, cuts,
insertions, splices) and plain random bytes. A harness lets only walstream's typed errors pass,
so a failure here is either a regression of a fuzz finding or a harness that no longer matches
the code it drives. Findings that are not fixed yet (``fuzz/known.py``) have their inputs in
``fuzz/findings/NAME/``, run as xfail (not strict: fixing one turns it into a pass); a mutant
that fails with a recorded finding's signature is counted, not failed, so only new failures
fail the test.

The real fuzz run is ``fuzz/run.sh`` (see fuzz/README.md); this test takes a few seconds.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fuzz import HARNESSES
from fuzz.inputs import join_chunks, split_chunks
from fuzz.known import OPEN, known

FUZZ_DIR = Path(__file__).resolve().parent.parent / "fuzz"
MUTANTS = {"pgoutput": 8000, "convert": 6000, "replication": 6000, "tuples": 4000}
# The harness of a module that a checkout may not have yet (the columnar parser is new).
NEEDS = {"tuples": "walstream.capture.columns"}


def harness(name: str) -> Callable[[bytes], None]:
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    module = importlib.import_module(f"fuzz.fuzz_{name}")
    return module.TestOneInput  # type: ignore[no-any-return]


def corpus(name: str) -> list[Path]:
    return sorted(p for p in (FUZZ_DIR / "corpus" / name).iterdir() if p.is_file())


def mutants(seeds: list[bytes], count: int, rng: random.Random) -> Iterator[bytes]:
    """Derived inputs: mostly seeds with a few edits, some spliced, some random."""
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1:
            yield rng.randbytes(rng.randrange(64))
            continue
        buf = bytearray(rng.choice(seeds))
        if roll < 0.25:  # splice two seeds: message sequences the captures never had
            other = rng.choice(seeds)
            buf[rng.randrange(len(buf) + 1) :] = other[rng.randrange(len(other) + 1) :]
        for _ in range(rng.randrange(1, 5)):
            where = rng.randrange(len(buf) + 1)
            edit = rng.randrange(5)
            if edit == 0 and buf:
                buf[min(where, len(buf) - 1)] = rng.randrange(256)
            elif edit == 1:
                del buf[where:]
            elif edit == 2:
                buf[where:where] = rng.randbytes(rng.randrange(1, 9))
            elif edit == 3:
                del buf[where : where + rng.randrange(1, 9)]
            elif buf:  # an interesting integer: lengths and counts at their limits
                value = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 2**32 - 1])
                size = rng.choice([1, 2, 4])
                buf[where : where + size] = (value % (1 << (8 * size))).to_bytes(size, "big")
        yield bytes(buf)


def test_chunk_framing_round_trips() -> None:
    chunks: list[bytes | None] = [b"", None, b"x" * 253, b"y" * 254, b"z" * 65_535, b"\xff"]
    assert list(split_chunks(join_chunks(chunks))) == chunks
    assert list(split_chunks(b"\x05ab")) == [b"ab"]  # a declared length past the end: the rest


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_accepts_its_whole_corpus(name: str) -> None:
    files = corpus(name)
    assert len(files) >= 10, f"fuzz/corpus/{name} is nearly empty: run python -m fuzz seeds"
    test_one_input = harness(name)
    for path in files:
        test_one_input(path.read_bytes())


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_survives_mutated_and_random_inputs(name: str) -> None:
    test_one_input = harness(name)
    seeds = [p.read_bytes() for p in corpus(name)]
    rng = random.Random(f"walstream-fuzz-{name}")
    for data in mutants(seeds, MUTANTS[name], rng):
        try:
            test_one_input(data)
        except Exception as exc:
            if known(name, exc) is None:
                raise AssertionError(f"{name} harness failed on input {data.hex()}") from exc


def _findings() -> list[tuple[str, Path]]:
    root = FUZZ_DIR / "findings"
    if not root.is_dir():
        return []
    return [(d.name, p) for d in sorted(root.iterdir()) for p in sorted(d.iterdir())]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        pytest.param(
            name,
            path,
            marks=pytest.mark.xfail(
                strict=False,
                reason=OPEN[path.name].summary if path.name in OPEN else "open fuzz finding",
            ),
            id=f"{name}/{path.name}",
        )
        for name, path in _findings()
    ]
    or [pytest.param(None, None, marks=pytest.mark.skip(reason="no open finding"))],
)
def test_open_finding_no_longer_crashes(name: str, path: Path) -> None:
    harness(name)(path.read_bytes())


def test_every_open_finding_has_its_input() -> None:
    recorded = {(name, path.name) for name, path in _findings()}
    assert {(f.harness, name) for name, f in OPEN.items()} == recorded
