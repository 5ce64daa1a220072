"""Sign-in and sign-up forms, shared by the sign-in page and the account page (upgrade).

The work happens in the submit button's callback: Streamlit runs it before the next script
run, which is the only moment a page may set the sidebar's language (``ui_lang``) and change
identity before the navigation is built. The password is wiped from the session as soon as
the callback has used it; a failure is kept as template + params and shown in the form.
"""

from __future__ import annotations

import streamlit as st

from errors import TalkingPhotoError
from i18n import _, current_language
from services import accounts
from views._components import localized
from views._session import client_address, current_user, set_user


def _take(key: str) -> str:
    value = st.session_state.get(key, "")
    st.session_state[key] = ""
    return value if isinstance(value, str) else ""


def _fail(prefix: str, exc: TalkingPhotoError) -> None:
    st.session_state[f"{prefix}_error"] = (exc.template, exc.params)


def _show_error(prefix: str) -> None:
    failure = st.session_state.pop(f"{prefix}_error", None)
    if failure:
        st.error(localized(*failure), icon=":material/error:")


def _sign_in(prefix: str) -> None:
    password = _take(f"{prefix}_password")
    before = current_user()
    try:
        user = accounts.sign_in(
            st.session_state.get(f"{prefix}_email", ""), password, client=client_address()
        )
    except TalkingPhotoError as exc:
        _fail(prefix, exc)
        return
    if before is not None and before.is_guest:
        accounts.adopt_guest_videos(before.id, user.id)
    set_user(user)
    st.session_state["ui_lang"] = user.locale


def _sign_up(prefix: str, upgrade: bool) -> None:
    password = _take(f"{prefix}_password")
    before = current_user() if upgrade else None
    try:
        user = accounts.sign_up(
            st.session_state.get(f"{prefix}_email", ""),
            password,
            st.session_state.get(f"{prefix}_name", ""),
            client=client_address(),
            locale=current_language(),
            upgrade_user_id=before.id if before is not None and not before.has_account else None,
        )
    except TalkingPhotoError as exc:
        _fail(prefix, exc)
        return
    set_user(user)
    st.toast(_("Welcome to TalkingPhoto! Your account is ready."), icon=":material/celebration:")


def signin_form(prefix: str = "signin") -> None:
    with st.form(f"{prefix}_form"):
        st.text_input(_("E-mail"), key=f"{prefix}_email", autocomplete="email")
        st.text_input(
            _("Password"),
            type="password",
            key=f"{prefix}_password",
            autocomplete="current-password",
        )
        _show_error(prefix)
        st.form_submit_button(
            _("Sign in"),
            type="primary",
            key=f"{prefix}_submit",
            on_click=_sign_in,
            args=(prefix,),
            icon=":material/login:",
        )


def signup_form(prefix: str = "signup", *, upgrade: bool = False) -> None:
    from secrets_manager import get_settings

    minimum = get_settings().accounts.password_min_length
    with st.form(f"{prefix}_form"):
        st.text_input(_("Your name"), key=f"{prefix}_name", autocomplete="name")
        st.text_input(_("E-mail"), key=f"{prefix}_email", autocomplete="email")
        st.text_input(
            _("Password"),
            type="password",
            key=f"{prefix}_password",
            autocomplete="new-password",
            help=_("At least {min} characters. A few unrelated words make a strong one.").format(
                min=minimum
            ),
        )
        _show_error(prefix)
        st.form_submit_button(
            _("Keep my videos and create the account") if upgrade else _("Create account"),
            type="primary",
            key=f"{prefix}_submit",
            on_click=_sign_up,
            args=(prefix, upgrade),
            icon=":material/person_add:",
        )
