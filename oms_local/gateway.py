"""API Gateway (REST API, Lambda proxy integration), locally: routes from the template, the API key
check, the gateway responses the template configures, and the proxy event a function receives."""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from oms_local.template import ACCOUNT, LocalTemplate, Route

DEFAULT_API_KEY = "local-dev-key"
STAGE = "local"

# powertools' event handler keeps the request being resolved in class attributes (BaseRouter): one
# request per process, as on Lambda. API handlers therefore run one at a time here; the state
# machine and its Lambda tasks still run alongside them.
api_invocations = threading.Lock()


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class Gateway:
    """Answers requests as the template's API would, invoking its functions through `invoke`."""

    def __init__(self, template: LocalTemplate, api_key: str, invoke: Callable[[str, dict[str, Any]], Any]) -> None:
        self.template = template
        self.api_key = api_key
        self._invoke = invoke

    def answer(self, request: HttpRequest) -> HttpAnswer:
        method = request.method.upper()
        lower = {k.lower(): v for k, v in request.headers.items()}
        route, params = self.match(method, request.path)
        if route is None:
            return self.response("MISSING_AUTHENTICATION_TOKEN")
        if route.api_key_required and not hmac.compare_digest(
            lower.get("x-api-key", "").encode(), self.api_key.encode()
        ):
            return self.response("INVALID_API_KEY")
        event = self.proxy_event(route, params, request)
        try:
            with api_invocations:
                answer = self._invoke(route.function, event)
        except Exception:  # noqa: BLE001 - an unhandled function error is API Gateway's 502/5xx
            traceback.print_exc()
            return self.response("DEFAULT_5XX", 502)
        out_headers = {k: str(v) for k, v in (answer.get("headers") or {}).items()}
        for key, values in (answer.get("multiValueHeaders") or {}).items():
            out_headers[key] = ", ".join(str(v) for v in values)
        raw = answer.get("body") or ""
        data = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode()
        return HttpAnswer(int(answer.get("statusCode", 200)), out_headers, data)

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.template.routes:
            if route.method not in (method, "ANY"):
                continue
            found = route.pattern().match(path)
            if found:
                return route, found.groupdict()
        return None, {}

    def response(self, response_type: str, status: int | None = None) -> HttpAnswer:
        """The gateway's own answer of that type, as the template configures it."""
        configured = self.template.gateway_responses.get(response_type)
        if configured is None:
            configured = self.template.gateway_responses["DEFAULT_5XX" if (status or 400) >= 500 else "DEFAULT_4XX"]
        # API Gateway fills this variable of a response template with a quoted JSON string.
        body = configured.body.replace("$context.error.messageString", json.dumps(response_type.lower()))
        return HttpAnswer(status or configured.status, {"Content-Type": "application/json"}, body.encode())

    @staticmethod
    def proxy_event(route: Route, params: dict[str, str], request: HttpRequest) -> dict[str, Any]:
        method, path, headers = request.method.upper(), request.path, dict(request.headers)
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(request.query, keep_blank_values=True):
            multi_query.setdefault(key, []).append(value)
        # The API declares no binary media types, so API Gateway hands every body over as text.
        text, encoded = request.body.decode("utf-8", errors="replace"), False
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                # The path the browser asked for: the local hub's URLs carry no stage.
                "path": path,
                "stage": STAGE,
                "requestId": str(uuid.uuid4()),
                "accountId": ACCOUNT,
                "apiId": "local",
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {
                    "sourceIp": request.source_ip,
                    "userAgent": headers.get("user-agent", ""),
                    "apiKey": headers.get("x-api-key") if route.api_key_required else None,
                },
            },
            "body": text or None,
            "isBase64Encoded": encoded,
        }
