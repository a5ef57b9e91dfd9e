"""A real S3 HTTP API for tests: moto in server mode on 127.0.0.1, in a background thread.

Tests talk to it exactly as production talks to S3 (boto3 over HTTP, signed requests, real
status codes and XML errors), so the sink's retry classification, multipart uploads and
listing pagination run against the wire protocol, not against mocks of boto3.

Usage (a module- or session-scoped fixture owns the server, each test resets it)::

    with MotoServer() as server:
        for name, value in moto_env(server.endpoint_url).items():
            monkeypatch.setenv(name, value)
        server.client().create_bucket(Bucket="walstream-test")

``moto_env`` also points the generic ``AWS_ENDPOINT_URL`` at moto, so no AWS service call made by
code under test can reach real AWS by accident. It binds to 127.0.0.1 only, on a free port.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

HOST = "127.0.0.1"
REGION = "us-east-1"

#: Variables a test should unset alongside applying ``moto_env``: they would select other
#: credentials (a profile, a session token) than moto's dummy ones.
MOTO_ENV_UNSET = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def moto_env(endpoint_url: str) -> dict[str, str]:
    """Environment for code (in-process or a subprocess) that should use the moto server."""
    return {
        "AWS_ENDPOINT_URL_S3": endpoint_url,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        # No user config or credentials file may redirect or re-credential the tests.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


class MotoServer:
    """moto's S3 (and every other service moto has) over HTTP on ``endpoint_url``."""

    def __init__(self) -> None:
        self._server: ThreadedMotoServer | None = None
        self.endpoint_url = ""

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("moto server already started")
        # werkzeug logs every request line at INFO; keep test output for failures.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # Port 0: the OS picks a free port when the socket binds; no probe-then-bind race.
        server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        self._server = server
        self.endpoint_url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def client(self) -> Any:
        """A boto3 S3 client bound to this server with moto's dummy credentials."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
