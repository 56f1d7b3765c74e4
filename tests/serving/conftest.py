"""A real BentoML server on a free loopback port, serving tiny models from a temp MLflow registry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from features.config import FeatureConfig
from features.pipeline import build_features
from tests.training.test_training import tiny_config
from training.tracking import setup_tracking
from training.train import train_task

API_KEY = "test-key-123"
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
    return {"tmp": tmp, "features": features, "tracking_uri": cfg.tracking.tracking_uri}


@pytest.fixture(scope="session")
def server(registry):
    tmp = registry["tmp"]
    config = tmp / "serving.yaml"
    config.write_text(yaml.safe_dump({"tracking_uri": registry["tracking_uri"], "max_batch_size": 5}))
    port = free_port()
    env = {**os.environ, "CVRE_SERVING_CONFIG": str(config), "BENTOML_HOME": str(tmp / "bentoml"),
           "CVRE_API_KEY": API_KEY, "BENTOML_DO_NOT_TRACK": "true"}
    bentoml = Path(sys.executable).parent / "bentoml"
    log = open(tmp / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen([str(bentoml), "serve", "serving.service:CvreScoring", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(tmp / 'server.log').read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        proc.terminate()
        raise RuntimeError(f"server not ready: {(tmp / 'server.log').read_text()[-3000:]}")
    yield {"url": url, "log": tmp / "server.log", **registry}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


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
