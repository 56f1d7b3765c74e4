"""Score deals: features from the payload and the model's reference (`features.request`, the batch definitions row
by row), calibrated win probability, amount, EV, leaked euros, reasons and warnings, all in numpy.

The flags, the amount a deal without one is valued at and the leaked euros are `core.rules`' (the leakage report
uses the same functions), with the feature config and stage medians of the model's feature spec.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np
import pandas as pd

from cvre.core.rules import BehaviourRules, amount_stages, amounts_used, behaviour_flags, leaked_ev, primary_behaviours
from cvre.features.names import readable
from cvre.features.request import deal_features
from cvre.features.spec import DealFeatureSpec
from cvre.serving.encoding import PREDICT, ModelInput, amounts, win_probability
from cvre.serving.history import ReferenceHistory
from cvre.serving.schemas import BehaviourWarning, DealError, DealIn, DealScore, Reason
from cvre.serving.scoring_log import ScoringLog
from cvre.training.metrics import grade

logger = logging.getLogger(__name__)


class MissingFeatureSpec(RuntimeError):
    """A deal model trained before models carried their feature spec: serving would have to guess its features."""


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
    def spec(self) -> DealFeatureSpec:
        spec = getattr(self.win, "feature_spec", None)
        if spec is None:
            raise MissingFeatureSpec("the win model carries no feature spec (trained before specs were logged): "
                                     "retrain it (`cvre train win`) so serving builds its features as training did")
        return spec

    @cached_property
    def history(self) -> ReferenceHistory:
        return ReferenceHistory(self.reference)

    @cached_property
    def win_input(self) -> ModelInput:
        return ModelInput.of(self.win)

    @cached_property
    def amount_input(self) -> ModelInput | None:
        return None if self.amount is None else ModelInput.of(self.amount)


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


def _reason(name: str, value, points: float) -> Reason:
    """Constructed, not validated: every value is ours and typed (validation costs ~0.1 ms a deal)."""
    return Reason.model_construct(feature=name, text=f"{_format(name, value)}: {points:+.0f} pts",
                                  points=round(float(points), 2))


def reason_lists(booster, names: list[str] | tuple[str, ...], data: np.ndarray, records: list[dict],
                 top: int = 3) -> list[tuple[list[Reason], list[Reason]]]:
    """Per row, the `top` features raising and lowering a binary model's probability most (SHAP), in words."""
    points = _points(booster.predict(data, pred_contrib=True, **PREDICT)[:, :-1])
    out = []
    for i, row in enumerate(records):
        order = np.argsort(points[i])  # .get: a feature the request cannot give is missing
        up = [_reason(names[j], row.get(names[j]), points[i, j]) for j in order[::-1][:top] if points[i, j] > 0.05]
        down = [_reason(names[j], row.get(names[j]), points[i, j]) for j in order[:top] if points[i, j] < -0.05]
        out.append((up, down))
    return out


def reasons(model, X: pd.DataFrame, rows: pd.DataFrame | list[dict], top: int = 3,
            data: np.ndarray | None = None) -> list[tuple[list[Reason], list[Reason]]]:
    """`reason_lists` for rows typed by `model.features` (`data`: `model.matrix(X)` where the caller has it)."""
    data = model.matrix(X) if data is None else data
    records = _records(rows) if isinstance(rows, pd.DataFrame) else rows
    return reason_lists(model.booster, list(X.columns), data, records, top)


WARNING_TEXTS = {
    "stalled": lambda r: f"stalled {r.get('days_in_stage', 0):.0f} days in {r.get('current_stage')}",
    "no_activity": lambda r: "no logged activity on this deal",
    "slow_response": lambda r: f"lead first answered after {r.get('lead_response_hours', 0):.0f} h",
    "stage_jump": lambda r: f"{r.get('moves_without_activity', 0):.0f} stage move(s) without logged activity",
    "overdue_close_date": lambda r: f"expected close date passed {-r.get('days_to_expected_close', 0):.0f} days ago",
    "missing_amount": lambda r: "no amount: valued at the median amount of its stage",
}


def behaviour_warnings(row: dict, flags: dict[str, np.ndarray], i: int, ev: float,
                       rules: BehaviourRules) -> list[BehaviourWarning]:
    """The deal's flagged behaviours, each with its own share of the EV at stake (the deal's leaked euros are the
    largest of them, never the sum: `DealScore.leaked_ev`)."""
    return [BehaviourWarning.model_construct(behaviour=k, text=WARNING_TEXTS[k](row),
                                             euros_at_stake=ev * rules.haircuts.get(k, 0.0))
            for k, on in flags.items() if on[i]]


