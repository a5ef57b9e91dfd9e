"""Start-up (issue 7): the cyclic GC is off while the CLI imports, and back on after."""

from __future__ import annotations

import gc
import subprocess
import sys

from walstream.cli import imports_done


def test_imports_done_turns_the_gc_back_on_and_freezes_what_the_imports_made() -> None:
    gc.disable()
    try:
        imports_done()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_imports_done_leaves_a_running_gc_alone() -> None:
    assert gc.isenabled()
    before = gc.get_freeze_count()
    imports_done()
    assert gc.isenabled() and gc.get_freeze_count() == before


def test_the_run_command_collects_garbage_once_started() -> None:
    # the real entry point: run fails at once (nothing listens there), after its imports
    code = (
        "import gc, sys, walstream.pipeline.runner as r\n"
        "def fail(self):\n"
        "    print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "    raise SystemExit(0)\n"
        "r.Runner.run = fail\n"
        "sys.argv = ['walstream', 'run', '--dsn', 'host=127.0.0.1 port=1', '--dest', '/tmp/x']\n"
        "from walstream.__main__ import main\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stderr


_MMAPPED = """
import ctypes, sys
from walstream import malloc
tuned = malloc.tune() if sys.argv[1] == "tune" else False
libc = ctypes.CDLL(None)
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena ordblks smblks hblks hblkhd usmblks "
                                               "fsmblks uordblks fordblks keepcost").split()]
libc.mallinfo2.restype = Info
libc.malloc.restype = ctypes.c_void_p
block = libc.malloc(8 << 20)
print(tuned, libc.mallinfo2().hblkhd >= 8 << 20)  # was the 8 MiB block mmapped?
libc.free(ctypes.c_void_p(block))
"""


def _mmapped(mode: str, **env: str) -> str:
    import os

    out = subprocess.run(
        [sys.executable, "-c", _MMAPPED, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    return out.stdout.strip()


def test_the_cli_keeps_blocks_of_a_flush_in_mallocs_heap() -> None:
    # glibc's default serves an 8 MiB block with a fresh mmap (zeroed pages every time)
    assert _mmapped("default") == "False True"
    assert _mmapped("tune") == "True False"


def test_a_users_own_malloc_settings_win() -> None:
    assert _mmapped("tune", MALLOC_TRIM_THRESHOLD_="1048576") == "False True"
