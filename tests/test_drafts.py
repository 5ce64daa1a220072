"""services.drafts: the create form's draft per creator (issue 15, item 8).

Real database (migrated SQLite in a temp data folder) and the real local media store.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image


@pytest.fixture
def creator(foundation_env: Path) -> int:
    from db.session import init_db
    from services import accounts

    init_db()
    return accounts.start_guest().id


def _photo(tmp: Path, colour: tuple[int, int, int] = (200, 120, 90)) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", (320, 320), colour).save(buf, "JPEG")
    path = tmp / f"photo-{colour[0]}.jpg"
    path.write_bytes(buf.getvalue())
    return path


def _draft_objects() -> list[str]:
    import storage

    return [obj.key for obj in storage.get_storage().list("drafts/")]


OPTIONS = {
    "language": "hi",
    "language_touched": True,
    "voice": "hi-IN-SwaraNeural",
    "provider": "local",
    "resolution": 720,
    "aspect": "1:1",
    "captions": "burn",
    "head_motion": 0.6,
    "speed": 1.25,
}


def test_a_saved_draft_comes_back_with_its_photo_from_the_media_store(
    creator: int, tmp_path: Path
) -> None:
    from services import drafts

    assert drafts.load(creator) is None
    photo = _photo(tmp_path)
    drafts.save(creator, script="नमस्ते, my shop opens today", options=OPTIONS, photo=photo)
    draft = drafts.load(creator)
    assert draft is not None
    assert draft.script == "नमस्ते, my shop opens today"
    assert draft.options == OPTIONS
    assert draft.photo_key and draft.photo_key.startswith(f"drafts/{creator}/")
    assert drafts.photo_bytes(draft) == photo.read_bytes()
    assert _draft_objects() == [draft.photo_key]


def test_a_new_photo_replaces_the_old_object_and_no_photo_removes_it(
    creator: int, tmp_path: Path
) -> None:
    from services import drafts

    first = drafts.save(creator, script="a", options={}, photo=_photo(tmp_path, (10, 10, 10)))
    second = drafts.save(creator, script="a", options={}, photo=_photo(tmp_path, (250, 9, 9)))
    assert first.photo_key != second.photo_key
    assert _draft_objects() == [second.photo_key]
    drafts.save(creator, script="a", options={}, photo=None)
    assert _draft_objects() == []
    assert drafts.load(creator).photo_key is None  # type: ignore[union-attr]


def test_a_draft_is_bounded(creator: int, tmp_path: Path) -> None:
    from services import drafts

    odd = {
        **OPTIONS,
        "voice": "v" * 5000,  # too long: dropped
        "resolution": True,  # a bool is not a resolution
        "speed": float("nan"),
        "password": "hunter2",  # not an option at all
    }
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"0" * (drafts.MAX_PHOTO_BYTES + 1))
    draft = drafts.save(creator, script="x" * 50_000, options=odd, photo=big)
    assert len(draft.script) == drafts.MAX_SCRIPT_CHARS
    assert set(draft.options) == set(OPTIONS) - {"voice", "resolution", "speed"}
    assert draft.photo_key is None and _draft_objects() == []


def test_generate_consumes_the_script_and_photo_and_keeps_the_voice(
    creator: int, tmp_path: Path
) -> None:
    from services import drafts

    drafts.save(creator, script="Hello", options=OPTIONS, photo=_photo(tmp_path))
    drafts.consume(creator)
    draft = drafts.load(creator)
    assert draft is not None
    assert draft.script == "" and draft.photo_key is None
    assert draft.options["voice"] == "hi-IN-SwaraNeural"
    assert draft.options["language"] == "hi"
    assert "aspect" not in draft.options  # the shape follows the next photo
    assert _draft_objects() == []


def test_drafts_are_per_creator(creator: int, tmp_path: Path) -> None:
    from services import accounts, drafts

    other = accounts.start_guest().id
    drafts.save(creator, script="mine", options={}, photo=None)
    assert drafts.load(other) is None
    drafts.save(other, script="theirs", options={}, photo=None)
    assert drafts.load(creator).script == "mine"  # type: ignore[union-attr]


def test_deleting_the_account_deletes_the_draft_and_its_photo(creator: int, tmp_path: Path) -> None:
    from services import account_deletion, drafts

    drafts.save(creator, script="Hello", options=OPTIONS, photo=_photo(tmp_path))
    account_deletion.delete_account(creator)
    assert drafts.load(creator) is None
    assert _draft_objects() == []
