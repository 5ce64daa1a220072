"""Bring a card into view once, when it appears (issue 15, item 4).

Streamlit has no scroll API. On a phone the Generate and Buy buttons sit a screen or two below
where their results appear (the progress and result cards at the top of Create, the payment
panel under the packs, the "Payment received" banner above them), and a rerun keeps the
scroll position, so the answer to a tap appeared off screen. :func:`scroll_into_view` adds a
hidden, zero-height snippet that scrolls the keyed container (``st.container(key=...)`` gives
it the class ``st-key-<key>``) into view.

Once per *event* (a job id, a purchase id): the event is remembered in the session, so the
page does not jump on every rerun or fragment rerun while the creator reads or scrolls away.
With ``prefers-reduced-motion`` the jump is instant instead of smooth.
"""

from __future__ import annotations

import re

import streamlit as st

_DONE_KEY = "tp_scrolled_events"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

# Waits for the target (a rerun may render it a moment after this snippet), scrolls it to the
# top of the screen under Streamlit's header, and puts it back once or twice while the rest of
# the page settles (images and the old run's elements come and go below and above it).
_SCRIPT = """<script>
(function () {
  var sel = ".st-key-%(key)s";
  var reduce = window.matchMedia &&
    window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var found = 0, tries = 0;
  function away(el) {
    var r = el.getBoundingClientRect();
    var vh = window.innerHeight || document.documentElement.clientHeight;
    return r.top < 0 || r.top > vh * 0.4;
  }
  function go(smooth) {
    var el = document.querySelector(sel);
    if (el && el.getBoundingClientRect().height > 0) {
      el.style.scrollMarginTop = "4.5rem";
      if (found === 0 || away(el)) {
        el.scrollIntoView({block: "start", behavior: smooth && !reduce ? "smooth" : "auto"});
      }
      found += 1;
      if (found < 3) { setTimeout(function () { go(false); }, 700); }
      return;
    }
    if (++tries < 60) { setTimeout(function () { go(smooth); }, 100); }
  }
  go(true);
})();
</script>"""


def scroll_into_view(key: str, event: str) -> None:
    """Scroll the container keyed ``key`` into view, once for ``event``.

    ``key`` is the container's ``st.container(key=...)`` (letters, digits, ``_`` and ``-``);
    ``event`` names the occasion (``"progress:<job id>"``): the same event never scrolls
    twice in a session, a new one does.
    """
    if not _KEY_RE.match(key):
        raise ValueError(f"not a container key: {key!r}")
    done: list[str] = st.session_state.setdefault(_DONE_KEY, [])
    if event in done:
        return
    done.append(event)
    del done[:-50]  # bounded: only recent events matter
    with st.container(key=f"tp_scroll_{key}"):
        st.html(_SCRIPT % {"key": key}, unsafe_allow_javascript=True)
