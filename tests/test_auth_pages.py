"""The account page's security parts and the admin Outbox page, through the real entry
script (AppTest): signed-in devices, ending sessions, changing the password, the forgotten-
password form's one answer, the e-mailed links, and the outbox for admins only."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from db.models import User, utcnow
from db.session import session_scope
from services import accounts, sessions
from tests.test_accounts_pages import (
    PASSWORD,
    app,
    clean,
    sign_up,
    site,  # noqa: F401  (fixture)
)
from tests.test_accounts_pages import texts as _texts


def texts(at: AppTest) -> str:
    """Everything a reader sees, headings and expander labels included."""
    parts = [_texts(at)]
    parts += [str(h.value) for h in (*at.header, *at.subheader)]
    parts += [str(e.label) for e in at.expander]
    return "\n".join(parts)


def _account(at: AppTest) -> AppTest:
    at.switch_page("views/account.py").run()
    return clean(at)


def test_devices_list_and_ending_every_session(site: Callable[..., None]) -> None:  # noqa: F811
    site(features__allow_guest="false")
    at = _account(sign_up(clean(app()), "devices@example.com"))
    user = accounts.get_user(at.session_state["auth_user_id"])
    assert user is not None and user.email == "devices@example.com"
    # Another browser of the same person.
    other_id, handoff = sessions.start(user.id, user_agent="Firefox on Android")
    other_cookie, _ = sessions.activate(handoff)
    at = _account(at)
    page = texts(at)
    assert "Signed-in devices" in page and "This device" in page
    assert "Firefox on Android" in page
    # End the other one from here.
    at = clean(at.button(key=f"end_session_{other_id}").click().run())
    assert sessions.resolve(other_cookie) is None
    assert "Firefox on Android" not in texts(_account(at))
    # End everything, this tab included: signed out.
    at = clean(at.button(key="sign_out_everywhere").click().run())
    assert sessions.list_active(user.id) == []
    assert at.button(key="signin_submit")


def test_a_session_ended_elsewhere_signs_this_tab_out(site: Callable[..., None]) -> None:  # noqa: F811
    site(features__allow_guest="false")
    at = sign_up(clean(app()), "elsewhere@example.com")
    sessions.revoke_all(at.session_state["auth_user_id"])
    at = clean(at.run())
    assert at.button(key="signin_submit") and "elsewhere@example.com" not in texts(at)


def test_changing_the_password_on_the_page(site: Callable[..., None]) -> None:  # noqa: F811
    site(features__allow_guest="false")
    at = _account(sign_up(clean(app()), "changer@example.com"))
    user_id = at.session_state["auth_user_id"]
    other_id, _ = sessions.start(user_id)
    at.text_input(key="pw_current").input("not my password")
    at.text_input(key="pw_new").input("a brand new passphrase")
    at = clean(at.button(key="pw_submit").click().run())
    assert "Your current password is not right." in texts(at)
    assert at.session_state["pw_current"] == "" and at.session_state["pw_new"] == ""
    at.text_input(key="pw_current").input(PASSWORD)
    at.text_input(key="pw_new").input("a brand new passphrase")
    at = clean(at.button(key="pw_submit").click().run())
    assert "Password changed. Other devices signed out: 1." in texts(at)
    assert not sessions.is_active(other_id)
    assert "changer@example.com" in texts(at)  # this tab stays signed in
    assert accounts.sign_in("changer@example.com", "a brand new passphrase").id == user_id


def test_the_forgotten_password_form_says_the_same_for_any_address(
    site: Callable[..., None],  # noqa: F811
) -> None:
    site(features__allow_guest="false")
    accounts.sign_up("known@example.com", PASSWORD)
    answers = []
    for email in ("known@example.com", "unknown@example.com"):
        at = clean(app())
        at.text_input(key="forgot_email").input(email)
        at = clean(at.button(key="forgot_submit").click().run())
        answers.append([s.value for s in at.success])
    assert answers[0] == answers[1] and "If an account uses that address" in answers[0][0]


def test_the_emailed_links_land_on_the_account_page(site: Callable[..., None]) -> None:  # noqa: F811
    site(features__allow_guest="false")
    sent: list[object] = []
    import mail

    original = mail.send
    mail.send = sent.append  # type: ignore[assignment]
    try:
        accounts.sign_up("linked@example.com", PASSWORD)
        accounts.request_password_reset("linked@example.com")
    finally:
        mail.send = original  # type: ignore[assignment]
    verify = sent[0].text.split("verify=", 1)[1].split()[0]  # type: ignore[attr-defined]
    reset = sent[1].text.split("reset=", 1)[1].split()[0]  # type: ignore[attr-defined]

    at = clean(app(verify=verify))
    assert "Thank you: your e-mail address is confirmed." in texts(at)
    assert "verify" not in at.query_params
    at = clean(app(verify=verify))
    assert "This link was already used." in texts(at)

    at = clean(app(reset=reset))
    assert "Choose a new password" in texts(at) and "reset" not in at.query_params
    at.text_input(key="reset_password").input("short")
    at = clean(at.button(key="reset_submit").click().run())
    assert "Use a password of at least 10 characters." in texts(at)
    at.text_input(key="reset_password").input("my new long passphrase")
    at = clean(at.button(key="reset_submit").click().run())
    assert "Your new password is set." in texts(at)
    assert at.session_state["reset_password"] == ""
    assert accounts.sign_in("linked@example.com", "my new long passphrase")


def test_the_outbox_is_for_verified_admins_only(site: Callable[..., None]) -> None:  # noqa: F811
    site(features__allow_guest="false", accounts__admins='["Ops@Example.com"]')
    at = sign_up(clean(app()), "ops@example.com")
    try:
        at.switch_page("views/outbox.py")
        raise AssertionError("an unverified admin address must not see the Outbox page")
    except ValueError:
        pass  # the page is not registered for this user
    with session_scope() as db:
        db.get(User, at.session_state["auth_user_id"]).email_verified_at = utcnow()
    at = clean(at.run())
    at.switch_page("views/outbox.py").run()
    page = texts(clean(at))
    assert "Outbox and sign-in activity" in page
    assert "Confirm your e-mail address for TalkingPhoto" in page  # the sign-up's own e-mail
    assert "ops@example.com" in page and "signup" in page  # the audit table
    at.selectbox(key="audit_kind").select("signin_failed").run()
    assert "No events match." in texts(clean(at))


def test_without_our_routes_no_cookie_is_tried_and_the_page_says_what_lasts(
    site: Callable[..., None],  # noqa: F811
) -> None:
    """Where custom routes are unreachable (services.sessions.check_routes said so), sign-in
    still works for the tab, no hand-off script is sent, the sign-in page says a sign-in
    lasts until reload, and nobody falls back to a shared account."""
    site(features__allow_guest="false")
    sessions._set_mode("no-routes")
    try:
        at = clean(app())
        assert "lasts only until you reload or close the tab" in texts(at)
        at = sign_up(at, "tabonly@example.com")
        assert not [h for h in at.get("html") if "/api/auth/session" in str(h.proto)]
        assert "tabonly@example.com" in texts(_account(at))
        other = clean(app())  # another browser: signed out, not the first person
        assert other.button(key="signin_submit") and "tabonly@example.com" not in texts(other)
        with session_scope() as db:
            assert db.query(User).filter(User.auth_method == "local").count() == 0
    finally:
        sessions._set_mode("unknown")
    at = sign_up(clean(app()), "withroutes@example.com")
    assert [h for h in at.get("html") if "/api/auth/session" in str(h.proto)]
