"""Drop each optional table and each optional column of a simulated export in turn; run every command on it.

Every command must work or stop with one `error:` line naming what is missing, never a traceback. The project
holds champions (win, churn) trained on the full world and ONE real BentoML server serving them; on each drop:

- features, leakage (`--all`, every probability source that applies by default), report and the demo's data
  quality step run in-process; the server scores the drop's open deals and clients as the API would get them
  from that export (200, or a 4xx naming the field; never a 5xx);
- train (win, amount, churn: into a store of their own, so the champions stay) and monitor read only the
  feature folder: they run once per distinct feature tables (a drop that leaves them byte-identical to a drop
  already run cannot behave differently);
- explain reads the deal tables and engagement (a demo step) its own tables: each runs on the drops of what
  it reads (`DEAL_TABLES`, the engagement run's `TABLES`).

88 drops on a 300-deal world (15 tables, 73 columns): 8 min 02 s at a load average of 0.2-1.9 on 2 cores
(leakage 125 s, train 96 s over 26/15/26 distinct win/amount/churn feature sets, engagement 60 s, explain 59 s,
features 39 s, report 18 s, monitor 11 s), about 29 min under a load of 10-16; far from the 3 min aimed at.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd
import pytest

from cvre.analytics.engagement.run import TABLES as ENGAGEMENT_TABLES
from cvre.core.io import read_tables
from cvre.core.schema import TABLES
from cvre.features.quality import find_defects
from cvre.features.snapshot import tables_as_of
from cvre.simulation.world import simulate_world
from tests.conftest import small_config
from tests.serving.conftest import API_KEY, running_server
from tests.workflows.cli_helpers import UNEXPECTED, cvre
from tests.workflows.payloads import client_bodies, deal_bodies

pytestmark = pytest.mark.slow
DEALS = 300
AS_OF = pd.Timestamp("2024-12-31")
DEAL_TABLES = ("opportunities", "leads", "activities", "stage_history", "close_date_changes", "accounts", "contacts",
               "reps", "products")
# Tracebacks still open, listed so the test fails on any new failure and on a listed one that starts to pass
# (empty since cvre engagement skips a section whose fields a table lacks, naming them).
KNOWN_GAPS: frozenset[str] = frozenset()
TRAINING = "tuning:\n  trials: 1\n  num_boost_round: 30\n  early_stopping_rounds: 5\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("drop_one") / "world"
    simulate_world(small_config(deals=DEALS, seed=5), out, progress=False)
    return out


def drops(world: Path) -> list[tuple[str, str | None]]:
    """(table, None) for each table of the export, (table, column) for each optional column."""
    tables = read_tables(world / "export")
    columns = [(name, col) for name, frame in tables.items() if name in TABLES for col in frame.columns
               if col not in TABLES[name].required_columns and col != TABLES[name].key]
    return [(name, None) for name in sorted(tables)] + columns


def without(world: Path, dest: Path, table: str, column: str | None) -> Path:
    """A copy of the world (manifest, truth, export) without one table, or one column of a table."""
    (dest / "export").mkdir(parents=True)
    shutil.copy(world / "manifest.json", dest / "manifest.json")
    shutil.copytree(world / "truth", dest / "truth")
    for path in (world / "export").glob("*.parquet"):
        if path.stem != table:
            shutil.copy(path, dest / "export" / path.name)
        elif column is not None:
            pd.read_parquet(path).drop(columns=[column]).to_parquet(dest / "export" / path.name, index=False)
    return dest


@pytest.fixture(scope="module")
def project(world, tmp_path_factory):
    """A project folder with win and churn champions trained on the full world, and a server serving them."""
    root = tmp_path_factory.mktemp("drop_project")
    old = Path.cwd()
    os.chdir(root)
    env = pytest.MonkeyPatch()
    env.delenv("MLFLOW_TRACKING_URI", raising=False)  # the project's own mlruns/
    (root / "configs").mkdir()
    (root / "configs" / "training.yaml").write_text(TRAINING, encoding="utf-8")
    (root / "configs" / "monitor.yaml").write_text("drift:\n  min_rows: 10\nreport:\n  evidently: false\n",
                                                   encoding="utf-8")
    (root / "configs" / "explain.yaml").write_text("top_deals: 1\nplot_sample: 50\n", encoding="utf-8")
    (root / "drop_training.yaml").write_text(  # trainings on drops go to a store of their own
        f"{TRAINING}tracking:\n  tracking_uri: sqlite:///{root / 'drops.db'}\n", encoding="utf-8")
    assert cvre("features", "--data", str(world)).code == 0
    for task in ("win", "churn"):
        ran = cvre("train", task, "--features", str(world / "features"))
        assert ran.code == 0 and "champion" in ran.output, ran.output
    with running_server(root, f"sqlite:///{root / 'mlruns' / 'mlflow.db'}", max_batch_size=50) as url, \
            httpx.Client(base_url=url, headers={"x-api-key": API_KEY}, timeout=120) as client:
        yield {"root": root, "client": client}
    env.undo()
    os.chdir(old)


def _fingerprint(features: Path, prefix: str) -> str | None:
    files = sorted(features.glob(f"{prefix}_*.parquet"))
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest() if files else None


def _served(client: httpx.Client, route: str, key: str, bodies: list[dict]) -> str | None:
    """Why the API's answer is not acceptable (None: scored, or a 4xx naming the field)."""
    if not bodies:
        return None
    response = client.post(route, json={key: bodies, "as_of": AS_OF.isoformat()})
    if response.status_code == 200:
        errors = [r["error"] for r in response.json() if r.get("status") == "error"]
        return f"{route}: deals not scored: {errors}" if errors else None
    if response.status_code in (400, 422) and "error" in response.text:
        return None
    return f"{route}: {response.status_code}: {response.text[:300]}"


