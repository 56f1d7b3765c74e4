"""A later period with configured shifts: lead source mix, slower responses, prices, a new product.

Deals created on or after `shift.start` are shifted; the others are drawn exactly as without a shift
(every extra random draw happens only when a shift is configured, so unshifted worlds stay identical).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cvre.core.config import StrictModel, load_config

LEAD_SOURCES = ("web", "referral", "event", "outbound", "partner")
BASE_LEAD_MIX = (0.35, 0.2, 0.15, 0.2, 0.1)


class NewProduct(StrictModel):
    product: str = Field("Talent Cloud", min_length=1)
    series: str = "subscription"
    list_price: float = Field(25_000.0, gt=0, le=1e12)
    share: float = Field(0.15, gt=0, lt=1, description="share of shifted deals that sell it")
    win_effect: float = Field(-0.10, ge=-10, le=10, description="its effect on the true win log-odds")


class Shift(StrictModel):
    start: date | None = Field(None, description="deals created on/after this date are shifted; null = all deals")
    lead_source_mix: dict[str, float] | None = Field(None, description="weights per lead source (web, referral, "
                                                     "event, outbound, partner); normalised")
    response_delay_factor: float = Field(1.0, gt=0, le=1000, description="lead response hours are multiplied by it")
    price_factor: float = Field(1.0, gt=0, le=1000, description="deal amounts are multiplied by it (a price change)")
    new_product: NewProduct | None = None
    draw: int = Field(1, ge=0, le=1_000_000, description="random draw of the period's deals and clients: same company "
                      "(cast), new deals; 0 = the base period's draws")

    @model_validator(mode="after")
    def _known_sources(self) -> Shift:
        if self.lead_source_mix is not None:
            unknown = set(self.lead_source_mix) - set(LEAD_SOURCES)
            if unknown or not self.lead_source_mix or min(self.lead_source_mix.values()) < 0 \
                    or sum(self.lead_source_mix.values()) <= 0:
                raise ValueError(f"lead_source_mix: weights >= 0 over {', '.join(LEAD_SOURCES)} (got "
                                 f"{self.lead_source_mix}; unknown {sorted(unknown)})")
        return self

    def lead_probabilities(self) -> np.ndarray:
        weights = np.array([self.lead_source_mix.get(s, 0.0) for s in LEAD_SOURCES]) if self.lead_source_mix \
            else np.array(BASE_LEAD_MIX)
        return weights / weights.sum()


def load_shift(path: Path | None) -> Shift:
    """A shift YAML (configs/shift.yaml by default): the `shift:` block of a simulate config on its own."""
    return load_config(Shift, path, "shift.yaml")


def with_new_product(products: pd.DataFrame, shift: Shift | None) -> pd.DataFrame:
    """The product catalogue plus the shift's new product (share 0: only shifted deals draw it)."""
    if shift is None or shift.new_product is None:
        return products
    p = shift.new_product
    row = pd.DataFrame({"product": [p.product], "series": [p.series], "list_price": [p.list_price],
                        "win_effect": [p.win_effect], "share": [0.0]})
    return pd.concat([products, row], ignore_index=True)


def shifted_rows(shift: Shift | None, world_start: date, created_day: np.ndarray) -> np.ndarray:
    if shift is None:
        return np.zeros(len(created_day), bool)
    if shift.start is None:
        return np.ones(len(created_day), bool)
    return created_day >= float((pd.Timestamp(shift.start) - pd.Timestamp(world_start)).days)


def shift_products(rng: np.random.Generator, prod: np.ndarray, shifted: np.ndarray, shift: Shift | None,
                   n_products: int) -> np.ndarray:
    """Some shifted deals sell the new product (the last row of the catalogue)."""
    if shift is None or shift.new_product is None or not shifted.any():
        return prod
    takes = shifted & (rng.random(len(prod)) < shift.new_product.share)
    return np.where(takes, n_products - 1, prod)


def shift_lead_sources(rng: np.random.Generator, sources: np.ndarray, shifted: np.ndarray,
                       shift: Shift | None) -> np.ndarray:
    if shift is None or shift.lead_source_mix is None or not shifted.any():
        return sources
    out = sources.copy()
    out[shifted] = rng.choice(LEAD_SOURCES, size=int(shifted.sum()), p=shift.lead_probabilities())
    return out


def factor(shifted: np.ndarray, value: float) -> np.ndarray:
    return np.where(shifted, value, 1.0)


def later_period(cfg, shift: Shift, months: int = 12):
    """The same world `months` later (same length, seed and cast), shifted from the old as_of on.

    Same length and calendar phase, so calendar and history features (snapshot month, prior deals)
    are comparable with the training period and only the configured shifts move.
    """
    later = cfg.model_copy(deep=True)
    later.world.start = (pd.Timestamp(cfg.world.start) + pd.DateOffset(months=months)).date()
    later.world.as_of = (pd.Timestamp(cfg.world.as_of) + pd.DateOffset(months=months)).date()
    later.shift = shift.model_copy(update={"start": shift.start or cfg.world.as_of})
    return later
