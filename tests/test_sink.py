"""The DurableSink contract, proven on a real filesystem and on a real S3 HTTP API (moto).

Faults S3 would produce (throttling, 5xx, access denied, a lost response) are injected at the
HTTP layer through botocore's ``before-send`` event, so everything above the socket (our retry
loop, botocore's parsing of S3 errors) runs for real.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import random
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from tests.s3server import MOTO_ENV_UNSET, MotoServer, moto_env
from walstream import faults
from walstream.errors import ConfigError, SinkError
from walstream.sink import DurableSink, LocalSink, RetryPolicy, S3Sink, open_sink, validate_key

BUCKET = "walstream-test"
MiB = 1024 * 1024


# -- fixtures and fault injection -------------------------------------------------------------


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in MOTO_ENV_UNSET:
        monkeypatch.delenv(name, raising=False)
    for name, value in moto_env(moto_server.endpoint_url).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bucket(moto_server: MotoServer, aws_env: None) -> str:
    moto_server.reset()
    moto_server.client().create_bucket(Bucket=BUCKET)
    return BUCKET


class UpperBound(random.Random):
    """Jitter that always picks the longest allowed wait, so backoff caps become visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def s3_response(
    status: int, code: str | None = None, headers: dict[str, str] | None = None
) -> AWSResponse:
    """An HTTP response as S3 would send it; ``code`` makes it an S3 XML error."""
    body = b""
    if code is not None:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>injected {code}</Message><RequestId>test</RequestId></Error>"
        ).encode()
    http_headers = HTTPHeaders()
    for name, value in (headers or {}).items():
        http_headers[name] = value
    return AWSResponse("http://127.0.0.1/injected", status, http_headers, _RawBody(body))


class Injector:
    """Counts the HTTP requests of one S3 operation; answers the first ``len(responses)`` of
    them with the given responses instead of sending them (``None`` sends for real)."""

    def __init__(self, sink: S3Sink, operation: str, *responses: AWSResponse | None) -> None:
        self.requests: list[Any] = []
        self._responses = list(responses)
        sink.client.meta.events.register(f"before-send.s3.{operation}", self)

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        self.requests.append(request)
        if self._responses:
            return self._responses.pop(0)
        return None


def s3_sink(url: str = f"s3://{BUCKET}/dms", **options: Any) -> tuple[S3Sink, list[float]]:
    """A sink whose backoff sleeps are recorded instead of slept."""
    sleeps: list[float] = []
    sink = open_sink(url, sleep=sleeps.append, rng=UpperBound(), **options)
    assert isinstance(sink, S3Sink)
    return sink, sleeps


