"""Where a deal's win probability comes from: the champion model, the CRM's own figure, historical stage win
rates, or (simulated worlds) the truth; and the rule that refuses a model trained on another source.

Default (`auto`): the champion when it was trained on this data's source, else the CRM's probability, else
stage rates. The leakage output says which source was used and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cvre.core.field_sources import supplying_fields
from cvre.core.io import TRUTH_DIR, read_table
from cvre.core.provenance import data_source, describe, source_mismatch, tags_source
from cvre.core.schema import STAGES_OPEN

SOURCES = ("auto", "model", "crm", "stage_rates", "truth")
WIN_MODEL, CHAMPION_URI = "cvre-win", "models:/cvre-win@champion"


class ProbabilityUnavailable(RuntimeError):
    """The asked-for probability source cannot be used here; the message says what to do instead."""


@dataclass
class Probability:
    values: np.ndarray
    source: str  # model | crm | stage_rates | truth
    note: str  # why this source, and what it means
    model: object | None = None  # the CvreModel when source == "model"
    low_data: bool = False


def champion_info(name: str = WIN_MODEL) -> tuple[str, dict[str, str]] | None:
    """(version, tags) of the registered champion, or None when there is none."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(name, "champion")
    except MlflowException:
        return None
    return str(version.version), dict(version.tags)


def model_source_problem(data: Path, tags: dict[str, str]) -> str | None:
    """Why the model with these version tags must not score `data` without --force (None: it may)."""
    return source_mismatch(tags_source(tags), data_source(data))


def refusal(data: Path, problem: str, task: str = "win") -> str:
    return (f"{problem}. Scoring this data with it would mix sources. Train on this data: `cvre features -d {data} "
            f"&& cvre train {task} -f {Path(data) / 'features'}`, pick another probability source (--probability "
            "crm or stage_rates), or pass --force to use the model anyway")


def check_champion_source(data: Path, force: bool = False, name: str = WIN_MODEL, task: str = "win") -> None:
    """Refuse (ProbabilityUnavailable) a champion trained on another source than `data`, unless forced."""
    info = champion_info(name)
    problem = model_source_problem(data, info[1]) if info else None
    if problem and not force:
        raise ProbabilityUnavailable(refusal(data, problem, task))


def features_source_problem(features_dir: Path, name: str) -> str | None:
    """Why the champion `name` should not score this feature folder (its manifest's source), or None."""
    import json

    manifest = Path(features_dir) / "feature_manifest.json"
    info = champion_info(name)
    if info is None or not manifest.exists():
        return None
    problem = source_mismatch(tags_source(info[1]), json.loads(manifest.read_text()).get("data_source", {}))
    if problem is None:
        return None
    return (f"{problem}; monitoring it would judge one source by another. Train on this data (`cvre train -f "
            f"{features_dir}`) or pass --force")


def load_champion(data: Path, force: bool = False):
    """The champion CvreModel and its tags, refused (ProbabilityUnavailable) when trained on another source."""
    import mlflow

    info = champion_info()
    if info is None:
        raise ProbabilityUnavailable(f"no champion {WIN_MODEL} in the MLflow store at {mlflow.get_tracking_uri()}; "
                                     "train one (`cvre train win`) or use --probability crm / stage_rates")
    version, tags = info
    problem = model_source_problem(data, tags)
    if problem and not force:
        raise ProbabilityUnavailable(refusal(data, problem))
    model = mlflow.pyfunc.load_model(CHAMPION_URI).unwrap_python_model()
    return model, version, tags


def missing_inputs(model, deals: pd.DataFrame, name: str) -> str | None:
    """Why `model` cannot score these deal rows: the features it was trained on that the data lacks, and the
    mapping fields that would supply them (None: it can)."""
    absent = [f for f in model.spec["features"] if f not in deals.columns]
    if not absent:
        return None
    shown = ", ".join(absent[:6]) + (f" and {len(absent) - 6} more" if len(absent) > 6 else "")
    return (f"{name} needs {len(absent)} feature(s) this data lacks ({shown}): map "
            f"{', '.join(supplying_fields(absent))} to supply them")


def crm_probability(deals: pd.DataFrame, opps: pd.DataFrame | None) -> np.ndarray | None:
    """The export's own win probability per deal (opportunities.crm_win_probability), None when absent."""
    if opps is None or "crm_win_probability" not in opps.columns or opps["crm_win_probability"].isna().all():
        return None
    crm = opps.set_index("opportunity_id")["crm_win_probability"].astype("Float64")
    values = deals["opportunity_id"].map(crm).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return values


