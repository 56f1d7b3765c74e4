"""Real services on loopback for the team-deployment tests: a throwaway PostgreSQL cluster, an `mlflow server`
on it, nginx in front of serving replicas. Each is started for real; a test is skipped only when the binary is
not installed (`make services` installs them)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.serving.conftest import free_port

VENV_BIN = Path(sys.executable).parent
__all__ = ["free_port", "mlflow_server", "postgres_cluster", "require", "stop", "wait_until"]


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server binaries (/usr/lib/postgresql/N/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


def require(binary: Path | str | None, what: str) -> None:
    if binary is None or not Path(binary).exists() and shutil.which(str(binary)) is None:
        pytest.skip(f"{what} is not installed (`make services` installs it with apt-get)")


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen | None, log: Path, what: str,
               timeout_s: float = 120) -> None:
    """Poll `ready` until true; fail with the log's tail if the process exits or the time runs out."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.returncode}): {log.read_text()[-3000:]}")
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready after {timeout_s:.0f}s: {log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, timeout_s: float = 20) -> None:
    """SIGTERM the process group, SIGKILL what is left after `timeout_s`."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _as_postgres_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def postgres_cluster(databases: tuple[str, ...]) -> Iterator[dict]:
    """initdb + pg_ctl in a temp folder on a free loopback port (trust auth, loopback only); yields URLs per
    database (`postgresql+psycopg://...`); the cluster and its folder are removed afterwards."""
    bindir = postgres_bin()
    require(bindir, "PostgreSQL (Debian's postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="cvre-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, log, port = folder / "data", folder / "postgres.log", free_port()
    subprocess.run(_as_postgres_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                      "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                                      "-w", "start"]), check=True, capture_output=True)
    try:
        for name in databases:
            subprocess.run(_as_postgres_user([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
                                              "-U", "postgres", name]), check=True, capture_output=True)
        yield {"port": port, "log": log,
               "urls": {name: f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}" for name in databases}}
    finally:
        subprocess.run(_as_postgres_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def mlflow_server(backend_uri: str, artifacts: Path, log: Path) -> Iterator[str]:
    """`mlflow server` on the database with artifacts served by the server (--serve-artifacts); yields its URL."""
    port = free_port()
    artifacts.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        proc = subprocess.Popen([str(VENV_BIN / "mlflow"), "server", "--backend-store-uri", backend_uri,
                                 "--serve-artifacts", "--artifacts-destination", str(artifacts), "--host",
                                 "127.0.0.1", "--port", str(port), "--workers", "1"],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/health", timeout=2).status_code == 200, proc, log, "mlflow server",
                   timeout_s=360)  # minutes on a loaded 2-core machine
        yield url
    finally:
        stop(proc)
