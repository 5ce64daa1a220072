"""The languages the offline engine speaks, with what speech and captions need to know.

``LANGUAGES`` maps the app's ISO 639-1 code to a :class:`Language`. ``espeak_voice`` is the
eSpeak NG voice file name that reads the language (every one was checked to produce audible
speech from its ``greeting``); ``script`` is the ISO 15924 code the caption renderer uses to
pick a font; ``spaced`` is False for scripts written without spaces between words, which
changes how caption text is split and joined.

Known gaps: eSpeak NG's Japanese reads kana well but kanji only character by character, so the
Japanese greeting is written in kana; Urdu is rendered in a Naskh font (Noto Sans Arabic), not
Nastaliq.
"""

from __future__ import annotations

from dataclasses import dataclass

from errors import N_, LanguageError


@dataclass(frozen=True)
class Language:
    """One language. ``code`` is what requests and voices carry ("hi", "en", ...)."""

    code: str
    english_name: str
    native_name: str
    script: str  # ISO 15924: "Latn", "Deva", "Beng", "Arab", ...
    espeak_voice: str = ""  # eSpeak NG voice name, e.g. "hi", "cmn"
    greeting: str = ""  # a short native-script phrase for voice samples
    rtl: bool = False
    spaced: bool = True  # words separated by spaces (False for Chinese, Japanese)


def _lang(*args: str, rtl: bool = False, spaced: bool = True) -> Language:
    code, english, native, script, espeak, greeting = args
    return Language(code, english, native, script, espeak, greeting, rtl=rtl, spaced=spaced)


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        _lang("en", "English", "English", "Latn", "en-us", "Hello! Nice to meet you."),
        _lang("hi", "Hindi", "हिन्दी", "Deva", "hi", "नमस्ते! आपसे मिलकर खुशी हुई।"),
        _lang("bn", "Bengali", "বাংলা", "Beng", "bn", "নমস্কার! আপনার সাথে দেখা হয়ে ভালো লাগল।"),
        _lang("ta", "Tamil", "தமிழ்", "Taml", "ta", "வணக்கம்! உங்களை சந்தித்ததில் மகிழ்ச்சி."),
        _lang("te", "Telugu", "తెలుగు", "Telu", "te", "నమస్కారం! మిమ్మల్ని కలవడం సంతోషంగా ఉంది."),
        _lang("mr", "Marathi", "मराठी", "Deva", "mr", "नमस्कार! तुम्हाला भेटून आनंद झाला."),
        _lang("gu", "Gujarati", "ગુજરાતી", "Gujr", "gu", "નમસ્તે! તમને મળીને આનંદ થયો."),
        _lang("kn", "Kannada", "ಕನ್ನಡ", "Knda", "kn", "ನಮಸ್ಕಾರ! ನಿಮ್ಮನ್ನು ಭೇಟಿಯಾಗಿ ಸಂತೋಷವಾಯಿತು."),
        _lang("ml", "Malayalam", "മലയാളം", "Mlym", "ml", "നമസ്കാരം! നിങ്ങളെ കണ്ടതിൽ സന്തോഷം."),
        _lang("pa", "Punjabi", "ਪੰਜਾਬੀ", "Guru", "pa", "ਸਤ ਸ੍ਰੀ ਅਕਾਲ! ਤੁਹਾਨੂੰ ਮਿਲ ਕੇ ਖੁਸ਼ੀ ਹੋਈ।"),
        _lang("ur", "Urdu", "اردو", "Arab", "ur", "السلام علیکم! آپ سے مل کر خوشی ہوئی۔", rtl=True),
        _lang("or", "Odia", "ଓଡ଼ିଆ", "Orya", "or", "ନମସ୍କାର! ଆପଣଙ୍କୁ ଭେଟି ଖୁସି ଲାଗିଲା।"),
        _lang("as", "Assamese", "অসমীয়া", "Beng", "as", "নমস্কাৰ! আপোনাক লগ পাই ভাল লাগিল।"),
        _lang("ne", "Nepali", "नेपाली", "Deva", "ne", "नमस्ते! तपाईंलाई भेटेर खुसी लाग्यो।"),
        _lang("es", "Spanish", "Español", "Latn", "es", "¡Hola! Encantado de conocerte."),
        _lang("fr", "French", "Français", "Latn", "fr", "Bonjour ! Ravi de vous rencontrer."),
        _lang("de", "German", "Deutsch", "Latn", "de", "Hallo! Schön, dich kennenzulernen."),
        _lang("pt", "Portuguese", "Português", "Latn", "pt", "Olá! Prazer em conhecê-lo."),
        _lang("ar", "Arabic", "العربية", "Arab", "ar", "مرحبا! سعيد بلقائك.", rtl=True),
        _lang(
            "zh", "Chinese (Mandarin)", "中文", "Hans", "cmn", "你好！很高兴认识你。", spaced=False
        ),
        _lang(
            "ja",
            "Japanese",
            "日本語",
            "Jpan",
            "ja",
            "こんにちは！おあいできてうれしいです。",
            spaced=False,
        ),
        _lang("ru", "Russian", "Русский", "Cyrl", "ru", "Здравствуйте! Рад знакомству."),
        _lang(
            "id",
            "Indonesian",
            "Bahasa Indonesia",
            "Latn",
            "id",
            "Halo! Senang bertemu dengan Anda.",
        ),
    )
}


def get_language(code: str) -> Language:
    """The language for ``code``; :class:`LanguageError` listing the valid codes otherwise."""
    lang = LANGUAGES.get(code)
    if lang is None:
        raise LanguageError(
            N_("Language '{language}' is not available. Choose one of: {choices}."),
            params={"language": code, "choices": ", ".join(LANGUAGES)},
        )
    return lang
