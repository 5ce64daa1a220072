"""Settings: defaults without a file, precise errors, env overrides, secrets that never print."""

from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path

import pytest

import secrets_manager
from errors import ConfigError
from observability.redaction import ScrubFilter
from secrets_manager import (
    Settings,
    get_settings,
    load_settings,
    redact,
    reset_settings_cache,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / ".streamlit" / "secrets.toml.example"
SECRET = "sk_test_51TopSecretValueDoNotPrint"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "secrets.toml"
    path.write_text(text, "utf-8")
    return path


def empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.toml"
    path.write_text("", "utf-8")
    return path


def config_error(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=environ or {})
    return info.value.user_message


# ---------------------------------------------------------------------------- loading


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.app.environment == "development"
    assert settings.app.data_dir == tmp_path / "data"
    assert settings.limits.workers == 2
    assert settings.limits.max_active_jobs_per_user == 2
    assert settings.providers.default == "local"
    assert settings.credits.signup_grant == 20
    assert settings.features.enable_advanced_options is True
    assert settings.features.enable_payments is False
    assert settings.database.url is None
    assert settings.d_id.base_url == "https://api.d-id.com"
    assert settings.stripe.secret_key is None


def test_default_file_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text("[limits]\nworkers = 5\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).limits.workers == 5


def test_user_wide_file_is_used_when_the_project_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".streamlit").mkdir(parents=True)
    (home / ".streamlit" / "secrets.toml").write_text("[limits]\nworkers = 3\n")
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    assert load_settings(environ={}).limits.workers == 3
    # A project file takes precedence over the user-wide one.
    (project / ".streamlit").mkdir()
    (project / ".streamlit" / "secrets.toml").write_text("[limits]\nworkers = 4\n")
    assert load_settings(environ={}).limits.workers == 4


def test_secrets_file_env_names_another_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[app]\nenvironment = "production"\n')
    settings = load_settings(environ={"TALKINGPHOTO_SECRETS_FILE": str(path)})
    assert settings.app.environment == "production"


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"TALKINGPHOTO_SECRETS_FILE": str(tmp_path / "nope.toml")})


def test_data_dir_from_environment(tmp_path: Path) -> None:
    path = write(tmp_path, '[app]\ndata_dir = "/somewhere/else"\n')
    settings = load_settings(path, environ={"TALKINGPHOTO_DATA_DIR": str(tmp_path / "d")})
    assert settings.app.data_dir == tmp_path / "d"


def test_a_retired_key_still_loads_and_a_misspelt_one_does_not(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[features]\nenable_caching = false\n"), environ={})
    assert not hasattr(settings.features, "enable_caching")
    assert "enable_cachin" in config_error(write(tmp_path, "[features]\nenable_cachin = 1\n"))


def test_blank_optional_value_means_unset(tmp_path: Path) -> None:
    path = write(tmp_path, '[heygen]\napi_key = ""\n[database]\nurl = ""\n')
    settings = load_settings(path, environ={})
    assert settings.heygen.api_key is None
    assert settings.database.url is None


def test_streamlit_sections_are_left_to_streamlit(tmp_path: Path) -> None:
    path = write(tmp_path, '[auth]\nredirect_uri = "x"\n[connections.sql]\nurl = "y"\n')
    assert load_settings(path, environ={}) == load_settings(empty(tmp_path), environ={})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits\nworkers = 2\n")
    message = config_error(path)
    assert str(path) in message and "not valid TOML" in message


# ----------------------------------------------------------------------------- errors


def test_bad_value_names_its_key_and_what_is_expected(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, '[limits]\nworkers = "many"\n'))
    assert "[limits] workers: expected an integer between 1 and 16, got 'many'" in message


def test_every_bad_value_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[features]\nenable_payments = "sometimes"\n'
        '[app]\nenvironment = "staging"\nbase_url = "ftp://example.com"\n'
        "[limits]\nmax_photo_side_px = 100\n",
    )
    message = config_error(path)
    assert "[features] enable_payments: expected true or false, got 'sometimes'" in message
    assert "[app] environment: expected one of 'development', 'production', got 'staging'" in (
        message
    )
    assert "[app] base_url: expected an http:// or https:// URL, got 'ftp://example.com'" in (
        message
    )
    assert "[limits] max_photo_side_px: expected an integer between 256 and 8192, got 100" in (
        message
    )


