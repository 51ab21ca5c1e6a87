"""Shared building blocks: webhook signatures, location working hours."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from common.signatures import hmac_sha256_hex, signature_matches, token_matches
from reference.models import LocationIn


def test_signature_accepts_only_the_hmac_of_the_exact_body() -> None:
    body = b'{"order": 1}'
    good = hmac_sha256_hex("s3cret-value", body)
    assert signature_matches("s3cret-value", body, f"sha256={good}")
    assert signature_matches("s3cret-value", body, good.upper())
    assert not signature_matches("s3cret-value", body + b" ", f"sha256={good}")
    assert not signature_matches("other-secret", body, f"sha256={good}")
    assert not signature_matches("s3cret-value", body, None)
    assert token_matches("tok-123456", "tok-123456")
    assert not token_matches("tok-123456", "tok-12345")
    assert not token_matches("tok-123456", None)


def test_working_hours_must_close_after_they_open() -> None:
    store = LocationIn.model_validate(
        {
            "name": "S",
            "kind": "store",
            "working_hours": {"mon": {"opens": "10:00", "closes": "22:00"}},
            "cutoff": "18:00",
        }
    )
    assert store.working_hours["mon"].closes.hour == 22
    with pytest.raises(ValidationError):
        LocationIn.model_validate(
            {"name": "S", "kind": "store", "working_hours": {"mon": {"opens": "22:00", "closes": "10:00"}}}
        )
    with pytest.raises(ValidationError):
        LocationIn.model_validate(
            {"name": "S", "kind": "store", "working_hours": {"monday": {"opens": "10:00", "closes": "22:00"}}}
        )


def test_sum_by_adds_the_units_of_each_key_in_the_order_keys_first_appear() -> None:
    from common.quantities import sum_by

    assert list(sum_by([("B", 1), ("A", 2), ("B", 3)]).items()) == [("B", 4), ("A", 2)]
    assert sum_by([(("SKU-A", "wh-1"), 2), (("SKU-A", "store-1"), 1), (("SKU-A", "wh-1"), 1)]) == {
        ("SKU-A", "wh-1"): 3,
        ("SKU-A", "store-1"): 1,
    }
    assert sum_by([]) == {}
