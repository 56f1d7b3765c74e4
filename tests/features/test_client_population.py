"""RFM scores of a few clients ranked among a population equal those of the whole population's build."""

import pandas as pd

from cvre.core.io import read_tables
from cvre.features.clients import RFM_VALUES, client_features
from cvre.features.config import FeatureConfig
from cvre.features.snapshot import tables_as_of

CFG = FeatureConfig().clients
SNAPSHOT = pd.Timestamp("2024-06-30")


def _only(tables: dict[str, pd.DataFrame], ids: list[str]) -> dict[str, pd.DataFrame]:
    return {name: df[df["account_id"].isin(ids)] if "account_id" in df.columns else df for name, df in tables.items()}


def test_a_few_clients_ranked_among_the_population_score_as_in_the_full_build(small_world):
    tables = tables_as_of(read_tables(small_world / "export"), SNAPSHOT)
    full = client_features(tables, SNAPSHOT, CFG).set_index("account_id")
    ids = full.index[[0, 7, 19, -1]].tolist()
    alone = client_features(_only(tables, ids), SNAPSHOT, CFG).set_index("account_id")
    ranked = client_features(_only(tables, ids), SNAPSHOT, CFG, population=full[RFM_VALUES]).set_index("account_id")
    pd.testing.assert_frame_equal(ranked.loc[ids], full.loc[ids], check_index_type=False)
    assert not alone[["r_score", "f_score", "m_score"]].equals(full.loc[ids, ["r_score", "f_score", "m_score"]])


def test_a_new_client_is_ranked_after_its_equals(small_world):
    tables = tables_as_of(read_tables(small_world / "export"), SNAPSHOT)
    full = client_features(tables, SNAPSHOT, CFG).set_index("account_id")
    best = full["monetary"].idxmax()
    twin = _only(tables, [best])
    twin = {name: df.assign(account_id="NEW") if "account_id" in df.columns else df for name, df in twin.items()}
    new = client_features(twin, SNAPSHOT, CFG, population=full[RFM_VALUES]).set_index("account_id").loc["NEW"]
    assert new["m_score"] == CFG.rfm_bins and new["monetary"] == full.loc[best, "monetary"]
