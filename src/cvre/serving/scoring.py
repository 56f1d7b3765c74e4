"""Score deals: features from the training code, calibrated win probability, amount, EV, reasons, warnings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from cvre.core.rules import BehaviourRules
from cvre.features.config import DealFeatureConfig
from cvre.features.deal_table import build_deal_features
from cvre.features.names import readable
from cvre.features.snapshot import tables_as_of
from cvre.serving.history import ReferenceHistory
from cvre.serving.payload import deal_tables
from cvre.serving.schemas import BehaviourWarning, DealError, DealIn, DealScore, Reason
from cvre.serving.scoring_log import ScoringLog
from cvre.training.metrics import grade

logger = logging.getLogger(__name__)
# Requests and micro-batches are small: one LightGBM thread beats an OpenMP fan-out on a busy 2-core server.
PREDICT = {"num_threads": 1}


@dataclass
class DealModels:
    """The champion models the service scores with (their python models) and their versions."""

    win: object
    amount: object | None
    versions: dict[str, str] = field(default_factory=dict)
    win_version: str | None = None

    @property
    def reference(self) -> dict[str, pd.DataFrame]:
        return getattr(self.win, "reference", {})

    @cached_property
    def history(self) -> ReferenceHistory:
        return ReferenceHistory(self.reference)


def deal_feature_rows(deals: list[DealIn], history: ReferenceHistory, as_of: pd.Timestamp,
                      cfg: DealFeatureConfig) -> pd.DataFrame:
    """The request's deals with the same features training used, history from the model's snapshot.

    Only the request's deals go through the feature code; the snapshot (its closed deals, accounts, contacts,
    products) is cut to `as_of` and indexed once (cached) and serves as their history, as if they were appended
    to it. A deal sent with the id of a snapshot deal replaces it: that request is built on the joined tables.
    """
    ids = [d.opportunity_id for d in deals]
    snapshot = history.snapshot(as_of)
    request = tables_as_of(deal_tables(deals), as_of)
    shared = (request.keys() - {"opportunities"}) & snapshot.tables.keys()  # none: the snapshot has no histories
    if snapshot.index is not None and snapshot.deal_ids.isdisjoint(ids) and not shared:
        features, _ = build_deal_features({**snapshot.tables, **request}, as_of, cfg, only=ids,
                                          reference=snapshot.index)
    else:
        tables = dict(snapshot.tables)
        if "opportunities" in tables:
            known = tables["opportunities"]
            tables["opportunities"] = known[~known["opportunity_id"].isin(ids)]
        for name, frame in request.items():
            tables[name] = pd.concat([tables[name], frame], ignore_index=True) if name in tables else frame
        features, _ = build_deal_features(tables, as_of, cfg, only=ids)
    if features["opportunity_id"].tolist() == ids:  # the usual case: already in request order
        return features
    return features.set_index("opportunity_id").loc[ids].reset_index()


def _points(contrib: np.ndarray) -> np.ndarray:
    """Each feature's contribution in probability points: p(all) - p(all but this feature)."""
    total = contrib.sum(axis=1, keepdims=True)
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    return (sig(total) - sig(total - contrib)) * 100.0


def _records(rows: pd.DataFrame) -> list[dict]:
    """Rows as dicts of their values (`to_dict("records")` spends milliseconds converting each value)."""
    columns = list(rows.columns)
    return [dict(zip(columns, values, strict=True)) for values in rows.to_numpy(dtype=object)]


def _format(name: str, value) -> str:
    label = readable(name)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"{label}: missing"
    if isinstance(value, bool | np.bool_):
        return label if value else f"not {label}"
    if isinstance(value, float | np.floating):
        value = f"{value:,.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.2f}"
    return f"{label}: {value}"


def reasons(model, X: pd.DataFrame, rows: pd.DataFrame | list[dict], top: int = 3,
            data: np.ndarray | None = None) -> list[tuple[list[Reason], list[Reason]]]:
    """Per row, the `top` features raising and lowering a binary model's probability most (SHAP), in words.

    One SHAP call for all rows; `data`: `model.matrix(X)` where the caller has it already.
    """
    data = model.matrix(X) if data is None else data
    contrib = model.booster.predict(data, pred_contrib=True, **PREDICT)[:, :-1]
    points = _points(contrib)
    names = list(X.columns)
    records = _records(rows) if isinstance(rows, pd.DataFrame) else rows
    out = []
    for i, row in enumerate(records):
        order = np.argsort(points[i])  # .get: a feature the request cannot give is missing
        up = [Reason(feature=names[j], text=f"{_format(names[j], row.get(names[j]))}: +{points[i, j]:.0f} pts",
                     points=round(float(points[i, j]), 2)) for j in order[::-1][:top] if points[i, j] > 0.05]
        down = [Reason(feature=names[j], text=f"{_format(names[j], row.get(names[j]))}: {points[i, j]:.0f} pts",
                       points=round(float(points[i, j]), 2)) for j in order[:top] if points[i, j] < -0.05]
        out.append((up, down))
    return out


