"""Errors carry a message template and its params; pages translate the template, never the
English text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import i18n
from errors import (
    N_,
    JobError,
    PhotoError,
    ProviderUnavailable,
    QueueFull,
    TalkingPhotoError,
    render,
)
from views import _components
from views._components import localized, localized_error, localized_job_error

OVERSIZE = N_("The photo is {size:.1f} MB; the limit is {limit:g} MB.")


@pytest.fixture
def hindi() -> Iterator[None]:
    i18n.set_locale_getter(lambda: "hi")
    yield
    i18n.set_locale_getter(lambda: i18n.DEFAULT_LANGUAGE)


def test_an_error_keeps_its_template_and_params_and_says_it_in_english() -> None:
    exc = PhotoError(OVERSIZE, params={"size": 3.04, "limit": 1.0}, detail="upload 3187671 B")
    assert exc.template == OVERSIZE
    assert exc.params == {"size": 3.04, "limit": 1.0}
    assert exc.user_message == "The photo is 3.0 MB; the limit is 1 MB."
    assert str(exc) == exc.user_message
    assert exc.detail == "upload 3187671 B"


def test_params_are_plain_values_that_survive_json() -> None:
    exc = JobError(
        N_("The photo {path} is {n} bytes ({ok})."),
        params={"path": Path("/tmp/a.jpg"), "n": 3, "ok": True},
    )
    assert exc.params == {"path": "/tmp/a.jpg", "n": 3, "ok": True}
    assert json.loads(json.dumps(exc.params)) == exc.params
    assert exc.user_message == "The photo /tmp/a.jpg is 3 bytes (True)."


def test_a_plain_message_without_params_is_its_own_template() -> None:
    # Backwards compatible: braces in a plain message are text, not placeholders.
    exc = TalkingPhotoError("Set [limits] {max_upload_mb} in secrets.toml.")
    assert exc.template == exc.user_message == "Set [limits] {max_upload_mb} in secrets.toml."
    assert exc.params == {}


def test_without_a_message_the_class_default_is_the_template() -> None:
    exc = QueueFull()
    assert exc.template == exc.user_message == QueueFull.default_message
    assert exc.params == {}


def test_provider_errors_keep_their_own_arguments() -> None:
    exc = ProviderUnavailable(
        N_("Try again in {seconds} s."), params={"seconds": 30}, provider="d-id", retry_after_s=30
    )
    assert (exc.provider, exc.retry_after_s) == ("d-id", 30)
    assert exc.user_message == "Try again in 30 s."


def test_a_placeholder_without_its_param_is_a_bug_at_the_raise_site() -> None:
    with pytest.raises(KeyError):
        PhotoError(OVERSIZE, params={"size": 3.0})


def test_render() -> None:
    assert render("{n:,} characters", {"n": 5001}) == "5,001 characters"
    assert render("{not a placeholder}", {}) == "{not a placeholder}"


# ------------------------------------------------------------------------ shown in the UI


def test_the_page_translates_the_template_and_fills_in_the_params(hindi: None) -> None:
    exc = PhotoError(OVERSIZE, params={"size": 3.04, "limit": 1.0})
    assert localized_error(exc) == "फ़ोटो 3.0 MB की है; सीमा 1 MB है।"
    # A class's default message is a template as well.
    assert localized_error(QueueFull()) == "अभी हम व्यस्त हैं; कृपया एक मिनट बाद फिर कोशिश करें।"


def test_english_ui_shows_the_english_message() -> None:
    exc = PhotoError(OVERSIZE, params={"size": 3.04, "limit": 1.0})
    assert localized_error(exc) == exc.user_message


def test_a_template_missing_from_the_catalog_is_shown_in_english(hindi: None) -> None:
    exc = JobError(N_("Brand new message about {thing}."), params={"thing": "x"})
    assert localized_error(exc) == "Brand new message about x."


def test_a_translation_that_does_not_fit_its_params_falls_back_to_english(
    hindi: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_components, "_", lambda template: "फ़ोटो {typo} MB")
    assert localized(OVERSIZE, {"size": 3.04, "limit": 1.0}) == (
        "The photo is 3.0 MB; the limit is 1 MB."
    )


def test_a_failed_job_is_translated_from_its_stored_template(hindi: None) -> None:
    import background_tasks

    job = SimpleNamespace(
        error_message=background_tasks.GENERIC_FAILURE, error_params={"ref": "j1"}
    )
    assert localized_job_error(job) == (  # type: ignore[arg-type]
        "आपका वीडियो बनाते समय कुछ गड़बड़ हो गई। आपके क्रेडिट वापस कर दिए गए हैं। संदर्भ: j1"
    )
    # A row failed before migration 0002 stored finished English and no params.
    old = SimpleNamespace(error_message="The photo is 3.0 MB; the limit is 1 MB.", error_params={})
    assert localized_job_error(old) == "The photo is 3.0 MB; the limit is 1 MB."  # type: ignore[arg-type]
    assert localized_job_error(SimpleNamespace(error_message=None, error_params={})) is None  # type: ignore[arg-type]
