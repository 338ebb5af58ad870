"""Step: a sweep's results table (trials x parameters x score with its interval)."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.client import Client
from zenml.types import MarkdownString

from config import RunConfig
from sweeps.report import (
    TrialResult,
    compute,
    metric_interval,
    metric_value,
    results_table,
    table_title,
)


def evaluation_scores(run_names: list[str]) -> list[list[float]]:
    """The agent's evaluation scores of each named training run (one list per run)."""
    client = Client()
    scores = []
    for name in run_names:
        evaluate = client.get_pipeline_run(name).steps.get("evaluate")
        if evaluate is None or evaluate.status.value != "completed":
            raise ValueError(f"run {name} has no completed evaluate step; it cannot be scored")
        scores.append([float(s) for s in evaluate.outputs["evaluation"][0].load()["agent_scores"]])
    return scores


@step(enable_cache=False)
def sweep_report(
    config: RunConfig, sweep: dict[str, Any]
) -> tuple[Annotated[MarkdownString, "sweep_report"], Annotated[dict[str, Any], "sweep_summary"]]:
    """Read the evaluation of each trial's last completed segment (one run per seed) and
    tabulate the trials: parameters, rung reached, the metric with its 95% bootstrap interval,
    state (complete, pruned, failed); then the agent steps trained against the same trials
    trained to the full budget.

    ``sweep`` is what the sweep driver knows of the study (:mod:`pipelines.sweep`): its name,
    settings, rungs, trials (:class:`sweeps.report.TrialResult` fields) and best trial.
    """
    results = []
    for fields in sweep["trials"]:
        result = TrialResult(**fields)
        if result.runs:
            result.scores = evaluation_scores(result.runs)
        results.append(result)
    metric = sweep["metric"]
    episodes = max((len(r.scores[0]) for r in results if r.scores), default=0)
    used = compute(results, sweep["budget"]["steps"], len(sweep["seeds"]))
    lines = [
        table_title(sweep["name"], config.game, results, sweep, episodes),
        "",
        *results_table(results, sweep["parameters_searched"], metric, sweep.get("best")),
        "",
        used.line(),
    ]
    rows = []
    for result in results:
        row: dict[str, Any] = {**result.as_dict(), "score": None, "ci95": None}
        if result.scores:
            interval = metric_interval(result.scores, metric)
            row["score"] = metric_value(result.scores, metric)
            row["ci95"] = [interval.low, interval.high]
        rows.append(row)
    summary = {
        "trials": rows,
        "best": sweep.get("best"),
        "trained_steps": used.trained_steps,
        "full_budget_steps": used.full_budget_steps,
        "compute_saved": used.saved,
    }
    log_metadata(
        metadata={
            "sweep": sweep["name"],
            "best_trial": -1 if sweep.get("best") is None else int(sweep["best"]),
            "trained_steps": used.trained_steps,
            "full_budget_steps": used.full_budget_steps,
            "compute_saved": used.saved,
        }
    )
    return MarkdownString("\n".join(lines)), summary
