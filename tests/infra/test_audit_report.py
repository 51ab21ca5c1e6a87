"""infra/audit.py tells a clean audit from one that could not happen (pip-audit exits 0 for both)."""

from __future__ import annotations

from infra.audit import classify


def test_vulnerabilities_are_reported_with_their_fix() -> None:
    report = {"dependencies": [
        {"name": "requests", "version": "2.19.0", "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"]}]},
        {"name": "tenacity", "version": "9.2.1", "vulns": []},
    ]}
    assert classify(report) == (["requests 2.19.0: PYSEC-2018-28 (fixed in 2.20.0)"], [], 2)


def test_an_unreachable_service_is_not_a_clean_audit() -> None:
    reason = "Dependency not found on PyPI and could not be audited: boto3 (1.44.5)"
    report = {"dependencies": [{"name": "boto3", "skip_reason": reason}], "fixes": []}
    assert classify(report) == ([], [reason], 0)
