"""Logging in to the admin page in a real browser: every role lands on its page; a wrong password makes no
session; writes need the session's CSRF token; logout ends the session on the server; the cookie's flags;
the security headers and no inline script on any page; store staff kept to their store's orders, however
the request is sent; and axe-core finds nothing serious on the login page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import boto3
import httpx
import pytest

from admin.auth.policy import LANDING
from admin.handlers.page import SECURITY_HEADERS, SESSION_COOKIE, router
from oms_local.runtime import LocalHub
from tests.support.admin_page import USERS, axe_violations, log_in, screenshot, session_client
from tests.support.api import Api
from tests.support.builders import click_collect_order

OTHER_STORE = "spb-store-nevsky"  # the demo store user works at msk-store-tverskaya
# Sample values for the pages' path parameters, so every GET route of every page module is fetched.
SAMPLE_PARAMS = {"location_id": "msk-store-tverskaya", "channel_id": "web", "workflow": "courier", "sku": "SKU-00001"}


def _sessions(hub: LocalHub) -> int:
    table = hub.template.functions["AdminFunction"].environment["ADMIN_SESSIONS_TABLE"]
    return int(boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])


def _click_collect_order(hub: LocalHub, external_id: str, store: str) -> str:
    api = Api(hub)
    assert api.put(f"/v1/stock/{store}", {"mode": "delta", "items": [{"sku": "SKU-00001", "on_hand": 2}]}).status == 200
    answer = api.post("/v1/orders", click_collect_order(external_id, store, sku="SKU-00001", price=990))
    assert answer.status == 201, answer.body
    return str(answer.body["order_id"])


@pytest.mark.parametrize("role", sorted(LANDING))
def test_each_role_lands_on_its_page(page_as: Any, role: str) -> None:
    page = page_as(role)
    assert urlparse(page.url).path == LANDING[role]
    assert USERS[role].username in page.locator("header .who").inner_text()


def test_a_wrong_password_shows_why_and_opens_no_session(new_page: Any, base_url: str, admin_hub: LocalHub) -> None:
    before = _sessions(admin_hub)
    page = new_page()
    answer = log_in(page, base_url, "operator", "Wrong-password-1")
    assert answer.status == 401
    assert urlparse(page.url).path == "/admin/login"
    assert "Wrong username or password" in page.get_by_role("alert").inner_text()
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    assert _sessions(admin_hub) == before
    log_in(page, base_url, "nobody", "Wrong-password-1")  # an unknown user reads the same
    assert "Wrong username or password" in page.get_by_role("alert").inner_text()


def test_the_session_cookie_is_host_only_secure_httponly_and_strict(page_as: Any) -> None:
    cookies = {c["name"]: c for c in page_as("operator").context.cookies()}
    session = cookies[SESSION_COOKIE]  # chromium keeps a __Host- Secure cookie from http://127.0.0.1
    assert (session["httpOnly"], session["secure"], session["sameSite"], session["path"]) == (True, True, "Strict", "/")
    assert len(session["value"]) >= 43  # 256 random bits, URL-safe base64


def test_a_write_without_the_csrf_token_is_refused_and_changes_nothing(base_url: str, admin_hub: LocalHub) -> None:
    order_id = _click_collect_order(admin_hub, "csrf-1", "msk-store-tverskaya")
    api = Api(admin_hub)
    before = api.order(order_id)
    with session_client(base_url, USERS["operator"].username, USERS["operator"].password) as (client, token):
        for sent in ({}, {"csrf_token": "forged"}, {"csrf_token": token[:-1]}):
            answer = client.post(f"/admin/orders/{order_id}/events", data={"event": "cancel", "note": "x", **sent})
            assert answer.status_code == 403
            assert client.post("/admin/logout", data=sent).status_code == 403
        assert client.get(LANDING["operator"]).status_code == 200  # the session is still there
    after = api.order(order_id)
    assert (after["status"], after["timeline"]) == (before["status"], before["timeline"])


def test_logout_ends_the_session_on_the_server(page_as: Any, base_url: str, admin_hub: LocalHub) -> None:
    page = page_as("operator")
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    token = page.locator("form.logout input[name=csrf_token]").get_attribute("value")
    before = _sessions(admin_hub)
    with page.expect_navigation():
        page.locator("form.logout button").click()
    assert urlparse(page.url).path == "/admin/login"
    assert _sessions(admin_hub) == before - 1
    # The old cookie, replayed by hand, no longer opens anything.
    replayed = {"cookie": f"{SESSION_COOKIE}={cookie}"}
    with httpx.Client(base_url=base_url, headers=replayed, follow_redirects=False) as replay:
        shown = replay.get(LANDING["operator"])
        assert shown.status_code == 303 and shown.headers["location"].startswith("/admin/login")
        assert replay.post("/admin/logout", data={"csrf_token": token}).status_code == 401


def _html_pages(base_url: str, admin_hub: LocalHub, pool_user: Any) -> dict[str, httpx.Response]:
    """The login page, an error page and every GET route of every page module, as a user of every role."""
    everyone = pool_user("everyone", *LANDING, locations="msk-store-tverskaya")
    params = {**SAMPLE_PARAMS, "order_id": _click_collect_order(admin_hub, "pages-1", "msk-store-tverskaya")}
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as anonymous:
        pages = {"/admin/login": anonymous.get("/admin/login")}
    with session_client(base_url, everyone.username, everyone.password) as (client, _):
        pages["/admin/no-such-page"] = client.get("/admin/no-such-page")
        for route in router().routes:
            if route.method == "GET":
                path = re.sub(r"\{(\w+)\}", lambda m: params.get(m.group(1), "x"), route.pattern)
                pages[path] = client.get(path)
    return pages


def test_every_page_sends_the_security_headers_and_no_inline_script(
    base_url: str, admin_hub: LocalHub, pool_user: Any
) -> None:
    pages = _html_pages(base_url, admin_hub, pool_user)
    assert len(pages) >= 3
    for path, answer in pages.items():
        assert answer.status_code < 500, path
        for header, value in SECURITY_HEADERS.items():
            assert answer.headers.get(header) == value, (path, header)
        assert "unsafe-inline" not in answer.headers["content-security-policy"]
        if not answer.headers["content-type"].startswith("text/html"):
            continue
        assert answer.headers["cache-control"] == "no-store", path
        html = answer.text
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), f"{path}: an inline <script>"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html, re.IGNORECASE), f"{path}: an inline event handler"
        assert not re.search(r"<[^>]+\sstyle\s*=|<style", html, re.IGNORECASE), f"{path}: an inline style"
        for asset in re.findall(r'(?:src|href)="(/admin/static/[^"]+)"', html):
            static = httpx.get(base_url + asset.replace("&amp;", "&"))
            assert static.status_code == 200 and "immutable" in static.headers["cache-control"], asset


def test_store_staff_cannot_open_nor_act_on_another_stores_order(
    page_as: Any, base_url: str, admin_hub: LocalHub
) -> None:
    own = _click_collect_order(admin_hub, "store-own-1", "msk-store-tverskaya")
    other = _click_collect_order(admin_hub, "store-other-1", OTHER_STORE)
    page = page_as("store_staff")
    assert page.goto(f"{base_url}/admin/orders/{own}").status == 200
    assert page.goto(f"{base_url}/admin/orders/{other}").status == 404
    assert page.goto(f"{base_url}/admin/orders/ord_no_such_order").status == 404  # the same as a missing one
    api = Api(admin_hub)
    before = api.order(other)
    with session_client(base_url, USERS["store_staff"].username, USERS["store_staff"].password) as (client, token):
        for action in ("events", "returns", "substitution", "short-picks"):
            answer = client.post(
                f"/admin/orders/{other}/{action}", data={"csrf_token": token, "event": "cancel", "note": "not mine"}
            )
            assert answer.status_code in (403, 404), (action, answer.status_code)
    after = api.order(other)
    assert (after["status"], after["timeline"]) == (before["status"], before["timeline"])


def test_the_login_page_has_no_serious_accessibility_violations(new_page: Any, base_url: str) -> None:
    page = new_page()
    page.goto(f"{base_url}/admin/login")
    assert axe_violations(page) == []
    screenshot(page, "login")
    log_in(page, base_url, "operator", "Wrong-password-1")
    assert axe_violations(page) == []  # with the error shown
    page.goto(f"{base_url}/admin/login?lang=ru")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert axe_violations(page) == []


def test_a_first_login_with_a_temporary_password_sets_the_user_s_own(
    new_page: Any, base_url: str, admin_hub: LocalHub
) -> None:
    from oms_local.cognito import PoolUser

    invited = PoolUser("first-timer", "Temporary-pass-1", ("store_staff",), {"custom:location_ids": OTHER_STORE})
    admin_hub.cognito.add_user(invited, permanent=False)
    page = new_page()
    answer = log_in(page, base_url, invited.username, invited.password)
    assert answer.status == 200 and urlparse(page.url).path == "/admin/login"
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    assert axe_violations(page) == []
    screenshot(page, "first-login")
    page.get_by_label("New password", exact=True).fill("First-timer-own-1")
    page.get_by_label("New password again").fill("First-timer-own-2")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Set password and log in").click()
    assert navigation.value.status == 422
    assert "differ" in page.get_by_role("alert").inner_text()
    assert axe_violations(page) == []  # with the error shown
    page.get_by_label("New password", exact=True).fill("First-timer-own-1")
    page.get_by_label("New password again").fill("First-timer-own-1")
    with page.expect_navigation():
        page.get_by_role("button", name="Set password and log in").click()
    assert urlparse(page.url).path == LANDING["store_staff"]
    assert invited.username in page.locator("header .who").inner_text()
    other = new_page()  # the user's own password from now on
    log_in(other, base_url, invited.username, "First-timer-own-1")
    assert urlparse(other.url).path == LANDING["store_staff"]
