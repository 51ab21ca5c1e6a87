"""The browser rig: one local hub per test file (moto with the demo data and the demo users of every
role), served over HTTP on 127.0.0.1, and Debian's chromium driven by Playwright, with a logged-in page
per role (helpers, screenshots among them, in tests/support/admin_page.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from oms_local import demo
from oms_local.cognito import PoolUser
from oms_local.runtime import LocalHub
from oms_local.server import build_app
from tests.fakes.server import serve
from tests.support.admin_page import USERS, launch, log_in, require_browser


@pytest.fixture(scope="module")
def admin_hub() -> Iterator[LocalHub]:
    require_browser()
    with LocalHub() as hub:
        demo.load(hub)
        demo.seed_users(hub)
        yield hub


@pytest.fixture(scope="module")
def base_url(admin_hub: LocalHub) -> Iterator[str]:
    with serve(build_app(admin_hub)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(admin_hub: LocalHub) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[], Any]]:
    """Pages in fresh browser contexts (no cookies shared), closed after the test."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page_as(new_page: Callable[[], Any], base_url: str) -> Callable[[str], Any]:
    """`page_as("store_staff")`: a page logged in as that role's demo user, on its landing page."""

    def logged_in(role: str) -> Any:
        page = new_page()
        user = USERS[role]
        answer = log_in(page, base_url, user.username, user.password)
        assert answer is not None and answer.status == 200, f"{role}'s landing page answered {answer and answer.status}"
        return page

    return logged_in


@pytest.fixture(scope="module")
def pool_user(admin_hub: LocalHub) -> Callable[..., PoolUser]:
    """Another user in the hub's pool: `pool_user("anna", "store_staff", locations="spb-store-nevsky")`."""
    made: set[str] = set()

    def add(username: str, *groups: str, locations: str | None = None) -> PoolUser:
        user = PoolUser(username, "Test-password-1", groups, {"custom:location_ids": locations} if locations else {})
        if username not in made:
            admin_hub.cognito.add_user(user)
            made.add(username)
        return user

    return add
