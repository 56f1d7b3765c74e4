"""The package as a user gets it: build the wheel, install it with the lock into a clean virtual environment,
run a small `cvre demo` from an empty folder outside the repository, and find every store and output there."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def _run(args: list[str], cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed ({done.returncode}):\n" \
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A clean venv with the lock's pinned set and the freshly built wheel (uv's cache makes it quick)."""
    if UV is None:
        pytest.skip("uv is not installed (make install puts it in .venv)")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy, so the build leaves nothing in the repository (build/, egg-info)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    _run([UV, "build", "--wheel", "--out-dir", str(tmp / "dist"), str(source)], cwd=tmp)
    wheel = next((tmp / "dist").glob("cvre-*.whl"))
    venv = tmp / "venv"
    _run([UV, "venv", "--python", sys.executable, str(venv)], cwd=tmp)
    python = venv / "bin" / "python"
    _run([UV, "pip", "install", "--python", str(python), "-r", str(REPO / "requirements.lock")], cwd=tmp)
    _run([UV, "pip", "install", "--python", str(python), "--no-deps", str(wheel)], cwd=tmp)
    return venv


def test_the_wheel_carries_the_default_configs(installed):
    site = next((installed / "lib").glob("python3*/site-packages"))
    configs = site / "cvre" / "configs"
    assert {"simulate.yaml", "features.yaml", "training.yaml", "leakage.yaml", "monitor.yaml", "explain.yaml",
            "report.yaml", "serving.yaml", "shift.yaml"} <= {p.name for p in configs.glob("*.yaml")}
    assert (configs / "mappings" / "maven_crm.yaml").exists()


def test_small_demo_from_an_empty_folder_writes_only_there(installed, tmp_path):
    project = tmp_path / "my project"
    (project / "configs").mkdir(parents=True)
    # the user's own configs/ overrides the packaged default of the same name
    (project / "configs" / "training.yaml").write_text("tracking:\n  experiment: my-experiment\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CVRE_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{installed / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run([str(installed / "bin" / "python"), "-c", "import cvre; print(cvre.__file__)"], cwd=project,
                 env=env)
    assert str(installed) in where.stdout, "the test must run the installed wheel, not the repository"

    done = _run([str(installed / "bin" / "cvre"), "demo", "--deals", "3000", "--trials", "1", "--out", "data/demo"],
                cwd=project, env=env)
    out = done.stdout
    assert "cvre-win" in out and "Traceback" not in out + done.stderr, out[-3000:]
    assert (project / "data" / "demo" / "export" / "opportunities.parquet").exists()
    assert (project / "data" / "demo" / "features" / "deals_train.parquet").exists()
    assert (project / "data" / "demo" / "leakage").is_dir() and (project / "data" / "demo" / "reports").is_dir()
    assert (project / "mlruns" / "mlflow.db").exists() and (project / "mlruns" / "optuna.db").exists()
    assert (project / "logs" / "cvre.log").exists()
    with sqlite3.connect(project / "mlruns" / "mlflow.db") as db:
        experiments = {row[0] for row in db.execute("select name from experiments")}
    assert "my-experiment" in experiments, experiments
    site = next((installed / "lib").glob("python3*/site-packages"))
    assert not list((site / "cvre").rglob("*.db")) and not (site / "cvre" / "mlruns").exists()
