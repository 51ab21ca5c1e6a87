"""CDK app that deploys template.yaml as it is: the template is included, never re-declared.

What CDK adds: the template's local CodeUri/DefinitionUri become CDK assets (a plain CfnInclude would
leave local paths that cannot deploy), the function code is bundled with functions/requirements.txt
for arm64 without Docker, every resource is tagged, and cdk-nag (AwsSolutions) checks the result.
Stage and parameters come from context: `cdk deploy -c stage=prod -c alarmEmail=ops@example.com`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sam as sam
from aws_cdk import cloudformation_include as cfn_include
from cdk_nag import AwsSolutionsChecks
from cfn_tools import load_yaml
from constructs import Construct

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
# Template parameters whose defaults a CDK user sets through context (context key -> template parameter).
CONTEXT_PARAMETERS = {
    "stage": "StageName",
    "alarmEmail": "AlarmEmail",
    "logRetentionDays": "LogRetentionDays",
    "partnerCredentialsPath": "PartnerCredentialsPath",
    "snapStart": "SnapStartApplyOn",
}


@jsii.implements(cdk.ILocalBundling)
class PipBundling:
    """Installs requirements.txt for the functions' platform (arm64, the template's CPython) next to the code.

    Wheels only, so nothing is compiled and no container is needed; this is what `sam build` does
    without --use-container.
    """

    def __init__(self, source: Path, python_version: str) -> None:
        self.source = source
        self.python_version = python_version

    def try_bundle(self, output_dir: str, options: Any) -> bool:  # options: for Docker bundling only
        shutil.copytree(
            self.source, output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        requirements = self.source / "requirements.txt"
        if requirements.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-compile",
                    "--no-warn-conflicts",
                    "--platform",
                    "manylinux2014_aarch64",
                    "--implementation",
                    "cp",
                    "--python-version",
                    self.python_version,
                    "--only-binary=:all:",
                    "--target",
                    output_dir,
                    "-r",
                    str(requirements),
                ],
                check=True,
            )
        return True


def template_for_include(template: dict[str, Any], directory: Path) -> tuple[Path, dict[str, Any]]:
    """The template as CfnInclude can read it, and the outputs it had to take out.

    CfnInclude checks every Ref, but SAM creates some resources only when it transforms the template
    (ApiApiKey, ...): outputs that name them are added back as plain CfnOutputs. Globals' CodeUri goes,
    because each function gets its asset's S3 location.
    """
    template = json.loads(json.dumps(template))  # a copy, plain JSON types
    declared = set(template["Resources"]) | set(template.get("Parameters", {}))
    generated = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if _refs(output["Value"]) - declared - {"AWS::StackName", "AWS::Region", "AWS::URLSuffix"}
    }
    for name in generated:
        del template["Outputs"][name]
    template.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    path = directory / "template.include.json"
    path.write_text(json.dumps(template, indent=1))
    return path, generated


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return {value["Ref"]}
        return set().union(*(_refs(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


class OmsHubStack(cdk.Stack):  # type: ignore[misc]  # aws_cdk lives in .venv-tools: untyped where mypy runs
    def __init__(self, scope: Construct, construct_id: str, *, parameters: dict[str, str], **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = load_yaml(TEMPLATE.read_text())
        include_path, generated_outputs = template_for_include(source, Path(cdk.Stage.of(self).outdir))
        self.hub = cfn_include.CfnInclude(self, "Hub", template_file=str(include_path))
        # Context sets the defaults; the parameters stay, so `cdk deploy --parameters` still overrides them.
        for name, value in parameters.items():
            self.hub.get_parameter(name).default = value
        self._code_as_assets(source)
        for name, output in generated_outputs.items():
            (ref,) = _refs(output["Value"])
            output_construct = cdk.CfnOutput(self, name, value=cdk.Fn.ref(ref), description=output.get("Description"))
            output_construct.override_logical_id(name)

    def _code_as_assets(self, source: dict[str, Any]) -> None:
        default_code = source.get("Globals", {}).get("Function", {}).get("CodeUri")
        runtime = source["Globals"]["Function"]["Runtime"]  # python3.13: every function runs the Globals' one
        assets: dict[str, s3_assets.Asset] = {}

        def asset(relative: str, bundled: bool) -> s3_assets.Asset:
            if relative not in assets:
                path = ROOT / relative
                # The API wants an image; it is never pulled: local bundling succeeds or fails the synth.
                image = cdk.DockerImage.from_registry(f"public.ecr.aws/sam/build-{runtime}")
                local = PipBundling(path, python_version=runtime.removeprefix("python"))
                bundling = cdk.BundlingOptions(image=image, local=local) if bundled else None
                assets[relative] = s3_assets.Asset(self, f"Asset{len(assets)}", path=str(path), bundling=bundling)
            return assets[relative]

        for logical_id, resource in source["Resources"].items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::Serverless::Function":
                code = asset(props.get("CodeUri", default_code), bundled=True)
                function: sam.CfnFunction = self.hub.get_resource(logical_id)
                function.code_uri = sam.CfnFunction.S3LocationProperty(
                    bucket=code.s3_bucket_name, key=code.s3_object_key
                )
            elif resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
                definition = asset(props["DefinitionUri"], bundled=False)
                machine: sam.CfnStateMachine = self.hub.get_resource(logical_id)
                machine.definition_uri = sam.CfnStateMachine.S3LocationProperty(
                    bucket=definition.s3_bucket_name, key=definition.s3_object_key
                )


def main() -> None:
    app = cdk.App()
    stage = app.node.try_get_context("stage") or "dev"
    parameters = {
        parameter: str(app.node.try_get_context(key))
        for key, parameter in CONTEXT_PARAMETERS.items()
        if app.node.try_get_context(key) is not None
    }
    stack = OmsHubStack(
        app,
        f"oms-hub-{stage}",
        parameters=parameters,
        description="oms-hub order-management hub (template.yaml, deployed by CDK)",
    )
    cdk.Tags.of(stack).add("project", "oms-hub")
    cdk.Tags.of(stack).add("stage", stage)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    for rule, reason in NAG_ACKNOWLEDGED.items():
        cdk.Validations.of(stack).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))
    app.synth()


# Each AwsSolutions finding accepted for the whole stack, with its reason (see docs/deploy.md).
# AwsSolutions reports nothing on the included template today (its SAM resources are checked by
# checkov and tests/infra instead: cdk-nag sees them only before SAM transforms them).
NAG_ACKNOWLEDGED: dict[str, str] = {
    "CloudFormation-Validate::F6101": "Outputs name ApiApiKey, which SAM creates from the Api's usage plan "
    "when it transforms the template; it exists at deploy time.",
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "Only LifecycleStateMachineRole's DeliverLogsAndTraces: "
    "CloudWatch Logs delivery and X-Ray APIs have no resource-level "
    "permissions (tests/infra/test_iam_wildcards.py allow-lists it).",
    "AwsSolutions::AwsSolutions-COG2": "AdminUserPool leaves MFA off: the admin page logs staff in with a "
    "password (and Cognito's threat protection) and does not run Cognito's MFA challenge yet (docs/admin.md).",
    "AwsSolutions::AwsSolutions-SQS3": "AsyncFailuresQueue is itself a dead-letter queue (the scheduled "
    "functions' DeadLetterQueue and the stock stream's OnFailure "
    "destination), which cdk-nag only recognises as a redrive target.",
}

if __name__ == "__main__":
    main()
