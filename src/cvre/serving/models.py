"""Load the champion models from the MLflow registry; a failed reload keeps the models already served."""

from __future__ import annotations

import logging
import threading

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from cvre.serving.client_scoring import ClientModels
from cvre.serving.config import ServingConfig
from cvre.serving.scoring import DealModels

log = logging.getLogger(__name__)


def _load(client: MlflowClient, name: str, alias: str) -> tuple[object, str]:
    version = client.get_model_version_by_alias(name, alias).version
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return model.unwrap_python_model(), str(version)


def load_deal_models(cfg: ServingConfig) -> DealModels:
    """The `alias` versions of the win and amount models (amount optional: EV then uses the deal's amount)."""
    client = MlflowClient()
    win, win_version = _load(client, cfg.win_model, cfg.alias)
    versions = {cfg.win_model: win_version}
    try:
        amount, amount_version = _load(client, cfg.amount_model, cfg.alias)
        versions[cfg.amount_model] = amount_version
    except MlflowException:
        log.warning("no %s@%s: expected amounts fall back to the deal's own amount", cfg.amount_model, cfg.alias)
        amount = None
    return DealModels(win=win, amount=amount, versions=versions, win_version=win_version)


def load_client_models(cfg: ServingConfig) -> ClientModels | None:
    """The `alias` version of the churn model, or None: /score_clients then answers 503, deals still score."""
    try:
        churn, version = _load(MlflowClient(), cfg.churn_model, cfg.alias)
    except MlflowException:
        log.warning("no %s@%s: /score_clients is unavailable until one is promoted and reloaded", cfg.churn_model,
                    cfg.alias)
        return None
    return ClientModels(churn=churn, versions={cfg.churn_model: version}, version=version)


class ModelHolder:
    """The models in service, swapped atomically on reload; a failed reload changes nothing."""

    def __init__(self, cfg: ServingConfig):
        self.cfg = cfg
        self._lock = threading.Lock()
        self.models = load_deal_models(cfg)
        self.clients = load_client_models(cfg)
        self.last_error: str | None = None

    @property
    def versions(self) -> dict[str, str]:
        """Every model in service by registry name: win, amount and churn where there is one."""
        return {**self.models.versions, **(self.clients.versions if self.clients else {})}

    def reload(self) -> dict:
        try:
            fresh, clients = load_deal_models(self.cfg), load_client_models(self.cfg)
        except Exception as exc:  # any failure to load must leave the served models untouched
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("reload failed, still serving %s: %s", self.versions, self.last_error)
            return {"reloaded": False, "serving": self.versions, "error": self.last_error}
        with self._lock:
            previous = self.versions
            self.models, self.clients = fresh, clients
        self.last_error = None
        return {"reloaded": True, "serving": self.versions, "previous": previous}
