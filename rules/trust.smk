# Trust (optional config section `trust`): one job per (dataset, model) scores every seed's
# run (saliency, calibration, robustness, latency) from its run folders; then the report.
# Every job of a dataset explains the same seeded test images and corrupts them the same way,
# so adding a model scores that model alone.

TRUST = config["trust"] if config["trust"]["enabled"] else None


def trust_run_dirs(dataset, model):
    return [f"{RESULTS}/runs/{dataset}/{model}/seed{seed}" for seed in SEEDS]


def trust_files(name):
    """Every (dataset, model)'s trust file, datasets in order, models in the config's."""
    return [f"{RESULTS}/trust/{dataset}/{model}/{name}" for dataset, model in sorted(RUNS, key=lambda run: run[0])]


if TRUST:

    rule trust:
        input:
            card=f"{RESULTS}/data/{{dataset}}.json",
            metrics=lambda wc: [f"{run}/metrics.json" for run in trust_run_dirs(wc.dataset, wc.model)],
            model_file=lambda wc: model_source(MODELS[wc.model]["arch"]),
        output:
            records=f"{RESULTS}/trust/{{dataset}}/{{model}}/trust.json",
            maps=f"{RESULTS}/trust/{{dataset}}/{{model}}/maps.npz",
        params:
            npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
            runs=lambda wc: trust_run_dirs(wc.dataset, wc.model),
            settings=TRUST,
            model_files=lambda wc: model_source(MODELS[wc.model]["arch"]),
        threads: TRUST["threads"]
        log:
            f"{LOGS}/trust/{{dataset}}/{{model}}.log",
        benchmark:
            f"{LOGS}/benchmarks/trust/{{dataset}}/{{model}}.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
        conda:
            "../envs/trust.yaml"
        script:
            "../workflow/scripts/trust.py"

    rule trust_report:
        input:
            records=trust_files("trust.json"),
            maps=trust_files("maps.npz"),
        output:
            table=f"{RESULTS}/report/trust.csv",
            markdown=report(f"{RESULTS}/report/trust.md", category="Trust", caption="../report/trust_tables.rst", subcategory="Tables", labels={"table": "trust"}),
            explanations=f"{RESULTS}/report/trust_explanations.csv",
            robustness_table=f"{RESULTS}/report/trust_robustness.csv",
            saliency=report(f"{RESULTS}/report/trust_saliency.png", category="Trust", caption="../report/trust_saliency.rst", subcategory="Figures", labels={"figure": "saliency maps"}),
            faithfulness=report(f"{RESULTS}/report/trust_faithfulness.png", category="Trust", caption="../report/trust_faithfulness.rst", subcategory="Figures", labels={"figure": "deletion and insertion"}),
            sanity=report(f"{RESULTS}/report/trust_sanity.png", category="Trust", caption="../report/trust_sanity.rst", subcategory="Figures", labels={"figure": "randomisation check"}),
            reliability=report(f"{RESULTS}/report/trust_reliability.png", category="Trust", caption="../report/trust_reliability.rst", subcategory="Figures", labels={"figure": "reliability diagrams"}),
            calibration=report(f"{RESULTS}/report/trust_calibration.png", category="Trust", caption="../report/trust_calibration.rst", subcategory="Figures", labels={"figure": "calibration error"}),
            robustness=report(f"{RESULTS}/report/trust_robustness.png", category="Trust", caption="../report/trust_robustness.rst", subcategory="Figures", labels={"figure": "robustness"}),
            latency=report(f"{RESULTS}/report/trust_latency.png", category="Trust", caption="../report/trust_latency.rst", subcategory="Figures", labels={"figure": "latency vs AUC"}),
        params:
            profile=config["profile"],
            settings=TRUST,
        log:
            f"{LOGS}/report/trust.log",
        benchmark:
            f"{LOGS}/benchmarks/report/trust.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
        conda:
            "../envs/report.yaml"
        script:
            "../workflow/scripts/trust_report.py"


def trust_outputs():
    if not TRUST or not RUNS:
        return []
    return [f"{RESULTS}/report/{name}" for name in ("trust.csv", "trust.md", "trust_saliency.png", "trust_latency.png")]
