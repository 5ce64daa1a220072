"""Sign in / create an account (the page signed-out visitors see).

Also the landing place of a gateway return that opened a signed-out session: the payment is
verified and credited to the purchase's owner, and the buyer is asked to sign in.
"""

from __future__ import annotations

import streamlit as st

import ui_theme
from errors import TalkingPhotoError
from i18n import _, current_language
from secrets_manager import get_settings
from services import accounts
from views._auth_forms import forgot_form, handle_links, reset_form, signin_form, signup_form
from views._components import localized
from views._payment_return import handle_return, show_outcome
from views._session import (
    client_address,
    lasting_sign_in_notice,
    oidc_configured,
    set_user,
    show_flash,
)


def _guest_start() -> None:
    try:
        user = accounts.start_guest(client=client_address(), locale=current_language())
    except TalkingPhotoError as exc:
        st.session_state["guest_error"] = (exc.template, exc.params)
        return
    set_user(user)


def main() -> None:
    handle_return()
    ui_theme.hero("TalkingPhoto", _("Turn a portrait into a video that speaks your words."))
    show_outcome(signed_in=False)
    show_flash()
    handle_links()
    if reset_form():
        return
    settings = get_settings()
    grant = settings.credits.signup_grant

    col_forms, col_side = st.columns([3, 2], gap="large")
    with col_forms:
        tab_in, tab_up = st.tabs([_("Sign in"), _("Create account")])
        with tab_in:
            signin_form("signin")
            forgot_form("forgot")
            lasting_sign_in_notice()
        with tab_up:
            if grant:
                st.caption(_("New accounts get {n} free credits to try it out.").format(n=grant))
            signup_form("signup")
    with col_side:
        if oidc_configured() and st.button(
            _("Sign in with your organisation's account"),
            key="oidc_login",
            icon=":material/key:",
            width="stretch",
        ):
            st.login()
        if settings.guest_allowed:
            st.markdown("**" + _("Just looking?") + "**")
            st.caption(
                _(
                    "Try it without an account with {n} free credits. You can keep your videos by "
                    "creating an account later."
                ).format(n=settings.credits.guest_grant)
            )
            st.button(
                _("Try it without an account"),
                key="guest_start",
                on_click=_guest_start,
                icon=":material/person:",
                width="stretch",
            )
            if failure := st.session_state.pop("guest_error", None):
                st.error(localized(*failure), icon=":material/error:")


main()
