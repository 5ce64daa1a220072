"""Account: profile, interface language, currency, upgrading a guest, and deleting the
account with all its data (DPDP Act 2023).

Guests and the local developer user see the sign-up form here (same row, videos kept) and a
sign-in form for an existing account (a guest's finished videos move over).
"""

from __future__ import annotations

import streamlit as st

import i18n
from errors import TalkingPhotoError
from i18n import _
from secrets_manager import get_settings
from services import account_deletion, accounts
from services.accounts import UserView
from views._auth_forms import signin_form, signup_form
from views._components import show_error
from views._session import flash, require_user, show_flash, sign_out


def _save_language(user_id: int) -> None:
    # A callback: the only moment the sidebar's language radio may be changed.
    language = st.session_state.get("account_language")
    if language in i18n.UI_LANGUAGES:
        accounts.update_profile(user_id, locale=language)
        st.session_state["ui_lang"] = language


def _upgrade(user: UserView) -> None:
    grant = get_settings().credits.signup_grant
    st.info(
        _(
            "You are using TalkingPhoto without an account. Create one to keep your videos, "
            "buy credits and sign in from any device."
        ),
        icon=":material/person_add:",
    )
    col_up, col_in = st.columns(2, gap="large")
    with col_up:
        st.subheader(_("Create an account"))
        if grant:
            st.caption(_("New accounts get {n} free credits to try it out.").format(n=grant))
        signup_form("upgrade", upgrade=True)
    with col_in:
        st.subheader(_("Already have an account?"))
        signin_form("account_signin")


def _profile(user: UserView) -> None:
    st.subheader(_("Profile"))
    st.text_input(_("E-mail"), value=user.email, disabled=True, key="account_email")
    name = st.text_input(_("Your name"), value=user.display_name, key="account_name")
    if st.button(_("Save"), key="account_save"):
        try:
            accounts.update_profile(user.id, display_name=name)
        except TalkingPhotoError as exc:
            show_error(exc)
        else:
            st.toast(_("Saved."), icon=":material/check:")


def _preferences(user: UserView) -> None:
    st.subheader(_("Preferences"))
    codes = list(i18n.UI_LANGUAGES)
    st.selectbox(
        _("Interface language"),
        options=codes,
        index=codes.index(user.locale) if user.locale in codes else 0,
        format_func=lambda code: i18n.UI_LANGUAGES[code][0],
        key="account_language",
        on_change=_save_language,
        args=(user.id,),
    )


def _delete_section(user: UserView) -> None:
    st.subheader(_("Delete my account and my data"))
    st.write(
        _(
            "This erases your photos, videos, share links, credits and personal details. "
            "Purchase records are kept without your name or e-mail, because tax law requires "
            "them. This cannot be undone."
        )
    )
    if not st.session_state.get("confirm_account_delete"):
        if st.button(_("Delete my account…"), key="account_delete", icon=":material/delete:"):
            st.session_state["confirm_account_delete"] = True
            st.rerun()
        return
    with st.container(border=True, key="account_delete_confirm"):
        sure = st.checkbox(
            _("I understand that my videos and credits will be gone for good."),
            key="account_delete_sure",
        )
        col_yes, col_no = st.columns(2)
        if col_yes.button(
            _("Delete everything"),
            key="account_delete_yes",
            type="primary",
            disabled=not sure,
        ):
            try:
                account_deletion.delete_account(user.id)
            except TalkingPhotoError as exc:
                show_error(exc)
                return
            sign_out()
            flash("deleted")
            st.rerun()
        if col_no.button(_("Keep my account"), key="account_delete_no"):
            st.session_state.pop("confirm_account_delete", None)
            st.rerun()


def main() -> None:
    show_flash()
    user = require_user()
    st.title(_("Account"))
    if user.has_account:
        _profile(user)
    else:
        _upgrade(user)
    _preferences(user)
    st.divider()
    _delete_section(user)


main()
