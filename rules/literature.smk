# Literature: PubMed (a live search or a frozen snapshot) and exports of other databases
# → records → deduplicated → screened → PRISMA counts, evidence map, screening simulation.
# Included unless literature.enabled is false.


# A frozen snapshot is read when its files are there; otherwise PubMed is searched.
SNAPSHOT, UNMATCHED = snapshot_files(config)
if UNMATCHED:
    logger.warning(
        f"literature.snapshot: no file matches {', '.join(UNMATCHED)}"
        + ("" if SNAPSHOT else "; searching PubMed instead (set DLMIA_DATA to use a snapshot)")
    )
if not SNAPSHOT and "pubmed" not in config["literature"]:
    raise WorkflowError(
        "invalid configuration: literature.snapshot matches no file and literature.pubmed "
        "gives no search to run instead"
    )

pubmed_input = SNAPSHOT or [f"{RESULTS}/literature/pubmed_search.json"]

EXPORTS, UNMATCHED_EXPORTS = export_files(config)
if UNMATCHED_EXPORTS:
    logger.warning(f"literature.exports: no file matches {', '.join(UNMATCHED_EXPORTS)}; those sources are left out")


rule search_pubmed:
    output:
        f"{RESULTS}/literature/pubmed_search.json",
    params:
        search=config["literature"].get("pubmed"),
        folder=f"{RESULTS}/literature/pubmed",
    log:
        f"{LOGS}/literature/search_pubmed.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/search_pubmed.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/search_pubmed.py"


rule collect_records:
    input:
        pubmed=pubmed_input,
        exports=[e["path"] for e in EXPORTS],
    output:
        records=f"{RESULTS}/literature/records.csv",
        rejects=f"{RESULTS}/literature/rejects.csv",
    params:
        exports=EXPORTS,
    log:
        f"{LOGS}/literature/collect_records.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/collect_records.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/collect_records.py"


rule deduplicate:
    input:
        f"{RESULTS}/literature/records.csv",
    output:
        records=f"{RESULTS}/literature/deduplicated.csv",
        audit=f"{RESULTS}/literature/duplicates.csv",
    log:
        f"{LOGS}/literature/deduplicate.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/deduplicate.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/deduplicate.py"


rule screen:
    input:
        records=f"{RESULTS}/literature/records.csv",
        rejects=f"{RESULTS}/literature/rejects.csv",
        deduplicated=f"{RESULTS}/literature/deduplicated.csv",
        duplicates=f"{RESULTS}/literature/duplicates.csv",
        fulltext=config["literature"]["screening"].get("fulltext", {}).get("decisions", []),
        decisions=config["literature"]["screening"].get("decisions", []),
    output:
        screened=f"{RESULTS}/literature/screened.csv",
        included=f"{RESULTS}/literature/included.csv",
        to_screen=f"{RESULTS}/literature/to_screen.csv",
        prisma=f"{RESULTS}/literature/prisma.json",
    params:
        screening=config["literature"]["screening"],
    log:
        f"{LOGS}/literature/screen.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/screen.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/screen.py"


rule evidence_map:
    input:
        f"{RESULTS}/literature/included.csv",
    output:
        tags=f"{RESULTS}/literature/evidence.csv",
        counts=report(
            f"{RESULTS}/report/evidence_counts.csv",
            category="Literature",
            caption="../report/evidence_counts.rst",
            subcategory="Tables",
            labels={"table": "evidence counts"},
        ),
        heatmap=report(
            f"{RESULTS}/report/evidence_map.png",
            category="Literature",
            caption="../report/evidence_map.rst",
            subcategory="Figures",
            labels={"figure": "evidence map"},
        ),
        per_year=report(
            f"{RESULTS}/report/evidence_per_year.png",
            category="Literature",
            caption="../report/evidence_per_year.rst",
            subcategory="Figures",
            labels={"figure": "evidence per year"},
        ),
    params:
        vocabulary=config["literature"].get("vocabulary") or str(VOCABULARY),
    log:
        f"{LOGS}/literature/evidence_map.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/evidence_map.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/evidence_map.py"


