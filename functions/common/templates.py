"""Text templates (jinja2) for configuration an operator writes. A template may read the values it is given,
test them (`{% if %}`) and pass them through a few filters, nothing else: no calls, loops, macros or
arithmetic, so it can neither reach Python internals (jinja2's immutable sandbox besides) nor make a
render run long or grow large. HTML output is autoescaped: a customer's name never becomes markup."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import Template, TemplateError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

# What a template may be made of (each a jinja2 node type) and the filters it may use.
ALLOWED = (
    nodes.Output,
    nodes.TemplateData,
    nodes.If,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Filter,
    nodes.Test,
    nodes.Keyword,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.CondExpr,
    nodes.Concat,
)
FILTERS = frozenset({"default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate", "e", "escape"})


class TemplateRefused(Exception):
    """A template that does not parse, uses what it may not, or cannot be filled."""


@functools.cache
def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(autoescape=html, trim_blocks=True, lstrip_blocks=True)


def _refusal(source: str) -> str | None:
    try:
        tree = _environment(False).parse(source)
    except TemplateError as error:
        return f"line {getattr(error, 'lineno', '?')}: {error.message}"
    except RecursionError:
        return "nested too deeply"
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED):
            return f"line {node.lineno}: {type(node).__name__} is not allowed in a template"
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            return f"line {node.lineno}: the filter {node.name!r} is not allowed (only {', '.join(sorted(FILTERS))})"
    return None


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    refusal = _refusal(source)
    if refusal is not None:
        raise TemplateRefused(refusal)
    return _environment(html).from_string(source)


def syntax_error(source: str) -> str | None:
    """Why `source` is not a template this module renders, or None when it is one."""
    return _refusal(source)


def render(source: str, values: Mapping[str, Any], *, html: bool) -> str:
    """`source` filled with `values` (a missing value renders empty); TemplateRefused when it cannot be."""
    try:
        return _compiled(source, html).render(values)
    except TemplateError as error:  # the sandbox's SecurityError, a filter given the wrong type
        raise TemplateRefused(f"{type(error).__name__}: {error}") from None
