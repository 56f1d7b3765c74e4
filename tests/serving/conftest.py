"""A real BentoML server on a free loopback port, serving tiny models from a temp MLflow registry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.training.tracking import setup_tracking
from cvre.training.train import train_task
from tests.training.test_training import tiny_config

API_KEY = "test-key-123"
KEY_ENV = "CVRE_TEST_SERVING_KEY"  # named in the test serving.yaml (api_key_env), as an operator would
MAX_BODY = 300_000  # bytes (max_body_bytes): small, so the limit is cheap to reach
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def registry(small_world, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serving-registry")
    features = build_features(small_world, FeatureConfig()).out
    cfg = tiny_config(tmp)
    setup_tracking(cfg.tracking)
    for task in ("win", "amount"):
        train_task(features, task, cfg)
    cfg.tuning.trials = 1  # the churn model only has to exist: its parity is tested, not its quality
    train_task(features, "churn", cfg)
    return {"tmp": tmp, "features": features, "tracking_uri": cfg.tracking.tracking_uri,
            "export": small_world / "export", "scoring_log": tmp / "scoring_log"}


@contextmanager
def running_server(tmp: Path, tracking_uri: str, scoring_log: Path | None = None, probe: str = "/readyz",
                   **serving) -> Iterator[str]:
    """`bentoml serve` of the scoring service on a free loopback port, on the champions of `tracking_uri`;
    yields its URL once `probe` answers 200 (/livez for a registry without a win model; `serving`: more
    serving.yaml keys)."""
    config = tmp / "serving.yaml"
    config.write_text(yaml.safe_dump({"tracking_uri": tracking_uri, "max_batch_size": 5,
                                      "scoring_log_dir": str(scoring_log or tmp / "scoring_log"),
                                      "scoring_log_max_files": 3, "api_key_env": KEY_ENV, "max_body_bytes": MAX_BODY,
                                      **serving}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "CVRE_API_KEY"}  # the key comes only by serving.yaml's name
    env |= {"CVRE_SERVING_CONFIG": str(config), "BENTOML_HOME": str(tmp / "bentoml"), KEY_ENV: API_KEY,
            "BENTOML_DO_NOT_TRACK": "true"}
    bentoml = Path(sys.executable).parent / "bentoml"
    log_path = tmp / "server.log"
    log = open(log_path, "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([str(bentoml), "serve", "cvre.serving.service:CvreScoring", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300  # a loaded 2-core machine starts BentoML slowly
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}{probe}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"server not ready: {log_path.read_text()[-3000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server(registry):
    tmp = registry["tmp"]
    with running_server(tmp, registry["tracking_uri"], registry["scoring_log"]) as url:
        yield {"url": url, "log": tmp / "server.log", **registry}


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server["url"], headers={"x-api-key": API_KEY}, timeout=60) as c:
        yield c


def deal(oid: str = "NEW-1", **over) -> dict:
    body = {
        "opportunity_id": oid, "account_id": "ACC0000001", "owner_id": "REP0001", "product": "Growth",
        "business_type": "new", "created_at": "2024-10-01T09:00:00Z", "stage": "proposal", "amount": 12000.0,
        "expected_close_date": "2024-12-01T00:00:00",
        "stage_history": [{"stage": "prospecting", "entered_at": "2024-10-01T09:00:00"},
                          {"stage": "qualification", "entered_at": "2024-10-10T09:00:00"},
                          {"stage": "proposal", "entered_at": "2024-10-20T09:00:00"}],
        "activities": [{"activity_type": "call", "occurred_at": "2024-10-05T10:00:00", "logged": True},
                       {"activity_type": "email", "occurred_at": "2024-10-25T10:00:00", "logged": False}],
        "lead": {"lead_id": f"L-{oid}", "source": "web", "created_at": "2024-09-28T09:00:00",
                 "first_response_at": "2024-10-01T09:00:00"},
    }
    body.update(over)
    return body


CLIENT_TABLES = ("accounts", "transactions", "chats", "messages", "contacts", "opportunities", "jobs")


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as JSON-ready dicts: missing values None, times ISO, numbers exact (no float formatting)."""
    out = []
    for row in frame[columns].astype(object).to_dict("records"):
        out.append({k: None if pd.isna(v) else v.isoformat() if isinstance(v, pd.Timestamp) else v
                    for k, v in row.items()})
    return out


def client_bodies(export: Path, account_ids: list[str]) -> list[dict]:
    """Clients of the simulated world in the API's canonical form, built from its exported tables."""
    t = {name: pd.read_parquet(export / f"{name}.parquet") for name in CLIENT_TABLES}
    messages = t["messages"].merge(t["contacts"][["contact_id", "account_id"]], on="contact_id")
    bodies = []
    for aid in account_ids:
        (account,) = _records(t["accounts"][t["accounts"]["account_id"] == aid], ["industry", "tier", "region"])
        mine = {name: frame[frame["account_id"] == aid] for name, frame in
                (("transactions", t["transactions"]), ("chats", t["chats"]), ("messages", messages),
                 ("deals", t["opportunities"]), ("jobs", t["jobs"]))}
        bodies.append({
            "account_id": aid, **account,
            "transactions": _records(mine["transactions"], ["transaction_id", "occurred_at", "amount", "quantity",
                                                            "business_category"]),
            "chats": _records(mine["chats"], ["created_at", "first_response_at", "resolved_at"]),
            "messages": _records(mine["messages"], ["campaign_id", "sent_at", "delivered_at", "read_at",
                                                    "replied_at"]),
            "deals": _records(mine["deals"], ["opportunity_id", "created_at", "stage", "outcome", "amount",
                                              "closed_at"]),
            "jobs": _records(mine["jobs"], ["opened_at", "placements", "fee", "cost", "closed_at"]),
        })
    return bodies
