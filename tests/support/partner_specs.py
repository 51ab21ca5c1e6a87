"""The partners' published API definitions (`shared/partners/specs/*.json`) as a validator.

Every fake partner server checks each request it receives (operation, deprecation, path and header
parameters, security, body) and each answer it gives against the partner's own spec, so any test that
talks to a fake also checks the hub's conformance. Inbound pushes are checked against the schemas the
spec's `x-conformance.inbound` names. Schemas are read from the files, never copied: OpenAPI 3.0's
`nullable` is turned into JSON Schema and the result is validated with jsonschema_rs (draft 7: CDEK's
transcription uses if/then; formats on).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs

# shared/ lies beside the repository (as in every checkout and in CI); OMS_PARTNER_SPECS points elsewhere.
SPECS = Path(
    os.environ.get("OMS_PARTNER_SPECS", Path(__file__).resolve().parents[2].parent / "shared" / "partners" / "specs")
)
# Operations a trimmed spec lacks, transcribed from the partner's documentation pages (each file names its
# sources), merged into the partner's document: an operation already there is never replaced.
SUPPLEMENTS = Path(__file__).parent / "spec_supplements"
PARTNERS = ("ozon", "wildberries", "yandex_market", "cdek")
METHODS = ("get", "put", "post", "patch", "delete")


TYPES = {"string", "integer", "number", "boolean", "array", "object", "null"}


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema: `nullable: true` also admits null."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k not in ("nullable", "discriminator", "example")}
    kind = out.get("type")
    if isinstance(kind, str) and kind not in TYPES:
        # Ozon's swagger writes `"type": "array of strings"` (v3PostingProductDetail.jw_uin): read as meant.
        item = kind.removeprefix("array of ").removesuffix("s")
        out.update({"type": "array", "items": {"type": item}} if item in TYPES else {"type": sorted(TYPES)})
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def _closed(node: Any) -> Any:
    """Every object schema that lists its properties admits no others: a fixture holds only what the
    partner documents (what it really sends), not fields a test invented."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out and not {"allOf", "anyOf", "oneOf"} & set(out):
        out["additionalProperties"] = False
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: Mapping[str, Any]
    parameters: tuple[Mapping[str, Any], ...]

    @property
    def deprecated(self) -> bool:
        return bool(self.spec.get("deprecated"))


def _supplemented(document: dict[str, Any], supplement: Mapping[str, Any]) -> None:
    paths = document.setdefault("paths", {})
    for template, item in supplement.get("paths", {}).items():
        known = paths.setdefault(template, {})
        clash = set(known) & set(item) & set(METHODS)
        assert not clash, f"the supplement would replace {sorted(clash)} {template} of the published spec"
        known.update(item)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    clash = set(schemas) & set(supplement.get("components", {}).get("schemas", {}))
    assert not clash, f"the supplement would replace the published spec's schemas {sorted(clash)}"
    schemas.update(supplement.get("components", {}).get("schemas", {}))


