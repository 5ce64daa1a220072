"""services.media and whole jobs on a remote back end (S3 on moto's server): photos, videos,
thumbnails and captions all go through storage, and nothing needs the local media folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

import storage
from errors import ConfigError, InvalidStorageKey
from services import accounts, jobs, media, sharing
from tests.fakes import stored_file
from tests.test_sharing import make_video
from tests.test_storage_contract import moto_url, s3_settings  # noqa: F401 - fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def on_s3(jobs_env, settings_env, moto_url: str) -> accounts.UserView:  # noqa: F811
    import uuid

    bucket = f"tp-{uuid.uuid4().hex[:12]}"
    settings = s3_settings(settings_env, moto_url, bucket)
    settings_env(features__enable_social_sharing="true")
    store = storage.get_storage()
    assert store.name == "s3" and store is storage.get_storage()  # one per settings object
    store.client.create_bucket(  # type: ignore[attr-defined]
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"}
    )
    assert settings.aws.bucket == bucket
    media.clear_url_cache()
    return accounts.current_user()


def bucket_keys() -> set[str]:
    return {obj.key for obj in storage.get_storage().list("")}


def test_a_job_stores_everything_in_the_bucket(on_s3: accounts.UserView, foundation_env: Path):
    job = make_video(on_s3.id)
    assert job.status == "succeeded"
    stored = bucket_keys()
    assert {job.video_key, job.thumbnail_key, job.srt_key, job.vtt_key} <= stored
    assert len(stored) == 5  # and the photo
    assert not (foundation_env / "media").exists() or not any(
        (foundation_env / "media").rglob("*.mp4")
    )
    assert stored_file(job.video_key) is None  # listing jobs never downloads videos

    url = media.playback_url(job.video_key)  # type: ignore[arg-type]
    assert url.startswith("http://127.0.0.1:") and "X-Amz-Expires=900" in url
    answer = requests.get(url, headers={"Range": "bytes=4-7"}, timeout=10)
    assert answer.status_code == 206 and answer.content == b"ftyp"
    download = media.download_url(job.video_key, "mine.mp4")  # type: ignore[arg-type]
    assert "attachment" in requests.get(download, timeout=10).headers["Content-Disposition"]
    assert media.public_url(job.video_key) is not None  # type: ignore[arg-type]


def test_retry_reads_the_photo_back_and_delete_empties_the_bucket(
    on_s3: accounts.UserView, jobs_env, foundation_env: Path
) -> None:
    jobs_env.mode = "reject"
    failed = make_video(on_s3.id)
    assert bucket_keys() == {f"jobs/{failed.id}/photo.jpg"}  # a failed job keeps only its photo
    jobs_env.mode = "ok"
    retried = jobs.retry(failed.id, on_s3.id)
    assert retried.status == "succeeded"
    assert (foundation_env / "cache" / "media" / "jobs" / failed.id / "photo.jpg").is_file()

    made = sharing.create(retried.id, on_s3.id)
    jobs.delete(retried.id, on_s3.id)
    jobs.delete(failed.id, on_s3.id)
    assert bucket_keys() == set()
    assert not any((foundation_env / "cache" / "media").rglob("*.*"))  # cached copies too
    with pytest.raises(Exception, match="no longer shared"):
        sharing.open_link(made.token)


def test_materialize_downloads_into_the_work_folder(on_s3: accounts.UserView, tmp_path: Path):
    media.put("jobs/m/photo.png", b"\x89PNG\r\n\x1a\nbytes")
    path = media.materialize("jobs/m/photo.png", tmp_path)
    assert path == tmp_path / "photo.png" and path.read_bytes() == b"\x89PNG\r\n\x1a\nbytes"
    with media.open("jobs/m/photo.png") as stream:
        assert stream.read(4) == b"\x89PNG"
    assert media.size("jobs/m/photo.png") == 13 and media.total_size("jobs/m/photo.png", None) == 13
    media.delete_job_files("m")
    assert not media.exists("jobs/m/photo.png")
    with pytest.raises(InvalidStorageKey):
        media.delete_job_files("../m")


def test_the_back_end_is_chosen_by_name(settings_env) -> None:
    from storage.local import LocalStorage

    assert isinstance(storage.get_storage(), LocalStorage)  # the default
    with pytest.raises(ConfigError) as caught:
        storage.backend_class("ftp")
    assert caught.value.params == {"name": "ftp", "valid": "cloudinary, local, s3"}
    assert caught.value.user_message == (
        "Unknown storage back end 'ftp'; valid names: cloudinary, local, s3."
    )
    settings_env(storage__backend="s3")  # no bucket: refused when the store is built
    with pytest.raises(ConfigError, match="bucket is required"):
        storage.get_storage()
    settings_env(storage__backend="dropbox")  # the settings refuse it too, naming the choices
    from secrets_manager import get_settings

    with pytest.raises(
        ConfigError, match=r"\[storage\] backend: expected one of 'local', 's3', 'cloudinary'"
    ):
        get_settings()
