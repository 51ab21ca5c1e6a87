"""The dependency rule of the package map (docs/architecture.md) as a test.

`functions/` is every Lambda's code root. Its packages sit in layers, lowest first; a module imports its own
package and lower layers only, never a higher layer or a sibling at its own. Inside a package, handlers ->
use cases -> domain and adapters: domain code imports no AWS client, no settings and no adapters; adapters
import no handlers or use cases; handlers reach adapters only through their use cases. Nothing under
`functions/` imports the local runtime, the build tools, the tests or the bench. Every import counts, also
one inside a function (a lazy import is still a dependency).

The tests' own layout is checked here too: tests/unit starts no moto and no hub, and tests share helpers
through tests/support, never by importing a conftest or another test module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).parents[2] / "functions"
UNIT_TESTS = Path(__file__).parent
TESTS = UNIT_TESTS.parent


@dataclass(frozen=True)
class Package:
    name: str  # a dotted prefix: `partners.clients` is a package of its own below the rest of `partners`
    layer: int


PACKAGES = (
    Package("common", 0),
    Package("reference", 1),
    Package("planning", 2),
    Package("partners.clients", 2),
    Package("inventory", 3),
    Package("notifications", 3),
    Package("orders", 4),
    Package("delivery", 5),
    Package("partners", 5),
    Package("stock_push", 5),
    Package("catalog", 5),
    Package("loyalty", 5),
    Package("actions", 6),
    Package("sla_monitor", 6),
    Package("admin", 7),  # the admin page calls the use cases of every package below it
)
NEVER_IMPORTED = ("oms_local", "oms_build", "tests", "bench")  # none of them is deployed with a Lambda
# What domain code must not reach: the AWS SDK, the settings, and the common modules that wrap them.
IMPURE = ("boto3", "botocore", "common.config", "common.aws", "common.dynamo", "common.events", "common.secrets")
PURE_PACKAGES = ("planning",)  # pure rules throughout: all of it is held to the domain's rule
ROLE_OF_SEGMENT = {
    "handlers": "handler",
    "services": "use case",
    "use_cases": "use case",
    "domain": "domain",
    "adapters": "adapter",
}
ROLE_OF_MODULE = {"reference.config_table": "adapter"}  # the ConfigTable adapter, named for its table
NOT_IMPORTED_BY = {
    "handler": {"adapter"},  # a handler reaches storage through its use cases
    "domain": {"adapter", "use case", "handler"},
    "adapter": {"use case", "handler"},
    "use case": {"handler"},
}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def package_of(module: str) -> Package | None:
    """The most specific package of the table that holds `module` (None: not under functions/)."""
    holding = [package for package in PACKAGES if _within(module, package.name)]
    return max(holding, key=lambda package: len(package.name), default=None)


def role_of(module: str) -> str | None:
    package = package_of(module)
    if package is None:
        return None
    if package.name in PURE_PACKAGES:
        return "domain"
    if module in ROLE_OF_MODULE:
        return ROLE_OF_MODULE[module]
    for segment in module.split(".")[1:]:
        if segment in ROLE_OF_SEGMENT:
            return ROLE_OF_SEGMENT[segment]
    return None


def _outside_reason(importer: str, imported: str) -> str | None:
    top = imported.split(".", maxsplit=1)[0]
    if top in NEVER_IMPORTED:
        return f"functions/ never imports {top}"
    if role_of(importer) == "domain" and any(_within(imported, impure) for impure in IMPURE):
        return "domain code imports no AWS client and no settings"
    return None


def _layer_reason(importer: str, imported: str) -> str | None:
    source, target = package_of(importer), package_of(imported)
    if source is None or target is None or source == target:
        return None  # third-party, standard library or its own package (an unmapped importer fails apart)
    if target.layer > source.layer:
        return f"layer {source.layer} ({source.name}) imports higher layer {target.layer} ({target.name})"
    if target.layer == source.layer:
        return f"siblings at layer {source.layer}: {source.name} imports {target.name}"
    return None


def _role_reason(importer: str, imported: str) -> str | None:
    role, target_role = role_of(importer), role_of(imported)
    if role and target_role in NOT_IMPORTED_BY.get(role, set()):
        return f"{role} imports {target_role}"
    return None


def violation(importer: str, imported: str) -> str | None:
    """Why `importer` (a module under functions/) may not import `imported`; None if it may."""
    reasons = (reason(importer, imported) for reason in (_outside_reason, _layer_reason, _role_reason))
    return next((reason for reason in reasons if reason), None)


# ------------------------------------------------------------------ reading the code


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


def modules_under(root: Path) -> dict[str, Module]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        found[name] = Module(name, path, is_package)
    return found


def _base(module: str, is_package: bool, imported: str | None, level: int) -> str:
    """The module a `from ... import` reads from, relative levels resolved against `module`."""
    if level == 0:
        return imported or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    anchor = package[: len(package) - (level - 1)]
    return ".".join([*anchor, imported] if imported else anchor)


def _dynamic_import(node: ast.Call) -> str | None:
    """`importlib.import_module("a.b")`, or the constant package part of `import_module(f"a.b.{name}")`."""
    called = node.func
    name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", None)
    if name != "import_module" or not node.args:
        return None
    argument = node.args[0]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.JoinedStr) and argument.values:
        head = argument.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and "." in head.value:
            return head.value.rsplit(".", 1)[0]
    return None


def imports_of(module: str, source: str, *, is_package: bool, known: set[str]) -> Iterator[str]:
    """Every module `module` imports, wherever in the file the import is; `from a import b` is `a.b` when b
    is a module of its own."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node.module, node.level)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in known else base
        elif isinstance(node, ast.Call) and (dynamic := _dynamic_import(node)):
            yield dynamic


