"""A ``DurableSink`` on S3 (or an S3-compatible store): where production change files go.

S3 makes an object visible only once a PutObject (or CompleteMultipartUpload) succeeds, so a
failed upload never leaves a partial object under its key; what this module adds is proof that
the bytes S3 stored are the bytes we sent, and a retry policy we own:

- Integrity: every body (or part) is sent with ``Content-MD5``, so S3 rejects a body corrupted in
  transit; the returned ETag is compared with the MD5 we computed (for multipart, with the MD5 of
  the part MD5s, ``<hex>-<parts>``). Objects encrypted with SSE-KMS or SSE-C have ETags that are
  not MD5s; for those we rely on ``Content-MD5`` alone.
- Large bodies (over ``multipart_threshold``, default 64 MiB) go up as a multipart upload; any
  failure aborts the upload so no orphaned parts accrue storage.
- Retries: botocore's own retries are switched off so that every attempt is ours to classify,
  back off (capped exponential, full jitter) and count (``retries``, for metrics). Transient
  failures (5xx, throttling, timeouts, dropped connections) are retried up to ``max_attempts``;
  permanent ones (missing bucket, access denied, bad credentials, other 4xx) fail at once with a
  ``SinkError`` saying which permission or setting to fix.

The client comes from a default boto3 session, so the standard AWS settings apply unchanged:
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``, ``AWS_REGION`` / ``AWS_DEFAULT_REGION``,
profiles, instance and task roles.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import math
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3
import botocore.exceptions
from botocore.config import Config

from ..errors import ConfigError, SinkError, TransientSinkError
from ..faults import fault_point
from ..layout import probe_key as make_probe_key
from .base import validate_key, validate_prefix

log = logging.getLogger(__name__)

T = TypeVar("T")

MiB = 1024 * 1024
GiB = 1024 * MiB
DEFAULT_MULTIPART_THRESHOLD = 64 * MiB
DEFAULT_PART_SIZE = 16 * MiB
MIN_PART_SIZE = 5 * MiB  # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * GiB  # also the largest single PutObject
MAX_PARTS = 10_000

# Error codes that say "try again" even though they arrive with a 4xx status (or none).
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",  # a conflicting operation on the bucket is in progress
        "BadDigest",  # the body was corrupted in transit: S3 refused it, sending again is safe
        "IncompleteBody",
    }
)
_ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AllAccessDisabled", "403", "Forbidden"})
_SSE_WITHOUT_MD5_ETAG = frozenset({"aws:kms", "aws:kms:dsse"})

# What each operation needs in an IAM policy, and on which resource kind.
_PERMISSION: dict[str, tuple[str, str, bool]] = {
    # operation: (verb for messages, IAM action, resource is an object ARN)
    "PutObject": ("writing", "s3:PutObject", True),
    "CreateMultipartUpload": ("writing", "s3:PutObject", True),
    "UploadPart": ("writing", "s3:PutObject", True),
    "CompleteMultipartUpload": ("writing", "s3:PutObject", True),
    "AbortMultipartUpload": ("aborting the upload of", "s3:AbortMultipartUpload", True),
    "GetObject": ("reading", "s3:GetObject", True),
    "HeadObject": ("reading", "s3:GetObject", True),
    "DeleteObject": ("deleting", "s3:DeleteObject", True),
    "ListObjectsV2": ("listing", "s3:ListBucket", False),
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a transient S3 failure is retried.

    Attempt ``n`` (counting retries from 0) waits a uniformly random time in
    ``[0, min(cap, base * 2**n)]`` ("full jitter"), which spreads out many writers that failed
    together instead of having them retry in lockstep.
    """

    max_attempts: int = 8
    base: float = 0.2
    cap: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"S3 max_attempts must be at least 1, got {self.max_attempts}")
        if self.base <= 0 or self.cap < self.base:
            raise ConfigError(
                f"S3 retry backoff needs 0 < base <= cap, got base={self.base} cap={self.cap}"
            )

    def backoff_cap(self, retry: int) -> float:
        """The longest wait before retry number ``retry`` (0 for the first retry)."""
        return min(self.cap, self.base * 2.0 ** min(retry, 64))


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket[/prefix]`` into ``(bucket, prefix)``; the prefix has no slashes at
    either end and may be empty. Anything else is a ``ConfigError``."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ConfigError(f"not an S3 URL: {url!r}: use s3://bucket or s3://bucket/prefix")
    bucket = parts.netloc
    if not bucket or "@" in bucket or ":" in bucket or any(c.isspace() for c in bucket):
        raise ConfigError(
            f"invalid S3 destination {url!r}: expected s3://bucket or s3://bucket/prefix "
            "with a bucket name"
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"invalid S3 destination {url!r}: expected s3://bucket or s3://bucket/prefix "
            "without '?' or '#'; set endpoint and region with AWS_ENDPOINT_URL_S3 / AWS_REGION"
        )
    prefix = parts.path.strip("/")
    if prefix:
        try:
            validate_key(prefix)
        except SinkError:
            raise ConfigError(
                f"invalid S3 destination {url!r}: expected s3://bucket or s3://bucket/prefix "
                "with no empty, '.' or '..' segments in the prefix"
            ) from None
    return bucket, prefix


