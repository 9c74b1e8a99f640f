"""Snakemake script: train and evaluate one (volume dataset, model, seed) run."""

from workflow.logs import log_to
from workflow.train.segmentation import SegmentationRecipe
from workflow.train.volume_run import VolumeRunSpec, execute

with log_to(snakemake.log[0]):
    settings = snakemake.params.settings
    spec = VolumeRunSpec(
        dataset=snakemake.wildcards.volset,
        model=snakemake.wildcards.volmodel,
        arch=snakemake.params.model["arch"],
        params=dict(snakemake.params.model.get("params", {})),
        recipe=SegmentationRecipe(**snakemake.params.recipe),
        seed=int(snakemake.wildcards.seed),
        patch=tuple(settings["patch"]),
        spacing=tuple(settings["spacing"]),
        tolerance_mm=float(settings["tolerance_mm"]),
        window=tuple(settings["window"]) if "window" in settings else None,
        augment=dict(settings.get("augment", {})),
        profile=snakemake.params.profile,
    )
    execute(
        spec,
        description_path=snakemake.input.description,
        root=snakemake.params.root,
        metrics_path=snakemake.output.metrics,
        log_path=snakemake.output.log,
        cases_path=snakemake.output.cases,
        predictions_path=snakemake.output.predictions,
        threads=snakemake.threads,
        device=snakemake.params.device,
        model_files=snakemake.params.model_files,
    )
