"""The fast pass over /score_deals bodies never accepts what pydantic refuses; what it accepts reads as in pydantic."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import msgspec
import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from cvre.serving.fast_payload import Unsupported, fast_decode, twin
from cvre.serving.service import ScoreDealsInput

DEAL = {
    "opportunity_id": "OPP-1", "account_id": "ACC-1", "owner_id": "REP-1", "product": "Growth", "business_type": "new",
    "created_at": "2024-10-09T00:00:00", "stage": "negotiation", "amount": 1200.5,
    "expected_close_date": "2025-02-18T00:00:00",
    "stage_history": [{"stage": "prospecting", "entered_at": "2024-10-09T00:00:00"},
                      {"stage": "negotiation", "entered_at": "2024-10-30T12:30:00"}],
    "activities": [{"activity_type": "email", "occurred_at": "2024-10-14T04:00:00", "logged": False},
                   {"activity_type": "meeting", "occurred_at": "2024-11-09T14:00:00"}],
    "lead": {"lead_id": "L-1", "source": "web", "created_at": "2024-10-06T00:00:00",
             "first_response_at": "2024-10-07T00:00:00"},
    "close_date_changes": [{"changed_at": "2024-11-01T00:00:00", "old_expected_close_date": None,
                            "new_expected_close_date": "2025-02-18T00:00:00"}],
}


def body(*deals: dict, **top) -> dict:
    return {"deals": list(deals), "as_of": "2025-01-15T00:00:00"} | top


def plain(value):
    """A decoded body as plain data, from pydantic models or msgspec structs alike."""
    if isinstance(value, BaseModel):
        return {k: plain(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, msgspec.Struct):
        return {k: plain(getattr(value, k)) for k in value.__struct_fields__}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def changed(path: tuple, value) -> dict:
    """The valid body with the value at `path` (keys and list positions from the top) replaced; DROP removes it."""
    out = body(copy.deepcopy(DEAL), copy.deepcopy(DEAL) | {"opportunity_id": "OPP-2", "lead": None})
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is DROP:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


DROP = object()
D = ("deals", 0)
MUTATIONS = [
    (D + ("created_at",), "2024-10-09T00:00:00+02:00"),  # an offset: pydantic converts it, the fast pass declines
    (D + ("created_at",), "2024-10-09"),  # a date alone
    (D + ("created_at",), "1899-12-31T23:59:59"), (D + ("created_at",), "1900-01-01T00:00:00"),
    (D + ("created_at",), "2199-12-31T23:00:00"), (D + ("created_at",), "2200-01-01T00:00:00"),
    (D + ("created_at",), 1_700_000_000), (D + ("created_at",), None), (D + ("created_at",), DROP),
    (D + ("activities", 1, "occurred_at"), "2300-01-01T00:00:00"),
    (D + ("activities", 0, "logged"), 1), (D + ("activities", 0, "logged"), "true"),
    (D + ("activities", 0, "activity_type"), "fax"), (D + ("activities", 0, "colour"), "red"),
    (D + ("stage",), "closed_won"), (D + ("stage",), "Negotiation"), (D + ("business_type",), None),
    (D + ("amount",), -1), (D + ("amount",), "12.5"), (D + ("amount",), 2e12), (D + ("amount",), 0),
    (D + ("amount",), True),
    (D + ("opportunity_id",), ""), (D + ("opportunity_id",), "x" * 201), (D + ("opportunity_id",), 7),
    (D + ("opportunity_id",), "OPP-2"),  # the same id twice in one request
    (D + ("lead", "lead_id"), "L-1"), (D + ("lead",), None), (D + ("lead", "first_response_at"), None),
    (D + ("lead", "created_at"), DROP), (D + ("lead",), "L-1"),
    (D + ("stage_history",), [{"stage": "proposal", "entered_at": "2024-10-09T00:00:00"}] * 201),
    (D + ("stage_history",), None), (D + ("close_date_changes", 0, "new_expected_close_date"), None),
    (D + ("product",), None), (D + ("account_id",), "a" * 200), (D + ("account_id",), "a" * 201),
    (D + ("extra",), 1), (("as_of",), None), (("as_of",), DROP), (("as_of",), "2025-01-15T00:00:00Z"),
    (("as_of",), "soon"), (("deals",), []), (("deals",), {}), (("colour",), "red"),
]


def test_a_valid_body_reads_as_pydantic_reads_it():
    raw = json.dumps(body(DEAL)).encode()
    fast = fast_decode(raw, ScoreDealsInput)
    assert fast is not None, "the fast pass declined a plain valid body"
    assert plain(fast) == plain(ScoreDealsInput.model_validate_json(raw))


@pytest.mark.parametrize(("path", "value"), MUTATIONS, ids=[f"{'.'.join(map(str, p))}={str(v)[:12]}"
                                                             for p, v in MUTATIONS])
def test_never_accepts_what_pydantic_refuses(path, value):
    raw = json.dumps(changed(path, value)).encode()
    fast = fast_decode(raw, ScoreDealsInput)
    try:
        expected = ScoreDealsInput.model_validate_json(raw)
    except ValidationError:
        assert fast is None, "the fast pass accepted a body pydantic refuses"
        return
    if fast is not None:
        assert plain(fast) == plain(expected)


def test_the_mutations_reach_both_outcomes():
    """The mutation list is not all refusals: the fast pass takes some changed bodies and declines others."""
    outcomes = {fast_decode(json.dumps(changed(p, v)).encode(), ScoreDealsInput) is None for p, v in MUTATIONS}
    assert outcomes == {True, False}


def test_malformed_json_is_declined():
    assert fast_decode(b'{"deals": [', ScoreDealsInput) is None
    assert fast_decode(b"", ScoreDealsInput) is None


def test_a_model_it_cannot_mirror_is_refused_at_build_time():
    class Loose(BaseModel):
        name: str

    class Mapped(BaseModel):
        model_config = ConfigDict(extra="forbid")
        tags: dict[str, str]

    for model in (Loose, Mapped):
        with pytest.raises(Unsupported):
            twin(model)


def test_times_are_naive():
    fast = fast_decode(json.dumps(body(DEAL)).encode(), ScoreDealsInput)
    assert fast.deals[0].created_at == datetime(2024, 10, 9)
    assert fast.deals[0].created_at.tzinfo is None


def test_a_key_given_twice_is_never_read_otherwise_than_pydantic_reads_it():
    raw = json.dumps(body(DEAL))
    for first, last in ((100, -5), (-5, 100)):
        twice = raw.replace('"amount": 1200.5', f'"amount": {first}, "amount": {last}').encode()
        fast = fast_decode(twice, ScoreDealsInput)
        try:
            expected = ScoreDealsInput.model_validate_json(twice)
        except ValidationError:
            assert fast is None
            continue
        assert fast is None or plain(fast) == plain(expected)
