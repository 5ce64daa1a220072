"""The terms of service and the privacy policy in every language that has templates: whole
documents (every placeholder filled, every section there), with the phrases the code fills in
(processors, the "to be filled in" marker, retention) in the document's language, English for
anything else, and accepted versions that do not move when a translation is added."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from secrets_manager import get_settings
from services import accounts, legal

LANGUAGES = ("en", "hi", "ta", "te", "bn", "mr")
# The marker for a value the operator has not set, as a reader of that language sees it.
MISSING = {
    "en": "[to be filled in]",
    "hi": "[भरा जाना है]",
    "ta": "[நிரப்பப்பட வேண்டும்]",
    "te": "[నింపాల్సి ఉంది]",
    "bn": "[পূরণ করতে হবে]",
    "mr": "[भरायचे आहे]",
}
STORES = {
    "en": "Stores photos and videos",
    "hi": "फ़ोटो और वीडियो संग्रहीत करता है",
    "ta": "படங்களையும் வீடியோக்களையும் சேமிக்கிறது",
    "te": "ఫోటోలు, వీడియోలను నిల్వ చేస్తుంది",
    "bn": "ফটো ও ভিডিও সংরক্ষণ করে",
    "mr": "फोटो आणि व्हिडिओ साठवते",
}
SCRIPTS = {  # Unicode blocks of the language's script
    "hi": range(0x0900, 0x0980),
    "mr": range(0x0900, 0x0980),
    "bn": range(0x0980, 0x0A00),
    "ta": range(0x0B80, 0x0C00),
    "te": range(0x0C00, 0x0C80),
}
UNFILLED = re.compile(r"\{[a-z_]+\}")
NUMBERED = re.compile(r"^## (\d+)\.", re.M)
HEADINGS = re.compile(r"^(#{1,3}) ", re.M)


def _configure(settings_env: Callable[..., None], **extra: object) -> None:
    """Processors configured, the operator's company set, their phone and address not."""
    settings_env(
        legal__company_name="Asha Media Pvt Ltd",
        d_id__api_key="did-key-123",
        storage__backend="s3",
        aws__bucket="b",
        smtp__host="smtp.mail.example",
        **extra,
    )


