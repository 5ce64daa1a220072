"""TalkingPhoto entry point: ``streamlit run app_streamlit_cloud.py``.

This one file plays two roles, told apart by ``__name__``:

* **Server module.** ``streamlit run`` parses this file (AST only, nothing executed) and finds the
  module-level ``app = st.App(...)`` below (``streamlit/web/server/app_discovery.py``); it then
  hands ``"app_streamlit_cloud:app"`` to uvicorn, which *imports* the file as the module
  ``app_streamlit_cloud``. That import builds the ASGI app with our extra routes
  (``GET /api/health`` and the rest, see ``web/``) and renders nothing.
* **Page script.** For every browser session Streamlit executes the file again as ``__main__``
  (``ScriptRunner._new_module("__main__")``; AppTest does the same). Only then does the UI run:
  theme, language switcher, navigation, and the error boundary around the page.

``python app_streamlit_cloud.py`` (no Streamlit runtime at all) starts the same server.
The app needs no secrets file: settings fall back to safe local defaults.
"""

from __future__ import annotations

import logging

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import health_monitor
import i18n
import ui_theme
import web
from errors import ConfigError, TalkingPhotoError
from i18n import _, format_number, ngettext
from observability import releasable
from secrets_manager import get_settings
from services import credits, startup
from views import _closed_sessions
from views._analytics import inject_ga, privacy_text
from views._components import show_error, show_unexpected
from views._session import current_user, deliver_cookie, guest_invitation, sign_out

log = logging.getLogger("talkingphoto.app")


@st.cache_resource(show_spinner=False)
def _start_services() -> bool:
    """Once per process: database schema, crash recovery of jobs, voices from settings."""
    startup.start_services()
    return True


def _ui_language() -> str:
    """Query param ``lang`` (survives reloads) > browser language > settings default."""

    state = st.session_state
    if "ui_lang" not in state:
        from_url = st.query_params.get("lang")
        browser = st.context.locale if isinstance(st.context.locale, str) else None
        if from_url in i18n.UI_LANGUAGES:
            state["ui_lang"] = from_url
        elif i18n.normalize_language(browser) != i18n.DEFAULT_LANGUAGE:
            state["ui_lang"] = i18n.normalize_language(browser)
        else:
            state["ui_lang"] = i18n.normalize_language(get_settings().app.default_locale)
    return str(state["ui_lang"])


def _page(view: str, title: str, icon: str, url_path: str) -> st.Page:
    return st.Page(f"views/{view}.py", title=title, icon=f":material/{icon}:", url_path=url_path)


def _pages() -> list[st.Page]:
    """The pages this visitor may open. Role-based hiding is done by not passing a page at
    all (a hidden page is still reachable by URL); every page also re-checks its own access."""
    user = current_user()
    share = st.Page(
        "views/share.py", title=_("Shared video"), url_path="share", visibility="hidden"
    )
    # Help and the legal texts for everyone (the footer links to them).
    public = [
        _page("help", _("Help"), "help", "help"),
        _page("legal", _("Terms and privacy"), "gavel", "legal"),
        share,
    ]
    if user is None:
        return [
            st.Page("views/signin.py", title=_("Sign in"), icon=":material/login:", default=True),
            # /account keeps working signed out (sign-up, and the e-mailed links land here).
            st.Page(
                "views/account.py", title=_("Account"), url_path="account", visibility="hidden"
            ),
            *public,
        ]
    pages = [
        st.Page("views/create.py", title=_("Create"), icon=":material/movie:", default=True),
        _page("videos", _("My videos"), "video_library", "videos"),
    ]
    if get_settings().features.enable_payments:
        pages.append(_page("credits", _("Buy credits"), "shopping_cart", "credits"))
    pages += [
        _page("receipts", _("Receipts"), "receipt_long", "receipts"),
        _page("account", _("Account"), "account_circle", "account"),
    ]
    if user.is_admin:
        pages += [
            _page("health", _("Health"), "monitor_heart", "health"),
            _page("outbox", _("Outbox"), "outgoing_mail", "outbox"),
            _page("launch", _("Launch numbers"), "insights", "launch"),
            _page("support_admin", _("Support"), "support_agent", "support"),
        ]
    else:
        # /health opened by a creator: "for admins" and a way back, not "Page not found".
        pages.append(
            st.Page(
                "views/admins_only.py", title=_("Health"), url_path="health", visibility="hidden"
            )
        )
    return pages + public


