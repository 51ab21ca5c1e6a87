"""A marketplace channel's offer identities: what a request may ask, what it changes, and the claims that
keep each offer id (and each Wildberries chrtId) to one SKU of the channel. Pure.

A SKU is offered under its own name unless it is mapped. A mapped SKU holds a claim on the offer id it is
pushed under (`offer`, its offer_id or its own name) and on its chrtId (`chrt`), so that two SKUs never
push two values to one offer. A SKU left unmapped holds no claim on its own name; a mapping that would
take the name of a SKU the channel offers under that name is refused instead (the caller knows which SKUs
the channel offers). What moves together is planned as groups: a group is every mapping and claim change
of SKUs that hand claims to each other, so that it can be written in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError

from common.errors import Problem, Unprocessable
from common.models import CONTROLS, Sku

MAX_OFFER_ITEMS = 1000  # per request; the CLI sends a bigger file in parts
MAX_OFFERS_PAGE = 1000
WILDBERRIES = "wildberries"  # the one partner whose stock API names a size (chrtId), not an offer id

# Yandex Market's shop SKU is the strictest of the partners' offer ids: 1-255 characters, trimmed by the
# partner (so no spaces at either end: two ids differing only there would be one offer), no control
# characters. Ozon's offer_id and the other partners take the same text.
OfferId = Annotated[
    str,
    Field(min_length=1, max_length=255, pattern=rf"^[^\s{CONTROLS}](?:[^{CONTROLS}]*[^\s{CONTROLS}])?$"),
]
ChrtId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]
_SKU = TypeAdapter(Sku)


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    offer_id: OfferId | None = Field(
        None,
        description="The seller's article the partner knows the SKU by (Ozon offer_id, Market shop SKU). "
        "Null (or the SKU itself) with no chrtId removes the mapping: the SKU is offered under its own name.",
    )
    chrtId: ChrtId | None = Field(
        None, description="Wildberries' size id; required on a Wildberries channel, refused on any other."
    )


class OffersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[OfferIn] = Field(min_length=1, max_length=MAX_OFFER_ITEMS)


class OffersWritten(BaseModel):
    written: int = Field(description="Mappings created, changed or removed")
    unchanged: int = Field(description="Items that already held what was sent")


class OfferOut(BaseModel):
    sku: str
    offer_id: str = Field(description="What the partner knows the SKU by (its own name when not mapped)")
    chrtId: int | None = None
    updated_at: str


class OffersPage(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None


Claim = tuple[Literal["offer", "chrt"], str]


@dataclass(frozen=True)
class Identity:
    """How a SKU is pushed: `offer_id` None = under its own name; both None = not mapped."""

    offer_id: str | None = None
    chrt_id: int | None = None

    @property
    def mapped(self) -> bool:
        return self.offer_id is not None or self.chrt_id is not None

    def offer(self, sku: str) -> str:
        return self.offer_id or sku

    def claims(self, sku: str) -> tuple[Claim, ...]:
        if not self.mapped:
            return ()
        offer: Claim = ("offer", self.offer(sku))
        return (offer, ("chrt", str(self.chrt_id))) if self.chrt_id is not None else (offer,)


NOT_MAPPED = Identity()


@dataclass(frozen=True)
class Stored:
    identity: Identity
    revision: int


@dataclass(frozen=True)
class MappingMove:
    sku: str
    identity: Identity  # the new one; NOT_MAPPED deletes the item
    revision: int | None  # the item's as read, None when there was none


@dataclass(frozen=True)
class ClaimMove:
    claim: Claim
    held_by: str | None  # as read
    holder: str | None  # after; None deletes the claim


@dataclass
class Group:
    """Changes that must land together (one transaction): SKUs handing claims to each other."""

    mappings: list[MappingMove] = field(default_factory=list)
    claims: list[ClaimMove] = field(default_factory=list)

    def size(self) -> int:
        return 2 * len(self.mappings) + len(self.claims)  # a mapping goes with its dirty mark


def wanted(items: Sequence[OfferIn], channel_kind: str) -> dict[str, Identity]:
    """sku -> the identity asked for, or Unprocessable naming every wrong item: a SKU twice, two SKUs pushed
    under one offer id or one chrtId, a chrtId missing on Wildberries or given elsewhere."""
    problems: list[Problem] = []
    first_sku: dict[str, int] = {}
    first_claim: dict[Claim, int] = {}
    identities: dict[str, Identity] = {}
    for n, item in enumerate(items):
        identity = Identity(None if item.offer_id == item.sku else item.offer_id, item.chrtId)
        if item.sku in first_sku:
            problems.append(Problem(("items", n, "sku"), f"sku listed again (first as item {first_sku[item.sku]})"))
            continue
        first_sku[item.sku] = n
        if channel_kind == WILDBERRIES and identity.offer_id is not None and identity.chrt_id is None:
            problems.append(Problem(("items", n, "chrtId"), "required on a Wildberries channel"))
        if channel_kind != WILDBERRIES and identity.chrt_id is not None:
            problems.append(Problem(("items", n, "chrtId"), f"Wildberries' size id: not for a {channel_kind} channel"))
        # An unmapped SKU is pushed under its own name: that name counts as its offer id here too.
        for claim in identity.claims(item.sku) or (("offer", item.sku),):
            if claim in first_claim:
                where = "offer_id" if claim[0] == "offer" else "chrtId"
                problems.append(Problem(("items", n, where), f"also item {first_claim[claim]}'s {where}"))
            first_claim.setdefault(claim, n)
        identities[item.sku] = identity
    if problems:
        raise Unprocessable("the offer identities are not valid", problems)
    return identities


def names_taken(identities: Mapping[str, Identity]) -> set[str]:
    """The offer ids asked for that are another SKU's name: that SKU may be offered under it."""
    names = set()
    for sku, identity in identities.items():
        offer = identity.offer(sku)
        if identity.mapped and offer != sku and _a_sku(offer):
            names.add(offer)
    return names


