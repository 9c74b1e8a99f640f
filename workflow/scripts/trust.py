"""Snakemake script: the trust stage for one model's runs on one dataset (workflow.trust.stage)."""

from workflow.logs import log_to
from workflow.trust.stage import TrustSettings, evaluate_dataset

with log_to(snakemake.log[0]):
    evaluate_dataset(
        snakemake.wildcards.dataset,
        npz=snakemake.params.npz,
        run_dirs=snakemake.params.runs,
        output=snakemake.output.records,
        maps_output=snakemake.output.maps,
        settings=TrustSettings.from_config(snakemake.params.settings),
        threads=snakemake.threads,
        model_files=snakemake.params.model_files,
    )
