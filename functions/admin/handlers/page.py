"""AdminFunction: the admin page's Lambda handler (API Gateway proxy events on /admin and /admin/{proxy+}).

Every request: static files straight away; the login and logout forms; otherwise the session cookie must
name a live session (GET without one goes to the login page) and every other method must carry the
session's CSRF token, before the page module's handler runs. Every answer gets the security headers.
"""

from __future__ import annotations

import base64
import functools
import importlib
import json
import pkgutil
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, quote

from admin import pages
from admin.auth import login
from admin.auth.policy import Forbidden, landing
from admin.auth.session import LANGUAGES, Session, new_secret, same_secret
from admin.rendering import STATIC, render, static_version
from admin.web import Request, Response, Router, redirect
from common.api import http_status
from common.errors import HubError, NotFound
from common.observability import logger

SESSION_COOKIE = "__Host-oms_session"
LOGIN_COOKIE = "__Host-oms_login"  # the login form's own CSRF token (double submit), before any session
# A first login's open Cognito challenge (username and Cognito's session, which expires after 3 minutes):
# HttpOnly, so the page holds nothing that answers it.
CHALLENGE_COOKIE = "__Host-oms_challenge"
FIRST_LOGIN_PATH = "/admin/login/new-password"
MAX_BODY = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000",
}
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
_SAFE_METHODS = ("GET", "HEAD")


@functools.cache
def router() -> Router:
    """Every page module's routes (each module of admin/pages exposes `router`)."""
    collected = Router()
    for module in pkgutil.iter_modules(pages.__path__):
        collected.include(importlib.import_module(f"admin.pages.{module.name}").router)
    return collected


def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    try:
        response = _answer(event)
    except Exception:  # noqa: BLE001 - whatever broke, the browser gets a page, never API Gateway's 502
        logger.exception("admin page failed")
        response = Response(500, "<!doctype html><title>Error</title><p>The page could not be shown; retry.</p>")
    headers = {**SECURITY_HEADERS, **response.headers}
    headers.setdefault("Cache-Control", "no-store")
    headers["Content-Type"] = response.content_type
    body = response.body
    if isinstance(body, bytes):
        return {
            "statusCode": response.status,
            "headers": headers,
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
    return {"statusCode": response.status, "headers": headers, "body": body, "isBase64Encoded": False}


def _answer(event: dict[str, Any]) -> Response:
    path = str(event.get("path") or "/admin")
    query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    if path.startswith("/admin/static/"):
        return _static(path.removeprefix("/admin/static/"), query)
    method = str(event.get("httpMethod") or "GET").upper()
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = _body(event)
    if raw is None:
        return Response(413, "request too large", content_type="text/plain; charset=utf-8")
    form = dict(parse_qsl(raw, keep_blank_values=True)) if method not in _SAFE_METHODS else {}
    lang = query.get("lang", "")
    request = Request(
        method,
        path,
        query=query,
        form=form,
        headers=headers,
        base=_base_path(event, path),
        lang=lang if lang in LANGUAGES else "en",
        source_ip=str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or ""),
    )
    cookies = _cookies(headers.get("cookie", ""))
    if path in _BEFORE_SESSION:
        front = _BEFORE_SESSION[path].get(method)
        return _page_error(request, 405, "error.not_found") if front is None else front(request, cookies)
    session_id = cookies.get(SESSION_COOKIE)
    session = login.current(session_id)
    if session is None or session_id is None:
        if method in _SAFE_METHODS:
            asked = f"?next={quote(path)}" if path not in ("/admin", "/admin/") else ""
            return redirect(request, "/admin/login" + asked)
        return _page_error(request, 401, "error.session_expired")
    if lang in LANGUAGES and lang != session.lang:
        login.set_language(session_id, lang)
        session = session.in_language(lang)
    return _signed_in(replace(request, lang=session.lang, csrf_token=session.csrf_token), session_id, session)