def _a_sku(text: str) -> bool:
    try:
        _SKU.validate_python(text)
    except ValidationError:
        return False
    return True


def changed(identities: Mapping[str, Identity], stored: Mapping[str, Stored]) -> dict[str, Identity]:
    """The SKUs whose identity the request changes, with their new identity."""
    return {
        sku: identity
        for sku, identity in identities.items()
        if identity != (stored[sku].identity if sku in stored else NOT_MAPPED)
    }


def claims_to_read(changes: Mapping[str, Identity], stored: Mapping[str, Stored]) -> set[Claim]:
    """The claims a change may take, give up, or (going back to its own name) find held by another SKU."""
    wanted_claims: set[Claim] = set()
    for sku, identity in changes.items():
        wanted_claims.update(identity.claims(sku) or (("offer", sku),))
        if sku in stored:
            wanted_claims.update(stored[sku].identity.claims(sku))
    return wanted_claims


def plan(
    position: Mapping[str, int],
    changes: Mapping[str, Identity],
    stored: Mapping[str, Stored],
    holders: Mapping[Claim, str],
    offered_by_name: Iterable[str],
) -> list[Group]:
    """The groups of writes that apply `changes`, or Unprocessable naming each item that would push to an
    offer another SKU is pushed to.

    `position`: each SKU's index in the request; `holders`: the claims read (`claims_to_read`), whoever
    holds them; `offered_by_name`: SKUs of the channel pushed under their own name after the request."""
    after: dict[Claim, str | None] = dict(holders)
    for sku in changes:  # claims given up first: SKUs of one request may hand them to each other
        if sku in stored:
            for claim in stored[sku].identity.claims(sku):
                if after.get(claim) == sku:
                    after[claim] = None
    problems: list[Problem] = []
    by_name = set(offered_by_name)
    for sku, identity in changes.items():
        n = position[sku]
        for claim in identity.claims(sku):
            holder = after.get(claim)
            where = "offer_id" if claim[0] == "offer" else "chrtId"
            if holder not in (None, sku):
                problems.append(
                    Problem(("items", n, where), f"{where} {claim[1]!r} is SKU {holder!r}'s on this channel")
                )
            elif claim[0] == "offer" and claim[1] != sku and claim[1] in by_name:
                problems.append(
                    Problem(
                        ("items", n, "offer_id"),
                        f"SKU {claim[1]!r} is offered under that name on this channel: map it to another "
                        "offer_id first",
                    )
                )
            else:
                after[claim] = sku
        if not identity.mapped and after.get(("offer", sku)) not in (None, sku):
            problems.append(
                Problem(
                    ("items", n, "offer_id"),
                    f"the SKU's own name is SKU {after[('offer', sku)]!r}'s offer_id on this channel",
                )
            )
    if problems:
        raise Unprocessable("an offer id would be pushed for two SKUs", sorted(problems, key=lambda p: p.field))
    return _groups(changes, stored, holders, after)


def _groups(
    changes: Mapping[str, Identity],
    stored: Mapping[str, Stored],
    holders: Mapping[Claim, str],
    after: Mapping[Claim, str | None],
) -> list[Group]:
    parent = {sku: sku for sku in changes}

    def root(sku: str) -> str:
        while parent[sku] != sku:
            parent[sku] = parent[parent[sku]]
            sku = parent[sku]
        return sku

    moves = [
        ClaimMove(claim, holders.get(claim), holder) for claim, holder in after.items() if holder != holders.get(claim)
    ]
    for move in moves:
        if move.held_by is not None and move.holder is not None:
            parent[root(move.held_by)] = root(move.holder)
    groups: dict[str, Group] = {}
    for sku, identity in changes.items():
        revision = stored[sku].revision if sku in stored else None
        groups.setdefault(root(sku), Group()).mappings.append(MappingMove(sku, identity, revision))
    for move in moves:
        groups[root(move.holder or move.held_by or "")].claims.append(move)
    return list(groups.values())


def batches(groups: Iterable[Group], limit: int) -> list[list[Group]]:
    """Groups packed into writes of at most `limit` items; a group is never split (Unprocessable if one
    is larger than a write takes)."""
    packed: list[list[Group]] = []
    size = limit
    for group in groups:
        if group.size() > limit:
            raise Unprocessable(
                "too many SKUs hand their offer ids to each other in one cycle",
                [Problem(("items",), f"at most {limit // 4} SKUs may exchange offer ids in a cycle")],
            )
        if size + group.size() > limit:
            packed.append([])
            size = 0
        packed[-1].append(group)
        size += group.size()
    return packed
