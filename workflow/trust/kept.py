"""Kept trust records brought in line with the current checks, without the checkpoints or
validation scores they were measured from.

Records of runs made before runs kept their validation scores (2026-12-01) cannot be
calibrated again: the temperature is fitted on the validation split. Their calibration
(fitted within a bound, ECE without intervals or noise floor) and their model-randomisation
correlations (an incomplete re-draw: attention and bare parameters kept their trained
values) are withdrawn from the records, each with the reason, until the trust stage runs
again from checkpoints. Deletion and insertion areas, robustness and latency stay as they
were measured: the checks changed nothing in them.

    python -m workflow.trust.kept --results benchmarks/results/cpu
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .stage import records_json

WITHDRAWN = {
    "calibration": "fitted with log T bounded to [-4, 4] and ECE without intervals or noise floor (before 2026-12-06); "
                   "the runs kept no validation scores to fit again: rerun the trust stage from checkpoints",
    "randomisation": "measured before every weight was re-drawn (before 2026-12-06); rerun the trust stage from checkpoints",
}


def withdraw(record: dict) -> dict:
    """The record without its calibration and randomisation correlations, each replaced by the reason."""
    record = {k: v for k, v in record.items() if k != "calibration"} | {"calibration_withdrawn": WITHDRAWN["calibration"]}
    if "saliency" in record:
        methods = {m: {k: v for k, v in entry.items() if not k.startswith("randomisation")} for m, entry in record["saliency"]["methods"].items()}
        record["saliency"] = {**record["saliency"], "methods": methods, "randomisation_withdrawn": WITHDRAWN["randomisation"]}
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, help="the profile's results folder (trust/ in it)")
    args = parser.parse_args(argv)
    for path in sorted(Path(args.results).glob("trust/*/*/trust.json")):
        records = [withdraw(r) for r in json.loads(path.read_text())]
        path.write_text(records_json(records))
        print(f"{path}: {len(records)} records")


if __name__ == "__main__":
    main()