def _b64_md5(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _error_details(exc: BaseException) -> tuple[str, int | None, str]:
    """``(code, http_status, message)`` of a botocore error; code is the class name for
    errors that never reached S3."""
    if isinstance(exc, botocore.exceptions.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = str(error.get("Code") or status or "Unknown")
        return code, status, str(error.get("Message") or "")
    return type(exc).__name__, None, str(exc)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, botocore.exceptions.ClientError):
        code, status, _ = _error_details(exc)
        return code in _TRANSIENT_CODES or (status is not None and (status >= 500 or status == 429))
    if isinstance(exc, botocore.exceptions.SSLError):
        # A certificate the client rejects will be rejected again; a reset handshake may not.
        return "CERTIFICATE_VERIFY_FAILED" not in str(exc)
    return isinstance(
        exc,
        botocore.exceptions.ConnectionError  # EndpointConnectionError, ConnectTimeoutError
        | botocore.exceptions.HTTPClientError  # ReadTimeoutError, ConnectionClosedError
        | botocore.exceptions.IncompleteReadError,
    )


def _etag(response: Any) -> str:
    return str(response.get("ETag") or "").strip('"')


class S3Sink:
    """Objects under ``s3://bucket/prefix``, each put verified against its MD5.

    Options (all keyword): ``endpoint_url`` and ``region`` (default: the AWS environment),
    ``multipart_threshold`` (bytes; larger bodies use multipart upload), ``part_size``,
    ``max_attempts`` / ``backoff_base`` / ``backoff_cap`` (seconds) for transient failures,
    ``sleep`` and ``rng`` (injectable for tests), ``page_size`` for listings,
    ``connect_timeout`` / ``read_timeout`` (seconds), ``verify_etag`` (set False for a store
    whose ETags are not MD5s), ``client`` (a ready boto3 S3 client).

    Safe to share between threads; ``retries`` counts retried attempts since creation.
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int | None = None,
        max_attempts: int = 8,
        backoff_base: float = 0.2,
        backoff_cap: float = 20.0,
        sleep: Callable[[float], object] = time.sleep,
        rng: random.Random | None = None,
        page_size: int = 1000,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        verify_etag: bool = True,
        client: Any = None,
    ) -> None:
        self.url = url
        self.bucket, self.prefix = parse_s3_url(url)
        self._root = f"{self.prefix}/" if self.prefix else ""
        if not 1 <= multipart_threshold <= MAX_PART_SIZE:
            raise ConfigError(
                f"S3 multipart_threshold must be between 1 byte and 5 GiB, got "
                f"{multipart_threshold}"
            )
        if part_size is None:
            # Parts no larger than the threshold, so a body just over it is split in two or more.
            part_size = max(MIN_PART_SIZE, min(DEFAULT_PART_SIZE, multipart_threshold))
        if not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE:
            raise ConfigError(f"S3 part_size must be between 5 MiB and 5 GiB, got {part_size}")
        if not 1 <= page_size <= 1000:
            raise ConfigError(f"S3 page_size must be between 1 and 1000, got {page_size}")
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.page_size = page_size
        self.verify_etag = verify_etag
        self.retry_policy = RetryPolicy(max_attempts, backoff_base, backoff_cap)
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._lock = threading.Lock()
        self.retries = 0
        if client is None:
            client = self._make_client(endpoint_url, region, connect_timeout, read_timeout)
        self.client: Any = client

    def _make_client(
        self,
        endpoint_url: str | None,
        region: str | None,
        connect_timeout: float,
        read_timeout: float,
    ) -> Any:
        config = Config(
            # total_max_attempts=1 turns botocore's retries off (its "max_attempts" key counts
            # retries, not attempts): every attempt goes through _call, which we count.
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # We send Content-MD5 ourselves; extra default CRC checksums would also have to be
            # threaded through multipart uploads and are not understood by every S3-compatible
            # store.
            request_checksum_calculation="when_required",
        )
        try:
            return boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )
        except botocore.exceptions.ProfileNotFound as exc:
            raise ConfigError(
                f"AWS profile not found for {self.url}: {exc}: fix AWS_PROFILE or ~/.aws/config"
            ) from exc
        except ValueError as exc:
            raise ConfigError(
                f"invalid S3 endpoint {endpoint_url!r} for {self.url}: {exc}: use a URL like "
                "https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000"
            ) from exc

    def __repr__(self) -> str:
        return f"S3Sink({self.url!r}, endpoint={self.endpoint_url!r})"

    @property
    def endpoint_url(self) -> str:
        return str(self.client.meta.endpoint_url)

    def _full_key(self, key: str) -> str:
        return self._root + validate_key(key)

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full_key(key)}"

    # -- the retry loop ------------------------------------------------------------------------

    def _call(self, operation: str, key: str | None, attempt: Callable[[], T]) -> T:
        """Run ``attempt`` until it succeeds, fails permanently, or runs out of attempts."""
        policy = self.retry_policy
        number = 0
        while True:
            number += 1
            try:
                return attempt()
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
                if not _is_transient(exc):
                    raise self._permanent_error(operation, key, exc) from exc
                if number >= policy.max_attempts:
                    raise self._exhausted_error(operation, key, number, exc) from exc
                delay = self._rng.uniform(0.0, policy.backoff_cap(number - 1))
                with self._lock:
                    self.retries += 1
                code, status, _ = _error_details(exc)
                log.warning(
                    "event=s3_retry operation=%s target=%s attempt=%d error=%s status=%s "
                    "delay_s=%.3f",
                    operation,
                    self._target(key),
                    number,
                    code,
                    status,
                    delay,
                )
                self._sleep(delay)

    def _target(self, key: str | None) -> str:
        return self.describe(key) if key is not None else f"s3://{self.bucket}"

    def _exhausted_error(
        self, operation: str, key: str | None, attempts: int, exc: BaseException
    ) -> SinkError:
        code, status, message = _error_details(exc)
        detail = f"{code} (HTTP {status})" if status else code
        if message:
            detail += f": {message}"
        return TransientSinkError(
            f"S3 {operation} of {self._target(key)} failed after {attempts} attempts at endpoint "
            f"{self.endpoint_url}; last error: {detail}: check network access to the endpoint "
            "and the store's health, or raise max_attempts"
        )

    def _permanent_error(self, operation: str, key: str | None, exc: BaseException) -> SinkError:
        code, status, message = _error_details(exc)
        endpoint = self.endpoint_url
        target = self._target(key)
        if code == "NoSuchBucket":
            return SinkError(
                f"S3 bucket {self.bucket!r} does not exist (NoSuchBucket) at endpoint "
                f"{endpoint}: create it or fix --dest"
            )
        if code in _ACCESS_DENIED_CODES:
            verb, action, on_object = _PERMISSION.get(operation, ("accessing", "s3:*", True))
            resource = f"arn:aws:s3:::{self.bucket}"
            if on_object:
                resource += f"/{self._root}*"
            hint = f"grant {action} on {resource}"
            if operation == "ListObjectsV2" and self._root:
                hint += f" for s3:prefix {self._root}*"
            if operation in ("GetObject", "HeadObject"):
                hint += f" (and s3:ListBucket on arn:aws:s3:::{self.bucket}, so that a missing "
                hint += "key reads as missing instead of denied)"
            return SinkError(f"access denied {verb} {target} ({operation}): {hint}")
        if code == "InvalidAccessKeyId":
            return SinkError(
                f"S3 rejected the AWS access key id for {target} at endpoint {endpoint} "
                "(InvalidAccessKeyId): check AWS_ACCESS_KEY_ID or AWS_PROFILE"
            )
        if code == "SignatureDoesNotMatch":
            return SinkError(
                f"S3 rejected the request signature for {target} at endpoint {endpoint} "
                "(SignatureDoesNotMatch): check AWS_SECRET_ACCESS_KEY for the access key in use"
            )
        if code in ("ExpiredToken", "TokenRefreshRequired", "InvalidToken"):
            return SinkError(
                f"the AWS session token used for {target} is expired or invalid ({code}): "
                "refresh the credentials (AWS_SESSION_TOKEN, SSO login, or the role)"
            )
        if code == "RequestTimeTooSkewed":
            return SinkError(
                f"S3 refused a request for {target}: this machine's clock is off by more than "
                "15 minutes (RequestTimeTooSkewed): synchronise the clock (NTP)"
            )
        if isinstance(exc, botocore.exceptions.ClientError) and (
            status == 301 or code in ("PermanentRedirect", "AuthorizationHeaderMalformed")
        ):
            headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            region = headers.get("x-amz-bucket-region") or exc.response.get("Error", {}).get(
                "Region"
            )
            where = f"region {region}" if region else "another region"
            return SinkError(
                f"S3 bucket {self.bucket!r} is in {where}, not the client's region "
                f"{self.client.meta.region_name} ({code}): set AWS_REGION"
                + (f"={region}" if region else "")
                + " or the sink's region option"
            )
        if isinstance(
            exc,
            botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError,
        ):
            return SinkError(
                f"no usable AWS credentials for {target} ({code}): set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance or task role"
            )
        if isinstance(exc, botocore.exceptions.SSLError):
            return SinkError(
                f"TLS to S3 endpoint {endpoint} failed for {target}: {message}: fix the CA "
                "bundle (AWS_CA_BUNDLE) or the endpoint URL"
            )
        detail = f"{code} (HTTP {status})" if status else code
        if message:
            detail += f": {message}"
        return SinkError(
            f"S3 {operation} of {target} failed at endpoint {endpoint}: {detail}: this is not "
            "retried; fix the bucket's configuration or policy for this error"
        )

    # -- writes --------------------------------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        full_key = self._full_key(key)
        started = time.monotonic()
        if len(data) > self.multipart_threshold:
            parts = self._put_multipart(key, full_key, data)
        else:
            self._put_single(key, full_key, data)
            parts = 1
        log.debug(
            "event=s3_put target=%s bytes=%d parts=%d seconds=%.3f",
            self.describe(key),
            len(data),
            parts,
            time.monotonic() - started,
        )

    def _verify(
        self, operation: str, key: str, response: Any, expected_etag: str, part: int = 0
    ) -> None:
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        etag = _etag(response)
        what = f"{self.describe(key)}" + (f" part {part}" if part else "")
        if status != 200 or not etag:
            raise SinkError(
                f"S3 {operation} of {what} returned HTTP {status} with ETag {etag or 'missing'}, "
                "not 200 with an ETag: the store did not confirm the write; check the endpoint "
                "is S3-compatible"
            )
        if not self.verify_etag:
            return
        if (
            response.get("ServerSideEncryption") in _SSE_WITHOUT_MD5_ETAG
            or "SSECustomerAlgorithm" in response
        ):
            return  # such ETags are not MD5s; Content-MD5 already made S3 check the bytes
        if etag != expected_etag:
            raise SinkError(
                f"S3 {operation} of {what} returned ETag {etag}, expected {expected_etag} (MD5 of "
                "the bytes sent): the stored object may differ from what was written; if this "
                "store's ETags are not MD5s, set verify_etag=False"
            )

    def _put_single(self, key: str, full_key: str, data: bytes) -> None:
        md5 = hashlib.md5(data, usedforsecurity=False)
        put_object = partial(
            self.client.put_object,
            Bucket=self.bucket,
            Key=full_key,
            Body=data,
            ContentMD5=_b64_md5(md5.digest()),
        )
        response = self._call("PutObject", key, put_object)
        self._verify("PutObject", key, response, md5.hexdigest())

    def _put_multipart(self, key: str, full_key: str, data: bytes) -> int:
        part_size = max(self.part_size, math.ceil(len(data) / MAX_PARTS))
        create = partial(self.client.create_multipart_upload, Bucket=self.bucket, Key=full_key)
        upload_id: str = self._call("CreateMultipartUpload", key, create)["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            part_digests: list[bytes] = []
            for number, offset in enumerate(range(0, len(data), part_size), start=1):
                if number > 1:
                    fault_point("sink.mid_multipart")
                body = data[offset : offset + part_size]
                md5 = hashlib.md5(body, usedforsecurity=False)
                upload_part = partial(
                    self.client.upload_part,
                    Bucket=self.bucket,
                    Key=full_key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=body,
                    ContentMD5=_b64_md5(md5.digest()),
                )
                response = self._call("UploadPart", key, upload_part)
                self._verify("UploadPart", key, response, md5.hexdigest(), part=number)
                parts.append({"ETag": response["ETag"], "PartNumber": number})
                part_digests.append(md5.digest())
            expected = hashlib.md5(b"".join(part_digests), usedforsecurity=False).hexdigest()
            expected += f"-{len(parts)}"
            response = self._call(
                "CompleteMultipartUpload",
                key,
                partial(self._complete_once, full_key, upload_id, parts, expected),
            )
            self._verify("CompleteMultipartUpload", key, response, expected)
        except BaseException:
            self._abort_multipart(key, full_key, upload_id)
            raise
        return len(parts)

    def _complete_once(
        self, full_key: str, upload_id: str, parts: list[dict[str, Any]], expected: str
    ) -> Any:
        try:
            return self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except botocore.exceptions.ClientError as exc:
            # An earlier attempt may have completed the upload although its response was lost;
            # then the upload id is gone and the object is there, with the ETag we expect.
            if _error_details(exc)[0] != "NoSuchUpload":
                raise
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=full_key)
            except botocore.exceptions.ClientError:
                raise exc from None
            if _etag(head) != expected:
                raise
            return head

    def _abort_multipart(self, key: str, full_key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full_key, UploadId=upload_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            # Parts of an unfinished upload are never visible as an object; they only cost
            # storage until a lifecycle rule (AbortIncompleteMultipartUpload) removes them.
            log.warning(
                "event=s3_abort_failed target=%s upload_id=%s error=%s hint=%s",
                self.describe(key),
                upload_id,
                _error_details(exc)[0],
                "add an AbortIncompleteMultipartUpload lifecycle rule to the bucket",
            )

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        try:
            return self._call("GetObject", key, partial(self._get_once, self._full_key(key)))
        except SinkError as exc:
            # A policy that allows ListBucket only under the prefix (as ours does: no listing of
            # the whole bucket) makes S3 answer 403, not 404, for a key that does not exist: S3
            # says NoSuchKey only to callers that may list the bucket unconditioned. A listing of
            # exactly this key tells the two apart; a key that is there stays a denial.
            if not isinstance(exc.__cause__, botocore.exceptions.ClientError) or (
                _error_details(exc.__cause__)[0] not in _ACCESS_DENIED_CODES
            ):
                raise
            if self._exists(key):
                raise
            return None

    def _exists(self, key: str) -> bool:
        """Whether ``key`` is stored, by a listing of that one key (ListBucket with a prefix)."""
        full_key = self._full_key(key)
        request = partial(
            self.client.list_objects_v2, Bucket=self.bucket, Prefix=full_key, MaxKeys=1
        )
        page = self._call("ListObjectsV2", key, request)
        return any(item["Key"] == full_key for item in page.get("Contents", ()))

    def _get_once(self, full_key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=full_key)
        except botocore.exceptions.ClientError as exc:
            if _error_details(exc)[0] in ("NoSuchKey", "404"):
                return None
            raise
        body = response["Body"]
        try:
            # Inside the retried attempt: a connection dropped mid-body is read again.
            return bytes(body.read())
        finally:
            body.close()

    def list(self, prefix: str) -> list[str]:
        full_prefix = self._root + validate_prefix(prefix)
        keys: list[str] = []
        token: str | None = None
        while True:
            request: dict[str, Any] = {
                "Bucket": self.bucket,
                "Prefix": full_prefix,
                "MaxKeys": self.page_size,
            }
            if token is not None:
                request["ContinuationToken"] = token
            page = self._call(
                "ListObjectsV2", None, partial(self.client.list_objects_v2, **request)
            )
            for item in page.get("Contents", ()):
                relative = str(item["Key"])[len(self._root) :]
                if relative:  # skip a "folder" marker object named like the root itself
                    keys.append(relative)
            if not page.get("IsTruncated"):
                break
            token = page["NextContinuationToken"]
        keys.sort()
        return keys

    # -- startup sweep and probe ---------------------------------------------------------------

    def sweep(self, older_than: float = 86400.0) -> int:
        """Abort the multipart uploads under this destination's prefix (and only there) that
        were started more than ``older_than`` seconds ago: a killed writer's parts are billed
        until aborted. Best effort: a policy without ListBucketMultipartUploads is logged."""
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than)
        aborted = 0
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self._root
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] <= cutoff:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
        except Exception as exc:  # botocore's errors: nothing is lost by not sweeping
            log.warning("event=s3_sweep_skipped sink=%s error=%s", self.url, exc)
            return aborted
        if aborted:
            log.info("event=sink_swept multipart_uploads=%d sink=%s", aborted, self.url)
        return aborted

    def check(self) -> None:
        # A listing under the prefix, not HeadBucket: HeadBucket is authorised as a ListBucket
        # without s3:prefix, which a policy confined to the prefix (ours) rightly refuses.
        probe_list = partial(
            self.client.list_objects_v2, Bucket=self.bucket, Prefix=self._root, MaxKeys=1
        )
        self._call("ListObjectsV2", None, probe_list)
        probe_key = make_probe_key(secrets.token_hex(8))
        self.put(probe_key, b"walstream write probe\n")
        delete = partial(
            self.client.delete_object, Bucket=self.bucket, Key=self._full_key(probe_key)
        )
        try:
            self._call("DeleteObject", probe_key, delete)
        except SinkError as exc:
            # walstream never deletes data objects, so a policy without s3:DeleteObject is
            # acceptable; the probe object stays behind.
            log.warning("event=s3_probe_left target=%s error=%s", self.describe(probe_key), exc)
        log.debug("event=sink_check_ok sink=%s endpoint=%s", self.url, self.endpoint_url)
