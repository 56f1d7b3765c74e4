"""The retraining policy: when drift or lost performance passes its threshold, and the exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field

from cvre.monitoring.config import PolicyConfig

# Exit codes of `cvre monitor` for a scheduler (cron, Airflow): documented in docs/monitoring.md.
OK, ERROR, ALERT, RETRAINED = 0, 1, 3, 4


@dataclass
class Verdict:
    alert: bool = False
    retrain: bool = False
    reasons: list[str] = field(default_factory=list)


def decide(drift_share: float, prediction_drifted: bool, perf: dict, policy: PolicyConfig) -> Verdict:
    """Retrain when the drifted share or the AUC loss passes its threshold; alert on those or score drift."""
    v = Verdict()
    if drift_share >= policy.drift_share:
        v.retrain = True
        v.reasons.append(f"{drift_share:.0%} of feature columns drifted (threshold {policy.drift_share:.0%})")
    if perf.get("performance_lost"):
        v.retrain = True
        v.reasons.append(f"AUC fell by {perf['auc_drop']:.3f} on {perf['current_rows']} newly labelled rows "
                         f"(threshold {policy.auc_drop})")
    if prediction_drifted and policy.prediction_drift:
        v.reasons.append("the score distribution drifted")
    if perf.get("target_drifted"):
        v.reasons.append(f"the label rate moved ({perf['reference_label_rate']:.1%} -> "
                         f"{perf['current_label_rate']:.1%})")
    v.alert = v.retrain or bool(v.reasons)
    return v