def _sidebar_account() -> None:
    """Who is signed in and their balance, on every page."""

    user = current_user()
    if user is None:
        return
    balance = credits.balance(user.id)
    with st.sidebar:
        # A guest's address is a made-up placeholder: not worth showing.
        ui_theme.plain_caption(
            (user.display_name or user.email) if user.has_account else _("Guest")
        )
        st.markdown(
            "**"
            + ngettext("{n} credit", "{n} credits", balance).format(n=format_number(balance))
            + "**"
        )
        guest_invitation(user)
        if user.has_account and st.button(_("Sign out"), key="sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()
        with st.expander(_("Privacy")):
            st.markdown(privacy_text())


def _footer() -> None:

    lang = st.session_state.get("ui_lang", "en")
    company = get_settings().legal.company_name
    ui_theme.footer(
        [
            (_("Terms of service"), f"/legal?doc=terms&lang={lang}"),
            (_("Privacy policy"), f"/legal?doc=privacy&lang={lang}"),
            (_("Help & support"), f"/help?lang={lang}"),
        ],
        note=f"© {company}" if company else "",
    )


def _render() -> None:

    st.set_page_config(
        page_title="TalkingPhoto",
        page_icon="🎬",
        layout="wide",
        initial_sidebar_state="auto",
    )
    i18n.set_locale_getter(lambda: st.session_state.get("ui_lang", i18n.DEFAULT_LANGUAGE))
    ui_theme.inject_css()

    try:
        inject_ga()
        _start_services()
        _ui_language()
        ui_theme.sidebar_brand("TalkingPhoto")
        st.sidebar.radio(
            "Language / भाषा",
            options=list(i18n.UI_LANGUAGES),
            format_func=lambda code: i18n.UI_LANGUAGES[code][0],
            key="ui_lang",
            horizontal=True,
        )
        with st.sidebar:
            ui_theme.set_document_language(st.session_state["ui_lang"])
        # Switching pages clears query params, so put the language back on every run.
        if st.query_params.get("lang") != st.session_state["ui_lang"]:
            st.query_params["lang"] = st.session_state["ui_lang"]

        page = st.navigation(_pages(), position="sidebar")
        _sidebar_account()
        deliver_cookie()  # after identity is settled: the browser gets (or drops) its cookie
        with health_monitor.track("page"):
            try:
                page.run()
            finally:  # also after st.stop(): every page ends with the legal and help links
                _footer()
    except ConfigError as exc:
        log.error("settings invalid: %s", exc.user_message)
        # The lines name the key and the expected value, never a secret (secrets_manager).
        header = _("TalkingPhoto cannot start: its settings are invalid.")
        st.error(f"{header}\n\n```text\n{exc.user_message}\n```")
    except TalkingPhotoError as exc:
        log.info("shown to user: %s (%s)", type(exc).__name__, exc.detail or "")
        show_error(exc)
    except Exception as exc:  # the one error boundary: log with a reference id, show no trace
        show_unexpected(exc, "page")


def _on_script_error(exc: Exception) -> bool:
    """Last resort for errors outside the boundary (widget callbacks): log, hide the trace."""
    log.error("uncaught script error", exc_info=exc)
    try:
        show_unexpected(exc, "callback")
    except Exception:  # pragma: no cover - never let the handler itself fail
        return False
    return True


if __name__ == "__main__" and get_script_run_ctx() is not None:
    _render()
else:
    # Frees the files of sessions whose browser has gone (views/_closed_sessions.py).
    releasable.register_sweep("closed Streamlit sessions", _closed_sessions.schedule_sweep)
    app = st.App(
        __file__,
        routes=web.ROUTES,
        middleware=web.MIDDLEWARE,
        lifespan=web.lifespan,
        on_script_error=_on_script_error,
    )
    if __name__ == "__main__":
        app.run()
