"""The BentoML scoring API: `bentoml serve serving.service:CvreScoring` (or `cvre serve`)."""

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

from core.config import load_config
from serving.auth import ApiKeyMiddleware
from serving.config import ServingConfig
from serving.models import ModelHolder
from serving.schemas import DealIn, DealScore
from serving.scoring import score_deals
from training.config import TrackingConfig
from training.tracking import tracking_uri

log = logging.getLogger("cvre.serving")
CONFIG_ENV = "CVRE_SERVING_CONFIG"


class BatchTooLarge(BentoMLException):
    error_code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


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
        log.info("serving %s", self.holder.models.versions)

    @bentoml.api(route="/score_deals")
    def score_deals(self, deals: list[DealIn], as_of: datetime | None = None) -> list[DealScore]:
        """Score one or many open deals given in the canonical CRM form (deal, stage history, activities)."""
        if len(deals) > self.cfg.max_batch_size:
            raise BatchTooLarge(f"{len(deals)} deals in one request; the limit is {self.cfg.max_batch_size}")
        if not deals:
            return []
        snapshot = pd.Timestamp(as_of) if as_of else pd.Timestamp.now(tz="UTC").tz_localize(None)
        return score_deals(deals, self.holder.models, snapshot, self.cfg.deals, self.cfg.rules)

    @bentoml.api(route="/reload")
    def reload(self) -> dict:
        """Load the current champions; on failure keep serving the old ones and say why."""
        return self.holder.reload()

    @bentoml.api(route="/models")
    def models(self) -> dict:
        """The model versions in service and the last reload error, if any."""
        return {"serving": self.holder.models.versions, "last_reload_error": self.holder.last_error}


CvreScoring.add_asgi_middleware(ApiKeyMiddleware, env_var=os.environ.get("CVRE_API_KEY_ENV", "CVRE_API_KEY"))
