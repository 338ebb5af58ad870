"""Step: one game's scores over several seeds' training runs, with intervals over seeds."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.client import Client
from zenml.types import MarkdownString

from agents.statistics import over_seeds, seed_table, seed_table_title
from config import RunConfig
from envs.evaluation import human_reference

SCORES_SUFFIX = "_scores"
"""The evaluation's per-episode scores of policy ``name`` are under ``name + SCORES_SUFFIX``."""


@step(enable_cache=False)
def seed_report(
    config: RunConfig, run_names: list[str], seeds: list[int]
) -> tuple[Annotated[MarkdownString, "seed_report"], Annotated[dict[str, Any], "seed_summary"]]:
    """Read the ``evaluation`` of each finished training run (one per seed, evaluated on the
    same episodes) and report, per policy, the mean of the seed means and the interquartile
    mean of all seeds x episodes, each with a 95% percentile bootstrap interval over seeds
    (Agarwal et al. 2021), and Atari scores human-normalised."""
    client = Client()
    evaluations = []
    for name in run_names:
        run = client.get_pipeline_run(name)
        evaluate = run.steps.get("evaluate")
        if evaluate is None or evaluate.status.value != "completed":
            raise ValueError(f"run {name} has no completed evaluate step; its seed cannot count")
        evaluations.append(evaluate.outputs["evaluation"][0].load())
    episodes = evaluations[0]["seeds"]
    for name, evaluation in zip(run_names, evaluations, strict=True):
        if evaluation["seeds"] != episodes:
            raise ValueError(
                f"run {name} was evaluated on reset seeds {evaluation['seeds'][:3]}..., not "
                f"{episodes[:3]}... like {run_names[0]}; seeds compare only on the same episodes"
            )
    policies = [
        key.removesuffix(SCORES_SUFFIX) for key in evaluations[0] if key.endswith(SCORES_SUFFIX)
    ]
    scores = {policy: [e[policy + SCORES_SUFFIX] for e in evaluations] for policy in policies}
    summaries = over_seeds(scores, human_reference(config.env))
    lines = [
        seed_table_title(config.game, seeds, len(scores["agent"][0]), episodes[0]),
        "",
        *seed_table(summaries),
        "",
        "runs: " + ", ".join(run_names),
    ]
    summary = {policy: s.as_dict() for policy, s in summaries.items()}
    log_metadata(metadata={"seeds": seeds, "runs": run_names, **summary})
    return MarkdownString("\n".join(lines)), summary
