"""The training loop: plain Python, usable from a notebook without ZenML.

The loop reports through what its caller hands it: a progress bar factory
(:func:`reporting.progress.progress_bar`) and a scalar writer
(:class:`reporting.tensorboard.ScalarWriter`); the core imports neither.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from agents.checkpoint import TrainingCheckpoint, capture_global_rngs, restore_global_rngs
from agents.config import RunSettings
from agents.dqn import DQNAgent
from agents.environment import Environment
from agents.history import TrainingHistory
from agents.interrupts import GracefulInterrupt
from agents.keep_best import BestAgent, Validation, Validator, validate
from agents.learner import DQNLearner, Learner
from agents.replay import ReplayBuffer
from agents.vector import GameVector, games_in, lane_seed


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


@dataclass
class _Interval:
    """The stretch of steps since the last point of the learning curves (for its rate)."""

    start: float
    first_step: int


class _Report:
    """How :meth:`Trainer.run` shows its progress: a bar, or a plain line every tenth."""

    def __init__(self, bar: ProgressBar, total: int, progress: bool | None):
        self.bar = bar
        self.total = total
        # without a bar, a plain line every tenth of the run (CI logs, ZenML step logs)
        self.every = 0 if not bar.disable or progress is False else max(total // 10, 1)
        self.start = time.perf_counter()
        self.first_step = 0


class Trainer:
    """Runs a learner on one game: act, play, observe, log, repeat.

    The loop knows the game and the reporting; the algorithm (exploration, replay warm-up,
    when to learn, mirroring, target syncs) is behind the :class:`agents.learner.Learner`
    protocol, :class:`agents.learner.DQNLearner` unless another is given.

    The trainer owns no state of its own beyond the history: the agent holds the counters and
    RNG (and so the epsilon schedule's position), the game holds the episode, the buffer holds
    the experience. :meth:`checkpoint` captures all of it and :meth:`from_checkpoint` continues
    it: N steps, checkpoint, restore, M steps takes the same actions and reaches the same
    weights as N + M steps in one go (with TensorFlow op determinism on).

    Args:
        game: The environment (reset by the caller or reset here on first use), or a
            :class:`agents.vector.GameVector` of ``env.num_envs`` games played side by side.
        agent: The DQN agent (what :meth:`checkpoint` saves).
        buffer: The replay buffer (what :meth:`checkpoint` saves).
        config: The run's configuration.
        scalars: Optional writer of episode returns and the learning curves (TensorBoard).
        progress_bar: Makes the progress bar of :meth:`run`
            (:func:`reporting.progress.progress_bar`); without one no bar is drawn.
        learner: The algorithm the loop drives; by default DQN on ``agent`` and ``buffer``.
        validator: Plays the validation games (:func:`envs.evaluation.validator`); with one,
            :meth:`run` validates the agent every ``train.eval_every`` steps (the caller
            validates the weights training ends with, :meth:`validate_last`), and with
            ``train.keep_best`` the best weights are kept (:attr:`best`, :meth:`keep_best`).
            Without one there is no validation.
    """

    def __init__(
        self,
        game: Environment | GameVector,
        agent: DQNAgent,
        buffer: ReplayBuffer,
        config: RunSettings,
        scalars: ScalarSink | None = None,
        progress_bar: ProgressBarFactory | None = None,
        learner: Learner | None = None,
        validator: Validator | None = None,
    ):
        self.game = game
        self.games = games_in(game)
        if buffer.lanes != len(self.games):
            raise ValueError(
                f"the replay buffer interleaves {buffer.lanes} game(s) but the trainer plays "
                f"{len(self.games)}; size both from env.num_envs"
            )
        self.agent = agent
        self.buffer = buffer
        self.config = config
        self.scalars = scalars
        self.progress_bar = progress_bar or _no_bar
        self.learner: Learner = learner or DQNLearner(agent, buffer, config)
        self.history = TrainingHistory()
        self.validator = validator if config.train.eval_every is not None else None
        self.best: BestAgent | None = None
        """The best validated weights so far (with ``train.keep_best``)."""

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
            best=None if self.best is None else self.best.state(),
        )

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: TrainingCheckpoint,
        config: RunSettings,
        scalars: ScalarSink | None = None,
        progress_bar: ProgressBarFactory | None = None,
        validator: Validator | None = None,
    ) -> Trainer:
        """Continue a checkpointed run; restores the global RNGs, the curves so far and the
        best agent kept."""
        trainer = cls(
            checkpoint.game,
            checkpoint.agent,
            checkpoint.buffer,
            config,
            scalars,
            progress_bar,
            validator=validator,
        )
        trainer.history = TrainingHistory(**checkpoint.history)
        if checkpoint.best is not None and config.train.keep_best:
            trainer.best = BestAgent(**checkpoint.best)
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
            steps: Agent steps to take (all games' together: a multiple of the number of
                games played side by side).
            progress: ``True`` draws a bar, ``False`` is silent; by default a bar in a terminal
                and a plain line every tenth of the run elsewhere (a bar needs the trainer's
                ``progress_bar``; without one, a plain line every tenth unless ``False``).
            callback: Called after every agent step (every step of all the games, when several
                play side by side) with the trainer (checkpointing, tests).
            should_stop: Polled after every such step (and its callback); True ends the loop
                with the step complete, the running update finished.

        Returns:
            The run's history (scores, curves), including what came before a resume.
        """
        if steps < 1:
            raise ValueError(f"steps={steps!r} must be a positive number of agent steps")
        lanes = len(self.games)
        if steps % lanes:
            raise ValueError(
                f"steps={steps} must be a multiple of the {lanes} games played side by side "
                "(env.num_envs)"
            )
        observations = self._first_observations()
        starts = [game.episode_steps == 0 for game in self.games]
        interval = _Interval(time.perf_counter(), self.learner.steps)
        report = _Report(self.progress_bar(steps, "step", "train", progress), steps, progress)
        report.first_step = self.learner.steps
        log_every = self.config.train.log_every
        eval_every = self.config.train.eval_every or 0
        try:
            for _ in range(steps // lanes):
                before = self.learner.steps
                self._step(observations, starts)
                if self.learner.steps // log_every > before // log_every:
                    self._log_curves(interval)
                if self.validator and self.learner.steps // eval_every > before // eval_every:
                    interval.start += self._validate(report)
                report.bar.update(lanes)
                if callback is not None:
                    callback(self)
                self._report(report)
                if should_stop is not None and should_stop():
                    break
            self.learner.wait()
        finally:
            report.bar.close()
        return self.history

    def _first_observations(self) -> list[np.ndarray]:
        """Each game's observation to act on: a fresh episode (seeded on a new agent, each
        game from its own seed, :func:`agents.vector.lane_seed`) or the current one."""
        observations = []
        for lane, game in enumerate(self.games):
            if game.needs_reset:
                seed = lane_seed(self.config.seed, lane) if self.learner.steps == 0 else None
                observations.append(game.reset(seed=seed)[0])
            else:
                observations.append(game.current_observation())
        return observations

    def _step(self, observations: list[np.ndarray], starts: list[bool]) -> None:
        """One agent step in every game: act for all at once, then each game plays, its
        transition is observed (in game order: the buffer interleaves them) and a finished
        episode is recorded and a new one begun.

        ``observations`` and ``starts`` (whether each observation starts an episode) are
        updated in place for the next step.
        """
        games, learner = self.games, self.learner
        masks = [game.action_mask() if game.masks_actions else None for game in games]
        actions = learner.act(observations, masks)
        for lane, game in enumerate(games):
            action = actions[lane]
            next_observation, reward, terminated, truncated, info = game.step(action)
            learner.observe(
                observations[lane],
                action,
                float(reward),
                terminated,
                truncated,
                info,
                masks[lane],
                starts[lane],
            )
            ended = terminated or truncated
            if ended:
                self._end_episode(game, float(info["score"]))
                next_observation, _ = game.reset()
            observations[lane], starts[lane] = next_observation, ended

    def _end_episode(self, game: Environment, score: float) -> None:
        """Record the finished episode and tell the game (a league may admit a snapshot)."""
        history, steps = self.history, self.learner.steps
        history.episode_scores.append(score)
        history.episode_steps.append(game.episode_steps)
        history.episode_end_steps.append(steps)
        if self.scalars is not None:
            self.scalars.write(steps, episode_return=score, episode_steps=game.episode_steps)
        game.end_training_episode(self.learner)

    def _log_curves(self, interval: _Interval) -> None:
        """Append one point of the learning curves: the interval's mean loss and Q, the rate."""
        history, steps, epsilon = self.history, self.learner.steps, self.learner.epsilon
        metrics = self.learner.drain_metrics()
        losses = [loss for loss, _ in metrics]
        mean_qs = [mean_q for _, mean_q in metrics]
        now = time.perf_counter()
        rate = (steps - interval.first_step) / max(now - interval.start, 1e-9)
        history.curve_steps.append(steps)
        history.curve_loss.append(float(np.mean(losses)) if losses else math.nan)
        history.curve_mean_q.append(float(np.mean(mean_qs)) if mean_qs else math.nan)
        history.curve_epsilon.append(epsilon)
        history.curve_steps_per_second.append(rate)
        history.curve_frame_number.append(self.game.frame_number)
        if self.scalars is not None:
            self.scalars.write(
                steps,
                loss=history.curve_loss[-1],
                mean_q=history.curve_mean_q[-1],
                epsilon=epsilon,
                steps_per_second=rate,
            )
        interval.start, interval.first_step = now, steps

    def _validate(self, report: _Report) -> float:
        """:meth:`validate` inside :meth:`run`: shown on the bar, or printed as a line; returns
        the seconds it took (left out of the training rate)."""
        start = time.perf_counter()
        validation = self.validate()
        best = "" if self.best is None else f", best {self.best.score:g} at {self.best.step:,}"
        line = f"validation at step {validation.step:,}: mean {validation.score:g}{best}"
        if report.bar.disable:
            if report.every:
                print(f"train: {line}")
        else:
            report.bar.set_postfix(self._postfix(self.learner.epsilon))
        return time.perf_counter() - start

    def validate(self) -> Validation:
        """Play the validation games with the online weights now, add the point to the
        validation curve, and keep the weights if they are the best so far (``keep_best``).
        :meth:`run` calls it every ``train.eval_every`` steps."""
        if self.validator is None:
            raise ValueError(
                "this trainer has no validator (or train.eval_every is null); pass "
                "validator=envs.evaluation.validator(config) to validate"
            )
        validation = validate(self.agent, self.validator, self.config.evaluate.epsilon)
        history, score = self.history, validation.score
        history.validation_steps.append(validation.step)
        history.validation_scores.append(score)
        if self.config.train.keep_best and validation.improves_on(self.best):
            self.best = validation.as_best()
        if self.scalars is not None:
            self.scalars.write(validation.step, validation_score=score)
        return validation

    def validate_last(self) -> bool:
        """Validate the weights training ended with, unless the last validation was at this
        step (so the last agent competes for keep-best); returns whether it validated (never
        without a validator)."""
        if self.validator and self.history.validation_steps[-1:] != [self.learner.steps]:
            self.validate()
            return True
        return False

    def keep_best(self) -> BestAgent | None:
        """Give the agent the best validated weights (``train.keep_best``), once training is
        over; returns what was kept, or ``None`` (no validation, or keep-best off)."""
        if self.best is not None:
            self.agent.load_weights(self.best.weights)
        return self.best

    def _report(self, report: _Report) -> None:
        """The bar's postfix every 100 steps, or without a bar a plain line every tenth."""
        steps, epsilon = self.learner.steps, self.learner.epsilon
        if not report.bar.disable and steps % 100 == 0:
            report.bar.set_postfix(self._postfix(epsilon), refresh=False)
        done = steps - report.first_step
        if report.every and (done % report.every == 0 or done == report.total):
            postfix = " ".join(f"{k}={v}" for k, v in self._postfix(epsilon).items())
            rate = done / max(time.perf_counter() - report.start, 1e-9)
            print(f"train: {done:,}/{report.total:,} steps, {rate:.0f} steps/s, {postfix}")

    def _postfix(self, epsilon: float) -> dict[str, Any]:
        scores = self.history.episode_scores
        losses = [v for v in self.history.curve_loss[-1:] if not math.isnan(v)]
        postfix = {
            "episodes": len(scores),
            "last": f"{scores[-1]:.0f}" if scores else "-",
            "mean100": f"{np.mean(scores[-100:]):.1f}" if scores else "-",
            "eps": f"{epsilon:.3f}",
            "loss": f"{losses[-1]:.4f}" if losses else "-",
        }
        if self.history.validation_scores:
            postfix["val"] = f"{self.history.validation_scores[-1]:g}"
        return postfix


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
    saved_at = [trainer.agent.steps]

    def scheduled(current: Trainer) -> None:
        # with several games side by side a step may pass a multiple rather than land on it
        steps = current.agent.steps
        if steps >= target_steps:
            current.validate_last()  # before a save at the last step, which then carries it
        if steps // checkpoint_every > saved_at[0] // checkpoint_every:
            with interrupt.protect():
                saved.append(save(steps >= target_steps))
            saved_at[0] = steps

    remaining = target_steps - trainer.agent.steps
    if remaining > 0 and not interrupt.poll():
        trainer.run(remaining, progress, callback=scheduled, should_stop=interrupt.poll)
    if trainer.agent.steps >= target_steps:
        trainer.validate_last()  # the last weights compete for keep-best too
    with interrupt.protect():
        if not saved or saved_at[0] != trainer.agent.steps:
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
