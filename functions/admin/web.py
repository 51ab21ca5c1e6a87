"""The admin page's requests, answers and router: what page modules (admin/pages/*.py) build on.

A page module exposes `router = Router()` and registers handlers on it; handlers/page.py collects every
module's router, checks the session (and the CSRF token of every non-GET) before a handler runs, and
adds the security headers to whatever it answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from admin.auth.identity import Identity


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # as routed, from /admin on (without the stage prefix of an execute-api URL)
    params: Mapping[str, str] = field(default_factory=dict)  # the path pattern's {names}
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)  # an application/x-www-form-urlencoded body
    headers: Mapping[str, str] = field(default_factory=dict)  # names in lower case
    base: str = ""  # what precedes /admin in the browser's URL (the API stage on AWS, "" locally)
    lang: str = "en"
    csrf_token: str = ""  # the session's: forms carry it as `csrf_token`, fetches as X-CSRF-Token
    source_ip: str = ""  # the browser's address, as API Gateway saw it

    def url(self, path: str) -> str:
        """An absolute path for links and redirects: `request.url("/admin/orders")`."""
        return self.base + path


@dataclass
class Response:
    status: int = 200
    body: str | bytes = ""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def redirect(request: Request, path: str) -> Response:
    """303 See Other to one of the page's paths: after a form's POST the browser GETs the result."""
    return Response(303, headers={"Location": request.url(path)})


Handler = Callable[[Request, Identity], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    handler: Handler

    def match(self, path: str) -> dict[str, str] | None:
        found = _compiled(self.pattern).fullmatch(path)
        return None if found is None else found.groupdict()


def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)))


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def get(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("GET", pattern)

    def post(self, pattern: str) -> Callable[[Handler], Handler]:
        return self.route("POST", pattern)

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register a handler for `method` on `pattern` ("/admin/orders/{order_id}": {name} is one segment)."""

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(method.upper(), pattern, handler))
            return handler

        return register

    def include(self, other: Router) -> None:
        self.routes.extend(other.routes)

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """The route for this request and its parameters; the last item says whether the path exists under
        another method (405 rather than 404)."""
        other_method = False
        for route in self.routes:
            params = route.match(path)
            if params is None:
                continue
            if route.method == method:
                return route, params, False
            other_method = True
        return None, {}, other_method
