"""Staff roles' contacts over HTTP: who hears of SLA warnings and escalations. A round trip with a store role's
per-location entries, the webhook secret written to SSM and never shown, kept when a later PUT omits it; bad
bodies, a non-store role told per location and an unknown location refused with 422 and nothing stored."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from common import secrets
from reference.config_table import role_secret_name
from tests.support.api import Api

SECRET = "whsec-0123456789abcdef"
SHOP_SECRET = "whsec-store-fedcba9876543210"


def stores(api: Api, *location_ids: str) -> None:
    for location_id in location_ids:
        assert api.put(f"/v1/locations/{location_id}", {"name": location_id, "kind": "store"}).status == 200


def test_a_store_roles_contacts_round_trip_and_the_secrets_are_never_shown(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    stores(api, "msk-1", "spb:2")
    body = {
        "emails": ["Duty.Manager@shop.example", "duty.manager@shop.example", "region@shop.example"],
        "webhook": {"url": "https://chat.shop.example/hooks/sla", "secret": SECRET},
        "language": "en",
        "locations": {
            "msk-1": {"emails": ["msk-1@shop.example"]},
            "spb:2": {"emails": [], "webhook": {"url": "http://127.0.0.1:9/relay", "secret": SHOP_SECRET}},
        },
    }
    caplog.set_level(logging.INFO)  # the functions' level; the SDK's DEBUG dumps hold whole requests
    answer = api.put("/v1/roles/store_manager/contacts", body)
    assert answer.status == 200, answer.body
    assert answer.body == {
        "role": "store_manager",
        "emails": ["Duty.Manager@shop.example", "region@shop.example"],  # one address once, whatever its case
        "webhook": {"url": "https://chat.shop.example/hooks/sla", "has_secret": True},
        "language": "en",
        "locations": {
            "msk-1": {"emails": ["msk-1@shop.example"], "webhook": None},
            "spb:2": {"emails": [], "webhook": {"url": "http://127.0.0.1:9/relay", "has_secret": True}},
        },
        "updated_at": answer.body["updated_at"],
    }
    assert api.get("/v1/roles/store_manager/contacts").body == answer.body
    assert api.get("/v1/roles").body == {"items": [answer.body]}
    # In SSM, one parameter per scope (':' is not a character SSM names take)
    assert secrets.secret(role_secret_name("store_manager", None)) == SECRET
    assert secrets.secret(role_secret_name("store_manager", "spb:2")) == SHOP_SECRET
    assert role_secret_name("store_manager", "spb:2").endswith("/roles/store_manager/locations/spb_c2/webhook-secret")
    logged = " ".join(json.dumps(record.__dict__, default=str) for record in caplog.records)
    shown = str(answer.body) + str(api.get("/v1/roles").body) + logged
    assert SECRET not in shown and SHOP_SECRET not in shown
    assert "shop.example" not in logged  # neither the addresses nor the webhook's host

    # A later PUT without the secret keeps it; a new url keeps it too (as a channel's secret).
    moved = {**body, "webhook": {"url": "https://chat.shop.example/hooks/v2"}}
    again = api.put("/v1/roles/store_manager/contacts", moved)
    assert again.status == 200, again.body
    assert again.body["webhook"] == {"url": "https://chat.shop.example/hooks/v2", "has_secret": True}
    assert secrets.secret(role_secret_name("store_manager", None)) == SECRET


def test_ops_without_a_webhook_and_an_unknown_role_is_404(api: Api) -> None:
    answer = api.put("/v1/roles/ops/contacts", {"emails": ["ops@shop.example"]})
    assert answer.status == 200, answer.body
    assert (answer.body["webhook"], answer.body["language"], answer.body["locations"]) == (None, "ru", {})
    missing = api.get("/v1/roles/store_staff/contacts")
    assert (missing.status, missing.body["error"]) == (404, "not_found")
    assert [r["role"] for r in api.get("/v1/roles").body["items"]] == ["ops"]


HOOK = {"url": "https://chat.shop.example/h", "secret": SECRET}


@pytest.mark.parametrize(
    ("role", "body", "loc"),
    [
        ("ops", {}, ["body", "emails"]),
        ("ops", {"emails": ["not-an-address"]}, ["body", "emails", 0]),
        ("ops", {"emails": ["a@b.example"], "extra": 1}, ["body", "extra"]),
        ("ops", {"emails": [f"p{n}@shop.example" for n in range(21)]}, ["body", "emails"]),
        (
            "ops",
            {"emails": [], "webhook": {"url": "http://chat.shop.example/h", "secret": SECRET}},
            ["body", "webhook", "url"],
        ),
        ("ops", {"emails": [], "webhook": {"url": "ftp://127.0.0.1/h", "secret": SECRET}}, ["body", "webhook", "url"]),
        ("ops", {"emails": [], "webhook": {"url": HOOK["url"], "secret": "short"}}, ["body", "webhook", "secret"]),
        ("ops", {"emails": [], "webhook": {"url": HOOK["url"]}}, ["body", "webhook", "secret"]),  # a new one needs it
        ("ops", {"emails": [], "language": "de"}, ["body", "language"]),
        ("ops", {"emails": [], "locations": {"msk-1": {"emails": []}}}, ["body", "locations"]),  # not a store role
        ("store_staff", {"emails": [], "locations": {"nowhere": {"emails": []}}}, ["body", "locations", "nowhere"]),
        (
            "store_staff",
            {"emails": [], "locations": {"msk-1": {"emails": [], "webhook": {"url": HOOK["url"]}}}},
            ["body", "locations", "msk-1", "webhook", "secret"],
        ),
        ("Store-Staff", {"emails": []}, ["path", "role"]),
    ],
)
def test_bad_contacts_are_422_and_store_nothing(api: Api, role: str, body: dict[str, Any], loc: list[Any]) -> None:
    stores(api, "msk-1")
    answer = api.put(f"/v1/roles/{role}/contacts", body)
    assert answer.status == 422, answer.body
    assert loc in [d["loc"] for d in answer.body["details"]], answer.body
    assert api.get("/v1/roles").body["items"] == []
    assert secrets.secret(role_secret_name(role, None)) is None
