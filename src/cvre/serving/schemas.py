"""Request and response schemas of the scoring API: deals and clients in the canonical CRM form."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from types import UnionType
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from cvre.core.rules import AMOUNT_SOURCES
from cvre.core.schema import ACTIVITY_TYPES, BUSINESS_TYPES, OUTCOMES, STAGES, STAGES_OPEN, TIERS

TIME_RANGE = (datetime(1900, 1, 1), datetime(2200, 1, 1))  # pandas' nanosecond times end in 2262


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


# The range is checked by pydantic-core (a 400 naming the field); a Python validator per time field cost ~70% of a
# 1,000-deal request's validation (docs/performance.md), so the conversion to naive UTC is one pass per request item
Moment = Annotated[datetime, Field(ge=TIME_RANGE[0], lt=TIME_RANGE[1])]


def _parts(annotation) -> tuple[bool, list[type[BaseModel]], bool]:
    """Whether a field holds a time, which models it nests, and whether as a list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False, [annotation], False
    if annotation is datetime:
        return True, [], False
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _parts(args[0])
    if origin is list:
        time, models, _ = _parts(args[0])
        return time, models, True
    if origin in (Union, UnionType):
        found = [_parts(a) for a in args if a is not type(None)]
        return any(f[0] for f in found), [m for f in found for m in f[1]], any(f[2] for f in found)
    return False, [], False


@cache
def _time_fields(model: type[BaseModel]) -> tuple[tuple[str, ...], tuple[tuple[str, bool], ...]]:
    """A model's time fields and its fields holding models (name, is a list), read off its annotations once."""
    times, nested = [], []
    for name, info in model.model_fields.items():
        time, models, many = _parts(info.annotation)
        if time:
            times.append(name)
        if models:
            nested.append((name, many))
    return tuple(times), tuple(nested)


def to_naive_utc(item: BaseModel) -> None:
    """Every time of `item` and of the models it nests as naive UTC, in place (after validation)."""
    times, nested = _time_fields(type(item))
    values = item.__dict__
    for name in times:
        value = values[name]
        if value is not None and value.tzinfo is not None:
            values[name] = _naive_utc(value)
    for name, many in nested:
        value = values[name]
        for child in (value if many else () if value is None else (value,)):
            to_naive_utc(child)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Item(Strict):
    """A request's item (a deal, a client): its times and its history's as naive UTC, in one pass."""

    @model_validator(mode="after")
    def _times_in_utc(self):
        to_naive_utc(self)
        return self


class StageEntry(Strict):
    stage: Literal[STAGES]  # type: ignore[valid-type]
    entered_at: Moment


class ActivityIn(Strict):
    activity_type: Literal[ACTIVITY_TYPES]  # type: ignore[valid-type]
    occurred_at: Moment
    logged: bool = True


class LeadIn(Strict):
    lead_id: str = Field(min_length=1, max_length=200)
    source: str | None = Field(None, max_length=200)
    created_at: Moment
    first_response_at: Moment | None = None


class CloseDateChange(Strict):
    changed_at: Moment
    old_expected_close_date: Moment | None = None
    new_expected_close_date: Moment


class DealIn(Item):
    """An open deal with its history, as `cvre import` produces it."""

    opportunity_id: str = Field(min_length=1, max_length=200, examples=["OPP-1"])
    account_id: str | None = Field(None, max_length=200)
    owner_id: str | None = Field(None, max_length=200)
    product: str | None = Field(None, max_length=200)
    business_type: Literal[BUSINESS_TYPES] | None = None  # type: ignore[valid-type]
    created_at: Moment
    stage: Literal[STAGES_OPEN]  # type: ignore[valid-type]
    amount: float | None = Field(None, ge=0, le=1e12)
    expected_close_date: Moment | None = None
    stage_history: list[StageEntry] = Field(default_factory=list, max_length=200)
    activities: list[ActivityIn] = Field(default_factory=list, max_length=20_000)
    lead: LeadIn | None = None
    close_date_changes: list[CloseDateChange] = Field(default_factory=list, max_length=200)


def _distinct_deals(deals: list[DealIn]) -> list[DealIn]:
    """A request names each deal and lead once: their histories are joined by these ids."""
    for label, ids in (("opportunity_id", [(i, d.opportunity_id) for i, d in enumerate(deals)]),
                       ("lead.lead_id", [(i, d.lead.lead_id) for i, d in enumerate(deals) if d.lead])):
        first: dict[str, int] = {}
        for i, value in ids:
            if value in first:
                raise ValueError(f"{label} {value!r} appears twice (deals {first[value]} and {i}); send each once")
            first[value] = i
    return deals


DealList = Annotated[list[DealIn], AfterValidator(_distinct_deals)]


class Reason(BaseModel):
    feature: str
    text: str
    points: float


class BehaviourWarning(BaseModel):
    behaviour: str
    text: str
    euros_at_stake: float = Field(description="EV x this behaviour's haircut; overlapping behaviours are not added "
                                  "up: the deal's leaked euros are DealScore.leaked_ev")


class DealScore(BaseModel):
    status: Literal["scored"] = "scored"
    opportunity_id: str
    win_probability: float
    grade: str
    expected_amount: float = Field(description="the amount the deal is valued at: its own, else the median amount "
                                   "of its stage at the model's snapshot (seed 000's rule, as in `cvre leakage`), else "
                                   "(no amount known at all) its product's list price, else 0")
    amount_source: Literal[AMOUNT_SOURCES] = "deal"  # type: ignore[valid-type]
    predicted_amount: float | None = Field(None, description="the amount model's estimate (None without one)")
    amount_p10: float | None
    amount_p90: float | None
    expected_value: float = Field(description="win_probability x expected_amount")
    leaked_ev: float = Field(0.0, description="EV at risk: the EV times the largest haircut among the deal's "
                             "flagged behaviours (never their sum), as in `cvre leakage`")
    primary_behaviour: str | None = Field(None, description="the flagged behaviour leaked_ev comes from")
    reasons_up: list[Reason]
    reasons_down: list[Reason]
    warnings: list[BehaviourWarning]
    model_versions: dict[str, str]
    low_data: bool = Field(False, description="scored by a low_data model (trained below the minimum labelled "
                           "rows): read with care")