def test_unknown_key_and_section_are_rejected_with_a_suggestion(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, "[limits]\nworker = 3\n[limit]\nworkers = 3\n"))
    assert "[limits] worker: unknown key (did you mean 'workers'?)" in message
    assert "[limit]: unknown section (did you mean 'limits'?)" in message


def test_cross_field_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nmin_photo_side_px = 1024\nmax_photo_side_px = 512\n")
    assert "[limits]: min_photo_side_px must not exceed max_photo_side_px" in config_error(path)


# ------------------------------------------------------------------------ environment


def test_env_overrides_the_file_case_insensitively(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits]\nworkers = 3\n")
    settings = load_settings(
        path,
        environ={
            "TALKINGPHOTO__LIMITS__WORKERS": "4",
            "talkingphoto__features__enable_payments": "true",
            "TALKINGPHOTO__D_ID__BASE_URL": "http://127.0.0.1:9999",
            "TALKINGPHOTO__D_ID__READ_S": "2.5",
            "TALKINGPHOTO__APP__NAME": "123",  # a string key keeps digits as text
        },
    )
    assert settings.limits.workers == 4
    assert settings.features.enable_payments is True
    assert settings.d_id.base_url == "http://127.0.0.1:9999"
    assert settings.d_id.read_s == 2.5
    assert settings.app.name == "123"


def test_env_lists_as_json_or_commas(tmp_path: Path) -> None:
    none = empty(tmp_path)
    as_json = load_settings(none, environ={"TALKINGPHOTO__PROVIDERS__ORDER": '["d_id", "heygen"]'})
    as_csv = load_settings(none, environ={"TALKINGPHOTO__PROVIDERS__ORDER": "d_id, heygen"})
    assert as_json.providers.order == as_csv.providers.order == ["d_id", "heygen"]


def test_env_secret_becomes_a_secret(tmp_path: Path) -> None:
    settings = load_settings(empty(tmp_path), environ={"TALKINGPHOTO__STRIPE__SECRET_KEY": SECRET})
    assert settings.stripe.secret_key is not None
    assert settings.stripe.secret_key.get_secret_value() == SECRET


def test_bad_env_value_names_the_variable(tmp_path: Path) -> None:
    message = config_error(empty(tmp_path), {"TALKINGPHOTO__LIMITS__WORKERS": "lots"})
    assert "[limits] workers: expected an integer between 1 and 16, got 'lots'" in message
    assert "TALKINGPHOTO__LIMITS__WORKERS" in message


def test_malformed_env_name_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TALKINGPHOTO__<SECTION>__<KEY>"):
        load_settings(empty(tmp_path), environ={"TALKINGPHOTO__WORKERS": "2"})


# ---------------------------------------------------------------------------- secrets


def secret_settings(tmp_path: Path) -> Settings:
    path = write(
        tmp_path,
        f'[stripe]\nsecret_key = "{SECRET}"\n'
        '[database]\nurl = "postgresql+psycopg://tp:Pa55wordXYZ@db.example.com/tp"\n',
    )
    return load_settings(path, environ={"TALKINGPHOTO__D_ID__API_KEY": "did_key_SECRET_123"})


RENDERERS = {
    "repr": repr,
    "str": str,
    "json": lambda s: s.model_dump_json(),
    "dump": lambda s: str(s.model_dump()),
}


@pytest.mark.parametrize("how", sorted(RENDERERS))
def test_secrets_never_print(tmp_path: Path, how: str) -> None:
    text = RENDERERS[how](secret_settings(tmp_path))
    for secret in (SECRET, "did_key_SECRET_123", "Pa55wordXYZ"):
        assert secret not in text


def test_database_url_is_dumped_without_its_password(tmp_path: Path) -> None:
    settings = secret_settings(tmp_path)
    assert "tp:***@db.example.com" in settings.model_dump_json()
    assert settings.database.url == "postgresql+psycopg://tp:Pa55wordXYZ@db.example.com/tp"


def test_secrets_never_reach_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = secret_settings(tmp_path)
    monkeypatch.setattr(secrets_manager, "get_settings", lambda: settings)
    key = settings.stripe.secret_key
    assert key is not None
    logger = logging.getLogger("tests.settings")
    redactor = ScrubFilter()
    caplog.handler.addFilter(redactor)
    try:
        with caplog.at_level(logging.INFO, logger="tests.settings"):
            logger.info("loaded %s", settings)
            logger.info("stripe section %r", settings.stripe)
            # A careless message that interpolates the raw value is still masked.
            logger.warning("calling stripe with %s", key.get_secret_value())
            try:
                raise RuntimeError(f"bad key {key.get_secret_value()}")
            except RuntimeError:
                logger.exception("vendor call failed")
    finally:
        caplog.handler.removeFilter(redactor)
    assert "vendor call failed" in caplog.text and "RuntimeError: bad key" in caplog.text
    assert SECRET not in caplog.text
    assert "**********" in caplog.text


