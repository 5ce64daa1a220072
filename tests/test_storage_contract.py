"""One contract, three back ends: local disk, S3 (moto's real HTTP server) and Cloudinary (a
local fake of its API that checks every request signature).

:class:`StorageContract` holds the behaviour every back end must have; each ``Test*`` class
only says how to build its store (``store``), a broken one (``broken``) and what its URLs
look like (``check_url``). Back-end-specific facts follow in the same classes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from errors import ConfigError, InvalidStorageKey, StorageKeyError, StorageUnavailable
from storage.base import Storage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

BAD_KEYS = ("../x", "/etc/passwd", "jobs/../../x", "jobs\\x", "", "jobs//x", "jobs/./x", ".env")
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40
EXPIRY_S = 900


class StorageContract:
    """Every back end: bytes in, the same bytes out, streamed; keys stay inside the store."""

    @pytest.fixture
    def store(self) -> Storage:  # pragma: no cover - each back end overrides it
        raise NotImplementedError

    @pytest.fixture
    def broken(self) -> Storage:  # pragma: no cover
        raise NotImplementedError

    def check_url(self, store: Storage, key: str, url: str | None, download: bool) -> None:
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------------- contract

    def test_bytes_round_trip_as_a_stream(self, store: Storage) -> None:
        key = "jobs/j1/video.mp4"
        store.put(key, VIDEO)
        assert store.exists(key) and store.size(key) == len(VIDEO)
        with store.open(key) as stream:
            first = stream.read(100)
            rest = stream.read()
        assert first + rest == VIDEO

    def test_a_file_is_moved_into_the_store(self, store: Storage, tmp_path: Path) -> None:
        source = tmp_path / "work" / "thumb.jpg"
        source.parent.mkdir()
        source.write_bytes(b"\xff\xd8jpeg\xff\xd9")
        store.put("jobs/j1/thumb.jpg", source)
        assert not source.exists()
        target = store.download("jobs/j1/thumb.jpg", tmp_path / "copy" / "thumb.jpg")
        assert target.read_bytes() == b"\xff\xd8jpeg\xff\xd9"

    def test_overwrite_replaces_the_object(self, store: Storage) -> None:
        store.put("jobs/j1/captions.vtt", b"WEBVTT\n\nold")
        store.put("jobs/j1/captions.vtt", b"WEBVTT\n\nnew")
        with store.open("jobs/j1/captions.vtt") as stream:
            assert stream.read() == b"WEBVTT\n\nnew"

    def test_a_missing_object(self, store: Storage) -> None:
        key = "jobs/none/video.mp4"
        assert not store.exists(key)
        assert store.size(key) == 0
        with pytest.raises(StorageKeyError):
            store.open(key).read()
        store.delete(key)  # deleting nothing is fine

    def test_delete(self, store: Storage) -> None:
        store.put("jobs/j2/photo.jpg", b"\xff\xd8photo")
        store.delete("jobs/j2/photo.jpg")
        store.delete("jobs/j2/photo.jpg")
        assert not store.exists("jobs/j2/photo.jpg")
        assert [o.key for o in store.list("jobs/j2/")] == []

    def test_list_and_usage_under_a_prefix(self, store: Storage) -> None:
        before = datetime.now(UTC) - timedelta(minutes=5)
        store.put("jobs/a/video.mp4", VIDEO)
        srt, png = b"1\n00:00:00,000 --> 00:00:01,000\nhi\n", b"\x89PNG\r\n\x1a\nxx"
        store.put("jobs/a/captions.srt", srt)
        store.put("jobs/ab/photo.png", png)
        listed = {o.key: o for o in store.list("jobs/a/")}
        assert set(listed) == {"jobs/a/video.mp4", "jobs/a/captions.srt"}
        assert listed["jobs/a/video.mp4"].size == len(VIDEO)
        assert all(
            before < o.modified < datetime.now(UTC) + timedelta(minutes=5) for o in listed.values()
        )
        assert {o.key for o in store.list("jobs/a")} == set(listed) | {"jobs/ab/photo.png"}
        assert store.usage("jobs/") == len(VIDEO) + len(srt) + len(png)

    def test_keys_cannot_escape(self, store: Storage, tmp_path: Path) -> None:
        for bad in BAD_KEYS:
            for call in (
                lambda k: store.put(k, b"x"),
                store.open,
                store.delete,
                store.exists,
                store.size,
            ):
                with pytest.raises(InvalidStorageKey):
                    call(bad)
        with pytest.raises(ValueError):  # also a ValueError: a programming error
            store.put("../escape", b"x")
        assert not (tmp_path / "escape").exists()
        assert list(store.list("")) == []

    def test_urls(self, store: Storage) -> None:
        store.put("jobs/j3/video.mp4", VIDEO)
        self.check_url(
            store, "jobs/j3/video.mp4", store.url("jobs/j3/video.mp4", expires_s=EXPIRY_S), False
        )
        download = store.url("jobs/j3/video.mp4", expires_s=EXPIRY_S, download_name="my.mp4")
        self.check_url(store, "jobs/j3/video.mp4", download, True)

    def test_an_unreachable_store_says_unavailable(self, broken: Storage) -> None:
        with pytest.raises(StorageUnavailable):
            broken.put("jobs/j4/video.mp4", VIDEO)
        with pytest.raises(StorageUnavailable):
            list(broken.list("jobs/"))


# ------------------------------------------------------------------------------- local disk


class TestLocal(StorageContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Storage:
        from storage.local import LocalStorage

        return LocalStorage(tmp_path / "media")

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Storage:
        from storage.local import LocalStorage

        blocker = tmp_path / "not-a-folder"
        blocker.write_bytes(b"")
        return LocalStorage(blocker / "media")

    def check_url(self, store: Storage, key: str, url: str | None, download: bool) -> None:
        assert url is None  # the app's /api/media route serves local files
        assert store.local_path(key) == Path(store.root) / key  # type: ignore[attr-defined]

    def test_a_symlink_out_of_the_folder_is_refused(self, store: Storage, tmp_path: Path) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_text("secret")
        root = Path(store.root)  # type: ignore[attr-defined]
        (root / "jobs").mkdir(parents=True)
        os.symlink(outside, root / "jobs" / "link")
        with pytest.raises(InvalidStorageKey):
            store.open("jobs/link/secret.txt")
        assert [o.key for o in store.list("jobs/")] == []

    def test_empty_job_folders_are_removed_but_not_the_top(self, store: Storage) -> None:
        store.put("jobs/j5/video.mp4", VIDEO)
        store.delete("jobs/j5/video.mp4")
        root = Path(store.root)  # type: ignore[attr-defined]
        assert (root / "jobs").is_dir() and not (root / "jobs" / "j5").exists()

    def test_a_crash_mid_write_leaves_a_findable_partial(self, store: Storage) -> None:
        class Boom(Exception):
            pass

        class Exploding(bytes):
            pass

        store.put("jobs/j6/video.mp4", VIDEO)
        root = Path(store.root)  # type: ignore[attr-defined]
        # What a killed process leaves: a temporary file next to the target.
        (root / "jobs" / "j6" / "tmp-0123456789abcdef.partial").write_bytes(b"half")
        keys = {o.key for o in store.list("jobs/j6/")}
        assert keys == {"jobs/j6/video.mp4", "jobs/j6/tmp-0123456789abcdef.partial"}
        store.delete("jobs/j6/tmp-0123456789abcdef.partial")  # the cleanup can remove it
        with store.open("jobs/j6/video.mp4") as stream:
            assert stream.read() == VIDEO


# ------------------------------------------------------------------------------------- S3


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_settings(
    settings_env, endpoint: str | None, bucket: str = "tp-media", region: str = "ap-south-1"
):
    from secrets_manager import get_settings

    values = dict(
        storage__backend="s3",
        storage__url_expiry_s=EXPIRY_S,
        aws__access_key_id="testing-key-id",
        aws__secret_access_key="testing-secret-key",
        aws__region=region,
        aws__bucket=bucket,
    )
    if endpoint:
        values["aws__endpoint_url"] = endpoint
    settings_env(**values)
    return get_settings()


class TestS3(StorageContract):
    @pytest.fixture
    def store(self, moto_url: str, settings_env) -> Storage:
        from storage.s3 import S3Storage

        bucket = f"tp-{uuid.uuid4().hex[:12]}"
        store = S3Storage.from_settings(s3_settings(settings_env, moto_url, bucket))
        store.client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"}
        )
        return store

    @pytest.fixture
    def broken(self, settings_env) -> Storage:
        import socket

        from storage.s3 import S3Storage

        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        store = S3Storage.from_settings(s3_settings(settings_env, f"http://127.0.0.1:{port}"))
        store.client.meta.config.retries = {"max_attempts": 1}
        return store

    def check_url(self, store: Storage, key: str, url: str | None, download: bool) -> None:
        assert url is not None
        query = parse_qs(urlsplit(url).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4, never V2
        assert query["X-Amz-Expires"] == [str(EXPIRY_S)]
        assert "/ap-south-1/s3/aws4_request" in query["X-Amz-Credential"][0]
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and answer.content == VIDEO
        if download:
            assert query["response-content-disposition"] == ['attachment; filename="my.mp4"']
            assert answer.headers["Content-Disposition"].startswith("attachment")

    def test_presigned_urls_carry_the_configured_expiry(self, moto_url: str, settings_env) -> None:
        from storage.s3 import S3Storage

        settings = s3_settings(settings_env, moto_url)
        settings_env(storage__url_expiry_s=7200)
        from secrets_manager import get_settings

        store = S3Storage.from_settings(get_settings())
        url = store.url("jobs/x/video.mp4", expires_s=get_settings().storage.url_expiry_s)
        assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["7200"]
        assert settings.storage.url_expiry_s == EXPIRY_S  # the earlier settings were different
        capped = store.url("jobs/x/video.mp4", expires_s=10**7)
        assert parse_qs(urlsplit(capped).query)["X-Amz-Expires"] == ["604800"]  # SigV4's limit

    def test_aws_urls_use_the_regional_virtual_host(self, settings_env) -> None:
        from storage.s3 import S3Storage

        store = S3Storage.from_settings(s3_settings(settings_env, None, "tp-videos", "ap-south-1"))
        url = store.url("jobs/x/video.mp4", expires_s=60)
        assert url.startswith("https://tp-videos.s3.ap-south-1.amazonaws.com/jobs/x/video.mp4?")

    def test_content_type_is_stored(self, store: Storage) -> None:
        store.put("jobs/j7/video.mp4", VIDEO)
        store.put("jobs/j7/captions.vtt", b"WEBVTT\n")
        head = store.client.head_object(Bucket=store.bucket, Key="jobs/j7/video.mp4")  # type: ignore[attr-defined]
        assert head["ContentType"] == "video/mp4"
        head = store.client.head_object(Bucket=store.bucket, Key="jobs/j7/captions.vtt")  # type: ignore[attr-defined]
        assert head["ContentType"] == "text/vtt"

    def test_a_presigned_url_serves_ranges(self, store: Storage) -> None:
        store.put("jobs/j8/video.mp4", VIDEO)
        url = store.url("jobs/j8/video.mp4", expires_s=60)
        answer = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=10)
        assert answer.status_code == 206 and answer.content == VIDEO[10:20]

    def test_a_bucket_is_required(self, settings_env) -> None:
        from storage.s3 import S3Storage

        settings = s3_settings(settings_env, None)
        with pytest.raises(ConfigError, match=r"\[aws\] bucket is required"):
            S3Storage.from_settings(
                settings.model_copy(
                    update={"aws": settings.aws.model_copy(update={"bucket": None})}
                )
            )

    @pytest.mark.parametrize(
        ("code", "status", "expected"),
        [
            ("NoSuchKey", 404, StorageKeyError),
            ("404", 404, StorageKeyError),
            ("AccessDenied", 403, StorageUnavailable),
            ("InvalidAccessKeyId", 403, StorageUnavailable),
            ("SignatureDoesNotMatch", 403, StorageUnavailable),
            ("NoSuchBucket", 404, StorageUnavailable),
            ("SlowDown", 503, StorageUnavailable),
            ("InternalError", 500, StorageUnavailable),
        ],
    )
    def test_every_documented_error_is_mapped(self, code: str, status: int, expected: type) -> None:
        from botocore.exceptions import ClientError

        from storage.s3 import translate

        exc = ClientError(
            {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
        )
        error = translate(exc, "jobs/x/video.mp4")
        assert type(error) is expected
        assert "testing" not in (error.detail or "")

    def test_connection_errors_are_unavailable(self) -> None:
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

        from storage.s3 import translate

        assert isinstance(
            translate(EndpointConnectionError(endpoint_url="http://x"), "k"), StorageUnavailable
        )
        assert isinstance(
            translate(ReadTimeoutError(endpoint_url="http://x"), "k"), StorageUnavailable
        )
        wrapped = S3UploadFailedError("upload failed")
        assert isinstance(translate(wrapped, "k"), StorageUnavailable)


# ------------------------------------------------------------------------------ Cloudinary


@pytest.fixture(scope="module")
def cloudinary_fake() -> Iterator[object]:
    from tests.fakes.cloudinary_api import CloudinaryFake

    with CloudinaryFake() as fake:
        yield fake


def cloudinary_settings(settings_env, fake, folder: str, secret: str | None = None):
    from secrets_manager import get_settings

    settings_env(
        storage__backend="cloudinary",
        storage__url_expiry_s=EXPIRY_S,
        cloudinary__cloud_name=fake.cloud,
        cloudinary__api_key=fake.api_key,
        cloudinary__api_secret=secret or fake.api_secret,
        cloudinary__api_base=fake.url,
        cloudinary__folder=folder,
    )
    return get_settings()


class TestCloudinary(StorageContract):
    @pytest.fixture
    def store(self, cloudinary_fake, settings_env) -> Storage:
        from storage.cloudinary_store import CloudinaryStorage

        folder = f"tp-{uuid.uuid4().hex[:8]}"
        return CloudinaryStorage.from_settings(
            cloudinary_settings(settings_env, cloudinary_fake, folder)
        )

    @pytest.fixture
    def broken(self, cloudinary_fake, store: Storage) -> Iterator[Storage]:
        cloudinary_fake.fail_next(503, times=2)
        yield store
        cloudinary_fake._fail.clear()

    def check_url(self, store: Storage, key: str, url: str | None, download: bool) -> None:
        import base64
        import hashlib

        assert url is not None
        public_id = f"{store.folder}/jobs/j3/video"  # type: ignore[attr-defined]
        secret = store._options["api_secret"]  # type: ignore[attr-defined]
        if download:  # the signed, time-limited download API on our api_base
            query = parse_qs(urlsplit(url).query)
            assert url.startswith(
                f"{store._options['upload_prefix']}/v1_1/demo-cloud/video/download?"
            )  # type: ignore[attr-defined]
            assert int(query["expires_at"][0]) - int(query["timestamp"][0]) == EXPIRY_S
            answer = requests.get(url, timeout=10)
            assert answer.status_code == 200 and answer.content == VIDEO
            assert answer.headers["Content-Disposition"] == "attachment"
            return
        digest = hashlib.sha1(f"{public_id}.mp4{secret}".encode()).digest()
        signature = base64.urlsafe_b64encode(digest)[:8].decode()
        assert url == (
            f"https://res.cloudinary.com/demo-cloud/video/authenticated/s--{signature}--/v1/{public_id}.mp4"
        )

    def test_each_kind_of_file_goes_to_its_resource_type(
        self, store: Storage, cloudinary_fake
    ) -> None:
        cloudinary_fake.requests.clear()
        store.put("jobs/j9/video.mp4", VIDEO)
        store.put("jobs/j9/photo.jpg", b"\xff\xd8x")
        store.put("jobs/j9/captions.vtt", b"WEBVTT\n")
        store.delete("jobs/j9/video.mp4")
        paths = [p for _m, p in cloudinary_fake.requests]
        assert paths == [
            "/v1_1/demo-cloud/video/upload",
            "/v1_1/demo-cloud/image/upload",
            "/v1_1/demo-cloud/raw/upload",
            "/v1_1/demo-cloud/video/destroy",
        ]
        folder = store.folder  # type: ignore[attr-defined]
        kinds = {(rt, t, pid) for (rt, t, pid) in cloudinary_fake.assets if pid.startswith(folder)}
        assert kinds == {
            ("image", "authenticated", f"{folder}/jobs/j9/photo"),
            ("raw", "authenticated", f"{folder}/jobs/j9/captions.vtt"),
        }

    def test_a_wrong_secret_is_refused_by_the_signature_check(
        self, cloudinary_fake, settings_env
    ) -> None:
        from storage.cloudinary_store import CloudinaryStorage

        wrong = CloudinaryStorage.from_settings(
            cloudinary_settings(settings_env, cloudinary_fake, "tp-wrong", secret="not-the-secret")
        )
        before = cloudinary_fake.bad_signatures
        with pytest.raises(StorageUnavailable):
            wrong.put("jobs/x/video.mp4", VIDEO)
        assert cloudinary_fake.bad_signatures == before + 1
        assert not any(pid.startswith("tp-wrong") for (_r, _t, pid) in cloudinary_fake.assets)

    def test_a_stale_request_is_refused(self, store: Storage, cloudinary_fake) -> None:
        real = cloudinary_fake.clock
        cloudinary_fake.clock = lambda: real() + 2 * 3600  # the fake's clock is 2 h ahead
        try:
            with pytest.raises(StorageUnavailable):
                store.put("jobs/x/video.mp4", VIDEO)
        finally:
            cloudinary_fake.clock = real

    def test_large_files_go_in_chunks(
        self, store: Storage, cloudinary_fake, tmp_path: Path
    ) -> None:
        store.large_upload_bytes = 1000  # type: ignore[attr-defined]
        source = tmp_path / "video.mp4"
        source.write_bytes(VIDEO * 3)
        from cloudinary import uploader

        original = uploader.upload_large

        def small_chunks(file: str, **options: object) -> object:
            return original(file, chunk_size=5000, **options)

        uploader.upload_large = small_chunks  # type: ignore[assignment]
        try:
            cloudinary_fake.requests.clear()
            store.put("jobs/big/video.mp4", source)
        finally:
            uploader.upload_large = original  # type: ignore[assignment]
        uploads = [p for _m, p in cloudinary_fake.requests if p.endswith("/upload")]
        assert len(uploads) == 7 and set(uploads) == {"/v1_1/demo-cloud/video/upload"}
        with store.open("jobs/big/video.mp4") as stream:
            assert stream.read() == VIDEO * 3

    def test_listing_pages_through_the_admin_api(self, store: Storage, monkeypatch) -> None:
        from storage import cloudinary_store

        monkeypatch.setattr(cloudinary_store, "LIST_PAGE", 2)
        for n in range(5):
            store.put(f"jobs/p/photo{n}.jpg", b"\xff\xd8" + bytes([n]))
        assert sorted(o.key for o in store.list("jobs/p/")) == [
            f"jobs/p/photo{n}.jpg" for n in range(5)
        ]

    def test_missing_settings_name_the_key(self, settings_env) -> None:
        from secrets_manager import get_settings
        from storage.cloudinary_store import CloudinaryStorage

        settings_env(storage__backend="cloudinary", cloudinary__cloud_name="demo")
        with pytest.raises(ConfigError, match=r"\[cloudinary\] api_key is required"):
            CloudinaryStorage.from_settings(get_settings())
