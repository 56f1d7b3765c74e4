"""Score clients: churn features from the training code, ranked among the model's population, with reasons.

A churn model comes in two shapes, told apart by its logged feature list: trained on transactions (R, F and M
among its features: the payload is `clients`, each with its purchases) or on a per-customer table with its own
churn label (the payload is `customers`, one flat row per customer with the fields the model was trained on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from cvre.features.clients import RFM_VALUES, client_features
from cvre.features.config import ClientFeatureConfig
from cvre.features.customers import customer_rows
from cvre.features.snapshot import tables_as_of
from cvre.serving.payload import client_tables
from cvre.serving.schemas import ClientIn, ClientScore, CustomerIn
from cvre.serving.scoring import reasons
from cvre.serving.scoring_log import ScoringLog
from cvre.training.metrics import grade
from cvre.training.reference import CLIENT_POPULATION

RISK_BANDS = {"A": "very high", "B": "high", "C": "medium", "D": "low"}  # the grade of the churn probability
FIELD_OF_FEATURE = {"tenure_days": "created_at"}  # a per-customer feature computed from another field
ACCOUNT_FIELDS = ("industry", "tier", "region", "country", "employees", "created_at")  # CustomerIn's own fields


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

    @cached_property
    def per_customer(self) -> bool:
        """Trained on a per-customer table with its own churn label: no R, F or M among the model's features."""
        return not set(RFM_VALUES) & set(self.churn.spec["features"])

    @cached_property
    def customer_fields(self) -> list[str]:
        """The fields a customer row carries for this model (null where unknown), in the model's order."""
        return list(dict.fromkeys(FIELD_OF_FEATURE.get(f, f) for f in self.churn.spec["features"]))

    @property
    def name(self) -> str:
        return ", ".join(f"{name} v{version}" for name, version in self.versions.items()) or "the churn model"


def check_clients(clients: list[ClientIn], as_of: pd.Timestamp) -> None:
    seen = set()
    for i, client in enumerate(clients):
        if client.account_id in seen:
            raise ClientInputError(f"clients[{i}].account_id: {client.account_id!r} appears twice in the request")
        seen.add(client.account_id)
        if not any(t.occurred_at <= as_of for t in client.transactions):
            raise ClientInputError(f"clients[{i}].transactions: no purchase at or before as_of {as_of}; churn is "
                                   "scored for clients who have bought")


def check_shape(clients: list[ClientIn], customers: list[CustomerIn], models: ClientModels) -> None:
    """The request carries the payload the model was trained on: `customers` rows or `clients` with purchases."""
    if models.per_customer and clients:
        raise ClientInputError(
            f"clients: {models.name} was trained on a per-customer table with its own churn label: send "
            f"`customers`, one row per customer with account_id and {', '.join(models.customer_fields)}, not "
            "`clients` with transactions")
    if not models.per_customer and customers:
        raise ClientInputError(
            f"customers: {models.name} was trained on purchases (churn: no purchase in the horizon): send "
            "`clients`, each with its transactions, not per-customer rows")


def check_customers(customers: list[CustomerIn], models: ClientModels) -> None:
    """Every field the model needs is given (null where unknown), numbers as numbers, each customer once."""
    categories = models.churn.spec["categories"]
    seen = set()
    for i, customer in enumerate(customers):
        if customer.account_id in seen:
            raise ClientInputError(f"customers[{i}].account_id: {customer.account_id!r} appears twice in the "
                                   "request")
        seen.add(customer.account_id)
        given = customer.model_fields_set | set(customer.export_columns)
        for name in models.customer_fields:
            if name not in given:
                raise ClientInputError(
                    f"customers[{i}].{name}: missing; {models.name} needs {', '.join(models.customer_fields)} "
                    "(send null where a value is unknown)")
            value = customer.export_columns.get(name)
            if name not in categories and isinstance(value, str):
                raise ClientInputError(f"customers[{i}].{name}: expected a number or true/false, got {value!r}")


def client_feature_rows(clients: list[ClientIn], models: ClientModels, as_of: pd.Timestamp) -> pd.DataFrame:
    """The request's clients with the features training built, RFM-ranked among the model's population."""
    check_clients(clients, as_of)
    tables = tables_as_of(client_tables(clients), as_of)
    rows = client_features(tables, as_of, models.feature_config, population=models.population)
    return rows.set_index("account_id").loc[[c.account_id for c in clients]].reset_index()


def _export_column(values: list) -> np.ndarray:
    """An `x_` column as training joined it: numbers and flags as floats, text as objects."""
    if all(v is None or isinstance(v, int | float) for v in values):  # bool is an int: flags become 0/1
        return np.array([np.nan if v is None else float(v) for v in values])
    return np.array(values, dtype=object)


def customer_feature_rows(customers: list[CustomerIn], models: ClientModels, as_of: pd.Timestamp) -> pd.DataFrame:
    """The request's customers with the features a per-customer churn model was trained on."""
    check_customers(customers, models)
    accounts = pd.DataFrame([{"account_id": c.account_id, **{f: getattr(c, f) for f in ACCOUNT_FIELDS}}
                             for c in customers])
    accounts["created_at"] = pd.to_datetime(accounts["created_at"]).astype("datetime64[ns]")
    rows = customer_rows(accounts, as_of)
    categories = models.churn.spec["categories"]
    for name in models.customer_fields:
        if name not in ACCOUNT_FIELDS:
            rows[name] = _export_column([c.export_columns.get(name) for c in customers])
    for name in models.churn.spec["features"]:
        if name not in rows:  # its field was sent as null by every customer (check_customers saw it sent)
            rows[name] = np.full(len(rows), None if name in categories else np.nan,
                                 dtype=object if name in categories else float)
    return rows


def score_client_rows(rows: pd.DataFrame, models: ClientModels) -> list[ClientScore]:
    churn = models.churn
    prob = churn.predict(None, rows)["probability"].to_numpy()
    bands = grade(prob)
    why = reasons(churn, churn.features(rows), rows)
    segments = rows["rfm_segment"].astype(str).tolist() if "rfm_segment" in rows else [None] * len(rows)
    return [
        ClientScore(account_id=str(rows["account_id"].iloc[i]), churn_probability=round(float(prob[i]), 6),
                    risk_band=RISK_BANDS[str(bands[i])], rfm_segment=segments[i],
                    reasons_up=why[i][0], reasons_down=why[i][1], model_versions=models.versions,
                    low_data=bool(getattr(models.churn, "low_data", False)))
        for i in range(len(rows))
    ]


def score_clients(clients: list[ClientIn], models: ClientModels, as_of: pd.Timestamp,
                  log: ScoringLog | None = None, customers: list[CustomerIn] | None = None) -> list[ClientScore]:
    """Clients (with purchases) or customers (per-customer rows), whichever the model was trained on."""
    customers = customers or []
    check_shape(clients, customers, models)
    rows = (customer_feature_rows(customers, models, as_of) if models.per_customer
            else client_feature_rows(clients, models, as_of))
    scores = score_client_rows(rows, models)
    if log is not None:
        log.clients(models.churn.features(rows), scores, models.version)
    return scores
