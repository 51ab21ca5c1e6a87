"""samconfig.toml's stages deploy template.yaml as it is: each stage overrides only parameters the
template declares, with values the template accepts, and names its own stack."""

from __future__ import annotations

import re
import shlex
import tomllib

import pytest

from infra import template_guards as guards

SAMCONFIG = guards.TEMPLATE.parent / "samconfig.toml"
STAGES = ["dev", "prod"]


def _overrides(stage: str) -> dict[str, str]:
    deploy = tomllib.loads(SAMCONFIG.read_text())[stage]["deploy"]["parameters"]
    return dict(pair.split("=", 1) for pair in shlex.split(deploy["parameter_overrides"]))


@pytest.mark.parametrize("stage", STAGES)
def test_stage_overrides_are_parameters_the_template_accepts(stage) -> None:
    parameters = guards.load()["Parameters"]
    for name, value in _overrides(stage).items():
        assert name in parameters, f"{stage}: {name} is not a template parameter"
        spec = parameters[name]
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (
                f"{stage}: {name}={value!r} fails {spec['AllowedPattern']}"
            )
        if "AllowedValues" in spec:
            assert value in {str(v) for v in spec["AllowedValues"]}, f"{stage}: {name}={value!r} not allowed"


@pytest.mark.parametrize("stage", STAGES)
def test_stage_names_its_stack_and_its_credentials_path(stage) -> None:
    config = tomllib.loads(SAMCONFIG.read_text())[stage]["deploy"]["parameters"]
    overrides = _overrides(stage)
    assert config["stack_name"] == f"oms-hub-{stage}"
    assert overrides["StageName"] == stage
    assert overrides["PartnerCredentialsPath"] == f"/oms-hub/{stage}"
    assert "CAPABILITY_AUTO_EXPAND" in config["capabilities"]  # the SAM transform needs it


def test_production_changes_are_confirmed_and_logs_kept_longer() -> None:
    config = tomllib.loads(SAMCONFIG.read_text())
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert int(_overrides("prod")["LogRetentionDays"]) > int(_overrides("dev")["LogRetentionDays"])
