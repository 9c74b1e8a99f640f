# Benchmark: one job per (dataset, model, seed), on CUDA when present, else CPU.


rule train:
    input:
        card=f"{RESULTS}/data/{{dataset}}.json",
        synthetic=lambda wc: synthetic_images(wc),  # rules/gan.smk: GAN images for augmented entries
        model_file=lambda wc: model_source(MODELS[wc.model]["arch"]),
    output:
        metrics=f"{RESULTS}/runs/{{dataset}}/{{model}}/seed{{seed}}/metrics.json",
        log=f"{RESULTS}/runs/{{dataset}}/{{model}}/seed{{seed}}/log.csv",
        predictions=f"{RESULTS}/runs/{{dataset}}/{{model}}/seed{{seed}}/predictions.npz",
    params:
        npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
        model=lambda wc: MODELS[wc.model],
        recipe=lambda wc: config_recipe(wc.model, DATASETS[wc.dataset].spatial_dims),
        device=config["benchmark"]["device"],
        model_files=lambda wc: model_source(MODELS[wc.model]["arch"]),
        profile=config["profile"],
    threads: config["benchmark"]["threads"]
    log:
        f"{LOGS}/runs/{{dataset}}/{{model}}/seed{{seed}}.log",
    benchmark:
        f"{LOGS}/benchmarks/runs/{{dataset}}/{{model}}/seed{{seed}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/benchmark.yaml"
    script:
        "../workflow/scripts/train.py"