def offending_edges(root: Path) -> list[str]:
    modules = modules_under(root)
    known = set(modules)
    edges = []
    for module in modules.values():
        for imported in sorted(
            set(imports_of(module.name, module.path.read_text(), is_package=module.is_package, known=known))
        ):
            reason = violation(module.name, imported)
            if reason:
                edges.append(f"{module.name} -> {imported}  ({reason})")
    return edges


# ------------------------------------------------------------------ the rule over functions/


def test_every_module_under_functions_belongs_to_a_package_of_the_map() -> None:
    modules = modules_under(FUNCTIONS)
    unplaced = sorted(name for name in modules if package_of(name) is None)
    assert unplaced == [], "place each new top-level package in the layer table: " + ", ".join(unplaced)
    # Not vacuous: every package of the table is there, so the scan read the real tree.
    assert {package.name for name in modules if (package := package_of(name))} == {p.name for p in PACKAGES}


def test_no_import_under_functions_points_the_wrong_way() -> None:
    edges = offending_edges(FUNCTIONS)
    assert edges == [], f"{len(edges)} imports break the dependency rule:\n" + "\n".join(edges)


def test_unit_tests_start_no_moto_and_no_hub() -> None:
    """tests/unit is pure: a test that needs AWS on moto or a LocalHub belongs in tests/integration."""
    tests = modules_under(UNIT_TESTS)
    known = set(tests)
    starting = sorted(
        f"tests/unit/{test.path.name} -> {imported}"
        for test in tests.values()
        for imported in set(imports_of(test.name, test.path.read_text(), is_package=test.is_package, known=known))
        if _within(imported, "moto") or _within(imported, "oms_local.runtime")
    )
    assert starting == [], "move these to tests/integration:\n" + "\n".join(starting)


def test_tests_share_helpers_through_tests_support_never_a_conftest_or_a_test_module() -> None:
    """Fixtures live in conftest files (pytest finds them); what tests import lives in tests/support."""
    tests = modules_under(TESTS)
    known = {f"tests.{name}" for name in tests}
    wrong = sorted(
        f"tests/{test.path.relative_to(TESTS)} -> {imported}"
        for test in tests.values()
        for imported in set(
            imports_of(f"tests.{test.name}", test.path.read_text(), is_package=test.is_package, known=known)
        )
        if _within(imported, "tests") and imported.rsplit(".", 1)[-1].startswith(("conftest", "test_"))
    )
    assert wrong == [], "move what these import to tests/support:\n" + "\n".join(wrong)


# ------------------------------------------------------------------ the classifier itself


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("orders.use_cases.intake", "inventory.adapters.stock_table"),  # a higher layer reads a lower one
        ("orders.adapters.order_table", "inventory.ledger"),
        ("delivery.services", "planning.promise"),
        ("partners.services", "partners.clients.ozon"),  # partners builds on its own clients
        ("partners.clients.ozon", "partners.clients.base"),
        ("partners.clients.http", "common.observability"),
        ("orders.handlers.api", "orders.use_cases.intake"),
        ("orders.use_cases.intake", "orders.domain.models"),
        ("orders.use_cases.intake", "orders.adapters.order_table"),
        ("orders.adapters.order_table", "orders.domain.models"),
        ("orders.domain.models", "common.models"),
        ("orders.domain.models", "pydantic"),
        ("inventory.adapters.stock_table", "boto3"),
        ("common.dynamo", "boto3.dynamodb.types"),
        ("planning.sourcing", "math"),
        ("planning.sourcing", "reference.models"),
        ("planning.promise", "common.clock"),
        ("orders.use_cases.intake", "reference.config_table"),
    ],
)
def test_imports_along_the_rule_pass(importer: str, imported: str) -> None:
    assert violation(importer, imported) is None