def _signed_in(request: Request, session_id: str, session: Session) -> Response:
    """A request with a live session: the CSRF check of every write, then logout, home or a page."""
    given = request.form.get("csrf_token") or request.headers.get("x-csrf-token")
    if request.method not in _SAFE_METHODS and not same_secret(session.csrf_token, given):
        return _page_error(request, 403, "error.csrf", session)
    if request.path == "/admin/logout" and request.method == "POST":
        login.log_out(session_id)
        answer = redirect(request, "/admin/login")
        answer.headers["Set-Cookie"] = _cookie(SESSION_COOKIE, "", max_age=0)
        return answer
    if request.path in ("/admin", "/admin/"):
        home = landing(session.identity)
        return redirect(request, home) if home else _page_error(request, 403, "error.no_role", session)
    return _routed(request, session)


def _routed(request: Request, session: Session) -> Response:
    method = "GET" if request.method == "HEAD" else request.method
    route, params, other_method = router().resolve(method, request.path)
    if route is None:
        return _page_error(request, 405 if other_method else 404, "error.not_found", session)
    routed = replace(request, params=params)
    try:
        return route.handler(routed, session.identity)
    except Forbidden:
        return _page_error(routed, 403, "error.forbidden", session)
    except NotFound:
        return _page_error(routed, 404, "error.not_found", session)
    except HubError as error:
        status = http_status(error)
        if status >= 500:
            logger.warning("admin page could not be served", extra={"error": error.code})
        return _page_error(routed, status, "error.unavailable" if status >= 500 else "error.refused", session)


def _login_form(request: Request, _cookies: Mapping[str, str]) -> Response:
    token = new_secret()
    page = render(replace(request, csrf_token=token), None, "login.html", next=_next(request), error=None)
    page.headers["Set-Cookie"] = _cookie(LOGIN_COOKIE, token, max_age=1800)
    return page


def _login(request: Request, cookies: Mapping[str, str]) -> Response:
    form_token = request.form.get("csrf_token")
    cookie_token = cookies.get(LOGIN_COOKIE)
    if cookie_token is None or not same_secret(cookie_token, form_token):
        return _page_error(request, 403, "error.csrf")
    username, password = request.form.get("username", "").strip(), request.form.get("password", "")
    if not (0 < len(username) <= 128 and 0 < len(password) <= 256):
        return _login_refused(request, cookie_token, "wrong_credentials")
    try:
        session_id, session = login.log_in(username, password, request.source_ip, request.query.get("lang"))
    except login.LoginRefused as refused:
        return _login_refused(request, cookie_token, refused.reason)
    except login.NewPasswordRequired as challenge:
        page = _new_password_form(request, cookie_token, None, 200)
        page.headers["Set-Cookie"] = _cookie(CHALLENGE_COOKIE, _challenge_value(challenge), max_age=180)
        return page
    return _signed_in_at(request, session_id, session)


def _first_login_form(request: Request, cookies: Mapping[str, str]) -> Response:
    """The new-password form again (in another language) while the challenge is open; else the login."""
    cookie_token = cookies.get(LOGIN_COOKIE)
    if cookie_token is None or _challenge_of(cookies.get(CHALLENGE_COOKIE, "")) is None:
        return redirect(request, "/admin/login")
    return _new_password_form(request, cookie_token, None, 200)


def _first_login(request: Request, cookies: Mapping[str, str]) -> Response:
    """The first login's second step: the user's own password (twice) answers Cognito's challenge."""
    cookie_token = cookies.get(LOGIN_COOKIE)
    if cookie_token is None or not same_secret(cookie_token, request.form.get("csrf_token")):
        return _page_error(request, 403, "error.csrf")
    challenge = _challenge_of(cookies.get(CHALLENGE_COOKIE, ""))
    if challenge is None:
        return _login_refused(request, cookie_token, "challenge_expired")
    new_password = request.form.get("new_password", "")
    problem = _new_password_problem(new_password, request.form.get("confirm_password"))
    if problem is not None:
        return _new_password_form(request, cookie_token, problem, 422)
    try:
        session_id, session = login.log_in_with_new_password(
            challenge, new_password, request.source_ip, request.query.get("lang")
        )
    except login.LoginRefused as refused:
        # A password the pool refuses leaves the challenge open: the user tries another.
        if refused.reason == "weak_password":
            return _new_password_form(request, cookie_token, "login.weak_password", 422)
        return _login_refused(request, cookie_token, refused.reason)
    return _signed_in_at(request, session_id, session)


