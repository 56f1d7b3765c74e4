"""Which source a dataset comes from, so a model trained on one source is never silently used on another.

A source is its kind (the simulator, or an import through a named mapping) and its schema (the canonical
`table.column` fields present). A champion carries the source it was trained on; scoring data from a
different kind or mapping is refused unless forced.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from cvre.core.schema import TABLES

SIMULATED, IMPORTED, UNKNOWN = "simulated", "import", "unknown"
TAG_PREFIX = "source_"  # model-version tags: source_kind, source_name, source_schema, source_fingerprint


def tables_folder(data: Path) -> Path:
    """A simulated world keeps its tables under export/; an import writes them at the top."""
    data = Path(data)
    return data / "export" if (data / "export").is_dir() else data


def data_source(data: Path) -> dict[str, str]:
    """{kind, name, schema} of a world or import folder (or its export/ folder)."""
    data = Path(data)
    root = data.parent if data.name == "export" and (data.parent / "manifest.json").exists() else data
    tables_dir = tables_folder(root)
    fields = sorted(f"{p.stem}.{c}" for p in tables_dir.glob("*.parquet") if p.stem in TABLES
                    for c in pq.read_schema(p).names)
    schema = hashlib.sha256("\n".join(fields).encode()).hexdigest()[:12]
    report = tables_dir / "import_report.json"
    if (root / "manifest.json").exists() and (root / "truth").is_dir():
        kind, name = SIMULATED, "cvre-simulator"
    elif report.exists():
        kind, name = IMPORTED, Path(json.loads(report.read_text())["mapping"]).stem
    else:
        kind, name = UNKNOWN, root.name
    return {"kind": kind, "name": name, "schema": schema}


def source_tags(source: dict[str, str], fingerprint: str | None = None) -> dict[str, str]:
    tags = {f"{TAG_PREFIX}{k}": str(v) for k, v in source.items()}
    if fingerprint:
        tags[f"{TAG_PREFIX}fingerprint"] = fingerprint
    return tags


def describe(source: dict[str, str]) -> str:
    kind, name = source.get("kind", UNKNOWN), source.get("name", "?")
    return "simulated data" if kind == SIMULATED else f"{kind} '{name}'"


def source_mismatch(trained: dict[str, str], current: dict[str, str]) -> str | None:
    """Why a model trained on `trained` should not score `current` (None when it may)."""
    if not trained.get("kind"):
        return "the model records no training source (trained before sources were recorded)"
    if (trained.get("kind"), trained.get("name")) != (current.get("kind"), current.get("name")):
        return f"the model was trained on {describe(trained)}, this data is {describe(current)}"
    return None


def tags_source(tags: dict[str, str]) -> dict[str, str]:
    """The source recorded in a model version's tags."""
    return {k.removeprefix(TAG_PREFIX): v for k, v in tags.items() if k.startswith(TAG_PREFIX)}
