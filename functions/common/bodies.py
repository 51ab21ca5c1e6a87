"""What a JSON request body may be: its size, encoding and nesting, checked before any parser sees it.

Pure (no powertools, no AWS): the API resolver and the partner webhooks share these rules, each answering
in its own format. json.loads and pydantic recurse once per nesting level, so a body nested about a
thousand deep ends in RecursionError; the depth is therefore measured here without recursion.
"""

from __future__ import annotations

import re

# No hub or partner message comes near either limit: the largest legitimate bodies (a 1,000-line stock
# batch, a channel with 500 rule overrides) are well under 400 KB (DynamoDB's item size) and 10 levels.
MAX_BODY_BYTES = 1024 * 1024  # API Gateway takes 10 MB and Lambda 6 MB: refused long before either
MAX_JSON_DEPTH = 64

_TOKEN = re.compile(r'[\[\]{}"]')
# The rest of a JSON string after its opening quote; possessive, so a long unterminated string costs
# one linear scan instead of backtracking.
_STRING_TAIL = re.compile(r'(?:[^"\\]++|\\.)*+"', re.DOTALL)


class BodyRefused(ValueError):
    """The body breaks one of the limits; `status` is the HTTP answer (413 too large, else 400/422)."""

    def __init__(self, message: str, status: int, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays/objects nest deeper than `limit` (brackets inside strings do not count).

    A malformed text is not judged here: the JSON parser says what is wrong with it. The scan costs about
    half a second for a mebibyte of brackets; most bodies open too few to need it."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, pos = 0, 0
    while found := _TOKEN.search(text, pos):
        char = found.group()
        if char == '"':
            tail = _STRING_TAIL.match(text, found.end())
            if tail is None:
                return False
            pos = tail.end()
            continue
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
        pos = found.end()
    return False


def json_text(raw: bytes, max_bytes: int = MAX_BODY_BYTES) -> str:
    """The body as text a JSON parser may safely be given, or BodyRefused saying why not."""
    if len(raw) > max_bytes:
        raise BodyRefused(f"the body is larger than {max_bytes} bytes", 413, "payload_too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused("the body is not UTF-8 text", 400, "bad_request") from None
    if too_deep(text):
        raise BodyRefused(f"the body nests deeper than {MAX_JSON_DEPTH} levels", 400, "bad_request")
    return text
