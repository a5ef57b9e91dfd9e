"""Operating walstream: status, doctor, slot and publication tools, config, verify.

The click commands live in :mod:`.commands` (registered by :mod:`walstream.cli`); the work is
done in :mod:`.status`, :mod:`walstream.pg.admin`, :mod:`walstream.verify`,
:mod:`walstream.config` and :mod:`walstream.secrets`. :mod:`.services` starts what
``walstream run`` needs besides the stream (metrics server, heartbeat, systemd notifications).
This package imports nothing on import, so the pipeline can use :mod:`.services` cheaply.
"""
