"""The S3 the suite writes to: moto's S3 API in server mode on 127.0.0.1, in this process.

walstream talks to it over HTTP exactly as it would to S3 (signed requests, MD5-verified
PutObject, multipart uploads), so an S3 run measures walstream's real upload path; what it
cannot measure is S3's own latency and bandwidth (moto answers from memory, on the same two
cores). The server runs in the driver's process, so its CPU is *not* counted in walstream's
figures, but it does compete with walstream for the machine while a run is measured.
"""

from __future__ import annotations

import logging
import os
import urllib.request
import uuid
from typing import Any

HOST = "127.0.0.1"
REGION = "us-east-1"


class MotoS3:
    """A moto server, the AWS environment that points at it, and one bucket per run."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.env = {
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        # The driver reads the stored files back (row counts) through walstream's own sink.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(self.env)

    def new_bucket(self) -> str:
        import boto3

        name = f"bench-{uuid.uuid4().hex[:10]}"
        client: Any = boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION
        )
        client.create_bucket(Bucket=name)
        return name

    def reset(self) -> None:
        """Forget every bucket and object (frees the memory a large run filled)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()
