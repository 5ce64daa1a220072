"""Sign-in, sign-up, forgotten-password and reset forms, and the e-mailed links' landing.

Shared by the sign-in page and the account page. The work happens in the submit button's
callback: Streamlit runs it before the next script run, which is the only moment a page may
set the sidebar's language (``ui_lang``) and change identity before the navigation is built.
Passwords are wiped from the session as soon as the callback has used them; a failure is
kept as template + params and shown in the form.
"""

from __future__ import annotations

import streamlit as st

from errors import N_, InputError, TalkingPhotoError
from i18n import _, current_language
from secrets_manager import get_settings
from services import accounts, legal
from views._components import localized
from views._session import USER_KEY, client_address, set_user

RESET_TOKEN_KEY = "auth_reset_token"


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


def _show_done(prefix: str) -> None:
    done = st.session_state.pop(f"{prefix}_done", None)
    if isinstance(done, str):
        st.success(_(done), icon=":material/check:")


def _browser_user() -> accounts.UserView | None:
    """Who this browser already is (without starting a guest)."""
    user_id = st.session_state.get(USER_KEY)
    return accounts.get_user(user_id) if isinstance(user_id, int) else None


def _sign_in(prefix: str) -> None:
    password = _take(f"{prefix}_password")
    before = _browser_user()
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
    before = _browser_user() if upgrade else None
    if not st.session_state.get(f"{prefix}_terms"):  # go-live: accept to continue
        _fail(prefix, InputError(N_("Please accept the terms of service and the privacy policy.")))
        return
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
    legal.accept(user.id)  # the accepted versions are recorded
    set_user(user)
    st.toast(_("Welcome to TalkingPhoto! Your account is ready."), icon=":material/celebration:")
    st.toast(
        _("We sent you an e-mail: open its link to confirm your address."),
        icon=":material/mail:",
    )


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
        st.checkbox(
            _(
                "I accept the [terms of service]({terms}) and the [privacy policy]({privacy})"
            ).format(terms="/legal?doc=terms", privacy="/legal?doc=privacy"),
            key=f"{prefix}_terms",
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


# ----------------------------------------------------------------------- forgotten password


def _request_reset(prefix: str) -> None:
    try:
        accounts.request_password_reset(
            st.session_state.get(f"{prefix}_email", ""), client=client_address()
        )
    except TalkingPhotoError as exc:
        _fail(prefix, exc)
        return
    # The same answer whether or not an account uses the address.
    st.session_state[f"{prefix}_done"] = N_(
        "If an account uses that address, we sent it a link to choose a new password. "
        "The link works for 1 hour."
    )


def forgot_form(prefix: str = "forgot") -> None:
    answered = f"{prefix}_done" in st.session_state or f"{prefix}_error" in st.session_state
    with st.expander(_("Forgot your password?"), expanded=answered), st.form(f"{prefix}_form"):
        st.text_input(_("E-mail"), key=f"{prefix}_email", autocomplete="email")
        _show_error(prefix)
        _show_done(prefix)
        st.form_submit_button(
            _("Send me a reset link"),
            key=f"{prefix}_submit",
            on_click=_request_reset,
            args=(prefix,),
            icon=":material/mail:",
        )


def _reset(prefix: str) -> None:
    password = _take(f"{prefix}_password")
    token = st.session_state.get(RESET_TOKEN_KEY)
    if not isinstance(token, str):
        return
    try:
        user = accounts.reset_password(token, password, client=client_address())
    except TalkingPhotoError as exc:
        _fail(prefix, exc)
        return
    st.session_state.pop(RESET_TOKEN_KEY, None)
    set_user(user)
    st.session_state["ui_lang"] = user.locale
    # A toast: the page after this run may be another one (signed in, the default page).
    st.toast(
        _("Your new password is set. Every other device was signed out."),
        icon=":material/check:",
    )


def reset_form(prefix: str = "reset") -> bool:
    """The new-password form while a valid reset link is open; False when there is none."""
    if not isinstance(st.session_state.get(RESET_TOKEN_KEY), str):
        return False
    minimum = get_settings().accounts.password_min_length
    st.subheader(_("Choose a new password"))
    with st.form(f"{prefix}_form"):
        st.text_input(
            _("New password"),
            type="password",
            key=f"{prefix}_password",
            autocomplete="new-password",
            help=_("At least {min} characters. A few unrelated words make a strong one.").format(
                min=minimum
            ),
        )
        _show_error(prefix)
        st.form_submit_button(
            _("Set the new password"),
            type="primary",
            key=f"{prefix}_submit",
            on_click=_reset,
            args=(prefix,),
            icon=":material/lock_reset:",
        )
    return True


def handle_links() -> None:
    """The e-mailed links (``?verify=`` and ``?reset=``): verify at once, or keep the reset
    token for :func:`reset_form`; the token leaves the address bar either way."""
    params = st.query_params
    verify, reset = params.get("verify"), params.get("reset")
    if verify is not None:
        del params["verify"]
        try:
            accounts.verify_email(verify, client=client_address())
        except TalkingPhotoError as exc:
            st.session_state["links_error"] = (exc.template, exc.params)
        else:
            st.session_state["links_done"] = N_("Thank you: your e-mail address is confirmed.")
            # The menu was built before this page ran: build it again (an admin's pages).
            st.rerun()
    if reset is not None:
        del params["reset"]
        try:
            accounts.check_reset_token(reset)
        except TalkingPhotoError as exc:
            st.session_state["links_error"] = (exc.template, exc.params)
        else:
            st.session_state[RESET_TOKEN_KEY] = reset
    _show_error("links")
    _show_done("links")
