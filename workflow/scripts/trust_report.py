"""Snakemake script: the trust stage's records → tables (CSV, Markdown) and figures."""

from pathlib import Path

import numpy as np

from workflow.logs import log_to
from workflow.report import trust_figures, trust_tables

out = snakemake.output
profile = snakemake.params.profile

with log_to(snakemake.log[0]):
    records = trust_tables.collect(snakemake.input.records)
    frame = trust_tables.runs(records)
    frame.to_csv(out.table, index=False)
    Path(out.markdown).write_text(trust_tables.markdown(records, profile))
    explanations = trust_tables.explanations(records)
    explanations.to_csv(out.explanations, index=False)
    maps: dict[str, dict] = {}  # per dataset: its images and every model's maps
    for path in snakemake.input.maps:
        maps.setdefault(Path(path).parent.parent.name, {}).update(np.load(path))
    trust_figures.saliency_panel(maps, out.saliency, f"Saliency on the same test images ({profile} profile)")
    trust_figures.faithfulness(explanations, out.faithfulness, f"Deletion and insertion ({profile} profile)")
    threshold = snakemake.params.settings["saliency"]["sanity_threshold"]
    trust_figures.sanity(explanations, trust_tables.cascade(records), threshold, out.sanity, f"Model-randomisation check ({profile} profile)")
    trust_figures.reliability(trust_tables.reliability(records), out.reliability, f"Reliability ({profile} profile)")
    trust_figures.calibration(frame, out.calibration, f"Calibration error ({profile} profile)")
    robustness = trust_tables.robustness(records)
    robustness.to_csv(out.robustness_table, index=False)
    trust_figures.robustness(robustness, out.robustness, f"Robustness to corruptions ({profile} profile)")
    trust_figures.latency(frame, out.latency, f"Accuracy against latency ({profile} profile)")
