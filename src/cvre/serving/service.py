"""The BentoML scoring API: `bentoml serve cvre.serving.service:CvreScoring` (or `cvre serve`)."""

from __future__ import annotations

import gc
import logging
import os
from datetime import datetime
from functools import cache
from http import HTTPStatus
from pathlib import Path

import bentoml
import mlflow
import msgspec
import pandas as pd
from _bentoml_impl.serde import JSONSerde
from bentoml.exceptions import BentoMLException
from pydantic import ConfigDict, Field
from starlette.responses import JSONResponse, Response

from cvre.core.config import load_config
from cvre.core.rules import load_rules
from cvre.serving.auth import ApiKeyMiddleware
from cvre.serving.batching import DealBatcher, DealJob
from cvre.serving.client_scoring import ClientInputError, score_clients
from cvre.serving.config import ServingConfig
from cvre.serving.content_type import JsonBodiesOnly
from cvre.serving.errors import ErrorBodies, quiet_client_errors
from cvre.serving.fast_payload import fast_decode
from cvre.serving.http_guards import BodyLimit, RequestMetrics, RouteMetrics, ServiceRoutes
from cvre.serving.models import ModelHolder
from cvre.serving.schemas import (
    ClientIn,
    ClientScore,
    CustomerIn,
    DealIn,
    DealList,
    DealResult,
    OptionalMoment,
)
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


@cache
def _config() -> ServingConfig:
    """serving.yaml (or $CVRE_SERVING_CONFIG), read once per process, when first needed (never at import)."""
    path = os.environ.get(CONFIG_ENV)
    return load_config(ServingConfig, Path(path) if path else None, "serving.yaml")


_service: list[CvreScoring] = []  # the worker's service instance, for the middlewares' /readyz


def _readiness() -> tuple[bool, dict] | None:
    return (_service[0].holder.ready, _service[0].holder.status()) if _service else None


@cache
def _request_metrics() -> RequestMetrics:
    return RequestMetrics()


def _routes() -> set[str]:
    return {*(f"/{name}" for name in ("score_deals", "score_clients", "reload", "models")),
            "/livez", "/readyz", "/healthz", "/", "/docs", "/docs.json", "/schema.json"}


def _unavailable(message: str) -> JSONResponse:
    """A 503 as a response, not an exception: BentoML hides the message of every 5xx error it raises."""
    return JSONResponse({"error": message}, status_code=HTTPStatus.SERVICE_UNAVAILABLE)


_ENCODER = msgspec.json.Encoder()


def _json(results: list[dict]) -> Response:
    """Results (dicts in the response models' field order) as the JSON BentoML would write for them, without its
    spaces: building and dumping a pydantic object per deal, reason and warning cost more than scoring a 1,000-deal
    batch, and msgspec writes the dicts ~4x faster than `json.dumps` (docs/performance.md)."""
    return Response(_ENCODER.encode(results), media_type="application/json")


class ScoreDealsInput(bentoml.IODescriptor):
    """The /score_deals body; an unknown top-level key is a 400, as inside a deal."""

    model_config = ConfigDict(extra="forbid")
    deals: DealList
    as_of: OptionalMoment = None

    @classmethod
    async def from_http_request(cls, request, serde) -> ScoreDealsInput:
        """The body through the fast pass (`fast_payload`: msgspec twins of these models, ~5x faster on large
        batches); a body it cannot vouch for is validated by pydantic, as BentoML does, errors worded as ever."""
        if isinstance(serde, JSONSerde) and (fast := fast_decode(await request.body(), cls)) is not None:
            return cls.model_construct(deals=fast.deals, as_of=fast.as_of)
        return await super().from_http_request(request, serde)


class ScoreClientsInput(bentoml.IODescriptor):
    """The /score_clients body; an unknown top-level key is a 400, as inside a client."""

    model_config = ConfigDict(extra="forbid")
    clients: list[ClientIn] = Field(default_factory=list, description="clients with their purchases (a churn "
                                    "model trained on transactions)")
    customers: list[CustomerIn] = Field(default_factory=list, description="per-customer rows (a churn model "
                                        "trained on a customer table with its own churn label)")
    as_of: OptionalMoment = None


