"""`sam build` (no container) packages what deploys: every function's build directory carries its
handler and functions/requirements.txt built for arm64, and the built template keeps every resource.
`make deploy-check` builds and runs this; the build takes about a minute, so `make test` does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfn_tools import load_yaml

from infra import template_guards as guards
from tests.infra.artifacts import required

BUILD = guards.TEMPLATE.parent / ".aws-sam" / "build"


@pytest.fixture(scope="module")
def built() -> dict[str, Any]:
    return load_yaml(required(BUILD / "template.yaml", "OMS_REQUIRE_BUILD", "build").read_text())


def test_built_template_keeps_every_resource(built) -> None:
    assert {n: r["Type"] for n, r in built["Resources"].items()} == {
        n: r["Type"] for n, r in guards.load()["Resources"].items()
    }


def test_every_function_is_built_with_its_handler_and_arm64_dependencies(built) -> None:
    for name, function in guards.resources(built, "AWS::Serverless::Function").items():
        props = function["Properties"]
        code = BUILD / props["CodeUri"]
        module = props["Handler"].rsplit(".", 1)[0].replace(".", "/") + ".py"
        assert (code / module).exists(), f"{name}: {module} is not in its build"
        for package in ("aws_lambda_powertools", "pydantic", "tenacity"):
            assert (code / package).is_dir(), f"{name}: {package} is not bundled"
        assert any(Path(code, "pydantic_core").glob("*aarch64*.so")), f"{name}: pydantic_core is not the arm64 build"


def test_state_machine_definitions_resolve_from_the_build(built) -> None:
    for name, machine in guards.resources(built, "AWS::Serverless::StateMachine").items():
        assert (BUILD / machine["Properties"]["DefinitionUri"]).resolve().is_file(), name
