"""pip-audit of the locked dependencies that knows when it could not audit at all.

pip-audit asks a vulnerability service (PyPI's JSON API by default) about every pinned release. Where
that service is out of reach (a registry mirror without the JSON API, no route to osv.dev), pip-audit
marks each dependency "could not be audited" and still exits 0, which would read as a clean audit.
This wrapper says which it was: vulnerabilities fail the run; unaudited dependencies are listed and
fail it only with AUDIT_STRICT=1 (set it where the service is reachable, so an outage cannot pass).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LOCKS = ["requirements/constraints.txt", "functions/requirements.txt"]


def audit(lock: str) -> tuple[list[str], list[str], int]:
    """(vulnerabilities found, dependencies not audited, dependencies audited) for one lock file."""
    answer = subprocess.run([str(Path(sys.executable).parent / "pip-audit"), "--no-deps", "--disable-pip",
                             "--progress-spinner", "off", "--format", "json", "-r", lock],
                            capture_output=True, text=True)
    if not answer.stdout.strip():
        raise SystemExit(f"pip-audit failed on {lock}:\n{answer.stderr}")
    return classify(json.loads(answer.stdout))


def classify(report: dict) -> tuple[list[str], list[str], int]:
    """(vulnerabilities found, dependencies not audited, dependencies audited) from pip-audit's JSON."""
    dependencies = report["dependencies"]
    found = [f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions', [])) or 'nothing yet'})"
             for d in dependencies for v in d.get("vulns", [])]
    skipped = [d["skip_reason"] for d in dependencies if "skip_reason" in d]
    return found, skipped, len(dependencies) - len(skipped)


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT") == "1"
    failed = False
    for lock in LOCKS:
        found, skipped, audited = audit(lock)
        print(f"pip-audit {lock}: {audited} audited, {len(found)} vulnerabilities, {len(skipped)} not audited")
        for line in found:
            print(f"  VULNERABLE {line}")
        if skipped:
            print("  NOT AUDITED (the vulnerability service did not answer for these):")
            for reason in skipped:
                print(f"    {reason}")
        failed |= bool(found) or (strict and bool(skipped))
    if not strict:
        print("pip-audit: unaudited dependencies do not fail this run; AUDIT_STRICT=1 makes them fail.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
