"""``python -m fuzz``: run a harness under atheris, replay inputs, or rewrite the seed corpus.

    python -m fuzz run NAME [--ignore-known] [libFuzzer flags...]   # -max_total_time=300
    python -m fuzz replay NAME [FILE_OR_DIR...]     # no atheris needed; default: its corpus
    python -m fuzz seeds                            # rewrite fuzz/corpus/*/seed-*

``run`` instruments walstream (and the harness) for coverage *before* importing them, which is
why this module imports no walstream code at the top. New interesting inputs go to
``fuzz/.work/NAME/corpus`` (the committed seeds in ``fuzz/corpus/NAME`` are read, never
written), crashing inputs to ``fuzz/.work/NAME/crash-*``. ``--ignore-known`` lets the run go
past the recorded open findings of :mod:`fuzz.known` (see there).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from . import HARNESSES

FUZZ_DIR = Path(__file__).resolve().parent
CORPUS_DIR = FUZZ_DIR / "corpus"
FINDINGS_DIR = FUZZ_DIR / "findings"
WORK_DIR = FUZZ_DIR / ".work"

USAGE = __doc__ or ""


def _harness(name: str) -> ModuleType:
    if name not in HARNESSES:
        raise SystemExit(f"unknown harness {name!r}; choose one of {', '.join(HARNESSES)}")
    return importlib.import_module(f"fuzz.fuzz_{name}")


def run(name: str, flags: list[str]) -> None:
    try:
        import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise SystemExit("atheris is not installed: pip install -e '.[fuzz]'") from None
    if name not in HARNESSES:
        raise SystemExit(f"unknown harness {name!r}; choose one of {', '.join(HARNESSES)}")
    with atheris.instrument_imports(include=["walstream", "fuzz"]):
        harness = _harness(name)
    target: Callable[[bytes], None] = harness.TestOneInput
    if "--ignore-known" in flags:
        flags = [f for f in flags if f != "--ignore-known"]
        target = _ignoring_known(name, target)
    work = WORK_DIR / name
    (work / "corpus").mkdir(parents=True, exist_ok=True)
    dirs = [a for a in flags if not a.startswith("-")]
    if not dirs:  # new inputs go to the first directory: the work dir, not the seeds
        flags = [*flags, str(work / "corpus"), str(CORPUS_DIR / name)]
    if not any(a.startswith("-artifact_prefix=") for a in flags):
        flags.append(f"-artifact_prefix={work}/")
    atheris.Setup([f"fuzz-{name}", *flags], target)
    atheris.Fuzz()


def _ignoring_known(name: str, target: Callable[[bytes], None]) -> Callable[[bytes], None]:
    from .known import known

    seen: set[str] = set()

    def test_one_input(data: bytes) -> None:
        try:
            target(data)
        except Exception as exc:
            finding = known(name, exc)
            if finding is None:
                raise
            if finding not in seen:
                seen.add(finding)
                print(f"INFO: known finding {finding} hit (ignored)", file=sys.stderr)

    return test_one_input


def _inputs(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def replay(name: str, paths: list[str]) -> int:
    """Run ``name``'s TestOneInput on each file; print a traceback per failing one."""
    harness = _harness(name)
    files = _inputs([Path(p) for p in paths] or [CORPUS_DIR / name])
    failed = 0
    for path in files:
        try:
            harness.TestOneInput(path.read_bytes())
        except Exception:
            failed += 1
            print(f"FAIL {path}", file=sys.stderr)
            traceback.print_exc()
    print(f"{name}: {len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "run":
        run(argv[1], argv[2:])
        return 0
    if len(argv) >= 2 and argv[0] == "replay":
        return replay(argv[1], argv[2:])
    if argv == ["seeds"]:
        from .seeds import write_seeds

        for name, count in write_seeds(CORPUS_DIR).items():
            print(f"{name}: {count} seeds in {CORPUS_DIR / name}")
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
