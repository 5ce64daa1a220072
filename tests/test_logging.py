"""Logging: one set-up, readable or JSON lines, context ids, and nothing secret ever written."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from observability import logs as logging_setup
from observability.redaction import MASK, ScrubFilter, scrub, scrub_data

SECRET = "planted-Secret-9f8e7d6c5b4a"  # configured as [d_id] api_key below

LIVE_KEY = "sk_" + "live_" + "51Habcdefghijklmnop"  # a Stripe-shaped fake
AWS_KEY_ID = "AK" + "IA" + "IOSFODNN7EXAMPLE"  # AWS's documented example id


@pytest.fixture
def log_stream(settings_env: Callable[..., None]) -> Iterator[Callable[..., io.StringIO]]:
    """``log_stream(**settings)``: logging configured from those settings into a StringIO."""
    from secrets_manager import get_settings

    def configure(**values: object) -> io.StringIO:
        settings_env(d_id__api_key=SECRET, **values)
        stream = io.StringIO()
        logging_setup.configure(get_settings(), stream=stream)
        return stream

    yield configure
    logging_setup.reset()


# ----------------------------------------------------------------------------------- scrub


@pytest.mark.parametrize(
    ("raw", "gone", "kept"),
    [
        ("Authorization: Bearer abcDEF123456789xyz", "abcDEF123456789xyz", "Authorization"),
        ("GET /v1?api_key=k-123456789&x=1", "k-123456789", "x=1"),
        ('{"password": "hunter2-hunter2"}', "hunter2", '"password"'),
        # Key-shaped strings are assembled here so no file in the repo looks like a live key.
        (f"stripe {LIVE_KEY} failed", LIVE_KEY, "failed"),
        ("webhook whsec_abcdefghijklmnop", "whsec_abcdefghijklmnop", "webhook"),
        (f"aws {AWS_KEY_ID}", AWS_KEY_ID, "aws"),
        ("postgresql://app:pa55word@db.internal/tp", "pa55word", "db.internal/tp"),
        ("paid with 4242 4242 4242 4242 today", "4242 4242 4242 4242", "****4242"),
        ("card 5555555555554444", "5555555555554444", "****4444"),
        ("from jane.doe@example.com", "jane.doe", "j***@example.com"),
        ("Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "Basic"),
    ],
)
def test_scrub_removes_credentials_cards_and_emails(raw: str, gone: str, kept: str) -> None:
    out = scrub(raw)
    assert gone not in out, out
    assert kept in out, out


@pytest.mark.parametrize(
    "text",
    [
        "job 3f2a9c1e-0000-4000-8000-1234567890ab failed (reference 3f2a9c1e-0000-4000-8000)",
        "unexpected error in page (ref 1a2b3c4d)",
        "basic usage of the token bucket; took 1700000000000 ns",
        "not a card: 4242424242424241",
    ],
)
def test_scrub_keeps_references_and_ordinary_text(text: str) -> None:
    assert scrub(text) == text


def test_scrub_masks_configured_secrets(settings_env: Callable[..., None]) -> None:
    settings_env(heygen__api_key="zz-plain-looking-key-42")
    assert scrub("sent zz-plain-looking-key-42 to heygen") == f"sent {MASK} to heygen"


def test_scrub_data_walks_nested_values() -> None:
    data = {"a": ["x jane@example.com"], "headers": {"Authorization": "anything"}, "n": 3}
    out = scrub_data(data)
    assert out == {"a": ["x j***@example.com"], "headers": {"Authorization": MASK}, "n": 3}


# ---------------------------------------------------------------------------- configure


def test_a_secret_in_a_message_argument_or_traceback_is_never_written(
    log_stream: Callable[..., io.StringIO],
) -> None:
    stream = log_stream()
    log = logging.getLogger("talkingphoto.test")
    log.warning("calling vendor with key %s", SECRET)
    log.info(f"inline {SECRET} and api_key=other-token-123456")
    try:
        raise RuntimeError(f"vendor said: invalid key {SECRET} for jane@example.com")
    except RuntimeError:
        log.exception("vendor call failed")
    out = stream.getvalue()
    assert SECRET not in out
    assert "other-token-123456" not in out and "jane@example.com" not in out
    assert out.count(MASK) >= 4
    assert "vendor call failed" in out and "Traceback" in out and "RuntimeError" in out


def test_development_lines_are_readable_with_context_ids(
    log_stream: Callable[..., io.StringIO],
) -> None:
    stream = log_stream()
    with logging_setup.bind(job_id="job-1", user_id=7, request_id="req-9"):
        logging.getLogger("talkingphoto.jobs").info("rendering")
    logging.getLogger("talkingphoto.jobs").info("after")
    first, second = stream.getvalue().splitlines()[-2:]
    expected = "| INFO    | talkingphoto.jobs | rendering [job_id=job-1 user_id=7 request_id=req-9]"
    assert expected in first
    assert second.endswith("| talkingphoto.jobs | after")
    with pytest.raises(json.JSONDecodeError):
        json.loads(first)


def test_production_writes_json_lines(log_stream: Callable[..., io.StringIO]) -> None:
    stream = log_stream(app__environment="production", jwt__secret_key="x" * 40)
    with logging_setup.bind(job_id="job-2", user_id=3):
        try:
            raise ValueError(f"bad {SECRET}")
        except ValueError:
            logging.getLogger("talkingphoto.jobs").error(
                "job failed (ref %s)", "abcd1234", exc_info=True, extra={"ref": "abcd1234"}
            )
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["level"] == "ERROR"
    assert line["logger"] == "talkingphoto.jobs"
    assert line["message"] == "job failed (ref abcd1234)"
    assert (line["job_id"], line["user_id"], line["ref"]) == ("job-2", "3", "abcd1234")
    assert "ValueError: bad " + MASK in line["exception"]
    assert SECRET not in stream.getvalue()


def test_json_lines_setting_overrides_the_environment(
    log_stream: Callable[..., io.StringIO],
) -> None:
    stream = log_stream(logging__json_lines="true")
    logging.getLogger("x").warning("hello")
    assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "hello"


def test_level_setting_filters(log_stream: Callable[..., io.StringIO]) -> None:
    stream = log_stream(logging__level="WARNING")
    logging.getLogger("x").info("quiet")
    logging.getLogger("x").warning("loud")
    assert "quiet" not in stream.getvalue() and "loud" in stream.getvalue()


def test_context_ids_stay_in_their_own_thread(log_stream: Callable[..., io.StringIO]) -> None:
    stream = log_stream()
    ready, done = threading.Event(), threading.Event()

    def other() -> None:
        ready.wait(5)
        logging.getLogger("t").info("from the other thread")
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with logging_setup.bind(job_id="mine"):
        ready.set()
        done.wait(5)
    thread.join(5)
    line = next(x for x in stream.getvalue().splitlines() if "other thread" in x)
    assert "job_id" not in line


def test_file_log_is_rotated_and_scrubbed(
    log_stream: Callable[..., io.StringIO], tmp_path: Path
) -> None:
    path = tmp_path / "logs" / "app.log"
    log_stream(logging__file=str(path), logging__rotation="2 KB", logging__retention="3")
    log = logging.getLogger("talkingphoto.test")
    for i in range(80):
        log.info("line %03d key=%s padding %s", i, SECRET, "." * 40)
    logging_setup.reset()  # closes the file
    files = sorted(path.parent.iterdir())
    assert len(files) >= 2, files  # rotated at 2 KB
    assert len(files) <= 4  # the current file + at most 3 kept
    text = "".join(f.read_text("utf-8") for f in files)
    assert "line 079" in text and SECRET not in text


def test_errors_are_kept_for_the_admin_page(log_stream: Callable[..., io.StringIO]) -> None:
    import datetime as dt

    log_stream()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    log = logging.getLogger("talkingphoto.jobs")
    log.warning("not an error")
    job_ref = "0b5e2c7a-1111-4222-8333-444455556666"
    log.error("job %s failed unexpectedly (reference %s)", "j-1", job_ref)
    log.error(
        "unexpected error in page (ref %s): %s", "feedbeef", SECRET, extra={"ref": "feedbeef"}
    )
    errors = logging_setup.recent_errors()
    assert [e.ref for e in errors] == ["feedbeef", job_ref]
    assert SECRET not in errors[0].message and MASK in errors[0].message
    assert logging_setup.errors_since(start) == 2


def test_unexpected_errors_shown_to_users_carry_a_reference_found_in_the_log(
    log_stream: Callable[..., io.StringIO],
) -> None:
    from views._components import show_unexpected

    stream = log_stream()
    try:
        raise KeyError(f"lookup failed for {SECRET}")
    except KeyError as exc:
        ref = show_unexpected(exc, "page")
    assert len(ref) == 8
    out = stream.getvalue()
    line = next(x for x in out.splitlines() if ref in x)
    assert "unexpected error in page" in line and f"ref={ref}" in line
    assert "KeyError" in out and SECRET not in out


def test_streamlit_own_loggers_are_scrubbed_too(log_stream: Callable[..., io.StringIO]) -> None:
    """Streamlit logs "Uncaught app execution" with the traceback through its own handler."""
    from streamlit.logger import get_logger

    st_log = get_logger("streamlit.tp_logging_test")
    (handler,) = st_log.handlers
    captured = io.StringIO()
    handler.setStream(captured)
    log_stream()  # configure after Streamlit made its loggers, as the app does
    try:
        raise RuntimeError(f"boom near {SECRET}")
    except RuntimeError:
        st_log.error("Uncaught app execution", exc_info=True)
    logging_setup.reset()
    st_log.error("after reset: %s", "plain")
    out = captured.getvalue()
    assert "Uncaught app execution" in out and "RuntimeError: boom near " + MASK in out
    assert SECRET not in out and "after reset: plain" in out
    assert not any(isinstance(f, ScrubFilter) for f in handler.filters)
