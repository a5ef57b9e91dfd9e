"""The peers the benchmark measures walstream against (see bench/consumers.py)."""
