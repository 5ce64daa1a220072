"""Look and shared widgets of the TalkingPhoto pages.

The colours are the ones in ``.streamlit/config.toml`` (Streamlit's own widgets use those); this
module adds what the theme cannot express: the hero header, cards keyed by container ``key``
(Streamlit gives a keyed container the CSS class ``st-key-<key>``), status badges, the empty
state, and a font stack with a Devanagari fallback so Hindi never renders as boxes.
Everything user-supplied that ends up in HTML goes through :func:`html.escape`.
"""

from __future__ import annotations

import html

import streamlit as st

PRIMARY = "#5B4CF0"
ACCENT = "#FF7A59"
INK = "#1D2233"
MUTED = "#5F6577"

FONT_STACK = (
    '"Source Sans", "Source Sans Pro", "Noto Sans", "Noto Sans Devanagari", "Mukta", '
    '"Nirmala UI", "Mangal", "Kohinoor Devanagari", system-ui, -apple-system, "Segoe UI", '
    "Roboto, sans-serif"
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
.tp-hero, .tp-step, .tp-badge, .tp-meta, .tp-script, .tp-cost, .tp-empty, .tp-brand {{
  font-family: {FONT_STACK};
}}
/* comfortable reading width on laptops, full width on phones */
.block-container {{ max-width: 1120px; padding-top: 3.6rem; padding-bottom: 4rem; }}
@media (max-width: 640px) {{
  .block-container {{ padding-left: 0.9rem; padding-right: 0.9rem; padding-top: 3.2rem; }}
  .tp-hero h1 {{ font-size: 1.7rem; }}
}}
.tp-hero {{
  border-radius: 18px; padding: 1.4rem 1.6rem; margin-bottom: 1.2rem;
  background: linear-gradient(120deg, {PRIMARY} 0%, #7B5CF5 55%, {ACCENT} 130%);
  color: #fff; box-shadow: 0 10px 30px rgba(91, 76, 240, 0.18);
}}
.tp-hero h1 {{ color: #fff; margin: 0; padding: 0; font-size: 2.1rem; font-weight: 750;
  letter-spacing: -0.01em; line-height: 1.25; }}
.tp-hero p {{ margin: 0.35rem 0 0 0; font-size: 1.08rem; opacity: 0.93; line-height: 1.5; }}
.tp-step {{ display: inline-flex; align-items: center; gap: 0.5rem; font-weight: 650;
  font-size: 1.05rem; color: {INK}; margin: 0.2rem 0 0.4rem 0; }}
.tp-step .tp-num {{ display: inline-flex; width: 1.6rem; height: 1.6rem; border-radius: 50%;
  align-items: center; justify-content: center; background: {PRIMARY}; color: #fff;
  font-size: 0.85rem; font-weight: 700; }}
.tp-badge {{ display: inline-block; padding: 0.12rem 0.6rem; border-radius: 999px;
  font-size: 0.8rem; font-weight: 650; line-height: 1.5; white-space: nowrap; }}
.tp-meta {{ color: {MUTED}; font-size: 0.9rem; line-height: 1.6; }}
.tp-script {{ color: {INK}; font-size: 0.98rem; margin: 0.25rem 0 0.15rem 0;
  overflow-wrap: anywhere; }}
.tp-cost {{ font-size: 0.95rem; color: {INK}; }}
.tp-cost b {{ color: {PRIMARY}; }}
.tp-empty {{ text-align: center; padding: 2.5rem 1rem; border: 1.5px dashed #D6D2EA;
  border-radius: 18px; background: #FFFFFF; }}
.tp-empty .tp-empty-icon {{ font-size: 2.6rem; }}
.tp-empty h3 {{ margin: 0.4rem 0 0.2rem 0; }}
.tp-empty p {{ color: {MUTED}; margin: 0; }}
.st-key-progress_card, .st-key-result_card {{
  background: #FFFFFF; border: 1px solid #E4E0F5; border-radius: 18px;
  padding: 1.1rem 1.3rem; box-shadow: 0 6px 24px rgba(29, 34, 51, 0.06);
}}
.st-key-progress_card [data-testid="stProgress"] > div > div > div > div {{
  background: linear-gradient(90deg, {PRIMARY}, {ACCENT});
}}
[data-testid="stFileUploaderDropzone"] {{ border-radius: 14px; }}
[data-testid="stSidebar"] .tp-brand {{ font-weight: 750; font-size: 1.15rem; color: {INK}; }}
</style>
"""


def inject_css() -> None:
    st.html(_CSS)


def hero(title: str, promise: str) -> None:
    st.markdown(
        f'<div class="tp-hero"><h1>{html.escape(title)}</h1><p>{html.escape(promise)}</p></div>',
        unsafe_allow_html=True,
    )


def step_header(number: int, title: str) -> None:
    st.markdown(
        f'<div class="tp-step"><span class="tp-num">{number}</span>{html.escape(title)}</div>',
        unsafe_allow_html=True,
    )


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
    text = " · ".join(html.escape(p) for p in parts if p)
    st.markdown(f'<div class="tp-meta">{text}</div>', unsafe_allow_html=True)


def script_excerpt(text: str) -> None:
    st.markdown(f'<div class="tp-script">{html.escape(text)}</div>', unsafe_allow_html=True)


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
        f'<div class="tp-empty"><div class="tp-empty-icon">{html.escape(icon)}</div>'
        f"<h3>{html.escape(title)}</h3><p>{html.escape(body)}</p></div>",
        unsafe_allow_html=True,
    )


def sidebar_brand(name: str) -> None:
    st.sidebar.markdown(
        f'<div class="tp-brand">🎬 {html.escape(name)}</div>', unsafe_allow_html=True
    )
