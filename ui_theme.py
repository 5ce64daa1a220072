"""Look and shared widgets of the TalkingPhoto pages.

The colours are the ones in ``.streamlit/config.toml`` (Streamlit's own widgets use those); this
module adds what the theme cannot express: the hero header, cards keyed by container ``key``
(Streamlit gives a keyed container the CSS class ``st-key-<key>``), status badges, the empty
state, and a font stack with the shipped Indic web fonts so no interface language renders
as boxes.

Text a creator typed (a script, a title, a display name) is shown inert: :func:`script_excerpt`,
:func:`meta_line`, :func:`plain_caption` and :func:`plain_title` pass it through :func:`inert`,
so ``**bold**``, ``[x](javascript:...)``, ``<script>`` or ``:material/home:`` appear as the
characters typed. Never hand such text to ``st.markdown``/``st.caption``/``st.write``/
``st.title`` or an alert directly: they render Markdown (links, headings) and autolink URLs.

Colours meet WCAG AA contrast (4.5:1 for text) on every background they are used on;
tests/test_accessibility.py checks the constants below and runs axe-core on the pages.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import streamlit as st

from i18n import DEFAULT_LANGUAGE, _, current_language

PRIMARY = "#5B4CF0"
ACCENT = "#FF7A59"  # decoration only (the progress bar's end); never behind text
INK = "#1D2233"
MUTED = "#5F6577"  # captions and secondary text: >= 5:1 on every background below
BACKGROUNDS = ("#FBFAF7", "#F3F1FB", "#F1EEF8", "#FFFFFF")  # page, sidebar, widgets, cards
# The hero banner: white text on a gradient whose every stop keeps >= 4.5:1 with white.
HERO_STOPS = ("#5B4CF0", "#6A4BE0", "#9B3F9E")

# The Noto Sans families of the Indic scripts are the web fonts shipped in static/fonts and
# declared in config.toml ([[theme.fontFaces]]): available on every device.
FONT_STACK = (
    '"Source Sans", "Source Sans Pro", "Noto Sans Devanagari", "Noto Sans Tamil", '
    '"Noto Sans Telugu", "Noto Sans Bengali", "Noto Sans", "Mukta", "Nirmala UI", "Mangal", '
    '"Kohinoor Devanagari", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif'
)

# status -> (background, text colour)
_BADGE_COLOURS: dict[str, tuple[str, str]] = {
    "queued": ("#EEF0F6", "#3F4656"),
    "running": ("#E9E6FF", "#3B2FC9"),
    "succeeded": ("#E3F6EC", "#17683E"),
    "failed": ("#FDE8E6", "#A3261B"),
    "cancelled": ("#F1EFEA", "#6B6457"),
}

_CSS = f"""
<style>
/* Our own HTML blocks; Streamlit's widgets get the same stack from [theme] font. Never
   set font-family on Streamlit's classes broadly: it would replace the icon font. */
.tp-hero, .tp-step, .tp-badge, .tp-meta, .tp-script, .tp-cost, .tp-empty, .tp-brand,
.tp-caption {{
  font-family: {FONT_STACK};
}}
/* A video's subtitles (its WebVTT track) are drawn with the browser's caption font, which has
   no Indic glyphs on many systems: give them the shipped faces too. */
video::cue {{ font-family: {FONT_STACK}; }}
/* comfortable reading width on laptops, full width on phones */
.block-container {{ max-width: 1120px; padding-top: 3.6rem; padding-bottom: 4rem; }}
@media (max-width: 640px) {{
  .block-container {{ padding-left: 0.9rem; padding-right: 0.9rem; padding-top: 3.2rem; }}
  .tp-hero h1 {{ font-size: 1.7rem; }}
}}
.tp-hero {{
  border-radius: 18px; padding: 1.4rem 1.6rem; margin-bottom: 1.2rem;
  background: {HERO_STOPS[0]};
  background: linear-gradient(120deg, {HERO_STOPS[0]} 0%, {HERO_STOPS[1]} 55%,
    {HERO_STOPS[2]} 100%);
  color: #fff; box-shadow: 0 10px 30px rgba(91, 76, 240, 0.18);
}}
.tp-hero h1 {{ color: #fff; margin: 0; padding: 0; font-size: 2.1rem; font-weight: 750;
  letter-spacing: -0.01em; line-height: 1.25; }}