def behaviour_warnings(row: dict, ev: float, rules: BehaviourRules) -> list[BehaviourWarning]:
    flags = {
        "stalled": (row.get("days_in_stage", 0) or 0) > rules.stall_days,
        "no_activity": bool(row.get("no_activity", False)),
        "slow_response": bool(row.get("slow_lead_response", False)),
        "stage_jump": (row.get("moves_without_activity", 0) or 0) > 0,
        "overdue_close_date": bool(row.get("close_date_overdue", False)),
        "missing_amount": bool(row.get("amount_missing", False)),
    }
    texts = {
        "stalled": f"stalled {row.get('days_in_stage', 0):.0f} days in {row.get('current_stage')}",
        "no_activity": "no logged activity on this deal",
        "slow_response": f"lead first answered after {row.get('lead_response_hours', 0):.0f} h",
        "stage_jump": f"{row.get('moves_without_activity', 0):.0f} stage move(s) without logged activity",
        "overdue_close_date": f"expected close date passed {-row.get('days_to_expected_close', 0):.0f} days ago",
        "missing_amount": "no amount: the expected amount comes from the model",
    }
    return [BehaviourWarning(behaviour=k, text=texts[k], euros_at_stake=round(ev * rules.haircuts.get(k, 0.0), 2))
            for k, on in flags.items() if on]


def score_deal_rows(rows: pd.DataFrame, models: DealModels, rules: BehaviourRules,
                    X: pd.DataFrame | None = None) -> list[DealScore]:
    """Scores of feature rows; `X`: the win model's input (`win.features(rows)`) where the caller has it."""
    win = models.win
    X = win.features(rows) if X is None else X
    data = win.matrix(X)  # one conversion for the probability and the reasons
    prob = win.predict_features(data, **PREDICT)["probability"].to_numpy()
    if models.amount is not None:
        amounts = models.amount.predict_features(models.amount.matrix(models.amount.features(rows)), **PREDICT)
        predicted = amounts["amount"].to_numpy()
        p10, p90 = (amounts[c].to_numpy() if c in amounts else None for c in ("amount_p10", "amount_p90"))
    else:
        predicted, p10, p90 = np.full(len(rows), np.nan), None, None
    given = rows["amount"].to_numpy(dtype=float) if "amount" in rows else np.full(len(rows), np.nan)
    expected_amount = np.where(np.isnan(given), predicted, given)
    ev = prob * np.nan_to_num(expected_amount)
    records = _records(rows)
    why = reasons(win, X, records, data=data)
    grades = grade(prob)
    return [
        DealScore(
            opportunity_id=str(records[i]["opportunity_id"]),
            win_probability=round(float(prob[i]), 6),
            grade=str(grades[i]),
            expected_amount=round(float(np.nan_to_num(expected_amount[i])), 2),
            amount_p10=None if p10 is None else round(float(p10[i]), 2),
            amount_p90=None if p90 is None else round(float(p90[i]), 2),
            expected_value=round(float(ev[i]), 2),
            reasons_up=why[i][0], reasons_down=why[i][1],
            warnings=behaviour_warnings(records[i], float(ev[i]), rules),
            model_versions=models.versions,
            low_data=bool(getattr(win, "low_data", False)),
        )
        for i in range(len(rows))
    ]


def score_deals(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp, cfg: DealFeatureConfig,
                rules: BehaviourRules, log: ScoringLog | None = None) -> list[DealScore | DealError]:
    """Scores in request order; a deal that cannot be scored gets a DealError in its place, the others are scored."""
    results: dict[str, DealScore | DealError] = {
        d.opportunity_id: DealError(opportunity_id=d.opportunity_id, error=why)
        for d in deals if (why := unscorable(d, as_of))}
    scorable = [d for d in deals if d.opportunity_id not in results]
    if scorable:
        results |= _score_together(scorable, models, as_of, cfg, rules, log)
    return [results[d.opportunity_id] for d in deals]


def unscorable(deal: DealIn, as_of: pd.Timestamp) -> str | None:
    """Why a deal cannot be scored at `as_of` (None: it can)."""
    if pd.Timestamp(deal.created_at) > as_of:
        return (f"created_at {deal.created_at:%Y-%m-%dT%H:%M:%S} is after the scoring time {as_of:%Y-%m-%dT%H:%M:%S}"
                " (as_of, or the server's clock when as_of is left out): the deal did not exist yet; send an as_of "
                "at or after created_at, or check the sender's clock")
    return None


def _score_together(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp, cfg: DealFeatureConfig,
                    rules: BehaviourRules, log: ScoringLog | None) -> dict[str, DealScore | DealError]:
    """Score deals in one pass; if that fails, deal by deal, so one bad deal fails alone."""
    try:
        rows = deal_feature_rows(deals, models.history, as_of, cfg)
        X = models.win.features(rows)
        scores = score_deal_rows(rows, models, rules, X)
    except Exception:
        if len(deals) > 1:
            return {oid: result for d in deals
                    for oid, result in _score_together([d], models, as_of, cfg, rules, log).items()}
        logger.exception("a deal could not be scored")
        return {deals[0].opportunity_id: DealError(
            opportunity_id=deals[0].opportunity_id,
            error="this deal could not be scored (an error on our side, logged); the other deals were scored")}
    if log is not None:
        log.deals(X, scores, models.win_version)
    return {s.opportunity_id: s for s in scores}
