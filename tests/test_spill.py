"""The spill store's failures are typed and clean (DESIGN.md §1 guarantee 9): a full disk and an
exhausted budget are exit 6 with the spill files removed, an unusable directory is exit 2, and
the spill directories of dead processes are swept at start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from walstream.capture.spill import SpillStore
from walstream.errors import ConfigError, ResourceError

pytestmark = pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")


def test_a_full_disk_is_exit_6_and_leaves_no_spill_file(tmp_path: Path) -> None:
    """A real ENOSPC from the kernel: the transaction's spill file is /dev/full."""
    store = SpillStore(str(tmp_path), budget_bytes=1 << 40)
    store.start()
    (store.dir / "xid-7.spill").symlink_to("/dev/full")
    with pytest.raises(ResourceError) as failed:
        for _ in range(4):  # past the file's 1 MiB write buffer
            store.append(7, b"x" * (1 << 20))
    assert failed.value.exit_code == 6
    message = str(failed.value)
    assert str(store.dir) in message and "nothing was acknowledged" in message
    assert "--spill-dir" in message
    assert not store.dir.exists() and store.open_transactions == 0


def test_the_budget_is_exit_6_and_names_the_setting(tmp_path: Path) -> None:
    store = SpillStore(str(tmp_path), budget_bytes=1000)
    store.start()
    with pytest.raises(ResourceError) as over:
        store.append(9, b"y" * 2000)
    assert over.value.exit_code == 6 and "--spill-budget" in str(over.value)


def test_an_unusable_directory_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ConfigError, match="--spill-dir"):
        SpillStore(str(tmp_path / "file" / "spill"), budget_bytes=1 << 30).check()


def test_dead_processes_spill_dirs_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / "pid-999999999"
    dead.mkdir()
    (dead / "xid-1.spill").write_bytes(b"old")
    alive = tmp_path / f"pid-{os.getppid()}"
    alive.mkdir()
    store = SpillStore(str(tmp_path), budget_bytes=1 << 30)
    store.check()
    assert not dead.exists() and alive.exists() and store.dir.exists()
