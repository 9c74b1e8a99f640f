# Trust (optional config section `trust`): one job per dataset scores every classification
# run of it (saliency, calibration, robustness, latency) from its run folders; then the report.

TRUST = config["trust"] if config["trust"]["enabled"] else None


def trust_run_dirs(dataset):
    return [f"{RESULTS}/runs/{ds}/{model}/seed{seed}" for ds, model in RUNS if ds == dataset for seed in SEEDS]


if TRUST:

    rule trust:
        input:
            card=f"{RESULTS}/data/{{dataset}}.json",
            metrics=lambda wc: [f"{run}/metrics.json" for run in trust_run_dirs(wc.dataset)],
        output:
            records=f"{RESULTS}/trust/{{dataset}}/trust.json",
            maps=f"{RESULTS}/trust/{{dataset}}/maps.npz",
        params:
            npz=lambda wc: str(DATASETS[wc.dataset].path(DATA_ROOT)),
            runs=lambda wc: trust_run_dirs(wc.dataset),
            settings=TRUST,
            model_files=config["benchmark"]["model_files"],
        threads: TRUST["threads"]
        log:
            f"{LOGS}/trust/{{dataset}}.log",
        conda:
            "../envs/trust.yaml"
        script:
            "../workflow/scripts/trust.py"

    rule trust_report:
        input:
            records=expand(f"{RESULTS}/trust/{{dataset}}/trust.json", dataset=sorted({d for d, _ in RUNS})),
            maps=expand(f"{RESULTS}/trust/{{dataset}}/maps.npz", dataset=sorted({d for d, _ in RUNS})),
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
        conda:
            "../envs/report.yaml"
        script:
            "../workflow/scripts/trust_report.py"


def trust_outputs():
    if not TRUST or not RUNS:
        return []
    return [f"{RESULTS}/report/{name}" for name in ("trust.csv", "trust.md", "trust_saliency.png", "trust_latency.png")]