@pytest.mark.parametrize(
    ("importer", "imported", "reason"),
    [
        ("inventory.use_cases.holds", "orders.domain.models", "layer 3 (inventory) imports higher layer 4"),
        ("common.api", "orders.domain.models", "layer 0 (common) imports higher layer 4"),
        ("planning.sourcing", "partners.clients.base", "siblings at layer 2"),
        ("delivery.services", "partners.services", "siblings at layer 5"),
        ("partners.clients.ozon", "partners.domain.inbound", "layer 2 (partners.clients) imports higher layer 5"),
        ("partners.clients.registry", "partners", "layer 2 (partners.clients) imports higher layer 5"),
        ("orders.domain.models", "boto3", "domain code imports no AWS client"),
        ("orders.domain.workflow", "botocore.exceptions", "domain code imports no AWS client"),
        ("inventory.domain.availability", "common.config", "domain code imports no AWS client and no settings"),
        ("orders.domain.records", "common.aws", "domain code imports no AWS client"),
        ("partners.domain.inbound", "common.secrets", "domain code imports no AWS client"),
        ("planning.sourcing", "reference.config_table", "domain imports adapter"),
        ("planning.promise", "boto3", "domain code imports no AWS client"),
        ("orders.domain.models", "orders.adapters.order_table", "domain imports adapter"),
        ("orders.domain.models", "inventory.adapters.stock_table", "domain imports adapter"),
        ("orders.adapters.order_table", "orders.use_cases.intake", "adapter imports use case"),
        ("orders.adapters.order_table", "orders.handlers.api", "adapter imports handler"),
        ("inventory.adapters.stock_table", "inventory.services", "adapter imports use case"),
        ("orders.use_cases.events", "orders.handlers.lifecycle", "use case imports handler"),
        ("inventory.handlers.api", "inventory.adapters.stock_table", "handler imports adapter"),
        ("orders.handlers.api", "oms_local.runtime", "functions/ never imports oms_local"),
        ("common.config", "tests.support.api", "functions/ never imports tests"),
        ("orders.domain.workflow", "oms_build.catalog", "functions/ never imports oms_build"),
        ("delivery.services", "bench.run", "functions/ never imports bench"),
    ],
)
def test_imports_against_the_rule_fail_with_their_reason(importer: str, imported: str, reason: str) -> None:
    found = violation(importer, imported)
    assert found is not None and found.startswith(reason), found


def test_modules_map_to_the_most_specific_package_and_unknown_ones_to_none() -> None:
    assert package_of("partners.clients.ozon") == Package("partners.clients", 2)
    assert package_of("partners.handlers.webhooks") == Package("partners", 5)
    assert package_of("partners") == Package("partners", 5)
    assert package_of("ordersx.models") is None
    assert package_of("billing.services") is None
    assert (role_of("orders.use_cases.intake"), role_of("planning.cart"), role_of("common.api")) == (
        "use case",
        "domain",
        None,
    )


def test_every_kind_of_import_is_read_even_inside_a_function() -> None:
    source = """
import boto3
from . import models
from .models import Order
from ..adapters import order_table
from common import aws
from common.models import Sku, Money

def lazy():
    import inventory.ledger
    from orders.use_cases import intake
    importlib.import_module("partners.clients.ozon")
    import_module(f"partners.clients.{name}")
"""
    known = {"orders.domain.models", "orders.adapters.order_table", "common.aws", "orders.use_cases.intake"}
    found = set(imports_of("orders.domain.records", source, is_package=False, known=known))
    assert found == {
        "boto3",
        "orders.domain.models",
        "orders.adapters.order_table",
        "common.aws",
        "common.models",
        "inventory.ledger",
        "orders.use_cases.intake",
        "partners.clients.ozon",
        "partners.clients",
    }
    from_init = set(imports_of("orders.domain", "from .models import Order", is_package=True, known=known))
    assert from_init == {"orders.domain.models"}


def test_a_tree_with_a_wrong_edge_and_an_unplaced_package_fails(tmp_path: Path) -> None:
    for path, text in {
        "inventory/__init__.py": "",
        "inventory/domain/__init__.py": "",
        "inventory/domain/rows.py": "def lazy():\n    from orders.domain import models\n",
        "orders/__init__.py": "",
        "orders/domain/__init__.py": "",
        "orders/domain/models.py": "from common import config\n",
        "common/__init__.py": "",
        "common/config.py": "import os\n",
        "billing/__init__.py": "",
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    assert offending_edges(tmp_path) == [
        "inventory.domain.rows -> orders.domain.models  (layer 3 (inventory) imports higher layer 4 (orders))",
        "orders.domain.models -> common.config  (domain code imports no AWS client and no settings)",
    ]
    assert [name for name in modules_under(tmp_path) if package_of(name) is None] == ["billing"]
