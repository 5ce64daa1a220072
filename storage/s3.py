"""Amazon S3 (and S3-compatible stores through ``[aws] endpoint_url``) with boto3.

Reads only ``[aws]``: ``bucket`` (required), ``region``, ``access_key_id`` and
``secret_access_key`` (unset: boto3's own chain, e.g. an instance role), ``endpoint_url``.

Two details from the reference (payments_storage.md D.2) that break real deployments:

* presigned URLs must be **SigV4** (``signature_version="s3v4"``): without it a us-east-1
  client signs the legacy V2 way;
* on AWS, **virtual addressing** gives the regional host ``<bucket>.s3.<region>.amazonaws.com``;
  the global host fails for newer regions. A custom endpoint (MinIO, R2, moto) is addressed
  path-style, which every S3-compatible store understands.

Presigned URLs live ``[storage] url_expiry_s`` seconds (at most 7 days, which SigV4 allows).
Every boto error goes through :func:`translate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from errors import N_, ConfigError, StorageError, StorageKeyError, StorageUnavailable
from storage.base import Storage, StoredObject, check_key, content_type

CONNECT_S = 5.0
READ_S = 60.0
MAX_ATTEMPTS = 3  # botocore "standard" retries: throttling, 5xx and connection errors only
SIGV4_MAX_EXPIRY_S = 604_800

MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
# Codes that mean our settings are wrong; reported as "unavailable" (not the creator's fault)
# with the code in the log detail.
MISCONFIGURED = frozenset(
    {
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "NoSuchBucket",
        "AuthorizationHeaderMalformed",
        "PermanentRedirect",
        "IllegalLocationConstraintException",
        "403",
        "301",
    }
)


def translate(exc: Exception, key: str) -> StorageError:
    """The one place a boto error becomes ours (chain it: ``raise translate(e, k) from e``)."""
    if isinstance(exc, S3UploadFailedError):  # the managed transfer wraps the real error
        inner = exc.__cause__ or exc.__context__
        if isinstance(inner, ClientError | BotoCoreError):
            return translate(inner, key)
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in MISSING:
            return StorageKeyError(detail=f"s3: {code} for {key}")
        if code in MISCONFIGURED:
            return StorageUnavailable(detail=f"s3: {code} (check [aws] settings) for {key}")
        return StorageUnavailable(detail=f"s3: {code or 'error'} (HTTP {status}) for {key}")
    if isinstance(exc, BotoConnectionError | BotoCoreError):
        return StorageUnavailable(detail=f"s3: {type(exc).__name__} for {key}")
    return StorageUnavailable(detail=f"s3: {type(exc).__name__} for {key}")


class S3Storage(Storage):
    name = "s3"

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: Any) -> S3Storage:
        aws = settings.aws
        if not aws.bucket:
            raise ConfigError(
                N_('[aws] bucket is required when [storage] backend = "{backend}".'),
                params={"backend": "s3"},
            )
        addressing = "path" if aws.endpoint_url else "virtual"
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing},
            connect_timeout=CONNECT_S,
            read_timeout=READ_S,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        )
        secret = aws.secret_access_key
        client = boto3.client(
            "s3",
            region_name=aws.region,
            endpoint_url=aws.endpoint_url,
            aws_access_key_id=aws.access_key_id.get_secret_value() if aws.access_key_id else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=config,
        )
        return cls(client, aws.bucket)

    def put(self, key: str, source: bytes | Path) -> None:
        check_key(key)
        extra = {"ContentType": content_type(key)}
        try:
            if isinstance(source, bytes):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=source, **extra)
            else:
                # Managed transfer: streamed from disk, multipart above 8 MB.
                self.client.upload_file(str(source), self.bucket, key, ExtraArgs=extra)
        except (ClientError, BotoCoreError, S3UploadFailedError) as exc:
            raise translate(exc, key) from exc
        if isinstance(source, Path):
            source.unlink(missing_ok=True)  # put() moves a file, like the local back end

    def open(self, key: str) -> BinaryIO:
        check_key(key)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key) from exc
        return cast(BinaryIO, body)

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, key)
            if not isinstance(error, StorageKeyError):
                raise error from exc

    def _head(self, key: str) -> dict[str, Any] | None:
        check_key(key)
        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=key))
        except (ClientError, BotoCoreError) as exc:
            error = translate(exc, key)
            if isinstance(error, StorageKeyError):
                return None
            raise error from exc

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        return int(head["ContentLength"]) if head else 0

    def list(self, prefix: str) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield StoredObject(
                        key=item["Key"], size=int(item["Size"]), modified=item["LastModified"]
                    )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, prefix) from exc

    def url(self, key: str, *, expires_s: int, download_name: str | None = None) -> str:
        check_key(key)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = f'attachment; filename="{download_name}"'
        expires = max(1, min(int(expires_s), SIGV4_MAX_EXPIRY_S))
        try:
            return str(
                self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, key) from exc
