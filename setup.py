"""Only the optional C extensions are declared here; everything else is in pyproject.toml.

``optional=True``: without a C compiler and Python's headers the builds of ``walstream._accel``
(the read loop) and ``walstream._columns`` (the TupleData column parser) are skipped with a
warning, and walstream runs their pure-Python versions (see walstream/pg/fastpath.py,
walstream/pg/tuples.py and README "Performance").
"""

from setuptools import Extension, setup

FLAGS = ["-O2", "-Wall", "-Werror=implicit-function-declaration"]

setup(
    ext_modules=[
        # wire.h: the protocol's bytes, named once for both (walstream/pg/wire.py for Python)
        Extension(
            name,
            [path],
            depends=["walstream/wire.h"],
            include_dirs=["walstream"],
            optional=True,
            extra_compile_args=FLAGS,
        )
        for name, path in (
            ("walstream._accel", "walstream/_accel.c"),
            ("walstream._columns", "walstream/_columns.c"),
        )
    ]
)
