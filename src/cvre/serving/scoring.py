"""Score deals: features from the payload and the model's reference (`features.request`, the batch definitions row
by row), calibrated win probability, amount, EV, leaked euros, reasons and warnings, all in numpy.

Results are plain dicts in the response models' field order (`schemas.DealScore`, `DealError`), written to JSON as
they are: building and dumping pydantic objects cost more than the scoring of a 1,000-deal batch (docs/performance.md).

The flags, the amount a deal without one is valued at and the leaked euros are `core.rules`' (the leakage report
uses the same functions), with the feature config and stage medians of the model's feature spec.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial

import numpy as np
import pandas as pd

from cvre.core.rules import BehaviourRules, amount_stages, behaviour_flags, leaked_ev, primary_behaviours, valuation
from cvre.features import request
from cvre.features.names import readable
from cvre.features.spec import DealFeatureSpec
from cvre.serving.encoding import PREDICT, ModelInput, PredictThreads, amounts, columns_of, win_probability
from cvre.serving.history import ReferenceHistory
from cvre.serving.schemas import DealIn
from cvre.serving.scoring_log import ScoringLog
from cvre.training.metrics import grade

logger = logging.getLogger(__name__)
# The amount model of a large batch predicts here while the win model predicts and its reasons are worded (LightGBM
# frees the GIL): a 1,000-deal batch's three amount boosters cost about as much as all the rest of its scoring
_BESIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cvre-amounts")


class MissingFeatureSpec(RuntimeError):
    """A deal model trained before models carried their feature spec: serving would have to guess its features."""


@dataclass
class DealModels:
    """The champion models the service scores with (their python models) and their versions."""

    win: object
    amount: object | None
    versions: dict[str, str] = field(default_factory=dict)
    win_version: str | None = None
    threads: PredictThreads = PredictThreads()

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


def _format(name: str, value) -> str:
    label = readable(name)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"{label}: missing"
    if isinstance(value, bool | np.bool_):
        return label if value else f"not {label}"
    if isinstance(value, float | np.floating):
        value = f"{value:,.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.2f}"
    return f"{label}: {value}"


def reason_lists(booster, names: list[str] | tuple[str, ...], data: np.ndarray, columns: Mapping[str, Sequence],
                 top: int = 3, predict: dict = PREDICT) -> list[tuple[list[dict], list[dict]]]:
    """Per row, the `top` features raising and lowering a binary model's probability most (SHAP), in words: each a
    `Reason` as a dict (`feature`, `text`, `points`), ready for JSON. `columns`: the rows' feature values by name."""
    points = _points(booster.predict(data, pred_contrib=True, **predict)[:, :-1])
    order = np.argsort(points, axis=1)
    picks = np.concatenate([order[:, ::-1][:, :top], order[:, :top]], axis=1)  # the `top` up, then the `top` down
    chosen = np.take_along_axis(points, picks, axis=1)
    keep = np.concatenate([chosen[:, :top] > 0.05, chosen[:, top:] < -0.05], axis=1)
    n = len(data)
    rows, ks = np.nonzero(keep)  # row by row, each row's reasons up then down, in pick order
    js = picks[rows, ks]
    texts = np.empty(len(rows), dtype=object)
    for j in np.unique(js).tolist():  # feature by feature: its words for the rows it explains
        at = np.flatnonzero(js == j)
        values = _plain(columns.get(names[j]), n)
        texts[at] = _texts(names[j], [values[i] for i in rows[at].tolist()])
    found = [{"feature": names[j], "text": f"{text}: {p:+.0f} pts", "points": round(p, 2)}
             for j, text, p in zip(js.tolist(), texts.tolist(), chosen[rows, ks].tolist(), strict=True)]
    ups = np.bincount(rows[ks < top], minlength=n).tolist()
    ends = np.cumsum(np.bincount(rows, minlength=n)).tolist()
    return [(found[end - total:end - total + up], found[end - total + up:end])
            for up, end, total in zip(ups, ends, np.bincount(rows, minlength=n).tolist(), strict=True)]