class PartnerSpec:
    def __init__(self, partner: str) -> None:
        self.partner = partner
        self.document: dict[str, Any] = json.loads((SPECS / f"{partner}.json").read_text(encoding="utf-8"))
        supplement = SUPPLEMENTS / f"{partner}.json"
        if supplement.exists():
            _supplemented(self.document, json.loads(supplement.read_text(encoding="utf-8")))
        self.conformance: dict[str, Any] = self.document.get("x-conformance", {})
        self._components = _json_schema(self.document.get("components", {}))
        self._validators: dict[str, Any] = {}
        self.operations: list[Operation] = []
        for template, item in self.document.get("paths", {}).items():
            shared = tuple(self._resolve(p) for p in item.get("parameters", []))
            for method in METHODS:
                if method in item:
                    op = item[method]
                    params = shared + tuple(self._resolve(p) for p in op.get("parameters", []))
                    regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
                    self.operations.append(Operation(method.upper(), template, re.compile(regex), op, params))
        # A literal path wins over a templated one (`/supplies/{id}` vs `/supplies/{id}/orders`).
        self.operations.sort(key=lambda o: o.template.count("{"))

    # ------------------------------------------------------------ schemas

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        while isinstance(node, Mapping) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _validator(self, schema: Any, strict: bool = False) -> Any:
        key = json.dumps([schema, strict], sort_keys=True)
        if key not in self._validators:
            components = _closed(self._components) if strict else self._components
            root = {"allOf": [_json_schema(schema)], "components": components}
            self._validators[key] = jsonschema_rs.Draft7Validator(root, validate_formats=True)
        return self._validators[key]

    def schema(self, name: str) -> dict[str, Any]:
        return {"$ref": name if name.startswith("#/") else f"#/components/schemas/{name}"}

    def violations(self, schema: Any, instance: Any, where: str, strict: bool = False) -> list[str]:
        """`strict`: also no field the spec does not document (for fixtures standing for real messages)."""
        return [
            f"{where} {'/'.join(map(str, e.instance_path)) or '(root)'}: {e.message}"
            for e in self._validator(schema, strict).iter_errors(instance)
        ]

    # ------------------------------------------------------------ requests and answers

    def operation(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            match = op.pattern.match(path)
            if op.method == method.upper() and match:
                names = re.findall(r"\{([^}]+)\}", op.template)
                return op, dict(zip(names, match.groups(), strict=True))
        return None

    def request_violations(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        content_type: str,
        raw: bytes,
    ) -> list[str]:
        where = f"{self.partner} {method} {path}"
        found = self.operation(method, path)
        if found is None:
            return [f"{where}: no such operation in the spec"]
        op, path_params = found
        problems: list[str] = []
        if op.deprecated:
            problems.append(f"{where}: deprecated operation ({(op.spec.get('description') or '').strip()[:120]})")
        lower = {k.lower(): v for k, v in headers.items()}
        for param in op.parameters:
            name, place, schema = param["name"], param["in"], param.get("schema", {})
            value = {"path": path_params, "query": query, "header": lower}[place].get(
                name.lower() if place == "header" else name
            )
            if value is None:
                if param.get("required"):
                    problems.append(f"{where}: {place} parameter {name} is required")
                continue
            problems += self.violations(schema, _typed(value, self._resolve(schema)), f"{where} {place} {name}")
        problems += self._security(op, lower, where)
        problems += self._body(op, content_type, raw, where)
        return problems

    def _security(self, op: Operation, headers: Mapping[str, str], where: str) -> list[str]:
        requirements = op.spec.get("security", self.document.get("security"))
        if not requirements:
            return []
        schemes = self.document.get("components", {}).get("securitySchemes", {})

        def satisfied(name: str) -> bool:
            scheme = schemes[name]
            if scheme["type"] == "apiKey" and scheme["in"] == "header":
                return bool(headers.get(scheme["name"].lower()))
            if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer":
                return bool(re.fullmatch(r"Bearer \S+", headers.get("authorization", "")))
            if scheme["type"] == "oauth2":
                return bool(re.fullmatch(r"(Bearer|OAuth) \S+", headers.get("authorization", "")))
            return False

        if any(all(satisfied(name) for name in requirement) for requirement in requirements):
            return []
        return [f"{where}: none of the security requirements {requirements} is met"]

    def _body(self, op: Operation, content_type: str, raw: bytes, where: str) -> list[str]:
        spec_body = self._resolve(op.spec.get("requestBody", {}))
        if not spec_body:
            return [f"{where}: the operation takes no body, got {raw[:80]!r}"] if raw.strip() else []
        if not raw:
            return [f"{where}: the body is required"] if spec_body.get("required") else []
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        content = spec_body.get("content", {})
        if media not in content:
            return [f"{where}: content type {media!r} is not one of {sorted(content)}"]
        try:
            body = (
                dict(parse_qsl(raw.decode(), keep_blank_values=True))
                if media == "application/x-www-form-urlencoded"
                else json.loads(raw)
            )
        except (ValueError, UnicodeDecodeError):
            return [f"{where}: the body is not {media}"]
        return self.violations(content[media].get("schema", {}), body, f"{where} body")

    def response_schema(self, method: str, path: str, status: int) -> Any:
        found = self.operation(method, path)
        assert found is not None, f"{self.partner} {method} {path} is not in the spec"
        answer = self._resolve(found[0].spec["responses"][str(status)])
        return answer["content"]["application/json"]["schema"]

    def response_violations(self, method: str, path: str, status: int, body: Any) -> list[str]:
        where = f"{self.partner} {method} {path} answer {status}"
        found = self.operation(method, path)
        if found is None:
            return []  # the request itself was reported
        responses = found[0].spec.get("responses", {})
        answer = responses.get(str(status), responses.get("default"))
        if answer is None:
            # An error the spec does not list (CDEK's 401 to a bad secret) has no shape to hold it to.
            return [f"{where}: status not documented ({sorted(responses)})"] if status < 400 else []
        schema = self._resolve(answer).get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [f"{where}: the spec documents no body"] if body not in (None, b"", "") else []
        return self.violations(schema, body, where)

    # ------------------------------------------------------------ inbound pushes

    @property
    def inbound(self) -> Mapping[str, Any]:
        return self.conformance.get("inbound", {})

    def inbound_examples(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for example in self.inbound.get("examples", []):
            yield example["name"], example["body"]

    def inbound_violations(self, body: Mapping[str, Any], strict: bool = False) -> list[str]:
        """Against the schema the discriminator names (Market's oneOf cannot tell its DTOs apart)."""
        kind = body.get(self.inbound["discriminator"])
        schema = self.inbound["mapping"].get(kind) if isinstance(kind, str) else None
        if schema is None:
            return [f"{self.partner} push: {self.inbound['discriminator']}={kind!r} is not a documented type"]
        problems = self.violations(self.schema(schema), body, f"{self.partner} push {kind}", strict)
        if "schema" in self.inbound:  # the envelope, for its discriminator's own enum
            envelope = self.document["components"]["schemas"][self.inbound["schema"]]
            problems += self.violations(
                {k: v for k, v in envelope.items() if k != "oneOf"}, body, f"{self.partner} push envelope"
            )
        return problems

    def reply_violations(self, kind: str, body: Any) -> list[str]:
        """A hub answer to a push (`ping`, `processed`, `error`) against the schema the spec names."""
        name = self.conformance.get("replies", {}).get(kind)
        if not isinstance(name, str):
            return []
        return self.violations(self.schema(name), body, f"{self.partner} reply {kind}")


def _typed(value: str, schema: Mapping[str, Any]) -> Any:
    """Path, query and header values arrive as text: an integer parameter must read as one."""
    if schema.get("type") == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    return value


@cache
def spec(partner: str) -> PartnerSpec:
    return PartnerSpec(partner)
