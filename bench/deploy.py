"""Deploy figures: what template.yaml declares, what the operations kit costs while idle, and what the
CDK assembly ships (when `make synth` has written infra/cdk.out). Counts only, no timing.

Run alone with `python bench/deploy.py`, or as part of `make bench`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cfn_tools import load_yaml

ROOT = Path(__file__).resolve().parent.parent
ASSEMBLY = ROOT / "infra" / "cdk.out"
# CloudWatch list prices (us-east-1): standard-resolution alarm per month, dashboard per month
# (the first 3 dashboards and 10 alarms of an account are free; not counted here).
USD_PER_ALARM_MONTH = 0.10
USD_PER_DASHBOARD_MONTH = 3.00
# Lambda SnapStart for Python (us-east-1): the snapshot's cache per GB-second while the version is live.
SNAPSTART_USD_PER_GB_S_CACHED = 0.0000015046
SECONDS_PER_MONTH = 30 * 24 * 3600


def emit(name: str, value: float, unit: str) -> None:
    print(f"{name} {round(value, 6):g} {unit}", flush=True)


def figures() -> None:
    template = load_yaml((ROOT / "template.yaml").read_text())
    kinds = Counter(r["Type"] for r in template["Resources"].values())
    emit("deploy_template_resources", sum(kinds.values()), "resources (before the SAM transform)")
    for kind, label in [
        ("AWS::Serverless::Function", "functions"),
        ("AWS::Serverless::StateMachine", "state machines"),
        ("AWS::DynamoDB::Table", "tables"),
        ("AWS::SQS::Queue", "queues"),
        ("AWS::CloudWatch::Alarm", "alarms"),
        ("AWS::Logs::LogGroup", "log groups"),
    ]:
        emit(f"deploy_{label.replace(' ', '_')}", kinds[kind], label)
    ops_usd = (
        kinds["AWS::CloudWatch::Alarm"] * USD_PER_ALARM_MONTH
        + kinds["AWS::CloudWatch::Dashboard"] * USD_PER_DASHBOARD_MONTH
    )
    emit("deploy_ops_kit_usd_per_month", ops_usd, "usd (alarms + dashboard, idle)")
    defaults = template["Globals"]["Function"]
    snap_started = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function" and "SnapStart" in r["Properties"]
    ]
    cached_gb = sum(props.get("MemorySize", defaults["MemorySize"]) / 1024 for props in snap_started)
    emit("deploy_snapstart_functions", len(snap_started), "functions")
    emit(
        "deploy_snapstart_cache_usd_per_month",
        cached_gb * SECONDS_PER_MONTH * SNAPSTART_USD_PER_GB_S_CACHED,
        "usd (one live version each; restores extra; SnapStartApplyOn=None: 0)",
    )
    synthesized = ASSEMBLY / "oms-hub-dev.template.json"
    if not synthesized.exists():
        print("# no CDK assembly: `make synth` adds the CDK figures", flush=True)
        return
    resources = json.loads(synthesized.read_text())["Resources"]
    emit("deploy_cdk_resources", len(resources), "resources (template's + CDKMetadata)")
    bundles = [p for p in ASSEMBLY.glob("asset.*") if p.is_dir()]
    size = sum(f.stat().st_size for bundle in bundles for f in bundle.rglob("*") if f.is_file())
    emit("deploy_function_bundle_mb", size / 2**20, "MiB unzipped (code + functions/requirements.txt, arm64)")


if __name__ == "__main__":
    figures()
