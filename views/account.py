"""Account: profile, e-mail verification, security (password, e-mail, signed-in devices),
interface language, upgrading a guest, and deleting the account with all its data (DPDP Act
2023).

Guests see the sign-up form here (same row, videos kept) and a sign-in form for an existing
account (a guest's finished videos move over). Signed-out visitors see both forms and the
forgotten-password form; the e-mailed verification and reset links land on this page.
"""

from __future__ import annotations

import streamlit as st

import i18n
from errors import TalkingPhotoError
from i18n import _
from secrets_manager import get_settings
from services import account_deletion, accounts, notify, sessions
from services.accounts import UserView
from views._auth_forms import forgot_form, handle_links, reset_form, signin_form, signup_form
from views._components import show_error
from views._session import (
    client_address,
    current_session_id,
    current_user,
    flash,
    show_flash,
    sign_out,
)


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
        forgot_form("account_forgot")


def _signed_out() -> None:
    col_in, col_up = st.columns(2, gap="large")
    with col_in:
        st.subheader(_("Sign in"))
        signin_form("signin")  # the same form (and keys) as the sign-in page
        forgot_form("forgot")
    with col_up:
        st.subheader(_("Create an account"))
        signup_form("signup")


def _resend(user_id: int) -> None:
    try:
        accounts.send_verification(user_id, client=client_address())
    except TalkingPhotoError as exc:
        st.session_state["verify_error"] = exc
    else:
        st.session_state["verify_sent"] = True


def _verification(user: UserView) -> None:
    if user.email_verified or user.auth_method != "password":
        return
    with st.container(border=True, key="account_verify"):
        st.warning(
            _("Your e-mail address is not confirmed yet. Open the link we sent to {email}.").format(
                email=user.email
            ),
            icon=":material/mark_email_unread:",
        )
        st.button(
            _("Send the link again"),
            key="account_resend",
            on_click=_resend,
            args=(user.id,),
            icon=":material/send:",
        )
        if st.session_state.pop("verify_sent", False):
            st.success(_("Sent. Check your inbox (and the spam folder)."), icon=":material/check:")
        if (failure := st.session_state.pop("verify_error", None)) is not None:
            show_error(failure)


def _profile(user: UserView) -> None:
    st.subheader(_("Profile"))
    st.text_input(_("E-mail"), value=user.email, disabled=True, key="account_email")
    _verification(user)
    name = st.text_input(_("Your name"), value=user.display_name, key="account_name")
    if st.button(_("Save"), key="account_save"):
        try:
            accounts.update_profile(user.id, display_name=name)
        except TalkingPhotoError as exc:
            show_error(exc)
        else:
            st.toast(_("Saved."), icon=":material/check:")


def _change_password(user_id: int) -> None:
    current = st.session_state.get("pw_current", "")
    new = st.session_state.get("pw_new", "")
    st.session_state["pw_current"] = st.session_state["pw_new"] = ""
    try:
        ended = accounts.change_password(
            user_id,
            current if isinstance(current, str) else "",
            new if isinstance(new, str) else "",
            keep_session_id=current_session_id(),
            client=client_address(),
        )
    except TalkingPhotoError as exc:
        st.session_state["pw_error"] = exc
    else:
        st.session_state["pw_done"] = ended


def _change_email(user_id: int) -> None:
    password = st.session_state.get("email_password", "")
    st.session_state["email_password"] = ""
    try:
        accounts.change_email(
            user_id,
            password if isinstance(password, str) else "",
            st.session_state.get("email_new", ""),
            client=client_address(),
        )
    except TalkingPhotoError as exc:
        st.session_state["email_error"] = exc
    else:
        st.session_state["email_done"] = True
        st.session_state["email_new"] = ""


def _security(user: UserView) -> None:
    if user.auth_method != "password":
        return
    st.subheader(_("Password and e-mail"))
    col_pw, col_mail = st.columns(2, gap="large")
    with col_pw, st.form("account_password_form"):
        st.text_input(
            _("Current password"),
            type="password",
            key="pw_current",
            autocomplete="current-password",
        )
        st.text_input(_("New password"), type="password", key="pw_new", autocomplete="new-password")
        if (failure := st.session_state.pop("pw_error", None)) is not None:
            show_error(failure)
        if (ended := st.session_state.pop("pw_done", None)) is not None:
            st.success(
                _("Password changed. Other devices signed out: {n}.").format(n=ended),
                icon=":material/check:",
            )
        st.form_submit_button(
            _("Change password"), on_click=_change_password, args=(user.id,), key="pw_submit"
        )
    with col_mail, st.form("account_email_form"):
        st.text_input(_("New e-mail"), key="email_new", autocomplete="email")
        st.text_input(
            _("Current password"),
            type="password",
            key="email_password",
            autocomplete="current-password",
        )
        if (failure := st.session_state.pop("email_error", None)) is not None:
            show_error(failure)
        if st.session_state.pop("email_done", False):
            st.success(
                _("E-mail changed. Open the link we sent to the new address to confirm it."),
                icon=":material/check:",
            )
        st.form_submit_button(
            _("Change e-mail"), on_click=_change_email, args=(user.id,), key="email_submit"
        )


def _end_session(user_id: int, session_id: int) -> None:
    if any(s.id == session_id for s in sessions.list_active(user_id)):
        sessions.revoke(session_id, reason="ended_from_account", client=client_address())


def _devices(user: UserView) -> None:
    st.subheader(_("Signed-in devices"))
    here = current_session_id()
    for live in sessions.list_active(user.id):
        with st.container(border=True, key=f"session_{live.id}"):
            col_text, col_button = st.columns([4, 1], vertical_alignment="center")
            agent = live.user_agent or _("Unknown browser")
            label = _("This device") if live.id == here else agent
            col_text.markdown(f"**{label}**")
            col_text.caption(
                _("Signed in {since}, last used {seen}").format(
                    since=i18n.format_datetime(live.created_at),
                    seen=i18n.format_datetime(live.last_seen_at),
                )
                + (f" · {agent}" if live.id == here else "")
            )
            if live.id != here:
                col_button.button(
                    _("End session"),
                    key=f"end_session_{live.id}",
                    on_click=_end_session,
                    args=(user.id, live.id),
                )
    # Not labelled "Sign out ...": the sidebar's "Sign out" button must stay the only one.
    if st.button(
        _("End all sessions on every device"), key="sign_out_everywhere", icon=":material/logout:"
    ):
        sign_out(everywhere=True)
        st.rerun()


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
    if user.has_account:  # guests have no address to mail
        st.toggle(
            _("E-mail me when a video is ready or could not be made"),
            value=notify.preference(user.id),
            key="account_notify",
            on_change=_save_notify,
            args=(user.id,),
        )


def _save_notify(user_id: int) -> None:
    enabled = bool(st.session_state.get("account_notify"))
    notify.set_preference(user_id, enabled)
    st.toast(
        _("We will e-mail you when a video is done.")
        if enabled
        else _("No more e-mails about finished videos."),
        icon=":material/mail:",
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
    st.title(_("Account"))
    handle_links()
    if reset_form():
        return
    user = current_user()
    if user is None:
        _signed_out()
        return
    if user.has_account:
        _profile(user)
        _security(user)
        _devices(user)
    else:
        _upgrade(user)
    _preferences(user)
    st.divider()
    _delete_section(user)


main()
