"""The command layer: every ``walstream`` subcommand, its options and where settings come from.

Only this package (and :mod:`walstream.cli`, which assembles it) knows about flags, environment
variables and the TOML file. It turns them into typed values and calls the layers below, which
never read the environment or name a flag (tests/test_layers.py holds that line).
"""
