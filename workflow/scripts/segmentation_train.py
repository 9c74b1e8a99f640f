"""Snakemake script: train and evaluate one (segmentation dataset, model, seed) run."""

from workflow.logs import log_to
from workflow.train.segmentation import SegmentationRecipe
from workflow.train.segmentation_run import SegmentationRunSpec, execute

with log_to(snakemake.log[0]):
    spec = SegmentationRunSpec(
        dataset=snakemake.wildcards.segset,
        model=snakemake.wildcards.segmodel,
        arch=snakemake.params.model["arch"],
        params=dict(snakemake.params.model.get("params", {})),
        recipe=SegmentationRecipe(**snakemake.params.recipe),
        seed=int(snakemake.wildcards.seed),
        size=int(snakemake.params.size),
        tolerance_mm=float(snakemake.params.tolerance_mm),
        profile=snakemake.params.profile,
    )
    execute(
        spec,
        npz=snakemake.input.npz,
        metrics_path=snakemake.output.metrics,
        log_path=snakemake.output.log,
        cases_path=snakemake.output.cases,
        predictions_path=snakemake.output.predictions,
        threads=snakemake.threads,
        device=snakemake.params.device,
        model_files=snakemake.params.model_files,
    )
