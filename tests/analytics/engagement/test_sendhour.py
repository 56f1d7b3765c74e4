"""The best send hour comes from a model across hours, with its uncertainty, and finds the planted hour."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cvre.analytics.engagement.sendhour import best_hour_summary, best_send_hour, campaign_hour_counts
from cvre.features.campaigns import campaign_funnel
from cvre.simulation.clients import _campaigns
from cvre.simulation.clock import span_days
from cvre.simulation.config import SimulationConfig
from cvre.simulation.entities import make_cast


def _world_funnel(seed: int, deals: int = 3000, per_month: float = 3.0, best: int = 19) -> pd.DataFrame:
    cfg = SimulationConfig(deals=deals, seed=seed)
    cfg.world.campaigns_per_month = per_month
    cfg.engagement.best_send_hour = best
    cast = make_cast(np.random.default_rng([seed, 0]), cfg)
    campaigns, messages = _campaigns(np.random.default_rng([seed, 2]), cast, cfg,
                                     span_days(cfg.world.start, cfg.world.as_of))
    return campaign_funnel(messages, campaigns)


def test_best_hour_is_the_planted_one():
    for seed, best in ((11, 19), (12, 10)):
        table = best_send_hour(campaign_hour_counts(_world_funnel(seed, best=best)), draws=2000, seed=1)
        summary = best_hour_summary(table)
        assert summary["best_hour"] == best, table
        assert summary["p_best"] > 0.5
        assert summary["ci_low"] < summary["rate"] < summary["ci_high"]
        assert abs(table["p_best"].sum() - 1) < 1e-9


def test_little_data_gives_honest_uncertainty():
    table = best_send_hour(campaign_hour_counts(_world_funnel(13, deals=300, per_month=1.0)), draws=2000, seed=1)
    assert table["p_best"].max() < 0.9  # a couple of campaigns per hour cannot settle the question
    assert ((table["ci_high"] - table["ci_low"]) > 0.05).all()


def test_one_hour_only_is_a_table_not_an_error():
    counts = pd.DataFrame({"campaign_id": ["c1", "c2"], "send_hour": [9, 9], "template_variant": ["A", "B"],
                           "delivered": [100, 100], "success": [40, 50]})
    table = best_send_hour(counts)
    assert table["p_best"].tolist() == [1.0] and table["raw_rate"].item() == 0.45
