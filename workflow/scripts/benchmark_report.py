"""Snakemake script: all runs → benchmark tables (CSV, Markdown, LaTeX), comparison with the
published baselines, statistics, and figures."""

import json
from pathlib import Path

from workflow.logs import log_to
from workflow.report import benchmark, figures, segmentation_tables, stats, tables

out = snakemake.output


def write(text: str, path: str) -> None:
    Path(path).write_text(text)


with log_to(snakemake.log[0]):
    all_runs = tables.collect(snakemake.input.metrics)
    runs = tables.completed(all_runs)
    summary = tables.summarise(all_runs)
    caption = tables.caption(runs)
    summary.to_csv(out.table, index=False)
    write(tables.markdown(summary, caption), out.markdown)
    write(tables.latex(summary, caption), out.latex)

    segmentation = segmentation_tables.summarise(segmentation_tables.collect(snakemake.input.segmentation)) if snakemake.input.segmentation else None
    cells = tables.family_modality(summary, all_runs, snakemake.params.skipped, segmentation)
    cells.to_csv(out.family_modality, index=False)
    wide = tables.family_modality_cells(cells)
    family_caption = (
        "Best (mean) test AUC per architecture family and imaging modality (segmentation: test Dice); "
        f"n/a names why a pair has no result. {caption}"
    )
    write(tables.to_markdown(wide, family_caption), out.family_modality_markdown)
    write(tables.to_latex(wide, family_caption, "tab:family-modality"), out.family_modality_latex)
    figures.family_modality_heatmap(cells, out.heatmap, title=f"Best test AUC and Dice ({snakemake.params.profile} profile)")

    train_images = {card["dataset"]: card["n_samples"]["train"] for card in map(lambda p: json.loads(Path(p).read_text()), snakemake.input.cards)}
    cost = tables.cost(summary, train_images)
    cost.to_csv(out.cost_table, index=False)
    cost_caption = f"Test AUC beside model cost; images/s counts training images × epochs over training time (validation included). {caption}"
    write(tables.to_markdown(tables.cost_cells(cost), cost_caption), out.cost_markdown)
    write(tables.to_latex(tables.cost_cells(cost), cost_caption, "tab:cost"), out.cost_latex)
    figures.accuracy_vs_cost(summary, out.cost)

    published = tables.versus_published(summary)
    published.to_csv(out.published, index=False)
    write(tables.versus_published_markdown(published, caption), out.published_markdown)
    write(tables.to_latex(tables.versus_published_cells(published), caption, "tab:published"), out.published_latex)

    missing = tables.not_made(all_runs, snakemake.params.skipped)
    missing.to_csv(out.not_made, index=False)
    if missing.empty:
        write("Every planned run produced a result: none was skipped or failed.\n", out.not_made_markdown)
    else:
        write(tables.to_markdown(missing, f"Runs without a result ({len(missing)}): skipped when the DAG was built or failed in training."), out.not_made_markdown)

    figures.benchmark_auc(runs, out.figure, title=f"Test AUC ({snakemake.params.profile} profile)")
    curves, floors = tables.learning_logs(snakemake.input.metrics)
    figures.learning_curves(curves, floors, out.learning)
    tables.plateaus(curves).to_csv(out.plateaus, index=False)
    predictions = benchmark.predictions(snakemake.input.metrics)
    figures.roc_curves(predictions, out.roc)
    intervals = predictions.drop(columns=["scores", "labels"])
    intervals.to_csv(out.intervals, index=False)
    comparisons = stats.paired_comparisons(runs, "auc")
    comparisons.to_csv(out.comparisons, index=False)
    ranking = stats.mean_ranks(summary)
    figures.critical_difference(ranking, out.ranking)
    write(benchmark.statistics_markdown(caption, intervals, comparisons, ranking), out.statistics)
