"""Shared helpers of the benchmark scripts: measured subprocesses, machine info, section timers.

Every measured run happens in a fresh child process so that its peak memory is its own. The parent
polls the RSS of the child and all its descendants (psutil, every `poll_s` seconds) and also reads
the kernel's `ru_maxrss` of the child from `os.wait4`; the reported peak is the larger of the two.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MB = 1024.0 * 1024.0


def ensure_repo_on_path() -> None:
    """Put the repository first on sys.path and drop benchmarks/ (benchmarks/features.py would
    otherwise shadow the `features` package)."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p not in (here, str(REPO))
                   and Path(p or ".").resolve() != Path(here)]
    sys.path.insert(0, str(REPO))


def machine_info() -> dict:
    vm = psutil.virtual_memory()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    freq = psutil.cpu_freq()
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for mod in ("numpy", "pandas", "pyarrow", "psutil"):
        with contextlib.suppress(Exception):
            versions[mod] = __import__(mod).__version__
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu_model": model,
        "cpu_count_logical": psutil.cpu_count(logical=True),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_usable": usable,
        "cpu_mhz": round(freq.current) if freq else None,
        "memory_total_gb": round(vm.total / 1024**3, 2),
        "memory_available_gb": round(vm.available / 1024**3, 2),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "packages": versions,
    }


def disk_usage(path: Path) -> dict:
    """Bytes on disk of every file under `path`, in total and per top-level sub-folder."""
    path = Path(path)
    per: dict[str, int] = {}
    total = 0
    for p in path.rglob("*"):
        if p.is_file():
            size = p.stat().st_size
            total += size
            rel = p.relative_to(path).parts
            key = rel[0] if len(rel) > 1 else "."
            per[key] = per.get(key, 0) + size
    return {"bytes": total, "mb": round(total / MB, 1),
            "by_folder_mb": {k: round(v / MB, 1) for k, v in sorted(per.items())}}


def code_fingerprint(packages: tuple[str, ...] = ("core", "simulation", "features")) -> dict:
    """sha256 of the measured packages' sources (the repo changes while benchmarks run)."""
    import hashlib

    h = hashlib.sha256()
    newest, newest_mtime = None, 0.0
    for pkg in packages:
        for path in sorted((REPO / "src" / "cvre" / pkg).rglob("*.py")):
            h.update(str(path.relative_to(REPO)).encode())
            h.update(path.read_bytes())
            mtime = path.stat().st_mtime
            if mtime > newest_mtime:
                newest, newest_mtime = path, mtime
    return {"sha256": h.hexdigest()[:16], "packages": list(packages),
            "newest_file": str(newest.relative_to(REPO)) if newest else None,
            "newest_mtime": datetime.fromtimestamp(newest_mtime, UTC).isoformat(timespec="seconds")}


@dataclass
class Measured:
    cmd: list[str]
    returncode: int | None = None
    status: str = "ok"  # ok | failed | killed_memory | killed_timeout
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0  # max(polled tree RSS, kernel ru_maxrss of the child)
    peak_tree_rss_mb_polled: float = 0.0
    ru_maxrss_mb: float = 0.0
    user_cpu_s: float = 0.0
    system_cpu_s: float = 0.0
    log: str = ""
    log_tail: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = asdict(self)
        for k in ("wall_s", "peak_rss_mb", "peak_tree_rss_mb_polled", "ru_maxrss_mb",
                  "user_cpu_s", "system_cpu_s"):
            d[k] = round(d[k], 3 if k == "wall_s" else 1)
        return d


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        total += proc.memory_info().rss
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
    except psutil.Error:
        pass
    return total


