"""LightGBM on a Dask cluster vs one machine: the win model's test AUC gap, with and without shared bins.

For each world size (simulated with `cvre simulate -s 42`, features with `cvre features`; reused when present,
not timed), the win task is trained on one machine and across a 2-worker `distributed.LocalCluster` (each worker holds
half the rows) with `cvre.deploy.cluster_training.train_on_cluster`, once with each worker's own bins
(`lightgbm.dask` as it is) and once with the bins shared. Two parameter sets: LightGBM's defaults (leaves bounded
by row count, `min_child_samples` 20) and no split decided on row counts (`COUNT_FREE_SPLITS`: leaves bounded by
hessian, `min_child_weight` 2; categorical splits one category against the rest).
Per run: AUC gap, largest prediction difference on the test rows, the first tree where the models part and the
node there nearest the root split differently (each model's split and gain, the node's rows and the rows the
cluster counts there: data-parallel LightGBM estimates them from hessians).
Results go to benchmarks/results/cluster_training.json.

    .venv/bin/python benchmarks/cluster_training.py                          # 1,500, 5,000 and 20,000 deals
    .venv/bin/python benchmarks/cluster_training.py --deals 1500 --workdir /tmp/worlds
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, ensure_repo_on_path, machine_info, write_result  # noqa: E402
from tuning_workers import world  # noqa: E402  (simulated world + features, reused when present)

BASE = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "random_state": 7, "verbose": -1}


def _trees(model) -> list[str]:
    text = model.booster_.model_to_string()
    return [m.group(1) for m in re.finditer(r"Tree=\d+\n(.*?)\n\n", text, re.S)]


def _first_parting_tree(a, b) -> int | None:
    """The first tree whose splits (features, thresholds, children) differ; None: all the same."""
    def shape(tree: str) -> list[str]:
        return [line for line in tree.splitlines() if line.startswith(("split_feature", "threshold", "left_child"))]
    return next((i for i, (x, y) in enumerate(zip(_trees(a), _trees(b), strict=False)) if shape(x) != shape(y)),
                None)


def _nodes(model) -> list[list[dict]]:
    """Per tree, its split nodes in depth-first order, each with its path from the root ("r", "rL", "rLR"...)."""
    dump = model.booster_.dump_model()
    names = dump["feature_names"]

    def walk(node: dict, path: str) -> list[dict]:
        if "split_index" not in node:
            return []
        here = {"node": path, "feature": names[node["split_feature"]], "threshold": node["threshold"],
                "gain": round(node["split_gain"], 4), "rows": node["internal_count"]}
        return [here, *walk(node["left_child"], path + "L"), *walk(node["right_child"], path + "R")]
    return [walk(tree["tree_structure"], "r") for tree in dump["tree_info"]]


def parting_split(local, spread, tree: int | None) -> dict | None:
    """Where the trees part: the first node of tree `tree` split differently, with each model's split and gain, the
    node's rows (exact on one machine) and the rows the cluster counts there (data-parallel LightGBM carries a
    leaf's row count down from its parent's split, estimated from hessians)."""
    if tree is None:
        return None
    mine, theirs = ({n["node"]: n for n in nodes} for nodes in (_nodes(local)[tree], _nodes(spread)[tree]))
    keys = ("feature", "threshold")
    def split(node: dict | None) -> tuple | None:
        return node and tuple(node[k] for k in keys)
    parted = sorted((path for path in {**mine, **theirs} if split(mine.get(path)) != split(theirs.get(path))),
                    key=lambda path: (len(path), path))  # the one nearest the root (None: a leaf there)
    if not parted:  # the same splits, grown in another shape
        return {"tree": tree, "node": None}
    path = parted[0]
    one, cluster = mine.get(path), theirs.get(path)
    return {"tree": tree, "node": path, "rows": one and one["rows"],
            "rows_counted_by_cluster": cluster and cluster["rows"],
            "one_machine": one and {k: one[k] for k in (*keys, "gain")},
            "cluster": cluster and {k: cluster[k] for k in (*keys, "gain")}}


def compare(client, features: Path) -> list[dict]:
    import dask.dataframe as dd
    import lightgbm as lgb
    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from cvre.deploy.cluster_training import COUNT_FREE_SPLITS, train_on_cluster
    from cvre.training.data import load_task

    data = load_task(features, "win")
    X, y, X_test, y_test = data.X["train"], data.y["train"], data.X["test"], data.y["test"]
    parts = client.persist([dd.from_pandas(X, npartitions=2),
                            dd.from_pandas(pd.Series(y, index=X.index), npartitions=2)])
    rows = []
    for bounds, extra in (("row counts", {}), ("no counts", {**COUNT_FREE_SPLITS, "min_child_weight": 2.0})):
        params = BASE | extra
        local = lgb.LGBMClassifier(**params).fit(X, y)
        p_local = local.predict_proba(X_test)[:, 1]
        auc_local = roc_auc_score(y_test, p_local)
        for shared in (False, True):
            spread = train_on_cluster(client, *parts, params, shared_bins=shared)
            p_spread = spread.predict_proba(X_test)[:, 1]
            rows.append({"train_rows": len(X), "test_rows": len(X_test), "splits_on": bounds,
                         "shared_bins": shared, "auc_one_machine": round(auc_local, 5),
                         "auc_cluster": round(roc_auc_score(y_test, p_spread), 5),
                         "auc_gap": round(roc_auc_score(y_test, p_spread) - auc_local, 5),
                         "max_prediction_diff": float(np.abs(p_spread - p_local).max()),
                         "first_parting_tree": _first_parting_tree(local, spread),
                         "parting_split": parting_split(local, spread, _first_parting_tree(local, spread)),
                         "machines": 2 if "[num_machines: 2]" in spread.booster_.model_to_string() else 1})
            print(f"{len(X):>6} train rows, splits on {bounds:>10}, shared bins {shared!s:>5}: gap "
                  f"{rows[-1]['auc_gap']:+.4f}, max prediction diff {rows[-1]['max_prediction_diff']:.3g}, "
                  f"parts at tree {rows[-1]['first_parting_tree']}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, nargs="+", default=[1500, 5000, 20_000])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cvre-cluster-training")
    args = parser.parse_args()
    ensure_repo_on_path()
    import distributed

    load_before = os.getloadavg()
    worlds = {deals: world(args.workdir, deals) for deals in args.deals}
    runs = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  host="127.0.0.1") as cluster, distributed.Client(cluster) as client:
        for deals, features in worlds.items():
            runs += [{"deals": deals, **row} for row in compare(client, features)]
    result = {"benchmark": "cluster_training", "when": datetime.now(UTC).isoformat(timespec="seconds"),
              "command": " ".join([Path(sys.executable).name, *sys.argv]), "workers": 2,
              "load_average_before": [round(x, 2) for x in load_before],
              "load_average_after": [round(x, 2) for x in os.getloadavg()], "machine": machine_info(),
              "params": BASE, "runs": runs}
    print(write_result(result, RESULTS_DIR / "cluster_training.json"))


if __name__ == "__main__":
    main()
