"""Build-time generators: workflows/*.yaml -> the lifecycle state machines (state_machines/), the
functions' workflow catalog and template.yaml's workflows block (`workflows`); the template's alarms
block from the deploy guards' alarm kits (`alarms`). `oms-hub workflows build` writes them all and
`oms-hub workflows check` lists the stale ones; nothing under functions/ imports this package.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Build-time code runs from the checkout: the functions' packages import as they do on Lambda, the
# deploy guards as `infra.template_guards`.
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))
