"""The template's Cognito user pools, locally: created in moto (which signs its ID tokens with one fixed
RSA key), with the pool's key set served over HTTP on 127.0.0.1 as Cognito serves it at
https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json, so the functions fetch and
check tokens exactly as they do on AWS. (moto's in-process mock answers that URL only to `requests`.)"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from oms_local.template import LocalTemplate


@dataclass(frozen=True)
class PoolUser:
    username: str
    password: str
    groups: tuple[str, ...]
    attributes: dict[str, str]


class _KeySetServer(ThreadingHTTPServer):
    daemon_threads = True
    pool_ids: frozenset[str] = frozenset()
    key_set: bytes = b""


class _KeySetHandler(BaseHTTPRequestHandler):
    server: _KeySetServer

    def do_GET(self) -> None:
        pool_id, _, rest = self.path.lstrip("/").partition("/")
        if pool_id in self.server.pool_ids and rest == ".well-known/jwks.json":
            self._send(200, self.server.key_set)
        else:
            self._send(404, b'{"message": "not found"}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the hub prints its own lines."""


class LocalCognito:
    """Start after moto's mock: `start()` creates the pools and returns how to rewrite the functions'
    environment (the placeholders `Ref` gave at load -> moto's ids, Cognito's endpoint -> the local one)."""

    def __init__(self, template: LocalTemplate) -> None:
        self.template = template
        self.ids: dict[str, str] = {}  # logical id (pool or client) -> moto's id
        self._server: _KeySetServer | None = None
        self._client: Any = None

    def start(self) -> None:
        if not self.template.user_pools:
            return
        import boto3
        from moto.utilities.utils import load_resource

        self._client = boto3.client("cognito-idp", region_name=self.template.region)
        for logical_id, pool in self.template.user_pools.items():
            pool_id = self._client.create_user_pool(**pool.request)["UserPool"]["Id"]
            self.ids[logical_id] = pool_id
            for client_id, client in pool.clients.items():
                created = self._client.create_user_pool_client(UserPoolId=pool_id, **client)
                self.ids[client_id] = created["UserPoolClient"]["ClientId"]
            for group in pool.groups:
                self._client.create_group(UserPoolId=pool_id, **group)
        self._server = _KeySetServer(("127.0.0.1", 0), _KeySetHandler)
        self._server.pool_ids = frozenset(self.ids[p] for p in self.template.user_pools)
        self._server.key_set = json.dumps(load_resource("cognitoidp/resources/jwks-public.json")).encode()
        threading.Thread(target=self._server.serve_forever, name="oms-hub-jwks", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.ids.clear()
        self._client = None

    def rewrite(self, value: str) -> str:
        """An environment value with the template's pool and client placeholders made moto's ids and
        Cognito's regional endpoint made the local key set server."""
        if self._server is None:
            return value
        # Ref gave each pool and client its physical name; a client's starts with its pool's, so longest first.
        placeholders = {f"{self.template.stack}-{logical_id}": real for logical_id, real in self.ids.items()}
        for placeholder in sorted(placeholders, key=len, reverse=True):
            value = value.replace(placeholder, placeholders[placeholder])
        host, port = self._server.server_address[:2]
        endpoint = f"https://cognito-idp.{self.template.region}.amazonaws.com"
        return value.replace(endpoint, f"http://{host!s}:{port}")

    def pool_id(self, logical_id: str | None = None) -> str:
        return self.ids[logical_id or next(iter(self.template.user_pools))]

    def add_user(self, user: PoolUser, pool: str | None = None, *, permanent: bool = True) -> None:
        """A user in `user.groups`, as an administrator sets one up: with a permanent password, or with a
        temporary one (`permanent=False`: Cognito's invitation), which the first login must replace."""
        pool_id = self.pool_id(pool)
        self._client.admin_create_user(
            UserPoolId=pool_id,
            Username=user.username,
            UserAttributes=[{"Name": k, "Value": v} for k, v in user.attributes.items()],
            MessageAction="SUPPRESS",
            **({} if permanent else {"TemporaryPassword": user.password}),
        )
        if permanent:
            self._client.admin_set_user_password(
                UserPoolId=pool_id, Username=user.username, Password=user.password, Permanent=True
            )
        for group in user.groups:
            self._client.admin_add_user_to_group(UserPoolId=pool_id, Username=user.username, GroupName=group)
