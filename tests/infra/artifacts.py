"""Build outputs the infra tests read: `make synth` writes the CDK assembly, `make build` the SAM build.

`make test` (and `make deploy-check`) set OMS_REQUIRE_SYNTH / OMS_REQUIRE_BUILD, so a missing output
fails there; a bare pytest run skips those tests and says which make target produces the output.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def required(path: Path, env_var: str, target: str) -> Path:
    if not path.exists():
        if os.environ.get(env_var) == "1":
            pytest.fail(f"{path} is missing: `make {target}` did not produce it")
        pytest.skip(f"{path} not built: run `make {target}`")
    return path
