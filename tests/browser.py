"""Render a Snakemake HTML report in headless Chromium, as a reader would, and report what it shows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HARNESS = Path(__file__).parent / "data" / "report_figures.js"
ERRORS = "<script>window.reportErrors = []; window.addEventListener('error', (e) => window.reportErrors.push(String(e.message)));</script>"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def figure_checks(report: Path, workdir: Path) -> tuple[list[dict], list[str]]:
    """Each image result of the report: listed in its category, shown when clicked, and its
    decoded size; plus any JavaScript errors raised while the report ran."""
    html = report.read_text()
    harness = HARNESS.read_text()
    head, body = html.index("<head>") + len("<head>"), html.rindex("</body>")
    page = workdir / "report-check.html"
    page.write_text(html[:head] + ERRORS + html[head:body] + f"<script>{harness}</script>" + html[body:])
    dom = subprocess.run([chromium(), *FLAGS, "--virtual-time-budget=60000", "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=300).stdout
    found = re.search(r'<pre id="figure-check">(.*?)</pre>', dom, re.S)
    if not found:
        raise AssertionError(f"the report did not finish rendering; page ends with: {dom[-500:]}")
    result = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return result["checks"], result["errors"]


def screenshot(report: Path, png: Path, size: str = "1400,900") -> None:
    subprocess.run([chromium(), *FLAGS, f"--window-size={size}", f"--screenshot={png}", report.as_uri()], capture_output=True, timeout=300, check=True)
