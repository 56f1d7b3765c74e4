"""Adaptive batching of /score_deals: the deals of concurrent requests are scored in one pass.

The dispatcher is BentoML's own CORK dispatcher, the engine behind `@bentoml.api(batchable=True)`, used in
process: a batchable API takes a single argument and fixes its limits when the class is defined, while
/score_deals keeps its public form (deals + as_of), one process holds the models and the scoring log, and the
limits come from serving.yaml when the service starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from bentoml._internal.marshal.dispatcher import CorkDispatcher
from bentoml.exceptions import ServiceUnavailable
from starlette.concurrency import run_in_threadpool

from serving.config import BatchingConfig
from serving.schemas import DealIn, DealScore

log = logging.getLogger(__name__)
ScoreFn = Callable[[list[DealIn], pd.Timestamp], list[DealScore]]


@dataclass(frozen=True)
class DealJob:
    """One deal of a request and the request's scoring time (None: now, when its batch is scored)."""

    deal: DealIn
    as_of: pd.Timestamp | None


def plan(batches: Sequence[Sequence[DealJob]]) -> list[list[int]]:
    """Requests (by index) scored together: one scoring time and no opportunity or lead id twice per group,
    since the feature code joins a deal's history by these ids."""
    groups: list[tuple[pd.Timestamp | None, set[str], set[str], list[int]]] = []
    for i, jobs in enumerate(batches):
        ids = {j.deal.opportunity_id for j in jobs}
        leads = {j.deal.lead.lead_id for j in jobs if j.deal.lead}
        for as_of, seen_ids, seen_leads, members in groups:
            if as_of == jobs[0].as_of and not ids & seen_ids and not leads & seen_leads:
                seen_ids |= ids
                seen_leads |= leads
                members.append(i)
                break
        else:
            groups.append((jobs[0].as_of, ids, leads, [i]))
    return [members for *_, members in groups]


def _overloaded():
    raise ServiceUnavailable("the scoring queue is over its latency limit (batching.max_latency_ms); retry later")


class DealBatcher:
    """Queues each request's deals; BentoML's dispatcher releases them in adaptive batches to `score`."""

    def __init__(self, score: ScoreFn, cfg: BatchingConfig, now: Callable[[], pd.Timestamp]):
        self.score, self.now = score, now
        self._dispatch = CorkDispatcher(cfg.max_latency_ms, cfg.max_batch_size, fallback=_overloaded,
                                        get_batch_size=len)(self.score_batches) if cfg.enabled else None

    async def __call__(self, jobs: list[DealJob]) -> list[DealScore]:
        if self._dispatch is None:
            (scores,) = await run_in_threadpool(self.score_batches, [jobs])
            if isinstance(scores, Exception):
                raise scores
            return scores
        return await self._dispatch(jobs)

    def score_batches(self, batches: Sequence[list[DealJob]]) -> list[list[DealScore] | Exception]:
        """Scores per request; a group that fails is retried request by request, so one failure stays its own."""
        now = self.now()
        out: list[list[DealScore] | Exception] = [[] for _ in batches]
        for group in plan(batches):
            deals = [job.deal for i in group for job in batches[i]]
            try:
                scores = self.score(deals, batches[group[0]][0].as_of or now)
            except Exception as exc:  # reported to its own request by the dispatcher, as a 500
                if len(group) == 1:
                    log.exception("scoring failed")
                    out[group[0]] = exc
                    continue
                for i in group:
                    out[i] = self.score_batches([batches[i]])[0]
                continue
            start = 0
            for i in group:
                out[i], start = scores[start:start + len(batches[i])], start + len(batches[i])
        return out
