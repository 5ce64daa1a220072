"""Sentry: only with a DSN, and every event scrubbed like the logs (before_send).

The end-to-end test points the DSN at a fake ingestion server on 127.0.0.1 and reads the
envelopes the real ``sentry-sdk`` sends.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from observability import logs as logging_setup
from observability import sentry as error_tracking
from observability.redaction import MASK

SECRET = "planted-Sentry-Secret-31415"


def test_before_send_scrubs_every_string_and_tags_the_reference(
    settings_env: Callable[..., None],
) -> None:
    settings_env(stripe__secret_key=SECRET)
    event: dict[str, Any] = {
        "message": f"charge failed with {SECRET}",
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"Bearer abcdefghijklmnop {SECRET} card 4242424242424242",
                    "stacktrace": {"frames": [{"vars": {"api_key": "k-1", "n": "3"}}]},
                }
            ]
        },
        "extra": {"ref": "c0ffee12", "email": "jane@example.com"},
        "breadcrumbs": {"values": [{"message": f"GET /x?token={SECRET}"}]},
        "request": {"headers": {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}, "cookies": "s=1"},
        "user": {"email": "jane@example.com", "ip_address": "203.0.113.9"},
    }
    out = error_tracking.before_send(event, {})
    text = json.dumps(out)
    for leaked in (SECRET, "abcdefghijklmnop", "4242424242424242", "jane@", "203.0.113.9", "k-1"):
        assert leaked not in text, leaked
    assert out["tags"]["ref"] == "c0ffee12"
    assert out["request"]["headers"]["Authorization"] == MASK
    assert "cookies" not in out["request"] and "user" not in out
    assert "RuntimeError" in text and "****4242" in text  # still useful to read


def test_no_dsn_means_no_client(settings_env: Callable[..., None]) -> None:
    from secrets_manager import get_settings

    settings_env()
    assert error_tracking.init_sentry(get_settings()) is False


# ------------------------------------------------------------------- fake ingestion server


class _Ingest(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]

            body = brotli.decompress(body)
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def fake_sentry() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: ClassVar[list[tuple[str, bytes]]] = []
    handler = type("Ingest", (_Ingest,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield f"http://publickey@127.0.0.1:{port}/42", received
    finally:
        error_tracking.shutdown()
        logging_setup.reset()
        server.shutdown()
        server.server_close()


def _events(received: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    events = []
    for path, body in received:
        assert path == "/api/42/envelope/"
        lines = io.BytesIO(body).read().split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_error_logs_reach_sentry_scrubbed_with_their_reference(
    settings_env: Callable[..., None], fake_sentry: tuple[str, list[tuple[str, bytes]]]
) -> None:
    import sentry_sdk

    from secrets_manager import get_settings

    dsn, received = fake_sentry
    settings_env(sentry__dsn=dsn, d_id__api_key=SECRET)
    logging_setup.configure(get_settings(), stream=io.StringIO())
    error_tracking.init_sentry(get_settings())
    log = logging.getLogger("talkingphoto.test")
    log.info("context for the next error: key %s", SECRET)  # a breadcrumb
    try:
        raise RuntimeError(f"vendor rejected {SECRET} from jane@example.com")
    except RuntimeError:
        log.error(
            "unexpected error in page (ref %s)",
            "5eed5eed",
            exc_info=True,
            extra={"ref": "5eed5eed"},
        )
    sentry_sdk.get_client().flush(timeout=10)

    events = _events(received)
    assert len(events) == 1, received
    (event,) = events
    raw = json.dumps(event)
    assert SECRET not in raw and "jane@example.com" not in raw
    assert event["tags"]["ref"] == "5eed5eed"
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    assert MASK in event["exception"]["values"][0]["value"]
    assert "user" not in event or not event["user"].get("email")
    crumbs = [c.get("message", "") for c in event["breadcrumbs"]["values"]]
    assert f"context for the next error: key {MASK}" in crumbs