@pytest.fixture
def fault_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records every fault point the sink passes; tests may also arm them."""
    passed: list[str] = []

    def record(name: str) -> None:
        passed.append(name)
        faults.fault_point(name)

    monkeypatch.setattr("walstream.sink.s3.fault_point", record)
    try:
        yield passed
    finally:
        faults.disarm_all()


# -- open_sink: URLs and options --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "bucket_name", "prefix", "described"),
    [
        ("s3://bkt", "bkt", "", "s3://bkt/a/b.parquet"),
        ("s3://bkt/", "bkt", "", "s3://bkt/a/b.parquet"),
        ("s3://bkt/dms", "bkt", "dms", "s3://bkt/dms/a/b.parquet"),
        ("s3://bkt/x/dms/", "bkt", "x/dms", "s3://bkt/x/dms/a/b.parquet"),
    ],
)
def test_open_sink_parses_s3_urls(
    aws_env: None, url: str, bucket_name: str, prefix: str, described: str
) -> None:
    sink = open_sink(url)
    assert isinstance(sink, S3Sink) and isinstance(sink, DurableSink)
    assert (sink.url, sink.bucket, sink.prefix) == (url, bucket_name, prefix)
    assert sink.describe("a/b.parquet") == described


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file:///var/lib/dms", "/var/lib/dms"),
        ("file://localhost/var/lib/dms/", "/var/lib/dms"),
        ("file:///var/lib/my%20dms", "/var/lib/my dms"),
        ("/var/lib/dms", "/var/lib/dms"),
        ("out/dms", os.path.abspath("out/dms")),
    ],
)
def test_open_sink_parses_local_destinations(url: str, root: str) -> None:
    sink = open_sink(url)
    assert isinstance(sink, LocalSink) and isinstance(sink, DurableSink)
    assert sink.url == url
    assert sink.root == Path(root)
    assert sink.describe("public/t/x.parquet") == Path(root, "public/t/x.parquet").as_uri()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "s3://",
        "s3:///prefix",
        "file://rel",
        "file://rel/dms",
        "file:rel",
        "",
        "s3://bkt/a/../b",
        "s3://bkt//a//b",
        "s3://bkt/p?region=x",
        "gs://bkt/p",
    ],
)
def test_open_sink_rejects_bad_urls_naming_url_and_accepted_forms(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_sink(url)
    message = str(info.value)
    assert repr(url) in message
    assert "s3://bucket" in message


def test_open_sink_refuses_options_the_sink_does_not_take(aws_env: None) -> None:
    with pytest.raises(ConfigError, match="endpoint_url"):
        open_sink("file:///tmp/dms", endpoint_url="http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="no_such_option"):
        open_sink("s3://bkt/dms", no_such_option=1)
    # Unset settings (None) pass through: a caller forwards its options without sorting them.
    assert isinstance(open_sink("file:///tmp/dms", endpoint_url=None), LocalSink)


@pytest.mark.parametrize(
    "key", ["", "/abs", "a/", "a//b", "../up", "a/../../up", "a/./b", ".", "a\x00b"]
)
def test_keys_cannot_escape_the_root_or_name_directories(tmp_path: Path, key: str) -> None:
    with pytest.raises(SinkError, match="invalid object key"):
        validate_key(key)
    with pytest.raises(SinkError):
        LocalSink(str(tmp_path), tmp_path).put(key, b"x")
    assert list(tmp_path.iterdir()) == []


def test_retry_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=8, base=0.2, cap=1.0)
    assert [policy.backoff_cap(n) for n in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)


# -- LocalSink --------------------------------------------------------------------------------


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_local_put_get_list_roundtrip(tmp_path: Path) -> None:
    sink = open_sink(tmp_path.as_uri() + "/dms")
    sink.put("public/orders/20240101-2.parquet", b"two")
    sink.put("public/orders/20240101-1.parquet", b"one")
    sink.put("public/orders_archive/x.parquet", b"archived")
    sink.put("_walstream/slot/checkpoint.json", b"{}")
    sink.put("public/orders/20240101-1.parquet", b"one, replaced")

    assert sink.get("public/orders/20240101-1.parquet") == b"one, replaced"
    assert sink.get("public/orders/missing.parquet") is None
    assert sink.get("nowhere/at/all") is None
    assert sink.list("public/orders/") == [
        "public/orders/20240101-1.parquet",
        "public/orders/20240101-2.parquet",
    ]
    # S3 prefix semantics: a prefix need not end at a folder boundary.
    assert sink.list("public/orders") == [
        "public/orders/20240101-1.parquet",
        "public/orders/20240101-2.parquet",
        "public/orders_archive/x.parquet",
    ]
    assert sink.list("") == ["_walstream/slot/checkpoint.json", *sink.list("public/")]
    assert sink.list("private/") == []
    assert sink.list("public/orders/2024") == sink.list("public/orders/")


def test_local_put_leaves_no_temp_files(tmp_path: Path) -> None:
    sink = LocalSink(str(tmp_path), tmp_path)
    for i in range(3):
        sink.put("public/t/file.parquet", bytes([i]) * 1000)
    sink.put("empty", b"")
    assert all_files(tmp_path) == ["empty", "public/t/file.parquet"]
    assert sink.get("empty") == b""


def test_local_list_ignores_in_flight_temp_files(tmp_path: Path) -> None:
    sink = LocalSink(str(tmp_path), tmp_path)
    sink.put("public/t/a.parquet", b"a")
    (tmp_path / "public/t/.b.parquet.0123456789ab.tmp").write_bytes(b"half")
    assert sink.list("public/") == ["public/t/a.parquet"]


def test_local_disk_full_mid_write_leaves_old_content_and_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = LocalSink(str(tmp_path), tmp_path)
    sink.put("public/t/x.parquet", b"old content")

    real_write = os.write

    def write_then_disk_full(fd: int, data: Any) -> int:
        if not os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
            return real_write(fd, data)
        if len(data) > 4:  # the first write gets half way, the rest hits a full disk
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write_then_disk_full)
    with pytest.raises(SinkError) as info:
        sink.put("public/t/x.parquet", b"new content that does not fit")
    monkeypatch.undo()

    message = str(info.value)
    assert str(tmp_path / "public/t/x.parquet") in message
    assert "ENOSPC" in message and "free space" in message
    assert sink.get("public/t/x.parquet") == b"old content"
    assert all_files(tmp_path) == ["public/t/x.parquet"]

    monkeypatch.setattr(os, "write", write_then_disk_full)
    with pytest.raises(SinkError):
        sink.put("public/t/new.parquet", b"never stored anywhere")
    monkeypatch.undo()
    assert sink.get("public/t/new.parquet") is None
    assert all_files(tmp_path) == ["public/t/x.parquet"]


def test_local_check_creates_the_root_and_leaves_nothing(tmp_path: Path) -> None:
    sink = open_sink(str(tmp_path / "new" / "dms"))
    sink.check()
    assert (tmp_path / "new" / "dms").is_dir()
    assert sink.list("") == []
    assert all_files(tmp_path) == []


def test_local_check_on_a_path_under_a_regular_file_fails(tmp_path: Path) -> None:
    (tmp_path / "afile").write_bytes(b"")
    sink = open_sink(str(tmp_path / "afile" / "dms"))
    with pytest.raises(SinkError, match=re.escape(str(tmp_path / "afile"))) as info:
        sink.check()
    assert "--dest" in str(info.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_local_check_on_a_read_only_directory_fails(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    try:
        with pytest.raises(SinkError, match="EACCES") as info:
            open_sink(str(root)).check()
        assert str(root) in str(info.value)
    finally:
        root.chmod(0o700)


# -- S3Sink against moto ----------------------------------------------------------------------


def test_s3_roundtrip_sends_content_md5_and_uses_the_aws_environment(
    bucket: str, moto_server: MotoServer
) -> None:
    sink, _ = s3_sink()
    assert sink.endpoint_url == moto_server.endpoint_url  # from AWS_ENDPOINT_URL_S3
    puts = Injector(sink, "PutObject")
    body = b"PAR1 parquet bytes PAR1"
    sink.put("public/orders/20240101-a.parquet", body)
    sink.put("_walstream/slot/checkpoint.json", b"{}")

    assert puts.requests[0].headers["Content-MD5"] == base64.b64encode(hashlib.md5(body).digest())
    assert sink.get("public/orders/20240101-a.parquet") == body
    assert sink.get("public/orders/missing.parquet") is None
    stored = moto_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in stored) == [
        "dms/_walstream/slot/checkpoint.json",
        "dms/public/orders/20240101-a.parquet",
    ]
    assert sink.retries == 0


def test_s3_list_paginates_and_keeps_to_the_prefix(bucket: str, moto_server: MotoServer) -> None:
    client = moto_server.client()
    client.put_object(Bucket=bucket, Key="other/public/orders/x.parquet", Body=b"")
    client.put_object(Bucket=bucket, Key="dms-old/public/orders/x.parquet", Body=b"")
    sink, _ = s3_sink(page_size=3)
    orders = [f"public/orders/2024010{i}.parquet" for i in range(8)]
    for key in [*reversed(orders), "public/orders_archive/y.parquet", "public/users/z.parquet"]:
        sink.put(key, key.encode())
    pages = Injector(sink, "ListObjectsV2")

    assert sink.list("public/orders/") == orders
    assert len(pages.requests) == 3  # 8 keys, 3 per page
    assert sink.list("public/orders") == [*orders, "public/orders_archive/y.parquet"]
    assert len(sink.list("")) == 10
    assert sink.list("nothing/") == []


def test_s3_check_passes_and_removes_its_probe(bucket: str, moto_server: MotoServer) -> None:
    sink, _ = s3_sink()
    sink.check()
    assert moto_server.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_s3_check_on_a_missing_bucket_names_it(aws_env: None, moto_server: MotoServer) -> None:
    sink, sleeps = s3_sink("s3://no-such-bucket/dms")
    with pytest.raises(SinkError) as info:
        sink.check()
    message = str(info.value)
    assert "'no-such-bucket' does not exist" in message
    assert moto_server.endpoint_url in message
    assert "create it or fix --dest" in message
    assert sleeps == []


def test_s3_check_without_list_permission_says_what_to_grant(bucket: str) -> None:
    sink, sleeps = s3_sink()
    lists = Injector(sink, "ListObjectsV2", s3_response(403, "AccessDenied"))
    with pytest.raises(
        SinkError, match=r"grant s3:ListBucket on arn:aws:s3:::walstream-test for s3:prefix dms/\*$"
    ):
        sink.check()
    assert sleeps == []
    # The check lists under the prefix only (a policy confined to the prefix allows that).
    assert "prefix=dms%2F" in lists.requests[0].url and "max-keys=1" in lists.requests[0].url


class PrefixOnlyPolicy:
    """What S3 answers a caller whose s3:ListBucket carries ``StringLike s3:prefix dms/*`` (our
    Terraform policy), emulated on moto, which does not evaluate IAM conditions: a listing
    without that prefix is denied, and so is a GetObject of a missing key, since S3 reveals
    NoSuchKey only to callers that may list the bucket unconditioned (S3 API reference,
    GetObject, "Permissions")."""

    def __init__(self, sink: S3Sink) -> None:
        self.denied: list[str] = []
        events = sink.client.meta.events
        events.register("before-send.s3.ListObjectsV2", self._list)
        events.register("needs-retry.s3.GetObject", self._get, unique_id="prefix-only-get")

    def _list(self, request: Any, **_: Any) -> AWSResponse | None:
        if "prefix=dms%2F" not in request.url:
            self.denied.append(request.url)
            return s3_response(403, "AccessDenied")
        return None

    def _get(self, response: Any, **_: Any) -> None:
        _, parsed = response
        if parsed.get("Error", {}).get("Code") == "NoSuchKey":
            self.denied.append("GetObject")
            parsed["Error"] = {"Code": "AccessDenied", "Message": "Access Denied"}
            parsed["ResponseMetadata"]["HTTPStatusCode"] = 403
        return None


def test_s3_under_a_prefix_only_policy_reads_missing_keys_as_missing(bucket: str) -> None:
    sink, sleeps = s3_sink()
    policy = PrefixOnlyPolicy(sink)
    sink.check()
    assert sink.get("_walstream/slot/checkpoint.json") is None  # a first run: no checkpoint yet
    assert policy.denied == ["GetObject"]
    sink.put("_walstream/slot/checkpoint.json", b"{}")
    assert sink.get("_walstream/slot/checkpoint.json") == b"{}"
    assert sleeps == []


def test_s3_a_real_denial_of_a_stored_key_stays_a_denial(bucket: str) -> None:
    sink, _ = s3_sink()
    sink.put("public/orders/x.parquet", b"data")
    Injector(sink, "GetObject", s3_response(403, "AccessDenied"))
    with pytest.raises(SinkError, match=r"access denied .*x\.parquet.*grant s3:GetObject"):
        sink.get("public/orders/x.parquet")


def test_s3_multipart_roundtrips_byte_identical(
    bucket: str, moto_server: MotoServer, fault_points: list[str]
) -> None:
    sink, _ = s3_sink(multipart_threshold=5 * MiB)
    parts = Injector(sink, "UploadPart")
    body = random.Random(7).randbytes(11 * MiB)

    sink.put("public/big/20240101.parquet", body)

    assert len(parts.requests) == 3  # 5 + 5 + 1 MiB
    assert fault_points == ["sink.mid_multipart"] * 2  # between parts, not before or after
    assert sink.get("public/big/20240101.parquet") == body
    head = moto_server.client().head_object(Bucket=bucket, Key="dms/public/big/20240101.parquet")
    assert head["ETag"].strip('"').endswith("-3")
    # At the threshold exactly, a single PutObject.
    sink.put("public/big/small.parquet", body[: 5 * MiB])
    assert len(parts.requests) == 3


def no_uploads_in_progress(moto_server: MotoServer, bucket: str) -> bool:
    return not moto_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_s3_multipart_interrupted_between_parts_is_aborted(
    bucket: str, moto_server: MotoServer, fault_points: list[str]
) -> None:
    faults.arm("sink.mid_multipart", "raise", at_hit=2)
    sink, _ = s3_sink(multipart_threshold=5 * MiB)
    with pytest.raises(faults.InjectedFault):
        sink.put("public/big/x.parquet", bytes(11 * MiB))
    assert fault_points == ["sink.mid_multipart"] * 2  # two parts were uploaded
    assert sink.get("public/big/x.parquet") is None
    assert no_uploads_in_progress(moto_server, bucket)


def test_s3_multipart_part_denied_fails_at_once_and_aborts(
    bucket: str, moto_server: MotoServer
) -> None:
    sink, sleeps = s3_sink(multipart_threshold=5 * MiB)
    Injector(sink, "UploadPart", None, s3_response(403, "AccessDenied"))
    with pytest.raises(SinkError, match="grant s3:PutObject"):
        sink.put("public/big/x.parquet", bytes(11 * MiB))
    assert sleeps == []
    assert sink.get("public/big/x.parquet") is None
    assert no_uploads_in_progress(moto_server, bucket)


def test_s3_multipart_completed_but_response_lost_is_recognised(
    bucket: str, moto_server: MotoServer
) -> None:
    """The first CompleteMultipartUpload reaches S3 but its answer is lost (here: S3 completes
    the upload, then the client sees a 500); the retry finds the upload gone and the object
    there with the expected ETag, and counts the put as done."""
    sink, sleeps = s3_sink(multipart_threshold=5 * MiB)
    other_client = moto_server.client()
    completions: list[str] = []

    def complete_then_fail(request: Any, **_: Any) -> AWSResponse | None:
        if completions:
            return None
        upload_id = re.search(r"uploadId=([^&]+)", request.url)
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        numbers = re.findall(rb"<PartNumber>(\d+)</PartNumber>", body)
        etags = re.findall(rb"<ETag>([^<]+)</ETag>", body)
        assert upload_id is not None
        completions.append(upload_id.group(1))
        other_client.complete_multipart_upload(
            Bucket=bucket,
            Key="dms/public/big/x.parquet",
            UploadId=upload_id.group(1),
            MultipartUpload={
                "Parts": [
                    {"PartNumber": int(n), "ETag": e.decode().replace("&quot;", '"')}
                    for n, e in zip(numbers, etags, strict=True)
                ]
            },
        )
        return s3_response(500, "InternalError")

    sink.client.meta.events.register("before-send.s3.CompleteMultipartUpload", complete_then_fail)
    body = random.Random(8).randbytes(6 * MiB)
    sink.put("public/big/x.parquet", body)
    assert len(completions) == 1
    assert sink.retries == 1 and len(sleeps) == 1
    assert sink.get("public/big/x.parquet") == body


def test_s3_transient_errors_are_retried_with_growing_backoff(bucket: str) -> None:
    sink, sleeps = s3_sink()
    puts = Injector(
        sink,
        "PutObject",
        s3_response(503, "SlowDown"),
        s3_response(500, "InternalError"),
        s3_response(400, "RequestTimeout"),
        s3_response(503),
    )
    sink.put("public/t/x.parquet", b"eventually stored")
    assert sink.get("public/t/x.parquet") == b"eventually stored"
    # Each attempt is one HTTP request: botocore does not retry behind our back.
    assert len(puts.requests) == 5
    assert sink.retries == 4
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6])


def test_s3_permanent_error_fails_at_once_with_the_permission_to_grant(bucket: str) -> None:
    sink, sleeps = s3_sink()
    puts = Injector(sink, "PutObject", s3_response(403, "AccessDenied"))
    with pytest.raises(SinkError) as info:
        sink.put("public/t/x.parquet", b"data")
    assert str(info.value) == (
        "access denied writing s3://walstream-test/dms/public/t/x.parquet (PutObject): "
        "grant s3:PutObject on arn:aws:s3:::walstream-test/dms/*"
    )
    assert len(puts.requests) == 1
    assert sleeps == [] and sink.retries == 0


@pytest.mark.parametrize(
    ("code", "advice"),
    [
        ("InvalidAccessKeyId", "AWS_ACCESS_KEY_ID"),
        ("SignatureDoesNotMatch", "AWS_SECRET_ACCESS_KEY"),
        ("NoSuchBucket", "create it or fix --dest"),
        ("InvalidArgument", "not retried"),
    ],
)
def test_s3_client_errors_are_permanent_and_actionable(bucket: str, code: str, advice: str) -> None:
    sink, sleeps = s3_sink()
    Injector(sink, "PutObject", s3_response(400 if code == "InvalidArgument" else 403, code))
    with pytest.raises(SinkError, match=advice):
        sink.put("public/t/x.parquet", b"data")
    assert sleeps == []


def test_s3_retries_exhausted_names_the_attempts(bucket: str) -> None:
    sink, sleeps = s3_sink(max_attempts=4)
    puts = Injector(sink, "PutObject", *[s3_response(503, "SlowDown")] * 10)
    with pytest.raises(SinkError, match="failed after 4 attempts") as info:
        sink.put("public/t/x.parquet", b"data")
    assert "SlowDown (HTTP 503)" in str(info.value)
    assert len(puts.requests) == 4 and len(sleeps) == 3 and sink.retries == 3
    assert sink.get("public/t/x.parquet") is None


def test_s3_unreachable_endpoint_is_retried_then_reported(aws_env: None) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    sink, sleeps = s3_sink(endpoint_url=endpoint, max_attempts=3, connect_timeout=1.0)
    with pytest.raises(SinkError) as info:
        sink.put("x", b"data")
    message = str(info.value)
    assert "failed after 3 attempts" in message and endpoint in message
    assert "EndpointConnectionError" in message
    assert sleeps == [0.2, 0.4]


def test_s3_etag_that_is_not_the_md5_sent_fails_the_put(bucket: str) -> None:
    sink, _ = s3_sink()
    Injector(sink, "PutObject", s3_response(200, headers={"ETag": '"0123456789abcdef"'}))
    with pytest.raises(SinkError, match="expected"):
        sink.put("public/t/x.parquet", b"data")
    lenient, _ = s3_sink(verify_etag=False)
    Injector(lenient, "PutObject", s3_response(200, headers={"ETag": '"0123456789abcdef"'}))
    lenient.put("public/t/x.parquet", b"data")
    # A 200 without an ETag is never taken as stored.
    Injector(lenient, "PutObject", s3_response(200))
    with pytest.raises(SinkError, match="ETag missing"):
        lenient.put("public/t/x.parquet", b"data")


def test_s3_without_credentials_says_where_to_set_them(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    sink, sleeps = s3_sink()
    with pytest.raises(SinkError, match=r"no usable AWS credentials .* AWS_ACCESS_KEY_ID"):
        sink.put("public/t/x.parquet", b"data")
    assert sleeps == []


# -- clean restarts ------------------------------------------------------------------------------
def test_local_sweep_removes_a_killed_writers_temp_files_only(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path.as_uri(), tmp_path)
    sink.put("public/t/a.parquet", b"data")
    folder = tmp_path / "public" / "t"
    stale = folder / ".b.parquet.0123456789ab.tmp"  # a SIGKILL between write and rename
    fresh = folder / ".c.parquet.ba9876543210.tmp"  # another process, writing right now
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    old = os.stat(stale).st_mtime - 3600
    os.utime(stale, (old, old))
    assert sink.sweep() == 1
    assert not stale.exists() and fresh.exists() and (folder / "a.parquet").exists()


def test_s3_sweep_aborts_old_multipart_uploads_under_its_prefix_only(
    bucket: str, moto_server: MotoServer
) -> None:
    sink, _ = s3_sink()
    client = sink.client
    mine = client.create_multipart_upload(Bucket=bucket, Key="dms/public/t/x.parquet")
    other = client.create_multipart_upload(Bucket=bucket, Key="elsewhere/x.parquet")
    # moto reports every upload as started in 2010: a younger cutoff keeps it
    assert sink.sweep(older_than=1e10) == 0  # younger than 300 years: maybe a live writer's
    assert sink.sweep(older_than=0) == 1
    left = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in left] == [other["UploadId"]]
    assert mine["UploadId"] not in {u["UploadId"] for u in left}
