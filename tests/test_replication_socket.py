"""The replication socket's receive buffer and low-water mark (walstream.pg.replication).

Why: on a socket whose buffer the kernel sizes itself, Linux's SO_RCVLOWAT clamps the TCP
window to the mark, and over loopback the walsender then stalled for its 200 ms persist timer
several times per run (bench/README.md, "Read loop"). The low-water mark is therefore only
ever raised on a socket with a fixed buffer; ``--socket-rcvbuf 0`` (WALSTREAM_SOCKET_RCVBUF=0)
gives the buffer back to the kernel and turns bulk reads off. Behaviour, not timing, is
asserted here.
"""

from __future__ import annotations

import selectors
import socket
from collections.abc import Iterator

import pytest

from tests.cli_run import walstream
from walstream.pg.replication import LOWAT, RCVBUF, ReplicationStream, fix_receive_buffer


@pytest.fixture
def tcp_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        try:
            yield client, peer
        finally:
            client.close()
            peer.close()


def test_the_default_buffer_is_fixed_and_allows_bulk_reads(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    client, _ = tcp_pair
    assert ReplicationStream("host=127.0.0.1")._rcvbuf == RCVBUF
    assert fix_receive_buffer(client)
    # Linux doubles what is asked (its bookkeeping); never less than asked anywhere
    assert client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= RCVBUF


def test_zero_leaves_the_buffer_to_the_kernel_and_reads_without_a_mark(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    client, _ = tcp_pair
    before = client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert not fix_receive_buffer(client, 0)
    assert client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == before


def test_a_larger_buffer_can_be_asked_for(
    tcp_pair: tuple[socket.socket, socket.socket],
) -> None:
    client, _ = tcp_pair
    assert fix_receive_buffer(client, RCVBUF * 2)
    got = client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    assert got >= min(RCVBUF * 2, _rmem_max())


@pytest.mark.parametrize("bulk", [True, False])
def test_the_mark_is_raised_only_on_a_fixed_buffer(
    tcp_pair: tuple[socket.socket, socket.socket], bulk: bool
) -> None:
    client, _ = tcp_pair
    stream = ReplicationStream("host=127.0.0.1")  # wired to the pair by hand, not connected
    stream._selector = selectors.DefaultSelector()
    stream._fd = client.fileno()
    stream._selector.register(stream._fd, selectors.EVENT_READ)
    stream._sock = client
    stream._bulk = bulk
    stream._busy = True  # the last call read until the socket ran dry: wait for a bulk
    stream._wait(0.01)
    assert client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT) == (LOWAT if bulk else 1)
    stream._wait(0.01)  # idle now (nothing came): the first frame is read at once
    assert client.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT) == 1
    stream._selector.close()


def _rmem_max() -> int:
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            return int(f.read())
    except OSError:
        return RCVBUF


@pytest.mark.parametrize("value", ["lots", "-1", "1.5"])
def test_a_bad_value_stops_a_run_before_it_connects(value: str) -> None:
    # nothing listens on port 1: a connection attempt would be exit 3, not this
    result = walstream(
        "run",
        "--dsn",
        "host=127.0.0.1 port=1",
        "--dest",
        "file:///nonexistent-dest",
        env={"WALSTREAM_SOCKET_RCVBUF": value},
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "WALSTREAM_SOCKET_RCVBUF" in result.stderr and "Traceback" not in result.stderr


def test_the_setting_reaches_the_stream() -> None:
    from walstream.pipeline.runner import RunConfig

    assert RunConfig("dsn", "s", "p", "file:///x").socket_rcvbuf == RCVBUF
