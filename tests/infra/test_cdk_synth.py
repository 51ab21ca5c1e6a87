"""The CDK app deploys template.yaml itself: its synthesized template (infra/cdk.out, written by
`make synth`, which `make test` runs first) keeps every logical resource, parameter and output, and
the local CodeUri/DefinitionUri paths have become CDK assets that the assembly carries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import template_guards as guards
from tests.infra.artifacts import required

ASSEMBLY = guards.TEMPLATE.parent / "infra" / "cdk.out"
STACK = "oms-hub-dev"


@pytest.fixture(scope="module")
def synthesized() -> dict[str, Any]:
    return json.loads(required(ASSEMBLY / f"{STACK}.template.json", "OMS_REQUIRE_SYNTH", "synth").read_text())


def _asset_keys() -> set[str]:
    manifest = json.loads((ASSEMBLY / f"{STACK}.assets.json").read_text())
    return {d["objectKey"] for f in manifest["files"].values() for d in f["destinations"].values()}


def test_every_logical_resource_parameter_and_output_is_kept(synthesized) -> None:
    source = guards.load()
    kinds = {name: r["Type"] for name, r in synthesized["Resources"].items()}
    lost = {name: r["Type"] for name, r in source["Resources"].items() if kinds.get(name) != r["Type"]}
    assert not lost, f"resources of template.yaml missing (or retyped) in the CDK template: {lost}"
    assert set(source["Parameters"]) <= set(synthesized["Parameters"])
    assert synthesized["Parameters"]["StageName"]["Default"] == "dev", "the stage comes from `-c stage=`"
    assert set(source["Outputs"]) <= set(synthesized["Outputs"])
    assert synthesized["Transform"] == source["Transform"]


def test_code_and_definitions_are_assets_not_local_paths(synthesized) -> None:
    keys = _asset_keys()
    assert "CodeUri" not in synthesized.get("Globals", {}).get("Function", {})
    for kind, field in (("AWS::Serverless::Function", "CodeUri"), ("AWS::Serverless::StateMachine", "DefinitionUri")):
        for name, resource in synthesized["Resources"].items():
            if resource["Type"] != kind:
                continue
            location = resource["Properties"][field]
            assert isinstance(location, dict) and location["Key"] in keys, f"{name}.{field} is not an asset: {location}"


def test_bundled_code_carries_the_handlers_and_their_dependencies(synthesized) -> None:
    function = next(r for r in synthesized["Resources"].values() if r["Type"] == "AWS::Serverless::Function")
    key = function["Properties"]["CodeUri"]["Key"]
    bundle = ASSEMBLY / f"asset.{key.removesuffix('.zip')}"
    assert (bundle / "orders" / "handlers" / "api.py").exists()
    for package in ("aws_lambda_powertools", "pydantic", "pydantic_core", "tenacity"):
        assert (bundle / package).is_dir(), f"{package} is not bundled with the functions"
    assert any(Path(bundle, "pydantic_core").glob("*aarch64*.so")), "pydantic_core is not the arm64 build"


def test_resources_are_tagged(synthesized) -> None:
    tags = synthesized["Resources"]["OrdersTable"]["Properties"]["Tags"]
    assert {"Key": "project", "Value": "oms-hub"} in tags and {"Key": "stage", "Value": "dev"} in tags
