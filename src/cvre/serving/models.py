"""Load the champion models from the MLflow registry; a failed reload keeps the models already served."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from cvre.serving.client_scoring import ClientModels
from cvre.serving.config import ServingConfig
from cvre.serving.encoding import PredictThreads
from cvre.serving.scoring import DealModels

log = logging.getLogger(__name__)


LOW_DATA_TAG = "low_data"  # set by training on a model trained below the minimum labelled rows


def _load(client: MlflowClient, name: str, alias: str) -> tuple[object, str]:
    found = client.get_model_version_by_alias(name, alias)
    model = mlflow.pyfunc.load_model(f"models:/{name}/{found.version}").unwrap_python_model()
    model.low_data = found.tags.get(LOW_DATA_TAG) == "true"  # the API marks this model's answers
    return model, str(found.version)


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
    return DealModels(win=win, amount=amount, versions=versions, win_version=win_version, threads=_threads(cfg))


def _threads(cfg: ServingConfig) -> PredictThreads:
    return PredictThreads(cfg.predict_threads, cfg.parallel_from_rows)


def load_client_models(cfg: ServingConfig) -> ClientModels | None:
    """The `alias` version of the churn model, or None: /score_clients then answers 503, deals still score."""
    try:
        churn, version = _load(MlflowClient(), cfg.churn_model, cfg.alias)
    except MlflowException:
        log.warning("no %s@%s: /score_clients is unavailable until one is promoted and reloaded", cfg.churn_model,
                    cfg.alias)
        return None
    return ClientModels(churn=churn, versions={cfg.churn_model: version}, version=version)


@dataclass
class ModelSlot:
    """One model of the service: what is in service and how its last load went."""

    name: str
    required: bool
    model: object | None = None
    version: str | None = None
    state: str = "not loaded"  # loaded | missing (no alias) | failed (alias set, model unreadable)
    error: str | None = None

    def status(self) -> dict:
        return {"state": self.state, "serving": self.version, "required": self.required, "error": self.error}


class ModelHolder:
    """The models in service, loaded and reloaded one by one: a model that fails to load keeps its old version in
    service (or none at start-up) and says why; the others are not held back by it.

    Only the win model is required for /score_deals; amount (expected amounts fall back to the deal's own) and
    churn (/score_clients answers 503 without it) are optional.
    """

    def __init__(self, cfg: ServingConfig):
        self.cfg = cfg
        self._lock = threading.Lock()
        self.slots = {role: ModelSlot(name, role == "win") for role, name in
                      (("win", cfg.win_model), ("amount", cfg.amount_model), ("churn", cfg.churn_model))}
        self.models: DealModels | None = None
        self.clients: ClientModels | None = None
        self.last_error: str | None = None
        self.reload()

    @property
    def ready(self) -> bool:
        """Deals can be scored: a win model is in service."""
        return self.models is not None

    @property
    def versions(self) -> dict[str, str]:
        """Every model in service by registry name: win, amount and churn where there is one."""
        return {slot.name: slot.version for slot in self.slots.values() if slot.version is not None}

    def status(self) -> dict[str, dict]:
        return {slot.name: slot.status() for slot in self.slots.values()}

    def _load_slot(self, client: MlflowClient, slot: ModelSlot) -> None:
        try:
            client.get_model_version_by_alias(slot.name, self.cfg.alias)
        except MlflowException as exc:  # no such model or alias: nothing to load
            slot.state, slot.error = "missing", _short(exc)
        else:
            self._read_slot(client, slot)
            return
        if not slot.required:  # alias removed: out of service, as asked
            slot.model = slot.version = None
        log.warning("%s@%s missing: %s", slot.name, self.cfg.alias, slot.error)

    def _read_slot(self, client: MlflowClient, slot: ModelSlot) -> None:
        try:
            model, version = _load(client, slot.name, self.cfg.alias)
            if slot.name == self.cfg.win_model:
                _ = DealModels(win=model, amount=None).spec  # a win model without its feature spec cannot serve
        except Exception as exc:  # noqa: BLE001 - a corrupt model of any kind must not take the service down
            slot.state, slot.error = "failed", _short(exc)
        else:
            slot.model, slot.version, slot.state, slot.error = model, version, "loaded", None
            return
        kept = f"; still serving v{slot.version}" if slot.version else ""
        log.warning("%s@%s not loaded (%s): %s%s", slot.name, self.cfg.alias, slot.state, slot.error, kept)

    def reload(self) -> dict:
        """Load the current `alias` version of every model; returns whether all that exist loaded, and the states.

        A missing optional model is not a failure; a missing win model or any model that cannot be read is.
        """
        client = MlflowClient()
        with self._lock:
            previous = self.versions
            for slot in self.slots.values():
                self._load_slot(client, slot)
            win, amount, churn = (self.slots[r] for r in ("win", "amount", "churn"))
            if win.model is not None:
                versions = {s.name: s.version for s in (win, amount) if s.model is not None}
                self.models = DealModels(win=win.model, amount=amount.model, versions=versions,
                                         win_version=win.version, threads=_threads(self.cfg))
            if churn.model is None:
                self.clients = None
            elif self.clients is None or self.clients.churn is not churn.model:
                self.clients = ClientModels(churn=churn.model, versions={churn.name: churn.version},
                                            version=churn.version)
            failed = [s for s in self.slots.values() if s.state == "failed" or (s.required and s.state != "loaded")]
        self.last_error = "; ".join(f"{s.name}: {s.state}: {s.error}" for s in failed) or None
        return {"reloaded": not failed, "serving": self.versions, "previous": previous, "models": self.status(),
                **({"error": self.last_error} if failed else {})}


def _short(exc: Exception) -> str:
    """The exception's type and first line: enough to act on, without a dump of the model files."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300] if text else ''}"
