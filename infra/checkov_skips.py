"""Prints the stack-wide checkov skips declared in template.yaml's Metadata (ids, comma-separated).

Each skip carries its reason next to it in the template; this script refuses one without a comment,
so `make checkov` cannot hide a failed check without an explanation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from cfn_tools import load_yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


def stack_wide_skips(template: dict[str, Any]) -> list[str]:
    skips = template.get("Metadata", {}).get("checkov", {}).get("skip", [])
    unexplained = [skip.get("id") for skip in skips if not str(skip.get("comment", "")).strip()]
    if unexplained:
        raise SystemExit(f"checkov skips without a reason in template.yaml Metadata: {unexplained}")
    return [skip["id"] for skip in skips]


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE
    print(",".join(stack_wide_skips(load_yaml(path.read_text()))))
