"""Server-rendered HTML: one jinja2 environment (autoescaped) over admin/templates, the string catalogs
of admin/i18n and the content-hashed URLs of admin/static."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from admin.auth.identity import Identity
from admin.auth.policy import LANDING
from admin.web import Request, Response

ROOT = Path(__file__).parent
STATIC = ROOT / "static"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    strings: dict[str, str] = json.loads((ROOT / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return strings


def translator(lang: str) -> Callable[..., str]:
    """`t("key", name=...)`: the string in `lang`, else in English, else the key itself (a missing
    string shows, it does not break the page); `{name}` placeholders are filled from the arguments."""
    own, fallback = catalog(lang), catalog("en")

    def t(key: str, **values: Any) -> str:
        text = own.get(key) or fallback.get(key) or key
        return text.format(**values) if values else text

    return t


@functools.cache
def static_version(name: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256 (None: no such file): its URL changes when it does,
    so browsers may keep each version forever."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(request: Request, name: str) -> str:
    version = static_version(name)
    if version is None:
        raise ValueError(f"no static file {name!r}")
    return request.url(f"/admin/static/{name}?v={version}")


def render(
    request: Request, identity: Identity | None, template: str, *, status: int = 200, **context: Any
) -> Response:
    """The template as a page: it gets `request`, `identity`, `t`, `url`, `static`, `csrf_token`, `lang` and
    `landing_pages` (the navigation), besides `context`."""
    html = (
        _environment()
        .get_template(template)
        .render(
            request=request,
            identity=identity,
            t=translator(request.lang),
            url=request.url,
            static=lambda name: static_url(request, name),
            csrf_token=request.csrf_token,
            lang=request.lang,
            landing_pages=LANDING,
            **context,
        )
    )
    return Response(status, html)