def score_rows(rows: list[dict], models: DealModels, rules: BehaviourRules) -> tuple[list[DealScore], np.ndarray]:
    """Scores of feature rows (dicts of the batch table's columns) and the win model's input matrix."""
    n = len(rows)
    columns: dict[str, list] = {}  # each column read out of the rows once, for both models and the rules
    data = models.win_input.matrix(rows, columns)
    prob = win_probability(models.win, data)
    if models.amount is not None:
        predicted, p10, p90 = amounts(models.amount, models.amount_input.matrix(rows, columns))
    else:
        predicted, p10, p90 = np.full(n, np.nan), None, None
    for name in ("amount", "current_stage", "days_in_stage", "activities_total", "has_lead", "lead_response_hours",
                 "moves_without_activity", "close_date_overdue", "amount_missing"):
        if name not in columns:
            columns[name] = [row.get(name) for row in rows]
    stages = amount_stages(columns["current_stage"], None, n)
    used = amounts_used(columns["amount"], stages, models.spec.amount_medians)
    ev = prob * used
    flags = behaviour_flags(columns, n, rules)
    leaked = leaked_ev(ev, flags, rules)
    primary = primary_behaviours(flags, rules.haircuts)
    why = reason_lists(models.win.booster, models.win_input.names, data, rows)
    grades = grade(prob)
    low_data = bool(getattr(models.win, "low_data", False))
    scores = [  # constructed, not validated: every value is ours and typed (validation cost ~0.1 ms a deal)
        DealScore.model_construct(
            opportunity_id=str(rows[i]["opportunity_id"]),
            win_probability=float(prob[i]), grade=str(grades[i]),
            expected_amount=float(used[i]), amount_source="deal" if rows[i]["amount"] == rows[i]["amount"] else
            "stage_median", predicted_amount=None if np.isnan(predicted[i]) else float(predicted[i]),
            amount_p10=None if p10 is None else float(p10[i]), amount_p90=None if p90 is None else float(p90[i]),
            expected_value=float(ev[i]), leaked_ev=float(leaked[i]), primary_behaviour=primary[i],
            reasons_up=why[i][0], reasons_down=why[i][1],
            warnings=behaviour_warnings(rows[i], flags, i, float(ev[i]), rules),
            model_versions=models.versions, low_data=low_data,
        )
        for i in range(n)
    ]
    return scores, data


def deal_feature_rows(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp) -> list[dict]:
    """The request's deals with the features training used (the model's spec), history from the model's
    reference cut to `as_of` (indexed once per scoring time)."""
    reference = models.history.snapshot(as_of).request
    moment: datetime = as_of.to_pydatetime()
    cfg = models.spec.deals
    return [deal_features(d, moment, reference, cfg) for d in deals]


def score_deals(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp, rules: BehaviourRules,
                log: ScoringLog | None = None) -> list[DealScore | DealError]:
    """Scores in request order; a deal that cannot be scored gets a DealError in its place, the others are scored."""
    results: dict[str, DealScore | DealError] = {
        d.opportunity_id: DealError(opportunity_id=d.opportunity_id, error=why)
        for d in deals if (why := unscorable(d, as_of))}
    scorable = [d for d in deals if d.opportunity_id not in results]
    if scorable:
        results |= _score_together(scorable, models, as_of, rules, log)
    return [results[d.opportunity_id] for d in deals]


def unscorable(deal: DealIn, as_of: pd.Timestamp) -> str | None:
    """Why a deal cannot be scored at `as_of` (None: it can)."""
    if deal.created_at > as_of:
        return (f"created_at {deal.created_at:%Y-%m-%dT%H:%M:%S} is after the scoring time {as_of:%Y-%m-%dT%H:%M:%S}"
                " (as_of, or the server's clock when as_of is left out): the deal did not exist yet; send an as_of "
                "at or after created_at, or check the sender's clock")
    return None


def _score_together(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp, rules: BehaviourRules,
                    log: ScoringLog | None) -> dict[str, DealScore | DealError]:
    """Score deals in one pass; if that fails, deal by deal, so one bad deal fails alone."""
    try:
        rows = deal_feature_rows(deals, models, as_of)
        scores, data = score_rows(rows, models, rules)
    except Exception:
        if len(deals) > 1:
            return {oid: result for d in deals
                    for oid, result in _score_together([d], models, as_of, rules, log).items()}
        logger.exception("a deal could not be scored")
        return {deals[0].opportunity_id: DealError(
            opportunity_id=deals[0].opportunity_id,
            error="this deal could not be scored (an error on our side, logged); the other deals were scored")}
    if log is not None:
        log.deal_matrix(models.win_input.names, data, models.win_input.labels, scores, models.win_version)
    return {s.opportunity_id: s for s in scores}
