"""The scoring API under hostile load (issue 17): a body over the limit, a body just under it, and random paths.

One real BentoML server on a quick registry (benchmarks/serving.py's `prepare_registry`, shared work folder):

- over the limit: a body of max_body_bytes + 1 (with Content-Length, and streamed without) -> 413, how fast;
- just under it: 1,000 deals padded with activities to about 90% of the limit -> time to answer, and the
  worst /livez latency measured while it is validated and scored;
- random paths: `--probes` unauthenticated GETs of distinct paths -> /metrics size and server RSS before/after.

    .venv/bin/python benchmarks/api_limits.py [--reuse] [--probes 2000] [--limit-mib 4]

Results: benchmarks/results/api_limits.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import httpx  # noqa: E402
import yaml  # noqa: E402
from _harness import RESULTS_DIR, machine_info, write_result  # noqa: E402
from serving import AS_OF, BIN, free_port, loadavg, log, make_deals, prepare_registry, server  # noqa: E402

KEY = "bench-key"


def rss_mb(pid: int) -> float:
    """Resident memory of the server's process tree (BentoML runs the service in a worker child)."""
    import psutil

    proc = psutil.Process(pid)
    return round(sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20, 1)


def padded_deals(world: Path, limit: int) -> bytes:
    """1,000 deals whose JSON is about 90% of `limit` bytes (activities added round-robin)."""
    deals = make_deals(world, 1000, seed=3)
    activity = {"activity_type": "call", "occurred_at": "2024-10-02 10:00:00", "logged": True}
    body = {"deals": deals, "as_of": AS_OF}
    per = len(json.dumps(activity)) + 2
    extra = max(0, int(limit * 0.9) - len(json.dumps(body))) // per
    for i in range(extra):
        deals[i % len(deals)]["activities"].append(activity)
    return json.dumps(body).encode()


def livez_worst(url: str, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url + "/livez", timeout=60)
        out.append(time.perf_counter() - start)
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="reuse the quick registry of benchmarks/serving.py")
    parser.add_argument("--probes", type=int, default=2000, help="unauthenticated GETs of random paths")
    parser.add_argument("--deals", type=int, default=5000, help="deals of the simulated world behind the registry")
    parser.add_argument("--limit-mib", type=float, default=4, help="max_body_bytes of the server, in MiB")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "api_limits.json", help="result JSON")
    args = parser.parse_args(argv)

    work = Path("/tmp/cvre-serving-bench") / f"deals{args.deals}-seed42"  # benchmarks/serving.py's layout
    uri = prepare_registry(work, args.deals, 42, args.reuse)
    limit = int(args.limit_mib * 1024 * 1024)
    config = work / "serving_limits.yaml"
    config.write_text(yaml.safe_dump({"tracking_uri": uri, "scoring_log_dir": None, "max_body_bytes": limit,
                                      "api_key_env": "CVRE_BENCH_KEY"}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"CVRE_SERVING_CONFIG": str(config), "BENTOML_HOME": str(work / "bentoml"), "CVRE_BENCH_KEY": KEY,
           "BENTOML_DO_NOT_TRACK": "true"}
    cmd = [str(BIN / "bentoml"), "serve", "cvre.serving.service:CvreScoring", "--host", "127.0.0.1", "--port",
           str(port)]
    result: dict = {"machine": machine_info(), "load_before": loadavg(), "max_body_bytes": limit}
    headers = {"x-api-key": KEY, "content-type": "application/json"}
    with server(cmd, env, url + "/readyz", work / "server_limits.log") as proc, httpx.Client(timeout=600) as client:
        over = b" " * (limit + 1)
        start = time.perf_counter()
        declared = client.post(url + "/score_deals", content=over, headers=headers)
        result["over_limit_declared"] = {"status": declared.status_code,
                                         "seconds": round(time.perf_counter() - start, 3)}
        start = time.perf_counter()
        streamed = client.post(url + "/score_deals", content=iter([over[i:i + 65536] for i in
                                                                   range(0, len(over), 65536)]), headers=headers)
        result["over_limit_streamed"] = {"status": streamed.status_code,
                                         "seconds": round(time.perf_counter() - start, 3)}
        log(f"over the limit: {result['over_limit_declared']}, streamed {result['over_limit_streamed']}")

        body = padded_deals(work / "world", limit)
        stop, waits = threading.Event(), []
        watcher = threading.Thread(target=livez_worst, args=(url, stop, waits))
        watcher.start()
        start = time.perf_counter()
        near = client.post(url + "/score_deals", content=body, headers=headers)
        elapsed = time.perf_counter() - start
        stop.set()
        watcher.join()
        result["near_limit"] = {"bytes": len(body), "status": near.status_code, "seconds": round(elapsed, 2),
                                "livez_worst_seconds": round(max(waits), 3) if waits else None}
        log(f"near the limit: {result['near_limit']}")

        metrics_before = len(client.get(url + "/metrics", headers=headers).text)
        rss_before = rss_mb(proc.pid)
        for i in range(args.probes):
            httpx.get(f"{url}/probe/{i}/person{i}@example.com", timeout=30)
        metrics_text = client.get(url + "/metrics", headers=headers).text
        result["random_paths"] = {"probes": args.probes, "metrics_bytes_before": metrics_before,
                                  "metrics_bytes_after": len(metrics_text), "rss_mb_before": rss_before,
                                  "rss_mb_after": rss_mb(proc.pid),
                                  "probe_text_in_metrics": "example.com" in metrics_text}
        log(f"random paths: {result['random_paths']}")
    result["load_after"] = loadavg()
    print(write_result(result, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
