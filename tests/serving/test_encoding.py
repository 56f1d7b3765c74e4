"""The request path's model input and calibration against the pandas path they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from cvre.serving.encoding import ModelInput, _calibrate
from cvre.training.train import PlattCalibrator


@pytest.mark.parametrize("calibrator", [IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1),
                                        PlattCalibrator(seed=3)])
def test_closed_form_calibration_equals_the_calibrator(calibrator):
    rng = np.random.default_rng(5)
    raw = rng.beta(2, 5, 2000)
    calibrator.fit(raw, (rng.random(2000) < raw).astype(int))
    scored = np.r_[rng.random(500), 0.0, 1.0, -0.2, 1.3]  # out of the fitted range too
    np.testing.assert_allclose(_calibrate(calibrator, scored), calibrator.predict(scored), rtol=0, atol=1e-12)


@pytest.mark.slow
def test_model_input_equals_the_typed_frame(registry):
    import mlflow

    from cvre.serving.config import ServingConfig
    from cvre.serving.models import load_deal_models

    mlflow.set_tracking_uri(registry["tracking_uri"])
    models = load_deal_models(ServingConfig())
    rows = pd.read_parquet(registry["features"] / "deals_test.parquet").head(300)
    rows.loc[rows.index[:20], "product"] = "a product never seen"
    records = [{k: (None if v is pd.NA else v) for k, v in r.items()} for r in rows.to_dict("records")]
    for model in (models.win, models.amount):
        expected = model.matrix(model.features(rows))
        np.testing.assert_array_equal(ModelInput.of(model).matrix(records), expected)
