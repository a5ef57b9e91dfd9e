"""``walstream`` and ``python -m walstream``: the CLI, with the cyclic GC off during start-up.

Why: starting ``walstream run`` imports psycopg, pyarrow and numpy (most of its fixed cost).
Those imports create only long-lived objects, yet the cyclic GC scans the growing heap several
times while they run: turning it off took walstream's fixed cost on an empty slot from 0.42-0.50
s to 0.27-0.30 s here (bytecode compiled in both). It stays off until the command's imports
are done; then what they created is frozen out of later collections and the GC runs as usual
(:func:`walstream.cli.imports_done`).

It also fixes glibc's malloc thresholds for the process (:mod:`walstream.malloc`).
"""

import gc


def main() -> None:
    gc.disable()
    from . import malloc

    malloc.tune()
    from .cli import cli

    cli()


if __name__ == "__main__":
    main()
