"""Simulate a whole CRM world in chunks and write the export and the truth as Parquet."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from cvre.core.io import EXPORT_DIR, TRUTH_DIR, ChunkedTableWriter, write_json, write_table
from cvre.simulation import defects
from cvre.simulation.clients import simulate_clients
from cvre.simulation.clock import span_days
from cvre.simulation.config import SimulationConfig
from cvre.simulation.deals import simulate_deal_chunk
from cvre.simulation.engagement import engagement_truth, finish_chats
from cvre.simulation.entities import make_cast, public_accounts, public_contacts
from cvre.simulation.export import export_deal_chunk
from cvre.simulation.recruitment import recruitment_cast, recruitment_truth
from cvre.simulation.truth import POLICIES

CHUNK_TABLES = ("opportunities", "stage_history", "activities", "close_date_changes", "leads", "jobs")
_STREAM_CAST, _STREAM_DEALS, _STREAM_CLIENTS, _STREAM_EXPORT, _STREAM_ENGAGEMENT = range(5)


@dataclass
class WorldSummary:
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    defects: dict[str, int] = field(default_factory=dict)
    policy_recovery: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, *stream])


def policy_recovery(truth: pd.DataFrame, policies: tuple[str, ...]) -> dict[str, dict]:
    """True euros each policy recovers: EV = amount x true win probability, per scope."""
    out: dict[str, dict] = {}
    for scope, rows in (("open_pipeline", truth["open_at_as_of"]), ("all_deals", slice(None))):
        t = truth.loc[rows]
        amount, p = t["true_amount"], t["true_win_prob"]
        ev = float((amount * p).sum())
        ideal = float((amount * t["p_combined"]).sum())
        block = {"deals": len(t), "ev": ev, "value_at_risk": ideal - ev,
                 "value_at_risk_share": (ideal - ev) / ideal if ideal else 0.0}
        for policy in policies:
            gain = float((amount * (t[f"p_{policy}"] - p)).sum())
            won_delta = float((amount * (t[f"won_{policy}"].astype(float) - t["won_eventually"])).sum())
            block[policy] = {"recovered_ev": gain, "recovered_share_of_ev": gain / ev if ev else 0.0,
                             "realised_revenue_delta": won_delta}
        out[scope] = block
    return out


def simulate_world(cfg: SimulationConfig, out: Path, policies: tuple[str, ...] = POLICIES,
                   progress: bool = True) -> WorldSummary:
    """Write `out/export/*.parquet` (what a CRM would export) and `out/truth/*` (what generated it)."""
    began = time.perf_counter()
    out = Path(out)
    export_dir, truth_dir = out / EXPORT_DIR, out / TRUTH_DIR
    end_day = span_days(cfg.world.start, cfg.world.as_of)
    summary = WorldSummary(out)
    cast = recruitment_cast(make_cast(_rng(cfg.seed, _STREAM_CAST), cfg), cfg.recruitment, cfg.seed)
    draw = (cfg.shift.draw,) if cfg.shift is not None and cfg.shift.draw else ()  # a later period's own deals

    writers = {name: ChunkedTableWriter(export_dir, name) for name in CHUNK_TABLES}
    truth_writer = ChunkedTableWriter(truth_dir, "deals_truth")
    defect_writer = ChunkedTableWriter(truth_dir, "defects")
    truth_parts = []
    starts = list(range(0, cfg.deals, cfg.world.chunk_deals))
    bar = tqdm(starts, desc="simulating deals", unit="chunk", disable=None if progress else True)  # None: tty only
    for chunk_no, first in enumerate(bar):
        n = min(cfg.world.chunk_deals, cfg.deals - first)
        chunk = simulate_deal_chunk(_rng(cfg.seed, _STREAM_DEALS, chunk_no, *draw), cast, cfg, first, n, end_day)
        tables, truth, found = export_deal_chunk(_rng(cfg.seed, _STREAM_EXPORT, chunk_no, *draw), chunk, cast, cfg,
                                                 end_day)
        for name, frame in tables.items():
            writers[name].write(frame)
        truth_writer.write(truth)
        defect_writer.write(pd.DataFrame(found, columns=["table", "row_id", "defect"]).astype("string"))
        truth_parts.append(truth[["true_amount", "true_win_prob", "open_at_as_of", "won_eventually"]
                                 + [f"{k}_{p}" for p in POLICIES for k in ("p", "won")]])
    for writer in (*writers.values(), truth_writer):
        writer.close()
        summary.rows[writer.table] = writer.rows

    rng = _rng(cfg.seed, _STREAM_CLIENTS, *draw)
    client_tables, client_truth = simulate_clients(rng, cast, cfg, end_day)
    chats, support_messages, topics = finish_chats(_rng(cfg.seed, _STREAM_ENGAGEMENT, *draw), client_tables["chats"],
                                                   cfg.engagement, cfg.world.start, end_day)
    client_tables.update(chats=chats, support_messages=support_messages)
    contacts, dup_ids = defects.duplicate_contacts(rng, public_contacts(cast.contacts, cfg.world.start),
                                                   cfg.defects.duplicate_contacts)
    accounts, messy_ids = defects.mess_up_categories(rng, public_accounts(cast.accounts, cfg.world.start),
                                                     "industry", cfg.defects.messy_categories, "account_id")
    static = {"accounts": accounts, "contacts": contacts,
              "reps": cast.reps[[c for c in cast.reps.columns if not c.startswith("_")]],
              "products": cast.products[["product", "series", "list_price"]], **client_tables}
    for name, frame in static.items():
        write_table(frame, export_dir, name)
        summary.rows[name] = len(frame)
    write_table(client_truth, truth_dir, "clients_truth")
    extra = [("contacts", i, "duplicate_contact") for i in dup_ids] + \
            [("accounts", i, "messy_category") for i in messy_ids]
    defect_writer.write(pd.DataFrame(extra, columns=["table", "row_id", "defect"]).astype("string"))
    defect_writer.close()

    all_defects = pd.read_parquet(truth_dir / "defects.parquet", columns=["defect"])
    summary.defects = all_defects["defect"].value_counts().sort_index().to_dict()
    summary.policy_recovery = policy_recovery(pd.concat(truth_parts, ignore_index=True), policies)
    summary.seconds = time.perf_counter() - began
    write_json(summary.policy_recovery, truth_dir / "policy_recovery.json")
    write_json({"defects": summary.defects}, truth_dir / "defects_summary.json")
    if cfg.recruitment.enabled:
        write_json(recruitment_truth(cast, cfg.recruitment, cfg.world.start, end_day),
                   truth_dir / "recruitment_truth.json")
    write_json(engagement_truth(cfg.engagement, chats, topics), truth_dir / "engagement_truth.json")
    write_json({"seed": cfg.seed, "deals": cfg.deals, "as_of": cfg.world.as_of, "start": cfg.world.start,
                "rows": summary.rows, "policies": list(policies), "config": cfg.model_dump(mode="json")},
               out / "manifest.json")
    return summary