def _new_password_problem(new_password: str, again: str | None) -> str | None:
    if not 0 < len(new_password) <= 256:
        return "login.weak_password"
    return None if same_secret(new_password, again) else "login.passwords_differ"


_FrontDoor = Callable[[Request, Mapping[str, str]], Response]
# The pages answered before any session, by path and method.
_BEFORE_SESSION: dict[str, dict[str, _FrontDoor]] = {
    "/admin/login": {"GET": _login_form, "POST": _login},
    FIRST_LOGIN_PATH: {"GET": _first_login_form, "POST": _first_login},
}


def _new_password_form(request: Request, token: str, error: str | None, status: int) -> Response:
    return render(
        replace(request, csrf_token=token), None, "new_password.html", status=status, next=_next(request), error=error
    )


def _challenge_value(challenge: login.NewPasswordRequired) -> str:
    packed = json.dumps([challenge.username, challenge.session]).encode()
    return base64.urlsafe_b64encode(packed).decode().rstrip("=")


def _challenge_of(value: str) -> login.NewPasswordRequired | None:
    """The challenge a cookie names; None when it names none (absent, expired or altered)."""
    try:
        username, session = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, TypeError, RecursionError):  # RecursionError: nesting deeper than json decodes
        return None
    # Cognito's bounds: a username of 1-128 characters, a session of 20-2048
    if not (isinstance(username, str) and isinstance(session, str)):
        return None
    if not (0 < len(username) <= 128 and 20 <= len(session) <= 2048):
        return None
    return login.NewPasswordRequired(username, session)


def _signed_in_at(request: Request, session_id: str, session: Session) -> Response:
    """After a login: the page asked for (or the role's), with the session's cookie."""
    target = _next(request) or landing(session.identity) or "/admin"
    answer = redirect(request, target)
    answer.headers["Set-Cookie"] = _cookie(
        SESSION_COOKIE, session_id, max_age=max(session.expires_at - int(time.time()), 0)
    )
    return answer


def _login_refused(request: Request, token: str, reason: str) -> Response:
    status = {"too_many_attempts": 429}.get(reason, 401)
    return render(
        replace(request, csrf_token=token),
        None,
        "login.html",
        status=status,
        next=_next(request),
        error=f"login.{reason}",
    )


def _next(request: Request) -> str | None:
    """Where to go after login: one of the admin page's own paths only (no open redirect)."""
    target = request.form.get("next") or request.query.get("next") or ""
    if target.startswith("/admin/") and "//" not in target and "\\" not in target and target != "/admin/login":
        return target
    return None


def _page_error(request: Request, status: int, message: str, session: Session | None = None) -> Response:
    return render(request, session.identity if session else None, "error.html", status=status, message=message)


def _static(name: str, query: Mapping[str, str]) -> Response:
    version = static_version(name)
    if version is None:
        return Response(404, "not found", content_type="text/plain; charset=utf-8")
    path = STATIC / name
    kind = _STATIC_TYPES.get(path.suffix, "application/octet-stream")
    # The URL names the content's hash: that version never changes, so it is cached for a year.
    cache = "public, max-age=31536000, immutable" if query.get("v") == version else "no-cache"
    return Response(200, path.read_text(encoding="utf-8"), content_type=kind, headers={"Cache-Control": cache})


def _cookies(header: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            found.setdefault(name, value)
    return found


def _cookie(name: str, value: str, *, max_age: int) -> str:
    return f"{name}={value}; Max-Age={max_age}; Path=/; Secure; HttpOnly; SameSite=Strict"


def _base_path(event: Mapping[str, Any], path: str) -> str:
    """The stage an execute-api URL carries before the routed path (requestContext.path is the path the
    browser asked for): links and redirects must keep it."""
    asked = str((event.get("requestContext") or {}).get("path") or path)
    return asked[: -len(path)] if asked.endswith(path) else ""


def _body(event: Mapping[str, Any]) -> str | None:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw).decode("utf-8", errors="replace")
        except ValueError:
            return ""
    return None if len(raw) > MAX_BODY else str(raw)
