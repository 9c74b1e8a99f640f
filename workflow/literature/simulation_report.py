"""The screening simulation's Markdown: work saved per review and model, and where the stopping rules stop."""

from __future__ import annotations

import pandas as pd

from .stopping import RULES, StoppingRules


def markdown(summary: pd.DataFrame, rules: StoppingRules) -> str:
    """Two tables from ``active_learning.summarise``: the metrics (mean ± sample std over
    seeds) and, for each stopping rule, the share of simulations that reached the recall
    target at its stop, the mean recall there and the mean share of records left unscreened."""
    lines = [
        "| review | records | relevant | model | WSS@95 (Cohen) | WSS@95 (insights) | RRF@10 | CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        lines.append(
            f"| {r.dataset} | {r.records} | {r.relevant} | {r.model} | {100 * r.wss95_mean:.1f}% ± {100 * r.wss95_std:.1f} | "
            f"{100 * r.wss95_insights_mean:.1f}% ± {100 * r.wss95_insights_std:.1f} | {100 * r.rrf10_mean:.1f}% ± {100 * r.rrf10_std:.1f} | {r.cpu_s_mean:.2f} |"
        )
    heuristic = f"{rules.consecutive_irrelevant} irrelevant in a row"
    lines += [
        "",
        f"When to stop, for a {rules.recall:.0%} recall target: the hypergeometric rule (confidence "
        f"{rules.confidence:.0%}) and the heuristic ({heuristic}); share of the seeds whose recall "
        "at the stop reached the target, mean recall there and mean share of the records left unscreened.",
        "",
        f"| review | model | seeds | hypergeometric: reached | recall | work saved | {heuristic}: reached | recall | work saved |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.to_dict("records"):
        cells = [f"{r[f'stop_{rule}_reached_mean']:.2f} | {r[f'stop_{rule}_recall_mean']:.3f} | {100 * r[f'stop_{rule}_work_saved_mean']:.1f}%" for rule in RULES]
        lines.append(f"| {r['dataset']} | {r['model']} | {r['seeds']} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines) + "\n"
