"""template.yaml's alarms block: every alarm the deploy guards' kits ask of the template's functions,
stream readers, state machines and dead-letter queues (infra/template_guards.py ALARM_KITS), so a
function, workflow or queue added to the template gets its alarms from the build, not by hand."""

from __future__ import annotations

from pathlib import Path

from cfn_tools import load_yaml

from infra import template_guards
from oms_build.blocks import TEMPLATE, Block, stale_files

BLOCK = Block("alarms", "the alarm kits of infra/template_guards.py")


def with_alarms(template: str) -> str:
    """`template` with its alarms block rendered from its other resources."""
    without = BLOCK.replaced(template, "")
    alarms = template_guards.missing_alarms_yaml(load_yaml(without))
    return BLOCK.replaced(template, alarms + "\n" if alarms else "")


def rendered(template: str | None = None) -> dict[Path, str]:
    return {TEMPLATE: with_alarms(TEMPLATE.read_text() if template is None else template)}


def stale() -> list[Path]:
    return stale_files(rendered())
