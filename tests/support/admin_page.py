"""The admin page as the browser tests meet it: Debian's chromium under Playwright, logging in through the
login form, the session cookie for plain HTTP checks, and axe-core's verdict on a page."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from oms_local import demo
from oms_local.runtime import LocalHub

CHROMIUM = Path(os.environ.get("OMS_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parents[1] / "browser" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "admin"
USERS = {user.groups[0]: user for user in demo.DEMO_USERS}  # role -> its demo user
# This machine's network is closed: without these chromium keeps trying Google's hosts at start and after.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # root (CI) cannot use chromium's user-namespace sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM = {"content-type": "application/x-www-form-urlencoded"}


def require_browser() -> None:
    """Skip (saying why) where chromium or axe-core is not installed; in CI they must be: fail there."""
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if not missing:
        return
    reason = f"browser tests need {', '.join(missing)}: `make browser` installs them (chromium as root)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def log_in(page: Any, base_url: str, username: str, password: str) -> Any:
    """Fill in and send the login form; returns the answer to the page the browser ends on."""
    page.goto(f"{base_url}/admin/login")
    page.get_by_label(re.compile("username|имя пользователя", re.IGNORECASE)).fill(username)
    page.get_by_label(re.compile("password|пароль", re.IGNORECASE)).fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=re.compile("log in|войти", re.IGNORECASE)).click()
    return navigation.value


@contextmanager
def session_client(base_url: str, username: str, password: str) -> Iterator[tuple[httpx.Client, str]]:
    """A plain HTTP client logged in as the user (the form, its login cookie and token) and the session's
    CSRF token, for requests no page would send (a write without the token, another store's order). The
    cookies go by hand: httpx, unlike a browser, sends no Secure cookie to http://127.0.0.1."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        form = client.get("/admin/login")
        sent = {"csrf_token": _csrf(form.text), "username": username, "password": password}
        answer = client.post("/admin/login", data=sent, headers={"cookie": first_cookie(form)})
        assert answer.status_code == 303, answer.text
        client.headers["cookie"] = first_cookie(answer)
        landing = client.get(answer.headers["location"])
        yield client, _csrf(landing.text)


def first_cookie(answer: httpx.Response) -> str:
    """`name=value` of the answer's Set-Cookie."""
    return answer.headers["set-cookie"].split(";", 1)[0]


def _csrf(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of these impacts on the page as it is now. Evaluated through the DevTools
    protocol, so the page's CSP (script-src 'self') does not apply to it: nothing is added to the page."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def screenshot(page: Any, name: str) -> None:
    """docs/admin/<name>.png, only when OMS_SCREENSHOTS=1 (the committed pictures are not rewritten on every run)."""
    if os.environ.get("OMS_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


class LoginForm:
    """The login form as a browser sends it to the in-process hub's gateway: the form's cookie and token, the
    answer to the username and password (`query` on the form's URL), and the challenge cookie when that answer
    asks a first login for a new password, which `new_password` sends."""

    def __init__(self, hub: Any, username: str, password: str, query: str = "") -> None:
        self.hub = hub
        form = hub.http("GET", "/admin/login")
        self.token, self.login_cookie = _csrf(form.body.decode()), _first(form.headers)
        fields = {"csrf_token": self.token, "username": username, "password": password}
        self.answer = self.post("/admin/login", fields, self.login_cookie, query)
        self.challenge_cookie = _first(self.answer.headers) if "Set-Cookie" in self.answer.headers else ""

    def post(self, path: str, fields: dict[str, str], cookie: str, query: str = "") -> Any:
        body = urlencode(fields).encode()
        return self.hub.http("POST", path, query=query, headers={**FORM, "cookie": cookie}, body=body)

    def new_password(self, new: str, again: str | None = None, challenge: str | None = None, **extra: str) -> Any:
        """The new-password form: `again` when the confirmation differs, `challenge` for another cookie."""
        cookie = "; ".join([self.login_cookie, self.challenge_cookie if challenge is None else challenge])
        fields = {"csrf_token": self.token, "new_password": new, "confirm_password": new if again is None else again}
        return self.post("/admin/login/new-password", {**fields, **extra}, cookie)


class HubSession:
    """An admin-page user's requests straight into an in-process LocalHub (no browser, no socket): logged in
    through the login form (a first login then sets `new_password`); `post` adds the session's CSRF token as
    a form would."""

    def __init__(self, hub: Any, username: str, password: str, new_password: str | None = None) -> None:
        self.hub = hub
        form = LoginForm(hub, username, password)
        login = form.answer
        if new_password is not None:
            assert login.status == 200, login.body[:300]
            login = form.new_password(new_password)
        assert login.status == 303, login.body[:300]
        self.cookie = _first(login.headers)
        self.csrf_token = _csrf(self.get("/admin/no-such-page").body.decode())  # any page has the logout form

    def get(self, path: str, query: str = "") -> Any:
        return self.hub.http("GET", path, query=query, headers={"cookie": self.cookie})

    def post(self, path: str, fields: dict[str, str]) -> Any:
        body = urlencode({"csrf_token": self.csrf_token, **fields}).encode()
        return self.hub.http("POST", path, headers={**FORM, "cookie": self.cookie}, body=body)


def _first(headers: dict[str, str]) -> str:
    """`name=value` of the answer's Set-Cookie."""
    return headers["Set-Cookie"].split(";", 1)[0]


def form_login(hub: LocalHub, username: str, password: str, query: str = "") -> tuple[int, dict[str, str]]:
    """The login form posted to the in-process hub's gateway, as a browser would: the answer's status and
    headers (a session cookie and a 303 when the user may log in)."""
    answer = LoginForm(hub, username, password, query).answer
    return answer.status, answer.headers
