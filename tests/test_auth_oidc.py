"""OpenID Connect sign-in (``st.login``, Authlib) against a fake identity provider on
loopback, in a real browser: the provider's ``email_verified`` decides the admin role.

The fake provider serves discovery, ``/authorize`` (straight back to the app with a code,
as if the person had signed in), ``/token`` (an RS256 ID token carrying the nonce) and
``/jwks``. Streamlit reads ``[auth]`` from the app's ``.streamlit/secrets.toml``; our own
settings ignore that section.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from errors import AuthError
from services import accounts

CLIENT_ID = "talkingphoto-test"
ADMIN = "lead@example.com"


class FakeIdP:
    """A minimal OpenID provider. ``claims`` is what the next sign-in says about the person."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeIdP:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def id_token(self, nonce: str | None, claims: dict[str, Any]) -> str:
        now = int(time.time())
        body = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": claims["email"],
            "iat": now,
            "exp": now + 600,
            **claims,
        }
        if nonce:
            body["nonce"] = nonce
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "k1"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _json(self, body: dict[str, Any], status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(idp.metadata())
                elif url.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(idp.key.public_key()))
                    self._json({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                elif url.path == "/authorize":
                    query = {k: v[0] for k, v in parse_qs(url.query).items()}
                    code = secrets.token_urlsafe(16)
                    idp.codes[code] = {"nonce": query.get("nonce"), "claims": dict(idp.claims)}
                    back = (
                        query["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": query.get("state", "")})
                    )
                    self.send_response(302)
                    self.send_header("Location", back)
                    self.end_headers()
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                grant = idp.codes.pop(form.get("code", ""), None)
                if urlsplit(self.path).path != "/token" or grant is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                self._json(
                    {
                        "access_token": secrets.token_urlsafe(16),
                        "token_type": "Bearer",
                        "expires_in": 600,
                        "id_token": idp.id_token(grant["nonce"], grant["claims"]),
                    }
                )

        return Handler


# ------------------------------------------------------------------ service-level rules


def test_the_admin_role_follows_the_providers_email_verified(accounts_env) -> None:
    accounts_env(accounts__admins=f'["{ADMIN.upper()}"]')
    unverified = accounts.sign_in_oidc(ADMIN, "Lead", email_verified=False)
    assert not unverified.is_admin and not unverified.email_verified
    verified = accounts.sign_in_oidc(ADMIN, "Lead", email_verified=True)
    assert verified.id == unverified.id and verified.is_admin
    # The provider's latest word counts: unverified again, no admin.
    assert not accounts.sign_in_oidc(ADMIN, "Lead", email_verified=False).is_admin


def test_an_unverified_oidc_identity_cannot_take_over_a_password_account(accounts_env) -> None:
    owner = accounts.sign_up("owner@example.com", "correct horse battery")
    with pytest.raises(AuthError):
        accounts.sign_in_oidc("owner@example.com", "Squatter", email_verified=False)
    assert accounts.sign_in_oidc("owner@example.com", "Owner", email_verified=True).id == owner.id


# ------------------------------------------------------------------ the browser path


@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdP]:
    pytest.importorskip("authlib")  # st.login needs it (requirements.txt)
    with FakeIdP() as fake:
        yield fake


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory, idp: FakeIdP) -> Iterator[str]:
    from tests.test_app_server import (
        _copy_without_secrets,
        free_port,
        start_server,
        stop_server,
        wait_healthy,
    )

    tmp = tmp_path_factory.mktemp("oidc")
    workdir = _copy_without_secrets(tmp / "app")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (workdir / ".streamlit").mkdir(exist_ok=True)
    (workdir / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{base}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{secrets.token_urlsafe(16)}"\n'
        f'server_metadata_url = "{idp.url}/.well-known/openid-configuration"\n',
        "utf-8",
    )
    home = tmp / "home"
    home.mkdir()
    env = {
        "TALKINGPHOTO__FEATURES__ALLOW_GUEST": "false",  # the sign-in page, not a guest
        "TALKINGPHOTO__ACCOUNTS__ADMINS": f'["{ADMIN}"]',
    }
    proc = start_server(workdir, port, tmp / "data", home, env)
    try:
        wait_healthy(base, proc, home / "server.log")
        yield base
    finally:
        stop_server(proc)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("verified", [False, True])
def test_oidc_sign_in_in_a_browser_grants_admin_only_when_verified(
    oidc_server: str, idp: FakeIdP, verified: bool
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from tests.test_e2e import CHROMIUM, _loaded
    from tests.test_sessions_browser import ARGS, _shot

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed")
    expect = sync_api.expect
    idp.claims = {"email": ADMIN, "email_verified": verified, "name": "Team Lead"}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.viewport_name = "desktop"
        page.set_default_timeout(30_000)
        page.goto(oidc_server)
        _loaded(page)
        page.get_by_role("button", name=re.compile("organisation's account")).click()
        expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
        _loaded(page)
        links = page.get_by_test_id("stSidebarNavLink")
        expect(links.filter(has_text="Account")).to_be_visible()
        if verified:
            expect(links.filter(has_text="Health")).to_be_visible()
        else:
            expect(links.filter(has_text="Health")).to_have_count(0)
        # Reload: Streamlit's own identity cookie keeps the person signed in.
        page.reload()
        _loaded(page)
        expect(page.get_by_role("button", name="Sign out", include_hidden=True)).to_be_attached()
        _shot(page, f"o01-oidc-{'verified' if verified else 'unverified'}")
        context.close()
        browser.close()
