"""Text templates (jinja2) in its immutable sandbox: a template is configuration an operator writes, so it
may read the values it is given and nothing else (no attribute walks to Python internals, no mutation).
HTML output is autoescaped: a customer's name or an address never becomes markup."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateRefused(Exception):
    """A template that does not parse or tried what the sandbox forbids."""


@functools.cache
def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(autoescape=html, trim_blocks=True, lstrip_blocks=True)


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    return _environment(html).from_string(source)


def syntax_error(source: str) -> str | None:
    """Why `source` is not a template, or None when it is one."""
    try:
        _environment(False).parse(source)
    except TemplateSyntaxError as error:
        return f"line {error.lineno}: {error.message}"
    return None


def render(source: str, values: Mapping[str, Any], *, html: bool) -> str:
    """`source` filled with `values` (a missing value renders empty); TemplateRefused when it cannot be."""
    try:
        return _compiled(source, html).render(values)
    except TemplateError as error:  # syntax, sandbox SecurityError, a filter given the wrong type
        raise TemplateRefused(f"{type(error).__name__}: {error}") from None
