"""Snakemake script: train and evaluate one (2-D segmentation dataset, model, seed) run."""

from workflow.logs import log_to
from workflow.train.segmentation import SegmentationRecipe
from workflow.train.segmentation_run import SegmentationRunSpec, execute

with log_to(snakemake.log[0]):
    settings = snakemake.params.settings
    spec = SegmentationRunSpec(
        dataset=snakemake.wildcards.segset,
        model=snakemake.wildcards.segmodel,
        arch=snakemake.params.model["arch"],
        params=dict(snakemake.params.model.get("params", {})),
        recipe=SegmentationRecipe(**snakemake.params.recipe),
        seed=int(snakemake.wildcards.seed),
        tolerance=float(settings.get("tolerance_mm", settings.get("tolerance_px"))),
        tolerance_unit="mm" if "tolerance_mm" in settings else "px",
        size=tuple(settings["size"]) if "size" in settings else None,
        patch=tuple(settings["patch"]) if "patch" in settings else None,
        augment=dict(settings.get("augment", {})),
        profile=snakemake.params.profile,
    )
    execute(
        spec,
        npz=snakemake.input.npz,
        card_path=snakemake.input.card,
        root=snakemake.params.root,
        metrics_path=snakemake.output.metrics,
        log_path=snakemake.output.log,
        cases_path=snakemake.output.cases,
        predictions_path=snakemake.output.predictions,
        threads=snakemake.threads,
        device=snakemake.params.device,
        model_files=snakemake.params.model_files,
    )
