"""Operating walstream: the status of the slot, the checkpoint and the warehouses (:mod:`.status`).

Its commands (status, doctor, slot and publication tools, config, verify) are in
:mod:`walstream.commands.ops`; what ``walstream run`` starts beside the stream (metrics server,
heartbeat, systemd notifications) is :mod:`walstream.pipeline.services`.
"""
