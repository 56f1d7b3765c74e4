"""MLflow model registry: challenger/champion aliases, the promotion gate, list and rollback."""

from __future__ import annotations

from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

CHAMPION, CHALLENGER = "champion", "challenger"
PREVIOUS_TAG = "previous_champions"


@dataclass
class Decision:
    promoted: bool
    reason: str


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_champion(client: MlflowClient, name: str, version: str) -> None:
    """Move `champion` to `version`, remembering the one it replaces so it can be rolled back."""
    current = alias_version(client, name, CHAMPION)
    if current == str(version):  # already champion
        return
    if current is not None:
        history = _history(client, name)
        client.set_registered_model_tag(name, PREVIOUS_TAG, ",".join([*history, current]))
    client.set_registered_model_alias(name, CHAMPION, str(version))


def _history(client: MlflowClient, name: str) -> list[str]:
    tags = client.get_registered_model(name).tags
    return [v for v in tags.get(PREVIOUS_TAG, "").split(",") if v]


def rollback(client: MlflowClient, name: str) -> str:
    """Give `champion` back to the version it had before; returns that version."""
    history = _history(client, name)
    if not history:
        raise ValueError(f"{name}: no earlier champion to roll back to")
    previous = history.pop()
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_registered_model_tag(name, PREVIOUS_TAG, ",".join(history))
    return previous


def gate(challenger: float, champion: float | None, higher_is_better: bool, tolerance: float) -> Decision:
    """Challenger becomes champion if it is no worse than the champion on the same test data."""
    if champion is None:
        return Decision(True, "no champion yet")
    delta = challenger - champion if higher_is_better else champion - challenger
    if delta >= -tolerance:
        return Decision(True, f"challenger {challenger:.4f} vs champion {champion:.4f} (within tolerance {tolerance})")
    return Decision(False, f"challenger {challenger:.4f} worse than champion {champion:.4f} beyond {tolerance}")


def list_models(client: MlflowClient, names: list[str]) -> list[dict]:
    rows = []
    for name in names:
        try:
            versions = client.search_model_versions(f"name='{name}'")
        except MlflowException:
            continue
        for v in sorted(versions, key=lambda v: int(v.version)):
            run = client.get_run(v.run_id) if v.run_id else None
            metrics = run.data.metrics if run else {}
            key = "test_rmse" if "amount" in name else "test_auc"
            rows.append({"model": name, "version": v.version, "aliases": ",".join(v.aliases),
                         "metric": key, "value": metrics.get(key), "run_id": v.run_id})
    return rows
