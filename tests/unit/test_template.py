"""The template is the one description of the wiring; the local runtime reads it, nothing repeats it."""

from __future__ import annotations

import ast
from pathlib import Path

from cfn_tools import load_yaml

from oms_local.template import load

ROOT = Path(__file__).parents[2]
LOCAL = load(ROOT / "template.yaml")


def test_every_route_has_a_function_and_only_docs_and_signed_callbacks_are_public() -> None:
    assert {r.function for r in LOCAL.routes} == {
        "OrdersApiFunction",
        "InventoryApiFunction",
        "DeliveryApiFunction",
        "WebhooksApiFunction",
        "StockPushApiFunction",
        "CatalogApiFunction",
        "SlaApiFunction",
        "AdminFunction",
    }
    public = {r.path for r in LOCAL.routes if not r.api_key_required}
    # Partners and the acquirer cannot send the hub's API key: webhooks authenticate with the channel's own
    # secret, the payment callback with its HMAC signature (tests/integration/workflows/test_payments.py);
    # the admin page, a browser's, with its own Cognito login and session (tests/browser/test_login.py).
    assert public == {
        "/admin",
        "/admin/{proxy+}",
        "/v1/openapi.json",
        "/v1/docs",
        "/v1/payments/{provider}/callback",
        "/v1/webhooks/{channel_id}",
        "/v1/webhooks/{channel_id}/notification",
    }
    assert {r.function for r in LOCAL.routes if r.path.startswith("/v1/webhooks/")} == {"WebhooksApiFunction"}


def test_handlers_exist_where_the_template_says() -> None:
    for fn in LOCAL.functions.values():
        module, _, attribute = fn.handler.rpartition(".")
        source = fn.code_dir / (module.replace(".", "/") + ".py")
        tree = ast.parse(source.read_text())
        assert attribute in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}, fn.handler


def test_state_machine_substitutions_are_all_resolved() -> None:
    definition = LOCAL.state_machines["OrderLifecycle"]["definition"]
    assert "${" not in definition
    # The machines call the alias: the published version, with its SnapStart snapshot, not $LATEST.
    assert ":function:oms-hub-local-LifecycleTasksFunction:live" in definition


def test_every_function_runs_python_3_13_behind_the_live_alias_and_the_awaited_ones_snap_start() -> None:
    template = load_yaml((ROOT / "template.yaml").read_text())
    defaults = template["Globals"]["Function"]
    assert (defaults["Runtime"], defaults["AutoPublishAlias"]) == ("python3.13", "live")
    functions = {
        k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }
    assert not [name for name, props in functions.items() if {"Runtime", "AutoPublishAlias"} & set(props)]
    snap_started = {name for name, props in functions.items() if "SnapStart" in props}
    assert snap_started == {f.function for f in LOCAL.routes} | {"LifecycleTasksFunction"}
    assert all(functions[name]["SnapStart"] == {"ApplyOn": {"Ref": "SnapStartApplyOn"}} for name in snap_started)
    assert template["Parameters"]["SnapStartApplyOn"]["AllowedValues"] == ["PublishedVersions", "None"]


def test_every_lambda_grant_of_the_state_machines_names_the_alias() -> None:
    invoked = [
        resource
        for statement in LOCAL.policies["LifecycleStateMachineRole"]
        if "lambda:InvokeFunction" in statement["Action"]
        for resource in ([statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"])
    ]
    assert invoked and all(resource.endswith(":live") for resource in invoked)


def test_gateway_answers_are_json_errors() -> None:
    assert LOCAL.gateway_responses["INVALID_API_KEY"].status == 401
    assert LOCAL.gateway_responses["MISSING_AUTHENTICATION_TOKEN"].status == 404


def test_no_request_path_scans_a_table() -> None:
    """Scans read (and bill) every item; request paths must Query an index or Get by key."""
    for path in (ROOT / "functions").rglob("*.py"):
        tree = ast.parse(path.read_text())
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert "scan" not in calls, path


def test_no_aws_client_or_env_read_at_import_time() -> None:
    for path in (ROOT / "functions").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            text = ast.unparse(node)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
                continue
            assert "boto3.client" not in text and "os.environ" not in text, (path, text)


def test_domain_modules_import_no_aws_or_environment() -> None:
    """Pure domain: importing it must not pull in boto3 or the settings (checked in a fresh interpreter)."""
    import subprocess
    import sys

    modules = [
        f"{p.parent.parent.name}.domain.{p.stem}"
        for p in (ROOT / "functions").glob("*/domain/*.py")
        if p.stem != "__init__"
    ] + ["common.models"]
    code = (
        "import sys; "
        + "; ".join(f"import {m}" for m in modules)
        + "; leaked = {'boto3', 'botocore', 'common.aws', 'common.config'} & set(sys.modules); print(sorted(leaked))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT / "functions", capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_an_intrinsic_the_local_runtime_cannot_resolve_fails_loudly(tmp_path: Path) -> None:
    import pytest

    (tmp_path / "template.yaml").write_text(
        "Resources:\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: x.handler\n"
        "      CodeUri: .\n"
        "      Environment:\n"
        "        Variables:\n"
        "          MODE: !If [IsProd, a, b]\n"
    )
    with pytest.raises(ValueError, match="Fn::If"):
        load(tmp_path / "template.yaml")
