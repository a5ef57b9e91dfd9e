"""Benchmarks (see issue 7): run with ``python -m bench``."""
