"""Typed configuration of the scoring API (configs/serving.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cvre.core.config import StrictModel


class BatchingConfig(StrictModel):
    """Adaptive batching of /score_deals (BentoML's dispatcher): concurrent requests scored in one pass."""

    enabled: bool = Field(True, description="false: every request is scored on its own")
    max_batch_size: int = Field(1000, ge=1, le=1_000_000, description="deals scored in one pass at most (a larger "
                                "request is scored alone); independent of the per-request limit max_batch_size")
    max_latency_ms: int = Field(10_000, ge=1, le=3_600_000, description="a request that would wait longer than this in "
                                "the queue is refused with 503 (overload), not queued further")


class ServingConfig(StrictModel):
    tracking_uri: str | None = Field(None, description="default: $MLFLOW_TRACKING_URI or the embedded store")
    win_model: str = "cvre-win"
    amount_model: str = "cvre-amount"
    churn_model: str = Field("cvre-churn", description="optional: without a champion /score_clients answers 503")
    alias: str = "champion"
    max_batch_size: int = Field(1000, ge=1, le=1_000_000, description="deals or clients per request; more gets 413")
    scoring_log_dir: Path | None = Field(Path("data/scoring_log"), description="rolling Parquet log of what was "
                                         "scored (deals/, clients/), relative to the working directory; null: off")
    scoring_log_max_files: int = Field(1000, ge=1, le=1_000_000, description="log files kept per kind; the oldest are "
                                       "deleted")
    api_key_env: str = Field("CVRE_API_KEY", min_length=1, description="name of the environment variable holding "
                             "the API key; when it is set, every request but /livez, /readyz and the docs needs "
                             "x-api-key (/metrics included)")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, le=2**34, description="larger request bodies get 413 before "
                                "anything is parsed (validation runs on the event loop, so this also bounds how long "
                                "one request can hold /livez: benchmarks/api_limits.py); 1,000 deals with their "
                                "histories fit in 1-2 MB")
    batching: BatchingConfig = BatchingConfig()
    workers: int = Field(1, ge=1, le=64, description="BentoML worker processes, each with its own copy of the models "
                         "(cvre serve passes it to BentoML)")
    threads: int = Field(4, ge=1, le=256, description="BentoML threads per worker for the synchronous endpoints "
                         "(/score_clients, /reload, /models); /score_deals is scored by the batcher")
    predict_threads: int = Field(2, ge=1, le=256, description="LightGBM threads per prediction of a large batch "
                                 "(parallel_from_rows deals or more): a 1,000-deal batch predicts ~2x faster on two")
    parallel_from_rows: int = Field(256, ge=1, le=1_000_000, description="deals from which a prediction uses "
                                    "predict_threads; fewer use one (an OpenMP fan-out costs more than it saves)")
    access_log: bool = Field(False, description="BentoML's access log line per request (costs CPU on every "
                             "request; request counts and latency are in /metrics either way)")
    leakage_config: Path | None = Field(None, description="the leakage YAML whose `rules:` (flags, haircuts) the API "
                                        "applies, so it flags and prices deals as `cvre leakage` does; default: "
                                        "configs/leakage.yaml. Deal features follow the model's own feature spec")


def bentoml_overrides(cfg: ServingConfig) -> str:
    """`BENTOML_CONFIG_OVERRIDES` (JSON) for `bentoml serve`: workers, threads and access log of serving.yaml."""
    import json

    service = {"workers": cfg.workers, "threads": cfg.threads, "logging": {"access": {"enabled": cfg.access_log}}}
    return json.dumps({"services": {"cvre-scoring": service}})
