"""The training loop: plain Python, usable from a notebook without ZenML.

The loop reports through what its caller hands it: a progress bar factory
(:func:`reporting.progress.progress_bar`) and a scalar writer
(:class:`reporting.tensorboard.ScalarWriter`); the core imports neither.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any, Protocol

import numpy as np

from agents.checkpoint import TrainingCheckpoint, capture_global_rngs, restore_global_rngs
from agents.config import RunSettings
from agents.dqn import DQNAgent
from agents.environment import Environment
from agents.history import TrainingHistory
from agents.interrupts import GracefulInterrupt
from agents.replay import ReplayBuffer, mirrored
from agents.schedules import LinearSchedule


class ProgressBar(Protocol):
    """What the loop needs of a progress bar (a tqdm bar has it)."""

    disable: bool
    """True when the bar draws nothing (the loop then prints a plain line now and then)."""

    def update(self, n: int = 1) -> Any: ...

    def set_postfix(
        self, ordered_dict: Mapping[str, Any] | None = None, refresh: bool | None = True
    ) -> Any: ...

    def close(self) -> None: ...


ProgressBarFactory = Callable[[int, str, str, "bool | None"], ProgressBar]
"""``factory(total, unit, label, enabled) -> bar``; ``enabled=None`` lets the factory decide
(:func:`reporting.progress.progress_bar`: a bar only in a terminal)."""


class ScalarSink(Protocol):
    """Where the loop writes its scalars against the agent step (a TensorBoard writer)."""

    def write(self, step: int, **values: float | None) -> None: ...


class _NoBar:
    """The bar of a loop given no factory: draws nothing."""

    disable = True

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(
        self, ordered_dict: Mapping[str, Any] | None = None, refresh: bool | None = True
    ) -> None:
        pass

    def close(self) -> None:
        pass


def _no_bar(total: int, unit: str, label: str, enabled: bool | None) -> ProgressBar:
    return _NoBar()


class Trainer:
    """Runs DQN on one game: act, store, learn, sync, repeat.

    The trainer owns no state of its own beyond the history: the agent holds the counters and
    RNG (and so the epsilon schedule's position), the game holds the episode, the buffer holds
    the experience. :meth:`checkpoint` captures all of it and :meth:`from_checkpoint` continues
    it: N steps, checkpoint, restore, M steps takes the same actions and reaches the same
    weights as N + M steps in one go (with TensorFlow op determinism on).

    Args:
        game: The environment (reset by the caller or reset here on first use).
        agent: The learner.
        buffer: The replay buffer.
        config: The run's configuration.
        scalars: Optional writer of episode returns and the learning curves (TensorBoard).
        progress_bar: Makes the progress bar of :meth:`run`
            (:func:`reporting.progress.progress_bar`); without one no bar is drawn.
    """

    def __init__(
        self,
        game: Environment,
        agent: DQNAgent,
        buffer: ReplayBuffer,
        config: RunSettings,
        scalars: ScalarSink | None = None,
        progress_bar: ProgressBarFactory | None = None,
    ):
        self.game = game
        self.agent = agent
        self.buffer = buffer
        self.config = config
        self.scalars = scalars
        self.progress_bar = progress_bar or _no_bar
        self.epsilon = LinearSchedule(
            config.exploration.epsilon_start,
            config.exploration.epsilon_end,
            config.exploration.epsilon_decay_steps,
        )
        self.history = TrainingHistory()

    def checkpoint(self, target_steps: int, final: bool = False) -> TrainingCheckpoint:
        """Everything needed to continue this run exactly (waits for a running update).

        Args:
            target_steps: The agent step the run trains up to.
            final: Whether training ended or was interrupted (rather than a scheduled save).
        """
        self.agent.wait()
        return TrainingCheckpoint(
            config=self.config.model_dump(),
            game=self.game,
            agent=self.agent,
            buffer=self.buffer,
            history=asdict(self.history),
            global_rngs=capture_global_rngs(),
            target_steps=target_steps,
            final=final,
        )

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: TrainingCheckpoint,
        config: RunSettings,
        scalars: ScalarSink | None = None,
        progress_bar: ProgressBarFactory | None = None,
    ) -> Trainer:
        """Continue a checkpointed run; restores the global RNGs and the curves so far."""
        trainer = cls(
            checkpoint.game, checkpoint.agent, checkpoint.buffer, config, scalars, progress_bar
        )
        trainer.history = TrainingHistory(**checkpoint.history)
        restore_global_rngs(checkpoint.global_rngs)
        return trainer

    def run(
        self,
        steps: int,
        progress: bool | None = None,
        callback: Callable[[Trainer], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> TrainingHistory:
        """Train for ``steps`` agent steps, or until ``should_stop`` says so.

        Args:
            steps: Agent steps to take.
            progress: ``True`` draws a bar, ``False`` is silent; by default a bar in a terminal
                and a plain line every tenth of the run elsewhere (a bar needs the trainer's
                ``progress_bar``; without one, a plain line every tenth unless ``False``).
            callback: Called after every agent step with the trainer (checkpointing, tests).
            should_stop: Polled after every agent step (and its callback); True ends the loop
                with the step complete, the running update finished.

        Returns:
            The run's history (scores, curves), including what came before a resume.
        """
        if steps < 1:
            raise ValueError(f"steps={steps!r} must be a positive number of agent steps")
        game, agent, buffer = self.game, self.agent, self.buffer
        dqn, replay = self.config.dqn, self.config.replay
        history = self.history
        masks = game.masks_actions
        if game.needs_reset:
            observation, _ = game.reset(seed=self.config.seed if agent.steps == 0 else None)
        else:
            observation = game.current_observation()
        episode_start = game.episode_steps == 0
        interval_losses: list[float] = []
        interval_q: list[float] = []
        interval_start = time.perf_counter()
        interval_first_step = agent.steps
        bar = self.progress_bar(steps, "step", "train", progress)
        show = not bar.disable
        # without a bar, a plain line every tenth of the run (CI logs, ZenML step logs)
        report_every = 0 if show or progress is False else max(steps // 10, 1)
        first_step = agent.steps
        run_start = time.perf_counter()
        try:
            for _ in range(steps):
                epsilon = self.epsilon(agent.steps)
                mask = game.action_mask() if masks else None
                action = agent.act(observation, epsilon, mask)
                next_observation, reward, terminated, truncated, info = game.step(action)
                raw_reward = float(reward)
                learn_reward = float(np.sign(raw_reward)) if dqn.clip_rewards else raw_reward
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
                    mask,
                )
                episode_start = False
                # warm-up counts stored transitions, so a continued agent refills a new buffer
                if len(buffer) >= replay.warmup_steps and agent.steps % dqn.train_frequency == 0:
                    batch = buffer.sample(dqn.batch_size, agent.rng)
                    if dqn.mirror_augment:
                        batch = mirrored(batch, agent.rng)
                    agent.learn_async(batch)
                agent.end_step()
                observation = next_observation
                if terminated or truncated:
                    history.episode_scores.append(float(info["score"]))
                    history.episode_steps.append(game.episode_steps)
                    history.episode_end_steps.append(agent.steps)
                    if self.scalars is not None:
                        self.scalars.write(
                            agent.steps,
                            episode_return=float(info["score"]),
                            episode_steps=game.episode_steps,
                        )
                    game.end_training_episode(agent)
                    observation, _ = game.reset()
                    episode_start = True
                if agent.steps % self.config.train.log_every == 0:
                    agent.wait()
                    for loss, mean_q in agent.drain_metrics():
                        interval_losses.append(loss)
                        interval_q.append(mean_q)
                    now = time.perf_counter()
                    rate = (agent.steps - interval_first_step) / max(now - interval_start, 1e-9)
                    history.curve_steps.append(agent.steps)
                    history.curve_loss.append(
                        float(np.mean(interval_losses)) if interval_losses else math.nan
                    )
                    history.curve_mean_q.append(
                        float(np.mean(interval_q)) if interval_q else math.nan
                    )
                    history.curve_epsilon.append(epsilon)
                    history.curve_steps_per_second.append(rate)
                    history.curve_frame_number.append(game.frame_number)
                    if self.scalars is not None:
                        self.scalars.write(
                            agent.steps,
                            loss=history.curve_loss[-1],
                            mean_q=history.curve_mean_q[-1],
                            epsilon=epsilon,
                            steps_per_second=rate,
                        )
                    interval_losses, interval_q = [], []
                    interval_start, interval_first_step = now, agent.steps
                bar.update(1)
                if callback is not None:
                    callback(self)
                if show and agent.steps % 100 == 0:
                    bar.set_postfix(self._postfix(epsilon), refresh=False)
                done = agent.steps - first_step
                if report_every and (done % report_every == 0 or done == steps):
                    postfix = " ".join(f"{k}={v}" for k, v in self._postfix(epsilon).items())
                    rate = done / max(time.perf_counter() - run_start, 1e-9)
                    print(f"train: {done:,}/{steps:,} steps, {rate:.0f} steps/s, {postfix}")
                if should_stop is not None and should_stop():
                    break
            agent.wait()
        finally:
            bar.close()
        return history

    def _postfix(self, epsilon: float) -> dict[str, Any]:
        scores = self.history.episode_scores
        losses = [v for v in self.history.curve_loss[-1:] if not math.isnan(v)]
        return {
            "episodes": len(scores),
            "last": f"{scores[-1]:.0f}" if scores else "-",
            "mean100": f"{np.mean(scores[-100:]):.1f}" if scores else "-",
            "eps": f"{epsilon:.3f}",
            "loss": f"{losses[-1]:.4f}" if losses else "-",
        }


def train_with_checkpoints(
    trainer: Trainer,
    target_steps: int,
    checkpoint_every: int,
    save: Callable[[bool], str],
    interrupt: GracefulInterrupt,
    progress: bool | None = None,
) -> list[str]:
    """Train up to agent step ``target_steps``, saving every ``checkpoint_every`` steps, at the
    end, and when a stop is requested.

    The ``train`` step runs this with a ZenML ``save``; a notebook can pass one that writes a
    file. A stop request (``interrupt``, polled after every agent step) ends training with the
    step complete and saves there, so an interrupt loses no finished step. Saves run inside
    :meth:`GracefulInterrupt.protect`: a signal that arrives meanwhile lets the save complete.

    Args:
        trainer: The trainer to run (fresh or continued from a checkpoint).
        target_steps: The agent step to reach.
        checkpoint_every: Agent steps between scheduled saves.
        save: Writes a checkpoint (argument: whether training ended or was stopped) and
            returns its label.
        interrupt: The entered :class:`GracefulInterrupt` to poll.
        progress: As for :meth:`Trainer.run`.

    Returns:
        The labels of the checkpoints saved, oldest first.
    """
    saved: list[str] = []

    def scheduled(current: Trainer) -> None:
        if current.agent.steps % checkpoint_every == 0:
            with interrupt.protect():
                saved.append(save(current.agent.steps >= target_steps))

    remaining = target_steps - trainer.agent.steps
    if remaining > 0 and not interrupt.poll():
        trainer.run(remaining, progress, callback=scheduled, should_stop=interrupt.poll)
    with interrupt.protect():
        if not saved or trainer.agent.steps % checkpoint_every != 0:
            saved.append(save(True))
    return saved


def stop_message(
    run_name: str, signal_name: str, trainer: Trainer, checkpoint: str, resume_hint: str
) -> str:
    """The one line that says where training stopped and what was saved."""
    return (
        f"training of run {run_name} stopped by {signal_name} at agent step "
        f"{trainer.agent.steps:,} (frame {trainer.game.frame_number:,}); checkpoint "
        f"{checkpoint} saved; {resume_hint}"
    )