@bentoml.service(name="cvre-scoring", traffic={"timeout": 60}, metrics={"enabled": False})
class CvreScoring:
    """Win probability, expected amount and value, reasons and behaviour warnings for open deals."""

    def __init__(self) -> None:
        quiet_client_errors()
        self.cfg = _config()
        mlflow.set_tracking_uri(tracking_uri(TrackingConfig(tracking_uri=self.cfg.tracking_uri)))
        self.rules = load_rules(self.cfg.leakage_config)  # the leakage report's rules: one definition for both
        self.holder = ModelHolder(self.cfg)  # never raises: a model that fails is reported by /readyz and /models
        self._settle()
        self.scoring_log = ScoringLog(self.cfg.scoring_log_dir, self.cfg.scoring_log_max_files)
        self.batcher = DealBatcher(self._score_deals, self.cfg.batching, now=lambda: _snapshot(None))
        if not os.environ.get(self.cfg.api_key_env):
            log.warning("no API key: $%s is not set, so requests are not authenticated", self.cfg.api_key_env)
        _service[:] = [self]
        log.info("serving %s", self.holder.status())

    def _settle(self) -> None:
        """Index the win model's reference for scoring now, then take everything loaded (models, that index,
        libraries: ~500k objects) out of the garbage collector's full passes: each pass over them stopped every
        request for 0.1-0.8 s, a few times a minute under load (docs/performance.md)."""
        if self.holder.models is not None:
            try:
                self.holder.models.history.snapshot(_snapshot(None))
            except Exception as exc:  # noqa: BLE001 - the first request reports it, as before
                log.warning("could not index the model's reference at start: %s: %s", type(exc).__name__, exc)
        gc.unfreeze()  # a reload: the models it replaced can be collected
        gc.collect()
        gc.freeze()

    def __is_ready__(self) -> bool:
        return self.holder.ready

    def _score_deals(self, deals: list[DealIn], as_of: pd.Timestamp) -> list[dict]:
        return score_deals(deals, self.holder.models, as_of, self.rules, log=self.scoring_log)

    @bentoml.api(route="/score_deals", input_spec=ScoreDealsInput)
    async def score_deals(self, deals: DealList, as_of: OptionalMoment = None) -> list[DealResult]:
        """Score one or many open deals given in the canonical CRM form (deal, stage history, activities).

        One result per deal, in request order: `status: scored` with the score, or `status: error` with why that
        deal could not be scored (e.g. created after `as_of`); one deal's error never fails the others."""
        if len(deals) > self.cfg.max_batch_size:
            raise BatchTooLarge(f"{len(deals)} deals in one request; the limit is {self.cfg.max_batch_size}")
        if self.holder.models is None:
            return _unavailable(f"no win model in service: {self.holder.status()[self.cfg.win_model]['error']}; "
                                "train or promote one, then POST /reload")
        if not deals:
            return []
        stamp = _snapshot(as_of) if as_of else None  # None: now, when the batch is scored
        return _json(await self.batcher([DealJob(deal, stamp) for deal in deals]))

    @bentoml.api(route="/score_clients", input_spec=ScoreClientsInput)
    def score_clients(self, clients: list[ClientIn] | None = None, customers: list[CustomerIn] | None = None,
                      as_of: OptionalMoment = None) -> list[ClientScore]:
        """Churn probability, risk band and reasons for one or many clients, in the shape the churn model was
        trained on: `clients` in the canonical CRM form (purchases, support chats, campaign messages, optionally
        deals and jobs), or `customers`, one row per customer of a per-customer export (its fields and `x_`
        columns). Sending the other shape is a 400 that says which one to send."""
        clients, customers = clients or [], customers or []
        if len(clients) + len(customers) > self.cfg.max_batch_size:
            raise BatchTooLarge(f"{len(clients) + len(customers)} clients in one request; the limit is "
                                f"{self.cfg.max_batch_size}")
        models = self.holder.clients
        if models is None:
            return _unavailable(f"no churn model in service: {self.cfg.churn_model}@{self.cfg.alias} "
                                f"{self.holder.status()[self.cfg.churn_model]['state']}; train one (`cvre train "
                                "churn`) or promote one (`cvre models promote`), then POST /reload")
        if not clients and not customers:
            return []
        try:
            return score_clients(clients, models, _snapshot(as_of), log=self.scoring_log, customers=customers)
        except ClientInputError as exc:
            raise BadClients(str(exc)) from None

    @bentoml.api(route="/reload")
    def reload(self) -> dict:
        """Load the current champions model by model; a model that fails keeps its old version in service.
        200 when every model that exists loaded, 503 (with each model's state) when any failed."""
        result = self.holder.reload()
        self._settle()
        return result if result["reloaded"] else JSONResponse(result, status_code=HTTPStatus.SERVICE_UNAVAILABLE)

    @bentoml.api(route="/models")
    def models(self) -> dict:
        """The model versions in service, each model's state, and the last reload error, if any."""
        return {"serving": self.holder.versions, "models": self.holder.status(),
                "last_reload_error": self.holder.last_error}


# BentoML derives a list or dict output's media type from its JSON schema on every response, and pydantic rebuilds the
# schema each time: ~40% of a single-deal request's CPU (py-spy, docs/performance.md). Every answer here is JSON.
for _api in CvreScoring.apis.values():
    _api.output_spec.media_type = "application/json"

# Outermost first: metrics count everything (by route template), the key guards all but probes and docs, a body over
# the limit is refused before it is parsed, then content type, the error shape and the service's own routes
# (/readyz per model, /metrics behind the key, /docs).
CvreScoring.add_asgi_middleware(RouteMetrics, routes=_routes, metrics=_request_metrics)
CvreScoring.add_asgi_middleware(ApiKeyMiddleware, env_var=lambda: _config().api_key_env)
CvreScoring.add_asgi_middleware(BodyLimit, max_bytes=lambda: _config().max_body_bytes)
CvreScoring.add_asgi_middleware(JsonBodiesOnly)
CvreScoring.add_asgi_middleware(ErrorBodies)
CvreScoring.add_asgi_middleware(ServiceRoutes, status=_readiness, metrics=_request_metrics)
