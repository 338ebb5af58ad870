"""Several copies of one game played side by side (``env.num_envs``), as one picklable value.

The trainer acts for all of them with one batched forward pass and stores their transitions
interleaved in one replay buffer (:class:`agents.replay.ReplayBuffer` with ``lanes``), so
frame stacks and n-step windows never mix games. A vector of one game is never built: the
trainer plays a single game as it always has.

The games step one after the other in this process. ALE's ``act`` holds the GIL (two threads
stepping two emulators ran 0.88x the speed of one thread doing both, measured on this
project's machine), so threads would not help; what the vector saves is the per-step cost of
acting (one forward pass for all games) and, with overlapped updates, the update runs while
the games step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.environment import Environment
from agents.validation import StateReader

STATE_FORMAT = 1
"""Version of the pickled vector state; bump when its keys change."""

MAX_GAMES = 256
"""Most games a pickled vector may hold (``env.num_envs`` is capped far below)."""


def lane_seed(seed: int, lane: int) -> int:
    """The reset seed of game ``lane`` of a run seeded ``seed``: the run's seed for the first
    game (so one game plays as it always did), independent streams for the others."""
    if lane == 0:
        return seed
    return int(np.random.SeedSequence([seed, lane]).generate_state(1)[0])


def games_in(game: Environment | GameVector) -> list[Environment]:
    """The games a trainer plays: a vector's games, or the one game."""
    return list(game.games) if isinstance(game, GameVector) else [game]


class GameVector:
    """``num_envs`` games of one kind and config, each with its own episode and RNG.

    Args:
        games: The games, at least two, all with the same observation shape and actions.

    Raises:
        ValueError: If fewer than two games are given or they differ in shape or actions.
    """

    def __init__(self, games: list[Environment]):
        if len(games) < 2:
            raise ValueError(f"a GameVector holds at least 2 games, got {len(games)}")
        first = games[0]
        for game in games[1:]:
            if type(game) is not type(first):
                raise ValueError(
                    f"a GameVector's games are of one kind: {type(first).__name__} and "
                    f"{type(game).__name__}"
                )
            if (
                game.observation_space.shape != first.observation_space.shape
                or game.num_actions != first.num_actions
            ):
                raise ValueError(
                    "a GameVector's games share observation shape and actions: "
                    f"{first.observation_space.shape}/{first.num_actions} and "
                    f"{game.observation_space.shape}/{game.num_actions}"
                )
        self.games = list(games)

    # what the checkpoint's checks and the reports read, from the first game
    @property
    def num_envs(self) -> int:
        return len(self.games)

    @property
    def observation_space(self) -> Any:
        return self.games[0].observation_space

    @property
    def num_actions(self) -> int:
        return self.games[0].num_actions

    @property
    def masks_actions(self) -> bool:
        return self.games[0].masks_actions

    @property
    def frame_stack(self) -> int:
        return self.games[0].frame_stack

    @property
    def frame_number(self) -> int:
        """Emulator frames played by all the games together."""
        return sum(game.frame_number for game in self.games)

    def training_metadata(self) -> dict[str, Any]:
        """The first game's metadata, with the number of games side by side."""
        return {**self.games[0].training_metadata(), "num_envs": self.num_envs}

    def close(self) -> None:
        for game in self.games:
            close = getattr(game, "close", None)
            if close is not None:
                close()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "games": list(self.games)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore :meth:`__getstate__`'s output; each game was checked by its own
        ``__setstate__``, here their number, kind and shapes.

        Raises:
            CorruptArtifactError: Naming the field that is wrong.
        """
        reader = StateReader(state, "GameVector", STATE_FORMAT)
        games = reader.raw("games")
        if type(games) is not list or not 2 <= len(games) <= MAX_GAMES:
            raise reader.error("games", f"must be a list of 2 to {MAX_GAMES} game wrappers")
        if not all(isinstance(game, Environment) for game in games):
            raise reader.error("games", "holds something that is not a game wrapper")
        try:
            self.__init__(games)  # type: ignore[misc]
        except ValueError as exc:
            raise reader.error("games", str(exc)) from exc