def stage_win_rates(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, float], float, str]:
    """Historical win rate of deals that reached each stage, from the closed deals; the overall rate; a note."""
    opps = tables["opportunities"]
    closed = opps[opps["outcome"].isin(["won", "lost"])] if "outcome" in opps.columns else opps.iloc[:0]
    if closed.empty:
        raise ProbabilityUnavailable("stage_rates: the export has no closed deals (outcome won/lost) to learn "
                                     "win rates from; map opportunities.outcome or use --probability crm")
    won = closed.set_index("opportunity_id")["outcome"].eq("won")
    overall = float(won.mean())
    history = tables.get("stage_history")
    if history is None or history.empty:
        return {}, overall, (f"stage_rates: no stage history, so every open stage takes the overall win rate of "
                             f"{len(closed):,} closed deals ({overall:.1%})")
    reached = history[history["opportunity_id"].isin(won.index)][["opportunity_id", "stage"]].drop_duplicates()
    reached = reached.assign(won=reached["opportunity_id"].map(won).astype(float))
    rates = reached[reached["stage"].isin(STAGES_OPEN)].groupby("stage")["won"].mean().to_dict()
    shown = ", ".join(f"{s} {rates[s]:.0%}" for s in STAGES_OPEN if s in rates)
    note = f"stage_rates: win rate of the {len(closed):,} closed deals that reached each stage ({shown})"
    return rates, overall, note


def stage_rate_probability(deals: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, str]:
    rates, overall, note = stage_win_rates(tables)
    stage = deals["current_stage"] if "current_stage" in deals else pd.Series(None, index=deals.index, dtype=object)
    return stage.map(rates).fillna(overall).to_numpy(dtype=float), note


def truth_probability(deals: pd.DataFrame, data: Path) -> np.ndarray:
    path = Path(data) / TRUTH_DIR / "deals_truth.parquet"
    if not path.exists():
        raise ProbabilityUnavailable(f"{path}: truth exists only for simulated worlds; use --probability model, crm "
                                     "or stage_rates")
    truth = read_table(Path(data) / TRUTH_DIR, "deals_truth", ["opportunity_id", "true_win_prob"])
    return deals[["opportunity_id"]].merge(truth, how="left")["true_win_prob"].to_numpy()


def champion_for(data: Path, requested: str, force: bool = False):
    """The champion `win_probability` would score with (model, version, tags), or why not (a
    ProbabilityUnavailable, raised at once when the model was asked for by name); None when no model is asked for.
    Loaded first so that the deal rows are built with its feature spec."""
    if requested not in ("auto", "model"):
        return None
    try:
        return load_champion(data, force=force)
    except ProbabilityUnavailable as exc:
        if requested == "model":
            raise
        return exc


def win_probability(deals: pd.DataFrame, tables: dict[str, pd.DataFrame], data: Path, requested: str,
                    force: bool = False, champion=None) -> Probability:
    """The probability from `requested`, or under `auto` the first usable of model, crm, stage_rates.
    `champion`: `champion_for`'s answer where the caller has it."""
    if requested not in SOURCES:
        raise ProbabilityUnavailable(f"probability: expected one of {', '.join(SOURCES)}, got {requested!r}")
    if requested == "truth":
        return Probability(truth_probability(deals, data), "truth", "truth: the simulator's true probabilities")
    skipped = []
    if requested in ("auto", "model"):
        found = champion_for(data, requested, force) if champion is None else champion
        if isinstance(found, ProbabilityUnavailable):
            skipped.append(str(found).split(". ")[0])
        elif (lack := missing_inputs(found[0], deals, f"the champion {WIN_MODEL} v{found[1]}")) is not None:
            if requested == "model":
                raise ProbabilityUnavailable(f"{lack}; or train on this data (`cvre train win`), or use "
                                             "--probability crm / stage_rates")
            skipped.append(lack)
        else:
            model, version, tags = found
            low = tags.get("low_data") == "true"
            values = model.predict(None, deals)["probability"].to_numpy()
            note = (f"model: champion {WIN_MODEL} v{version}, trained on {describe(tags_source(tags))}"
                    + (" (a low_data model: few labelled deals, read it with care)" if low else ""))
            return Probability(values, "model", note, model, low)
    if requested in ("auto", "crm"):
        crm = crm_probability(deals, tables.get("opportunities"))
        if crm is not None:
            filled = np.isnan(crm)
            note = "crm: the export's own win probability (opportunities.crm_win_probability)"
            if filled.any():
                rates, _ = stage_rate_probability(deals, tables)
                crm = np.where(filled, rates, crm)
                note += f"; {int(filled.sum()):,} deals without one take their stage rate"
            return Probability(crm, "crm", "; ".join([*skipped, note]))
        if requested == "crm":
            raise ProbabilityUnavailable("crm: the export has no win probability; map opportunities."
                                         "crm_win_probability (rule `percent` for 0-100) or use --probability "
                                         "stage_rates")
        skipped.append("no CRM probability (opportunities.crm_win_probability)")
    values, note = stage_rate_probability(deals, tables)
    return Probability(values, "stage_rates", "; ".join([*skipped, note]))