def _texts(name: str, values: list) -> list[str]:
    """`_format` of each value of one feature, worded once per distinct value (values repeat across a batch)."""
    words: dict[tuple[type, object], str] = {}
    out = []
    for value in values:
        key = (value.__class__, value)
        try:
            text = words[key]
        except KeyError:
            text = words[key] = _format(name, value)
        except TypeError:  # an unhashable value
            text = _format(name, value)
        out.append(text)
    return out


def _plain(values: Sequence | None, n: int) -> list:
    """A column as a list of Python values (None where the request cannot give the feature: missing)."""
    if values is None:
        return [None] * n
    return values.tolist() if isinstance(values, np.ndarray) else list(values)


def reasons(model, X: pd.DataFrame, rows: pd.DataFrame | list[dict], top: int = 3,
            data: np.ndarray | None = None) -> list[tuple[list[dict], list[dict]]]:
    """`reason_lists` for rows typed by `model.features` (`data`: `model.matrix(X)` where the caller has it)."""
    data = model.matrix(X) if data is None else data
    names = list(X.columns)
    columns = ({c: rows[c].to_numpy(dtype=object) for c in names if c in rows.columns}
               if isinstance(rows, pd.DataFrame) else columns_of(rows, names))
    return reason_lists(model.booster, names, data, columns, top)


WARNING_TEXTS = {
    "stalled": lambda r: f"stalled {r.get('days_in_stage', 0):.0f} days in {r.get('current_stage')}",
    "no_activity": lambda r: "no logged activity on this deal",
    "slow_response": lambda r: f"lead first answered after {r.get('lead_response_hours', 0):.0f} h",
    "stage_jump": lambda r: f"{r.get('moves_without_activity', 0):.0f} stage move(s) without logged activity",
    "overdue_close_date": lambda r: f"expected close date passed {-r.get('days_to_expected_close', 0):.0f} days ago",
    "missing_amount": lambda r: f"no amount: valued at {MISSING_AMOUNT_WORDS[r.get('amount_source')]}",
}


MISSING_AMOUNT_WORDS = {"stage_median": "the median amount of its stage", "list_price": "its product's list price",
                        "none": "0 (no amount, stage median or list price known)"}


@dataclass(frozen=True)
class _Row:
    """Row `i` of feature columns, read like a dict (`get`) by the warning texts."""

    columns: Mapping[str, Sequence]
    i: int

    def get(self, name: str, default=None):
        values = self.columns.get(name)
        return default if values is None else values[self.i]


def behaviour_warnings(columns: Mapping[str, Sequence], flags: dict[str, np.ndarray], ev: list,
                       rules: BehaviourRules) -> list[list]:
    """Per row, its flagged behaviours (`BehaviourWarning` as dicts), each with its own share of the EV at stake (the
    deal's leaked euros are the largest of them, never the sum: `DealScore.leaked_ev`)."""
    out: list[list[dict]] = [[] for _ in ev]
    for behaviour, on in flags.items():  # behaviour by behaviour: each deal's warnings in the flags' order
        text, haircut = WARNING_TEXTS[behaviour], rules.haircuts.get(behaviour, 0.0)
        for i in np.flatnonzero(on).tolist():
            at_stake = None if ev[i] is None else ev[i] * haircut
            out[i].append({"behaviour": behaviour, "text": text(_Row(columns, i)), "euros_at_stake": at_stake})
    return out


def _json_floats(values: np.ndarray | None, n: int) -> list:
    """Floats for JSON: NaN and infinity as None (what pydantic's JSON mode writes), None for no array."""
    if values is None:
        return [None] * n
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    return out.tolist()


