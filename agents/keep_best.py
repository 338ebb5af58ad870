"""Validation during training, and keeping the best agent seen.

Every ``train.eval_every`` agent steps, and when a run of :meth:`agents.training.Trainer.run`
ends, the agent's online weights play ``train.eval_episodes`` validation games at the
evaluation's epsilon, on seeds that neither training nor the final evaluation uses
(``config.RunConfig`` refuses overlapping seeds). The weights with the best mean validation
score are kept, as Stable-Baselines3's ``EvalCallback`` keeps ``best_model``: the ``train``
step outputs them, so the pipeline evaluates and promotes the best agent seen rather than the
last one, which in DQN is often worse (its scores swing from one stretch of training to the
next; Mnih et al. 2015 also report their best agent's score).

Selecting the best on validation games and reporting it on separate evaluation games keeps the
reported score honest: the maximum over validation points is biased upwards (the validation
curve's best point is a maximum over noisy estimates), the evaluation on fresh seeds is not.

The games are the caller's (a :data:`Validator`, built by :func:`envs.evaluation.validator`
from the game's evaluation protocol), so this module stays game-free. Validating draws from
no training generator: the policy's generator is seeded per game, the game is a fresh one,
and the global generators are restored afterwards, so a run with validation takes the same
training steps as one without.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from agents.checkpoint import capture_global_rngs, restore_global_rngs
from agents.evaluation import EpisodeResult, Policy

if TYPE_CHECKING:
    from agents.dqn import DQNAgent

Validator = Callable[[Policy], list[EpisodeResult]]
"""Plays the validation games with a policy and returns their results (same seeds each call)."""


@dataclass
class BestAgent:
    """The best weights seen so far.

    Attributes:
        step: Agent step at which they were validated.
        score: Their mean validation score.
        weights: The online network's weights, in ``online.weights`` order.
    """

    step: int
    score: float
    weights: list[np.ndarray]

    def state(self) -> dict[str, Any]:
        """Plain values and arrays, for checkpoints (which check them when loaded)."""
        return {"step": self.step, "score": self.score, "weights": self.weights}


def validate(agent: DQNAgent, validator: Validator, epsilon: float) -> Validation:
    """Play the validation games with ``agent``'s online weights (after any running update)
    at ``epsilon``; the agent's own acting weights, RNG and the global generators are left as
    they were."""
    weights = agent.online_weights()

    def policy(observation: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> int:
        return agent.act(observation, epsilon, mask, rng=rng)

    rngs = capture_global_rngs()
    try:
        with agent.acting_with(weights):
            results = validator(policy)
    finally:
        restore_global_rngs(rngs)
    return Validation(agent.steps, results, weights)


@dataclass
class Validation:
    """One validation: the step, the games' results and the weights that played them."""

    step: int
    results: list[EpisodeResult]
    weights: list[np.ndarray]

    @property
    def score(self) -> float:
        """Mean score over the validation games."""
        return float(np.mean([result.score for result in self.results]))

    def improves_on(self, best: BestAgent | None) -> bool:
        """Whether these weights should replace ``best`` (ties go to the later, more trained
        weights)."""
        return best is None or self.score >= best.score

    def as_best(self) -> BestAgent:
        return BestAgent(self.step, self.score, self.weights)
