"""Shared pytest fixtures. Several parts of the app add fixtures here: append, never rewrite."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # top-level modules import from the repo root, as in the app
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------- foundation: settings, data, jobs


@pytest.fixture
def foundation_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Isolated settings and data: an empty secrets file, no TALKINGPHOTO__* variables from the
    developer's shell, a fresh data folder (returned), fresh settings and engine caches.

    With ``TP_TEST_DATABASE_URL`` set (e.g. a scratch Postgres), tests run against that
    database instead of SQLite; its schema is emptied before each test.
    """
    from db.session import dispose_engines
    from secrets_manager import reset_settings_cache

    for name in list(os.environ):
        if name.upper().startswith("TALKINGPHOTO"):
            monkeypatch.delenv(name)
    external_db = os.environ.get("TP_TEST_DATABASE_URL")
    if external_db:
        _empty_database(external_db)
        monkeypatch.setenv("TALKINGPHOTO__DATABASE__URL", external_db)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("", "utf-8")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TALKINGPHOTO_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("TALKINGPHOTO_DATA_DIR", str(data_dir))
    reset_settings_cache()
    dispose_engines()
    yield data_dir
    dispose_engines()
    reset_settings_cache()


@pytest.fixture
def settings_env(
    foundation_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., None]]:
    """``settings_env(limits__workers=1, credits__signup_grant=0)``: override settings the
    way an operator would (environment variables) and reload them."""
    from secrets_manager import reset_settings_cache

    def apply(**values: object) -> None:
        for name, value in values.items():
            section, key = name.split("__")
            monkeypatch.setenv(f"TALKINGPHOTO__{section.upper()}__{key.upper()}", str(value))
        reset_settings_cache()

    yield apply
    reset_settings_cache()


@pytest.fixture
def jobs_env(foundation_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The fake provider registered as "fake" and a synchronous executor; yields the fake's
    plan (``tests.fakes.PLAN``). Swap the executor with ``background_tasks.set_executor``."""
    import background_tasks
    import providers
    from tests import fakes

    plan = fakes.reset()
    monkeypatch.setitem(providers.REGISTRY, "fake", fakes.FAKE_PROVIDER)
    previous = background_tasks.set_executor(background_tasks.SyncExecutor())
    yield plan
    plan.release.set()  # never leave a blocked fake behind
    current = background_tasks.set_executor(previous)
    if current is not None:
        current.shutdown(wait=True)


def _empty_database(url: str) -> None:
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
            else:
                meta = MetaData()
                meta.reflect(conn)
                meta.drop_all(conn)
    finally:
        engine.dispose()


# --------------------------------------------------------------- engine: photos, faces, videos


@pytest.fixture(scope="session")
def astronaut_rgb() -> object:
    """skimage.data.astronaut() (public domain) upscaled 2x to 1024 px, as RGB uint8.

    Upscaled because the original's face is ~95 px across, under the 120 px minimum face
    size; at 1024 px it is ~195 px, like a typical phone portrait.
    """
    import cv2
    from skimage import data

    return cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


@pytest.fixture
def astronaut_path(tmp_path: Path, astronaut_rgb: object) -> Path:
    """The astronaut portrait as a JPEG file (see ``astronaut_rgb``)."""
    from PIL import Image

    path = tmp_path / "astronaut.jpg"
    Image.fromarray(astronaut_rgb).save(path, "JPEG", quality=92)  # type: ignore[arg-type]
    return path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """TALKINGPHOTO_DATA_DIR pointed at a fresh folder (settings re-read), returned."""
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("TALKINGPHOTO_DATA_DIR", str(folder))
    try:
        from secrets_manager import reset_settings_cache
    except ImportError:
        reset_settings_cache = None
    if reset_settings_cache is not None:
        reset_settings_cache()
    yield folder
    if reset_settings_cache is not None:
        reset_settings_cache()


# --------------------------------------------------------------- accounts, payments, rate limits


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    """Rate-limit counters live in process memory: no test may inherit another's attempts."""
    yield
    module = sys.modules.get("services.ratelimit")
    if module is not None:
        module.reset_for_tests()


@pytest.fixture
def accounts_env(
    settings_env: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., None]]:
    """``settings_env`` plus cheap Argon2 parameters (the hashes stay real Argon2id), fresh
    rate limits, token keys and demo-gateway state. Yields ``settings_env``."""
    from argon2 import PasswordHasher

    from payments import demo
    from services import accounts, ratelimit, tokens

    monkeypatch.setattr(
        accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    ratelimit.reset_for_tests()
    tokens.reset_for_tests()
    demo.reset_for_tests()
    yield settings_env
    demo.reset_for_tests()
    tokens.reset_for_tests()


@pytest.fixture
def fake_stripe(accounts_env: Callable[..., None]) -> Iterator[object]:
    """A running tests.fakes.stripe_api.FakeStripe wired into [stripe] settings."""
    from tests.fakes.stripe_api import FakeStripe

    with FakeStripe(secret_key="sk_test_" + "f" * 24) as fake:
        accounts_env(
            features__enable_payments="true",
            stripe__secret_key=fake.secret_key,
            stripe__webhook_secret="whsec_test_" + "w" * 24,
            stripe__api_base=fake.url,
        )
        yield fake


@pytest.fixture
def fake_razorpay(accounts_env: Callable[..., None]) -> Iterator[object]:
    """A running tests.fakes.razorpay_api.FakeRazorpay wired into [razorpay] settings."""
    from tests.fakes.razorpay_api import FakeRazorpay

    with FakeRazorpay(key_id="rzp_test_fake", key_secret="rzp_secret_" + "k" * 16) as fake:
        accounts_env(
            features__enable_payments="true",
            razorpay__key_id=fake.key_id,
            razorpay__key_secret=fake.key_secret,
            razorpay__webhook_secret="rzp_whsec_" + "h" * 16,
            razorpay__api_base=fake.url,
        )
        yield fake


# --------------------------------------------------------------- identity (issue 17)

# Page tests written when every development browser session was the one shared "Local
# creator": they drive AppTest sessions and then look that user up with
# ``accounts.current_user()``. Per-browser identity removed the shared user, so these
# modules run in the deliberate single-user mode (``[accounts] single_user = true``) until
# their owners move them to per-browser users (sign up / start a guest in the session).
# Every other test sees the real default: no shared user.
LEGACY_SINGLE_USER_MODULES = frozenset(
    {
        "test_app_pages",
        "test_payments_pages",
        "test_provider_app",
        "test_health_page",
        "test_sharing_pages",
        "test_bad_inputs",
        "test_health_secrets",
    }
)


@pytest.fixture(autouse=True)
def _legacy_single_user_pages(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = request.node.module.__name__.rsplit(".", 1)[-1] if request.node.module else ""
    if module not in LEGACY_SINGLE_USER_MODULES or "foundation_env" not in request.fixturenames:
        return
    request.getfixturevalue("foundation_env")  # it clears TALKINGPHOTO_* first
    from secrets_manager import reset_settings_cache

    monkeypatch.setenv("TALKINGPHOTO__ACCOUNTS__SINGLE_USER", "true")
    reset_settings_cache()
