"""A TCP forwarder on 127.0.0.1 in its own process: ``python -m tests.tcp_forward LISTEN UPSTREAM``.

Why a process and not a thread like :class:`tests.faultproxy.FaultProxy`: psycopg's C
implementation holds the GIL through a blocking libpq connect (``pq.PGconn.connect``, which the
replication stream uses), so a proxy thread in the same process could never answer it and the
connect would time out. Used by :class:`tests.failover_cluster.SwitchingProxy` as the name that
moves to the new primary in a failover. It prints ``ready`` once it listens and forwards until
it is terminated, which cuts every connection through it, or until its stdin closes (its
parent is gone).
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def _exit_with_parent() -> None:
    sys.stdin.read()
    os._exit(0)


def serve(listen_port: int, upstream_port: int) -> None:
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    listener = socket.create_server(("127.0.0.1", listen_port))
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=5)
        except OSError:
            client.close()  # the upstream is down: the client sees the connection close
            continue
        upstream.settimeout(None)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(src, dst), daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