def _named(ran, table: str, column: str | None) -> bool:
    """A stop names the table or column that is missing (or what the command needs instead)."""
    return ran.code == 0 or (column or table) in ran.output or table in ran.output


def test_every_optional_table_and_column_dropped_every_command(world, project):
    failures, trained, monitored, seconds = [], {"win": set(), "churn": set()}, set(), Counter()

    def fail(message: str) -> None:
        failures.append(message)
        print(f"FAILED {message}", flush=True)  # seen at once with -s: the run is long

    def run(*args: str):
        start = time.perf_counter()
        ran = cvre(*args)
        seconds[args[0]] += time.perf_counter() - start
        return ran

    for table, column in drops(world):
        name = f"no {table}" + (f".{column}" if column else "")
        data = without(world, project["root"] / "data" / name.replace(" ", "_"), table, column)
        commands = [("features", "--data", str(data)), ("leakage", "--data", str(data), "--all"),
                    ("report", "--data", str(data))]
        if table in DEAL_TABLES:
            commands.append(("explain", "--data", str(data), "--no-progress"))
        if table in ENGAGEMENT_TABLES:
            commands.append(("engagement", "--data", str(data)))
        for args in commands:
            ran = run(*args)
            if not ran.clean or not _named(ran, table, column):
                fail(f"{name}: cvre {args[0]}: exit {ran.code}: {ran.output[-400:]}")
        features = data / "features"
        for task, prefix in (("win", "deals"), ("amount", "deals"), ("churn", "clients")):
            key = _fingerprint(features, prefix)
            if key is None or key in trained.setdefault(task, set()):
                continue
            trained[task].add(key)
            with pytest.MonkeyPatch.context() as env:  # training sets MLFLOW_TRACKING_URI: the drops' store ends here
                env.delenv("MLFLOW_TRACKING_URI", raising=False)
                ran = run("train", task, "--features", str(features), "--config", str(project["root"] /
                                                                                      "drop_training.yaml"))
            if not ran.clean:
                fail(f"{name}: cvre train {task}: exit {ran.code}: {ran.output[-400:]}")
        key = _fingerprint(features, "deals")
        if key is not None and key not in monitored:
            monitored.add(key)
            ran = run("monitor", "win", "--features", str(features))
            if ran.code not in (0, 1, 3) or UNEXPECTED in ran.output or "Traceback" in ran.output:
                fail(f"{name}: cvre monitor: exit {ran.code}: {ran.output[-400:]}")
        tables = read_tables(data / "export")
        try:
            find_defects(tables, AS_OF)  # the demo's data quality step
        except Exception as exc:  # noqa: BLE001 - collected, so one run lists every failing drop
            fail(f"{name}: demo data quality: {type(exc).__name__}: {exc}")
        cut = tables_as_of(tables, AS_OF)
        for route, key, bodies in (("/score_deals", "deals", deal_bodies(cut, 3) if "opportunities" in cut else []),
                                   ("/score_clients", "clients", client_bodies(cut, 2))):
            why = _served(project["client"], route, key, bodies)
            if why:
                fail(f"{name}: serve {why}")
    print(f"seconds by command: {dict(seconds.most_common())}; trained {[len(v) for v in trained.values()]}, "
          f"monitored {len(monitored)}", flush=True)
    new = [f for f in failures if f.split(": exit")[0] not in KNOWN_GAPS]
    closed = KNOWN_GAPS - {f.split(": exit")[0] for f in failures}
    assert not new, f"{len(new)} failures:\n" + "\n".join(new)
    assert not closed, f"fixed, take them off KNOWN_GAPS: {sorted(closed)}"
