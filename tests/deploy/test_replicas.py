"""Two `cvre serve` replicas behind Debian's nginx on loopback: a promotion rolled out with `cvre replicas reload`
under a bounded load (2,000 requests through nginx) loses no request, and afterwards every replica serves the
new champion."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml
from mlflow import MlflowClient
from typer.testing import CliRunner

from cvre.cli.main import app
from cvre.core.config import load_config
from cvre.training.config import TrainingConfig
from cvre.training.tracking import setup_tracking
from cvre.training.train import train_task
from tests.deploy.conftest import team_yaml
from tests.deploy.services import free_port, require, stop, wait_until
from tests.serving.conftest import deal

pytestmark = pytest.mark.slow
runner = CliRunner()
REQUESTS, THREADS = 2000, 8


@pytest.fixture()
def two_versions(on_server, team_features, tmp_path) -> tuple[str, str]:
    """Two registered cvre-win versions on the server (trained here when the other tests have not)."""
    client = MlflowClient(on_server["tracking_uri"])
    cfg = load_config(TrainingConfig, team_yaml(tmp_path / "cfg", on_server["optuna"], trials=1), "training.yaml")
    setup_tracking(cfg.tracking)
    while len(client.search_model_versions("name='cvre-win'")) < 2:
        train_task(team_features, "win", cfg)
    versions = sorted((v.version for v in client.search_model_versions("name='cvre-win'")), key=int)
    return versions[-2], versions[-1]


def _promote(version: str) -> None:
    result = runner.invoke(app, ["models", "promote", "cvre-win", version])
    assert result.exit_code == 0, result.output


def _reload(urls: list[str]) -> str:
    result = runner.invoke(app, ["replicas", "reload", *(arg for url in urls for arg in ("--replica", url))])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture()
def replicas(on_server, two_versions, tmp_path):
    """Two `cvre serve` processes on the old champion, nginx in front; all stopped afterwards."""
    old, _ = two_versions
    _promote(old)
    config = tmp_path / "serving.yaml"
    config.write_text(yaml.safe_dump({"scoring_log_dir": None, "api_key_env": "CVRE_TEST_NO_KEY"}))
    env = {k: v for k, v in os.environ.items() if k != "CVRE_TEST_NO_KEY"}
    env |= {"BENTOML_HOME": str(tmp_path / "bentoml"), "BENTOML_DO_NOT_TRACK": "true"}
    cvre = str(Path(sys.executable).parent / "cvre")
    procs, urls = [], []
    try:
        for i in range(2):
            port, log = free_port(), tmp_path / f"replica-{i}.log"
            with open(log, "w") as out:
                procs.append(subprocess.Popen([cvre, "serve", "--port", str(port), "--config", str(config)],
                                              cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
        for i, (proc, url) in enumerate(zip(procs, urls, strict=True)):
            wait_until(lambda url=url: httpx.get(f"{url}/readyz", timeout=5).status_code == 200, proc,
                       tmp_path / f"replica-{i}.log", f"replica {i}", timeout_s=600)
        yield _behind_nginx(urls, tmp_path, procs)
    finally:
        for proc in procs:
            stop(proc)


def _behind_nginx(urls: list[str], tmp_path: Path, procs: list) -> dict:
    require("/usr/sbin/nginx", "nginx (Debian's nginx)")
    listen = f"127.0.0.1:{free_port()}"
    conf = tmp_path / "nginx" / "nginx.conf"
    made = runner.invoke(app, ["replicas", "nginx-config", "--listen", listen, "--out", str(conf),
                               *(arg for url in urls for arg in ("--replica", url))])
    assert made.exit_code == 0, made.output
    conf.parent.chmod(0o755)  # nginx's workers (not root) write their temp files there
    tmp_path.chmod(0o755)
    log = conf.parent / "nginx.out"
    with open(log, "w") as out:
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", str(conf), "-g", "daemon off;"], stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(nginx)
    wait_until(lambda: httpx.get(f"http://{listen}/livez", timeout=5).status_code == 200, nginx, log, "nginx")
    return {"urls": urls, "balancer": f"http://{listen}", "access_log": conf.parent / "access.log"}


def test_rolling_promotion_under_load_loses_no_request(replicas, two_versions):
    old, new = two_versions
    body = {"deals": [deal()], "as_of": "2024-11-01T00:00:00"}
    results: list[tuple[int, str | None]] = []
    half = threading.Event()

    def one(_):
        with httpx.Client(timeout=120) as client:  # a client per request: nginx spreads them over the replicas
            response = client.post(f"{replicas['balancer']}/score_deals", json=body)
        version = None
        if response.status_code == 200:
            (scored,) = response.json()
            version = scored.get("model_versions", {}).get("cvre-win") if scored.get("status") == "scored" else None
        results.append((response.status_code, version))
        if len(results) >= REQUESTS // 3:
            half.set()
        return response.status_code

    def promote_and_reload():
        half.wait(timeout=600)
        _promote(new)
        return _reload(replicas["urls"])

    with ThreadPoolExecutor(THREADS + 1) as pool:
        rollout = pool.submit(promote_and_reload)
        list(pool.map(one, range(REQUESTS)))
        reloaded = rollout.result(timeout=600)

    assert len(results) == REQUESTS
    lost = [(status, version) for status, version in results if status != 200 or version is None]
    assert not lost, f"{len(lost)} of {REQUESTS} requests lost: {lost[:5]}"
    seen = {version for _, version in results}
    assert seen <= {old, new} and new in seen  # the rollout happened during the load
    assert reloaded.count("reloaded") >= 2
    for url in replicas["urls"]:  # every replica serves the new champion
        assert httpx.post(f"{url}/models", json={}, timeout=30).json()["serving"]["cvre-win"] == new
    upstreams = " ".join(line.split()[-1] for line in replicas["access_log"].read_text().splitlines() if line)
    assert all(url.removeprefix("http://") in upstreams for url in replicas["urls"])  # nginx used both replicas
