"""The walstream benchmark suite (issue 7): ``python -m bench`` or ``python -m bench --smoke``.

Modules: server.py (the embedded PostgreSQL and its slots), workloads.py (what is written),
consumers.py (who reads it: pg_recvlogical, walstream, the peers in peers/), measure.py (wall
time, CPU and peak RSS of a child process), latency.py (commit-to-durable under steady load),
suite.py (the run), report.py (targets, markdown, plots), cli.py. See bench/README.md.
"""
