"""Step: record the run's evaluation on its model version; promote it if it beats production."""

from __future__ import annotations

from typing import Annotated, Any

from zenml import get_step_context, log_metadata, step
from zenml.client import Client
from zenml.enums import ModelStages
from zenml.exceptions import StepContextError
from zenml.logger import get_logger

from agents.dqn import DQNAgent
from agents.evaluation import summarize
from agents.interrupts import GracefulInterrupt
from config import RunConfig
from envs.evaluation import comparison_protocol, evaluate_agent

logger = get_logger(__name__)


@step(enable_cache=False)
def promote_model(
    config: RunConfig, trained_agent: DQNAgent, evaluation: dict[str, Any]
) -> Annotated[dict[str, Any], "promotion"]:
    """Attach the evaluation to this run's model version, and make it ``production`` when its
    mean score beats the current production version's on the same evaluation seeds.

    When the production version was evaluated differently (other seeds, epsilon or frame cap),
    its agent is evaluated again here under this run's protocol, so the comparison is fair.
    """
    try:
        model = get_step_context().model
    except StepContextError:
        skipped: dict[str, Any] = {"promoted": False, "reason": "the run has no model configured"}
        log_metadata(metadata=skipped)
        return skipped
    protocol = comparison_protocol(config)
    mean_score = float(evaluation["agent"]["mean_score"])
    model.log_metadata(
        {
            "eval_mean_score": mean_score,
            "eval_random_mean_score": float(evaluation["random"]["mean_score"]),
            "eval_protocol": protocol,
            "eval_scores": evaluation["agent_scores"],
        }
    )
    decision: dict[str, Any] = {"model": model.name, "version": str(model.number)}
    decision.update(
        _compare_with_production(model.name, mean_score, protocol, config, trained_agent)
    )
    decision["mean_score"] = mean_score
    if decision["promoted"]:
        model.set_stage(ModelStages.PRODUCTION, force=True)
    logger.info("model %s version %s: %s", model.name, model.number, decision["reason"])
    print(f"model {model.name} version {model.number}: {decision['reason']}")
    log_metadata(metadata=decision)
    return decision


def _compare_with_production(
    model_name: str,
    mean_score: float,
    protocol: dict[str, Any],
    config: RunConfig,
    trained_agent: DQNAgent,
) -> dict[str, Any]:
    """Whether ``mean_score`` beats the production version's, and why (its ``reason``)."""
    try:
        production = Client().get_model_version(model_name, ModelStages.PRODUCTION)
    except KeyError:
        production = None
    if production is None:
        return {"promoted": True, "reason": "no production version yet"}
    recorded = production.run_metadata
    if recorded.get("eval_protocol") == protocol and "eval_mean_score" in recorded:
        production_mean = float(recorded["eval_mean_score"])  # type: ignore[arg-type]
        how = "its recorded evaluation"
    else:
        production_agent = production.get_artifact("trained_agent")
        if production_agent is None:
            raise ValueError(
                f"production version {production.number} of model {model_name} has no "
                "trained_agent artifact to evaluate"
            )
        old = production_agent.load()
        layout = (old.observation_shape, old.num_actions)
        if layout != (trained_agent.observation_shape, trained_agent.num_actions):
            # an agent of an earlier version of the game's observations cannot play it now
            return {
                "promoted": True,
                "production_version": str(production.number),
                "reason": (
                    f"production version {production.number}'s agent reads observations of "
                    f"shape {old.observation_shape} with {old.num_actions} actions, this "
                    f"version of the game {trained_agent.observation_shape} with "
                    f"{trained_agent.num_actions}: it cannot be evaluated here, so this run "
                    "replaces it"
                ),
            }
        # like evaluate: a signal stops between two environment steps (StopRequested)
        with GracefulInterrupt(on_stop="stopping the re-evaluation"):
            results = evaluate_agent(old, config)
        production_mean = summarize(results)["mean_score"]
        how = "re-evaluated on this run's seeds"
    better = mean_score > production_mean
    return {
        "promoted": better,
        "production_version": str(production.number),
        "production_mean_score": production_mean,
        "reason": (
            f"mean score {mean_score:g} {'beats' if better else 'does not beat'} "
            f"production version {production.number}'s {production_mean:g} ({how})"
        ),
    }
