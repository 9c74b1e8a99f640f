"""Time to the next record in the screening room, on a review of about 5,000 records.

    PYTHONPATH=. DLMIA_DATA=/path/to/data .venv/bin/python benchmarks/screening_room_latency.py [--decisions 300] [--browser 100]

The review is van de Schoot 2017 (PTSD trajectories; ``screening/asreview-simulation``): its
unique records with an abstract, 5,035 of them, 38 relevant. A server is started as
``python -m workflow.screening_room serve`` starts it; a scripted reviewer answers from the
labels, first the two priors of seed 0, then each record the server shows next. Each time is
the wall-clock time of one decision's HTTP round trip: the decision stored, the model
refitted, the next record chosen and the progress panel (stopping rule included) computed.
Prints the median, the 95th percentile and the maximum, and the server's start-up time.
``--browser N`` then goes on for N decisions in Debian's Chromium (Playwright), each timed
from the key press to the page holding the next record (its DOM updated).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from tests.screening_room_server import Server
from workflow.literature.active_learning import prior_records

REVIEW = Path("screening") / "asreview-simulation" / "van_de_Schoot_2017.csv"


def records(root: Path) -> pd.DataFrame:
    table = pd.read_csv(root / REVIEW, dtype=str, keep_default_na=False)
    return table[(table["duplicate_record_id"] == "") & (table["abstract"].str.strip() != "")].reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=300, help="decisions timed after the priors")
    parser.add_argument("--browser", type=int, default=0, help="decisions timed in Chromium after those")
    args = parser.parse_args()
    table = records(Path(os.environ["DLMIA_DATA"]))
    labels = table["label_included"].astype(int).to_numpy()
    label = dict(zip(table["record_id"], np.where(labels == 1, "relevant", "irrelevant")))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.csv"
        table.drop(columns=["label_included", "label_abstract_screening"]).to_csv(path, index=False)
        began = time.perf_counter()
        server = Server(Path(folder) / "review.sqlite", "--records", str(path), "--config", "config.yaml").start()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            http.get("/api/state", params={"reviewer": "bench"}).raise_for_status()
            start = time.perf_counter() - began
            for position in prior_records(labels, 0):
                record = table["record_id"][position]
                state = http.post("/api/decisions", json={"reviewer": "bench", "record_id": record, "label": label[record], "request": f"prior-{record}"}).json()
            times = []
            for i in range(args.decisions):
                record = state["record"]["record_id"]
                began = time.perf_counter()
                response = http.post("/api/decisions", json={"reviewer": "bench", "record_id": record, "label": label[record], "request": f"d{i}", "expected": state["record"]["expected"]})
                times.append(time.perf_counter() - began)
                state = response.json()
        clicks = in_browser(server.url, label, args.browser) if args.browser else []
        server.stop()
    ms = 1000 * np.array(times)
    print(f"{len(table)} records, {labels.sum()} relevant; server ready (file created, features, first record) in {start:.1f} s")
    print(f"time to the next record over {len(ms)} decisions: median {np.median(ms):.0f} ms, 95th percentile {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms")
    if clicks:
        ms = 1000 * np.array(clicks)
        print(f"in Chromium, key press to the next record on the page, over {len(ms)} decisions: median {np.median(ms):.0f} ms, 95th percentile {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms")


def in_browser(url: str, label: dict[str, str], decisions: int) -> list[float]:
    """Seconds from each key press to the next record drawn, the page's own clock."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(f"{url}/?reviewer=bench")
        page.wait_for_function("document.body.dataset.renders >= 1")
        times = []
        for _ in range(decisions):
            key = "r" if label[page.evaluate("document.body.dataset.record")] == "relevant" else "i"
            times.append(page.evaluate("""(key) => new Promise((resolve) => {
                const before = Number(document.body.dataset.renders), began = performance.now();
                new MutationObserver((_, observer) => {
                    if (Number(document.body.dataset.renders) > before) { observer.disconnect(); resolve((performance.now() - began) / 1000); }
                }).observe(document.body, {attributes: true});
                document.dispatchEvent(new KeyboardEvent("keydown", {key}));
            })""", key))
        browser.close()
    return times


if __name__ == "__main__":
    main()
