"""LightGBM trained across the workers of a Dask cluster (`lightgbm.dask`) with the bins one machine would use.

Data-parallel LightGBM lets each worker find the bins of a share of the features from its own rows, so bin
bounds, which categories get a bin and whether a feature has a missing-value bin all depend on which rows a
worker holds, and the model drifts from the one-machine model (AUC gaps up to 0.019 measured,
benchmarks/cluster_training.py). Here every worker first builds the bins ONCE, on its own, from the same sample
of the training rows (all of them up to LightGBM's `bin_construct_sample_cnt`, 200,000 by default: the rows one
machine finds its bins from), and bins its own rows on them (a LightGBM reference Dataset, as for validation
sets), before the workers connect. The histograms the workers then sum are the one machine's.

What stays apart: data-parallel LightGBM knows a leaf's row count only as an estimate from hessian sums (exact on
one machine), so whatever compares row counts (`min_child_samples`; for categorical splits of many categories
against many also `cat_smooth`'s cut and `min_data_per_group`) can decide a split differently, and the trees
part some rounds in. `COUNT_FREE_SPLITS` turns those off (leaves bounded by hessian, `min_child_weight`, instead;
categorical splits one category against the rest): the cluster model then equals the one-machine model on the
test world and a 5,000-deal world, but not on every world, and no parameter closes the rest: the cluster knows a
leaf's rows only as its parent's split estimated them (sum of hessians times rows per hessian, rounded per bin;
one machine counts them), and a threshold whose rows estimated on its far side exceed that estimated total leaves
"fewer than 0" rows on the near side, which LightGBM refuses whatever `min_data_in_leaf` (>= 0) is. So a split
with a small child that one machine takes can be refused on the cluster (benchmarks/cluster_training.py records
the node: 1,500 deals, round 35, 241 rows counted as 220; 20,000 deals, round 21, 450 counted as 405).

Categorical columns keep their codes on every worker when the Dask frame's categories are known (one pandas
dtype for all partitions): checked, not assumed.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import lightgbm as lgb
import lightgbm.sklearn
import numpy as np
import pandas as pd
from lightgbm.dask import DaskLGBMClassifier  # importable without dask; fitting needs it

SAMPLE_ROWS = 200_000  # LightGBM's default bin_construct_sample_cnt: the rows one machine finds its bins from
SAMPLE_PARAM = "cvre_bins_sample"  # the token of the shared sample; taken out before LightGBM sees the params
NOT_DATASET = ("n_estimators", "importance_type", "class_weight", "client", "machines", "local_listen_port",
               "num_machines", "time_out", SAMPLE_PARAM)
# No split decided on row counts (the cluster only estimates them): bound leaves by hessian (`min_child_weight`)
# and split categories one against the rest (LightGBM's many-vs-many categorical splits count rows)
COUNT_FREE_SPLITS = {"min_child_samples": 1, "max_cat_to_onehot": 256}
_SAMPLES: dict[str, pd.DataFrame] = {}  # on each worker: the shared bin samples of the trainings in progress


def _keep_sample(token: str, sample: pd.DataFrame) -> None:
    _SAMPLES[token] = sample


def _drop_sample(token: str) -> None:
    _SAMPLES.pop(token, None)


def bins_reference(sample: pd.DataFrame, params: dict) -> lgb.Dataset:
    """The LightGBM Dataset holding the bins one machine finds from `sample` with `params` (sklearn names)."""
    dataset_params = {k: v for k, v in params.items() if k not in NOT_DATASET} | {"verbose": -1}
    return lgb.Dataset(sample, label=np.zeros(len(sample)), params=dataset_params, free_raw_data=False).construct()


@contextmanager
def _training_set_binned_like(reference: lgb.Dataset) -> Iterator[None]:
    """`lightgbm.sklearn` builds its training Dataset itself: during this block it builds it on `reference`'s
    bins (the worker runs one fit at a time)."""
    original = lightgbm.sklearn.Dataset
    lightgbm.sklearn.Dataset = functools.partial(original, reference=reference)
    try:
        yield
    finally:
        lightgbm.sklearn.Dataset = original


def _without_sample_param(model: lgb.LGBMModel) -> lgb.LGBMModel:
    if SAMPLE_PARAM in model._other_params:
        model._other_params.pop(SAMPLE_PARAM)
        delattr(model, SAMPLE_PARAM)
    return model


class SharedBinsClassifier(lgb.LGBMClassifier):
    """The model each Dask worker fits: its rows binned on the shared sample's bins."""

    def fit(self, X, y, **kwargs):
        token = self.get_params()[SAMPLE_PARAM]
        _without_sample_param(self)
        reference = bins_reference(_SAMPLES[token], self.get_params())
        with _training_set_binned_like(reference):
            return super().fit(X, y, **kwargs)


class _SharedBinsDask(DaskLGBMClassifier):
    """`lightgbm.dask`'s classifier whose workers fit `SharedBinsClassifier`."""

    def fit(self, X, y, **kwargs):
        self._lgb_dask_fit(model_factory=SharedBinsClassifier, X=X, y=y, **kwargs)
        return self


def train_on_cluster(client, X, y, params: dict, sample_rows: int = SAMPLE_ROWS, shared_bins: bool = True
                     ) -> lgb.LGBMClassifier:
    """A LightGBM classifier trained across the workers of `client` (a `distributed.Client`) that hold the
    partitions of `X` (a Dask DataFrame) and `y` (a Dask Series); `params` as for `lightgbm.LGBMClassifier`
    (seeded: `random_state`). `shared_bins`: every worker bins the features as one machine would (False: each
    worker's own rows decide, `lightgbm.dask`'s default, for comparison)."""
    unknown = [c for c, dtype in X.dtypes.items() if isinstance(dtype, pd.CategoricalDtype) and not X[c].cat.known]
    if unknown:
        raise ValueError(f"categorical column(s) {', '.join(unknown)} have unknown categories on the cluster, so "
                         "workers could code them differently; call X.categorize() (or read them with known "
                         "categories) first")
    if not shared_bins:
        return DaskLGBMClassifier(client=client, **params).fit(X, y).to_local()
    rows = len(X)
    sample = X if rows <= sample_rows else X.sample(frac=sample_rows / rows, random_state=params.get("random_state"))
    token = uuid.uuid4().hex
    client.run(_keep_sample, token, sample.compute())
    try:
        model = _SharedBinsDask(client=client, **params, **{SAMPLE_PARAM: token}).fit(X, y).to_local()
    finally:
        client.run(_drop_sample, token)
    return _without_sample_param(model)
