"""The evaluation protocol of single-player games (Atari, Tetris): every policy plays the
same seeded episodes, and the report is a score table, per seed and summarised."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.config import EvalConfig
from agents.evaluation import EpisodeResult
from envs.spec import EvaluatedRun, Matchup


class ScoreTable:
    """One group of episodes per policy, on the run's game; the report is
    :func:`markdown_table`. Games subclass it for what is their own (a frame cap, what makes
    two evaluations comparable)."""

    episodes_note = ""

    def matchups(self, env_config: Any, settings: EvalConfig) -> list[Matchup]:
        """One group: the game as configured."""
        return [Matchup(env_config)]

    def comparability(self, env_config: Any) -> dict[str, Any]:
        """Nothing beyond seeds, epsilon and the frame cap."""
        return {}

    def targets(self, results: dict[str, list[EpisodeResult]]) -> list[str]:
        """None: a single-player game's learning target is its score (README)."""
        return []

    def human_reference(self, env_config: Any) -> tuple[float, float] | None:
        """None published."""
        return None

    def report(
        self,
        config: EvaluatedRun,
        results: dict[str, list[EpisodeResult]],
        metrics: dict[str, Any],
    ) -> str:
        """Per-seed scores (and the game's own figures) of every policy side by side."""
        return markdown_table(config.game, results)


def _columns(results: list[EpisodeResult]) -> list[str]:
    """What the table shows per policy: steps and score, or the game's own figures."""
    extras = list(results[0].extras) if results and results[0].extras else []
    return [*extras, "score"] if extras else ["steps", "score"]


def _value(result: EpisodeResult, column: str) -> float:
    if column == "steps":
        return float(result.steps)
    if column == "score":
        return result.score
    return result.extras[column]


def _number(value: float, decimals: bool = False) -> str:
    """Whole numbers with thousands separators (Tetris scores run into millions)."""
    if decimals:
        return f"{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def markdown_table(game: str, policies: dict[str, list[EpisodeResult]]) -> str:
    """Per-seed results of every policy side by side (baselines first, the agent last), then
    mean, std and max rows."""
    names = list(policies)
    columns = _columns(policies[names[0]])
    header = [f"{name} {column}" for name in names for column in columns]
    lines = [
        f"## Evaluation: {game}",
        "",
        "| seed | " + " | ".join(header) + " |",
        "| ---: |" + " ---: |" * len(header),
    ]
    seeds = [r.seed for r in policies[names[0]]]
    for index, seed in enumerate(seeds):
        cells = [_number(_value(policies[n][index], c)) for n in names for c in columns]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    for label, reduce in (("mean", np.mean), ("std", np.std), ("max", np.max)):
        cells = [
            _number(float(reduce([_value(r, c) for r in policies[n]])), label != "max")
            for n in names
            for c in columns
        ]
        lines.append(f"| **{label}** | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