@pytest.mark.parametrize("kind", legal.KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_renders_the_whole_document_in_that_language(
    settings_env: Callable[..., None], language: str, kind: str
) -> None:
    _configure(settings_env)
    english = legal.document(kind, "en")
    text = legal.document(kind, language)
    assert not UNFILLED.findall(text), UNFILLED.findall(text)
    assert "Asha Media Pvt Ltd" in text
    # The same sections: numbered ones in the same order, and as many headings of each level.
    assert NUMBERED.findall(text) == NUMBERED.findall(english)
    assert HEADINGS.findall(text) == HEADINGS.findall(english)
    assert text.count("\n| ") == english.count("\n| ")  # the privacy table keeps its rows
    assert f"**{MISSING[language]}**" in text
    if kind == "privacy":
        assert "- **D\\-ID**: " in text and "**Amazon Web Services \\(S3\\)**" in text
        assert STORES[language] in text
    if language == "en":
        return
    assert MISSING["en"] not in text and STORES["en"] not in text
    assert "Makes the talking video" not in text and "Sends account" not in text
    letters = [c for c in text if c.isalpha()]
    native = sum(ord(c) in SCRIPTS[language] for c in letters)
    assert native > 0.6 * len(letters), f"{language} {kind}: only {native}/{len(letters)}"
    if kind == "terms":  # its banner names the marker the way the document shows it
        banner = text.split("\n\n")[0]
        assert MISSING[language].strip("[]") in banner


@pytest.mark.parametrize("language", ("ta", "te", "bn", "mr"))
def test_translations_keep_every_placeholder_of_the_english_template(language: str) -> None:
    for kind in legal.KINDS:
        english = (legal.TEMPLATES / f"{kind}.en.md").read_text("utf-8")
        translated = (legal.TEMPLATES / f"{kind}.{language}.md").read_text("utf-8")
        assert sorted(set(re.findall(r"\{\w+\}", translated))) == sorted(
            set(re.findall(r"\{\w+\}", english))
        ), f"{kind}.{language}.md"


@pytest.mark.parametrize("code", ["xx", "fr-FR", "../privacy", "", None, "EN"])
def test_an_unknown_language_gets_english(
    settings_env: Callable[..., None], code: str | None
) -> None:
    _configure(settings_env)
    assert legal.document_language(code) == "en"
    for kind in legal.KINDS:
        assert legal.document(kind, code) == legal.document(kind, "en")  # type: ignore[arg-type]


def test_a_regional_code_gets_its_language(settings_env: Callable[..., None]) -> None:
    _configure(settings_env)
    assert legal.document_language("ta-IN") == "ta"
    assert legal.document("terms", "ta_IN") == legal.document("terms", "ta")


def test_processors_without_any_configured_say_so_in_the_language(
    settings_env: Callable[..., None],
) -> None:
    settings_env()
    assert legal.processors(get_settings()) == []
    assert "- None: everything runs on our own servers." in legal.document("privacy", "en")
    assert "- யாரும் இல்லை: " in legal.document("privacy", "ta")
    assert "- কেউ নয়: " in legal.document("privacy", "bn")


@pytest.mark.parametrize(
    ("language", "days", "phrase"),
    [
        ("en", 1, "for 1 day"),
        ("en", 30, "for 30 days"),
        ("en", 0, "until you delete them (or your account)"),
        ("hi", 30, "30 दिन तक"),
        ("hi", 0, "जब तक आप उन्हें (या अपना खाता) न हटाएँ"),
        ("ta", 1, "1 நாளுக்கு"),
        ("ta", 30, "30 நாட்களுக்கு"),
        ("te", 30, "30 రోజుల పాటు"),
        ("bn", 30, "30 দিন ধরে"),
        ("mr", 1, "1 दिवसासाठी"),
        ("mr", 30, "30 दिवसांसाठी"),
        ("mr", 0, "तुम्ही ते (किंवा तुमचे खाते) हटवेपर्यंत"),
    ],
)
def test_video_retention_is_said_in_the_document_language(
    settings_env: Callable[..., None], language: str, days: int, phrase: str
) -> None:
    settings_env(storage__video_retention_days=days)
    assert legal.video_retention(days, language) == phrase
    assert phrase in legal.document("privacy", language)


@pytest.mark.parametrize(
    ("language", "days", "sentence"),
    [
        ("en", 1, "**Photos** are deleted 1 day after your video is made."),
        ("en", 7, "**Photos** are deleted 7 days after your video is made."),
        ("en", 0, "**Photos** are deleted as soon as your video is made."),
        ("hi", 7, "**फ़ोटो** आपका वीडियो बनने के 7 दिन बाद हटा दी जाती हैं।"),
        ("hi", 0, "**फ़ोटो** आपका वीडियो बनते ही हटा दी जाती हैं।"),
        ("ta", 1, "**படங்கள்** உங்கள் வீடியோ உருவான 1 நாளுக்குப் பிறகு நீக்கப்படும்."),
        ("ta", 7, "**படங்கள்** உங்கள் வீடியோ உருவான 7 நாட்களுக்குப் பிறகு நீக்கப்படும்."),
        ("te", 7, "**ఫోటోలు** మీ వీడియో తయారైన 7 రోజుల తర్వాత తొలగించబడతాయి."),
        ("bn", 0, "**ফটো** আপনার ভিডিও তৈরি হওয়ার সঙ্গে সঙ্গে মুছে ফেলা হয়।"),
        ("mr", 1, "**फोटो** तुमचा व्हिडिओ बनल्यानंतर 1 दिवसाने हटवले जातात."),
        ("mr", 7, "**फोटो** तुमचा व्हिडिओ बनल्यानंतर 7 दिवसांनी हटवले जातात."),
    ],
)
def test_photo_retention_reads_as_a_sentence(
    settings_env: Callable[..., None], language: str, days: int, sentence: str
) -> None:
    """ "1 day", not "1 days"; 0 says "as soon as", not "0 days (0 means straight away)"."""
    settings_env(storage__photo_retention_days=days)
    assert sentence in legal.document("privacy", language)


def test_the_documents_language_is_not_the_sessions(settings_env: Callable[..., None]) -> None:
    """A page in Hindi that shows the Tamil policy (or the reverse) fills it in Tamil."""
    import i18n

    _configure(settings_env)
    i18n.set_locale_getter(lambda: "hi")
    try:
        text = legal.document("privacy", "ta")
    finally:
        i18n.set_locale_getter(lambda: i18n.DEFAULT_LANGUAGE)
    assert STORES["ta"] in text and STORES["hi"] not in text


def test_adding_a_translation_keeps_the_accepted_versions(
    accounts_env: Callable[..., None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creators accept versions, not files: a new language's templates appear, and nobody is
    asked to accept again."""
    templates = tmp_path / "legal_templates"
    shutil.copytree(legal.TEMPLATES, templates)
    monkeypatch.setattr(legal, "TEMPLATES", templates)
    user = accounts.sign_up("asha@example.com", "correct horse battery staple", "Asha")
    before = legal.versions()
    accepted = legal.accept(user.id)
    assert not legal.needs_acceptance(user.id)
    assert "xx" not in legal.languages()
    for kind in legal.KINDS:
        english = (templates / f"{kind}.en.md").read_text("utf-8")
        (templates / f"{kind}.xx.md").write_text("XX-LANGUAGE\n\n" + english, "utf-8")
    assert "xx" in legal.languages()
    assert legal.document("terms", "xx").startswith("XX-LANGUAGE")  # the new language is used
    assert legal.versions() == before == (accepted.terms_version, accepted.privacy_version)
    assert not legal.needs_acceptance(user.id)
    # Correcting a translation (or the English text) is not a new version either; the
    # operator's explicit version is.
    (templates / "terms.hi.md").write_text("changed", "utf-8")
    assert not legal.needs_acceptance(user.id)
    accounts_env(legal__terms_version="2027-01-15")
    assert legal.needs_acceptance(user.id)


def test_a_language_with_only_one_template_is_not_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    templates = tmp_path / "legal_templates"
    shutil.copytree(legal.TEMPLATES, templates)
    monkeypatch.setattr(legal, "TEMPLATES", templates)
    (templates / "terms.xx.md").write_text("only terms", "utf-8")
    assert "xx" not in legal.languages()
    assert legal.document_language("xx") == "en"
