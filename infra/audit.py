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
from typing import Any

LOCKS = ["requirements/constraints.txt", "functions/requirements.txt"]
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
UNREACHABLE = ("SSLError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "ProxyError")


def trust_store() -> dict[str, str]:
    """The environment for pip-audit, trusting what pip trusts. pip-audit's HTTP client (requests) reads
    certifi's bundle unless told otherwise, so behind a TLS-inspecting proxy that pip passes (its
    `cert` setting) pip-audit would fail on every request; a CI job started with a bare environment
    has lost REQUESTS_CA_BUNDLE too."""
    env = dict(os.environ)
    if "REQUESTS_CA_BUNDLE" not in env:
        pip_cert = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.cert"], capture_output=True, text=True, check=False
        ).stdout.strip()
        bundle = env.get("SSL_CERT_FILE") or pip_cert or (str(SYSTEM_CA_BUNDLE) if SYSTEM_CA_BUNDLE.exists() else "")
        if bundle:
            env["REQUESTS_CA_BUNDLE"] = bundle
    return env


def audit(lock: str, env: dict[str, str]) -> tuple[list[str], list[str], int]:
    """(vulnerabilities found, dependencies not audited, dependencies audited) for one lock file."""
    answer = subprocess.run(
        [
            str(Path(sys.executable).parent / "pip-audit"),
            "--no-deps",
            "--disable-pip",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "-r",
            lock,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,  # vulnerabilities found exit 1 and still print the JSON report read below
    )
    if answer.stdout.strip():
        return classify(json.loads(answer.stdout))
    if any(name in answer.stderr for name in UNREACHABLE):
        # No answer from the service at all: nothing was audited (AUDIT_STRICT=1 fails on that).
        last = answer.stderr.strip().splitlines()[-1]
        return [], [f"{lock}: the vulnerability service could not be reached ({last[:200]})"], 0
    raise SystemExit(f"pip-audit failed on {lock}:\n{answer.stderr}")


def classify(report: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """(vulnerabilities found, dependencies not audited, dependencies audited) from pip-audit's JSON."""
    dependencies = report["dependencies"]
    found = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions', [])) or 'nothing yet'})"
        for d in dependencies
        for v in d.get("vulns", [])
    ]
    skipped = [d["skip_reason"] for d in dependencies if "skip_reason" in d]
    return found, skipped, len(dependencies) - len(skipped)


def main() -> int:
    strict = os.environ.get("AUDIT_STRICT") == "1"
    failed = False
    env = trust_store()
    for lock in LOCKS:
        found, skipped, audited = audit(lock, env)
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
