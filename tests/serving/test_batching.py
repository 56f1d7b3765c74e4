"""Adaptive batching of /score_deals: grouping rules, failure isolation, and concurrent requests over HTTP."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from cvre.serving.batching import DealBatcher, DealJob, Overloaded, plan
from cvre.serving.config import BatchingConfig
from cvre.serving.schemas import DealIn, DealScore
from tests.serving.conftest import deal

AS_OF = "2024-12-31T00:00:00"
T1, T2 = pd.Timestamp("2024-12-31"), pd.Timestamp("2025-01-31")


def jobs(*ids: str, as_of=T1, lead: bool = True) -> list[DealJob]:
    return [DealJob(DealIn.model_validate(deal(i) if lead else deal(i, lead=None)), as_of) for i in ids]


def test_plan_groups_requests_by_time_and_distinct_ids():
    batches = [jobs("A"), jobs("B"), jobs("A"), jobs("C", as_of=T2), jobs("D", as_of=None), jobs("E", as_of=None)]
    assert plan(batches) == [[0, 1], [2], [3], [4, 5]]


def test_plan_separates_requests_sharing_a_lead():
    shared = {"lead_id": "L-1", "created_at": "2024-09-01T00:00:00"}
    batches = [[DealJob(DealIn.model_validate(deal(oid, lead=shared)), T1)] for oid in ("A", "B")]
    assert plan(batches) == [[0], [1]]


def fake_score(calls: list[int]):
    def score(deals: list[DealIn], as_of: pd.Timestamp) -> list[DealScore]:
        calls.append(len(deals))
        if any(d.opportunity_id == "BAD" for d in deals):
            raise ValueError("cannot score BAD")
        return [DealScore(opportunity_id=d.opportunity_id, win_probability=0.5, grade="B", expected_amount=1.0,
                          amount_p10=None, amount_p90=None, expected_value=as_of.month, reasons_up=[],
                          reasons_down=[], warnings=[], model_versions={}) for d in deals]
    return score


def test_a_failing_request_does_not_fail_its_batch():
    batcher = DealBatcher(fake_score([]), BatchingConfig(), now=lambda: T2)
    out = batcher.score_batches([jobs("A", "B"), jobs("BAD"), jobs("C", as_of=None)])
    assert [s.opportunity_id for s in out[0]] == ["A", "B"] and isinstance(out[1], ValueError)
    assert out[2][0].expected_value == T2.month  # no as_of: scored at the batch's now


def test_dispatcher_batches_concurrent_requests():
    calls: list[int] = []
    score = fake_score(calls)

    def slow(deals, as_of):
        import time

        time.sleep(0.01)
        return score(deals, as_of)

    async def main():
        batcher = DealBatcher(slow, BatchingConfig(max_batch_size=50, max_latency_ms=5000), now=lambda: T1)
        return await asyncio.gather(*(batcher(jobs(f"D{i}")) for i in range(60)))

    results = asyncio.run(main())
    assert [r[0].opportunity_id for r in results] == [f"D{i}" for i in range(60)]
    assert sum(calls) == 60 and max(calls) > 1  # some requests were scored together


def test_a_lone_request_is_scored_at_once():
    calls: list[int] = []

    async def main():
        batcher = DealBatcher(fake_score(calls), BatchingConfig(max_latency_ms=10_000), now=lambda: T1)
        start = asyncio.get_running_loop().time()
        await batcher(jobs("A"))
        return asyncio.get_running_loop().time() - start

    assert asyncio.run(main()) < 0.2 and calls == [1]  # not held back to wait for a batch to fill


def test_requests_queued_past_the_latency_limit_get_503():
    def slow(deals, as_of):
        import time

        time.sleep(0.05)
        return fake_score([])(deals, as_of)

    async def main():
        batcher = DealBatcher(slow, BatchingConfig(max_batch_size=1, max_latency_ms=20), now=lambda: T1)
        return await asyncio.gather(*(batcher(jobs(f"D{i}")) for i in range(3)), return_exceptions=True)

    first, *rest = asyncio.run(main())
    assert first[0].opportunity_id == "D0"
    assert all(isinstance(r, Overloaded) and "max_latency_ms" in str(r) for r in rest)


@pytest.mark.slow
def test_concurrent_single_deal_requests_match_one_by_one(client):
    bodies = [deal("C-1"), deal("C-2", amount=None, activities=[]), deal("C-3", product="unseen product"),
              deal("C-1", amount=99_000.0, stage="negotiation"), deal("C-4", lead=None, business_type=None),
              deal("C-5", stage_history=[], close_date_changes=[{
                  "changed_at": "2024-11-01T00:00:00", "new_expected_close_date": "2025-02-01T00:00:00"}])] * 4

    def post(body):
        response = client.post("/score_deals", json={"deals": [body], "as_of": AS_OF})
        assert response.status_code == 200, response.text
        return response.json()[0]

    alone = [post(body) for body in bodies[:6]]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(post, bodies))
    for i, score in enumerate(together):
        expected = alone[i % 6]
        assert score["opportunity_id"] == expected["opportunity_id"]
        assert score["win_probability"] == pytest.approx(expected["win_probability"], abs=1e-9)
        assert score["expected_value"] == pytest.approx(expected["expected_value"], abs=1e-6)
        assert score["warnings"] == expected["warnings"] and score["reasons_up"] == expected["reasons_up"]
    assert alone[0]["expected_value"] != alone[3]["expected_value"]  # same id, different deals: kept apart


@pytest.mark.slow
@pytest.mark.parametrize(("deals", "field"), [
    ([deal("X"), deal("X", amount=1.0)], "opportunity_id"),
    ([deal("X"), deal("Y", lead={"lead_id": "L-X", "created_at": "2024-09-01T00:00:00"})], "lead_id"),
])
def test_a_deal_or_lead_named_twice_in_one_request_is_a_400(client, deals, field):
    response = client.post("/score_deals", json={"deals": deals, "as_of": AS_OF})
    assert response.status_code == 400 and field in response.text and "twice" in response.text


@pytest.mark.slow
def test_a_body_that_is_not_json_is_a_415(client):
    response = client.post("/score_deals", content=b"{}", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 415 and "application/json" in response.text
