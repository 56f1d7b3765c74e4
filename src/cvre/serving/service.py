"""The BentoML scoring API: `bentoml serve cvre.serving.service:CvreScoring` (or `cvre serve`)."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from http import HTTPStatus
from pathlib import Path

import bentoml
import mlflow
import pandas as pd
from bentoml.exceptions import BentoMLException
from starlette.responses import JSONResponse

from cvre.core.config import load_config
from cvre.serving.auth import ApiKeyMiddleware
from cvre.serving.batching import DealBatcher, DealJob
from cvre.serving.client_scoring import ClientInputError, score_clients
from cvre.serving.config import ServingConfig
from cvre.serving.content_type import JsonBodiesOnly
from cvre.serving.models import ModelHolder
from cvre.serving.schemas import ClientIn, ClientScore, DealIn, DealList, DealScore, Moment
from cvre.serving.scoring import score_deals
from cvre.serving.scoring_log import ScoringLog
from cvre.training.config import TrackingConfig
from cvre.training.tracking import tracking_uri

log = logging.getLogger("cvre.serving")
CONFIG_ENV = "CVRE_SERVING_CONFIG"


class BatchTooLarge(BentoMLException):
    error_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class BadClients(BentoMLException):
    error_code = HTTPStatus.BAD_REQUEST


def _snapshot(as_of: datetime | None) -> pd.Timestamp:
    """The scoring time as naive UTC, like every table: `as_of` or now."""
    stamp = pd.Timestamp(as_of) if as_of else pd.Timestamp.now(tz="UTC")
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def _config() -> ServingConfig:
    path = os.environ.get(CONFIG_ENV)
    return load_config(ServingConfig, Path(path) if path else None, "serving.yaml")


@bentoml.service(name="cvre-scoring", traffic={"timeout": 60})
class CvreScoring:
    """Win probability, expected amount and value, reasons and behaviour warnings for open deals."""

    def __init__(self) -> None:
        self.cfg = _config()
        mlflow.set_tracking_uri(tracking_uri(TrackingConfig(tracking_uri=self.cfg.tracking_uri)))
        self.holder = ModelHolder(self.cfg)  # raises if no champion: the service never becomes ready
        self.scoring_log = ScoringLog(self.cfg.scoring_log_dir, self.cfg.scoring_log_max_files)
        self.batcher = DealBatcher(self._score_deals, self.cfg.batching, now=lambda: _snapshot(None))
        log.info("serving %s", self.holder.versions)

    def _score_deals(self, deals: list[DealIn], as_of: pd.Timestamp) -> list[DealScore]:
        return score_deals(deals, self.holder.models, as_of, self.cfg.deals, self.cfg.rules, log=self.scoring_log)

    @bentoml.api(route="/score_deals")
    async def score_deals(self, deals: DealList, as_of: datetime | None = None) -> list[DealScore]:
        """Score one or many open deals given in the canonical CRM form (deal, stage history, activities)."""
        if len(deals) > self.cfg.max_batch_size:
            raise BatchTooLarge(f"{len(deals)} deals in one request; the limit is {self.cfg.max_batch_size}")
        if not deals:
            return []
        stamp = _snapshot(as_of) if as_of else None  # None: now, when the batch is scored
        return await self.batcher([DealJob(deal, stamp) for deal in deals])

    @bentoml.api(route="/score_clients")
    def score_clients(self, clients: list[ClientIn], as_of: Moment | None = None) -> list[ClientScore]:
        """Churn probability, risk band and reasons for one or many clients in the canonical CRM form
        (purchases, support chats, campaign messages, optionally deals and jobs)."""
        if len(clients) > self.cfg.max_batch_size:
            raise BatchTooLarge(f"{len(clients)} clients in one request; the limit is {self.cfg.max_batch_size}")
        models = self.holder.clients
        if models is None:  # a response, not an exception: BentoML hides the message of every 5xx error
            message = (f"no churn model in service: no {self.cfg.churn_model}@{self.cfg.alias} when the models "
                       "were loaded; train one (`cvre train churn`) or promote one (`cvre models promote`), "
                       "then POST /reload")
            return JSONResponse({"error": message}, status_code=HTTPStatus.SERVICE_UNAVAILABLE)
        if not clients:
            return []
        try:
            return score_clients(clients, models, _snapshot(as_of), log=self.scoring_log)
        except ClientInputError as exc:
            raise BadClients(str(exc)) from None

    @bentoml.api(route="/reload")
    def reload(self) -> dict:
        """Load the current champions; on failure keep serving the old ones and say why."""
        return self.holder.reload()

    @bentoml.api(route="/models")
    def models(self) -> dict:
        """The model versions in service and the last reload error, if any."""
        return {"serving": self.holder.versions, "last_reload_error": self.holder.last_error}


CvreScoring.add_asgi_middleware(ApiKeyMiddleware, env_var=os.environ.get("CVRE_API_KEY_ENV", "CVRE_API_KEY"))
CvreScoring.add_asgi_middleware(JsonBodiesOnly)
