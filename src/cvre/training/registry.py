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


def is_low_data(client: MlflowClient, name: str, version: str) -> bool:
    """A version trained below the minimum labelled rows (tag `low_data`)."""
    return client.get_model_version(name, str(version)).tags.get("low_data") == "true"


def set_champion(client: MlflowClient, name: str, version: str) -> None:
    """Move `champion` to `version`, remembering the one it replaces so it can be rolled back."""
    current = alias_version(client, name, CHAMPION)
    if current == str(version):  # already champion
        return
    if current is not None:
        history = _history(client, name)
        client.set_registered_model_tag(name, PREVIOUS_TAG, ",".join([*history, current]))
    client.set_registered_model_alias(name, CHAMPION, str(version))


def promote(client: MlflowClient, name: str, version: str) -> str | None:
    """Make an existing, finished version the champion by hand; returns the champion it replaced.

    Everything is checked before anything is written: an unknown model or version, or a version whose training
    run never finished, changes nothing.
    """
    check_version(client, name, str(version))
    previous = alias_version(client, name, CHAMPION)
    set_champion(client, name, str(version))
    return previous


def check_version(client: MlflowClient, name: str, version: str) -> None:
    """ValueError naming what is wrong unless `name` v`version` exists and its run finished."""
    try:
        client.get_registered_model(name)
    except MlflowException:
        known = ", ".join(sorted(m.name for m in client.search_registered_models())) or "none"
        raise ValueError(f"no registered model {name!r} (registered: {known})") from None
    if not version.isdigit():
        raise ValueError(f"{name}: version {version!r} is not a version number")
    try:
        run_id = client.get_model_version(name, version).run_id
    except MlflowException:
        raise ValueError(f"{name} has no version {version} (versions: {', '.join(_versions(client, name))})") from None
    status = _run_status(client, run_id)
    if status not in (None, "FINISHED"):
        raise ValueError(f"{name} v{version}: its training run {run_id} is {status}, not FINISHED; promote a "
                         "version whose run completed")


def _versions(client: MlflowClient, name: str) -> list[str]:
    return sorted((str(v.version) for v in client.search_model_versions(f"name='{name}'")), key=int)


def _run_status(client: MlflowClient, run_id: str | None) -> str | None:
    """The run's status; None for a version without a run (registered by hand) or whose run was deleted."""
    if not run_id:
        return None
    try:
        return client.get_run(run_id).info.status
    except MlflowException:
        return None


def _history(client: MlflowClient, name: str) -> list[str]:
    tags = client.get_registered_model(name).tags
    return [v for v in tags.get(PREVIOUS_TAG, "").split(",") if v]


def rollback(client: MlflowClient, name: str) -> str:
    """Give `champion` back to the version it had before; returns that version.

    Earlier champions that were deleted since, or that are the champion now, are skipped.
    """
    try:
        history = _history(client, name)
    except MlflowException:
        raise ValueError(f"no registered model {name!r}") from None
    current = alias_version(client, name, CHAMPION)
    existing = set(_versions(client, name))
    while history:
        previous = history.pop()
        if previous in existing and previous != current:
            client.set_registered_model_alias(name, CHAMPION, previous)
            client.set_registered_model_tag(name, PREVIOUS_TAG, ",".join(history))
            return previous
    raise ValueError(f"{name}: no earlier champion to roll back to")


def gate(challenger: float, champion: float | None, higher_is_better: bool, tolerance: float) -> Decision:
    """Challenger becomes champion if it is no worse than the champion on the same test data."""
    if champion is None:
        return Decision(True, "no champion yet")
    delta = challenger - champion if higher_is_better else champion - challenger
    if delta >= -tolerance:
        return Decision(True, f"challenger {challenger:.4f} vs champion {champion:.4f} (within tolerance {tolerance})")
    return Decision(False, f"challenger {challenger:.4f} worse than champion {champion:.4f} beyond {tolerance}")


def list_models(client: MlflowClient, names: list[str]) -> list[dict]:
    """One row per registered version, all values text (or None): model, version, aliases, metric, value, run."""
    rows = []
    for name in names:
        try:
            versions = client.search_model_versions(f"name='{name}'")
            aliases = client.get_registered_model(name).aliases  # search results carry no aliases
        except MlflowException:
            continue
        by_version: dict[str, list[str]] = {}
        for alias, version in sorted(aliases.items()):
            by_version.setdefault(str(version), []).append(alias)
        for v in sorted(versions, key=lambda v: int(v.version)):
            try:
                run = client.get_run(v.run_id) if v.run_id else None
            except MlflowException:  # the run was deleted: the version is still listed
                run = None
            metrics = run.data.metrics if run else {}
            key = "test_rmse" if "amount" in name else "test_auc"
            aliases = ",".join(by_version.get(str(v.version), []))
            rows.append({"model": name, "version": str(v.version), "aliases": aliases, "metric": key,
                         "value": metrics.get(key), "run_id": v.run_id or "",
                         "run_status": run.info.status if run else ""})
    return rows
