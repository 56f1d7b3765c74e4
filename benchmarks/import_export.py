"""Benchmark `cvre import` on a large user export: draft a mapping, then import with it.

The export is a seeded French Salesforce-style opportunity report (semicolons, Windows-1252, day-first dates,
`12 500,50 €` amounts, Salesforce stage names, one "Close Date"), written once into a temporary folder and not
timed. Each command runs as the user runs it (`cvre import FILE --draft`, then `cvre import FILE -m DRAFT -o
OUT`) in a fresh process pinned to the given cores; wall time includes interpreter start and imports, and
peak RSS is the process's own. Results go to benchmarks/results/import_export.json.

    .venv/bin/python benchmarks/import_export.py                 # 1M deals, 2 cores
    .venv/bin/python benchmarks/import_export.py --deals 100k    # quick
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS_DIR, machine_info, parse_deals, run_measured, write_result  # noqa: E402

CVRE = Path(sys.executable).with_name("cvre")
STAGES = ("Prospecting", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost")


def write_report(path: Path, deals: int, seed: int) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    stage = np.array(STAGES)[rng.integers(0, len(STAGES), deals)]
    created = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900 * 24 * 60, deals), unit="min")
    close = created + pd.to_timedelta(rng.integers(5, 200, deals), unit="D")
    amount = pd.Series(np.round(rng.gamma(2.0, 5000.0, deals), 2))
    pd.DataFrame({
        "Opportunity ID": [f"006{i:012d}" for i in range(deals)],
        "Account ID": [f"001{i:07d}" for i in rng.integers(0, deals // 20 + 1, deals)],
        "Opportunity Owner": [f"Rep {i}" for i in rng.integers(0, 200, deals)],
        "Type": np.where(rng.random(deals) < 0.6, "New Business", "Existing Business - Renewal"),
        "Created Date": created.strftime("%d/%m/%Y %H:%M"),
        "Stage": stage,
        "Amount": amount.map(lambda v: f"{v:,.2f} €".replace(",", "\u00a0").replace(".", ",")),
        "Close Date": close.strftime("%d/%m/%Y"),
        "Opportunity Name": [f"Affaire n°{i}" for i in range(deals)],
    }).to_csv(path, sep=";", index=False, encoding="cp1252")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--deals", default="1M", help="rows of the report (100k, 1M); default: %(default)s")
    p.add_argument("--seed", type=int, default=42, help="seed of the synthetic report (default: %(default)s)")
    p.add_argument("--cores", type=int, default=2, help="pin each command to N CPUs (default: %(default)s)")
    p.add_argument("--output", default=str(RESULTS_DIR / "import_export.json"), help="result JSON")
    args = p.parse_args(argv)
    deals = parse_deals([args.deals])[0]
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = folder / "Opportunités.csv"
        write_report(report, deals, args.seed)
        commands = {"draft": [str(CVRE), "import", str(report), "--draft", str(folder / "draft.yaml")],
                    "import": [str(CVRE), "import", str(report), "-m", str(folder / "draft.yaml"), "-o",
                               str(folder / "out")]}
        for name, cmd in commands.items():
            measured = run_measured(cmd, folder / f"{name}.log", cores=list(range(args.cores)), timeout_s=1200)
            runs[name] = measured.as_dict() | {"output_tail": (folder / f"{name}.log").read_text()[-600:]}
            print(f"[import_export] {name}: wall {measured.wall_s:.1f}s, peak {measured.peak_rss_mb:.0f} MB, "
                  f"status {measured.status}")
        runs["file_mb"] = round(report.stat().st_size / 1024**2, 1)
    data = {"benchmark": "import_export", "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join([sys.executable, *sys.argv]), "machine": machine_info(), "deals": deals,
            "method": "seeded French Salesforce-style report written untimed; each cvre command in a fresh pinned "
                      "process, wall time including interpreter start", "runs": runs}
    path = write_result(data, args.output)
    print(f"[import_export] wrote {path}")
    return 0 if all(r["status"] == "ok" for k, r in runs.items() if k != "file_mb") else 1


if __name__ == "__main__":
    sys.exit(main())
