# Report: every run's metrics → tables and figures (the literature's: rules/literature.smk).


rule benchmark_report:
    input:
        metrics=run_metrics(),
        cards=expand(f"{RESULTS}/data/{{dataset}}.json", dataset=DATASETS),
        segmentation=lambda wildcards: segmentation_metrics() if SEGMENTATION else [],  # rules/segmentation.smk
    output:
        table=report(
            f"{RESULTS}/report/benchmark.csv",
            category="Benchmark",
            caption="../report/benchmark_table.rst",
            subcategory="Tables",
            labels={"table": "dataset x model"},
        ),
        markdown=f"{RESULTS}/report/benchmark.md",
        latex=f"{RESULTS}/report/benchmark.tex",
        family_modality=f"{RESULTS}/report/family_modality.csv",
        family_modality_markdown=report(
            f"{RESULTS}/report/family_modality.md",
            category="Benchmark",
            caption="../report/family_modality.rst",
            subcategory="Tables",
            labels={"table": "family x modality"},
        ),
        family_modality_latex=f"{RESULTS}/report/family_modality.tex",
        heatmap=report(
            f"{RESULTS}/report/family_modality_heatmap.png",
            category="Benchmark",
            caption="../report/family_modality_heatmap.rst",
            subcategory="Figures",
            labels={"figure": "family x modality heatmap"},
        ),
        cost=report(
            f"{RESULTS}/report/accuracy_vs_cost.png",
            category="Benchmark",
            caption="../report/accuracy_vs_cost.rst",
            subcategory="Figures",
            labels={"figure": "AUC vs cost"},
        ),
        cost_table=f"{RESULTS}/report/cost.csv",
        cost_markdown=report(
            f"{RESULTS}/report/cost.md",
            category="Benchmark",
            caption="../report/cost.rst",
            subcategory="Tables",
            labels={"table": "cost"},
        ),
        cost_latex=f"{RESULTS}/report/cost.tex",
        ranking=report(
            f"{RESULTS}/report/ranking.png",
            category="Benchmark",
            caption="../report/ranking.rst",
            subcategory="Figures",
            labels={"figure": "critical-difference ranking"},
        ),
        not_made=f"{RESULTS}/report/runs_not_made.csv",
        not_made_markdown=report(
            f"{RESULTS}/report/runs_not_made.md",
            category="Benchmark",
            caption="../report/runs_not_made.rst",
            subcategory="Tables",
            labels={"table": "runs without a result"},
        ),
        figure=report(
            f"{RESULTS}/report/benchmark_auc.png",
            category="Benchmark",
            caption="../report/benchmark_auc.rst",
            subcategory="Figures",
            labels={"figure": "AUC per dataset"},
        ),
        published=report(
            f"{RESULTS}/report/benchmark_vs_published.csv",
            category="Benchmark",
            caption="../report/benchmark_vs_published.rst",
            subcategory="Tables",
            labels={"table": "vs published MedMNIST v2"},
        ),
        published_markdown=f"{RESULTS}/report/benchmark_vs_published.md",
        published_latex=f"{RESULTS}/report/benchmark_vs_published.tex",
        learning=report(
            f"{RESULTS}/report/learning_curves.png",
            category="Benchmark",
            caption="../report/learning_curves.rst",
            subcategory="Figures",
            labels={"figure": "learning curves"},
        ),
        plateaus=f"{RESULTS}/report/learning_plateaus.csv",
        roc=report(
            f"{RESULTS}/report/roc_curves.png",
            category="Benchmark",
            caption="../report/roc_curves.rst",
            subcategory="Figures",
            labels={"figure": "ROC curves"},
        ),
        statistics=report(
            f"{RESULTS}/report/statistics.md",
            category="Benchmark",
            caption="../report/statistics.rst",
            subcategory="Tables",
            labels={"table": "statistics"},
        ),
        intervals=f"{RESULTS}/report/auc_intervals.csv",
        comparisons=f"{RESULTS}/report/comparisons.csv",
    params:
        profile=config["profile"],
        skipped=SKIPPED,
    log:
        f"{LOGS}/report/benchmark.log",
    benchmark:
        f"{LOGS}/benchmarks/report/benchmark.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/benchmark_report.py"

