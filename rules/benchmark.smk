# Benchmark: one job per (dataset, model, seed), on CUDA when present, else CPU.


rule train:
    input:
        card=f"{RESULTS}/data/{{dataset}}.json",
        synthetic=lambda wc: synthetic_images(wc),  # rules/gan.smk: GAN images for augmented entries
    output:
        metrics=f"{RESULTS}/runs/{{dataset}}/{{model}}/seed{{seed}}/metrics.json",
        log=f"{RESULTS}/runs/{{dataset}}/{{model}}/seed{{seed}}/log.csv",
        predictions=f"{RESULTS}/runs/{{dataset}}/{{model}}/seed{{seed}}/predictions.npz",
    params:
        npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
        model=lambda wc: MODELS[wc.model],
        recipe=lambda wc: config_recipe(wc.model, DATASETS[wc.dataset].spatial_dims),
        device=config["benchmark"]["device"],
        model_files=config["benchmark"]["model_files"],
        profile=config["profile"],
    threads: config["benchmark"]["threads"]
    log:
        f"{LOGS}/runs/{{dataset}}/{{model}}/seed{{seed}}.log",
    conda:
        "../envs/benchmark.yaml"
    script:
        "../workflow/scripts/train.py"