class DealError(BaseModel):
    """A deal of the request that could not be scored; the request's other deals are scored all the same."""

    status: Literal["error"] = "error"
    opportunity_id: str
    error: str = Field(description="why, and what to send instead")


DealResult = Annotated[DealScore | DealError, Field(discriminator="status")]
# `as_of: null` means "now", as does leaving it out; the schema says so (BentoML shows only the first type of a union)
OptionalMoment = Annotated[Moment | None, AfterValidator(_naive_utc),
                           WithJsonSchema({"type": "string", "format": "date-time", "nullable": True,
                                           "description": "scoring time; null or left out: now"})]


class TransactionIn(Strict):
    transaction_id: str | None = Field(None, max_length=200)
    occurred_at: Moment
    amount: float = Field(ge=-1e12, le=1e12, description="EUR; negative for a return")
    quantity: float | None = Field(None, ge=-1e9, le=1e9)
    business_category: str | None = Field(None, max_length=200)


class ChatIn(Strict):
    created_at: Moment
    first_response_at: Moment | None = None
    resolved_at: Moment | None = None


class MessageIn(Strict):
    campaign_id: str | None = Field(None, max_length=200)
    sent_at: Moment
    delivered_at: Moment | None = None
    read_at: Moment | None = None
    replied_at: Moment | None = None


class ClientDealIn(Strict):
    """One of the client's deals; the closed ones make its deal history."""

    opportunity_id: str = Field(min_length=1, max_length=200)
    created_at: Moment
    stage: Literal[STAGES]  # type: ignore[valid-type]
    outcome: Literal[OUTCOMES] = "open"  # type: ignore[valid-type]
    amount: float | None = Field(None, ge=0, le=1e12)
    closed_at: Moment | None = None


class JobIn(Strict):
    opened_at: Moment
    placements: int | None = Field(None, ge=0, le=1_000_000)
    fee: float | None = Field(None, ge=0, le=1e12)
    cost: float | None = Field(None, ge=0, le=1e12)
    closed_at: Moment | None = None


class ClientIn(Item):
    """A client with its purchases, support chats and campaign messages (optionally deals and jobs), as
    `cvre import` produces them."""

    account_id: str = Field(min_length=1, max_length=200, examples=["ACC0000001"])
    industry: str | None = Field(None, max_length=200)
    tier: Literal[TIERS] | None = None  # type: ignore[valid-type]
    region: str | None = Field(None, max_length=200)
    transactions: list[TransactionIn] = Field(min_length=1, max_length=100_000)
    chats: list[ChatIn] = Field(default_factory=list, max_length=20_000)
    messages: list[MessageIn] = Field(default_factory=list, max_length=20_000)
    deals: list[ClientDealIn] = Field(default_factory=list, max_length=5_000)
    jobs: list[JobIn] = Field(default_factory=list, max_length=5_000)


EXTRA_PREFIX = "x_"  # the export's own columns, named as the mapping's extra_columns name them
ExtraValue = int | float | bool | str | None


class CustomerIn(BaseModel):
    """One customer as a per-customer export has it (one row per customer, the churn label left out): the
    account's fields plus the export's own `x_` columns, flat, as `cvre import` writes them. For a churn model
    trained on such a table (`accounts.churned`); a 400 names a field the model needs that is missing."""

    # `example` (OpenAPI 3.0), not `examples`: BentoML's schema model refuses the latter and /docs.json fails
    model_config = ConfigDict(extra="allow", json_schema_extra={"example": {
        "account_id": "C-1", "region": "KS", "created_at": None, "x_day_minutes": 265.1, "x_service_calls": 1,
        "x_international_plan": False}})
    account_id: str = Field(min_length=1, max_length=200)
    industry: str | None = Field(None, max_length=200)
    tier: Literal[TIERS] | None = None  # type: ignore[valid-type]
    region: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=200)
    employees: float | None = Field(None, ge=0, le=1e9)
    created_at: Moment | None = None

    @model_validator(mode="after")
    def _export_columns(self) -> CustomerIn:
        to_naive_utc(self)
        for name, value in (self.model_extra or {}).items():
            if not name.startswith(EXTRA_PREFIX):
                raise ValueError(f"{name}: not a customer field; the export's own columns are named "
                                 f"{EXTRA_PREFIX}... as in the mapping's extra_columns")
            if not isinstance(value, ExtraValue) or (isinstance(value, str) and len(value) > 200):
                raise ValueError(f"{name}: expected a number, true/false, text (up to 200 characters) or null")
        return self

    @property
    def export_columns(self) -> dict[str, ExtraValue]:
        return dict(self.model_extra or {})


class ClientScore(BaseModel):
    account_id: str
    churn_probability: float
    risk_band: Literal["very high", "high", "medium", "low"]
    rfm_segment: str | None = Field(description="the client's RFM segment (None for a per-customer churn model: "
                                    "its customers carry no purchases)")
    reasons_up: list[Reason] = Field(description="what raises the churn risk most")
    reasons_down: list[Reason] = Field(description="what lowers it most")
    model_versions: dict[str, str]
    low_data: bool = Field(False, description="scored by a low_data model: read with care")
