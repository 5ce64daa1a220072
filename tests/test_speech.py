"""Offline speech: every language speaks, timings match the audio, voices and errors behave."""

from __future__ import annotations

import io
import json
import threading
import wave
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from errors import ConfigError, InputError, JobCancelled, LanguageError, ScriptError, VoiceError
from providers.base import CancelToken
from providers.local import piper_voice, speech, voices
from providers.local.languages import LANGUAGES
from providers.local.speech import Speech

REQUIRED = [
    *("en", "hi", "bn", "ta", "te", "mr", "gu", "kn", "ml", "pa", "ur", "or"),
    *("as", "ne", "es", "fr", "de", "pt", "ar", "zh", "ja", "ru", "id"),
]
EN_TEXT = "The quick brown fox jumps over the lazy dog. Then it runs home, happy and tired."
HI_TEXT = "आज मौसम बहुत अच्छा है। हम शाम को पार्क में घूमने जाएंगे, फिर घर लौटेंगे।"


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def median_f0(s: Speech) -> float:
    """Median pitch of voiced 40 ms frames by autocorrelation (60-400 Hz)."""
    x, sr = s.samples.astype(np.float64), s.sample_rate
    frame = int(0.04 * sr)
    lo, hi = sr // 400, sr // 60
    found = []
    for i in range(0, len(x) - frame, frame // 2):
        seg = x[i : i + frame] - x[i : i + frame].mean()
        if rms(seg) < 0.03:
            continue
        ac = np.correlate(seg, seg, "full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            found.append(sr / lag)
    assert found, "no voiced frames"
    return float(np.median(found))


def assert_consistent(s: Speech) -> None:
    """Audio is audible; words and phonemes are ordered and lie inside the audio."""
    assert s.samples.dtype == np.float32 and s.samples.ndim == 1
    assert np.abs(s.samples).max() <= 1.0
    assert rms(s.samples) > 0.01
    assert s.words
    starts = [w.start_s for w in s.words]
    assert all(a < b for a, b in pairwise(starts)), starts
    for w in s.words:
        assert w.text.strip()
        assert 0.0 <= w.start_s <= w.end_s <= s.duration_s + 1e-6
    assert s.phonemes
    for p in s.phonemes:
        assert 0.0 <= p.start_s < p.end_s <= s.duration_s + 1e-6
    ends = [p.start_s for p in s.phonemes]
    assert ends == sorted(ends)


def speech_louder_in_words(s: Speech) -> None:
    """Timings are real: the audio inside words is much louder than in the pauses between."""
    sr = s.sample_rate
    inside = np.zeros(len(s.samples), dtype=bool)
    for w in s.words:
        inside[int(w.start_s * sr) : int(w.end_s * sr)] = True
    gaps = [(a.end_s, b.start_s) for a, b in pairwise(s.words)]
    longest = max(gaps, key=lambda g: g[1] - g[0])
    assert longest[1] - longest[0] > 0.1, "expected a sentence pause"
    gap = s.samples[int(longest[0] * sr) : int(longest[1] * sr)]
    assert rms(s.samples[inside]) > 4 * rms(gap)


def test_all_required_languages_are_offered() -> None:
    assert set(REQUIRED) <= set(LANGUAGES)
    for code in REQUIRED:
        assert len(speech.list_voices(code)) >= 2


@pytest.mark.parametrize("code", REQUIRED)
@pytest.mark.parametrize("gender", ["female", "male"])
def test_every_language_speaks_with_consistent_timings(code: str, gender: str) -> None:
    voice = f"espeak:{code}:{gender}"
    s = speech.synthesize(LANGUAGES[code].greeting, code, voice)
    assert s.voice_id == voice and s.sample_rate == 22050
    assert_consistent(s)


@pytest.mark.parametrize(("code", "text"), [("en", EN_TEXT), ("hi", HI_TEXT)])
def test_word_events_match_written_words(code: str, text: str) -> None:
    s = speech.synthesize(text, code, f"espeak:{code}:female")
    assert len(s.words) == len(text.split())
    assert " ".join(w.text for w in s.words) == " ".join(text.split())
    speech_louder_in_words(s)


def test_numbers_and_abbreviations_keep_every_written_token() -> None:
    text = "In 1999 it cost $42, said Dr. Smith; U.S.A. e.g. fine!"
    s = speech.synthesize(text, "en", "espeak:en:male")
    assert " ".join(w.text for w in s.words) == text
    assert any(w.text == "1999" for w in s.words)  # several spoken words, one written word


def test_unspaced_scripts_split_per_spoken_unit() -> None:
    s = speech.synthesize("你好！很高兴认识你。", "zh", "espeak:zh:female")
    assert "".join(w.text for w in s.words) == "你好！很高兴认识你。"
    assert len(s.words) >= 5


def test_speed_changes_duration() -> None:
    slow = speech.synthesize(EN_TEXT, "en", "espeak:en:female", speed=0.5)
    normal = speech.synthesize(EN_TEXT, "en", "espeak:en:female")
    fast = speech.synthesize(EN_TEXT, "en", "espeak:en:female", speed=2.0)
    assert fast.duration_s < normal.duration_s < slow.duration_s
    assert slow.duration_s > 2.5 * fast.duration_s


@pytest.mark.parametrize("code", ["en", "hi", "ta"])
def test_female_voice_is_higher_than_male(code: str) -> None:
    text = LANGUAGES[code].greeting
    female = median_f0(speech.synthesize(text, code, f"espeak:{code}:female"))
    male = median_f0(speech.synthesize(text, code, f"espeak:{code}:male"))
    assert female > 1.5 * male


def test_pitch_setting_moves_pitch() -> None:
    low = median_f0(speech.synthesize(EN_TEXT, "en", "espeak:en:male", pitch=0.5))
    high = median_f0(speech.synthesize(EN_TEXT, "en", "espeak:en:male", pitch=1.5))
    assert high > 1.2 * low


def test_unknown_language_lists_valid_ones() -> None:
    with pytest.raises(LanguageError) as info:
        speech.synthesize("hello", "xx")
    assert "xx" in info.value.user_message
    assert "hi" in info.value.user_message and "ta" in info.value.user_message
    with pytest.raises(LanguageError):
        speech.list_voices("klingon")


def test_unknown_voice_lists_valid_ones() -> None:
    with pytest.raises(VoiceError) as info:
        speech.synthesize("नमस्ते", "hi", "espeak:hi:robot")
    assert "espeak:hi:female" in info.value.user_message
    assert "espeak:hi:male" in info.value.user_message


def test_voice_of_another_language_is_rejected() -> None:
    with pytest.raises(VoiceError) as info:
        speech.synthesize("नमस्ते", "hi", "piper:en:joe")
    assert "Hindi" in info.value.user_message and "espeak:hi:female" in info.value.user_message


@pytest.mark.parametrize("kwargs", [{"speed": 2.5}, {"speed": 0.1}, {"pitch": 2.0}])
def test_out_of_range_settings_are_input_errors(kwargs: dict) -> None:
    with pytest.raises(InputError):
        speech.synthesize("hello", "en", "espeak:en:female", **kwargs)


def test_empty_script_is_a_script_error() -> None:
    with pytest.raises(ScriptError):
        speech.synthesize("   ", "en")


def test_cancelled_token_stops_synthesis() -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        speech.synthesize(EN_TEXT, "en", "espeak:en:female", cancel=token)
    calls = {"n": 0}

    def cancel_after_first_buffer() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    with pytest.raises(JobCancelled):
        speech.synthesize(
            EN_TEXT * 5, "en", "espeak:en:female", cancel=CancelToken(cancel_after_first_buffer)
        )


def test_default_voice_prefers_piper_where_available() -> None:
    assert speech.default_voice("en") == "piper:en:joe"
    assert speech.default_voice("hi") == "espeak:hi:female"
    en = speech.list_voices("en")
    assert en[0].id == "piper:en:joe" and en[0].natural and en[0].engine == "piper"
    assert {v.gender for v in speech.list_voices("hi")} == {"female", "male"}


def test_piper_model_is_patched_for_alignments() -> None:
    spec = voices.get_spec("piper:en:joe")
    assert spec.model_path is not None and spec.config_path is not None
    voice = piper_voice.load(spec.model_path, spec.config_path)
    assert len(voice.session.get_outputs()) == 2


def test_piper_english_has_real_word_and_phoneme_timings() -> None:
    s = speech.synthesize(EN_TEXT, "en")
    assert s.voice_id == "piper:en:joe"
    assert_consistent(s)
    assert len(s.words) == len(EN_TEXT.split())
    assert " ".join(w.text for w in s.words) == EN_TEXT
    speech_louder_in_words(s)
    assert any(p.symbol == "_" for p in s.phonemes)


def test_piper_speed() -> None:
    text = "Speed changes how long this sentence takes to say."
    fast = speech.synthesize(text, "en", "piper:en:joe", speed=2.0)
    slow = speech.synthesize(text, "en", "piper:en:joe", speed=0.5)
    assert slow.duration_s > 2.5 * fast.duration_s


def test_concurrent_synthesis_does_not_mix_results() -> None:
    # Different languages, voices and lengths: any mixing of engine state would show.
    jobs = [("en", EN_TEXT, "espeak:en:female"), ("hi", HI_TEXT, "espeak:hi:male")]
    expected = {v: speech.synthesize(t, c, v) for c, t, v in jobs}
    results: dict[str, list[Speech]] = {v: [] for _c, _t, v in jobs}
    errors: list[BaseException] = []

    def worker(code: str, text: str, voice: str) -> None:
        try:
            for _ in range(8):
                results[voice].append(speech.synthesize(text, code, voice))
            results[voice].append(speech.synthesize(EN_TEXT, "en", "piper:en:joe"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for voice, got in results.items():
        want = expected[voice]
        for s in got[:-1]:
            # eSpeak adds a little random jitter, so compare what mixing would change.
            assert s.voice_id == voice
            assert [w.text for w in s.words] == [w.text for w in want.words]
            assert s.duration_s == pytest.approx(want.duration_s, rel=0.02)
        assert " ".join(w.text for w in got[-1].words) == EN_TEXT


def test_sample_is_a_short_wav_in_the_voice_language() -> None:
    data = speech.sample("espeak:ta:female")
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        assert wav.getframerate() == 22050
        seconds = wav.getnframes() / wav.getframerate()
    assert 0.5 < seconds < 8
    custom = speech.sample("espeak:en:male", "word " * 500)
    with wave.open(io.BytesIO(custom)) as wav:
        assert wav.getnframes() / wav.getframerate() < 30  # long text is cut
    with pytest.raises(VoiceError):
        speech.sample("espeak:xx:female")


def test_write_wav_round_trip(tmp_path: Path) -> None:
    s = speech.synthesize("Hello there.", "en", "espeak:en:female")
    path = tmp_path / "out.wav"
    speech.write_wav(s, path)
    with wave.open(str(path)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert len(pcm) == len(s.samples)
    assert np.allclose(pcm / 32767.0, s.samples, atol=2e-4)


@pytest.fixture
def restore_catalog():
    yield
    voices.configure([])


def test_extra_piper_voices_are_configured(tmp_path: Path, restore_catalog) -> None:
    spec = voices.get_spec("piper:en:joe")
    assert spec.model_path is not None and spec.config_path is not None
    model = tmp_path / "hi_IN-test-medium.onnx"
    model.symlink_to(spec.model_path)
    meta = json.loads(spec.config_path.read_text())
    meta["language"] = {"code": "hi_IN", "family": "hi"}
    meta["espeak"] = {"voice": "hi"}
    Path(f"{model}.json").write_text(json.dumps(meta))
    speech.configure(piper_voice_paths=[model])
    assert speech.default_voice("hi") == "piper:hi:test"
    assert speech.list_voices("hi")[0].natural
    with pytest.raises(ConfigError) as info:
        speech.configure(piper_voice_paths=[tmp_path / "missing.onnx"])
    assert "providers.piper_voices" in (info.value.detail or "")
    assert speech.default_voice("hi") == "piper:hi:test"  # a failed configure changes nothing
