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
