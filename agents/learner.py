"""The learner protocol between the training loop and an algorithm: act, observe, metrics.

The loop (:class:`agents.training.Trainer`) plays the game and reports; everything that makes
an algorithm what it is happens behind this protocol: exploration, how rewards and terminals
are shaped for learning, what is stored, when learning starts (replay warm-up), how often and
how many times it learns, batch augmentation (mirroring, random shifts), replay priorities,
target-network syncs and resets. A second algorithm is a second class with these members; the
loop does not change.

The shape is act/observe (as in acme's ``Actor.select_action``/``observe``/``update``, folded
into one ``observe`` because the loop has no reason to call learning separately) rather than
Dopamine's ``begin_episode``/``step``/``end_episode``: our games report the episode's end in
the same step result as the reward, and the buffer needs the action mask the action was chosen
under, which ``act`` sees and Dopamine's ``step(reward, observation)`` would not.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from agents.config import RunSettings
from agents.dqn import DQNAgent
from agents.networks import NumpyQNetwork
from agents.replay import RandomShift, ReplayBatch, ReplayBuffer, mirrored
from agents.schedules import LinearSchedule


class Learner(Protocol):
    """What the training loop needs of an algorithm."""

    @property
    def steps(self) -> int:
        """Agent steps observed (the loop's clock; checkpoints and logs are keyed on it)."""
        ...

    @property
    def epsilon(self) -> float:
        """The exploration rate of the last :meth:`act` (reported in the curves)."""
        ...

    def act(
        self, observations: list[np.ndarray], action_masks: list[np.ndarray | None]
    ) -> list[int]:
        """The action to play in each game's observation (exploring as the algorithm does);
        one game's observation alone when a single game is played."""
        ...

    def observe(
        self,
        observation: np.ndarray,
        action: int,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
        action_mask: np.ndarray | None,
        episode_start: bool,
    ) -> None:
        """Take in one step's result (``observation`` is the one acted on); learn as due.

        Counts one agent step.
        """
        ...

    def snapshot(self) -> NumpyQNetwork:
        """A frozen copy of the acting policy (a self-play opponent)."""
        ...

    def drain_metrics(self) -> list[tuple[float, float]]:
        """(loss, mean Q) of the updates finished since the last call; waits for a running
        update first, so the metrics are complete up to this step."""
        ...

    def wait(self) -> None:
        """Finish any background work (before a checkpoint or the end of a run)."""
        ...


class DQNLearner:
    """DQN behind the :class:`Learner` protocol: epsilon-greedy acting, reward clipping and
    life-loss terminals for learning, replay with warm-up, ``updates_per_step`` updates every
    ``train_frequency`` steps, each on its own (optionally mirrored or shifted) batch, target
    syncs every ``target_sync_steps`` steps and head resets every ``reset_every`` steps.

    With a prioritized buffer, each update's |TD errors| become its batch's priorities when
    the update finishes, and the next batch is drawn only after that (the running update is
    waited for first), so what is sampled never depends on when a log or a checkpoint waited.
    The importance exponent (beta) rises linearly from ``replay.importance_exponent`` at step
    0 to 1 at ``train.planned_steps`` (``train.steps`` unless set; Schaul et al. 2016).

    Holds no state of its own (the random shifts keep only a scratch buffer): the agent holds
    the counters and RNG (so the epsilon schedule's position), the buffer holds the experience
    and priorities; both are what a checkpoint saves.

    Args:
        agent: The DQN agent (networks, optimizer, counters, RNG).
        buffer: The replay buffer.
        config: The run's configuration (its ``dqn``, ``replay``, ``exploration`` and
            ``train.steps`` and ``train.planned_steps``).

    Raises:
        ValueError: If the buffer samples otherwise than ``replay`` says (a checkpoint's
            buffer resumed under a changed config).
    """

    def __init__(self, agent: DQNAgent, buffer: ReplayBuffer, config: RunSettings):
        replay = config.replay
        if buffer.prioritized != replay.prioritized or (
            buffer.prioritized
            and (buffer.priority_exponent, buffer.priority_epsilon)
            != (replay.priority_exponent, replay.priority_epsilon)
        ):
            raise ValueError(
                f"the replay buffer has prioritized={buffer.prioritized}, priority_exponent="
                f"{buffer.priority_exponent}, priority_epsilon={buffer.priority_epsilon}, but "
                f"the config has replay.prioritized={replay.prioritized}, "
                f"replay.priority_exponent={replay.priority_exponent}, replay.priority_epsilon="
                f"{replay.priority_epsilon}; resume with the settings the buffer was made with"
            )
        self.agent = agent
        self.buffer = buffer
        self.dqn = config.dqn
        self.warmup_steps = replay.warmup_steps
        self.schedule = LinearSchedule(
            config.exploration.epsilon_start,
            config.exploration.epsilon_end,
            config.exploration.epsilon_decay_steps,
        )
        planned = config.train.planned_steps or config.train.steps
        self.importance = LinearSchedule(replay.importance_exponent, 1.0, planned)
        pixels = config.dqn.random_shift_pixels
        self._shift = RandomShift(pixels) if pixels else None
        self._epsilon = self.schedule(agent.steps)

    @property
    def steps(self) -> int:
        return self.agent.steps

    @property
    def epsilon(self) -> float:
        return self._epsilon

    def act(
        self, observations: list[np.ndarray], action_masks: list[np.ndarray | None]
    ) -> list[int]:
        # all games of one vector step explore at the schedule's value where the step begins
        self._epsilon = self.schedule(self.agent.steps)
        return self.agent.act_batch(observations, self._epsilon, action_masks)

    def observe(
        self,
        observation: np.ndarray,
        action: int,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
        action_mask: np.ndarray | None,
        episode_start: bool,
    ) -> None:
        dqn, agent, buffer = self.dqn, self.agent, self.buffer
        learn_reward = float(np.sign(reward)) if dqn.clip_rewards else float(reward)
        learn_terminal = terminated or (
            dqn.terminal_on_life_loss and bool(info.get("life_lost", False))
        )
        buffer.add(
            observation[-1],  # the newest frame; the buffer rebuilds the stack
            action,
            learn_reward,
            learn_terminal,
            terminated or truncated,
            episode_start,
            action_mask,
        )
        # warm-up counts stored transitions, so a continued agent refills a new buffer
        if len(buffer) >= self.warmup_steps and agent.steps % dqn.train_frequency == 0:
            for _ in range(dqn.updates_per_step):
                self._learn()
        agent.end_step()  # counts the step; syncs the target, resets the head when due

    def _learn(self) -> None:
        """Sample a batch, augment it as configured and start an update on it."""
        dqn, agent, buffer = self.dqn, self.agent, self.buffer
        if buffer.prioritized:
            agent.wait()  # the running update's priorities go in before the next draw
        batch = buffer.sample(dqn.batch_size, agent.rng, self.importance(agent.steps))
        if dqn.mirror_augment:
            batch = mirrored(batch, agent.rng)
        if self._shift is not None:
            batch = self._shift(batch, agent.rng)
        agent.learn_async(batch, self._priority_update(batch))

    def _priority_update(self, batch: ReplayBatch) -> Callable[[np.ndarray], None] | None:
        """What takes the batch's new |TD errors| (``None`` for uniform replay)."""
        if not self.buffer.prioritized:
            return None
        return functools.partial(self.buffer.update_priorities, batch.indices)

    def snapshot(self) -> NumpyQNetwork:
        return self.agent.snapshot()

    def drain_metrics(self) -> list[tuple[float, float]]:
        self.agent.wait()
        return self.agent.drain_metrics()

    def wait(self) -> None:
        self.agent.wait()
