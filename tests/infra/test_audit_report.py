"""infra/audit.py tells a clean audit from one that could not happen (pip-audit exits 0 for both)."""

from __future__ import annotations

from infra.audit import classify, trust_store


def test_vulnerabilities_are_reported_with_their_fix() -> None:
    report = {
        "dependencies": [
            {"name": "requests", "version": "2.19.0", "vulns": [{"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"]}]},
            {"name": "tenacity", "version": "9.2.1", "vulns": []},
        ]
    }
    assert classify(report) == (["requests 2.19.0: PYSEC-2018-28 (fixed in 2.20.0)"], [], 2)


def test_an_unreachable_service_is_not_a_clean_audit() -> None:
    reason = "Dependency not found on PyPI and could not be audited: boto3 (1.44.5)"
    report = {"dependencies": [{"name": "boto3", "skip_reason": reason}], "fixes": []}
    assert classify(report) == ([], [reason], 0)


def test_pip_audit_trusts_the_bundle_pip_trusts(monkeypatch) -> None:
    """A CI job started with a bare environment has no REQUESTS_CA_BUNDLE: pip-audit would use certifi's
    bundle and fail TLS behind an inspecting proxy that pip itself passes (seen on a clean-clone run)."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", "/some/bundle.pem")
    assert trust_store()["REQUESTS_CA_BUNDLE"] == "/some/bundle.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/chosen.pem")
    assert trust_store()["REQUESTS_CA_BUNDLE"] == "/chosen.pem"
