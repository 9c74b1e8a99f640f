# Report: every run's metrics and the literature counts → tables and figures.


rule benchmark_report:
    input:
        metrics=run_metrics(),
        cards=expand(f"{RESULTS}/data/{{dataset}}.json", dataset=DATASETS),
    output:
        table=report(
            f"{RESULTS}/report/benchmark.csv",
            category="Benchmark",
            caption="../report/benchmark_table.rst",
        ),
        markdown=f"{RESULTS}/report/benchmark.md",
        figure=report(
            f"{RESULTS}/report/benchmark_auc.png",
            category="Benchmark",
            caption="../report/benchmark_auc.rst",
        ),
        published=report(
            f"{RESULTS}/report/benchmark_vs_published.csv",
            category="Benchmark",
            caption="../report/benchmark_vs_published.rst",
        ),
        published_markdown=f"{RESULTS}/report/benchmark_vs_published.md",
        learning=report(
            f"{RESULTS}/report/learning_curves.png",
            category="Benchmark",
            caption="../report/learning_curves.rst",
        ),
        roc=report(
            f"{RESULTS}/report/roc_curves.png",
            category="Benchmark",
            caption="../report/roc_curves.rst",
        ),
        statistics=report(
            f"{RESULTS}/report/statistics.md",
            category="Benchmark",
            caption="../report/statistics.rst",
        ),
        intervals=f"{RESULTS}/report/auc_intervals.csv",
        comparisons=f"{RESULTS}/report/comparisons.csv",
    params:
        profile=config["profile"],
    log:
        f"{LOGS}/report/benchmark.log",
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/benchmark_report.py"


rule literature_report:
    input:
        prisma=f"{RESULTS}/literature/prisma.json",
    output:
        markdown=report(
            f"{RESULTS}/report/prisma.md",
            category="Literature",
            caption="../report/prisma_counts.rst",
        ),
        figure=report(
            f"{RESULTS}/report/prisma_flow.png",
            category="Literature",
            caption="../report/prisma_flow.rst",
        ),
        svg=f"{RESULTS}/report/prisma_flow.svg",
        template=report(
            f"{RESULTS}/report/prisma2020.csv",
            category="Literature",
            caption="../report/prisma2020.rst",
        ),
    log:
        f"{LOGS}/report/literature.log",
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/literature_report.py"