def test_redact_replaces_every_configured_secret(tmp_path: Path) -> None:
    settings = secret_settings(tmp_path)
    text = f"key={SECRET} did=did_key_SECRET_123 dsn=postgresql://tp:Pa55wordXYZ@db"
    cleaned = redact(text, settings)
    assert SECRET not in cleaned and "did_key_SECRET_123" not in cleaned
    assert "Pa55wordXYZ" not in cleaned
    assert cleaned.count("**********") == 3


def test_a_secret_in_a_bad_entry_is_not_echoed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[stripe]\nsecret_kye = "{SECRET}"\nwebhook_secret = 12345\n'
        '[database]\nurl = "not a url Pa55wordXYZ"\n',
    )
    message = config_error(path)
    assert "[stripe] secret_kye: unknown key (did you mean 'secret_key'?)" in message
    assert "[stripe] webhook_secret: expected a string, got a value of type int (hidden)" in message
    assert "[database] url:" in message
    assert SECRET not in message and "Pa55wordXYZ" not in message and "12345" not in message


# ------------------------------------------------------------------------------ cache


def test_get_settings_is_cached_until_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[limits]\nworkers = 3\n")
    monkeypatch.setenv("TALKINGPHOTO_SECRETS_FILE", str(path))
    reset_settings_cache()
    try:
        first = get_settings()
        assert first.limits.workers == 3
        path.write_text("[limits]\nworkers = 4\n")
        assert get_settings() is first
        reset_settings_cache()
        assert get_settings().limits.workers == 4
    finally:
        monkeypatch.undo()
        reset_settings_cache()


# ------------------------------------------------------------------------ example file

KEY_LINE = re.compile(r"^#?\s*([a-z_][a-z0-9_]*)\s*=\s*(.+)$")
SECTION_LINE = re.compile(r"^\[([a-z_]+)\]\s*$")


def example_entries() -> list[tuple[str, str, bool, int]]:
    """(section, key, commented out, line number) of every key line in the example."""
    entries = []
    section = ""
    for number, line in enumerate(EXAMPLE.read_text("utf-8").splitlines()):
        if match := SECTION_LINE.match(line):
            section = match.group(1)
        elif (match := KEY_LINE.match(line)) and section:
            entries.append((section, match.group(1), line.startswith("#"), number))
    return entries


def test_example_documents_every_setting_and_nothing_else() -> None:
    documented = {(section, key) for section, key, _, _ in example_entries()}
    fields = {
        (section, key)
        for section, field in Settings.model_fields.items()
        for key in field.annotation.model_fields  # type: ignore[union-attr]
    }
    assert fields - documented == set(), "settings missing from the example"
    assert documented - fields == set(), "example keys that are not settings"


def test_every_example_key_has_a_comment_with_its_default() -> None:
    lines = EXAMPLE.read_text("utf-8").splitlines()
    for section, key, _commented, number in example_entries():
        above = []
        for line in reversed(lines[:number]):
            if not line.startswith("#") or KEY_LINE.match(line):
                break
            above.append(line)
        assert above, f"[{section}] {key} has no comment"
        assert "Default:" in " ".join(above), f"[{section}] {key}: the comment names no default"


def test_example_as_shipped_equals_the_defaults(tmp_path: Path) -> None:
    environ = {"TALKINGPHOTO_DATA_DIR": str(tmp_path)}
    assert load_settings(EXAMPLE, environ=environ) == load_settings(
        empty(tmp_path), environ=environ
    )


def test_example_with_everything_uncommented_is_valid_and_holds_no_real_secret(
    tmp_path: Path,
) -> None:
    text = EXAMPLE.read_text("utf-8")
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and KEY_LINE.match(line) else line
        for line in text.splitlines()
    )
    tomllib.loads(uncommented)
    settings = load_settings(write(tmp_path, uncommented), environ={})
    for secret in settings.secret_values():
        assert re.search(r"\.\.\.|CHANGE_ME|example|public@", secret), secret
