# GAN augmentation: a class-conditional GAN per (dataset, seed), trained on the training split;
# its images extend the training split of entries with `augment: {gan: ratio}`, and a table
# compares each such entry with the same classifier trained on real images only.
from workflow.gan.settings import GanSettings

GAN_SETTINGS = asdict(GanSettings(**config["benchmark"].get("gan", {})))


def _gan_ratio(model):
    return MODELS[model].get("augment", {}).get("gan")


def _baseline(model, dataset):
    """The entry with the same arch, params and recipe as ``model`` and no augmentation."""
    keys = ("arch", "params", "recipe")
    entry = MODELS[model]
    for name, other in MODELS.items():
        if not other.get("augment") and all(other.get(k) == entry.get(k) for k in keys) and (dataset, name) in RUNS:
            return name
    raise WorkflowError(
        f"invalid configuration: benchmark.models.{model}.augment: no entry with the same arch, params and "
        f"recipe without augment runs on {dataset}, so the GAN table has nothing to compare {model} with"
    )


GAN_PAIRS = [
    {"dataset": dataset, "model": model, "baseline": _baseline(model, dataset), "ratio": _gan_ratio(model)}
    for dataset, model in RUNS
    if _gan_ratio(model)
]
GAN_DATASETS = sorted({pair["dataset"] for pair in GAN_PAIRS})


def synthetic_images(wildcards):
    if not _gan_ratio(wildcards.model):
        return []
    return f"{RESULTS}/gan/{wildcards.dataset}/seed{wildcards.seed}/synthetic.npz"


def gan_outputs():
    if not GAN_PAIRS:
        return []
    return [
        f"{RESULTS}/report/gan_augmentation.csv",
        f"{RESULTS}/report/gan_augmentation.md",
        *expand(f"{RESULTS}/report/gan_samples_{{dataset}}.png", dataset=GAN_DATASETS),
    ]


def _run_files(kind):
    return [
        f"{RESULTS}/runs/{pair['dataset']}/{pair[kind]}/seed{seed}/metrics.json"
        for pair in GAN_PAIRS
        for seed in SEEDS
    ]


rule gan:
    input:
        card=f"{RESULTS}/data/{{dataset}}.json",
    output:
        # removed once the runs that train on it are done (a rerun makes the same images again);
        # the sample grid reads the few it shows from samples.npz
        synthetic=temp(f"{RESULTS}/gan/{{dataset}}/seed{{seed}}/synthetic.npz"),
        samples=f"{RESULTS}/gan/{{dataset}}/seed{{seed}}/samples.npz",
        metrics=f"{RESULTS}/gan/{{dataset}}/seed{{seed}}/metrics.json",
    params:
        npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
        ratio=lambda wc: max(pair["ratio"] for pair in GAN_PAIRS if pair["dataset"] == wc.dataset),
        settings=GAN_SETTINGS,
        device=config["benchmark"]["device"],
    threads: config["benchmark"]["threads"]
    log:
        f"{LOGS}/gan/{{dataset}}/seed{{seed}}.log",
    benchmark:
        f"{LOGS}/benchmarks/gan/{{dataset}}/seed{{seed}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/benchmark.yaml"
    script:
        "../workflow/scripts/gan.py"


rule gan_real_samples:
    input:
        card=f"{RESULTS}/data/{{dataset}}.json",  # the dataset job has fetched and checked the file
    output:
        f"{RESULTS}/gan/{{dataset}}/real_samples.npz",  # kept with the runs: the grid needs no data folder
    params:
        npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
        per_class=8,
    log:
        f"{LOGS}/gan/{{dataset}}/real_samples.log",
    benchmark:
        f"{LOGS}/benchmarks/gan/{{dataset}}/real_samples.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/gan_real_samples.py"


rule gan_samples:
    input:
        samples=f"{RESULTS}/gan/{{dataset}}/seed{SEEDS[0]}/samples.npz",
        real=f"{RESULTS}/gan/{{dataset}}/real_samples.npz",
    output:
        figure=report(
            f"{RESULTS}/report/gan_samples_{{dataset}}.png",
            category="GAN augmentation",
            caption="../report/gan_samples.rst",
            subcategory="Sample grids",
            labels={"dataset": "{dataset}"},
        ),
        svg=f"{RESULTS}/report/gan_samples_{{dataset}}.svg",
    params:
        class_names=lambda wc: DATASETS[wc.dataset].info["label"],
        seed=SEEDS[0],
    log:
        f"{LOGS}/report/gan_samples_{{dataset}}.log",
    benchmark:
        f"{LOGS}/benchmarks/report/gan_samples_{{dataset}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/gan_samples.py"


rule gan_augmentation:
    input:
        augmented=_run_files("model"),
        baseline=_run_files("baseline"),
        gan=expand(f"{RESULTS}/gan/{{dataset}}/seed{{seed}}/metrics.json", dataset=GAN_DATASETS, seed=SEEDS),
    output:
        table=report(
            f"{RESULTS}/report/gan_augmentation.csv",
            category="GAN augmentation",
            caption="../report/gan_augmentation.rst",
            subcategory="Tables",
            labels={"table": "real vs real + GAN images"},
        ),
        markdown=f"{RESULTS}/report/gan_augmentation.md",
        latex=f"{RESULTS}/report/gan_augmentation.tex",
    params:
        pairs=GAN_PAIRS,
        profile=config["profile"],
    log:
        f"{LOGS}/report/gan_augmentation.log",
    benchmark:
        f"{LOGS}/benchmarks/report/gan_augmentation.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/gan_augmentation.py"
