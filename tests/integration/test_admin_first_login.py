"""A first login with the temporary password an administrator gave (Cognito's FORCE_CHANGE_PASSWORD): the
page asks for the user's own password, answers Cognito's NEW_PASSWORD_REQUIRED challenge with it and opens the
session; the challenge travels in an HttpOnly cookie, never in the page. Bad input gets a clear 4xx."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator

import pytest

from oms_local import demo
from oms_local.cognito import PoolUser
from oms_local.runtime import LocalHub
from tests.support.admin_page import LoginForm

TEMPORARY = "Temporary-pass-1"
OWN = "Olga-own-password-7"


@pytest.fixture(scope="module")
def admin_hub() -> Iterator[LocalHub]:
    with LocalHub() as hub:
        demo.seed_users(hub)
        yield hub


def _invited(hub: LocalHub, username: str) -> None:
    user = PoolUser(username, TEMPORARY, ("store_staff",), {"custom:location_ids": "msk-store-tverskaya"})
    hub.cognito.add_user(user, permanent=False)


def _cookie(headers: dict[str, str]) -> str:
    return headers["Set-Cookie"].split(";", 1)[0]


def test_a_first_login_sets_the_user_s_own_password_and_opens_their_session(admin_hub: LocalHub) -> None:
    _invited(admin_hub, "olga")
    first = LoginForm(admin_hub, "olga", TEMPORARY)
    answer = first.answer
    assert answer.status == 200 and 'name="new_password"' in answer.body.decode()
    set_cookie = answer.headers["Set-Cookie"]
    assert set_cookie.startswith("__Host-oms_challenge=") and "__Host-oms_session" not in set_cookie
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict", "Max-Age=180", "Path=/"):
        assert attribute in set_cookie
    challenge = first.challenge_cookie.split("=", 1)[1]
    cognito_session = base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)).decode()
    assert challenge not in answer.body.decode() and cognito_session.split('"')[3] not in answer.body.decode()

    differ = first.new_password(OWN, "Olga-own-password-8")
    assert differ.status == 422 and "Set-Cookie" not in differ.headers
    assert "differ" in differ.body.decode()
    for weak in ("short-A1!", "no-upper-case-or-digit!", "x" * 300):  # the pool's policy, and the form's own limit
        refused = first.new_password(weak)
        assert refused.status == 422 and "Set-Cookie" not in refused.headers, weak
    # The refusals kept the challenge open: the right password still answers it.
    done = first.new_password(OWN, next="/admin/store/stock/msk-store-tverskaya")
    assert (done.status, done.headers["Location"]) == (303, "/admin/store/stock/msk-store-tverskaya")
    session = _cookie(done.headers)
    assert session.startswith("__Host-oms_session=")
    assert admin_hub.http("GET", "/admin/store/stock/msk-store-tverskaya", headers={"cookie": session}).status == 200

    # The challenge is spent: sent again it opens nothing.
    again = first.new_password(OWN)
    assert again.status == 401 and "Set-Cookie" not in again.headers
    # From now on the user's own password logs in, the temporary one no longer does.
    assert LoginForm(admin_hub, "olga", OWN).answer.status == 303
    assert LoginForm(admin_hub, "olga", TEMPORARY).answer.status == 401


@pytest.mark.parametrize(
    "challenge",
    [
        "",
        "__Host-oms_challenge=",
        "__Host-oms_challenge=not-base64!!",
        "__Host-oms_challenge=" + base64.urlsafe_b64encode(b'["olga-odd"]').decode(),
        "__Host-oms_challenge=" + base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        "__Host-oms_challenge=" + base64.urlsafe_b64encode(b'["olga-odd", "forged-session"]').decode(),
        "__Host-oms_challenge=" + base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "__Host-oms_challenge=" + base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode(),
    ],
)
def test_a_missing_or_altered_challenge_opens_nothing(admin_hub: LocalHub, challenge: str) -> None:
    username = f"olga-{uuid.uuid4().hex[:8]}"
    _invited(admin_hub, username)
    first = LoginForm(admin_hub, username, TEMPORARY)
    answer = first.new_password(OWN, challenge=challenge)
    assert answer.status == 401 and "Set-Cookie" not in answer.headers
    assert "took too long" in answer.body.decode()


def test_the_new_password_form_refuses_what_a_browser_would_not_send(admin_hub: LocalHub) -> None:
    _invited(admin_hub, "olga-csrf")
    first = LoginForm(admin_hub, "olga-csrf", TEMPORARY)
    no_token = first.new_password(OWN, csrf_token="forged")
    assert no_token.status == 403 and "Set-Cookie" not in no_token.headers
    assert admin_hub.http("GET", "/admin/login/new-password").status == 303  # no challenge: to the login
    cookies = {"cookie": f"{first.login_cookie}; {first.challenge_cookie}"}
    in_russian = admin_hub.http("GET", "/admin/login/new-password", query="lang=ru", headers=cookies)
    assert in_russian.status == 200 and "Задайте свой пароль" in in_russian.body.decode()
    assert admin_hub.http("PUT", "/admin/login/new-password").status == 405
    # The challenge was not spent by the refused requests.
    assert first.new_password(OWN).status == 303