rule reported_metrics:
    input:
        included=f"{RESULTS}/literature/included.csv",
        tags=f"{RESULTS}/literature/evidence.csv",
        measured=f"{RESULTS}/report/family_modality.csv",
        benchmark=f"{RESULTS}/report/benchmark.csv",
    output:
        pairs=f"{RESULTS}/literature/reported_metrics.csv",
        review=f"{RESULTS}/literature/reported_for_review.csv",  # values outside their metric's plausible range
        table=f"{RESULTS}/report/reported_vs_measured.csv",
        markdown=report(
            f"{RESULTS}/report/reported_vs_measured.md",
            category="Literature",
            caption="../report/reported_vs_measured.rst",
            subcategory="Tables",
            labels={"table": "reported vs measured"},
        ),
        figure=report(
            f"{RESULTS}/report/reported_vs_measured.png",
            category="Literature",
            caption="../report/reported_vs_measured_figure.rst",
            subcategory="Figures",
            labels={"figure": "reported vs measured"},
        ),
    params:
        vocabulary=config["literature"].get("vocabulary") or str(VOCABULARY),
    log:
        f"{LOGS}/literature/reported_metrics.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/reported_metrics.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/reported_metrics.py"


SIMULATION, UNMATCHED_REVIEWS = simulation_files(config)
if UNMATCHED_REVIEWS:
    logger.warning(f"literature.simulation: no file matches {', '.join(UNMATCHED_REVIEWS)}; those reviews are left out")


rule screening_simulation:
    input:
        SIMULATION,
    output:
        runs=f"{RESULTS}/literature/simulation_runs.csv",
        summary=f"{RESULTS}/literature/simulation.csv",
        markdown=report(
            f"{RESULTS}/report/screening_simulation.md",
            category="Literature",
            caption="../report/screening_simulation.rst",
            subcategory="Tables",
            labels={"table": "screening simulation"},
        ),
        figure=report(
            f"{RESULTS}/report/recall_curves.png",
            category="Literature",
            caption="../report/recall_curves.rst",
            subcategory="Figures",
            labels={"figure": "recall curves"},
        ),
    params:
        models=config["literature"]["simulation"]["models"],
        seeds=config["literature"]["simulation"]["seeds"],
        stopping=config["literature"]["screening"]["stopping"],
    log:
        f"{LOGS}/literature/screening_simulation.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/screening_simulation.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/screening_simulation.py"


rule prioritise:
    input:
        included=f"{RESULTS}/literature/included.csv",
        to_screen=f"{RESULTS}/literature/to_screen.csv",
        decisions=config["literature"]["screening"].get("decisions", []),
    output:
        priority=f"{RESULTS}/literature/priority.csv",
        stopping=report(
            f"{RESULTS}/report/screening_stopping.md",
            category="Literature",
            caption="../report/screening_stopping.rst",
            subcategory="Tables",
            labels={"table": "when to stop screening"},
        ),
    params:
        model=config["literature"]["screening"]["model"],
        stopping=config["literature"]["screening"]["stopping"],
    log:
        f"{LOGS}/literature/prioritise.log",
    benchmark:
        f"{LOGS}/benchmarks/literature/prioritise.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/literature.yaml"
    script:
        "../workflow/scripts/prioritise.py"


rule literature_report:
    input:
        prisma=f"{RESULTS}/literature/prisma.json",
    output:
        markdown=report(
            f"{RESULTS}/report/prisma.md",
            category="Literature",
            caption="../report/prisma_counts.rst",
            subcategory="Tables",
            labels={"table": "PRISMA counts"},
        ),
        figure=report(
            f"{RESULTS}/report/prisma_flow.png",
            category="Literature",
            caption="../report/prisma_flow.rst",
            subcategory="Figures",
            labels={"figure": "PRISMA 2020 flow"},
        ),
        svg=f"{RESULTS}/report/prisma_flow.svg",
        template=report(
            f"{RESULTS}/report/prisma2020.csv",
            category="Literature",
            caption="../report/prisma2020.rst",
            subcategory="Tables",
            labels={"table": "PRISMA2020 template"},
        ),
    log:
        f"{LOGS}/report/literature.log",
    benchmark:
        f"{LOGS}/benchmarks/report/literature.tsv"  # seconds, memory and CPU time of the job (docs/operations.md)
    conda:
        "../envs/report.yaml"
    script:
        "../workflow/scripts/literature_report.py"


def literature_outputs():
    return [
        f"{RESULTS}/report/prisma.md",
        f"{RESULTS}/report/prisma_flow.png",
        f"{RESULTS}/report/prisma2020.csv",
        f"{RESULTS}/report/evidence_map.png",
        f"{RESULTS}/report/evidence_per_year.png",
        f"{RESULTS}/report/reported_vs_measured.md",
        f"{RESULTS}/report/reported_vs_measured.png",
        *([f"{RESULTS}/report/recall_curves.png"] if SIMULATION else []),
        *([f"{RESULTS}/literature/priority.csv", f"{RESULTS}/report/screening_stopping.md"] if config["literature"]["screening"].get("decisions") else []),
    ]
