"""Adaptive batching of /score_deals: the deals of concurrent requests are scored in one pass.

Natural batching: a request that finds the scorer idle is scored at once; requests that arrive while a batch is
being scored wait for it to finish and then go together. Batches grow with the load and a lone request never
waits for others. BentoML's CORK dispatcher (behind `@bentoml.api(batchable=True)`) was used before: it holds
requests back for about the average wait it has seen, which cost a lone request ~20 ms
(docs/serving-performance.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
from bentoml.exceptions import ServiceUnavailable
from starlette.concurrency import run_in_threadpool

from cvre.serving.config import BatchingConfig
from cvre.serving.gc_pause import collector_paused
from cvre.serving.schemas import DealIn

log = logging.getLogger(__name__)
ScoreFn = Callable[[list[DealIn], pd.Timestamp], list[dict]]  # a result per deal (`scoring.score_deals`)


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


class Overloaded(ServiceUnavailable):
    """503: the request waited in the queue longer than batching.max_latency_ms."""


class DealBatcher:
    """Queues each request's deals; whenever the scorer is free, everything queued (up to `max_batch_size` deals)
    is scored in one pass by `score_batches`, in a worker thread."""

    def __init__(self, score: ScoreFn, cfg: BatchingConfig, now: Callable[[], pd.Timestamp]):
        self.score, self.now, self.cfg = score, now, cfg
        self._queue: deque[tuple[float, list[DealJob], asyncio.Future]] = deque()
        self._drainer: asyncio.Task | None = None  # held: the event loop keeps only weak references to tasks

    async def __call__(self, jobs: list[DealJob]) -> list[dict]:
        if not self.cfg.enabled:
            (scores,) = await run_in_threadpool(self.score_paused, [jobs])
        else:
            future = asyncio.get_running_loop().create_future()
            self._queue.append((time.monotonic(), jobs, future))
            if self._drainer is None:
                self._drainer = asyncio.get_running_loop().create_task(self._drain())
            scores = await future
        if isinstance(scores, Exception):
            raise scores
        return scores

    def _next_batch(self) -> list[tuple[list[DealJob], asyncio.Future]]:
        """Queued requests up to max_batch_size deals (at least one request); those waiting too long get 503."""
        batch, size, limit = [], 0, time.monotonic() - self.cfg.max_latency_ms / 1000
        while self._queue and (not batch or size + len(self._queue[0][1]) <= self.cfg.max_batch_size):
            queued, jobs, future = self._queue.popleft()
            if queued < limit:
                if not future.done():  # done: its request was cancelled
                        future.set_result(Overloaded("the scoring queue is over its latency limit "
                                                 "(batching.max_latency_ms); retry later"))
                continue
            batch.append((jobs, future))
            size += len(jobs)
        return batch

    async def _drain(self) -> None:
        try:
            while batch := self._next_batch():
                try:
                    results = await run_in_threadpool(self.score_paused, [jobs for jobs, _ in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every waiting request, as a 500
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._drainer = None

    def score_paused(self, batches: Sequence[list[DealJob]]) -> list[list[dict] | Exception]:
        """`score_batches` with the garbage collector paused (`gc_pause`)."""
        with collector_paused():
            return self.score_batches(batches)

    def score_batches(self, batches: Sequence[list[DealJob]]) -> list[list[dict] | Exception]:
        """Scores per request; a group that fails is retried request by request, so one failure stays its own."""
        now = self.now()
        out: list[list[dict] | Exception] = [[] for _ in batches]
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
