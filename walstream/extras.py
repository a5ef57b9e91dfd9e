"""Optional dependencies: what to install when a command needs one the runtime lacks.

Why extras at all: the container image and a production install carry only what
``walstream run``, ``snapshot``, ``status`` and ``snowflake`` need. The local DuckDB warehouse and
the demo's embedded PostgreSQL (a database server's binaries) are extras, installed by
``pip install 'walstream[local]'`` / ``'walstream[demo]'`` and by ``scripts/demo`` and
``scripts/test``. A command that needs a missing one fails with one line and exit 2 naming the
install, instead of an ImportError traceback.
"""

from __future__ import annotations

from .errors import ConfigError

#: extra name -> what it provides, for the message
EXTRAS = {
    "local": "the local DuckDB warehouse (walstream warehouse, verify, status --warehouse)",
    "demo": "the demo's embedded PostgreSQL",
}


def missing_extra(package: str, extra: str) -> ConfigError:
    """The error for a command that needs ``package``, which the ``extra`` extra installs."""
    return ConfigError(
        f"{EXTRAS[extra]} needs the {package} package, which this install lacks: "
        f"pip install 'walstream[{extra}]'"
    )
