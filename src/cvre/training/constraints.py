"""Domain knowledge as LightGBM constraints: monotone directions and interaction groups, checked by feature name."""

from __future__ import annotations

import logging

from cvre.core.config import ConfigError
from cvre.training.config import Task, TaskConfig

log = logging.getLogger(__name__)


def constraint_params(task: Task, task_cfg: TaskConfig, features: list[str], known: list[str]) -> dict:
    """`monotone_constraints` / `interaction_constraints` aligned to `features` (the columns the model sees).

    A name in neither `known` (the feature pipeline's list for this task) nor `features` is a typo: ConfigError naming
    the key and the known features. A known feature absent from this dataset (e.g. empty in an export) is skipped.
    Features in no interaction group form one more group together, so none is dropped from the model.
    """
    named = list(task_cfg.monotone) + [name for group in task_cfg.interactions for name in group]
    unknown = sorted({name for name in named if name not in features and name not in known})
    if unknown:
        raise ConfigError(f"training config: {task}: unknown feature(s) {', '.join(unknown)} in monotone/interactions; "
                          f"{task} features are: {', '.join(known or features)}")
    skipped = sorted({name for name in named if name not in features})
    if skipped:
        log.info("%s: constraints on features absent from this data skipped: %s", task, ", ".join(skipped))
    params: dict = {}
    if task_cfg.monotone:
        params["monotone_constraints"] = [int(task_cfg.monotone.get(name, 0)) for name in features]
        # "advanced" scored some deals against the constraint (LightGBM 4.7, behaviour test); "intermediate" holds
        params["monotone_constraints_method"] = "intermediate"
    if task_cfg.interactions:
        index = {name: i for i, name in enumerate(features)}
        groups = [[index[n] for n in group if n in index] for group in task_cfg.interactions]
        rest = [i for name, i in index.items() if not any(name in g for g in task_cfg.interactions)]
        params["interaction_constraints"] = [g for g in [*groups, rest] if g]
    return params
