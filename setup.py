"""Only the optional C accelerator is declared here; everything else is in pyproject.toml.

``optional=True``: without a C compiler and Python's headers the build of ``walstream._accel``
is skipped with a warning and walstream runs its pure-Python read loop (see
walstream/pg/fastpath.py and README "Performance").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "walstream._accel",
            ["walstream/_accel.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Werror=implicit-function-declaration"],
        )
    ]
)
