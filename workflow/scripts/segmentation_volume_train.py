"""Snakemake script: train and evaluate one (volume dataset, model, seed) run."""

from workflow.logs import log_to
from workflow.train.volume_run import VolumeRunSpec, execute
from workflow.train.volumes import VolumeRecipe

with log_to(snakemake.log[0]):
    dataset = snakemake.params.dataset
    spec = VolumeRunSpec(
        dataset=snakemake.wildcards.volset,
        model=snakemake.wildcards.volmodel,
        arch=snakemake.params.model["arch"],
        params=dict(snakemake.params.model.get("params", {})),
        recipe=VolumeRecipe(**{**snakemake.params.recipe, **({"epochs": dataset["epochs"]} if "epochs" in dataset else {})}),
        seed=int(snakemake.wildcards.seed),
        patch=tuple(dataset["patch"]),
        spacing=tuple(dataset["spacing"]),
        tolerance_mm=float(dataset["tolerance_mm"]),
        window=tuple(dataset["window"]) if "window" in dataset else None,
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
