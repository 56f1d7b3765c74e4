"""Profile scoring in process with pyinstrument: single deals one after another (payload -> probability, amount,
reasons, warnings), or `--batch N`: one N-deal /score_deals request end to end (JSON body -> BentoML's input
validation -> features -> scores -> the response body).

Uses the models of benchmarks/serving.py's store (run it first, or pass --work-dir of an earlier run) and prints
the top of the profile; docs/performance.md ("Serving") quotes it. Run it against an older checkout with
PYTHONPATH=<old>/src to profile the code before a change (its `score_deals` signature is detected).

    .venv/bin/python benchmarks/profile_scoring.py --deals 500
    .venv/bin/python benchmarks/profile_scoring.py --batch 1000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import AS_OF, make_deals  # noqa: E402


def _body(response) -> bytes:
    """A Starlette response's bytes (BentoML's IterableResponse streams them)."""
    async def read() -> bytes:
        it = getattr(response, "body_iterator", None)
        if it is None:
            return response.body
        return b"".join([c async for c in it]) if hasattr(it, "__aiter__") else b"".join(it)
    return asyncio.run(read())


try:  # older checkouts: no fast pass, no collector pause
    from cvre.serving.fast_payload import fast_decode
    from cvre.serving.gc_pause import collector_paused as paused
except ImportError:
    import contextlib

    fast_decode, paused = None, contextlib.nullcontext


def batch_request(body: bytes, models, extra: tuple):
    """One /score_deals request as the service runs it, in stages; returns the stage times (s) and the response."""
    import pandas as pd
    from _bentoml_impl.serde import JSONSerde

    from cvre.serving import scoring, service

    stages = [time.perf_counter()]
    request = fast_decode(body, service.ScoreDealsInput) if fast_decode else None  # the service's fast pass
    if request is None:  # what BentoML's JSON serde does with the body
        request = service.ScoreDealsInput.model_validate_json(body)
    stages.append(time.perf_counter())
    with paused():  # the collector paused while the batch scores, as the service's batcher does
        results = scoring.score_deals(request.deals, models, pd.Timestamp(request.as_of), *extra)
    stages.append(time.perf_counter())
    if hasattr(service, "_json"):  # results written as they are
        response = service._json(results)
    else:  # before: BentoML's output descriptor dumps the pydantic results
        spec = service.CvreScoring.apis["score_deals"].output_spec
        response = asyncio.run(spec.to_http_response(results, JSONSerde()))
    content = _body(response)
    stages.append(time.perf_counter())
    return [b - a for a, b in zip(stages, stages[1:], strict=False)], content


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-serving-bench/deals10000-seed42"),
                   help="benchmarks/serving.py's work folder (its mlflow.db and world/)")
    p.add_argument("--deals", type=int, default=500, help="single deals scored one after another")
    p.add_argument("--batch", type=int, default=0, help="instead: deals per request, profiled end to end")
    p.add_argument("--repeat", type=int, default=5, help="requests of --batch deals profiled")
    p.add_argument("--depth", type=int, default=14, help="lines of the profile printed")
    p.add_argument("--save", type=Path, default=None, help="--batch: write the last response body here")
    args = p.parse_args(argv)

    import mlflow
    import numpy as np
    import pandas as pd
    from pyinstrument import Profiler

    from cvre.serving import scoring
    from cvre.serving.config import ServingConfig
    from cvre.serving.models import load_deal_models
    from cvre.serving.schemas import DealIn

    mlflow.set_tracking_uri(f"sqlite:///{args.work_dir / 'mlflow.db'}")
    cfg = ServingConfig()
    models = load_deal_models(cfg)
    as_of = pd.Timestamp(AS_OF)
    params = inspect.signature(scoring.score_deals).parameters
    if "cfg" in params:  # before the feature spec: features and rules from serving.yaml
        extra = (cfg.deals, cfg.rules)
    else:
        from cvre.core.rules import load_rules
        extra = (load_rules(),)
    deals = make_deals(args.work_dir / "world", max(args.deals, args.batch), 42)
    scoring.score_deals([DealIn.model_validate(deals[0])], models, as_of, *extra)  # reference indexed once
    profiler = Profiler(interval=0.0005)
    times = []
    if args.batch:
        body = json.dumps({"deals": deals[:args.batch], "as_of": AS_OF}).encode()
        batch_request(body, models, extra)
        gc.collect()
        with profiler:
            for _ in range(args.repeat):
                stages, content = batch_request(body, models, extra)
                times.append(stages)
        per = np.median(np.array(times), axis=0) * 1000
        print(f"{args.repeat} requests of {args.batch} deals: median {per.sum():.1f} ms = validation {per[0]:.1f} + "
              f"scoring {per[1]:.1f} + response {per[2]:.1f} ms ({len(content):,} bytes)")
        if args.save:
            args.save.write_bytes(content)
    else:
        with profiler:
            for d in deals[:args.deals]:
                start = time.perf_counter()
                scoring.score_deals([DealIn.model_validate(d)], models, as_of, *extra)
                times.append(time.perf_counter() - start)
        print(f"{len(times)} deals, one at a time: median {1000 * np.median(times):.3f} ms, "
              f"p90 {1000 * np.percentile(times, 90):.3f} ms")
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    print("\n".join(text.splitlines()[: args.depth + 8]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
