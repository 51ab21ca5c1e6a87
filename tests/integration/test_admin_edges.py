"""The admin page's front door against hostile or odd requests: never a 5xx, never a way around the login,
never a redirect off the page, never a file outside admin/static."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from admin.handlers.page import SECURITY_HEADERS
from oms_local import demo
from oms_local.runtime import LocalHub
from tests.support.admin_page import FORM, form_login


@pytest.fixture(scope="module")
def admin_hub() -> Iterator[LocalHub]:
    with LocalHub() as hub:
        demo.seed_users(hub)
        yield hub


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "body", "status"),
    [
        ("GET", "/admin/static/../auth/session.py", "", {}, b"", 404),
        ("GET", "/admin/static/.hidden", "", {}, b"", 404),
        ("GET", "/admin/static/nothing.css", "", {}, b"", 404),
        ("PUT", "/admin/login", "", {}, b"", 405),
        ("POST", "/admin/login", "", FORM, b"username=operator&password=Demo-operator-1", 403),  # no login token
        ("POST", "/admin/login", "", {**FORM, "cookie": "__Host-oms_login=a"}, b"csrf_token=b", 403),
        ("POST", "/admin/orders", "", {**FORM, "cookie": "__Host-oms_session=forged"}, b"csrf_token=x", 401),
        ("POST", "/admin/logout", "", {}, b"\xff\xfe\x00garbage", 401),
        ("POST", "/admin/logout", "", {}, b"x" * 70_000, 413),
        ("GET", "/admin/orders", "lang=xx&next=//evil.example", {"cookie": "=;;==;__Host-oms_session"}, b"", 303),
        ("DELETE", "/admin/orders/1", "", {"cookie": "__Host-oms_session=" + "a" * 5000}, b"", 401),
    ],
)
def test_odd_requests_get_a_clear_answer(
    admin_hub: LocalHub, method: str, path: str, query: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    answer = admin_hub.http(method, path, query=query, headers=headers, body=body)
    assert answer.status == status, answer.body[:300]
    for header, value in SECURITY_HEADERS.items():
        assert answer.headers[header] == value
    if status == 303:
        assert answer.headers["Location"] == "/admin/login?next=/admin/orders"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/admin/", "/admin/\\evil", "/elsewhere", "/admin/login"]
)
def test_login_never_redirects_off_the_admin_page(admin_hub: LocalHub, target: str) -> None:
    status, headers = form_login(admin_hub, "operator", "Demo-operator-1", query=f"next={target}")
    assert (status, headers["Location"]) == (303, "/admin/orders")
    status, headers = form_login(admin_hub, "operator", "Demo-operator-1", query="next=/admin/tasks")
    assert (status, headers["Location"]) == (303, "/admin/tasks")


def test_a_user_without_a_role_or_with_bad_input_gets_no_session(admin_hub: LocalHub) -> None:
    from oms_local.cognito import PoolUser

    admin_hub.cognito.add_user(PoolUser("nobody-in-groups", "No-groups-pass-1", (), {}))
    status, headers = form_login(admin_hub, "nobody-in-groups", "No-groups-pass-1")
    assert status == 401 and "Set-Cookie" not in headers
    for username, password in [("", "x"), ("operator", ""), ("a" * 200, "x"), ("operator", "p" * 300)]:
        status, headers = form_login(admin_hub, username, password)
        assert status == 401 and "Set-Cookie" not in headers


def test_the_stage_prefix_of_an_execute_api_url_is_kept_in_links_and_redirects(admin_hub: LocalHub) -> None:
    from admin.handlers.page import handler

    event = {
        "httpMethod": "GET",
        "path": "/admin/orders",
        "requestContext": {"path": "/prod/admin/orders", "identity": {"sourceIp": "203.0.113.7"}},
    }
    answer = handler(event, None)
    assert (answer["statusCode"], answer["headers"]["Location"]) == (303, "/prod/admin/login?next=/admin/orders")
    login = handler({**event, "path": "/admin/login", "requestContext": {"path": "/prod/admin/login"}}, None)
    assert 'action="/prod/admin/login"' in login["body"]
    assert 'href="/prod/admin/static/admin.css?v=' in login["body"]