def score_columns(columns: Mapping[str, Sequence], n: int, models: DealModels,
                  rules: BehaviourRules) -> tuple[list[dict], np.ndarray]:
    """Scores of `n` deals' feature columns (`features.request.deal_feature_columns`), each a `DealScore` as a dict
    ready for JSON (in its field order: the API writes them as they are), and the win model's input matrix."""
    predict = models.threads.args(n)
    amount = None if models.amount is None else partial(amounts, models.amount, models.amount_input.table(columns, n),
                                                         predict)
    pending = _BESIDE.submit(amount) if amount is not None and models.threads.parallel(n) else None
    data = models.win_input.table(columns, n)
    prob = win_probability(models.win, data, predict)
    own = np.asarray(columns.get("amount", [None] * n), dtype=float)
    stages = amount_stages(columns.get("current_stage"), None, n)
    used, sources = valuation(own, stages, models.spec.amount_medians, columns.get("list_price"))
    ev = prob * used
    flags = behaviour_flags(columns, n, rules)
    leaked = leaked_ev(ev, flags, rules)
    evs = _json_floats(ev, n)
    why = reason_lists(models.win.booster, models.win_input.names, data, columns, predict=predict)
    warnings = behaviour_warnings({**columns, "amount_source": sources}, flags, evs, rules)
    predicted, p10, p90 = pending.result() if pending else amount() if amount else (None, None, None)
    low_data = bool(getattr(models.win, "low_data", False))
    scores = [
        {"status": "scored", "opportunity_id": str(oid), "win_probability": p, "grade": g,
         "expected_amount": u, "amount_source": source, "predicted_amount": a,
         "amount_p10": lo, "amount_p90": hi, "expected_value": e, "leaked_ev": leak, "primary_behaviour": primary,
         "reasons_up": up, "reasons_down": down, "warnings": warned, "model_versions": models.versions,
         "low_data": low_data}
        for oid, p, g, u, source, a, lo, hi, e, leak, primary, (up, down), warned in zip(
            columns["opportunity_id"], _json_floats(prob, n), grade(prob).tolist(), _json_floats(used, n),
            sources, _json_floats(predicted, n), _json_floats(p10, n), _json_floats(p90, n), evs,
            _json_floats(leaked, n), primary_behaviours(flags, rules.haircuts), why, warnings, strict=True)
    ]
    return scores, data


def deal_feature_columns(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp) -> dict[str, Sequence]:
    """The request's deals with the features training used (the model's spec), history from the model's
    reference cut to `as_of` (indexed once per scoring time), column by column."""
    return request.deal_feature_columns(deals, as_of.to_pydatetime(), models.history.snapshot(as_of).request,
                                        models.spec.deals)


def score_deals(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp, rules: BehaviourRules,
                log: ScoringLog | None = None) -> list[dict]:
    """Scores in request order, each a `DealScore` as a dict ready for JSON; a deal that cannot be scored gets a
    `DealError` (as a dict) in its place, the others are scored."""
    moment: datetime = as_of.to_pydatetime()
    results: dict[str, dict] = {d.opportunity_id: deal_error(d.opportunity_id, why)
                                for d in deals if (why := unscorable(d, moment))}
    scorable = [d for d in deals if d.opportunity_id not in results]
    if scorable:
        results |= _score_together(scorable, models, as_of, rules, log)
    return [results[d.opportunity_id] for d in deals]


def deal_error(opportunity_id: str, error: str) -> dict:
    """A `DealError` as a dict, in its field order."""
    return {"status": "error", "opportunity_id": opportunity_id, "error": error}


def unscorable(deal: DealIn, as_of: datetime) -> str | None:
    """Why a deal cannot be scored at `as_of` (None: it can)."""
    if deal.created_at > as_of:
        return (f"created_at {deal.created_at:%Y-%m-%dT%H:%M:%S} is after the scoring time {as_of:%Y-%m-%dT%H:%M:%S}"
                " (as_of, or the server's clock when as_of is left out): the deal did not exist yet; send an as_of "
                "at or after created_at, or check the sender's clock")
    return None


def _score_together(deals: list[DealIn], models: DealModels, as_of: pd.Timestamp, rules: BehaviourRules,
                    log: ScoringLog | None) -> dict[str, dict]:
    """Score deals in one pass; if that fails, deal by deal, so one bad deal fails alone."""
    try:
        scores, data = score_columns(deal_feature_columns(deals, models, as_of), len(deals), models, rules)
    except Exception:
        if len(deals) > 1:
            return {oid: result for d in deals
                    for oid, result in _score_together([d], models, as_of, rules, log).items()}
        logger.exception("a deal could not be scored")
        return {deals[0].opportunity_id: deal_error(
            deals[0].opportunity_id,
            "this deal could not be scored (an error on our side, logged); the other deals were scored")}
    if log is not None:
        log.deal_matrix(models.win_input.names, data, models.win_input.labels, scores, models.win_version)
    return {s["opportunity_id"]: s for s in scores}
