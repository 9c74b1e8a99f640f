"""Snakemake script: train and evaluate one (dataset, model, seed) run, with the GAN step's
synthetic images added to its training split when the model entry asks for them."""

from workflow.logs import log_to
from workflow.train.recipe import Recipe
from workflow.train.run import RunSpec, execute

with log_to(snakemake.log[0]):
    spec = RunSpec(
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        arch=snakemake.params.model["arch"],
        params=dict(snakemake.params.model.get("params", {})),
        recipe=Recipe.from_dict(snakemake.params.recipe),
        seed=int(snakemake.wildcards.seed),
        profile=snakemake.params.profile,
        augment=dict(snakemake.params.model.get("augment", {})),
    )
    execute(
        spec,
        npz=snakemake.params.npz,
        metrics_path=snakemake.output.metrics,
        log_path=snakemake.output.log,
        predictions_path=snakemake.output.predictions,
        threads=snakemake.threads,
        device=snakemake.params.device,
        model_files=snakemake.params.model_files,
        synthetic=getattr(snakemake.input, "synthetic", None) or None,
    )