.tp-hero p {{ margin: 0.35rem 0 0 0; font-size: 1.08rem; line-height: 1.5; color: #fff; }}
.tp-step {{ display: inline-flex; align-items: center; gap: 0.5rem; font-weight: 650;
  font-size: 1.05rem; line-height: 1.4; color: {INK}; margin: 0.2rem 0 0.4rem 0;
  padding: 0; scroll-margin-top: 4rem; }}
.tp-step .tp-num {{ display: inline-flex; width: 1.6rem; height: 1.6rem; border-radius: 50%;
  align-items: center; justify-content: center; background: {PRIMARY}; color: #fff;
  font-size: 0.85rem; font-weight: 700; }}
.tp-badge {{ display: inline-block; padding: 0.12rem 0.6rem; border-radius: 999px;
  font-size: 0.8rem; font-weight: 650; line-height: 1.5; white-space: nowrap; }}
.tp-meta {{ color: {MUTED}; font-size: 0.9rem; line-height: 1.6; }}
.tp-caption {{ color: {MUTED}; font-size: 0.875rem; line-height: 1.5; overflow-wrap: anywhere; }}
.tp-script {{ color: {INK}; font-size: 0.98rem; margin: 0.25rem 0 0.15rem 0;
  overflow-wrap: anywhere; }}
.tp-cost {{ font-size: 0.95rem; color: {INK}; }}
.tp-cost b {{ color: {PRIMARY}; }}
.tp-empty {{ text-align: center; padding: 2.5rem 1rem; border: 1.5px dashed #D6D2EA;
  border-radius: 18px; background: #FFFFFF; }}
.tp-empty .tp-empty-icon {{ font-size: 2.6rem; }}
.tp-empty h2 {{ margin: 0.4rem 0 0.2rem 0; padding: 0; font-size: 1.5rem; }}
.tp-empty p {{ color: {MUTED}; margin: 0; }}
.st-key-progress_card, .st-key-result_card {{
  background: #FFFFFF; border: 1px solid #E4E0F5; border-radius: 18px;
  padding: 1.1rem 1.3rem; box-shadow: 0 6px 24px rgba(29, 34, 51, 0.06);
}}
.st-key-progress_card [data-testid="stProgress"] > div > div > div > div {{
  background: linear-gradient(90deg, {PRIMARY}, {ACCENT});
}}
[data-testid="stFileUploaderDropzone"] {{ border-radius: 14px; }}
/* Streamlit fades captions (st.caption, image captions) to 60% opacity: 4.2:1 on our page
   background, under WCAG AA's 4.5:1. A solid muted ink at full opacity instead (5:1+). */
.stApp [data-testid="stCaptionContainer"] {{ color: {MUTED}; opacity: 1; }}
/* The same for a slider's min/max labels (Streamlit's faded grey is 4.15:1 on the page); they
   appear at once on focus or hover instead of fading in half a second later. */
.stApp [data-testid="stSliderTickBar"] {{ color: {MUTED}; transition: none; }}
.stApp [data-testid="stSliderTickBar"] p {{ color: {MUTED}; }}
[data-testid="stSidebar"] .tp-brand {{ font-weight: 750; font-size: 1.15rem; color: {INK}; }}
/* A collapsed sidebar is off screen (on phones, always at first): keep its links out of the
   Tab order and away from screen readers until it is opened. */
[data-testid="stSidebar"][data-collapsed="true"] [data-testid="stSidebarContent"] {{
  visibility: hidden;
}}
.st-key-tp_doc_lang, .st-key-tp_widget_text, [class*="st-key-tp_scroll_"] {{ display: none; }}
/* "Press Ctrl+Enter to apply" under text boxes: wrong on phones and never translated; the
   Generate button reads the box whatever its focus. */
[data-testid="InputInstructions"] {{ display: none; }}
/* A 9:16 video at full column width is taller than a laptop screen: keep the whole player in
   view (letterboxed inside its box) on every page that shows one. */
[data-testid="stVideo"] {{ max-height: min(70vh, 720px); background: #111; }}
/* Touch targets of at least 44x44 px on phones (WCAG 2.5.5, Apple's HIG): the sidebar's open
   button (28 px), a photo's remove x (14 px) and the help "?" (16 px). The box grows and a
   negative margin of the same amount keeps the layout and the drawn icon where they were;
   desktops with a mouse keep Streamlit's sizes. */
@media (max-width: 640px), (pointer: coarse) {{
  [data-testid="stExpandSidebarButton"] {{
    min-width: 44px; min-height: 44px; margin: -8px;
  }}
  [data-testid="stFileChipDeleteBtn"] {{
    display: inline-flex; align-items: center; justify-content: center;
    min-width: 44px; min-height: 44px; margin: -15px;
  }}
  [data-testid="stTooltipIcon"],
  [data-testid="stTooltipIcon"] [data-testid="stTooltipHoverTarget"] {{
    display: inline-flex; align-items: center; justify-content: center;
    min-width: 44px; min-height: 44px;
  }}
  [data-testid="stTooltipIcon"] {{ margin: -14px -14px -14px -10px; }}
}}
</style>
"""


def inject_css() -> None:
    st.html(_CSS)


_LANG_SCRIPT = '<script>document.documentElement.lang = "{code}";</script>'


def set_document_language(code: str) -> None:
    """Say which language the page is in (``<html lang>``), so a screen reader reads Hindi
    with a Hindi voice and the browser hyphenates and offers translation correctly.
    ``code`` is one of our UI language codes (two or three lower-case letters)."""
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha() and code.islower()):
        raise ValueError(f"not a language code: {code!r}")
    with st.container(key="tp_doc_lang"):
        st.html(_LANG_SCRIPT.format(code=code), unsafe_allow_javascript=True)


# Streamlit's own words inside its widgets, which it always writes in English and offers no
# way to translate. Each entry: the element whose English words are hidden, how they are
# hidden, where the translation is drawn (generated content) and its size (rem, as Streamlit
# draws it).
#   "remove": the English element is taken out (display: none) and the translation drawn by
#     its parent, so screen readers announce only the translation (it is the parent's text).
#   "shrink": the words are drawn at size 0 and the translation beside them: for a bare text
#     node beside other children (an icon, a link), which CSS cannot remove alone, and for
#     buttons. A screen reader then hears both ("Upload अपलोड करें").
_WIDGET_TEXTS: dict[str, tuple[str, str, str, str]] = {
    # "Upload" on the file uploader's button
    # (shrunk, not removed: axe-core ignores generated content, so a button whose only
    # words are generated fails its button-name rule)
    "upload": (
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p',
        "shrink",
        '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] '
        "p::after",
        "0.875rem",
    ),
    # "25MB per file • JPG, PNG, WEBP" beside it
    "limits": (
        '[data-testid="stFileUploaderDropzoneInstructions"] > div > span',
        "remove",
        '[data-testid="stFileUploaderDropzoneInstructions"] > div::after',
        "0.875rem",
    ),
    # Camera without permission: "This app would like to use your camera." and a link
    "camera_ask": (
        '[data-testid="stCameraInputWebcamComponent"] p',
        "shrink",
        '[data-testid="stCameraInputWebcamComponent"] p::before',
        "1rem",
    ),
    "camera_help": (
        '[data-testid="stCameraInputWebcamComponent"] p a',
        "shrink",
        '[data-testid="stCameraInputWebcamComponent"] p a::after',
        "1rem",
    ),
    # "Take Photo" under the live picture; "Clear photo" (after an icon) under the shot
    "take": (
        '[data-testid="stCameraInputWebcamComponent"] [data-testid="stCameraInputButton"]',
        "shrink",
        '[data-testid="stCameraInputWebcamComponent"] [data-testid="stCameraInputButton"]::after',
        "1rem",
    ),
    "clear": (
        '[data-testid="stCameraInput"] > [data-testid="stCameraInputButton"] > span',
        "shrink",
        '[data-testid="stCameraInput"] > [data-testid="stCameraInputButton"] > span::after',
        "1rem",
    ),
}


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal that cannot end the string or the <style> element."""
    escaped = "".join(
        ch if ch.isalnum() or ch in " .,:;!?()-·•/'" or ord(ch) > 127 else f"\\{ord(ch):X} "
        for ch in text
    )
    return f'"{escaped}"'


def widget_text_css(texts: Mapping[str, str]) -> str:
    """CSS that shows ``texts`` (keys of :data:`_WIDGET_TEXTS`) in place of Streamlit's own
    English words, as generated content (browsers draw it and include it in the accessible
    name). The elements stay Streamlit's, with their keyboard and click behaviour."""
    rules = []
    for key, text in texts.items():
        english, how, drawn, size = _WIDGET_TEXTS[key]
        hide = "display: none" if how == "remove" else "font-size: 0 !important"
        rules.append(f"{english} {{ {hide}; }}")
        rules.append(f"{drawn} {{ content: {_css_string(text)}; font-size: {size}; }}")
    rules.append(  # icons beside shrunken words keep their size
        '[data-testid="stCameraInput"] > [data-testid="stCameraInputButton"] > span svg '
        "{ width: 1rem; height: 1rem; margin-right: 0.25rem; }"
    )
    if "camera_ask" in texts:  # the link follows the sentence inside one element
        rules.append(f"{_WIDGET_TEXTS['camera_help'][2]} {{ margin-left: 0.3em; }}")
    return "<style>\n" + "\n".join(rules) + "\n</style>"


def translate_streamlit_widgets(max_upload_mb: int) -> None:
    """Put Streamlit's own widget words (uploader, camera) in the UI language; English pages
    keep Streamlit's text as it is. ``max_upload_mb`` is the photo uploader's limit."""
    if current_language() == DEFAULT_LANGUAGE:
        return
    texts = {
        "upload": _("Upload"),
        "limits": _("Up to {mb} MB · JPG, PNG or WebP").format(mb=max_upload_mb),
        "camera_ask": _("This app would like to use your camera."),
        "camera_help": _("Learn how to allow access."),
        "take": _("Take a photo"),  # the same words as the camera tab
        "clear": _("Clear photo"),
    }
    with st.container(key="tp_widget_text"):
        st.html(widget_text_css(texts))


def hero(title: str, promise: str) -> None:
    st.markdown(
        f'<div class="tp-hero"><h1>{html.escape(title)}</h1><p>{html.escape(promise)}</p></div>',
        unsafe_allow_html=True,
    )


def step_header(number: int, title: str) -> None:
    """A numbered section heading (a real ``<h2>``, so screen readers can jump between steps)."""
    st.html(f'<h2 class="tp-step"><span class="tp-num">{number}</span>{html.escape(title)}</h2>')


def status_badge_html(status: str, label: str) -> str:
    bg, fg = _BADGE_COLOURS.get(status, _BADGE_COLOURS["queued"])
    return (
        f'<span class="tp-badge tp-badge-{html.escape(status)}" '
        f'style="background:{bg};color:{fg}">{html.escape(label)}</span>'
    )


def status_badge(status: str, label: str) -> None:
    st.markdown(status_badge_html(status, label), unsafe_allow_html=True)


def meta_line(parts: list[str]) -> None:
    """A muted line of facts joined by middle dots (date · duration · language)."""
    text = " · ".join(inert(p) for p in parts if p)
    st.markdown(f'<div class="tp-meta">{text}</div>', unsafe_allow_html=True)


def script_excerpt(text: str, max_chars: int | None = None) -> None:
    """A creator's script as plain text (never Markdown or HTML), cut to ``max_chars`` at a
    word boundary when given; ``dir="auto"`` lets an Urdu script read right to left."""
    if max_chars is not None and len(text) > max_chars:
        cut = text[: max_chars - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars // 2 else cut).rstrip() + "…"
    st.markdown(f'<div class="tp-script" dir="auto">{inert(text)}</div>', unsafe_allow_html=True)


def plain_caption(text: str) -> None:
    """Small muted text shown exactly as typed: a display name, an e-mail, a share title.
    (``st.caption(text)`` would turn a typed ``[x](https://...)`` into a link.)"""
    st.markdown(f'<div class="tp-caption" dir="auto">{inert(text)}</div>', unsafe_allow_html=True)


def plain_title(text: str) -> None:
    """The page's ``<h1>`` for a title a creator chose (the share page): shown as typed,
    where ``st.title(text)`` would render a typed ``[prize](https://...)`` as a link."""
    st.markdown(f'<h1 dir="auto">{inert(text)}</h1>', unsafe_allow_html=True)


def inert(text: str) -> str:
    """``text`` as one line of HTML that ``st.markdown`` shows exactly as typed.

    Inside ``<div>...</div>`` on one line Markdown sees an HTML block and leaves it alone; a
    newline could end the block (a blank line does), so whitespace runs become one space.
    ``html.escape`` stops tags. ``:`` and ``$`` become character references because Streamlit
    rewrites ``:material/...:``, ``:red[...]``, emoji short codes and maths in the source text
    before parsing it; the browser turns the references back into the characters.
    """
    escaped = html.escape(" ".join(text.split()))
    return escaped.replace(":", "&#58;").replace("$", "&#36;")


def cost_line(html_text: str) -> None:
    """``html_text`` must already be escaped by the caller (it may contain <b>)."""
    st.markdown(f'<div class="tp-cost">{html_text}</div>', unsafe_allow_html=True)


def progress_card(title: str, stage_label: str, percent: float, detail: str) -> None:
    """Stage, bar and elapsed time; rendered inside a container keyed ``progress_card``."""
    st.markdown(f"**{title}**")
    st.progress(min(100, max(0, round(percent))), text=stage_label)
    st.caption(detail)


def empty_state(icon: str, title: str, body: str) -> None:
    st.markdown(
        f'<div class="tp-empty"><div class="tp-empty-icon" aria-hidden="true">'
        f"{html.escape(icon)}</div>"
        f"<h2>{html.escape(title)}</h2><p>{html.escape(body)}</p></div>",
        unsafe_allow_html=True,
    )


def sidebar_brand(name: str) -> None:
    st.sidebar.markdown(
        f'<div class="tp-brand">🎬 {html.escape(name)}</div>', unsafe_allow_html=True
    )


def footer(links: list[tuple[str, str]], note: str = "") -> None:
    """The links at the bottom of every page (terms, privacy, help): ordinary same-tab links,
    so they also work for a signed-out visitor and with JavaScript routing off. ``links`` are
    (label, path-and-query) pairs built by the app, never from user input."""
    items = " · ".join(
        f'<a href="{html.escape(href, quote=True)}" target="_self">{html.escape(label)}</a>'
        for label, href in links
    )
    extra = f'<span class="tp-footer-note">{inert(note)}</span>' if note else ""
    st.markdown(
        f'<nav class="tp-footer" aria-label="Footer" style="margin-top:3rem;padding-top:1rem;'
        f"border-top:1px solid #E4E1EE;font-size:0.9rem;color:{MUTED};"
        f'font-family:{html.escape(FONT_STACK, quote=True)}">{items} {extra}</nav>',
        unsafe_allow_html=True,
    )
