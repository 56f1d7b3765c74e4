"""Profile one deal's scoring in process (payload -> probability, amount, reasons, warnings) with pyinstrument.

Uses the models of benchmarks/serving.py's store (run it first, or pass --work-dir of an earlier run) and prints
the top of the profile; docs/performance.md ("Serving") quotes it. Run it against an older checkout with
PYTHONPATH=<old>/src to profile the code before a change (its `score_deals` signature is detected).

    .venv/bin/python benchmarks/profile_scoring.py --deals 500
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import AS_OF, make_deals  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work-dir", type=Path, default=Path("/tmp/cvre-serving-bench/deals10000-seed42"),
                   help="benchmarks/serving.py's work folder (its mlflow.db and world/)")
    p.add_argument("--deals", type=int, default=500, help="single deals scored one after another")
    p.add_argument("--depth", type=int, default=14, help="lines of the profile printed")
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
    deals = make_deals(args.work_dir / "world", args.deals, 42)
    scoring.score_deals([DealIn.model_validate(deals[0])], models, as_of, *extra)  # reference indexed once
    profiler = Profiler(interval=0.0005)
    times = []
    with profiler:
        for d in deals:
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
