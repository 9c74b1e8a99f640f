"""A labelled dataset exported by ASReview LAB 3.0.8 itself, run inside ASReview's virtual environment.

Drives LAB's own web API (its Flask application in testing mode, authentication off,
projects in a temporary folder) as its browser client does: a project is created from a
record file (labels in it, ``asreview_label`` or ``included``, become LAB's prior
knowledge), the ``--priors`` rows are labelled, and then ``--screen`` times the record LAB
shows next is labelled from ``--labels`` (a CSV of ``label`` per row, 1/0), the model
retrained after each as LAB does; finally LAB's "export dataset" (relevant, not seen and
irrelevant records) is written as OUT_PREFIX.csv and OUT_PREFIX.ris.

    benchmarks/.venv-asreview/bin/python benchmarks/asreview_lab_export.py RECORDS.csv OUT_PREFIX [--labels LABELS.csv --priors 25 118 --screen 10]

The environment is the screening benchmark's (``benchmarks/screening_vs_asreview.py``
creates it with asreview==3.0.8). Rows are LAB's record ids: 0-based rows of RECORDS.csv.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records")
    parser.add_argument("out")
    parser.add_argument("--labels", help="CSV with a label (1/0) per row of RECORDS.csv: the reviewer's answers")
    parser.add_argument("--priors", type=int, nargs="*", default=[])
    parser.add_argument("--screen", type=int, default=0, help="records labelled in LAB's order after the priors")
    args = parser.parse_args()
    labels = pd.read_csv(args.labels)["label"].tolist() if args.labels else []
    with tempfile.TemporaryDirectory() as folder:
        os.environ["ASREVIEW_PATH"] = folder
        from asreview.webapp.app import create_app

        client = create_app(authentication=False, testing=True).test_client()
        with open(args.records, "rb") as handle:
            created = client.post("/api/projects/create", data={"mode": "oracle", "file": (handle, Path(args.records).name)}, content_type="multipart/form-data")
        assert created.status_code == 201, created.get_json()
        project = f"/api/projects/{created.get_json()['id']}"
        for row in args.priors:
            answer = client.post(f"{project}/record/{row}", data={"record_id": row, "label": labels[row]})
            assert answer.status_code == 200, answer.get_json()
        assert client.post(f"{project}/train").status_code == 200
        for step in range(args.screen):
            row = client.get(f"{project}/get_record").get_json()["result"]["record_id"]
            answer = client.post(f"{project}/record/{row}", data={"record_id": row, "label": labels[row], "retrain_model": 1})
            assert answer.status_code == 200, answer.get_json()
            if step % 3 == 0:
                client.put(f"{project}/record/{row}/note", data={"note": f"screened in LAB, step {step + 1}"})
        for kind in ("csv", "ris"):
            export = client.get(f"{project}/export_dataset", query_string={"format": kind, "collections": ["relevant", "not_seen", "irrelevant"]})
            assert export.status_code == 200, export.data[:500]
            Path(f"{args.out}.{kind}").write_bytes(export.data)


if __name__ == "__main__":
    main()
