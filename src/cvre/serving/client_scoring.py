"""Score clients: churn features from the training code, ranked among the model's population, with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from cvre.features.clients import client_features
from cvre.features.config import ClientFeatureConfig
from cvre.features.snapshot import tables_as_of
from cvre.serving.payload import client_tables
from cvre.serving.schemas import ClientIn, ClientScore
from cvre.serving.scoring import reasons
from cvre.serving.scoring_log import ScoringLog
from cvre.training.metrics import grade
from cvre.training.reference import CLIENT_POPULATION

RISK_BANDS = {"A": "very high", "B": "high", "C": "medium", "D": "low"}  # the grade of the churn probability


class ClientInputError(ValueError):
    """Clients the features cannot be built for; the message names the field (`clients[i].transactions`)."""


@dataclass
class ClientModels:
    """The champion churn model (its python model) and its version."""

    churn: object
    versions: dict[str, str] = field(default_factory=dict)
    version: str | None = None

    @cached_property
    def population(self) -> pd.DataFrame | None:
        """R, F and M values of the training snapshot's clients, by account: RFM scores rank among them."""
        frame = getattr(self.churn, "reference", {}).get(CLIENT_POPULATION)
        return None if frame is None else frame.set_index("account_id")

    @cached_property
    def feature_config(self) -> ClientFeatureConfig:
        """The client feature config training used (the defaults for a model logged without one)."""
        return ClientFeatureConfig.model_validate(getattr(self.churn, "feature_config", {}).get("clients", {}))


def check_clients(clients: list[ClientIn], as_of: pd.Timestamp) -> None:
    seen = set()
    for i, client in enumerate(clients):
        if client.account_id in seen:
            raise ClientInputError(f"clients[{i}].account_id: {client.account_id!r} appears twice in the request")
        seen.add(client.account_id)
        if not any(t.occurred_at <= as_of for t in client.transactions):
            raise ClientInputError(f"clients[{i}].transactions: no purchase at or before as_of {as_of}; churn is "
                                   "scored for clients who have bought")


def client_feature_rows(clients: list[ClientIn], models: ClientModels, as_of: pd.Timestamp) -> pd.DataFrame:
    """The request's clients with the features training built, RFM-ranked among the model's population."""
    check_clients(clients, as_of)
    tables = tables_as_of(client_tables(clients), as_of)
    rows = client_features(tables, as_of, models.feature_config, population=models.population)
    return rows.set_index("account_id").loc[[c.account_id for c in clients]].reset_index()


def score_client_rows(rows: pd.DataFrame, models: ClientModels) -> list[ClientScore]:
    churn = models.churn
    prob = churn.predict(None, rows)["probability"].to_numpy()
    bands = grade(prob)
    why = reasons(churn, churn.features(rows), rows)
    return [
        ClientScore(account_id=str(rows["account_id"].iloc[i]), churn_probability=round(float(prob[i]), 6),
                    risk_band=RISK_BANDS[str(bands[i])], rfm_segment=str(rows["rfm_segment"].iloc[i]),
                    reasons_up=why[i][0], reasons_down=why[i][1], model_versions=models.versions,
                    low_data=bool(getattr(models.churn, "low_data", False)))
        for i in range(len(rows))
    ]


def score_clients(clients: list[ClientIn], models: ClientModels, as_of: pd.Timestamp,
                  log: ScoringLog | None = None) -> list[ClientScore]:
    rows = client_feature_rows(clients, models, as_of)
    scores = score_client_rows(rows, models)
    if log is not None:
        log.clients(models.churn.features(rows), scores, models.version)
    return scores