def run_measured(cmd: list[str], log_path: Path, poll_s: float = 0.1, max_rss_mb: float | None = None,
                 timeout_s: float | None = None, cores: list[int] | None = None,
                 env: dict | None = None) -> Measured:
    """Run `cmd` in a fresh process (own session), polling its tree RSS; kill it past the limits."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result = Measured(cmd=cmd, log=str(log_path))
    preexec = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    result.extra["loadavg_1m_before"] = round(os.getloadavg()[0], 2)
    code_before = code_fingerprint()
    result.extra["code"] = code_before
    with open(log_path, "wb") as log:
        began = time.perf_counter()
        popen = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=child_env,
                                 start_new_session=True, preexec_fn=preexec)
        proc = psutil.Process(popen.pid)
        peak = 0
        killed = None
        while True:
            pid, status, usage = os.wait4(popen.pid, os.WNOHANG)
            if pid:
                break
            rss = _tree_rss(proc)
            peak = max(peak, rss)
            elapsed = time.perf_counter() - began
            if killed is None and max_rss_mb is not None and rss / MB > max_rss_mb:
                killed = "killed_memory"
            elif killed is None and timeout_s is not None and elapsed > timeout_s:
                killed = "killed_timeout"
            if killed and not result.extra.get("killed_at_s"):
                result.extra.update(killed_at_s=round(elapsed, 1), rss_at_kill_mb=round(rss / MB, 1))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(popen.pid, signal.SIGKILL)
            time.sleep(poll_s)
        result.wall_s = time.perf_counter() - began
    popen.returncode = os.waitstatus_to_exitcode(status)
    result.returncode = popen.returncode
    result.peak_tree_rss_mb_polled = peak / MB
    result.ru_maxrss_mb = usage.ru_maxrss / 1024.0  # Linux: KiB
    result.peak_rss_mb = max(result.peak_tree_rss_mb_polled, result.ru_maxrss_mb)
    result.user_cpu_s, result.system_cpu_s = usage.ru_utime, usage.ru_stime
    result.extra["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    if code_fingerprint()["sha256"] != code_before["sha256"]:
        result.extra["code_changed_during_run"] = True
    result.status = killed or ("ok" if result.returncode == 0 else "failed")
    text = log_path.read_text(errors="replace")
    result.log_tail = text[-3000:]
    return result


def write_result(data: dict, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def parse_deals(values: list[str]) -> list[int]:
    """'1000', '100k', '1M', '1_000_000' -> ints."""
    out = []
    for v in values:
        s = v.strip().lower().replace("_", "")
        mult = 1
        if s.endswith("k"):
            s, mult = s[:-1], 1_000
        elif s.endswith("m"):
            s, mult = s[:-1], 1_000_000
        out.append(int(float(s) * mult))
    return out


class Sections:
    """Inclusive wall time, call count and peak RSS of named (nested) calls inside one process.

    A background thread samples the process RSS every `sample_s`; every open section keeps the
    highest sample seen while it ran. Progress is appended to `trace` (JSON lines) as sections end,
    so that a run killed by the parent still says where its time and memory went.
    """

    def __init__(self, trace: Path | None = None, sample_s: float = 0.05):
        self.proc = psutil.Process()
        self.stats: dict[str, dict] = {}
        self.stack: list[list] = []  # [path, start, rss_start, peak]
        self.trace = open(trace, "a") if trace else None  # noqa: SIM115 - closed in stop()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.peak_rss = 0
        self._thread = threading.Thread(target=self._sample, args=(sample_s,), daemon=True)
        self._thread.start()

    def _sample(self, sample_s: float) -> None:
        while not self._stop.is_set():
            rss = self.proc.memory_info().rss
            with self._lock:
                self.peak_rss = max(self.peak_rss, rss)
                for frame in self.stack:
                    frame[3] = max(frame[3], rss)
            self._stop.wait(sample_s)

    def wrap(self, name: str, fn, label_arg: int | None = None):
        """`fn` timed as section `name`; `label_arg`: append that positional argument, e.g. a table."""
        def wrapped(*args, **kwargs):
            rss0 = self.proc.memory_info().rss
            label = name
            if label_arg is not None and len(args) > label_arg and isinstance(args[label_arg], str):
                label = f"{name}[{args[label_arg]}]"
            with self._lock:
                parent = self.stack[-1][0] if self.stack else ""
                path = f"{parent}/{label}" if parent else label
                frame = [path, time.perf_counter(), rss0, rss0]
                self.stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                rss1 = self.proc.memory_info().rss
                with self._lock:
                    self.stack.remove(frame)
                    seconds = time.perf_counter() - frame[1]
                    peak = max(frame[3], rss1)
                    s = self.stats.setdefault(path, {"calls": 0, "seconds": 0.0, "peak_rss_mb": 0.0,
                                                     "rss_delta_mb": 0.0})
                    s["calls"] += 1
                    s["seconds"] += seconds
                    s["peak_rss_mb"] = max(s["peak_rss_mb"], peak / MB)
                    s["rss_delta_mb"] += (rss1 - rss0) / MB
                    if self.trace:
                        self.trace.write(json.dumps({"section": path, "seconds": round(seconds, 3),
                                                     "rss_start_mb": round(rss0 / MB, 1),
                                                     "rss_end_mb": round(rss1 / MB, 1),
                                                     "peak_rss_mb": round(peak / MB, 1)}) + "\n")
                        self.trace.flush()

        wrapped.__wrapped__ = fn
        return wrapped

    def patch(self, module, names: list[str], label_arg: int | None = None) -> None:
        for name in names:
            if hasattr(module, name):
                setattr(module, name, self.wrap(name, getattr(module, name), label_arg))

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=1)
        if self.trace:
            self.trace.close()
        return {k: {**v, "seconds": round(v["seconds"], 3), "peak_rss_mb": round(v["peak_rss_mb"], 1),
                    "rss_delta_mb": round(v["rss_delta_mb"], 1)} for k, v in self.stats.items()}


def install_sections(result_path: str | Path, spec: list[tuple[str, list[str], int | None]]) -> Sections:
    """Wrap the named functions of each module so their time and memory are recorded per section."""
    import importlib

    sections = Sections(trace=Path(result_path).with_suffix(".trace.jsonl"))
    for module, names, label_arg in spec:
        sections.patch(importlib.import_module(module), names, label_arg)
    return sections
