"""Scripts read right: what a creator types becomes the words the video says and captions show.

Rule by rule in English and Hindi (the services.script_text package), then what a
creator notices: an emoji-only script is refused before anything is charged or stored, the
provider (our engine or a vendor) and the captions get the spoken words, the price and the
length estimate are for those words, and the create page previews them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import CreditEntry, Job
from db.session import session_scope
from errors import ScriptError
from services import accounts, credits, generation, jobs
from services.job_spec import build_request
from services.script_text import NOTHING_TO_SAY, normalise, speakable
from services.script_text import number_words as nw
from tests import fakes
from tests.fakes import stored_file
from tests.test_app_pages import _app, _assert_clean, _texts
from tests.test_app_pages import app_env as app_env  # the page tests' isolated app
from tests.test_jobs import make_photo, media_files

# ------------------------------------------------------------------------- Hindi numbers


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "शून्य"),
        (5, "पाँच"),
        (11, "ग्यारह"),
        (19, "उन्नीस"),
        (29, "उनतीस"),
        (35, "पैंतीस"),
        (39, "उनतालीस"),
        (45, "पैंतालीस"),
        (49, "उनचास"),
        (59, "उनसठ"),
        (67, "सड़सठ"),
        (69, "उनहत्तर"),
        (79, "उन्यासी"),
        (89, "नवासी"),
        (99, "निन्यानबे"),
        (100, "एक सौ"),
        (105, "एक सौ पाँच"),
        (1500, "एक हज़ार पाँच सौ"),
        (150000, "एक लाख पचास हज़ार"),
        (12345678, "एक करोड़ तेईस लाख पैंतालीस हज़ार छह सौ अठहत्तर"),
    ],
)
def test_hindi_cardinals(n: int, words: str) -> None:
    assert nw.cardinal(n, "hi") == words


def test_hindi_table_has_a_distinct_word_for_each_of_0_to_99() -> None:
    assert len(nw.HINDI_0_99) == 100 and len(set(nw.HINDI_0_99)) == 100
    assert all(" " not in word for word in nw.HINDI_0_99)  # one word each, none composed


def test_hindi_ordinals_and_years() -> None:
    assert [nw.ordinal(n, "hi") for n in (1, 2, 3, 4, 5, 6, 21)] == [
        "पहला", "दूसरा", "तीसरा", "चौथा", "पाँचवाँ", "छठा", "इक्कीसवाँ",
    ]  # fmt: skip
    assert nw.ordinal(1, "hi", feminine=True) == "पहली"
    assert nw.year(1998, "hi") == "उन्नीस सौ अट्ठानबे"
    assert nw.year(2025, "hi") == "दो हज़ार पच्चीस"


def test_english_numbers_come_from_num2words_in_both_systems() -> None:
    assert nw.cardinal(150000, "en") == "one hundred and fifty thousand"
    assert nw.cardinal(150000, "en", indian=True) == "one lakh fifty thousand"
    assert nw.ordinal(21, "en") == "twenty-first"
    assert nw.year(1998, "en") == "nineteen ninety-eight"


# ------------------------------------------------------------------------------- rules

ENGLISH = [
    # numbers, Indian and international grouping, decimals, codes, negatives
    ("We are 21 friends.", "We are twenty-one friends."),
    ("1,50,000 people came.", "one lakh fifty thousand people came."),
    ("150,000 people came.", "one hundred and fifty thousand people came."),
    ("Pi is 3.14", "Pi is three point one four"),
    ("PIN 0123", "PIN zero one two three"),
    ("It is -5°C outside.", "It is minus five degrees Celsius outside."),
    (
        "Call +91 98765 43210 now",
        "Call plus nine one nine eight seven six five four three two one zero now",
    ),
    # ordinals
    ("The 21st century", "The twenty-first century"),
    # currency
    ("Pay ₹1,500 today.", "Pay one thousand five hundred rupees today."),
    ("Rs. 1,500 only", "one thousand five hundred rupees only"),
    ("Rs 500/- per month", "five hundred rupees per month"),
    ("It costs $20.", "It costs twenty dollars."),
    ("$20.50 each", "twenty dollars and fifty cents each"),
    ("₹1.5 lakh prize", "one point five lakh rupees prize"),
    ("a ₹2 crore house", "a two crore rupees house"),
    ("₹1,50,000 saved", "one lakh fifty thousand rupees saved"),
    # dates and times
    ("Meet on 05/03/2025.", "Meet on the fifth of March twenty twenty-five."),
    ("Born 2025-12-05.", "Born the fifth of December twenty twenty-five."),
    ("On 5th March 2025", "On the fifth of March twenty twenty-five"),
    ("March 5, 2025", "March fifth twenty twenty-five"),
    ("Since 1998 we cook.", "Since nineteen ninety-eight we cook."),
    ("Open at 10:30 am.", "Open at ten thirty a m."),
    ("Come at 7 pm", "Come at seven p m"),
    ("Lunch at 13:00", "Lunch at thirteen hundred"),
    ("Tea at 4:05", "Tea at four oh five"),
    ("Valid till 15th Aug. Call now", "Valid till the fifteenth of August. Call now"),
    ("Open Mon-Sat, 9 AM to 6 PM.", "Open Monday to Saturday, nine a m to six p m."),
    # percentages and units
    ("50% off", "fifty percent off"),
    ("Up 12.5%", "Up twelve point five percent"),
    ("Walk 5 km and lift 1 kg", "Walk five kilometres and lift one kilogram"),
    # abbreviations
    ("Dr. Sharma and Mr Rao met.", "Doctor Sharma and Mister Rao met."),
    ("Fruit, e.g. mango, etc.", "Fruit, for example mango, et cetera."),
    ("Room No. 7", "Room number seven"),
    ("Mrs 5 kids", "Missus five kids"),  # "rs 5" inside a word is not rupees
    ("AT&T", "AT and T"),
    # URLs and e-mail
    ("Visit https://talkingphoto.in/offers.", "Visit talkingphoto dot in slash offers."),
    ("See www.example.com", "See w w w dot example dot com"),
    ("Write to help@talking-photo.in", "Write to help at talking dash photo dot in"),
    # markup
    ("<b>Hello</b> &amp; <i>welcome</i>!", "Hello and welcome!"),
    ('<p>One</p><script>alert("x")</script><p>Two</p>', "One\n\nTwo"),
    ("x &lt;b&gt;bold&lt;/b&gt;", "x bold"),
    ("**Big** news, _today_: [our shop](https://x.com)", "Big news, today: our shop"),
    ("# Title\n- one\n- two", "Title\none\ntwo"),
    # emoji
    ("Great news 🎉! 👍🏽 See you 👨‍👩‍👧", "Great news! See you"),
    ("1️⃣ first", "one first"),
]

HINDI = [
    ("हम 21 दोस्त हैं।", "हम इक्कीस दोस्त हैं।"),
    ("1,50,000 लोग आए।", "एक लाख पचास हज़ार लोग आए।"),
    ("१२३ लोग", "एक सौ तेईस लोग"),
    ("49 और 99", "उनचास और निन्यानबे"),
    ("कीमत ₹1,500 है।", "कीमत एक हज़ार पाँच सौ रुपये है।"),
    ("Rs. 1,50,000 दीजिए", "एक लाख पचास हज़ार रुपये दीजिए"),
    ("सिर्फ़ ₹1 लगेगा", "सिर्फ़ एक रुपया लगेगा"),
    ("₹1.50 का टिकट", "एक रुपया पचास पैसे का टिकट"),
    ("₹1.5 लाख का इनाम", "डेढ़ लाख रुपये का इनाम"),
    ("₹2.5 crore का घर", "ढाई करोड़ रुपये का घर"),
    ("$20 का", "बीस डॉलर का"),
    ("रु. 500 दें", "पाँच सौ रुपये दें"),
    ("आज -5°C है", "आज माइनस पाँच डिग्री सेल्सियस है"),
    ("05/03/2025 को मिलें", "पाँच मार्च दो हज़ार पच्चीस को मिलें"),
    ("5 मार्च 2025", "पाँच मार्च दो हज़ार पच्चीस"),
    ("1998 में", "उन्नीस सौ अट्ठानबे में"),
    ("10:30 बजे आइए", "दस बजकर तीस मिनट आइए"),
    ("सुबह 9 बजे", "सुबह नौ बजे"),
    ("10:30 am", "सुबह दस बजकर तीस मिनट"),
    ("7 pm को", "रात सात बजे को"),
    ("50% छूट", "पचास प्रतिशत छूट"),
    ("5 km दूर", "पाँच किलोमीटर दूर"),
    ("1.5 kg आटा, 12.5% छूट", "डेढ़ किलोग्राम आटा, साढ़े बारह प्रतिशत छूट"),
    ("दुकान Mon-Sat खुली है", "दुकान सोमवार से शनिवार तक खुली है"),
    ("5वीं कक्षा", "पाँचवीं कक्षा"),
    ("1st इनाम", "पहला इनाम"),
    ("डॉ. शर्मा आए।", "डॉक्टर शर्मा आए।"),
    ("Dr. शर्मा", "डॉक्टर शर्मा"),
    ("https://talkingphoto.in देखें", "talkingphoto डॉट in देखें"),
    ("<b>नमस्ते</b> 🙏🏽 दोस्तों", "नमस्ते दोस्तों"),
]


@pytest.mark.parametrize(("typed", "spoken"), ENGLISH)
def test_english_rules(typed: str, spoken: str) -> None:
    assert normalise(typed, "en") == spoken


@pytest.mark.parametrize(("typed", "spoken"), HINDI)
def test_hindi_rules(typed: str, spoken: str) -> None:
    assert normalise(typed, "hi") == spoken


@pytest.mark.parametrize(
    ("typed", "lang"), [(t, "en") for t, _ in ENGLISH] + [(t, "hi") for t, _ in HINDI]
)
def test_normalising_twice_changes_nothing(typed: str, lang: str) -> None:
    # Rows keep the typed script and every run normalises it again; spoken text stays put.
    once = normalise(typed, lang)
    assert normalise(once, lang) == once


def test_plain_text_is_left_as_typed() -> None:
    for text, lang in [("Hello! How are you?", "en"), ("नमस्ते! आप कैसे हैं?", "hi")]:
        assert normalise(text, lang) == text


def test_indic_joiners_survive_emoji_removal() -> None:
    # ZWJ/ZWNJ shape Indic letters; only a joiner inside an emoji sequence goes.
    text = "क्\u200dष और र\u200dक"
    assert normalise(text + " 👨\u200d👩\u200d👧", "hi") == text


def test_other_languages_get_markup_emoji_and_number_words_where_covered() -> None:
    assert normalise("আমার <b>25</b> বছর 😀", "bn") == "আমার পঁচিশ বছর"
    assert normalise("Tengo 25 años 🎉", "es") == "Tengo veinticinco años"
    # No Tamil in num2words: digits stay for the speech engine's own rules.
    assert normalise("எனக்கு 25 வயது 😀", "ta") == "எனக்கு 25 வயது"


REGIONAL = [
    # Rupees after the number (the voices drop the sign, or say it first), singular for one.
    ("ta", "விலை ₹500 மட்டும்", "விலை 500 ரூபாய் மட்டும்"),
    ("te", "ధర ₹1 మాత్రమే", "ధర 1 రూపాయి మాత్రమే"),
    ("te", "Rs. 1,50,000 కూడా", "1,50,000 రూపాయలు కూడా"),
    ("mr", "₹1 आणि 500/- भरा", "1 रुपया आणि 500 रुपये भरा"),
    ("mr", "किंमत ₹5 लाख फक्त", "किंमत 5 लाख रुपये फक्त"),
    ("mr", "INR 2.5 crore", "2.5 कोटी रुपये"),
    ("ta", "₹10 Lakhs", "10 லட்சம் ரூபாய்"),
    ("te", "₹1 లక్ష, ₹5 lakh", "1 లక్ష రూపాయలు, 5 లక్షలు రూపాయలు"),
    ("mr", "Rs. 3 Cr. किंमतीचे घर", "3 कोटी रुपये किंमतीचे घर"),  # the dot is not a stop
    ("mr", "किंमत Rs. 3 Cr.", "किंमत 3 कोटी रुपये."),
    # Bengali: num2words then says the number (and the year) in words.
    ("bn", "দাম ₹৫০০", "দাম পাঁচশত টাকা"),
    # Numeric dates: day first, as in India; ISO dates; impossible dates left alone.
    ("ta", "12/03/2025 அன்று", "12 மார்ச் 2025 அன்று"),
    ("mr", "2025-03-12 रोजी", "12 मार्च 2025 रोजी"),
    ("te", "3/25/2025", "25 మార్చి 2025"),
    ("ta", "31/02/2025 இல்லை", "31/02/2025 இல்லை"),
    ("bn", "১২/০৩/২০২৫ তারিখে", "বারো মার্চ দুই হাজার পঁচিশ তারিখে"),
]


@pytest.mark.parametrize(("lang", "typed", "spoken"), REGIONAL)
def test_regional_rupees_and_dates(lang: str, typed: str, spoken: str) -> None:
    """Tamil, Telugu, Bengali and Marathi voices read numbers themselves but drop ₹ (or say
    it first) and read 12/03/2025 as "twelve slash three": said here, digits kept."""
    assert normalise(typed, lang) == spoken
    assert normalise(spoken, lang) == spoken


@pytest.mark.parametrize("typed", ["😀🎉👍🏽", "🇮🇳 ❤️", "!!! ???", "<b></b> *** ---", "★ → ♥"])
def test_emoji_or_symbols_only_is_nothing_to_say(typed: str) -> None:
    assert normalise(typed, "en") == ""
    with pytest.raises(ScriptError) as caught:
        speakable(typed, "hi")
    assert caught.value.template == NOTHING_TO_SAY


# ---------------------------------------------------------------- what a creator notices


@pytest.fixture
def user(jobs_env: fakes.Plan) -> accounts.UserView:
    return accounts.current_user()  # 20 credits


def _params(**changes: object) -> jobs.JobParams:
    base = jobs.JobParams(language="en", voice="fake-en-2", provider="fake", captions="srt")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_an_emoji_only_script_is_refused_before_anything_is_charged_or_stored(
    user: accounts.UserView, jobs_env: fakes.Plan, foundation_env: Path
) -> None:
    with pytest.raises(ScriptError) as caught:
        jobs.submit(user.id, photo=make_photo(), script="😀🎉 🥳", params=_params())
    assert caught.value.template == NOTHING_TO_SAY
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0
        assert session.scalar(select(func.count()).select_from(CreditEntry).where(
            CreditEntry.reference.like("job%"))) == 0  # fmt: skip
    assert credits.balance(user.id) == 20
    assert media_files(foundation_env) == [] and jobs_env.requests == []


def test_a_script_too_long_once_read_aloud_is_refused_with_both_lengths(
    user: accounts.UserView, jobs_env: fakes.Plan
) -> None:
    typed = "9876543 " * 500  # 4,000 characters typed; seven-digit numbers read out are long
    with pytest.raises(ScriptError) as caught:
        jobs.submit(user.id, photo=make_photo(), script=typed, params=_params())
    assert caught.value.template.startswith("Read aloud, with numbers")
    assert caught.value.params["limit"] == 5000 and caught.value.params["n"] > 5000  # type: ignore[operator]
    assert credits.balance(user.id) == 20 and jobs_env.requests == []


def test_the_provider_and_captions_get_the_spoken_words_and_the_row_keeps_the_typed_ones(
    user: accounts.UserView, jobs_env: fakes.Plan
) -> None:
    typed = "<b>Sale!</b> Only ₹1,500 till 05/03/2025 🎉"
    job = jobs.submit(user.id, photo=make_photo(), script=typed, params=_params())
    spoken = (
        "Sale! Only one thousand five hundred rupees till the fifth of March twenty twenty-five"
    )
    (request,) = jobs_env.requests
    assert request.script == spoken
    assert job.script == typed  # My videos and "try again" show what the creator wrote
    finished = jobs.get(job.id, user.id)
    srt = stored_file(finished.srt_key).read_text("utf-8")  # type: ignore[union-attr]
    assert spoken in srt and "₹" not in srt and "<b>" not in srt


def test_a_vendor_gets_the_spoken_words(tmp_path: Path) -> None:
    from providers.base import JobContext
    from providers.d_id import DIdProvider
    from secrets_manager import DIdSettings
    from tests.fakes.d_id import DIdServer
    from tests.fakes.vendor_server import FakeClock

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo().data)
    request = build_request(photo, "Call Dr. Rao at 10:30 am 📞", {"language": "en"})
    with DIdServer() as did:
        config = DIdSettings(api_key=did.api_key, base_url=did.url, poll_every_s=1)
        public = "https://cdn.example.com/jobs/1/photo.jpg"
        context = JobContext(work_dir=tmp_path / "work", client_ref="job-1", photo_url=public)
        DIdProvider(config=config, clock=FakeClock()).generate(request, context)
        sent = did.made()[0].body["script"]["input"]
    assert sent == "Call Doctor Rao at ten thirty a m"


def test_our_engine_speaks_the_words_the_captions_show() -> None:
    from providers.local import speech

    request = build_request(Path(), "Pay ₹20 😀", {"language": "en"})
    words = [w.text for w in speech.synthesize(request.script, "en").words]
    assert " ".join(words).lower().rstrip(".") == "pay twenty rupees"


def test_the_estimate_and_the_charge_are_for_the_spoken_words(
    user: accounts.UserView, jobs_env: fakes.Plan
) -> None:
    # Twelve amounts: few characters typed, about half a minute when read out.
    typed = " ".join(f"₹{n},47,999." for n in range(11, 23))
    params = _params()
    spoken = normalise(typed, "en")
    found = generation.estimate(typed, params)
    assert found.seconds == credits.estimate_duration_s(spoken, "en")
    assert found.seconds > 30 >= credits.estimate_duration_s(typed, "en")
    assert found.credits == 2  # two started 30 s blocks at one credit each
    job = jobs.submit(user.id, photo=make_photo(), script=typed, params=params)
    with session_scope() as session:
        debit = session.scalar(
            select(CreditEntry.amount).where(
                CreditEntry.reference == credits.job_debit_reference(job.id)
            )
        )
    assert debit == -found.credits  # charged at submit what the page showed


# ------------------------------------------------------------------------ create page


def test_the_create_page_previews_how_the_script_will_be_read(app_env: Path) -> None:
    at = _app()
    at.text_area(key="script").input("Dr. Rao pays ₹1,500 <b>today</b> 🎉").run()
    _assert_clean(at)
    text = _texts(at)
    assert "Will be read as" in text
    assert "Doctor Rao pays one thousand five hundred rupees today" in text

    at.text_area(key="script").input("Hello there, friends.").run()
    assert "Will be read as" not in _texts(at)  # read as typed: no preview

    at.text_area(key="script").input("🎉🎉 ✨").run()
    assert [e.value for e in at.error] == [
        "The script has only emoji or symbols, nothing to speak. Type the words the photo "
        "should say."
    ]
    assert "characters" not in _texts(at)  # no price for a video that cannot be made


def test_the_create_page_says_an_emoji_only_script_has_nothing_to_say_in_hindi(
    app_env: Path,
) -> None:
    at = _app(lang="hi")
    at.text_area(key="script").input("😀🎉").run()
    _assert_clean(at)
    assert any("सिर्फ़ इमोजी या चिह्न" in e.value for e in at.error)
    at.text_area(key="script").input("कीमत ₹1,500 है").run()
    assert "ऐसे पढ़ा जाएगा" in _texts(at) and "एक हज़ार पाँच सौ रुपये" in _texts(at)
